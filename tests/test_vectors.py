"""The committed playground vectors equal what optimessay computes now, to a tolerance no CPU breaks.

tests/vectors/playground.json (written by `make vectors`) is what the playground's JavaScript is
checked against (tests/js/vectors.test.mjs). If the package changes (an update rule, a scheduler, a
landscape, the palette) and the file is not regenerated, these tests fail and name what differs.

The file was computed on one machine and is compared on another, so the comparison has a tolerance.
torch's float64 sqrt on CPU (MKL's) is not always correctly rounded, and which inputs it misrounds
depends on the CPU (1,403 of 100,000 random inputs on one AMD EPYC, 1,252 here, different ones);
ATEN_CPU_CAPABILITY=default also drops the fused multiply-adds. The size of each, measured on every
walk of the file (error = the largest |difference| in a series of a walk over the largest |value| of
that series, so coordinates crossing 0 count at the scale of the walk):

| the Python side recomputed ...                                        | points, losses | preconditioners |
|-----------------------------------------------------------------------|----------------|-----------------|
| with sqrt 1 ulp high on 2 % of inputs (10 seeds) or 50 % (2 seeds)    | ≤ 2.4e-14      | ≤ 1.0e-12       |
| with ATEN_CPU_CAPABILITY=default instead of avx2 (no FMA)             | ≤ 2.5e-14      | ≤ 8.9e-13       |
| the same file computed on another machine (the file before this one)  | ≤ 4.0e-16      | ≤ 2.7e-14       |
| a real change: eps 1e-8 → 1.1e-8 (every Adam, AdamW, RMSprop walk)    | ≥ 1.6e-12      | ≥ 3.1e-11       |
| a real change: Adam adds eps before dividing by √(1-β₂ᵗ)              | ≥ 1.9e-10      | ≥ 2.9e-10       |

(P = 1/(√v + ε) changes fastest where a gradient component crosses 0, hence its own tolerance.)
So TOLERANCE below sits 40x (points, losses) and 100x (preconditioners) above the largest CPU effect,
and each real change above moves every walk it touches beyond it (the closest: 50-rastrigin-adam's
points under eps × 1.1, 1.6e-12). The walks of the file are chosen not to be chaotic: the seed's
RMSprop momentum sweep, run to 160 steps, moved by up to 4e-7 under the same simulation (its walks
amplify rounding from about step 80 on), so the file runs it for 60 steps.
`test_the_simulated_cpu_moves_the_vectors_within_a_tenth_of_the_tolerance`
re-measures the CPU effect on every run, and `make test-portable` runs these tests again with
ATEN_CPU_CAPABILITY=default and with `--other-cpu-sqrt` (the recompute then runs on the simulated CPU).
"""

import copy
import importlib.util
import json
import math
import os
import pickle
import subprocess
import sys
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parent.parent
VECTORS = ROOT / "tests" / "vectors" / "playground.json"
SERIES = ("points", "losses", "lrs", "preconditioners")
TOLERANCE = {"points": 1e-12, "losses": 1e-12, "lrs": 1e-12, "preconditioners": 1e-10}
SAMPLE_TOLERANCE = 1e-13  # f and ∇f at the sample points (autograd), of the largest |value| of the landscape


