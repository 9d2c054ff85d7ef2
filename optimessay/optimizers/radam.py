"""RAdam (rectified Adam, optionally decoupled weight decay): bit for bit `torch.optim.RAdam`.

As a preconditioner: the gradient estimate is Adam's bias-corrected first moment
$\\hat g = \\hat m = m / (1-\\beta_1^t)$. Early on, while the variance estimate rests on too few
gradients (its "length" $\\rho_t \\le 5$), RAdam does not precondition at all: $P = I$, a plain
momentum step. Afterwards $P = r_t \\sqrt{1-\\beta_2^t} / (\\sqrt{v} + \\epsilon)$, Adam's diagonal
scaled by the rectification $r_t \\in (0, 1)$, which grows towards 1. The step is $-\\gamma P \\hat g$.

How `optimessay.sweep` calls the functional core (N walks as one batch)
-----------------------------------------------------------------------
- The parameter has shape `(N, 2)`; `lr, beta1, beta2, eps, weight_decay` are Python floats (one
  value for all walks) or **float64** tensors of shape `(N, 1)` (one per walk): derived values
  (bias corrections, $\\rho_t$, $r_t$) are computed in float64, as torch does in Python doubles, and
  rounded to the parameter's dtype once, at the op.
- State: `state = radam_init_state(param)` gives `step` (0-dim, shared by all walks), `exp_avg`,
  `exp_avg_sq`; then once per step `radam_update(param, grad, state, lr=..., ...)`.
- With a per-walk `beta2`, each walk switches to the rectified step at its own $\\rho_t > 5$
  (`torch.where`, which picks each walk's branch exactly).
- `radam_preconditioner(param, state, beta2=..., eps=...)` returns P of the last step.
"""

# --8<-- [start:all]
from typing import Any

import torch
from torch import Tensor


def _nonzero(x: float | Tensor) -> bool:
    """Whether a hyperparameter is switched on: a float != 0, or a tensor with any entry != 0."""
    return bool((x != 0).any()) if isinstance(x, Tensor) else x != 0


def _cast(x: float | Tensor, like: Tensor) -> float | Tensor:
    """A tensor hyperparameter in `like`'s dtype (a number stays a number, which torch rounds the same
    way): derived values are computed first, in the hyperparameter's own dtype (float64 for a sweep,
    like torch's Python-double arithmetic), and rounded once, here."""
    return x.to(like.dtype) if isinstance(x, Tensor) else x


def _axpy(y: Tensor, x: Tensor, a: float | Tensor) -> Tensor:
    """y + a·x as torch computes it: one fused multiply-add (`torch.addcmul` for a per-walk tensor `a`)."""
    return torch.addcmul(y, x, a.to(y.dtype)) if isinstance(a, Tensor) else y.add(x, alpha=a)


def _addcmul_(y: Tensor, x1: Tensor, x2: Tensor, c: float | Tensor) -> Tensor:
    """In place: y ← y + c·x1·x2. `value=` takes a number; `(c·x1)·x2` is bitwise the same."""
    return y.addcmul_(c.to(y.dtype) * x1, x2) if isinstance(c, Tensor) else y.addcmul_(x1, x2, value=c)


def _get_value(x: Tensor) -> float | Tensor:
    """The 0-dim step counter for the scalar arithmetic, read as torch.optim reads it.

    Eagerly: a Python number (`.item()`), so the arithmetic around it is in Python doubles, bit for
    bit torch's. Under `torch.compile`: the tensor itself, so the arithmetic stays in the graph as
    tensor ops (`.item()` there breaks the graph and recompiles for every parameter)."""
    return x if torch.compiler.is_compiling() else x.item()


def _rho(step: float | Tensor, beta2: float | Tensor) -> tuple[Any, Any]:
    """ρ_∞ and ρ_t, the lengths of the approximated simple moving average, as torch computes them."""
    rho_inf = 2 / (1 - beta2) - 1  # ρ_∞ = 2/(1-β2) - 1
    rho_t = rho_inf - 2 * step * (beta2**step) / (1 - beta2**step)  # ρ_t = ρ_∞ - 2tβ2ᵗ/(1-β2ᵗ)
    return rho_inf, rho_t


