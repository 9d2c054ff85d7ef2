// The update rules of SGD (+ momentum, Nesterov), RMSprop, Adam, AdamW, Adagrad, NAdam, RAdam,
// Adamax, Adadelta, Rprop, ASGD and Adafactor, op for op as
// torch.optim 2.13 (single-tensor path) and optimessay.optimizers compute them in float64, so the
// playground's trajectories equal the Python package's (tests/js/ checks every point to 1e-9).
//
// Every optimizer is a preconditioner of the gradient: θ ← θ − lr · P · ĝ, with P diagonal.
// A parameter here is a point (x, y): a Float64Array(2). Each rule works coordinate by coordinate.
// torch's fused forms are spelled out: y.add(x, alpha=a) = fma(a, x, y);
// y.addcmul(t1, t2, value=v) = fma(v·t1, t2, y); y.addcdiv(t1, t2, value=v) = y + (v·t1)/t2.

import { fma, lerp, powInt } from "./numerics.js";

/** The optimizers, their torch defaults and the hyperparameters the playground exposes. */
export const DEFAULTS = {
  sgd: { lr: 1e-3, momentum: 0, dampening: 0, weight_decay: 0, nesterov: false },
  rmsprop: { lr: 1e-2, alpha: 0.99, eps: 1e-8, weight_decay: 0, momentum: 0, centered: false },
  adam: { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weight_decay: 0, amsgrad: false },
  adamw: { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weight_decay: 1e-2, amsgrad: false },
  adagrad: { lr: 1e-2, lr_decay: 0, weight_decay: 0, initial_accumulator_value: 0, eps: 1e-10 },
  nadam: { lr: 2e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weight_decay: 0, momentum_decay: 4e-3, decoupled_weight_decay: false },
  radam: { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weight_decay: 0, decoupled_weight_decay: false },
  adamax: { lr: 2e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weight_decay: 0 },
  adadelta: { lr: 1.0, rho: 0.9, eps: 1e-6, weight_decay: 0 },
  rprop: { lr: 1e-2, etaminus: 0.5, etaplus: 1.2, step_size_min: 1e-6, step_size_max: 50 },
  asgd: { lr: 1e-2, lambd: 1e-4, alpha: 0.75, t0: 1e6, weight_decay: 0 },
  // eps1 is torch's default (None: the dtype's machine epsilon, 2⁻⁵² in float64) and not exposed
  adafactor: { lr: 1e-2, beta2_decay: -0.8, eps2: 1e-3, d: 1.0, weight_decay: 0 },
};

function need(ok, message) {
  if (!ok) throw new RangeError(message);
}

const isNum = (v) => typeof v === "number" && Number.isFinite(v);

