// H4's live figures (Beyond diagonal, Sign and max-norm, Fixing Adam, Memory-light, ...): their
// numerics against the Python package. Each test builds its input in JS, hands it to
// .venv/bin/python (the package computes its own numbers: nothing here is a committed copy), and
// compares to 1e-9.

import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

import * as muon from "../../docs/widgets/muon-math.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const PYTHON = `${ROOT}.venv/bin/python`;

/** Run `code` in the project's Python with `input` (JSON) on stdin; returns its JSON stdout. */
function python(code, input) {
  assert.ok(existsSync(PYTHON), `${PYTHON} is missing: the JS-vs-package tests need the project's venv (make venv)`);
  const out = execFileSync(PYTHON, ["-c", code], { cwd: ROOT, input: JSON.stringify(input), encoding: "utf8", maxBuffer: 1 << 26 });
  return JSON.parse(out);
}

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

test("Muon: the widget's coefficients and step count are muon.py's defaults", () => {
  const ref = python(MUON_PY, []);
  assert.deepEqual([...muon.MUON_COEFFICIENTS], ref.defaults);
  assert.equal(muon.MUON_STEPS, ref.steps_default);
});

test("Muon: JS Newton–Schulz (float64) equals the package's P·G to 1e-9, wide and tall, 0-10 steps", () => {
  const cases = [];
  for (const [m, kappa, seed] of [[12, 1000, 1], [8, 10, 7], [6, 1, 3]]) {
    const G = muon.matrixWithSpectrum(m, muon.spreadSigmas(6, kappa), seed).map((row) => row.map((x) => 3.7 * x));
    for (const steps of [0, 1, 5, 10]) cases.push({ G, steps, coefficients: [...muon.MUON_COEFFICIENTS] });
    cases.push({ G: muon.transpose(G), steps: 5, coefficients: [...muon.MUON_COEFFICIENTS] }); // wide
    cases.push({ G, steps: 8, coefficients: [...muon.CUBIC_COEFFICIENTS] });
  }
  const ref = python(MUON_PY, cases);
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