def _rectification(rho_inf: float | Tensor, rho_t: float | Tensor) -> float | Tensor:
    """r_t = √((ρ_t-4)(ρ_t-2)ρ_∞ / ((ρ_∞-4)(ρ_∞-2)ρ_t)); torch computes it only when ρ_t > 5."""
    return ((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5


# --8<-- [start:state]
def radam_init_state(param: Tensor) -> dict[str, Any]:
    """A parameter's state before its first step, laid out as torch's (same keys, shapes, dtypes)."""
    step_dtype = torch.float64 if torch.get_default_dtype() == torch.float64 else torch.float32
    return {
        "step": torch.tensor(0.0, dtype=step_dtype),  # t: a 0-dim CPU tensor, like torch's
        "exp_avg": torch.zeros_like(param, memory_format=torch.preserve_format),  # m
        "exp_avg_sq": torch.zeros_like(param, memory_format=torch.preserve_format),  # v
    }
# --8<-- [end:state]


# --8<-- [start:update]
def radam_update(
    param: Tensor,
    grad: Tensor,
    state: dict[str, Any],
    *,
    lr: float | Tensor,
    beta1: float | Tensor = 0.9,
    beta2: float | Tensor = 0.999,
    eps: float | Tensor = 1e-8,
    weight_decay: float | Tensor = 0.0,
    decoupled_weight_decay: bool = False,
    maximize: bool = False,
) -> None:
    """One RAdam step for one parameter, in place (`grad` is never modified)."""
    g = -grad if maximize else grad  # gradient of the objective we minimise (a new tensor)
    m, v = state["exp_avg"], state["exp_avg_sq"]
    if torch.is_complex(param):  # complex numbers are optimised as (real, imag) pairs, like torch
        param, g, m, v = (torch.view_as_real(x) for x in (param, g, m, v))
    step = state["step"]
    step += 1  # t ← t + 1, in place in the float32 counter (like torch)
    t = _get_value(step)  # a number eagerly (Python doubles, like torch), a tensor when compiled
    if _nonzero(weight_decay):
        if decoupled_weight_decay:
            param.mul_(_cast(1 - lr * weight_decay, param))  # decoupled decay: θ ← θ(1 - γλ)
        else:
            g = _axpy(g, param, weight_decay)  # L2 weight decay: g ← g + λθ
    m.lerp_(g, _cast(1 - beta1, m))  # first moment m ← β1·m + (1-β1)·g (lerp_: torch's op)
    _addcmul_(v.mul_(_cast(beta2, v)), g, g, 1 - beta2)  # second moment v ← β2·v + (1-β2)·g²
    bias_correction1 = 1 - beta1**t  # 1 - β1ᵗ
    bias_correction2 = 1 - beta2**t  # 1 - β2ᵗ
    m_hat = m / _cast(bias_correction1, m)  # ĝ = m̂ = m/(1-β1ᵗ)
    rho_inf, rho_t = _rho(t, beta2)  # ρ_∞ and ρ_t
    if isinstance(rho_t, Tensor):  # per-walk ρ_t (a sweep) or a compiled step: both branches, then pick
        denom = v.sqrt().add_(_cast(eps, v))  # √v + ε
        adaptive = denom.reciprocal() * _cast(bias_correction2**0.5, denom)  # √(1-β2ᵗ)/(√v + ε), as torch's number/tensor
        rect = _rectification(rho_inf, rho_t)  # r_t (nan or inf where ρ_t ≤ 5: not picked)
        rectified = m_hat * _cast(lr, m_hat) * adaptive * _cast(rect, m_hat)  # γ·m̂·P with P = r_t√(1-β2ᵗ)/(√v + ε)
        param.add_(torch.where(rho_t > 5.0, rectified, m_hat * _cast(lr, m_hat)), alpha=-1.0)  # θ ← θ - γ·P·m̂ (P = I while ρ_t ≤ 5)
    elif rho_t > 5.0:  # the variance estimate is long enough: rectified adaptive step
        adaptive = (bias_correction2**0.5) / v.sqrt().add_(_cast(eps, v))  # √(1-β2ᵗ)/(√v + ε)
        param.add_(m_hat * _cast(lr, m_hat) * adaptive * _rectification(rho_inf, rho_t), alpha=-1.0)  # θ ← θ - γ·r_t·√(1-β2ᵗ)/(√v + ε)·m̂
    else:  # too few gradients for a variance estimate: SGD with momentum, P = I
        param.add_(m_hat * _cast(lr, m_hat), alpha=-1.0)  # θ ← θ - γ·m̂
# --8<-- [end:update]


# --8<-- [start:preconditioner]
def radam_preconditioner(
    param: Tensor, state: dict[str, Any], *, beta2: float | Tensor = 0.999, eps: float | Tensor = 1e-8
) -> Tensor:
    """P of the last step, computed from the state as the step computed it: r_t·√(1-β2ᵗ)/(√v + ε)
    once ρ_t > 5, else ones (also before the first step). Complex parameters give their (real, imag)
    view."""
    ones = torch.ones_like(torch.view_as_real(param) if torch.is_complex(param) else param)
    if not state or state["step"].item() == 0:
        return ones
    v = state["exp_avg_sq"]
    if torch.is_complex(v):
        v = torch.view_as_real(v)
    t = _get_value(state["step"])
    rho_inf, rho_t = _rho(t, beta2)
    adaptive = v.sqrt().add_(_cast(eps, v)).reciprocal() * _cast((1 - beta2**t) ** 0.5, v)
    if isinstance(rho_t, Tensor):
        return torch.where(rho_t > 5.0, adaptive * _cast(_rectification(rho_inf, rho_t), v), ones)
    return adaptive * _rectification(rho_inf, rho_t) if rho_t > 5.0 else ones
# --8<-- [end:preconditioner]


# --8<-- [start:class]
class RAdam(torch.optim.Optimizer):
    r"""RAdam: a drop-in `torch.optim.RAdam`.

    With $g_t = \nabla f(\theta_{t-1})$ (negated if `maximize`), learning rate $\gamma$, betas
    $\beta_1, \beta_2$, weight decay $\lambda$:

    $$
    \begin{aligned}
    \theta_{t-1} &\leftarrow \theta_{t-1}(1 - \gamma\lambda) \quad\text{(decoupled)}
      \qquad\text{or}\qquad g_t \leftarrow g_t + \lambda\,\theta_{t-1} \quad\text{(coupled, L2)} \\
    m_t &\leftarrow \beta_1 m_{t-1} + (1-\beta_1)\, g_t, \qquad
    v_t \leftarrow \beta_2 v_{t-1} + (1-\beta_2)\, g_t^2 \\
    \hat g_t = \hat m_t &= \frac{m_t}{1-\beta_1^t} \\
    \rho_\infty &= \frac{2}{1-\beta_2} - 1, \qquad
    \rho_t = \rho_\infty - \frac{2t\,\beta_2^t}{1-\beta_2^t} \\
    r_t &= \sqrt{\frac{(\rho_t-4)(\rho_t-2)\,\rho_\infty}{(\rho_\infty-4)(\rho_\infty-2)\,\rho_t}} \\
    P_t &= \begin{cases} r_t\, \dfrac{\sqrt{1-\beta_2^t}}{\sqrt{v_t} + \epsilon} & \rho_t > 5 \\
      1 & \text{otherwise} \end{cases} \\
    \theta_t &\leftarrow \theta_{t-1} - \gamma\, P_t\, \hat g_t
    \end{aligned}
    $$

    Note where $\epsilon$ sits: it is added to $\sqrt{v_t}$, before the bias correction (Adam adds
    it to $\sqrt{\hat v_t}$). With $\beta_2 \le 0.6$, $\rho_\infty \le 4$ and $P_t = 1$ for ever.
    `preconditioner(p)` returns $P_t$ of the last step (ones before the first). Arguments, defaults,
    errors and `state[p]` (`step`, `exp_avg`, `exp_avg_sq`) are torch's. `foreach` is accepted and
    ignored: this class always runs the for-loop, which is torch's default on CPU. `capturable` and
    `differentiable` must be off.
    """

    def __init__(
        self,
        params,
        lr: float | Tensor = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        decoupled_weight_decay: bool = False,
        *,
        foreach: bool | None = None,
        maximize: bool = False,
        capturable: bool = False,
        differentiable: bool = False,
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
            raise ValueError(f"optimessay's RAdam runs on CPU only: expected capturable=False, got {capturable!r}")
        if differentiable:
            raise ValueError(f"optimessay's RAdam supports differentiable=False only, got {differentiable!r}")
        defaults = dict(
            lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, maximize=maximize, foreach=foreach,
            capturable=capturable, decoupled_weight_decay=decoupled_weight_decay, differentiable=differentiable,
        )
        super().__init__(params, defaults)

    def __setstate__(self, state):
        super().__setstate__(state)
        step_dtype = torch.float64 if torch.get_default_dtype() == torch.float64 else torch.float32
        for group in self.param_groups:  # state dicts saved by older torch versions lack these keys
            group.setdefault("foreach", None)
            group.setdefault("maximize", False)
            group.setdefault("differentiable", False)
            group.setdefault("decoupled_weight_decay", False)
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
                raise RuntimeError("RAdam does not support sparse gradients")
            lr = group["lr"]
            if isinstance(lr, Tensor) and lr.dim() != 0:
                lr = lr.squeeze()  # a 1-element tensor lr acts as a number, as in torch
            beta1, beta2 = group["betas"]
            for p in params:
                state = self.state[p]
                if not state:  # lazy state: created by the first step that sees a gradient
                    state.update(radam_init_state(p))
                radam_update(
                    p, p.grad, state, lr=lr, beta1=beta1, beta2=beta2, eps=group["eps"],
                    weight_decay=group["weight_decay"], decoupled_weight_decay=group["decoupled_weight_decay"],
                    maximize=group["maximize"],
                )
        return loss
    # --8<-- [end:step]

    def preconditioner(self, p: Tensor) -> Tensor:
        """P of the last step for parameter `p`: r_t·√(1-β2ᵗ)/(√v + ε) once ρ_t > 5, else ones."""
        for group in self.param_groups:
            if any(p is q for q in group["params"]):
                return radam_preconditioner(p, self.state.get(p, {}), beta2=group["betas"][1], eps=group["eps"])
        raise ValueError(f"this RAdam does not optimise the given tensor of shape {tuple(p.shape)}")
# --8<-- [end:class]
# --8<-- [end:all]
