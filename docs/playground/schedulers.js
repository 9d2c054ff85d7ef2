// Learning-rate schedulers, in torch.optim.lr_scheduler's chainable form (each new lr is computed
// from the current one, op for op as torch 2.13 and optimessay.schedulers do), so the playground's
// lr sequence equals the Python package's.
//
// Use: const s = createScheduler("step", { step_size: 4, gamma: 0.99 }, baseLr);
//      s.lr is the lr of the next optimizer step; s.step() advances one epoch (after the step).

import { powInt } from "./numerics.js";

/** Each scheduler's parameters and defaults (torch's, where torch has one). */
export const SCHEDULER_DEFAULTS = {
  none: {},
  step: { step_size: 10, gamma: 0.5 }, // StepLR (torch's gamma default is 0.1)
  multistep: { milestones: [20, 40], gamma: 0.5 }, // MultiStepLR
  exponential: { gamma: 0.99 }, // ExponentialLR
  cosine: { T_max: 100, eta_min: 0 }, // CosineAnnealingLR
  warmup: { start_factor: 1 / 3, end_factor: 1, total_iters: 20 }, // LinearLR
  // SequentialLR([LinearLR(start_factor, 1.0, warmup), CosineAnnealingLR(T_max, eta_min)], milestones=[warmup])
  "warmup-cosine": { start_factor: 0.1, warmup: 20, T_max: 200, eta_min: 0 },
};

/** Python's a % b (the result takes b's sign). */
const pyMod = (a, b) => ((a % b) + b) % b;

function need(ok, message) {
  if (!ok) throw new RangeError(message);
}

/** Checks the parameters (clear messages naming the value), returns them with the defaults filled in. */
export function validateScheduler(kind, params = {}) {
  need(kind in SCHEDULER_DEFAULTS, `unknown scheduler ${JSON.stringify(kind)}: expected one of ${Object.keys(SCHEDULER_DEFAULTS).join(", ")}`);
  for (const key of Object.keys(params)) need(key in SCHEDULER_DEFAULTS[kind], `${kind}: unknown parameter ${JSON.stringify(key)}`);
  const s = { ...SCHEDULER_DEFAULTS[kind], ...params };
  const whole = (v) => Number.isInteger(v) && v >= 1;
  const finite = (v) => typeof v === "number" && Number.isFinite(v);
  if ("gamma" in s) need(finite(s.gamma) && s.gamma > 0, `${kind}.gamma=${s.gamma}: expected a number > 0`);
  if (kind === "step") need(whole(s.step_size), `step.step_size=${s.step_size}: expected a whole number >= 1`);
  if (kind === "multistep") {
    need(Array.isArray(s.milestones) && s.milestones.every(whole), `multistep.milestones=${s.milestones}: expected whole numbers >= 1`);
  }
  if (kind === "cosine") {
    need(whole(s.T_max), `cosine.T_max=${s.T_max}: expected a whole number >= 1`);
    need(finite(s.eta_min) && s.eta_min >= 0, `cosine.eta_min=${s.eta_min}: expected a number >= 0`);
  }
  if (kind === "warmup-cosine") {
    need(finite(s.start_factor) && s.start_factor > 0 && s.start_factor <= 1,
      "Starting multiplicative factor expected to be greater than 0 and less or equal to 1.");
    need(whole(s.warmup), `warmup-cosine.warmup=${s.warmup}: expected a whole number >= 1`);
    need(whole(s.T_max), `warmup-cosine.T_max=${s.T_max}: expected a whole number >= 1`);
    need(finite(s.eta_min) && s.eta_min >= 0, `warmup-cosine.eta_min=${s.eta_min}: expected a number >= 0`);
  }
  if (kind === "warmup") {
    need(finite(s.start_factor) && s.start_factor > 0 && s.start_factor <= 1,
      "Starting multiplicative factor expected to be greater than 0 and less or equal to 1.");
    need(finite(s.end_factor) && s.end_factor >= 0 && s.end_factor <= 1, "Ending multiplicative factor expected to be between 0 and 1.");
    need(whole(s.total_iters), `warmup.total_iters=${s.total_iters}: expected a whole number >= 1`);
  }
  return s;
}

/** CosineAnnealingLR's chainable step to its own epoch e >= 1 from the current lr. */
function cosineNext(lr, e, base, T, eta) {
  if (pyMod(e - 1 - T, 2 * T) === 0) return lr + (base - eta) * (1 - Math.cos(Math.PI / T)) / 2; // after a trough
  return (1 + Math.cos(Math.PI * e / T)) / (1 + Math.cos(Math.PI * (e - 1) / T)) * (lr - eta) + eta;
}

/** A scheduler over one optimizer's lr, already constructed (torch's initial step has run). */
export function createScheduler(kind, params, baseLr) {
  const s = validateScheduler(kind, params);
  const base = baseLr;
  let epoch = 0; // last_epoch after construction
  const counts = new Map();
  if (kind === "multistep") for (const m of s.milestones) counts.set(m, (counts.get(m) || 0) + 1);

  // get_lr() at `epoch`, from the current lr (torch's chainable formulas)
  function next(lr, e) {
    switch (kind) {
      case "step":
        return e === 0 || e % s.step_size !== 0 ? lr : lr * s.gamma;
      case "multistep":
        return counts.has(e) ? lr * powInt(s.gamma, counts.get(e)) : lr;
      case "exponential":
        return e === 0 ? lr : lr * s.gamma;
      case "cosine":
        return e === 0 ? lr : cosineNext(lr, e, base, s.T_max, s.eta_min);
      case "warmup-cosine": {
        // the LinearLR child until the milestone, then the cosine child restarted at its own t = 0
        const { start_factor: a, warmup: W, T_max: T, eta_min: eta } = s;
        if (e === 0) return lr * a;
        if (e < W) return lr * (1.0 + (1.0 - a) / (W * a + (e - 1) * (1.0 - a)));
        if (e === W) return eta + (base - eta) * (1 + Math.cos(Math.PI * 0 / T)) / 2; // closed form at t = 0
        return cosineNext(lr, e - W, base, T, eta);
      }
      case "warmup": {
        const { start_factor: a, end_factor: b, total_iters: T } = s;
        if (e === 0) return lr * a;
        if (e > T) return lr;
        return lr * (1.0 + (b - a) / (T * a + (e - 1) * (b - a)));
      }
      default:
        return lr;
    }
  }

  const sched = {
    kind,
    params: s,
    lr: next(base, 0),
    step() {
      epoch += 1;
      sched.lr = next(sched.lr, epoch);
    },
  };
  return sched;
}
