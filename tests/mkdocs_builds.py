"""`mkdocs build` for the tests, without paying MkDocs' start-up on every build.

A test that builds a small site needs what `python -m mkdocs build` gives: a process of its own, with
its own working directory, environment and log. Starting that process imports MkDocs, Material,
mkdocstrings, mkdocs-jupyter and Pygments first: about 3 s of CPU, most of a small build. Here a
fork server (tests/fork_server.py) per test process imports them once; each build is a child forked
from it (the "mkdocs" kind below), which sets its directory and environment and runs MkDocs' command
line, as a fresh process would.

    result = run_mkdocs(["build", "--strict"], cwd=project, env={...})
    result.returncode, result.stdout, result.stderr  # as subprocess.run(..., capture_output=True)
"""

from __future__ import annotations

import atexit
import os
import subprocess
import sys
import tempfile
from pathlib import Path

# what a build would import anyway (the site's plugins and extensions); imported once, by the server
PRELOAD = ("mkdocs.__main__", "mkdocs.commands.build", "mkdocs.config.defaults", "material.plugins.search.plugin",
           "mkdocstrings", "pymdownx.superfences", "pymdownx.snippets", "pymdownx.arithmatex",
           "pygments.lexers.python", "pygments.formatters.html")
# mkdocs-jupyter (0.9 s of CPU to import, more than the rest together) only for the first build of a
# project whose mkdocs.yml uses it (one test's sites): a test process that builds none never imports it
JUPYTER = "mkdocs_jupyter.plugin"

_server = None


def run_mkdocs(args: list[str], cwd: Path, env: dict[str, str], timeout: float = 300) -> subprocess.CompletedProcess:
    """`python -m mkdocs *args` in `cwd` with exactly the environment `env` (PYTHONPATH's folders are put
    first on sys.path, as Python does at start-up). Its exit status and output, as subprocess.run's."""
    global _server
    if _server is None:
        from fork_server import ForkServer

        # under xdist, one server for all the workers of the run (each worker paid the preload list before)
        _server = ForkServer([Path(__file__).parent], [*PRELOAD, "mkdocs_builds"],
                             shared=os.environ.get("PYTEST_XDIST_TESTRUNUID"))
        atexit.register(_server.close)
    with tempfile.TemporaryDirectory() as logs:
        out, err = Path(logs) / "stdout", Path(logs) / "stderr"
        config = Path(cwd) / "mkdocs.yml"
        jupyter = config.is_file() and "mkdocs-jupyter" in config.read_text(encoding="utf-8", errors="replace")
        request = {"kind": "mkdocs", "args": [str(a) for a in args], "cwd": str(cwd), "env": dict(env),
                   "stdout": str(out), "stderr": str(err), "preload": [JUPYTER] if jupyter else []}
        answer = _server.run(request, timeout)
        returncode = answer["result"] if answer["result"] is not None else answer["status"] or 1
        stderr = err.read_text(errors="replace") if err.exists() else ""
        return subprocess.CompletedProcess(["mkdocs", *args], returncode,
                                           out.read_text(errors="replace") if out.exists() else "",
                                           stderr + answer["error"])


def build(request: dict) -> int:
    """In a child of the fork server: the build's exit status (its output goes to the request's files)."""
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
    try:
        cli.main(args=request["args"], prog_name="mkdocs")  # standalone: ends with SystemExit
    except SystemExit as end:
        return end.code if isinstance(end.code, int) else (0 if end.code is None else 1)
    except BaseException:  # noqa: BLE001 (in the build's stderr, as a crashed process would print it)
        import traceback

        traceback.print_exc()
        return 1
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
    return 0


KINDS = {"mkdocs": build}
