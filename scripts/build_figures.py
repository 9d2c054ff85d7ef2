"""`make figures`: render every figure of scripts/catalog.py into docs/figures/, plus manifest.json.

The catalog (scripts/catalog.py, gathering the per-page modules of scripts/figures/) has three kinds
of entries: "image" (a recipe returns a matplotlib Figure -> NAME.png), "video" (an animation ->
NAME.mp4, NAME.webm and the poster NAME.png) and "numbers" (a recipe returns a flat dict
``{key: int, float or short string}`` computed by the package -> NAME.json, which pages quote with
``!num[NAME.key:FORMAT]``, see docs/hooks/figures.py). All three are built, keyed, stamped and
verified the same way.

    python scripts/build_figures.py                 # build what changed (incremental)
    python scripts/build_figures.py --force         # rebuild everything
    python scripts/build_figures.py --only NAME     # just this figure (repeatable)
    python scripts/build_figures.py --list          # names, kinds and whether each is up to date
    python scripts/build_figures.py --out DIR       # build somewhere else (tests, benchmarks)
    python scripts/build_figures.py --jobs N        # worker processes (default: one per core)

How it works:

- **Incremental.** Each figure has a *key*: a SHA-256 over its catalog entry (name, kind, alt text,
  parameters, and the source of its recipe function plus every catalog helper that recipe uses, in
  its own module or imported by name from another module of the catalog), the bytes of every
  optimessay module the recipe imports (followed through the package's own imports), and the versions
  of Python and of the libraries that draw (torch, numpy, matplotlib, pillow, imageio-ffmpeg). A figure is rebuilt when its key differs from the one stored next to its files in
  ``OUT/.stamps/NAME.json``, or a file is missing. Computing keys reads and parses source files only:
  a no-change run imports neither torch nor matplotlib and takes well under a second.
- **Verified.** The stamp also records each file's size and SHA-256. A figure counts as up to date
  only if its stamp is well formed and every file parses as what it claims to be (PNG chunks and
  checksums, MP4 boxes, the WebM segment, a numbers file's JSON and values) and is byte for byte what
  the build wrote; otherwise the build says which figure and why (a stamp of the wrong shape, a
  truncated or empty file) and rebuilds it. A file that does not parse is never put in place or
  stamped in the first place.
- **Parallel.** Stale figures are drawn in worker processes (one per core), with a tqdm progress bar.
  Entries that ask for one shared experiment (``scripts/figures/_results.shared(fn, ...)``, or a
  catalog helper behind a file lock such as the networks page's ``_experiment("deep", ...)``; found
  in the recipes' source, ``KeyMaker.shared_runs``) are one group, drawn by one worker one after the
  other, so no worker sits waiting for another's experiment. Groups go longest first, measured by
  each figure's CPU seconds at its last build (``.cache/figure-timings.txt``) or, for one never
  built, its catalog ``cost`` (rough seconds), so both workers stay busy to the
  end. A worker that dies hard (a crash in native code,
  ``os._exit``, the out-of-memory killer) fails the one figure it was drawing, named with its exit
  status or signal; a fresh worker takes its place and the other figures are built. Workers die with
  the build, even after ``kill -9`` (Linux: PR_SET_PDEATHSIG; everywhere: a watchdog thread on the
  pipe from the parent), instead of lingering as orphans.
- **One build per folder.** A build holds ``OUT/.stamps/build.lock`` (released by the system however
  the build ends); a second build into the same folder prints "another figure build (pid N) is
  running; waiting" and goes on when the first is done (usually finding everything up to date).
- **Atomic.** Every file is written under a temporary name carrying its writer's pid
  (``.NAME.<pid>-<tag>.tmp``), checked, and renamed; the stamp is written last. An interrupted build
  leaves complete old or new files and no stamp for a figure it did not finish, so the next run
  rebuilds exactly that; temporary files are removed once their writer is no longer running (never
  those of a live process).
- **Deterministic.** Seeds are fixed in the catalog, PNGs carry no metadata, ffmpeg runs bitexact and
  single-threaded: two clean builds give byte-identical files.
- **Failures.** A figure whose recipe raises, or whose worker dies, is reported by name with its error;
  the others still build; the exit status is 1. The manifest lists only figures that are built and up
  to date (an ``--only`` build also keeps the other figures the previous manifest listed, while their
  files exist: it was not asked to check them).

The manifest (``OUT/manifest.json``, read by docs/hooks/figures.py)::

    {"figures": {NAME: {"kind": "image"|"video", "alt": str, "files": {ROLE: FILE}, "width": int,
                        "height": int, "bytes": {ROLE: int}},
                 NAME: {"kind": "numbers", "alt": str, "files": {"json": "NAME.json"}, "bytes": {"json": int}}}}

``files``: ``{"png": ...}`` for an image, ``{"mp4": ..., "webm": ..., "poster": ...}`` for a video;
``bytes``: the size of each of those files (the hook lists the smaller video source first).

**Variants** (issue 16: figures for every screen). An image also gets ``"png_dark": NAME.dark.png``
and, when it draws a landscape (a trajectory figure), ``"png_narrow": NAME.narrow.png`` and
``"png_narrow_dark": NAME.narrow.dark.png`` with ``narrow_width``/``narrow_height`` in the entry; a
video's poster gets ``"poster_dark": NAME.dark.png``. They are drawn from copies of the one figure the
recipe returned (optimessay.plots.clone, to_dark, narrow_layout; a dark copy keeps the light picture's
layout), so no experiment runs twice; they are written, checked, stamped and verified like the other
files, and a figure whose variant is damaged or missing is rebuilt. ``--timings`` prints, per figure,
the wall and CPU seconds and the share spent on the variants.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import hashlib
import inspect
import json
import math
import numbers
import os
import platform
import re
import signal
import struct
import sys
import time
import traceback
import types
import zlib
from pathlib import Path
from typing import NamedTuple

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "optimessay"
DEFAULT_CATALOG = ROOT / "scripts" / "catalog.py"
DEFAULT_OUT = ROOT / "docs" / "figures"
LIBRARIES = ("torch", "numpy", "matplotlib", "pillow", "imageio-ffmpeg")
BUILD_FORMAT = 2  # bump to rebuild everything after a change in how this script writes files
FILES = {"image": ("png",), "video": ("mp4", "webm", "png"), "numbers": ("json",)}
NUMBERS_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")  # no dot: pages write !num[NAME.key]
NUMBERS_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
NUMBERS_TEXT = 100  # the longest string a numbers entry may hold (a short label, not prose)

if str(ROOT) not in sys.path:  # this checkout's package (a frozen copy's, under bench_figures)
    sys.path.insert(0, str(ROOT))
from optimessay.files import (  # noqa: E402  (standard library only: the no-change run stays fast)
    remove_stale_temporaries,
    temporary_path,
    write_atomic,
)

# ------------------------------------------------------------------------------------------------
# the catalog


def load_catalog(path: Path):
    """Import the catalog file (a plain script, not a package module) and check its entries."""
    path = Path(path).resolve()
    if not path.is_file():
        raise SystemExit(f"catalog not found: {path}")
    tag = hashlib.sha256(str(path).encode()).hexdigest()[:12]
    module = types.ModuleType(f"_figure_catalog_{tag}")
    module.__file__ = str(path)
    sys.modules[module.__name__] = module  # dataclasses look their module up there
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    # compiled from the source every time, never from cached bytecode: a .pyc is trusted when the
    # source's mtime (whole seconds) and size match, so an edit within the same second that keeps the
    # size (a parameter 2 -> 3) would run the old catalog and keep the old figure
    exec(compile(path.read_bytes(), str(path), "exec"), module.__dict__)
    entries = list(module.FIGURES)
    seen = set()
    for entry in entries:
        if entry.kind not in FILES:
            raise SystemExit(f"figure {entry.name!r}: kind must be 'image', 'video' or 'numbers', got {entry.kind!r}")
        if entry.name == "manifest":
            raise SystemExit("figure 'manifest': the name is taken by manifest.json")
        if entry.kind == "numbers" and not NUMBERS_NAME.fullmatch(entry.name):
            raise SystemExit(f"numbers {entry.name!r}: a numbers name is letters, digits, '-' and '_' "
                             f"(pages write !num[NAME.key])")
        if not entry.alt or not entry.alt.strip():
            raise SystemExit(f"figure {entry.name!r} has no alt text")
        if entry.name in seen:
            raise SystemExit(f"figure {entry.name!r} is declared twice")
        seen.add(entry.name)
    return module, entries


def output_files(entry, narrow: bool = False, dark_poster: bool = True) -> dict:
    """The manifest's ``files`` for an entry: ``{"png", "png_dark"}`` for an image (plus
    ``"png_narrow", "png_narrow_dark"`` when it has a narrow variant: a trajectory figure),
    ``{"mp4", "webm", "poster", "poster_dark"}`` for a video (no ``poster_dark`` from an animation whose
    ``save`` takes no ``dark_poster_path``), or ``{"json": NAME.json}``. A variant is NAME.dark.png,
    NAME.narrow.png or NAME.narrow.dark.png."""
    if entry.kind == "image":
        files = {"png": f"{entry.name}.png", "png_dark": f"{entry.name}.dark.png"}
        if narrow:
            files.update(png_narrow=f"{entry.name}.narrow.png", png_narrow_dark=f"{entry.name}.narrow.dark.png")
        return files
    if entry.kind == "numbers":
        return {"json": f"{entry.name}.json"}
    files = {"mp4": f"{entry.name}.mp4", "webm": f"{entry.name}.webm", "poster": f"{entry.name}.png"}
    if dark_poster:
        files["poster_dark"] = f"{entry.name}.dark.png"
    return files


# ------------------------------------------------------------------------------------------------
# keys: what a figure depends on


def _source_segment(lines: list[bytes], node: ast.AST) -> str:
    """``ast.get_source_segment(source, node)`` from the source's lines split once (UTF-8 bytes, as the
    offsets count): get_source_segment splits the whole file again on every call, which made the key
    computation quadratic in the catalog's length (4.6 of 6.2 s of a no-change run, profiled)."""
    first, last = node.lineno - 1, node.end_lineno - 1
    if first == last:
        return lines[first][node.col_offset:node.end_col_offset].decode()
    return b"".join([lines[first][node.col_offset:], *lines[first + 1:last], lines[last][:node.end_col_offset]]).decode()


