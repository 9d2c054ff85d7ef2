// The playground's JavaScript equals the Python package: every number of every exported walk.
//
// tests/vectors/playground.json is written by `make vectors` (scripts/export_vectors.py) from
// optimessay in float64; tests/test_vectors.py fails when the package and that file disagree.
// Here each configuration is replayed with docs/playground/*.js and every point, loss, lr and
// preconditioner is compared to 1e-9 relative (near 0: of 1 % of the walk's scale). The JavaScript's
// Math.sqrt is correctly rounded and torch's float64 sqrt is not always (which inputs it misrounds
// depends on the CPU), and the walks amplify such a last-bit difference: measured, by at most 2e-12
// of a walk's scale, on this file's walks (tests/test_vectors.py); 1e-9 leaves room for any CPU and
// still fails on a wrong update rule (measured: Adam adding eps before dividing by the bias
// correction moves some Adam walks by 5e-6, eps 1e-8 → 1.1e-8 moves an RMSprop walk by 8e-7).

import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

import { getLandscape } from "../../docs/playground/landscapes.js";
import { run } from "../../docs/playground/trajectory.js";
import {
  BACKGROUND, COLORS, DARK_BACKGROUND, DARK_COLORS, DARK_INK, DARK_MINIMUM, INK, MINIMUM, shades,
} from "../../docs/playground/palette.js";

// OPTIMESSAY_VECTORS: another vectors file (tests/test_vectors.py passes the ones it computed in its run)
const PATH = process.env.OPTIMESSAY_VECTORS || fileURLToPath(new URL("../vectors/playground.json", import.meta.url));
const VECTORS = JSON.parse(readFileSync(PATH, "utf8"));
const RTOL = 1e-9;

/**
 * Largest |actual − expected| / max(|expected|, 1 % of the series' largest |value|) over two
 * equal-length lists: relative, except near 0 (a coordinate crossing 0, a loss at a minimum), where a
 * last-bit difference is measured at 1 % of the walk's scale instead of against the tiny value.
 */
function maxRelativeError(actual, expected, what) {
  assert.equal(actual.length, expected.length, `${what}: length`);
  const floor = 0.01 * Math.max(0, ...expected.map(Math.abs));
  let worst = 0;
  let where = -1;
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i];
    const e = expected[i];
    if (a === e) continue;
    const err = Math.abs(a - e) / Math.max(Math.abs(e), floor);
    if (!(err <= worst)) {
      worst = err;
      where = i;
    }
  }
  return { worst, where };
}

function assertClose(actual, expected, what) {
  const { worst, where } = maxRelativeError(actual, expected, what);
  assert.ok(worst <= RTOL, `${what}: relative error ${worst} at index ${where} (js ${actual[where]}, python ${expected[where]})`);
  return worst;
}

test("the vectors cover every optimizer, every scheduler and several landscapes", (ctx) => {
  ctx.diagnostic(`vectors: ${PATH}`);
  const kinds = new Set(VECTORS.trajectories.map((t) => t.optimizer));
  const schedulers = new Set(VECTORS.trajectories.map((t) => t.scheduler));
  const lands = new Set(VECTORS.trajectories.map((t) => t.landscape.name));
  assert.deepEqual([...kinds].sort(), ["adadelta", "adafactor", "adagrad", "adam", "adamax", "adamw", "asgd", "nadam", "radam", "rmsprop", "rprop", "sgd"]);
  assert.deepEqual([...schedulers].sort(), ["cosine", "exponential", "multistep", "none", "step", "warmup", "warmup-cosine"]);
  assert.ok(lands.size >= 6, `landscapes walked: ${[...lands]}`);
});

