"""The figures of the Comparing optimizers page (docs/comparing.md): their recipes and catalog entries."""

from __future__ import annotations

import math

from ._shared import (
    CONTESTANTS,
    Figure,
    Numbers,
    _contestant_runs,
    _landscape,
    _tuned_lr,
    _tuning,
    sweep_heatmap,
)


def race(landscape, steps, title, max_frames=120):
    from optimessay import animate

    runs = _contestant_runs(landscape, steps)
    for r in runs:  # "Momentum lr=0.02 momentum=0.9": the fixed options on a second line of the legend,
        name, lr, *fixed = r["label"].split(" ")  # which sits beside the square plot and must stay narrow
        r["label"] = " ".join([name, lr]) + "".join(f"\n  {option}" for option in fixed)
    return animate.Race(_landscape(landscape), runs, title=title, max_frames=max_frames)


def compare_landscapes(landscape_names, steps):
    from optimessay import landscapes, plots, style

    fig, axes = style.figure(2, 2, height=7.2)
    for ax, name in zip(axes.flat, landscape_names, strict=True):
        land = landscapes.get(name)
        plots.draw_landscape(ax, land, n=181, levels=14, minima=True)
        for r in _contestant_runs(name, steps):
            plots.draw_path(ax, r["points"], color=r["color"], label=r["label"].split(" ")[0], markers=False,
                            linewidth=1.5)
        ax.set_title(f"{land.title}, {steps} steps", fontsize=10)
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=4)
    return fig


def compare_loss_curves(landscape, steps):
    from optimessay import plots

    runs = _contestant_runs(landscape, steps)
    return plots.plot_loss_curves(runs, title=f"Loss at each optimizer's tuned lr, Rosenbrock, {steps} steps")


def race_numbers(races, other_starts, tol):
    """The races' numbers (optimessay.experiments.races): for each race ``(key, spec, steps)`` and
    contestant, ``<key>_<name>_lr`` (the protocol's), ``_edge`` (1: that lr is on its grid's edge, e.g.
    AdamW's cap 0.1/weight_decay, so it is not a tuned result), ``_loss`` (median final loss gap over the 5
    starts), ``_own`` (from the landscape's start: the run the race shows), ``_arrived`` (starts of 5
    staying below tol × the initial gap), ``_steps`` (median steps to it, -1: not within the budget).
    The banana's lrs from other starts: ``start<i>_first`` ... (names), ``start<i>_first_loss`` ...,
    ``start<i>_diverged`` (names, or "none")."""
    from optimessay.experiments import races as measured

    out = {"tol": tol}
    for key, spec, steps in races:
        out[f"{key}_steps_budget"] = steps
        for name, _, cls, fixed in CONTESTANTS:
            lr = _tuned_lr(spec, name, steps)
            stats = measured.race_stats(_landscape(spec), cls, fixed, lr, steps, tol=tol)
            short = name.lower()
            out[f"{key}_{short}_lr"] = lr
            out[f"{key}_{short}_edge"] = int(_tuning(spec, name, steps).on_edge)  # 1: the winner is on the grid's edge
            out[f"{key}_{short}_loss"] = stats["final_loss"]
            out[f"{key}_{short}_own"] = stats["final_loss_own_start"]
            out[f"{key}_{short}_arrived"] = stats["arrived"]
            out[f"{key}_{short}_steps"] = stats["steps_to_tol"]
            out[f"{key}_{short}_zero"] = stats["exact_zero_step"]
    key, spec, steps = races[0]
    lrs = {name: _tuned_lr(spec, name, steps) for name, _, _, _ in CONTESTANTS}
    rows = measured.other_starts(_landscape(spec), [(n, c, f) for n, _, c, f in CONTESTANTS], lrs, other_starts, steps)
    for i, row in enumerate(rows):
        for place, name in zip(("first", "second", "third"), row["ranking"], strict=False):
            out[f"start{i}_{place}"] = name
            out[f"start{i}_{place}_loss"] = row["scores"][name] if row["scores"][name] != float("inf") else -1.0
        out[f"start{i}_diverged"] = ", ".join(row["diverged"]) or "none"
    return out


def sgd_sweep_numbers(x_range, y_range, n, steps):
    """What the SGD lr × momentum heatmap shows, measured on the same sweep: the lowest cell (and
    whether it is on an edge of the grid), the diverged cells, and where divergence starts: for each
    momentum the smallest lr that diverged, its median and spread over the momenta that diverge."""
    import statistics

    import torch

    from optimessay import sweep

    xs = torch.logspace(math.log10(x_range[0]), math.log10(x_range[1]), n, dtype=torch.float64)
    ys = torch.linspace(y_range[0], y_range[1], n, dtype=torch.float64)
    result = sweep.run("rosenbrock", "SGD", {}, grid={"lr": xs, "momentum": ys}, steps=steps, keep_trajectories=False)
    loss = result.grid(result.final_loss)  # (lr, momentum)
    diverged = result.grid(result.diverged)
    finite = torch.where(torch.isfinite(loss) & ~diverged, loss, torch.tensor(math.inf, dtype=loss.dtype))
    best = int(torch.argmin(finite))
    i, j = divmod(best, n)
    onset = [float(xs[int(torch.nonzero(diverged[:, k])[0])]) for k in range(n) if bool(diverged[:, k].any())]
    return {"best_lr": float(xs[i]), "best_momentum": float(ys[j]), "best_loss": float(finite.flatten()[best]),
            "best_on_edge": "yes" if i in (0, n - 1) or j in (0, n - 1) else "no",
            "diverged": int(diverged.sum()), "cells": n * n,
            "onset_median": statistics.median(onset), "onset_min": min(onset), "onset_max": max(onset)}