def _top_level_defs(tree: ast.Module, source: str) -> dict:
    """name -> (source text, node) for every top-level def/class/assignment of a module."""
    lines = [line.encode() for line in re.findall(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$", source)]
    defs = {}
    for node in tree.body:
        names = []
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names = [node.name]
        elif isinstance(node, ast.Assign):
            names = [t.id for t in node.targets if isinstance(t, ast.Name)]
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names = [node.target.id]
        for name in names:
            defs[name] = (_source_segment(lines, node), node)
    return defs


def _walk(node: ast.AST):
    """Every node under ``node``, itself included, as ``ast.walk`` yields them but depth first and
    about twice as fast (no generator per node): the keys walk every package module a recipe imports.
    Its callers collect sets, so the order does not matter."""
    stack = [node]
    node_type = ast.AST
    while stack:
        current = stack.pop()
        yield current
        for field in current._fields:
            value = getattr(current, field, None)
            if isinstance(value, node_type):
                stack.append(value)
            elif isinstance(value, list):
                stack.extend(item for item in value if isinstance(item, node_type))


def _optimessay_imports(node: ast.AST, exports: dict, current: str | None = None) -> set:
    """Modules of the optimessay package that the code under ``node`` imports.

    ``from optimessay import Adam`` counts as the module that exports Adam (the lazy root's
    ``_EXPORTS``); relative imports are resolved against ``current`` (a dotted module name)."""
    found = set()
    for sub in _walk(node):
        if isinstance(sub, ast.Import):
            found.update(a.name for a in sub.names if a.name.split(".")[0] == "optimessay")
        elif isinstance(sub, ast.ImportFrom):
            module = sub.module or ""
            if sub.level and current:
                base = current.split(".")
                base = base[: len(base) - sub.level + (1 if _is_package(current) else 0)]
                module = ".".join(base + ([module] if module else []))
            if module.split(".")[0] != "optimessay":
                continue
            found.add(module)
            for alias in sub.names:
                if module == "optimessay" and alias.name in exports:
                    found.add(exports[alias.name])
                else:
                    found.add(f"{module}.{alias.name}")  # may be a submodule; kept only if it is a file
        elif isinstance(sub, ast.Attribute):
            # optimessay.sweep.run(...) written out in full
            parts = []
            cur = sub
            while isinstance(cur, ast.Attribute):
                parts.append(cur.attr)
                cur = cur.value
            if isinstance(cur, ast.Name) and cur.id == "optimessay":
                dotted = ["optimessay"] + parts[::-1]
                for i in range(2, len(dotted) + 1):
                    found.add(".".join(dotted[:i]))
    return found


def _is_package(module: str) -> bool:
    return (ROOT / module.replace(".", "/") / "__init__.py").is_file()


def module_file(module: str) -> Path | None:
    """The source file of a dotted optimessay module, or None if it does not exist (yet)."""
    base = ROOT / module.replace(".", "/")
    if (base / "__init__.py").is_file():
        return base / "__init__.py"
    if base.with_suffix(".py").is_file():
        return base.with_suffix(".py")
    return None


class _Source(NamedTuple):
    """One parsed file of catalog code: its top-level definitions, the catalog names it imports from
    sibling files, and the optimessay modules its top-level imports name."""

    path: Path
    defs: dict  # name -> (source text, node)
    links: dict  # local name -> (file, name there) for ``from .x import name``; (file, None) for a module
    modules: set  # optimessay modules imported at the top of the file (they apply to all its code)


def _relative_target(path: Path, node: ast.ImportFrom) -> Path | None:
    """The folder or file a relative ``from .x import ...`` in ``path`` names (None: absolute import)."""
    if not node.level:
        return None
    base = path.parent
    for _ in range(node.level - 1):
        base = base.parent
    return base.joinpath(*node.module.split(".")) if node.module else base


def _python_file(base: Path) -> Path | None:
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


class KeyMaker:
    """Computes each figure's key from source text alone (no heavy imports).

    A recipe may live in the catalog file itself or in any module the catalog imports (the per-page
    modules of scripts/figures/): its file is the one its code object names. Its code is the recipe
    plus every top-level definition it uses, transitively, in its own file or imported by name from a
    sibling file (``from ._shared import _walk``; ``from . import _shared`` then ``_shared._walk``)."""

    def __init__(self, catalog_path: Path):
        self.catalog_path = Path(catalog_path).resolve()
        self._sources: dict[Path, _Source] = {}
        self._references: dict[tuple[Path, str], list] = {}  # (file, name) -> the definitions it uses
        self._imports: dict[tuple[Path, str], set] = {}  # (file, name) -> optimessay modules it imports
        self.exports = self._exports()
        self._module_cache: dict[str, tuple] = {}
        from importlib import metadata  # here, not at the top: a worker process never keys (30 ms of CPU)

        self.versions = {"python": platform.python_version(), "build_format": BUILD_FORMAT}
        for lib in LIBRARIES:
            try:
                self.versions[lib] = metadata.version(lib)
            except metadata.PackageNotFoundError:
                self.versions[lib] = "missing"

    def _exports(self) -> dict:
        init = PACKAGE / "__init__.py"
        if not init.is_file():
            return {}
        for node in ast.parse(init.read_text()).body:
            if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "_EXPORTS"
                                                    for t in node.targets):
                return ast.literal_eval(node.value)
        return {}

    def source(self, path: Path) -> _Source:
        """The parsed file ``path`` (cached: each file is read and parsed once per build)."""
        if path in self._sources:  # a path this returned before (resolved)
            return self._sources[path]
        path = Path(path).resolve()
        if path not in self._sources:
            text = path.read_text()
            tree = ast.parse(text)
            links = {}
            for node in tree.body:
                if not isinstance(node, ast.ImportFrom):
                    continue
                target = _relative_target(path, node)
                if target is None:
                    continue
                for alias in node.names:
                    local = alias.asname or alias.name
                    module = _python_file(target / alias.name) if target.is_dir() else None
                    if module is not None:  # from . import _shared
                        links[local] = (module.resolve(), None)
                    elif (file := _python_file(target)) is not None:  # from ._shared import _walk
                        links[local] = (file.resolve(), alias.name)
            top_imports = ast.Module(body=[n for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))],
                                     type_ignores=[])
            self._sources[path] = _Source(path, _top_level_defs(tree, text), links,
                                          _optimessay_imports(top_imports, self.exports))
        return self._sources[path]

    def _resolve(self, path: Path, name: str, depth: int = 0) -> tuple[Path, str] | None:
        """Where the top-level name ``name`` of file ``path`` is defined: (file, name), following
        re-exports (``from ._shared import _walk`` in a file that others import _walk from)."""
        src = self.source(path)
        if name in src.defs:
            return src.path, name
        link = src.links.get(name)
        if link is None or link[1] is None or depth > 20:
            return None
        return self._resolve(link[0], link[1], depth + 1)

    def recipe_closure(self, path: Path, name: str) -> list[tuple[Path, str]]:
        """The recipe ``name`` of file ``path`` and every catalog definition it uses, transitively."""
        start = self._resolve(path, name)
        todo, seen = ([start] if start else []), set()
        while todo:
            current = todo.pop()
            if current in seen:
                continue
            seen.add(current)
            todo.extend(found for found in self._uses(*current) if found not in seen)
        return sorted(seen, key=lambda item: (item[1], str(item[0])))

    def _uses(self, file: Path, defined: str) -> list[tuple[Path, str]]:
        """The catalog definitions (file, name) that the definition ``defined`` of ``file`` names
        directly (cached: the site's recipes share their helpers, and each is walked once per build)."""
        if (file, defined) not in self._references:
            src = self.source(file)
            found = []
            for sub in _walk(src.defs[defined][1]):
                target = None
                if isinstance(sub, ast.Name) and (sub.id in src.defs or sub.id in src.links):
                    target = self._resolve(file, sub.id)
                elif isinstance(sub, ast.Attribute) and isinstance(sub.value, ast.Name):
                    module, attribute = src.links.get(sub.value.id, (None, ""))
                    if module is not None and attribute is None:  # _shared._walk after `from . import _shared`
                        target = self._resolve(module, sub.attr)
                if target:
                    found.append(target)
            self._references[(file, defined)] = found
        return self._references[(file, defined)]

    def _is_shared_run(self, file: Path, name: str) -> bool:
        """Whether the catalog definition ``name`` of ``file`` runs an experiment once for several
        entries: ``_results.shared`` itself, or a helper that keeps its result behind a file lock
        (``fcntl.flock`` in its source, like the networks page's ``_experiment``)."""
        if file.name == "_results.py":
            return name == "shared"  # not memo(): small runs many entries share, never grouped
        return "flock(" in self.source(file).defs[name][0]

    def shared_runs(self, entry) -> set:
        """The shared experiments ``entry``'s recipe asks for, as ``(function, first argument)`` pairs:
        every call, anywhere in its closure, of a shared-run helper (see ``_is_shared_run``), with its
        first argument as written (``shared(invariance.theta_crossing, ...)`` ->
        ``("shared", "invariance.theta_crossing")``; ``_experiment("deep", params)`` ->
        ``("_experiment", "'deep'")``). Two entries naming the same pair wait for one run."""
        function = inspect.unwrap(entry.recipe)
        path = Path(getattr(getattr(function, "__code__", None), "co_filename", "") or self.catalog_path)
        runs = set()
        for file, defined in self.recipe_closure(path, function.__name__):
            src = self.source(file)
            for sub in _walk(src.defs[defined][1]):
                if not (isinstance(sub, ast.Call) and sub.args):
                    continue
                target = None
                if isinstance(sub.func, ast.Name) and (sub.func.id in src.defs or sub.func.id in src.links):
                    target = self._resolve(file, sub.func.id)
                elif isinstance(sub.func, ast.Attribute) and isinstance(sub.func.value, ast.Name):
                    module, attribute = src.links.get(sub.func.value.id, (None, ""))
                    if module is not None and attribute is None:
                        target = self._resolve(module, sub.func.attr)
                if target is not None and self._is_shared_run(*target):
                    runs.add((f"{target[0].stem}.{target[1]}", ast.unparse(sub.args[0])))
        return runs

    def _module_deps(self, module: str) -> tuple:
        """(file hash, imported optimessay modules) of one module; cached."""
        if module not in self._module_cache:
            path = module_file(module)
            if path is None:
                self._module_cache[module] = (None, set())
            else:
                data = path.read_bytes()
                try:
                    imports = _optimessay_imports(ast.parse(data), self.exports, current=module)
                except SyntaxError:
                    imports = set()
                self._module_cache[module] = (hashlib.sha256(data).hexdigest(), imports)
        return self._module_cache[module]

    def package_hashes(self, roots: set) -> dict:
        """module -> sha256 of its file, for ``roots`` and everything they import (transitively);
        a module that does not exist yet hashes as "missing" (its arrival changes the key)."""
        out, todo = {}, sorted(roots | {"optimessay"})
        while todo:
            module = todo.pop()
            if module in out:
                continue
            digest, imports = self._module_deps(module)
            if digest is None and module.count(".") >= 2 and module_file(module.rsplit(".", 1)[0]):
                continue  # "optimessay.x.Name": a name inside module x, not a module
            out[module] = digest or "missing"
            todo.extend(sorted(imports - set(out)))
        return dict(sorted(out.items()))

    def key(self, entry) -> str:
        function = inspect.unwrap(entry.recipe)  # a decorated recipe: the function it wraps
        recipe = function.__name__
        path = Path(getattr(getattr(function, "__code__", None), "co_filename", "") or self.catalog_path)
        if not path.is_file() or self._resolve(path, recipe) is None:
            raise SystemExit(f"figure {entry.name!r}: recipe {recipe!r} is not a top-level function of "
                             f"the catalog or of a module it imports ({path})")
        closure = self.recipe_closure(path, recipe)
        roots = set()
        for file, name in closure:
            src = self.source(file)
            if (file, name) not in self._imports:
                self._imports[(file, name)] = _optimessay_imports(src.defs[name][1], self.exports)
            roots |= src.modules | self._imports[(file, name)]
        if entry.kind != "numbers":  # pictures are drawn by style and plots whatever the recipe imports
            roots |= {"optimessay.style", "optimessay.plots"}
        if entry.kind == "video":
            roots.add("optimessay.animate")
        # code is named by definition, not by file: moving a helper unchanged to another module
        # rebuilds nothing; two definitions of one name in a closure are told apart by their file
        names = [name for _, name in closure]
        code = {(name if names.count(name) == 1 else f"{file.stem}.{name}"): self.source(file).defs[name][0]
                for file, name in closure}
        payload = {
            "name": entry.name, "kind": entry.kind, "alt": entry.alt,
            "params": repr(sorted(entry.params.items())),
            "code": code,
            "package": self.package_hashes(roots),
            "versions": self.versions,
        }
        return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


