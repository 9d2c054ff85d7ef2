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
 * Adam's and RAdam's step at step t (lr 1e-3, β₁ 0.9, the given β₂, ε 1e-8) on a constant gradient g:
 * {adam, radam} step lengths, RAdam's P and ρ_t. On a constant gradient the moving averages have
 * closed forms, m_t = g(1 − β₁ᵗ) and v_t = g²(1 − β₂ᵗ), so any step can be computed on its own
 * (10⁴ steps of the playground's rules, with their exact fused multiply-adds, cost ~60 ms per slider
 * move). tests/js checks these against optimessay.Adam and RAdam stepping for real, to 1e-9.
 */
export function radamAt(g, beta2, t, { beta1 = 0.9, lr = 1e-3, eps = 1e-8 } = {}) {
  const bc1 = 1 - beta1 ** t;
  const b2t = beta2 ** t;
  const bc2 = 1 - b2t;
  const rhoInf = 2 / (1 - beta2) - 1;
  const rhoT = rhoInf - (2 * t * b2t) / bc2; // ρ_t = ρ_∞ − 2tβ₂ᵗ/(1−β₂ᵗ)
  const mHat = (g * bc1) / bc1; // m̂ = m_t / (1 − β₁ᵗ), m_t = g(1 − β₁ᵗ)
  const root = g * Math.sqrt(bc2); // √v_t, v_t = g²(1 − β₂ᵗ)
  const adam = (lr * mHat) / (root / Math.sqrt(bc2) + eps); // lr·m̂/(√v̂ + ε)
  if (!(rhoT > 5)) return { adam, radam: lr * mHat, P: 1, rhoT }; // momentum SGD: P = 1
  const rect = Math.sqrt(((rhoT - 4) * (rhoT - 2) * rhoInf) / ((rhoInf - 4) * (rhoInf - 2) * rhoT)); // r_t
  const P = (Math.sqrt(bc2) / (root + eps)) * rect; // √(1−β₂ᵗ)·r_t/(√v + ε)
  return { adam, radam: lr * P * mHat, P, rhoT };
}

/**
 * radamAt at every step 1 … last (or at the given `steps`), with `switchStep`: RAdam's first step with
 * ρ_t > 5 (its first adaptive step; before it P = 1, momentum SGD, whose step scales with g).
 */
export function radamRun(g, beta2, last = 10000, steps = null) {
  if (!(Number.isFinite(g) && g > 0)) throw new RangeError(`g=${g}: expected a positive number`);
  if (!(Number.isInteger(last) && last >= 1)) throw new RangeError(`last=${last}: expected a whole number >= 1`);
  if (!(beta2 > 0 && beta2 < 1)) throw new RangeError(`beta2=${beta2}: expected a number in (0, 1)`);
  const ts = steps ?? Array.from({ length: last }, (_, i) => i + 1);
  const at = ts.map((t) => radamAt(g, beta2, t));
  let switchStep = 1;
  while (!(rho(switchStep, beta2).rhoT > 5) && switchStep < last) switchStep += 1;
  return {
    steps: ts,
    adamStep: at.map((x) => x.adam),
    radamStep: at.map((x) => x.radam),
    radamP: at.map((x) => x.P),
    rhoT: at.map((x) => x.rhoT),
    switchStep,
    rhoInf: rho(1, beta2).rhoInf,
  };
}
