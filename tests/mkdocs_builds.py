"""`mkdocs build` for the tests, without paying MkDocs' start-up on every build.

A test that builds a small site needs what `python -m mkdocs build` gives: a process of its own, with
its own working directory, environment and log. Starting that process imports MkDocs, Material,
mkdocstrings, mkdocs-jupyter and Pygments first: about 3 s of CPU, most of a small build. Here one
server process per test process imports them once; each build is a child forked from it, which
then sets its directory and environment and runs MkDocs' command line, as a fresh process would.
The server itself imports nothing else and never builds: every child starts from the same state.

    result = run_mkdocs(["build", "--strict"], cwd=project, env={...})
    result.returncode, result.stdout, result.stderr  # as subprocess.run(..., capture_output=True)
"""

from __future__ import annotations

import atexit
import importlib
import json
import os
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

# what a build would import anyway (the site's plugins and extensions); imported once, by the server
PRELOAD = ("mkdocs.__main__", "mkdocs.commands.build", "mkdocs.config.defaults", "material.plugins.search.plugin",
           "mkdocstrings", "mkdocs_jupyter.plugin", "pymdownx.superfences", "pymdownx.snippets",
           "pymdownx.arithmatex", "pygments.lexers.python", "pygments.formatters.html")

_server: subprocess.Popen | None = None
_lock = threading.Lock()


def run_mkdocs(args: list[str], cwd: Path, env: dict[str, str], timeout: float = 300) -> subprocess.CompletedProcess:
    """`python -m mkdocs *args` in `cwd` with exactly the environment `env` (PYTHONPATH's folders are put
    first on sys.path, as Python does at start-up). Its exit status and output, as subprocess.run's."""
    global _server
    with _lock, tempfile.TemporaryDirectory() as logs:
        if _server is None or _server.poll() is not None:
            _server = subprocess.Popen([sys.executable, __file__, "--serve"], stdin=subprocess.PIPE,
                                       stdout=subprocess.PIPE, text=True)
            atexit.register(_stop, _server)
        out, err = Path(logs) / "stdout", Path(logs) / "stderr"
        request = {"args": [str(a) for a in args], "cwd": str(cwd), "env": dict(env), "stdout": str(out),
                   "stderr": str(err), "timeout": timeout}
        _server.stdin.write(json.dumps(request) + "\n")
        _server.stdin.flush()
        reply = _server.stdout.readline()
        if not reply:
            raise RuntimeError(f"the mkdocs build server died (exit status {_server.wait()})")
        returncode = json.loads(reply)["returncode"]
        return subprocess.CompletedProcess(["mkdocs", *args], returncode, out.read_text(errors="replace"),
                                           err.read_text(errors="replace"))


def _stop(server: subprocess.Popen) -> None:
    """End of the test process: the server ends when its stdin closes (and is waited for)."""
    server.stdin.close()
    try:
        server.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def _serve() -> None:
    """Import PRELOAD, then fork one child per request line on stdin; reply with its exit status."""
    for name in PRELOAD:
        importlib.import_module(name)
    for line in sys.stdin:
        request = json.loads(line)
        pid = os.fork()
        if pid == 0:
            _child(request)  # never returns
        status = _wait(pid, request["timeout"])
        print(json.dumps({"returncode": status}), flush=True)


def _wait(pid: int, timeout: float) -> int:
    """The child's exit status (as subprocess gives it); killed, -9, once `timeout` seconds have passed."""
    timer = threading.Timer(timeout, lambda: os.kill(pid, 9))
    timer.start()
    try:
        return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
    finally:
        timer.cancel()


def _child(request: dict) -> None:
    code = 1
    try:
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        sys.path[:0] = [p for p in request["env"].get("PYTHONPATH", "").split(os.pathsep) if p]
        for fd, name in ((1, "stdout"), (2, "stderr")):
            target = os.open(request[name], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            os.dup2(target, fd)
            os.close(target)
        from mkdocs.__main__ import cli

        sys.argv = ["mkdocs", *request["args"]]
        cli.main(args=request["args"], prog_name="mkdocs")  # standalone: ends with SystemExit
        code = 0
    except SystemExit as end:
        code = end.code if isinstance(end.code, int) else (0 if end.code is None else 1)
    except BaseException:  # noqa: BLE001 (reported in the build's stderr, as a crashed process would)
        import traceback

        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


if __name__ == "__main__" and sys.argv[1:] == ["--serve"]:
    _serve()
