// The playground's presets and its URL form: presets reproduce the seed notebook's experiments,
// every state survives a trip through the URL, and malformed or hostile URL values are clamped or
// rejected with a plain-text message (never applied silently, never interpreted).

import { test } from "node:test";
import assert from "node:assert/strict";

import { validate } from "../../docs/playground/optimizers.js";
import { validateScheduler } from "../../docs/playground/schedulers.js";
import {
  MAX_RUNS, PRESETS, optimizerOf, parseQuery, presetState, toQuery,
} from "../../docs/playground/state.js";

const strip = (state) => JSON.parse(JSON.stringify(state));

test("every preset is a valid configuration", () => {
  for (const name of Object.keys(PRESETS)) {
    const s = presetState(name);
    assert.equal(s.preset, name);
    assert.ok(s.runs.length >= 1 && s.runs.length <= MAX_RUNS, name);
    for (const r of s.runs) {
      const [kind, hp] = optimizerOf(r);
      validate(kind, hp);
      validateScheduler(r.sched.kind, r.sched.params);
    }
  }
});

test("the seed presets are the seed notebook's experiments", () => {
  const seedSgd = { kind: "momentum", on: true, hp: { lr: 1e-3, momentum: 0.98 }, sched: { kind: "none", params: {} } };
  const s = presetState("seed-sgd");
  assert.deepEqual([s.landscape, s.start, s.steps], ["rosenbrock", [-1.5, 2.5], 100]);
  assert.deepEqual(s.runs, [seedSgd]);

  const alpha = presetState("seed-rmsprop-alpha");
  assert.equal(alpha.steps, 100);
  assert.deepEqual(alpha.runs[0], seedSgd);
  assert.deepEqual(alpha.runs.slice(1).map((r) => [r.kind, r.hp.lr, r.hp.momentum, r.hp.alpha]),
    [0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0.05].map((a) => ["rmsprop", 0.01, 0.9, a]));

  const mom = presetState("seed-rmsprop-momentum");
  assert.equal(mom.steps, 160);
  assert.deepEqual(mom.runs[0], seedSgd);
  assert.deepEqual(mom.runs.slice(1).map((r) => [r.kind, r.hp.lr, r.hp.alpha, r.hp.momentum]),
    [0.9, 0.7, 0.5, 0.3].map((m) => ["rmsprop", 0.01, 0.5, m]));

  const sched = presetState("seed-schedulers");
  assert.equal(sched.steps, 100);
  assert.deepEqual(sched.runs.map((r) => r.hp), Array(4).fill({ lr: 1e-3, momentum: 0.98 }));
  assert.deepEqual(sched.runs.map((r) => r.sched), [
    { kind: "none", params: {} },
    { kind: "exponential", params: { gamma: 0.99 } },
    { kind: "step", params: { step_size: 4, gamma: 0.99 } },
    { kind: "multistep", params: { milestones: [20, 40, 50, 70], gamma: 0.9 } },
  ]);
});

test("an unknown preset falls back to the default one", () => {
  assert.equal(presetState("nope").preset, "banana-race");
  assert.equal(presetState("__proto__").preset, "banana-race");
});

test("every preset, and an edited state, round-trips through the URL", () => {
  for (const name of Object.keys(PRESETS)) {
    const s = presetState(name);
    const { state, notes, mine } = parseQuery(toQuery(s), "banana-race");
    assert.ok(mine);
    assert.deepEqual(notes, []);
    assert.deepEqual(strip(state), strip(s), name);
  }
  const s = presetState("rotated-quadratic");
  s.kappa = 123.5;
  s.theta = -45;
  s.start = [0.125, -1.75];
  s.steps = 420;
  s.t = 17;
  s.precond = true;
  s.runs[0].on = false;
  s.runs[1].hp.weight_decay = 0.003;
  s.runs[2].sched = { kind: "cosine", params: { T_max: 50, eta_min: 0.0001 } };
  s.runs[3].hp.centered = true;
  s.runs[4].hp.amsgrad = true;
  s.runs[4].sched = { kind: "warmup", params: { start_factor: 0.1, total_iters: 30 } };
  s.runs[5].sched = { kind: "multistep", params: { milestones: [5, 5, 60], gamma: 0.5 } };
  s.runs[6].sched = { kind: "warmup-cosine", params: { start_factor: 0.2, warmup: 15, T_max: 90, eta_min: 0.001 } };
  const { state, notes } = parseQuery(toQuery(s), "banana-race");
  assert.deepEqual(notes, []);
  assert.deepEqual(strip(state), strip(s));
});

test("the URL of another playground on the page leaves this one at its preset", () => {
  const second = toQuery(presetState("seed-sgd"), 1);
  assert.match(second, /^\?pg=1&/);
  const mine = parseQuery(second, "seed-sgd", 1);
  assert.ok(mine.mine);
  const other = parseQuery(second, "banana-race", 0);
  assert.equal(other.mine, false);
  assert.equal(other.state.preset, "banana-race");
});

