"""The request kinds of the fork server that runs code from the pages (test_page_programs.py,
test_copy_paste.py): tests/fork_server.py, started by conftest.py's `program_server` fixture as
`python -I fork_server.py --path tests/browser --preload torch torch._dynamo program_server` with a
bare environment (what a reader's fresh interpreter has; each kind adds what it needs). The server
imports torch once (and torch._dynamo, which torch.optim's first step imports: measured 1.3 s of CPU
in each child that did it, 0.02 s once it is imported in the server) and runs each request in a child
forked from itself: a process of its own, as fresh as a new interpreter that has imported torch and
nothing else (no torch operation ever runs in the server, so no thread pool exists when it forks).
Each request is one page's programs, all run in that one child, each in a namespace of its own.

Importing torch takes ~2 s of CPU and torch._dynamo ~1.3 s more; a fresh interpreter per page paid
both for each of ~18 pages.

Requests:
- {"kind": "page", "root": ROOT, "programs": [code, ...]}: the essay's complete programs
  (test_page_programs.py): run with ROOT first on sys.path, in ROOT, with matplotlib's Agg backend;
  the result is [{"ok": bool, "stdout": what it printed, plus its traceback when it raised}, ...].
- {"kind": "copy", "checker": path of copy_paste_check.py, "programs": [{"id": ..., "code": ...}]}:
  code copied from the site (test_copy_paste.py), checked by copy_paste_check.check_programs (which
  refuses any import of optimessay); the result is its {id: {"ok": bool, "output": text}}.
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
import traceback


def run_page_programs(request: dict) -> list[dict]:
    sys.path.insert(0, request["root"])
    os.chdir(request["root"])
    os.environ["MPLBACKEND"] = "Agg"
    out = []
    for source in request["programs"]:
        buffer = io.StringIO()
        try:
            with contextlib.redirect_stdout(buffer):
                exec(compile(source, "<page block>", "exec"), {"__name__": "__main__"})
            out.append({"ok": True, "stdout": buffer.getvalue()})
        except BaseException:
            out.append({"ok": False, "stdout": buffer.getvalue() + traceback.format_exc()})
    return out


def run_copied_code(request: dict) -> dict:
    import importlib.util

    os.chdir("/")
    spec = importlib.util.spec_from_file_location("copy_paste_check", request["checker"])
    checker = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(checker)  # installs its guard against importing optimessay
    return checker.check_programs(request["programs"])


KINDS = {"page": run_page_programs, "copy": run_copied_code}
