r"""Momentum done properly: the optimal heavy ball against gradient descent, measured.

On a quadratic with Hessian eigenvalues in ``[λmin, λmax]`` (κ = λmax/λmin):

- gradient descent at its best fixed lr ``2/(λmin + λmax)`` contracts the error by
  ``(κ - 1)/(κ + 1)`` per step;
- heavy ball (torch's ``SGD(momentum=β)``: ``b ← βb + g, θ ← θ - αb``, i.e.
  ``θ_{t+1} = θ_t - α g_t + β(θ_t - θ_{t-1})``) at Polyak's ``α = 4/(√λmax + √λmin)²``,
  ``β = ((√κ - 1)/(√κ + 1))²`` contracts it by ``(√κ - 1)/(√κ + 1)`` per step.

:func:`rates` runs both with the package's SGD and measures the per-step contraction of the error
norm; :func:`steps_table` the steps to a millionfold loss reduction; :func:`buffer_direction` how far
the momentum buffer turns away from the current gradient (it is a polynomial in H applied to the
gradients, not the gradient rescaled); :func:`krylov_two_steps` that in two dimensions a method
that picks its step sizes from the gradients' span (conjugate gradients) finishes in two steps, which
is why the first-order lower bound is a statement about high dimensions.
"""

from __future__ import annotations

import math

import torch

from optimessay import landscapes, optimizers

__all__ = ["buffer_direction", "krylov_two_steps", "polyak", "rates", "steps_table"]


def polyak(kappa: float, lam_min: float = 1.0) -> dict:
    """Polyak's heavy-ball α, β and rate, and gradient descent's best lr and rate, for κ."""
    lam_max = kappa * lam_min
    sk = math.sqrt(kappa)
    return {
        "alpha": 4 / (math.sqrt(lam_max) + math.sqrt(lam_min)) ** 2,
        "beta": ((sk - 1) / (sk + 1)) ** 2,
        "rate_hb": (sk - 1) / (sk + 1),
        "lr_gd": 2 / (lam_min + lam_max),
        "rate_gd": (kappa - 1) / (kappa + 1),
    }


_PAIRS: dict = {}  # (kappa, theta, start) -> the longest pair of walks run so far (rates and steps_table share them)


def _pair(kappa, theta_degrees, steps, start) -> dict:
    """GD at its best lr and the heavy ball at Polyak's α, β on the quadratic κ turned by θ, from
    ``start``, ``steps`` steps each: ``{"gd": (‖θ_t‖, losses), "hb": (...)}``, both ``steps + 1`` long.

    Both walks run as one batched ``sweep.run`` (a per-walk lr and momentum; each walk is bit for bit
    the lone ``trajectory.run`` of its settings), and a shorter request is the prefix of a longer
    walk already run (a walk does not depend on its budget): :func:`rates` and :func:`steps_table`
    ask for the same walks with different budgets."""
    from optimessay import sweep

    key = (float(kappa), float(theta_degrees), tuple(float(v) for v in start))
    if key not in _PAIRS or _PAIRS[key][0] < steps:
        p = polyak(kappa)
        land = landscapes.quadratic(kappa, math.radians(theta_degrees))
        lr = torch.tensor([p["lr_gd"], p["alpha"]], dtype=torch.float64)
        beta = torch.tensor([0.0, p["beta"]], dtype=torch.float64)
        walks = sweep.run(land, optimizers.SGD, {"lr": lr, "momentum": beta},
                          starts=torch.tensor([key[2]] * 2, dtype=torch.float64), steps=steps)
        errors = walks.trajectories.contiguous().norm(dim=-1)
        if len(_PAIRS) >= 8:  # a few hundred kB each at most; the site asks for three
            _PAIRS.clear()
        _PAIRS[key] = (steps, errors, walks.losses.contiguous())
    _, errors, losses = _PAIRS[key]
    return {name: (errors[i, : steps + 1].contiguous(), losses[i, : steps + 1].contiguous())
            for i, name in enumerate(("gd", "hb"))}


