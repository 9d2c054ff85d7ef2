// RMSprop page, under "at α = 0 ... RMSprop *is* sign descent": an α slider and a step slider on the
// seed's alpha-sweep walk (banana, lr 0.01, momentum 0.9, 100 steps; the playground's RMSprop, JS =
// Python). Left: the walk with an arrow of −P_t·g_t every few steps (at α → 0 every arrow has
// components ±1: sign descent moves diagonally). Right: |P_t·g_t| per coordinate against the step, log
// scale, with the line |sign(g)| = 1. Readout at the chosen step: g, P, P·g, and the share of steps
// whose |P·g| is within 1 % of 1.

import { makeWidget, sig, themeColor } from "./kit.js";
import { rmspropSign, RMSPROP_SIGN_DEFAULTS } from "./rmsprop-math.js";
import { arrow, contoursOnce, geometricLevels, hline, pairs, vline } from "./rmsprop-plot.js";

const { steps: STEPS, lr: LR, momentum: MU, start: START } = RMSPROP_SIGN_DEFAULTS;
const X_COLOR = "#E69F00"; // x coordinate (RMSprop's orange)
const Y_COLOR = "#56B4E9"; // y coordinate (sky), dashed
const ARROW_EVERY = 5;
const ARROW_SCALE = 0.12; // data units per unit of P·g
const PG_RANGE = [1e-3, 30];
const pct = (f) => `${Math.round(100 * f)} %`;

export function mount(root) {
  const w = makeWidget(root, { id: "rmsprop-sign", title: "Live: P·g turning into sign(g) as α → 0" });
  const alpha = w.slider("alpha", "memory α", { min: 0, max: 0.99, step: 0.01, value: 0.9 });
  const step = w.slider("step", "readout at step t", { min: 1, max: STEPS, step: 1, integer: true, value: STEPS });
  const walkPlot = w.plot({ aspect: 0.8, maxHeight: 380, label: "The RMSprop walk on the banana with arrows of minus P times g" });
  const pgPlot = w.plot({ aspect: 0.55, maxHeight: 280, minHeight: 200, label: "Size of P times g per coordinate against the step, log scale" });
  const out = w.readout({ label: "P, g and P·g at the chosen step" });
  w.caption(`The walk: RMSprop with lr ${LR}, momentum ${MU}, ${STEPS} steps from (−1.5, 2.5), the seed's alpha sweep. `
    + "What to try: drag α from 0.9 down to 0 and watch the |P·g| panel: both curves flatten onto the line 1, and every arrow "
    + "on the walk turns diagonal, the same length whatever the gradient. Then step through t at α = 0.05: the sign of P·g flips "
    + "from step to step while its size stays 1.");

  w.onUpdate(() => {
    const r = rmspropSign({ alpha: alpha.value });
    root.oeWidget.result = r; // for the tests
    const t = Math.min(step.value, r.steps);
    const k = t - 1;
    const pts = pairs(r.walk.points, r.steps + 1);
    const ink = themeColor("#222222");
    walkPlot.render({
      x: { min: -2, max: 1.6, label: "x" },
      y: { min: -0.4, max: 3, label: "y" },
      equal: true,
      legend: [{ label: `RMSprop, α = ${sig(alpha.value, 3)}`, color: X_COLOR }, { label: "−P·g (every 5th step)", color: ink, width: 1.4 }],
      draw(ctx, X, Y, th) {
        contoursOnce(walkPlot, ctx, "banana", (x, y) => (1 - x) ** 2 + 100 * (y - x * x) ** 2, geometricLevels(0.05, 2000, 14), X, Y, { color: th.muted });
        walkPlot.path(ctx, pts, X, Y, { color: X_COLOR, width: 1.8 });
        for (let i = 0; i < r.steps; i += ARROW_EVERY) {
          const [px, py] = pts[i];
          arrow(ctx, px, py, px - ARROW_SCALE * r.pg[2 * i], py - ARROW_SCALE * r.pg[2 * i + 1], X, Y, { color: ink });
        }
        const [qx, qy] = pts[k];
        arrow(ctx, qx, qy, qx - ARROW_SCALE * r.pg[2 * k], qy - ARROW_SCALE * r.pg[2 * k + 1], X, Y, { color: "#D55E00", width: 2.4, head: 7 });
        walkPlot.marker(ctx, qx, qy, X, Y, { color: "#D55E00", shape: "o", size: 5 });
        walkPlot.marker(ctx, 1, 1, X, Y, { color: th.fg, shape: "x", size: 6 });
      },
    });
    pgPlot.render({
      x: { min: 1, max: STEPS, label: "step t" },
      y: { min: PG_RANGE[0], max: PG_RANGE[1], log: true, label: "|P·g|" },
      legend: [{ label: "x coordinate", color: X_COLOR }, { label: "y coordinate", color: Y_COLOR, dash: [5, 3] }],
      draw(ctx, X, Y, th) {
        hline(ctx, 1, Y, pgPlot.area, th.fg, "|sign(g)| = 1");
        for (const [i, color, dash] of [[0, X_COLOR, []], [1, Y_COLOR, [5, 3]]]) {
          const series = [];
          for (let j = 0; j < r.steps; j++) series.push([j + 1, Math.min(PG_RANGE[1], Math.max(PG_RANGE[0], Math.abs(r.pg[2 * j + i])))]);
          pgPlot.path(ctx, series, X, Y, { color, dash, width: 1.6, end: false });
        }
        vline(ctx, t, X, pgPlot.area, th.fg);
      },
    });
    const g = [r.grads[2 * k], r.grads[2 * k + 1]];
    const P = [r.preconditioners[2 * k], r.preconditioners[2 * k + 1]];
    const pg = [r.pg[2 * k], r.pg[2 * k + 1]];
    const pair = (v) => `(${sig(v[0])}, ${sig(v[1])})`;
    out.set([
      [`gradient g at step ${t}`, pair(g), "g"],
      ["P = 1/(√v + ε)", pair(P), "P"],
      ["P·g", pair(pg), "pg"],
      ["|P·g| per coordinate (sign descent: 1, 1)", pair(pg.map(Math.abs)), "pg-size"],
      [`steps with |P·g| within 1 % of 1 (x, y), of ${r.steps}`, `${pct(r.nearSign[0])}, ${pct(r.nearSign[1])}`, "near-sign"],
      ["steps where the sign of P·g flipped (x, y)", `${pct(r.flips[0])}, ${pct(r.flips[1])}`, "flips"],
    ]);
    w.say(`α = ${sig(alpha.value, 3)}, step ${t}: |P·g| = ${pair(pg.map(Math.abs))} while |g| = ${pair(g.map(Math.abs))}; `
      + `over the ${r.steps} steps ${pct(r.nearSign[0])} (x) and ${pct(r.nearSign[1])} (y) of the |P·g| are within 1 % of 1, the size of sign(g).`);
  });
  w.start();
}
