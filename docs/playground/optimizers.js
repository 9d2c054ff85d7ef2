// The update rules of SGD (+ momentum, Nesterov), RMSprop, Adam, AdamW and Adagrad, op for op as
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
  need(h.weight_decay >= 0, `Invalid weight_decay value: ${h.weight_decay}`);
  if ("eps" in h) need(h.eps >= 0, `Invalid epsilon value: ${h.eps}`);
  if (kind === "sgd" || kind === "rmsprop") need(h.momentum >= 0, `Invalid momentum value: ${h.momentum}`);
  if (kind === "sgd") need(!h.nesterov || (h.momentum > 0 && h.dampening === 0), "Nesterov momentum requires a momentum and zero dampening");
  if (kind === "rmsprop") need(h.alpha >= 0, `Invalid alpha value: ${h.alpha}`);
  if (kind === "adam" || kind === "adamw") {
    need(h.beta1 >= 0 && h.beta1 < 1, `Invalid beta parameter at index 0: ${h.beta1}`);
    need(h.beta2 >= 0 && h.beta2 < 1, `Invalid beta parameter at index 1: ${h.beta2}`);
  }
  if (kind === "adagrad") {
    need(h.lr_decay >= 0, `Invalid lr_decay value: ${h.lr_decay}`);
    need(h.initial_accumulator_value >= 0, `Invalid initial_accumulator_value value: ${h.initial_accumulator_value}`);
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
  const make = { sgd: sgd, rmsprop: rmsprop, adam: adam, adamw: adam, adagrad: adagrad }[kind];
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
