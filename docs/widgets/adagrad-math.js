// The numbers behind the Adagrad page's live figure (docs/widgets/adagrad-shrink.js): an Adagrad walk
// on the banana with the playground's update rule (docs/playground/optimizers.js, op for op torch's),
// its preconditioner P_t = 1/(√G_t + ε) per coordinate and its step length |θ_t − θ_{t−1}| at each
// step. G_t = G_{t−1} + g_t² never decreases, so P never grows. Pure functions, tested in node
// against optimessay (tests/js/widgets-rmsprop-adam-adagrad.test.mjs).

import { rosenbrock } from "../playground/landscapes.js";
import { run } from "../playground/trajectory.js";

/** The setting of the page's adagrad-shrinking figure: lr, steps, start. */
export const ADAGRAD_SHRINK_DEFAULTS = { lr: 0.5, steps: 300, start: [-1.5, 2.5] };

/**
 * Adagrad on the banana: the walk (trajectory.js's run), per step t = 1..steps (index t − 1) the step
 * length |θ_t − θ_{t−1}|, and `grew[i]`: on how many steps P in coordinate i was larger than on the
 * step before (always 0: the claim).
 */
export function adagradShrink({ lr = ADAGRAD_SHRINK_DEFAULTS.lr, steps = ADAGRAD_SHRINK_DEFAULTS.steps,
  start = ADAGRAD_SHRINK_DEFAULTS.start } = {}) {
  const land = rosenbrock();
  const walk = run(land, "adagrad", { lr }, { start, steps });
  const n = walk.divergedAt === null ? steps : walk.divergedAt;
  const lengths = new Float64Array(n);
  const grew = [0, 0];
  const P = walk.preconditioners;
  for (let k = 0; k < n; k++) {
    lengths[k] = Math.hypot(walk.points[2 * k + 2] - walk.points[2 * k], walk.points[2 * k + 3] - walk.points[2 * k + 1]);
    for (let i = 0; i < 2; i++) if (k > 0 && P[2 * k + i] > P[2 * (k - 1) + i]) grew[i] += 1;
  }
  return { settings: { lr, steps, start }, walk, steps: n, preconditioners: P.subarray(0, 2 * n), lengths, grew, landscape: land };
}
