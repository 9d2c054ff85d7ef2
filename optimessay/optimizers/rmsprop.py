"""RMSprop (optionally centered, with momentum and weight decay): bit for bit `torch.optim.RMSprop`.

As a preconditioner: $P = 1/(\\sqrt{v} + \\epsilon)$, where $v$ is the moving average of squared
gradients (centered: $v - \\bar g^2$, an estimate of the gradient's variance). Without momentum the
gradient estimate is the gradient itself; with momentum the buffer accumulates preconditioned
gradients, $b \\leftarrow \\mu b + P g$, and the step is $-\\gamma b$.

How `optimessay.sweep` calls the functional core (N walks as one batch)
-----------------------------------------------------------------------
- The parameter has shape `(2, N)`; `lr, alpha, eps, weight_decay, momentum` are Python floats (one
  value for all walks) or tensors of shape `(1, N)` (one per walk).
  `centered` and `maximize` are per-sweep Python bools.
- Give tensor hyperparameters in **float64** whatever the parameter's dtype: the core computes
  derived values (1 - α, -γ, ...) in float64, as torch does in Python doubles, and rounds
  them to the parameter's dtype once, at the op. A float32 sweep is then bitwise equal to the
  class run walk by walk (measured; float32 hyperparameters drift by ~1e-5 relative).
- State: `state = rmsprop_init_state(param, momentum=..., centered=...)` gives `step` (a 0-dim CPU
  tensor shared by all walks; RMSprop's math never reads it), `square_avg`, and `momentum_buffer`
  (zeros) when momentum is > 0 (for a tensor: any entry), `grad_avg` when centered. Then once per
  step `rmsprop_update(param, grad, state, lr=..., alpha=..., ...)`.
- Conditions with tensor hyperparameters: weight decay is applied when any walk's value is nonzero
  (a walk with 0 gets the same numbers while finite). The momentum path runs when any walk's
  momentum is > 0 (as torch, when momentum > 0 for a float). A walk with
  momentum 0 inside such a sweep follows the same math as plain RMSprop but rounds once more
  (`θ - γ·(g/d)` instead of `θ - (γ·g)/d`): equal to ~1 ulp per step, not bitwise. To be bitwise
  for momentum-free walks, run them as their own sweep with `momentum=0.0`.
- `rmsprop_preconditioner(param, state, eps=...)` returns P of the last step.
"""

# --8<-- [start:all]
from typing import Any

import torch
from torch import Tensor


# --8<-- [start:update]
def rmsprop_update(
    param: Tensor,
    grad: Tensor,
    state: dict[str, Any],
    *,
    lr: float | Tensor,
    alpha: float | Tensor = 0.99,
    eps: float | Tensor = 1e-8,
    weight_decay: float | Tensor = 0.0,
    momentum: float | Tensor = 0.0,
    centered: bool = False,
    maximize: bool = False,
) -> None:
    """One RMSprop step for one parameter, in place (`grad` is never modified).

    One line per line of the maths. `_mul_`, `_addcmul_`, `_lerp_`, ... (end of the file) are
    torch's ops, written so that a hyperparameter may be a float or one value per walk (the sweep).
    """
    g = -grad if maximize else grad  # g_t = ∇f(θ_{t-1})   (maximize: -∇f)
    state["step"] += 1  # t ← t + 1   (torch keeps the count; RMSprop's maths never reads it)
    if _nonzero(weight_decay):
        g = _add(g, param, weight_decay)  # g_t ← g_t + λ θ_{t-1}
    v, g_avg = state["square_avg"], state.get("grad_avg")  # v, ḡ
    b = state["momentum_buffer"] if _positive(momentum) else None  # b (with momentum)
    param, g, v, g_avg, b = _real(param, g, v, g_avg, b)  # (machinery: complex as (re, im) pairs)
    _addcmul_(_mul_(v, alpha), g, g, 1 - alpha)  # v_t = α v_{t-1} + (1 - α) g_t²
    if centered:
        _lerp_(g_avg, g, 1 - alpha)  # ḡ_t = α ḡ_{t-1} + (1 - α) g_t
        variance = v.addcmul(g_avg, g_avg, value=-1)  # v_t - ḡ_t²
        denominator = _plus_(variance.sqrt_(), eps)  # 1/P_t = √(v_t - ḡ_t²) + ε
    else:
        denominator = _plus_(v.sqrt(), eps)  # 1/P_t = √v_t + ε   (ε after the √: torch's order)
    if b is None:
        _addcdiv_(param, g, denominator, -lr)  # θ_t = θ_{t-1} - γ P_t g_t
    else:
        _mul_(b, momentum).addcdiv_(g, denominator)  # b_t = μ b_{t-1} + P_t g_t
        _add_(param, b, -lr)  # θ_t = θ_{t-1} - γ b_t
