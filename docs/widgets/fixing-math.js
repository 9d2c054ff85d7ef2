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

/** RAdam's ρ_∞ = 2/(1−β₂) − 1 and ρ_t = ρ_∞ − 2tβ₂ᵗ/(1−β₂ᵗ) (as radam.py computes them). */
export function rho(t, beta2) {
  const rhoInf = 2 / (1 - beta2) - 1;
  const b2t = beta2 ** t;
  return { rhoInf, rhoT: rhoInf - (2 * t * b2t) / (1 - b2t) };
}

/** The steps at which the RAdam figure records: 1 … 10 every step, then about 40 per decade up to `last`. */
export function radamSteps(last) {
  const out = [];
  for (let t = 1; t <= last; t = t < 10 ? t + 1 : Math.max(t + 1, Math.round(t * 10 ** (1 / 40)))) out.push(t);
  if (out[out.length - 1] !== last) out.push(last);
  return out;
}

/**
 * Adam and RAdam (lr 1e-3, β₁ 0.9, the given β₂, ε 1e-8) on a constant gradient g for `last` steps:
 * per step t, the step length |Δθ| of each, RAdam's P and ρ_t. `switchStep` is RAdam's first step with
 * ρ_t > 5 (its first adaptive step; before it P = 1: momentum SGD, whose step scales with g).
 */
export function radamRun(g, beta2, last = 10000) {
  if (!(Number.isFinite(g) && g > 0)) throw new RangeError(`g=${g}: expected a positive number`);
  if (!(Number.isInteger(last) && last >= 1)) throw new RangeError(`last=${last}: expected a whole number >= 1`);
  const lr = 1e-3;
  const adam = createOptimizer("adam", { lr, beta2 });
  const radam = createOptimizer("radam", { lr, beta2 });
  const pa = new Float64Array(2);
  const pr = new Float64Array(2);
  const grad = Float64Array.of(g, g);
  const adamStep = [];
  const radamStep = [];
  const radamP = [];
  const rhoT = [];
  let switchStep = null;
  for (let t = 1; t <= last; t++) {
    const a0 = pa[0];
    const r0 = pr[0];
    adam.step(pa, grad, lr);
    radam.step(pr, grad, lr);
    adamStep.push(Math.abs(pa[0] - a0));
    radamStep.push(Math.abs(pr[0] - r0));
    radamP.push(radam.precond[0]);
    const r = rho(t, beta2).rhoT;
    rhoT.push(r);
    if (switchStep === null && r > 5) switchStep = t;
  }
  return { adamStep, radamStep, radamP, rhoT, switchStep, rhoInf: rho(1, beta2).rhoInf };
}
