"""The committed playground vectors equal what optimessay computes now.

tests/vectors/playground.json (written by `make vectors`) is what the playground's JavaScript is
checked against (tests/js/vectors.test.mjs). If the package changes (an update rule, a scheduler, a
landscape, the palette) and the file is not regenerated, this test fails and names what differs.
"""

import importlib.util
import json
import math
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
