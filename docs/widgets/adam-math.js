// The numbers behind the Adam page's live figures (docs/widgets/adam-bias.js, docs/widgets/adam-decay.js).
// Adam, Adam + L2 (torch's `weight_decay`: g ← g + λθ) and AdamW are the playground's update rules
// (docs/playground/optimizers.js, read-only). What the playground lacks lives here: Adam WITHOUT
// bias correction (θ ← θ − lr·m/(√v + ε) with the raw moments, each op as torch's Adam computes it)
// and the separable quadratic of the page's AdamW table. Pure functions, tested in node against
// optimessay and torch (tests/js/widgets-rmsprop-adam-adagrad.test.mjs).

import { fma, lerp } from "../playground/numerics.js";
import { quadratic } from "../playground/landscapes.js";
import { createOptimizer } from "../playground/optimizers.js";
import { createScheduler } from "../playground/schedulers.js";

function need(ok, message) {
  if (!ok) throw new RangeError(message);
}

/**
 * Adam without bias correction, the optimizer interface of optimizers.js (`step(p, g, lr)`, `precond`):
 * m ← β₁m + (1−β₁)g (torch's lerp), v ← β₂v + (1−β₂)g² (torch's addcmul), θ ← θ − lr·m/(√v + ε).
 * P = 1/(√v + ε) with the raw v, the gradient estimate the raw m.
 */
export function adamUncorrected({ beta1 = 0.9, beta2 = 0.999, eps = 1e-8 } = {}) {
  need(beta1 >= 0 && beta1 < 1 && beta2 >= 0 && beta2 < 1, `betas=(${beta1}, ${beta2}): expected numbers in [0, 1)`);
  const m = new Float64Array(2);
  const v = new Float64Array(2);
  const precond = Float64Array.of(1, 1);
  return {
    precond,
    step(p, grad, lr) {
      for (let i = 0; i < 2; i++) {
        const g = grad[i];
        m[i] = lerp(m[i], g, 1 - beta1); // m ← β₁·m + (1−β₁)·g
        v[i] = fma((1 - beta2) * g, g, v[i] * beta2); // v ← β₂·v + (1−β₂)·g²
        const denom = Math.sqrt(v[i]) + eps; // √v + ε, no 1 − β₂ᵗ
        precond[i] = 1 / denom;
        p[i] = p[i] + (-lr * m[i]) / denom; // θ ← θ − lr·m/(√v + ε), no 1 − β₁ᵗ
      }
    },
  };
}

/**
 * A walk of an optimizer object (optimizers.js's interface) over a landscape, as trajectory.js's run
 * (g = ∇f(θ); step with the scheduler's lr; scheduler step), without its divergence bookkeeping.
 * Returns points (steps+1)·2, preconditioners steps·2, lrs, step lengths |θ_t − θ_{t−1}| (`lengths`)
 * and the largest coordinate's move max_i |θ_t,i − θ_{t−1},i| (`coordSteps`).
 */
export function walk(landscape, opt, { start, steps, scheduler = "none", schedulerParams = {}, lr }) {
  const sched = createScheduler(scheduler, schedulerParams, lr);
  const points = new Float64Array(2 * (steps + 1));
  const preconditioners = new Float64Array(2 * steps);
  const lrs = new Float64Array(steps);
  const lengths = new Float64Array(steps);
  const coordSteps = new Float64Array(steps);
  const p = Float64Array.of(start[0], start[1]);
  const g = new Float64Array(2);
  points[0] = p[0];
  points[1] = p[1];
  for (let k = 0; k < steps; k++) {
    landscape.grad(p[0], p[1], g);
    lrs[k] = sched.lr;
    opt.step(p, g, sched.lr);
    sched.step();
    points[2 * k + 2] = p[0];
    points[2 * k + 3] = p[1];
    preconditioners[2 * k] = opt.precond[0];
    preconditioners[2 * k + 1] = opt.precond[1];
    const dx = Math.abs(p[0] - points[2 * k]);
    const dy = Math.abs(p[1] - points[2 * k + 1]);
    lengths[k] = Math.hypot(dx, dy);
    coordSteps[k] = Math.max(dx, dy);
  }
  return { points, preconditioners, lrs, lengths, coordSteps, steps };
}

// --- bias correction ----------------------------------------------------------------------------

/**
 * The bias-correction walk: the quadratic bowl of condition number 10, axis-aligned (playground's
 * `quadratic(10, 0)`), from its default start, where the gradient changes slowly over the first steps,
 * so the uncorrected step follows the constant-gradient formula of the page's table.
 */
export const ADAM_BIAS_DEFAULTS = { lr: 0.01, beta1: 0.9, beta2: 0.999, steps: 60, start: [-1.5, 1.0], kappa: 10 };

