"""`make figures` (scripts/build_figures.py): failures reported by name, incremental, atomic under
interruption, deterministic, manifest = catalog. Most tests build a tiny catalog written here (so they
take seconds); one builds two real figures twice."""

import ast
import hashlib
import importlib.util
import json
import os
import re
import signal
import struct
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BUILD = ROOT / "scripts" / "build_figures.py"

# The names the pages and the team use (the figures list): each must stay declared.
CONTRACT_NAMES = """
banana-log-contour seed-sgd-momentum rmsprop-alpha-sweep rmsprop-momentum-sweep schedulers-trajectories
schedulers-lr-curves landscapes-gallery quadratic-conditioning precond-gd-vs-newton
precond-diag-axis-vs-rotated precond-coordinates precond-kappa-theta momentum-averaging
momentum-heavy-ball-vs-nesterov weight-decay-l2 rmsprop-preconditioner adam-bias-correction
adamw-vs-adam-l2 amsgrad adagrad-shrinking race-banana race-himmelblau race-rotated-quadratic
compare-landscapes compare-loss-curves sweep-sgd-lr-momentum sweep-rmsprop-lr-alpha sweep-adam-lr-beta1
schedules-on-banana pitfall-grad-mutation
""".split()

HEADER = '''
import os
import time
from pathlib import Path
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Figure:
    name: str
    kind: str
    alt: str
    recipe: Callable
    params: dict = field(default_factory=dict)
    cost: float = 1.0


def line(slope):
    from optimessay import style

    fig, ax = style.figure(height=2.0)
    ax.plot([0, 1], [0, slope], color=style.color("adam"), label=f"slope {slope}")
    return fig


def broken(message):
    raise RuntimeError(message)


def stalls(marker):
    """A video whose save writes half of each file, then (with FIGURES_TEST_STALL set) waits to be killed."""

    class Video:
        def save(self, mp4, webm, poster):
            for path in (mp4, webm, poster):
                Path(path).write_bytes(b"half")
            if os.environ.get("FIGURES_TEST_STALL"):
                Path(marker).write_text("writing")
                time.sleep(120)
            for path in (mp4, webm, poster):
                Path(path).write_bytes(b"complete")
            return 10, 10

    return Video()
'''

LINE_A = 'Figure("line-a", "image", "A rising line of slope 1.", line, {"slope": 1})'
LINE_B = 'Figure("line-b", "image", "A rising line of slope 2.", line, {"slope": 2})'
BROKEN = 'Figure("broken", "image", "Never drawn: its recipe raises.", broken, {"message": "deliberate failure"})'


def write_catalog(path: Path, *entries: str, extra: str = "") -> Path:
    path.write_text(HEADER + extra + "\n\nFIGURES = [\n" + "".join(f"    {e},\n" for e in entries) + "]\n")
    return path


def build(catalog: Path, out: Path, *args: str, env: dict | None = None, **kwargs):
    cmd = [sys.executable, str(BUILD), "--catalog", str(catalog), "--out", str(out), "--no-progress", *args]
    return subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, env={**os.environ, **(env or {})}, **kwargs)


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR", f"{path} is not a complete PNG"
    return struct.unpack(">II", data[16:24])


def css_size(path: Path) -> tuple[int, int]:
    """The size an image is shown at: its file is drawn at 150 dpi, 1.5 file pixels per CSS pixel."""
    w, h = png_size(path)
    return round(w / 1.5), round(h / 1.5)


def snapshot(out: Path) -> dict:
    return {p.relative_to(out).as_posix(): (p.stat().st_mtime_ns, p.read_bytes())
            for p in sorted(out.rglob("*")) if p.is_file()}


# --- failures, incremental, no heavy imports ------------------------------------------------------------


