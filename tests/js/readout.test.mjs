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

// --- the redesigned canvas: ticks, where a walk leaves the window, colours within a family ----------

import { exitOf, niceTicks, tickText } from "../../docs/playground/render.js";
import { colourRuns, presetState } from "../../docs/playground/state.js";
import { COLORS, hexToOklab, ramp, shades } from "../../docs/playground/palette.js";

test("readout numbers have 4 significant digits, not 7", () => {
  assert.equal(sig(0.7712849551), "0.7713");
  assert.equal(sig(-1.32912345), "-1.329");
  assert.equal(sig(0.000123456), "1.235e-4");
});

test("axis ticks are round numbers covering the window, labelled with the decimals they need", () => {
  assert.deepEqual(niceTicks(-2, 2, 5).values, [-2, -1, 0, 1, 2]);
  assert.deepEqual(niceTicks(-1, 3, 8).values, [-1, -0.5, 0, 0.5, 1, 1.5, 2, 2.5, 3]);
  assert.deepEqual(niceTicks(-5.12, 5.12, 5).values, [-5, 0, 5]);
  assert.deepEqual(niceTicks(-5.12, 5.12, 7).values, [-4, -2, 0, 2, 4]);
  // a narrow canvas asks for few ticks: still at least 3 (the valley's x at 390 px showed only 0)
  assert.deepEqual(niceTicks(-4, 4, 3).values, [-4, -2, 0, 2, 4]);
  assert.deepEqual(niceTicks(-2, 2, 3).values, [-2, 0, 2]);
  assert.equal(tickText(-0.5, 0.5), "−0.5");
  assert.equal(tickText(2, 1), "2");
  assert.equal(tickText(0, 0.5), "0.0");
});

test("a diverging walk's exit: the step it left the window, on the window's edge", () => {
  const diverged = run(banana, "sgd", { lr: 0.01 }, { start: [-1.5, 2.5], steps: 60 });
  assert.notEqual(diverged.result?.divergedAt ?? diverged.divergedAt, null);
  const exit = exitOf(diverged, banana);
  assert.ok(exit && exit.step >= 1 && exit.step <= diverged.divergedAt, JSON.stringify(exit));
  const [x0, x1] = banana.xRange;
  const [y0, y1] = banana.yRange;
  const onEdge = [exit.x - x0, x1 - exit.x, exit.y - y0, y1 - exit.y].some((d) => Math.abs(d) < 1e-9);
  assert.ok(onEdge, `exit (${exit.x}, ${exit.y}) is not on the window's edge`);
  // the walk was inside the window before that step
  const k = exit.step - 1;
  assert.ok(diverged.points[2 * k] >= x0 && diverged.points[2 * k] <= x1 && diverged.points[2 * k + 1] >= y0 && diverged.points[2 * k + 1] <= y1);
  // a walk that stays in the window has no exit
  assert.equal(exitOf(run(banana, "adam", { lr: 0.05 }, { start: [-1.5, 2.5], steps: 60 }), banana), null);
});

/** Perceptual distance between two #rrggbb colours: Euclidean in OKLab (0.02 is about a just-visible step). */
const distance = (a, b) => Math.hypot(...hexToOklab(a).map((v, i) => v - hexToOklab(b)[i]));
const CARD = "#f4f4f2"; // the canvas (optimessay.style.BACKGROUND)

test("the nine runs of 'Seed: RMSprop alphas' get a ramp ordered by alpha and one colour bar", () => {
  const state = presetState("seed-rmsprop-alpha");
  const { colours, sweeps } = colourRuns(state.runs);
  assert.equal(colours[0].colour, COLORS.momentum); // the lone SGD-with-momentum run keeps its colour
  assert.deepEqual(sweeps.map((s) => [s.kind, s.key]), [["rmsprop", "alpha"]]);
  const alphas = sweeps[0].members.map((i) => state.runs[i].hp.alpha);
  assert.deepEqual(alphas, [...alphas].sort((a, b) => a - b)); // ordered by value
  const ramped = sweeps[0].members.map((i) => colours[i].colour);
  assert.deepEqual(ramped, ramp("rmsprop", 9));
  assert.equal(new Set(ramped).size, 9);
  // neighbours are told apart, and the lightest still stands out from the card; measured: the
  // lightness-only shades() of the old playground had neighbours 0.023 apart and came within 0.117 of the card
  const old = shades("rmsprop", 9);
  const nearest = (cs) => Math.min(...cs.slice(1).map((c, i) => distance(cs[i], c)));
  assert.ok(nearest(old) < 0.025 && Math.min(...old.map((c) => distance(c, CARD))) < 0.12);
  for (const kind of ["sgd", "momentum", "nesterov", "rmsprop", "adam", "adamw", "adagrad"]) {
    const cs = ramp(kind, 9);
    assert.ok(nearest(cs) >= 0.05, `${kind}: neighbours ${nearest(cs)} apart`);
    assert.ok(Math.min(...cs.map((c) => distance(c, CARD))) >= 0.18, `${kind}: a colour too close to the card`);
  }
  assert.equal(colours[1].bits, "α 0.8");
});

test("runs of one kind that differ in more than one way are labelled by what differs", () => {
  const { colours, sweeps } = colourRuns(presetState("seed-schedulers").runs);
  assert.deepEqual(sweeps, []);
  assert.deepEqual(colours.map((c) => c.bits), ["constant lr", "ExponentialLR", "StepLR", "MultiStepLR"]);
  assert.equal(new Set(colours.map((c) => c.colour)).size, 4);
  // one run per kind: the optimizer's own colour, nothing to add to its name
  const race = colourRuns(presetState("banana-race").runs);
  assert.deepEqual(race.colours.map((c) => c.colour), ["sgd", "momentum", "nesterov", "rmsprop", "adam", "adamw", "adagrad"].map((k) => COLORS[k]));
  assert.ok(race.colours.every((c) => c.bits === ""));
  // two identical runs: told apart by their place in the list
  const twins = colourRuns([race.colours.length, 0].map(() => ({ kind: "adam", on: true, hp: { lr: 0.1 }, sched: { kind: "none", params: {} } })));
  assert.deepEqual(twins.colours.map((c) => c.bits), ["#1", "#2"]);
  assert.notEqual(twins.colours[0].colour, twins.colours[1].colour);
});

test("ramp: n colours, the optimizer's own for n = 1, greys for black, bad n refused", () => {
  assert.deepEqual(ramp("adam", 1), [COLORS.adam]);
  const greys = ramp("adagrad", 4);
  assert.ok(greys.every((c) => c.slice(1, 3) === c.slice(3, 5) && c.slice(3, 5) === c.slice(5, 7)), greys.join());
  assert.throws(() => ramp("adam", 0), /n must be a whole number >= 1, got 0/);
  assert.throws(() => ramp("nope", 3), /no colour for "nope"/);
});
