// Adam page, under "They end in different places": a λ slider for Adam + L2 (torch's Adam with
// weight_decay: λθ added to the gradient, then preconditioned) against AdamW (θ shrunk by lr·λ, P
// untouched) on the page's quadratic f = (x − 3)² + 10(y − 2)², from the origin, lr 0.05 cosine-annealed
// over 4000 steps (the table's setting; the playground's rules and scheduler, JS = Python). Left: both
// walks, the L2 minimizer ✕ and the box |θᵢ| ≤ 1/λ. Right: the decay each applies per step divided by
// the lr, per coordinate: λ·Pᵢ for Adam + L2 (its P), λ for AdamW.

import { makeWidget, sig, themeColor } from "./kit.js";
import { ADAM_DECAY_DEFAULTS, adamDecay } from "./adam-math.js";
import { contoursOnce, geometricLevels, pairs } from "./rmsprop-plot.js";

const { steps: STEPS, lr: LR } = ADAM_DECAY_DEFAULTS;
const COUPLED = themeColor("adam");
const DECOUPLED = themeColor("adamw");
const Y_DASH = [5, 3];
const memo = new Map(); // λ -> adamDecay result: the slider has 101 positions, each 2 × 4000 steps
const compute = (lam) => {
  if (!memo.has(lam)) memo.set(lam, adamDecay({ lambda: lam }));
  return memo.get(lam);
};

export function mount(root) {
  const w = makeWidget(root, { id: "adam-decay", title: "Live: Adam + L2 against AdamW, the same λ" });
  const lambda = w.slider("lambda", "weight decay λ", { min: 0, max: 1, step: 0.01, value: 0.5 });
  const walkPlot = w.plot({ aspect: 0.78, maxHeight: 380, label: "Adam plus L2 and AdamW walks on the quadratic, with the L2 minimizer and the box of side 2 over lambda" });
  const decayPlot = w.plot({ aspect: 0.55, maxHeight: 280, minHeight: 200, label: "Decay per step divided by lr, per coordinate, against the step, log scale" });
  const out = w.readout({ label: "Where each ends and the decay per coordinate" });
  w.caption(`Both from the origin on f = (x − 3)² + 10(y − 2)², lr ${LR} cosine-annealed to 0 over ${STEPS} steps. `
    + "What to try: raise λ from 0: Adam + L2 always lands on the ✕ (the minimum of f + λ/2‖θ‖²), AdamW does not. "
    + "In the decay panel, Adam + L2's decay is λ times P: large in x, where the gradients are small (small √v), and small in y; AdamW's is λ in both.");

  w.onUpdate(() => {
    const lam = lambda.value;
    const r = compute(lam);
    root.oeWidget.result = r; // for the tests
    walkPlot.render({
      x: { min: -0.5, max: 3.5, label: "x" },
      y: { min: -0.5, max: 2.5, label: "y" },
      equal: true,
      legend: [
        { label: "Adam + L2 (coupled)", color: COUPLED },
        { label: "AdamW (decoupled)", color: DECOUPLED, dash: [6, 4] },
        { label: "box |θᵢ| ≤ 1/λ", color: "#009E73", dash: [2, 3], width: 1.6 },
      ],
      draw(ctx, X, Y, th) {
        contoursOnce(walkPlot, ctx, "separable", (x, y) => r.landscape.value(x, y), geometricLevels(0.02, 40, 12), X, Y, { color: th.muted });
        if (Number.isFinite(r.box)) {
          ctx.strokeStyle = "#009E73";
          ctx.lineWidth = 1.6;
          ctx.setLineDash([2, 3]);
          ctx.strokeRect(X(-r.box), Y(r.box), X(r.box) - X(-r.box), Y(-r.box) - Y(r.box));
          ctx.setLineDash([]);
        }
        walkPlot.path(ctx, pairs(r.coupled.points), X, Y, { color: COUPLED, width: 2.2 });
        walkPlot.path(ctx, pairs(r.decoupled.points), X, Y, { color: DECOUPLED, width: 2.2, dash: [6, 4] });
        walkPlot.marker(ctx, r.l2Minimizer[0], r.l2Minimizer[1], X, Y, { color: th.fg, shape: "x", size: 7, width: 2.4 });
        walkPlot.marker(ctx, 3, 2, X, Y, { color: th.fg, shape: "o", size: 4 });
        walkPlot.marker(ctx, 0, 0, X, Y, { color: th.fg, shape: "+", size: 6 });
      },
    });
    // decay per step ÷ lr: Adam + L2 λ·Pᵢ (per coordinate), AdamW λ
    const series = [[], []];
    let lo = Infinity;
    let hi = 0;
    for (let k = 0; k < STEPS; k++) {
      for (let i = 0; i < 2; i++) {
        const v = r.coupledDecay[2 * k + i];
        series[i].push([k + 1, v]);
        if (v > 0) {
          lo = Math.min(lo, v);
          hi = Math.max(hi, v);
        }
      }
    }
    if (lam > 0) {
      lo = Math.min(lo, lam);
      hi = Math.max(hi, lam);
    }
    const yr = lam > 0 ? { min: 10 ** Math.floor(Math.log10(lo)), max: 10 ** Math.ceil(Math.log10(hi)) } : { min: 1e-3, max: 1 };
    decayPlot.render({
      x: { min: 1, max: STEPS, label: "step" },
      y: { ...yr, log: true, label: "decay per step ÷ lr" },
      legend: [
        { label: "Adam + L2, x: λ·Pₓ", color: COUPLED },
        { label: "Adam + L2, y: λ·P_y", color: COUPLED, dash: Y_DASH, width: 1.6 },
        { label: "AdamW, x and y: λ", color: DECOUPLED, dash: [6, 4] },
      ],
      draw(ctx, X, Y) {
        if (lam === 0) return;
        decayPlot.path(ctx, series[0], X, Y, { color: COUPLED, width: 2, end: false });
        decayPlot.path(ctx, series[1], X, Y, { color: COUPLED, width: 1.6, dash: Y_DASH, end: false });
        decayPlot.path(ctx, [[1, lam], [STEPS, lam]], X, Y, { color: DECOUPLED, width: 2, dash: [6, 4], end: false });
      },
    });
    const pt = (v) => `(${sig(v[0])}, ${sig(v[1])})`;
    const mid = STEPS / 2;
    out.set([
      ["Adam + L2 ends at", pt(r.coupledEnd), "coupled-end"],
      ["minimum of f + λ/2‖θ‖²", pt(r.l2Minimizer), "l2-min"],
      ["AdamW ends at", pt(r.decoupledEnd), "decoupled-end"],
      ["box |θᵢ| ≤ 1/λ", Number.isFinite(r.box) ? sig(r.box) : "none (λ = 0)", "box"],
      [`decay ÷ lr at step ${mid}: Adam + L2 (x, y)`, pt([r.coupledDecay[2 * mid - 2], r.coupledDecay[2 * mid - 1]]), "coupled-decay-mid"],
      ["decay ÷ lr: AdamW (x and y)", sig(r.decoupledDecay), "decoupled-decay"],
    ]);
    w.say(`λ = ${sig(lam)}: Adam + L2 ends at ${pt(r.coupledEnd)}, the L2 minimizer is ${pt(r.l2Minimizer)}; AdamW ends at ${pt(r.decoupledEnd)}. `
      + `Halfway, Adam + L2 decays x by ${sig(r.coupledDecay[2 * mid - 2])}·lr and y by ${sig(r.coupledDecay[2 * mid - 1])}·lr per step, AdamW both by ${sig(lam)}·lr.`);
  });
  w.start();
}
