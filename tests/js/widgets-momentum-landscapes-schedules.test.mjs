// The live figures of the SGD-and-momentum, Landscapes and Schedules pages compute what the Python
// package computes.
//
// docs/widgets/{momentum,landscape,schedule}-math.js are compared here with numbers the package
// computes in this test (a Python child process, optimessay in float64):
// - momentum: each eigen-mode's heavy-ball rate against the spectral radius of the package's SGD
//   step seen as a linear map of (θ, buffer) on ½λθ² (its matrix is read off the optimizer's own
//   step from two basis states), and Polyak's parameters against optimessay.experiments.momentum.polyak;
// - landscapes: Hessian, eigenvalues, κ, flat direction and κ after the Jacobi scaling against
//   optimessay.landscapes' autograd Hessians and torch.linalg.eigh, at points of every landscape;
// - schedules: every lr and every point of the walks against optimessay's schedulers and
//   optimessay.trajectory.run.
// Tolerance 1e-9 relative (near 0: of the largest value of the series), as tests/js/vectors.test.mjs
// explains for walks; closed forms and eigenvalues agree far closer (measured below 1e-12).
//
// OPTIMESSAY_PYTHON: the Python with optimessay installed (default: the repository's .venv).

import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

import { gdModeRate, heavyBallModeRate, polyak, quadraticRates, stepsToShrink } from "../../docs/widgets/momentum-math.js";
import { curvature, eigSym2, hessian, lineAngle } from "../../docs/widgets/landscape-math.js";
import { lrSequence, scheduledWalk, schedules } from "../../docs/widgets/schedule-math.js";
import { getLandscape, rosenbrock } from "../../docs/playground/landscapes.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const PYTHON = process.env.OPTIMESSAY_PYTHON || `${ROOT}.venv/bin/python`;
const RTOL = 1e-9;

const MODES = [];
for (const lr of [0.001, 0.01, 0.05, 0.2]) for (const mu of [0, 0.3, 0.9, 0.98]) for (const lam of [1, 10, 100, 1000]) MODES.push([lr, mu, lam]);
const KAPPAS = [1, 2.5, 10, 100, 1000, 2508];
const POINTS = {
  rosenbrock: [[1, 1], [-1.5, 2.5], [-1, 1], [0.3, -0.4]],
  beale: [[3, 0.5], [1, 1.5], [-2, 0.7], [0.5, -1.3]],
  himmelblau: [[3, 2], [0, 0], [-2.805118086952745, 3.131312518250573], [1.5, -2.5]],
  quadratic: [[0, 0], [-1.5, 1], [0.7, 0.2]],
  saddle: [[0, 0], [-1.5, 0.05], [0.4, 1.2]],
  rastrigin: [[0, 0], [-3.2, 2.8], [0.25, 0.6]],
  valley: [[0, 0], [-3.5, 1], [2, -0.5]],
};
const QUADRATIC = { kappa: 50, theta: 0.5235987755982988 }; // 30° in radians, as math.radians(30)
const STEPS = 100;
const SCHEDULE_RUN = { lr: 1e-3, momentum: 0.98, start: [-1.5, 2.5], steps: STEPS };

