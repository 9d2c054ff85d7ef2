"""The four experiments of the page "From the banana to a network", each returning its results as data.

1. :func:`deep_mlp`: a deep MLP without normalization on digits, every optimizer at its tuned lr,
   several seeds (:class:`Comparison`).
2. :func:`preconditioner_views`: Adam's effective step ``lr·P`` per layer over training, the ε floor,
   and the spectrum of one step of Adam and of Muon on a hidden matrix (:class:`Views`).
3. :func:`invariance`: the inputs rescaled per coordinate, rotated, or both; which optimizer is hurt
   by which (:class:`Invariance`).
4. :func:`imbalance`: heavy-tailed class frequencies, per-class losses (:class:`Comparison` with
   frequency groups).

Each runs inside :func:`~optimessay.networks.train.quiet_cpu` (one thread, denormals flushed, both
restored afterwards) and within a minute of one core with its defaults (1, 3 and 4 in about ten
seconds each); tests call them with tiny sizes. The lr of every optimizer is chosen by one function,
``tune`` (default :func:`optimessay.networks.train.protocol_tune`, the site's protocol: every lr
with every seed, the median score counts), passed in so it can be swapped; ``train.tune_lr`` is a
one-seed stand-alone version. The runs are trained by ``engine``: "batched" (default: every (lr,
seed) pair the tuning asks for at once, :mod:`optimessay.networks.batched`) or "single" (one by one,
:func:`optimessay.networks.train.train`, the loop the page shows).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import torch

from . import data as _data
from . import models as _models
from .train import Run, Tuning, lr_grid, protocol_tune, quiet_cpu, score, train

# lr grids (2 per decade, geometric): the protocol's starting grid, (lowest, highest); it grows by a
# decade on a side while the winner is on that edge, so a grid changes the cost, not the winner's
# place inside what was tried. Plain SGD needs the largest lr (no normalization of the tiny gradients
# of a deep net). GRIDS: for any task; the experiments start from grids around the winners measured
# on this machine (each (lr, seed) run costs CPU time: every lr is trained with every seed).
GRIDS: dict[str, tuple[float, float]] = {
    "SGD": (1e-2, 1.0),
    "Momentum": (1e-3, 1e-1),
    "Adam": (1e-4, 1e-2),
    "AdamW": (1e-4, 1e-2),
    "Muon": (1e-3, 1e-1),
}
DEEP_GRIDS: dict[str, tuple[float, float]] = {
    "SGD": (0.0316, 0.316), "Momentum": (0.00316, 0.0316), "Adam": (1e-3, 1e-2), "AdamW": (1e-3, 1e-2),
    "Muon": (1e-3, 1e-2),
}
INVARIANCE_GRIDS: dict[str, tuple[float, float]] = {  # winners differ between the input transforms
    "SGD": (0.0316, 3.16), "Momentum": (0.00316, 0.316), "Adam": (0.00316, 0.0316), "AdamW": (1e-3, 0.0316),
}
IMBALANCE_GRIDS: dict[str, tuple[float, float]] = {
    "SGD": (0.1, 1.0), "Momentum": (0.01, 0.1), "Adam": (0.00316, 0.0316),
}


def _grids(given: dict | None, defaults: dict[str, tuple[float, float]]) -> dict[str, Sequence[float]]:
    """``given`` (name -> lrs) over ``defaults`` (name -> (low, high), 2 lrs per decade)."""
    return {**{name: lr_grid(*bounds) for name, bounds in defaults.items()}, **(given or {})}


def _mean(values: Sequence[float]) -> float:
    return statistics.fmean(values) if values else math.nan


@dataclass
class Comparison:
    """Optimizers on one task: the lr tuning of each (``tunings[name]``, over every seed) and one
    :class:`Run` per seed at the tuned lr (``runs[name]``: the tuning's own runs at that lr)."""

    task: str
    model: str
    epochs: int
    batch_size: int
    tunings: dict[str, Tuning]
    runs: dict[str, list[Run]]
    groups: list[list[int]] = field(default_factory=list)  # class indices, most frequent group first

    def table(self) -> list[dict]:
        """One row per optimizer: tuned lr, test accuracy (mean, min, max over seeds), final training
        loss (mean), CPU seconds per run (mean; a batched run's share: its batch's time / its size)."""
        rows = []
        for name, runs in self.runs.items():
            accuracies = [r.test_accuracy for r in runs]
            rows.append({
                "optimizer": name, "lr": self.tunings[name].lr, "seeds": len(runs),
                "accuracy_mean": _mean(accuracies), "accuracy_min": min(accuracies), "accuracy_max": max(accuracies),
                "loss_mean": _mean([r.losses[-1] for r in runs]),
                "cpu_seconds": _mean([r.cpu_seconds for r in runs]),
            })
        return rows

    def group_losses(self, name: str) -> list[list[float]]:
        """Mean training loss per frequency group (rows) per epoch (columns), averaged over seeds."""
        out = []
        for group in self.groups:
            curve = []
            for epoch in range(self.epochs + 1):
                per_seed = [_mean([r.class_losses[epoch][k] for k in group]) for r in self.runs[name]
                            if r.class_losses is not None and epoch < len(r.class_losses)]
                curve.append(_mean(per_seed))
            out.append(curve)
        return out

    def numbers(self) -> dict:
        """A flat dict of the results (for a page): ``NAME_lr``, ``NAME_acc`` (percent, mean),
        ``NAME_acc_min``, ``NAME_acc_max``, ``NAME_loss``, ``NAME_cpu`` with NAME the optimizer's name
        in lower case; for grouped tasks also ``NAME_rare_loss``/``NAME_frequent_loss`` (final mean
        loss of the rarest/most frequent group)."""
        out: dict = {"epochs": self.epochs, "batch_size": self.batch_size, "seeds": len(next(iter(self.runs.values())))}
        for row in self.table():
            key = row["optimizer"].lower()
            out[f"{key}_lr"] = row["lr"]
            out[f"{key}_acc"] = 100 * row["accuracy_mean"]
            out[f"{key}_acc_min"] = 100 * row["accuracy_min"]
            out[f"{key}_acc_max"] = 100 * row["accuracy_max"]
            out[f"{key}_loss"] = row["loss_mean"]
            out[f"{key}_cpu"] = row["cpu_seconds"]
            if self.groups:
                curves = self.group_losses(row["optimizer"])
                out[f"{key}_frequent_loss"] = curves[0][-1]
                out[f"{key}_rare_loss"] = curves[-1][-1]
        return out


def compare(task: _data.Task, names: Sequence[str], *, width: int, depth: int, epochs: int, batch_size: int,
            seeds: Sequence[int], grids: dict[str, Sequence[float]] | None = None, per_class: bool = False,
            tune: Callable[..., Tuning] = protocol_tune, engine: str = "batched", progress: bool = False) -> Comparison:
    """Tune each optimizer's lr by ``tune`` over every seed (the protocol: the median over the seeds
    scores an lr), then report every seed's run at the tuned lr.

    ``tune(run, grid, *, seeds, name, progress)`` gets ``run(lrs, seeds) -> {(lr, seed): Run}``, which
    trains every (lr, seed) pair it has not trained yet. ``engine="batched"`` (default) trains those
    pairs as one batched computation (:func:`optimessay.networks.batched.train_many`);
    ``engine="single"`` one by one with :func:`optimessay.networks.train.train` (the loop the page
    shows): the same runs to float rounding, several times slower."""
    from tqdm import tqdm

    from .batched import train_many

    if not seeds:
        raise ValueError("seeds must not be empty")
    if engine not in ("batched", "single"):
        raise ValueError(f"engine must be 'batched' or 'single', got {engine!r}")
    seeds = list(seeds)
    tunings, runs = {}, {}
    for name in tqdm(names, desc=task.name, leave=False, disable=not progress):
        done: dict[tuple[float, int], Run] = {}

        def run(lrs: Sequence[float], run_seeds: Sequence[int], name: str = name, done: dict = done) -> dict:
            todo = [(float(lr), s) for lr in lrs for s in run_seeds if (float(lr), s) not in done]
            if todo and engine == "batched":
                trained = train_many(name, task, [lr for lr, _ in todo], [s for _, s in todo], width=width,
                                     depth=depth, epochs=epochs, batch_size=batch_size, per_class=per_class)
                done.update(zip(todo, trained, strict=True))
            for lr, s in todo if engine == "single" else ():
                model = _models.mlp(task.n_features, task.n_classes, width=width, depth=depth, seed=s)
                done[lr, s] = train(model, _models.optimizers(name, model, lr), task, epochs=epochs,
                                    batch_size=batch_size, seed=s, name=name, lr=lr, per_class=per_class)
            return {(float(lr), s): done[float(lr), s] for lr in lrs for s in run_seeds}

        grid = (grids or {}).get(name) or lr_grid(*GRIDS[name])
        tunings[name] = tune(run, grid, seeds=seeds, name=name, progress=progress)
        chosen = run([tunings[name].lr], seeds)
        runs[name] = [chosen[tunings[name].lr, s] for s in seeds]
    return Comparison(task.name, f"MLP depth {depth} width {width}", epochs, batch_size, tunings, runs)


# ------------------------------------------------------------------------------------------------
# 1. a deep MLP without normalization


def deep_mlp(*, names: Sequence[str] = ("SGD", "Momentum", "Adam", "AdamW", "Muon"), depth: int = 8,
             width: int = 32, epochs: int = 20, batch_size: int = 64, seeds: Sequence[int] = (0, 1, 2),
             grids: dict[str, Sequence[float]] | None = None, tune: Callable[..., Tuning] = protocol_tune,
             task: _data.Task | None = None, engine: str = "batched", progress: bool = False) -> Comparison:
    """Experiment 1: the optimizers on digits with an MLP of ``depth`` Linear layers, no normalization,
    PyTorch's default initialization, every lr tuned by the protocol over all the seeds."""
    if depth < 3:
        raise ValueError(f"depth must be at least 3 (Muon needs a hidden matrix), got {depth!r}")
    task = task if task is not None else _data.digits()
    with quiet_cpu():
        return compare(task, names, width=width, depth=depth, epochs=epochs, batch_size=batch_size, seeds=seeds,
                       grids=_grids(grids, DEEP_GRIDS), tune=tune, engine=engine, progress=progress)


# ------------------------------------------------------------------------------------------------
# 2. the preconditioner made visible


def stable_rank(matrix: torch.Tensor) -> float:
    """‖A‖_F² / ‖A‖_2²: between 1 (rank one) and the rank (all singular values equal)."""
    s = torch.linalg.svdvals(matrix.double())
    return float((s.square().sum() / s[0].square()).item()) if s[0] > 0 else 0.0


@dataclass
class Views:
    """What experiment 2 recorded. ``steps[i]`` is the step of snapshot i. ``adam_log_step[i][layer]``:
    log10 of Adam's effective step ``lr·P`` of every weight entry of that Linear layer (a float32
    tensor); ``floor_fraction[i][layer]``: the fraction of entries whose P is within a factor 2 of its
    ceiling 1/ε (√v̂ < ε: gradients that were always (nearly) zero, e.g. pixels that never vary, or
    units that never fire); ``dead_units[i][layer]``: the fraction of that hidden layer's ReLU units that
    output 0 on every training example. ``spectra[name][i]``: singular values (descending) of the
    step one optimizer took on hidden layer ``layer`` at snapshot i, with ``stable_ranks[name][i]``;
    "gradient" is that layer's gradient at the Adam run's step."""

    lr_adam: float
    lr_muon: float
    eps: float
    layer: int
    steps: list[int]
    adam_log_step: list[list[torch.Tensor]]
    floor_fraction: list[list[float]]
    dead_units: list[list[float]]
    spectra: dict[str, list[list[float]]]
    stable_ranks: dict[str, list[float]]

    def numbers(self) -> dict:
        last = len(self.steps) - 1
        out = {"lr_adam": self.lr_adam, "lr_muon": self.lr_muon, "eps": self.eps, "layer": self.layer + 1,
               "steps": self.steps[last], "width": len(self.spectra["Muon"][last]),
               "floor_first_layer": 100 * self.floor_fraction[last][0],
               "floor_max_hidden": 100 * max(self.floor_fraction[last][1:-1]),
               "dead_max": 100 * max(self.dead_units[last])}
        for name, ranks in self.stable_ranks.items():
            out[f"stable_rank_{name.lower()}"] = ranks[last]
            out[f"stable_rank_{name.lower()}_first"] = ranks[0]
        ceiling = math.log10(self.lr_adam / self.eps) - math.log10(2)  # entries at the ε ceiling: left out
        for tag, i in (("", last), ("_first", 0)):
            medians = [float(t[t < ceiling].median()) if bool((t < ceiling).any()) else math.nan
                       for t in self.adam_log_step[i]]
            out[f"median_step_first_layer{tag}"] = 10 ** medians[0]
            out[f"median_step_last_layer{tag}"] = 10 ** medians[-1]
            finite = [m for m in medians if math.isfinite(m)]
            out[f"median_step_ratio{tag}"] = 10 ** (max(finite) - min(finite))
        out["first_step"] = self.steps[0]
        return out


def preconditioner_views(*, lr_adam: float = 3e-3, lr_muon: float = 1e-2, depth: int = 8, width: int = 32,
                         epochs: int = 20, batch_size: int = 64, snapshots: Sequence[int] = (1, 10, 100, 400),
                         layer: int = 4, seed: int = 0, task: _data.Task | None = None,
                         progress: bool = False) -> Views:
    """Experiment 2: train the deep MLP with Adam, and again with Muon+AdamW, recording at the given
    steps Adam's lr·P per layer and the singular values of the step each optimizer took on hidden
    Linear layer ``layer`` (0-based)."""
    task = task if task is not None else _data.digits()
    steps = sorted(set(snapshots))
    if not steps or steps[0] < 1:
        raise ValueError(f"snapshots must be steps >= 1, got {list(snapshots)!r}")
    if not 0 < layer < depth - 1:
        raise ValueError(f"layer must name a hidden Linear layer (1..{depth - 2}), got {layer!r}")
    adam_log, floors, dead = [], [], []
    spectra: dict[str, list[list[float]]] = {"Adam": [], "Muon": [], "gradient": []}
    ranks: dict[str, list[float]] = {"Adam": [], "Muon": [], "gradient": []}
    eps = 1e-8
    with quiet_cpu():
        for name, lr in (("Adam", lr_adam), ("Muon", lr_muon)):
            model = _models.mlp(task.n_features, task.n_classes, width=width, depth=depth, seed=seed)
            opts = _models.optimizers(name, model, lr)
            linears = _models.linear_layers(model)
            watched = linears[layer].weight
            before: dict[str, torch.Tensor] = {}

            def on_step(step, name=name, opts=opts, linears=linears, watched=watched, before=before, lr=lr):
                if step + 1 in steps:  # remember the weights before the recorded step
                    before["w"] = watched.detach().clone()
                if step not in steps:
                    return
                change = (watched.detach() - before["w"]) if "w" in before else None
                if change is not None:
                    s = torch.linalg.svdvals(change.double())
                    spectra[name].append(s.tolist())
                    ranks[name].append(stable_rank(change))
                if name != "Adam":
                    return
                g = watched.grad.detach()
                spectra["gradient"].append(torch.linalg.svdvals(g.double()).tolist())
                ranks["gradient"].append(stable_rank(g))
                opt = opts[0]
                logs, fl = [], []
                for lin in linears:
                    p = opt.preconditioner(lin.weight)
                    logs.append(torch.log10(lr * p).float())
                    fl.append(float((p > 0.5 / eps).double().mean()))
                adam_log.append(logs)
                floors.append(fl)
                with torch.no_grad():  # dead ReLU units: zero on every training input
                    h, fractions = task.x_train, []
                    for lin in linears[:-1]:
                        h = torch.relu(lin(h))
                        fractions.append(float((h.amax(0) <= 0).double().mean()))
                dead.append(fractions)

            if steps[0] == 1:
                before["w"] = watched.detach().clone()
            train(model, opts, task, epochs=epochs, batch_size=batch_size, seed=seed, name=name, lr=lr,
                  on_step=on_step, progress=progress)
    n_done = len(adam_log)
    if n_done < len(steps):
        raise ValueError(f"training ran fewer steps than the last snapshot {steps[-1]} (epochs={epochs})")
    return Views(lr_adam, lr_muon, eps, layer, steps, adam_log, floors, dead, spectra, ranks)


# ------------------------------------------------------------------------------------------------
# 3. the invariance prediction


@dataclass
class Invariance:
    """Experiment 3: ``results[kind]`` is the :class:`Comparison` on the task transformed by ``kind``
    (see :func:`optimessay.networks.data.transform`)."""

    decades: float
    results: dict[str, Comparison]

    def final_log_loss(self, kind: str, name: str) -> float:
        """Mean over seeds of log10 of the final training loss (a diverged run counts as +inf)."""
        vals = []
        for r in self.results[kind].runs[name]:
            v = r.losses[-1]
            vals.append(math.log10(v) if math.isfinite(v) and v > 0 else math.inf)
        return _mean(vals)

    def harm(self, kind: str, name: str) -> float:
        """How much ``kind`` hurt optimizer ``name``: its final log10 training loss minus the one on the
        original inputs (each at its own tuned lr). 1.0 = ten times higher loss."""
        return self.final_log_loss(kind, name) - self.final_log_loss("original", name)

    def numbers(self) -> dict:
        out: dict = {"decades": self.decades}
        for kind, comparison in self.results.items():
            tag = kind.replace("+", "_")
            for name in comparison.runs:
                key = name.lower()
                out[f"{key}_{tag}_loss"] = 10 ** self.final_log_loss(kind, name)
                out[f"{key}_{tag}_lr"] = comparison.tunings[name].lr
                out[f"{key}_{tag}_acc"] = 100 * _mean([r.test_accuracy for r in comparison.runs[name]])
                if kind != "original":
                    out[f"{key}_{tag}_harm"] = self.harm(kind, name)
        return out


def invariance(*, names: Sequence[str] = ("SGD", "Momentum", "Adam", "AdamW"), kinds: Sequence[str] = _data.TRANSFORMS,
               decades: float = 3.0, depth: int = 3, width: int = 32, epochs: int = 15, batch_size: int = 64,
               seeds: Sequence[int] = (0, 1, 2), grids: dict[str, Sequence[float]] | None = None,
               tune: Callable[..., Tuning] = protocol_tune, task: _data.Task | None = None,
               engine: str = "batched", progress: bool = False) -> Invariance:
    """Experiment 3: the same comparison on the inputs as they are, rescaled per coordinate (scales over
    ``decades`` powers of ten), rotated, and rescaled then rotated; every (optimizer, inputs) pair gets
    its own tuned lr."""
    if "original" not in kinds:
        raise ValueError(f"kinds must include 'original' (the reference), got {list(kinds)!r}")
    base = task if task is not None else _data.digits()
    results = {}
    with quiet_cpu():
        for kind in kinds:
            transformed = _data.transform(base, kind, decades=decades, seed=0)
            results[kind] = compare(transformed, names, width=width, depth=depth, epochs=epochs,
                                    batch_size=batch_size, seeds=seeds, grids=_grids(grids, INVARIANCE_GRIDS),
                                    tune=tune, engine=engine, progress=progress)
    return Invariance(decades, results)


# ------------------------------------------------------------------------------------------------
# 4. heavy-tailed class imbalance


def frequency_groups(counts: torch.Tensor, n_groups: int) -> list[list[int]]:
    """Classes sorted by training count (most frequent first, ties by index) and cut into
    ``n_groups`` groups of (nearly) equal size."""
    if not 1 <= n_groups <= len(counts):
        raise ValueError(f"n_groups must be between 1 and the number of classes ({len(counts)}), got {n_groups!r}")
    order = sorted(range(len(counts)), key=lambda k: (-int(counts[k]), k))
    size = len(order) / n_groups
    return [order[round(i * size):round((i + 1) * size)] for i in range(n_groups)]


def imbalance(*, names: Sequence[str] = ("SGD", "Momentum", "Adam"), n_classes: int = 100, n_features: int = 32,
              n_train: int = 4000, exponent: float = 1.0, noise: float = 2.0, depth: int = 2, width: int = 64, epochs: int = 15,
              batch_size: int = 64, seeds: Sequence[int] = (0, 1, 2), n_groups: int = 4,
              grids: dict[str, Sequence[float]] | None = None, tune: Callable[..., Tuning] = protocol_tune,
              engine: str = "batched", progress: bool = False) -> Comparison:
    """Experiment 4: the heavy-tailed task (:func:`optimessay.networks.data.heavy_tailed`), per-class
    training losses recorded every epoch and summarized by frequency group."""
    task = _data.heavy_tailed(n_classes=n_classes, n_features=n_features, n_train=n_train, exponent=exponent,
                              noise=noise, seed=0)
    with quiet_cpu():
        result = compare(task, names, width=width, depth=depth, epochs=epochs, batch_size=batch_size, seeds=seeds,
                         grids=_grids(grids, IMBALANCE_GRIDS), per_class=True, tune=tune, engine=engine,
                         progress=progress)
    result.groups = frequency_groups(task.class_counts(), n_groups)
    return result


__all__ = ["Comparison", "Invariance", "Views", "compare", "deep_mlp", "frequency_groups", "imbalance", "invariance",
           "preconditioner_views", "score", "stable_rank"]
