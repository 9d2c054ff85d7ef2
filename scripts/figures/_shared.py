"""What the figure modules of every page share: the catalog entries, and the helpers recipes call.

``Figure`` is a catalog entry (a picture), ``Numbers`` one whose recipe returns numbers. The helpers
below run walks (``_walk``), turn them into the run dicts of optimessay.plots (``_run``), tune the
seven contestants of the comparisons (``CONTESTANTS``, ``_tuned_lr``, ``_contestant_runs``), build
landscapes from hashable specs (``_landscape``, ``_quadratic``), and draw the hyperparameter heatmaps
several pages show (``sweep_heatmap``, a recipe).

The build keys each figure on the source of every helper its recipe calls (scripts/build_figures.py
follows ``from ._shared import ...``): editing a helper here rebuilds exactly the figures that use it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache

from ._results import memo


@dataclass(frozen=True)
class Figure:
    name: str
    kind: str  # "image", "video" or "numbers"
    alt: str  # for numbers: what they are (listed in the manifest)
    recipe: Callable
    params: dict = field(default_factory=dict)
    cost: float = 1.0  # rough CPU seconds to build: a cold build starts expensive groups first (later builds
    # go by the measured seconds of the last build, .cache/figure-timings.txt)


def Numbers(name: str, about: str, recipe: Callable, params: dict | None = None, cost: float = 1.0) -> Figure:
    """A catalog entry of kind "numbers": ``recipe(**params)`` runs an experiment with the package and
    returns a flat dict ``{key: int, float or short string}``; the build writes it to
    docs/figures/NAME.json and pages quote it as ``!num[NAME.key:FORMAT]`` (docs/hooks/figures.py).
    NAME: letters, digits, '-', '_'; keys: identifiers. ``about`` says what the numbers are."""
    return Figure(name, "numbers", about, recipe, dict(params or {}), cost)


# ================================================================================================
# helpers shared by recipes


def _walk(landscape, optimizer, kwargs, *, steps, start=None, scheduler=None, scheduler_kwargs=None):
    """One ``trajectory.run`` with an optimizer/scheduler given by class or by name (optimessay's)."""
    import optimessay
    from optimessay import trajectory

    cls = getattr(optimessay, optimizer) if isinstance(optimizer, str) else optimizer
    sched = getattr(optimessay, scheduler) if isinstance(scheduler, str) else scheduler
    return trajectory.run(landscape, cls, dict(kwargs), start=start, steps=steps,
                          scheduler_class=sched, scheduler_kwargs=dict(scheduler_kwargs or {}))


def _sweep_walk(landscape, optimizer, kwargs, *, steps, start=None, scheduler=None, scheduler_kwargs=None):
    """One walk from ``start`` (default: the landscape's) as a batch of one ``optimessay.sweep.run``:
    the same points and losses as :func:`_walk`, bit for bit (sweep.run calls the optimizer's own
    functional core), several times faster on long walks. Returns an object with ``points``
    ``(steps + 1, 2)`` and ``losses`` ``(steps + 1,)`` (no ``lrs`` or ``preconditioners``)."""
    from types import SimpleNamespace

    import torch

    import optimessay
    from optimessay import landscapes, sweep

    land = landscapes.get(landscape) if isinstance(landscape, str) else landscape
    cls = getattr(optimessay, optimizer) if isinstance(optimizer, str) else optimizer
    point = torch.tensor([tuple(float(v) for v in (land.start if start is None else start))], dtype=torch.float64)
    sched = getattr(optimessay, scheduler) if isinstance(scheduler, str) else scheduler
    result = sweep.run(land, cls, dict(kwargs), starts=point, steps=steps, scheduler_class=sched,
                       scheduler_kwargs=dict(scheduler_kwargs or {}))
    return SimpleNamespace(points=result.trajectories[0], losses=result.losses[0])


def _run(walk, label, color, **extra):
    from optimessay import plots

    return plots.run(walk, label, color, **extra)


# The seven contestants of the comparisons: (legend name, colour key, class, fixed kwargs).
CONTESTANTS = (
    ("SGD", "sgd", "SGD", {}),
    ("Momentum", "momentum", "SGD", {"momentum": 0.9}),
    ("Nesterov", "nesterov", "SGD", {"momentum": 0.9, "nesterov": True}),
    ("RMSprop", "rmsprop", "RMSprop", {}),
    ("Adam", "adam", "Adam", {}),
    ("AdamW", "adamw", "AdamW", {"weight_decay": 0.01}),
    ("Adagrad", "adagrad", "Adagrad", {}),
)


def _landscape(spec):
    """A landscape from a name, or from ``(name, ((key, value), ...))`` (hashable, for caches)."""
    from optimessay import landscapes

    if isinstance(spec, str):
        return landscapes.get(spec)
    name, kwargs = spec
    return landscapes.get(name, **dict(kwargs))


RACE_TOL = 1e-6  # the races' tolerance: the loss gap stays below a millionth of its value at the start


@cache
def _tuning(spec, contestant: str, steps: int):
    """The contestant's ``protocol.Tuning`` on the landscape by the site's protocol (``optimessay.protocol``,
    stated on the Comparing page): steps until the loss gap stays below ``RACE_TOL`` × its start value (a
    run that never gets there within ``steps`` ranks after every arrival, by its final gap), median over
    5 starts (the landscape's start and 4 at distance 0.1), any divergence disqualifies, 4 lrs per
    decade from 1e-5 to 10, extended by a decade while the winner is on an edge (AdamW: at most
    0.1/weight_decay; a winner at that cap is on its grid's edge: ``on_edge``). Deterministic; cached
    per worker process and, through ``_results.memo``, for the whole build (six entries on three pages
    tune the banana's contestants: each tuning runs once)."""
    return memo(_tune_contestant, spec=spec, contestant=contestant, steps=steps)


def _tune_contestant(spec, contestant: str, steps: int):
    """:func:`_tuning`'s computation (uncached)."""
    from optimessay import optimizers, protocol

    _, _, cls, fixed = next(c for c in CONTESTANTS if c[0] == contestant)
    return protocol.tune_landscape(_landscape(spec), getattr(optimizers, cls), fixed, steps=steps, tol=RACE_TOL,
                                   relative=True)


def _tuned_lr(spec, contestant: str, steps: int) -> float:
    """The contestant's protocol-tuned lr on the landscape (:func:`_tuning`)."""
    return float(_tuning(spec, contestant, steps).lr)


def _contestant_runs(spec, steps: int):
    """Each contestant at its tuned lr on the landscape ``spec``, as run dicts (points and losses;
    each walk a :func:`_sweep_walk`, bit for bit :func:`_walk`'s)."""
    from optimessay import plots, style

    land = _landscape(spec)
    runs = []
    for name, color_key, cls, fixed in CONTESTANTS:
        lr = _tuned_lr(spec, name, steps)
        walk = _sweep_walk(land, cls, {"lr": lr, **fixed}, steps=steps)
        # the legend names every hyperparameter set (Nesterov's flag is in its name)
        shown = {key: value for key, value in fixed.items() if not isinstance(value, bool)}
        runs.append(_run(walk, plots.label(name, lr=float(f"{lr:.3g}"), **shown), style.color(color_key)))
    return runs


def _quadratic(kappa, theta_degrees):
    from optimessay import landscapes

    return landscapes.quadratic(kappa=kappa, theta=math.radians(theta_degrees))


MOMENTUM_LIKE = ("momentum", "beta1", "beta2", "alpha", "betas")  # in [0, 1): drawn on a log(1 - value) axis


def sweep_heatmap(optimizer, fixed, x_name, x_range, y_name, y_range, n, steps, floor, marks):
    """Final loss over a grid of two hyperparameters (x: lr, log-spaced; y: linear), one batched
    ``optimessay.sweep.run`` of n x n walks on the banana from its start; diverged walks pale red and
    hatched, walks that ended above the start's loss grey. Every sweep heatmap shares one colour
    scale, from ``floor`` to the loss at the start (the same start for all), so two pages' heatmaps
    compare cell by cell; a momentum-like y (``MOMENTUM_LIKE``) is drawn on a log(1 - y) axis."""
    import torch

    from optimessay import landscapes, plots, style, sweep

    xs = torch.logspace(math.log10(x_range[0]), math.log10(x_range[1]), n, dtype=torch.float64)
    ys = torch.linspace(y_range[0], y_range[1], n, dtype=torch.float64)
    result = sweep.run("rosenbrock", optimizer, dict(fixed), grid={x_name: xs, y_name: ys}, steps=steps,
                       keep_trajectories=False)
    values = plots.as_numpy(result.grid(result.final_loss)).T  # rows: y, columns: x
    diverged = plots.as_numpy(result.grid(result.diverged)).T.astype(bool)
    banana = landscapes.get("rosenbrock")
    start_loss = float(banana.fn(*(torch.tensor(float(c), dtype=torch.float64) for c in banana.start)))
    fig, ax = style.figure(height=4.8)
    draw_name = {"beta1": "beta1 (β₁)", "alpha": "alpha (α)"}.get(y_name, y_name)
    log1m = y_name in MOMENTUM_LIKE and y_range[1] < 1
    plots.draw_heatmap(ax, values, plots.as_numpy(xs), plots.as_numpy(ys), diverged=diverged, xlabel=x_name,
                       ylabel=draw_name, logx=True, log1m_y=log1m, vmin=floor, vmax=start_loss, above=start_loss,
                       above_label=f"ended above the start's loss ({start_loss:.3g})",
                       colorbar_label=f"final loss after {steps} steps (≤ {floor:g} shown as {floor:g})")
    for (mx, my), text in marks:
        ax.plot(mx, my, marker="D", markersize=7, markerfacecolor=style.ORANGE, markeredgecolor=style.INK,
                linestyle="none", zorder=6)
        ax.annotate(text, (mx, my), xytext=(-9, 0), textcoords="offset points", fontsize=8.5, color=style.INK,
                    ha="right", va="center", zorder=6,
                    bbox=dict(boxstyle="round,pad=0.2", facecolor="white", edgecolor="none", alpha=0.85))
    fixed_text = ", ".join(f"{k}={v}" for k, v in fixed.items())
    ax.set_title(f"{optimizer}{' (' + fixed_text + ')' if fixed_text else ''} on the banana: {n}×{n} walks")
    return fig


# The seed notebook's start and its SGD settings, reused by several pages' figures.
SEED_START = (-1.5, 2.5)
SEED_SGD = {"lr": 1e-3, "momentum": 0.98}
