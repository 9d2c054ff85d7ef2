"""`make figures` (scripts/build_figures.py): failures reported by name, incremental, atomic under
interruption, deterministic, manifest = catalog; keys followed across the per-page modules; numbers
entries; and under faults: two builds into one folder, stamps of the wrong shape, truncated files
under a valid stamp, a worker that dies, a build killed with -9.

Every test builds a tiny catalog written here (its videos and numbers are fakes that need neither
torch nor matplotlib; only the image tests draw, with matplotlib alone: a line, and a 20 x 20 contour
with a 3-step walk for the variants; the failing-figure and variants tests start from one shared first
build) except where the real catalog is the point: a clean build of the two cheapest real entries that
cover an image with every variant and numbers, compared with the site's own build of them (or with a
second clean build when that is stale; one worker each: the cost is importing torch and matplotlib),
and the listing of the real catalog's names and page modules (no drawing)."""

import ast
import contextlib
import functools
import hashlib
import importlib.util
import io
import json
import os
import re
import shutil
import signal
import struct
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from optimessay.files import process_running

ROOT = Path(__file__).resolve().parent.parent
BUILD = ROOT / "scripts" / "build_figures.py"


def _child_env(**extra: str) -> dict:
    """The environment of the builds (and other processes) these tests start. Under
    PYTHONDONTWRITEBYTECODE a PYTHONPYCACHEPREFIX folder is never filled, yet Python looks for bytecode
    only there: every child would compile torch, matplotlib and the standard library from source
    (measured: `import torch` 4.7 s of CPU, `import matplotlib.pyplot` 2.3 s, against 1.7 s and 0.6 s
    with the installed libraries' own __pycache__). So a child that may not write bytecode reads the
    bytecode the libraries were installed with; nothing is written either way."""
    env = {**os.environ, **extra}
    if env.get("PYTHONDONTWRITEBYTECODE"):
        env.pop("PYTHONPYCACHEPREFIX", None)
    return env


ENV = _child_env()

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
import struct
import time
import zlib
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


def _chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _box(kind, data=b""):
    return struct.pack(">I", 8 + len(data)) + kind + data


# the smallest files the build accepts as a PNG, an MP4 and a WebM (it checks their structure)
TINY = {
    "png": (b"\\x89PNG\\r\\n\\x1a\\n" + _chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0))
            + _chunk(b"IDAT", zlib.compress(b"\\x00\\x00")) + _chunk(b"IEND", b"")),
    "mp4": _box(b"ftyp", b"isom\\x00\\x00\\x02\\x00isom") + _box(b"moov") + _box(b"mdat", b"frames"),
    "webm": (bytes.fromhex("1a45dfa3") + bytes([0x80 | 7]) + b"\\x42\\x82\\x84webm"
             + bytes.fromhex("18538067") + bytes([0x80 | 6]) + b"frames"),
}


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
            for path, kind in ((mp4, "mp4"), (webm, "webm"), (poster, "png")):
                Path(path).write_bytes(TINY[kind])
            return 10, 10

    return Video()


def clip(marker="", gate=""):
    """A tiny video, drawn without torch or matplotlib. With a gate: it opens its three files (as
    ffmpeg does), writes their first bytes, writes its pid to `marker`, waits for `gate`, finishes."""

    class Video:
        def save(self, mp4, webm, poster):
            handles = {kind: open(path, "wb") for kind, path in (("mp4", mp4), ("webm", webm), ("png", poster))}
            try:
                for kind, f in handles.items():
                    f.write(TINY[kind][:10])
                    f.flush()
                if marker:
                    Path(marker).write_text(str(os.getpid()))
                deadline = time.monotonic() + 60
                while gate and not Path(gate).exists() and time.monotonic() < deadline:
                    time.sleep(0.02)
                for kind, f in handles.items():
                    f.write(TINY[kind][10:])
            finally:
                for f in handles.values():
                    f.close()
            return 1, 1

    return Video()


def dies(code):
    os._exit(code)  # like a crash in native code: no exception, the process is just gone


def pid_then(marker, seconds):
    Path(marker).write_text(str(os.getpid()))
    time.sleep(seconds)
    raise RuntimeError("not drawn")


def measured(scale):
    """A numbers recipe: what an experiment measured."""
    return {"loss": 0.5 * scale, "steps": 300, "winner": "Adam"}


def not_finite():
    return {"loss": float("nan")}
'''

LINE_A = 'Figure("line-a", "image", "A rising line of slope 1.", line, {"slope": 1})'
LINE_B = 'Figure("line-b", "image", "A rising line of slope 2.", line, {"slope": 2})'
BROKEN = 'Figure("broken", "image", "Never drawn: its recipe raises.", broken, {"message": "deliberate failure"})'


def write_catalog(path: Path, *entries: str, extra: str = "") -> Path:
    path.write_text(HEADER + extra + "\n\nFIGURES = [\n" + "".join(f"    {e},\n" for e in entries) + "]\n")
    return path


def build(catalog: Path, out: Path, *args: str, env: dict | None = None, **kwargs):
    cmd = [sys.executable, str(BUILD), "--catalog", str(catalog), "--out", str(out), "--no-progress", *args]
    return subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, env=_child_env(**(env or {})), **kwargs)


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR", f"{path} is not a complete PNG"
    return struct.unpack(">II", data[16:24])


def css_size(path: Path) -> tuple[int, int]:
    """The size an image is shown at: its file is drawn at 150 dpi, 1.5 file pixels per CSS pixel."""
    w, h = png_size(path)
    return round(w / 1.5), round(h / 1.5)


def snapshot(out: Path) -> dict:
    """Every file the build wrote (not its lock file, which each run takes), with its mtime and bytes."""
    return {p.relative_to(out).as_posix(): (p.stat().st_mtime_ns, p.read_bytes())
            for p in sorted(out.rglob("*")) if p.is_file() and p.name != "build.lock"}


def _namespace() -> dict:
    namespace = {"__name__": "catalog_header"}
    exec(compile(HEADER, "catalog header", "exec"), namespace)
    return namespace


TINY = _namespace()["TINY"]
CLIP_A = 'Figure("clip-a", "video", "A tiny video.", clip)'
CLIP_B = 'Figure("clip-b", "video", "Another tiny video.", clip)'
KILLER = 'Figure("killer", "video", "Never drawn: its recipe kills its worker.", dies, {"code": 3})'


def _wait_for(condition, what: str, seconds: float = 60.0, *, check=lambda: None):
    deadline = time.monotonic() + seconds
    while not condition():
        check()
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


def _build_files(out: Path, name: str) -> dict:
    return {kind: (out / f"{name}.{kind}").read_bytes() for kind in ("mp4", "webm", "png")}


# --- the variants' recipes: dark and narrow pictures ------------------------------------------------------

VARIANT_RECIPES = '''

