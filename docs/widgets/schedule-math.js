// The arithmetic of the schedule widget (docs/schedules.md): the page's schedules as the playground's
// schedulers (docs/playground/schedulers.js, torch's chainable formulas), the lr of every step, and
// the walk each one drives. Pure functions, no DOM; tests/js/widgets-momentum-landscapes-schedules.test.mjs checks the lrs and
// the walks against optimessay.schedulers and optimessay.trajectory.run.

import { createScheduler } from "../playground/schedulers.js";
import { run } from "../playground/trajectory.js";

/**
 * The schedules the widget offers, over a run of `steps` steps: [key, label, scheduler kind, params].
 * The seed's three are the page's settings (scripts/figures/schedules.py, _schedule); warmup then
 * cosine is LinearLR(start_factor 0.1) for a tenth of the run, then CosineAnnealingLR to 0.
 */
export function schedules(steps) {
  const warmup = Math.max(1, Math.floor(steps / 10));
  return [
    ["constant", "constant lr", "none", {}],
    ["exponential", "ExponentialLR(gamma=0.99)", "exponential", { gamma: 0.99 }],
    ["step", "StepLR(step_size=4, gamma=0.99)", "step", { step_size: 4, gamma: 0.99 }],
    ["multistep", "MultiStepLR([20, 40, 50, 70], gamma=0.9)", "multistep", { milestones: [20, 40, 50, 70], gamma: 0.9 }],
    ["cosine", `CosineAnnealingLR(T_max=${steps})`, "cosine", { T_max: steps, eta_min: 0 }],
    ["warmup", `LinearLR(start_factor=0.1, total_iters=${warmup})`, "warmup", { start_factor: 0.1, end_factor: 1, total_iters: warmup }],
    ["warmup-cosine", `LinearLR → CosineAnnealingLR (warmup ${warmup})`, "warmup-cosine",
      { start_factor: 0.1, warmup, T_max: steps - warmup, eta_min: 0 }],
  ];
}

/** The schedule `key` of schedules(steps), or a RangeError naming the keys. */
export function schedule(key, steps) {
  const all = schedules(steps);
  const found = all.find((s) => s[0] === key);
  if (!found) throw new RangeError(`unknown schedule ${JSON.stringify(key)}: expected one of ${all.map((s) => s[0]).join(", ")}`);
  return found;
}

/**
 * The lr after t scheduler steps, for t = 0 .. count − 1 (index t: the lr optimizer step t + 1 uses),
 * from base lr `lr`, for the schedule `key` of a run of `steps` steps (count defaults to steps).
 */
export function lrSequence(key, lr, steps, count = steps) {
  const [, , kind, params] = schedule(key, steps);
  const s = createScheduler(kind, params, lr);
  const out = new Float64Array(count);
  for (let t = 0; t < count; t++) {
    out[t] = s.lr;
    s.step();
  }
  return out;
}

/** The walk of SGD(lr, momentum) from `start` on `landscape` under schedule `key` (trajectory.js's run). */
export function scheduledWalk(landscape, key, { lr, momentum, start, steps }) {
  const [, , kind, params] = schedule(key, steps);
  return run(landscape, "sgd", { lr, momentum }, { start, steps, scheduler: kind, schedulerParams: params });
}
