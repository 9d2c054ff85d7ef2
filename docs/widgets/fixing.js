// Fixing Adam page, under the AMSGrad paragraph: Adam's and AMSGrad's preconditioner P per step on a
// gradient that is 1 at every step but one (step 50), where it is `spike` (docs/widgets/fixing-math.js,
// on the playground's update rules, equal to optimessay.Adam's to 1e-9). Adam's v forgets the spike
// in about 1/(1−β₂) steps and its P grows back; AMSGrad keeps the maximum of the uncorrected v, so
// its P after the spike grows only by the bias correction √((1−β₂ᵗ)/(1−β₂⁵⁰)) — the readout shows
// that factor next to the measured one.

import { makeWidget, sig, themeColor } from "./kit.js";
import { SPIKE_STEP, STEPS, run } from "./fixing-math.js";

export function mount(root) {
  const w = makeWidget(root, { id: "fixing", title: "Live: Adam's and AMSGrad's P after one rare large gradient" });
  const spike = w.slider("spike", `gradient at step ${SPIKE_STEP} (1 at every other step)`, { min: 1, max: 1e4, log: true, perDecade: 10, value: 100 });
  const beta2 = w.slider("beta2", "β₂", { min: 0.9, max: 0.9999, step: 0.0001, value: 0.999 });
  const plot = w.plot({ aspect: 0.55, maxHeight: 320, minHeight: 220, label: "P against the step for Adam and AMSGrad, log scale, with the spike marked" });
  const out = w.readout({ label: "P before and after the spike" });
  w.caption("What to try: with β₂ = 0.9, Adam's P is back to 1 within about a hundred steps, and with 0.99 it grows "
    + "about fivefold by step 300, while AMSGrad's stays down; with torch's β₂ = 0.999 both stay down for the whole "
    + "window, and AMSGrad's slow rise is the bias correction (compare the last two rows). A spike of 1 (no spike) "
    + "makes the two identical.");

  w.onUpdate(() => {
    const b2 = beta2.value;
    const r = run(spike.value, b2);
    root.oeWidget.result = r; // for the tests
    const adam = themeColor("adam");
    const ams = themeColor("nadam"); // optimessay.style's wine (its AMSGrad colour)
    const all = [...r.adam, ...r.amsgrad];
    const lo = Math.min(...all) / 2;
    const hi = Math.max(...all) * 2;
    plot.render({
      x: { min: 0, max: STEPS, label: "step t" },
      y: { min: lo, max: hi, log: true, label: "P = 1/(√v̂ + ε)" },
      legend: [
        { label: "Adam", color: adam },
        { label: "AMSGrad", color: ams, dash: [7, 4] },
        { label: `the spike (step ${SPIKE_STEP})`, color: "#888888", width: 1, dash: [2, 3] },
      ],
      draw(ctx, X, Y) {
        ctx.strokeStyle = "#888888";
        ctx.lineWidth = 1;
        ctx.setLineDash([2, 3]);
        ctx.beginPath();
        ctx.moveTo(X(SPIKE_STEP), Y(lo));
        ctx.lineTo(X(SPIKE_STEP), Y(hi));
        ctx.stroke();
        ctx.setLineDash([]);
        plot.path(ctx, r.adam.map((p, t) => [t + 1, p]), X, Y, { color: adam, width: 2 });
        plot.path(ctx, r.amsgrad.map((p, t) => [t + 1, p]), X, Y, { color: ams, width: 2, dash: [7, 4] });
      },
    });
    const at = SPIKE_STEP - 1; // index of the spike's step
    const growAdam = r.adam[STEPS - 1] / r.adam[at];
    const growAms = r.amsgrad[STEPS - 1] / r.amsgrad[at];
    const bias = Math.sqrt((1 - b2 ** STEPS) / (1 - b2 ** SPIKE_STEP));
    out.set([
      [`P at step ${SPIKE_STEP - 1} (before the spike)`, sig(r.adam[at - 1]), "before"],
      [`P at step ${SPIKE_STEP}: Adam, AMSGrad`, `${sig(r.adam[at])}, ${sig(r.amsgrad[at])}`, "spike"],
      [`P at step ${STEPS}: Adam, AMSGrad`, `${sig(r.adam[STEPS - 1])}, ${sig(r.amsgrad[STEPS - 1])}`, "end"],
      [`growth of P, step ${SPIKE_STEP} → ${STEPS}: Adam, AMSGrad`, `${sig(growAdam)}×, ${sig(growAms)}×`, "growth"],
      [`bias correction √((1−β₂^${STEPS})/(1−β₂^${SPIKE_STEP}))`, `${sig(bias)}×`, "bias"],
    ]);
    w.say(`Gradient ${sig(spike.value)} at step ${SPIKE_STEP}, β₂ = ${sig(b2)}: from the spike to step ${STEPS}, `
      + `Adam's P grows ${sig(growAdam)}×, AMSGrad's ${sig(growAms)}× (the bias correction alone: ${sig(bias)}×).`);
  });
  w.start();
}
