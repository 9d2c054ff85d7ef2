"""Rprop (resilient backpropagation: per-element step sizes driven by gradient signs): bit for bit
`torch.optim.Rprop`.

As a preconditioner: Rprop moves each element by its own step size $s$ in the direction of the
gradient's sign, $-s \\operatorname{sign}(g)$, whatever the gradient's size. Written as
$-P g$ with the gradient $g$ as the estimate, $P = s / |g|$: a diagonal that undoes the gradient's
magnitude entirely (sign descent). Where the gradient's sign flipped since the last step, Rprop
shrinks $s$ and skips the element this step ($P = 0$ there). The learning rate is not a factor of
the step: it only seeds $s$ at the first step (so an lr scheduler has no effect after that, in
torch as here); the step is $-P g$.

How `optimessay.sweep` calls the functional core (N walks as one batch)
-----------------------------------------------------------------------
- The parameter has shape `(2, N)`; `etaminus, etaplus, step_size_min, step_size_max` (and `lr`, for
  `rprop_init_state`) are Python floats (one value for all walks) or tensors of shape `(1, N)` (one
  per walk); they are rounded to the parameter's dtype, as torch rounds its numbers.
- State: `state = rprop_init_state(param, lr=...)` gives `step` (0-dim, shared by all walks; the
  math never reads it), `prev` (the last step's gradient, zeroed where the step was skipped) and
  `step_size` (filled with lr); then once per step `rprop_update(param, grad, state, ...)`.
- `rprop_preconditioner(param, state)` returns P of the last step.
"""

# --8<-- [start:all]
from typing import Any

import torch
from torch import Tensor


# --8<-- [start:update]
def rprop_update(
    param: Tensor,
    grad: Tensor,
    state: dict[str, Any],
    *,
    etaminus: float | Tensor = 0.5,
    etaplus: float | Tensor = 1.2,
    step_size_min: float | Tensor = 1e-6,
    step_size_max: float | Tensor = 50,
    maximize: bool = False,
) -> None:
    """One Rprop step for one parameter, in place (`grad` is never modified).

    One line per line of the maths. `_rounded` and `_clamp_` (end of the file) let a
    hyperparameter be a float or one value per walk (the sweep), bit for bit torch's ops.
    """
    g = -grad if maximize else grad  # g_t = ∇f(θ_{t-1})   (maximize: -∇f)
    state["step"] += 1  # t ← t + 1   (torch keeps the count; Rprop's maths never reads it)
    g_prev, s = state["prev"], state["step_size"]  # g_{t-1}, s_{t-1}
    param, g, g_prev, s = _real(param, g, g_prev, s)  # (machinery: complex as (re, im) pairs)
    eta = g.mul(g_prev).sign()  # sign(g_t g_{t-1}): +1 same sign, -1 flipped, 0 a zero
    eta = torch.where(eta.gt(0), _rounded(etaplus, eta), eta)  # η_t = η_+ where g_t g_{t-1} > 0
    eta = torch.where(eta.lt(0), _rounded(etaminus, eta), eta)  # η_t = η_- where g_t g_{t-1} < 0
    eta = torch.where(eta.eq(0), 1.0, eta)  # η_t = 1 where g_t g_{t-1} = 0
    _clamp_(s.mul_(eta), step_size_min, step_size_max)  # s_t = clamp(s_{t-1} η_t, s_min, s_max)
    g = torch.where(eta.eq(_rounded(etaminus, eta)), 0.0, g)  # g_t ← 0 where η_t = η_-
    param.addcmul_(g.sign(), s, value=-1)  # θ_t = θ_{t-1} - s_t sign(g_t) = θ_{t-1} - P_t g_t
    g_prev.copy_(g)  # the next step's g_{t-1}
# --8<-- [end:update]


# --8<-- [start:state]
def rprop_init_state(param: Tensor, *, lr: float | Tensor = 1e-2) -> dict[str, Any]:
    """A parameter's state before its first step, laid out as torch's (same keys, shapes, dtypes).

    Every step size starts at lr (complex parameters: lr + lr·i, the real and imaginary parts step
    independently); a sweep's per-walk lr of shape `(1, N)` gives each walk its own."""
    step_dtype = torch.float64 if torch.get_default_dtype() == torch.float64 else torch.float32
    if torch.is_complex(param):
        s = torch.full_like(param, complex(lr, lr))  # s_0 = lr + lr·i
    elif isinstance(lr, Tensor) and lr.dim() != 0:
        # s_0 = lr (walks)
        s = torch.empty_like(param).copy_(lr.to(param.dtype).expand(param.shape))
    else:
        s = torch.full_like(param, lr)  # s_0 = lr
    return {
        # counts steps (a 0-dim CPU tensor, like torch's)
        "step": torch.zeros((), dtype=step_dtype),
        "prev": torch.zeros_like(param, memory_format=torch.preserve_format),  # g_{t-1}
        "step_size": s,
    }
# --8<-- [end:state]


# --8<-- [start:preconditioner]
def rprop_preconditioner(param: Tensor, state: dict[str, Any]) -> Tensor:
    """P = s/|g| of the last step, so that P·g = s·sign(g), the step Rprop took; 0 where the step
    skipped the element (a flipped sign or a zero gradient, where `prev` holds 0). Ones before the
    first step. Complex parameters give their (real, imag) view."""
    if not state or state["step"].item() == 0:
        return torch.ones_like(*_real(param))
    prev, step_size = _real(state["prev"], state["step_size"])
    return torch.where(prev != 0, step_size / prev.abs(), 0.0)
