// Adagrad page, under "Why it only shrinks": a step slider (and the lr) on Adagrad's walk over the
// banana (the playground's rule, JS = Python). Left: the walk up to step t. Right: P's two entries
// and the step length against the step, log scale, with a marker at t: P = 1/(√G + ε) only goes down,
// because G = Σ g² only goes up. Readout at step t: P, the step length, and on how many steps P grew.

import { makeWidget, sig, themeColor } from "./kit.js";
import { ADAGRAD_SHRINK_DEFAULTS, adagradShrink } from "./adagrad-math.js";
import { contoursOnce, geometricLevels, pairs, vline } from "./rmsprop-plot.js";

const { steps: STEPS } = ADAGRAD_SHRINK_DEFAULTS;
const PX = "#E69F00"; // P's x entry (orange)
const PY = "#56B4E9"; // P's y entry (sky), dashed
const PY_DASH = [5, 3];

export function mount(root) {
  const w = makeWidget(root, { id: "adagrad-shrink", title: "Live: Adagrad's P as the steps accumulate" });
  const step = w.slider("step", "step t", { min: 1, max: STEPS, step: 1, integer: true, value: 20 });
  const lr = w.slider("lr", "learning rate lr", { min: 0.01, max: 10, log: true, perDecade: 10, value: ADAGRAD_SHRINK_DEFAULTS.lr });
  const walkPlot = w.plot({ aspect: 0.8, maxHeight: 360, label: "Adagrad's walk on the banana up to step t" });
  const pPlot = w.plot({ aspect: 0.55, maxHeight: 280, minHeight: 200, label: "P's two entries and the step length against the step, log scale" });
  const out = w.readout({ label: "P and the step at step t" });
  w.caption(`Adagrad from (−1.5, 2.5), ${STEPS} steps. What to try: drag t from 1 upward: both entries of P drop in the first steps, `
    + "while the walk crosses the steep walls, and never come back up (the sum keeps those gradients for good); the step length shrinks "
    + "with them. Then lower the lr to 0.03 and raise it to 5: the larger the lr, the steeper the walls the first steps land on and the "
    + "smaller P ends.");

  w.onUpdate(() => {
    const r = adagradShrink({ lr: lr.value });
    root.oeWidget.result = r; // for the tests
    const t = Math.min(step.value, r.steps);
    const k = t - 1;
    const ink = themeColor("adagrad");
    const all = pairs(r.walk.points, r.steps + 1);
    // the window: the whole walk (all lrs' walks stay within a few units of the start), at least 1 wide
    const xs = all.map((p) => p[0]);
    const ys = all.map((p) => p[1]);
    // rounded to quarter units, so that nearby lrs share a window and its cached contours
    const quarter = (v) => Math.round(v * 4) / 4;
    const half = Math.ceil(4 * Math.max(0.5, (Math.max(...xs) - Math.min(...xs)) / 2 + 0.25, (Math.max(...ys) - Math.min(...ys)) / 2 + 0.25)) / 4;
    const cx = quarter((Math.max(...xs) + Math.min(...xs)) / 2);
    const cy = quarter((Math.max(...ys) + Math.min(...ys)) / 2);
    walkPlot.render({
      x: { min: cx - half, max: cx + half, label: "x" },
      y: { min: cy - half, max: cy + half, label: "y" },
      equal: true,
      legend: [{ label: `Adagrad, steps 1 to ${t}`, color: ink }, { label: "later steps", color: ink, dash: [2, 3], width: 1 }],
      draw(ctx, X, Y, th) {
        contoursOnce(walkPlot, ctx, `banana ${cx} ${cy} ${half}`, (x, y) => (1 - x) ** 2 + 100 * (y - x * x) ** 2, geometricLevels(0.5, 3000, 18), X, Y, { n: 80, color: th.muted });
        walkPlot.path(ctx, all.slice(t), X, Y, { color: ink, width: 1, dash: [2, 3], end: false });
        walkPlot.path(ctx, all.slice(0, t + 1), X, Y, { color: ink, width: 2 });
        walkPlot.marker(ctx, 1, 1, X, Y, { color: th.fg, shape: "x", size: 6 });
        walkPlot.marker(ctx, all[t][0], all[t][1], X, Y, { color: "#D55E00", shape: "o", size: 5 });
      },
    });
    let lo = Infinity;
    let hi = 0;
    for (const v of [...r.preconditioners, ...r.lengths]) {
      if (v > 0 && Number.isFinite(v)) {
        lo = Math.min(lo, v);
        hi = Math.max(hi, v);
      }
    }
    const series = (arr, stride, i) => Array.from({ length: r.steps }, (_, j) => [j + 1, arr[stride * j + i]]);
    pPlot.render({
      x: { min: 1, max: r.steps, label: "step", log: true },
      y: { min: 10 ** Math.floor(Math.log10(lo)), max: 10 ** Math.ceil(Math.log10(hi)), log: true, label: "P, step length" },
      legend: [{ label: "Pₓ", color: PX }, { label: "P_y", color: PY, dash: PY_DASH }, { label: "step length", color: ink, width: 1.3 }],
      draw(ctx, X, Y, th) {
        pPlot.path(ctx, series(r.lengths, 1, 0), X, Y, { color: ink, width: 1.1, end: false });
        pPlot.path(ctx, series(r.preconditioners, 2, 0), X, Y, { color: PX, width: 2.2, end: false });
        pPlot.path(ctx, series(r.preconditioners, 2, 1), X, Y, { color: PY, width: 2.2, dash: PY_DASH, end: false });
        vline(ctx, t, X, pPlot.area, th.fg);
        for (const [v, color] of [[r.preconditioners[2 * k], PX], [r.preconditioners[2 * k + 1], PY]]) {
          ctx.fillStyle = color;
          ctx.beginPath();
          ctx.arc(X(t), Y(v), 4, 0, 2 * Math.PI);
          ctx.fill();
        }
      },
    });
    const P = [r.preconditioners[2 * k], r.preconditioners[2 * k + 1]];
    const P1 = [r.preconditioners[0], r.preconditioners[1]];
    const loss = r.landscape.value(r.walk.points[2 * t], r.walk.points[2 * t + 1]);
    const grewUpTo = (i) => {
      let n = 0;
      for (let j = 1; j <= k; j++) if (r.preconditioners[2 * j + i] > r.preconditioners[2 * (j - 1) + i]) n++;
      return n;
    };
    out.set([
      [`P at step ${t} (x, y)`, `(${sig(P[0])}, ${sig(P[1])})`, "P"],
      ["P at step t ÷ P at step 1 (x, y)", `(${sig(P[0] / P1[0])}, ${sig(P[1] / P1[1])})`, "P-ratio"],
      [`step length at step ${t}`, sig(r.lengths[k]), "length"],
      [`steps (of ${t - 1}) on which P grew (x, y)`, `${grewUpTo(0)}, ${grewUpTo(1)}`, "grew"],
      [`loss after step ${t}`, sig(loss), "loss"],
    ]);
    w.say(`lr ${sig(lr.value)}, step ${t}: P = (${sig(P[0])}, ${sig(P[1])}), ${sig(P[0] / P1[0])} and ${sig(P[1] / P1[1])} times its first value; `
      + `the step is ${sig(r.lengths[k])} long. P grew on ${grewUpTo(0)} and ${grewUpTo(1)} of the ${t - 1} steps so far.`);
  });
  w.start();
}
