"""Shampoo (Gupta, Koren and Singer, 2018) for matrix parameters: a readable reference implementation.

torch.optim has no Shampoo, so there is nothing to be bit for bit equal to; the tests check it
against identities instead (tests/test_matrix_preconditioners.py).

As a preconditioner: for a parameter $W$ of shape $(m, n)$ with gradient $G$, Shampoo keeps two
small statistics, $L$ ($m \\times m$, built from $G G^\\top$) and $R$ ($n \\times n$, from
$G^\\top G$), and steps along $L^{-1/4}\\, G\\, R^{-1/4}$. Acting on the flattened gradient
(`G.flatten()`, row-major) that is the full $(mn \\times mn)$ matrix
$P = L^{-1/4} \\otimes R^{-1/4}$ (`torch.kron(L_root, R_root)`): not diagonal, so it can undo a
rotation of the loss that no diagonal P (SGD, Adagrad, RMSprop, Adam) can.

Choices, stated once
--------------------
- The statistics: `beta < 1` keeps exponential moving averages $L \\leftarrow \\beta L +
  (1-\\beta) G G^\\top$; `beta = 1` keeps the running sums $L \\leftarrow L + G G^\\top$ of the
  original paper (the default). Both start at zero.
- The epsilon is added to the factors before the root: $(L + \\epsilon I)^{-1/4}$. Adding
  $\\epsilon I$ shifts every eigenvalue by $\\epsilon$ and keeps the eigenvectors, so the code takes
  the eigendecomposition $L = Q\\,\\mathrm{diag}(\\lambda)\\,Q^\\top$ (`torch.linalg.eigh`) and uses
  $Q\\,\\mathrm{diag}((\\lambda + \\epsilon)^{-1/4})\\,Q^\\top$. Eigenvalues that rounding pushed
  slightly below zero are clamped to zero first. `eps` must be > 0 (a zero eigenvalue would give
  an infinite root).
- The roots are recomputed on the first step and then every `update_interval` steps (on steps
  $t$ with $(t-1) \\bmod k = 0$); the statistics are updated on every step, and the roots in between
  are the last ones computed.
- Weight decay is L2 (added to the gradient before the statistics, as in Adagrad). Optional heavy-ball
  momentum on the preconditioned direction (off by default). No grafting (production Shampoo copies
  the step size of a diagonal method; this reference keeps Shampoo's own).
- Under `torch.compile` (torch 2.13, inductor) `x.add_(A @ B, alpha=c)` silently drops `alpha`
  (pytorch/pytorch#167313: the add is fused into an addmm that ignores it; measured here, the
  compiled parameter was off by 1.1 after one step, 1.7e3 after two). So no `alpha=` ever meets a
  matrix product in this file: the moving averages are `lerp_` and the step is `sub_(lr * D)`.
  The step counter is read with `.item()` to decide whether the roots are due: under
  `torch.compile(opt.step)` the graph breaks there (`eigh` itself compiles), and the code after the
  break is recompiled per parameter shape (past dynamo's `recompile_limit`, 8, it runs eagerly).
  Measured, float64, inductor: one parameter, 12 steps: 5 graphs, within 8e-16 (relative) of eager;
  10 shapes, 7 steps: 24 graphs, and see the next note for how close.
- Rounding in a singular L: where L is singular (a gradient with fewer columns than rows, the first
  steps), its zero eigenvalues come out of `eigh` as rounding residue λ ≈ 1e-16·|L|, and the root's
  block there, (λ + ε)^(-1/4) ≈ ε^(-1/4), carries that residue with relative weight ≈ λ/(4ε).
  While the roots are fresh the gradient has no component in that block; with stale roots
  (`update_interval` > 1) the next gradients do, and the step inherits the sensitivity. Measured,
  torch.compile (whose matrix products round differently from eager's) against eager, 10 shapes,
  `update_interval=3`: 4.9e-5 relative with ε = 1e-12, 5.5e-9 with ε = 1e-8; 1.3e-12 with
  `update_interval=1` (ε = 1e-12). Those stale roots also make large steps (ε^(-1/4) = 1e3 times
  the gradient's component in L's null space): a larger ε, or roots every step early on, tames both.
- Only 2-D parameters: any other shape raises a ValueError naming it (reshape the tensor, or give it
  to Adam in another parameter group). Real floating-point dtypes only.
"""

