// Pitfalls page's live figure: SGD on the banana with and without `zero_grad()`. backward() adds to
// `.grad`, so without zero_grad the optimizer at step t sees the sum of every gradient so far. The
// update rule is the playground's (docs/playground/optimizers.js: torch's SGD, JS = Python bit for
// bit); the accumulation is autograd's `.grad += new gradient`.

import { rosenbrock } from "../playground/landscapes.js";
import { createOptimizer } from "../playground/optimizers.js";

/**
 * `steps` SGD steps on the banana from its start with lr and momentum, calling zero_grad() before
 * every backward pass (`zeroGrad` true) or never (false). Returns the points (steps + 1, until the
 * walk stops), the losses, the size |.grad| the optimizer saw at each step, and `divergedAt`: the
 * first step whose loss or gradient is not finite (the walk stops there, like trajectory.run), or null.
 */
export function walk(lr, momentum, zeroGrad, steps) {
  if (!(Number.isInteger(steps) && steps >= 0)) throw new RangeError(`steps=${steps}: expected a whole number >= 0`);
  const land = rosenbrock();
  const opt = createOptimizer("sgd", { lr, momentum });
  const p = Float64Array.from(land.start);
  const grad = new Float64Array(2); // p.grad
  const fresh = new Float64Array(2);
  const points = [[p[0], p[1]]];
  const losses = [];
  const gradNorms = [];
  let divergedAt = null;
  for (let t = 0; t <= steps; t++) {
    const loss = land.value(p[0], p[1]);
    land.grad(p[0], p[1], fresh);
    if (zeroGrad) {
      grad[0] = fresh[0];
      grad[1] = fresh[1];
    } else {
      grad[0] += fresh[0]; // backward() accumulates into .grad
      grad[1] += fresh[1];
    }
    losses.push(loss);
    if (!(Number.isFinite(loss) && Number.isFinite(grad[0]) && Number.isFinite(grad[1]))) {
      divergedAt = t;
      break;
    }
    if (t === steps) break;
    gradNorms.push(Math.hypot(grad[0], grad[1]));
    opt.step(p, grad, lr);
    points.push([p[0], p[1]]);
  }
  return { points, losses, gradNorms, divergedAt, land };
}
