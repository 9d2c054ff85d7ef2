"""`make dist` builds an sdist and a wheel; the wheel installs into a fresh venv that holds only
torch (the pinned CPU wheel) and the wheel's other declared dependencies, and works there: the
optimizers import, step bit for bit like torch.optim's, and nothing of the plotting or docs extras is
needed or installed.

The fresh venv does not download or copy torch (~700 MB): its site-packages gets one `.pth` line
naming a folder of symlinks to the installed distributions of torch, numpy and tqdm (the wheel's
`Requires-Dist`) and of their own requirements, found through their metadata, and nothing else.
pip installs the wheel there with `--no-index`, so it must find every requirement of the wheel in
that set; the check then asserts the extras (matplotlib, mkdocs, pytest, ...) are not importable."""

from __future__ import annotations

import importlib.metadata
import os
import re
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
for extra in ("matplotlib", "mkdocs", "pytest", "hypothesis", "sklearn", "PIL", "imageio_ffmpeg"):
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


# what `pip install optimessay` brings besides itself (pyproject.toml's dependencies); the test asserts the
# wheel's metadata names exactly these
REQUIRES = ("torch", "numpy", "tqdm")


def _closure(names):
    """The installed distributions `names` need: themselves and their requirements, recursively
    (requirements whose environment marker holds, no extras)."""
    from packaging.requirements import Requirement

    found, todo = {}, list(names)
    while todo:
        name = todo.pop()
        key = re.sub(r"[-_.]+", "-", name).lower()
        if key in found:
            continue
        found[key] = dist = importlib.metadata.distribution(name)
        for line in dist.requires or ():
            req = Requirement(line)
            if req.marker is None or req.marker.evaluate({"extra": ""}):
                todo.append(req.name)
    return found


def _torch_only_venv(where: Path) -> Path:
    """A venv (no pip) whose site-packages sees, through a `.pth` line, only symlinks to the files of
    `_closure(REQUIRES)`. Returns its python."""
    links = where / "torch-and-its-requirements"
    links.mkdir()
    for dist in _closure(REQUIRES).values():
        base = Path(dist.locate_file(""))
        tops = {f.parts[0] for f in dist.files or ()}
        for top in sorted(tops - {"..", "__pycache__"}):
            if not top.endswith(".pth"):  # a .pth only works in a site dir (setuptools' distutils hack)
                (links / top).symlink_to(base / top)
    venv = where / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          check=True, capture_output=True, text=True).stdout.strip()
    (Path(site) / "torch-only.pth").write_text(f"{links}\n")
    return python


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

    # the wheel asks for exactly torch (pinned), numpy and tqdm: the set the venv below exposes
    with zipfile.ZipFile(wheels[0]) as whl:
        meta = whl.read(next(n for n in whl.namelist() if n.endswith(".dist-info/METADATA"))).decode()
    requires = [line.split(":", 1)[1].strip() for line in meta.splitlines() if line.startswith("Requires-Dist:")]
    core = sorted(r for r in requires if "extra ==" not in r)
    assert [re.split(r"[<>=!~ ;\[]", r)[0] for r in core] == sorted(REQUIRES), requires
    assert "torch==2.13.0" in core, core

    python = _torch_only_venv(tmp_path)
    # no PYTHONPATH (a developer's, or a test runner's) for pip or the check: it would put more
    # packages, or the source tree's optimessay, beside the venv's
    isolated = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    # pip from this venv, acting on the fresh one; --no-index: every requirement must already be there
    install = subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet",
                              "--no-index", "--disable-pip-version-check", str(wheels[0])],
                             capture_output=True, text=True, env=isolated)
    assert install.returncode == 0, install.stdout[-2000:] + install.stderr[-3000:]
    # the symlinked torch's bytecode is read from its own __pycache__ (written when it was installed):
    # under `make`'s PYTHONPYCACHEPREFIX the fresh paths would have none, and importing torch would
    # compile it all again (10.6 s of CPU instead of 3.9 s, measured); nothing is written there
    env = {k: v for k, v in isolated.items() if k != "PYTHONPYCACHEPREFIX"} | {"PYTHONDONTWRITEBYTECODE": "1"}
    run = subprocess.run([str(python), "-c", CHECK], cwd=tmp_path, capture_output=True, text=True, env=env)
    assert run.returncode == 0, run.stderr[-3000:]
    assert "wheel ok" in run.stdout
