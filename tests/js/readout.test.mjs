// The playground's readout texts (docs/playground/dom.js): the live announcement never names a
// diverged walk as the best, and a decay rate just below 1 never reads "1".

import { test } from "node:test";
import assert from "node:assert/strict";

import { announcement, hpText, sig } from "../../docs/playground/dom.js";
import { getLandscape } from "../../docs/playground/landscapes.js";
import { run } from "../../docs/playground/trajectory.js";

const banana = getLandscape("rosenbrock");
const walk = (name, kind, hp, steps = 50) => ({ name, result: run(banana, kind, hp, { start: [-1.5, 2.5], steps }) });

test("a diverged walk never has the lowest loss, whatever its place in the list", () => {
  const diverged = walk("SGD (lr 1)", "sgd", { lr: 1 });
  const fine = walk("Adam (lr 0.05)", "adam", { lr: 0.05 });
  assert.notEqual(diverged.result.divergedAt, null, "lr 1 should diverge on the banana");
  assert.ok(Number.isNaN(diverged.result.losses[50]) || !Number.isFinite(diverged.result.losses[50]));
  const expected = `Step 50 of 50: lowest loss ${sig(fine.result.losses[50])} by Adam (lr 0.05).`;
  assert.equal(announcement([diverged, fine], 50, 50), expected); // the diverged walk first: the old bug
  assert.equal(announcement([fine, diverged], 50, 50), expected);
});

test("before it diverges, a walk competes; after, it does not", () => {
  const diverged = walk("SGD (lr 1)", "sgd", { lr: 1 });
  const t = diverged.result.divergedAt;
  assert.ok(t > 0);
  const text = announcement([diverged], t - 1, 50);
  assert.equal(text, `Step ${t - 1} of 50: lowest loss ${sig(diverged.result.losses[t - 1])} by SGD (lr 1).`);
  assert.equal(announcement([diverged], t, 50), `Step ${t} of 50: SGD (lr 1) has diverged.`);
});

test("when every walk has diverged the announcement says so, and names no winner", () => {
  const walks = [walk("SGD (lr 1)", "sgd", { lr: 1 }), walk("SGD (lr 2)", "sgd", { lr: 2 })];
  const text = announcement(walks, 50, 50);
  assert.equal(text, "Step 50 of 50: every optimizer has diverged.");
  assert.doesNotMatch(text, /NaN|Infinity|lowest/);
});

test("a loss that is not finite at the last point never wins, even without a divergedAt", () => {
  const nan = { name: "A", result: { steps: 2, divergedAt: null, losses: Float64Array.of(1, 1, NaN) } };
  const inf = { name: "B", result: { steps: 2, divergedAt: null, losses: Float64Array.of(1, 1, Infinity) } };
  const ok = { name: "C", result: { steps: 2, divergedAt: null, losses: Float64Array.of(1, 1, 3) } };
  assert.equal(announcement([nan, inf, ok], 2, 2), "Step 2 of 2: lowest loss 3 by C.");
  assert.equal(announcement([nan, inf], 2, 2), "Step 2 of 2: every optimizer has diverged.");
  assert.equal(announcement([], 2, 2), "No optimizer is switched on.");
});

test("hyperparameters just below 1 never read 1", () => {
  assert.equal(sig(0.9999, 3), "1"); // what the label showed before
  assert.equal(hpText(0.9999), "0.9999");
  assert.equal(hpText(0.99995), "0.99995");
  assert.equal(hpText(0.99995, 4), "0.99995");
  assert.equal(hpText(0.9999, 4), "0.9999"); // the sliders' 4 digits
  assert.equal(hpText(0.999), "0.999");
  assert.equal(hpText(0.9994), "0.999"); // 3 digits are enough when they do not reach 1
  for (let k = 1; k <= 15; k++) {
    const v = 1 - 10 ** -k;
    assert.ok(Number(hpText(v)) < 1, `${v} reads ${hpText(v)}`);
  }
});

test("other hyperparameters read as before: 3 significant digits, exponents outside [1e-3, 1e5)", () => {
  for (const [v, text] of [[0.01, "0.01"], [0.00501, "0.00501"], [0.0031623, "0.00316"], [1e-8, "1.00e-8"], [0, "0"],
    [0.9, "0.9"], [1, "1"], [10, "10"], [300, "300"], [1.23456, "1.23"], [-0.99999, "-0.99999"]]) {
    assert.equal(hpText(v), text, String(v));
  }
});
