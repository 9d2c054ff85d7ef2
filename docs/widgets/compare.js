// Comparing page, under the protocol: pick an optimizer, a race and a tolerance, and see the score of
// every learning rate the protocol runs (docs/widgets/compare-math.js: protocol.tune_landscape in JS,
// equal to the package's medians): the five starts' scores as dots, their median as the line, lrs at
// which any start diverged as crosses, the winner ringed. A score up to the budget is a number of
// steps; above it, the run did not get there and ranks by how close it ended.

import { makeWidget, sig, themeColor } from "./kit.js";
import { CONTESTANTS, RACES, tune } from "./compare-math.js";

const TOLERANCES = [["1e-6", "10⁻⁶ (the races')"], ["0.001", "10⁻³"], ["0.01", "10⁻²"]];

const scoreText = (score, steps) => (!Number.isFinite(score) ? "diverged"
  : score <= steps ? `${sig(score)} steps` : `did not arrive (score ${sig(score)})`);

export function mount(root) {
  const w = makeWidget(root, { id: "compare", title: "Live: the tuning protocol, every learning rate it tries" });
  const opt = w.select("optimizer", "optimizer", Object.entries(CONTESTANTS).map(([k, c]) => [k, c.name]), "adam");
  const race = w.select("race", "race", Object.entries(RACES).map(([k, r]) => [k, r.name]), "banana");
  const tol = w.select("tol", "tolerance (× the start gap)", TOLERANCES, "1e-6");
  const plot = w.plot({ aspect: 0.55, maxHeight: 320, minHeight: 220, label: "Score against learning rate, log scale: the five starts as dots, their median as a line, diverged learning rates as crosses, the winner ringed" });
  const out = w.readout({ label: "The protocol's choice" });
  w.caption("A score above the budget means the run did not get there; it is then budget + 1 + log₁₀(final gap / tol), "
    + "so a run that ended closer ranks better. What to try: switch the race and watch the winner move. On the banana, SGD's and momentum's winners "
    + "sit right next to the first cross: the largest lr from which no start diverges. On the quadratic the winners arrive "
    + "within the budget; loosen the tolerance to 10⁻² and the counts drop, and most winners move to a smaller lr.");

  const cache = new Map(); // one protocol run per (optimizer, race, tolerance): ~100 ms the first time
  w.onUpdate(() => {
    const c = CONTESTANTS[opt.value];
    const key = `${opt.value}|${race.value}|${tol.value}`;
    if (!cache.has(key)) cache.set(key, tune(opt.value, race.value, Number(tol.value)));
    const t = cache.get(key);
    root.oeWidget.result = t; // for the tests
    const steps = t.steps;
    const finite = t.table.flatMap((x) => x.scores).filter(Number.isFinite);
    // the y range fits the finite scores (and the budget line when it is near them)
    let yLo = Math.min(...finite);
    let yHi = Math.max(...finite);
    if (yLo > steps) yLo = steps;
    if (yHi < steps && yHi > 0.5 * steps) yHi = steps;
    const pad = Math.max(1, 0.08 * (yHi - yLo));
    const yMin = Math.max(0, yLo - pad);
    const yMax = yHi + 1.6 * pad;
    const lrMin = t.table[0].lr / 1.6;
    const lrMax = t.table[t.table.length - 1].lr * 1.6;
    const color = themeColor(c.kind === "sgd" ? opt.value : c.kind);
    const diverged = t.table.filter((x) => !Number.isFinite(x.median));
    plot.render({
      x: { min: lrMin, max: lrMax, log: true, label: "learning rate (log scale)" },
      y: { min: yMin, max: yMax, label: "score: steps to tolerance" },
      legend: [
        { label: "median of 5 starts", color },
        { label: `budget ${steps} (above: did not arrive)`, color: "#888888", width: 1, dash: [4, 4] },
      ],
      draw(ctx, X, Y, th) {
        ctx.setLineDash([4, 4]);
        ctx.strokeStyle = "#888888";
        ctx.lineWidth = 1;
        ctx.beginPath();
        ctx.moveTo(X(lrMin), Y(steps));
        ctx.lineTo(X(lrMax), Y(steps));
        ctx.stroke();
        ctx.setLineDash([]);
        ctx.globalAlpha = 0.45;
        ctx.fillStyle = color;
        for (const x of t.table) {
          for (const s of x.scores) {
            if (!Number.isFinite(s)) continue;
            ctx.beginPath();
            ctx.arc(X(x.lr), Y(s), 2.2, 0, 2 * Math.PI);
            ctx.fill();
          }
        }
        ctx.globalAlpha = 1;
        // the median line, broken where an lr diverged
        let run = [];
        const flush = () => {
          if (run.length) plot.path(ctx, run, X, Y, { color, width: 2, dots: true, end: false });
          run = [];
        };
        for (const x of t.table) {
          if (Number.isFinite(x.median)) run.push([x.lr, x.median]);
          else flush();
        }
        flush();
        for (const x of diverged) plot.marker(ctx, x.lr, yMax - 0.5 * pad, X, Y, { color: th.fg, shape: "x", size: 4, width: 1.5 });
        if (Number.isFinite(t.score)) plot.marker(ctx, t.lr, t.score, X, Y, { color: th.fg, shape: "o", size: 7, width: 2 });
      },
    });
    const arrived = t.score <= steps;
    const margin = arrived ? 0.1 * t.score : 1; // 10% more steps, or a final gap up to 10× the best's
    const within = t.table.filter((x) => x.median <= t.score + margin);
    const grid = `${sig(t.table[0].lr)} to ${sig(t.table[t.table.length - 1].lr)}`
      + (t.extended[0] || t.extended[1] ? ` (grown ${t.extended[0]} decade(s) below, ${t.extended[1]} above)` : "");
    out.set([
      ["tuned lr", Number.isFinite(t.score) ? sig(t.lr) + (t.onEdge ? " (on the grid's edge)" : "") : "none: every lr diverged", "lr"],
      ["its median score", scoreText(t.score, steps), "score"],
      ["lrs run", `${t.table.length}: ${grid}`, "grid"],
      [arrived ? "lrs within 10% of the best's steps" : "lrs ending within 10× the best's gap", within.length ? `${sig(within[0].lr)} to ${sig(within[within.length - 1].lr)}` : "none", "within"],
      ["lrs at which a start diverged", diverged.length ? `${diverged.length}, from ${sig(diverged[0].lr)}` : "none", "diverged"],
    ]);
    w.say(`${c.name} on the ${RACES[race.value].name}, tolerance ${tol.value}: the protocol picks lr ${sig(t.lr)}, `
      + `median score ${scoreText(t.score, steps)}; ${diverged.length} of ${t.table.length} lrs diverged from some start.`);
  });
  w.start();
}
