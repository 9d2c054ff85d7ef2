// SGD-and-momentum page, under the κ → √κ claim: lr and μ sliders (and κ) on the quadratic(κ, 30°);
// the heavy-ball walk (torch's SGD with momentum, the playground's engine) beside gradient descent at
// the same lr, and the rate of every eigen-direction: for curvature λ the heavy ball shrinks the error
// by the larger |root| of r² − (1 + μ − lr·λ) r + μ = 0 per step, GD by |1 − lr·λ|. The readout gives
// the two extreme directions' rates, the walk's (the slower one) and Polyak's optimum: lr, μ and the
// rate (√κ−1)/(√κ+1) against GD's best (κ−1)/(κ+1) (optimessay.experiments.momentum.polyak).

import { makeWidget, sig, themeColor } from "./kit.js";
import { cachedContours } from "./landscape-contours.js";
import { gdModeRate, heavyBallModeRate, oscillates, polyak, quadraticRates, stepsToShrink } from "./momentum-math.js";
import { quadratic, radians } from "../playground/landscapes.js";
import { run } from "../playground/trajectory.js";

export const THETA = 30; // degrees: the page's measured quadratics are turned by 30°
export const START = [-1.5, 1.0];
export const STEPS = 150;
const RATE_MAX = 1.25; // the rates plot's top: above 1 a direction grows (the walk diverges)

/** Everything the widget shows for one setting (pure; the browser tests read it). */
export function compute(kappa, lr, mu, steps = STEPS) {
  const land = quadratic(kappa, radians(THETA));
  const rates = quadraticRates(lr, mu, [1, kappa]);
  const best = polyak(kappa);
  const hb = run(land, "sgd", { lr, momentum: mu }, { start: START, steps });
  const gd = run(land, "sgd", { lr }, { start: START, steps });
  return { land, rates, best, hb, gd, oscillating: [oscillates(lr, mu, 1), oscillates(lr, mu, kappa)] };
}

const stepsText = (rate) => {
  const n = stepsToShrink(rate, 1e6);
  return Number.isFinite(n) ? `${n} steps for a 10⁶ times smaller error` : rate === 1 ? "no progress" : "diverges";
};
const lossText = (walk) => (walk.divergedAt !== null ? `diverged at step ${walk.divergedAt}` : sig(walk.losses[walk.steps]));

