"""`make figures`: render every figure of scripts/catalog.py into docs/figures/, plus manifest.json.

    python scripts/build_figures.py                 # build what changed (incremental)
    python scripts/build_figures.py --force         # rebuild everything
    python scripts/build_figures.py --only NAME     # just this figure (repeatable)
    python scripts/build_figures.py --list          # names, kinds and whether each is up to date
    python scripts/build_figures.py --out DIR       # build somewhere else (tests, benchmarks)
    python scripts/build_figures.py --jobs N        # worker processes (default: one per core)

How it works:

- **Incremental.** Each figure has a *key*: a SHA-256 over its catalog entry (name, kind, alt text,
  parameters, and the source of its recipe function plus every catalog helper that recipe uses), the
  bytes of every optimessay module the recipe imports (followed through the package's own imports),
  and the versions of Python and of the libraries that draw (torch, numpy, matplotlib, pillow,
  imageio-ffmpeg). A figure is rebuilt when its key differs from the one stored next to its files in
  ``OUT/.stamps/NAME.json``, or a file is missing. Computing keys reads and parses source files only:
  a no-change run imports neither torch nor matplotlib and takes well under a second.
- **Parallel.** Stale figures are drawn in a process pool (one worker per core; animations first,
  since they take longest), with a tqdm progress bar.
- **Atomic.** Every file is written under a temporary name (``.NAME...tmp``) and renamed; the stamp
  is written last. An interrupted build leaves complete old or new files and no stamp for a figure
  it did not finish, so the next run rebuilds exactly that; stray temporary files are removed.
- **Deterministic.** Seeds are fixed in the catalog, PNGs carry no metadata, ffmpeg runs bitexact and
  single-threaded: two clean builds give byte-identical files.
- **Failures.** A figure whose recipe raises is reported by name with its error; the others still
  build; the exit status is 1. The manifest lists only figures that are built and up to date.

The manifest (``OUT/manifest.json``, read by docs/hooks/figures.py)::

    {"figures": {NAME: {"kind": "image"|"video", "alt": str, "files": {...}, "width": int, "height": int}}}
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import importlib.util
import json
import os
import platform
import sys
import time
import traceback
from concurrent.futures import ProcessPoolExecutor, as_completed
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "optimessay"
DEFAULT_CATALOG = ROOT / "scripts" / "catalog.py"
DEFAULT_OUT = ROOT / "docs" / "figures"
LIBRARIES = ("torch", "numpy", "matplotlib", "pillow", "imageio-ffmpeg")
BUILD_FORMAT = 1  # bump to rebuild everything after a change in how this script writes files
FILES = {"image": ("png",), "video": ("mp4", "webm", "png")}

if str(ROOT) not in sys.path:  # this checkout's package (a frozen copy's, under bench_figures)
    sys.path.insert(0, str(ROOT))
from optimessay.files import write_atomic  # noqa: E402  (standard library only: the no-change run stays fast)

# ------------------------------------------------------------------------------------------------
# the catalog


def load_catalog(path: Path):
    """Import the catalog file (a plain script, not a package module) and check its entries."""
    path = Path(path).resolve()
    if not path.is_file():
        raise SystemExit(f"catalog not found: {path}")
    tag = hashlib.sha256(str(path).encode()).hexdigest()[:12]
    spec = importlib.util.spec_from_file_location(f"_figure_catalog_{tag}", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    spec.loader.exec_module(module)
    entries = list(module.FIGURES)
    seen = set()
    for entry in entries:
        if entry.kind not in FILES:
            raise SystemExit(f"figure {entry.name!r}: kind must be 'image' or 'video', got {entry.kind!r}")
        if not entry.alt or not entry.alt.strip():
            raise SystemExit(f"figure {entry.name!r} has no alt text")
        if entry.name in seen:
            raise SystemExit(f"figure {entry.name!r} is declared twice")
        seen.add(entry.name)
    return module, entries


def output_files(entry) -> dict:
    """The manifest's ``files`` for an entry: ``{"png": NAME.png}`` or mp4/webm/poster."""
    if entry.kind == "image":
        return {"png": f"{entry.name}.png"}
    return {"mp4": f"{entry.name}.mp4", "webm": f"{entry.name}.webm", "poster": f"{entry.name}.png"}


# ------------------------------------------------------------------------------------------------
# keys: what a figure depends on


def _top_level_defs(tree: ast.Module, source: str) -> dict:
    """name -> (source text, node) for every top-level def/class/assignment of a module."""
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
            defs[name] = (ast.get_source_segment(source, node), node)
    return defs


def _optimessay_imports(node: ast.AST, exports: dict, current: str | None = None) -> set:
    """Modules of the optimessay package that the code under ``node`` imports.

    ``from optimessay import Adam`` counts as the module that exports Adam (the lazy root's
    ``_EXPORTS``); relative imports are resolved against ``current`` (a dotted module name)."""
    found = set()
    for sub in ast.walk(node):
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


