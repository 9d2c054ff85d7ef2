"""SGD (optionally with momentum, dampening, Nesterov, weight decay): bit for bit `torch.optim.SGD`.

As a preconditioner, SGD is the identity: $P = I$. The gradient estimate $\\hat g$ is the gradient
itself, or the momentum buffer (heavy ball), or $g + \\mu b$ (Nesterov).

How `optimessay.sweep` calls the functional core (N walks as one batch)
-----------------------------------------------------------------------
- The parameter has shape `(2, N)`; hyperparameters are Python floats (one value for all walks) or
  tensors of shape `(1, N)` (one value per walk). `nesterov` and `maximize`
  are per-sweep Python bools.
- Give tensor hyperparameters in **float64** whatever the parameter's dtype: the core computes
  derived values (1 - τ, -γ, ...) in float64, as torch does in Python doubles, and rounds
  them to the parameter's dtype once, at the op. A float32 sweep is then bitwise equal to the
  class run walk by walk (measured; float32 hyperparameters drift by ~1e-5 relative).
- State: `state = sgd_init_state(param)` (an empty dict), then once per step
  `sgd_update(param, grad, state, lr=..., momentum=..., ...)`. The core adds
  `state["momentum_buffer"]` (a clone of the first gradient estimate) on its first step with momentum.
- Conditions with tensor hyperparameters: `weight_decay` and `momentum` are applied when *any* walk
  has a nonzero value. A walk whose own value is 0 then gets the same numbers as without it
  (`g + 0·θ = g`; with momentum 0 the buffer is `0·b + (1-τ)·g`, the gradient when its dampening τ
  is 0) as long as its values stay finite. So give a walk with momentum 0 dampening 0.
  `nesterov=True` needs every walk's momentum > 0 and dampening 0 (the class checks this; the core
  does not validate anything).
- `sgd_preconditioner(param, state)` returns P (ones).
"""

# --8<-- [start:all]
from typing import Any

import torch
from torch import Tensor


# --8<-- [start:update]
def sgd_update(
    param: Tensor,
    grad: Tensor,
    state: dict[str, Any],
    *,
    lr: float | Tensor,
    momentum: float | Tensor = 0.0,
    dampening: float | Tensor = 0.0,
    weight_decay: float | Tensor = 0.0,
    nesterov: bool = False,
    maximize: bool = False,
) -> None:
    """One SGD step for one parameter, in place (`grad` is never modified).

    One line per line of the maths. `_add`, `_add_`, `_mul_` (end of the file) are torch's ops,
    written so that a hyperparameter may be a float or one value per walk (the sweep).
    """
    g = -grad if maximize else grad  # g_t = ∇f(θ_{t-1})   (maximize: -∇f)
    if _nonzero(weight_decay):
        g = _add(g, param, weight_decay)  # g_t ← g_t + λ θ_{t-1}
    if _nonzero(momentum):
        b = state.get("momentum_buffer")  # b_{t-1}
        if b is None:
            b = state["momentum_buffer"] = g.detach().clone()  # b_1 = g_1
        else:
            _add_(_mul_(b, momentum), g, 1 - dampening)  # b_t = μ b_{t-1} + (1 - τ) g_t
        g = _add(g, b, momentum) if nesterov else b  # ĝ_t = g_t + μ b_t (Nesterov), or b_t
    _add_(param, g, -lr)  # θ_t = θ_{t-1} - γ P ĝ_t,   P = I
# --8<-- [end:update]


# --8<-- [start:state]
def sgd_init_state(param: Tensor) -> dict[str, Any]:
    """A parameter's state before its first step: empty (the momentum buffer is created by the
    first step that uses momentum, as a copy of that step's gradient estimate)."""
    return {}
# --8<-- [end:state]


# --8<-- [start:preconditioner]
def sgd_preconditioner(param: Tensor, state: dict[str, Any]) -> Tensor:
    """SGD's diagonal preconditioner: P = 1 for every element (plain gradient descent)."""
    return torch.ones_like(param)
# --8<-- [end:preconditioner]


