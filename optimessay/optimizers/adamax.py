"""Adamax (Adam with an infinity-norm second moment): bit for bit `torch.optim.Adamax`.

As a preconditioner: the gradient estimate is Adam's bias-corrected first moment
$\\hat g = \\hat m = m / (1-\\beta_1^t)$ and the diagonal preconditioner is $P = 1/u$, where $u$ is
an exponentially decaying running maximum of $|g| + \\epsilon$ (torch adds $\\epsilon$ to $|g|$
inside the maximum, not to $u$ afterwards). $u$ needs no bias correction: a maximum is not shrunk
towards its zero start the way an average is. The step is $-\\gamma P \\hat g$.

How `optimessay.sweep` calls the functional core (N walks as one batch)
-----------------------------------------------------------------------
- The parameter has shape `(2, N)`; `lr, beta1, beta2, eps, weight_decay` are Python floats (one
  value for all walks) or **float64** tensors of shape `(1, N)` (one per walk): derived values
  (1 - β1, γ/(1-β1ᵗ)) are computed in float64, as torch does in Python doubles, and rounded to the
  parameter's dtype once, at the op.
- State: `state = adamax_init_state(param)` gives `step` (0-dim, shared by all walks), `exp_avg`,
  `exp_inf`; then once per step `adamax_update(param, grad, state, lr=..., ...)`.
- Weight decay is applied when any walk's value is nonzero (a walk with 0 gets the same numbers).
- `adamax_preconditioner(param, state)` returns P of the last step.
"""

# --8<-- [start:all]
from typing import Any

import torch
from torch import Tensor


# --8<-- [start:update]
def adamax_update(
    param: Tensor,
    grad: Tensor,
    state: dict[str, Any],
    *,
    lr: float | Tensor,
    beta1: float | Tensor = 0.9,
    beta2: float | Tensor = 0.999,
    eps: float | Tensor = 1e-8,
    weight_decay: float | Tensor = 0.0,
    maximize: bool = False,
) -> None:
    """One Adamax step for one parameter, in place (`grad` is never modified).

    One line per line of the maths. `_lerp_`, `_mul_`, `_addcdiv_`, ... (end of the file) are
    torch's ops, written so that a hyperparameter may be a float or one value per walk (the sweep).
    """
    g = -grad if maximize else grad  # g_t = ∇f(θ_{t-1})   (maximize: -∇f)
    t = _next_step(state)  # t ← t + 1
    if _nonzero(weight_decay):
        g = _add(g, param, weight_decay)  # g_t ← g_t + λ θ_{t-1}
    m, u = state["exp_avg"], state["exp_inf"]  # m, u
    param, g, m, u = _real(param, g, m, u)  # (machinery: complex as (re, im) pairs)
    _lerp_(m, g, 1 - beta1)  # m_t = β1 m_{t-1} + (1 - β1) g_t
    torch.maximum(_mul_(u, beta2), _plus_(g.abs(), eps), out=u)  # u_t = max(β2 u_{t-1}, |g_t| + ε)
    _addcdiv_(param, m, u, -(lr / (1 - beta1**t)))  # θ_t = θ_{t-1} - γ m_t/(1 - β1^t) / u_t
# --8<-- [end:update]


# --8<-- [start:state]
def adamax_init_state(param: Tensor) -> dict[str, Any]:
    """A parameter's state before its first step, laid out as torch's (same keys, shapes, dtypes)."""
    step_dtype = torch.float64 if torch.get_default_dtype() == torch.float64 else torch.float32
    return {
        "step": torch.tensor(0.0, dtype=step_dtype),  # t: a 0-dim CPU tensor, like torch's
        "exp_avg": torch.zeros_like(param, memory_format=torch.preserve_format),  # m
        "exp_inf": torch.zeros_like(param, memory_format=torch.preserve_format),  # u
    }
# --8<-- [end:state]


# --8<-- [start:preconditioner]
def adamax_preconditioner(param: Tensor, state: dict[str, Any]) -> Tensor:
    """P = 1/u of the last step (u = `exp_inf`, which already holds ε; ones before the first step).
    Complex parameters give their (real, imag) view."""
    if not state or state["step"].item() == 0:
        return torch.ones_like(*_real(param))
    (u,) = _real(state["exp_inf"])
    return 1 / u