/** torch's constructor checks (same messages), plus "a finite number" for every float. */
export function validate(kind, hp) {
  need(kind in DEFAULTS, `unknown optimizer ${JSON.stringify(kind)}: expected one of ${Object.keys(DEFAULTS).join(", ")}`);
  for (const [key, value] of Object.entries(hp)) {
    need(key in DEFAULTS[kind], `${kind}: unknown hyperparameter ${JSON.stringify(key)}`);
    const boolean = typeof DEFAULTS[kind][key] === "boolean";
    need(boolean ? typeof value === "boolean" : isNum(value), `${kind}.${key}=${value}: expected ${boolean ? "true or false" : "a finite number"}`);
  }
  const h = { ...DEFAULTS[kind], ...hp };
  need(h.lr >= 0, `Invalid learning rate: ${h.lr}`);
  if ("weight_decay" in h) need(h.weight_decay >= 0, `Invalid weight_decay value: ${h.weight_decay}`);
  if ("eps" in h) need(h.eps >= 0, `Invalid epsilon value: ${h.eps}`);
  if (kind === "sgd" || kind === "rmsprop") need(h.momentum >= 0, `Invalid momentum value: ${h.momentum}`);
  if (kind === "sgd") need(!h.nesterov || (h.momentum > 0 && h.dampening === 0), "Nesterov momentum requires a momentum and zero dampening");
  if (kind === "rmsprop") need(h.alpha >= 0, `Invalid alpha value: ${h.alpha}`);
  if (["adam", "adamw", "nadam", "radam", "adamax"].includes(kind)) {
    need(h.beta1 >= 0 && h.beta1 < 1, `Invalid beta parameter at index 0: ${h.beta1}`);
    need(h.beta2 >= 0 && h.beta2 < 1, `Invalid beta parameter at index 1: ${h.beta2}`);
  }
  if (kind === "adagrad") {
    need(h.lr_decay >= 0, `Invalid lr_decay value: ${h.lr_decay}`);
    need(h.initial_accumulator_value >= 0, `Invalid initial_accumulator_value value: ${h.initial_accumulator_value}`);
  }
  if (kind === "nadam") need(h.momentum_decay >= 0, `Invalid momentum_decay value: ${h.momentum_decay}`);
  if (kind === "adadelta") need(h.rho >= 0 && h.rho <= 1, `Invalid rho value: ${h.rho}`);
  if (kind === "rprop") need(0 < h.etaminus && h.etaminus < 1 && h.etaplus > 1, `Invalid eta values: ${h.etaminus}, ${h.etaplus}`);
  if (kind === "adafactor") {
    need(h.beta2_decay <= 0, `beta2_decay should be <= 0 but is: ${h.beta2_decay}`);
    need(h.eps2 >= 0, `epsilon2 should be >= 0 but is: ${h.eps2}`);
    need(h.d >= 1, `Clipping threshold d should be >= 1 but is: ${h.d}`);
  }
  return h;
}

/**
 * A fresh optimizer for one point. `opt.step(p, g, lr)` moves p (Float64Array(2)) in place given
 * the gradient g and this step's learning rate (a scheduler may change it); afterwards
 * `opt.precond` holds P of that step (per coordinate), as optimessay's `preconditioner(p)` does.
 */
export function createOptimizer(kind, hyperparameters = {}) {
  const h = validate(kind, hyperparameters);
  const make = {
    sgd, rmsprop, adam, adamw: adam, adagrad, nadam, radam, adamax, adadelta, rprop, asgd, adafactor,
  }[kind];
  const opt = make(h, kind === "adamw");
  opt.kind = kind;
  opt.hyperparameters = h; // with torch's defaults filled in
  return opt;
}

// --- SGD: P = I; ĝ = the gradient, or the momentum buffer (heavy ball / Nesterov) ------------------
function sgd(h) {
  const { momentum: mu, dampening: tau, weight_decay: wd, nesterov } = h;
  const buf = new Float64Array(2);
  let first = true;
  const precond = Float64Array.of(1, 1);
  return {
    precond,
    step(p, grad, lr) {
      for (let i = 0; i < 2; i++) {
        let g = grad[i];
        if (wd !== 0) g = fma(wd, p[i], g); // g ← g + wd·θ  (L2 term)
        if (mu !== 0) {
          buf[i] = first ? g : fma(1 - tau, g, buf[i] * mu); // b ← μ·b + (1−τ)·g  (b₁ = g₁)
          g = nesterov ? fma(mu, buf[i], g) : buf[i]; // ĝ = g + μ·b (Nesterov) or b
        }
        p[i] = fma(-lr, g, p[i]); // θ ← θ − lr·ĝ
      }
      first = false;
    },
  };
}

// --- RMSprop: P = 1 / (√v + ε), v a moving average of g² -----------------------------------------
function rmsprop(h) {
  const { alpha, eps, weight_decay: wd, momentum: mu, centered } = h;
  const sq = new Float64Array(2); // v
  const gavg = new Float64Array(2); // mean of g (centered)
  const buf = new Float64Array(2); // momentum buffer, starts at zeros
  const precond = Float64Array.of(1, 1);
  return {
    precond,
    step(p, grad, lr) {
      for (let i = 0; i < 2; i++) {
        let g = grad[i];
        if (wd !== 0) g = fma(wd, p[i], g); // g ← g + wd·θ
        sq[i] = fma((1 - alpha) * g, g, sq[i] * alpha); // v ← α·v + (1−α)·g²
        let avg;
        if (centered) {
          gavg[i] = lerp(gavg[i], g, 1 - alpha); // ḡ ← α·ḡ + (1−α)·g
          avg = Math.sqrt(fma(-1 * gavg[i], gavg[i], sq[i])); // √(v − ḡ²)
        } else {
          avg = Math.sqrt(sq[i]); // √v
        }
        avg = avg + eps; // √v + ε
        precond[i] = 1 / avg;
        if (mu > 0) {
          buf[i] = buf[i] * mu + g / avg; // b ← μ·b + g/(√v + ε)
          p[i] = fma(-lr, buf[i], p[i]); // θ ← θ − lr·b
        } else {
          p[i] = p[i] + (-lr * g) / avg; // θ ← θ − lr·g/(√v + ε)
        }
      }
    },
  };
}