# ------------------------------------------------------------------------------------------------
# outputs: what a complete file looks like


def _png_problem(data: bytes) -> str | None:
    """None for a complete PNG (signature, IHDR first, every chunk whole with a right CRC, IEND last)."""
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        return "not a PNG (no PNG signature)"
    pos, kinds = 8, []
    while pos < len(data) and (not kinds or kinds[-1] != b"IEND"):
        if pos + 12 > len(data):
            return f"cut short inside a chunk header at byte {pos} of {len(data)}"
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        end = pos + 12 + length
        if end > len(data):
            return f"cut short: its {kind.decode('latin-1')} chunk ends at byte {end}, the file has {len(data)}"
        if zlib.crc32(data[pos + 4:end - 4]) != struct.unpack(">I", data[end - 4:end])[0]:
            return f"damaged: wrong checksum in its {kind.decode('latin-1')} chunk"
        kinds.append(kind)
        pos = end
    if not kinds or kinds[0] != b"IHDR":
        return "not a PNG (no IHDR chunk first)"
    if kinds[-1] != b"IEND":
        return "cut short: no IEND chunk"
    if pos != len(data):
        return f"damaged: {len(data) - pos} stray bytes after IEND"
    return None


def _mp4_problem(data: bytes) -> str | None:
    """None for an MP4 whose top-level boxes fill the file exactly, ftyp first, with moov and mdat."""
    pos, kinds = 0, []
    while pos < len(data):
        if pos + 8 > len(data):
            return f"cut short inside a box header at byte {pos} of {len(data)}"
        size, kind = struct.unpack(">I4s", data[pos:pos + 8])
        header = 8
        if size == 1:  # a 64-bit size follows
            if pos + 16 > len(data):
                return f"cut short inside a box header at byte {pos} of {len(data)}"
            size, header = struct.unpack(">Q", data[pos + 8:pos + 16])[0], 16
        elif size == 0:  # the box runs to the end of the file
            size = len(data) - pos
        if size < header:
            return f"damaged: its {kind.decode('latin-1')} box at byte {pos} claims {size} bytes"
        if pos + size > len(data):
            return f"cut short: its {kind.decode('latin-1')} box ends at byte {pos + size}, the file has {len(data)}"
        kinds.append(kind)
        pos += size
    if not kinds or kinds[0] != b"ftyp":
        return "not an MP4 (no ftyp box first)"
    missing = [k.decode() for k in (b"moov", b"mdat") if k not in kinds]
    if missing:
        return f"not a complete MP4 (no {' or '.join(missing)} box)"
    return None


