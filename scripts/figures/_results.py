"""One run of an experiment shared by the figures and numbers that show it.

A page often draws an experiment and also quotes its numbers: two catalog entries, built by
different worker processes of `make figures`, that need the very same run. ``shared(fn, **params)``
runs ``fn(**params)`` once per build and hands the result to every entry that asks:

- the result is pickled into the project's ``.cache/results/`` (``make clean`` removes it), under a
  key made of the function's module and name, its parameters, torch's version and the source of
  every module of the ``optimessay`` package (any change to the package makes a new key);
- one file lock per key: a second worker asking for the same run waits for the first and then
  reads its result instead of computing it again.

The build (scripts/build_figures.py) finds the entries that call ``shared`` with the same function
and draws them one after the other in one worker, so in practice nobody waits on the lock.

``memo(fn, **params)`` is the same cache for a small run that *many* entries ask for (a protocol
tuning of one contestant, ~1 s): the build does not group the entries that call it (that would put
half the catalog in one worker); the first to ask computes it, a worker asking at the same moment
waits for that one run, the rest read it.

Only the figure build uses this (the package itself never caches); a recipe stays a plain function
of its parameters, so the build's own keys and stamps (scripts/build_figures.py) are unchanged.
"""

from __future__ import annotations

import fcntl
import hashlib
import pickle
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FOLDER = ROOT / ".cache" / "results"


@cache
def _package_digest() -> str:
    """torch's version and every source file of the package (read once per process: a build never
    sees the package change under it, and a new build is a new process)."""
    import torch

    package = ROOT / "optimessay"
    digest = hashlib.sha256(torch.__version__.encode())
    for path in sorted(package.rglob("*.py")):
        digest.update(path.relative_to(package).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def _cached(fn, params: dict):
    from optimessay.files import write_atomic

    name = f"{fn.__module__}.{fn.__qualname__}"
    if "<" in name:
        raise ValueError(f"shared(): {name} is not a module-level function; expected one a worker can name")
    stem = hashlib.sha256(name.encode()).hexdigest()[:16]
    key = hashlib.sha256(repr((name, sorted(params.items()), _package_digest())).encode()).hexdigest()[:32]
    FOLDER.mkdir(parents=True, exist_ok=True)
    target = FOLDER / f"{stem}-{key}.pickle"
    if target.is_file():  # written whole (temporary name, then rename): no lock needed to read it
        with open(target, "rb") as f:
            return pickle.load(f)
    with open(FOLDER / f"{stem}-{key}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes, also if this process dies
        if target.is_file():
            with open(target, "rb") as f:
                return pickle.load(f)
        value = fn(**params)
        write_atomic(target, pickle.dumps(value))
        return value


def shared(fn, **params):
    """``fn(**params)``, computed once per build and package version and shared between workers
    (the build draws the entries calling ``shared(fn, ...)`` with the same ``fn`` in one worker)."""
    return _cached(fn, params)


def memo(fn, **params):
    """``fn(**params)`` through the same cache as :func:`shared`, for a small run many entries ask for
    (the build does not group the entries that call it)."""
    return _cached(fn, params)
