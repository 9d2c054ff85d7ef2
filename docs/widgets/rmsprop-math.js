// The numbers behind the RMSprop page's live figure (docs/widgets/rmsprop-sign.js): an RMSprop walk
// on the banana with the playground's update rule (docs/playground/optimizers.js, op for op torch's),
// and, at every step t, the preconditioned gradient P_t·g_t per coordinate. As α → 0, v_t → g_t², so
// P_t·g_t = g_t/(√v_t + ε) → g_t/|g_t| = sign(g_t): |P·g| = 1 in every coordinate, whatever |g|.
// Pure functions (no DOM), tested in node against optimessay (tests/js/widgets-rmsprop-adam-adagrad.test.mjs).

import { rosenbrock } from "../playground/landscapes.js";
import { run } from "../playground/trajectory.js";

/** The setting of the seed's alpha sweep (the page's table and figure): lr, momentum, steps, start. */
export const RMSPROP_SIGN_DEFAULTS = { alpha: 0.9, lr: 0.01, momentum: 0.9, steps: 100, start: [-1.5, 2.5] };

function need(ok, message) {
  if (!ok) throw new RangeError(message);
}

/**
 * RMSprop on the banana; returns the walk (trajectory.js's run) plus, per step t = 1..steps (index
 * t − 1), the gradient g_t (at the point before the step), P_t and P_t·g_t, each interleaved (x, y),
 * and summaries: `nearSign[i]`, the fraction of steps whose |P·g| in coordinate i is within 1 % of 1;
 * `flips[i]`, the fraction of steps t ≥ 2 where sign(P·g)_i differs from step t − 1's.
 */
export function rmspropSign(options = {}) {
  const s = { ...RMSPROP_SIGN_DEFAULTS, ...options };
  need(typeof s.alpha === "number" && s.alpha >= 0 && s.alpha < 1, `alpha=${s.alpha}: expected a number in [0, 1)`);
  const land = rosenbrock();
  const walk = run(land, "rmsprop", { lr: s.lr, alpha: s.alpha, momentum: s.momentum }, { start: s.start, steps: s.steps });
  const n = walk.divergedAt === null ? s.steps : walk.divergedAt;
  const grads = new Float64Array(2 * n);
  const pg = new Float64Array(2 * n);
  const g = new Float64Array(2);
  const near = [0, 0];
  const flips = [0, 0];
  for (let k = 0; k < n; k++) {
    land.grad(walk.points[2 * k], walk.points[2 * k + 1], g);
    for (let i = 0; i < 2; i++) {
      grads[2 * k + i] = g[i];
      pg[2 * k + i] = walk.preconditioners[2 * k + i] * g[i]; // P_t·g_t, as optimessay's preconditioner(p) * g
      if (Math.abs(Math.abs(pg[2 * k + i]) - 1) <= 0.01) near[i] += 1;
      if (k > 0 && Math.sign(pg[2 * k + i]) !== Math.sign(pg[2 * (k - 1) + i])) flips[i] += 1;
    }
  }
  return {
    settings: s,
    walk,
    steps: n,
    grads,
    preconditioners: walk.preconditioners.subarray(0, 2 * n),
    pg,
    nearSign: near.map((c) => (n > 0 ? c / n : NaN)),
    flips: flips.map((c) => (n > 1 ? c / (n - 1) : NaN)),
  };
}