def _ebml_number(data: bytes, pos: int, *, marker: bool) -> tuple[int, int]:
    """An EBML variable-length number at ``pos``: (value, length in bytes); IDs keep their marker bit."""
    first = data[pos]  # IndexError when cut short
    if first == 0:
        raise ValueError("an EBML number longer than 8 bytes")
    length = 9 - first.bit_length()
    if pos + length > len(data):
        raise IndexError
    value = int.from_bytes(data[pos:pos + length], "big")
    return (value if marker else value & ((1 << (7 * length)) - 1)), length


def _webm_problem(data: bytes) -> str | None:
    """None for a WebM: an EBML header whose DocType is webm, then a Segment that fills the file."""
    try:
        ident, n = _ebml_number(data, 0, marker=True)
        if ident != 0x1A45DFA3:
            return "not a WebM (no EBML header)"
        size, m = _ebml_number(data, n, marker=False)
        header_end = n + m + size
        if header_end > len(data):
            return f"cut short inside its EBML header (it ends at byte {header_end}, the file has {len(data)})"
        if b"\x42\x82\x84webm" not in data[n + m:header_end]:
            return "not a WebM (its EBML DocType is not webm)"
        ident, n = _ebml_number(data, header_end, marker=True)
        if ident != 0x18538067:
            return "not a complete WebM (no Segment after the EBML header)"
        size, m = _ebml_number(data, header_end + n, marker=False)
    except IndexError:
        return f"cut short inside an element header ({len(data)} bytes)"
    except ValueError as exc:
        return f"damaged: {exc}"
    if size == (1 << (7 * m)) - 1:
        return None  # a Segment of unknown size (a live stream): nothing more to check here
    end = header_end + n + m + size
    if end > len(data):
        return f"cut short: its Segment ends at byte {end}, the file has {len(data)}"
    if end < len(data):
        return f"damaged: {len(data) - end} stray bytes after its Segment"
    return None


def numbers_problem(values) -> str | None:
    """What is wrong with the values of a numbers entry, or None: they must be a flat, non-empty dict
    ``{key: int, float or short string}`` with identifier keys and finite numbers."""
    if not isinstance(values, dict):
        return f"expected a dict {{key: number or short string}}, got {type(values).__name__}"
    if not values:
        return "expected at least one value, got an empty dict"
    for key, value in values.items():
        if not isinstance(key, str) or not NUMBERS_KEY.fullmatch(key):
            return f"key {key!r} is not an identifier (letters, digits and '_'; pages write !num[NAME.key])"
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            return (f"the value of {key!r} is {type(value).__name__} {_short(value)}: expected an int, a float "
                    f"or a string (a tensor or array: pass float(x) or int(x))")
        if isinstance(value, float) and not math.isfinite(value):
            return f"the value of {key!r} is {value}, not a finite number"
        if isinstance(value, str) and (len(value) > NUMBERS_TEXT or "\n" in value):
            return f"the value of {key!r} should be a string of at most {NUMBERS_TEXT} characters on one line, got {_short(value)}"
    return None


def numbers_values(result):
    """A numbers recipe's result with numpy-style scalars made Python ints and floats (bools stay as
    they are, and are refused by numbers_problem: a page shows numbers)."""
    if not isinstance(result, dict):
        return result
    out = {}
    for key, value in result.items():
        if not isinstance(value, (bool, str)) and type(value).__name__ != "bool_":
            if isinstance(value, numbers.Integral):
                value = int(value)
            elif isinstance(value, numbers.Real):
                value = float(value)
        out[key] = value
    return out


def numbers_text(values: dict) -> str:
    """The file NAME.json of a numbers entry: its values as a JSON object, keys sorted."""
    return json.dumps(values, indent=1, sort_keys=True, allow_nan=False, ensure_ascii=False) + "\n"


