// Preconditioning page, under the κ_diag formula: κ and θ sliders; gradient descent (P = I), the fixed
// Jacobi preconditioner (P = diag(H)⁻¹) and Adam walk the quadratic(κ, θ) from the same start in the
// valley's own coordinates; the readout gives κ_diag and each walk's steps to a millionfold loss
// reduction (optimessay.protocol.steps_to_tolerance, relative), the numbers of the page's tables.
//
// lrs: GD and Jacobi at their best fixed lr from the eigenvalues (GD: 2/(λmin+λmax) = 2/(1+κ);
// Jacobi: the eigenvalues of P·H are 1 ± r, so 2/((1−r)+(1+r)) = 1); Adam at the lr of its slider,
// which starts at the protocol-tuned lr the page passes in data-adam-lr (κ = 100, θ = 30°).
//
// root data-*: data-adam-lr (the Adam slider's start), data-adam-lr-note (who tuned it, for the caption).

import { makeWidget, sig, themeColor } from "./kit.js";
import { hessian, jacobiWalk, kappaDiag, offDiagonal, stepsToTolerance, turn } from "./precond-math.js";
import { quadratic, radians } from "../playground/landscapes.js";
import { run } from "../playground/trajectory.js";

export const BUDGET = 4000;
export const TOL = 1e-6;
export const START = [-1.5, 1.0]; // the landscape's default start, in the valley's own coordinates
// paths are drawn up to their arrival, at most DRAWN steps: at κ = 1000 a zigzag of thousands of lines
// across the valley costs the rasterizer tens of ms and shows nothing more (the legend says so)
export const DRAWN = 600;

/** Everything the widget shows for one setting: walks, lrs, κ_diag, steps (pure; used by the tests). */
export function compute(kappa, theta, adamLr, steps = BUDGET) {
  const land = quadratic(kappa, radians(theta));
  const start = turn(START, theta);
  const h = hessian(kappa, theta);
  const gdLr = 2 / (1 + kappa);
  const walks = [
    { key: "gd", name: "GD, P = I", lr: gdLr, walk: run(land, "sgd", { lr: gdLr }, { start, steps }) },
    { key: "jacobi", name: "Jacobi, P = diag(H)⁻¹", lr: 1, walk: jacobiWalk(land, h, 1, start, steps) },
    { key: "adam", name: "Adam", lr: adamLr, walk: run(land, "adam", { lr: adamLr }, { start, steps }) },
  ];
  for (const w of walks) w.steps = stepsToTolerance(w.walk.losses, TOL, { relative: true });
  return { land, start, walks, kappaDiag: kappaDiag(kappa, theta), r: offDiagonal(kappa, theta) };
}

const COLOR = { gd: "sgd", jacobi: "#999933", adam: "adam" }; // optimessay.style: GD, "diagonal P", Adam
const DASH = { gd: [], jacobi: [7, 4], adam: [] };
const SHORT = { gd: "GD", jacobi: "Jacobi P", adam: "Adam" };

const stepsText = (s) => (s <= BUDGET ? String(s) : `not within ${BUDGET}`);