def test_a_failing_figure_is_reported_the_others_build_and_reruns_are_incremental(tmp_path):
    out = tmp_path / "out"
    catalog = write_catalog(tmp_path / "catalog.py", LINE_A, LINE_B, BROKEN)
    first = build(catalog, out, "--jobs", "2")
    assert first.returncode == 1, first.stderr
    assert "FAILED broken: RuntimeError: deliberate failure" in first.stderr
    assert "figures that failed: broken" in first.stderr
    manifest = json.loads((out / "manifest.json").read_text())["figures"]
    assert set(manifest) == {"line-a", "line-b"}  # never a figure that failed
    for name, slope in (("line-a", 1), ("line-b", 2)):
        entry = manifest[name]
        assert entry["kind"] == "image" and entry["alt"] == f"A rising line of slope {slope}."
        assert entry["files"] == {"png": f"{name}.png"}
        assert (entry["width"], entry["height"]) == css_size(out / f"{name}.png")

    # no change (the broken entry removed): nothing is drawn, no file is touched, torch and matplotlib
    # are not even imported, and it takes well under the 3 s budget
    catalog = write_catalog(tmp_path / "catalog.py", LINE_A, LINE_B)
    before = snapshot(out)
    probe = textwrap.dedent(f"""
        import sys, time
        sys.path.insert(0, {str(ROOT / 'scripts')!r})
        import build_figures
        start = time.perf_counter()
        rc = build_figures.main(["--catalog", {str(catalog)!r}, "--out", {str(out)!r}, "--no-progress"])
        print("SECONDS", time.perf_counter() - start)
        print("HEAVY", sorted(m for m in ("torch", "matplotlib", "numpy") if m in sys.modules))
        sys.exit(rc)
    """)
    second = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT)
    assert second.returncode == 0, second.stderr
    assert "0 built, 2 up to date, 0 failed" in second.stdout
    assert "HEAVY []" in second.stdout
    assert float(re.search(r"SECONDS (\S+)", second.stdout).group(1)) < 3.0
    manifest_after = json.loads((out / "manifest.json").read_text())["figures"]
    assert set(manifest_after) == {"line-a", "line-b"}
    assert {k: v for k, v in snapshot(out).items() if k != "manifest.json"} == \
        {k: v for k, v in before.items() if k != "manifest.json"}

    # one entry's parameters change: that figure alone is redrawn
    catalog = write_catalog(tmp_path / "catalog.py", LINE_A, LINE_B.replace('{"slope": 2}', '{"slope": 3}'))
    third = build(catalog, out)
    assert third.returncode == 0, third.stderr
    assert "1 built, 1 up to date" in third.stdout
    after = snapshot(out)
    assert after["line-a.png"] == before["line-a.png"]
    assert after["line-b.png"][1] != before["line-b.png"][1]

    # --force redraws all; --only limits to one
    forced = build(catalog, out, "--force", "--only", "line-a")
    assert forced.returncode == 0 and "1 built, 0 up to date" in forced.stdout


def _keymaker(tmp_path, *entries, extra=""):
    spec = importlib.util.spec_from_file_location("build_figures_under_test", BUILD)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    catalog = write_catalog(tmp_path / "catalog.py", *entries, extra=extra)
    _, loaded = module.load_catalog(catalog)
    km = module.KeyMaker(catalog)
    return module, km, {e.name: km.key(e) for e in loaded}


HELPED = '''

def _helper():
    return {value}


def helped(slope):
    _helper()
    return line(slope)
'''
LINE_C = 'Figure("line-c", "image", "A line drawn by a recipe that calls a helper.", helped, {"slope": 1})'


def test_keys_follow_the_recipe_its_helpers_and_the_package_modules_it_imports(tmp_path):
    _, _, v1 = _keymaker(tmp_path, LINE_A, LINE_C, extra=HELPED.format(value=1))
    _, _, v2 = _keymaker(tmp_path, LINE_A, LINE_C, extra=HELPED.format(value=2))
    _, _, v3 = _keymaker(tmp_path, LINE_A, LINE_C, extra=HELPED.format(value=1) + "\n\ndef unrelated():\n    return 3\n")
    assert v1["line-c"] != v2["line-c"]  # its helper changed
    assert v1["line-a"] == v2["line-a"]  # not its helper
    assert v1 == v3  # a function nobody calls
    module, km, _ = _keymaker(tmp_path, LINE_A)
    # package code: a recipe importing trajectory depends on trajectory and, through it, landscapes
    hashes = km.package_hashes({"optimessay.trajectory"})
    assert {"optimessay.trajectory", "optimessay.landscapes", "optimessay"} <= set(hashes)
    expected = hashlib.sha256((ROOT / "optimessay" / "landscapes.py").read_bytes()).hexdigest()
    assert hashes["optimessay.landscapes"] == expected
    # `from optimessay import Adam` resolves through the lazy root to the optimizers package
    assert "optimessay.optimizers" in module._optimessay_imports(ast.parse("from optimessay import Adam"), km.exports)


# --- atomic ---------------------------------------------------------------------------------------------


