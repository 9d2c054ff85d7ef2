r"""Invariances: what each optimizer's trajectory ignores, and the θ-crossing they predict.

Two transformations of a problem, and who does not notice them:

- **A rotation of parameter space.** Run on the quadratic turned by θ from the turned start, turn the
  trajectory back: gradient descent, heavy ball and Nesterov give the unturned trajectory (their
  update is a linear combination of gradients, and a rotation commutes with that); RMSprop, Adam
  and Adagrad do not (they divide coordinate by coordinate, and a rotation mixes coordinates).
- **A per-coordinate rescaling of the gradient.** ``f = ½(x² + c·y²)`` multiplies the y gradient by
  ``c`` along the same path: RMSprop, Adam and Adagrad take the same steps whatever ``c`` (their
  update depends on each coordinate's gradient only through ratios such as ``m/√v``; ε breaks it
  when gradients get as small as ε), gradient descent does not.
- Newton's step ``H⁻¹ g`` is invariant to both (to every invertible linear change of coordinates).

:func:`invariance_table` measures both deviations for each method. :func:`theta_crossing` measures
what they predict: steps to a millionfold loss reduction against the valley's angle θ, each method
tuned by :mod:`optimessay.protocol` at each (κ, θ). Rotation-invariant methods give flat lines (the
starts turn with the valley); diagonal methods are fastest at θ = 0 and slow down as θ grows, so the
curves cross.
"""

from __future__ import annotations

import math

import torch

from optimessay import landscapes, optimizers, protocol, sweep, trajectory
from optimessay.landscapes import Landscape

__all__ = ["INVARIANCE_METHODS", "settling", "THETA_CONTESTANTS", "batched_quadratic", "invariance_table", "kappa_diag",
           "theta_crossing"]

# (name, optimizer class name, fixed kwargs): torch's defaults except the lr, which the protocol tunes
THETA_CONTESTANTS = (
    ("GD", "SGD", {}),
    ("Nesterov", "SGD", {"momentum": 0.9, "nesterov": True}),
    ("RMSprop", "RMSprop", {}),
    ("Adam", "Adam", {}),
    ("Adagrad", "Adagrad", {}),
)

# the methods of the invariance table, at lrs where none diverges on the test quadratics
INVARIANCE_METHODS = (
    ("GD", "SGD", {"lr": 0.05}),
    ("Momentum", "SGD", {"lr": 0.02, "momentum": 0.9}),
    ("Nesterov", "SGD", {"lr": 0.02, "momentum": 0.9, "nesterov": True}),
    ("RMSprop", "RMSprop", {"lr": 0.01}),
    ("Adam", "Adam", {"lr": 0.05}),
    ("Adagrad", "Adagrad", {"lr": 0.1}),
    ("Newton", None, {"lr": 0.5}),
)


def _rotate(points: torch.Tensor, theta: float) -> torch.Tensor:
    """Points (..., 2) turned by ``theta`` radians (counter-clockwise)."""
    c, s = math.cos(theta), math.sin(theta)
    R = torch.tensor([[c, -s], [s, c]], dtype=points.dtype)
    return points @ R.T


def _walk(land, cls_name, kwargs, start, steps):
    if cls_name is None:  # Newton, damped
        return trajectory.newton(land, start=start, steps=steps, lr=kwargs["lr"])
    return trajectory.run(land, getattr(optimizers, cls_name), dict(kwargs), start=start, steps=steps)


def invariance_table(kappa: float = 10.0, theta_degrees: float = 30.0, scale: float = 10.0, steps: int = 50,
                     start=(-1.5, 1.0)) -> dict:
    """Each method's deviation (max distance between points, over the walk, relative to the start's
    distance from the minimum) under a rotation and under a per-coordinate rescaling.

    rotation: quadratic(κ, 0) from ``start`` against quadratic(κ, θ) from the turned start, turned back.
    scale: ``½(x² + y²)`` against ``½(x² + scale·y²)`` (the y gradient × ``scale`` along the same path).
    Returns ``{name: {"rotation": float, "scale": float}}``.
    """
    theta = math.radians(theta_degrees)
    s = torch.tensor(start, dtype=torch.float64)
    size = float(s.norm())
    flat, turned = landscapes.quadratic(kappa, 0.0), landscapes.quadratic(kappa, theta)
    round_, stretched = landscapes.quadratic(1.0, 0.0), landscapes.quadratic(scale, 0.0)
    start_turned = tuple(_rotate(s, theta).tolist())
    out = {}
    for name, cls_name, kwargs in INVARIANCE_METHODS:
        a = _walk(flat, cls_name, kwargs, tuple(s.tolist()), steps).points
        b = _rotate(_walk(turned, cls_name, kwargs, start_turned, steps).points, -theta)
        c = _walk(round_, cls_name, kwargs, tuple(s.tolist()), steps).points
        d = _walk(stretched, cls_name, kwargs, tuple(s.tolist()), steps).points
        out[name] = {"rotation": float((a - b).norm(dim=-1).max()) / size,
                     "scale": float((c - d).norm(dim=-1).max()) / size}
    return out


