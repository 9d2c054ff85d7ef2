// Preconditioning page, under the invariance table: turn the quadratic, or rescale one coordinate's
// gradient, and see whose path changes. optimessay.experiments.invariance.invariance_table, live:
//
// - rotate: quadratic(κ, 0) from the start against quadratic(κ, θ) from the turned start, turned back;
// - rescale: ½(x² + y²) against ½(x² + c·y²) (the y gradient × c along the same path), same start.
//
// The deviation is the largest distance between the two paths over the walk, relative to the start's
// distance from the minimum (the page's table). Methods and lrs: invariance.INVARIANCE_METHODS
// (Newton left out: it needs the Hessian, and it is invariant to both).

import { makeWidget, sig, themeColor } from "./kit.js";
import { turn } from "./precond-math.js";
import { quadratic, radians } from "../playground/landscapes.js";
import { run } from "../playground/trajectory.js";

export const KAPPA = 10;
export const STEPS = 50;
export const START = [-1.5, 1.0];
// below this deviation the two paths are one on the canvas: rounding (~1e-16), or ε's share of an
// adaptive method's step when gradients get as small as ε (~1e-8: the page's table)
export const SAME = 1e-6;
// invariance.INVARIANCE_METHODS: [key, name, kind, hyperparameters]
export const METHODS = [
  ["gd", "GD", "sgd", { lr: 0.05 }],
  ["momentum", "Momentum", "sgd", { lr: 0.02, momentum: 0.9 }],
  ["nesterov", "Nesterov", "sgd", { lr: 0.02, momentum: 0.9, nesterov: true }],
  ["rmsprop", "RMSprop", "rmsprop", { lr: 0.01 }],
  ["adam", "Adam", "adam", { lr: 0.05 }],
  ["adagrad", "Adagrad", "adagrad", { lr: 0.1 }],
];

const points = (walk) => {
  const out = [];
  for (let i = 0; i <= walk.steps; i++) out.push([walk.points[2 * i], walk.points[2 * i + 1]]);
  return out;
};

/** For one transformation: each method's two paths (both in the original frame) and its deviation. */
export function compute(mode, theta, scale) {
  const size = Math.hypot(START[0], START[1]);
  const [a, b] = mode === "rotate"
    ? [quadratic(KAPPA, 0), quadratic(KAPPA, radians(theta))]
    : [quadratic(1, 0), quadratic(scale, 0)];
  const startB = mode === "rotate" ? turn(START, theta) : START;
  return METHODS.map(([key, name, kind, hp]) => {
    const original = points(run(a, kind, hp, { start: START, steps: STEPS }));
    let changed = points(run(b, kind, hp, { start: startB, steps: STEPS }));
    if (mode === "rotate") changed = changed.map((p) => turn(p, -theta));
    let dev = 0;
    for (let i = 0; i < original.length; i++) {
      dev = Math.max(dev, Math.hypot(original[i][0] - changed[i][0], original[i][1] - changed[i][1]));
    }
    return { key, name, hp, original, changed, deviation: dev / size, landscape: a, changedLandscape: b };
  });
}

