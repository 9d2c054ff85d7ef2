"""Muon (momentum, then Newton–Schulz orthogonalization of each 2-D parameter's update): bit for bit
`torch.optim.Muon`.

As a preconditioner: the gradient estimate is the (Nesterov) momentum $\\tilde B$, and the step
replaces it by $O = \\mathrm{NS}(\\tilde B) \\approx U V^\\top$, where $\\tilde B = U \\Sigma V^\\top$ is
its thin SVD: every singular value is pushed towards 1 and the singular vectors are kept. That is
$O = P \\tilde B$ with the matrix (not per-element) preconditioner
$P = U\\, \\mathrm{diag}(\\varphi(\\sigma_i / \\lVert\\tilde B\\rVert_F) / \\sigma_i)\\, U^\\top \\approx (\\tilde B \\tilde B^\\top)^{-1/2}$,
where $\\varphi$ is the scalar polynomial that the Newton–Schulz steps apply to each normalized
singular value ($s \\mapsto a s + b s^3 + c s^5$, `ns_steps` times). `Muon.preconditioner(p)` returns
this P (rows × rows, float64) for the last step, `muon_spectral_map(s)` gives $\\varphi(s)$, and
`muon_orthogonalize(G)` is torch's Newton–Schulz routine itself (what the step calls).

Measured facts this file follows:
- torch runs Newton–Schulz in bfloat16 as `torch.addmm(A, A, A, beta=b, alpha=c)` then
  `torch.addmm(X, B, X, beta=a)`; the same algebra written `aX + (bA + cA²)X` drifts by ~2e-3.
- torch's docstring writes the momentum as a sum, $B_t = \\mu B_{t-1} + g_t$, but its code keeps an
  exponential moving average, $B_t = \\mu B_{t-1} + (1-\\mu) g_t$ (`lerp_`). This file does what the
  code does. Newton–Schulz divides by the Frobenius norm first, so the two differ in the update only
  by bfloat16 rounding (a factor $1-\\mu$ on the input), but `state["momentum_buffer"]` differs by
  that factor.

Muon has no step counter and no `.item()`, so `torch.compile(opt.step)` traces it as one graph.
"""

# --8<-- [start:all]
import math
from typing import Any

import torch
from torch import Tensor


# --8<-- [start:update]
def muon_update(
    param: Tensor,
    grad: Tensor,
    state: dict[str, Any],
    *,
    lr: float | Tensor = 1e-3,
    weight_decay: float = 0.1,
    momentum: float = 0.95,
    nesterov: bool = True,
    ns_coefficients: tuple[float, float, float] = (3.4445, -4.775, 2.0315),
    eps: float = 1e-7,
    ns_steps: int = 5,
    adjust_lr_fn: str | None = None,
) -> None:
    """One Muon step for one 2-D parameter, in place (`grad` is never modified).

    One line per line of the maths; `muon_orthogonalize` (below) is the Newton–Schulz iteration.
    """
    if grad.ndim != 2:
        raise ValueError("Param gradient must be a 2D matrix")
    B = state["momentum_buffer"]  # B_{t-1}
    B.lerp_(grad, 1 - momentum)  # B_t = μ B_{t-1} + (1 - μ) g_t   (torch's code: an average)
    estimate = grad.lerp(B, momentum) if nesterov else B  # B̃_t = (1 - μ) g_t + μ B_t, or B_t
    O = muon_orthogonalize(estimate, ns_coefficients, ns_steps, eps)  # O_t = NS(B̃_t) ≈ U Vᵀ
    adjusted_lr = muon_adjusted_lr(lr, adjust_lr_fn, param.shape)  # γ' = γ √max(1, A/B)
    param.mul_(1 - lr * weight_decay)  # θ ← (1 - γλ) θ_{t-1}   (decoupled, always applied)
    param.add_(O, alpha=-adjusted_lr)  # θ_t = θ - γ' O_t
# --8<-- [end:update]


# --8<-- [start:orthogonalize]
def muon_orthogonalize(
    grad: Tensor,
    ns_coefficients: tuple[float, float, float] = (3.4445, -4.775, 2.0315),
    ns_steps: int = 5,
    eps: float = 1e-7,
) -> Tensor:
    """Newton–Schulz: O ≈ U Vᵀ for G = U Σ Vᵀ, in bfloat16, exactly as torch computes it."""
    if ns_steps >= 100:
        raise ValueError("Number of steps must be less than 100 for computational efficiency")
    if len(grad.shape) != 2:
        raise ValueError("Input tensor gradient must be a 2D matrix")
    if len(ns_coefficients) != 3:
        raise ValueError("Coefficients must be a tuple of exactly 3 values")
    a, b, c = ns_coefficients
    # the iteration runs in bfloat16 (a bfloat16 input is used in place, like torch)
    X = grad.bfloat16()
    tall = grad.size(0) > grad.size(1)
    if tall:
        X = X.T  # work with the wide orientation: X Xᵀ is the smaller Gram matrix
    X.div_(X.norm().clamp(min=eps))  # X ← G / max(‖G‖_F, ε): every singular value is now ≤ 1
    for _ in range(ns_steps):
        A = X @ X.T  # A = X Xᵀ
        B = torch.addmm(A, A, A, beta=b, alpha=c)  # B = b A + c A²
        X = torch.addmm(X, B, X, beta=a)  # X ← a X + B X: each singular value s ↦ a s + b s³ + c s⁵
    return X.T if tall else X
