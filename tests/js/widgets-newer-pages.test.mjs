// The live figures of the newer pages (Beyond diagonal, Sign and max-norm, Fixing Adam, Memory-light, ...): their
// numerics against the Python package. Each test's input is built in JS and handed to
// .venv/bin/python (the package computes its own numbers: nothing here is a committed copy), and the
// test compares to 1e-9. The Python programs of all the tests (one per section below, each run as its
// own script on its own stdin) run in two child Pythons started when this file loads, at the same time
// (two cores), instead of one Python per test: torch is imported twice instead of five times.

import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

import * as muon from "../../docs/widgets/muon-math.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const PYTHON = `${ROOT}.venv/bin/python`;

// Runs each job {name: {code, input}} as its own script (fresh globals, `input` as JSON on its stdin,
// its JSON stdout captured) in one child Python; returns {name: parsed output}.
const RUNNER = `
import contextlib, io, json, sys
jobs = json.load(sys.stdin)
out = {}
for name, job in jobs.items():
    sys.stdin = io.StringIO(json.dumps(job["input"]))
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(job["code"], "<" + name + ">", "exec"), {"__name__": "__main__"})
    out[name] = json.loads(printed.getvalue())
sys.stdout.write(json.dumps(out))
`;

/** Run the jobs in one child of the project's Python; resolves to {name: its JSON stdout}. */
function python(jobs) {
  assert.ok(existsSync(PYTHON), `${PYTHON} is missing: the JS-vs-package tests need the project's venv (make venv)`);
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, ["-c", RUNNER], { cwd: ROOT });
    const out = [];
    const err = [];
    child.stdout.on("data", (d) => out.push(d));
    child.stderr.on("data", (d) => err.push(d));
    child.on("error", reject);
    child.on("close", (status) => {
      if (status !== 0) reject(new Error(`${PYTHON} failed (status ${status}): ${Buffer.concat(err).toString().slice(-3000)}`));
      else resolve(JSON.parse(Buffer.concat(out).toString("utf8")));
    });
    child.stdin.end(JSON.stringify(jobs));
  });
}

// Started at the end of this file (every section's code and cases are defined by then); each test awaits it.
let startReferences;
const REFERENCES = new Promise((resolve) => { startReferences = resolve; }).then(() => {
  const job = (name) => ({ [name]: { code: JOBS[name][0], input: JOBS[name][1]() } });
  // two children, about equal in work (measured CPU, torch's import included: protocol + radam 3.9 s,
  // muon + optim + pitfall 3.4 s)
  return Promise.all([python({ ...job("protocol"), ...job("radam") }), python({ ...job("muon"), ...job("optim"), ...job("pitfall") })])
    .then((parts) => Object.assign({}, ...parts));
});
const reference = async (name) => (await REFERENCES)[name];

function close(actual, expected, tol, what) {
  assert.ok(Math.abs(actual - expected) <= tol, `${what}: ${actual} vs ${expected} (|diff| ${Math.abs(actual - expected)} > ${tol})`);
}

// --- Muon: Newton–Schulz ------------------------------------------------------------------------

const MUON_PY = `
import json, sys, inspect, torch
from optimessay.optimizers.muon import muon_preconditioner, muon_spectral_map, muon_orthogonalize
cases = json.load(sys.stdin)
out = {"defaults": list(inspect.signature(muon_orthogonalize).parameters["ns_coefficients"].default),
       "steps_default": inspect.signature(muon_orthogonalize).parameters["ns_steps"].default, "cases": []}
for c in cases:
    G = torch.tensor(c["G"], dtype=torch.float64)
    coeffs = tuple(c["coefficients"])
    P = muon_preconditioner(G, coeffs, c["steps"])
    O = P @ G
    s = torch.linalg.svdvals(G)
    out["cases"].append({"O": O.tolist(), "svd_in": s.tolist(), "svd_out": torch.linalg.svdvals(O).tolist(),
                         "phi": muon_spectral_map(s / G.norm(), coeffs, c["steps"]).tolist()})
print(json.dumps(out))
`;