def _export_module():
    spec = importlib.util.spec_from_file_location("export_vectors", ROOT / "scripts" / "export_vectors.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _flat(values) -> list[float]:
    return [v for row in values for v in row] if values and isinstance(values[0], list) else list(values)


def error(got, expected) -> tuple[float, int]:
    """The largest |got - expected| over the largest |expected| of the series, and where it is."""
    got, expected = _flat(got), _flat(expected)
    assert len(got) == len(expected), f"lengths {len(got)} and {len(expected)}"
    scale = max((abs(v) for v in expected), default=0.0)
    diffs = [abs(a - b) if a != b else 0.0 for a, b in zip(got, expected, strict=True)]
    worst = max(range(len(diffs)), key=diffs.__getitem__, default=0)
    if not diffs or diffs[worst] == 0:
        return 0.0, -1
    return (diffs[worst] / scale if scale > 0 else math.inf), worst


def walk_errors(got: dict, expected: dict) -> dict[str, tuple[float, int]]:
    return {key: error(got[key], expected[key]) for key in SERIES}


@pytest.fixture(scope="module")
def export():
    return _export_module()


@pytest.fixture(scope="module")
def committed():
    return json.loads(VECTORS.read_text(encoding="utf-8"))


def once_per_run(request, tmp_path_factory, name, compute):
    """`compute()`, once per pytest run: under xdist the first worker to ask computes it and pickles it
    in the run's shared temporary folder (a lock per name), the other reads it; alone, computes it."""
    workerinput = getattr(request.config, "workerinput", None)
    if workerinput is None:
        return compute()
    from filelock import FileLock  # a requirement of torch

    path = tmp_path_factory.getbasetemp().parent / f"{name}-{workerinput['testrunuid']}.pickle"
    with FileLock(f"{path}.lock"):
        if path.is_file():
            return pickle.loads(path.read_bytes())
        value = compute()
        path.write_bytes(pickle.dumps(value))
        return value


@pytest.fixture(scope="module")
def fresh(request, tmp_path_factory, export, other_cpu, simulating_other_cpu):
    """The vectors recomputed now (on the simulated other CPU under --other-cpu-sqrt), once per run
    (8 s: both xdist workers run tests of this file)."""
    def build():
        with other_cpu():
            return export.build()

    return once_per_run(request, tmp_path_factory, f"vectors-fresh-{simulating_other_cpu}", build)


@pytest.fixture(scope="module")
def here(export, fresh, simulating_other_cpu):
    """The trajectories recomputed now on this CPU, whatever the option."""
    return [export.walk(c) for c in export.configurations()] if simulating_other_cpu else fresh["trajectories"]


def test_palette_and_landscapes_match_the_package(committed, fresh, other_cpu):
    assert committed["palette"] == fresh["palette"], "optimessay.style changed: run `make vectors`"
    assert [(r["name"], r["params"]) for r in committed["landscapes"]] == [
        (r["name"], r["params"]) for r in fresh["landscapes"]
    ]
    for old, new in zip(committed["landscapes"], fresh["landscapes"], strict=True):
        meta = {k: v for k, v in old.items() if k != "samples"}
        assert meta == {k: v for k, v in new.items() if k != "samples"}, f"landscape {old['name']} changed: run `make vectors`"
        assert [s[:2] for s in old["samples"]] == [s[:2] for s in new["samples"]], "the sample points moved"
        for column, what in ((2, "f"), (3, "df/dx"), (4, "df/dy")):
            err, at = error([s[column] for s in new["samples"]], [s[column] for s in old["samples"]])
            assert err <= SAMPLE_TOLERANCE, (
                f"landscape {old['name']} {old['params']}: {what} at sample {at} differs by {err:.1e} of the largest "
                f"value (tolerance {SAMPLE_TOLERANCE:.0e}): the formula changed, run `make vectors`")


@pytest.mark.cross_machine
def test_every_trajectory_matches_the_package(committed, fresh):
    assert [t["id"] for t in committed["trajectories"]] == [t["id"] for t in fresh["trajectories"]]
    for old, new in zip(committed["trajectories"], fresh["trajectories"], strict=True):
        assert {k: v for k, v in old.items() if k not in SERIES} == {k: v for k, v in new.items() if k not in SERIES}, (
            f"{old['id']}: configuration differs: run `make vectors`")
        for key, (err, at) in walk_errors(new, old).items():
            assert err <= TOLERANCE[key], (
                f"{old['id']}: {key}[{at}] is {_flat(new[key])[at]!r} now, {_flat(old[key])[at]!r} in the file: "
                f"{err:.1e} of the walk's scale, above the {TOLERANCE[key]:.0e} that a change of CPU stays "
                "within: the update rule changed, run `make vectors`")


def test_the_file_is_exactly_what_the_exporter_writes(export, committed, fresh):
    """Formatting and every field but the computed floats are the exporter's (the floats are checked
    above, to the tolerance)."""
    assert VECTORS.read_text(encoding="utf-8") == export.dumps(committed), "run `make vectors`"
    assert list(committed) == list(fresh) and committed["about"] == fresh["about"]
    assert committed["torch"] == fresh["torch"], "another torch: run `make vectors`"


def test_the_vectors_are_finite_float64_walks(committed):
    assert committed["torch"].startswith("2.13")
    for t in committed["trajectories"]:
        assert len(t["points"]) == t["steps"] + 1 and len(t["lrs"]) == t["steps"]
        assert all(math.isfinite(v) for row in t["points"] for v in row), t["id"]


@pytest.mark.parametrize("seed, fraction", [(2026, 0.02), (7, 0.5)])
def test_the_simulated_cpu_moves_the_vectors_within_a_tenth_of_the_tolerance(export, here, simulated_sqrt, seed,
                                                                             fraction):
    """The simulation tests something: with sqrt 1 ulp high on `fraction` of its float64 inputs, the
    walks that take a sqrt (RMSprop, Adam, Adagrad) come out different, bit-wise, while the others
    (SGD) do not; and every walk stays within a tenth of the tolerance (the file's walks are not chaotic)."""
    with simulated_sqrt(seed=seed, fraction=fraction):
        moved = [export.walk(c) for c in export.configurations()]
    changed = []
    for new, old in zip(moved, here, strict=True):
        if new["optimizer"] == "sgd":
            assert new == old, f"{new['id']}: SGD takes no sqrt, yet it changed"
            continue
        errors = walk_errors(new, old)
        if any(err > 0 for err, _ in errors.values()):
            changed.append(new["id"])
        for key, (err, at) in errors.items():
            assert err <= TOLERANCE[key] / 10, f"{new['id']}: {key}[{at}] moved by {err:.1e} of its scale on the simulated CPU"
    with_sqrt = sum(c["optimizer"] != "sgd" for c in export.configurations())
    assert len(changed) >= with_sqrt // 2, f"only {changed} of {with_sqrt} walks with a sqrt changed"


REAL_CHANGES = {  # walk -> hyperparameters changed as a bug would (measured error of the walk: points, P)
    "16-rosenbrock-adam": {"eps": 1.1e-8},  # 4e-11, 1.5e-10
    "38-quadratic-adam": {"eps": 1.1e-8},  # 6e-12, 3e-11
    "13-rosenbrock-rmsprop": {"eps": 1.1e-8},  # 1.2e-11, 1.8e-10
    "29-rosenbrock-rmsprop-warmup": {"eps": 1.1e-8},  # 1.4e-11, 2.1e-10
    "23-rosenbrock-adagrad": {"eps": 1.1e-6},  # 4e-10, 2.3e-9
}


@pytest.mark.parametrize("walk_id", list(REAL_CHANGES))
def test_a_small_real_change_of_an_update_rule_fails_the_comparison(export, here, walk_id):
    """eps 10 % larger (1e-8 -> 1.1e-8) moves each of these walks beyond the tolerance: the tolerance
    still catches a change of an update rule a CPU cannot make."""
    config = next(c for c in export.configurations() if c["id"] == walk_id)
    original = next(t for t in here if t["id"] == walk_id)
    changed = copy.deepcopy(config)
    changed["hyperparameters"].update(REAL_CHANGES[walk_id])
    errors = walk_errors(export.walk(changed), original)
    assert any(err > TOLERANCE[key] for key, (err, _) in errors.items()), f"{walk_id}: {errors} within {TOLERANCE}"


@pytest.mark.cross_machine
def test_the_playground_javascript_equals_python_computed_now(export, fresh, tmp_path):
    """tests/js/vectors.test.mjs replayed against the vectors computed in this run (on the simulated
    CPU under --other-cpu-sqrt), not only against the committed file: the JavaScript (Math.sqrt is
    correctly rounded) equals this machine's Python to the JS test's tolerance."""
    path = tmp_path / "playground.json"
    path.write_text(export.dumps(fresh), encoding="utf-8")
    node = subprocess.run(["node", "--test", "tests/js/vectors.test.mjs"], cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, "OPTIMESSAY_VECTORS": str(path)}, timeout=300)
    failures = [line for line in node.stdout.splitlines() if line.startswith("not ok") or "relative" in line]
    assert node.returncode == 0, "\n".join(failures[:20]) or node.stdout[-3000:] + node.stderr[-3000:]
    assert "# fail 0" in node.stdout and f"vectors: {path}" in node.stdout