def kappa_diag(kappa: float, theta_degrees: float) -> float:
    """The condition number left after the Jacobi preconditioner diag(H)⁻¹ on quadratic(κ, θ)."""
    H = landscapes.quadratic_hessian(kappa, math.radians(theta_degrees))
    d = torch.diagonal(H).rsqrt()
    ev = torch.linalg.eigvalsh(d[:, None] * H * d[None, :])
    return float(ev[-1] / ev[0])


def batched_quadratic(kappas, thetas, cap: float = 1e12) -> Landscape:
    """One landscape whose walk ``i`` sees quadratic(kappas[i], thetas[i]) (thetas in radians), for a
    batched sweep where no walk may leave the batch: beyond ``f = cap`` the quadratic continues as
    ``√(2·cap·q) - cap`` (q = u² + κ w²; same value and slope at the seam, bounded slope), so a walk
    that would overflow stays finite. Runs whose loss passes ``cap`` count as diverged (the caller
    checks: :func:`theta_crossing` does). Only for the (N, 2) points of the sweep it was built for."""
    k = torch.as_tensor(kappas, dtype=torch.float64)
    c = torch.cos(torch.as_tensor(thetas, dtype=torch.float64))
    s = torch.sin(torch.as_tensor(thetas, dtype=torch.float64))
    q_cap = 2 * cap

    def fn(x, y):
        u = c * x + s * y
        w = -s * x + c * y
        q = u**2 + k * w**2
        far = torch.sqrt(2 * cap * q.clamp_min(q_cap)) - cap  # equals q/2, with the same slope, at q = 2 cap
        return torch.where(q <= q_cap, 0.5 * q, far)

    return Landscape(name="quadratic-batch", title="quadratics (batched)", fn=fn, x_range=(-2.0, 2.0),
                     y_range=(-2.0, 2.0), minima=((0.0, 0.0),), log_scale=False, start=(-1.5, 1.0))