# --8<-- [end:orthogonalize]


def muon_spectral_map(
    s: Tensor, ns_coefficients: tuple[float, float, float] = (3.4445, -4.775, 2.0315), ns_steps: int = 5
) -> Tensor:
    """φ(s): what `ns_steps` Newton–Schulz steps do to a normalized singular value s = σ/‖G‖_F, in
    exact (here: the input's) arithmetic, s ↦ a s + b s³ + c s⁵ repeated."""
    a, b, c = ns_coefficients
    for _ in range(ns_steps):
        s = a * s + b * s**3 + c * s**5
    return s


def muon_adjusted_lr(lr: float | Tensor, adjust_lr_fn: str | None, shape: torch.Size) -> float | Tensor:
    """The learning rate for a matrix of shape (A, B): torch's two shape-dependent scalings."""
    A, B = shape[:2]
    if adjust_lr_fn is None or adjust_lr_fn == "original":
        ratio = math.sqrt(max(1, A / B))  # Keller Jordan's: √max(1, A/B)
    elif adjust_lr_fn == "match_rms_adamw":
        ratio = 0.2 * math.sqrt(max(A, B))  # Moonshot's: 0.2·√max(A, B), an RMS like AdamW's
    else:
        ratio = 1.0
    return lr * ratio


# --8<-- [start:state]
def muon_init_state(param: Tensor) -> dict[str, Any]:
    """A parameter's state before its first step, laid out as torch's: only the momentum buffer."""
    return {"momentum_buffer": torch.zeros_like(param, memory_format=torch.preserve_format)}  # B
# --8<-- [end:state]


# --8<-- [start:preconditioner]
def muon_preconditioner(
    estimate: Tensor, ns_coefficients: tuple[float, float, float] = (3.4445, -4.775, 2.0315), ns_steps: int = 5,
    eps: float = 1e-7,
) -> Tensor:
    """The matrix P (rows × rows, float64, symmetric) with P B̃ = NS(B̃) in exact arithmetic:
    P = U diag(φ(σᵢ/‖B̃‖_F)/σᵢ) Uᵀ from the thin SVD B̃ = U Σ Vᵀ (≈ (B̃B̃ᵀ)^(-1/2) when φ ≈ 1).
    Singular values 0 (up to rounding) contribute nothing: NS maps them to 0 too."""
    B = estimate.detach().to(torch.float64)
    U, sigma, _ = torch.linalg.svd(B, full_matrices=False)
    scale = B.norm().clamp(min=eps)  # NS divides by ‖B̃‖_F first
    # numerically nonzero
    kept = sigma > sigma.max() * max(B.shape) * torch.finfo(torch.float64).eps
    factor = torch.where(kept, muon_spectral_map(sigma / scale, ns_coefficients, ns_steps) / sigma, 0.0)
    return (U * factor) @ U.T
# --8<-- [end:preconditioner]


