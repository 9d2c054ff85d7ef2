// One walk of one optimizer over a landscape, as optimessay.trajectory.run does it:
//   for each step: g = ∇f(θ); optimizer step with the scheduler's current lr; scheduler step.
// Results live in typed arrays (float64): no allocation per step, so six optimizers x 500 steps
// recompute well within one animation frame.

import { createOptimizer } from "./optimizers.js";
import { createScheduler } from "./schedulers.js";

/**
 * @param {object} landscape  from landscapes.js (value, grad)
 * @param {string} kind  "sgd" | "rmsprop" | "adam" | "adamw" | "adagrad" | "nadam" | "radam" | "adamax" | "adadelta" | "rprop" | "asgd" | "adafactor"
 * @param {object} hyperparameters  e.g. {lr: 1e-3, momentum: 0.98}
 * @param {{start: number[], steps: number, scheduler?: string, schedulerParams?: object}} options
 * @returns {{points: Float64Array, losses: Float64Array, lrs: Float64Array, preconditioners: Float64Array,
 *   steps: number, divergedAt: number | null}}
 *   points (steps+1)·2 (x, y interleaved), losses steps+1, lrs steps, preconditioners steps·2.
 *   A walk whose loss or gradient stops being finite at step t stops there: later points and losses
 *   repeat those of step t, later lrs and preconditioners are NaN, and divergedAt = t.
 */
export function run(landscape, kind, hyperparameters, { start, steps, scheduler = "none", schedulerParams = {} }) {
  if (!Number.isInteger(steps) || steps < 0) throw new RangeError(`steps=${steps}: expected a whole number >= 0`);
  const opt = createOptimizer(kind, hyperparameters);
  const lr0 = opt.hyperparameters.lr;
  const sched = createScheduler(scheduler, schedulerParams, lr0);
  const points = new Float64Array(2 * (steps + 1)).fill(NaN);
  const losses = new Float64Array(steps + 1).fill(NaN);
  const lrs = new Float64Array(steps).fill(NaN);
  const preconditioners = new Float64Array(2 * steps).fill(NaN);
  const p = Float64Array.of(start[0], start[1]);
  const g = new Float64Array(2);
  let divergedAt = null;
  for (let k = 0; k < steps; k++) {
    points[2 * k] = p[0];
    points[2 * k + 1] = p[1];
    const loss = landscape.value(p[0], p[1]);
    landscape.grad(p[0], p[1], g);
    losses[k] = loss;
    if (!(Number.isFinite(loss) && Number.isFinite(g[0]) && Number.isFinite(g[1]))) {
      // diverged: the walk stays where it is (optimessay.trajectory's rule)
      divergedAt = k;
      for (let j = k + 1; j <= steps; j++) {
        points[2 * j] = p[0];
        points[2 * j + 1] = p[1];
        losses[j] = loss;
      }
      break;
    }
    const lr = sched.lr;
    lrs[k] = lr;
    opt.step(p, g, lr);
    preconditioners[2 * k] = opt.precond[0];
    preconditioners[2 * k + 1] = opt.precond[1];
    sched.step();
  }
  if (divergedAt === null) {
    points[2 * steps] = p[0];
    points[2 * steps + 1] = p[1];
    losses[steps] = landscape.value(p[0], p[1]);
  }
  return { points, losses, lrs, preconditioners, steps, divergedAt };
}
