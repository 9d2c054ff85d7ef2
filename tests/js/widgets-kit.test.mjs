// The live figures' kit (docs/widgets/kit.js), its pure parts: URL state per widget (namespaced keys,
// other keys untouched), the log slider's mapping, typed-number parsing, ticks, and 4-digit readouts.

import { test } from "node:test";
import assert from "node:assert/strict";

import {
  decodeState, encodeState, fromPosition, niceTicks, parseNumber, sig, sliderSpec, tickText, toPosition, urlKey,
} from "../../docs/widgets/kit.js";

test("readouts have 4 significant digits", () => {
  assert.equal(sig(2.5619), "2.562");
  assert.equal(sig(346), "346");
  assert.equal(sig(13.4387), "13.44");
  assert.equal(sig(0.000123456), "1.235e-4");
  assert.equal(sig(123456), "1.235e+5");
  assert.equal(sig(0), "0");
  assert.equal(sig(Infinity), "Infinity");
});

test("URL keys are namespaced per widget and validated", () => {
  assert.equal(urlKey("precond", "kappa"), "w-precond-kappa");
  assert.throws(() => urlKey("Pre cond", "kappa"), /widget id "Pre cond"/);
  assert.throws(() => urlKey("precond", "k&x"), /control key "k&x"/);
});

test("encodeState keeps every other query key and their order", () => {
  const search = "?lr=0.1&w-other-kappa=3&preset=banana-race";
  const out = encodeState(search, "precond", { kappa: "100", theta: "30" });
  assert.equal(out, "?lr=0.1&w-other-kappa=3&preset=banana-race&w-precond-kappa=100&w-precond-theta=30");
  assert.deepEqual(decodeState(out, "precond"), { kappa: "100", theta: "30" });
  assert.deepEqual(decodeState(out, "other"), { kappa: "3" });
  // null removes the key (a value back at its default), and nothing else
  const back = encodeState(out, "precond", { kappa: null, theta: "30" });
  assert.equal(back, "?lr=0.1&w-other-kappa=3&preset=banana-race&w-precond-theta=30");
  assert.equal(encodeState("?w-precond-theta=30", "precond", { theta: null }), "");
  assert.equal(encodeState("", "precond", { theta: "1" }), "?w-precond-theta=1");
});

test("decodeState reads only its own widget's keys, and values with special characters round trip", () => {
  const out = encodeState("?w-precond2-kappa=1", "precond", { note: "a&b=c <x>" });
  assert.deepEqual(decodeState(out, "precond"), { note: "a&b=c <x>" });
  assert.deepEqual(decodeState(out, "precond2"), { kappa: "1" });
  assert.deepEqual(decodeState("?w-precond-=3&w-precond-Bad=1", "precond"), {});
});

test("a log slider moves in log10 space and rounds to 3 significant digits, within its range", () => {
  const spec = sliderSpec({ min: 1, max: 1000, log: true, value: 100 });
  assert.equal(toPosition(100, spec), 2);
  assert.equal(fromPosition(2, spec), 100);
  assert.equal(fromPosition(1.35, spec), 22.4);
  assert.equal(fromPosition(-0.5, spec), 1); // clamped
  assert.equal(fromPosition(3.2, spec), 1000);
  for (let pos = 0; pos <= 3; pos += 0.05) {
    const v = fromPosition(pos, spec);
    assert.ok(Math.abs(toPosition(v, spec) - pos) < 0.003, `position ${pos} -> ${v}`);
  }
  const lin = sliderSpec({ min: 0, max: 45, step: 0.5, value: 30 });
  assert.equal(fromPosition(22.5, lin), 22.5);
  assert.equal(fromPosition(7.4, sliderSpec({ min: 0, max: 10, integer: true, value: 1 })), 7);
});

test("slider specs are checked with a clear message", () => {
  assert.throws(() => sliderSpec({ min: 0, max: 10, log: true, value: 1 }), /log slider min=0/);
  assert.throws(() => sliderSpec({ min: 2, max: 1, value: 1 }), /expected min < max/);
  assert.throws(() => sliderSpec({ min: 0, max: 1, value: 3 }), /value=3/);
  assert.throws(() => sliderSpec({ min: 0, max: NaN, value: 0 }), /max=NaN/);
});