def _json_problem(data: bytes) -> str | None:
    """None for the JSON file of a numbers entry (UTF-8, an object of valid values)."""
    try:
        values = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        return f"not valid JSON ({exc})"
    problem = numbers_problem(values)
    return f"not a numbers file: {problem}" if problem else None


FORMATS = {"png": _png_problem, "poster": _png_problem, "mp4": _mp4_problem, "webm": _webm_problem,
           "json": _json_problem, "png_dark": _png_problem, "png_narrow": _png_problem,
           "png_narrow_dark": _png_problem, "poster_dark": _png_problem}


def output_problem(role: str, data: bytes) -> str | None:
    """What is wrong with the bytes of a figure's file (``role``: png, mp4, webm, poster or json), or None."""
    if not data:
        return "empty"
    return FORMATS[role](data)


def file_record(data: bytes) -> dict:
    return {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}


# ------------------------------------------------------------------------------------------------
# stamps and the manifest


class Status(NamedTuple):
    """Whether a figure's files are the ones its current key describes, and if not, why."""

    current: bool
    reason: str  # "up to date", "never built", "changed", or what is wrong with the stamp or a file
    damaged: bool  # the stamp or a file is not what a build wrote: worth telling the user
    stamp: dict | None = None  # the stamp, when current


def _short(value) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def stamp_problem(stamp: dict, entry) -> str | None:
    """What is wrong with the shape of a stamp (a dict whose key matched), or None."""
    listed = stamp.get("files") if isinstance(stamp.get("files"), dict) else {}
    narrow = "png_narrow" in listed
    files = output_files(entry, narrow, "poster_dark" in listed)
    if stamp.get("kind") != entry.kind:
        return f"'kind' should be {entry.kind!r}, got {_short(stamp.get('kind'))}"
    if not isinstance(stamp.get("alt"), str):
        return f"'alt' should be a string, got {_short(stamp.get('alt'))}"
    if stamp.get("files") != files:
        return f"'files' should be {files}, got {_short(stamp.get('files'))}"
    for dim in ("width", "height") if entry.kind != "numbers" else ():
        value = stamp.get(dim)
        if type(value) is not int or value <= 0:
            return f"{dim!r} should be a positive integer, got {_short(value)}"
    for dim in ("narrow_width", "narrow_height") if narrow else ():
        value = stamp.get(dim)
        if type(value) is not int or value <= 0:
            return f"{dim!r} should be a positive integer, got {_short(value)}"
    outputs = stamp.get("outputs")
    if not isinstance(outputs, dict) or set(outputs) != set(files.values()):
        return f"'outputs' should have an entry for each of {sorted(files.values())}, got {_short(outputs)}"
    for name, record in outputs.items():
        if not (isinstance(record, dict) and type(record.get("bytes")) is int and record["bytes"] > 0
                and isinstance(record.get("sha256"), str) and re.fullmatch(r"[0-9a-f]{64}", record["sha256"])):
            return f"'outputs' of {name} should be {{'bytes': int, 'sha256': hex}}, got {_short(record)}"
    return None


def figure_status(out: Path, entry, key: str) -> Status:
    """Is ``entry`` built and up to date in ``out``? Its stamp must be well formed and carry ``key``,
    and each file must be complete (it parses as its format) and be the very bytes the build wrote
    (size and sha256 recorded in the stamp)."""
    rel = f".stamps/{entry.name}.json"
    try:
        text = (out / rel).read_text()
    except FileNotFoundError:
        return Status(False, "never built", False)
    except (OSError, UnicodeDecodeError) as exc:
        return Status(False, f"its stamp {rel} cannot be read ({exc})", True)
    try:
        stamp = json.loads(text)
    except ValueError as exc:
        return Status(False, f"its stamp {rel} is not valid JSON ({exc})", True)
    if not isinstance(stamp, dict) or not isinstance(stamp.get("key"), str):
        return Status(False, f"its stamp {rel} is not a stamp (expected an object with a string 'key', "
                             f"got {_short(stamp)})", True)
    if stamp["key"] != key:
        return Status(False, "changed", False)
    problem = stamp_problem(stamp, entry)
    if problem:
        return Status(False, f"its stamp {rel} is malformed: {problem}", True)
    for role, name in stamp["files"].items():
        record = stamp["outputs"][name]
        try:
            data = (out / name).read_bytes()
        except FileNotFoundError:
            return Status(False, f"{name} is missing", True)
        except OSError as exc:
            return Status(False, f"{name} cannot be read ({exc})", True)
        if len(data) != record["bytes"]:
            return Status(False, f"{name} has {len(data)} bytes, its stamp says {record['bytes']}", True)
        problem = output_problem(role, data)
        if problem:
            return Status(False, f"{name} is {problem}", True)
        if hashlib.sha256(data).hexdigest() != record["sha256"]:
            return Status(False, f"{name} is not the file the build wrote (its sha256 differs from the stamp's)", True)
    return Status(True, "up to date", False, stamp)


def is_current(out: Path, entry, key: str) -> bool:
    return figure_status(out, entry, key).current


def manifest_text(out: Path, entries, keys: dict) -> str:
    figures = {}
    for entry in sorted(entries, key=lambda e: e.name):
        status = figure_status(out, entry, keys[entry.name])
        if status.current:
            stamp = status.stamp
            figures[entry.name] = {k: stamp[k] for k in ("kind", "alt", "files", "width", "height", "narrow_width",
                                                         "narrow_height") if k in stamp}
            # each file's size: the page serves the smaller video first
            figures[entry.name]["bytes"] = {role: stamp["outputs"][name]["bytes"] for role, name in stamp["files"].items()}
    return json.dumps({"figures": figures}, indent=2, sort_keys=True) + "\n"


def keep_unselected(manifest: Path, text: str, only: list, entries, out: Path) -> str:
    """An `--only` build vouches for the figures it was asked to build, not for the others: those the
    previous manifest listed stay listed while their files exist, even if a source they depend on has
    changed since (the next full `make figures` rebuilds them). Without this, building one figure while
    the package is being edited would drop every other figure from the site."""
    try:
        previous = json.loads(manifest.read_text())["figures"]
    except (OSError, ValueError, KeyError, TypeError):
        return text
    figures = json.loads(text)["figures"]
    names = {e.name for e in entries}
    for name, item in previous.items():
        if name in figures or name in only or name not in names or not isinstance(item, dict):
            continue
        files = item.get("files")
        if isinstance(files, dict) and all((out / f).is_file() for f in files.values()):
            figures[name] = item
    return json.dumps({"figures": figures}, indent=2, sort_keys=True) + "\n"


def clean_stray_files(out: Path, entries) -> None:
    """Remove temporary files whose writer is gone (an interrupted build's; never those of a process
    still writing), and the files of figures no longer in the catalog."""
    for folder in (out, out / ".stamps"):
        remove_stale_temporaries(folder)
    names = {e.name for e in entries}
    for stamp_path in (out / ".stamps").glob("*.json"):
        if stamp_path.stem in names:
            continue
        for suffix in ("png", "mp4", "webm", "json", "dark.png", "narrow.png", "narrow.dark.png"):  # a figure's files
            (out / f"{stamp_path.stem}.{suffix}").unlink(missing_ok=True)
        stamp_path.unlink(missing_ok=True)


# ------------------------------------------------------------------------------------------------
# the order of work: shared experiments together, longest first

