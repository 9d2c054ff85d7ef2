// Fixing Adam page's live figure: Adam's and AMSGrad's preconditioner P on a gradient that is 1 at
// every step except one rare large spike. Adam's v forgets the spike in about 1/(1−β₂) steps and P
// grows back; AMSGrad keeps the maximum of v, so its P stays down (and grows only through the bias
// correction 1/(1−β₂ᵗ), as torch computes it). The update rules are the playground's
// (docs/playground/optimizers.js, JS = torch bit for bit), used read-only.

import { createOptimizer } from "../playground/optimizers.js";

export const STEPS = 300;
export const SPIKE_STEP = 50;

/** The gradient at step t: 1, and `spike` at step SPIKE_STEP. */
export const gradient = (t, spike) => (t === SPIKE_STEP ? spike : 1);

/**
 * P per step (1 … steps) for Adam with `amsgrad` false and true, lr 1e-3, betas (beta1, beta2),
 * eps 1e-8 (torch's defaults but β₂), on the spiked gradient. Returns {adam, amsgrad} arrays of P
 * (P[t−1] is the P of step t) and the step lengths lr·P·m̂ ({adamStep, amsgradStep}).
 */
export function run(spike, beta2, { beta1 = 0.9, steps = STEPS } = {}) {
  if (!(Number.isFinite(spike) && spike > 0)) throw new RangeError(`spike=${spike}: expected a positive number`);
  const out = {};
  for (const amsgrad of [false, true]) {
    const lr = 1e-3;
    const opt = createOptimizer("adam", { lr, beta1, beta2, amsgrad });
    const p = new Float64Array(2);
    const P = [];
    const step = [];
    for (let t = 1; t <= steps; t++) {
      const g = gradient(t, spike);
      const before = p[0];
      opt.step(p, Float64Array.of(g, g), lr);
      P.push(opt.precond[0]);
      step.push(before - p[0]);
    }
    out[amsgrad ? "amsgrad" : "adam"] = P;
    out[amsgrad ? "amsgradStep" : "adamStep"] = step;
  }
  return out;
}
