"""Adam and AdamW (optionally AMSGrad, coupled or decoupled weight decay): bit for bit
`torch.optim.Adam` / `torch.optim.AdamW`.

As a preconditioner: the gradient estimate is the bias-corrected first moment
$\\hat g = \\hat m = m / (1-\\beta_1^t)$ and the diagonal preconditioner is
$P = 1 / (\\sqrt{\\hat v} + \\epsilon)$ with $\\hat v = v / (1-\\beta_2^t)$ (or the running maximum
of $v$ with AMSGrad), so the step is $-\\gamma P \\hat g$.

How `optimessay.sweep` calls the functional core (N walks as one batch)
-----------------------------------------------------------------------
- The parameter has shape `(2, N)`; `lr, beta1, beta2, eps, weight_decay` are Python floats (one
  value for all walks) or tensors of shape `(1, N)` (one per walk).
  `amsgrad`, `maximize` and `decoupled_weight_decay` are per-sweep Python bools.
- Give tensor hyperparameters in **float64** whatever the parameter's dtype: the core computes
  derived values (1 - β, γ/(1-β₁ᵗ), ...) in float64, as torch does in Python doubles, and rounds
  them to the parameter's dtype once, at the op. A float32 sweep is then bitwise equal to the
  class run walk by walk (measured; float32 hyperparameters drift by ~1e-5 relative).
- State: `state = adam_init_state(param, amsgrad=...)` gives `step` (a 0-dim CPU tensor, float32, or
  float64 when the default dtype is float64: shared by all walks, since they step together),
  `exp_avg`, `exp_avg_sq` and, with AMSGrad, `max_exp_avg_sq`. Then once per step
  `adam_update(param, grad, state, lr=..., beta1=..., ...)`; it increments `state["step"]` itself.
- Conditions with tensor hyperparameters: weight decay is applied when *any* walk has a nonzero
  value; a walk whose own value is 0 gets the same numbers (`g + 0·θ = g`, `θ·(1 - γ·0) = θ`) while
  its values stay finite. Bias corrections are computed per walk (`beta ** t` on the tensor).
- `adam_preconditioner(param, state, beta2=..., eps=..., amsgrad=...)` returns P of the last step.
"""

# --8<-- [start:all]
from typing import Any

import torch
from torch import Tensor


# --8<-- [start:update]
def adam_update(
    param: Tensor,
    grad: Tensor,
    state: dict[str, Any],
    *,
    lr: float | Tensor,
    beta1: float | Tensor = 0.9,
    beta2: float | Tensor = 0.999,
    eps: float | Tensor = 1e-8,
    weight_decay: float | Tensor = 0.0,
    amsgrad: bool = False,
    maximize: bool = False,
    decoupled_weight_decay: bool = False,
) -> None:
    """One Adam (or AdamW) step for one parameter, in place (`grad` is never modified).

    One line per line of the maths. `_lerp_`, `_mul_`, `_addcmul_`, ... (end of the file) are
    torch's ops, written so that a hyperparameter may be a float or one value per walk (the sweep).
    """
    g = -grad if maximize else grad  # g_t = ∇f(θ_{t-1})   (maximize: -∇f)
    t = _next_step(state)  # t ← t + 1
    if _nonzero(weight_decay) and decoupled_weight_decay:
        _mul_(param, 1 - lr * weight_decay)  # AdamW: θ_{t-1} ← (1 - γλ) θ_{t-1}
    elif _nonzero(weight_decay):
        g = _add(g, param, weight_decay)  # Adam (L2): g_t ← g_t + λ θ_{t-1}
    m, v, v_max = state["exp_avg"], state["exp_avg_sq"], state.get("max_exp_avg_sq")  # m, v, v^max
    param, g, m, v, v_max = _real(param, g, m, v, v_max)  # (machinery: complex as (re, im) pairs)
    _lerp_(m, g, 1 - beta1)  # m_t = β1 m_{t-1} + (1 - β1) g_t
    _addcmul_(_mul_(v, beta2), g, g, 1 - beta2)  # v_t = β2 v_{t-1} + (1 - β2) g_t²
    if amsgrad:
        v = torch.maximum(v_max, v, out=v_max)  # AMSGrad: v_t ← max(v_{t-1}^max, v_t)
    sqrt_v_hat = _div(v.sqrt(), (1 - beta2**t) ** 0.5)  # √v̂_t = √v_t / √(1 - β2^t)
    denominator = _plus_(sqrt_v_hat, eps)  # 1/P_t = √v̂_t + ε   (ε last: torch's order)
    _addcdiv_(param, m, denominator, -(lr / (1 - beta1**t)))  # θ_t = θ_{t-1} - γ P_t m_t/(1 - β1^t)