# the playground's race presets (docs/playground/state.js) -> the catalog's race figures they copy
RACES = {"banana-race": ("rosenbrock", 300), "rotated-quadratic": (("quadratic", (("kappa", 50.0), ("theta", math.radians(30)))), 200)}
KIND_OF = {"SGD": "sgd", "Momentum": "momentum", "Nesterov": "nesterov", "RMSprop": "rmsprop", "Adam": "adam",
           "AdamW": "adamw", "Adagrad": "adagrad"}


@pytest.mark.cross_machine
def test_race_presets_use_the_learning_rates_the_catalog_tunes(other_cpu):
    """The playground's race presets state each contestant's lr as 3 significant digits of what
    scripts/catalog.py's `optimessay.tune` picks for the race figures: recompute them (the lrs in
    state.js were tuned on another machine; 3 significant digits of a grid's best point do not move
    with a CPU's last bits, and the simulated CPU checks it)."""
    script = ("import { PRESETS } from './docs/playground/state.js';"
              f"console.log(JSON.stringify(Object.fromEntries({list(RACES)!r}.map((n) => [n, PRESETS[n]()]))));")
    out = subprocess.run(["node", "--input-type=module", "-e", script], capture_output=True, text=True, cwd=ROOT,
                         check=True)
    presets = json.loads(out.stdout)
    spec = importlib.util.spec_from_file_location("catalog_of_the_race_presets", ROOT / "scripts" / "catalog.py")
    catalog = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = catalog  # its dataclasses look their module up there
    spec.loader.exec_module(catalog)
    for name, (landscape, steps) in RACES.items():
        preset = presets[name]
        assert preset["steps"] == steps
        lrs = {r["kind"]: r["hp"]["lr"] for r in preset["runs"]}
        with other_cpu():
            tuned = {KIND_OF[c[0]]: float(f"{catalog._tuned_lr(landscape, c[0], steps):.3g}") for c in catalog.CONTESTANTS}
        assert lrs == tuned, f"preset {name}: lrs {lrs}, the catalog tunes {tuned}"


