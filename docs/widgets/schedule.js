// Schedules page, under "decaying η mainly changes where in the swing the run stops": pick a schedule
// and a base lr; the figure shows lr(t) and the walk it drives (SGD with momentum 0.98 on the banana,
// the seed's run, 100 steps), beside the constant-lr walk; a step slider moves a marker along both and
// the readout gives the lr at that step (after t scheduler steps: the lr step t + 1 uses), the point,
// the loss and Σ lr so far. Schedulers: docs/playground/schedulers.js (torch's chainable formulas,
// equal to optimessay.schedulers), through schedule-math.js.

import { makeWidget, sig, themeColor } from "./kit.js";
import { cachedContours } from "./landscape-contours.js";
import { lrSequence, scheduledWalk, schedules } from "./schedule-math.js";
import { rosenbrock } from "../playground/landscapes.js";

export const STEPS = 100;
export const MOMENTUM = 0.98;
export const START = [-1.5, 2.5];

/** Everything the widget shows for one setting (pure; the browser tests read it). */
export function compute(key, lr, t) {
  const land = rosenbrock();
  const run = { lr, momentum: MOMENTUM, start: START, steps: STEPS };
  const walk = scheduledWalk(land, key, run);
  const flat = scheduledWalk(land, "constant", run);
  const lrs = lrSequence(key, lr, STEPS, STEPS + 1); // after 0..STEPS scheduler steps
  let sum = 0;
  for (let i = 0; i < t; i++) sum += lrs[i];
  const at = (w, k) => [w.points[2 * k], w.points[2 * k + 1]];
  return { land, walk, flat, lrs, lrAt: lrs[t], lrSum: sum, point: at(walk, t), loss: walk.losses[t], flatPoint: at(flat, t) };
}

export function mount(root) {
  const w = makeWidget(root, { id: "schedule", title: "Live: a schedule's lr(t) and the walk it drives" });
  const options = schedules(STEPS).map(([key, label]) => [key, label]);
  const which = w.select("schedule", "schedule", options, "cosine");
  const lr = w.slider("lr", "base lr", { min: 1e-4, max: 2e-3, log: true, perDecade: 40, value: 1e-3 });
  const step = w.slider("t", "step t", { min: 0, max: STEPS, step: 1, integer: true, value: STEPS });
  const curve = w.plot({ aspect: 0.45, maxHeight: 230, minHeight: 170, label: "The learning rate against the step, the chosen schedule and the constant lr" });
  const paths = w.plot({ aspect: 0.8, maxHeight: 400, label: "The banana's contours with the walk under the schedule and the constant-lr walk, marked at step t" });
  const out = w.readout({ label: "The lr at step t and where the walk is" });
  w.caption(`The walks: SGD with momentum ${MOMENTUM} on the banana from (−1.5, 2.5), ${STEPS} steps, the seed's run. `
    + "What to try: move t back and forth with the constant lr and with cosine annealing: the walks share their first steps and part where the lr does. "
    + "StepLR(4, 0.99) and the seed's other two decay so gently that their walks stay close to the constant one; cosine and warmup reshape the whole run.");

  w.onUpdate(() => {
    const t = step.value;
    const r = compute(which.value, lr.value, t);
    root.oeWidget.result = r; // for the tests
    const color = themeColor("momentum");
    const flatColor = themeColor("sgd");
    const label = options.find(([k]) => k === which.value)[1];
    const top = Math.max(...r.lrs, lr.value) * 1.1;
    curve.render({
      x: { min: 0, max: STEPS, label: "step" },
      y: { min: 0, max: top, label: "lr" },
      legend: [{ label: "the chosen schedule", color }, { label: "constant lr", color: flatColor, dash: [6, 4] }],
      draw(ctx, X, Y, th) {
        curve.path(ctx, [[0, lr.value], [STEPS, lr.value]], X, Y, { color: flatColor, dash: [6, 4], width: 1.5, end: false });
        const pts = [];
        for (let i = 0; i <= STEPS; i++) {
          pts.push([i, r.lrs[i]]);
          if (i < STEPS) pts.push([i + 1, r.lrs[i]]); // a step function: lr is constant over a step
        }
        curve.path(ctx, pts, X, Y, { color, width: 2, end: false });
        ctx.strokeStyle = th.fg;
        ctx.lineWidth = 1;
        ctx.setLineDash([2, 3]);
        ctx.beginPath();
        ctx.moveTo(X(t), Y(0));
        ctx.lineTo(X(t), Y(top));
        ctx.stroke();
        ctx.setLineDash([]);
        ctx.fillStyle = color;
        ctx.beginPath();
        ctx.arc(X(t), Y(r.lrAt), 4.5, 0, 2 * Math.PI);
        ctx.fill();
      },
    });
    const f0 = r.land.value(START[0], START[1]);
    const levels = []; // even in log(f + 0.001), from the floor up to f at the start
    for (let i = 1; i <= 14; i++) levels.push(Math.log(1e-3) + (Math.log(f0 + 1e-3) - Math.log(1e-3)) * i / 15);
    paths.render({
      x: { min: -2, max: 2, label: "x" },
      y: { min: -1, max: 3, label: "y" },
      equal: true,
      legend: [{ label: "the chosen schedule", color }, { label: "constant lr", color: flatColor, dash: [6, 4] }],
      draw(ctx, X, Y, th) {
        cachedContours(paths, ctx, "banana", (x, y) => Math.log(r.land.value(x, y) + 1e-3), levels, X, Y, { n: 120, color: th.muted });
        paths.marker(ctx, 1, 1, X, Y, { color: th.fg, shape: "x", size: 6 });
        for (const [walk, c, dash, width] of [[r.flat, flatColor, [6, 4], 1.4], [r.walk, color, [], 2]]) {
          const pts = [];
          for (let i = 0; i <= t; i++) pts.push([walk.points[2 * i], walk.points[2 * i + 1]]);
          paths.path(ctx, pts, X, Y, { color: c, dash, width });
        }
        paths.marker(ctx, START[0], START[1], X, Y, { color: th.fg, shape: "o", size: 4 });
      },
    });
    const dist = Math.hypot(r.point[0] - 1, r.point[1] - 1);
    out.set([
      [`lr at step ${t} (after ${t} scheduler steps)`, sig(r.lrAt), "lr"],
      [`Σ lr over steps 1–${t}`, sig(r.lrSum), "lr-sum"],
      [`point after ${t} steps`, `(${sig(r.point[0])}, ${sig(r.point[1])})`, "point"],
      ["loss there", sig(r.loss), "loss"],
      ["distance to the minimum (1, 1)", sig(dist), "distance"],
      [`constant lr: point after ${t} steps`, `(${sig(r.flatPoint[0])}, ${sig(r.flatPoint[1])})`, "flat-point"],
    ]);
    w.say(`${label}, base lr ${sig(lr.value)}: at step ${t} the lr is ${sig(r.lrAt)}; the walk is at (${sig(r.point[0])}, ${sig(r.point[1])}) `
      + `with loss ${sig(r.loss)}, ${sig(dist)} from the minimum.`);
  });
  w.start();
}
