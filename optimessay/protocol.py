r"""The site's one published tuning protocol: how every "tuned" learning rate on the site is chosen.

Why a protocol. Comparing optimizers at one shared learning rate compares learning rates, so every
race and comparison gives each optimizer its *own* best lr. "Best" needs a definition that a lucky
run cannot win: on a 2-D landscape a walk at a large lr is chaotic, and one such walk can happen to
end next to the minimum. The protocol has four parts, all stated on the Comparing page:

1. **Objective: steps to a tolerance, for good.** A run scores the first step ``t`` from which its
   loss gap ``f - f*`` stays at or below ``tol`` until the end of the budget (:func:`steps_to_tolerance`).
   Bouncing below the tolerance and out again does not count. A run that never gets there scores
   ``budget + 1 + log10(final gap / tol)``: it ranks after every run that arrived, and among runs
   that did not arrive the one that ended closer wins. A run whose loss stops being finite scores
   ``inf``.
2. **Several starts (or seeds); the median counts.** Each lr is run from every start (or with every
   seed) and scored by the *median* of the runs' scores: to win, an lr must work for most starts,
   not for one; an lr at which *any* run diverges is out (it scores ``inf``). The site uses 5 starts
   (an odd number, so the median is one of the runs).
3. **A documented geometric lr grid whose winner is never on its edge.** The grid is
   ``per_decade`` lrs per decade (default 4: 1, 1.78, 3.16, 5.62 × 10^k) from ``lr_min`` to
   ``lr_max``. If the best lr is the smallest or the largest of the grid, the grid is extended by one
   decade on that side and the new lrs are run, up to ``max_extensions`` times; if the winner is
   still on the edge, the result says so (``Tuning.on_edge``) instead of hiding it. Ties go to the
   smaller lr.
4. **Nothing else.** No gradient clipping, no schedule, every other hyperparameter at torch's
   default unless the comparison states it. One guard: AdamW's lr is at most ``0.1/weight_decay``
   (10 for torch's default 0.01), so that its decoupled decay ``θ ← (1 - lr·λ)θ`` shrinks the weights
   by at most 10% per step; unguarded, the protocol finds ``lr = 1/λ``, where the decay sets every
   weight to 0 in one step and "wins" any landscape whose minimum is the origin.

Generic API, for any training run (a 2-D walk, a network)::

    from optimessay import protocol

    def run(lr, seed):            # trains once, returns the loss curve: losses[0] before step 1
        ...
        return losses             # 1-D, budget + 1 values (non-finite once diverged)

    result = protocol.tune(run, seeds=range(5),
                           objective=protocol.steps_to_tolerance(tol=1e-3, f_star=0.0))
    result.lr, result.score, result.on_edge, result.table()   # table: lr -> median score

``objective`` is any callable ``curve -> float`` (lower is better): :func:`steps_to_tolerance`,
:func:`final_log_gap`, or your own. For 2-D landscapes :func:`tune_landscape` does the same with one
batched :func:`optimessay.sweep.run` per grid (every lr × every start in one computation) and
:func:`starts_around` gives the site's 5 starts around a landscape's default start.

The site's settings (``SITE``): 4 lrs per decade from 1e-5 to 10 (extended if the winner is on an
edge), 5 starts (the default start and 4 at distance 0.1 from it, on the diagonals), tolerance and
budget per figure, stated in its caption.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

import torch

__all__ = [
    "SITE",
    "Tuning",
    "final_log_gap",
    "lr_grid",
    "starts_around",
    "steps_to_tolerance",
    "tune",
    "tune_landscape",
]

# The protocol as the site uses it (the Comparing page states these numbers).
SITE = {
    "lr_min": 1e-5,
    "lr_max": 10.0,
    "per_decade": 4,
    "max_extensions": 3,
    "n_starts": 5,
    "start_radius": 0.1,
}


# --- objectives ----------------------------------------------------------------------------------


def _curve(losses) -> torch.Tensor:
    curve = torch.as_tensor(losses, dtype=torch.float64).reshape(-1)
    if curve.numel() == 0:
        raise ValueError("empty loss curve: expected the losses before step 1 and after every step")
    return curve


def steps_to_tolerance(tol: float, f_star: float = 0.0, *, relative: bool = False) -> Callable:
    """The objective "steps until the loss gap stays at or below ``tol``".

    ``curve -> score``: the first index ``t`` with ``curve[s] - f_star <= tol`` for every ``s >= t``
    (``curve[0]`` is the loss before the first step, so ``t`` counts steps); a curve that never gets
    there scores ``len(curve) + log10(final gap / tol)`` (> every arrival), and a curve with a
    non-finite value scores ``inf``. ``relative=True``: the tolerance is ``tol * (curve[0] - f_star)``.
    """
    if not (isinstance(tol, (int, float)) and math.isfinite(tol) and tol > 0):
        raise ValueError(f"tol={tol!r}: expected a positive finite number")

    def objective(losses) -> float:
        curve = _curve(losses)
        if not bool(torch.isfinite(curve).all()):
            return math.inf
        gap = curve - f_star
        bound = tol * float(gap[0]) if relative else tol
        above = (gap > bound).nonzero()
        if len(above) == 0:
            return 0.0
        last_above = int(above[-1])
        if last_above < len(curve) - 1:
            return float(last_above + 1)
        return len(curve) + math.log10(float(gap[-1]) / bound)

    objective.__name__ = f"steps_to_tolerance(tol={tol:g}{', relative' if relative else ''})"
    return objective


def steps_to_tolerance_many(curves: torch.Tensor, tol: float, f_star: float = 0.0, *,
                            relative: bool = False) -> list[float]:
    """``steps_to_tolerance(tol, f_star, relative=relative)`` of every row of ``curves`` (``(N, T)``
    float64), the same floats as calling the objective row by row, in a few whole-batch operations
    (a sweep of thousands of walks scored one curve at a time spent seconds in Python)."""
    curves = torch.as_tensor(curves, dtype=torch.float64)
    if curves.dim() != 2 or curves.shape[1] == 0:
        raise ValueError(f"curves: expected an (N, T) tensor with T >= 1, got shape {tuple(curves.shape)}")
    if not (isinstance(tol, (int, float)) and math.isfinite(tol) and tol > 0):
        raise ValueError(f"tol={tol!r}: expected a positive finite number")
    n, length = curves.shape
    finite = torch.isfinite(curves).all(1)
    gap = curves - f_star
    bound = tol * gap[:, :1] if relative else torch.full((n, 1), float(tol), dtype=torch.float64)
    above = gap > bound
    any_above = above.any(1)
    last_above = (length - 1) - above.flip(1).to(torch.uint8).argmax(1)  # the last index above the bound
    out = []
    for i, (ok, hit, last) in enumerate(zip(finite.tolist(), any_above.tolist(), last_above.tolist(), strict=True)):
        if not ok:
            out.append(math.inf)
        elif not hit:
            out.append(0.0)
        elif last < length - 1:
            out.append(float(last + 1))
        else:  # never got there: as the objective, from Python floats
            b = tol * float(gap[i, 0]) if relative else tol
            out.append(length + math.log10(float(gap[i, -1]) / b))
    return out


def final_log_gap(f_star: float = 0.0, *, floor: float = 1e-300) -> Callable:
    """The objective ``log10(final loss - f_star)`` (gaps below ``floor`` count as ``floor``); a curve
    with a non-finite value scores ``inf``."""

    def objective(losses) -> float:
        curve = _curve(losses)
        if not bool(torch.isfinite(curve).all()):
            return math.inf
        return math.log10(max(float(curve[-1]) - f_star, floor))

    objective.__name__ = "final_log_gap"
    return objective


# --- the grid ------------------------------------------------------------------------------------


def lr_grid(lr_min: float, lr_max: float, per_decade: int = 4) -> list[float]:
    """Geometric lrs ``10**(k / per_decade)`` from ``lr_min`` to ``lr_max`` (both rounded to the grid)."""
    if not (lr_min > 0 and lr_max >= lr_min and math.isfinite(lr_max)):
        raise ValueError(f"lr range ({lr_min!r}, {lr_max!r}): expected 0 < lr_min <= lr_max < inf")
    if isinstance(per_decade, bool) or not isinstance(per_decade, int) or per_decade < 1:
        raise ValueError(f"per_decade={per_decade!r}: expected an int >= 1")
    lo = round(math.log10(lr_min) * per_decade)
    hi = round(math.log10(lr_max) * per_decade)
    return [_grid_lr(k, per_decade) for k in range(lo, hi + 1)]


def _grid_lr(k: int, per_decade: int) -> float:
    return float(f"{10 ** (k / per_decade):.12g}")  # 1e-3, not 0.0010000000000000002


# --- results -------------------------------------------------------------------------------------


@dataclass
class Tuning:
    """The outcome of the protocol.

    Attributes:
        lr: the winning learning rate.
        score: its median score.
        on_edge: the winner is still on an edge of the grid after every allowed extension.
        scores: ``{lr: [score per seed/start]}`` for every lr run (the grid, extensions included).
        extended: how many decades were added below and above (``(below, above)``).
        objective: the objective's name.
    """

    lr: float
    score: float
    on_edge: bool
    scores: dict[float, list[float]]
    extended: tuple[int, int] = (0, 0)
    objective: str = ""
    curves: dict = field(default_factory=dict, repr=False)  # lr -> list of loss curves (tune_landscape)

    def median(self, lr: float) -> float:
        """The lr's score: the median over seeds/starts (inf if any diverged)."""
        return _aggregate(self.scores[lr])

    def table(self) -> dict[float, float]:
        """``{lr: median score}``, lrs ascending."""
        return {lr: self.median(lr) for lr in sorted(self.scores)}

    def within(self, margin: float) -> list[float]:
        """The lrs whose median score is within ``margin`` of the best (how flat the optimum is)."""
        return [lr for lr, s in self.table().items() if s <= self.score + margin]


