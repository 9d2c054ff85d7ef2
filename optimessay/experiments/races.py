r"""The races of the site, measured: each contestant at its protocol-tuned lr, from several starts.

The lrs come from :func:`optimessay.protocol.tune_landscape` (the figure modules call it through
``scripts/figures/_shared._tuned_lr``); the functions here measure what the races then show, so the
pages can quote it: :func:`race_stats` (the median over the protocol's 5 starts of the final loss and
of the steps to the tolerance, and the run from the landscape's own start), :func:`other_starts` (the
same lrs from starts the tuning never saw), :func:`same_lr` (everybody at one shared lr).
"""

from __future__ import annotations

import math
import statistics

import torch

from optimessay import landscapes, optimizers, protocol, trajectory

__all__ = ["other_starts", "race_stats", "same_lr"]


def _walk(land, cls_name, kwargs, start, steps):
    return trajectory.run(land, getattr(optimizers, cls_name), dict(kwargs), start=start, steps=steps)


def _walks(land, cls_name, kwargs, starts, steps):
    """One walk per start as one batched :func:`optimessay.sweep.run` (the same hyperparameters for
    every walk: each is bit for bit the lone ``trajectory.run`` from its start, a few times faster).
    Returns ``(losses (N, steps + 1), diverged (N,) bool)``."""
    from optimessay import sweep

    points = torch.tensor([tuple(float(v) for v in s) for s in starts], dtype=torch.float64)
    result = sweep.run(land, getattr(optimizers, cls_name), dict(kwargs), starts=points, steps=steps)
    return result.losses.contiguous(), result.diverged_at >= 0  # rows laid out as a lone walk's (same sums)


def race_stats(landscape, cls_name: str, fixed: dict, lr: float, steps: int, tol: float = 1e-6) -> dict:
    """One contestant at ``lr`` from the protocol's 5 starts. Returns ``final_loss`` (median over the
    starts), ``final_loss_own_start`` (from the landscape's start, the run the race shows),
    ``arrived`` (how many of the 5 starts stay below ``tol`` × their initial gap by the end) and
    ``steps_to_tol`` (the median steps to that tolerance, or -1 if the median run does not arrive),
    ``exact_zero_step`` (from the landscape's start: the first step whose loss is exactly f*, -1: none).
    The 5 walks run as one batch (:func:`_walks`)."""
    land = landscapes.get(landscape)
    f_star = land.min_value or 0.0
    objective = protocol.steps_to_tolerance(tol, f_star, relative=True)
    losses, _ = _walks(land, cls_name, {"lr": lr, **fixed}, protocol.starts_around(land.start), steps)
    finals = [float(curve[-1]) - f_star for curve in losses]
    scores = [objective(curve) for curve in losses]
    hits = (losses[0] == f_star).nonzero()
    zero = int(hits[0]) if len(hits) else -1
    median_score = statistics.median(scores)
    return {"final_loss": statistics.median(finals), "final_loss_own_start": finals[0],
            "arrived": sum(s <= steps for s in scores),
            "steps_to_tol": int(median_score) if median_score <= steps else -1, "exact_zero_step": zero}


def other_starts(landscape, contestants, lrs: dict, starts, steps: int, last: int = 30) -> list[dict]:
    """The tuned lrs (``{name: lr}``) from other starts: per start, each contestant's mean loss over
    the last ``last`` steps (``inf`` if it diverged), ranked. ``contestants``: (name, class name, fixed).
    Each contestant's walks from every start run as one batch (:func:`_walks`)."""
    land = landscapes.get(landscape)
    starts = [tuple(start) for start in starts]
    scores = [{} for _ in starts]
    for name, cls_name, fixed in contestants:
        losses, diverged = _walks(land, cls_name, {"lr": lrs[name], **fixed}, starts, steps)
        for i, curve in enumerate(losses):
            tail = curve[-last:]
            scores[i][name] = (math.inf if bool(diverged[i]) or not bool(tail.isfinite().all())
                               else float(tail.mean()))
    out = []
    for start, row in zip(starts, scores, strict=True):
        ranked = sorted(row, key=lambda n: row[n])
        out.append({"start": start, "scores": row, "ranking": ranked,
                    "diverged": [n for n in ranked if math.isinf(row[n])]})
    return out


def same_lr(landscape, contestants, lr: float, steps: int) -> dict:
    """Every contestant at one shared ``lr`` from the landscape's start: ``{name: (first step length,
    final loss)}``."""
    land = landscapes.get(landscape)
    out = {}
    for name, cls_name, fixed in contestants:
        walk = _walk(land, cls_name, {"lr": lr, **fixed}, land.start, steps)
        out[name] = (float((walk.points[1] - walk.points[0]).norm()), float(walk.losses[-1]))
    return out
