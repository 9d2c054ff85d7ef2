"""One run of an experiment shared by the figures and numbers that show it.

A page often draws an experiment and also quotes its numbers: two catalog entries, built by
different worker processes of `make figures`, that need the very same run. ``shared(fn, **params)``
runs ``fn(**params)`` once per build and hands the result to every entry that asks:

- the result is pickled into the project's ``.cache/results/`` (``make clean`` removes it), under a
  key made of the function's module and name, its parameters, torch's version and the source of
  every module of the ``optimessay`` package (any change to the package makes a new key);
- one file lock per function: a second worker asking for the same run waits for the first and then
  reads its result instead of computing it again.

Only the figure build uses this (the package itself never caches); a recipe stays a plain function
of its parameters, so the build's own keys and stamps (scripts/build_figures.py) are unchanged.
"""

from __future__ import annotations

import fcntl
import hashlib
import pickle
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FOLDER = ROOT / ".cache" / "results"


def _package_digest() -> str:
    import torch

    package = ROOT / "optimessay"
    digest = hashlib.sha256(torch.__version__.encode())
    for path in sorted(package.rglob("*.py")):
        digest.update(path.relative_to(package).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def shared(fn, **params):
    """``fn(**params)``, computed once per build and package version and shared between workers."""
    from optimessay.files import write_atomic

    name = f"{fn.__module__}.{fn.__qualname__}"
    if "<" in name:
        raise ValueError(f"shared(): {name} is not a module-level function; expected one a worker can name")
    stem = hashlib.sha256(name.encode()).hexdigest()[:16]
    key = hashlib.sha256(repr((name, sorted(params.items()), _package_digest())).encode()).hexdigest()[:32]
    FOLDER.mkdir(parents=True, exist_ok=True)
    target = FOLDER / f"{stem}-{key}.pickle"
    with open(FOLDER / f"{stem}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes, also if this process dies
        if target.is_file():
            with open(target, "rb") as f:
                return pickle.load(f)
        value = fn(**params)
        write_atomic(target, pickle.dumps(value))
        return value
