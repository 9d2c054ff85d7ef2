"""SOAP (Vyas et al., 2024: "SOAP: Improving and Stabilizing Shampoo using Adam") for matrix
parameters: a readable reference implementation.

torch.optim has no SOAP; the tests check it against identities (tests/test_matrix_preconditioners.py),
the main one being that in the standard basis SOAP *is* Adam (AdamW with weight decay), bit for bit.

As a preconditioner: SOAP keeps Shampoo's two statistics $L$ (from $G G^\\top$) and $R$ (from
$G^\\top G$) only for their eigenvectors $Q_L, Q_R$, rotates the gradient into that basis,
$G' = Q_L^\\top G Q_R$, runs Adam there (a diagonal $P' = 1/(\\sqrt{\\hat v'} + \\epsilon)$ on the
rotated coordinates) and rotates the step back. On `G.flatten()` (row-major) the whole
preconditioner is the full matrix $P = (Q_L \\otimes Q_R)\\, \\mathrm{diag}(P')\\, (Q_L \\otimes
Q_R)^\\top$: Adam's diagonal P, turned to face the loss's own axes.

What this file does, and where it differs from the paper's reference code
---------------------------------------------------------------------------
- The paper's algorithm: $L \\leftarrow \\beta_s L + (1-\\beta_s) G G^\\top$ (likewise $R$),
  the basis $Q_L, Q_R$ refreshed from $L, R$ every `precondition_frequency` steps, Adam's moments
  of the rotated gradient $G' = Q_L^\\top G Q_R$, the step rotated back. All of that is here.
- The first moment is kept in the parameter's own coordinates, $M$, and rotated on use,
  $M' = Q_L^\\top M Q_R$ (one more pair of matrix products per step). The reference code keeps $M'$
  and, when the basis changes, rotates it back with the old basis and forward with the new one:
  the same $M'$, by linearity.
- Basis refresh: a full `torch.linalg.eigh` of $L$ and $R$ at the start of steps
  $f+1, 2f+1, \\dots$ ($f$ = `precondition_frequency`), from the statistics of the steps before:
  a step's own gradient never enters the basis it is rotated by (the reference code does one
  power-iteration step and a QR decomposition instead, cheaper for large matrices, converging to
  the same eigenvectors).
- Before the first refresh the basis is the identity, so steps $1..f$ are exactly Adam (the
  reference code instead spends its first step computing a basis and does not move the parameter).
  With `precondition_frequency` larger than the run, SOAP is Adam for the whole run.
- When the basis changes, $V$ (second moments of the rotated coordinates) is kept as it is: `eigh`
  orders eigenvectors by eigenvalue, so $V_{ij}$ keeps meaning "the $i$-th eigendirection of $L$
  by the $j$-th of $R$" (the reference code re-sorts $V$ by its eigenvalue estimates for the same
  reason; it does not rotate $V$ either, which a diagonal cannot be exactly).
- Adam's epsilon and bias corrections are torch.optim.Adam's: $\\epsilon$ is added to
  $\\sqrt{v / (1-\\beta_2^t)}$ (the reference code applies $\\epsilon$ to $\\sqrt v$ before any bias
  correction, and folds the corrections into the step size). Weight decay is decoupled, as in
  AdamW, and applied before the step like torch's AdamW (the reference code applies it after the
  step: a difference of order $\\gamma^2\\lambda$).
- Under `torch.compile` (torch 2.13, inductor) `x.add_(A @ B, alpha=c)` silently drops `alpha`
  (pytorch/pytorch#167313), so the statistics' moving averages are written with `lerp_`. The step
  counter is read with `.item()` (refresh test, bias corrections): the graph breaks there and the
  rest is recompiled per parameter shape. Measured, float64: one parameter, 12 steps, 5 graphs,
  within 3e-16 of eager; 10 shapes, 7 steps, 24 graphs, within 1e-16.
- Only 2-D parameters: any other shape raises a ValueError naming it. Real floating-point dtypes only.
"""

