"""RAdam (rectified Adam, optionally decoupled weight decay): bit for bit `torch.optim.RAdam`.

As a preconditioner: the gradient estimate is Adam's bias-corrected first moment
$\\hat g = \\hat m = m / (1-\\beta_1^t)$. Early on, while the variance estimate rests on too few
gradients (its "length" $\\rho_t \\le 5$), RAdam does not precondition at all: $P = I$, a plain
momentum step. Afterwards $P = r_t \\sqrt{1-\\beta_2^t} / (\\sqrt{v} + \\epsilon)$, Adam's diagonal
scaled by the rectification $r_t \\in (0, 1)$, which grows towards 1. The step is $-\\gamma P \\hat g$.

How `optimessay.sweep` calls the functional core (N walks as one batch)
-----------------------------------------------------------------------
- The parameter has shape `(2, N)`; `lr, beta1, beta2, eps, weight_decay` are Python floats (one
  value for all walks) or **float64** tensors of shape `(1, N)` (one per walk): derived values
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
    """One RAdam step for one parameter, in place (`grad` is never modified).

    One line per line of the maths. `_lerp_`, `_mul_`, `_div`, ... (end of the file) are torch's
    ops, written so that a hyperparameter may be a float or one value per walk (the sweep).
    """
    g = -grad if maximize else grad  # g_t = ∇f(θ_{t-1})   (maximize: -∇f)
    m, v = state["exp_avg"], state["exp_avg_sq"]  # m, v
    param, g, m, v = _real(param, g, m, v)  # (machinery: complex as (re, im) pairs)
    t = _next_step(state)  # t ← t + 1
    if _nonzero(weight_decay) and decoupled_weight_decay:
        _mul_(param, 1 - lr * weight_decay)  # θ_{t-1} ← (1 - γλ) θ_{t-1}   (decoupled)
    elif _nonzero(weight_decay):
        g = _add(g, param, weight_decay)  # g_t ← g_t + λ θ_{t-1}   (L2)
    _lerp_(m, g, 1 - beta1)  # m_t = β1 m_{t-1} + (1 - β1) g_t
    _addcmul_(_mul_(v, beta2), g, g, 1 - beta2)  # v_t = β2 v_{t-1} + (1 - β2) g_t²
    m_hat = _div(m, 1 - beta1**t)  # ĝ_t = m̂_t = m_t/(1 - β1^t)
    rho_inf = 2 / (1 - beta2) - 1  # ρ_∞ = 2/(1 - β2) - 1
    rho_t = rho_inf - 2 * t * (beta2**t) / (1 - beta2**t)  # ρ_t = ρ_∞ - 2t β2^t/(1 - β2^t)
    if isinstance(rho_t, Tensor):  # (machinery: ρ_t per walk, or compiled: both cases, then pick)
        return _step_where_(param, m_hat, v, lr, eps, 1 - beta2**t, rho_inf, rho_t)
    if rho_t > 5.0:  # enough gradients for a variance estimate:
        adaptive = (1 - beta2**t) ** 0.5 / _plus_(v.sqrt(), eps)  # √(1 - β2^t)/(√v_t + ε)
        r_t = _rectification(rho_inf, rho_t)  # r_t = √((ρ_t-4)(ρ_t-2)ρ_∞ / ((ρ_∞-4)(ρ_∞-2)ρ_t))
        param.add_(_mul(m_hat, lr) * adaptive * r_t, alpha=-1.0)  # θ_t = θ_{t-1} - γ P_t m̂_t
    else:  # too few: P_t = 1, SGD with momentum
        param.add_(_mul(m_hat, lr), alpha=-1.0)  # θ_t = θ_{t-1} - γ m̂_t
# --8<-- [end:update]


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


# --8<-- [start:preconditioner]
def radam_preconditioner(
    param: Tensor, state: dict[str, Any], *, beta2: float | Tensor = 0.999, eps: float | Tensor = 1e-8
) -> Tensor:
    """P of the last step, computed from the state as the step computed it: r_t·√(1-β2ᵗ)/(√v + ε)
    once ρ_t > 5, else ones (also before the first step). Complex parameters give their (real, imag)
    view."""
    ones = torch.ones_like(*_real(param))
    if not state or state["step"].item() == 0:
        return ones
    (v,) = _real(state["exp_avg_sq"])
    t = _value(state["step"])
    rho_inf = 2 / (1 - beta2) - 1
    rho_t = rho_inf - 2 * t * (beta2**t) / (1 - beta2**t)
    adaptive = _plus_(v.sqrt(), eps).reciprocal() * _rounded((1 - beta2**t) ** 0.5, v)
    if isinstance(rho_t, Tensor):
        return torch.where(rho_t > 5.0, adaptive * _rounded(_rectification(rho_inf, rho_t), v), ones)
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


def _mul(y: Tensor, a: float | Tensor) -> Tensor:
    """a·y."""
    return y * _rounded(a, y)


def _div(y: Tensor, a: float | Tensor) -> Tensor:
    """y / a."""
    return y / _rounded(a, y)


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


def _addcmul_(y: Tensor, x1: Tensor, x2: Tensor, c: float | Tensor) -> Tensor:
    """In place: y ← y + c·x1·x2. `value=` takes a number only; (c·x1)·x2 is bitwise the same."""
    if isinstance(c, Tensor):
        return y.addcmul_(_rounded(c, y) * x1, x2)
    return y.addcmul_(x1, x2, value=c)


def _rectification(rho_inf: float | Tensor, rho_t: float | Tensor) -> float | Tensor:
    """r_t = √((ρ_t-4)(ρ_t-2)ρ_∞ / ((ρ_∞-4)(ρ_∞-2)ρ_t)); torch computes it only when ρ_t > 5."""
    return ((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5


def _step_where_(param, m_hat, v, lr, eps, bias_correction2, rho_inf, rho_t) -> None:
    """The core's two cases when ρ_t is a tensor (one value per walk, or a compiled step): both are
    computed with the float path's ops and `torch.where` picks per walk (r_t is nan or inf where
    ρ_t ≤ 5, and not picked there)."""
    denominator = _plus_(v.sqrt(), eps)  # c / tensor is torch's reciprocal() * c:
    adaptive = denominator.reciprocal() * _rounded(bias_correction2**0.5, denominator)
    rectified = _mul(m_hat, lr) * adaptive * _rounded(_rectification(rho_inf, rho_t), m_hat)
    param.add_(torch.where(rho_t > 5.0, rectified, _mul(m_hat, lr)), alpha=-1.0)
# --8<-- [end:all]