const EXPORT = String.raw`
import json, math, sys
import torch
import optimessay
from optimessay import landscapes, trajectory
from optimessay.experiments import momentum

cfg = json.loads(sys.argv[1])
out = {"modes": [], "polyak": {}, "curvature": {}, "schedules": {}}

def sgd_step(lr, mu, lam, theta, buf):
    # one step of the package's SGD on ½λθ² from state (θ, buffer): the step's map is linear in it
    p = torch.tensor([theta], dtype=torch.float64, requires_grad=True)
    opt = optimessay.SGD([p], lr=lr, momentum=mu)
    if mu != 0:
        opt.state[p]["momentum_buffer"] = torch.tensor([buf], dtype=torch.float64)
    (0.5 * lam * p * p).sum().backward()
    opt.step()
    b = float(opt.state[p]["momentum_buffer"]) if mu != 0 else 0.0
    return [float(p.detach()[0]), b]

for lr, mu, lam in cfg["modes"]:
    cols = [sgd_step(lr, mu, lam, 1.0, 0.0), sgd_step(lr, mu, lam, 0.0, 1.0)]
    M = torch.tensor(cols, dtype=torch.float64).T  # columns: images of the basis states
    out["modes"].append(float(torch.linalg.eigvals(M).abs().max()))

for k in cfg["kappas"]:
    out["polyak"][str(k)] = momentum.polyak(k)

for name, pts in cfg["points"].items():
    land = landscapes.get(name, **(cfg["quadratic"] if name == "quadratic" else {}))
    rows = []
    for x, y in pts:
        H = land.hessian(torch.tensor([x, y], dtype=torch.float64))
        ev, vec = torch.linalg.eigh(H)
        row = {"h": [float(H[0, 0]), float(H[0, 1]), float(H[1, 1])], "ev": [float(ev[0]), float(ev[1])],
               "angle": math.degrees(math.atan2(float(vec[1, 0]), float(vec[0, 0]))) % 180.0}
        if ev[0] > 0:
            d = torch.diagonal(H).rsqrt()
            evd = torch.linalg.eigvalsh(d[:, None] * H * d[None, :])
            row["kappa"] = float(ev[1] / ev[0])
            row["kappa_diag"] = float(evd[1] / evd[0])
        rows.append(row)
    out["curvature"][name] = rows

S = optimessay
run_cfg = cfg["run"]
steps = run_cfg["steps"]
banana = landscapes.rosenbrock()
for key, _label, kind, params in cfg["schedules"]:
    if kind == "none":
        sched, kw = None, {}
    elif kind == "exponential":
        sched, kw = S.ExponentialLR, {"gamma": params["gamma"]}
    elif kind == "step":
        sched, kw = S.StepLR, {"step_size": params["step_size"], "gamma": params["gamma"]}
    elif kind == "multistep":
        sched, kw = S.MultiStepLR, {"milestones": params["milestones"], "gamma": params["gamma"]}
    elif kind == "cosine":
        sched, kw = S.CosineAnnealingLR, {"T_max": params["T_max"], "eta_min": params["eta_min"]}
    elif kind == "warmup":
        sched, kw = S.LinearLR, {"start_factor": params["start_factor"], "end_factor": params["end_factor"],
                                 "total_iters": params["total_iters"]}
    elif kind == "warmup-cosine":
        sched = S.SequentialLR
        kw = {"schedulers": [(S.LinearLR, {"start_factor": params["start_factor"], "total_iters": params["warmup"]}),
                             (S.CosineAnnealingLR, {"T_max": params["T_max"], "eta_min": params["eta_min"]})],
              "milestones": [params["warmup"]]}
    else:
        raise ValueError(kind)
    w = trajectory.run(banana, S.SGD, {"lr": run_cfg["lr"], "momentum": run_cfg["momentum"]},
                       start=tuple(run_cfg["start"]), steps=steps, scheduler_class=sched, scheduler_kwargs=kw)
    out["schedules"][key] = {"lrs": [float(v) for v in w.lrs], "points": [float(v) for v in w.points.reshape(-1)],
                             "losses": [float(v) for v in w.losses]}
print(json.dumps(out))
`;

