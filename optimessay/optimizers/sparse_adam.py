"""SparseAdam (Adam on the rows a sparse gradient touches): bit for bit `torch.optim.SparseAdam`.

For parameters whose gradients come in sparse layout, such as `nn.Embedding(sparse=True)`: only the
entries the gradient stores ("touched", e.g. the embedding rows of the batch) have their moments
and values updated; every other entry keeps its moments and does not move.

As a preconditioner: on the touched entries the gradient estimate is Adam's bias-corrected first
moment $\\hat m = m / (1-\\beta_1^t)$ and the diagonal preconditioner is
$P = \\sqrt{1-\\beta_2^t} / (\\sqrt{v} + \\epsilon)$ (Adam's, except that $\\epsilon$ is added to
$\\sqrt{v}$ *before* the bias correction); on the other entries $P = 0$.

The step counter is a Python int (torch's layout for SparseAdam) and is counted on every step where
the parameter has a gradient, even an empty one. `torch.compile` cannot trace sparse tensors, so,
like torch (whose dynamo wraps `torch.optim.SparseAdam.step` in `torch.compiler.disable`), the step
is excluded from compilation: inside a compiled function it runs eagerly, with eager numbers.
"""

# --8<-- [start:all]
import math
from typing import Any

import torch
from torch import Tensor


# --8<-- [start:update]
def sparse_adam_update(
    param: Tensor,
    grad: Tensor,
    state: dict[str, Any],
    *,
    lr: float | Tensor = 1e-3,
    beta1: float = 0.9,
    beta2: float = 0.999,
    eps: float = 1e-8,
    maximize: bool = False,
) -> None:
    """One SparseAdam step for one dense parameter with a sparse gradient, in place.

    One line per line of the maths, on the entries the gradient touched; `_touched` (end of the
    file) spreads values over those entries as a sparse tensor shaped like the parameter.
    """
    state["step"] += 1  # t ← t + 1   (also when the gradient stores nothing)
    t = state["step"]  # t, a Python int (torch's SparseAdam), so the powers below are in doubles
    g = (-grad if maximize else grad).coalesce()  # g_t, one value per touched entry (maximize: -∇f)
    values = g._values()  # g_t on the touched entries
    if values.numel() == 0:
        return  # nothing touched: nothing moves
    m, v = state["exp_avg"], state["exp_avg_sq"]  # m_{t-1}, v_{t-1} (dense)
    old_m = m.sparse_mask(g)._values()  # m_{t-1} on the touched entries
    m_delta = values.sub(old_m).mul_(1 - beta1)  # (1 - β1)(g_t - m_{t-1})
    m.add_(_touched(g, m_delta))  # m_t = m_{t-1} + (1 - β1)(g_t - m_{t-1})
    old_v = v.sparse_mask(g)._values()  # v_{t-1} on the touched entries
    v_delta = values.pow(2).sub_(old_v).mul_(1 - beta2)  # (1 - β2)(g_t² - v_{t-1})
    v.add_(_touched(g, v_delta))  # v_t = β2 v_{t-1} + (1 - β2) g_t²
    m_t = m_delta.add_(old_m)  # m_t on the touched entries (recomputed: same numbers, no gather)
    denominator = v_delta.add_(old_v).sqrt_().add_(eps)  # √v_t + ε   (ε before the bias correction)
    step_size = lr * math.sqrt(1 - beta2**t) / (1 - beta1**t)  # γ √(1 - β2^t)/(1 - β1^t)
    param.add_(_touched(g, -step_size * m_t.div_(denominator)))  # θ_t = θ_{t-1} - γ P_t m̂_t
# --8<-- [end:update]


# --8<-- [start:state]
def sparse_adam_init_state(param: Tensor) -> dict[str, Any]:
    """A parameter's state before its first step, laid out as torch's (same keys, dtypes, order)."""
    return {
        "step": 0,  # t: a Python int, not a tensor (unlike Adam)
        "exp_avg": torch.zeros_like(param, memory_format=torch.preserve_format),  # m (dense)
        "exp_avg_sq": torch.zeros_like(param, memory_format=torch.preserve_format),  # v (dense)
    }
# --8<-- [end:state]


# --8<-- [start:preconditioner]
def sparse_adam_preconditioner(
    param: Tensor, grad: Tensor | None, state: dict[str, Any], *, beta2: float = 0.999, eps: float = 1e-8
) -> Tensor:
    """P of the last step, dense with the parameter's shape: √(1-β2ᵗ)/(√v + ε) on the entries the
    last gradient `grad` touched, 0 elsewhere (they did not move); ones before the first step.
    The step was θ ← θ - γ · P · m̂ with m̂ = m/(1-β1ᵗ)."""
    if not state or state["step"] == 0:
        return torch.ones_like(param)
    if grad is None:
        raise ValueError("the SparseAdam preconditioner needs the last step's sparse gradient (which entries it "
                         "touched), but p.grad is None: call preconditioner(p) before zero_grad()")
    mask = torch.zeros_like(param, dtype=torch.bool)
    # a row index alone marks the whole row (hybrid layout)
    mask[tuple(grad.coalesce()._indices())] = True
    P = math.sqrt(1 - beta2 ** state["step"]) / state["exp_avg_sq"].sqrt().add_(eps)
    return torch.where(mask, P, 0.0)
