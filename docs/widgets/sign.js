// Sign and max-norm page, under "Adam as sign descent": Adam's (or Adamax's) step per coordinate,
// divided by the learning rate, for 40 steps of a fixed gradient sequence whose two coordinates differ
// in size by 10⁵ (docs/widgets/sign-math.js, on the playground's update rules, equal to
// optimessay's to 1e-9). Sliders: β₁, β₂ and the loss scale c (every gradient times c); ε is 0,
// torch's 1e-8 or 1e-3. With β₁ = β₂ = 0 and ε = 0 both coordinates step by exactly ±lr, whatever
// their size and whatever c: sign descent. The readout gives the largest gap from −sign(g).

import { makeWidget, sig, themeColor } from "./kit.js";
import { SCALES, STEPS, run } from "./sign-math.js";

const SMALL = "#0072B2"; // coordinate 1 (small gradients), blue
const LARGE = "#D55E00"; // coordinate 2 (large gradients), vermillion

export function mount(root) {
  const w = makeWidget(root, { id: "sign", title: "Live: Adam's step per coordinate, from memory to sign descent" });
  const kind = w.select("optimizer", "optimizer", [["adam", "Adam"], ["adamax", "Adamax"]], "adam");
  const beta1 = w.slider("beta1", "β₁ (memory of g)", { min: 0, max: 0.99, step: 0.01, value: 0.9 });
  const beta2 = w.slider("beta2", "β₂ (memory of g² or |g|)", { min: 0, max: 0.999, step: 0.001, value: 0.999 });
  const eps = w.select("eps", "ε", [["0", "0"], ["1e-8", "1e-8 (torch's default)"], ["0.001", "0.001"]], "1e-8");
  const scale = w.slider("scale", "loss scale c (gradients × c)", { min: 1e-6, max: 1e6, log: true, perDecade: 4, value: 1 });
  const steps = w.plot({ aspect: 0.55, maxHeight: 300, minHeight: 210, label: "Each coordinate's step divided by the learning rate, against the step number, with minus the sign of its gradient as rings" });
  const grads = w.plot({ aspect: 0.32, maxHeight: 190, minHeight: 150, label: "Each coordinate's gradient size, log scale, against the step number" });
  const out = w.readout({ label: "Steps against sign descent" });
  w.caption("What to try: drag β₁ and β₂ to 0 and set ε = 0: both coordinates step by exactly ±1·lr, though one "
    + "gradient is 10⁵ times the other (sign descent). Then move the loss scale c: the steps do not change, until ε "
    + "is no longer small next to c·|g| (try ε = 0.001 with c = 10⁻³).");

  w.onUpdate(() => {
    const r = run(kind.value, { beta1: beta1.value, beta2: beta2.value, eps: Number(eps.value) }, scale.value);
    root.oeWidget.result = r; // for the tests
    const small = themeColor(SMALL);
    const large = themeColor(LARGE);
    steps.render({
      x: { min: 0, max: STEPS + 1, label: "step t" },
      y: { min: -2, max: 2, label: "step / lr" },
      legend: [
        { label: `coordinate 1 (|g| ≈ ${sig(SCALES[0] * scale.value, 2)})`, color: small },
        { label: `coordinate 2 (|g| ≈ ${sig(SCALES[1] * scale.value, 2)})`, color: large },
        { label: "○ rings: −sign(g), sign descent's step", color: "rgba(0, 0, 0, 0)", width: 0 },
      ],
      draw(ctx, X, Y, th) {
        ctx.strokeStyle = th.muted;
        ctx.lineWidth = 1;
        ctx.beginPath();
        ctx.moveTo(X(0), Y(0));
        ctx.lineTo(X(STEPS + 1), Y(0));
        ctx.stroke();
        [small, large].forEach((color, i) => {
          steps.path(ctx, r.moves.map((m, t) => [t + 1, m[i]]), X, Y, { color, width: 1.8, dots: true, end: false });
          r.grads.forEach((g, t) => steps.marker(ctx, t + 1, -Math.sign(g[i]), X, Y, { color, shape: "o", size: 4.5, width: 1.2 }));
        });
      },
    });
    const lo = SCALES[0] * scale.value * 1e-3;
    const hi = SCALES[1] * scale.value * 10;
    grads.render({
      x: { min: 0, max: STEPS + 1, label: "step t" },
      y: { min: lo, max: hi, log: true, label: "|g|" },
      legend: [],
      draw(ctx, X, Y) {
        [small, large].forEach((color, i) => {
          grads.path(ctx, r.grads.map((g, t) => [t + 1, Math.max(Math.abs(g[i]), lo)]), X, Y, { color, width: 1.6, dots: true, end: false });
        });
      },
    });
    const last = r.moves[r.moves.length - 1];
    const isSign = r.maxSignGap === 0;
    out.set([
      ["largest |step/lr + sign(g)|", sig(r.maxSignGap), "gap"],
      [`step ${STEPS}: step/lr`, `${sig(last[0])}, ${sig(last[1])}`, "last"],
      [`step ${STEPS}: P`, `${sig(r.precond[STEPS - 1][0])}, ${sig(r.precond[STEPS - 1][1])}`, "precond"],
    ]);
    const name = kind.value === "adam" ? "Adam" : "Adamax";
    w.say(`${name} with β₁ = ${sig(beta1.value)}, β₂ = ${sig(beta2.value)}, ε = ${eps.value}, loss scale ${sig(scale.value)}: `
      + (isSign ? "every step is exactly ±lr, sign descent." : `the steps differ from sign descent by up to ${sig(r.maxSignGap)}·lr.`));
  });
  w.start();
}
