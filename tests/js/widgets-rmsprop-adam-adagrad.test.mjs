// The live figures of the RMSprop, Adam and Adagrad pages compute what the Python package computes.
//
// docs/widgets/{rmsprop,adam,adagrad}-math.js are replayed here and compared, number for number, with
// walks the package runs in this test (a Python child process: optimessay in float64, the same
// settings). Tolerance 1e-9 relative, near 0 of 1 % of the series' scale, as tests/js/vectors.test.mjs
// explains: the JavaScript's sqrt is correctly rounded, torch's is not always, and a walk amplifies
// such a last-bit difference; 1e-9 still fails on a wrong rule. Adam without bias correction and
// Adam + L2 have no class of their own in the package: the first is written in the child with the
// torch ops of optimessay's adam_update minus the two corrections, the second is optimessay.Adam's
// `weight_decay` (torch's coupled L2).
//
// OPTIMESSAY_PYTHON: the Python with optimessay installed (default: the repository's .venv).

import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

import { rmspropSign } from "../../docs/widgets/rmsprop-math.js";
import { adagradShrink } from "../../docs/widgets/adagrad-math.js";
import { adamBias, adamDecay, adamUncorrected, constantGradientRatio } from "../../docs/widgets/adam-math.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const PYTHON = process.env.OPTIMESSAY_PYTHON || `${ROOT}.venv/bin/python`;
const RTOL = 1e-9;

const RMSPROP_ALPHAS = [0, 0.05, 0.5, 0.99];
const ADAGRAD_LRS = [0.5, 2];
const BIAS_BETA2S = [0.99, 0.999];
const DECAY_LAMBDAS = [0.1, 0.5];

const EXPORT = String.raw`
import json, sys
import torch
import optimessay
from optimessay import landscapes, trajectory

torch.set_default_dtype(torch.float64)
cfg = json.loads(sys.argv[1])
banana = landscapes.rosenbrock()
out = {"rmsprop": {}, "adagrad": {}, "bias": {}, "decay": {}}

def flat(t):
    return [float(v) for v in t.reshape(-1).tolist()]

for alpha in cfg["alphas"]:
    p = torch.tensor([-1.5, 2.5], requires_grad=True)
    opt = optimessay.RMSprop([p], lr=0.01, alpha=alpha, momentum=0.9)
    points, precs, grads, pg = [flat(p.detach())], [], [], []
    for _ in range(100):
        opt.zero_grad()
        banana.fn(p[0], p[1]).backward()
        g = p.grad.detach().clone()
        opt.step()
        P = opt.preconditioner(p)
        points.append(flat(p.detach())); precs.append(flat(P)); grads.append(flat(g)); pg.append(flat(P * g))
    out["rmsprop"][str(alpha)] = {"points": points, "precs": precs, "grads": grads, "pg": pg}

for lr in cfg["adagrad_lrs"]:
    w = trajectory.run(banana, optimessay.Adagrad, {"lr": lr}, start=(-1.5, 2.5), steps=300)
    out["adagrad"][str(lr)] = {"points": w.points.tolist(), "precs": w.preconditioners.tolist()}

bowl = landscapes.quadratic(10.0, 0.0)
for beta2 in cfg["beta2s"]:
    w = trajectory.run(bowl, optimessay.Adam, {"lr": 0.01, "betas": (0.9, beta2)}, start=(-1.5, 1.0), steps=60)
    # Adam without bias correction: optimessay.adam_update's ops, minus 1 - beta1^t and 1 - beta2^t
    p = torch.tensor([-1.5, 1.0], requires_grad=True)
    m, v = torch.zeros(2), torch.zeros(2)
    points = [flat(p.detach())]
    for _ in range(60):
        p.grad = None
        bowl.fn(p[0], p[1]).backward()
        g = p.grad
        with torch.no_grad():
            m.lerp_(g, 1 - 0.9)
            v.mul_(beta2).addcmul_(g, g, value=1 - beta2)
            p.addcdiv_(m, v.sqrt().add_(1e-8), value=-0.01)
        points.append(flat(p.detach()))
    out["bias"][str(beta2)] = {"corrected": w.points.tolist(), "uncorrected": points}

c0, c1 = 1.0, 10.0
quad = landscapes.Landscape(name="separable-quadratic", title="f",
                            fn=lambda x, y: c0 * (x - 3.0) ** 2 + c1 * (y - 2.0) ** 2,
                            x_range=(-0.5, 3.5), y_range=(-0.5, 2.5), minima=((3.0, 2.0),), log_scale=False,
                            start=(0.0, 0.0))
for lam in cfg["lambdas"]:
    row = {}
    for name, cls in (("coupled", optimessay.Adam), ("decoupled", optimessay.AdamW)):
        w = trajectory.run(quad, cls, {"lr": 0.05, "weight_decay": lam}, start=(0.0, 0.0), steps=4000,
                           scheduler_class=optimessay.CosineAnnealingLR, scheduler_kwargs={"T_max": 4000})
        row[name] = {"points": w.points.tolist(), "precs": w.preconditioners.tolist()}
    out["decay"][str(lam)] = row
print(json.dumps(out))
`;