// --- Adam / AdamW: P = 1 / (√v̂ + ε), ĝ = m̂ (bias-corrected moving averages) --------------------------
function adam(h, decoupled) {
  const { beta1, beta2, eps, weight_decay: wd, amsgrad } = h;
  const m = new Float64Array(2);
  const v = new Float64Array(2);
  const vmax = new Float64Array(2);
  const precond = Float64Array.of(1, 1);
  let t = 0;
  return {
    precond,
    step(p, grad, lr) {
      t += 1;
      const bc1 = 1 - powInt(beta1, t); // 1 − β₁ᵗ
      const bc2 = 1 - powInt(beta2, t); // 1 − β₂ᵗ
      const stepSize = lr / bc1;
      const bc2Sqrt = Math.sqrt(bc2);
      for (let i = 0; i < 2; i++) {
        let g = grad[i];
        if (wd !== 0) {
          if (decoupled) p[i] = p[i] * (1 - lr * wd); // AdamW: θ ← θ·(1 − lr·wd)
          else g = fma(wd, p[i], g); // Adam: g ← g + wd·θ
        }
        m[i] = lerp(m[i], g, 1 - beta1); // m ← β₁·m + (1−β₁)·g
        v[i] = fma((1 - beta2) * g, g, v[i] * beta2); // v ← β₂·v + (1−β₂)·g²
        let root;
        if (amsgrad) {
          vmax[i] = Math.max(vmax[i], v[i]); // v_max ← max(v_max, v)
          root = Math.sqrt(vmax[i]);
        } else {
          root = Math.sqrt(v[i]);
        }
        const denom = root / bc2Sqrt + eps; // √v̂ + ε
        precond[i] = 1 / denom;
        p[i] = p[i] + (-stepSize * m[i]) / denom; // θ ← θ − lr·m̂/(√v̂ + ε)
      }
    },
  };
}

// --- Adagrad: P = 1 / (√(Σ g²) + ε) (and the lr decay): the step per coordinate only shrinks ----------------------------
function adagrad(h) {
  const { lr_decay: decay, weight_decay: wd, initial_accumulator_value: init, eps } = h;
  const sum = Float64Array.of(init, init);
  const precond = Float64Array.of(1, 1);
  let t = 0;
  return {
    precond,
    step(p, grad, lr) {
      t += 1;
      const slowdown = 1 + (t - 1) * decay; // 1 + (t−1)·lr_decay
      const clr = lr / slowdown;
      for (let i = 0; i < 2; i++) {
        let g = grad[i];
        if (wd !== 0) g = fma(wd, p[i], g); // g ← g + wd·θ
        sum[i] = fma(g, g, sum[i]); // s ← s + g²
        const std = Math.sqrt(sum[i]) + eps; // √s + ε
        precond[i] = 1 / (std * slowdown); // P = 1/((1 + (t−1)·lr_decay)(√s + ε)): step = −lr·P·g
        p[i] = p[i] + (-clr * g) / std; // θ ← θ − clr·g/(√s + ε)
      }
    },
  };
}

