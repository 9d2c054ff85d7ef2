"""Files written whole or not at all.

Every file the project writes (figures, the manifest, benchmark tables, test vectors, notebook
images) goes through `write_atomic`: the bytes go to a temporary name in the same folder
(``.NAME.<random>.tmp``), then one rename puts them in place. A reader, or a build interrupted
half-way, sees the old file or the new one, never half of one. Standard library only.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_atomic(path: str | os.PathLike, data: str | bytes) -> Path:
    """Write `data` (text is encoded as UTF-8) to `path` through a temporary file and a rename."""
    if not isinstance(data, (str, bytes)):
        raise TypeError(f"write_atomic writes str or bytes, got {type(data).__name__}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data.encode("utf-8") if isinstance(data, str) else data)
        os.chmod(tmp, 0o644)  # mkstemp makes the file private; these are ordinary project files
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