class KeyMaker:
    """Computes each figure's key from source text alone (no heavy imports)."""

    def __init__(self, catalog_path: Path):
        self.catalog_source = Path(catalog_path).read_text()
        self.catalog_tree = ast.parse(self.catalog_source)
        self.defs = _top_level_defs(self.catalog_tree, self.catalog_source)
        self.exports = self._exports()
        self._module_cache: dict[str, tuple] = {}
        self.versions = {"python": platform.python_version(), "build_format": BUILD_FORMAT}
        for lib in LIBRARIES:
            try:
                self.versions[lib] = metadata.version(lib)
            except metadata.PackageNotFoundError:
                self.versions[lib] = "missing"
        # Imports at the top of the catalog apply to every entry.
        top_imports = ast.Module(body=[n for n in self.catalog_tree.body
                                       if isinstance(n, (ast.Import, ast.ImportFrom))], type_ignores=[])
        self.catalog_modules = _optimessay_imports(top_imports, self.exports)

    def _exports(self) -> dict:
        init = PACKAGE / "__init__.py"
        if not init.is_file():
            return {}
        for node in ast.parse(init.read_text()).body:
            if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "_EXPORTS"
                                                    for t in node.targets):
                return ast.literal_eval(node.value)
        return {}

    def recipe_closure(self, name: str) -> list[str]:
        """The recipe ``name`` and every top-level catalog definition it uses, transitively."""
        todo, seen = [name], set()
        while todo:
            current = todo.pop()
            if current in seen or current not in self.defs:
                continue
            seen.add(current)
            for sub in ast.walk(self.defs[current][1]):
                if isinstance(sub, ast.Name) and sub.id in self.defs and sub.id not in seen:
                    todo.append(sub.id)
        return sorted(seen)

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
        recipe = entry.recipe.__name__
        closure = self.recipe_closure(recipe)
        if recipe not in self.defs:
            raise SystemExit(f"figure {entry.name!r}: recipe {recipe!r} is not a top-level function of the catalog")
        roots = set(self.catalog_modules)
        for name in closure:
            roots |= _optimessay_imports(self.defs[name][1], self.exports)
        roots |= {"optimessay.style", "optimessay.plots"}
        if entry.kind == "video":
            roots.add("optimessay.animate")
        payload = {
            "name": entry.name, "kind": entry.kind, "alt": entry.alt,
            "params": repr(sorted(entry.params.items())),
            "code": {name: self.defs[name][0] for name in closure},
            "package": self.package_hashes(roots),
            "versions": self.versions,
        }
        return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


# ------------------------------------------------------------------------------------------------
# stamps and the manifest


def read_stamp(out: Path, name: str) -> dict | None:
    try:
        return json.loads((out / ".stamps" / f"{name}.json").read_text())
    except (OSError, ValueError):
        return None


def is_current(out: Path, entry, key: str) -> bool:
    stamp = read_stamp(out, entry.name)
    if not stamp or stamp.get("key") != key:
        return False
    return all((out / f).is_file() for f in stamp["files"].values())


def manifest_text(out: Path, entries, keys: dict) -> str:
    figures = {}
    for entry in sorted(entries, key=lambda e: e.name):
        if is_current(out, entry, keys[entry.name]):
            stamp = read_stamp(out, entry.name)
            figures[entry.name] = {k: stamp[k] for k in ("kind", "alt", "files", "width", "height")}
    return json.dumps({"figures": figures}, indent=2, sort_keys=True) + "\n"


def clean_stray_files(out: Path, entries) -> None:
    """Remove temporary files an interrupted build left, and figures no longer in the catalog."""
    for tmp in list(out.glob(".*.tmp")) + list((out / ".stamps").glob(".*.tmp")):
        tmp.unlink(missing_ok=True)
    names = {e.name for e in entries}
    for stamp_path in (out / ".stamps").glob("*.json"):
        if stamp_path.stem in names:
            continue
        try:
            files = json.loads(stamp_path.read_text()).get("files", {}).values()
        except (OSError, ValueError):
            files = []
        for f in files:
            (out / f).unlink(missing_ok=True)
        stamp_path.unlink(missing_ok=True)


# ------------------------------------------------------------------------------------------------
# the workers


_CATALOG = {}


def _worker_init() -> None:
    os.environ["MPLBACKEND"] = "Agg"  # headless, whatever the calling environment asks for
    import torch

    torch.set_num_threads(1)  # one worker per core already