# each figure's CPU seconds at its last build, "NAME SECONDS" per line: kept outside the output folder (two
# clean builds stay byte-identical) and shared by every output folder of this checkout (a figure takes
# about as long wherever it is built); `make clean` removes .cache/
TIMINGS = ROOT / ".cache" / "figure-timings.txt"


def read_timings() -> dict:
    """name -> CPU seconds of each figure's last build (empty when unknown or unreadable)."""
    try:
        lines = TIMINGS.read_text().splitlines()
    except (OSError, UnicodeDecodeError):
        return {}
    timings = {}
    for line in lines:
        parts = line.split()
        try:
            if len(parts) == 2 and math.isfinite(float(parts[1])) and float(parts[1]) >= 0:
                timings[parts[0]] = float(parts[1])
        except ValueError:
            continue
    return timings


def write_timings(results) -> None:
    """Record the CPU time of every figure built now, beside those of earlier builds."""
    timings = read_timings()
    timings.update({r["name"]: r["cpu_seconds"] for r in results if r["ok"] and "cpu_seconds" in r})
    TIMINGS.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(TIMINGS, "".join(f"{name} {seconds:.3f}\n" for name, seconds in sorted(timings.items())))


def plan(todo, shared_runs: dict, timings: dict) -> list:
    """The figures to draw as groups, longest first. Entries that ask for one shared experiment
    (``shared_runs``: name -> set of runs, KeyMaker.shared_runs) form one group, drawn one after the
    other by one worker: the first runs the experiment, the others read it, and no worker waits on
    another's lock. A group's length is the sum of its entries' CPU seconds at their last build
    (``timings``) or, for one never built here, their catalog ``cost`` (rough seconds)."""
    parent = {e.name: e.name for e in todo}

    def root(name):
        while parent[name] != name:
            parent[name] = parent[parent[name]]
            name = parent[name]
        return name

    first = {}
    for e in todo:
        for run in sorted(shared_runs.get(e.name, ())):
            if run in first:
                parent[root(e.name)] = root(first[run])
            else:
                first[run] = e.name
    groups: dict = {}
    for e in todo:
        groups.setdefault(root(e.name), []).append(e)

    def length(e):
        return timings.get(e.name, float(getattr(e, "cost", 1.0)))

    ordered = [sorted(g, key=lambda e: (-length(e), e.name)) for g in groups.values()]
    return sorted(ordered, key=lambda g: (-sum(length(e) for e in g), g[0].name))


# ------------------------------------------------------------------------------------------------
# one build at a time per output folder

LOCK = "build.lock"  # in OUT/.stamps; holds the pid of the build that has it


def _try_lock(f, block: bool) -> bool:
    if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
        import msvcrt

        while True:
            f.seek(1 << 20)  # a byte past the pid, which stays readable
            try:
                msvcrt.locking(f.fileno(), msvcrt.LK_NBLCK, 1)
                return True
            except OSError:
                if not block:
                    return False
                time.sleep(0.5)
    import fcntl

    try:
        fcntl.flock(f.fileno(), fcntl.LOCK_EX | (0 if block else fcntl.LOCK_NB))
        return True
    except BlockingIOError:
        return False


def _lock_holder(path: Path) -> str:
    for _ in range(20):  # the holder writes its pid right after taking the lock
        text = path.read_text().strip() if path.is_file() else ""
        if text.isdigit():
            return text
        time.sleep(0.05)
    return "unknown"


@contextlib.contextmanager
def build_lock(out: Path):
    """Hold ``OUT/.stamps/build.lock`` for a whole build: a second build into the same folder waits
    for the first (saying so) instead of deleting its temporary files or drawing the same figures.
    The operating system releases the lock when its holder exits, however it exits (even kill -9)."""
    path = out / ".stamps" / LOCK
    with open(path, "a+") as f:  # "a+": create it, but never truncate another build's pid
        if not _try_lock(f, block=False):
            print(f"another figure build (pid {_lock_holder(path)}) is running; waiting (it builds into {out})",
                  file=sys.stderr, flush=True)
            _try_lock(f, block=True)
            print("the other figure build has finished; going on", file=sys.stderr, flush=True)
        f.seek(0)
        f.truncate()
        f.write(f"{os.getpid()}\n")
        f.flush()
        try:
            yield
        finally:
            f.seek(0)
            f.truncate()
            f.flush()  # the lock itself goes with the file's closing


# ------------------------------------------------------------------------------------------------
# the workers


_CATALOG = {}
EXIT_ORPHANED = 70  # a worker whose build died exits with this


class _Stop(BaseException):
    """Raised in a worker by SIGTERM (the build stopping it): unwind, removing temporaries, and exit."""


def _on_sigterm(signum, frame):
    raise _Stop()


def _die_with_parent(parent_pid: int) -> None:
    """Make this worker exit as soon as the build that started it is gone, even after kill -9 (which
    runs no cleanup in the build): otherwise an idle worker waits for work forever and a busy one
    draws on. On Linux the kernel does it (prctl PR_SET_PDEATHSIG: SIGKILL when the parent exits);
    everywhere, a watchdog thread waits on the pipe the parent holds open (multiprocessing's parent
    sentinel, a process handle on Windows) and exits when it closes; without one, it polls getppid().
    ``OPTIMESSAY_FIGURES_NO_PDEATHSIG=1`` leaves out the prctl (the tests check the watchdog alone)."""
    if sys.platform.startswith("linux") and not os.environ.get("OPTIMESSAY_FIGURES_NO_PDEATHSIG"):
        try:
            import ctypes

            ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGKILL), 0, 0, 0)  # 1: PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent_pid:  # the build died before we got here
        os._exit(EXIT_ORPHANED)
    import multiprocessing
    import threading

    parent = multiprocessing.parent_process()
    sentinel = getattr(parent, "sentinel", None)
    threading.Thread(target=_watch_parent, args=(parent_pid, sentinel), name="parent-watchdog", daemon=True).start()


def _watch_parent(parent_pid: int, sentinel) -> None:
    if sentinel is not None:
        from multiprocessing.connection import wait

        wait([sentinel])  # readable (end of file) once the parent is gone
    else:
        while os.getppid() == parent_pid:
            time.sleep(0.5)
    os._exit(EXIT_ORPHANED)


def _worker_init() -> None:
    os.environ["MPLBACKEND"] = "Agg"  # headless, whatever the calling environment asks for
    # one thread per worker (one worker per core already), set before a recipe imports torch
    os.environ["OMP_NUM_THREADS"] = os.environ["MKL_NUM_THREADS"] = "1"


def _worker_main(conn, parent_pid: int) -> None:
    """A worker process: say "ready", then draw each figure it is sent until told to stop (None)."""
    _die_with_parent(parent_pid)
    signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        try:
            _worker_init()
        except Exception:
            conn.send(("failed", traceback.format_exc()))
            return
        conn.send(("ready", os.getpid()))
        while True:
            try:
                task = conn.recv()
            except EOFError:
                return
            if task is None:
                return
            conn.send(("done", render(*task)))
    except (KeyboardInterrupt, _Stop, BrokenPipeError):
        return  # the build is stopping; render's finally blocks removed this figure's temporaries


