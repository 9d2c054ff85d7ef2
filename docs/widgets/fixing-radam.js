// Fixing Adam page, under the RAdam paragraph: Adam's and RAdam's step length, divided by lr, on a
// constant gradient g, from step 1 to 10⁴ (docs/widgets/fixing-math.js radamAt: radam.py's formulas on
// the closed-form moments of a constant gradient, equal to optimessay.Adam/RAdam stepping to 1e-9). Until ρ_t > 5 RAdam takes momentum-SGD
// steps (P = 1: the step is lr·g, as large as the gradient); from then on its rectification r_t scales
// Adam's step down and lets it grow back to 1 over ~1/(1−β₂) steps: a built-in warmup.

import { makeWidget, sig, themeColor } from "./kit.js";
import { radamRun, radamSteps } from "./fixing-math.js";

const LAST = 10000;
// the drawn steps (about 40 per decade) and the ones the readout quotes
const SHOWN = [...new Set([...radamSteps(LAST), 1, 100, 1000])].sort((a, b) => a - b);

export function mount(root) {
  const w = makeWidget(root, { id: "fixing-radam", title: "Live: RAdam's warmup against Adam, on a constant gradient" });
  const g = w.slider("g", "gradient g (the same at every step)", { min: 1e-3, max: 1e3, log: true, perDecade: 4, value: 1 });
  const beta2 = w.slider("beta2", "β₂", { min: 0.9, max: 0.9999, step: 0.0001, value: 0.999 });
  const plot = w.plot({ aspect: 0.55, maxHeight: 320, minHeight: 220, label: "Step length divided by the learning rate against the step, both on log scales, for Adam and RAdam, with RAdam's switch marked" });
  const out = w.readout({ label: "RAdam's switch and rectification" });
  w.caption("What to try: raise g to 100: RAdam's first five steps are momentum-SGD steps, 100 times Adam's, because "
    + "P = 1 does not undo the gradient's size; from the switch on, both ignore g. Then move β₂: the switch stays at "
    + "step 6, but the warmup after it stretches: RAdam's step is about two thirds of Adam's at t = 1/(1−β₂).");

  w.onUpdate(() => {
    const r = radamRun(g.value, beta2.value, LAST, SHOWN);
    const index = new Map(SHOWN.map((t, i) => [t, i]));
    root.oeWidget.result = r; // for the tests
    const adam = themeColor("adam");
    const radam = themeColor("radam");
    const ys = [...r.adamStep, ...r.radamStep].map((s) => s / 1e-3).filter((v) => v > 0);
    const lo = Math.max(1e-4, Math.min(...ys) / 2);
    const hi = Math.max(...ys) * 3;
    plot.render({
      x: { min: 1, max: LAST, log: true, label: "step t (log scale)" },
      y: { min: lo, max: hi, log: true, label: "step length / lr" },
      legend: [
        { label: "Adam", color: adam },
        { label: "RAdam", color: radam, dash: [7, 4] },
        { label: `RAdam's switch (ρ_t > 5, step ${r.switchStep})`, color: "#888888", width: 1, dash: [2, 3] },
      ],
      draw(ctx, X, Y) {
        ctx.strokeStyle = "#888888";
        ctx.lineWidth = 1;
        ctx.setLineDash([2, 3]);
        ctx.beginPath();
        ctx.moveTo(X(r.switchStep), Y(lo));
        ctx.lineTo(X(r.switchStep), Y(hi));
        ctx.stroke();
        ctx.setLineDash([]);
        plot.path(ctx, SHOWN.map((t, i) => [t, r.adamStep[i] / 1e-3]), X, Y, { color: adam, width: 2, end: false });
        plot.path(ctx, SHOWN.map((t, i) => [t, r.radamStep[i] / 1e-3]), X, Y, { color: radam, width: 2, dash: [7, 4], end: false });
      },
    });
    const ratio = (t) => r.radamStep[index.get(t)] / r.adamStep[index.get(t)];
    out.set([
      ["ρ_∞ = 2/(1−β₂) − 1", sig(r.rhoInf), "rho-inf"],
      ["RAdam's first adaptive step (ρ_t > 5)", String(r.switchStep), "switch"],
      ["step 1: RAdam / Adam step", sig(ratio(1)), "ratio-1"],
      ["step 100, step 1000: RAdam / Adam step", `${sig(ratio(100))}, ${sig(ratio(1000))}`, "ratio-late"],
    ]);
    w.say(`g = ${sig(g.value)}, β₂ = ${sig(beta2.value)}: RAdam steps like momentum SGD until step ${r.switchStep - 1} `
      + `(${sig(ratio(1))} times Adam's step at step 1), then at ${sig(ratio(100))} of Adam's step at step 100 and ${sig(ratio(1000))} at step 1000.`);
  });
  w.start();
}
