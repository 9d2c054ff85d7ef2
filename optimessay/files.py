"""Files written whole or not at all, and temporary files that say whose they are.

Every file the project writes (figures, the manifest, benchmark tables, test vectors, notebook
images) goes through `write_atomic`: the bytes go to a temporary name in the same folder, then one
rename puts them in place. A reader, or a build interrupted half-way, sees the old file or the new
one, never half of one. Standard library only.

A temporary name carries the id of the process writing it: ``.NAME.<pid>-<tag>.tmp``
(`temporary_path`). A process that was killed leaves its temporaries behind; `remove_stale_temporaries`
removes those whose writer is no longer running, and never a file another live process is still
writing (two builds into one folder must not delete each other's work).
"""

from __future__ import annotations

import os
import re
import sys
import tempfile
import time
from pathlib import Path

# ".NAME.<pid>-<tag>.tmp"; also ".NAME.<pid>.tmp" (the figure build's names before the tag)
_TEMPORARY = re.compile(r"^\..+\.(\d+)(?:-[A-Za-z0-9_]*)?\.tmp$")
UNOWNED_MAX_AGE = 3600.0  # seconds: a temporary without a pid is someone's only if this recent


def write_atomic(path: str | os.PathLike, data: str | bytes) -> Path:
    """Write `data` (text is encoded as UTF-8) to `path` through a temporary file and a rename."""
    if not isinstance(data, (str, bytes)):
        raise TypeError(f"write_atomic writes str or bytes, got {type(data).__name__}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.{os.getpid()}-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data.encode("utf-8") if isinstance(data, str) else data)
        os.chmod(tmp, 0o644)  # mkstemp makes the file private; these are ordinary project files
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def temporary_path(path: str | os.PathLike, tag: str = "part") -> Path:
    """The hidden name, in `path`'s folder, under which this process writes `path` before renaming:
    ``.NAME.<pid>-<tag>.tmp`` (`tag`: letters, digits and ``_``, to tell one writer's files apart)."""
    if not re.fullmatch(r"[A-Za-z0-9_]*", tag):
        raise ValueError(f"temporary_path: tag must be letters, digits or '_', got {tag!r}")
    path = Path(path)
    return path.parent / f".{path.name}.{os.getpid()}-{tag}.tmp"


def temporary_owner(path: str | os.PathLike) -> int | None:
    """The pid recorded in a temporary file's name, or None if the name carries none."""
    match = _TEMPORARY.match(Path(path).name)
    return int(match.group(1)) if match else None


def process_running(pid: int) -> bool:
    """Whether a process with this pid exists and has not exited (a zombie counts as exited: in a
    container whose init does not reap orphans, a killed process stays a zombie for good)."""
    if pid <= 0:
        return False
    if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
        import ctypes

        kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)
        handle = kernel32.OpenProcess(0x1000, False, pid)  # PROCESS_QUERY_LIMITED_INFORMATION
        if not handle:
            return ctypes.get_last_error() == 5  # access denied: it exists
        try:
            code = ctypes.c_ulong()
            kernel32.GetExitCodeProcess(handle, ctypes.byref(code))
            return code.value == 259  # STILL_ACTIVE
        finally:
            kernel32.CloseHandle(handle)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True  # no /proc (macOS): kill(pid, 0) is the answer
    return stat.rsplit(")", 1)[-1].split()[0] not in ("Z", "X")


def remove_stale_temporaries(folder: str | os.PathLike, *, max_age: float = UNOWNED_MAX_AGE) -> list[Path]:
    """Remove the temporary files (``.*.tmp``) in `folder` that nobody is writing any more.

    A file whose name carries a pid is removed when that process is no longer running; one without
    (an older naming) when it has not changed for `max_age` seconds. Returns the removed paths."""
    removed = []
    now = time.time()
    for tmp in sorted(Path(folder).glob(".*.tmp")):
        owner = temporary_owner(tmp)
        if owner is not None:
            if owner == os.getpid() or process_running(owner):
                continue
        else:
            try:
                if now - tmp.stat().st_mtime < max_age:
                    continue
            except FileNotFoundError:
                continue
        tmp.unlink(missing_ok=True)
        removed.append(tmp)
    return removed