// --- NAdam: P = 1 / (√v̂ + ε); ĝ mixes g and m with the momentum schedule μ_t (optimessay/optimizers/nadam.py)
function nadam(h) {
  const { beta1, beta2, eps, weight_decay: wd, momentum_decay: psi, decoupled_weight_decay: decoupled } = h;
  const m = new Float64Array(2);
  const v = new Float64Array(2);
  const precond = Float64Array.of(1, 1);
  let muProduct = 1; // Π_t, a float32 tensor in torch: every product is rounded to float32
  let t = 0;
  return {
    precond,
    step(p, grad, lr) {
      t += 1;
      const bc2 = 1 - powInt(beta2, t); // 1 − β₂ᵗ
      const mu = beta1 * (1.0 - 0.5 * Math.pow(0.96, t * psi)); // μ_t = β₁(1 − ½·0.96^(tψ))
      const muNext = beta1 * (1.0 - 0.5 * Math.pow(0.96, (t + 1) * psi)); // μ_{t+1}
      muProduct = Math.fround(muProduct * Math.fround(mu)); // Π_t = Π_{t−1}·μ_t (float32)
      const c1 = (-lr * (1.0 - mu)) / (1.0 - muProduct);
      const c2 = (-lr * muNext) / (1.0 - muProduct * muNext);
      for (let i = 0; i < 2; i++) {
        let g = grad[i];
        if (wd !== 0) {
          if (decoupled) p[i] = p[i] * (1 - lr * wd); // θ ← θ(1 − γλ)
          else g = fma(wd, p[i], g); // g ← g + λθ
        }
        m[i] = lerp(m[i], g, 1 - beta1); // m ← β₁·m + (1−β₁)·g
        v[i] = fma((1 - beta2) * g, g, v[i] * beta2); // v ← β₂·v + (1−β₂)·g²
        const denom = Math.sqrt(v[i] / bc2) + eps; // √v̂ + ε
        precond[i] = 1 / denom;
        p[i] = p[i] + (c1 * g) / denom; // θ ← θ − γ(1−μ_t)/(1−Π_t)·P·g
        p[i] = p[i] + (c2 * m[i]) / denom; // θ ← θ − γμ_{t+1}/(1−Π_{t+1})·P·m
      }
    },
  };
}

// --- RAdam: P = r_t·√(1−β₂ᵗ)/(√v + ε) once ρ_t > 5, else P = I; ĝ = m̂ (optimessay/optimizers/radam.py)
function radam(h) {
  const { beta1, beta2, eps, weight_decay: wd, decoupled_weight_decay: decoupled } = h;
  const m = new Float64Array(2);
  const v = new Float64Array(2);
  const precond = Float64Array.of(1, 1);
  let t = 0;
  return {
    precond,
    step(p, grad, lr) {
      t += 1;
      const bc1 = 1 - powInt(beta1, t); // 1 − β₁ᵗ
      const b2t = powInt(beta2, t);
      const bc2 = 1 - b2t; // 1 − β₂ᵗ
      const rhoInf = 2 / (1 - beta2) - 1; // ρ_∞
      const rhoT = rhoInf - (2 * t * b2t) / (1 - b2t); // ρ_t = ρ_∞ − 2tβ₂ᵗ/(1−β₂ᵗ)
      const rect = rhoT > 5.0
        ? Math.sqrt(((rhoT - 4) * (rhoT - 2) * rhoInf) / ((rhoInf - 4) * (rhoInf - 2) * rhoT)) // r_t
        : NaN;
      for (let i = 0; i < 2; i++) {
        let g = grad[i];
        if (wd !== 0) {
          if (decoupled) p[i] = p[i] * (1 - lr * wd); // θ ← θ(1 − γλ)
          else g = fma(wd, p[i], g); // g ← g + λθ
        }
        m[i] = lerp(m[i], g, 1 - beta1); // m ← β₁·m + (1−β₁)·g
        v[i] = fma((1 - beta2) * g, g, v[i] * beta2); // v ← β₂·v + (1−β₂)·g²
        const mHat = m[i] / bc1; // m̂
        if (rhoT > 5.0) {
          const adaptive = Math.sqrt(bc2) / (Math.sqrt(v[i]) + eps); // √(1−β₂ᵗ)/(√v + ε)
          precond[i] = (1 / (Math.sqrt(v[i]) + eps)) * Math.sqrt(bc2) * rect;
          p[i] = p[i] - mHat * lr * adaptive * rect; // θ ← θ − γ·r_t·P·m̂
        } else {
          precond[i] = 1;
          p[i] = p[i] - mHat * lr; // θ ← θ − γ·m̂ (too few steps for a variance estimate)
        }
      }
    },
  };
}