# --8<-- [start:all]
from typing import Any

import torch
from torch import Tensor


# --8<-- [start:update]
def soap_update(
    param: Tensor,
    grad: Tensor,
    state: dict[str, Any],
    *,
    lr: float,
    beta1: float = 0.95,
    beta2: float = 0.95,
    shampoo_beta: float = 0.95,
    eps: float = 1e-8,
    weight_decay: float = 0.0,
    precondition_frequency: int = 10,
) -> None:
    """One SOAP step for one matrix parameter, in place (`grad` is never modified).

    One line per line of the maths: Adam in the eigenbasis (Q_L, Q_R) of Shampoo's L and R.
    """
    state["step"] += 1  # t ← t + 1
    t = state["step"].item()  # t, a Python number: bias corrections in doubles, as torch's Adam
    if weight_decay != 0:
        param.mul_(1 - lr * weight_decay)  # W_{t-1} ← (1 - γλ) W_{t-1}   (decoupled)
    L, R, Q_L, Q_R = state["L"], state["R"], state["Q_L"], state["Q_R"]  # L_{t-1}, R_{t-1}, basis
    if t > 1 and (t - 1) % precondition_frequency == 0:  # every f steps (f+1, 2f+1, ...):
        Q_L.copy_(torch.linalg.eigh(L).eigenvectors)  # Q_L ← eigenvectors of L_{t-1}
        Q_R.copy_(torch.linalg.eigh(R).eigenvectors)  # Q_R ← eigenvectors of R_{t-1}
    M, V = state["exp_avg"], state["exp_avg_sq"]  # M_{t-1}, V_{t-1}
    M.lerp_(grad, 1 - beta1)  # M_t = β1 M_{t-1} + (1 - β1) G_t   (torch's lerp_, as in Adam)
    G_rot = Q_L.T @ grad @ Q_R  # G'_t = Q_Lᵀ G_t Q_R
    M_rot = Q_L.T @ M @ Q_R  # M'_t = Q_Lᵀ M_t Q_R
    V.mul_(beta2).addcmul_(G_rot, G_rot, value=1 - beta2)  # V_t = β2 V_{t-1} + (1 - β2) G'_t ⊙ G'_t
    denominator = (V.sqrt() / (1 - beta2**t) ** 0.5).add_(eps)  # √(V_t/(1 - β2^t)) + ε
    N_rot = (M_rot * -(lr / (1 - beta1**t))) / denominator  # -γ N'_t = -γ M'_t/(1 - β1^t) / denom.
    param.add_(Q_L @ N_rot @ Q_R.T)  # W_t = W_{t-1} - γ Q_L N'_t Q_Rᵀ
    L.lerp_(grad @ grad.T, 1 - shampoo_beta)  # L_t = βs L_{t-1} + (1 - βs) G_t G_tᵀ
    R.lerp_(grad.T @ grad, 1 - shampoo_beta)  # R_t = βs R_{t-1} + (1 - βs) G_tᵀ G_t
# --8<-- [end:update]


# --8<-- [start:state]
def soap_init_state(param: Tensor) -> dict[str, Any]:
    """A matrix parameter's state before its first step (the basis starts as the identity)."""
    _check_matrix(param, "SOAP")
    m, n = param.shape
    step_dtype = torch.float64 if torch.get_default_dtype() == torch.float64 else torch.float32
    like = dict(dtype=param.dtype, device=param.device)
    return {
        # t, a 0-dim tensor like torch.optim's counters
        "step": torch.tensor(0.0, dtype=step_dtype),
        "exp_avg": torch.zeros_like(param),  # M, first moment, in the parameter's coordinates
        "exp_avg_sq": torch.zeros_like(param),  # V, second moment, in the rotated coordinates
        "L": torch.zeros(m, m, **like),  # Shampoo's left statistic (m×m), from G Gᵀ
        "R": torch.zeros(n, n, **like),  # Shampoo's right statistic (n×n), from Gᵀ G
        # eigenvectors of L in use (the identity until the first refresh)
        "Q_L": torch.eye(m, **like),
        "Q_R": torch.eye(n, **like),  # eigenvectors of R in use
    }