def _aggregate(per_seed: list[float]) -> float:
    """An lr's score: the median over seeds/starts, or inf if any of them diverged (a winner must be
    stable from every start, not only from most)."""
    if not all(math.isfinite(s) for s in per_seed):
        return math.inf
    return statistics.median(per_seed)


def _pick(medians: dict[float, float]) -> float:
    """The lr with the lowest median score; ties to the smaller lr."""
    return min(sorted(medians), key=lambda lr: medians[lr])


# --- the generic tuner ---------------------------------------------------------------------------


def tune(
    run_fn: Callable[[float, int], Sequence[float]],
    lrs: Iterable[float] | None = None,
    seeds: Iterable[int] = range(5),
    objective: Callable | None = None,
    *,
    per_decade: int | None = None,
    max_extensions: int = SITE["max_extensions"],
    batch_fn: Callable[[list[float], list[int]], dict] | None = None,
    lr_limit: float | None = None,
) -> Tuning:
    """The protocol over any training run: ``run_fn(lr, seed) -> loss curve``.

    Args:
        run_fn: trains once with learning rate ``lr`` and seed (or start index) ``seed``; returns the
            loss before the first step and after every step (a non-finite value once diverged).
        lrs: the grid, geometric; default :func:`lr_grid` over ``SITE``'s range.
        seeds: the seeds (or start indices); the median of their scores counts. Use an odd number.
        objective: ``curve -> float``, lower is better; default ``steps_to_tolerance(1e-3)``.
        per_decade: the grid's density, for extensions (default: read from ``lrs``).
        max_extensions: how many decades the grid may grow on each side when the winner is on it.
        batch_fn: optional ``(lrs, seeds) -> {(lr, seed): curve}`` that runs many at once
            (:func:`tune_landscape` passes a batched sweep); ``run_fn`` may then be None.
        lr_limit: lrs above it are never run (e.g. AdamW's ``0.1/weight_decay``: see
            :func:`tune_landscape`); a winner at the largest lr allowed is reported ``on_edge``.
    """
    seeds = list(seeds)
    if not seeds:
        raise ValueError("seeds is empty: expected at least one seed or start")
    objective = objective or steps_to_tolerance(1e-3)
    grid = sorted(float(lr) for lr in (lr_grid(SITE["lr_min"], SITE["lr_max"], SITE["per_decade"]) if lrs is None else lrs))
    if not grid or grid[0] <= 0 or not all(math.isfinite(lr) for lr in grid):
        raise ValueError(f"lrs={grid!r}: expected positive finite learning rates")
    if per_decade is None:
        per_decade = (max(1, round(1 / math.log10(grid[1] / grid[0]))) if len(grid) > 1 and grid[1] > grid[0]
                      else SITE["per_decade"])
    if run_fn is None and batch_fn is None:
        raise ValueError("give run_fn(lr, seed) -> losses (or batch_fn)")

    scores: dict[float, list[float]] = {}
    curves: dict[float, list] = {}

    if lr_limit is not None:
        grid = [lr for lr in grid if lr <= lr_limit * (1 + 1e-12)]
        if not grid:
            raise ValueError(f"every lr of the grid is above lr_limit={lr_limit!r}")

    def evaluate(new_lrs):
        new_lrs = [lr for lr in new_lrs if lr not in scores and (lr_limit is None or lr <= lr_limit * (1 + 1e-12))]
        if not new_lrs:
            return
        if batch_fn is not None:
            got = batch_fn(new_lrs, seeds)
            runs = {lr: [got[(lr, s)] for s in seeds] for lr in new_lrs}
        else:
            runs = {lr: [run_fn(lr, s) for s in seeds] for lr in new_lrs}
        for lr, cs in runs.items():
            scores[lr] = [float(objective(c)) for c in cs]
            curves[lr] = cs

    evaluate(grid)
    below = above = 0
    while True:
        medians = {lr: _aggregate(s) for lr, s in scores.items()}
        best = _pick(medians)
        lo, hi = min(scores), max(scores)
        at_limit = lr_limit is not None and _grid_lr(round(math.log10(hi) * per_decade) + 1, per_decade) > lr_limit * (1 + 1e-12)
        if best == lo and below < max_extensions and math.isfinite(medians[best]):
            k = round(math.log10(lo) * per_decade)
            evaluate([_grid_lr(k - j, per_decade) for j in range(1, per_decade + 1)])
            below += 1
        elif best == hi and above < max_extensions and not at_limit and math.isfinite(medians[best]):
            k = round(math.log10(hi) * per_decade)
            evaluate([_grid_lr(k + j, per_decade) for j in range(1, per_decade + 1)])
            above += 1
        else:
            break
    if not math.isfinite(medians[best]):
        raise ValueError(f"every lr diverged for most seeds (grid {min(scores):g} to {max(scores):g}): try smaller lrs")
    on_edge = best in (min(scores), max(scores))
    return Tuning(lr=best, score=medians[best], on_edge=on_edge, scores=scores, extended=(below, above),
                  objective=getattr(objective, "__name__", repr(objective)), curves=curves)


