"""ASGD (averaged stochastic gradient descent with a decaying step size): bit for bit `torch.optim.ASGD`.

As a preconditioner: ASGD is SGD with a step size $\\eta_t$ that decays with the step count,
$\\eta_t = \\gamma / (1 + \\lambda \\gamma (t-1))^\\alpha$, and a decay of the parameter towards 0 by
$\\lambda\\eta_t$. With the gradient estimate $\\hat g = g + \\lambda\\theta$ (plus $w\\theta$ with
weight decay $w$), the step is $-\\gamma P \\hat g$ with the scalar preconditioner
$P = \\eta_t / \\gamma = 1 / (1 + \\lambda\\gamma(t-1))^\\alpha$, the same for every element.
From step $t_0$ on, ASGD also keeps a running average of the iterates (`state["ax"]`), which the
step never uses: it is the answer ASGD proposes, read from the state.

How `optimessay.sweep` calls the functional core (N walks as one batch)
-----------------------------------------------------------------------
- The parameter has shape `(2, N)`; `lr, lambd, alpha, t0, weight_decay` are Python floats (one value
  for all walks) or **float64** tensors of shape `(1, N)` (one per walk): derived values are computed
  in float64, as torch does in Python doubles, and rounded once, at the op or in the state.
- State: `state = asgd_init_state(param, lr=..., lambd=..., alpha=..., t0=...)` gives `step` (0-dim,
  shared by all walks), `eta` (starts at lr), `mu` (starts at 1) and `ax`. torch's `eta` and `mu` are
  0-dim float32 tensors; with a per-walk hyperparameter they have shape `(1, N)`. Then once per step
  `asgd_update(param, grad, state, lr=..., ...)`.
- `asgd_preconditioner(param, state, lr=..., lambd=..., alpha=...)` returns P of the last step.
"""

# --8<-- [start:all]
from typing import Any

import torch
from torch import Tensor


# --8<-- [start:update]
def asgd_update(
    param: Tensor,
    grad: Tensor,
    state: dict[str, Any],
    *,
    lr: float | Tensor = 1e-2,
    lambd: float | Tensor = 1e-4,
    alpha: float | Tensor = 0.75,
    t0: float | Tensor = 1e6,
    weight_decay: float | Tensor = 0.0,
    maximize: bool = False,
) -> None:
    """One ASGD step for one parameter, in place (`grad` is never modified).

    One line per line of the maths. `_mul_`, `_add_`, `_average_`, ... (end of the file) are
    torch's ops, written so that a hyperparameter may be a float or one value per walk (the sweep).
    """
    g = -grad if maximize else grad  # g_t = ∇f(θ_{t-1})   (maximize: -∇f)
    ax, eta, mu = state["ax"], state["eta"], state["mu"]  # θ̄, η_t, μ_t
    g, param, ax = _real(g, param, ax)  # (machinery: complex as (re, im) pairs)
    t = _next_step(state)  # t ← t + 1
    if _nonzero(weight_decay):
        g = _add(g, param, weight_decay)  # g_t ← g_t + w θ_{t-1}
    eta_t = _value(eta)  # η_t
    _mul_(param, 1 - lambd * eta_t)  # θ ← (1 - λη_t) θ_{t-1}
    _add_(param, g, -eta_t)  # θ_t = θ - η_t g_t
    _average_(ax, param, mu)  # θ̄_t = θ_t if μ_t = 1, else θ̄_{t-1} + μ_t (θ_t - θ̄_{t-1})
    eta.copy_(torch.as_tensor(lr / ((1 + lambd * lr * t) ** alpha)))  # η_{t+1} = γ/(1 + λγt)^α
    mu.copy_(torch.as_tensor(1 / _max(1, t - t0)))  # μ_{t+1} = 1/max(1, t - t0)
# --8<-- [end:update]


# --8<-- [start:state]
def asgd_init_state(
    param: Tensor,
    *,
    lr: float | Tensor = 1e-2,
    lambd: float | Tensor = 1e-4,
    alpha: float | Tensor = 0.75,
    t0: float | Tensor = 1e6,
) -> dict[str, Any]:
    """A parameter's state before its first step, laid out as torch's (same keys, shapes, dtypes).

    `lambd`, `alpha` and `t0` only matter for a sweep: per-walk tensors give `eta` and `mu` their
    broadcast shape (torch's are 0-dim)."""
    scalar_dtype = torch.float64 if torch.get_default_dtype() == torch.float64 else torch.float32
    shape = torch.broadcast_shapes(*(x.shape for x in (lr, lambd, alpha, t0) if isinstance(x, Tensor)))
    return {
        "step": torch.zeros((), dtype=scalar_dtype),  # t: a 0-dim CPU tensor, like torch's
        # η_1 = γ
        "eta": torch.as_tensor(lr, dtype=scalar_dtype).clone().detach().expand(shape).clone(),
        "mu": torch.ones(shape, dtype=scalar_dtype),  # averaging weight μ_1 = 1
        # the averaged iterate θ̄
        "ax": torch.zeros_like(param, memory_format=torch.preserve_format),
    }