def render(catalog_path: str, name: str, out: str, key: str) -> dict:
    """Draw one figure into ``out`` (temporary names, checked, then renames, then its stamp).

    Returns ``{"name", "ok", "error", "seconds"}``; never raises for a failing recipe."""
    start, cpu_start = time.perf_counter(), time.process_time()
    try:
        if catalog_path not in _CATALOG:
            _CATALOG[catalog_path] = {e.name: e for e in load_catalog(Path(catalog_path))[1]}
        entry = _CATALOG[catalog_path][name]
        out_dir = Path(out)
        torch = sys.modules.get("torch")
        if torch is not None and torch.get_num_threads() != 1:
            torch.set_num_threads(1)
        result = entry.recipe(**entry.params)
        variants_start = variants_cpu = None
        narrow = entry.kind == "image" and _is_trajectory_figure(result)
        small, copy_seconds, copy_cpu = None, 0.0, 0.0
        if narrow:
            from optimessay import plots

            try:  # the narrow variant is drawn from a copy (the original becomes the dark one)
                copy_seconds, copy_cpu = time.perf_counter(), time.process_time()
                small = plots.clone(result)
                copy_seconds, copy_cpu = time.perf_counter() - copy_seconds, time.process_time() - copy_cpu
            except Exception as exc:  # something unpicklable in the figure: no narrow variant, said
                narrow, copy_seconds, copy_cpu = False, 0.0, 0.0
                print(f"figure {name}: no narrow variant (the figure cannot be copied: {type(exc).__name__}: "
                      f"{exc})", file=sys.stderr, flush=True)
        dark_poster = entry.kind == "video" and _makes_dark_poster(result)
        files = output_files(entry, narrow, dark_poster)
        if entry.kind == "numbers":
            result = numbers_values(result)
            problem = numbers_problem(result)
            if problem:
                raise TypeError(f"recipe {entry.recipe.__name__} must return a flat dict of numbers: {problem}")
        tmp = {role: temporary_path(out_dir / f, "figure") for role, f in files.items()}
        width = height = None
        try:
            if entry.kind == "numbers":
                tmp["json"].write_text(numbers_text(result), encoding="utf-8")
            elif entry.kind == "image":
                from optimessay import plots

                if not hasattr(result, "savefig"):
                    raise TypeError(f"recipe {entry.recipe.__name__} must return a matplotlib Figure, got {type(result).__name__}")
                # the variants are drawn from the figure the recipe returned (recoloured in place for
                # the dark one, a copy for the narrow ones): the experiment behind it runs once
                width, height = plots.save_png(result, tmp["png"], close=False)
                # the light picture is not a variant; the copy for the narrow one, made earlier, is
                variants_start = time.perf_counter() - copy_seconds
                variants_cpu = time.process_time() - copy_cpu
                result.set_layout_engine("none")  # keeps the light picture's layout: only colours change
                plots.save_png(plots.to_dark(result), tmp["png_dark"])
                if small is not None:
                    narrow_size = plots.save_png(plots.narrow_layout(small), tmp["png_narrow"], close=False)
                    small.set_layout_engine("none")
                    plots.save_png(plots.to_dark(small), tmp["png_narrow_dark"])
            else:
                if not hasattr(result, "save"):
                    raise TypeError(f"recipe {entry.recipe.__name__} must return an animation with .save(), got {type(result).__name__}")
                dark = {"dark_poster_path": tmp["poster_dark"]} if dark_poster else {}
                width, height = result.save(tmp["mp4"], tmp["webm"], tmp["poster"], **dark)
            outputs = {}
            for role, path in tmp.items():  # never put a file in place that is not whole
                data = path.read_bytes()
                problem = output_problem(role, data)
                if problem:
                    raise ValueError(f"{files[role]} as written is {problem}")
                outputs[files[role]] = file_record(data)
            for role, path in tmp.items():
                os.replace(path, out_dir / files[role])
        finally:
            for path in tmp.values():
                path.unlink(missing_ok=True)
        stamp = {"key": key, "kind": entry.kind, "alt": entry.alt, "files": files, "outputs": outputs}
        if entry.kind != "numbers":
            stamp.update(width=int(width), height=int(height))
        if narrow:
            stamp.update(narrow_width=int(narrow_size[0]), narrow_height=int(narrow_size[1]))
        write_atomic(out_dir / ".stamps" / f"{name}.json", json.dumps(stamp, indent=1, sort_keys=True))
        end, cpu_end = time.perf_counter(), time.process_time()
        return {"name": name, "ok": True, "error": None, "seconds": end - start, "cpu_seconds": cpu_end - cpu_start,
                "variant_seconds": (end - variants_start) if variants_start is not None else 0.0,
                "variant_cpu_seconds": (cpu_end - variants_cpu) if variants_cpu is not None else 0.0}
    except (Exception, SystemExit) as exc:  # reported by name; the other figures go on
        tb = traceback.format_exc(limit=-4)
        return {"name": name, "ok": False, "error": f"{type(exc).__name__}: {exc}\n{tb}",
                "seconds": time.perf_counter() - start}
    finally:
        if "matplotlib.pyplot" in sys.modules:
            sys.modules["matplotlib.pyplot"].close("all")


def _is_trajectory_figure(result) -> bool:
    """A drawn figure with a landscape in it (optimessay.plots.is_trajectory_figure): it gets a narrow variant."""
    if not hasattr(result, "savefig"):
        return False
    from optimessay import plots

    return plots.is_trajectory_figure(result)


def _makes_dark_poster(result) -> bool:
    """Whether an animation's ``save`` draws a dark poster too (optimessay.animate.Race does)."""
    try:
        return "dark_poster_path" in inspect.signature(result.save).parameters
    except (TypeError, ValueError, AttributeError):
        return False


def _exit_description(code: int | None) -> str:
    if code is None:
        return "no exit status"
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit status {code}"


class _Worker:
    """One worker process and the pipe to it; ``task``: the figure it is drawing, if any."""

    def __init__(self, ctx):
        self.conn, child = ctx.Pipe(duplex=True)
        self.process = ctx.Process(target=_worker_main, args=(child, os.getpid()), name="figure-worker", daemon=True)
        self.process.start()
        child.close()  # only the worker holds its end: a dead worker reads as end of file
        self.ready = False
        self.task = None
        self.pending = []  # the rest of the group it is drawing (names), given to it one by one
        self.given = 0.0

    def give(self, name: str, task: tuple) -> bool:
        """Send it a figure; False if it is gone already (its death is then not this figure's doing)."""
        try:
            self.conn.send(task)
        except OSError:
            return False
        self.task, self.given = name, time.perf_counter()
        return True

    def receive(self):
        """The worker's next message, or None if it is gone (then its process has been reaped).
        Called when its pipe or its process sentinel is ready: no data means it has exited."""
        try:
            if self.conn.poll():
                return self.conn.recv()
        except (EOFError, OSError):
            pass
        self.process.join(5)
        if self.process.is_alive():  # its pipe broke but it lives on: not a worker we can use
            self.process.kill()
            self.process.join()
        return None

    def stop(self) -> None:
        """Ask an idle worker to leave, stop a busy one (SIGTERM: it removes its temporaries)."""
        if not self.process.is_alive():
            return
        try:
            if self.task is None:
                self.conn.send(None)
            else:
                self.process.terminate()
        except OSError:
            self.process.terminate()

    def close(self) -> None:
        self.process.join(5)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()
        self.conn.close()
        self.process.close()