def rates(kappas=(10, 100, 1000), theta_degrees: float = 30.0, start=(1.0, 1.0), shrink: float = 1e-10) -> dict:
    """Measured per-step contraction of ‖θ_t - θ*‖ for GD and the optimal heavy ball, against theory.

    Each method runs until its error has shrunk ``shrink``-fold; the measured rate is the geometric
    mean contraction over the second half of the run (the heavy ball's optimal parameters give a
    double root, ‖e_t‖ ∝ t·ρ^t, so the estimate uses ‖e_t‖/(t+1)). Returns ``{str(kappa): {...}}``.
    """
    out = {}
    for kappa in kappas:
        p = polyak(kappa)
        row = dict(p)
        budgets = {name: int(math.ceil(math.log(shrink) / math.log(p[f"rate_{name}"]))) + 10 for name in ("gd", "hb")}
        for name, double in (("gd", False), ("hb", True)):
            steps = budgets[name]
            err, _ = _pair(kappa, theta_degrees, max(budgets.values()), start)[name]
            err = err[: steps + 1]
            t = torch.arange(len(err), dtype=torch.float64)
            e = err / (t + 1) if double else err
            half = len(e) // 2
            row[f"measured_{name}"] = float((e[-1] / e[half]) ** (1.0 / (len(e) - 1 - half)))
        out[f"{kappa:g}"] = row
    return out


def _steps_to(losses, tol):
    f0 = float(losses[0])
    above = (losses > tol * f0).nonzero()
    return 0 if len(above) == 0 else int(above[-1]) + 1


def steps_table(kappas=(10, 100, 1000), theta_degrees: float = 30.0, start=(1.0, 1.0), tol: float = 1e-6) -> dict:
    """Steps until the loss stays below ``tol × f(start)``: GD at its best lr, heavy ball at Polyak's
    α, β. Returns ``{str(kappa): {"gd": int, "hb": int, "beta": float}}``."""
    out = {}
    for kappa in kappas:
        p = polyak(kappa)
        budget = int(math.ceil(math.log(tol) / (2 * math.log(p["rate_gd"])))) * 2 + 50
        walks = _pair(kappa, theta_degrees, budget, start)
        l_gd, l_hb = walks["gd"][1], walks["hb"][1]
        out[f"{kappa:g}"] = {"gd": _steps_to(l_gd, tol), "hb": _steps_to(l_hb, tol), "beta": p["beta"]}
    return out


def buffer_direction(kappa: float = 100.0, theta_degrees: float = 20.0, lr: float = 0.008, momentum: float = 0.9,
                     steps: int = 80, start=(-1.5, 1.0)) -> dict:
    """The angle between the momentum buffer (the step's direction) and the current gradient along a
    heavy-ball run: 0 would mean momentum only rescales the gradient. Returns the median and maximum
    angle in degrees over the steps."""
    land = landscapes.quadratic(kappa, math.radians(theta_degrees))
    p = torch.tensor(start, dtype=torch.float64, requires_grad=True)
    opt = optimizers.SGD([p], lr=lr, momentum=momentum)
    angles = []
    for _ in range(steps):
        opt.zero_grad()
        land.loss(p).backward()
        g = p.grad.detach().clone()
        opt.step()
        b = opt.state[p]["momentum_buffer"]
        cos = float(torch.dot(b, g) / (b.norm() * g.norm()))
        angles.append(math.degrees(math.acos(max(-1.0, min(1.0, cos)))))
    angles_t = torch.tensor(angles, dtype=torch.float64)
    return {"median_angle": float(angles_t.median()), "max_angle": float(angles_t.max()),
            "share_above_10": float((angles_t > 10).double().mean())}


def krylov_two_steps(kappa: float = 1000.0, theta_degrees: float = 30.0, start=(1.0, 1.0)) -> dict:
    """Conjugate gradients on quadratic(κ, θ): iterates in start + span of the gradients seen so far,
    as the lower bound assumes; in 2-D it reaches the minimum in 2 steps whatever κ. Returns the
    distance to the minimum after 0, 1 and 2 steps."""
    H = landscapes.quadratic_hessian(kappa, math.radians(theta_degrees))
    x = torch.tensor(start, dtype=torch.float64)
    r = -(H @ x)
    d = r.clone()
    dist = [float(x.norm())]
    for _ in range(2):
        a = (r @ r) / (d @ H @ d)
        x = x + a * d
        r_new = r - a * (H @ d)
        d = r_new + (r_new @ r_new) / (r @ r) * d
        r = r_new
        dist.append(float(x.norm()))
    return {"distance": dist}
