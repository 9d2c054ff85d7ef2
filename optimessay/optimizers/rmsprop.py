"""RMSprop (optionally centered, with momentum and weight decay): bit for bit `torch.optim.RMSprop`.

As a preconditioner: $P = 1/(\\sqrt{v} + \\epsilon)$, where $v$ is the moving average of squared
gradients (centered: $v - \\bar g^2$, an estimate of the gradient's variance). Without momentum the
gradient estimate is the gradient itself; with momentum the buffer accumulates preconditioned
gradients, $b \\leftarrow \\mu b + P g$, and the step is $-\\gamma b$.

How `optimessay.sweep` calls the functional core (N walks as one batch)
-----------------------------------------------------------------------
- The parameter has shape `(N, 2)`; `lr, alpha, eps, weight_decay, momentum` are Python floats (one
  value for all walks) or tensors of shape `(N, 1)` (one per walk).
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


def _nonzero(x: float | Tensor) -> bool:
    """Whether a hyperparameter is switched on: a float != 0, or a tensor with any entry != 0."""
    return bool((x != 0).any()) if isinstance(x, Tensor) else x != 0


def _positive(x: float | Tensor) -> bool:
    """Whether a hyperparameter is > 0: a float, or a tensor with any entry > 0."""
    return bool((x > 0).any()) if isinstance(x, Tensor) else x > 0


def _cast(x: float | Tensor, like: Tensor) -> float | Tensor:
    """A tensor hyperparameter in `like`'s dtype (a number stays a number, which torch rounds the same
    way): derived values such as 1 - β are computed first, in the hyperparameter's own dtype (float64
    for a sweep, like torch's Python-double arithmetic), and rounded once, here."""
    return x.to(like.dtype) if isinstance(x, Tensor) else x


def _axpy(y: Tensor, x: Tensor, a: float | Tensor) -> Tensor:
    """y + a·x as torch computes it: one fused multiply-add (not `y + a * x`, which rounds twice).

    `y.add(x, alpha=a)` takes a number; for a tensor `a` (one value per walk) `torch.addcmul(y, x, a)`
    is bitwise the same fused operation."""
    return torch.addcmul(y, x, a.to(y.dtype)) if isinstance(a, Tensor) else y.add(x, alpha=a)


def _axpy_(y: Tensor, x: Tensor, a: float | Tensor) -> Tensor:
    """In place: y ← y + a·x (the same fused multiply-add as `_axpy`)."""
    return y.addcmul_(x, a.to(y.dtype)) if isinstance(a, Tensor) else y.add_(x, alpha=a)


def _addcmul_(y: Tensor, x1: Tensor, x2: Tensor, c: float | Tensor) -> Tensor:
    """In place: y ← y + c·x1·x2. `value=` takes a number; `(c·x1)·x2` is bitwise the same."""
    return y.addcmul_(c.to(y.dtype) * x1, x2) if isinstance(c, Tensor) else y.addcmul_(x1, x2, value=c)


def _addcdiv_(y: Tensor, x1: Tensor, x2: Tensor, c: float | Tensor) -> Tensor:
    """In place: y ← y + c·x1/x2. `value=` takes a number; `(c·x1)/x2` is bitwise the same."""
    return y.addcdiv_(c.to(y.dtype) * x1, x2) if isinstance(c, Tensor) else y.addcdiv_(x1, x2, value=c)


# --8<-- [start:state]
def rmsprop_init_state(
    param: Tensor, *, momentum: float | Tensor = 0.0, centered: bool = False
) -> dict[str, Any]:
    """A parameter's state before its first step, laid out as torch's (same keys, shapes, dtypes)."""
    step_dtype = torch.float64 if torch.get_default_dtype() == torch.float64 else torch.float32
    state = {
        "step": torch.zeros((), dtype=step_dtype),  # counts steps (a 0-dim CPU tensor, like torch's)
        "square_avg": torch.zeros_like(param, memory_format=torch.preserve_format),  # v
    }
    if _positive(momentum):
        state["momentum_buffer"] = torch.zeros_like(param, memory_format=torch.preserve_format)  # b
    if centered:
        state["grad_avg"] = torch.zeros_like(param, memory_format=torch.preserve_format)  # ḡ
    return state