# --8<-- [end:update]


# --8<-- [start:state]
def rmsprop_init_state(
    param: Tensor, *, momentum: float | Tensor = 0.0, centered: bool = False
) -> dict[str, Any]:
    """A parameter's state before its first step, laid out as torch's (same keys, shapes, dtypes)."""
    step_dtype = torch.float64 if torch.get_default_dtype() == torch.float64 else torch.float32
    zeros = lambda: torch.zeros_like(param, memory_format=torch.preserve_format)
    state = {"step": torch.zeros((), dtype=step_dtype), "square_avg": zeros()}  # 0-dim CPU step; v
    if _positive(momentum):
        state["momentum_buffer"] = zeros()  # b
    if centered:
        state["grad_avg"] = zeros()  # ḡ
    return state
# --8<-- [end:state]


# --8<-- [start:preconditioner]
def rmsprop_preconditioner(
    param: Tensor, state: dict[str, Any], *, eps: float | Tensor = 1e-8
) -> Tensor:
    """P = 1/(√v + ε) (centered: 1/(√(v - ḡ²) + ε)) of the last step, computed from the state exactly
    as the step computed it (ones before the first step). Complex parameters give their (real, imag)
    view."""
    if not state or state["step"].item() == 0:
        return torch.ones_like(*_real(param))
    v, g_avg = _real(state["square_avg"], state.get("grad_avg"))
    d = v.sqrt() if g_avg is None else v.addcmul(g_avg, g_avg, value=-1).sqrt_()
    return 1 / _plus_(d, eps)
# --8<-- [end:preconditioner]