# --8<-- [start:class]
class SGD(torch.optim.Optimizer):
    r"""Stochastic gradient descent, optionally with momentum: a drop-in `torch.optim.SGD`.

    With $g_t = \nabla f(\theta_{t-1})$ (negated if `maximize`), weight decay $\lambda$, momentum
    $\mu$, dampening $\tau$ and learning rate $\gamma$:

    $$
    \begin{aligned}
    g_t &\leftarrow g_t + \lambda\,\theta_{t-1} \\
    b_t &\leftarrow \begin{cases} g_t & t = 1 \\ \mu\, b_{t-1} + (1-\tau)\, g_t & t > 1 \end{cases} \\
    \hat g_t &\leftarrow \begin{cases} g_t + \mu\, b_t & \text{nesterov} \\ b_t & \text{otherwise}
    \end{cases} \\
    \theta_t &\leftarrow \theta_{t-1} - \gamma\, P\, \hat g_t, \qquad P = I
    \end{aligned}
    $$

    Without momentum $\hat g_t = g_t$. `preconditioner(p)` returns $P$ (ones: SGD does not
    precondition). Arguments, defaults, errors and `state[p]["momentum_buffer"]` are torch's.
    `foreach` is accepted and ignored: this class always runs the for-loop, which is torch's default
    on CPU (torch's foreach path gives the same numbers). `differentiable` and `fused` must be off.
    """

    def __init__(
        self,
        params,
        lr: float | Tensor = 1e-3,
        momentum: float = 0,
        dampening: float = 0,
        weight_decay: float = 0,
        nesterov: bool = False,
        *,
        maximize: bool = False,
        foreach: bool | None = None,
        differentiable: bool = False,
        fused: bool | None = None,
    ):
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        if differentiable:
            raise ValueError(f"optimessay's SGD supports differentiable=False only, got {differentiable!r}")
        if fused:
            raise ValueError(f"optimessay's SGD has no fused kernel: expected fused=None or False, got {fused!r}")
        defaults = dict(
            lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay, nesterov=nesterov,
            maximize=maximize, foreach=foreach, differentiable=differentiable, fused=fused,
        )
        super().__init__(params, defaults)

    def __setstate__(self, state):
        super().__setstate__(state)
        for group in self.param_groups:  # state dicts saved by older torch versions lack these keys
            group.setdefault("nesterov", False)
            group.setdefault("maximize", False)
            group.setdefault("foreach", None)
            group.setdefault("differentiable", False)
            group.setdefault("fused", False)

    # --8<-- [start:step]
    @torch.no_grad()
    def step(self, closure=None):
        """One step for every parameter that has a gradient; returns the closure's loss (or None)."""
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            lr = group["lr"]
            if isinstance(lr, Tensor) and lr.dim() != 0:
                lr = lr.squeeze()  # a 1-element tensor lr acts as a number, as in torch
            names = ("momentum", "dampening", "weight_decay", "nesterov", "maximize")
            hyper = {k: group[k] for k in names}
            for p in group["params"]:
                if p.grad is None:
                    continue  # no gradient: skipped (no state, no weight decay)
                # torch keeps a state entry only when momentum is on
                state = self.state[p] if hyper["momentum"] != 0 else {}
                sgd_update(p, p.grad, state, lr=lr, **hyper)
        return loss
    # --8<-- [end:step]

    def preconditioner(self, p: Tensor) -> Tensor:
        """P of the last step for parameter `p`: ones (SGD's preconditioner is the identity)."""
        # traced, the lookup by `p` returned another parameter's P (torch 2.13): so torch.compile
        # runs this method eagerly (with fullgraph=True: this error)
        if torch.compiler.is_compiling():
            raise RuntimeError(
                f"{type(self).__name__}.preconditioner() is eager-only: call it outside torch.compile"
            )
        if not any(p is q for group in self.param_groups for q in group["params"]):
            raise ValueError(f"this SGD does not optimise the given tensor of shape {tuple(p.shape)}")
        return sgd_preconditioner(p, self.state.get(p, {}))
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
# --8<-- [end:all]