def _run_pool(catalog_path: str, todo, out: Path, keys: dict, args) -> list:
    """Draw ``todo`` (groups of entries, see ``plan``; a lone entry is a group of one) in worker
    processes (spawned: each imports torch and matplotlib cleanly). A worker draws a group's entries
    one after the other, then takes the next group.

    A worker that dies (a crash in native code, os._exit, the out-of-memory killer, kill -9) fails
    exactly the figure it was drawing, named with the exit status or signal; a fresh worker takes its
    place and the other figures are built as usual."""
    import multiprocessing
    from multiprocessing.connection import wait

    from tqdm import tqdm

    ctx = multiprocessing.get_context("spawn")
    queue = [[e.name for e in group] if isinstance(group, (list, tuple)) else [group.name] for group in todo]
    total = sum(len(group) for group in queue)
    results, workers, fatal = [], [], None
    bar = tqdm(total=total, unit="fig", desc="figures", disable=args.no_progress, dynamic_ncols=True)

    def finish(r):
        results.append(r)
        bar.set_postfix_str(f"{r['name']} {'ok' if r['ok'] else 'FAILED'} {r['seconds']:.1f}s")
        bar.update()

    try:
        workers = [_Worker(ctx) for _ in range(min(args.jobs, len(queue)))]
        while workers and (queue or any(w.task or w.pending for w in workers)):
            for w in workers:
                if w.ready and w.task is None and (w.pending or queue):
                    group = w.pending or queue.pop(0)
                    name, w.pending = group[0], group[1:]
                    if not w.give(name, (catalog_path, name, str(out), keys[name])):
                        queue.insert(0, group)
                        w.pending = []
            handles = {}
            for w in workers:
                handles[w.conn] = handles[w.process.sentinel] = w
            for w in {id(handles[h]): handles[h] for h in wait(list(handles))}.values():
                message = w.receive()
                if message is not None:
                    if message[0] == "ready":
                        w.ready = True
                    elif message[0] == "done":
                        finish(message[1])
                        w.task = None
                    elif message[0] == "failed":
                        fatal = f"a worker process could not start:\n{message[1]}"
                    continue
                how = _exit_description(w.process.exitcode)
                if w.task is not None:
                    finish({"name": w.task, "ok": False, "seconds": time.perf_counter() - w.given,
                            "error": f"its worker process died ({how}) while drawing it (a crash in native code, "
                                     "os._exit, the out-of-memory killer or a kill); the other figures were not "
                                     "affected"})
                elif not w.ready:
                    fatal = f"a worker process died while starting ({how})"
                if w.pending:  # the rest of its group goes to the next free worker
                    queue.insert(0, w.pending)
                workers.remove(w)
                w.close()
                if fatal is None and queue:
                    workers.append(_Worker(ctx))
            if fatal:
                break
        left = [n for group in queue for n in group] + [n for w in workers for n in [w.task, *w.pending] if n]
        for name in left:
            finish({"name": name, "ok": False, "seconds": 0.0, "error": f"not drawn: {fatal}"})
    finally:
        bar.close()
        for w in workers:
            w.stop()
        for w in workers:
            w.close()
    return results


# ------------------------------------------------------------------------------------------------
# main


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--only", action="append", default=[], metavar="NAME",
                   help="build only this figure (repeat, or separate names with commas)")
    p.add_argument("--force", action="store_true", help="rebuild even the figures that are up to date")
    p.add_argument("--list", action="store_true", help="list the catalog: name, kind, status")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"output folder (default {DEFAULT_OUT.relative_to(ROOT)})")
    p.add_argument("--catalog", type=Path, default=DEFAULT_CATALOG, help="catalog file (default scripts/catalog.py)")
    p.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="worker processes (default: one per core)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--timings", action="store_true", help="print each built figure's drawing time")
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.jobs < 1:
        raise SystemExit(f"--jobs must be >= 1, got {args.jobs}")
    catalog_path = args.catalog.resolve()
    _, entries = load_catalog(catalog_path)
    by_name = {e.name: e for e in entries}
    only = [n.strip() for arg in args.only for n in arg.split(",") if n.strip()]
    unknown = [n for n in only if n not in by_name]
    if unknown:
        raise SystemExit(f"unknown figure(s): {', '.join(unknown)} (see --list)")
    out = args.out.resolve()

    keymaker = KeyMaker(catalog_path)
    keys = {e.name: keymaker.key(e) for e in entries}

    if args.list:
        for e in entries:
            status = figure_status(out, e, keys[e.name])
            text = "up to date" if status.current else f"stale ({status.reason})"
            print(f"{e.name:34s} {e.kind:7s} {text}")
        return 0

    (out / ".stamps").mkdir(parents=True, exist_ok=True)
    with build_lock(out):
        return _build(args, catalog_path, entries, by_name, only, out, keys, keymaker)


def _build(args, catalog_path: Path, entries, by_name: dict, only: list, out: Path, keys: dict,
           keymaker: KeyMaker | None = None) -> int:
    clean_stray_files(out, entries)
    selected = [by_name[n] for n in only] if only else entries
    todo = []
    for e in selected:
        status = figure_status(out, e, keys[e.name])
        if status.damaged:
            print(f"figure {e.name}: {status.reason}; rebuilding it", file=sys.stderr, flush=True)
        if args.force or not status.current:
            todo.append(e)
    # entries sharing an experiment grouped, longest first (by the last build's CPU seconds), so no
    # worker waits for another's experiment and the last to finish is not stuck with a long one
    keymaker = keymaker or KeyMaker(catalog_path)
    groups = plan(todo, {e.name: keymaker.shared_runs(e) for e in todo}, read_timings())

    results = []
    if todo:
        try:
            results = _run_pool(str(catalog_path), groups, out, keys, args)
        except KeyboardInterrupt:
            # finished figures have their files and stamps; the rest have neither (their temporary
            # files are removed by the workers, or at the start of the next run)
            write_atomic(out / "manifest.json", manifest_text(out, entries, keys))
            print("\ninterrupted: run again to build the rest", file=sys.stderr)
            return 130

    for folder in (out, out / ".stamps"):
        remove_stale_temporaries(folder)  # those of a worker that died
    if results:
        write_timings(results)
    manifest = out / "manifest.json"
    text = manifest_text(out, entries, keys)
    if only:
        text = keep_unselected(manifest, text, only, entries, out)
    if not manifest.is_file() or manifest.read_text() != text:
        write_atomic(manifest, text)

    failed = [r for r in results if not r["ok"]]
    built = len(results) - len(failed)
    if args.timings:
        # wall seconds, and the worker's CPU seconds (what a loaded machine does not inflate); "variants":
        # the dark and narrow copies of an image, drawn after its light picture
        for r in sorted(results, key=lambda r: -r["seconds"]):
            print(f"timing {r['name']} {r['seconds']:.2f} s (cpu {r.get('cpu_seconds', 0.0):.2f} s; variants "
                  f"{r.get('variant_seconds', 0.0):.2f} s, cpu {r.get('variant_cpu_seconds', 0.0):.2f} s)")
        total = sum(r["seconds"] for r in results)
        cpu = sum(r.get("cpu_seconds", 0.0) for r in results)
        variants = sum(r.get("variant_seconds", 0.0) for r in results)
        variants_cpu = sum(r.get("variant_cpu_seconds", 0.0) for r in results)
        print(f"timing total {total:.2f} s of drawing (cpu {cpu:.2f} s), of which the image variants "
              f"{variants:.2f} s (cpu {variants_cpu:.2f} s)")
    print(f"figures: {built} built, {len(selected) - len(todo)} up to date, {len(failed)} failed -> {out}")
    for r in failed:
        print(f"\nFAILED {r['name']}: {r['error']}", file=sys.stderr)
    if failed:
        print(f"\nfigures that failed: {', '.join(r['name'] for r in failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