# --8<-- [start:class]
class RMSprop(torch.optim.Optimizer):
    r"""RMSprop: a drop-in `torch.optim.RMSprop`.

    With $g_t = \nabla f(\theta_{t-1})$ (negated if `maximize`), learning rate $\gamma$, smoothing
    $\alpha$, weight decay $\lambda$, momentum $\mu$:

    $$
    \begin{aligned}
    g_t &\leftarrow g_t + \lambda\,\theta_{t-1} \\
    v_t &\leftarrow \alpha\, v_{t-1} + (1-\alpha)\, g_t^2 \\
    \bar g_t &\leftarrow \alpha\, \bar g_{t-1} + (1-\alpha)\, g_t \quad\text{(centered)} \\
    P_t &= \frac{1}{\sqrt{v_t} + \epsilon}
       \qquad\left(\text{centered: } \frac{1}{\sqrt{v_t - \bar g_t^2} + \epsilon}\right) \\
    \theta_t &\leftarrow \theta_{t-1} - \gamma\, P_t\, g_t \quad\text{(no momentum)} \\
    b_t &\leftarrow \mu\, b_{t-1} + P_t\, g_t, \qquad
    \theta_t \leftarrow \theta_{t-1} - \gamma\, b_t \quad\text{(momentum, } b_0 = 0)
    \end{aligned}
    $$

    The gradient estimate is $g_t$ and `preconditioner(p)` returns $P_t$ of the last step (ones before
    the first); with momentum, the buffer sums already-preconditioned gradients. Arguments (all
    positional, as in torch), defaults, errors and `state[p]` (`step`, `square_avg`,
    `momentum_buffer`, `grad_avg`) are torch's. `foreach` is accepted and ignored: this class always
    runs the for-loop, which is torch's default on CPU (torch's foreach path gives the same numbers).
    `capturable` and `differentiable` must be off.
    """

    def __init__(
        self,
        params,
        lr: float | Tensor = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0,
        momentum: float = 0,
        centered: bool = False,
        capturable: bool = False,
        foreach: bool | None = None,
        maximize: bool = False,
        differentiable: bool = False,
    ):
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= momentum:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not 0.0 <= alpha:
            raise ValueError(f"Invalid alpha value: {alpha}")
        if capturable:
            raise ValueError(f"optimessay's RMSprop runs on CPU only: expected capturable=False, got {capturable!r}")
        if differentiable:
            raise ValueError(f"optimessay's RMSprop supports differentiable=False only, got {differentiable!r}")
        defaults = dict(
            lr=lr, momentum=momentum, alpha=alpha, eps=eps, centered=centered, weight_decay=weight_decay,
            capturable=capturable, foreach=foreach, maximize=maximize, differentiable=differentiable,
        )
        super().__init__(params, defaults)

    def __setstate__(self, state):
        super().__setstate__(state)
        step_dtype = torch.float64 if torch.get_default_dtype() == torch.float64 else torch.float32
        for group in self.param_groups:  # state dicts saved by older torch versions lack these keys
            group.setdefault("momentum", 0)
            group.setdefault("centered", False)
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
                raise RuntimeError("RMSprop does not support sparse gradients")
            lr = group["lr"]
            if isinstance(lr, Tensor) and lr.dim() != 0:
                lr = lr.squeeze()  # a 1-element tensor lr acts as a number, as in torch
            for p in params:
                state = self.state[p]
                if not state:  # lazy state: created by the first step that sees a gradient
                    state.update(
                        rmsprop_init_state(p, momentum=group["momentum"], centered=group["centered"])
                    )
                rmsprop_update(
                    p, p.grad, state, lr=lr, alpha=group["alpha"], eps=group["eps"],
                    weight_decay=group["weight_decay"], momentum=group["momentum"],
                    centered=group["centered"], maximize=group["maximize"],
                )
        return loss
    # --8<-- [end:step]

    def preconditioner(self, p: Tensor) -> Tensor:
        """P = 1/(√v + ε) of the last step for parameter `p` (ones before its first step)."""
        # traced, the lookup by `p` returned another parameter's P (torch 2.13): so torch.compile
        # runs this method eagerly (with fullgraph=True: this error)
        if torch.compiler.is_compiling():
            raise RuntimeError(
                f"{type(self).__name__}.preconditioner() is eager-only: call it outside torch.compile"
            )
        for group in self.param_groups:
            if any(p is q for q in group["params"]):
                return rmsprop_preconditioner(p, self.state.get(p, {}), eps=group["eps"])
        raise ValueError(f"this RMSprop does not optimise the given tensor of shape {tuple(p.shape)}")
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


def _positive(x: float | Tensor) -> bool:
    """Whether an option such as momentum is on: a float > 0, a tensor with any entry > 0."""
    return bool((x > 0).any()) if isinstance(x, Tensor) else x > 0


def _real(*xs: Tensor | None) -> tuple[Tensor | None, ...]:
    """Complex tensors as real views with a last axis (real, imag): torch optimises both parts."""
    return tuple(torch.view_as_real(x) if x is not None and x.is_complex() else x for x in xs)


def _rounded(a: float | Tensor, like: Tensor) -> float | Tensor:
    """A per-walk tensor in `like`'s dtype; a float stays a float (torch rounds it the same way)."""
    return a.to(like.dtype) if isinstance(a, Tensor) else a


def _mul_(y: Tensor, a: float | Tensor) -> Tensor:
    """In place: y ← a·y."""
    return y.mul_(_rounded(a, y))


def _plus_(y: Tensor, a: float | Tensor) -> Tensor:
    """In place: y ← y + a."""
    return y.add_(_rounded(a, y))


def _lerp_(y: Tensor, x: Tensor, w: float | Tensor) -> Tensor:
    """In place: y ← y + w·(x - y), torch's lerp_ (β·y + (1 - β)·x would round differently)."""
    return y.lerp_(x, _rounded(w, y))


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


def _addcdiv_(y: Tensor, x1: Tensor, x2: Tensor, c: float | Tensor) -> Tensor:
    """In place: y ← y + c·x1/x2. `value=` takes a number only; (c·x1)/x2 is bitwise the same."""
    if isinstance(c, Tensor):
        return y.addcdiv_(_rounded(c, y) * x1, x2)
    return y.addcdiv_(x1, x2, value=c)
# --8<-- [end:all]