function python() {
  const cfg = { modes: MODES, kappas: KAPPAS, points: POINTS, quadratic: QUADRATIC, schedules: schedules(STEPS), run: SCHEDULE_RUN };
  const r = spawnSync(PYTHON, ["-c", EXPORT, JSON.stringify(cfg)], { cwd: ROOT, encoding: "utf8", maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`the Python child failed (${PYTHON}): ${r.stderr || r.error}`);
  return JSON.parse(r.stdout);
}
const PY = python();

/** Largest |a − e| / max(|e|, 1e-9 relative floor of the series' largest |e|) over two lists. */
function worst(actual, expected, what) {
  assert.equal(actual.length, expected.length, `${what}: length`);
  const floor = Math.max(1e-300, ...expected.map(Math.abs)) * 0.01;
  let w = 0;
  for (let i = 0; i < expected.length; i++) {
    const err = Math.abs(actual[i] - expected[i]) / Math.max(Math.abs(expected[i]), floor);
    if (!(err <= w)) w = err;
  }
  return w;
}
const close = (actual, expected, what) => {
  const w = worst(actual, expected, what);
  assert.ok(w <= RTOL, `${what}: largest relative difference ${w} > ${RTOL}`);
  return w;
};

test("momentum: each eigen-mode's heavy-ball rate is the spectral radius of the package's SGD step", (t) => {
  const js = MODES.map(([lr, mu, lam]) => heavyBallModeRate(lr, mu, lam));
  const w = close(js, PY.modes, "heavy-ball mode rates");
  t.diagnostic(`largest relative difference ${w}`);
  assert.ok(w < 1e-12, `measured ${w}`);
  // μ = 0 is gradient descent: |1 − lr·λ|
  for (const [lr, mu, lam] of MODES) if (mu === 0) assert.equal(heavyBallModeRate(lr, 0, lam), gdModeRate(lr, lam));
});

test("momentum: Polyak's heavy ball equals optimessay.experiments.momentum.polyak", () => {
  for (const k of KAPPAS) {
    const js = polyak(k);
    const py = PY.polyak[String(k)];
    for (const key of ["alpha", "beta", "rate_hb", "lr_gd", "rate_gd"]) {
      assert.ok(Math.abs(js[key] - py[key]) <= 1e-15 * Math.max(1, Math.abs(py[key])), `κ=${k} ${key}: ${js[key]} vs ${py[key]}`);
    }
  }
});

test("momentum: at Polyak's (lr, μ) both extreme modes decay at (√κ−1)/(√κ+1); GD at its best lr at (κ−1)/(κ+1)", () => {
  for (const k of [10, 100, 1000]) {
    const p = polyak(k);
    const r = quadraticRates(p.alpha, p.beta, [1, k]);
    for (const v of r.hb) assert.ok(Math.abs(v - p.rate_hb) < 1e-7, `κ=${k}: mode rate ${v} vs ${p.rate_hb}`);
    const g = quadraticRates(p.lr_gd, 0, [1, k]);
    assert.ok(Math.abs(g.gdRate - p.rate_gd) < 1e-15);
    assert.ok(stepsToShrink(r.hbRate) < stepsToShrink(g.gdRate));
  }
  assert.equal(stepsToShrink(1.2), Infinity);
  assert.equal(stepsToShrink(0.1, 1e6), 6);
});

test("momentum: bad input names the value", () => {
  assert.throws(() => heavyBallModeRate(0.1, 1, 1), /mu=1: expected a momentum in \[0, 1\)/);
  assert.throws(() => polyak(0.5), /kappa=0.5: expected a condition number >= 1/);
  assert.throws(() => gdModeRate(NaN, 1), /lr=NaN/);
});

test("landscapes: Hessian, eigenvalues, κ, flat direction and κ_diag equal optimessay.landscapes", (t) => {
  let largest = 0;
  for (const [name, pts] of Object.entries(POINTS)) {
    const land = getLandscape(name, name === "quadratic" ? QUADRATIC : {});
    pts.forEach(([x, y], i) => {
      const py = PY.curvature[name][i];
      const c = curvature(land, x, y);
      const where = `${name} at (${x}, ${y})`;
      largest = Math.max(largest, close(hessian(land, x, y), py.h, `${where} Hessian`));
      largest = Math.max(largest, close([c.lamMin, c.lamMax], py.ev, `${where} eigenvalues`));
      if ("kappa" in py) {
        largest = Math.max(largest, close([c.kappa, c.kappaDiag], [py.kappa, py.kappa_diag], `${where} κ, κ_diag`));
        // the flat direction is a line: compare angles modulo 180° (a tie at 0/180 is the same line)
        const d = Math.abs(c.flatAngle - py.angle);
        assert.ok(Math.min(d, 180 - d) < 1e-9, `${where} flat direction ${c.flatAngle}° vs ${py.angle}°`);
      } else {
        assert.equal(c.kappa, null, `${where}: not a minimum, no κ`);
      }
    });
  }
  t.diagnostic(`largest relative difference ${largest}`);
  assert.ok(largest < 1e-11, `measured ${largest}`);
});

test("landscapes: the 2×2 eigen-solver keeps the small eigenvalue of a stiff matrix, and unknown names fail", () => {
  const { values } = eigSym2(802, -400, 200); // the banana at (1, 1)
  assert.ok(Math.abs(values[0] * values[1] - (802 * 200 - 400 * 400)) < 1e-9);
  assert.deepEqual(eigSym2(3, 0, 3).vector, [1, 0]);
  assert.equal(lineAngle(-1, 0), 0);
  assert.throws(() => hessian({ name: "nowhere", params: {} }, 0, 0), /no Hessian for landscape "nowhere"/);
  assert.throws(() => hessian(rosenbrock(), NaN, 0), /expected finite coordinates/);
});

test("schedules: every lr and every point of each widget walk equal optimessay's schedulers and trajectory.run", (t) => {
  const banana = rosenbrock();
  let largest = 0;
  for (const [key] of schedules(STEPS)) {
    const py = PY.schedules[key];
    largest = Math.max(largest, close([...lrSequence(key, SCHEDULE_RUN.lr, STEPS)], py.lrs, `${key} lrs`));
    const walk = scheduledWalk(banana, key, SCHEDULE_RUN);
    assert.equal(walk.divergedAt, null);
    largest = Math.max(largest, close([...walk.points], py.points, `${key} points`));
    largest = Math.max(largest, close([...walk.losses], py.losses, `${key} losses`));
  }
  t.diagnostic(`largest relative difference ${largest}`);
  assert.throws(() => lrSequence("sometimes", 1e-3, 10), /unknown schedule "sometimes": expected one of constant/);
});