function muonCases() {
  const cases = [];
  for (const [m, kappa, seed] of [[12, 1000, 1], [8, 10, 7], [6, 1, 3]]) {
    const G = muon.matrixWithSpectrum(m, muon.spreadSigmas(6, kappa), seed).map((row) => row.map((x) => 3.7 * x));
    for (const steps of [0, 1, 5, 10]) cases.push({ G, steps, coefficients: [...muon.MUON_COEFFICIENTS] });
    cases.push({ G: muon.transpose(G), steps: 5, coefficients: [...muon.MUON_COEFFICIENTS] }); // wide
    cases.push({ G, steps: 8, coefficients: [...muon.CUBIC_COEFFICIENTS] });
  }
  return cases;
}

test("Muon: the widget's coefficients and step count are muon.py's defaults", async () => {
  const ref = await reference("muon");
  assert.deepEqual([...muon.MUON_COEFFICIENTS], ref.defaults);
  assert.equal(muon.MUON_STEPS, ref.steps_default);
});

test("Muon: JS Newton–Schulz (float64) equals the package's P·G to 1e-9, wide and tall, 0-10 steps", async () => {
  const cases = muonCases();
  const ref = await reference("muon");
  let worst = 0;
  cases.forEach((c, k) => {
    const r = ref.cases[k];
    const O = muon.newtonSchulz(c.G, { coefficients: c.coefficients, steps: c.steps });
    assert.equal(O.length, r.O.length);
    O.forEach((row, i) => row.forEach((x, j) => {
      worst = Math.max(worst, Math.abs(x - r.O[i][j]));
      close(x, r.O[i][j], 1e-9, `case ${k} O[${i}][${j}]`);
    }));
    const sIn = muon.singularValues(c.G);
    sIn.forEach((s, i) => close(s, r.svd_in[i], 1e-9 * r.svd_in[0], `case ${k} σ_in[${i}]`));
    const sOut = muon.singularValues(O);
    sOut.forEach((s, i) => close(s, r.svd_out[i], 1e-9, `case ${k} σ_out[${i}]`));
    const norm = muon.frobenius(c.G);
    sIn.forEach((s, i) => close(muon.spectralMap(s / norm, c.coefficients, c.steps), r.phi[i], 1e-9, `case ${k} φ[${i}]`));
  });
  assert.ok(worst < 1e-9);
  console.log(`Muon: largest |JS − package| over ${cases.length} Newton–Schulz cases: ${worst.toExponential(2)}`);
});

test("Muon: the matrix has the singular values it was built with; bad input is named", () => {
  const sig = muon.spreadSigmas(5, 100);
  assert.equal(sig[0], 1);
  close(sig[4], 0.01, 1e-15, "σ_min");
  muon.singularValues(muon.matrixWithSpectrum(9, sig, 4)).forEach((s, i) => close(s, sig[i], 1e-13, `σ[${i}]`));
  close(muon.stableRank([2, 1, 1]), 1.5, 1e-15, "stable rank");
  assert.throws(() => muon.newtonSchulz([[1, 2], [3]]), /rows of different lengths/);
  assert.throws(() => muon.newtonSchulz([[1, NaN]]), /NaN is not a finite number/);
  assert.throws(() => muon.spectralMap(0.5, muon.MUON_COEFFICIENTS, 100), /steps=100/);
  assert.throws(() => muon.spreadSigmas(4, 0.5), /kappa=0.5/);
});

// --- Sign and max-norm, Fixing Adam, Memory-light: the package's optimizers on the widgets' inputs --

import * as sign from "../../docs/widgets/sign-math.js";
import * as fixing from "../../docs/widgets/fixing-math.js";
import * as memory from "../../docs/widgets/memory-math.js";