# --8<-- [end:state]


# --8<-- [start:preconditioner]
def asgd_preconditioner(
    param: Tensor,
    state: dict[str, Any],
    *,
    lr: float | Tensor = 1e-2,
    lambd: float | Tensor = 1e-4,
    alpha: float | Tensor = 0.75,
) -> Tensor:
    """P = η_t/γ = 1/(1 + λγ(t-1))^α of the last step, the same for every element (ones before the
    first step), with η_t rounded as the state rounds it. The state holds η_{t+1}; η_t is recomputed
    from t and the lr given, so P is exact when the lr was constant (with a scheduler: the step
    size of the last step relative to the lr passed in). Complex parameters give their (real, imag)
    view."""
    ones = torch.ones_like(*_real(param))
    if not state or state["step"].item() == 0:
        return ones
    t = state["step"].item()
    eta_t = torch.as_tensor(lr / ((1 + lambd * lr * (t - 1)) ** alpha), dtype=state["eta"].dtype)
    return ones * (eta_t.to(torch.float64) / lr).to(ones.dtype)
# --8<-- [end:preconditioner]


# --8<-- [start:class]
class ASGD(torch.optim.Optimizer):
    r"""ASGD: a drop-in `torch.optim.ASGD`.

    With $g_t = \nabla f(\theta_{t-1})$ (negated if `maximize`), learning rate $\gamma$, decay
    $\lambda$ (`lambd`), power $\alpha$, averaging start $t_0$, weight decay $w$:

    $$
    \begin{aligned}
    g_t &\leftarrow g_t + w\,\theta_{t-1} \\
    \theta_t &\leftarrow \theta_{t-1}(1 - \lambda\eta_t) - \eta_t\, g_t
      \;=\; \theta_{t-1} - \gamma\, P_t\, \hat g_t, \qquad
      \hat g_t = g_t + \lambda\,\theta_{t-1}, \quad P_t = \frac{\eta_t}{\gamma} \\
    \bar\theta_t &\leftarrow \begin{cases} \theta_t & \mu_t = 1 \\
      \bar\theta_{t-1} + \mu_t(\theta_t - \bar\theta_{t-1}) & \text{otherwise} \end{cases} \\
    \eta_{t+1} &= \frac{\gamma}{(1 + \lambda\gamma t)^\alpha}, \qquad
    \mu_{t+1} = \frac{1}{\max(1,\; t - t_0)}
    \end{aligned}
    $$

    with $\eta_1 = \gamma$ and $\mu_1 = 1$. $\eta$ and $\mu$ live in the state as 0-dim float32
    tensors (`eta`, `mu`), so the step size is rounded to float32 between steps, as in torch.
    `preconditioner(p)` returns $P_t$ of the last step (a constant tensor; ones before the first),
    recomputed from $t$ and the group's current lr (exact for a constant lr). Arguments (all
    positional, as in torch), defaults, errors and `state[p]` (`step`, `eta`, `mu`, `ax`) are
    torch's. `foreach` is accepted and ignored: this class always runs the for-loop, which is
    torch's default on CPU. `capturable` and `differentiable` must be off.
    """

    def __init__(
        self,
        params,
        lr: float | Tensor = 1e-2,
        lambd: float = 1e-4,
        alpha: float = 0.75,
        t0: float = 1e6,
        weight_decay: float = 0,
        foreach: bool | None = None,
        maximize: bool = False,
        differentiable: bool = False,
        capturable: bool = False,
    ):
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if capturable:
            raise ValueError(f"optimessay's ASGD runs on CPU only: expected capturable=False, got {capturable!r}")
        if differentiable:
            raise ValueError(f"optimessay's ASGD supports differentiable=False only, got {differentiable!r}")
        defaults = dict(
            lr=lr, lambd=lambd, alpha=alpha, t0=t0, weight_decay=weight_decay, foreach=foreach,
            maximize=maximize, differentiable=differentiable, capturable=capturable,
        )
        super().__init__(params, defaults)

    def __setstate__(self, state):
        super().__setstate__(state)
        scalar_dtype = torch.float64 if torch.get_default_dtype() == torch.float64 else torch.float32
        for group in self.param_groups:  # state dicts saved by older torch versions lack these keys
            group.setdefault("foreach", None)
            group.setdefault("maximize", False)
            group.setdefault("differentiable", False)
            group.setdefault("capturable", False)
            for p in group["params"]:
                p_state = self.state.get(p, {})
                if p_state:  # old files: Python numbers
                    if not torch.is_tensor(p_state["step"]):
                        p_state["step"] = torch.tensor(float(p_state["step"]), dtype=scalar_dtype)
                    for key in ("eta", "mu"):
                        if not torch.is_tensor(p_state[key]):
                            p_state[key] = torch.tensor(p_state[key], dtype=scalar_dtype)

    # --8<-- [start:step]
    @torch.no_grad()
    def step(self, closure=None):
        """One step for every parameter that has a gradient; returns the closure's loss (or None)."""
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            params = [p for p in group["params"] if p.grad is not None]  # no gradient: skipped
            if any(p.grad.is_sparse for p in params):
                raise RuntimeError("ASGD does not support sparse gradients")
            lr = group["lr"]
            if isinstance(lr, Tensor) and lr.dim() != 0:
                lr = lr.squeeze()  # a 1-element tensor lr acts as a number, as in torch
            for p in params:
                state = self.state[p]
                if not state:  # lazy state: created by the first step that sees a gradient
                    state.update(asgd_init_state(p, lr=lr))
                asgd_update(
                    p, p.grad, state, lr=lr, lambd=group["lambd"], alpha=group["alpha"], t0=group["t0"],
                    weight_decay=group["weight_decay"], maximize=group["maximize"],
                )
        return loss
    # --8<-- [end:step]

    def preconditioner(self, p: Tensor) -> Tensor:
        """P = η_t/γ = 1/(1 + λγ(t-1))^α of the last step for parameter `p` (ones before its first)."""
        for group in self.param_groups:
            if any(p is q for q in group["params"]):
                lr = group["lr"].item() if isinstance(group["lr"], Tensor) else group["lr"]
                return asgd_preconditioner(p, self.state.get(p, {}), lr=lr, lambd=group["lambd"],
                                           alpha=group["alpha"])
        raise ValueError(f"this ASGD does not optimise the given tensor of shape {tuple(p.shape)}")