/** (1 − β₁ᵗ)/√(1 − β₂ᵗ): the uncorrected step over lr on a constant gradient (the page's table). */
export function constantGradientRatio(t, beta1, beta2) {
  return (1 - beta1 ** t) / Math.sqrt(1 - beta2 ** t);
}

/**
 * Adam on the quadratic (κ = 10) with and without bias correction, same lr and betas: `corrected` and
 * `uncorrected` walks (see `walk`); in each, `ratios` = the largest coordinate's move / lr (Adam's
 * corrected first step moves every coordinate by lr), `peak` its largest value and
 * `peakStep` where (t, from 1), and `finalLoss`.
 */
export function adamBias(options = {}) {
  const s = { ...ADAM_BIAS_DEFAULTS, ...options };
  const land = quadratic(s.kappa, 0);
  const out = { settings: s, landscape: land };
  const opts = {
    corrected: createOptimizer("adam", { lr: s.lr, beta1: s.beta1, beta2: s.beta2 }),
    uncorrected: adamUncorrected({ beta1: s.beta1, beta2: s.beta2 }),
  };
  for (const [name, opt] of Object.entries(opts)) {
    const w = walk(land, opt, { start: s.start, steps: s.steps, lr: s.lr });
    const ratios = w.coordSteps.map((l) => l / s.lr);
    let peakStep = 1;
    for (let k = 1; k < ratios.length; k++) if (ratios[k] > ratios[peakStep - 1]) peakStep = k + 1;
    out[name] = { ...w, ratios, peak: ratios[peakStep - 1], peakStep,
      finalLoss: land.value(w.points[2 * s.steps], w.points[2 * s.steps + 1]) };
  }
  return out;
}

// --- weight decay: Adam + L2 against AdamW ----------------------------------------------------------

/** f = Σᵢ cᵢ(θᵢ − θ*ᵢ)², the Adam page's example; its gradient as torch's autograd rounds it. */
export function separableQuadratic(c = [1, 10], center = [3, 2]) {
  return {
    name: "separable-quadratic",
    value: (x, y) => c[0] * (x - center[0]) ** 2 + c[1] * (y - center[1]) ** 2,
    grad(x, y, out) {
      out[0] = c[0] * (2 * (x - center[0]));
      out[1] = c[1] * (2 * (y - center[1]));
    },
    xRange: [-0.5, 3.5],
    yRange: [-0.5, 2.5],
    minima: [center],
    c,
    center,
  };
}

/** The setting of the page's AdamW table: lr cosine-annealed to 0 over `steps`, from the origin. */
export const ADAM_DECAY_DEFAULTS = { lambda: 0.5, lr: 0.05, steps: 4000, c: [1, 10], center: [3, 2], start: [0, 0] };

/**
 * Adam + L2 (coupled) and AdamW (decoupled) with the same λ on the separable quadratic: the walks,
 * where each ends, the L2 minimizer 2cᵢθ*ᵢ/(2cᵢ + λ), the box |θᵢ| ≤ 1/λ, and the decay each applies
 * per step, divided by the lr: AdamW shrinks θᵢ by lr·λ·θᵢ in every coordinate; Adam + L2 adds λθᵢ
 * to the gradient, which P then multiplies, so about lr·λ·Pᵢ·θᵢ (`coupledDecay`: λ·Pᵢ per step,
 * interleaved (x, y), P of the Adam + L2 run; `coupledDecayEnd`: at the last step).
 */
export function adamDecay(options = {}) {
  const s = { ...ADAM_DECAY_DEFAULTS, ...options };
  need(typeof s.lambda === "number" && s.lambda >= 0 && Number.isFinite(s.lambda), `lambda=${s.lambda}: expected a number >= 0`);
  const land = separableQuadratic(s.c, s.center);
  const common = { start: s.start, steps: s.steps, lr: s.lr, scheduler: "cosine", schedulerParams: { T_max: s.steps } };
  const coupled = walk(land, createOptimizer("adam", { lr: s.lr, weight_decay: s.lambda }), common);
  const decoupled = walk(land, createOptimizer("adamw", { lr: s.lr, weight_decay: s.lambda }), common);
  const coupledDecay = coupled.preconditioners.map((p) => s.lambda * p);
  const end = (w) => [w.points[2 * s.steps], w.points[2 * s.steps + 1]];
  return {
    settings: s,
    landscape: land,
    coupled,
    decoupled,
    coupledEnd: end(coupled),
    decoupledEnd: end(decoupled),
    l2Minimizer: s.c.map((c, i) => (2 * c * s.center[i]) / (2 * c + s.lambda)),
    box: s.lambda > 0 ? 1 / s.lambda : Infinity,
    coupledDecay,
    coupledDecayEnd: [coupledDecay[2 * s.steps - 2], coupledDecay[2 * s.steps - 1]],
    decoupledDecay: s.lambda,
  };
}
