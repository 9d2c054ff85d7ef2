// Pitfalls page, under "Forgetting zero_grad": SGD on the banana from (−1.5, 2.5), once with
// zero_grad() before every backward pass and once without, so that .grad holds the sum of every
// gradient so far (docs/widgets/pitfall-math.js; equal to optimessay.SGD with autograd's
// accumulation to 1e-9). Sliders: lr, momentum, steps. Readout: each run's final loss or the step at
// which it diverged, and the size of the gradient each one fed the optimizer at the end.

import { makeWidget, sig, themeColor } from "./kit.js";
import { walk } from "./pitfall-math.js";

const WITH = "sgd"; // blue
const WITHOUT = "adam"; // vermillion

/** The path up to its first point outside [−20, 20]², that point pulled back onto the box: a walk that
 * diverges leaves the picture without asking the canvas to dash a line millions of pixels long. */
export function inView(points, box = 20) {
  const out = [];
  for (const [x, y] of points) {
    if (!(Math.abs(x) <= box && Math.abs(y) <= box)) {
      const last = out[out.length - 1];
      if (last && Number.isFinite(x) && Number.isFinite(y)) {
        const t = Math.min(...[[last[0], x], [last[1], y]].map(([a, b]) => (Math.abs(b) > box ? (Math.sign(b) * box - a) / (b - a) : 1)));
        out.push([last[0] + t * (x - last[0]), last[1] + t * (y - last[1])]);
      }
      break;
    }
    out.push([x, y]);
  }
  return out;
}

const fate = (w, steps) => (w.divergedAt !== null ? `diverged at step ${w.divergedAt} (loss ${sig(w.losses[w.losses.length - 2] ?? NaN)} the step before)`
  : `loss ${sig(w.losses[steps])} after ${steps} steps`);

export function mount(root) {
  const w = makeWidget(root, { id: "pitfall", title: "Live: SGD on the banana with and without zero_grad()" });
  const lr = w.slider("lr", "lr", { min: 1e-5, max: 1e-2, log: true, perDecade: 10, value: 1e-3 });
  const mu = w.slider("momentum", "momentum μ", { min: 0, max: 0.99, step: 0.01, value: 0.98 });
  const steps = w.slider("steps", "steps", { min: 5, max: 300, step: 1, integer: true, value: 100 });
  const plot = w.plot({ aspect: 0.8, maxHeight: 400, label: "Contours of the banana and the two paths from the same start" });
  const out = w.readout({ label: "The two runs" });
  w.caption("What to try: at the seed's setting (lr 0.001, μ 0.98) the run without zero_grad() diverges within a "
    + "few steps. Set μ = 0: the summed gradient is then exactly SGD with momentum 1 and no friction, and at a small lr "
    + "it can look fine, even faster, for a while: a bug that does not fail loudly.");

  w.onUpdate(() => {
    const n = steps.value;
    const good = walk(lr.value, mu.value, true, n);
    const bad = walk(lr.value, mu.value, false, n);
    root.oeWidget.result = { good, bad }; // for the tests
    const land = good.land;
    const cWith = themeColor(WITH);
    const cWithout = themeColor(WITHOUT);
    plot.render({
      x: { min: -2, max: 2, label: "x" },
      y: { min: -1, max: 3, label: "y" },
      equal: true,
      legend: [
        { label: "zero_grad() every step", color: cWith },
        { label: "never zero_grad(): .grad sums up", color: cWithout, dash: [6, 4] },
      ],
      draw(ctx, X, Y, th) {
        const levels = [];
        for (let k = -1; k <= 3; k += 0.5) levels.push(10 ** k);
        plot.contours(ctx, (x, y) => Math.max(land.value(x, y), 1e-12), levels, X, Y, { n: 60, color: th.muted, width: 0.6 });
        plot.path(ctx, inView(good.points), X, Y, { color: cWith, width: 2 });
        plot.path(ctx, inView(bad.points), X, Y, { color: cWithout, width: 2, dash: [6, 4] });
        plot.marker(ctx, land.start[0], land.start[1], X, Y, { color: th.fg, shape: "o", size: 4 });
        plot.marker(ctx, 1, 1, X, Y, { color: th.fg, shape: "x", size: 6 });
      },
    });
    const lastNorm = (r) => sig(r.gradNorms[r.gradNorms.length - 1] ?? NaN);
    out.set([
      ["with zero_grad()", fate(good, n), "with"],
      ["without zero_grad()", fate(bad, n), "without"],
      ["|.grad| fed to the last step: with, without", `${lastNorm(good)}, ${lastNorm(bad)}`, "grad"],
    ]);
    w.say(`lr ${sig(lr.value)}, momentum ${sig(mu.value)}, ${n} steps: with zero_grad(), ${fate(good, n)}; without, ${fate(bad, n)}.`);
  });
  w.start();
}