def test_an_interrupted_build_leaves_no_half_written_figure_and_the_next_run_finishes(tmp_path):
    out = tmp_path / "out"
    marker = tmp_path / "writing"
    stall = f'Figure("stall", "video", "A video whose writing gets interrupted.", stalls, {{"marker": {str(marker)!r}}})'
    catalog = write_catalog(tmp_path / "catalog.py", LINE_A, stall)
    cmd = [sys.executable, str(BUILD), "--catalog", str(catalog), "--out", str(out), "--no-progress", "--jobs", "1"]
    proc = subprocess.Popen(cmd, cwd=ROOT, env={**os.environ, "FIGURES_TEST_STALL": "1"}, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while not marker.exists():
            assert time.monotonic() < deadline, "the build never reached the video"
            assert proc.poll() is None, "the build ended before it was interrupted"
            time.sleep(0.05)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # like a power cut: no cleanup handlers run
        proc.wait()

    halves = sorted(p.name for p in out.glob(".stall.*.tmp"))
    assert len(halves) == 3, halves  # the interruption hit in the middle of writing
    assert not any((out / f"stall.{ext}").exists() for ext in ("mp4", "webm", "png"))
    assert not (out / ".stamps" / "stall.json").exists()
    if (out / "line-a.png").exists():
        png_size(out / "line-a.png")  # complete, if it got there
    if (out / "manifest.json").exists():
        assert "stall" not in json.loads((out / "manifest.json").read_text())["figures"]

    again = build(catalog, out)
    assert again.returncode == 0, again.stderr
    assert [p.name for p in out.glob(".*.tmp")] == []  # the leftovers are swept away
    for ext in ("mp4", "webm", "png"):
        assert (out / f"stall.{ext}").read_bytes() == b"complete"
    manifest = json.loads((out / "manifest.json").read_text())["figures"]
    assert manifest["stall"]["files"] == {"mp4": "stall.mp4", "webm": "stall.webm", "poster": "stall.png"}
    assert set(manifest) == {"line-a", "stall"}


# --- the real catalog -----------------------------------------------------------------------------------


def test_two_clean_builds_of_real_figures_are_byte_identical_and_match_the_catalog(tmp_path):
    names = ["banana-log-contour", "precond-gd-vs-newton"]
    outs = [tmp_path / "one", tmp_path / "two"]

    def keys(out):
        return {n: json.loads((out / ".stamps" / f"{n}.json").read_text())["key"] for n in names}

    for _attempt in range(2):  # the working tree may be edited by someone between the two builds
        for out in outs:
            result = subprocess.run([sys.executable, str(BUILD), "--out", str(out), "--no-progress", "--force",
                                     "--only", ",".join(names)], capture_output=True, text=True, cwd=ROOT)
            assert result.returncode == 0, result.stderr
        if keys(outs[0]) == keys(outs[1]):
            break
    one, two = ({k: v[1] for k, v in snapshot(out).items()} for out in outs)
    assert one == two
    assert {f"{n}.png" for n in names} <= set(one)
    spec = importlib.util.spec_from_file_location("catalog_under_test", ROOT / "scripts" / "catalog.py")
    catalog = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = catalog
    spec.loader.exec_module(catalog)
    by_name = {e.name: e for e in catalog.FIGURES}
    manifest = json.loads(one["manifest.json"])["figures"]
    assert set(manifest) == set(names)
    for name in names:
        assert manifest[name]["alt"] == by_name[name].alt and manifest[name]["kind"] == by_name[name].kind
        assert (manifest[name]["width"], manifest[name]["height"]) == css_size(outs[0] / f"{name}.png")
        assert manifest[name]["width"] == 750  # the content width the figures are drawn for


def test_the_catalog_declares_every_name_in_use_each_with_alt_text():
    listing = subprocess.run([sys.executable, str(BUILD), "--list", "--out", "/nonexistent-figures-dir/x"],
                             capture_output=True, text=True, cwd=ROOT)
    assert listing.returncode == 0, listing.stderr
    listed = {line.split()[0]: line.split()[1] for line in listing.stdout.splitlines()}
    assert set(CONTRACT_NAMES) <= set(listed)
    used = {m for page in (ROOT / "docs").rglob("*.md") for m in re.findall(r"^\s*!figure\[([^\]]+)\]", page.read_text(), re.M)}
    assert used <= set(listed), used - set(listed)
    assert {listed[n] for n in ("race-banana", "race-himmelblau", "race-rotated-quadratic")} == {"video"}

    spec = importlib.util.spec_from_file_location("catalog_alt_test", ROOT / "scripts" / "catalog.py")
    catalog = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = catalog
    spec.loader.exec_module(catalog)
    for entry in catalog.FIGURES:
        assert len(entry.alt) >= 60 and entry.alt.strip() == entry.alt, entry.name
        assert entry.kind in ("image", "video")


def test_an_unknown_only_name_is_an_error_naming_it(tmp_path):
    result = subprocess.run([sys.executable, str(BUILD), "--only", "no-such-figure", "--out", str(tmp_path)],
                            capture_output=True, text=True, cwd=ROOT)
    assert result.returncode != 0
    assert "unknown figure(s): no-such-figure" in result.stderr


@pytest.mark.parametrize("bad", ["--jobs=0"])
def test_bad_arguments_are_rejected(tmp_path, bad):
    result = subprocess.run([sys.executable, str(BUILD), bad, "--out", str(tmp_path)], capture_output=True, text=True,
                            cwd=ROOT)
    assert result.returncode != 0 and "--jobs must be >= 1, got 0" in result.stderr