export function mount(root) {
  const w = makeWidget(root, { id: "momentum", title: "Live: the heavy ball's rate along each eigen-direction" });
  const kappa = w.slider("kappa", "condition number κ", { min: 1, max: 1000, log: true, perDecade: 20, value: 100 });
  const lr = w.slider("lr", "learning rate lr", { min: 1e-4, max: 2, log: true, perDecade: 20, value: 0.015 });
  const mu = w.slider("mu", "momentum μ", { min: 0, max: 0.99, step: 0.01, value: 0.6 });
  w.button("Set Polyak's lr and μ for this κ", () => {
    const p = polyak(kappa.value);
    lr.set(p.alpha);
    mu.set(p.beta);
  });
  const paths = w.plot({ aspect: 0.75, maxHeight: 380, label: `Contours of the quadratic turned by ${THETA}° with the heavy-ball and gradient-descent paths` });
  const ratesPlot = w.plot({ aspect: 0.5, maxHeight: 260, minHeight: 190, label: "Rate per step against the curvature λ of a direction, heavy ball and gradient descent" });
  const out = w.readout({ label: "Rates of the extreme eigen-directions and Polyak's optimum" });
  w.caption(`The walks: ${STEPS} steps from (−1.5, 1) on the quadratic with eigenvalues 1 and κ turned by ${THETA}°; the dots on the rate curves are its two eigen-directions. `
    + "What to try: press the Polyak button, then nudge μ either way: one extreme direction slows down (the walk's rate is the slower of the two dots). "
    + "Set μ = 0 to get gradient descent. Raise κ tenfold and press the button again: the optimal rate's distance from 1 shrinks like 1/√κ, GD's like 1/κ.");

  w.onUpdate(() => {
    const k = kappa.value;
    const r = compute(k, lr.value, mu.value);
    root.oeWidget.result = r; // for the tests
    const hbColor = themeColor("momentum");
    const gdColor = themeColor("sgd");
    const f0 = r.land.value(START[0], START[1]);
    paths.render({
      x: { min: -2, max: 2, label: "x" },
      y: { min: -2, max: 2, label: "y" },
      equal: true,
      legend: [{ label: `heavy ball (μ = ${sig(mu.value, 3)})`, color: hbColor }, { label: "GD, same lr", color: gdColor, dash: [6, 4] }],
      draw(ctx, X, Y, th) {
        const levels = [];
        for (let i = 0; i < 9; i++) levels.push(f0 * 0.35 ** i);
        cachedContours(paths, ctx, `quadratic ${k}`, (x, y) => r.land.value(x, y), levels, X, Y, { n: 90, color: th.muted });
        for (const [walk, color, dash] of [[r.hb, hbColor, []], [r.gd, gdColor, [6, 4]]]) { // GD dashed on top
          const pts = [];
          for (let i = 0; i <= walk.steps; i++) pts.push([walk.points[2 * i], walk.points[2 * i + 1]]);
          paths.path(ctx, pts, X, Y, { color, dash, width: 1.8 });
        }
        paths.marker(ctx, START[0], START[1], X, Y, { color: th.fg, shape: "o", size: 4 });
        paths.marker(ctx, 0, 0, X, Y, { color: th.fg, shape: "x", size: 6 });
        // a walk whose rate is above 1 leaves the picture: say so on the canvas
        const gone = [[r.rates.hbRate, "heavy ball"], [r.rates.gdRate, "GD"]].filter(([rate]) => rate > 1);
        ctx.font = "bold 12px system-ui, sans-serif";
        ctx.textAlign = "left";
        ctx.textBaseline = "top";
        gone.forEach(([rate, name], i) => {
          const text = `${name} diverges (rate ${sig(rate)} > 1)`;
          const x0 = paths.area.left + 6;
          const y0 = paths.area.top + 6 + 18 * i;
          ctx.fillStyle = th.card;
          ctx.fillRect(x0 - 3, y0 - 2, ctx.measureText(text).width + 6, 16);
          ctx.fillStyle = th.fg;
          ctx.fillText(text, x0, y0);
        });
      },
    });
    const lo = 0.5;
    const hi = Math.max(2 * k, 4);
    ratesPlot.render({
      x: { min: lo, max: hi, log: true, label: "curvature λ (dots: the quadratic's λ = 1 and κ)" },
      y: { min: 0, max: RATE_MAX, label: "rate per step" },
      legend: [{ label: "heavy ball", color: hbColor }, { label: "GD, same lr", color: gdColor, dash: [6, 4] }],
      draw(ctx, X, Y, th) {
        ctx.setLineDash([3, 3]);
        ctx.strokeStyle = th.fg;
        ctx.lineWidth = 1;
        ctx.beginPath();
        ctx.moveTo(X(lo), Y(1));
        ctx.lineTo(X(hi), Y(1));
        ctx.stroke();
        ctx.setLineDash([]);
        ctx.fillStyle = th.muted;
        ctx.font = "11px system-ui, sans-serif";
        ctx.textAlign = "left";
        ctx.textBaseline = "bottom";
        ctx.fillText("1: no progress (above: diverges)", X(lo) + 4, Y(1) - 2);
        const n = 240;
        for (const [fn, color, dash] of [[(l) => gdModeRate(lr.value, l), gdColor, [6, 4]], [(l) => heavyBallModeRate(lr.value, mu.value, l), hbColor, []]]) {
          const pts = [];
          for (let i = 0; i <= n; i++) {
            const l = lo * (hi / lo) ** (i / n);
            pts.push([l, Math.min(fn(l), RATE_MAX * 1.5)]);
          }
          ratesPlot.path(ctx, pts, X, Y, { color, dash, width: 1.8, end: false });
        }
        for (const [l, i] of [[1, 0], [k, 1]]) {
          for (const [v, color] of [[r.rates.gd[i], gdColor], [r.rates.hb[i], hbColor]]) {
            ctx.fillStyle = color;
            ctx.beginPath();
            ctx.arc(X(l), Y(Math.min(v, RATE_MAX * 1.5)), 4, 0, 2 * Math.PI);
            ctx.fill();
          }
        }
        ctx.strokeStyle = th.fg;
        ctx.lineWidth = 1;
        ctx.setLineDash([2, 3]);
        ctx.beginPath();
        ctx.moveTo(X(lo), Y(r.best.rate_hb));
        ctx.lineTo(X(hi), Y(r.best.rate_hb));
        ctx.stroke();
        ctx.setLineDash([]);
        ctx.fillStyle = th.fg;
        ctx.textAlign = "right";
        ctx.fillText("Polyak's optimal rate", X(hi) - 4, Y(r.best.rate_hb) - 2);
      },
    });
    const { hb, gd, hbRate, gdRate } = r.rates;
    out.set([
      ["heavy ball: rate along λ = 1 (flat)", `${sig(hb[0])}${r.oscillating[0] ? " (oscillates)" : ""}`, "hb-flat"],
      [`heavy ball: rate along λ = ${sig(k)} (steep)`, `${sig(hb[1])}${r.oscillating[1] ? " (oscillates)" : ""}`, "hb-steep"],
      ["heavy ball: the walk's rate", `${sig(hbRate)}: ${stepsText(hbRate)}`, "hb-rate"],
      ["GD at the same lr: the walk's rate", `${sig(gdRate)}: ${stepsText(gdRate)}`, "gd-rate"],
      [`loss after ${STEPS} steps: heavy ball / GD`, `${lossText(r.hb)} / ${lossText(r.gd)}`, "losses"],
      ["Polyak's optimum: lr, μ", `${sig(r.best.alpha)}, ${sig(r.best.beta)}`, "polyak"],
      ["optimal heavy-ball rate (√κ−1)/(√κ+1)", `${sig(r.best.rate_hb)}: ${stepsText(r.best.rate_hb)}`, "polyak-rate"],
      ["best GD rate (κ−1)/(κ+1)", `${sig(r.best.rate_gd)}: ${stepsText(r.best.rate_gd)}`, "gd-best-rate"],
    ]);
    w.say(`κ = ${sig(k)}, lr = ${sig(lr.value)}, μ = ${sig(mu.value)}: the heavy ball shrinks the error by ${sig(hbRate)} per step `
      + `(flat direction ${sig(hb[0])}, steep ${sig(hb[1])}); gradient descent at this lr by ${sig(gdRate)}. `
      + `At Polyak's lr ${sig(r.best.alpha)} and μ ${sig(r.best.beta)} the rate is ${sig(r.best.rate_hb)}, against ${sig(r.best.rate_gd)} for the best gradient descent.`);
  });
  w.start();
}