const OPTIM_PY = `
import json, sys, torch
import optimessay
cases = json.load(sys.stdin)
out = {}
def walk(cls, kwargs, grads, shape):
    p = torch.nn.Parameter(torch.zeros(shape, dtype=torch.float64))
    opt = cls([p], **kwargs)
    moves, precond = [], []
    for g in grads:
        p.grad = torch.tensor(g, dtype=torch.float64)
        before = p.detach().clone()
        opt.step()
        moves.append(((p.detach() - before) / kwargs["lr"]).tolist())
        precond.append(opt.preconditioner(p).tolist())
    return p, opt, moves, precond
out["sign"] = []
for c in cases["sign"]:
    cls = {"adam": optimessay.Adam, "adamax": optimessay.Adamax}[c["kind"]]
    _, _, moves, precond = walk(cls, dict(lr=c["lr"], betas=(float(c["beta1"]), float(c["beta2"])), eps=float(c["eps"])), c["grads"], 2)
    out["sign"].append({"moves": moves, "precond": precond})
out["fixing"] = []
for c in cases["fixing"]:
    res = {}
    for ams in (False, True):
        _, _, moves, precond = walk(optimessay.Adam, dict(lr=1e-3, betas=(float(c["beta1"]), float(c["beta2"])), amsgrad=ams), [[g, g] for g in c["grads"]], 2)
        res["amsgrad" if ams else "adam"] = [q[0] for q in precond]
    out["fixing"].append(res)
out["memory"] = []
for c in cases["memory"]:
    G = c["grads"]
    p, opt, _, precond = walk(optimessay.Adafactor, dict(lr=1e-2), G, (len(G[0]), len(G[0][0])))
    q, opt_full, _, _ = walk(optimessay.Adafactor, dict(lr=1e-2), [sum(g, []) for g in G], len(G[0]) * len(G[0][0]))
    st = opt.state[p]
    out["memory"].append({"R": st["row_var"].flatten().tolist(), "C": st["col_var"].flatten().tolist(),
                          "V": opt_full.state[q]["variance"].view(len(G[0]), -1).tolist(), "P": precond[-1]})
print(json.dumps(out))
`;

const signCases = [
  { kind: "adam", beta1: 0, beta2: 0, eps: 0, c: 1 },
  { kind: "adam", beta1: 0.9, beta2: 0.999, eps: 1e-8, c: 1 },
  { kind: "adam", beta1: 0.5, beta2: 0.9, eps: 1e-8, c: 1e-6 },
  { kind: "adamax", beta1: 0, beta2: 0, eps: 0, c: 1 },
  { kind: "adamax", beta1: 0.9, beta2: 0.999, eps: 1e-8, c: 1024 },
];
const fixingCases = [{ spike: 100, beta2: 0.999 }, { spike: 1000, beta2: 0.99 }, { spike: 3, beta2: 0.9 }];
const memoryCases = [{ steps: 1, noise: 0 }, { steps: 1, noise: 1 }, { steps: 40, noise: 0.6 }];
function optimCases() {
  return {
    sign: signCases.map((c) => ({ ...c, lr: 2 ** -7, grads: Array.from({ length: sign.STEPS }, (_, k) => [...sign.gradient(k + 1, c.c)]) })),
    fixing: fixingCases.map((c) => ({ beta1: 0.9, beta2: c.beta2, grads: Array.from({ length: fixing.STEPS }, (_, k) => fixing.gradient(k + 1, c.spike)) })),
    memory: memoryCases.map((c) => ({ grads: memory.gradients(c.steps, c.noise) })),
  };
}

const rel = (a, b) => Math.abs(a - b) / Math.max(Math.abs(b), 1e-300);

test("Sign: the widget's steps/lr and P equal optimessay.Adam's and Adamax's (1e-9); betas (0, 0), eps 0 is sign descent exactly", async () => {
  const ref = (await reference("optim")).sign;
  signCases.forEach((c, k) => {
    const r = sign.run(c.kind, { beta1: c.beta1, beta2: c.beta2, eps: c.eps }, c.c);
    r.moves.forEach((mv, t) => mv.forEach((x, i) => close(x, ref[k].moves[t][i], 1e-9, `case ${k} step ${t + 1} move[${i}]`)));
    r.precond.forEach((pc, t) => pc.forEach((x, i) => assert.ok(rel(x, ref[k].precond[t][i]) <= 1e-9, `case ${k} step ${t + 1} P[${i}]: ${x} vs ${ref[k].precond[t][i]}`)));
    if (c.beta1 === 0 && c.beta2 === 0 && c.eps === 0) assert.equal(r.maxSignGap, 0, `${c.kind}: betas (0, 0), eps 0 is not sign descent`);
  });
  assert.ok(sign.run("adam", {}).maxSignGap > 0.5, "default Adam is not sign descent on this sequence");
  assert.throws(() => sign.run("sgd", {}), /expected "adam" or "adamax"/);
  assert.throws(() => sign.run("adam", {}, 0), /loss scale c=0/);
});

