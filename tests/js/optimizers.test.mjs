// The playground's optimizer list: every kind validates with torch's defaults, its sliders hold those
// defaults, a URL round-trips it, and the behaviours a reader sees that vectors.test.mjs does not
// isolate (Adafactor's unfactored second moment on a point, Rprop's lr as its first step only).

import { test } from "node:test";
import assert from "node:assert/strict";

import { DEFAULTS, createOptimizer, validate } from "../../docs/playground/optimizers.js";
import { KINDS, PARAMS, optimizerOf, parseQuery, presetState, toQuery } from "../../docs/playground/state.js";
import { COLORS } from "../../docs/playground/palette.js";

test("every kind has torch's defaults inside its sliders' ranges, and a colour", () => {
  for (const [kind, k] of Object.entries(KINDS)) {
    assert.ok(COLORS[kind], `${kind}: no colour`);
    const h = validate(k.optimizer, optimizerOf({ kind, hp: kind === "nesterov" ? { momentum: 0.9 } : {} })[1]); // Nesterov needs a momentum
    for (const key of k.controls) {
      assert.ok(key in PARAMS, `${kind}: control ${key} has no range`);
      assert.ok(key in DEFAULTS[k.optimizer], `${kind}: ${key} is not a hyperparameter of ${k.optimizer}`);
      const spec = PARAMS[key];
      if (spec.boolean) assert.equal(typeof h[key], "boolean");
      else assert.ok(spec.min <= h[key] && h[key] <= spec.max, `${kind}.${key}=${h[key]} outside [${spec.min}, ${spec.max}]`);
    }
    if (k.lr !== undefined) assert.equal(k.lr, DEFAULTS[k.optimizer].lr, `${kind}: a new run starts at torch's lr`);
  }
});

test("a run of each new kind survives the URL with every hyperparameter", () => {
  const state = presetState("seed-sgd");
  state.runs = [
    { kind: "nadam", on: true, hp: { lr: 0.01, beta1: 0.8, momentum_decay: 0.01, decoupled_weight_decay: true, weight_decay: 0.1 }, sched: { kind: "none", params: {} } },
    { kind: "radam", on: true, hp: { lr: 0.02, beta2: 0.99 }, sched: { kind: "none", params: {} } },
    { kind: "adamax", on: false, hp: { lr: 0.02, eps: 1e-6 }, sched: { kind: "none", params: {} } },
    { kind: "adadelta", on: true, hp: { lr: 1, rho: 0.95 }, sched: { kind: "none", params: {} } },
    { kind: "rprop", on: true, hp: { lr: 0.05, etaminus: 0.3, etaplus: 1.1, step_size_min: 1e-7, step_size_max: 2 }, sched: { kind: "none", params: {} } },
    { kind: "asgd", on: true, hp: { lr: 0.05, lambd: 0.01, alpha: 0.5, t0: 50 }, sched: { kind: "none", params: {} } },
    { kind: "adafactor", on: true, hp: { lr: 0.1, beta2_decay: -0.5, eps2: 0.01, d: 2 }, sched: { kind: "none", params: {} } },
  ];
  const { state: back, notes } = parseQuery(toQuery(state));
  assert.deepEqual(notes, []);
  assert.deepEqual(back.runs, state.runs);
});

test("Adafactor treats the point as a vector: its first step is -max(eps2, RMS(θ))·min(lr, 1)·sign(g)", () => {
  // V₁ = g² (weight 1^τ = 1), so P·g = sign(g), RMS(P·g) = 1 and nothing is clipped (d = 1)
  const opt = createOptimizer("adafactor", { lr: 0.1 });
  const p = Float64Array.of(3, -4);
  opt.step(p, Float64Array.of(2, -0.5), 0.1);
  const alpha = (5 / Math.SQRT2) * 0.1; // RMS((3, -4)) = 5/√2
  assert.ok(Math.abs(p[0] - (3 - alpha)) < 1e-15 && Math.abs(p[1] - (-4 + alpha)) < 1e-15, `${p}`);
  assert.deepEqual(Array.from(opt.precond), [0.5, 2]); // 1/|g| per coordinate: no shared row mean
});

test("Rprop: the lr is the first step size only; later lrs (a schedule) do not change the steps", () => {
  const a = createOptimizer("rprop", { lr: 0.1 });
  const b = createOptimizer("rprop", { lr: 0.1 });
  const pa = Float64Array.of(1, 1);
  const pb = Float64Array.of(1, 1);
  for (let k = 0; k < 5; k++) {
    a.step(pa, Float64Array.of(1, -1), 0.1);
    b.step(pb, Float64Array.of(1, -1), 0.1 / (k + 1));
  }
  assert.deepEqual(Array.from(pa), Array.from(pb));
  assert.ok(Math.abs(pa[0] - (1 - 0.1 * (1 + 1.2 + 1.44 + 1.728 + 2.0736))) < 1e-12, `${pa[0]}`);
});
