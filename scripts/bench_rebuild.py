"""How long the site takes to build: cold, with nothing changed, after editing one page, and how
soon `mkdocs serve` shows an edit.

`python scripts/bench_rebuild.py` (part of `make bench`) works on a copy of the site's sources in a
temporary folder (docs/, mkdocs.yml, the package, node_modules linked), so its edits never touch
the working tree:

- **cold**: no `.cache/` (every notebook runs, in parallel; every formula goes through KaTeX);
- **no change**: `mkdocs build --strict` again, 3 times (median); also `make site`'s other step,
  the figure build with nothing to do (run in the working tree, where `make site` runs it, and only
  when `build_figures.py --list` reports every figure up to date);
- **one page edited**: a sentence appended to a markdown page, then a build (3 edits, median);
- **the caches change nothing**: the last edited build against a build of the same sources with
  the rebuild caches off (`OPTIMESSAY_BUILD_CACHE=0`, docs/hooks/build_cache.py), every file byte
  for byte; that build's time is the nothing-changed build without those caches;
- **serve**: `mkdocs serve` on a free port; a sentence appended to a page; the time until the
  served page shows it (3 edits, median). (`mkdocs serve --dirty` is not an option: it warns that
  a dirty build is inaccurate, and the site's `strict: true` turns that warning into an error.)

Targets (issue 15): no-change `make site` <= 8 s, one page edited <= 8 s, serve reload <= 5 s.
Wall times on a shared machine include the other processes' work; the table gives the load
average and each build's CPU time beside its wall time. Written to docs/bench/rebuild.md.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from optimessay.files import write_atomic

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "docs" / "bench" / "rebuild.md"
TARGET_NOOP = 8.0
TARGET_EDIT = 8.0
TARGET_SERVE = 5.0
EDITED_PAGE = "pitfalls.md"
REPEATS = 3
ENV = {**os.environ, "NO_MKDOCS_2_WARNING": "1", "PYTHONDONTWRITEBYTECODE": "1"}


def copy_sources(into: Path) -> None:
    for name in ("docs", "optimessay", "scripts"):
        shutil.copytree(ROOT / name, into / name, symlinks=True,
                        ignore=shutil.ignore_patterns("__pycache__", "*.tmp"))
    for name in ("mkdocs.yml", "pyproject.toml", "package.json", "package-lock.json"):
        shutil.copy2(ROOT / name, into / name)
    (into / "node_modules").symlink_to(ROOT / "node_modules")


def timed(command: list[str], cwd: Path, env: dict | None = None) -> tuple[float, float, str]:
    """(wall seconds, CPU seconds of the children, stderr) of a command that must succeed."""
    before = os.times()
    start = time.perf_counter()
    result = subprocess.run(command, cwd=cwd, env={**ENV, **(env or {})}, capture_output=True, text=True)
    wall = time.perf_counter() - start
    after = os.times()
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{result.stderr[-3000:]}")
    cpu = (after.children_user - before.children_user) + (after.children_system - before.children_system)
    return wall, cpu, result.stderr


def build(project: Path, *options: str, env: dict | None = None) -> tuple[float, float, str]:
    return timed([sys.executable, "-m", "mkdocs", "build", "--strict", *options], project, env)


def differing_files(one: Path, other: Path) -> tuple[int, list[str]]:
    """(number of files in `one`, names of the files that differ or exist on one side only)."""
    def files(site: Path) -> dict[str, Path]:
        return {str(p.relative_to(site)): p for p in site.rglob("*") if p.is_file()}

    ours, theirs = files(one), files(other)
    differ = sorted(set(ours) ^ set(theirs))
    differ += sorted(name for name in set(ours) & set(theirs) if ours[name].read_bytes() != theirs[name].read_bytes())
    return len(ours), differ


def append_sentence(page: Path, marker: str) -> None:
    text = page.read_text(encoding="utf-8")
    page.write_text(text.rstrip("\n") + f"\n\nBenchmark edit {marker}.\n", encoding="utf-8")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fetch(url: str) -> str:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.read().decode("utf-8", "replace")
    except OSError:
        return ""


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds a running process has used (Linux's /proc), None elsewhere."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def serve_reload_times(project: Path, *options: str) -> list[tuple[float, float | None]]:
    """(seconds from an edit of a page to `mkdocs serve OPTIONS` serving the edited page, CPU
    seconds the server used meanwhile: its rebuild), per edit."""
    port = free_port()
    url = f"http://127.0.0.1:{port}/{EDITED_PAGE.removesuffix('.md')}/"
    log = tempfile.TemporaryFile()
    server = subprocess.Popen([sys.executable, "-m", "mkdocs", "serve", *options, "--dev-addr", f"127.0.0.1:{port}"],
                              cwd=project, env=ENV, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.perf_counter() + 600
        while "Benchmark edit" not in fetch(url) and time.perf_counter() < deadline:
            if server.poll() is not None:
                log.seek(0)
                raise RuntimeError(f"mkdocs serve stopped:\n{log.read().decode()[-3000:]}")
            time.sleep(0.2)  # the first build (the page already holds the earlier edits)
        times = []
        for number in range(REPEATS):
            marker = f"serve-{number}-{time.time_ns()}"
            time.sleep(1.0)  # mkdocs serve waits for quiet before it rebuilds; start from quiet
            cpu = cpu_seconds(server.pid)
            start = time.perf_counter()
            append_sentence(project / "docs" / EDITED_PAGE, marker)
            while marker not in fetch(url):
                if time.perf_counter() - start > 300:
                    raise RuntimeError("mkdocs serve did not show the edit within 300 s")
                time.sleep(0.05)
            wall = time.perf_counter() - start
            after = cpu_seconds(server.pid)
            times.append((wall, after - cpu if cpu is not None and after is not None else None))
        return times
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()


def figures_noop() -> tuple[float, float] | None:
    """The other step of `make site`: the figure build with nothing to do, in the working tree;
    None (not measured) when some figure is stale there (the run would draw it)."""
    listing = subprocess.run([sys.executable, "scripts/build_figures.py", "--list"], cwd=ROOT, env=ENV,
                             capture_output=True, text=True)
    if listing.returncode != 0 or "stale" in listing.stdout or "missing" in listing.stdout:
        return None
    wall, cpu, _ = timed([sys.executable, "scripts/build_figures.py", "--no-progress"], ROOT)
    return wall, cpu


def main() -> int:
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="optimessay-rebuild-") as folder:
        project = Path(folder)
        copy_sources(project)
        cold_wall, cold_cpu, cold_log = build(project)
        executed = re.search(r"executed (\d+) notebook\(s\) in parallel in ([\d.]+) s", cold_log)
        noop = [build(project)[:2] for _ in range(REPEATS)]
        figures = figures_noop()
        edits = []
        for number in range(REPEATS):
            append_sentence(project / "docs" / EDITED_PAGE, f"build-{number}")
            edits.append(build(project)[:2])
        uncached = build(project, "-d", str(project / "site-uncached"), env={"OPTIMESSAY_BUILD_CACHE": "0"})[:2]
        compared, differ = differing_files(project / "site", project / "site-uncached")
        serve = serve_reload_times(project)

    def median(pairs, index):
        return statistics.median(p[index] for p in pairs)

    noop_wall, noop_cpu = median(noop, 0), median(noop, 1)
    serve_wall = statistics.median(wall for wall, _ in serve)
    serve_cpu = [cpu for _, cpu in serve if cpu is not None]
    make_site = noop_wall + (figures[0] if figures else 0.0)
    rows = [
        ("cold build (no .cache/: notebooks run, math rendered)", f"{cold_wall:.1f} s", f"{cold_cpu:.1f} s", "",
         ""),
        ("  of which: the notebooks, run in parallel" if executed else "  notebooks",
         f"{float(executed.group(2)):.1f} s ({executed.group(1)} notebooks)" if executed else "-", "", "", ""),
        ("`mkdocs build --strict`, nothing changed (median of 3)", f"{noop_wall:.1f} s", f"{noop_cpu:.1f} s", "", ""),
        ("  the same, rebuild caches off (`OPTIMESSAY_BUILD_CACHE=0`, one run)", f"{uncached[0]:.1f} s",
         f"{uncached[1]:.1f} s", "", ""),
        ("figure build, nothing changed", f"{figures[0]:.1f} s" if figures else
         "not measured (figures stale in the working tree)", f"{figures[1]:.1f} s" if figures else "", "", ""),
        ("**`make site`, nothing changed** (the build and the figure build)", f"{make_site:.1f} s",
         f"{noop_cpu + (figures[1] if figures else 0.0):.1f} s", f"<= {TARGET_NOOP:.0f} s",
         verdict(make_site, TARGET_NOOP)),
        (f"**one page edited** (`{EDITED_PAGE}`), build (median of 3)", f"{median(edits, 0):.1f} s",
         f"{median(edits, 1):.1f} s", f"<= {TARGET_EDIT:.0f} s", verdict(median(edits, 0), TARGET_EDIT)),
        ("the edited build against one without the caches", f"{compared} files", "", "byte-identical",
         "identical" if not differ else f"**{len(differ)} differ**: {', '.join(differ[:5])}"),
        ("**`mkdocs serve`: edit to page served** (median of 3; CPU: the server's rebuild)",
         f"{serve_wall:.1f} s", f"{statistics.median(serve_cpu):.1f} s" if serve_cpu else "",
         f"<= {TARGET_SERVE:.0f} s", verdict(serve_wall, TARGET_SERVE)),
    ]
    text = "\n".join([
        f"Site build times measured by `scripts/bench_rebuild.py` on a copy of the sources, "
        f"{os.cpu_count()} cores shared with other work (load average {load:.1f} at the start): wall "
        "time, and the CPU time of the build processes (what an idle machine's wall time would be "
        "near, for a build that runs on one core).",
        "",
        "| measure | wall | CPU | target | |",
        "|---|--:|--:|--:|---|",
        *[f"| {a} | {b} | {c} | {d} | {e} |" for a, b, c, d, e in rows],
        "",
        f"Single runs: no change {', '.join(f'{w:.1f}' for w, _ in noop)} s; one page edited "
        f"{', '.join(f'{w:.1f}' for w, _ in edits)} s; serve {', '.join(f'{t:.1f}' for t, _ in serve)} s.",
        "",
    ])
    print(text)
    write_atomic(OUTPUT, text)
    return 0


def verdict(value: float, target: float) -> str:
    return "within" if value <= target else "**over**"


if __name__ == "__main__":
    sys.exit(main())
