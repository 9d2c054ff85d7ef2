"""A fork server for the checks that run code from the pages (test_page_programs.py, test_copy_paste.py).

`python -I program_server.py` imports torch once (and torch._dynamo, which torch.optim's first step
imports), then reads one request per line on stdin (JSON) and
runs each in a child forked from itself: a process of its own, as fresh as a new interpreter that
has imported torch and nothing else (no torch operation ever runs in the server, so no thread pool
exists when it forks). Each request is one page's programs, all run in that one child, each in a
namespace of its own. The answer is one JSON line on stdout: {"status": the child's wait status,
"result": what the child returned, or null, "error": its traceback or ""}.

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
import json
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


def child(request: dict, write_fd: int) -> None:
    """In the forked child: run the request, send the answer through `write_fd`, never return."""
    # the server's stdin and stdout carry the protocol: the child's code reads nothing and prints to stderr
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.dup2(2, 1)
    sys.stdin = open(os.devnull, encoding="utf-8")  # noqa: SIM115
    answer = {"result": None, "error": ""}
    try:
        answer["result"] = KINDS[request["kind"]](request)
    except BaseException:
        answer["error"] = traceback.format_exc()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
        with os.fdopen(write_fd, "wb") as pipe:
            pipe.write(json.dumps(answer).encode())
    finally:
        os._exit(0)


def main() -> None:
    # the imports every child shares; nothing of torch runs here. torch.optim's first step imports
    # torch._dynamo (measured: 1.3 s of CPU in each child that did it, 0.02 s once it is imported here)
    import torch  # noqa: F401
    import torch._dynamo  # noqa: F401

    protocol_out = os.fdopen(os.dup(1), "w", encoding="utf-8")
    for line in sys.stdin:
        if not line.strip():
            continue
        request = json.loads(line)
        read_fd, write_fd = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(read_fd)
            child(request, write_fd)
        os.close(write_fd)
        with os.fdopen(read_fd, "rb") as pipe:
            data = pipe.read()  # before waiting: a large answer fills the pipe
        _, status = os.waitpid(pid, 0)
        answer = json.loads(data) if data else {"result": None, "error": "the child died without an answer"}
        protocol_out.write(json.dumps({"status": status, **answer}) + "\n")
        protocol_out.flush()


if __name__ == "__main__":
    main()