# --8<-- [end:state]


# --8<-- [start:preconditioner]
def soap_preconditioner(
    state: dict[str, Any], *, beta2: float = 0.95, eps: float = 1e-8
) -> tuple[Tensor, Tensor, Tensor]:
    """(Q_L, D, Q_R) of the last step: the basis it rotated into and D = 1/(√V̂ + ε), Adam's diagonal
    preconditioner there (shape of the parameter). P·x = Q_L (D ⊙ (Q_Lᵀ x Q_R)) Q_Rᵀ; on
    `x.flatten()` P is `K @ torch.diag(D.flatten()) @ K.T` with `K = torch.kron(Q_L, Q_R)`.
    Before the first step: identities and D = ones (P = I)."""
    if state["step"].item() == 0:
        return state["Q_L"], torch.ones_like(state["exp_avg"]), state["Q_R"]
    v = state["exp_avg_sq"]
    bias_correction2_sqrt = (1 - beta2 ** state["step"].item()) ** 0.5
    D = 1 / (v.sqrt() / bias_correction2_sqrt).add_(eps)  # exactly the step's 1/(√V̂ + ε)
    return state["Q_L"], D, state["Q_R"]


def soap_apply_preconditioner(
    state: dict[str, Any], x: Tensor, *, beta2: float = 0.95, eps: float = 1e-8
) -> Tensor:
    """P applied to a matrix x of the parameter's shape: Q_L (D ⊙ (Q_Lᵀ x Q_R)) Q_Rᵀ (a new tensor)."""
    Q_L, D, Q_R = soap_preconditioner(state, beta2=beta2, eps=eps)
    return Q_L @ (D * (Q_L.T @ x @ Q_R)) @ Q_R.T
# --8<-- [end:preconditioner]


