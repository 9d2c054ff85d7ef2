"""NAdam (Adam with Nesterov momentum, optionally decoupled weight decay): bit for bit `torch.optim.NAdam`.

As a preconditioner: $P = 1/(\\sqrt{\\hat v} + \\epsilon)$ with $\\hat v = v / (1-\\beta_2^t)$, Adam's
diagonal. What changes is the gradient estimate: a Nesterov look-ahead that mixes the fresh
gradient and the first moment, $\\hat g = \\frac{1-\\mu_t}{1-\\Pi_t}\\, g
+ \\frac{\\mu_{t+1}}{1-\\Pi_t\\mu_{t+1}}\\, m$, where $\\mu_t$ is the momentum schedule and
$\\Pi_t = \\prod_{s\\le t}\\mu_s$ (kept in `state["mu_product"]`). The step is $-\\gamma P \\hat g$.

How `optimessay.sweep` calls the functional core (N walks as one batch)
-----------------------------------------------------------------------
- The parameter has shape `(2, N)`; `lr, beta1, beta2, eps, weight_decay, momentum_decay` are Python
  floats (one value for all walks) or **float64** tensors of shape `(1, N)` (one per walk): derived
  values (1 - β, the momentum schedule, ...) are computed in float64, as torch does in Python
  doubles, and rounded to the parameter's dtype once, at the op.
- State: `state = nadam_init_state(param, beta1=..., momentum_decay=...)`: `step` (0-dim, shared by
  all walks), `mu_product` (float32 like torch's; shape `(1, N)` when `beta1` or `momentum_decay` is a
  per-walk tensor, since each walk has its own product; the update widens a shared one when β1
  becomes per-walk mid-run, e.g. scheduled), `exp_avg`, `exp_avg_sq`. Then once per step
  `nadam_update(param, grad, state, lr=..., ...)`.
- Weight decay is applied when any walk's value is nonzero (a walk with 0 gets the same numbers).
- `nadam_preconditioner(param, state, beta2=..., eps=...)` returns P of the last step.
"""

# --8<-- [start:all]
from typing import Any

import torch
from torch import Tensor


# --8<-- [start:update]
def nadam_update(
    param: Tensor,
    grad: Tensor,
    state: dict[str, Any],
    *,
    lr: float | Tensor,
    beta1: float | Tensor = 0.9,
    beta2: float | Tensor = 0.999,
    eps: float | Tensor = 1e-8,
    weight_decay: float | Tensor = 0.0,
    momentum_decay: float | Tensor = 4e-3,
    decoupled_weight_decay: bool = False,
    maximize: bool = False,
) -> None:
    """One NAdam step for one parameter, in place (`grad` is never modified).

    One line per line of the maths. `_lerp_`, `_mul_`, `_addcdiv_`, ... (end of the file) are
    torch's ops, written so that a hyperparameter may be a float or one value per walk (the sweep).
    """
    g = -grad if maximize else grad  # g_t = ∇f(θ_{t-1})   (maximize: -∇f)
    m, v = state["exp_avg"], state["exp_avg_sq"]  # m, v
    param, g, m, v = _real(param, g, m, v)  # (machinery: complex as (re, im) pairs)
    t = _next_step(state)  # t ← t + 1
    if _nonzero(weight_decay) and decoupled_weight_decay:
        _mul_(param, 1 - lr * weight_decay)  # θ_{t-1} ← (1 - γλ) θ_{t-1}   (decoupled)
    elif _nonzero(weight_decay):
        g = _add(g, param, weight_decay)  # g_t ← g_t + λ θ_{t-1}   (L2)
    mu = beta1 * (1.0 - 0.5 * (0.96 ** (t * momentum_decay)))  # μ_t = β1 (1 - ½ 0.96^{tψ})
    mu_next = beta1 * (1.0 - 0.5 * (0.96 ** ((t + 1) * momentum_decay)))  # μ_{t+1}
    Pi = _value(_mul_(_mu_product(state, mu), mu))  # Π_t = Π_{t-1} μ_t   (float32, like torch)
    _lerp_(m, g, 1 - beta1)  # m_t = β1 m_{t-1} + (1 - β1) g_t
    _addcmul_(_mul_(v, beta2), g, g, 1 - beta2)  # v_t = β2 v_{t-1} + (1 - β2) g_t²
    denominator = _plus_(_div(v, 1 - beta2**t).sqrt(), eps)  # 1/P_t = √(v_t/(1 - β2^t)) + ε
    step_g = -lr * (1.0 - mu) / (1.0 - Pi)  # -γ (1 - μ_t)/(1 - Π_t)
    step_m = (-lr * mu_next) / (1.0 - Pi * mu_next)  # -γ μ_{t+1}/(1 - Π_t μ_{t+1})
    _addcdiv_(param, g, denominator, step_g)  # θ ← θ_{t-1} - γ P_t (1 - μ_t)/(1 - Π_t) g_t
    _addcdiv_(param, m, denominator, step_m)  # θ_t = θ - γ P_t μ_{t+1}/(1 - Π_t μ_{t+1}) m_t