// --- Adamax: P = 1/u with u = max(β₂·u, |g| + ε) (an infinity-norm second moment); ĝ = m̂ (adamax.py)
function adamax(h) {
  const { beta1, beta2, eps, weight_decay: wd } = h;
  const m = new Float64Array(2);
  const u = new Float64Array(2);
  const precond = Float64Array.of(1, 1);
  let t = 0;
  return {
    precond,
    step(p, grad, lr) {
      t += 1;
      const bc = 1 - powInt(beta1, t); // 1 − β₁ᵗ
      for (let i = 0; i < 2; i++) {
        let g = grad[i];
        if (wd !== 0) g = fma(wd, p[i], g); // g ← g + λθ
        m[i] = lerp(m[i], g, 1 - beta1); // m ← β₁·m + (1−β₁)·g
        u[i] = Math.max(u[i] * beta2, Math.abs(g) + eps); // u ← max(β₂·u, |g| + ε)
        precond[i] = 1 / u[i];
        p[i] = p[i] + (-(lr / bc) * m[i]) / u[i]; // θ ← θ − γ·m̂/u
      }
    },
  };
}

// --- Adadelta: P = √(a + ε)/√(v + ε), a ratio of two moving averages (adadelta.py) ---------------------
function adadelta(h) {
  const { rho, eps, weight_decay: wd } = h;
  const v = new Float64Array(2); // moving average of g²
  const a = new Float64Array(2); // moving average of the squared steps δ²
  const precond = Float64Array.of(1, 1);
  return {
    precond,
    step(p, grad, lr) {
      for (let i = 0; i < 2; i++) {
        let g = grad[i];
        if (wd !== 0) g = fma(wd, p[i], g); // g ← g + λθ
        v[i] = fma((1 - rho) * g, g, v[i] * rho); // v ← ρ·v + (1−ρ)·g²
        const std = Math.sqrt(v[i] + eps); // √(v + ε)
        const delta = (Math.sqrt(a[i] + eps) / std) * g; // δ = √(a + ε)/√(v + ε)·g
        a[i] = fma((1 - rho) * delta, delta, a[i] * rho); // a ← ρ·a + (1−ρ)·δ²
        // P as optimessay's adadelta_preconditioner reports it: from the state after the step
        precond[i] = Math.sqrt(a[i] + eps) / Math.sqrt(v[i] + eps);
        p[i] = fma(-lr, delta, p[i]); // θ ← θ − γ·δ
      }
    },
  };
}

// --- Rprop: P = s/|g|, so the step is s·sign(g); s grows ×η₊ while the sign holds, shrinks ×η₋ when it flips (rprop.py)
// The lr is only the initial step size s (as in torch: a scheduler's later lrs do not reach the step).
function rprop(h) {
  const { lr, etaminus, etaplus, step_size_min: smin, step_size_max: smax } = h;
  const prev = new Float64Array(2);
  const size = Float64Array.of(lr, lr); // s = lr
  const precond = Float64Array.of(1, 1);
  return {
    precond,
    step(p, grad) {
      for (let i = 0; i < 2; i++) {
        let g = grad[i];
        const sgn = Math.sign(g * prev[i]);
        const factor = sgn > 0 ? etaplus : sgn < 0 ? etaminus : 1; // same sign ×η₊, flipped ×η₋, zero ×1
        size[i] = Math.min(Math.max(size[i] * factor, smin), smax); // s ← clamp(s·η, s_min, s_max)
        if (factor === etaminus) g = 0; // flipped: skip this element now
        p[i] = fma(-Math.sign(g), size[i], p[i]); // θ ← θ − s·sign(g)
        prev[i] = g;
        precond[i] = g !== 0 ? size[i] / Math.abs(g) : 0; // P = s/|g| (0 where skipped)
      }
    },
  };
}