export function mount(root) {
  const w = makeWidget(root, { id: "precond", title: "Live: GD, the Jacobi P and Adam on the quadratic (κ, θ)" });
  const given = Number(root.dataset.adamLr);
  const adamStart = Number.isFinite(given) && given >= 1e-4 && given <= 10 ? given : 0.1;
  const kappa = w.slider("kappa", "condition number κ", { min: 1, max: 1000, log: true, perDecade: 20, value: 100 });
  const theta = w.slider("theta", "valley angle θ (degrees)", { min: 0, max: 45, step: 0.5, value: 30 });
  const adamLr = w.slider("adam-lr", "Adam's lr", { min: 1e-4, max: 10, log: true, perDecade: 20, value: adamStart });
  const show = {
    gd: w.toggle("gd", "show GD", true),
    jacobi: w.toggle("jacobi", "show Jacobi P", true),
    adam: w.toggle("adam", "show Adam", true),
  };
  const paths = w.plot({ aspect: 0.8, maxHeight: 400, label: "Contours of the quadratic and the three paths from the same start" });
  const curves = w.plot({ aspect: 0.5, maxHeight: 260, minHeight: 180, label: "Loss relative to the start against steps, log scale, with the tolerance line" });
  const out = w.readout({ label: "κ_diag and steps to tolerance", place: "controls" });
  const note = root.dataset.adamLrNote || "";
  w.caption(`GD runs at its best fixed lr 2/(1+κ), the Jacobi P at its best, lr 1; Adam at the lr you set${note ? ` (${note})` : ""}. `
    + "Steps: until the loss stays below 10⁻⁶ × its start value (budget 4000). What to try: set θ = 0, then turn the valley; "
    + "then raise κ and watch GD's count grow while the Jacobi P's follows κ_diag.");

  let cached = null;
  let cachedKey = "";
  w.onUpdate(() => {
    const k = kappa.value;
    const t = theta.value;
    const t0 = performance.now();
    const key = `${k} ${t} ${adamLr.value}`;
    if (key !== cachedKey) {
      cached = compute(k, t, adamLr.value); // toggles and redraws (resize, dark mode) reuse the walks
      cachedKey = key;
    }
    const r = cached;
    const t1 = performance.now();
    root.oeWidget.result = r; // for the tests
    const shown = r.walks.filter((x) => show[x.key].value);
    const f0 = r.land.value(r.start[0], r.start[1]);
    const cut = (x) => Math.min(x.steps, BUDGET + 1) > DRAWN;
    const legend = shown.map((x) => ({ label: `${x.name}, lr ${sig(x.lr)}${cut(x) ? ` (first ${DRAWN} steps)` : ""}`, color: themeColor(COLOR[x.key]), dash: DASH[x.key] }));
    paths.render({
      x: { min: -2, max: 2, label: "x" },
      y: { min: -2, max: 2, label: "y" },
      equal: true,
      legend,
      draw(ctx, X, Y, th) {
        const levels = [];
        for (let i = 0; i < 9; i++) levels.push(f0 * 0.35 ** i);
        // the quadratic's level sets ½(u² + κw²) = L are ellipses: semi-axes √(2L) along the valley
        // (angle θ) and √(2L/κ) across it; drawn exactly, no grid (the screen's y axis points down)
        const scale = X(1) - X(0);
        ctx.strokeStyle = th.muted;
        ctx.lineWidth = 0.7;
        ctx.beginPath();
        for (const L of levels) {
          const a = Math.sqrt(2 * L) * scale;
          const b = Math.sqrt(2 * L / k) * scale;
          ctx.moveTo(X(0) + a * Math.cos(radians(t)), Y(0) - a * Math.sin(radians(t)));
          ctx.ellipse(X(0), Y(0), a, b, -radians(t), 0, 2 * Math.PI);
        }
        ctx.stroke();
        for (const x of shown) {
          const n = Math.min(DRAWN, x.walk.steps, Number.isFinite(x.steps) && x.steps <= BUDGET ? Math.max(x.steps, 1) : BUDGET);
          const pts = [];
          for (let i = 0; i <= n; i++) pts.push([x.walk.points[2 * i], x.walk.points[2 * i + 1]]);
          paths.path(ctx, pts, X, Y, { color: themeColor(COLOR[x.key]), dash: DASH[x.key], width: x.key === "jacobi" ? 2.2 : 1.8 });
        }
        paths.marker(ctx, r.start[0], r.start[1], X, Y, { color: th.fg, shape: "o", size: 4 });
        paths.marker(ctx, 0, 0, X, Y, { color: th.fg, shape: "x", size: 6 });
      },
    });
    const t2 = performance.now();
    const arrived = shown.map((x) => x.steps).filter((s) => s <= BUDGET);
    const xMax = Math.min(BUDGET, Math.max(10, Math.ceil((arrived.length ? Math.max(...arrived) : BUDGET) * 1.15)));
    curves.render({
      x: { min: 0, max: xMax, label: "step" },
      y: { min: 1e-9, max: 10, log: true, label: "loss / start loss" },
      legend: [],
      draw(ctx, X, Y, th) {
        ctx.setLineDash([3, 3]);
        ctx.strokeStyle = th.fg;
        ctx.lineWidth = 1;
        ctx.beginPath();
        ctx.moveTo(X(0), Y(TOL));
        ctx.lineTo(X(xMax), Y(TOL));
        ctx.stroke();
        ctx.setLineDash([]);
        for (const x of shown) {
          const pts = [];
          for (let i = 0; i <= Math.min(xMax, x.walk.steps); i++) pts.push([i, Math.max(x.walk.losses[i] / f0, 1e-12)]);
          curves.path(ctx, pts, X, Y, { color: themeColor(COLOR[x.key]), dash: DASH[x.key], width: 1.6, end: false });
        }
      },
    });
    root.oeWidget.parts = { compute: t1 - t0, paths: t2 - t1, curves: performance.now() - t2 }; // for the benchmark
    const rows = [
      ["κ_diag(κ, θ)", sig(r.kappaDiag), "kappa-diag"],
      ["r", sig(Math.abs(r.r)), "r"],
    ];
    for (const x of r.walks) rows.push([`${SHORT[x.key]} steps`, show[x.key].value ? stepsText(x.steps) : "hidden", `steps-${x.key}`]);
    out.set(rows);
    root.dataset.kappaDiag = String(r.kappaDiag);
    const said = shown.map((x) => `${SHORT[x.key]} ${stepsText(x.steps)}`).join(", ");
    w.say(`κ = ${sig(k)}, θ = ${sig(t)}°: κ_diag = ${sig(r.kappaDiag)}.`
      + (said ? ` Steps to a millionfold loss reduction: ${said}.` : " Every path is hidden."));
  });
  w.start();
}
