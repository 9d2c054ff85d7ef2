"""The training loop of the network experiments, the lr tuning step, and a quiet-CPU context.

:func:`train` runs minibatch training for a number of epochs and returns a :class:`Run` (losses per
epoch, test accuracy, per-class losses, timings) — results as data, no plotting. :func:`tune_lr`
picks the learning rate: it is the one step of the experiments that decides which lr each optimizer
gets, so it is one function, swappable for the site's published protocol.
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

from .data import Task


@contextlib.contextmanager
def quiet_cpu(threads: int = 1) -> Iterator[None]:
    """Run the block with ``torch.set_num_threads(threads)`` and ``torch.set_flush_denormal(True)``,
    then restore both. Measured: denormal floats made runs that reach tiny losses 20-50× slower, and
    results in chaotic regimes change with the thread count."""
    old_threads = torch.get_num_threads()
    torch.set_num_threads(threads)
    flushed = torch.set_flush_denormal(True)
    try:
        yield
    finally:
        torch.set_num_threads(old_threads)
        if flushed:
            torch.set_flush_denormal(False)


@dataclass
class Run:
    """One training run: ``losses[e]`` is the mean training loss (cross-entropy) over the whole
    training set after epoch ``e`` (``losses[0]``: before training, so ``len(losses) == epochs + 1``);
    ``class_losses[e]`` the same per class (n_classes,), if recorded; test accuracy and loss at the
    end; wall-clock and CPU seconds."""

    optimizer: str
    lr: float
    seed: int
    losses: list[float]
    test_accuracy: float
    test_loss: float
    class_losses: list[list[float]] | None = None
    seconds: float = 0.0
    cpu_seconds: float = 0.0
    diverged: bool = False
    extra: dict = field(default_factory=dict)


def evaluate(model: nn.Module, x: torch.Tensor, y: torch.Tensor, n_classes: int) -> tuple[float, float, list[float]]:
    """(mean loss, accuracy, per-class mean loss) of ``model`` on ``(x, y)``, without gradients. A
    class with no example gets NaN."""
    with torch.no_grad():
        logits = model(x)
        per_example = F.cross_entropy(logits, y, reduction="none")
        accuracy = (logits.argmax(1) == y).double().mean().item()
        sums = torch.zeros(n_classes, dtype=torch.float64).index_add_(0, y, per_example.double())
        counts = torch.bincount(y, minlength=n_classes).double()
        per_class = (sums / counts).tolist()  # 0/0 = NaN for an absent class
    return per_example.double().mean().item(), accuracy, per_class


# --8<-- [start:train]
def train(model: nn.Module, optimizers: Sequence[torch.optim.Optimizer], task: Task, *, epochs: int,
          batch_size: int = 64, seed: int = 0, name: str = "", lr: float = math.nan,
          per_class: bool = False, on_step: Callable[[int], None] | None = None,
          progress: bool = False) -> Run:
    """Minibatch training: each epoch visits the training set once in an order drawn from ``seed``."""
    from tqdm import tqdm

    order_rng = torch.Generator().manual_seed(seed)
    x, y = task.x_train, task.y_train
    start, start_cpu = time.perf_counter(), time.process_time()
    loss0, _, classes0 = evaluate(model, x, y, task.n_classes)
    losses, class_losses = [loss0], [classes0]
    step, diverged = 0, False
    for _ in tqdm(range(epochs), desc=name or "training", leave=False, disable=not progress):
        for batch in torch.randperm(len(y), generator=order_rng).split(batch_size):
            loss = F.cross_entropy(model(x[batch]), y[batch])  # the minibatch loss
            for opt in optimizers:
                opt.zero_grad()
            loss.backward()  # gradients of every parameter
            for opt in optimizers:
                opt.step()  # θ ← θ − lr · P · ĝ, each optimizer on its own parameters
            step += 1
            if on_step is not None:
                on_step(step)
        epoch_loss, _, epoch_classes = evaluate(model, x, y, task.n_classes)
        losses.append(epoch_loss)
        class_losses.append(epoch_classes)
        if not math.isfinite(epoch_loss):  # a diverged run stops; its remaining epochs stay NaN
            diverged = True
            losses += [math.nan] * (epochs + 1 - len(losses))
            break
    test_loss, test_accuracy, _ = evaluate(model, task.x_test, task.y_test, task.n_classes)
    return Run(name, lr, seed, losses, test_accuracy, test_loss, class_losses if per_class else None,
               time.perf_counter() - start, time.process_time() - start_cpu, diverged)
# --8<-- [end:train]


def lr_grid(low: float, high: float, per_decade: int = 2) -> list[float]:
    """Learning rates from ``low`` to ``high`` (inclusive), ``per_decade`` per power of ten,
    geometric, rounded to 3 significant digits."""
    if not 0 < low < high:
        raise ValueError(f"need 0 < low < high, got low={low!r}, high={high!r}")
    n = round(math.log10(high / low) * per_decade)
    return [float(f"{low * (high / low) ** (i / n):.3g}") for i in range(n + 1)]


def score(run: Run, tail: float = 0.25) -> float:
    """The tuning objective: the mean log10 training loss over the last ``tail`` of the epochs
    (averaged, so a run that oscillates cannot win on one lucky epoch); +inf if the run diverged or
    ends above its starting loss."""
    losses = run.losses
    k = max(1, math.ceil(tail * (len(losses) - 1)))
    last = losses[-k:]
    if run.diverged or not all(math.isfinite(v) for v in last) or last[-1] > losses[0]:
        return math.inf
    return sum(math.log10(max(v, 1e-30)) for v in last) / k


def curve_score(losses: Sequence[float], tail: float = 0.25) -> float:
    """:func:`score` of a bare loss curve (``losses[0]`` before training, NaN once diverged)."""
    losses = list(losses)
    return score(Run("", math.nan, 0, losses, math.nan, math.nan, diverged=not all(map(math.isfinite, losses))), tail)


@dataclass
class Tuning:
    """The lr chosen for one optimizer: ``scores[lr]`` (lower is better) for every lr tried;
    ``on_edge``: the winner is still on an edge of the grid after every allowed extension."""

    optimizer: str
    lr: float
    scores: dict[float, float]
    on_edge: bool = False


def tune_lr(run_at: Callable[[float], Run], grid: Sequence[float], *, name: str = "", max_extend: int = 3,
            progress: bool = False) -> Tuning:
    """The best lr of ``grid`` for ``run_at(lr)`` by :func:`score`; if the winner is the grid's first
    or last lr, the grid is extended by one step (its own ratio) on that side, up to ``max_extend``
    times, so the chosen lr is never on the edge of what was tried (unless the extensions run out,
    which the returned scores show)."""
    from tqdm import tqdm

    grid = sorted(grid)
    if len(grid) < 3:
        raise ValueError(f"the lr grid needs at least 3 values, got {list(grid)!r}")
    scores: dict[float, float] = {}
    for lr in tqdm(grid, desc=f"tuning {name}", leave=False, disable=not progress):
        scores[lr] = score(run_at(lr))
    for _ in range(max_extend):
        lrs = sorted(scores)
        best = min(lrs, key=lambda v: (scores[v], v))
        if best == lrs[0]:
            new = float(f"{lrs[0] * lrs[0] / lrs[1]:.3g}")
        elif best == lrs[-1]:
            new = float(f"{lrs[-1] * lrs[-1] / lrs[-2]:.3g}")
        else:
            break
        scores[new] = score(run_at(new))
    lrs = sorted(scores)
    best = min(lrs, key=lambda v: (scores[v], v))
    return Tuning(name, best, {lr: scores[lr] for lr in lrs}, best in (lrs[0], lrs[-1]))


def protocol_tune(run: Callable[[Sequence[float], Sequence[int]], dict], grid: Sequence[float], *,
                  seeds: Sequence[int] = (0,), name: str = "", progress: bool = False) -> Tuning:
    """The lr by the site's published protocol (:func:`optimessay.protocol.tune`): its geometric grid
    (``grid``'s density), extended by a decade while the winner is on an edge, ties to the smaller lr,
    every lr trained with every seed and scored by the median of :func:`curve_score` over the seeds
    (an lr at which any seed diverges is out; a network has no known minimum, so no tolerance).

    ``run(lrs, seeds) -> {(lr, seed): Run}`` trains the pairs (all at once if it can: the protocol asks
    for a whole grid, or a decade's extension, at a time). ``Tuning.scores``: lr -> median score."""
    from optimessay import protocol

    per_decade = max(1, round(1 / math.log10(grid[1] / grid[0]))) if len(grid) > 1 else 2
    lrs = protocol.lr_grid(min(grid), max(grid), per_decade)

    def batch(lrs: list[float], seeds: list[int]) -> dict:
        return {key: r.losses for key, r in run(lrs, seeds).items()}

    result = protocol.tune(None, lrs=lrs, seeds=list(seeds), objective=curve_score, per_decade=per_decade,
                           batch_fn=batch)
    return Tuning(name, result.lr, result.table(), result.on_edge)
