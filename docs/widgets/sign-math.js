// Sign and max-norm page's live figure: Adam's (or Adamax's) step per coordinate, divided by the
// learning rate, on a fixed sequence of gradients whose two coordinates differ in size by a factor
// 10⁵. With betas (0, 0) and eps 0 every such step is ±1: sign descent. The update rules are the
// playground's (docs/playground/optimizers.js, JS = torch bit for bit), used read-only.

import { createOptimizer } from "../playground/optimizers.js";

export const STEPS = 40;
/** The two coordinates' gradient scales: 10⁵ apart. */
export const SCALES = Object.freeze([1e-3, 100]);

/**
 * Gradient t (t = 1 … STEPS) of the fixed sequence, times the loss scale c: each coordinate is its
 * scale times a slowly drifting wave that changes sign now and then (so sign(g) is not constant).
 */
export function gradient(t, c = 1) {
  return Float64Array.of(c * SCALES[0] * (0.35 + Math.sin(0.45 * t)), c * SCALES[1] * (Math.cos(0.23 * t + 0.4) - 0.2));
}

/**
 * Run `kind` ("adam" or "adamax") on the sequence with `hp` (beta1, beta2, eps) at lr 2⁻⁷ (a power
 * of two: the step divided by lr is exact) and loss scale c. Returns per step t: the gradient, the
 * step Δθ/lr per coordinate and P (the optimizer's preconditioner), plus
 * `maxSignGap` = max over steps and coordinates of |Δθ/lr − (−sign g)|.
 */
export function run(kind, hp, c = 1, steps = STEPS) {
  if (kind !== "adam" && kind !== "adamax") throw new RangeError(`kind=${JSON.stringify(kind)}: expected "adam" or "adamax"`);
  if (!(Number.isFinite(c) && c > 0)) throw new RangeError(`loss scale c=${c}: expected a positive number`);
  const lr = 2 ** -7;
  const opt = createOptimizer(kind, { lr, ...hp });
  const p = new Float64Array(2);
  const grads = [];
  const moves = [];
  const precond = [];
  let maxSignGap = 0;
  for (let t = 1; t <= steps; t++) {
    const g = gradient(t, c);
    const before = Float64Array.from(p);
    opt.step(p, g, lr);
    const move = [(p[0] - before[0]) / lr, (p[1] - before[1]) / lr];
    for (let i = 0; i < 2; i++) maxSignGap = Math.max(maxSignGap, Math.abs(move[i] + Math.sign(g[i])));
    grads.push([g[0], g[1]]);
    moves.push(move);
    precond.push([opt.precond[0], opt.precond[1]]);
  }
  return { lr, grads, moves, precond, maxSignGap, final: [p[0], p[1]] };
}
