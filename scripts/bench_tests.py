"""How long `make test` takes, and where the time goes.

`python scripts/bench_tests.py` (part of `make bench`, which has built the site already, so the
machine is warm: venv, node_modules, Chromium, figures and the site's caches in place) runs
`make test` once, with pytest's `--durations` on, and writes docs/bench/tests.md: the wall time of
the whole run against the target (issue 15: <= 4 min on a warm machine), the CPU time of every
process it ran, the load average around it (the machine may be shared), and the slowest tests.

It measures; it does not skip or shorten anything `make test` runs.
"""

from __future__ import annotations

import os
import re
import resource
import subprocess
import sys
import time
from pathlib import Path

from optimessay.files import write_atomic

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "docs" / "bench" / "tests.md"
TARGET_SECONDS = 240.0
SLOWEST = 12


def main() -> int:
    load_before = os.getloadavg()[0]
    env = {**os.environ, "PYTEST_ADDOPTS": (os.environ.get("PYTEST_ADDOPTS", "") + f" --durations={SLOWEST}").strip()}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    result = subprocess.run(["make", "--no-print-directory", "test"], cwd=ROOT, env=env, capture_output=True,
                            text=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    # every process the run started and waited for (pytest's workers, Chromium, node, builds, kernels)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    load_after = os.getloadavg()[0]
    output = result.stdout + result.stderr
    durations = re.findall(r"^([\d.]+)s (call|setup|teardown)\s+(\S+)", output, re.MULTILINE)
    summary = re.findall(r"^=+ (.*(?:passed|failed).*) =+$", output, re.MULTILINE)
    verdict = "within" if wall <= TARGET_SECONDS else "**over**"
    lines = [
        f"`make test` measured by `scripts/bench_tests.py`: one run on {os.cpu_count()} cores, load "
        f"average {load_before:.1f} before and {load_after:.1f} after (a shared machine's other work is "
        "in the wall time).",
        "",
        "| measure | value | target | |",
        "|---|--:|--:|---|",
        f"| `make test`, wall | {wall:.0f} s | <= {TARGET_SECONDS:.0f} s | {verdict} |",
        f"| CPU, user + sys of every process it ran | {cpu:.0f} s | | {cpu / wall:.2f} cores busy on average |",
        f"| result | {'passed' if result.returncode == 0 else 'FAILED (exit ' + str(result.returncode) + ')'} "
        f"| | {summary[-1] if summary else ''} |",
        "",
        f"Slowest {SLOWEST} test phases (pytest --durations, seconds inside a worker):",
        "",
        "| seconds | phase | test |",
        "|--:|---|---|",
        *[f"| {float(seconds):.1f} | {phase} | `{test}` |" for seconds, phase, test in durations[:SLOWEST]],
        "",
    ]
    text = "\n".join(lines)
    print(text)
    write_atomic(OUTPUT, text)
    return 0 if result.returncode == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
