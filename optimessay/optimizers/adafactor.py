"""Adafactor (factored second moment, relative step size, update clipping): bit for bit
`torch.optim.Adafactor`.

As a preconditioner: the gradient estimate is the gradient itself, $\\hat g = g$, and the diagonal
preconditioner is $P = 1/\\sqrt{\\max(\\hat V, \\epsilon_1^2)}$, where for a matrix $\\hat V$ is the
rank-1 estimate $R C / \\mathrm{mean}(R)$ built from a running mean of $g^2$ over each row ($R$, one
number per row) and over each column ($C$, one per column): $m + n$ numbers instead of Adam's
$m n$. The step size is not `lr` but $\\alpha_t / \\max(1, \\mathrm{RMS}(P g)/d)$ with
$\\alpha_t = \\max(\\epsilon_2, \\mathrm{RMS}(\\theta))\\,\\min(\\gamma, 1/\\sqrt t)$: relative to the size
of the parameter, shrinking like $1/\\sqrt t$, and clipped when the preconditioned gradient is large.

Two details that only `rsqrt_` and torch's norm-based means reproduce (measured: a plain `mean` of
$g^2$, or $g/\\sqrt{\\hat V}$, drifts from torch by ~2e-7 in float32):
- the row and column means of $g^2$ are `torch.norm(g, dim=...).square_().div_(n)`;
- $P g$ is `V.clamp_(min=eps1**2).rsqrt_().mul_(g)`.

Parameters with more than 2 dimensions are factored over their last two (the leading ones are a
batch of matrices); 0-dim and 1-dim parameters keep a full (unfactored) running mean of $g^2$.

Under `torch.compile` the step counter and the norms stay tensors (torch's `_get_value` pattern), so
the whole step is one graph; eagerly they are read with `.item()` and combined in Python doubles,
exactly as torch does.
"""

# --8<-- [start:all]
from typing import Any

import torch
from torch import Tensor


# --8<-- [start:update]
def adafactor_update(
    param: Tensor,
    grad: Tensor,
    state: dict[str, Any],
    *,
    lr: float | Tensor = 1e-2,
    beta2_decay: float = -0.8,
    eps1: float | None = None,
    eps2: float = 1e-3,
    d: float = 1.0,
    weight_decay: float = 0.0,
    maximize: bool = False,
) -> None:
    """One Adafactor step for one parameter, in place (`grad` is never modified).

    One line per line of the maths. `_min`, `_max`, `_value` and `_second_moment` (end of the
    file) keep torch's Python arithmetic eagerly and stay in the graph under torch.compile.
    """
    g = -grad if maximize else grad  # g_t = ∇f(θ_{t-1})   (maximize: -∇f)
    eps1 = torch.finfo(param.dtype).eps if eps1 is None else eps1  # ε1 (default: the dtype's eps)
    t = _next_step(state)  # t ← t + 1
    one_minus_beta2 = t**beta2_decay  # 1 - β̂_{2,t} = t^τ
    rho = _min(lr, 1 / (t**0.5))  # ρ_t = min(γ, 1/√t)
    rms_param = _value(param.norm(2)) / (param.numel() ** 0.5)  # RMS(θ_{t-1}) = ‖θ_{t-1}‖/√n
    alpha = _max(eps2, rms_param) * rho  # α_t = max(ε2, RMS(θ_{t-1})) ρ_t
    if weight_decay != 0:
        param.mul_(1 - lr * weight_decay)  # θ_{t-1} ← (1 - γλ) θ_{t-1}
    if g.dim() > 1:  # a matrix: V is factored (means of g² as ‖·‖²/n, torch's ops)
        row_mean = torch.norm(g, dim=-1, keepdim=True).square_().div_(g.size(-1))  # (g⊙g) 1_n / n
        state["row_var"].lerp_(row_mean, one_minus_beta2)  # R_t = β̂ R_{t-1} + (1 - β̂) (g⊙g) 1_n/n
        col_mean = torch.norm(g, dim=-2, keepdim=True).square_().div_(g.size(-2))  # 1_mᵀ (g⊙g) / m
        state["col_var"].lerp_(col_mean, one_minus_beta2)  # C_t = β̂ C_{t-1} + (1 - β̂) 1_mᵀ(g⊙g)/m
    else:
        state["variance"].lerp_(g * g, one_minus_beta2)  # V_t = β̂ V_{t-1} + (1 - β̂) g_t²
    V_hat = _second_moment(state, eps1)  # V̂_t = R_t C_t / max(1_mᵀ R_t / m, ε1)   (vectors: V_t)
    update = V_hat.clamp_(min=eps1 * eps1).rsqrt_().mul_(g)  # U_t = P_t g_t = g_t/√max(V̂_t, ε1²)
    rms_update = _value(update.norm(2)) / ((update.numel() ** 0.5) * d)  # RMS(U_t)/d
    param.add_(update, alpha=-alpha / _max(1.0, rms_update))  # θ_t = θ - α_t U_t/max(1, RMS/d)
