"""Adadelta (a learning rate from the ratio of two running averages): bit for bit `torch.optim.Adadelta`.

As a preconditioner: the gradient estimate is the gradient itself and the diagonal preconditioner
is the ratio of two root-mean-squares, $P = \\sqrt{a + \\epsilon} / \\sqrt{v + \\epsilon}$: $v$
averages squared gradients (as in RMSprop), $a$ averages squared *updates*, so $P$ carries the units
of the parameter over the units of the gradient, like an inverse curvature. The step is
$-\\gamma P g$ with $\\gamma = 1$ by default.

Which $a$: the step uses the update average from *before* the step, $a_{t-1}$; the step then
folds its own update into it ($a_t$). torch's state keeps only $a_t$, so
`adadelta_preconditioner` returns $\\sqrt{a_t + \\epsilon} / \\sqrt{v_t + \\epsilon}$: the last
step's denominator with the numerator the *next* step will start from. It equals the last step's
$P$ only where $a$ did not change; a test checks the step against $a_{t-1}$ and $v_t$ exactly.

How `optimessay.sweep` calls the functional core (N walks as one batch)
-----------------------------------------------------------------------
- The parameter has shape `(2, N)`; `lr, rho, eps, weight_decay` are Python floats (one value for
  all walks) or **float64** tensors of shape `(1, N)` (one per walk): derived values (1 - ρ, -γ)
  are computed in float64, as torch does in Python doubles, and rounded to the parameter's dtype
  once, at the op.
- State: `state = adadelta_init_state(param)` gives `step` (0-dim, shared by all walks; Adadelta's
  math never reads it), `square_avg`, `acc_delta`; then once per step
  `adadelta_update(param, grad, state, lr=..., ...)`.
- Weight decay is applied when any walk's value is nonzero (a walk with 0 gets the same numbers).
"""

# --8<-- [start:all]
from typing import Any

import torch
from torch import Tensor


# --8<-- [start:update]
def adadelta_update(
    param: Tensor,
    grad: Tensor,
    state: dict[str, Any],
    *,
    lr: float | Tensor = 1.0,
    rho: float | Tensor = 0.9,
    eps: float | Tensor = 1e-6,
    weight_decay: float | Tensor = 0.0,
    maximize: bool = False,
) -> None:
    """One Adadelta step for one parameter, in place (`grad` is never modified).

    One line per line of the maths. `_mul_`, `_plus`, `_addcmul_`, ... (end of the file) are
    torch's ops, written so that a hyperparameter may be a float or one value per walk (the sweep).
    """
    state["step"] += 1  # t ← t + 1   (torch keeps the count; Adadelta's maths never reads it)
    g = -grad if maximize else grad  # g_t = ∇f(θ_{t-1})   (maximize: -∇f)
    if _nonzero(weight_decay):
        g = _add(g, param, weight_decay)  # g_t ← g_t + λ θ_{t-1}
    v, a, g = _real(state["square_avg"], state["acc_delta"], g)  # (machinery: complex as (re, im))
    _addcmul_(_mul_(v, rho), g, g, 1 - rho)  # v_t = ρ v_{t-1} + (1 - ρ) g_t²
    std = _plus(v, eps).sqrt_()  # √(v_t + ε)
    delta = _plus(a, eps).sqrt_().div_(std).mul_(g)  # δ_t = P_t g_t = √(a_{t-1} + ε)/√(v_t + ε) g_t
    _addcmul_(_mul_(a, rho), delta, delta, 1 - rho)  # a_t = ρ a_{t-1} + (1 - ρ) δ_t²
    _add_(param, _complex_like(delta, param), -lr)  # θ_t = θ_{t-1} - γ δ_t = θ_{t-1} - γ P_t g_t
# --8<-- [end:update]


# --8<-- [start:state]
def adadelta_init_state(param: Tensor) -> dict[str, Any]:
    """A parameter's state before its first step, laid out as torch's (same keys, shapes, dtypes)."""
    step_dtype = torch.float64 if torch.get_default_dtype() == torch.float64 else torch.float32
    return {
        # counts steps (a 0-dim CPU tensor, like torch's)
        "step": torch.zeros((), dtype=step_dtype),
        "square_avg": torch.zeros_like(param, memory_format=torch.preserve_format),  # v
        "acc_delta": torch.zeros_like(param, memory_format=torch.preserve_format),  # a
    }
# --8<-- [end:state]


# --8<-- [start:preconditioner]
def adadelta_preconditioner(
    param: Tensor, state: dict[str, Any], *, eps: float | Tensor = 1e-6
) -> Tensor:
    """√(a + ε)/√(v + ε) from the state after the last step (ones before the first step): the last
    step's denominator √(v_t + ε) over the numerator √(a_t + ε) that the next step starts from.
    The last step itself used a_{t-1}, which torch's state does not keep. Complex parameters give
    their (real, imag) view."""
    if not state or state["step"].item() == 0:
        return torch.ones_like(*_real(param))
    v, a = _real(state["square_avg"], state["acc_delta"])
    return _plus(a, eps).sqrt_().div_(_plus(v, eps).sqrt_())
# --8<-- [end:preconditioner]