def walk_on_a_bowl(n):
    """A landscape figure without torch: a bowl's contours on an n x n grid (numpy), tagged the way
    plots.draw_landscape tags its axes (tests/test_plots.py checks that it does), and a 3-step walk."""
    import numpy as np

    from optimessay import plots, style

    fig, ax = style.figure(height=3.0)
    xs = ys = np.linspace(-1.5, 1.5, n)
    x, y = np.meshgrid(xs, ys)
    plots.draw_contours(ax, xs, ys, 2.0 * x**2 + x * y + 0.5 * y**2, levels=8)
    ax.set_gid(plots.LANDSCAPE_GID)
    plots.draw_minima(ax, [[0.0, 0.0]])
    ax.set_aspect("equal", adjustable="box")
    plots.draw_path(ax, [[-1.0, 1.0], [-0.5, 0.2], [0.0, 0.0]], color=style.color("adagrad"), label="Adagrad")
    plots.legend_below(fig, ax)
    return fig


def clip_with_dark_poster():
    class Video:
        def save(self, mp4, webm, poster, *, dark_poster_path=None):
            for path, kind in ((mp4, "mp4"), (webm, "webm"), (poster, "png"), (dark_poster_path, "png")):
                Path(path).write_bytes(TINY[kind])
            return 1, 1

    return Video()
