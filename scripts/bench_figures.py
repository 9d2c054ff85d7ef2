"""Benchmark: `make figures` from scratch and with nothing to do, and the size of every animation.

Copies the code (optimessay/ and scripts/) into a temporary folder, so that edits to the shared
working tree during the benchmark cannot change what is measured, then builds the whole catalog from
scratch (``build_figures.py --out TMP``), at once again with nothing changed, then from scratch into a
second folder, and reports:

- wall time of each clean build (budget: 90 s on 2 cores) and the CPU time its workers used (on a
  shared machine the wall time also measures everyone else; CPU seconds / cores is what the build
  would take alone), with the load average seen at the start;
- build 2 starts with the experiment caches (.cache/results, .cache/networks of the frozen copy)
  removed again; it keeps .cache/figure-timings.txt, build 1's CPU seconds per figure, so it shows
  the order a rebuild uses (longest first by measured time) where build 1 shows the catalog's costs;
- whether the two clean builds are byte-identical (every figure with its stamp, and the manifest;
  figures whose key differs between the builds, which cannot happen with the frozen copy, would be
  left out and counted);
- wall time of the no-change run (budget: 3 s).
- the size of each animation file (budget: 300 KB each) and the total size of the figures.

Prints a markdown table and writes it to docs/bench/figures.md (through a temporary file).

    .venv/bin/python scripts/bench_figures.py [--jobs N]
"""

import argparse
import datetime
import filecmp
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from optimessay.files import write_atomic

ROOT = Path(__file__).resolve().parent.parent
BUILD = ROOT / "scripts" / "build_figures.py"
OUT = ROOT / "docs" / "bench" / "figures.md"
BUDGET_FULL, BUDGET_NOOP, BUDGET_FILE = 90.0, 3.0, 300 * 1024


