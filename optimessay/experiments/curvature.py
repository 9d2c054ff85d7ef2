r"""When does Adam's √v track curvature? Squared gradients, the Fisher matrix and Gauss–Newton.

The link, and its assumptions. For a loss that is a negative log-likelihood ``ℓ(θ; x, y)`` of a
model that is *well specified* (the data come from the model at θ*), the expected outer product of
per-example gradients at θ* is the Fisher matrix, and the Fisher equals the expected Hessian there
(and, for squared error or any exponential-family output, the Gauss–Newton matrix ``Jᵀ H_out J``).
So at θ*, ``E[g gᵀ] = F = H`` and its diagonal ``E[g_i²]`` is the curvature diag(H): exactly what Adam's
``v`` estimates, *if* its gradients are per-example (or small-batch) gradients and the model is near θ*.

Two consequences, both measured by :func:`squared_gradient_vs_curvature` on noisy least squares
(features with scales spread over two decades, so diag(H) spans four):

- near θ*, the gradient is all noise and ``E[g_i²] ∝ H_ii`` (log-log slope 1): ``√v ∝ √H_ii`` and Adam's
  P ∝ diag(H)^(-1/2), the *square root* of the Jacobi preconditioner, not diag(H)⁻¹;
- far from θ* with full-batch gradients, ``g_i = H_ii e_i``: ``g_i² ∝ H_ii² e_i²`` (slope 2 when the
  errors e_i are alike): then √v ∝ H_ii |e_i|, Jacobi scaled by the distance, and it is the distance,
  not the curvature, that v mostly measures.

On a deterministic 2-D landscape there is no noise: v is g² of the path, the second case. Outside
the assumptions (a misspecified model, θ far from θ*, large batches, a loss that is not a
likelihood), ``E[g²]`` is the "empirical Fisher", which can differ from curvature by orders of magnitude.

:func:`sign_descent` checks that Adam with ``betas=(0, 0)`` and ``eps=0`` steps exactly ``-lr·sign(g)``.
"""

from __future__ import annotations

import math

import torch

from optimessay import optimizers

__all__ = ["sign_descent", "squared_gradient_vs_curvature"]


def _slope(x: torch.Tensor, y: torch.Tensor) -> float:
    """Least-squares slope of log y against log x."""
    lx, ly = x.log(), y.log()
    lx, ly = lx - lx.mean(), ly - ly.mean()
    return float((lx * ly).sum() / (lx * lx).sum())


def squared_gradient_vs_curvature(d: int = 20, n: int = 4000, batch: int = 8, noise: float = 1.0,
                                  far: float = 3.0, draws: int = 400, seed: int = 0) -> dict:
    """Noisy least squares ``y = X θ* + noise·ε``, feature i with scale ``s_i`` (10^-1 .. 10^1), loss
    ``½ mean (xᵀθ - y)²``: H = diag(s_i²) (the features are independent). Measures the mean of g_i²
    over ``draws`` mini-batches of ``batch`` examples at θ*, g_i² of the full-batch gradient at
    θ* + ``far``·(1, ..., 1) (a deterministic gradient, as on the site's 2-D landscapes), and the
    log-log slope of each against H_ii. Returns ``{"slope_at_optimum", "slope_far", "h", "g2_opt",
    "g2_far"}`` (lists)."""
    gen = torch.Generator().manual_seed(seed)
    scales = torch.logspace(-1, 1, d, dtype=torch.float64)
    X = torch.randn(n, d, generator=gen, dtype=torch.float64) * scales
    theta_star = torch.randn(d, generator=gen, dtype=torch.float64)
    y = X @ theta_star + noise * torch.randn(n, generator=gen, dtype=torch.float64)
    h = scales**2  # E[x_i²]: the Hessian's diagonal (and its only entries, in expectation)

    def mean_g2(theta):
        acc = torch.zeros(d, dtype=torch.float64)
        for _ in range(draws):
            idx = torch.randint(0, n, (batch,), generator=gen)
            Xb, yb = X[idx], y[idx]
            g = Xb.T @ (Xb @ theta - yb) / batch
            acc += g * g
        return acc / draws

    g2_opt = mean_g2(theta_star)
    e = torch.full((d,), far, dtype=torch.float64)
    g_full = X.T @ (X @ (theta_star + e) - y) / n  # the full-batch gradient far from θ*: ≈ H e
    g2_far = g_full * g_full
    return {"slope_at_optimum": _slope(h, g2_opt), "slope_far": _slope(h, g2_far),
            "h": h.tolist(), "g2_opt": g2_opt.tolist(), "g2_far": g2_far.tolist()}


def sign_descent(n: int = 1000, steps: int = 5, lr: float = 0.01, seed: int = 0, dtype=torch.float64) -> dict:
    """Adam(betas=(0, 0), eps=0) on random gradients (no zeros) against ``θ - lr·sign(g)``, step by step.
    Returns ``{"max_abs_difference": float, "equal": bool}`` over ``steps`` steps of ``n`` coordinates."""
    gen = torch.Generator().manual_seed(seed)
    p = torch.randn(n, generator=gen, dtype=dtype).requires_grad_(True)
    opt = optimizers.Adam([p], lr=lr, betas=(0.0, 0.0), eps=0.0)
    worst, equal = 0.0, True
    for _ in range(steps):
        g = torch.randn(n, generator=gen, dtype=dtype) * torch.logspace(-3, 3, n, dtype=dtype)
        before = p.detach().clone()
        p.grad = g
        opt.step()
        expected = before - lr * torch.sign(g)
        diff = (p.detach() - expected).abs().max()
        worst = max(worst, float(diff))
        equal = equal and bool(torch.equal(p.detach(), expected))
    return {"max_abs_difference": worst, "equal": equal, "lr": lr, "ulp_at_max_param": float(
        torch.finfo(dtype).eps * math.ceil(float(p.detach().abs().max())))}