# --8<-- [end:update]


# --8<-- [start:state]
def nadam_init_state(
    param: Tensor, *, beta1: float | Tensor = 0.9, momentum_decay: float | Tensor = 4e-3
) -> dict[str, Any]:
    """A parameter's state before its first step, laid out as torch's (same keys, shapes, dtypes).

    `beta1` and `momentum_decay` only matter for a sweep: per-walk tensors give a per-walk
    `mu_product` of their broadcast shape (torch's is 0-dim)."""
    scalar_dtype = torch.float64 if torch.get_default_dtype() == torch.float64 else torch.float32
    shape = torch.broadcast_shapes(*(x.shape for x in (beta1, momentum_decay) if isinstance(x, Tensor)))
    return {
        "step": torch.tensor(0.0, dtype=scalar_dtype),  # t: a 0-dim CPU tensor, like torch's
        "mu_product": torch.ones(shape, dtype=scalar_dtype),  # Π_t = μ_1·…·μ_t, starts at 1
        "exp_avg": torch.zeros_like(param, memory_format=torch.preserve_format),  # m
        "exp_avg_sq": torch.zeros_like(param, memory_format=torch.preserve_format),  # v
    }
# --8<-- [end:state]


# --8<-- [start:preconditioner]
def nadam_preconditioner(
    param: Tensor, state: dict[str, Any], *, beta2: float | Tensor = 0.999, eps: float | Tensor = 1e-8
) -> Tensor:
    """P = 1/(√v̂ + ε) of the last step (ones before the first step), computed from the state
    exactly as the step computed its denominator. Complex parameters give their (real, imag) view."""
    if not state or state["step"].item() == 0:
        return torch.ones_like(*_real(param))
    (v,) = _real(state["exp_avg_sq"])
    return 1 / _plus_(_div(v, 1 - beta2 ** _value(state["step"])).sqrt(), eps)
# --8<-- [end:preconditioner]