# --8<-- [end:update]


# --8<-- [start:state]
def adafactor_init_state(param: Tensor) -> dict[str, Any]:
    """A parameter's state before its first step, laid out as torch's (same keys, shapes, dtypes):
    a matrix (or a batch of them) keeps a row factor `row_var` (shape [..., m, 1]) and a column
    factor `col_var` (shape [..., 1, n]); a vector or a scalar keeps a full `variance`."""
    step_dtype = torch.float64 if torch.get_default_dtype() == torch.float64 else torch.float32
    # t: a 0-dim CPU tensor, like torch's
    state: dict[str, Any] = {"step": torch.tensor(0.0, dtype=step_dtype)}
    if param.dim() > 1:
        # R: running mean of g² over each row
        state["row_var"] = param.new_zeros((*param.shape[:-1], 1))
        # C: over each column
        state["col_var"] = param.new_zeros((*param.shape[:-2], 1, param.shape[-1]))
    else:
        # V: g², unfactored
        state["variance"] = torch.zeros_like(param, memory_format=torch.preserve_format)
    return state
# --8<-- [end:state]


# --8<-- [start:preconditioner]
def adafactor_preconditioner(param: Tensor, state: dict[str, Any], *, eps1: float | None = None) -> Tensor:
    """P = 1/√max(V̂, ε1²) of the last step, as a tensor of the parameter's shape (for a matrix the
    rank-1 estimate V̂ = R C / mean(R) expanded to every entry), computed from the state exactly as
    the step computed it; ones before the first step. The step itself is -αt/max(1, RMS(P g)/d)·P·g."""
    if not state or state["step"].item() == 0:
        return torch.ones_like(param)
    if eps1 is None:
        eps1 = torch.finfo(param.dtype).eps
    return _second_moment(state, eps1).clamp_(min=eps1 * eps1).rsqrt_().expand(param.shape).clone()
# --8<-- [end:preconditioner]