for (const rec of VECTORS.landscapes) {
  test(`landscape ${rec.name} ${JSON.stringify(rec.params)}: metadata, f and its gradient`, () => {
    const land = getLandscape(rec.name, rec.params);
    assert.deepEqual(land.xRange, rec.x_range);
    assert.deepEqual(land.yRange, rec.y_range);
    assert.deepEqual(land.minima, rec.minima);
    assert.deepEqual(land.start, rec.start);
    assert.equal(land.logScale, rec.log_scale);
    const g = new Float64Array(2);
    const values = [];
    const grads = [];
    const expectedValues = [];
    const expectedGrads = [];
    for (const [x, y, f, gx, gy] of rec.samples) {
      values.push(land.value(x, y));
      land.grad(x, y, g);
      grads.push(g[0], g[1]);
      expectedValues.push(f);
      expectedGrads.push(gx, gy);
    }
    // f near a minimum is ~0 (a cancellation): compare values at the scale of the window's values
    const scale = Math.max(...expectedValues.map(Math.abs));
    values.forEach((v, i) => assert.ok(Math.abs(v - expectedValues[i]) <= RTOL * Math.max(Math.abs(expectedValues[i]), 1e-6 * scale),
      `f(${rec.samples[i][0]}, ${rec.samples[i][1]}): js ${v}, python ${expectedValues[i]}`));
    const gscale = Math.max(...expectedGrads.map(Math.abs));
    grads.forEach((v, i) => assert.ok(Math.abs(v - expectedGrads[i]) <= RTOL * Math.max(Math.abs(expectedGrads[i]), 1e-6 * gscale),
      `∇f sample ${i >> 1} component ${i & 1}: js ${v}, python ${expectedGrads[i]}`));
  });
}

test("each landscape is the formula optimessay.landscapes states (its JavaScript `expression`)", () => {
  for (const rec of VECTORS.landscapes) {
    const land = getLandscape(rec.name, rec.params);
    const formula = new Function("x", "y", `"use strict"; return (${rec.expression});`); // test only: our own package's text
    for (const [x, y] of rec.samples) {
      const a = land.value(x, y);
      const b = formula(x, y);
      assert.ok(Math.abs(a - b) <= 1e-12 * Math.max(1, Math.abs(b)), `${rec.name} at (${x}, ${y}): ${a} vs expression ${b}`);
    }
  }
});

for (const t of VECTORS.trajectories) {
  test(`walk ${t.id}: every point, loss, lr and preconditioner`, (ctx) => {
    const land = getLandscape(t.landscape.name, t.landscape.params ?? {});
    const r = run(land, t.optimizer, t.hyperparameters, {
      start: t.start,
      steps: t.steps,
      scheduler: t.scheduler,
      schedulerParams: t.scheduler_params,
    });
    const worst = Math.max(
      assertClose(Array.from(r.points), t.points.flat(), "points"),
      assertClose(Array.from(r.lrs), t.lrs, "lrs"),
      assertClose(Array.from(r.preconditioners), t.preconditioners.flat(), "preconditioners"),
      assertClose(Array.from(r.losses), t.losses, "losses"),
    );
    ctx.diagnostic(`largest relative difference: ${worst.toExponential(2)}`);
  });
}

test("the playground's colours are optimessay.style's", () => {
  for (const [name, colour] of Object.entries(VECTORS.palette.optimizers)) {
    assert.equal(COLORS[name].toLowerCase(), colour.toLowerCase(), name);
  }
  assert.deepEqual([BACKGROUND, INK, MINIMUM], [VECTORS.palette.background, VECTORS.palette.ink, VECTORS.palette.minimum]);
  // the dark theme's: the figures' dark variants
  const dark = VECTORS.palette.dark;
  assert.deepEqual(Object.keys(DARK_COLORS).sort(), Object.keys(dark.optimizers).sort());
  for (const [name, colour] of Object.entries(dark.optimizers)) assert.equal(DARK_COLORS[name].toLowerCase(), colour.toLowerCase(), `dark ${name}`);
  assert.deepEqual([DARK_BACKGROUND, DARK_INK, DARK_MINIMUM], [dark.background, dark.ink, dark.minimum]);
  for (const [key, expected] of Object.entries(VECTORS.palette.shades)) {
    const [name, n] = key.split("-");
    assert.deepEqual(shades(name, Number(n)).map((c) => c.toLowerCase()), expected.map((c) => c.toLowerCase()), key);
  }
});

test("the seed notebook's printed point: SGD(lr=1e-3, momentum=0.98) from (-1.5, 2.5), out[99] = (1.0234, 1.1983)", () => {
  // the seed ran float32 torch.optim.SGD and printed the point before its 100th step, 4 decimals
  const r = run(getLandscape("rosenbrock"), "sgd", { lr: 1e-3, momentum: 0.98 }, { start: [-1.5, 2.5], steps: 100 });
  assert.equal(r.points[2 * 99].toFixed(4), "1.0234");
  assert.equal(r.points[2 * 99 + 1].toFixed(4), "1.1983");
});