# --8<-- [start:class]
class Adadelta(torch.optim.Optimizer):
    r"""Adadelta: a drop-in `torch.optim.Adadelta`.

    With $g_t = \nabla f(\theta_{t-1})$ (negated if `maximize`), learning rate $\gamma$ (1 by
    default), decay $\rho$, weight decay $\lambda$:

    $$
    \begin{aligned}
    g_t &\leftarrow g_t + \lambda\,\theta_{t-1} \\
    v_t &\leftarrow \rho\, v_{t-1} + (1-\rho)\, g_t^2 \\
    P_t &= \frac{\sqrt{a_{t-1} + \epsilon}}{\sqrt{v_t + \epsilon}}, \qquad \delta_t = P_t\, g_t \\
    a_t &\leftarrow \rho\, a_{t-1} + (1-\rho)\, \delta_t^2 \\
    \theta_t &\leftarrow \theta_{t-1} - \gamma\, P_t\, g_t
    \end{aligned}
    $$

    The gradient estimate is $g_t$. `preconditioner(p)` returns $\sqrt{a_t + \epsilon} /
    \sqrt{v_t + \epsilon}$ from the state (ones before the first step): torch's state no longer holds
    $a_{t-1}$, so this is $P_t$ with its numerator advanced by one step (see the module docstring).
    Arguments (`foreach` is positional, as in torch), defaults, errors and `state[p]` (`step`,
    `square_avg`, `acc_delta`) are torch's. `foreach` is accepted and ignored: this class always
    runs the for-loop, which is torch's default on CPU. `capturable` and `differentiable` must be off.
    """

    def __init__(
        self,
        params,
        lr: float | Tensor = 1.0,
        rho: float = 0.9,
        eps: float = 1e-6,
        weight_decay: float = 0,
        foreach: bool | None = None,
        *,
        capturable: bool = False,
        maximize: bool = False,
        differentiable: bool = False,
    ):
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Invalid rho value: {rho}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if capturable:
            raise ValueError(f"optimessay's Adadelta runs on CPU only: expected capturable=False, got {capturable!r}")
        if differentiable:
            raise ValueError(f"optimessay's Adadelta supports differentiable=False only, got {differentiable!r}")
        defaults = dict(
            lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize, capturable=capturable,
            foreach=foreach, differentiable=differentiable,
        )
        super().__init__(params, defaults)

    def __setstate__(self, state):
        super().__setstate__(state)
        step_dtype = torch.float64 if torch.get_default_dtype() == torch.float64 else torch.float32
        for group in self.param_groups:  # state dicts saved by older torch versions lack these keys
            group.setdefault("foreach", None)
            group.setdefault("maximize", False)
            group.setdefault("differentiable", False)
            group.setdefault("capturable", False)
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
            params = [p for p in group["params"] if p.grad is not None]  # no gradient: skipped
            if any(p.grad.is_sparse for p in params):
                raise RuntimeError("Adadelta does not support sparse gradients")
            lr = group["lr"]
            if isinstance(lr, Tensor) and lr.dim() != 0:
                lr = lr.squeeze()  # a 1-element tensor lr acts as a number, as in torch
            for p in params:
                state = self.state[p]
                if not state:  # lazy state: created by the first step that sees a gradient
                    state.update(adadelta_init_state(p))
                adadelta_update(
                    p, p.grad, state, lr=lr, rho=group["rho"], eps=group["eps"],
                    weight_decay=group["weight_decay"], maximize=group["maximize"],
                )
        return loss
    # --8<-- [end:step]

    def preconditioner(self, p: Tensor) -> Tensor:
        """√(a + ε)/√(v + ε) from the state after the last step for parameter `p` (ones before its
        first step); see the class docstring for which accumulator it uses."""
        for group in self.param_groups:
            if any(p is q for q in group["params"]):
                return adadelta_preconditioner(p, self.state.get(p, {}), eps=group["eps"])
        raise ValueError(f"this Adadelta does not optimise the given tensor of shape {tuple(p.shape)}")
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


def _real(*xs: Tensor | None) -> tuple[Tensor | None, ...]:
    """Complex tensors as real views with a last axis (real, imag): torch optimises both parts."""
    return tuple(torch.view_as_real(x) if x is not None and x.is_complex() else x for x in xs)


def _rounded(a: float | Tensor, like: Tensor) -> float | Tensor:
    """A per-walk tensor in `like`'s dtype; a float stays a float (torch rounds it the same way)."""
    return a.to(like.dtype) if isinstance(a, Tensor) else a


def _mul_(y: Tensor, a: float | Tensor) -> Tensor:
    """In place: y ← a·y."""
    return y.mul_(_rounded(a, y))


def _plus(y: Tensor, a: float | Tensor) -> Tensor:
    """y + a."""
    return y.add(_rounded(a, y))


def _add(y: Tensor, x: Tensor, a: float | Tensor) -> Tensor:
    """y + a·x in one fused multiply-add, as torch's `y.add(x, alpha=a)` (y + a*x rounds twice).
    `alpha=` takes a number only; `torch.addcmul(y, x, a)` is the same op for a tensor a."""
    return torch.addcmul(y, x, _rounded(a, y)) if isinstance(a, Tensor) else y.add(x, alpha=a)


def _add_(y: Tensor, x: Tensor, a: float | Tensor) -> Tensor:
    """In place: y ← y + a·x, the fused multiply-add of `_add`."""
    return y.addcmul_(x, _rounded(a, y)) if isinstance(a, Tensor) else y.add_(x, alpha=a)


def _addcmul_(y: Tensor, x1: Tensor, x2: Tensor, c: float | Tensor) -> Tensor:
    """In place: y ← y + c·x1·x2. `value=` takes a number only; (c·x1)·x2 is bitwise the same."""
    if isinstance(c, Tensor):
        return y.addcmul_(_rounded(c, y) * x1, x2)
    return y.addcmul_(x1, x2, value=c)


def _complex_like(x: Tensor, like: Tensor) -> Tensor:
    """A (re, im) real view back as complex numbers when `like` is complex (torch's Adadelta)."""
    return torch.view_as_complex(x) if like.is_complex() else x
# --8<-- [end:all]