# --8<-- [end:class]


# ---- Machinery, out of the maths' way (Python finds these names when the core runs) -------------
# A hyperparameter is a Python float (the class: bit for bit torch.optim) or a tensor with one value
# per walk (optimessay.sweep). Each op helper below runs torch's own op on either: a tensor is first
# rounded to the parameter's dtype, once, after its derived value (1 - β, γ/(1 - β1^t), ...) was
# computed in float64, as torch computes it in Python doubles; so a float32 sweep walk is bitwise
# its class run.


def _nonzero(x: float | Tensor) -> bool:
    """Whether an option such as weight decay is on: a float != 0, a tensor with any entry != 0."""
    return bool((x != 0).any()) if isinstance(x, Tensor) else x != 0


def _next_step(state: dict[str, Any]) -> float | Tensor:
    """t ← t + 1 in the 0-dim float counter `state["step"]` (in place, like torch); returns t."""
    state["step"] += 1
    return _value(state["step"])


def _value(x: Tensor) -> float | Tensor:
    """A state scalar (t, η_t) read as torch.optim reads it. Eagerly a Python number, so that the
    arithmetic around it is in doubles, bit for bit torch's (a sweep's per-walk η: float64 values,
    the doubles `.item()` gives). Under torch.compile the tensor itself: `.item()` there breaks the
    graph and recompiles per parameter."""
    if torch.compiler.is_compiling():
        return x
    return x.item() if x.dim() == 0 else x.to(torch.float64)


def _real(*xs: Tensor | None) -> tuple[Tensor | None, ...]:
    """Complex tensors as real views with a last axis (real, imag): torch optimises both parts."""
    return tuple(torch.view_as_real(x) if x is not None and x.is_complex() else x for x in xs)


def _rounded(a: float | Tensor, like: Tensor) -> float | Tensor:
    """A per-walk tensor in `like`'s dtype; a float stays a float (torch rounds it the same way)."""
    return a.to(like.dtype) if isinstance(a, Tensor) else a


def _mul_(y: Tensor, a: float | Tensor) -> Tensor:
    """In place: y ← a·y."""
    return y.mul_(_rounded(a, y))


def _add(y: Tensor, x: Tensor, a: float | Tensor) -> Tensor:
    """y + a·x in one fused multiply-add, as torch's `y.add(x, alpha=a)` (y + a*x rounds twice).
    `alpha=` takes a number only; `torch.addcmul(y, x, a)` is the same op for a tensor a."""
    return torch.addcmul(y, x, _rounded(a, y)) if isinstance(a, Tensor) else y.add(x, alpha=a)


def _add_(y: Tensor, x: Tensor, a: float | Tensor) -> Tensor:
    """In place: y ← y + a·x, the fused multiply-add of `_add`."""
    return y.addcmul_(x, _rounded(a, y)) if isinstance(a, Tensor) else y.add_(x, alpha=a)


def _average_(ax: Tensor, param: Tensor, mu: Tensor) -> None:
    """In place: θ̄ ← θ where μ = 1 (before t0 the "average" is the last iterate), else
    θ̄ ← θ̄ + μ(θ - θ̄). A per-walk μ, or a compiled step (no `.item()` in a graph), picks per walk
    with torch.where."""
    if torch.compiler.is_compiling() or mu.dim() != 0:
        ax.copy_(torch.where(mu != 1, ax.add(param.sub(ax).mul_(mu)), param))
    elif mu.item() != 1:
        ax.add_(param.sub(ax).mul_(mu))
    else:
        ax.copy_(param)


def _max(a: float, x: float | Tensor) -> float | Tensor:
    """max(a, x) for a number x (eager) or a tensor x (per-walk t0, or t under torch.compile)."""
    return torch.clamp(x, min=a) if isinstance(x, Tensor) else max(a, x)
# --8<-- [end:all]
