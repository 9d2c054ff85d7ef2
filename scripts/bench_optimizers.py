"""Benchmark: optimessay's optimizers vs torch.optim, median step time, as ratios from the same run.

Eager: for SGD (momentum 0.9), RMSprop and Adam, on (a) 100 tensors of 10.06M elements in total
(50 of 448x448 and 50 of 448) and (b) one tensor of 10M elements, float32: the median time of one
`step()` for optimessay, torch's default (the for-loop on CPU) and torch with `foreach=False`.

Compiled: for SGD (momentum 0.9), RMSprop, Adam, AdamW and Adagrad, on (a) 20 tensors of 10.01M
elements (10 of 1000x1000 and 10 of 1000: fewer tensors than above because a cold inductor compile
takes minutes for 100) and (b) one tensor of 10M elements: `torch.compile(opt.step)` of optimessay's
and of torch's optimizer, torch's fused CPU kernel (`fused=True`; SGD, Adam, AdamW and Adagrad have
one) and, as the baseline, torch's eager for-loop (`foreach=False`). Each compiled step is compiled
during the warm-up steps, so only the compiled code is timed.

In each comparison the implementations are interleaved step by step in a shuffled order, and each
ratio is the median over rounds of the per-round ratio. By default each step is timed in process
CPU time on one torch thread: on a shared, loaded machine wall-clock times mostly measure the other
processes (use `--clock wall --threads 2` to measure those instead). Prints markdown tables and
writes them to docs/bench/optimizers.md (through a temporary file).

    .venv/bin/python scripts/bench_optimizers.py [--rounds 40] [--threads 1] [--clock process|wall]
"""

import argparse
import datetime
import logging
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

COMPILED_OPTIMIZERS = {**OPTIMIZERS, "AdamW": dict(lr=1e-3), "Adagrad": dict(lr=1e-3)}
COMPILED_SHAPES = {
    "20 tensors, 10.01M elements": [(1000, 1000)] * 10 + [(1000,)] * 10,
    "1 tensor, 10M elements": [(10_000_000,)],
}
HAS_FUSED = {"SGD", "Adam", "AdamW", "Adagrad"}  # torch 2.13's fused CPU kernels
BASELINE = "torch for-loop (eager)"
WARMUP = 3  # untimed steps first: the compiled implementations compile here (two graphs at most)
COMPILED = ["optimessay compiled", "torch compiled", "torch fused", BASELINE]


def make(impl: str, name: str, shapes, seed: int = 0):
    gen = torch.Generator().manual_seed(seed)
    params = [torch.randn(s, generator=gen).requires_grad_() for s in shapes]
    for p in params:
        p.grad = torch.randn(p.shape, generator=gen) * 1e-2
    kwargs = COMPILED_OPTIMIZERS[name]
    if impl.startswith("optimessay"):
        return getattr(optimessay, name)(params, **kwargs)
    if impl in ("torch default", "torch compiled"):
        return getattr(torch.optim, name)(params, **kwargs)
    if impl == "torch fused":
        return getattr(torch.optim, name)(params, **kwargs, fused=True)
    return getattr(torch.optim, name)(params, **kwargs, foreach=False)


def timed_rounds(steps: dict, rounds: int, clock, warmup: int = WARMUP) -> dict:
    """Step every implementation `warmup` times (compiling the compiled ones), then `rounds` times
    interleaved in a shuffled order; the times of each implementation's steps, in seconds."""
    for step in steps.values():
        for _ in range(warmup):
            step()
    times = {impl: [] for impl in steps}
    order = list(steps)
    for _ in range(rounds):
        random.shuffle(order)
        for impl in order:
            start = clock()
            steps[impl]()
            times[impl].append(clock() - start)
    return times


def ratio(times: dict, a: str, b: str) -> float:
    """The median over rounds of the per-round time ratio a / b."""
    return statistics.median(x / y for x, y in zip(times[a], times[b], strict=True))


def measure(name: str, shapes, rounds: int, clock) -> dict:
    times = timed_rounds({impl: make(impl, name, shapes).step for impl in IMPLEMENTATIONS}, rounds, clock)
    return {
        "ms": {impl: 1e3 * statistics.median(t) for impl, t in times.items()},
        "vs default": ratio(times, "optimessay", "torch default"),
        "vs for-loop": ratio(times, "optimessay", "torch foreach=False"),
        "noise": ratio(times, "torch default", "torch foreach=False"),
    }


