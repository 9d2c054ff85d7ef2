r"""Sign and max-norm methods: what it means that P undoes the gradient's size.

- Adam with ``betas=(0, 0)`` and ``eps=0`` steps exactly ``-lr·sign(g)`` (measured bitwise by
  :func:`optimessay.experiments.curvature.sign_descent`): P = 1/|g|, sign descent.
- Rprop's step is ``-s·sign(g)`` with per-element step sizes ``s`` that grow while the sign holds and
  shrink when it flips; the gradient's size never enters. :func:`scale_invariance` multiplies the loss
  by a power of two and measures how far each optimizer's walk moves: Rprop's does not move at all
  (bitwise), Adam's and Adamax's only through ``eps``, GD's completely.
- :func:`race` tunes sign descent, Rprop, Adamax and Adam on the banana with :mod:`optimessay.protocol`:
  plain sign descent cannot settle (its step never shrinks), Rprop's step sizes can.
"""

from __future__ import annotations

import torch

from optimessay import landscapes, protocol
from optimessay.optimizers.adam import Adam
from optimessay.optimizers.adamax import Adamax
from optimessay.optimizers.rprop import Rprop
from optimessay.optimizers.sgd import SGD

__all__ = ["CONTESTANTS", "race", "scale_invariance"]

# name -> (class, fixed hyperparameters): "sign descent" is Adam with no memory and no eps.
CONTESTANTS = {
    "sign descent": (Adam, {"betas": (0.0, 0.0), "eps": 0.0}),
    "Rprop": (Rprop, {}),
    "Adamax": (Adamax, {}),
    "Adam": (Adam, {}),
    "GD": (SGD, {}),
}


def scale_invariance(name: str, *, factor: float = 1024.0, lr: float = 1e-3, steps: int = 300,
                     landscape: str = "rosenbrock", dtype=torch.float64) -> float:
    """Largest |θ_t - θ'_t| over ``steps`` steps of ``name`` on ``f`` and on ``factor·f`` from the
    landscape's start, at the same lr (0.0: the walks are bitwise the same)."""
    if name not in CONTESTANTS:
        raise ValueError(f"optimizer {name!r}: expected one of {sorted(CONTESTANTS)}")
    land = landscapes.get(landscape)
    cls, kwargs = CONTESTANTS[name]
    walks = []
    for scale in (1.0, factor):
        p = torch.tensor(land.start, dtype=dtype, requires_grad=True)
        opt = cls([p], lr=lr, **kwargs)
        points = []
        for _ in range(steps):
            opt.zero_grad()
            (scale * land.fn(p[0], p[1])).backward()
            opt.step()
            points.append(p.detach().clone())
        walks.append(torch.stack(points))
    return float((walks[0] - walks[1]).abs().max())


def race(names=("sign descent", "Rprop", "Adamax", "Adam"), *, landscape: str = "rosenbrock", steps: int = 2000,
         tol: float = 1e-6) -> dict:
    """Each optimizer tuned on the landscape by the site's protocol (steps until the loss gap stays
    below ``tol``·its start value; 5 starts, median; 4 lrs/decade from 1e-5 to 10, extended off
    the edges). Returns ``{name: {"lr", "steps", "arrived", "on_edge", "final_gap"}}``; ``final_gap``
    is the median over the starts of the last loss gap at the tuned lr."""
    land = landscapes.get(landscape)
    out = {}
    for name in names:
        cls, fixed = CONTESTANTS[name]
        tuning = protocol.tune_landscape(land, cls, fixed, steps=steps, tol=tol, relative=True, keep_curves=True)
        curves = tuning.curves.get(tuning.lr) or []
        gaps = sorted(float(c[-1]) - (land.min_value or 0.0) for c in curves) or [float("nan")]
        out[name] = {"lr": float(tuning.lr), "steps": float(tuning.score), "arrived": tuning.score <= steps,
                     "on_edge": bool(tuning.on_edge), "final_gap": gaps[len(gaps) // 2]}
    return out