export function mount(root) {
  const w = makeWidget(root, { id: "invariance", title: "Live: turn the valley, or rescale a coordinate: whose path changes?" });
  const mode = w.select("mode", "transformation", [["rotate", "turn the parameter space by θ"], ["rescale", "rescale the y gradient by c"]], "rotate");
  const theta = w.slider("theta", "angle θ (degrees)", { min: 0, max: 90, step: 1, value: 30 });
  const scale = w.slider("c", "scale c", { min: 1, max: 100, log: true, perDecade: 20, value: 10 });
  const method = w.select("method", "optimizer drawn", METHODS.map(([key, name]) => [key, name]), "adam");
  const plot = w.plot({ aspect: 0.8, maxHeight: 380, label: "The chosen optimizer's path on the original problem and on the transformed one, mapped back" });
  const out = w.readout({ label: "Deviation between the two paths, per optimizer" });
  w.caption(`Each optimizer at the lr of the page's table, ${STEPS} steps, κ = ${KAPPA}; deviation: the largest distance `
    + "between the two paths relative to the start's distance from the minimum (below 10⁻⁶: the same path, up to rounding and ε). "
    + "What to try: turn the valley and compare GD with Adam; then switch to rescaling.");

  let cached = null;
  let cachedKey = "";
  w.onUpdate(() => {
    const m = mode.value;
    // only the active transformation's slider is live
    for (const [control, on] of [[theta, m === "rotate"], [scale, m === "rescale"]]) {
      control.input.disabled = !on;
      control.field.disabled = !on;
    }
    const key = `${m} ${theta.value} ${scale.value}`;
    if (key !== cachedKey) {
      cached = compute(m, theta.value, scale.value);
      cachedKey = key;
    }
    const rows = cached;
    root.oeWidget.result = rows.map((r) => ({ key: r.key, deviation: r.deviation }));
    const shown = rows.find((r) => r.key === method.value);
    const color = themeColor(shown.key === "gd" ? "sgd" : shown.key);
    const what = m === "rotate" ? `turned by ${sig(theta.value)}°, then turned back` : `with the y gradient × ${sig(scale.value)}`;
    plot.render({
      x: { min: -2, max: 2, label: "x" },
      y: { min: -2, max: 2, label: "y" },
      equal: true,
      legend: [
        { label: `${shown.name}, original`, color, width: 3 },
        { label: `${shown.name}, ${m === "rotate" ? "turned, back" : "rescaled"}`, color: "#777777", dash: [5, 4] },
        ...(m === "rescale" ? [{ label: "rescaled contours", color: "#999999", dash: [2, 3], width: 1 }] : []),
      ],
      draw(ctx, X, Y, th) {
        const f = shown.landscape;
        const f0 = f.value(START[0], START[1]);
        const levels = [];
        for (let i = 0; i < 8; i++) levels.push(f0 * 0.35 ** i);
        plot.contours(ctx, (x, y) => f.value(x, y), levels, X, Y, { n: 50, color: th.muted, width: 0.7 });
        if (m === "rescale") {
          // the rescaled problem's contours, dashed: the problem changed, whether or not the path did
          const g = shown.changedLandscape;
          const g0 = g.value(START[0], START[1]);
          const gl = [];
          for (let i = 0; i < 8; i++) gl.push(g0 * 0.35 ** i);
          ctx.setLineDash([2, 3]);
          plot.contours(ctx, (x, y) => g.value(x, y), gl, X, Y, { n: 50, color: th.muted, width: 0.7 });
          ctx.setLineDash([]);
        }
        plot.path(ctx, shown.original, X, Y, { color, width: 4 });
        plot.path(ctx, shown.changed, X, Y, { color: th.dark ? "#bbbbbb" : "#555555", width: 1.6, dash: [5, 4] });
        plot.marker(ctx, START[0], START[1], X, Y, { color: th.fg, shape: "o", size: 4 });
        plot.marker(ctx, 0, 0, X, Y, { color: th.fg, shape: "x", size: 6 });
      },
    });
    out.set(rows.map((r) => [`${r.key === shown.key ? "▸ " : ""}${r.name} (lr ${sig(r.hp.lr)})`, `${sig(r.deviation)}${r.deviation < SAME ? " (same path)" : ""}`, r.key]));
    const same = rows.filter((r) => r.deviation < SAME).map((r) => r.name);
    const moved = rows.filter((r) => r.deviation >= SAME).map((r) => r.name);
    w.say(`Problem ${what}: ${same.length ? `same path for ${same.join(", ")}` : "every path changes"}`
      + `${moved.length ? `; changed for ${moved.join(", ")}` : ""}. Drawn: ${shown.name}, deviation ${sig(shown.deviation)}.`);
  });
  w.start();
}
