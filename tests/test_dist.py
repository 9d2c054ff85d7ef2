"""`make dist` builds an sdist and a wheel; the wheel installs into a fresh venv that holds only
torch (the pinned CPU wheel) and works there: the optimizers import, step bit for bit like
torch.optim's, and nothing of the plotting or docs extras is needed or installed."""

from __future__ import annotations

import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# Runs in the fresh venv, from a folder outside the repository (so `import optimessay` finds the
# installed wheel, never the source tree).
CHECK = r"""
import importlib.util, sys
import torch
import optimessay
from optimessay import AdamW, SGD, Muon, CosineAnnealingLR
assert "site-packages" in optimessay.__file__, optimessay.__file__
for extra in ("matplotlib", "mkdocs", "pytest"):
    assert importlib.util.find_spec(extra) is None, f"{extra} is installed: the wheel pulled an extra"
torch.manual_seed(0)
w = torch.randn(5, 3)
a, b = w.clone().requires_grad_(), w.clone().requires_grad_()
ours, theirs = AdamW([a], lr=1e-2), torch.optim.AdamW([b], lr=1e-2, foreach=False)
for _ in range(3):
    for p, opt in ((a, ours), (b, theirs)):
        opt.zero_grad()
        (p.sin() * p).sum().backward()
        opt.step()
assert torch.equal(a, b), (a - b).abs().max()
from optimessay import landscapes, sweep, trajectory
walk = trajectory.run(landscapes.rosenbrock(), SGD, {"lr": 1e-3}, start=(-1.0, 1.0), steps=5)
assert walk.points.shape == (6, 2)
print("wheel ok", optimessay.__file__)
"""


@pytest.mark.slow
def test_make_dist_builds_a_wheel_that_works_with_torch_only(tmp_path):
    out = tmp_path / "dist"
    subprocess.run(["make", "--no-print-directory", "dist", f"DIST_DIR={out}"], cwd=ROOT, check=True,
                   capture_output=True, text=True)
    wheels, sdists = sorted(out.glob("optimessay-*.whl")), sorted(out.glob("optimessay-*.tar.gz"))
    assert len(wheels) == 1 and len(sdists) == 1, sorted(p.name for p in out.iterdir())

    # the wheel holds the package (every optimizer file), its licence, and nothing of the site
    names = zipfile.ZipFile(wheels[0]).namelist()
    sources = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "optimessay").rglob("*.py"))
    assert set(sources) <= set(names), set(sources) - set(names)
    assert not [n for n in names if n.startswith(("docs/", "tests/", "scripts/"))]
    assert any(n.endswith("licenses/LICENSE") for n in names)
    # the sdist can rebuild it: the sources and pyproject.toml are in it
    members = tarfile.open(sdists[0]).getnames()
    top = sdists[0].name.removesuffix(".tar.gz")
    assert f"{top}/pyproject.toml" in members and f"{top}/optimessay/optimizers/adam.py" in members

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet"]
    subprocess.run([*pip, "torch==2.13.0"], check=True, capture_output=True, text=True)  # first: the CPU wheel
    subprocess.run([*pip, str(wheels[0])], check=True, capture_output=True, text=True)
    run = subprocess.run([str(venv / "bin" / "python"), "-c", CHECK], cwd=tmp_path, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr[-3000:]
    assert "wheel ok" in run.stdout