# --8<-- [start:all]
from typing import Any

import torch
from torch import Tensor


# --8<-- [start:update]
def shampoo_update(
    param: Tensor,
    grad: Tensor,
    state: dict[str, Any],
    *,
    lr: float,
    beta: float = 1.0,
    eps: float = 1e-12,
    update_interval: int = 1,
    momentum: float = 0.0,
    weight_decay: float = 0.0,
) -> None:
    """One Shampoo step for one matrix parameter, in place (`grad` is never modified).

    One line per line of the maths; `inverse_root` (below) is (A + εI)^(-1/4) by eigendecomposition.
    """
    state["step"] += 1  # t ← t + 1
    G = grad.add(param, alpha=weight_decay) if weight_decay != 0 else grad  # G_t ← G_t + λ W_{t-1}
    L, R = state["L"], state["R"]  # L_{t-1}, R_{t-1}
    if beta == 1:  # the original Shampoo: running sums
        L.add_(G @ G.T)  # L_t = L_{t-1} + G_t G_tᵀ
        R.add_(G.T @ G)  # R_t = R_{t-1} + G_tᵀ G_t
    else:  # exponential moving averages (lerp_: no alpha=, see the module notes)
        L.lerp_(G @ G.T, 1 - beta)  # L_t = β L_{t-1} + (1 - β) G_t G_tᵀ
        R.lerp_(G.T @ G, 1 - beta)  # R_t = β R_{t-1} + (1 - β) G_tᵀ G_t
    if (int(state["step"].item()) - 1) % update_interval == 0:  # when (t - 1) mod k = 0:
        state["L_inv_root"].copy_(inverse_root(L, eps))  # L̃ = (L_t + εI)^(-1/4)
        state["R_inv_root"].copy_(inverse_root(R, eps))  # R̃ = (R_t + εI)^(-1/4)
    D = state["L_inv_root"] @ G @ state["R_inv_root"]  # D_t = L̃ G_t R̃   (P = L̃ ⊗ R̃ on vec(G_t))
    if momentum != 0:
        if "momentum_buffer" not in state:
            state["momentum_buffer"] = torch.zeros_like(param)  # B_0 = 0
        D = state["momentum_buffer"].mul_(momentum).add_(D)  # B_t = μ B_{t-1} + D_t;  D_t ← B_t
    param.sub_(lr * D)  # W_t = W_{t-1} - γ D_t   (no alpha=: module notes)
# --8<-- [end:update]


def inverse_root(A: Tensor, eps: float, p: int = 4) -> Tensor:
    """(A + εI)^(-1/p) for a symmetric positive semi-definite matrix A, by its eigendecomposition."""
    lam, Q = torch.linalg.eigh(A)  # A = Q diag(λ) Qᵀ, λ ascending, Q orthogonal
    # eigenvalues of A + εI (rounding can leave a zero eigenvalue at -1e-17)
    lam = lam.clamp(min=0) + eps
    return (Q * lam.pow(-1.0 / p)) @ Q.T  # Q diag(λ^(-1/p)) Qᵀ: scaling Q's columns is Q·diag(...)