function exportFromPython() {
  const cfg = { alphas: RMSPROP_ALPHAS, adagrad_lrs: ADAGRAD_LRS, beta2s: BIAS_BETA2S, lambdas: DECAY_LAMBDAS };
  const r = spawnSync(PYTHON, ["-c", EXPORT, JSON.stringify(cfg)], { cwd: ROOT, encoding: "utf8", maxBuffer: 256 << 20 });
  assert.equal(r.status, 0, `${PYTHON} failed (set OPTIMESSAY_PYTHON to a Python with optimessay): ${r.error ?? ""}${r.stderr}`);
  return JSON.parse(r.stdout);
}

const PY = exportFromPython();

/** Largest relative difference between two series (near 0: against 1 % of the series' largest value). */
function assertClose(actual, expected, what) {
  const a = Array.from(actual);
  const e = expected.flat(Infinity);
  assert.equal(a.length, e.length, `${what}: length ${a.length} vs ${e.length}`);
  const floor = 0.01 * Math.max(0, ...e.map(Math.abs));
  let worst = 0;
  let where = -1;
  for (let i = 0; i < e.length; i++) {
    if (a[i] === e[i]) continue;
    const err = Math.abs(a[i] - e[i]) / Math.max(Math.abs(e[i]), floor);
    if (!(err <= worst)) {
      worst = err;
      where = i;
    }
  }
  assert.ok(worst <= RTOL, `${what}: relative difference ${worst} at ${where} (js ${a[where]}, python ${e[where]})`);
  return worst;
}

test("RMSprop: the walk, P and P·g per step equal optimessay.RMSprop's, for alpha from 0 to 0.99", (ctx) => {
  for (const alpha of RMSPROP_ALPHAS) {
    const js = rmspropSign({ alpha });
    const py = PY.rmsprop[String(alpha)];
    assert.equal(js.steps, 100);
    const worst = Math.max(
      assertClose(js.walk.points, py.points, `alpha ${alpha} points`),
      assertClose(js.preconditioners, py.precs, `alpha ${alpha} P`),
      assertClose(js.grads, py.grads, `alpha ${alpha} g`),
      assertClose(js.pg, py.pg, `alpha ${alpha} P·g`),
    );
    ctx.diagnostic(`alpha ${alpha}: largest relative difference ${worst.toExponential(2)}`);
  }
});

test("RMSprop: at alpha 0 every |P·g| is 1 to 1e-6 (sign descent); at alpha 0.99 almost none is", () => {
  const zero = rmspropSign({ alpha: 0 });
  for (const v of zero.pg) assert.ok(Math.abs(Math.abs(v) - 1) < 1e-6, `|P·g| = ${Math.abs(v)}`);
  assert.deepEqual(zero.nearSign, [1, 1]);
  const long = rmspropSign({ alpha: 0.99 });
  assert.ok(long.nearSign.every((f) => f < 0.1), `alpha 0.99: fractions near 1 ${long.nearSign}`);
  assert.throws(() => rmspropSign({ alpha: 1 }), /alpha=1: expected a number in \[0, 1\)/);
});