def render(catalog_path: str, name: str, out: str, key: str) -> dict:
    """Draw one figure into ``out`` (temporary names, then renames, then its stamp).

    Returns ``{"name", "ok", "error", "seconds"}``; never raises for a failing recipe."""
    start = time.perf_counter()
    try:
        if catalog_path not in _CATALOG:
            _CATALOG[catalog_path] = {e.name: e for e in load_catalog(Path(catalog_path))[1]}
        entry = _CATALOG[catalog_path][name]
        out_dir = Path(out)
        files = output_files(entry)
        result = entry.recipe(**entry.params)
        if entry.kind == "image":
            from optimessay import plots

            if not hasattr(result, "savefig"):
                raise TypeError(f"recipe {entry.recipe.__name__} must return a matplotlib Figure, got {type(result).__name__}")
            width, height = plots.save_png(result, out_dir / files["png"])
        else:
            if not hasattr(result, "save"):
                raise TypeError(f"recipe {entry.recipe.__name__} must return an animation with .save(), got {type(result).__name__}")
            tmp = {k: out_dir / f".{v}.{os.getpid()}.tmp" for k, v in files.items()}
            try:
                width, height = result.save(tmp["mp4"], tmp["webm"], tmp["poster"])
                for k in ("mp4", "webm", "poster"):
                    os.replace(tmp[k], out_dir / files[k])
            finally:
                for path in tmp.values():
                    path.unlink(missing_ok=True)
        stamp = {"key": key, "kind": entry.kind, "alt": entry.alt, "files": files,
                 "width": int(width), "height": int(height)}
        write_atomic(out_dir / ".stamps" / f"{name}.json", json.dumps(stamp, indent=1, sort_keys=True))
        return {"name": name, "ok": True, "error": None, "seconds": time.perf_counter() - start}
    except Exception as exc:  # reported by name; the other figures go on
        tb = traceback.format_exc(limit=-4)
        return {"name": name, "ok": False, "error": f"{type(exc).__name__}: {exc}\n{tb}",
                "seconds": time.perf_counter() - start}
    finally:
        if "matplotlib.pyplot" in sys.modules:
            sys.modules["matplotlib.pyplot"].close("all")


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
            status = "up to date" if is_current(out, e, keys[e.name]) else "stale"
            print(f"{e.name:34s} {e.kind:6s} {status}")
        return 0

    (out / ".stamps").mkdir(parents=True, exist_ok=True)
    clean_stray_files(out, entries)
    selected = [by_name[n] for n in only] if only else entries
    todo = [e for e in selected if args.force or not is_current(out, e, keys[e.name])]
    # longest first (animations), so the last worker to finish is not stuck with a long one
    todo.sort(key=lambda e: (-getattr(e, "cost", 1.0), e.name))

    results = []
    if todo:
        try:
            results = _run_pool(str(catalog_path), todo, out, keys, args)
        except KeyboardInterrupt:
            # finished figures have their files and stamps; the rest have neither (their temporary
            # files are removed by the workers, or at the start of the next run)
            write_atomic(out / "manifest.json", manifest_text(out, entries, keys))
            print("\ninterrupted: run again to build the rest", file=sys.stderr)
            return 130

    manifest = out / "manifest.json"
    text = manifest_text(out, entries, keys)
    if not manifest.is_file() or manifest.read_text() != text:
        write_atomic(manifest, text)

    failed = [r for r in results if not r["ok"]]
    built = len(results) - len(failed)
    if args.timings:
        for r in sorted(results, key=lambda r: -r["seconds"]):
            print(f"timing {r['name']} {r['seconds']:.2f}")
    print(f"figures: {built} built, {len(selected) - len(todo)} up to date, {len(failed)} failed -> {out}")
    for r in failed:
        print(f"\nFAILED {r['name']}: {r['error']}", file=sys.stderr)
    if failed:
        print(f"\nfigures that failed: {', '.join(r['name'] for r in failed)}", file=sys.stderr)
    return 1 if failed else 0


def _run_pool(catalog_path: str, todo, out: Path, keys: dict, args) -> list:
    import multiprocessing

    from tqdm import tqdm

    results = []
    jobs = min(args.jobs, len(todo))
    bar = tqdm(total=len(todo), unit="fig", desc="figures", disable=args.no_progress, dynamic_ncols=True)
    # spawn: each worker imports torch/matplotlib once, cleanly (no state forked from this process)
    with ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("spawn"),
                             initializer=_worker_init) as pool:
        futures = {pool.submit(render, catalog_path, e.name, str(out), keys[e.name]): e.name for e in todo}
        try:
            for future in as_completed(futures):
                try:
                    r = future.result()
                except Exception as exc:  # a worker died (e.g. killed): report this figure, go on
                    r = {"name": futures[future], "ok": False, "error": f"worker died: {exc!r}", "seconds": 0.0}
                results.append(r)
                bar.set_postfix_str(f"{r['name']} {'ok' if r['ok'] else 'FAILED'} {r['seconds']:.1f}s")
                bar.update()
        except KeyboardInterrupt:
            for f in futures:
                f.cancel()
            raise
        finally:
            bar.close()
    return results


if __name__ == "__main__":
    sys.exit(main())
