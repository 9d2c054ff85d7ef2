"""The figures and numbers of the page "From the banana to a network" (docs/networks.md).

Every number comes from optimessay.networks.experiments; each experiment runs once per build
(``_experiment``: cached in memory and on disk, with a lock across workers) and feeds both its
picture and its numbers entry. The lr tuning trains every lr with every seed, all the runs of one
optimizer as one batched computation (``optimessay.networks.batched``); experiments 1, 3 and 4 took
10.5, 9.8 and 5.6 s of one core's CPU time together with their tuning in a clean build (the figure
benchmark, docs/bench/figures.md; 40, 33 and 14 s with one run at a time and one tuning seed). The
numbers files hold results only, no timings: two clean builds give byte-identical files.
"""

from __future__ import annotations

from functools import cache

from ._shared import Figure, Numbers

# Colours: the site's palette; Muon (not in it) gets olive.
_EXTRA_COLORS = {"muon": "#999933"}


def _color(name):
    from optimessay import style

    key = name.lower()
    return _EXTRA_COLORS[key] if key in _EXTRA_COLORS else style.color(key)


@cache
def _experiment(kind, params):
    """Run experiment ``kind`` ("deep", "views", "invariance", "imbalance") with ``params`` (a tuple
    of (key, value) pairs), timed: ``(result, wall seconds, CPU seconds)``.

    A picture and its numbers entry need the same run, and the build may give them to different
    worker processes; so the result is also kept on disk (the project's `.cache/networks/`, which
    `make clean` removes), keyed on the experiment, its parameters, torch's version and the source of
    every module it runs, and a file lock per key makes a second worker wait for the first instead of
    training again. A result whose key no longer matches is deleted when its experiment runs again."""
    import fcntl
    import hashlib
    import pickle
    from pathlib import Path

    import torch

    import optimessay
    from optimessay.files import write_atomic

    root = Path(optimessay.__file__).parent
    sources = sorted([*root.glob("networks/*.py"), *root.glob("optimizers/*.py"), root / "protocol.py"])
    digest = hashlib.sha256(repr((kind, params, torch.__version__)).encode())
    for path in sources:
        digest.update(path.name.encode() + path.read_bytes())
    folder = root.parent / ".cache" / "networks"
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{kind}-{digest.hexdigest()[:32]}.pickle"
    with open(folder / f"{kind}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes, also if this process dies
        if target.is_file():
            with open(target, "rb") as f:
                return pickle.load(f)
        value = _run_experiment(kind, params)
        for old in folder.glob(f"{kind}-*.pickle"):  # results of older sources or parameters
            old.unlink(missing_ok=True)
        write_atomic(target, pickle.dumps(value))
        return value


def _run_experiment(kind, params):
    import time

    from optimessay.networks import experiments

    fn = {"deep": experiments.deep_mlp, "views": experiments.preconditioner_views,
          "invariance": experiments.invariance, "imbalance": experiments.imbalance}[kind]
    start, start_cpu = time.perf_counter(), time.process_time()
    result = fn(**dict(params))
    return result, time.perf_counter() - start, time.process_time() - start_cpu


def _timed(values, wall, cpu):
    """The numbers a page may quote: the experiment's results without its CPU or wall times (``*_cpu``:
    they differ from run to run, and two clean builds must give byte-identical files; the build's
    own per-entry CPU seconds are in the figure benchmark, docs/bench/figures.md)."""
    del wall, cpu  # measured, not reproducible: never written into a numbers file
    return {k: v for k, v in dict(values).items() if not k.endswith("_cpu")}


# ------------------------------------------------------------------------------------------------ 1


def deep_curves(params):
    """Training loss per epoch, mean over seeds with the min-max band, one line per optimizer."""
    import numpy as np

    from optimessay import style

    result, _, _ = _experiment("deep", params)
    fig, ax = style.figure(height=4.2)
    for name, runs in result.runs.items():
        curves = np.array([r.losses for r in runs], dtype=float)
        epochs = np.arange(curves.shape[1])
        label = f"{'Muon+AdamW' if name == 'Muon' else name} (lr {result.tunings[name].lr:.3g})"
        ax.fill_between(epochs, np.nanmin(curves, 0), np.nanmax(curves, 0), color=_color(name), alpha=0.2, lw=0)
        ax.plot(epochs, np.nanmean(curves, 0), color=_color(name), label=label)
    ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel("training loss (cross-entropy)")
    ax.set_title(f"digits, {result.model}, no normalization, {len(next(iter(result.runs.values())))} seeds")
    ax.legend(loc="lower left")
    return fig


def deep_numbers(params):
    """Experiment 1's table: per optimizer ``<name>_lr``, ``<name>_acc`` (percent, mean over seeds),
    ``_acc_min``, ``_acc_max``, ``_loss`` (final training loss, mean);
    ``epochs``, ``batch_size``, ``seeds``."""
    result, wall, cpu = _experiment("deep", params)
    return _timed(result.numbers(), wall, cpu)


# ------------------------------------------------------------------------------------------------ 2


def views_picture(params):
    """Left: histograms of log10(lr·P) per Linear layer at the last snapshot (Adam), with the ceiling
    lr/ε. Right: singular values of one step on a hidden layer (Adam, Muon) and of the gradient,
    each divided by its largest."""
    import numpy as np

    from optimessay import style

    views, _, _ = _experiment("views", params)
    fig, (left, right) = style.figure(1, 2, height=4.4)
    last = len(views.steps) - 1
    layers = views.adam_log_step[last]
    shades = style.shades("adam", len(layers))
    bins = np.linspace(min(float(t.min()) for t in layers) - 0.1, float(np.log10(views.lr_adam / views.eps)) + 0.3, 60)
    for i, (values, shade) in enumerate(zip(layers, shades, strict=True)):
        left.hist(values.flatten().numpy(), bins=bins, histtype="step", color=shade, lw=1.4,
                  label=f"layer {i + 1}", density=True)
    left.axvline(np.log10(views.lr_adam / views.eps), color=style.MUTED_INK, ls="--", lw=1)
    left.text(np.log10(views.lr_adam / views.eps), left.get_ylim()[1] * 0.95, " lr/ε", va="top", ha="right",
              color=style.MUTED_INK)
    left.set_yscale("log")
    left.set_xlabel("log10 of Adam's effective step lr·P")
    left.set_ylabel("density")
    left.set_title(f"Adam after {views.steps[last]} steps, per layer")
    left.legend(fontsize=8, ncol=2, loc="upper left")
    for name, color in (("gradient", style.MUTED_INK), ("Adam", _color("adam")), ("Muon", _color("muon"))):
        s = np.array(views.spectra[name][last])
        label = f"{name if name != 'gradient' else 'the gradient'} (stable rank {views.stable_ranks[name][last]:.1f})"
        right.plot(np.arange(1, len(s) + 1), s / s[0], marker="o", ms=3, color=color, label=label)
    right.set_yscale("log")
    right.set_ylim(1e-6, 2)  # below that: rounding noise of rank-deficient matrices (dead units give zero rows)
    right.set_xlabel("singular value index")
    right.set_ylabel("singular value / largest")
    right.set_title(f"one step on hidden layer {views.layer + 1}, step {views.steps[last]}")
    right.legend(fontsize=8, loc="lower left")
    return fig


def views_numbers(params):
    """Experiment 2: ``lr_adam``, ``lr_muon``, ``eps``, ``layer`` (1-based), ``steps`` (the last
    snapshot), ``width``; ``floor_first_layer`` (% of first-layer entries with P at the ε ceiling),
    ``floor_max_hidden``, ``dead_max`` (% of dead ReLU units, worst layer); ``stable_rank_<adam,
    muon, gradient>`` (last snapshot) and ``..._first`` (first); ``median_step_first_layer``,
    ``median_step_last_layer``, ``median_step_ratio`` (largest/smallest per-layer median of lr·P, weights
    at the ε ceiling left out), the same
    three with ``_first`` at the first snapshot, ``first_step``."""
    views, wall, cpu = _experiment("views", params)
    return _timed(views.numbers(), wall, cpu)


QUANTILES = (10, 25, 50, 75, 90)


def views_layer_numbers(params):
    """Experiment 2, layer by layer and snapshot by snapshot, for the page's live figure (the widget
    docs/widgets/network.js reads them from the table the page writes with ``!num``): ``lr``, ``eps``,
    ``snapshots`` (how many), ``layers``; ``step<k>`` (the step of snapshot k, 1-based k); for snapshot
    k and Linear layer i (1-based) ``s<k>_l<i>_q<Q>``: the Q-th percentile of log10(lr·P) over the
    layer's weights, leaving out the entries at the ε ceiling (as ``net-views``' medians do),
    ``s<k>_l<i>_median`` (torch's median of the same, exactly as ``net-views`` takes it) and
    ``s<k>_l<i>_ceiling``: the percentage of entries at that ceiling."""
    import math

    import torch

    views, _, _ = _experiment("views", params)
    ceiling = math.log10(views.lr_adam / views.eps) - math.log10(2)  # the same cut as views.numbers()
    out = {"lr": views.lr_adam, "eps": views.eps, "snapshots": len(views.steps), "layers": len(views.adam_log_step[0])}
    for k, step in enumerate(views.steps, start=1):
        out[f"step{k}"] = step
        for i, values in enumerate(views.adam_log_step[k - 1], start=1):
            flat = values.flatten().to(torch.float64)
            below = flat[flat < ceiling]
            qs = torch.quantile(below, torch.tensor([q / 100 for q in QUANTILES], dtype=torch.float64))
            for q, v in zip(QUANTILES, qs.tolist(), strict=True):
                out[f"s{k}_l{i}_q{q}"] = v
            out[f"s{k}_l{i}_median"] = float(values[values < ceiling].median())  # torch's median, as net-views
            out[f"s{k}_l{i}_ceiling"] = 100 * (1 - below.numel() / flat.numel())
    return out


# ------------------------------------------------------------------------------------------------ 3

_KINDS = ("original", "rescaled", "rotated", "rescaled+rotated")


def invariance_picture(params):
    """Final training loss (mean of log10 over seeds, each at its own tuned lr) per optimizer, one
    bar per input transform."""
    import numpy as np

    from optimessay import style

    inv, _, _ = _experiment("invariance", params)
    names = list(inv.results["original"].runs)
    fig, ax = style.figure(height=4.2)
    width = 0.8 / len(_KINDS)
    hatches = ("", "//", "..", "xx")
    for j, (kind, hatch) in enumerate(zip(_KINDS, hatches, strict=True)):
        values = [10 ** inv.final_log_loss(kind, name) for name in names]
        x = np.arange(len(names)) + (j - (len(_KINDS) - 1) / 2) * width
        ax.bar(x, values, width, color=[_color(n) for n in names], hatch=hatch, edgecolor=style.INK, lw=0.6,
               alpha=0.35 + 0.65 * (j in (0, 3)), label=kind)
    ax.set_xticks(np.arange(len(names)), names)
    ax.set_yscale("log")
    low, high = ax.get_ylim()
    ax.set_ylim(low, high * (high / low) ** 0.45)  # room above the bars for the legend
    ax.set_ylabel("final training loss (lower is better)")
    ax.set_title(f"inputs as they are, rescaled over {inv.decades:g} decades, rotated, or both")
    ax.legend(title="inputs", fontsize=8, loc="upper left")
    return fig


def invariance_numbers(params):
    """Experiment 3: per optimizer and input kind (``original``, ``rescaled``, ``rotated``,
    ``rescaled_rotated``): ``<name>_<kind>_loss`` (final training loss, geometric mean over seeds),
    ``_loss_min``/``_loss_max`` (over seeds), ``_lr``, ``_acc`` (test %), ``_harm`` (log10 of the
    loss ratio to the original inputs);
    ``<name>_rotation_extra``: harm(rescaled+rotated) - harm(rescaled) (what the rotation adds);
    ``epochs``."""
    inv, wall, cpu = _experiment("invariance", params)
    values = {**inv.numbers(), "epochs": dict(params)["epochs"]}
    for name in inv.results["original"].runs:
        key = name.lower()
        values[f"{key}_rotation_extra"] = values[f"{key}_rescaled_rotated_harm"] - values[f"{key}_rescaled_harm"]
        for kind, comparison in inv.results.items():
            finals = [run.losses[-1] for run in comparison.runs[name]]
            values[f"{key}_{kind.replace('+', '_')}_loss_min"] = min(finals)
            values[f"{key}_{kind.replace('+', '_')}_loss_max"] = max(finals)
    return _timed(values, wall, cpu)


# ------------------------------------------------------------------------------------------------ 4


def imbalance_picture(params):
    """Per-optimizer panels: mean training loss of each frequency group of classes per epoch."""
    import numpy as np

    from optimessay import style

    result, _, _ = _experiment("imbalance", params)
    names = list(result.runs)
    fig, axes = style.figure(1, len(names), height=4.0, sharey=True)
    for ax, name in zip(np.atleast_1d(axes), names, strict=True):
        curves = result.group_losses(name)
        for g, (curve, shade) in enumerate(zip(curves, style.shades(name, len(curves))[::-1], strict=True)):
            label = "most frequent classes" if g == 0 else ("rarest classes" if g == len(curves) - 1 else None)
            ax.plot(np.arange(len(curve)), curve, color=shade, label=label or f"group {g + 1}")
        ax.set_title(f"{name} (lr {result.tunings[name].lr:.3g})")
        ax.set_xlabel("epoch")
        ax.set_yscale("log")
    np.atleast_1d(axes)[0].set_ylabel("training loss of the group's classes")
    np.atleast_1d(axes)[0].legend(fontsize=8, loc="lower left")
    return fig


def imbalance_numbers(params):
    """Experiment 4 (heavy-tailed classes): per optimizer ``<name>_lr``, ``_acc`` (test %, balanced
    test set), ``_loss``, ``_frequent_loss`` and ``_rare_loss`` (final training loss of the most
    frequent and the rarest quarter of the classes); ``most_frequent_count``, ``rarest_count``."""
    result, wall, cpu = _experiment("imbalance", params)
    values = result.numbers()
    from optimessay.networks import data

    counts = data.heavy_tailed(**{k: v for k, v in dict(params).items()
                                  if k in ("n_classes", "n_features", "n_train", "exponent", "noise")}).class_counts()
    values["most_frequent_count"] = int(counts.max())
    values["rarest_count"] = int(counts.min())
    values["n_classes"] = len(counts)
    return _timed(values, wall, cpu)


# ------------------------------------------------------------------------------------------------ entries

DEEP = (("epochs", 20), ("seeds", (0, 1, 2)), ("depth", 8), ("width", 32), ("batch_size", 64))
VIEWS = (("lr_adam", 3e-3), ("lr_muon", 3e-3), ("epochs", 20), ("snapshots", (1, 10, 100, 440)), ("layer", 4))
INVARIANCE = (("decades", 3.0), ("epochs", 15), ("seeds", (0, 1, 2)), ("depth", 3), ("width", 32))
IMBALANCE = (("n_classes", 100), ("n_features", 32), ("n_train", 4000), ("exponent", 1.0), ("noise", 2.0), ("epochs", 15),
             ("seeds", (0, 1, 2)))

FIGURES = [
    Figure("net-deep-curves", "image",
           "Training loss (log scale) against epoch for an 8-layer MLP without normalization on the digits data, "
           "one line per optimizer (SGD, Nesterov momentum, Adam, AdamW, Muon with AdamW), the mean of three "
           "seeds with a band from the lowest to the highest seed.",
           deep_curves, {"params": DEEP}, cost=9.0),
    Numbers("net-deep", "Experiment 1: tuned lr, test accuracy over seeds, final loss and CPU time per optimizer "
            "on digits with an 8-layer MLP.", deep_numbers, {"params": DEEP}, cost=9.0),
    Figure("net-preconditioner", "image",
           "Left: histograms, one per layer, of the logarithm of Adam's effective step size lr times P for every "
           "weight, after the last recorded step, with a dashed line at the ceiling lr over epsilon. Right: the "
           "singular values of one step on a hidden layer for Adam, for Muon and of the gradient, each divided "
           "by its largest, on a log scale from one millionth to 1.",
           views_picture, {"params": VIEWS}, cost=2.0),
    Numbers("net-views", "Experiment 2: Adam's lr·P per layer (medians, the eps ceiling), dead units, and the "
            "stable rank of one step of Adam, of Muon and of the gradient.", views_numbers, {"params": VIEWS},
            cost=2.0),
    Numbers("net-layer-steps", "Experiment 2 per layer and snapshot: percentiles of log10 of Adam's lr·P (the ε "
            "ceiling left out) and the percentage at the ceiling, for the page's live figure.", views_layer_numbers,
            {"params": VIEWS}, cost=2.0),
    Figure("net-invariance-bars", "image",
           "Grouped bars, log scale: the final training loss of SGD, Nesterov momentum, Adam and AdamW on the "
           "digits data with inputs as they are, rescaled per feature, rotated, and rescaled then rotated, each "
           "at its own tuned learning rate, three seeds.",
           invariance_picture, {"params": INVARIANCE}, cost=9.0),
    Numbers("net-invariance", "Experiment 3: final loss, tuned lr, test accuracy and harm per optimizer and input "
            "transform.", invariance_numbers, {"params": INVARIANCE}, cost=9.0),
    Figure("net-imbalance-curves", "image",
           "Three panels (SGD, Nesterov momentum, Adam): training loss (log scale) against epoch for four groups of classes "
           "ordered by how often they occur in the training set, from the most frequent to the rarest, on a "
           "synthetic task with 100 classes whose frequencies fall off as 1/k.",
           imbalance_picture, {"params": IMBALANCE}, cost=7.0),
    Numbers("net-imbalance", "Experiment 4: heavy-tailed classes: tuned lr, test accuracy and the final loss of the "
            "most frequent and rarest classes per optimizer.", imbalance_numbers, {"params": IMBALANCE}, cost=7.0),
]