# --8<-- [end:preconditioner]


# --8<-- [start:class]
class Rprop(torch.optim.Optimizer):
    r"""Rprop: a drop-in `torch.optim.Rprop`.

    With $g_t = \nabla f(\theta_{t-1})$ (negated if `maximize`), per-element step sizes $s$
    ($s_0 = \gamma$, the learning rate), factors $0 < \eta_- < 1 < \eta_+$ and bounds
    $s_{\min}, s_{\max}$, elementwise:

    $$
    \begin{aligned}
    \eta_t &= \begin{cases} \eta_+ & g_t\, g_{t-1} > 0 \\ \eta_- & g_t\, g_{t-1} < 0 \\
      1 & g_t\, g_{t-1} = 0 \end{cases} \\
    s_t &\leftarrow \operatorname{clamp}(s_{t-1}\,\eta_t,\; s_{\min},\; s_{\max}) \\
    g_t &\leftarrow 0 \quad\text{where } \eta_t = \eta_- \quad\text{(and } g_{t-1} \text{ of the next step is this } g_t) \\
    P_t &= \frac{s_t}{|g_t|}, \qquad
    \theta_t \leftarrow \theta_{t-1} - P_t\, g_t = \theta_{t-1} - s_t \operatorname{sign}(g_t)
    \end{aligned}
    $$

    The gradient estimate is $g_t$ and the step is $-P_t g_t$: the learning rate only seeds $s_0$
    (torch's too: changing `lr` later, e.g. with a scheduler, does nothing). `preconditioner(p)`
    returns $P_t$ of the last step (0 where the element was skipped; ones before the first step).
    Arguments, defaults, errors and `state[p]` (`step`, `prev`, `step_size`) are torch's.
    `foreach` is accepted and ignored: this class always runs the for-loop, which is torch's
    default on CPU. `capturable` and `differentiable` must be off.
    """

    def __init__(
        self,
        params,
        lr: float | Tensor = 1e-2,
        etas: tuple[float, float] = (0.5, 1.2),
        step_sizes: tuple[float, float] = (1e-6, 50),
        *,
        capturable: bool = False,
        foreach: bool | None = None,
        maximize: bool = False,
        differentiable: bool = False,
    ):
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 < etas[0] < 1.0 < etas[1]:
            raise ValueError(f"Invalid eta values: {etas[0]}, {etas[1]}")
        if capturable:
            raise ValueError(f"optimessay's Rprop runs on CPU only: expected capturable=False, got {capturable!r}")
        if differentiable:
            raise ValueError(f"optimessay's Rprop supports differentiable=False only, got {differentiable!r}")
        defaults = dict(
            lr=lr, etas=etas, step_sizes=step_sizes, foreach=foreach, maximize=maximize,
            differentiable=differentiable, capturable=capturable,
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
                raise RuntimeError("Rprop does not support sparse gradients")
            etaminus, etaplus = group["etas"]
            step_size_min, step_size_max = group["step_sizes"]
            lr = group["lr"]
            if isinstance(lr, Tensor) and lr.dim() != 0:
                lr = lr.squeeze()  # a 1-element tensor lr acts as a number, as in torch
            for p in params:
                state = self.state[p]
                if not state:  # lazy state: created by the first step that sees a gradient
                    state.update(rprop_init_state(p, lr=lr))
                rprop_update(
                    p, p.grad, state, etaminus=etaminus, etaplus=etaplus, step_size_min=step_size_min,
                    step_size_max=step_size_max, maximize=group["maximize"],
                )
        return loss
    # --8<-- [end:step]

    def preconditioner(self, p: Tensor) -> Tensor:
        """P = s/|g| of the last step for parameter `p` (0 where it skipped an element; ones before
        its first step), so that the step was -P·g."""
        for group in self.param_groups:
            if any(p is q for q in group["params"]):
                return rprop_preconditioner(p, self.state.get(p, {}))
        raise ValueError(f"this Rprop does not optimise the given tensor of shape {tuple(p.shape)}")
# --8<-- [end:class]


# ---- Machinery, out of the maths' way (Python finds these names when the core runs) -------------
# A hyperparameter is a Python float (the class: bit for bit torch.optim) or a tensor with one value
# per walk (optimessay.sweep). Each op helper below runs torch's own op on either: a tensor is first
# rounded to the parameter's dtype, once, after its derived value (1 - β, γ/(1 - β1^t), ...) was
# computed in float64, as torch computes it in Python doubles; so a float32 sweep walk is bitwise
# its class run.


def _real(*xs: Tensor | None) -> tuple[Tensor | None, ...]:
    """Complex tensors as real views with a last axis (real, imag): torch optimises both parts."""
    return tuple(torch.view_as_real(x) if x is not None and x.is_complex() else x for x in xs)


def _rounded(a: float | Tensor, like: Tensor) -> float | Tensor:
    """A per-walk tensor in `like`'s dtype; a float stays a float (torch rounds it the same way)."""
    return a.to(like.dtype) if isinstance(a, Tensor) else a


def _clamp_(y: Tensor, lo: float | Tensor, hi: float | Tensor) -> Tensor:
    """In place: y ← min(max(y, lo), hi); `clamp_` takes two numbers or two tensors, not a mix."""
    lo, hi = _rounded(lo, y), _rounded(hi, y)
    if isinstance(lo, Tensor) != isinstance(hi, Tensor):
        lo, hi = (torch.as_tensor(x, dtype=y.dtype) for x in (lo, hi))
    return y.clamp_(lo, hi)
# --8<-- [end:all]