# --8<-- [end:preconditioner]


# --8<-- [start:class]
class SparseAdam(torch.optim.Optimizer):
    r"""SparseAdam: a drop-in `torch.optim.SparseAdam` (dense parameters, sparse gradients).

    With the touched entries $\Omega_t$ of the sparse gradient $g_t$ (negated if `maximize`), lr
    $\gamma$, betas $\beta_1, \beta_2$; on $\Omega_t$ only (everything else is unchanged):

    $$
    \begin{aligned}
    m_t &\leftarrow m_{t-1} + (1-\beta_1)(g_t - m_{t-1}) \\
    v_t &\leftarrow v_{t-1} + (1-\beta_2)(g_t^2 - v_{t-1}) \\
    \hat g_t = \hat m_t &= \frac{m_t}{1-\beta_1^t} \\
    P_t &= \frac{\sqrt{1-\beta_2^t}}{\sqrt{v_t} + \epsilon} \\
    \theta_t &\leftarrow \theta_{t-1} - \gamma\, P_t\, \hat g_t
    \end{aligned}
    $$

    $t$ counts the steps on which the parameter had a gradient (even an empty one), not the steps on
    which an entry was touched: an embedding row seen rarely gets the bias correction of a late step.

    `preconditioner(p)` returns $P_t$ of the last step (0 off $\Omega_t$; it reads $\Omega_t$ from
    `p.grad`). Arguments, defaults, errors and `state[p]` (`step` as a Python int, `exp_avg`,
    `exp_avg_sq`) are torch's. `torch.compile(opt.step)`: dynamo cannot trace sparse tensors, so
    `step` is marked `torch.compiler.disable`, as torch marks its own: it runs eagerly inside a
    compiled function (bit for bit the eager numbers, no graph, nothing to recompile).
    """

    def __init__(
        self,
        params,
        lr: float | Tensor = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        maximize: bool = False,
    ):
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 < lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 < eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= betas[0] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 0: {betas[0]}")
        if not 0.0 <= betas[1] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 1: {betas[1]}")
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, maximize=maximize))
        sparse_params, complex_params = [], []
        for index, group in enumerate(self.param_groups):
            for d_index, p in enumerate(group["params"]):
                if p.is_sparse:
                    sparse_params.append([index, d_index])
                if p.is_complex():
                    complex_params.append([index, d_index])
        if sparse_params:
            raise ValueError(
                f"Sparse params at indices {sparse_params}: SparseAdam requires dense parameter tensors"
            )
        if complex_params:
            raise ValueError(
                f"Complex params at indices {complex_params}: SparseAdam does not support complex parameters"
            )

    def __setstate__(self, state):
        # like torch's: old state dicts need nothing added (`maximize` is read with a default)
        super().__setstate__(state)

    # --8<-- [start:step]
    @torch.compiler.disable(reason="sparse tensors cannot be traced; torch disables its SparseAdam.step too")
    @torch.no_grad()
    def step(self, closure=None):
        """One step for every parameter that has a gradient; returns the closure's loss (or None)."""
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            beta1, beta2 = group["betas"]
            lr = group["lr"]
            if isinstance(lr, Tensor) and lr.dim() != 0:
                lr = lr.squeeze()  # a 1-element tensor lr acts as a number, as in torch
            params = []
            for p in group["params"]:
                if p.grad is None:  # no gradient: skipped
                    continue
                if not p.grad.is_sparse:
                    raise RuntimeError("SparseAdam does not support dense gradients, please consider Adam instead")
                params.append(p)
                if not self.state[p]:  # lazy state: created by the first step that sees a gradient
                    self.state[p].update(sparse_adam_init_state(p))
            for p in params:
                sparse_adam_update(
                    p, p.grad, self.state[p], lr=lr, beta1=beta1, beta2=beta2, eps=group["eps"],
                    maximize=group.get("maximize", False),
                )
        return loss
    # --8<-- [end:step]

    def preconditioner(self, p: Tensor) -> Tensor:
        """P of the last step for parameter `p` (0 on the entries the last gradient did not touch;
        ones before its first step). Reads the touched entries from `p.grad`: call it before zero_grad."""
        for group in self.param_groups:
            if any(p is q for q in group["params"]):
                return sparse_adam_preconditioner(
                    p, p.grad, self.state.get(p, {}), beta2=group["betas"][1], eps=group["eps"]
                )
        raise ValueError(f"this {type(self).__name__} does not optimise the given tensor of shape {tuple(p.shape)}")
# --8<-- [end:class]


def _touched(g: Tensor, values: Tensor) -> Tensor:
    """`values` on the entries the coalesced sparse `g` touched, zero elsewhere: a sparse tensor
    shaped like the parameter (torch's construction, including its empty case)."""
    indices = g._indices()
    if indices.dim() == 0 or values.dim() == 0:
        return g.new().resize_as_(g)
    return g.new(indices, values, g.size())
# --8<-- [end:all]