# --8<-- [start:class]
class Adafactor(torch.optim.Optimizer):
    r"""Adafactor: a drop-in `torch.optim.Adafactor`.

    With $g_t = \nabla f(\theta_{t-1})$ (negated if `maximize`), lr $\gamma$, `beta2_decay`
    $\tau \le 0$, `eps` $(\epsilon_1, \epsilon_2)$, clipping threshold $d$, weight decay $\lambda$;
    for a matrix $g_t \in \mathbb{R}^{m\times n}$ (the last two dimensions of a parameter):

    $$
    \begin{aligned}
    1-\hat\beta_{2,t} &= t^{\tau} \\
    \rho_t &= \min\left(\gamma, 1/\sqrt{t}\right) \\
    \alpha_t &= \max\left(\epsilon_2, \mathrm{RMS}(\theta_{t-1})\right) \rho_t \\
    \theta_{t-1} &\leftarrow \theta_{t-1}(1 - \gamma\lambda) \\
    R_t &= \hat\beta_{2,t} R_{t-1} + (1-\hat\beta_{2,t})\, \tfrac{1}{n} (g_t \odot g_t)\, 1_n \\
    C_t &= \hat\beta_{2,t} C_{t-1} + (1-\hat\beta_{2,t})\, \tfrac{1}{m} 1_m^\top (g_t \odot g_t) \\
    \hat V_t &= \frac{R_t C_t}{\max\left(\tfrac{1}{m} 1_m^\top R_t,\ \epsilon_1\right)}
      \qquad\left(\text{vectors: } \hat V_t = \hat\beta_{2,t} \hat V_{t-1} + (1-\hat\beta_{2,t})\, g_t^2\right) \\
    P_t &= 1 / \sqrt{\max(\hat V_t, \epsilon_1^2)} \\
    U_t &= P_t\, g_t \\
    \theta_t &\leftarrow \theta_{t-1} - \frac{\alpha_t}{\max\left(1, \mathrm{RMS}(U_t)/d\right)}\, U_t
    \end{aligned}
    $$

    where $\mathrm{RMS}(x) = \lVert x\rVert_2/\sqrt{\mathrm{numel}(x)}$ over the whole tensor and
    $\epsilon_1$ defaults (`eps=(None, ...)`) to the machine epsilon of the first parameter's dtype.

    `preconditioner(p)` returns $P_t$ of the last step with p's shape (ones before the first).
    Arguments, defaults, errors and `state[p]` (`step`, then `row_var` and `col_var` for a parameter
    with 2 or more dimensions, `variance` otherwise) are torch's. Note: torch's docstring says
    `weight_decay` defaults to 1e-2, but its signature (and so this class) defaults to 0.0.
    `foreach` is accepted and ignored: this class always runs torch's for-loop, which is also
    torch's default for Adafactor even on GPUs (torch's `foreach=True` path gives different numbers,
    ~1e-4 after 100 steps, because the normalized update amplifies last-bit differences).
    """

    def __init__(
        self,
        params,
        lr: float | Tensor = 1e-2,
        beta2_decay: float = -0.8,
        eps: tuple[float | None, float] = (None, 1e-3),
        d: float = 1.0,
        weight_decay: float = 0.0,
        *,
        foreach: bool | None = None,
        maximize: bool = False,
    ):
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 <= lr:
            raise ValueError(f"Learning rate should be >= 0 but is: {lr}")
        if not 0.0 >= beta2_decay:
            raise ValueError(f"beta2_decay should be <= 0 but is: {beta2_decay}")
        if eps[0] is not None and not 0.0 <= eps[0]:
            raise ValueError(f"epsilon1 should be >= 0 but is: {eps[0]}")
        if not 0.0 <= eps[1]:
            raise ValueError(f"epsilon2 should be >= 0 but is: {eps[1]}")
        if not 1.0 <= d:
            raise ValueError(f"Clipping threshold d should be >= 1 but is: {d}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"weight_decay should be >= 0 but is: {weight_decay}")
        defaults = dict(
            lr=lr, beta2_decay=beta2_decay, eps=eps, d=d, weight_decay=weight_decay, foreach=foreach,
            maximize=maximize,
        )
        super().__init__(params, defaults)

    def __setstate__(self, state):
        super().__setstate__(state)
        step_dtype = torch.float64 if torch.get_default_dtype() == torch.float64 else torch.float32
        for group in self.param_groups:  # state dicts saved by older torch versions lack these keys
            group.setdefault("foreach", None)
            for p in group["params"]:
                p_state = self.state.get(p, {})
                if p_state and not torch.is_tensor(p_state["step"]):  # old files: a Python number
                    p_state["step"] = torch.tensor(float(p_state["step"]), dtype=step_dtype)

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
                    raise RuntimeError("Adafactor does not support complex parameters")
                if p.grad.is_sparse:
                    raise RuntimeError("Adafactor does not support sparse gradients")
                params.append(p)
                if not self.state[p]:  # lazy state: created by the first step that sees a gradient
                    self.state[p].update(adafactor_init_state(p))
            lr = group["lr"]
            if isinstance(lr, Tensor) and lr.dim() != 0:
                lr = lr.squeeze()  # a 1-element tensor lr acts as a number, as in torch
            eps1, eps2 = group["eps"]
            # like torch: the machine epsilon of the group's first parameter
            if eps1 is None and params:
                eps1 = torch.finfo(params[0].dtype).eps
            for p in params:
                adafactor_update(
                    p, p.grad, self.state[p], lr=lr, beta2_decay=group["beta2_decay"], eps1=eps1, eps2=eps2,
                    d=group["d"], weight_decay=group["weight_decay"], maximize=group["maximize"],
                )
        return loss
    # --8<-- [end:step]

    def preconditioner(self, p: Tensor) -> Tensor:
        """P = 1/√max(V̂, ε1²) of the last step for parameter `p`, with p's shape (ones before its first
        step). For a matrix it is the rank-1 factored estimate; the step was -αt/clip · P · g."""
        for group in self.param_groups:
            if any(p is q for q in group["params"]):
                # eps1=None: the machine epsilon of p's dtype (the step's, when the group has one dtype)
                return adafactor_preconditioner(p, self.state.get(p, {}), eps1=group["eps"][0])
        raise ValueError(f"this {type(self).__name__} does not optimise the given tensor of shape {tuple(p.shape)}")
# --8<-- [end:class]


# ---- Machinery, out of the maths' way (Python finds these names when the core runs) -------------


def _next_step(state: dict[str, Any]) -> float | Tensor:
    """t ← t + 1 in the 0-dim float counter `state["step"]` (in place, like torch); returns t."""
    state["step"] += 1
    return _value(state["step"])


def _value(x: Tensor) -> float | Tensor:
    """A 0-dim tensor as a Python number (torch's eager arithmetic, in doubles), or the tensor
    itself while torch.compile traces the step (a `.item()` there would break the graph)."""
    return x if torch.compiler.is_compiling() else x.item()


def _second_moment(state: dict[str, Any], eps1: float) -> Tensor:
    """The estimate V̂ of E[g²] from the state (a new tensor): R C / mean(R), or V for a vector."""
    if "row_var" in state:
        row_var, col_var = state["row_var"], state["col_var"]
        # V̂ = R C / max(mean(R), ε1): the rank-1 outer product, normalised by the mean row factor
        return (row_var @ col_var).div_(row_var.mean(dim=-2, keepdim=True).clamp_(min=eps1))
    return state["variance"].clone()  # V̂ = V (a copy: the update below works in place)


def _min(a: float | Tensor, b: float | Tensor) -> float | Tensor:
    """min(a, b): Python's on numbers (torch's eager code); a tensor op when compiling."""
    return b.clamp(max=a) if torch.compiler.is_compiling() else min(a, b)


def _max(a: float | Tensor, b: float | Tensor) -> float | Tensor:
    """max(a, b): Python's on numbers (torch's eager code); a tensor op when compiling."""
    return b.clamp(min=a) if torch.compiler.is_compiling() else max(a, b)
# --8<-- [end:all]