'''
BOWL = 'Figure("bowl", "image", "A walk on a bowl.", walk_on_a_bowl, {"n": 20})'
DARK_CLIP = 'Figure("dark-clip", "video", "A clip with a dark poster.", clip_with_dark_poster)'


def _mean_luminance(path: Path) -> float:
    from PIL import Image, ImageStat

    with Image.open(path) as im:
        return ImageStat.Stat(im.convert("L")).mean[0]


# --- failures, incremental, no heavy imports ------------------------------------------------------------


@pytest.fixture(scope="module")
def first_build(tmp_path_factory):
    """The first build the failing-figure and the variants tests start from, made once: line-a, line-b
    (lines: a dark variant each), broken (its recipe raises), clip-a (a tiny video), bowl (a landscape:
    dark, narrow and narrow dark variants) and dark-clip (a video with a dark poster), drawn by one
    worker (--jobs 1: it draws on after the failing recipe) with --timings. Each test checks its facts
    about this build and copies the figures it goes on with into a folder of its own (take_figures):
    one worker importing matplotlib instead of one per test (~1 s of CPU each)."""
    folder = tmp_path_factory.mktemp("first-build")
    catalog = write_catalog(folder / "catalog.py", LINE_A, LINE_B, BROKEN, CLIP_A, BOWL, DARK_CLIP,
                            extra=VARIANT_RECIPES)
    return build(catalog, folder / "out", "--jobs", "1", "--timings"), folder / "out"


def take_figures(built: Path, out: Path, names) -> None:
    """Copy figures ``names`` of a build (each one's stamp and the files it records, with their times)
    and its manifest into the folder ``out``, as if that build had built just them there."""
    (out / ".stamps").mkdir(parents=True)
    for name in names:
        stamp = json.loads((built / ".stamps" / f"{name}.json").read_text())
        for file in stamp["files"].values():
            shutil.copy2(built / file, out / file)
        shutil.copy2(built / ".stamps" / f"{name}.json", out / ".stamps" / f"{name}.json")
    shutil.copy2(built / "manifest.json", out / "manifest.json")


def test_a_failing_figure_is_reported_the_others_build_and_reruns_are_incremental(tmp_path, first_build):
    first, built = first_build  # line-a, line-b, broken, clip-a, bowl, dark-clip; one worker
    assert first.returncode == 1, first.stderr
    assert "FAILED broken: RuntimeError: deliberate failure" in first.stderr
    assert "figures that failed: broken" in first.stderr
    manifest = json.loads((built / "manifest.json").read_text())["figures"]
    assert set(manifest) == {"line-a", "line-b", "clip-a", "bowl", "dark-clip"}  # never a figure that failed
    for name, slope in (("line-a", 1), ("line-b", 2)):
        entry = manifest[name]
        assert entry["kind"] == "image" and entry["alt"] == f"A rising line of slope {slope}."
        # the picture and its dark variant (a line plot has no landscape: no narrow variant)
        assert entry["files"] == {"png": f"{name}.png", "png_dark": f"{name}.dark.png"}
        assert (entry["width"], entry["height"]) == css_size(built / f"{name}.png")
        assert css_size(built / f"{name}.dark.png") == css_size(built / f"{name}.png")
        assert entry["bytes"] == {role: (built / file).stat().st_size for role, file in entry["files"].items()}
    out = tmp_path / "out"
    take_figures(built, out, ["line-a", "line-b", "clip-a"])

    # no change (the broken entry removed): nothing is drawn, no file is touched, torch and matplotlib
    # are not even imported (how long it takes is measured by `make bench`, scripts/bench_rebuild.py,
    # never asserted here: a wall-time limit fails on a loaded machine)
    catalog = write_catalog(tmp_path / "catalog.py", LINE_A, LINE_B, CLIP_A)
    before = snapshot(out)
    probe = textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(ROOT / 'scripts')!r})
        import build_figures
        rc = build_figures.main(["--catalog", {str(catalog)!r}, "--out", {str(out)!r}, "--no-progress"])
        print("HEAVY", sorted(m for m in ("torch", "matplotlib", "numpy") if m in sys.modules))
        sys.exit(rc)
    """)
    second = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, env=ENV)
    assert second.returncode == 0, second.stderr
    assert "0 built, 3 up to date, 0 failed" in second.stdout
    assert "HEAVY []" in second.stdout
    manifest_after = json.loads((out / "manifest.json").read_text())["figures"]
    assert set(manifest_after) == {"line-a", "line-b", "clip-a"}
    assert {k: v for k, v in snapshot(out).items() if k != "manifest.json"} == \
        {k: v for k, v in before.items() if k != "manifest.json"}

    # one entry's parameters change: that figure alone is redrawn
    catalog = write_catalog(tmp_path / "catalog.py", LINE_A, LINE_B.replace('{"slope": 2}', '{"slope": 3}'), CLIP_A)
    third = build(catalog, out)
    assert third.returncode == 0, third.stderr
    assert "1 built, 2 up to date" in third.stdout
    after = snapshot(out)
    assert after["line-a.png"] == before["line-a.png"]
    assert after["line-b.png"][1] != before["line-b.png"][1]

    # --force redraws all; --only limits to one (clip-a, up to date: drawn again only when forced, by a
    # worker that needs no matplotlib)
    forced = build(catalog, out, "--force", "--only", "clip-a")
    assert forced.returncode == 0 and "1 built, 0 up to date" in forced.stdout


# variants: dark and narrow pictures (beside the failing-figure test: both start from first_build, and
# xdist hands out consecutive tests together, so one worker builds it for both)


def test_variants_are_listed_stamped_verified_and_not_rebuilt_when_nothing_changed(tmp_path, first_build):
    first, built = first_build  # line-a, line-b, broken, clip-a, bowl, dark-clip; one worker, --timings
    assert first.returncode == 1 and "figures that failed: broken\n" in first.stderr, first.stderr  # broken alone
    assert re.search(r"timing bowl \S+ s \(cpu \S+ s; variants \S+ s, cpu \S+ s\)", first.stdout), first.stdout
    manifest = json.loads((built / "manifest.json").read_text())["figures"]

    # a line plot: a dark variant only; a figure with a landscape: dark, narrow and narrow dark
    assert manifest["line-a"]["files"] == {"png": "line-a.png", "png_dark": "line-a.dark.png"}
    bowl = manifest["bowl"]
    assert bowl["files"] == {"png": "bowl.png", "png_dark": "bowl.dark.png", "png_narrow": "bowl.narrow.png",
                             "png_narrow_dark": "bowl.narrow.dark.png"}
    assert bowl["bytes"] == {role: (built / f).stat().st_size for role, f in bowl["files"].items()}
    assert css_size(built / "bowl.dark.png") == css_size(built / "bowl.png") == (bowl["width"], bowl["height"])
    assert css_size(built / "bowl.narrow.png") == css_size(built / "bowl.narrow.dark.png") == \
        (bowl["narrow_width"], bowl["narrow_height"])
    assert bowl["narrow_width"] == 380 and bowl["narrow_width"] < bowl["width"]
    for light, dark in (("bowl.png", "bowl.dark.png"), ("bowl.narrow.png", "bowl.narrow.dark.png")):
        assert _mean_luminance(built / dark) < 0.5 * _mean_luminance(built / light)  # a dark picture, truly
    assert manifest["dark-clip"]["files"]["poster_dark"] == "dark-clip.dark.png"
    out = tmp_path / "out"
    take_figures(built, out, ["line-a", "bowl", "dark-clip"])
    catalog = write_catalog(tmp_path / "catalog.py", LINE_A, BOWL, DARK_CLIP, extra=VARIANT_RECIPES)

    # nothing changed: nothing is drawn, no file is touched
    before = snapshot(out)
    again = build(catalog, out)
    assert again.returncode == 0 and "0 built, 3 up to date, 0 failed" in again.stdout, again.stdout
    assert {k: v for k, v in snapshot(out).items() if k != "manifest.json"} == \
        {k: v for k, v in before.items() if k != "manifest.json"}

    # a variant damaged or gone: the figure is rebuilt, named, with the reason
    (out / "bowl.narrow.dark.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    (out / "dark-clip.dark.png").unlink()
    third = build(catalog, out, "--jobs", "1")  # one worker draws both (a second would start only for a clip)
    assert third.returncode == 0, third.stderr
    assert "figure bowl: bowl.narrow.dark.png has 8 bytes, its stamp says" in third.stderr
    assert "figure dark-clip: dark-clip.dark.png is missing; rebuilding it" in third.stderr
    assert "2 built, 1 up to date" in third.stdout

    # a figure that leaves the catalog takes its variants with it
    catalog = write_catalog(tmp_path / "catalog.py", LINE_A, extra=VARIANT_RECIPES)
    assert build(catalog, out).returncode == 0
    assert sorted(p.name for p in out.glob("*.png")) == ["line-a.dark.png", "line-a.png"]


@functools.cache
def _build_module():
    """scripts/build_figures.py as a module, loaded once for the tests that call it in this process
    (it keeps no state between calls: each KeyMaker and each catalog load starts afresh)."""
    spec = importlib.util.spec_from_file_location("build_figures_under_test", BUILD)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def list_in_process(catalog: Path, out: Path) -> str:
    """What `build_figures.py --catalog CATALOG --out OUT --list` prints, from its main() run in this
    process (the command line calls just that), without starting an interpreter for it (~0.13 s of CPU)."""
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        assert _build_module().main(["--catalog", str(catalog), "--out", str(out), "--list"]) == 0
    return printed.getvalue()


def _keymaker(tmp_path, *entries, extra=""):
    module = _build_module()
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


PAGE_SHARED = """
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


def _scale(value):
    return {factor} * value


def _unused(value):
    return value


def line(slope):
    from optimessay import style

    fig, ax = style.figure(height=2.0)
    ax.plot([0, 1], [0, _scale(slope)], color=style.color("adam"))
    return fig
"""
PAGE_A = """
from ._shared import Figure, _scale, line


def a_line(slope):
    _scale(slope)
    return line({slope_a})


def a_other(slope):
    return line(slope)


FIGURES = [
    Figure("a-line", "image", "A line of page a.", a_line, {{"slope": 1}}),
    Figure("a-other", "image", "Another line of page a.", a_other, {{"slope": 2}}),
]
"""
PAGE_B = """
from . import _shared
{local}

def b_line(slope):
    return _shared.{call}(slope)


FIGURES = [_shared.Figure("b-line", "image", "A line of page b.", b_line, {{"slope": 3}})]
"""


def _page_keys(tmp_path, factor=2, slope_a=1, local="", call="_unused") -> dict:
    """Keys of a two-page catalog laid out like the real one: the real scripts/catalog.py beside a
    figures/ package of _shared.py, a.py and b.py (here in tmp_path)."""
    pages = tmp_path / "figures"
    pages.mkdir(exist_ok=True)
    (tmp_path / "catalog.py").write_bytes((ROOT / "scripts" / "catalog.py").read_bytes())
    (pages / "__init__.py").write_text("")
    (pages / "_shared.py").write_text(PAGE_SHARED.format(factor=factor))
    (pages / "a.py").write_text(PAGE_A.format(slope_a=slope_a))
    (pages / "b.py").write_text(PAGE_B.format(local=local, call=call))
    module = _build_module()
    _, loaded = module.load_catalog(tmp_path / "catalog.py")
    km = module.KeyMaker(tmp_path / "catalog.py")
    return {e.name: km.key(e) for e in loaded}


def test_keys_follow_recipes_and_helpers_across_page_modules(tmp_path):
    base = _page_keys(tmp_path)
    assert set(base) == {"a-line", "a-other", "b-line"}  # every page module's entries, one registry
    # editing one recipe changes one key
    assert _page_keys(tmp_path, slope_a=5) == {**base, "a-line": _page_keys(tmp_path, slope_a=5)["a-line"]}
    assert _page_keys(tmp_path, slope_a=5)["a-line"] != base["a-line"]
    # editing a shared helper changes the keys of its users only: a-line calls _scale directly,
    # a-other through the shared recipe `line`; b-line calls `_shared._unused`, then `_shared.line`
    helper = _page_keys(tmp_path, factor=3)
    assert all(helper[n] != base[n] for n in ("a-line", "a-other"))
    assert helper["b-line"] == base["b-line"]
    assert _page_keys(tmp_path, factor=3, call="line")["b-line"] != _page_keys(tmp_path, call="line")["b-line"]
    # a page's own helper that nobody calls, added: no key changes
    assert _page_keys(tmp_path, local="\n\ndef _spare():\n    return 1\n") == base


def test_a_decorated_recipe_is_keyed_on_the_function_it_wraps(tmp_path):
    extra = "\n\nimport functools\n\n\n@functools.cache\ndef cached(slope):\n    return line({})\n"
    entry = 'Figure("cached", "image", "A line drawn by a cached recipe.", cached, {"slope": 1})'
    _, _, one = _keymaker(tmp_path, entry, extra=extra.format(1))
    _, _, two = _keymaker(tmp_path, entry, extra=extra.format(2))
    assert one["cached"] != two["cached"]


# --- numbers ---------------------------------------------------------------------------------------------

NUMS = 'Figure("nums-a", "numbers", "What a tiny experiment measured.", measured, {"scale": 2})'
NAN = 'Figure("nums-nan", "numbers", "A measurement that went wrong.", not_finite)'


def test_numbers_are_built_stamped_verified_and_listed_like_figures(tmp_path):
    out = tmp_path / "out"
    catalog = write_catalog(tmp_path / "catalog.py", NUMS, NAN, CLIP_A)
    first = build(catalog, out, "--jobs", "1")  # one worker draws all three: none of them is slow
    assert first.returncode == 1
    assert ("FAILED nums-nan: TypeError: recipe not_finite must return a flat dict of numbers: the value of "
            "'loss' is nan, not a finite number") in first.stderr
    assert not (out / "nums-nan.json").exists()
    text = (out / "nums-a.json").read_text()
    assert json.loads(text) == {"loss": 1.0, "steps": 300, "winner": "Adam"}
    assert text == json.dumps({"loss": 1.0, "steps": 300, "winner": "Adam"}, indent=1, sort_keys=True) + "\n"
    manifest = json.loads((out / "manifest.json").read_text())["figures"]
    assert set(manifest) == {"nums-a", "clip-a"}
    assert manifest["nums-a"] == {"kind": "numbers", "alt": "What a tiny experiment measured.",
                                  "files": {"json": "nums-a.json"}, "bytes": {"json": len(text.encode())}}
    stamp = json.loads((out / ".stamps" / "nums-a.json").read_text())
    assert stamp["outputs"]["nums-a.json"]["sha256"] == hashlib.sha256(text.encode()).hexdigest()

    catalog = write_catalog(tmp_path / "catalog.py", NUMS, CLIP_A)
    again = build(catalog, out)
    assert again.returncode == 0 and "0 built, 2 up to date" in again.stdout, again.stdout + again.stderr
    # a file that is not what the build wrote is named and rebuilt; so is one that is not valid
    for damage, reason in ((text.replace("1.0", "2.0"), "is not the file the build wrote"),
                           (text[:-3], "nums-a.json has"), ("[" + " " * (len(text) - 2) + "]", "is not a numbers file")):
        (out / "nums-a.json").write_text(damage)
        listing = list_in_process(catalog, out)
        assert re.search(r"^nums-a +numbers +stale \(.*" + re.escape(reason), listing, re.M), listing
    rebuilt = build(catalog, out)
    assert rebuilt.returncode == 0 and "1 built, 1 up to date" in rebuilt.stdout
    assert "figure nums-a: nums-a.json is not a numbers file" in rebuilt.stderr
    assert (out / "nums-a.json").read_text() == text

    # the entry's parameters change: its numbers are measured again
    catalog = write_catalog(tmp_path / "catalog.py", NUMS.replace('"scale": 2', '"scale": 4'), CLIP_A)
    assert "1 built, 1 up to date" in build(catalog, out).stdout
    assert json.loads((out / "nums-a.json").read_text())["loss"] == 2.0


def test_numbers_values_must_be_a_flat_dict_of_numbers_and_short_strings(tmp_path):
    import numpy as np

    module, _, _ = _keymaker(tmp_path, NUMS)
    assert module.numbers_problem({"a": 1, "b_2": 0.5, "c": "Adam"}) is None
    converted = module.numbers_values({"f": np.float32(0.5), "i": np.int64(3), "d": np.float64(0.25)})
    assert converted == {"f": 0.5, "i": 3, "d": 0.25}
    assert [type(v) for v in converted.values()] == [float, int, float]
    bad = {
        "not a dict": [("a", 1)],
        "an empty dict": {},
        "key 'a.b' is not an identifier": {"a.b": 1},
        "key '1a' is not an identifier": {"1a": 1},
        "the value of 'b' is bool True": {"b": True},
        "the value of 'x' is ndarray": {"x": np.ones(2)},
        "the value of 'x' is list": {"x": [1.0]},
        "the value of 'x' is inf, not a finite number": {"x": float("inf")},
        "the value of 's' should be a string of at most 100 characters on one line": {"s": "x" * 101},
    }
    for reason, values in bad.items():
        problem = module.numbers_problem(module.numbers_values(values))
        assert problem is not None and (reason in problem or reason.split(" ", 1)[1] in problem), (reason, problem)
    assert module.output_problem("json", b'{"a": 1}') is None
    assert "not valid JSON" in module.output_problem("json", b'{"a": 1')
    with pytest.raises(SystemExit, match="numbers 'a.b': a numbers name is letters, digits"):
        module.load_catalog(write_catalog(tmp_path / "catalog.py", NUMS.replace("nums-a", "a.b")))


# --- atomic ---------------------------------------------------------------------------------------------


def test_an_interrupted_build_leaves_no_half_written_figure_and_the_next_run_finishes(tmp_path):
    out = tmp_path / "out"
    marker = tmp_path / "writing"
    stall = f'Figure("stall", "video", "A video whose writing gets interrupted.", stalls, {{"marker": {str(marker)!r}}})'
    catalog = write_catalog(tmp_path / "catalog.py", CLIP_A, stall)  # clip-a: built first, no matplotlib
    cmd = [sys.executable, str(BUILD), "--catalog", str(catalog), "--out", str(out), "--no-progress", "--jobs", "1"]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=_child_env(FIGURES_TEST_STALL="1"), start_new_session=True,
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
    for kind in ("mp4", "webm", "png"):
        if (out / f"clip-a.{kind}").exists():
            assert (out / f"clip-a.{kind}").read_bytes() == TINY[kind]  # complete, if it got there
    if (out / "manifest.json").exists():
        assert "stall" not in json.loads((out / "manifest.json").read_text())["figures"]

    again = build(catalog, out)
    assert again.returncode == 0, again.stderr
    assert [p.name for p in out.glob(".*.tmp")] == []  # the leftovers are swept away
    assert _build_files(out, "stall") == TINY
    manifest = json.loads((out / "manifest.json").read_text())["figures"]
    assert manifest["stall"]["files"] == {"mp4": "stall.mp4", "webm": "stall.webm", "poster": "stall.png"}
    assert manifest["stall"]["bytes"] == {"mp4": len(TINY["mp4"]), "webm": len(TINY["webm"]), "poster": len(TINY["png"])}
    assert set(manifest) == {"clip-a", "stall"}


# --- under faults: concurrent builds, damaged stamps and files, dying workers, a killed build -----------


def test_a_second_build_into_the_same_folder_waits_and_deletes_nothing_of_the_first(tmp_path):
    # reproduced before the fix: the second run's start-up cleanup deleted the first run's temporary
    # files while its ffmpeg was writing them ("Error writing trailer")
    out, marker, gate = tmp_path / "out", tmp_path / "writing", tmp_path / "gate"
    slow = f'Figure("slow", "video", "A video still being written.", clip, {{"marker": {str(marker)!r}, "gate": {str(gate)!r}}})'
    catalog = write_catalog(tmp_path / "catalog.py", CLIP_A, slow)
    cmd = [sys.executable, str(BUILD), "--catalog", str(catalog), "--out", str(out), "--no-progress", "--jobs", "1"]
    first = subprocess.Popen(cmd, cwd=ROOT, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    second = None
    try:
        _wait_for(marker.exists, "the first build to start writing its video",
                  check=lambda: first.poll() is None or pytest.fail("the first build ended early"))
        partial = sorted(p.name for p in out.glob(".slow.*.tmp"))
        assert len(partial) == 3, partial
        log = tmp_path / "second.err"
        with open(log, "w") as err:
            second = subprocess.Popen(cmd, cwd=ROOT, env=ENV, stdout=subprocess.PIPE, stderr=err, text=True)
        waiting = f"another figure build (pid {first.pid}) is running; waiting (it builds into {out})"

        def nothing_deleted():
            assert sorted(p.name for p in out.glob(".slow.*.tmp")) == partial, "the second build deleted them"
            assert second.poll() is None, f"the second build did not wait: {log.read_text()}"

        _wait_for(lambda: waiting in log.read_text(), "the second build to say it waits", 30, check=nothing_deleted)
        gate.write_text("go")
        out1, err1 = first.communicate(timeout=60)
        out2, _ = second.communicate(timeout=60)
    finally:
        for proc in (first, second):
            if proc is not None and proc.poll() is None:
                proc.kill()
    assert first.returncode == 0, err1
    assert "2 built, 0 up to date, 0 failed" in out1
    assert second.returncode == 0, log.read_text()
    assert "0 built, 2 up to date, 0 failed" in out2  # it waited, then found the first build's work done
    assert _build_files(out, "slow") == TINY
    assert [p.name for p in out.glob(".*.tmp")] == []


def test_stale_temporaries_are_removed_only_when_their_writer_is_gone(tmp_path, monkeypatch):
    module, _, _ = _keymaker(tmp_path, CLIP_A)
    out = tmp_path / "out"
    (out / ".stamps").mkdir(parents=True)
    live = subprocess.Popen(["sleep", "60"])  # any live and any exited process (no interpreter to start)
    dead = subprocess.Popen(["true"])
    dead.wait()
    try:
        mine = out / f".clip-a.mp4.{os.getpid()}-figure.tmp"
        others = out / f".clip-a.webm.{live.pid}-figure.tmp"
        stale = [out / f".clip-a.png.{dead.pid}-figure.tmp", out / ".stamps" / f".clip-a.json.{dead.pid}-x1y2.tmp"]
        for path in (mine, others, *stale):
            path.write_bytes(b"half")
        module.clean_stray_files(out, module.load_catalog(tmp_path / "catalog.py")[1])
        assert mine.exists() and others.exists()
        assert not any(p.exists() for p in stale)
    finally:
        live.kill()
        live.wait()


def test_damaged_stamps_and_files_are_rebuilt_by_name_and_a_dying_worker_fails_only_its_figure(tmp_path):
    out = tmp_path / "out"
    catalog = write_catalog(tmp_path / "catalog.py", CLIP_A, CLIP_B, KILLER)
    first = build(catalog, out, "--jobs", "2")
    # reproduced before the fix: the dead worker broke the pool and every figure was reported
    # "BrokenProcessPool", none built, the culprit not named
    assert first.returncode == 1
    assert "FAILED killer: its worker process died (exit status 3) while drawing it" in first.stderr
    assert "figures that failed: killer\n" in first.stderr
    assert "BrokenProcessPool" not in first.stderr + first.stdout
    assert "2 built, 0 up to date, 1 failed" in first.stdout
    assert set(json.loads((out / "manifest.json").read_text())["figures"]) == {"clip-a", "clip-b"}
    for name in ("clip-a", "clip-b"):
        assert _build_files(out, name) == TINY

    # valid JSON of the wrong shape (a bare AttributeError before), and a truncated file under a valid
    # stamp (shipped as up to date before): each figure is named, rebuilt, and shipped whole
    (out / ".stamps" / "clip-a.json").write_text("[1, 2]")
    (out / "clip-b.webm").write_bytes(TINY["webm"][:5])
    listing = list_in_process(catalog, out)
    assert re.search(r"^clip-b +video +stale \(clip-b\.webm has 5 bytes, its stamp says \d+\)$", listing, re.M)
    second = build(catalog, out, "--jobs", "2")
    assert second.returncode == 1  # the killer again
    assert ("figure clip-a: its stamp .stamps/clip-a.json is not a stamp (expected an object with a string "
            "'key', got [1, 2]); rebuilding it") in second.stderr
    assert f"figure clip-b: clip-b.webm has 5 bytes, its stamp says {len(TINY['webm'])}; rebuilding it" in second.stderr
    assert "2 built, 0 up to date, 1 failed" in second.stdout
    for name in ("clip-a", "clip-b"):
        assert _build_files(out, name) == TINY
    assert set(json.loads((out / "manifest.json").read_text())["figures"]) == {"clip-a", "clip-b"}


def test_a_figure_counts_as_up_to_date_only_with_a_well_formed_stamp_and_the_files_it_records(tmp_path):
    module, _, keys = _keymaker(tmp_path, CLIP_A)
    entry = module.load_catalog(tmp_path / "catalog.py")[1][0]
    out = tmp_path / "out"
    (out / ".stamps").mkdir(parents=True)
    files = {"mp4": "clip-a.mp4", "webm": "clip-a.webm", "poster": "clip-a.png"}
    good = {"key": keys["clip-a"], "kind": "video", "alt": entry.alt, "files": files, "width": 1, "height": 1,
            "outputs": {f"clip-a.{k}": module.file_record(TINY[k]) for k in ("mp4", "webm", "png")}}

    def status(stamp=good, **damage):
        for kind in ("mp4", "webm", "png"):
            (out / f"clip-a.{kind}").write_bytes(damage.get(kind, TINY[kind]))
        if damage.get("missing"):
            (out / damage["missing"]).unlink()
        text = stamp if isinstance(stamp, str) else json.dumps(stamp)
        (out / ".stamps" / "clip-a.json").write_text(text)
        return module.figure_status(out, entry, keys["clip-a"])

    assert status().current
    assert not status({**good, "key": "0" * 64}).damaged  # an edit of the catalog: stale, nothing to report
    bad_stamps = {
        "[1, 2]": "is not a stamp (expected an object with a string 'key', got [1, 2])",
        '{"key": 3}': "is not a stamp",
        '{"key": ': "is not valid JSON",
        json.dumps({**good, "files": ["clip-a.mp4"]}): "is malformed: 'files' should be",
        json.dumps({k: v for k, v in good.items() if k != "width"}): "is malformed: 'width' should be a positive integer, got None",
        json.dumps({**good, "outputs": {}}): "is malformed: 'outputs' should have an entry for each of",
        json.dumps({**good, "outputs": {**good["outputs"], "clip-a.mp4": {"bytes": "12"}}}): "'outputs' of clip-a.mp4 should be",
    }
    for text, reason in bad_stamps.items():
        result = status(text)
        assert not result.current and result.damaged, text
        assert result.reason.startswith("its stamp .stamps/clip-a.json ") and reason in result.reason, result.reason
    flipped = bytearray(TINY["png"])
    flipped[45] ^= 1  # a bit inside the IDAT data: same size, the chunk's CRC no longer matches
    other_mp4 = TINY["mp4"].replace(b"frames", b"FRAMES")  # parses, same size, not what was written
    bad_files = [
        ({"webm": b""}, "clip-a.webm has 0 bytes, its stamp says"),
        ({"mp4": TINY["mp4"].replace(b"ftyp", b"free")}, "clip-a.mp4 is not an MP4 (no ftyp box first)"),
        ({"png": bytes(flipped)}, "clip-a.png is damaged: wrong checksum in its IDAT chunk"),
        ({"mp4": other_mp4}, "clip-a.mp4 is not the file the build wrote (its sha256 differs from the stamp's)"),
        ({"missing": "clip-a.png"}, "clip-a.png is missing"),
    ]
    for damage, reason in bad_files:
        result = status(**damage)
        assert not result.current and result.damaged and reason in result.reason, result
    assert module.manifest_text(out, [entry], keys) == '{\n  "figures": {}\n}\n'  # (the last: a missing poster)


def test_every_cut_of_a_png_mp4_or_webm_is_refused(tmp_path):
    module, _, _ = _keymaker(tmp_path, CLIP_A)
    for role, kind in (("png", "png"), ("poster", "png"), ("mp4", "mp4"), ("webm", "webm")):
        data = TINY[kind]
        assert module.output_problem(role, data) is None
        for cut in range(len(data)):
            assert module.output_problem(role, data[:cut]) is not None, (role, cut)
        assert module.output_problem(role, data + b"\0") is not None, role


@pytest.mark.parametrize("guard", ["pdeathsig", "watchdog"])
def test_workers_die_with_a_killed_build(tmp_path, guard):
    # reproduced before the fix: after kill -9 of the build, an idle worker waited for work forever and
    # a busy one drew on, both orphans
    out, busy, idle = tmp_path / "out", tmp_path / "busy", tmp_path / "idle"
    catalog = write_catalog(
        tmp_path / "catalog.py",
        f'Figure("hangs", "video", "Sleeps for minutes.", pid_then, {{"marker": {str(busy)!r}, "seconds": 600}})',
        f'Figure("quick", "video", "Fails at once.", pid_then, {{"marker": {str(idle)!r}, "seconds": 0}})')
    env = _child_env(OPTIMESSAY_FIGURES_NO_PDEATHSIG="1" if guard == "watchdog" else "")
    cmd = [sys.executable, str(BUILD), "--catalog", str(catalog), "--out", str(out), "--no-progress", "--jobs", "2"]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_for(lambda: busy.exists() and idle.exists(), "both workers to start a figure",
                  check=lambda: proc.poll() is None or pytest.fail("the build ended early"))
        time.sleep(0.3)  # the quick one's worker reports its failure and waits for work
        workers = [int(busy.read_text()), int(idle.read_text())]
        assert all(process_running(pid) for pid in workers)
        os.kill(proc.pid, signal.SIGKILL)  # the build alone: no cleanup handler runs
        proc.wait()
        _wait_for(lambda: not any(process_running(pid) for pid in workers), "the workers to die with the build", 15)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)


# --- the real catalog -----------------------------------------------------------------------------------

# where `make figures` builds the site's figures (`make test` builds them before it runs pytest)
SITE_FIGURES = ROOT / "docs" / "figures"


def _site_build(catalog: Path) -> tuple[dict, dict] | None:
    """The files a build of ``catalog`` writes, as the site's own build has them (SITE_FIGURES, made by
    `make figures`): each entry's stamp and files, and the manifest a build of just these entries
    writes (manifest_text over those stamps), with the keys; None unless every entry there is current
    for the working tree as it is now (same key) and every file is the one its stamp records. Files are
    replaced by renames and the stamp last, so a file read here that another build was replacing shows
    as a different sha256: None too."""
    module = _build_module()
    _, entries = module.load_catalog(catalog)
    keymaker = module.KeyMaker(catalog)
    keys = {e.name: keymaker.key(e) for e in entries}
    files = {}
    for entry in entries:
        try:
            stamp_text = (SITE_FIGURES / ".stamps" / f"{entry.name}.json").read_bytes()
            stamp = json.loads(stamp_text)
            if stamp["key"] != keys[entry.name]:
                return None
            files[f".stamps/{entry.name}.json"] = stamp_text
            for name, record in stamp["outputs"].items():
                data = (SITE_FIGURES / name).read_bytes()
                if hashlib.sha256(data).hexdigest() != record["sha256"]:
                    return None
                files[name] = data
        except (OSError, ValueError, KeyError, TypeError):
            return None
    files["manifest.json"] = module.manifest_text(SITE_FIGURES, entries, keys).encode()
    return files, keys


@pytest.mark.slow  # a build (two when the site's copy is stale) that imports torch and matplotlib: started first
def test_two_clean_builds_of_real_figures_are_byte_identical_and_match_the_catalog(tmp_path):
    """Two real entries, the cheapest that cover every kind of file this compares: banana-log-contour,
    an image with a landscape, so with its dark, narrow and narrow dark variants (1.2 s of drawing, and
    no torch.optim to import); landscapes-curvature, numbers (0.01 s). No video: its bytes come from
    ffmpeg, which the build runs bitexact on one thread, and tests/test_plots.py checks that a Race
    encodes byte for byte the same twice; a real race would add seconds of tuning and encoding to each
    build. (The plain image with a dark variant only is built in the tiny catalogs above.)

    The other clean build is the site's own (docs/figures, which `make figures` built before `make
    test` runs pytest) when it is current: this build must then write byte for byte its stamps and
    files, and the manifest a build of these two entries writes; that build drew them in a worker that
    may have drawn other figures first, so an incremental build is held to a clean build's bytes too.
    When the site's copy is stale or missing (the tree edited since, or no `make figures`), two clean
    builds into separate folders here, as before: each costs 4 s of CPU (torch's import 1.5 s)."""
    names = ["banana-log-contour", "landscapes-curvature"]
    images = names[:1]
    outs = [tmp_path / "one", tmp_path / "two"]
    # these entries of scripts/catalog.py, as they are there: a build keys every entry of its catalog
    # (parsing each recipe's sources and the package modules it imports: 0.4 s of CPU for the site's)
    catalog = tmp_path / "catalog.py"
    catalog.write_text(textwrap.dedent(f"""
        import importlib.util
        import sys

        spec = importlib.util.spec_from_file_location(__name__ + "_site", {str(ROOT / "scripts" / "catalog.py")!r})
        site = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = site
        spec.loader.exec_module(site)
        FIGURES = [entry for entry in site.FIGURES if entry.name in {names!r}]
    """))

    def keys(out):
        return {n: json.loads((out / ".stamps" / f"{n}.json").read_text())["key"] for n in names}

    site = _site_build(catalog)
    for _attempt in range(2):  # the working tree may be edited by someone between the two builds
        # the builds at once (separate folders, one worker each): the test waits for one build's time
        builds = [subprocess.Popen([sys.executable, str(BUILD), "--catalog", str(catalog), "--out", str(out),
                                    "--no-progress", "--force", "--jobs", "1"], stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, text=True, cwd=ROOT, env=ENV)
                  for out in (outs[:1] if site else outs)]
        for proc in builds:
            _, stderr = proc.communicate()
            assert proc.returncode == 0, stderr
        if site is None and keys(outs[0]) == keys(outs[1]):
            break
        if site is not None:
            if keys(outs[0]) == site[1]:
                break
            site = None  # edited since the site's build: two builds here instead
    one = {k: v[1] for k, v in snapshot(outs[0]).items()}
    two = site[0] if site is not None else {k: v[1] for k, v in snapshot(outs[1]).items()}
    assert one == two
    assert {f"{n}.png" for n in images} <= set(one)
    spec = importlib.util.spec_from_file_location("catalog_under_test", ROOT / "scripts" / "catalog.py")
    catalog = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = catalog
    spec.loader.exec_module(catalog)
    by_name = {e.name: e for e in catalog.FIGURES}
    manifest = json.loads(one["manifest.json"])["figures"]
    assert set(manifest) == set(names)
    for name in names:
        assert manifest[name]["alt"] == by_name[name].alt and manifest[name]["kind"] == by_name[name].kind
    for name in images:
        assert (manifest[name]["width"], manifest[name]["height"]) == css_size(outs[0] / f"{name}.png")
        assert manifest[name]["width"] == 750  # the content width the figures are drawn for
    # the kinds of files this compared: a landscape's four pictures and a numbers file
    assert set(manifest["banana-log-contour"]["files"]) == {"png", "png_dark", "png_narrow", "png_narrow_dark"}
    assert manifest["landscapes-curvature"]["files"] == {"json": "landscapes-curvature.json"}


def test_the_catalog_declares_every_name_in_use_each_with_alt_text():
    listing = subprocess.run([sys.executable, str(BUILD), "--list", "--out", "/nonexistent-figures-dir/x"],
                             capture_output=True, text=True, cwd=ROOT, env=ENV)
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
        assert entry.kind in ("image", "video", "numbers")


def test_each_page_module_is_named_after_its_page_and_declares_the_figures_that_page_places():
    spec = importlib.util.spec_from_file_location("catalog_pages_test", ROOT / "scripts" / "catalog.py")
    catalog = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = catalog
    spec.loader.exec_module(catalog)
    docs = ROOT / "docs"
    page_of = {"home": "index.md"}
    placed = {}
    for page in docs.rglob("*.md"):
        for name in re.findall(r"^\s*!figure\[([^\]]+)\]", page.read_text(), re.M):
            placed.setdefault(name, set()).add(page.relative_to(docs).as_posix())
    assert catalog.PAGES, "no page modules found in scripts/figures/"
    for module_name, module in catalog.PAGES.items():
        stem = module_name.replace("_", "-")
        page = page_of.get(module_name) or next(
            (f"{stem}{ext}" for ext in (".md", ".ipynb") if (docs / f"{stem}{ext}").is_file()), None)
        assert page is not None, f"scripts/figures/{module_name}.py is named after no page of docs/"
        for entry in module.FIGURES:
            where = placed.get(entry.name, set())
            assert not where or page in where, (f"{entry.name} is declared in scripts/figures/{module_name}.py "
                                                f"but placed on {sorted(where)}, not on {page}")
    # the names tests/test_vectors.py reads from the catalog
    assert callable(catalog._tuned_lr) and len(catalog.CONTESTANTS) == 7
    assert catalog.FIGURES == [e for m in catalog.PAGES.values() for e in m.FIGURES]


def test_an_unknown_only_name_is_an_error_naming_it(tmp_path):
    catalog = write_catalog(tmp_path / "catalog.py", CLIP_A)
    result = build(catalog, tmp_path / "out", "--only", "no-such-figure")
    assert result.returncode != 0
    assert "unknown figure(s): no-such-figure" in result.stderr


@pytest.mark.parametrize("bad", ["--jobs=0"])
def test_bad_arguments_are_rejected(tmp_path, bad):
    result = subprocess.run([sys.executable, str(BUILD), bad, "--out", str(tmp_path)], capture_output=True, text=True,
                            cwd=ROOT, env=ENV)
    assert result.returncode != 0 and "--jobs must be >= 1, got 0" in result.stderr


# --- the order of work ------------------------------------------------------------------------------------


def test_entries_sharing_an_experiment_are_one_group_and_groups_go_longest_first():
    module = _build_module()
    _, entries = module.load_catalog(ROOT / "scripts" / "catalog.py")
    keymaker = module.KeyMaker(ROOT / "scripts" / "catalog.py")
    runs = {e.name: keymaker.shared_runs(e) for e in entries}
    # _results.shared(fn, ...) and a helper behind a file lock (networks' _experiment("deep", ...)) are
    # shared runs; _results.memo (a tuning many entries ask for) and plain helpers are not
    assert runs["precond-theta"] == runs["precond-theta-crossing"] == {("_results.shared", "invariance.theta_crossing")}
    assert runs["beyond-diagonal-race"] == runs["beyond-diagonal-numbers"]
    assert runs["net-deep"] == runs["net-deep-curves"] == {("networks._experiment", "'deep'")}
    assert runs["net-deep"] != runs["net-invariance"]
    assert runs["compare-races"] == runs["race-banana"] == runs["banana-log-contour"] == set()

    plan = module.plan(entries, runs, {"compare-races": 500.0, "precond-theta": 1.0, "precond-theta-crossing": 2.0})
    groups = {e.name: [x.name for x in g] for g in plan for e in g}
    assert sorted(groups["precond-theta"]) == ["precond-theta", "precond-theta-crossing"]
    assert groups["precond-theta"] == groups["precond-theta-crossing"]
    assert groups["net-deep"] == groups["net-deep-curves"] and len(groups["net-deep"]) == 2
    assert sorted(n for g in plan for n in [e.name for e in g]) == sorted(e.name for e in entries)  # each once
    # longest first: a known timing beats every catalog cost; unknown ones go by their cost (rough seconds)
    assert [e.name for e in plan[0]] == ["compare-races"]
    lengths = [sum({"compare-races": 500.0, "precond-theta": 1.0, "precond-theta-crossing": 2.0}.get(e.name, e.cost)
                   for e in g) for g in plan]
    assert lengths == sorted(lengths, reverse=True)
    assert [e.name for e in groups_of(plan, "precond-theta")] == ["precond-theta-crossing", "precond-theta"]


def groups_of(plan, name):
    return next(g for g in plan if name in [e.name for e in g])


def test_each_built_figures_cpu_seconds_are_kept_for_the_next_build(tmp_path, monkeypatch):
    module = _build_module()
    monkeypatch.setattr(module, "TIMINGS", tmp_path / "cache" / "figure-timings.txt")
    assert module.read_timings() == {}
    module.write_timings([{"name": "a", "ok": True, "cpu_seconds": 1.5}, {"name": "b", "ok": False, "seconds": 9.0}])
    module.write_timings([{"name": "c", "ok": True, "cpu_seconds": 0.25}])
    assert module.read_timings() == {"a": 1.5, "c": 0.25}
    (tmp_path / "cache" / "figure-timings.txt").write_text("a 2\nbroken line here\nb nan\nc -1\nd x\n")
    assert module.read_timings() == {"a": 2.0}  # what cannot be read is unknown, never an error