# --8<-- [end:preconditioner]


# --8<-- [start:class]
class Adamax(torch.optim.Optimizer):
    r"""Adamax: a drop-in `torch.optim.Adamax`.

    With $g_t = \nabla f(\theta_{t-1})$ (negated if `maximize`), learning rate $\gamma$, betas
    $\beta_1, \beta_2$, weight decay $\lambda$:

    $$
    \begin{aligned}
    g_t &\leftarrow g_t + \lambda\,\theta_{t-1} \\
    m_t &\leftarrow \beta_1 m_{t-1} + (1-\beta_1)\, g_t \\
    u_t &\leftarrow \max\left(\beta_2\, u_{t-1},\; |g_t| + \epsilon\right) \\
    \hat g_t = \hat m_t &= \frac{m_t}{1-\beta_1^t}, \qquad P_t = \frac{1}{u_t} \\
    \theta_t &\leftarrow \theta_{t-1} - \gamma\, P_t\, \hat g_t
    \end{aligned}
    $$

    `preconditioner(p)` returns $P_t$ of the last step (ones before the first). Arguments (`foreach`
    is positional, as in torch), defaults, errors and `state[p]` (`step`, `exp_avg`, `exp_inf`) are
    torch's. `foreach` is accepted and ignored: this class always runs the for-loop, which is
    torch's default on CPU. `capturable` and `differentiable` must be off.
    """

    def __init__(
        self,
        params,
        lr: float | Tensor = 2e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        foreach: bool | None = None,
        *,
        maximize: bool = False,
        differentiable: bool = False,
        capturable: bool = False,
    ):
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= betas[0] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 0: {betas[0]}")
        if not 0.0 <= betas[1] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 1: {betas[1]}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if capturable:
            raise ValueError(f"optimessay's Adamax runs on CPU only: expected capturable=False, got {capturable!r}")
        if differentiable:
            raise ValueError(f"optimessay's Adamax supports differentiable=False only, got {differentiable!r}")
        defaults = dict(
            lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, foreach=foreach, maximize=maximize,
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
                raise RuntimeError("Adamax does not support sparse gradients")
            lr = group["lr"]
            if isinstance(lr, Tensor) and lr.dim() != 0:
                lr = lr.squeeze()  # a 1-element tensor lr acts as a number, as in torch
            beta1, beta2 = group["betas"]
            for p in params:
                state = self.state[p]
                if not state:  # lazy state: created by the first step that sees a gradient
                    state.update(adamax_init_state(p))
                adamax_update(
                    p, p.grad, state, lr=lr, beta1=beta1, beta2=beta2, eps=group["eps"],
                    weight_decay=group["weight_decay"], maximize=group["maximize"],
                )
        return loss
    # --8<-- [end:step]

    def preconditioner(self, p: Tensor) -> Tensor:
        """P = 1/u of the last step for parameter `p` (ones before its first step)."""
        for group in self.param_groups:
            if any(p is q for q in group["params"]):
                return adamax_preconditioner(p, self.state.get(p, {}))
        raise ValueError(f"this Adamax does not optimise the given tensor of shape {tuple(p.shape)}")
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


def _value(step: Tensor) -> float | Tensor:
    """The step counter read as torch.optim reads it. Eagerly a Python number, so that 1 - β^t is
    computed in doubles, bit for bit torch's. Under torch.compile the tensor itself: `.item()` there
    breaks the graph, recompiles per parameter and (torch 2.13) can bake a stale t in."""
    return step if torch.compiler.is_compiling() else step.item()


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


def _addcdiv_(y: Tensor, x1: Tensor, x2: Tensor, c: float | Tensor) -> Tensor:
    """In place: y ← y + c·x1/x2. `value=` takes a number only; (c·x1)/x2 is bitwise the same."""
    if isinstance(c, Tensor):
        return y.addcdiv_(_rounded(c, y) * x1, x2)
    return y.addcdiv_(x1, x2, value=c)
# --8<-- [end:all]