test("out-of-range values are clamped, with a message", () => {
  const { state, notes } = parseQuery("?preset=seed-sgd&steps=99999&run=adam:lr=500,beta1=2&start=-40,1&t=-3", "banana-race");
  assert.equal(state.steps, 1000);
  assert.equal(state.runs[0].hp.lr, 10);
  assert.equal(state.runs[0].hp.beta1, 0.999);
  assert.deepEqual(state.start, [-2, 1]);
  assert.equal(state.t, 0);
  for (const fragment of ["steps=99999", "lr=500", "beta1=2", "start x=-40", "t=-3"]) {
    assert.ok(notes.some((n) => n.includes(fragment)), `no message about ${fragment}: ${notes.join(" | ")}`);
  }
});

test("malformed and hostile values are rejected, with a message, and never applied", () => {
  const hostile = "<img src=x onerror=alert(1)>";
  const q = new URLSearchParams({
    preset: "seed-sgd", land: hostile, steps: "12abc", scale: "<b>", start: "1,2,3", kappa: "NaN", theta: "Infinity",
  });
  q.append("run", "adam:lr=abc,evil=1");
  q.append("run", `${hostile}:lr=1`);
  q.append("run", "nesterov:lr=0.01,momentum=0");
  q.append("run", "sgd:lr=0.01;step:step_size=0.5,gamma=x");
  q.append("run", "momentum:lr=1e-3;multistep:milestones=1/two/3");
  q.append("injected", hostile);
  const { state, notes } = parseQuery(`?${q}`, "banana-race");
  const base = presetState("seed-sgd");
  assert.equal(state.landscape, "rosenbrock");
  assert.equal(state.steps, base.steps);
  assert.equal(state.scale, "log");
  assert.deepEqual(state.start, base.start);
  assert.deepEqual(state.runs.map((r) => r.kind), ["adam", "sgd", "momentum"]);
  assert.deepEqual(state.runs[0].hp, {}); // lr=abc and evil=1 ignored
  assert.deepEqual(state.runs[1].sched, { kind: "step", params: { step_size: 1 } }); // 0.5 rounded up into range
  assert.deepEqual(state.runs[2].sched, { kind: "multistep", params: {} });
  const all = notes.join("\n");
  for (const fragment of ["Unknown landscape", "steps=12abc", "scale=<b>", "start=1,2,3", "kappa=NaN", "theta=Infinity",
    "lr=abc", "\"evil\"", "unknown optimizer", "Nesterov momentum requires a momentum", "gamma=x", "1/two/3", "\"injected\""]) {
    assert.ok(all.includes(fragment), `no message about ${fragment}:\n${all}`);
  }
});

test("a malformed precond or playground number is reported, never silently coerced", () => {
  const { state, notes, mine } = parseQuery("?pg=1x&preset=seed-sgd&precond=yes", "banana-race", 0);
  assert.ok(mine, "a malformed pg belongs to the first playground");
  assert.equal(state.preset, "seed-sgd");
  assert.equal(state.precond, false);
  for (const fragment of ["pg=1x", "precond=yes"]) {
    assert.ok(notes.some((n) => n.includes(fragment)), `no message about ${fragment}: ${notes.join(" | ")}`);
  }
  assert.equal(parseQuery("?pg=1x&preset=seed-sgd", "banana-race", 1).mine, false);
  assert.equal(parseQuery("?precond=1", "banana-race").state.precond, true);
});

test("too many runs are cut to the maximum, with a message", () => {
  const q = Array.from({ length: MAX_RUNS + 3 }, (_, i) => `run=sgd:lr=${(i + 1) / 1000}`).join("&");
  const { state, notes } = parseQuery(`?${q}`, "banana-race");
  assert.equal(state.runs.length, MAX_RUNS);
  assert.ok(notes.some((n) => n.includes(`only the first ${MAX_RUNS}`)));
});

test("numbers must be plain decimals", () => {
  for (const bad of ["0x10", "1_000", " 1", "1 ", "", "--1", "1e", "Infinity", "1e999"]) {
    const { notes } = parseQuery(`?steps=${encodeURIComponent(bad)}`, "banana-race");
    assert.equal(notes.length, 1, `steps=${JSON.stringify(bad)}: ${notes}`);
  }
});

test("a link written before the redesign (issue 13) still loads as it was, with no message", () => {
  // the format documented in state.js, as the previous playground wrote it (t given: that step)
  const old = "?pg=0&preset=seed-sgd&land=rosenbrock&scale=log&start=-1.5,2.5&steps=100&t=40&precond=1"
    + "&run=momentum:lr=0.001,momentum=0.98;step:step_size=4,gamma=0.99&run=adam:lr=0.05,on=0";
  const { state, notes, mine } = parseQuery(old, "banana-race", 0);
  assert.deepEqual(notes, []);
  assert.equal(mine, true);
  assert.deepEqual([state.preset, state.landscape, state.scale, state.start, state.steps, state.t, state.precond],
    ["seed-sgd", "rosenbrock", "log", [-1.5, 2.5], 100, 40, true]);
  assert.deepEqual(strip(state.runs), [
    { kind: "momentum", on: true, hp: { lr: 0.001, momentum: 0.98 }, sched: { kind: "step", params: { step_size: 4, gamma: 0.99 } } },
    { kind: "adam", on: false, hp: { lr: 0.05 }, sched: { kind: "none", params: {} } },
  ]);
  // and is written back the same way
  assert.equal(toQuery(state), old.replace("pg=0&", ""));
});