test("typed numbers: in range, numeric, whole when asked", () => {
  const spec = sliderSpec({ min: 1, max: 1000, log: true, value: 100 });
  assert.deepEqual(parseNumber(" 250 ", spec), { value: 250 });
  assert.deepEqual(parseNumber("1e2", spec), { value: 100 });
  assert.match(parseNumber("abc", spec).error, /"abc" is not a number/);
  assert.match(parseNumber("", spec).error, /is not a number/);
  assert.match(parseNumber("5000", spec).error, /outside \[1, 1000\]/);
  assert.match(parseNumber("2.5", sliderSpec({ min: 0, max: 9, integer: true, value: 1 })).error, /not a whole number/);
});

test("ticks are round numbers inside the range; log ticks are powers of ten", () => {
  assert.deepEqual(niceTicks(0, 45, 5), [0, 10, 20, 30, 40]);
  assert.deepEqual(niceTicks(-1.5, 1.5, 6), [-1.5, -1, -0.5, 0, 0.5, 1, 1.5]);
  assert.deepEqual(niceTicks(1, 1000, 5, true), [1, 10, 100, 1000]);
  assert.deepEqual(niceTicks(0.5, 20000, 3, true), [1, 100, 10000]);
  for (const t of niceTicks(-0.3, 0.7, 4)) assert.ok(t >= -0.3 && t <= 0.7);
  assert.equal(tickText(1000), "1000");
  assert.equal(tickText(1e5), "1e5");
  assert.equal(tickText(1e-4), "1e-4");
  assert.equal(tickText(0.25), "0.25");
  assert.equal(tickText(0.1 + 0.2), "0.3");
});

// --- the Preconditioning widget's numbers (docs/widgets/precond-math.js); the browser test compares
// them with the Python package at a fixed setting (tests/browser/test_widgets_precond.py)

import { hessian, kappaDiag, offDiagonal, stepsToTolerance, turn } from "../../docs/widgets/precond-math.js";

test("κ_diag is 1 on the aligned valley, κ at 45°, and (1+|r|)/(1−|r|) in between", () => {
  for (const k of [1, 10, 100, 1000]) {
    assert.equal(kappaDiag(k, 0), 1);
    assert.ok(Math.abs(kappaDiag(k, 45) - k) <= 1e-12 * k, `κ=${k}: ${kappaDiag(k, 45)}`);
  }
  // the page's closed form: r = (κ−1) sinθ cosθ / √((cos²θ + κ sin²θ)(sin²θ + κ cos²θ))
  for (const [k, t] of [[10, 10], [100, 22.5], [1000, 30]]) {
    const c = Math.cos(t * Math.PI / 180);
    const s = Math.sin(t * Math.PI / 180);
    const r = ((k - 1) * s * c) / Math.sqrt((c * c + k * s * s) * (s * s + k * c * c));
    assert.ok(Math.abs(Math.abs(offDiagonal(k, t)) - r) <= 1e-13, `r at κ=${k}, θ=${t}`);
    assert.ok(Math.abs(kappaDiag(k, t) - (1 + r) / (1 - r)) <= 1e-10 * kappaDiag(k, t));
  }
  const [a, b, d] = hessian(100, 30);
  assert.ok(Math.abs(a * d - b * b - 100) < 1e-9, "det H = κ");
  assert.ok(Math.abs(a + d - 101) < 1e-12, "trace H = 1 + κ");
});

test("turn rotates counter-clockwise", () => {
  const [x, y] = turn([1, 0], 90);
  assert.ok(Math.abs(x) < 1e-15 && Math.abs(y - 1) < 1e-15);
});

test("stepsToTolerance is optimessay.protocol.steps_to_tolerance", () => {
  // stays below from index 3 on (a bounce at 2 does not count)
  assert.equal(stepsToTolerance([1, 0.5, 2e-7, 0.3, 1e-7, 1e-8, 1e-9], 1e-6, { relative: true }), 4);
  assert.equal(stepsToTolerance([1e-7, 1e-8], 1e-6), 0);
  assert.equal(stepsToTolerance([1, NaN, 0], 1e-6), Infinity);
  // never arrives: len + log10(final gap / bound)
  assert.ok(Math.abs(stepsToTolerance([1, 0.1, 1e-4], 1e-6, { relative: true }) - (3 + 2)) < 1e-12);
  assert.equal(stepsToTolerance([3, 2, 1.0000005], 1e-6, { fStar: 1 }), 2); // gap 5e-7 <= 1e-6 from index 2
});