test("Fixing Adam: the widget's P per step for Adam and AMSGrad equals optimessay.Adam's (amsgrad False/True) to 1e-9", async () => {
  const ref = (await reference("optim")).fixing;
  fixingCases.forEach((c, k) => {
    const r = fixing.run(c.spike, c.beta2);
    for (const key of ["adam", "amsgrad"]) {
      r[key].forEach((x, t) => assert.ok(rel(x, ref[k][key][t]) <= 1e-9, `case ${k} ${key} step ${t + 1}: ${x} vs ${ref[k][key][t]}`));
    }
  });
  assert.throws(() => fixing.run(-1, 0.99), /spike=-1/);
});

test("Memory-light: the widget's R, C, full V and P equal optimessay.Adafactor's state and preconditioner to 1e-9", async () => {
  const ref = (await reference("optim")).memory;
  memoryCases.forEach((c, k) => {
    const f = memory.factor(memory.gradients(c.steps, c.noise));
    f.R.forEach((x, i) => assert.ok(rel(x, ref[k].R[i]) <= 1e-9, `case ${k} R[${i}]`));
    f.C.forEach((x, j) => assert.ok(rel(x, ref[k].C[j]) <= 1e-9, `case ${k} C[${j}]`));
    f.V.forEach((row, i) => row.forEach((x, j) => assert.ok(rel(x, ref[k].V[i][j]) <= 1e-9, `case ${k} V[${i}][${j}]`)));
    f.P.forEach((row, i) => row.forEach((x, j) => assert.ok(rel(x, ref[k].P[i][j]) <= 1e-9, `case ${k} P[${i}][${j}]: ${x} vs ${ref[k].P[i][j]}`)));
  });
  const exact = memory.summary(memory.gradients(1, 0));
  assert.ok(exact.maxLogError < 1e-12 && Math.abs(exact.pgMax - 1) < 1e-12 && Math.abs(exact.pgMin - 1) < 1e-12, "rank-1 g² is not factored exactly");
  assert.equal(exact.memoryFactored, memory.ROWS + memory.COLS);
  assert.throws(() => memory.gradients(0, 0.5), /steps=0/);
  assert.throws(() => memory.gradients(3, 2), /noise=2/);
});

// --- Comparing: the tuning protocol ----------------------------------------------------------------

import * as compare from "../../docs/widgets/compare-math.js";

const PROTOCOL_PY = `
import json, math, sys
from optimessay import landscapes, optimizers, protocol
cases = json.load(sys.stdin)
LAND = {"banana": lambda: landscapes.rosenbrock(), "himmelblau": lambda: landscapes.himmelblau(),
        "quadratic": lambda: landscapes.quadratic(kappa=50.0, theta=math.radians(30))}
CLS = {"sgd": ("SGD", {}), "momentum": ("SGD", {"momentum": 0.9}), "nesterov": ("SGD", {"momentum": 0.9, "nesterov": True}),
       "rmsprop": ("RMSprop", {}), "adam": ("Adam", {}), "adamw": ("AdamW", {"weight_decay": 0.01}), "adagrad": ("Adagrad", {})}
out = []
for c in cases:
    cls, fixed = CLS[c["key"]]
    t = protocol.tune_landscape(LAND[c["race"]](), getattr(optimizers, cls), fixed, steps=c["steps"], tol=c["tol"], relative=True)
    table = t.table()
    out.append({"lr": t.lr, "score": t.score, "on_edge": t.on_edge, "extended": list(t.extended),
                "table": [[lr, m if math.isfinite(m) else None] for lr, m in table.items()]})
print(json.dumps(out))
`;

const protocolCases = [
  { key: "adam", race: "banana", tol: 1e-6 },
  { key: "sgd", race: "himmelblau", tol: 1e-6 },
  { key: "adamw", race: "quadratic", tol: 1e-6 },
  { key: "rmsprop", race: "banana", tol: 1e-3 },
  { key: "nesterov", race: "quadratic", tol: 1e-2 },
];