# --8<-- [end:update]


# --8<-- [start:state]
def adam_init_state(param: Tensor, *, amsgrad: bool = False) -> dict[str, Any]:
    """A parameter's state before its first step, laid out as torch's (same keys, shapes, dtypes)."""
    step_dtype = torch.float64 if torch.get_default_dtype() == torch.float64 else torch.float32
    state = {
        "step": torch.tensor(0.0, dtype=step_dtype),  # a 0-dim CPU tensor, like torch's
        "exp_avg": torch.zeros_like(param, memory_format=torch.preserve_format),  # m
        "exp_avg_sq": torch.zeros_like(param, memory_format=torch.preserve_format),  # v
    }
    if amsgrad:
        state["max_exp_avg_sq"] = torch.zeros_like(param, memory_format=torch.preserve_format)
    return state
# --8<-- [end:state]


# --8<-- [start:preconditioner]
def adam_preconditioner(
    param: Tensor,
    state: dict[str, Any],
    *,
    beta2: float | Tensor = 0.999,
    eps: float | Tensor = 1e-8,
    amsgrad: bool = False,
) -> Tensor:
    """P = 1/(√v̂ + ε) of the last step (ones before the first step), computed from the state
    exactly as the step computed its denominator. Complex parameters give their (real, imag) view."""
    if not state or state["step"].item() == 0:
        return torch.ones_like(*_real(param))
    (v,) = _real(state["max_exp_avg_sq"] if amsgrad else state["exp_avg_sq"])
    t = _value(state["step"])
    return 1 / _plus_(_div(v.sqrt(), (1 - beta2**t) ** 0.5), eps)
# --8<-- [end:preconditioner]