# --- 2-D landscapes ------------------------------------------------------------------------------


def starts_around(start, n: int = SITE["n_starts"], radius: float = SITE["start_radius"]) -> list[tuple[float, float]]:
    """``n`` starts: ``start`` itself and ``n - 1`` points at distance ``radius`` from it, evenly spread
    in angle beginning on the diagonal (45°, 135°, ...): the site's "several starts"."""
    x, y = (float(v) for v in start)
    out = [(x, y)]
    for k in range(n - 1):
        a = math.pi / 4 + 2 * math.pi * k / max(1, n - 1)
        out.append((x + radius * math.cos(a), y + radius * math.sin(a)))
    return out


def tune_landscape(
    landscape,
    optimizer,
    optimizer_kwargs: dict | None = None,
    *,
    steps: int,
    tol: float | None = None,
    starts=None,
    lrs: Iterable[float] | None = None,
    objective: Callable | None = None,
    relative: bool = False,
    max_extensions: int = SITE["max_extensions"],
    keep_curves: bool = False,
    lr_limit: float | None = None,
    **sweep_kwargs,
) -> Tuning:
    """The protocol on a 2-D landscape: every lr × every start as one batched ``optimessay.sweep.run``.

    Args:
        landscape, optimizer, optimizer_kwargs: as in ``sweep.run`` (the fixed hyperparameters).
        steps: the budget.
        tol: for the default objective ``steps_to_tolerance(tol, f*)`` (``f*``: the landscape's
            minimum value); ``relative=True`` makes it relative to each run's initial gap.
        starts: a list of (x, y); default :func:`starts_around` the landscape's default start.
        lrs, objective, max_extensions: as in :func:`tune`.
        lr_limit: as in :func:`tune`; default ``0.1/weight_decay`` for decoupled weight decay (AdamW):
            its decay ``θ ← (1 - lr·λ)θ`` then shrinks the weights by at most 10% per step. Without a
            limit the protocol finds ``lr = 1/λ``, where the decay jumps to the origin in one step and
            "wins" any landscape whose minimum is the origin, for no reason to do with optimization.
        sweep_kwargs: passed to ``sweep.run`` (e.g. ``noise``, ``seed``, ``dtype``).
    """
    from optimessay import landscapes, sweep

    land = landscapes.get(landscape)
    starts = starts_around(land.start) if starts is None else [tuple(float(v) for v in s) for s in starts]
    f_star = land.min_value or 0.0
    if objective is None:
        if tol is None:
            raise ValueError("give tol (for steps_to_tolerance) or an objective")
        objective = steps_to_tolerance(tol, f_star, relative=relative)
    fixed = dict(optimizer_kwargs or {})
    if "lr" in fixed:
        raise ValueError("give the learning rates to try as lrs=..., not in optimizer_kwargs")

    def batch(new_lrs, seeds):
        n_s = len(starts)
        lr_col = torch.tensor([lr for lr in new_lrs for _ in range(n_s)], dtype=torch.float64)
        pts = torch.tensor([starts[s] for _ in new_lrs for s in seeds], dtype=torch.float64)
        result = sweep.run(land, optimizer, {**fixed, "lr": lr_col}, starts=pts, steps=steps, **sweep_kwargs)
        losses = result.losses.clone()
        for i in result.diverged.nonzero().reshape(-1).tolist():  # a diverged walk: inf from where it stopped
            at = int(result.diverged_at[i])
            losses[i, max(at, 0):] = math.inf
        out = {}
        for i, (lr, s) in enumerate((lr, s) for lr in new_lrs for s in seeds):
            out[(lr, s)] = losses[i]
        return out

    decoupled = getattr(optimizer, "__name__", str(optimizer)).lower() == "adamw" or fixed.get("decoupled_weight_decay")
    if lr_limit is None and decoupled and fixed.get("weight_decay", 0.01 if decoupled else 0):
        lr_limit = 0.1 / fixed.get("weight_decay", 0.01)
    result = tune(None, lrs, range(len(starts)), objective, max_extensions=max_extensions, batch_fn=batch,
                  lr_limit=lr_limit)
    if not keep_curves:
        result.curves = {}
    return result