# --8<-- [start:state]
def shampoo_init_state(param: Tensor) -> dict[str, Any]:
    """A matrix parameter's state before its first step (with momentum, `shampoo_update` adds
    `momentum_buffer` on its first step)."""
    _check_matrix(param, "Shampoo")
    m, n = param.shape
    step_dtype = torch.float64 if torch.get_default_dtype() == torch.float64 else torch.float32
    like = dict(dtype=param.dtype, device=param.device)
    return {
        # t, a 0-dim tensor like torch.optim's counters
        "step": torch.tensor(0.0, dtype=step_dtype),
        "L": torch.zeros(m, m, **like),  # left statistic L (m×m), from G Gᵀ
        "R": torch.zeros(n, n, **like),  # right statistic R (n×n), from Gᵀ G
        # (L + εI)^(-1/4) in use (identity until the first step)
        "L_inv_root": torch.eye(m, **like),
        "R_inv_root": torch.eye(n, **like),  # (R + εI)^(-1/4) in use
    }
# --8<-- [end:state]


# --8<-- [start:preconditioner]
def shampoo_preconditioner(state: dict[str, Any]) -> tuple[Tensor, Tensor]:
    """The pair (L̃, R̃) = ((L + εI)^(-1/4), (R + εI)^(-1/4)) the last step used (identities before the
    first step). The step direction is L̃ G R̃; on `G.flatten()` that is the matrix `torch.kron(L̃, R̃)`."""
    return state["L_inv_root"], state["R_inv_root"]


def shampoo_apply_preconditioner(state: dict[str, Any], x: Tensor) -> Tensor:
    """P applied to a matrix x of the parameter's shape: L̃ x R̃ (a new tensor)."""
    L_root, R_root = shampoo_preconditioner(state)
    return L_root @ x @ R_root
# --8<-- [end:preconditioner]


