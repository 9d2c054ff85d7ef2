"""NAdam (Adam with Nesterov momentum, optionally decoupled weight decay): bit for bit `torch.optim.NAdam`.

As a preconditioner: $P = 1/(\\sqrt{\\hat v} + \\epsilon)$ with $\\hat v = v / (1-\\beta_2^t)$, Adam's
diagonal. What changes is the gradient estimate: a Nesterov look-ahead that mixes the fresh
gradient and the first moment, $\\hat g = \\frac{1-\\mu_t}{1-\\Pi_t}\\, g
+ \\frac{\\mu_{t+1}}{1-\\Pi_t\\mu_{t+1}}\\, m$, where $\\mu_t$ is the momentum schedule and
$\\Pi_t = \\prod_{s\\le t}\\mu_s$ (kept in `state["mu_product"]`). The step is $-\\gamma P \\hat g$.

How `optimessay.sweep` calls the functional core (N walks as one batch)
-----------------------------------------------------------------------
- The parameter has shape `(N, 2)`; `lr, beta1, beta2, eps, weight_decay, momentum_decay` are Python
  floats (one value for all walks) or **float64** tensors of shape `(N, 1)` (one per walk): derived
  values (1 - β, the momentum schedule, ...) are computed in float64, as torch does in Python
  doubles, and rounded to the parameter's dtype once, at the op.
- State: `state = nadam_init_state(param, beta1=..., momentum_decay=...)`: `step` (0-dim, shared by
  all walks), `mu_product` (float32 like torch's; shape `(N, 1)` when `beta1` or `momentum_decay` is a
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


def _addcdiv_(y: Tensor, x1: Tensor, x2: Tensor, c: float | Tensor) -> Tensor:
    """In place: y ← y + c·x1/x2. `value=` takes a number; `(c·x1)/x2` is bitwise the same."""
    return y.addcdiv_(c.to(y.dtype) * x1, x2) if isinstance(c, Tensor) else y.addcdiv_(x1, x2, value=c)


def _get_value(x: Tensor) -> float | Tensor:
    """A state scalar (`step`, `mu_product`) for the scalar arithmetic, read as torch.optim reads it.

    Eagerly: a Python number (`.item()`), so the arithmetic around it is in Python doubles, bit for
    bit torch's. Under `torch.compile`: the tensor itself, so the arithmetic stays in the graph as
    tensor ops (`.item()` there breaks the graph and recompiles for every parameter). A sweep's
    per-walk `mu_product` (shape `(N, 1)`) is read as float64 values, the doubles `.item()` gives."""
    if torch.compiler.is_compiling():
        return x
    return x.item() if x.dim() == 0 else x.to(torch.float64)


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
    """One NAdam step for one parameter, in place (`grad` is never modified)."""
    g = -grad if maximize else grad  # gradient of the objective we minimise (a new tensor)
    m, v, mu_product = state["exp_avg"], state["exp_avg_sq"], state["mu_product"]
    if torch.is_complex(param):  # complex numbers are optimised as (real, imag) pairs, like torch
        param, g, m, v = (torch.view_as_real(x) for x in (param, g, m, v))
    step = state["step"]
    step += 1  # t ← t + 1, in place in the float32 counter (like torch)
    t = _get_value(step)  # a number eagerly (Python doubles, like torch), a tensor when compiled
    bias_correction2 = 1 - beta2**t  # 1 - β2ᵗ
    if _nonzero(weight_decay):
        if decoupled_weight_decay:
            param.mul_(_cast(1 - lr * weight_decay, param))  # decoupled decay: θ ← θ(1 - γλ)
        else:
            g = _axpy(g, param, weight_decay)  # L2 weight decay: g ← g + λθ
    mu = beta1 * (1.0 - 0.5 * (0.96 ** (t * momentum_decay)))  # momentum schedule μ_t = β1(1 - ½·0.96^(tψ))
    mu_next = beta1 * (1.0 - 0.5 * (0.96 ** ((t + 1) * momentum_decay)))  # μ_{t+1}
    if isinstance(mu, Tensor) and mu.dim() > mu_product.dim():  # a sweep whose β1 became per-walk (a scheduler)
        mu_product = state["mu_product"] = mu_product.expand(mu.shape).clone()  # each walk: its own Π from here
    mu_product.mul_(_cast(mu, mu_product))  # Π_t = Π_{t-1}·μ_t, accumulated in float32 like torch's
    m.lerp_(g, _cast(1 - beta1, m))  # first moment m ← β1·m + (1-β1)·g (lerp_: torch's op)
    _addcmul_(v.mul_(_cast(beta2, v)), g, g, 1 - beta2)  # second moment v ← β2·v + (1-β2)·g²
    denom = v.div(_cast(bias_correction2, v)).sqrt()  # √v̂ with v̂ = v/(1-β2ᵗ): torch divides, then takes the root
    product = _get_value(mu_product)  # Π_t as a number (a tensor when compiled)
    denom.add_(_cast(eps, denom))  # d = √v̂ + ε, so P = 1/d
    _addcdiv_(param, g, denom, -lr * (1.0 - mu) / (1.0 - product))  # θ ← θ - γ·(1-μ_t)/(1-Π_t)·P·g
    _addcdiv_(param, m, denom, (-lr * mu_next) / (1.0 - product * mu_next))  # θ ← θ - γ·μ_{t+1}/(1-Π_{t+1})·P·m
# --8<-- [end:update]


# --8<-- [start:preconditioner]
def nadam_preconditioner(
    param: Tensor, state: dict[str, Any], *, beta2: float | Tensor = 0.999, eps: float | Tensor = 1e-8
) -> Tensor:
    """P = 1/(√v̂ + ε) of the last step (ones before the first step), computed from the state
    exactly as the step computed its denominator. Complex parameters give their (real, imag) view."""
    if not state or state["step"].item() == 0:
        return torch.ones_like(torch.view_as_real(param) if torch.is_complex(param) else param)
    v = state["exp_avg_sq"]
    if torch.is_complex(v):
        v = torch.view_as_real(v)
    bias_correction2 = 1 - beta2 ** _get_value(state["step"])
    return 1 / v.div(_cast(bias_correction2, v)).sqrt().add_(_cast(eps, v))
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
# --8<-- [end:all]
