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
`muon_orthogonalize(G)` is torch's Newton–Schulz routine itself (what the step calls). Both
`muon_update` and `muon_orthogonalize` also take a stack of matrices (..., A, B), each on its own,
with one lr per matrix: `optimessay.networks.batched` steps the hidden layers of many networks at
once with them.

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
    exact: bool = True,
) -> None:
    """One Muon step for one 2-D parameter, or for a stack of them (..., A, B) each on its own, in
    place (`grad` is never modified). `lr`: a float, or one value per matrix (a float64 tensor that
    broadcasts against `param`, e.g. (K, 1, 1)); `exact`: see `muon_orthogonalize`.

    One line per line of the maths; `muon_orthogonalize` (below) is the Newton–Schulz iteration.
    """
    if grad.ndim < 2:
        raise ValueError("Param gradient must be a 2D matrix")
    B = state["momentum_buffer"]  # B_{t-1}
    B.lerp_(grad, 1 - momentum)  # B_t = μ B_{t-1} + (1 - μ) g_t   (torch's code: an average)
    estimate = grad.lerp(B, momentum) if nesterov else B  # B̃_t = (1 - μ) g_t + μ B_t, or B_t
    O = muon_orthogonalize(estimate, ns_coefficients, ns_steps, eps, exact=exact)  # O_t = NS(B̃_t) ≈ U Vᵀ
    adjusted_lr = muon_adjusted_lr(lr, adjust_lr_fn, param.shape)  # γ' = γ √max(1, A/B)
    _mul_(param, 1 - lr * weight_decay)  # θ ← (1 - γλ) θ_{t-1}   (decoupled, always applied)
    _add_(param, O, -adjusted_lr)  # θ_t = θ - γ' O_t
# --8<-- [end:update]


# --8<-- [start:orthogonalize]
def muon_orthogonalize(
    grad: Tensor,
    ns_coefficients: tuple[float, float, float] = (3.4445, -4.775, 2.0315),
    ns_steps: int = 5,
    eps: float = 1e-7,
    *,
    exact: bool = True,
) -> Tensor:
    """Newton–Schulz: O ≈ U Vᵀ for G = U Σ Vᵀ, in bfloat16, exactly as torch computes it; G may be a
    stack of matrices (..., A, B), each orthogonalized on its own (batched products).

    `exact=False`: each product summed in float32 from the bfloat16 values and rounded to bfloat16
    once, which is what a bfloat16 kernel does up to the order of its float32 sums. Not torch's bits
    (measured on 32×32 matrices: 99.99% of each product's entries equal, the rest one bfloat16 unit
    apart), but ~10× faster on a CPU, whose bfloat16 matrix product is ~18× slower than float32's."""
    if ns_steps >= 100:
        raise ValueError("Number of steps must be less than 100 for computational efficiency")
    if grad.ndim < 2:
        raise ValueError("Input tensor gradient must be a 2D matrix")
    if len(ns_coefficients) != 3:
        raise ValueError("Coefficients must be a tuple of exactly 3 values")
    a, b, c = ns_coefficients
    # the iteration runs in bfloat16 (a bfloat16 input is used in place, like torch)
    X = grad.bfloat16().flatten(0, -3) if grad.ndim > 3 else grad.bfloat16()  # (A, B), or a stack (K, A, B)
    tall = grad.size(-2) > grad.size(-1)
    if tall:
        X = X.mT  # work with the wide orientation: X Xᵀ is the smaller Gram matrix
    X.div_(X.norm(dim=(-2, -1), keepdim=True).clamp(min=eps))  # X ← G / max(‖G‖_F, ε): every singular value ≤ 1
    addmm = torch.addmm if X.ndim == 2 else torch.baddbmm  # one matrix, or one per matrix of the stack
    X = X if exact else X.float()  # the products: torch's bfloat16 ones, or float32 sums (exact=False)
    for _ in range(ns_steps):
        A = _bf16(X @ X.mT)  # A = X Xᵀ
        B = _bf16(addmm(A, A, A, beta=b, alpha=c))  # B = b A + c A²
        X = _bf16(addmm(X, B, X, beta=a))  # X ← a X + B X: each singular value s ↦ a s + b s³ + c s⁵
    return (X.mT if tall else X).bfloat16().view(grad.shape)
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
    """The learning rate for a matrix of shape (A, B) (or a stack (..., A, B)): torch's two shape-dependent
    scalings."""
    A, B = shape[-2:]  # a stack's matrices: the last two dimensions
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


# The helpers below let one core serve torch's float lr and one lr per matrix of a stack (a float64
# tensor, its derived values computed in doubles as torch computes a float's, then rounded to the
# parameter's dtype once), and both kinds of Newton–Schulz products.


def _bf16(x: Tensor) -> Tensor:
    """x rounded to bfloat16, in x's dtype: a bfloat16 product as it is; a float32 one rounded once."""
    return x.bfloat16().to(x.dtype)


def _per_matrix(a: float | Tensor, like: Tensor) -> float | Tensor:
    """One value per matrix (a tensor with dimensions) in `like`'s dtype; a float, or torch's 0-dim
    tensor lr, stays as it is (torch's ops take it as a number)."""
    return a.to(like.dtype) if isinstance(a, Tensor) and a.ndim > 0 else a


def _mul_(y: Tensor, a: float | Tensor) -> Tensor:
    """In place: y ← a·y."""
    return y.mul_(_per_matrix(a, y))


def _add_(y: Tensor, x: Tensor, a: float | Tensor) -> Tensor:
    """In place: y ← y + a·x in one fused multiply-add, torch's `y.add_(x, alpha=a)`. `alpha=` takes a
    number only; `y.addcmul_(x, a)` is the same op for one value per matrix."""
    a = _per_matrix(a, y)
    return y.addcmul_(x, a) if isinstance(a, Tensor) and a.ndim > 0 else y.add_(x, alpha=a)
# --8<-- [end:all]