# --8<-- [start:class]
class Muon(torch.optim.Optimizer):
    r"""Muon: a drop-in `torch.optim.Muon` (2-D parameters only).

    With $g_t = \nabla f(\theta_{t-1})$, lr $\gamma$, weight decay $\lambda$, momentum $\mu$,
    Newton–Schulz coefficients $(a, b, c)$ and $k$ = `ns_steps`, for $\theta \in \mathbb{R}^{A\times B}$:

    $$
    \begin{aligned}
    B_t &= \mu B_{t-1} + (1-\mu)\, g_t \\
    \tilde B_t &= (1-\mu)\, g_t + \mu B_t \quad\text{(nesterov)} \qquad\text{or}\qquad \tilde B_t = B_t \\
    X_0 &= \tilde B_t / \max(\lVert \tilde B_t \rVert_F, \epsilon) \\
    X_{j+1} &= a X_j + \left(b\, X_j X_j^\top + c\, (X_j X_j^\top)^2\right) X_j, \quad j = 0, \dots, k-1 \\
    O_t &= X_k \;(\approx U V^\top \text{ for } \tilde B_t = U\Sigma V^\top) \;=\; P_t \tilde B_t \\
    \gamma' &= \gamma \sqrt{\max(1, A/B)} \quad\left(\texttt{match\_rms\_adamw}: 0.2\,\gamma\sqrt{\max(A, B)}\right) \\
    \theta_t &= \theta_{t-1}(1 - \gamma\lambda) - \gamma'\, O_t
    \end{aligned}
    $$

    The iteration runs in bfloat16, on the transpose when $A > B$. Note: torch's docstring writes the
    momentum as $B_t = \mu B_{t-1} + g_t$ and Nesterov as $g_t + \mu B_t$; its code (and this class)
    keeps the average above. After the normalization the update differs only by rounding, but
    `state[p]["momentum_buffer"]` is $(1-\mu)$ times the documented sum.

    `preconditioner(p)` returns the matrix $P_t$ (A × A, float64) of the last step: $P_t \tilde B_t$
    is the exact-arithmetic Newton–Schulz result (the bfloat16 update equals it to bfloat16 accuracy).
    Arguments, defaults, errors and `state[p]` (`momentum_buffer` only) are torch's; like torch, only
    the parameters given to the constructor are checked to be 2-D.
    """

    def __init__(
        self,
        params,
        lr: float = 1e-3,
        weight_decay: float = 0.1,
        momentum: float = 0.95,
        nesterov: bool = True,
        ns_coefficients: tuple[float, float, float] = (3.4445, -4.775, 2.0315),
        eps: float = 1e-7,
        ns_steps: int = 5,
        adjust_lr_fn: str | None = None,
    ):
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 <= lr:
            raise ValueError(f"Learning rate should be >= 0 but is: {lr}")
        if not 0.0 <= momentum:
            raise ValueError(f"momentum should be >= 0 but is: {momentum}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"weight decay should be >= 0 but is: {weight_decay}")
        if adjust_lr_fn is not None and adjust_lr_fn not in ["original", "match_rms_adamw"]:
            raise ValueError(f"Adjust learning rate function {adjust_lr_fn} is not supported")
        defaults = dict(
            lr=lr, weight_decay=weight_decay, momentum=momentum, nesterov=nesterov, ns_coefficients=ns_coefficients,
            eps=eps, ns_steps=ns_steps, adjust_lr_fn=adjust_lr_fn,
        )
        super().__init__(params, defaults)
        for group in self.param_groups:
            for p in group["params"]:
                if p.ndim != 2:
                    raise ValueError(
                        f"Muon only supports 2D parameters whereas we found a parameter with size: {p.size()}"
                    )

    def __setstate__(self, state):
        super().__setstate__(state)  # torch's Muon adds no defaults for older state dicts either

    # --8<-- [start:step]
    @torch.no_grad()
    def step(self, closure=None):
        """One step for every parameter that has a gradient; returns the closure's loss (or None)."""
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            params = []
            for p in group["params"]:
                if p.grad is None:  # no gradient: skipped
                    continue
                if torch.is_complex(p):
                    raise RuntimeError("Muon does not support complex parameters")
                if p.grad.is_sparse:
                    raise RuntimeError("Muon does not support sparse gradients")
                params.append(p)
                # lazy state: the first step with a gradient
                if "momentum_buffer" not in self.state[p]:
                    self.state[p].update(muon_init_state(p.grad))
            lr = group["lr"]
            if isinstance(lr, Tensor) and lr.dim() != 0:
                lr = lr.squeeze()  # a 1-element tensor lr acts as a number, as in torch
            for p in params:
                muon_update(
                    p, p.grad, self.state[p], lr=lr, weight_decay=group["weight_decay"], momentum=group["momentum"],
                    nesterov=group["nesterov"], ns_coefficients=group["ns_coefficients"], eps=group["eps"],
                    ns_steps=group["ns_steps"], adjust_lr_fn=group["adjust_lr_fn"],
                )
        return loss
    # --8<-- [end:step]

    def preconditioner(self, p: Tensor) -> Tensor:
        """The matrix P (rows × rows, float64) of the last step for parameter `p`: the step's
        orthogonalized update is P B̃ (to bfloat16 accuracy), with B̃ recomputed from the momentum
        buffer and, with Nesterov, from `p.grad` (so call it before `zero_grad`). Identity before the
        first step."""
        for group in self.param_groups:
            if any(p is q for q in group["params"]):
                state = self.state.get(p, {})
                if "momentum_buffer" not in state:
                    return torch.eye(p.shape[0], dtype=torch.float64)
                if group["nesterov"] and p.grad is None:
                    raise ValueError(
                        "Muon.preconditioner(p) with nesterov=True needs the last step's gradient, but p.grad "
                        "is None: call it before zero_grad()"
                    )
                estimate = _momentum_estimate(p.grad, state["momentum_buffer"], group["momentum"], group["nesterov"])
                return muon_preconditioner(estimate, group["ns_coefficients"], group["ns_steps"], group["eps"])
        raise ValueError(f"this {type(self).__name__} does not optimise the given tensor of shape {tuple(p.shape)}")
# --8<-- [end:class]


def _momentum_estimate(grad: Tensor, buf: Tensor, momentum: float, nesterov: bool) -> Tensor:
    """The core's B̃ from the (already updated) buffer, for `preconditioner(p)`: Nesterov's
    (1-μ)g + μB, or B."""
    return grad.lerp(buf, momentum) if nesterov else buf
# --8<-- [end:all]