def test_the_simulation_patches_sqrt_only_inside_its_block(simulated_sqrt, other_cpu, simulating_other_cpu):
    """Outside a `with` block torch's sqrt is torch's own, so the bit-for-bit tests against torch.optim
    never run on the simulated CPU; inside, float64 sqrt moves and float32 does not."""
    originals = (torch.sqrt, torch.Tensor.sqrt, torch.Tensor.sqrt_)
    x = torch.rand(1000, dtype=torch.float64, generator=torch.Generator().manual_seed(0)) * 10
    with simulated_sqrt(fraction=1.0):
        assert (torch.sqrt, torch.Tensor.sqrt, torch.Tensor.sqrt_) != originals
        moved, moved_in_place, single = x.sqrt(), x.clone().sqrt_(), x.float().sqrt()
    assert (torch.sqrt, torch.Tensor.sqrt, torch.Tensor.sqrt_) == originals
    assert torch.equal(moved, moved_in_place) and not torch.equal(moved, x.sqrt())
    assert ((moved - x.sqrt()) <= torch.nextafter(x.sqrt(), torch.tensor(math.inf, dtype=torch.float64)) - x.sqrt()).all()
    assert torch.equal(single, x.float().sqrt())
    with other_cpu():
        assert (torch.sqrt is originals[0]) is not simulating_other_cpu