test("Comparing: the JS protocol picks protocol.tune_landscape's lr, with every lr's median score to 1e-9", async () => {
  const cases = protocolCases;
  const ref = await reference("protocol");
  let worst = 0;
  cases.forEach((c, k) => {
    const t = compare.tune(c.key, c.race, c.tol);
    const r = ref[k];
    assert.equal(t.lr, r.lr, `${c.key} on ${c.race}: lr`);
    assert.equal(t.onEdge, r.on_edge);
    assert.deepEqual(t.extended, r.extended);
    assert.deepEqual(t.table.map((x) => x.lr), r.table.map(([lr]) => lr), `${c.key} on ${c.race}: grid`);
    t.table.forEach((x, i) => {
      const m = r.table[i][1];
      if (m === null) assert.equal(x.median, Infinity, `${c.key} on ${c.race} lr ${x.lr}: Python diverged, JS ${x.median}`);
      else {
        worst = Math.max(worst, rel(x.median, m));
        assert.ok(rel(x.median, m) <= 1e-9, `${c.key} on ${c.race} lr ${x.lr}: ${x.median} vs ${m}`);
      }
    });
  });
  console.log(`Comparing: largest relative difference of a median score, JS vs optimessay.protocol: ${worst.toExponential(2)}`);
});

test("Comparing: grid, starts and scores follow protocol.py's definitions; bad input is named", () => {
  const grid = compare.lrGrid(1e-5, 10, 4);
  assert.equal(grid.length, 25);
  assert.equal(grid[8], 1e-3);
  assert.equal(grid[9], 0.00177827941004); // 12 significant digits, as protocol._grid_lr
  const starts = compare.startsAround([-1.5, 2.5]);
  assert.equal(starts.length, 5);
  starts.slice(1).forEach(([x, y]) => close(Math.hypot(x + 1.5, y - 2.5), 0.1, 1e-15, "start distance"));
  assert.equal(compare.stepsToTolerance([1, 0.5, 1e-7, 2e-7, 1e-8], 1e-6), 2);
  assert.equal(compare.stepsToTolerance([1, 1e-7, 1e-5], 1e-6), 3 + Math.log10(1e-5 / 1e-6));
  assert.equal(compare.stepsToTolerance([1, NaN], 1e-6), Infinity);
  assert.equal(compare.aggregate([3, 1, 2, 5, 4]), 3);
  assert.equal(compare.aggregate([3, Infinity, 2]), Infinity);
  assert.throws(() => compare.tune("lion", "banana"), /optimizer "lion"/);
  assert.throws(() => compare.tune("adam", "moon"), /race "moon"/);
  assert.throws(() => compare.tune("adam", "banana", 0), /tol=0/);
});

// --- Pitfalls: forgetting zero_grad --------------------------------------------------------------------

import * as pitfall from "../../docs/widgets/pitfall-math.js";

const PITFALL_PY = `
import json, math, sys, torch
import optimessay
from optimessay import landscapes
out = []
for c in json.load(sys.stdin):
    banana = landscapes.rosenbrock()
    p = torch.tensor(banana.start, dtype=torch.float64, requires_grad=True)
    opt = optimessay.SGD([p], lr=c["lr"], momentum=c["momentum"])
    points, losses, diverged = [p.detach().tolist()], [], None
    for t in range(c["steps"] + 1):
        if c["zero_grad"]:
            opt.zero_grad()
        loss = banana.fn(p[0], p[1])
        loss.backward()
        losses.append(loss.item() if math.isfinite(loss.item()) else None)
        if not (math.isfinite(loss.item()) and bool(torch.isfinite(p.grad).all())):
            diverged = t
            break
        if t == c["steps"]:
            break
        opt.step()
        points.append(p.detach().tolist())
    out.append({"points": points, "losses": losses, "diverged": diverged})
print(json.dumps(out))
`;

const pitfallCases = [
  { lr: 1e-3, momentum: 0.98, zero_grad: false, steps: 100 },
  { lr: 1e-3, momentum: 0.98, zero_grad: true, steps: 100 },
  { lr: 1e-4, momentum: 0, zero_grad: false, steps: 60 },
];