# --8<-- [start:class]
class Shampoo(torch.optim.Optimizer):
    r"""Shampoo for 2-D parameters: Kronecker-factored preconditioning $L^{-1/4}\, G\, R^{-1/4}$.

    With $G_t = \nabla f(W_{t-1})$ for a parameter $W$ of shape $(m, n)$, learning rate $\gamma$,
    statistic decay $\beta$, epsilon $\epsilon$, update interval $k$, momentum $\mu$, weight decay
    $\lambda$:

    $$
    \begin{aligned}
    G_t &\leftarrow G_t + \lambda\, W_{t-1} \quad\text{(if } \lambda \ne 0\text{)} \\
    L_t &= \beta L_{t-1} + (1-\beta)\, G_t G_t^\top, \qquad
    R_t = \beta R_{t-1} + (1-\beta)\, G_t^\top G_t \qquad (\beta < 1) \\
    L_t &= L_{t-1} + G_t G_t^\top, \qquad R_t = R_{t-1} + G_t^\top G_t
      \qquad (\beta = 1\text{, the original sums; } L_0 = R_0 = 0) \\
    \tilde L &= (L_t + \epsilon I)^{-1/4}, \qquad \tilde R = (R_t + \epsilon I)^{-1/4}
      \qquad \text{(recomputed when } (t-1) \bmod k = 0\text{)} \\
    D_t &= \tilde L\, G_t\, \tilde R
      \qquad \bigl(\mathrm{vec}(D_t) = (\tilde L \otimes \tilde R)\, \mathrm{vec}(G_t)\bigr) \\
    B_t &= \mu B_{t-1} + D_t, \quad D_t \leftarrow B_t \quad\text{(if } \mu \ne 0\text{)} \\
    W_t &= W_{t-1} - \gamma\, D_t
    \end{aligned}
    $$

    ($\mathrm{vec}$ is row-major, torch's `flatten`.) The roots come from `torch.linalg.eigh`:
    $(L + \epsilon I)^{-1/4} = Q\,\mathrm{diag}((\lambda + \epsilon)^{-1/4})\,Q^\top$.
    `preconditioner(p)` returns the pair $(\tilde L, \tilde R)$ the last step used (identities before
    the first step), and `apply_preconditioner(p, x)` returns $\tilde L\, x\, \tilde R$. `state[p]`
    holds `step`, `L`, `R`, `L_inv_root`, `R_inv_root` and, with momentum, `momentum_buffer`.
    Every parameter must be 2-D: another shape raises a ValueError naming it.
    """

    def __init__(
        self,
        params,
        lr: float = 1e-3,
        beta: float = 1.0,
        eps: float = 1e-12,
        update_interval: int = 1,
        momentum: float = 0.0,
        weight_decay: float = 0.0,
    ):
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr} (expected lr >= 0)")
        if not 0.0 <= beta <= 1.0:
            raise ValueError(f"Invalid beta value: {beta} (expected 0 <= beta <= 1; beta = 1 keeps running sums)")
        if not 0.0 < eps:
            raise ValueError(f"Invalid epsilon value: {eps} (expected eps > 0: it keeps (L + eps*I)^(-1/4) finite)")
        if isinstance(update_interval, bool) or not isinstance(update_interval, int) or update_interval < 1:
            raise ValueError(f"Invalid update_interval value: {update_interval!r} (expected an integer >= 1)")
        if not 0.0 <= momentum < 1.0:
            raise ValueError(f"Invalid momentum value: {momentum} (expected 0 <= momentum < 1)")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay} (expected weight_decay >= 0)")
        defaults = dict(
            lr=lr, beta=beta, eps=eps, update_interval=update_interval, momentum=momentum,
            weight_decay=weight_decay,
        )
        super().__init__(params, defaults)

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """torch's `add_param_group`, refusing parameters that are not matrices (a clear error up front)."""
        super().add_param_group(param_group)
        for p in self.param_groups[-1]["params"]:
            _check_matrix(p, type(self).__name__)

    # --8<-- [start:step]
    @torch.no_grad()
    def step(self, closure=None):
        """One step for every parameter that has a gradient; returns the closure's loss (or None)."""
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:  # no gradient: skipped
                    continue
                if p.grad.is_sparse:
                    raise RuntimeError("Shampoo does not support sparse gradients")
                state = self.state[p]
                if not state:  # lazy state: created by the first step that sees a gradient
                    state.update(shampoo_init_state(p))
                shampoo_update(
                    p, p.grad, state, lr=group["lr"], beta=group["beta"], eps=group["eps"],
                    update_interval=group["update_interval"], momentum=group["momentum"],
                    weight_decay=group["weight_decay"],
                )
        return loss
    # --8<-- [end:step]

    def _state_of(self, p: Tensor) -> dict[str, Any]:
        """The state of parameter `p` (an identity-root state before its first step)."""
        for group in self.param_groups:
            if any(p is q for q in group["params"]):
                return self.state.get(p) or shampoo_init_state(p)
        raise ValueError(f"this {type(self).__name__} does not optimise the given tensor of shape {tuple(p.shape)}")

    def preconditioner(self, p: Tensor) -> tuple[Tensor, Tensor]:
        """(L̃, R̃) = ((L + εI)^(-1/4), (R + εI)^(-1/4)) the last step used for `p` (identities before
        its first step): the step direction is L̃ G R̃, the full matrix on `G.flatten()` is
        `torch.kron(L̃, R̃)`. These are the optimizer's own tensors: clone them to keep a copy."""
        return shampoo_preconditioner(self._state_of(p))

    def apply_preconditioner(self, p: Tensor, x: Tensor) -> Tensor:
        """P·x for a matrix x of `p`'s shape: L̃ x R̃ (what the last step did to the gradient)."""
        return shampoo_apply_preconditioner(self._state_of(p), x)
# --8<-- [end:class]


def _check_matrix(param: Tensor, name: str) -> None:
    """A clear error for a parameter that is not a real floating-point matrix."""
    if param.dim() != 2:
        raise ValueError(
            f"{name} preconditions 2-D (matrix) parameters only; got a parameter of shape "
            f"{tuple(param.shape)} ({param.dim()}-D): reshape it to a matrix or optimise it with Adam "
            f"in another optimizer"
        )
    if not param.dtype.is_floating_point:
        raise ValueError(f"{name} needs a real floating-point parameter, got dtype {param.dtype}")
# --8<-- [end:all]