# --8<-- [start:class]
class SOAP(torch.optim.Optimizer):
    r"""SOAP for 2-D parameters: Adam run in the eigenbasis of Shampoo's statistics.

    With $G_t = \nabla f(W_{t-1})$ for a parameter $W$ of shape $(m, n)$, learning rate $\gamma$,
    Adam's betas $\beta_1, \beta_2$, Shampoo's $\beta_s$, epsilon $\epsilon$, decoupled weight decay
    $\lambda$ and basis refresh interval $f$ (`precondition_frequency`):

    $$
    \begin{aligned}
    Q_L, Q_R &\leftarrow \text{eigenvectors of } L_{t-1}, R_{t-1}
      \quad \text{if } t > 1 \text{ and } (t-1) \bmod f = 0 \qquad (Q_L = I, Q_R = I \text{ before}) \\
    W_{t-1} &\leftarrow W_{t-1}(1 - \gamma\lambda) \\
    M_t &= \beta_1 M_{t-1} + (1-\beta_1)\, G_t \\
    G'_t &= Q_L^\top G_t Q_R, \qquad M'_t = Q_L^\top M_t Q_R \\
    V_t &= \beta_2 V_{t-1} + (1-\beta_2)\, G'_t \odot G'_t \\
    N'_t &= \frac{M'_t / (1-\beta_1^t)}{\sqrt{V_t / (1-\beta_2^t)} + \epsilon} \\
    W_t &= W_{t-1} - \gamma\, Q_L N'_t Q_R^\top \\
    L_t &= \beta_s L_{t-1} + (1-\beta_s)\, G_t G_t^\top, \qquad
    R_t = \beta_s R_{t-1} + (1-\beta_s)\, G_t^\top G_t
    \end{aligned}
    $$

    (divisions, square roots and $\odot$ elementwise). With $Q_L = I$ and $Q_R = I$ these are
    `torch.optim.AdamW`'s equations (Adam's when $\lambda = 0$), and this class computes them with
    the same operations in the same order: bit for bit equal (tested). `preconditioner(p)` returns
    $(Q_L, D, Q_R)$ of the last step with $D = 1/(\sqrt{\hat V} + \epsilon)$ (identities and ones
    before the first step); `apply_preconditioner(p, x)` returns $Q_L (D \odot Q_L^\top x Q_R) Q_R^\top$.
    `state[p]` holds `step`, `exp_avg` ($M$), `exp_avg_sq` ($V$), `L`, `R`, `Q_L`, `Q_R`.
    Every parameter must be 2-D: another shape raises a ValueError naming it.
    Defaults are the paper's reference code's (its `shampoo_beta` defaults to $\beta_2$ = 0.95),
    except weight decay: 0 here, 0.01 there.
    """

    def __init__(
        self,
        params,
        lr: float = 3e-3,
        betas: tuple[float, float] = (0.95, 0.95),
        shampoo_beta: float = 0.95,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        precondition_frequency: int = 10,
    ):
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr} (expected lr >= 0)")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps} (expected eps >= 0)")
        for i, beta in enumerate(betas):
            if not 0.0 <= beta < 1.0:
                raise ValueError(f"Invalid beta parameter at index {i}: {beta} (expected 0 <= beta < 1)")
        if not 0.0 <= shampoo_beta < 1.0:
            raise ValueError(f"Invalid shampoo_beta value: {shampoo_beta} (expected 0 <= shampoo_beta < 1)")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay} (expected weight_decay >= 0)")
        f = precondition_frequency
        if isinstance(f, bool) or not isinstance(f, int) or f < 1:
            raise ValueError(f"Invalid precondition_frequency value: {f!r} (expected an integer >= 1)")
        defaults = dict(
            lr=lr, betas=tuple(betas), shampoo_beta=shampoo_beta, eps=eps, weight_decay=weight_decay,
            precondition_frequency=precondition_frequency,
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
            beta1, beta2 = group["betas"]
            for p in group["params"]:
                if p.grad is None:  # no gradient: skipped
                    continue
                if p.grad.is_sparse:
                    raise RuntimeError("SOAP does not support sparse gradients")
                state = self.state[p]
                if not state:  # lazy state: created by the first step that sees a gradient
                    state.update(soap_init_state(p))
                soap_update(
                    p, p.grad, state, lr=group["lr"], beta1=beta1, beta2=beta2,
                    shampoo_beta=group["shampoo_beta"], eps=group["eps"], weight_decay=group["weight_decay"],
                    precondition_frequency=group["precondition_frequency"],
                )
        return loss
    # --8<-- [end:step]

    def _group_and_state(self, p: Tensor) -> tuple[dict[str, Any], dict[str, Any]]:
        """The group of parameter `p` and its state (a fresh identity-basis state before its first step)."""
        for group in self.param_groups:
            if any(p is q for q in group["params"]):
                return group, self.state.get(p) or soap_init_state(p)
        raise ValueError(f"this {type(self).__name__} does not optimise the given tensor of shape {tuple(p.shape)}")

    def preconditioner(self, p: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """(Q_L, D, Q_R) of the last step for `p`: the eigenbasis it rotated into and
        D = 1/(√V̂ + ε), Adam's diagonal preconditioner in that basis (identities and ones before
        the first step). Q_L and Q_R are the optimizer's own tensors: clone them to keep a copy."""
        group, state = self._group_and_state(p)
        return soap_preconditioner(state, beta2=group["betas"][1], eps=group["eps"])

    def apply_preconditioner(self, p: Tensor, x: Tensor) -> Tensor:
        """P·x for a matrix x of `p`'s shape: Q_L (D ⊙ (Q_Lᵀ x Q_R)) Q_Rᵀ."""
        group, state = self._group_and_state(p)
        return soap_apply_preconditioner(state, x, beta2=group["betas"][1], eps=group["eps"])
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