# --8<-- [start:class]
class Adam(torch.optim.Optimizer):
    r"""Adam: a drop-in `torch.optim.Adam` (and, with `decoupled_weight_decay=True`, AdamW).

    With $g_t = \nabla f(\theta_{t-1})$ (negated if `maximize`), learning rate $\gamma$, betas
    $\beta_1, \beta_2$, weight decay $\lambda$:

    $$
    \begin{aligned}
    \theta_{t-1} &\leftarrow \theta_{t-1}(1 - \gamma\lambda) \quad\text{(decoupled)}
      \qquad\text{or}\qquad g_t \leftarrow g_t + \lambda\,\theta_{t-1} \quad\text{(coupled, L2)} \\
    m_t &\leftarrow \beta_1 m_{t-1} + (1-\beta_1)\, g_t \\
    v_t &\leftarrow \beta_2 v_{t-1} + (1-\beta_2)\, g_t^2 \\
    \hat g_t = \hat m_t &= \frac{m_t}{1-\beta_1^t}, \qquad
    \hat v_t = \frac{v_t}{1-\beta_2^t}
      \quad\left(\text{AMSGrad: } \frac{\max_{s\le t} v_s}{1-\beta_2^t}\right) \\
    P_t &= \frac{1}{\sqrt{\hat v_t} + \epsilon} \\
    \theta_t &\leftarrow \theta_{t-1} - \gamma\, P_t\, \hat g_t
    \end{aligned}
    $$

    `preconditioner(p)` returns $P_t$ of the last step (ones before the first). Arguments, defaults,
    errors and `state[p]` (`step`, `exp_avg`, `exp_avg_sq`, `max_exp_avg_sq`) are torch's.
    `foreach` is accepted and ignored: this class always runs the for-loop, which is torch's default
    on CPU (torch's foreach path gives the same numbers). `capturable`, `differentiable` and `fused`
    must be off. Tensor betas are bit for bit when their dtype is the parameters' dtype; in another
    dtype torch rounds $\beta_1$ to the parameter's dtype before computing $1-\beta_1$ for the
    moving average (only there), while this class rounds $1-\beta_1$ (as for float betas), so the last
    bit of `exp_avg` can differ.
    """

    def __init__(
        self,
        params,
        lr: float | Tensor = 1e-3,
        betas: tuple[float | Tensor, float | Tensor] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        amsgrad: bool = False,
        *,
        foreach: bool | None = None,
        maximize: bool = False,
        capturable: bool = False,
        differentiable: bool = False,
        fused: bool | None = None,
        decoupled_weight_decay: bool = False,
    ):
        if isinstance(lr, Tensor):
            if foreach and not capturable:
                raise ValueError("lr as a Tensor is not supported for capturable=False and foreach=True")
            if lr.numel() != 1:
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
        if not (
            (isinstance(betas[0], float) and isinstance(betas[1], float))
            or (isinstance(betas[0], Tensor) and isinstance(betas[1], Tensor))
        ):
            raise ValueError("betas must be either both floats or both Tensors")
        for i, beta in enumerate(betas):
            if isinstance(beta, Tensor):
                if foreach and not capturable:
                    raise ValueError(
                        f"betas[{i}] as a Tensor is not supported for capturable=False and foreach=True"
                    )
                if beta.numel() != 1:
                    raise ValueError(f"Tensor betas[{i}] must be 1-element")
        betas = tuple(b.squeeze() if isinstance(b, Tensor) and b.dim() != 0 else b for b in betas)
        name = type(self).__name__
        if capturable:
            raise ValueError(f"optimessay's {name} runs on CPU only: expected capturable=False, got {capturable!r}")
        if differentiable:
            raise ValueError(f"optimessay's {name} supports differentiable=False only, got {differentiable!r}")
        if fused:
            raise ValueError(f"optimessay's {name} has no fused kernel: expected fused=None or False, got {fused!r}")
        defaults = dict(
            lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad, maximize=maximize,
            foreach=foreach, capturable=capturable, differentiable=differentiable, fused=fused,
            decoupled_weight_decay=decoupled_weight_decay,
        )
        super().__init__(params, defaults)

    def __setstate__(self, state):
        super().__setstate__(state)
        step_dtype = torch.float64 if torch.get_default_dtype() == torch.float64 else torch.float32
        for group in self.param_groups:  # state dicts saved by older torch versions lack these keys
            group.setdefault("amsgrad", False)
            group.setdefault("maximize", False)
            group.setdefault("foreach", None)
            group.setdefault("capturable", False)
            group.setdefault("differentiable", False)
            group.setdefault("decoupled_weight_decay", False)
            group.setdefault("fused", None)
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
                raise RuntimeError(
                    "Adam does not support sparse gradients, please consider SparseAdam instead"
                )
            lr = group["lr"]
            if isinstance(lr, Tensor) and lr.dim() != 0:
                lr = lr.squeeze()  # a 1-element tensor lr acts as a number, as in torch
            beta1, beta2 = group["betas"]
            for p in params:
                state = self.state[p]
                if not state:  # lazy state: created by the first step that sees a gradient
                    state.update(adam_init_state(p, amsgrad=group["amsgrad"]))
                adam_update(
                    p, p.grad, state, lr=lr, beta1=beta1, beta2=beta2, eps=group["eps"],
                    weight_decay=group["weight_decay"], amsgrad=group["amsgrad"],
                    maximize=group["maximize"],
                    decoupled_weight_decay=group["decoupled_weight_decay"],
                )
        return loss
    # --8<-- [end:step]

    def preconditioner(self, p: Tensor) -> Tensor:
        """P = 1/(√v̂ + ε) of the last step for parameter `p` (ones before its first step)."""
        # traced, the lookup by `p` returned another parameter's P (torch 2.13): so torch.compile
        # runs this method eagerly (with fullgraph=True: this error)
        if torch.compiler.is_compiling():
            raise RuntimeError(
                f"{type(self).__name__}.preconditioner() is eager-only: call it outside torch.compile"
            )
        for group in self.param_groups:
            if any(p is q for q in group["params"]):
                return adam_preconditioner(
                    p, self.state.get(p, {}), beta2=group["betas"][1], eps=group["eps"],
                    amsgrad=group["amsgrad"],
                )
        raise ValueError(f"this {type(self).__name__} does not optimise the given tensor of shape {tuple(p.shape)}")


class AdamW(Adam):
    r"""AdamW: Adam with decoupled weight decay, a drop-in `torch.optim.AdamW`.

    The same update as `Adam` (see there), with the weight decay applied to the parameter before
    the moments, $\theta_{t-1} \leftarrow \theta_{t-1}(1-\gamma\lambda)$, instead of being added to
    the gradient. Default `weight_decay=1e-2`. Like torch's, `isinstance(AdamW(...), Adam)` holds
    and loading a state dict always keeps `decoupled_weight_decay=True`.
    """

    def __init__(
        self,
        params,
        lr: float | Tensor = 1e-3,
        betas: tuple[float | Tensor, float | Tensor] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
        foreach: bool | None = None,
        capturable: bool = False,
        differentiable: bool = False,
        fused: bool | None = None,
    ):
        super().__init__(
            params, lr, betas, eps, weight_decay, amsgrad, foreach=foreach, maximize=maximize,
            capturable=capturable, differentiable=differentiable, fused=fused, decoupled_weight_decay=True,
        )

    def __setstate__(self, state):
        super().__setstate__(state)
        for group in self.param_groups:  # like torch: AdamW stays decoupled whatever was loaded
            group["decoupled_weight_decay"] = True
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
# --8<-- [end:all]
