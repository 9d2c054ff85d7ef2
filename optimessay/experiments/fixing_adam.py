r"""Fixing Adam: NAdam, RAdam, AMSGrad and Adadelta, each a change to one of Adam's parts.

- :func:`radam_warmup`: RAdam's variance rectification. While the length ρ_t of the approximated simple
  moving average is ≤ 5, the variance of the adaptive step is not defined and RAdam takes momentum-SGD
  steps (P = 1); measured from ``RAdam.preconditioner`` step by step.
- :func:`amsgrad_monotone`: AMSGrad keeps the running maximum of v, so its P never grows; Adam's does
  when the gradients shrink.
- :func:`race`: Adam, NAdam, RAdam, AMSGrad and Adadelta tuned on the banana by the site's protocol.
"""

from __future__ import annotations

import torch

from optimessay import landscapes, protocol
from optimessay.optimizers.adadelta import Adadelta
from optimessay.optimizers.adam import Adam
from optimessay.optimizers.nadam import NAdam
from optimessay.optimizers.radam import RAdam

__all__ = ["CONTESTANTS", "amsgrad_monotone", "race", "radam_warmup"]

CONTESTANTS = {
    "Adam": (Adam, {}),
    "NAdam": (NAdam, {}),
    "RAdam": (RAdam, {}),
    "AMSGrad": (Adam, {"amsgrad": True}),
    "Adadelta": (Adadelta, {}),
}


def radam_warmup(beta2: float = 0.999, steps: int = 10, seed: int = 0) -> dict:
    """Step RAdam on random gradients; return the first step whose P is not all ones (the first
    rectified step) and ρ_t of the steps before and at it, from the formula torch uses."""
    gen = torch.Generator().manual_seed(seed)
    p = torch.zeros(100, dtype=torch.float64, requires_grad=True)
    opt = RAdam([p], lr=1e-3, betas=(0.9, beta2))
    rho_inf = 2 / (1 - beta2) - 1
    first = -1
    for t in range(1, steps + 1):
        p.grad = torch.randn(100, generator=gen, dtype=torch.float64)
        opt.step()
        if first < 0 and not bool((opt.preconditioner(p) == 1).all()):
            first = t
    rho = [rho_inf - 2 * t * beta2**t / (1 - beta2**t) for t in range(1, steps + 1)]
    return {"first_rectified_step": first, "rho_inf": rho_inf,
            "rho_before": rho[first - 2] if first > 1 else float("nan"), "rho_at": rho[first - 1] if first > 0 else float("nan")}


def amsgrad_monotone(steps: int = 200, seed: int = 0) -> dict:
    """Gradients that are large for the first half and 100× smaller after: P after the last step over
    P at the drop (the median over coordinates), for Adam and for AMSGrad. (Torch's AMSGrad keeps the
    maximum of the *uncorrected* v and then divides by 1-β2ᵗ, so even its P grows slightly with t.)"""
    gen = torch.Generator().manual_seed(seed)
    grads = torch.randn(steps, 10, generator=gen, dtype=torch.float64)
    grads[steps // 2:] /= 100
    out = {}
    for name, amsgrad in (("adam", False), ("amsgrad", True)):
        p = torch.zeros(10, dtype=torch.float64, requires_grad=True)
        opt = Adam([p], lr=1e-3, amsgrad=amsgrad)
        at_drop = None
        for t, g in enumerate(grads, start=1):
            p.grad = g.clone()
            opt.step()
            if t == steps // 2:
                at_drop = opt.preconditioner(p).clone()
        out[f"{name}_growth"] = float((opt.preconditioner(p) / at_drop).median())
    return out


def race(names=tuple(CONTESTANTS), *, landscape: str = "rosenbrock", steps: int = 2000, tol: float = 1e-6) -> dict:
    """Each optimizer tuned on the landscape by the site's protocol (as :func:`optimessay.experiments.sign.race`)."""
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