def measure_compiled(name: str, shapes, rounds: int, clock) -> dict:
    torch._dynamo.reset()  # a fresh compile cache: AdamW shares Adam's step code, recompiles would pile up
    opts = {impl: make(impl, name, shapes) for impl in COMPILED if impl != "torch fused" or name in HAS_FUSED}
    steps = {impl: torch.compile(opt.step) if impl.endswith("compiled") else opt.step for impl, opt in opts.items()}
    times = timed_rounds(steps, rounds, clock)
    # every implementation took the same steps on the same gradients: the compiled ones must agree
    params = {impl: [p for g in opt.param_groups for p in g["params"]] for impl, opt in opts.items()}
    diff = max((p - q).abs().max().item()
               for p, q in zip(params["optimessay compiled"], params["torch compiled"], strict=True))
    return {
        "ms": {impl: 1e3 * statistics.median(t) for impl, t in times.items()},
        "vs torch compiled": ratio(times, "optimessay compiled", "torch compiled"),
        "vs fused": ratio(times, "optimessay compiled", "torch fused") if "torch fused" in times else None,
        "vs eager": ratio(times, "optimessay compiled", BASELINE),
        "torch vs eager": ratio(times, "torch compiled", BASELINE),
        "diff": diff,
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
    torch._logging.set_logs(dynamo=logging.ERROR)  # dynamo's warnings (e.g. torch's own graph breaks)
    compiled_rows = []
    jobs = [(name, label) for name in COMPILED_OPTIMIZERS for label in COMPILED_SHAPES]
    for name, label in tqdm(jobs, desc="bench compiled optimizers (compiling takes minutes)", file=sys.stderr):
        result = measure_compiled(name, COMPILED_SHAPES[label], args.rounds, clock)
        compiled_rows.append((name, label, result))

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
    compiled_lines = [
        f"| optimizer | parameters | optimessay compiled (ms) | torch compiled (ms) | torch fused (ms) "
        f"| {BASELINE} (ms) | optimessay compiled / torch compiled | optimessay compiled / torch fused "
        f"| optimessay compiled / {BASELINE} | torch compiled / {BASELINE} | max \\|Δθ\\| vs torch compiled |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, label, r in compiled_rows:
        ms = r["ms"]
        fused_ms = f"{ms['torch fused']:.2f}" if "torch fused" in ms else "–"
        vs_fused = f"{r['vs fused']:.3f}" if r["vs fused"] is not None else "– (no fused kernel)"
        compiled_lines.append(
            f"| {name}{' (momentum 0.9)' if name == 'SGD' else ''} | {label} | {ms['optimessay compiled']:.2f} "
            f"| {ms['torch compiled']:.2f} | {fused_ms} | {ms[BASELINE]:.2f} | {r['vs torch compiled']:.3f} "
            f"| {vs_fused} | {r['vs eager']:.3f} | {r['torch vs eager']:.3f} | {r['diff']:.1e} |"
        )
    worst_compiled = max(r["vs torch compiled"] for _, _, r in compiled_rows)
    text = "\n".join([
        # no heading: docs/verification.md gives each table its heading
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
        "## Compiled: `torch.compile(opt.step)`",
        "",
        f"The same measurement for compiled steps (inductor, the default backend; compiled during {WARMUP} warm-up "
        "steps, so only the compiled code is timed) against torch's compiled step, torch's fused CPU kernel "
        f"(`fused=True`) and, as the baseline, torch's eager for-loop (`foreach=False`); {args.rounds} rounds, "
        "the implementations interleaved in a shuffled order, each ratio the median of the per-step ratios "
        "(below 1: the first is faster). Fewer, larger tensors than above: a cold inductor compile of 100 "
        "tensors takes minutes on this machine. The last column checks that the two compiled steps computed "
        "the same thing: after the same steps on the same gradients, the largest parameter difference "
        "(a compiled step is within float32 rounding of the eager one, see tests/test_compile.py).",
        "",
        *compiled_lines,
        "",
        f"Largest ratio of optimessay's compiled step against torch's compiled step: **{worst_compiled:.3f}**.",
        "",
    ])
    print(text)
    write_atomic(OUT, text)
    print(f"wrote {OUT.relative_to(ROOT)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
