"""The committed playground vectors equal what optimessay computes now.

tests/vectors/playground.json (written by `make vectors`) is what the playground's JavaScript is
checked against (tests/js/vectors.test.mjs). If the package changes (an update rule, a scheduler, a
landscape, the palette) and the file is not regenerated, this test fails and names what differs.
"""

import importlib.util
import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
VECTORS = ROOT / "tests" / "vectors" / "playground.json"


def _export_module():
    spec = importlib.util.spec_from_file_location("export_vectors", ROOT / "scripts" / "export_vectors.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def export():
    return _export_module()


@pytest.fixture(scope="module")
def committed():
    return json.loads(VECTORS.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def fresh(export):
    return export.build()


def test_palette_and_landscapes_match_the_package(committed, fresh):
    assert committed["palette"] == fresh["palette"], "optimessay.style changed: run `make vectors`"
    assert [(r["name"], r["params"]) for r in committed["landscapes"]] == [
        (r["name"], r["params"]) for r in fresh["landscapes"]
    ]
    for old, new in zip(committed["landscapes"], fresh["landscapes"], strict=True):
        assert old == new, f"landscape {old['name']} {old['params']} changed in optimessay: run `make vectors`"


def test_every_trajectory_matches_the_package(committed, fresh):
    assert [t["id"] for t in committed["trajectories"]] == [t["id"] for t in fresh["trajectories"]]
    for old, new in zip(committed["trajectories"], fresh["trajectories"], strict=True):
        for key in ("points", "losses", "lrs", "preconditioners"):
            assert old[key] == new[key], f"{old['id']}: {key} differ from optimessay's: run `make vectors`"
        assert old == new, f"{old['id']}: configuration differs: run `make vectors`"


def test_the_file_is_exactly_what_the_exporter_writes(export, fresh):
    assert VECTORS.read_text(encoding="utf-8") == export.dumps(fresh), "run `make vectors`"


def test_the_vectors_are_finite_float64_walks(committed):
    assert committed["torch"].startswith("2.13")
    for t in committed["trajectories"]:
        assert len(t["points"]) == t["steps"] + 1 and len(t["lrs"]) == t["steps"]
        assert all(math.isfinite(v) for row in t["points"] for v in row), t["id"]


# the playground's race presets (docs/playground/state.js) -> the catalog's race figures they copy
RACES = {"banana-race": ("rosenbrock", 300), "rotated-quadratic": (("quadratic", (("kappa", 50.0), ("theta", math.radians(30)))), 200)}
KIND_OF = {"SGD": "sgd", "Momentum": "momentum", "Nesterov": "nesterov", "RMSprop": "rmsprop", "Adam": "adam",
           "AdamW": "adamw", "Adagrad": "adagrad"}


def test_race_presets_use_the_learning_rates_the_catalog_tunes():
    """The playground's race presets state each contestant's lr as 3 significant digits of what
    scripts/catalog.py's `optimessay.tune` picks for the race figures: recompute them."""
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
        tuned = {KIND_OF[c[0]]: float(f"{catalog._tuned_lr(landscape, c[0], steps):.3g}") for c in catalog.CONTESTANTS}
        assert lrs == tuned, f"preset {name}: lrs {lrs}, the catalog tunes {tuned}"