test("Adagrad: the walk and P equal optimessay.Adagrad's; P never grows", (ctx) => {
  for (const lr of ADAGRAD_LRS) {
    const js = adagradShrink({ lr });
    const py = PY.adagrad[String(lr)];
    const worst = Math.max(assertClose(js.walk.points, py.points, `lr ${lr} points`),
      assertClose(js.preconditioners, py.precs, `lr ${lr} P`));
    ctx.diagnostic(`lr ${lr}: largest relative difference ${worst.toExponential(2)}`);
    assert.deepEqual(js.grew, [0, 0]);
    assert.equal(js.lengths.length, 300);
    // the first step moves each coordinate by lr·g/(|g| + ε): lr·√2 in length
    assert.ok(Math.abs(js.lengths[0] / (lr * Math.SQRT2) - 1) < 1e-9);
  }
});

test("Adam with and without bias correction: both walks equal the package's (torch ops for the uncorrected)", (ctx) => {
  for (const beta2 of BIAS_BETA2S) {
    const js = adamBias({ beta2 });
    const py = PY.bias[String(beta2)];
    const worst = Math.max(assertClose(js.corrected.points, py.corrected, `beta2 ${beta2} corrected`),
      assertClose(js.uncorrected.points, py.uncorrected, `beta2 ${beta2} uncorrected`));
    ctx.diagnostic(`beta2 ${beta2}: largest relative difference ${worst.toExponential(2)}`);
    // corrected: the first step moves every coordinate by lr (to the size of eps)
    assert.ok(Math.abs(js.corrected.ratios[0] - 1) < 1e-6, `corrected first step / lr = ${js.corrected.ratios[0]}`);
    // uncorrected: the first step is (1 − β₁)/√(1 − β₂) times lr, whatever the gradient
    assert.ok(Math.abs(js.uncorrected.ratios[0] / constantGradientRatio(1, 0.9, beta2) - 1) < 1e-6);
  }
});

test("Adam without bias correction on a constant gradient: step / lr = (1 − β₁ᵗ)/√(1 − β₂ᵗ), peak 6.57 at t = 12", () => {
  const opt = adamUncorrected({ beta1: 0.9, beta2: 0.999 });
  const p = Float64Array.of(0, 0);
  let best = 0;
  let at = 0;
  for (let t = 1; t <= 100; t++) {
    const before = p[0];
    opt.step(p, Float64Array.of(2, 2), 0.1);
    const ratio = Math.abs(p[0] - before) / 0.1;
    // ε = 1e-8 against √v ≥ 0.063: 1.6e-7 relative at t = 1
    assert.ok(Math.abs(ratio / constantGradientRatio(t, 0.9, 0.999) - 1) < 1e-6, `t ${t}: ${ratio}`);
    if (ratio > best) [best, at] = [ratio, t];
  }
  assert.equal(at, 12);
  assert.equal(best.toFixed(2), "6.57");
  assert.throws(() => adamUncorrected({ beta1: 1 }), /betas=\(1, 0.999\): expected numbers in \[0, 1\)/);
});

test("Adam + L2 and AdamW: the walks and P equal optimessay.Adam(weight_decay) and AdamW's, cosine lr", (ctx) => {
  for (const lambda of DECAY_LAMBDAS) {
    const js = adamDecay({ lambda });
    const py = PY.decay[String(lambda)];
    const worst = Math.max(
      assertClose(js.coupled.points, py.coupled.points, `lambda ${lambda} Adam + L2 points`),
      assertClose(js.coupled.preconditioners, py.coupled.precs, `lambda ${lambda} Adam + L2 P`),
      assertClose(js.decoupled.points, py.decoupled.points, `lambda ${lambda} AdamW points`),
      assertClose(js.decoupled.preconditioners, py.decoupled.precs, `lambda ${lambda} AdamW P`),
    );
    ctx.diagnostic(`lambda ${lambda}: largest relative difference ${worst.toExponential(2)}`);
    // Adam + L2 ends on the L2 minimizer 2cθ*/(2c + λ) (the page's table); the box holds AdamW
    for (let i = 0; i < 2; i++) {
      assert.ok(Math.abs(js.coupledEnd[i] - js.l2Minimizer[i]) < 1e-3, `lambda ${lambda}: ${js.coupledEnd} vs ${js.l2Minimizer}`);
      assert.ok(Math.abs(js.decoupledEnd[i]) <= js.box + 1e-9);
      assert.equal(js.coupledDecayEnd[i], lambda * js.coupled.preconditioners[2 * 3999 + i]);
    }
  }
  assert.throws(() => adamDecay({ lambda: -1 }), /lambda=-1: expected a number >= 0/);
});