# --8<-- [end:state]


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
    """One RMSprop step for one parameter, in place (`grad` is never modified)."""
    g = -grad if maximize else grad  # gradient of the objective we minimise (a new tensor)
    state["step"] += 1  # counts steps (not used by the update)
    if _nonzero(weight_decay):
        g = _axpy(g, param, weight_decay)  # weight decay (L2): g ← g + λθ
    v, g_avg = state["square_avg"], state.get("grad_avg")
    buf = state["momentum_buffer"] if _positive(momentum) else None
    if torch.is_complex(param):  # complex numbers are optimised as (real, imag) pairs, like torch
        param, g, v = (torch.view_as_real(x) for x in (param, g, v))
        buf = None if buf is None else torch.view_as_real(buf)
        g_avg = None if g_avg is None else torch.view_as_real(g_avg)
    _addcmul_(v.mul_(_cast(alpha, v)), g, g, 1 - alpha)  # moving average of squares: v ← αv + (1-α)g²
    if centered:
        g_avg.lerp_(g, _cast(1 - alpha, g_avg))  # moving average of gradients ḡ ← αḡ + (1-α)g (lerp_: torch's op)
        d = v.addcmul(g_avg, g_avg, value=-1).sqrt_()  # √(v - ḡ²): the gradient's standard deviation
    else:
        d = v.sqrt()  # √v
    d.add_(_cast(eps, d))  # preconditioner denominator d = √v + ε, so P = 1/d
    if buf is not None:
        buf.mul_(_cast(momentum, buf)).addcdiv_(g, d)  # momentum on preconditioned gradients: b ← μb + g/d
        _axpy_(param, buf, -lr)  # step: θ ← θ - γb
    else:
        _addcdiv_(param, g, d, -lr)  # step: θ ← θ - γ·P·g
# --8<-- [end:update]


# --8<-- [start:preconditioner]
def rmsprop_preconditioner(
    param: Tensor, state: dict[str, Any], *, eps: float | Tensor = 1e-8
) -> Tensor:
    """P = 1/(√v + ε) (centered: 1/(√(v - ḡ²) + ε)) of the last step, computed from the state exactly
    as the step computed it (ones before the first step). Complex parameters give their (real, imag)
    view."""
    if not state or state["step"].item() == 0:
        return torch.ones_like(torch.view_as_real(param) if torch.is_complex(param) else param)
    v, g_avg = state["square_avg"], state.get("grad_avg")
    if torch.is_complex(v):
        v = torch.view_as_real(v)
        g_avg = None if g_avg is None else torch.view_as_real(g_avg)
    d = v.sqrt() if g_avg is None else v.addcmul(g_avg, g_avg, value=-1).sqrt_()
    return 1 / d.add_(_cast(eps, d))
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
                    state.update(rmsprop_init_state(p, momentum=group["momentum"], centered=group["centered"]))
                rmsprop_update(
                    p, p.grad, state, lr=lr, alpha=group["alpha"], eps=group["eps"],
                    weight_decay=group["weight_decay"], momentum=group["momentum"],
                    centered=group["centered"], maximize=group["maximize"],
                )
        return loss
    # --8<-- [end:step]

    def preconditioner(self, p: Tensor) -> Tensor:
        """P = 1/(√v + ε) of the last step for parameter `p` (ones before its first step)."""
        if torch.compiler.is_compiling():  # traced, the lookup by `p` returned another parameter's P (torch 2.13)
            raise RuntimeError(  # so torch.compile runs this method eagerly (with fullgraph=True: this error)
                f"{type(self).__name__}.preconditioner() is eager-only: call it outside torch.compile"
            )
        for group in self.param_groups:
            if any(p is q for q in group["params"]):
                return rmsprop_preconditioner(p, self.state.get(p, {}), eps=group["eps"])
        raise ValueError(f"this RMSprop does not optimise the given tensor of shape {tuple(p.shape)}")
# --8<-- [end:class]
# --8<-- [end:all]
