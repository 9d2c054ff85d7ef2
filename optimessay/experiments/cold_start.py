r"""RMSprop's cold start, separated from its memory and from the valley's shape.

torch's RMSprop starts its average at ``v_0 = 0`` and does not correct the bias: at the default
α = 0.99, ``v_1 = 0.01 g_1²``, so ``√v_1 = 0.1 |g_1|`` and the first step is ``10 × lr`` in every
coordinate (then 7.1×, 5.8×, ... as ``v`` fills). The *warm* variant is the same rule with the bias
corrected, ``v̂_t = v_t / (1 - α^t)``: exactly Adam with ``betas=(0, α)`` (no first moment), whose
first step is ``lr`` per coordinate. Comparing the two isolates the cold start; comparing α = 0.99
with α = 0.9 isolates the memory; comparing landscapes isolates the valley's shape:

- ``banana``: Rosenbrock's curved valley, from (-1.5, 2.5);
- ``straight``: the same valley straightened and aligned with the axes, ``(1 - x)² + 100 z²`` with
  ``z = y - x²`` (from the banana's start mapped there, (-1.5, 0.25)): its Hessian is diagonal;
- ``turned``: ``straight`` turned by 45° (same start and minimum, turned): the same valley, straight,
  but not aligned with the axes.

:func:`stall_table` tunes every variant on every landscape by :mod:`optimessay.protocol` and reports
the median final loss. :func:`saddle_escape` measures which part of the adaptive methods' fast
escape from the saddle is the cold start and which is the rescaling of small gradients.
"""

from __future__ import annotations

import math
import statistics

import torch

from optimessay import landscapes, optimizers, protocol, trajectory
from optimessay.landscapes import Landscape

__all__ = ["VARIANTS", "saddle_escape", "stall_table", "straight_valley"]

# (name, class name, fixed kwargs)
VARIANTS = (
    ("RMSprop (cold start, α 0.99)", "RMSprop", {}),
    ("RMSprop, bias-corrected (warm, α 0.99)", "Adam", {"betas": (0.0, 0.99)}),
    ("RMSprop (cold start, α 0.9)", "RMSprop", {"alpha": 0.9}),
    ("RMSprop, bias-corrected (warm, α 0.9)", "Adam", {"betas": (0.0, 0.9)}),
    ("Adagrad", "Adagrad", {}),
    ("Adam", "Adam", {}),
    ("SGD", "SGD", {}),
)
SHORT = {"RMSprop (cold start, α 0.99)": "rmsprop_cold_099", "RMSprop, bias-corrected (warm, α 0.99)": "rmsprop_warm_099",
         "RMSprop (cold start, α 0.9)": "rmsprop_cold_09", "RMSprop, bias-corrected (warm, α 0.9)": "rmsprop_warm_09",
         "Adagrad": "adagrad", "Adam": "adam", "SGD": "sgd"}

BANANA_START = (-1.5, 2.5)


def straight_valley(theta_degrees: float = 0.0) -> Landscape:
    """The banana's valley straightened, ``(1 - u)² + 100 w²``, in coordinates turned by θ:
    ``u = x cos θ + y sin θ``, ``w = -x sin θ + y cos θ``. Minimum: (1, 0) turned by θ."""
    th = math.radians(theta_degrees)
    c, s = math.cos(th), math.sin(th)

    def fn(x, y):
        u = c * x + s * y
        w = -s * x + c * y
        return (1 - u) ** 2 + 100 * w**2

    start_u, start_w = BANANA_START[0], BANANA_START[1] - BANANA_START[0] ** 2
    return Landscape(
        name="straight-valley", title=f"Straightened banana (θ={theta_degrees:g}°)", fn=fn,
        x_range=(-2.0, 2.0), y_range=(-2.0, 2.0), minima=((c, s),), log_scale=True,
        start=(c * start_u - s * start_w, s * start_u + c * start_w),
    )


def _landscape(name: str) -> Landscape:
    return {"banana": lambda: landscapes.rosenbrock(), "straight": lambda: straight_valley(0.0),
            "turned": lambda: straight_valley(45.0)}[name]()


def stall_table(landscapes_=("banana", "straight", "turned"), variants=VARIANTS, steps: int = 300,
                tol: float = 1e-3, lrs=None) -> dict:
    """Each variant tuned by the protocol (steps to ``tol`` for good, else the final gap; median over
    5 starts; 4 lrs per decade from 1e-5 to 10, extended if the winner is on an edge) on each
    landscape, budget ``steps``. Returns ``{landscape: {short name: {"lr", "final_loss", "score",
    "on_edge"}}}``; ``final_loss`` is the median over the starts at the tuned lr."""
    out = {}
    for lname in landscapes_:
        land = _landscape(lname)
        row = {}
        for name, cls_name, fixed in variants:
            tuned = protocol.tune_landscape(land, getattr(optimizers, cls_name), fixed, steps=steps, tol=tol,
                                            lrs=lrs, keep_curves=True)
            finals = [float(c[-1]) for c in tuned.curves[tuned.lr]]
            row[SHORT.get(name, name)] = {"lr": tuned.lr, "final_loss": statistics.median(finals),
                                          "score": tuned.score, "on_edge": tuned.on_edge}
        out[lname] = row
    return out


def first_steps(alpha: float = 0.99, steps: int = 5) -> dict:
    """The ratio step length / lr of RMSprop's first steps on a constant gradient: cold (torch) and
    bias-corrected (Adam with betas (0, α)). Cold: 1/√(1 - α^t); warm: 1."""
    out = {"cold": [], "warm": []}
    for key, cls, kwargs in (("cold", optimizers.RMSprop, {"alpha": alpha}),
                             ("warm", optimizers.Adam, {"betas": (0.0, alpha)})):
        p = torch.zeros(1, dtype=torch.float64, requires_grad=True)
        opt = cls([p], lr=1e-3, eps=0.0, **kwargs)
        for _ in range(steps):
            before = p.detach().clone()
            p.grad = torch.ones(1, dtype=torch.float64)
            opt.step()
            out[key].append(float((before - p.detach()).abs()) / 1e-3)
    return out


def saddle_escape(lr: float = 0.1, steps: int = 100, threshold: float = 0.5) -> dict:
    """Steps until |y| > ``threshold`` on the saddle from (-1.5, 0.05), at the same lr for each method,
    and the y after the first step. Returns ``{short name: {"escape": int | None, "y1": float}}``."""
    land = landscapes.saddle()
    methods = (("sgd", "SGD", {}), ("momentum", "SGD", {"momentum": 0.9}), ("adam", "Adam", {}),
               ("adagrad", "Adagrad", {}), ("rmsprop_cold_099", "RMSprop", {}),
               ("rmsprop_warm_099", "Adam", {"betas": (0.0, 0.99)}))
    out = {}
    for short, cls_name, fixed in methods:
        walk = trajectory.run(land, getattr(optimizers, cls_name), {"lr": lr, **fixed}, steps=steps)
        y = walk.points[:, 1].abs()
        over = (y > threshold).nonzero()
        out[short] = {"escape": int(over[0]) if len(over) else None, "y1": float(walk.points[1, 1])}
    return out