// --- ASGD: P = η_t/γ = 1/(1 + λγ(t−1))^α (the same for both coordinates), plus decay and averaging (asgd.py)
// torch keeps η in a float32 tensor (the default dtype), so η_t is rounded to float32 (Math.fround).
// The averaged iterate θ̄ (state "ax") does not move the walk; it is kept as torch keeps it.
function asgd(h) {
  const { lambd, alpha, t0, weight_decay: wd } = h;
  const ax = new Float64Array(2);
  const precond = Float64Array.of(1, 1);
  let eta = Math.fround(h.lr); // η_1 = γ
  let mu = 1; // μ_1 = 1
  let t = 0;
  return {
    precond,
    step(p, grad, lr) {
      t += 1;
      const etaT = eta;
      for (let i = 0; i < 2; i++) {
        let g = grad[i];
        if (wd !== 0) g = fma(wd, p[i], g); // g ← g + wθ
        p[i] = p[i] * (1 - lambd * etaT); // θ ← θ(1 − λη_t)
        p[i] = fma(-etaT, g, p[i]); // θ ← θ − η_t·g
        ax[i] = mu !== 1 ? ax[i] + (p[i] - ax[i]) * mu : p[i]; // θ̄ ← θ̄ + μ_t(θ − θ̄)
      }
      const pe = Math.fround(lr / Math.pow(1 + lambd * lr * (t - 1), alpha)); // η_t as optimessay's P recomputes it
      precond[0] = precond[1] = pe / lr;
      eta = Math.fround(lr / Math.pow(1 + lambd * lr * t, alpha)); // η_{t+1} = γ/(1 + λγt)^α
      mu = Math.fround(1 / Math.max(1, t - t0)); // μ_{t+1} = 1/max(1, t − t0)
    },
  };
}

// --- Adafactor: P = 1/√max(V, ε₁²), ĝ = g, step −α_t/max(1, RMS(P·g)/d)·P·g (adafactor.py)
// On a 2-D landscape the point (x, y) is a VECTOR of 2, as optimessay.trajectory.run and
// optimessay.sweep give it to Adafactor: the second moment V is kept per coordinate, NOT factored
// into row and column means (torch factors only parameters with 2 or more dimensions). Had the point
// been a (1, 2) matrix, the factored estimate R·C/mean(R) would reduce to C, which is this same
// per-coordinate average: the two readings differ only in rounding.
function adafactor(h) {
  const { beta2_decay: decay, eps2, d, weight_decay: wd } = h;
  const eps1 = Number.EPSILON; // torch's default: the machine epsilon of float64
  const V = new Float64Array(2);
  const U = new Float64Array(2);
  const precond = Float64Array.of(1, 1);
  let t = 0;
  return {
    precond,
    step(p, grad, lr) {
      t += 1;
      const w = Math.pow(t, decay); // 1 − β̂₂,t = t^τ
      const rho = Math.min(lr, 1 / Math.sqrt(t)); // ρ_t = min(γ, 1/√t)
      const rmsParam = Math.sqrt(p[0] * p[0] + p[1] * p[1]) / Math.SQRT2; // RMS(θ) = ‖θ‖/√2
      const a = Math.max(eps2, rmsParam) * rho; // α_t = max(ε₂, RMS(θ))·ρ_t
      if (wd !== 0) {
        p[0] = p[0] * (1 - lr * wd); // θ ← θ(1 − γλ)
        p[1] = p[1] * (1 - lr * wd);
      }
      for (let i = 0; i < 2; i++) {
        V[i] = lerp(V[i], grad[i] * grad[i], w); // V ← β̂₂V + (1−β̂₂)·g²
        precond[i] = 1 / Math.sqrt(Math.max(V[i], eps1 * eps1)); // P = 1/√max(V, ε₁²)
        U[i] = precond[i] * grad[i]; // U = P·g
      }
      const rmsU = Math.sqrt(U[0] * U[0] + U[1] * U[1]) / (Math.SQRT2 * d); // RMS(U)/d
      const clip = Math.max(1.0, rmsU);
      for (let i = 0; i < 2; i++) p[i] = fma(-a / clip, U[i], p[i]); // θ ← θ − α_t·U/max(1, RMS(U)/d)
    },
  };
}
