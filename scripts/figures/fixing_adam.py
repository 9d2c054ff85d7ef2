"""The figures and numbers of the Fixing-Adam page (docs/fixing-adam.md)."""

from __future__ import annotations

from ._results import shared
from ._shared import Figure, Numbers, _sweep_walk

COLORS = {"Adam": "#D55E00", "NAdam": "#117733", "RAdam": "#332288", "AMSGrad": "#882255", "Adadelta": "#999933"}
STYLES = {"Adam": "-", "NAdam": "--", "RAdam": "-.", "AMSGrad": ":", "Adadelta": "--"}
RACE = {"landscape": "rosenbrock", "steps": 2000, "tol": 1e-6}


def _race(params):
    """The race's tunings, run once per build for the figure and the numbers (``shared``)."""
    from optimessay.experiments import fixing_adam

    return shared(fixing_adam.race, **dict(params))


def fixing_race(race):
    import numpy as np

    from optimessay import landscapes, plots, style
    from optimessay.experiments.fixing_adam import CONTESTANTS

    result = _race(tuple(sorted(race.items())))
    land = landscapes.get(race["landscape"])
    fig, (left, right) = style.figure(1, 2, height=4.2)
    plots.draw_landscape(left, land)
    for name, res in result.items():
        cls, fixed = CONTESTANTS[name]
        walk = _sweep_walk(land, cls, {**fixed, "lr": res["lr"]}, steps=race["steps"])
        plots.draw_path(left, plots.as_numpy(walk.points), color=COLORS[name], linestyle=STYLES[name],
                        label=f"{name}, lr {res['lr']:.3g}", markers=False)
        gap = np.maximum(plots.as_numpy(walk.losses) - (land.min_value or 0.0), 1e-30)
        right.semilogy(np.arange(len(gap)), gap, color=COLORS[name], linestyle=STYLES[name], lw=1.6)
    right.set_xlabel("step")
    right.set_ylabel("loss − minimum")
    right.set_ylim(1e-22, 1e4)
    right.grid(True)
    left.set_title("paths from (-1.5, 2.5), tuned lrs", fontsize=10)
    right.set_title("loss gap (log scale)", fontsize=10)
    handles, labels = left.get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=3, fontsize=8)
    return fig


def fixing_numbers(race):
    from optimessay.experiments import fixing_adam

    out = {"race_steps": race["steps"], "tol": race["tol"]}
    out.update({f"radam_{k}": v for k, v in fixing_adam.radam_warmup().items()})
    out.update(fixing_adam.amsgrad_monotone())
    for name, res in _race(tuple(sorted(race.items()))).items():
        key = name.lower()
        out[f"{key}_lr"] = res["lr"]
        out[f"{key}_steps"] = res["steps"]
        out[f"{key}_arrived"] = "yes" if res["arrived"] else "no"
        out[f"{key}_on_edge"] = "yes" if res["on_edge"] else "no"
        out[f"{key}_final_gap"] = res["final_gap"]
    return out


FIGURES = [
    Figure("fixing-adam-race", "image",
           "Left: the banana's log contours with five paths from (-1.5, 2.5), 2000 steps each at tuned "
           "learning rates: Adam, NAdam, RAdam, AMSGrad and Adadelta. Right: each run's loss gap against "
           "step on a log scale, in the same colours and line styles.",
           fixing_race, {"race": RACE}),
    Numbers("fixing-adam-numbers", "RAdam's rectification start, AMSGrad's P growth, tuned race on the banana.",
            fixing_numbers, {"race": RACE}),
]