def freeze_code(dest: Path) -> Path:
    """Copy the code the build reads into ``dest``; returns the copied build script."""
    for part in ("optimessay", "scripts"):
        shutil.copytree(ROOT / part, dest / part, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    return dest / "scripts" / BUILD.name


def run_build(build: Path, out: Path, jobs: int, *extra: str) -> tuple[float, float, str]:
    """(wall seconds, CPU seconds of the build and its workers, stdout) of one build."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    env = {**os.environ, "PYTHONPATH": str(build.parent.parent)}  # the frozen copy, not the live tree
    result = subprocess.run([sys.executable, str(build), "--out", str(out), "--jobs", str(jobs), "--no-progress",
                             "--timings", *extra], capture_output=True, text=True, cwd=build.parent.parent, env=env)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if result.returncode != 0:
        sys.stderr.write(result.stdout + result.stderr)
        raise SystemExit(f"the figure build failed (exit {result.returncode})")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, result.stdout


def identical(a: Path, b: Path) -> tuple[bool, list[str], int, list[str]]:
    """Compare two builds figure by figure: (all equal, differing files, figures compared, figures
    skipped because their keys differ)."""
    import json

    differ, compared, skipped = [], 0, []
    for stamp_a in sorted((a / ".stamps").glob("*.json")):
        stamp_b = b / ".stamps" / stamp_a.name
        sa = json.loads(stamp_a.read_text())
        sb = json.loads(stamp_b.read_text()) if stamp_b.is_file() else {}
        if sa.get("key") != sb.get("key"):
            skipped.append(stamp_a.stem)
            continue
        compared += 1
        for rel in [f".stamps/{stamp_a.name}", *sa["files"].values()]:
            if not filecmp.cmp(a / rel, b / rel, shallow=False):
                differ.append(rel)
    if not skipped and not filecmp.cmp(a / "manifest.json", b / "manifest.json", shallow=False):
        differ.append("manifest.json")
    return not differ, differ, compared, skipped


def kb(n: int) -> str:
    return f"{n / 1024:.0f} KB"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="figures-bench-") as tmp:
        one, two = Path(tmp) / "one", Path(tmp) / "two"
        build = freeze_code(Path(tmp) / "src")
        print("clean build 1 ...", flush=True)
        wall1, cpu1, log1 = run_build(build, one, args.jobs)
        print("no-change build ...", flush=True)
        wall0, _, log0 = run_build(build, one, args.jobs)
        print("clean build 2 ...", flush=True)
        for cache in ("results", "networks"):  # cold again: experiments that entries share are re-run
            shutil.rmtree(build.parent.parent / ".cache" / cache, ignore_errors=True)
        wall2, cpu2, _ = run_build(build, two, args.jobs)
        same, differ, compared, skipped = identical(one, two)
        videos = sorted(one.glob("*.mp4")) + sorted(one.glob("*.webm"))
        sizes = {p.name: p.stat().st_size for p in videos}
        posters = {p.stem: (one / f"{p.stem}.png").stat().st_size for p in one.glob("*.mp4")}
        total = sum(p.stat().st_size for p in one.iterdir() if p.is_file())
        # NAME.png of each image (its variants NAME.dark.png, NAME.narrow.png, ... are counted apart)
        images = [p for p in one.glob("*.png") if "." not in p.stem and p.stem not in posters]
        variants = [p for p in one.glob("*.png") if "." in p.stem]
        # "timing NAME WALL s (cpu CPU s; ...)" per entry, then "timing total ..."
        timings = sorted(((line.split()[1], float(line.split()[2]), float(line.split()[5]))
                          for line in log1.splitlines()
                          if line.startswith("timing ") and not line.startswith("timing total ")), key=lambda t: -t[2])
        n_numbers = len([p for p in one.glob("*.json") if p.name != "manifest.json"])
    n_figures = len(images) + len(posters)
    cores = os.cpu_count() or 1
    rows = [
        ("clean build 1 (wall)", f"{wall1:.1f} s", f"<= {BUDGET_FULL:.0f} s", "yes" if wall1 <= BUDGET_FULL else "NO"),
        ("clean build 2 (wall)", f"{wall2:.1f} s", f"<= {BUDGET_FULL:.0f} s", "yes" if wall2 <= BUDGET_FULL else "NO"),
        (f"CPU time of build 1 / {cores} cores", f"{cpu1 / cores:.1f} s", f"<= {BUDGET_FULL:.0f} s",
         "yes" if cpu1 / cores <= BUDGET_FULL else "NO"),
        ("no-change run (wall)", f"{wall0:.2f} s", f"<= {BUDGET_NOOP:.0f} s", "yes" if wall0 <= BUDGET_NOOP else "NO"),
        (f"two clean builds byte-identical ({compared} figures compared"
         + (f"; {len(skipped)} left out: their code changed between the builds" if skipped else "") + ")",
         "yes" if same else f"no: {', '.join(differ[:5])}", "yes", "yes" if same else "NO"),
    ]
    for name, size in sizes.items():
        rows.append((f"`{name}`", kb(size), f"<= {kb(BUDGET_FILE)}", "yes" if size <= BUDGET_FILE else "NO"))
    lines = [
        # no heading: docs/verification.md gives each table its heading
        f"`make figures` builds {n_figures + n_numbers} catalog entries: {n_figures} figures ({len(images)} images,"
        f" {len(posters)} animations as MP4 + WebM + poster; {len(variants)} dark and phone variants of them) and"
        f" {n_numbers} sets of numbers, {total / 1024 / 1024:.1f}"
        f" MB in all. Measured {datetime.date.today().isoformat()} on"
        f" {cores} cores ({platform.python_version()}, {args.jobs} worker processes), load average"
        f" {load:.1f} at the start (the machine is shared: wall times include the other processes' work).",
        "",
        "| measure | value | budget | within |",
        "|---|---|---|---|",
        *[f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows],
        "",
        f"Slowest entries of clean build 1 by CPU seconds inside a worker (tuning and sweeps included; wall"
        f" seconds include waiting for the shared machine); all {len(timings)} entries: {sum(t[2] for t in timings):.0f} s"
        " of CPU:",
        "",
        "| entry | CPU seconds | wall seconds |",
        "|---|---|---|",
        *[f"| `{name}` | {cpu:.1f} | {sec:.1f} |" for name, sec, cpu in timings[:10]],
        "",
        "No-change run: `" + log0.strip().splitlines()[-1].split(" -> ")[0] + "`.",
        "",
    ]
    text = "\n".join(lines)
    print(text)
    write_atomic(OUT, text)
    # Wall times are reported but do not fail the benchmark (a loaded shared machine inflates them);
    # a build that is not reproducible, CPU time over budget or a file over budget does.
    checked = [r for r in rows if not r[0].endswith("(wall)")]
    return 0 if all(r[3] == "yes" for r in checked) else 1


if __name__ == "__main__":
    sys.exit(main())