FIGURES = [
    Figure("race-banana", "video",
           "Animation: SGD, momentum, Nesterov, RMSprop, Adam, AdamW and Adagrad, each at the learning rate the "
           "site's protocol picked, walk together for 300 steps from (-1.5, 2.5) on the banana's contours, leaving "
           "coloured trails, with a step counter. Adagrad's first step jumps to the left wall; SGD, RMSprop and "
           "Adagrad stay on the left arm; Adam swings far out of the picture and back; momentum, AdamW, Adam and "
           "Nesterov travel along the floor past the bend, momentum furthest, none reaching the minimum.",
           race, {"landscape": "rosenbrock", "steps": 300, "title": "Seven optimizers on the banana, tuned lr"},
           cost=6.0),
    Figure("race-himmelblau", "video",
           "Animation: the seven optimizers, each at its protocol-tuned learning rate, walk together from (0, 0) on "
           "Himmelblau's function, whose four minima are starred; five end at (3, 2), momentum swings past it to "
           "the minimum at (3.58, -1.85), AdamW wanders around (3, 2).",
           race, {"landscape": "himmelblau", "steps": 200, "title": "Seven optimizers on Himmelblau, tuned lr"},
           cost=6.0),
    Figure("race-rotated-quadratic", "video",
           "Animation: the seven optimizers, each at its protocol-tuned learning rate, walk together on a quadratic "
           "valley with kappa 50 turned by 30 degrees; SGD and the momentum methods swing across the valley, "
           "RMSprop and Adagrad head off along a 45-degree diagonal (RMSprop out of the picture), and AdamW at lr "
           "10 swings along the whole valley.",
           race, {"landscape": ("quadratic", (("kappa", 50.0), ("theta", math.radians(30)))), "steps": 200,
                  "title": "Rotated quadratic (κ=50, θ=30°), tuned lr"},
           cost=6.0),
    Figure("compare-landscapes", "image",
           "Four contour plots, banana, Beale, Himmelblau and the winding valley, each with the paths of "
           "the seven optimizers at their protocol-tuned learning rates from the landscape's start point, 300 "
           "steps. On the banana momentum, AdamW, Adam and Nesterov get past the bend while SGD, RMSprop and "
           "Adagrad stay on the left arm; on Beale all end at or near the minimum; on Himmelblau all but momentum "
           "end at (3, 2).",
           compare_landscapes, {"landscape_names": ("rosenbrock", "beale", "himmelblau", "valley"), "steps": 300},
           cost=3.0),
    Figure("compare-loss-curves", "image",
           "Loss against step on a log scale for the seven optimizers at their protocol-tuned learning rates on "
           "the banana, 300 steps, one coloured line each. Adagrad jumps to about 1e4 at step 1 and Adam to "
           "about 1e3 in its first steps; momentum ends lowest, near 0.05, then AdamW, Adam and Nesterov; SGD, "
           "RMSprop and Adagrad stay flat near 5.",
           compare_loss_curves, {"landscape": "rosenbrock", "steps": 300}, cost=2.0),
    Figure("sweep-sgd-lr-momentum", "image",
           "Heatmap of SGD's final loss on the banana after 300 steps from (-1.5, 2.5), over 100 learning "
           "rates from 1e-5 to 0.1 (log scale, x axis) and 100 momentum values from 0 to 0.99 (y axis, on a "
           "log(1 - momentum) scale), on the site's one colour scale (viridis: dark is low loss); pale "
           "red hatched cells at large lr diverged, grey cells ended above the start's loss; a ring marks the "
           "lowest cell and a diamond the seed's lr 1e-3, momentum 0.98.",
           sweep_heatmap, {"optimizer": "SGD", "fixed": {}, "x_name": "lr", "x_range": (1e-5, 0.1),
                           "y_name": "momentum", "y_range": (0.0, 0.99), "n": 100, "steps": 300, "floor": 1e-8,
                           "marks": (((1e-3, 0.98), "seed"),)}, cost=3.0),
    Numbers("sgd-sweep", "The SGD lr x momentum sweep on the banana (300 steps): lowest cell, edge, diverged "
            "cells, the lr where divergence starts (per momentum: median, range).", sgd_sweep_numbers,
            {"x_range": (1e-5, 0.1), "y_range": (0.0, 0.99), "n": 100, "steps": 300}, cost=3.0),
    Numbers("compare-races", "Each contestant at its protocol-tuned lr in the races (banana 300 steps, quadratic "
            "kappa 50 at 30 and 0 degrees, 200 steps): lr, median final loss over 5 starts, final loss from the "
            "race's own start, starts arriving within tol, steps; the banana's lrs from three other starts.",
            race_numbers, {"races": (("banana", "rosenbrock", 300),
                                     ("quad30", ("quadratic", (("kappa", 50.0), ("theta", math.radians(30)))), 200),
                                     ("quad0", ("quadratic", (("kappa", 50.0), ("theta", 0.0))), 200),
                                     ("himmelblau", "himmelblau", 200)),
                           "other_starts": ((-1.0, -0.5), (2.0, 2.5), (0.0, 2.0)), "tol": 1e-6}, cost=4.0),
]