test("Pitfalls: SGD with and without zero_grad() walks as optimessay.SGD with autograd's accumulation (1e-9)", async () => {
  const cases = pitfallCases;
  const ref = await reference("pitfall");
  cases.forEach((c, k) => {
    const w = pitfall.walk(c.lr, c.momentum, c.zero_grad, c.steps);
    assert.equal(w.divergedAt, ref[k].diverged, `case ${k}: diverged at`);
    assert.equal(w.points.length, ref[k].points.length);
    w.points.forEach(([x, y], i) => {
      const [px, py] = ref[k].points[i];
      assert.ok(rel(x, px) <= 1e-9 && rel(y, py) <= 1e-9, `case ${k} point ${i}: (${x}, ${y}) vs (${px}, ${py})`);
    });
  });
  // without zero_grad, the seed's setting diverges within 100 steps (the page's claim); with it, not
  assert.ok(pitfall.walk(1e-3, 0.98, false, 100).divergedAt !== null);
  assert.equal(pitfall.walk(1e-3, 0.98, true, 100).divergedAt, null);
  // plain SGD without zero_grad is SGD with momentum 1 (no dampening), bit for bit (the caption's claim)
  assert.deepEqual(pitfall.walk(1e-4, 0, false, 300).points, pitfall.walk(1e-4, 1, true, 300).points);
});

const RADAM_PY = `
import json, sys, torch
import optimessay
out = []
for c in json.load(sys.stdin):
    res = {}
    for name, cls in (("adam", optimessay.Adam), ("radam", optimessay.RAdam)):
        p = torch.nn.Parameter(torch.zeros(1, dtype=torch.float64))
        opt = cls([p], lr=1e-3, betas=(0.9, float(c["beta2"])))
        steps, first = [], None
        for t in range(1, c["last"] + 1):
            p.grad = torch.tensor([float(c["g"])], dtype=torch.float64)
            before = p.item()
            opt.step()
            steps.append(abs(p.item() - before))
            if name == "radam" and first is None and opt.preconditioner(p).item() != 1.0:
                first = t
        res[name] = steps
        if name == "radam":
            res["switch"] = first
    out.append(res)
print(json.dumps(out))
`;

const radamCases = [{ g: 1, beta2: 0.999, last: 1500 }, { g: 100, beta2: 0.99, last: 400 }, { g: 0.001, beta2: 0.9999, last: 300 }];

test("Fixing Adam (RAdam): the widget's Adam and RAdam step lengths equal optimessay's to 1e-9; the switch is where P stops being 1", async () => {
  const cases = radamCases;
  const ref = await reference("radam");
  cases.forEach((c, k) => {
    const r = fixing.radamRun(c.g, c.beta2, c.last);
    assert.equal(r.switchStep, ref[k].switch, `case ${k}: switch step`);
    r.adamStep.forEach((s, t) => assert.ok(rel(s, ref[k].adam[t]) <= 1e-9, `case ${k} Adam step ${t + 1}: ${s} vs ${ref[k].adam[t]}`));
    r.radamStep.forEach((s, t) => assert.ok(rel(s, ref[k].radam[t]) <= 1e-9, `case ${k} RAdam step ${t + 1}: ${s} vs ${ref[k].radam[t]}`));
  });
  const steps = fixing.radamSteps(10000);
  assert.equal(steps[0], 1);
  assert.equal(steps[steps.length - 1], 10000);
  assert.ok(steps.every((t, i) => i === 0 || t > steps[i - 1]));
  assert.throws(() => fixing.radamRun(0, 0.999), /g=0/);
});

// every section's Python program and the input it gets (built in JS, as each test builds it)
const JOBS = {
  muon: [MUON_PY, muonCases],
  optim: [OPTIM_PY, optimCases],
  protocol: [PROTOCOL_PY, () => protocolCases.map((c) => ({ ...c, steps: compare.RACES[c.race].steps }))],
  pitfall: [PITFALL_PY, () => pitfallCases],
  radam: [RADAM_PY, () => radamCases],
};
startReferences();