def theta_crossing(
    kappas=(10, 100, 1000),
    thetas_degrees=(0, 5, 10, 15, 20, 25, 30, 35, 40, 45),
    *,
    steps: int = 4000,
    tol: float = 1e-6,
    lrs=None,
    starts=None,
    contestants=THETA_CONTESTANTS,
) -> dict:
    """Steps to reduce the loss ``1/tol``-fold against θ, each contestant tuned at each (κ, θ).

    The protocol of :mod:`optimessay.protocol`: objective ``steps_to_tolerance(tol, relative=True)``
    (the loss stays at or below ``tol × f(start)`` for good), median over 5 starts (the default start
    (-1.5, 1) in the valley's own coordinates and 4 around it at distance 0.1, turned with the valley,
    so a rotation-invariant method sees the same problem at every θ), lr grid 4 per decade from
    1e-5 to 100 (one batched sweep per contestant; a winner on the grid's edge is reported in
    ``on_edge``), budget ``steps``. A run whose loss passes 1e12 counts as diverged.

    Returns a dict of plain data: ``kappas``, ``thetas``, ``budget``, ``tol``, and for each contestant
    name ``steps[name][str(kappa)]`` (a list over θ; ``None`` where the median run did not arrive),
    ``lr[name][str(kappa)]``, ``on_edge[name][str(kappa)]``, plus ``kappa_diag[str(kappa)]`` over θ
    and ``crossings[str(kappa)]["<name>_vs_<GD|Nesterov>"]``: the first θ at which the adaptive
    method takes more steps than GD (or Nesterov), None if never.
    """
    kappas = [float(k) for k in kappas]
    thetas = [float(t) for t in thetas_degrees]
    grid = protocol.lr_grid(protocol.SITE["lr_min"], 100.0, protocol.SITE["per_decade"]) if lrs is None else list(lrs)
    base = protocol.starts_around((-1.5, 1.0)) if starts is None else [tuple(p) for p in starts]
    problems = [(k, t) for k in kappas for t in thetas]
    n_s = len(base)
    rows = [(pi, lr, si) for pi in range(len(problems)) for lr in grid for si in range(n_s)]
    kap = [problems[pi][0] for pi, _, _ in rows]
    th = [math.radians(problems[pi][1]) for pi, _, _ in rows]
    pts = torch.tensor([base[si] for _, _, si in rows], dtype=torch.float64)
    pts = torch.stack([_rotate(p, t) for p, t in zip(pts, th, strict=True)])  # the start turns with the valley
    land = batched_quadratic(kap, th)

    out = {"kappas": kappas, "thetas": thetas, "budget": steps, "tol": tol, "lrs": grid,
           "steps": {}, "lr": {}, "on_edge": {}, "kappa_diag": {}, "crossings": {}}
    for k in kappas:
        out["kappa_diag"][f"{k:g}"] = [kappa_diag(k, t) for t in thetas]
    for name, cls_name, fixed in contestants:
        lr_col = torch.tensor([lr for _, lr, _ in rows], dtype=torch.float64)
        result = sweep.run(land, getattr(optimizers, cls_name), {**fixed, "lr": lr_col}, starts=pts, steps=steps)
        if bool(result.diverged.any()):  # cannot happen with the capped quadratic; say so if it does
            raise RuntimeError(f"{name}: {int(result.diverged.sum())} walks left the batch")
        losses = result.losses.clone()
        losses[(losses > 1e12).any(1)] = math.inf  # a capped run counts as diverged
        # every walk's score at once (the objective's own floats), then the protocol on the scores
        scores = dict(zip(rows, protocol.steps_to_tolerance_many(losses, tol, 0.0, relative=True), strict=True))

        def lookup(new, seeds, pi, scores=scores):
            return {(lr, s): scores[(pi, lr, s)] for lr in new for s in seeds}

        per_k_steps, per_k_lr, per_k_edge = {}, {}, {}
        for pi, (k, _theta) in enumerate(problems):
            tuned = protocol.tune(None, grid, range(n_s), float, max_extensions=0,
                                  batch_fn=lambda new, seeds, pi=pi: lookup(new, seeds, pi))
            arrived = tuned.score <= steps
            per_k_steps.setdefault(f"{k:g}", []).append(int(tuned.score) if arrived else None)
            per_k_lr.setdefault(f"{k:g}", []).append(tuned.lr)
            per_k_edge.setdefault(f"{k:g}", []).append(tuned.on_edge)
        out["steps"][name], out["lr"][name], out["on_edge"][name] = per_k_steps, per_k_lr, per_k_edge

    for k in (f"{k:g}" for k in kappas):
        out["crossings"][k] = {}
        for ref in ("GD", "Nesterov"):
            if ref not in out["steps"]:
                continue
            ref_steps = out["steps"][ref][k]
            for name in out["steps"]:
                if name in ("GD", "Nesterov"):
                    continue
                mine = out["steps"][name][k]
                first = next((t for t, a, b in zip(thetas, mine, ref_steps, strict=True)
                              if b is not None and (a is None or a > b)), None)
                out["crossings"][k][f"{name}_vs_{ref}"] = first
    return out


def settling(optimizer: str = "RMSprop", kwargs=None, kappa: float = 100.0, theta_degrees: float = 0.0,
             steps: int = 4000, tol: float = 1e-6, start=(-1.5, 1.0)) -> dict:
    """Does a run that reaches ``tol × f(start)`` stay there? ``first``: the first step at or below it
    (-1: never), ``exits``: how many times the loss goes back above it afterwards, ``worst_after``: the
    largest loss after the first arrival, relative to f(start), ``final``: the final loss, relative."""
    land = landscapes.quadratic(kappa, math.radians(theta_degrees))
    # one walk as a batch of one sweep: bit for bit trajectory.run's losses, a few times faster
    losses = sweep.run(land, getattr(optimizers, optimizer), dict(kwargs or {"lr": 0.0316}),
                       starts=torch.tensor([start], dtype=torch.float64), steps=steps).losses[0].contiguous()
    f0 = float(losses[0])
    below = losses <= tol * f0
    idx = below.nonzero().reshape(-1)
    if len(idx) == 0:
        return {"first": -1, "exits": 0, "worst_after": float("nan"), "final": float(losses[-1]) / f0}
    first = int(idx[0])
    return {"first": first, "exits": int((below[:-1] & ~below[1:]).sum()),
            "worst_after": float(losses[first:].max()) / f0, "final": float(losses[-1]) / f0}