# --8<-- [start:class]
class NAdam(torch.optim.Optimizer):
    r"""NAdam: a drop-in `torch.optim.NAdam`.

    With $g_t = \nabla f(\theta_{t-1})$ (negated if `maximize`), learning rate $\gamma$, betas
    $\beta_1, \beta_2$, weight decay $\lambda$, momentum decay $\psi$:

    $$
    \begin{aligned}
    \theta_{t-1} &\leftarrow \theta_{t-1}(1 - \gamma\lambda) \quad\text{(decoupled)}
      \qquad\text{or}\qquad g_t \leftarrow g_t + \lambda\,\theta_{t-1} \quad\text{(coupled, L2)} \\
    \mu_t &= \beta_1\left(1 - \tfrac12\, 0.96^{t\psi}\right), \qquad
    \Pi_t = \prod_{s=1}^{t} \mu_s \\
    m_t &\leftarrow \beta_1 m_{t-1} + (1-\beta_1)\, g_t, \qquad
    v_t \leftarrow \beta_2 v_{t-1} + (1-\beta_2)\, g_t^2 \\
    P_t &= \frac{1}{\sqrt{v_t / (1-\beta_2^t)} + \epsilon} \\
    \hat g_t &= \frac{1-\mu_t}{1-\Pi_t}\, g_t + \frac{\mu_{t+1}}{1-\Pi_t\,\mu_{t+1}}\, m_t \\
    \theta_t &\leftarrow \theta_{t-1} - \gamma\, P_t\, \hat g_t
    \end{aligned}
    $$

    torch applies $\hat g_t$ as two `addcdiv_` steps (the $g_t$ term, then the $m_t$ term), and so
    does this class. $\Pi_t$ is a float32 tensor (`state["mu_product"]`), so it accumulates float32
    rounding, like torch's. `preconditioner(p)` returns $P_t$ of the last step (ones before the
    first). Arguments, defaults, errors and `state[p]` (`step`, `mu_product`, `exp_avg`,
    `exp_avg_sq`) are torch's. `foreach` is accepted and ignored: this class always runs the
    for-loop, which is torch's default on CPU. `capturable` and `differentiable` must be off.
    """

    def __init__(
        self,
        params,
        lr: float | Tensor = 2e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        momentum_decay: float = 4e-3,
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
        if not 0.0 <= momentum_decay:
            raise ValueError(f"Invalid momentum_decay value: {momentum_decay}")
        if capturable:
            raise ValueError(f"optimessay's NAdam runs on CPU only: expected capturable=False, got {capturable!r}")
        if differentiable:
            raise ValueError(f"optimessay's NAdam supports differentiable=False only, got {differentiable!r}")
        defaults = dict(
            lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, momentum_decay=momentum_decay,
            decoupled_weight_decay=decoupled_weight_decay, maximize=maximize, foreach=foreach,
            capturable=capturable, differentiable=differentiable,
        )
        super().__init__(params, defaults)

    def __setstate__(self, state):
        super().__setstate__(state)
        scalar_dtype = torch.float64 if torch.get_default_dtype() == torch.float64 else torch.float32
        for group in self.param_groups:  # state dicts saved by older torch versions lack these keys
            group.setdefault("maximize", False)
            group.setdefault("foreach", None)
            group.setdefault("capturable", False)
            group.setdefault("differentiable", False)
            group.setdefault("decoupled_weight_decay", False)
            for p in group["params"]:
                p_state = self.state.get(p, {})
                if p_state:  # old files: Python numbers
                    if not torch.is_tensor(p_state["step"]):
                        p_state["step"] = torch.tensor(float(p_state["step"]), dtype=scalar_dtype)
                    if not torch.is_tensor(p_state["mu_product"]):
                        p_state["mu_product"] = torch.tensor(p_state["mu_product"], dtype=scalar_dtype)

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
                raise RuntimeError("NAdam does not support sparse gradients")
            lr = group["lr"]
            if isinstance(lr, Tensor) and lr.dim() != 0:
                lr = lr.squeeze()  # a 1-element tensor lr acts as a number, as in torch
            beta1, beta2 = group["betas"]
            for p in params:
                state = self.state[p]
                if not state:  # lazy state: created by the first step that sees a gradient
                    state.update(nadam_init_state(p))
                nadam_update(
                    p, p.grad, state, lr=lr, beta1=beta1, beta2=beta2, eps=group["eps"],
                    weight_decay=group["weight_decay"], momentum_decay=group["momentum_decay"],
                    decoupled_weight_decay=group["decoupled_weight_decay"], maximize=group["maximize"],
                )
        return loss
    # --8<-- [end:step]

    def preconditioner(self, p: Tensor) -> Tensor:
        """P = 1/(√v̂ + ε) of the last step for parameter `p` (ones before its first step)."""
        for group in self.param_groups:
            if any(p is q for q in group["params"]):
                return nadam_preconditioner(p, self.state.get(p, {}), beta2=group["betas"][1], eps=group["eps"])
        raise ValueError(f"this NAdam does not optimise the given tensor of shape {tuple(p.shape)}")
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
    """A state scalar (t, Π_t) read as torch.optim reads it. Eagerly a Python number, so that the
    arithmetic around it is in doubles, bit for bit torch's (a sweep's per-walk Π: float64 values,
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


def _addcdiv_(y: Tensor, x1: Tensor, x2: Tensor, c: float | Tensor) -> Tensor:
    """In place: y ← y + c·x1/x2. `value=` takes a number only; (c·x1)/x2 is bitwise the same."""
    if isinstance(c, Tensor):
        return y.addcdiv_(_rounded(c, y) * x1, x2)
    return y.addcdiv_(x1, x2, value=c)


def _mu_product(state: dict[str, Any], mu: float | Tensor) -> Tensor:
    """The state's Π_{t-1}. In a sweep whose β1 turns per-walk mid-run (a scheduler), each walk
    gets its own copy of Π from then on."""
    if isinstance(mu, Tensor) and mu.dim() > state["mu_product"].dim():
        state["mu_product"] = state["mu_product"].expand(mu.shape).clone()
    return state["mu_product"]
# --8<-- [end:all]
