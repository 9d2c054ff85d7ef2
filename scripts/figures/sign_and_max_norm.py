"""The figures and numbers of the Sign-and-max-norm page (docs/sign-and-max-norm.md)."""

from __future__ import annotations

import math

from ._results import shared
from ._shared import Figure, Numbers, _sweep_walk

COLORS = {"sign descent": "#332288", "Rprop": "#117733", "Adamax": "#AA4499", "Adam": "#D55E00"}
STYLES = {"sign descent": ":", "Rprop": "-", "Adamax": "--", "Adam": "-"}
RACE = {"landscape": "rosenbrock", "steps": 2000, "tol": 1e-6}


def _race(params):
    """The race's tunings, run once per build for the figure and the numbers (``shared``)."""
    from optimessay.experiments import sign

    return shared(sign.race, **dict(params))


def sign_race(race):
    import numpy as np

    from optimessay import landscapes, plots, style
    from optimessay.experiments.sign import CONTESTANTS

    result = _race(tuple(sorted(race.items())))
    land = landscapes.get(race["landscape"])
    fig, (left, right) = style.figure(1, 2, height=4.2)
    plots.draw_landscape(left, land)
    for name, res in result.items():
        cls, fixed = CONTESTANTS[name]
        walk = _sweep_walk(land, cls, {**fixed, "lr": res["lr"]}, steps=race["steps"])
        points = plots.as_numpy(walk.points)
        plots.draw_path(left, points, color=COLORS[name], linestyle=STYLES[name], label=f"{name}, lr {res['lr']:.3g}",
                        markers=False)
        gap = np.maximum(plots.as_numpy(walk.losses) - (land.min_value or 0.0), 1e-30)
        right.semilogy(np.arange(len(gap)), gap, color=COLORS[name], linestyle=STYLES[name], lw=1.6)
    right.set_xlabel("step")
    right.set_ylabel("loss − minimum")
    right.set_ylim(1e-16, 1e4)
    right.grid(True)
    left.set_title("paths from (-1.5, 2.5), tuned lrs", fontsize=10)
    right.set_title("loss gap (log scale)", fontsize=10)
    handles, labels = left.get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=4, fontsize=8)
    return fig


def sign_numbers(race, factor, steps):
    from optimessay.experiments import curvature, sign

    out = {"factor": factor, "scale_steps": steps, "race_steps": race["steps"], "tol": race["tol"]}
    for name in sign.CONTESTANTS:
        dev = sign.scale_invariance(name, factor=factor, steps=steps)
        out[f"scale_{name.replace(' ', '_').lower()}"] = dev if math.isfinite(dev) else "diverged"
    identity = curvature.sign_descent(lr=2.0**-7)
    out["sign_identity_max_diff"] = identity["max_abs_difference"]
    out["sign_identity_equal"] = "yes" if identity["equal"] else "no"
    for name, res in _race(tuple(sorted(race.items()))).items():
        key = name.replace(" ", "_").lower()
        out[f"{key}_lr"] = res["lr"]
        out[f"{key}_steps"] = res["steps"]
        out[f"{key}_arrived"] = "yes" if res["arrived"] else "no"
        out[f"{key}_on_edge"] = "yes" if res["on_edge"] else "no"
        out[f"{key}_final_gap"] = res["final_gap"]
    return out


FIGURES = [
    Figure("sign-race", "image",
           "Left: the banana's log contours with four paths from (-1.5, 2.5), 2000 steps each at tuned "
           "learning rates: sign descent (Adam with betas 0 and eps 0), Rprop, Adamax and Adam. Right: "
           "each run's loss gap against step on a log scale, in the same colours and line styles.",
           sign_race, {"race": RACE}),
    Numbers("sign-numbers", "Sign descent identity, loss-scale invariance, tuned race on the banana.",
            sign_numbers, {"race": RACE, "factor": 1024.0, "steps": 300}),
]
