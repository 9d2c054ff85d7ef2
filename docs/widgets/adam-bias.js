// Adam page, under the bias-correction table: a toggle (bias correction on/off) and β₂ on the
// axis-aligned quadratic bowl of condition number 10 (lr 0.01, β₁ 0.9, 60 steps from (−1.5, 1)), where
// the gradient changes slowly over the first steps. Adam is the playground's rule (JS = Python); Adam
// without correction is adam-math.js's (torch's ops minus 1 − β₁ᵗ and 1 − β₂ᵗ). Left: both walks,
// the chosen one bold. Right: the largest coordinate's move divided by lr at each step, both versions,
// with the constant-gradient formula (1 − β₁ᵗ)/√(1 − β₂ᵗ) dotted. Readout: the chosen version's
// first step, largest step and final loss, beside the other's.

import { makeWidget, sig, themeColor } from "./kit.js";
import { ADAM_BIAS_DEFAULTS, adamBias, constantGradientRatio } from "./adam-math.js";
import { contoursOnce, geometricLevels, hline, pairs } from "./rmsprop-plot.js";

const { lr: LR, beta1: BETA1, steps: STEPS } = ADAM_BIAS_DEFAULTS;
const ON = themeColor("adam"); // with correction
const OFF = "#0072B2"; // without (blue), dashed
const BETA2S = [["0.9", "0.9"], ["0.99", "0.99"], ["0.999", "0.999 (default)"], ["0.9999", "0.9999"]];
const KAPPA = ADAM_BIAS_DEFAULTS.kappa;

export function mount(root) {
  const w = makeWidget(root, { id: "adam-bias", title: "Live: Adam's first steps with and without bias correction" });
  const corrected = w.toggle("corrected", "bias correction (torch's Adam)", true);
  const beta2 = w.select("beta2", "β₂", BETA2S, "0.999");
  const walkPlot = w.plot({ aspect: 0.75, maxHeight: 360, label: "Adam's walks on a quadratic bowl with and without bias correction" });
  const stepPlot = w.plot({ aspect: 0.55, maxHeight: 280, minHeight: 200, label: "Step divided by lr against the step, with and without bias correction" });
  const out = w.readout({ label: "First step, largest step and final loss" });
  w.caption(`Adam with lr ${LR}, β₁ ${BETA1}, ${STEPS} steps from (−1.5, 1) on the quadratic ½(x² + ${KAPPA}y²); the step is the largest coordinate's move. `
    + "What to try: switch the correction off and on at the default β₂ 0.999: without it the steps are several times lr and follow the dotted "
    + "constant-gradient curve of the table, so the walk races ahead and overshoots. Then try β₂ 0.9999 (the first step is 10·lr) and 0.99 "
    + "(at most about 2·lr).");

  w.onUpdate(() => {
    const b2 = Number(beta2.value);
    const r = adamBias({ beta2: b2 });
    root.oeWidget.result = r; // for the tests
    const on = corrected.value;
    const shown = on ? r.corrected : r.uncorrected;
    const other = on ? r.uncorrected : r.corrected;
    const [sx, sy] = r.settings.start;
    walkPlot.render({
      x: { min: -1.7, max: 0.5, label: "x" },
      y: { min: -0.6, max: 1.2, label: "y" },
      equal: true,
      legend: [{ label: "with correction", color: ON, width: on ? 3 : 1.5 }, { label: "without", color: OFF, dash: [6, 4], width: on ? 1.5 : 3 }],
      draw(ctx, X, Y, th) {
        contoursOnce(walkPlot, ctx, "bowl", (x, y) => r.landscape.value(x, y), geometricLevels(0.01, 8, 10), X, Y, { color: th.muted });
        walkPlot.path(ctx, pairs(other.points), X, Y, { color: on ? OFF : ON, dash: on ? [6, 4] : [], width: 1.3, dots: false });
        walkPlot.path(ctx, pairs(shown.points), X, Y, { color: on ? ON : OFF, dash: on ? [] : [6, 4], width: 2.8, dots: true });
        walkPlot.marker(ctx, sx, sy, X, Y, { color: th.fg, shape: "+", size: 6 });
        walkPlot.marker(ctx, 0, 0, X, Y, { color: th.fg, shape: "x", size: 6 });
      },
    });
    let top = Math.max(r.uncorrected.peak, r.corrected.peak);
    for (let t = 1; t <= STEPS; t++) top = Math.max(top, constantGradientRatio(t, BETA1, b2));
    top *= 1.08;
    stepPlot.render({
      x: { min: 1, max: STEPS, label: "step t" },
      y: { min: 0, max: top, label: "step / lr" },
      legend: [
        { label: "with correction", color: ON, width: on ? 3 : 1.5 },
        { label: "without", color: OFF, dash: [6, 4], width: on ? 1.5 : 3 },
        { label: "without, constant g", color: themeColor("#222222"), dash: [1, 3], width: 1.5 },
      ],
      draw(ctx, X, Y, th) {
        hline(ctx, 1, Y, stepPlot.area, th.fg, "lr");
        const formula = [];
        for (let t = 1; t <= STEPS; t++) formula.push([t, constantGradientRatio(t, BETA1, b2)]);
        stepPlot.path(ctx, formula, X, Y, { color: th.fg, dash: [1, 3], width: 1.5, end: false });
        for (const [series, color, dash, bold] of [[r.corrected.ratios, ON, [], on], [r.uncorrected.ratios, OFF, [6, 4], !on]]) {
          stepPlot.path(ctx, Array.from(series, (v, i) => [i + 1, v]), X, Y, { color, dash, width: bold ? 2.8 : 1.3, dots: bold, end: false });
        }
      },
    });
    const line = (v) => `first step ${sig(v.ratios[0])}·lr, largest ${sig(v.peak)}·lr (step ${v.peakStep}), loss after ${STEPS} steps ${sig(v.finalLoss)}`;
    out.set([
      [on ? "with bias correction (shown)" : "without bias correction (shown)", line(shown), "shown"],
      [on ? "without bias correction" : "with bias correction", line(other), "other"],
      ["without, on a constant gradient: (1 − β₁)/√(1 − β₂) at step 1", `${sig(constantGradientRatio(1, BETA1, b2))}·lr`, "formula"],
    ]);
    w.say(`β₂ = ${beta2.value}, bias correction ${on ? "on" : "off"}: the first step moves the largest coordinate ${sig(shown.ratios[0])} times lr `
      + `and the largest step is ${sig(shown.peak)} times lr, at step ${shown.peakStep}; ${on ? "without" : "with"} correction: ${sig(other.ratios[0])} and ${sig(other.peak)} times lr.`);
  });
  w.start();
}
