"""Benchmark: a batched sweep vs the obvious alternative, a Python loop of torch.optim runs.

    .venv/bin/python scripts/bench_sweep.py [--walks 10000] [--steps 500] [--subset 20]

Workload: Adam on Rosenbrock's banana from (-1.5, 2.5), one lr per walk (log-spaced 1e-4 .. 1),
500 steps, float64, every point recorded. The sweep runs all walks as one batch
(``optimessay.sweep.run``); the baseline runs ``torch.optim.Adam`` walk by walk in a Python loop.
The baseline is timed on an evenly spaced subset of the lrs and scaled to all walks, in the same
process, right after the sweep (timings on a shared machine are noisy: the ratio is what counts).
The sweep's final points are checked against the baseline's for the subset.

Prints a markdown table and writes it to docs/bench/sweep.md (via a temporary file and a rename).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import torch
from tqdm import tqdm

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from optimessay import landscapes, sweep, trajectory  # noqa: E402
from optimessay.files import write_atomic  # noqa: E402


def loop_walk(land, lr: float, steps: int) -> torch.Tensor:
    """The obvious way: one torch.optim.Adam run, recording the point before each step."""
    xy = torch.tensor(land.start, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.Adam([xy], lr=lr)
    out = torch.empty(steps + 1, 2, dtype=torch.float64)
    for t in range(steps):
        out[t] = xy.detach()
        loss = land.fn(xy[0], xy[1])
        opt.zero_grad()
        loss.backward()
        opt.step()
    out[steps] = xy.detach()
    return out


def timed(fn, repeat: int):
    """(median seconds, last result) over ``repeat`` calls."""
    times, result = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--walks", type=int, default=10_000)
    parser.add_argument("--steps", type=int, default=500)
    parser.add_argument("--subset", type=int, default=20, help="baseline runs actually timed")
    parser.add_argument("--repeat", type=int, default=3, help="sweep timings (median)")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "bench" / "sweep.md")
    args = parser.parse_args()
    for name in ("walks", "steps", "subset", "repeat"):
        if getattr(args, name) < 1:
            parser.error(f"--{name} must be at least 1, got {getattr(args, name)}")
    n, steps = args.walks, args.steps
    land = landscapes.rosenbrock()
    lrs = torch.logspace(-4, 0, n, dtype=torch.float64)

    # warm-up: the first optimizer construction imports torch._dynamo (~1 s, once per process)
    sweep.run(land, torch.optim.Adam, {"lr": lrs[:4]}, steps=2)
    loop_walk(land, 1e-3, 2)

    # 1. the batched sweep (default: one thread)
    t_sweep, result = timed(lambda: sweep.run(land, torch.optim.Adam, {"lr": lrs}, steps=steps), args.repeat)

    # 1b. the same with torch's own thread count: on a busy machine a second thread often waits for a core
    threads = torch.get_num_threads()
    t_sweep_n, _ = timed(
        lambda: sweep.run(land, torch.optim.Adam, {"lr": lrs}, steps=steps, threads=None), args.repeat
    )

    # 2. the Python loop, on an evenly spaced subset, scaled to all walks
    subset = torch.linspace(0, n - 1, args.subset).round().long().unique().tolist()
    per_run, max_diff = [], 0.0
    for i in tqdm(subset, desc="torch.optim.Adam loop (subset)", unit="run"):
        t0 = time.perf_counter()
        points = loop_walk(land, float(lrs[i]), steps)
        per_run.append(time.perf_counter() - t0)
        diff = (points - result.trajectories[i]).abs().nan_to_num(nan=0.0, posinf=0.0).max()
        max_diff = max(max_diff, float(diff))
    t_loop = statistics.mean(per_run) * n

    # 3. one trajectory.run of the same length (optimessay's Adam)
    import optimessay

    t_traj, _ = timed(lambda: trajectory.run(land, optimessay.Adam, {"lr": 0.01}, steps=steps), 5)

    walk_steps = n * steps
    ratio = t_loop / t_sweep
    rows = [
        ("batched sweep (optimessay.sweep.run, default threads=1)", f"{t_sweep:.2f} s", f"{walk_steps / t_sweep:,.0f}"),
        (f"batched sweep, threads=None (torch's {threads})", f"{t_sweep_n:.2f} s", f"{walk_steps / t_sweep_n:,.0f}"),
        (f"Python loop of torch.optim.Adam (timed {len(subset)} runs, scaled to {n:,})",
         f"{t_loop:,.0f} s", f"{walk_steps / t_loop:,.0f}"),
        (f"one trajectory.run ({steps} steps, optimessay.Adam)", f"{t_traj * 1000:.0f} ms", f"{steps / t_traj:,.0f}"),
    ]
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    lines = [
        f"**{n:,} Adam walks x {steps} steps on Rosenbrock, one lr per walk (1e-4 .. 1), float64, "
        f"every point recorded.**",
        "",
        "| method | time | walk-steps / s |",
        "|---|---:|---:|",
        *[f"| {a} | {b} | {c} |" for a, b, c in rows],
        "",
        f"**Sweep vs loop: {ratio:,.0f}x faster** (target: >= 100x; {t_loop / t_sweep_n:,.0f}x with "
        f"threads=None). "
        f"Sweep: median of {args.repeat} runs; loop: mean of {len(subset)} timed runs x {n:,}.",
        "",
        f"Check: the sweep's walks equal the loop's runs to {max_diff:.1e} (max abs difference over the "
        f"timed subset, {int(result.diverged.sum())} of {n:,} walks diverged and were frozen).",
        "",
        f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"torch {torch.__version__} with {torch.get_num_threads()} threads, load average {load:.1f} "
        f"(a shared machine: absolute times are noisy, the ratio is measured in one process).",
    ]
    table = "\n".join(lines) + "\n"
    print(table)
    write_atomic(args.out, table)
    print(f"wrote {args.out.relative_to(ROOT) if args.out.is_relative_to(ROOT) else args.out}")
    return 0 if ratio >= 100 and max_diff == 0.0 else 1


if __name__ == "__main__":
    sys.exit(main())
