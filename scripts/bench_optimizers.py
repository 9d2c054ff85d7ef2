"""Benchmark: optimessay's optimizers vs torch.optim, median step time, as ratios from the same run.

For SGD (momentum 0.9), RMSprop and Adam, on (a) 100 tensors of 10.06M elements in total
(50 of 448x448 and 50 of 448) and (b) one tensor of 10M elements, float32: the median time of one
`step()` for optimessay, torch's default (the for-loop on CPU) and torch with `foreach=False`.
The three are interleaved step by step in a shuffled order, and each ratio is the median over
rounds of the per-round ratio. By default each step is timed in process CPU time on one torch thread:
on a shared, loaded machine wall-clock times mostly measure the other processes (use
`--clock wall --threads 2` to measure those instead). Prints a markdown table and writes it to
docs/bench/optimizers.md (through a temporary file).

    .venv/bin/python scripts/bench_optimizers.py [--rounds 40] [--threads 1] [--clock process|wall]
"""

import argparse
import datetime
import os
import platform
import random
import statistics
import sys
import time
from pathlib import Path

import torch
from tqdm import tqdm

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
import optimessay  # noqa: E402  (the checkout, not an installed copy)
from optimessay.files import write_atomic  # noqa: E402

OUT = ROOT / "docs" / "bench" / "optimizers.md"
OPTIMIZERS = {"SGD": dict(lr=1e-3, momentum=0.9), "RMSprop": dict(lr=1e-3), "Adam": dict(lr=1e-3)}
SHAPES = {
    "100 tensors, 10.06M elements": [(448, 448)] * 50 + [(448,)] * 50,
    "1 tensor, 10M elements": [(10_000_000,)],
}
IMPLEMENTATIONS = ["optimessay", "torch default", "torch foreach=False"]


def make(impl: str, name: str, shapes, seed: int = 0):
    gen = torch.Generator().manual_seed(seed)
    params = [torch.randn(s, generator=gen).requires_grad_() for s in shapes]
    for p in params:
        p.grad = torch.randn(p.shape, generator=gen) * 1e-2
    kwargs = OPTIMIZERS[name]
    if impl == "optimessay":
        return getattr(optimessay, name)(params, **kwargs)
    if impl == "torch default":
        return getattr(torch.optim, name)(params, **kwargs)
    return getattr(torch.optim, name)(params, **kwargs, foreach=False)


def measure(name: str, shapes, rounds: int, clock, warmup: int = 3) -> dict:
    opts = {impl: make(impl, name, shapes) for impl in IMPLEMENTATIONS}
    for opt in opts.values():
        for _ in range(warmup):
            opt.step()
    times = {impl: [] for impl in IMPLEMENTATIONS}
    order = list(IMPLEMENTATIONS)
    for _ in range(rounds):
        random.shuffle(order)
        for impl in order:
            start = clock()
            opts[impl].step()
            times[impl].append(clock() - start)
    ours = times["optimessay"]
    return {
        "ms": {impl: 1e3 * statistics.median(t) for impl, t in times.items()},
        "vs default": statistics.median(a / b for a, b in zip(ours, times["torch default"], strict=True)),
        "vs for-loop": statistics.median(a / b for a, b in zip(ours, times["torch foreach=False"], strict=True)),
        "noise": statistics.median(
            a / b for a, b in zip(times["torch default"], times["torch foreach=False"], strict=True)
        ),
    }


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=40, help="timed steps per implementation (default 40)")
    parser.add_argument("--threads", type=int, default=1, help="torch intra-op threads (default 1)")
    parser.add_argument("--clock", choices=["process", "wall"], default="process",
                        help="process CPU time (default; robust to other processes) or wall-clock time")
    args = parser.parse_args()
    if args.rounds < 5:
        parser.error(f"--rounds must be at least 5, got {args.rounds}")
    if args.threads < 1:
        parser.error(f"--threads must be at least 1, got {args.threads}")
    torch.set_num_threads(args.threads)
    clock = time.process_time if args.clock == "process" else time.perf_counter
    random.seed(0)
    rows = []
    jobs = [(name, label) for name in OPTIMIZERS for label in SHAPES]
    for name, label in tqdm(jobs, desc="bench optimizers", file=sys.stderr):
        result = measure(name, SHAPES[label], args.rounds, clock)
        rows.append((name, label, result))

    machine = (
        f"{cpu_name()}, {os.cpu_count()} logical cores, torch threads {torch.get_num_threads()}; "
        f"Python {platform.python_version()}, torch {torch.__version__}, {platform.system()} {platform.release()}"
    )
    lines = [
        "| optimizer | parameters | optimessay (ms) | torch default (ms) | torch foreach=False (ms) "
        "| ratio vs default | ratio vs foreach=False | default / foreach=False (noise) |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name, label, r in rows:
        ms = r["ms"]
        lines.append(
            f"| {name}{' (momentum 0.9)' if name == 'SGD' else ''} | {label} | {ms['optimessay']:.2f} "
            f"| {ms['torch default']:.2f} | {ms['torch foreach=False']:.2f} | {r['vs default']:.3f} "
            f"| {r['vs for-loop']:.3f} | {r['noise']:.3f} |"
        )
    worst = max(r["vs default"] for _, _, r in rows)
    text = "\n".join([
        "# Optimizer step time: optimessay vs torch.optim",
        "",
        f"Measured {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC by "
        "`scripts/bench_optimizers.py` on: " + machine + ".",
        "",
        f"float32 parameters with fixed gradients; median {args.clock} time "
        f"({'CPU time of the process' if args.clock == 'process' else 'wall clock'}) of {args.rounds} `step()` "
        "calls per implementation, "
        "the three implementations interleaved in a shuffled order; each ratio is the median of the per-step "
        "ratios (below 1: optimessay is faster). On CPU torch's default is its for-loop implementation, so the "
        "last column (two runs of the same torch code) shows the measurement noise.",
        "",
        *lines,
        "",
        f"Largest ratio against torch's default: **{worst:.3f}** (target: at most 1.05).",
        "",
    ])
    print(text)
    write_atomic(OUT, text)
    print(f"wrote {OUT.relative_to(ROOT)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
