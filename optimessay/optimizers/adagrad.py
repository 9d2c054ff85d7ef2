"""Adagrad (optionally with lr decay, weight decay, sparse gradients): bit for bit `torch.optim.Adagrad`.

As a preconditioner: the gradient estimate is the gradient itself and
$P = 1 / \\big((1 + (t-1)\\eta)(\\sqrt{G} + \\epsilon)\\big)$, where $G$ is the running *sum* of
squared gradients (so P only ever shrinks) and $\\eta$ the lr decay (0 by default, and then
$P = 1/(\\sqrt{G}+\\epsilon)$); the step is $-\\gamma P g$.

How `optimessay.sweep` calls the functional core (N walks as one batch)
-----------------------------------------------------------------------
- The parameter has shape `(2, N)`; `lr, lr_decay, weight_decay, eps` are Python floats (one value
  for all walks) or tensors of shape `(1, N)` (one per walk);
  `initial_accumulator_value` is a float or a `(1, N)` tensor too. `maximize` is a per-sweep bool.
- Give tensor hyperparameters in **float64** whatever the parameter's dtype: the core computes
  derived values (the decayed lr γ/(1 + (t-1)η), -γ, ...) in float64, as torch does in Python doubles, and rounds
  them to the parameter's dtype once, at the op. A float32 sweep is then bitwise equal to the
  class run walk by walk (measured; float32 hyperparameters drift by ~1e-5 relative).
- State: `state = adagrad_init_state(param, initial_accumulator_value=...)` gives `step` (a 0-dim
  CPU tensor shared by all walks) and `sum` (G, filled with the initial value). Then once per step
  `adagrad_update(param, grad, state, lr=..., ...)`; it increments `state["step"]` itself.
- Conditions with tensor hyperparameters: weight decay is applied when any walk's value is nonzero
  (a walk with 0 gets the same numbers while finite). Sparse gradients need float hyperparameters.
- `adagrad_preconditioner(param, state, lr_decay=..., eps=...)` returns P of the last step.
"""

# --8<-- [start:all]
from typing import Any

import torch
from torch import Tensor


# --8<-- [start:update]
def adagrad_update(
    param: Tensor,
    grad: Tensor,
    state: dict[str, Any],
    *,
    lr: float | Tensor,
    lr_decay: float | Tensor = 0.0,
    weight_decay: float | Tensor = 0.0,
    eps: float | Tensor = 1e-10,
    maximize: bool = False,
) -> None:
    """One Adagrad step for one parameter, in place (`grad` is never modified).

    One line per line of the maths. `_add`, `_plus_`, `_addcdiv_` (end of the file) are torch's
    ops, written so that a hyperparameter may be a float or one value per walk (the sweep).
    """
    g = -grad if maximize else grad  # g_t = ∇f(θ_{t-1})   (maximize: -∇f)
    t = _next_step(state)  # t ← t + 1
    if _nonzero(weight_decay) and g.is_sparse:
        raise RuntimeError("weight_decay option is not compatible with sparse gradients")
    if _nonzero(weight_decay):
        g = _add(g, param, weight_decay)  # g_t ← g_t + λ θ_{t-1}
    lr_t = lr / (1 + (t - 1) * lr_decay)  # γ_t = γ / (1 + (t - 1) η)
    if g.is_sparse:  # (machinery: a sparse gradient updates only its rows, by the same maths)
        return _sparse_step_(param, g, state["sum"], lr_t, eps)
    param, g, G = _real(param, g, state["sum"])  # (machinery: complex as (re, im) pairs)
    G.addcmul_(g, g, value=1)  # G_t = G_{t-1} + g_t²
    denominator = _plus_(G.sqrt(), eps)  # √G_t + ε   (ε after the √: torch's order)
    _addcdiv_(param, g, denominator, -lr_t)  # θ_t = θ_{t-1} - γ_t g_t/(√G_t + ε) = θ - γ P_t g_t
# --8<-- [end:update]


# --8<-- [start:state]
def adagrad_init_state(
    param: Tensor, *, initial_accumulator_value: float | Tensor = 0.0
) -> dict[str, Any]:
    """A parameter's state before its first step, laid out as torch's (same keys, shapes, dtypes)."""
    step_dtype = torch.float64 if torch.get_default_dtype() == torch.float64 else torch.float32
    G_0 = initial_accumulator_value
    if isinstance(G_0, Tensor):  # one value per walk (the sweep)
        G = _plus_(torch.zeros_like(param, memory_format=torch.preserve_format), G_0)
    else:  # like torch: a complex parameter gets the value in both its real and imaginary parts
        value = complex(G_0, G_0) if param.is_complex() else G_0
        G = torch.full_like(param, value, memory_format=torch.preserve_format)
    return {"step": torch.tensor(0.0, dtype=step_dtype), "sum": G}  # step: a 0-dim CPU tensor
# --8<-- [end:state]


# --8<-- [start:preconditioner]
def adagrad_preconditioner(
    param: Tensor, state: dict[str, Any], *, lr_decay: float | Tensor = 0.0, eps: float | Tensor = 1e-10
) -> Tensor:
    """P = 1/((1 + (t-1)η)(√G + ε)) of the last step (ones before the first step), so that the step
    was -γ·P·g. Complex parameters give their (real, imag) view."""
    if not state or state["step"].item() == 0:
        return torch.ones_like(*_real(param))
    G = state["sum"].to_dense() if state["sum"].is_sparse else state["sum"]
    (G,) = _real(G)
    decay = 1 + (_value(state["step"]) - 1) * lr_decay
    return 1 / (_plus_(G.sqrt(), eps) * _rounded(decay, G))
# --8<-- [end:preconditioner]


# --8<-- [start:class]
class Adagrad(torch.optim.Optimizer):
    r"""Adagrad: a drop-in `torch.optim.Adagrad`.

    With $g_t = \nabla f(\theta_{t-1})$ (negated if `maximize`), learning rate $\gamma$, lr decay
    $\eta$, weight decay $\lambda$ and $G_0$ = `initial_accumulator_value`:

    $$
    \begin{aligned}
    g_t &\leftarrow g_t + \lambda\,\theta_{t-1} \\
    \gamma_t &= \frac{\gamma}{1 + (t-1)\,\eta} \\
    G_t &\leftarrow G_{t-1} + g_t^2 \\
    P_t &= \frac{\gamma_t / \gamma}{\sqrt{G_t} + \epsilon} \\
    \theta_t &\leftarrow \theta_{t-1} - \gamma\, P_t\, g_t
      = \theta_{t-1} - \gamma_t \frac{g_t}{\sqrt{G_t} + \epsilon}
    \end{aligned}
    $$

    The gradient estimate is $g_t$; `preconditioner(p)` returns $P_t$ of the last step (ones before
    the first). Sparse gradients are supported as in torch (without weight decay). Arguments,
    defaults, errors and `state[p]` (`step`, `sum`, filled in the constructor like torch's) are
    torch's. `foreach` is accepted and ignored: this class always runs the for-loop, which is torch's
    default on CPU (torch's foreach path gives the same numbers). `differentiable` and `fused` must
    be off.
    """

    def __init__(
        self,
        params,
        lr: float | Tensor = 1e-2,
        lr_decay: float = 0,
        weight_decay: float = 0,
        initial_accumulator_value: float = 0,
        eps: float = 1e-10,
        foreach: bool | None = None,
        *,
        maximize: bool = False,
        differentiable: bool = False,
        fused: bool | None = None,
    ):
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= lr_decay:
            raise ValueError(f"Invalid lr_decay value: {lr_decay}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not 0.0 <= initial_accumulator_value:
            raise ValueError(f"Invalid initial_accumulator_value value: {initial_accumulator_value}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if differentiable:
            raise ValueError(f"optimessay's Adagrad supports differentiable=False only, got {differentiable!r}")
        if fused:
            raise ValueError(f"optimessay's Adagrad has no fused kernel: expected fused=None or False, got {fused!r}")
        defaults = dict(
            lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
            initial_accumulator_value=initial_accumulator_value, foreach=foreach, maximize=maximize,
            differentiable=differentiable, fused=fused,
        )
        super().__init__(params, defaults)
        # like torch, the state is created here, from the constructor's initial_accumulator_value
        # (a per-group value is ignored)
        for group in self.param_groups:
            for p in group["params"]:
                init = initial_accumulator_value
                self.state[p].update(adagrad_init_state(p, initial_accumulator_value=init))

    def __setstate__(self, state):
        super().__setstate__(state)
        step_dtype = torch.float64 if torch.get_default_dtype() == torch.float64 else torch.float32
        for group in self.param_groups:  # state dicts saved by older torch versions lack these keys
            group.setdefault("foreach", None)
            group.setdefault("maximize", False)
            group.setdefault("differentiable", False)
            group.setdefault("fused", None)
        for p_state in self.state.values():
            if p_state and not torch.is_tensor(p_state["step"]):  # old files: a Python number
                p_state["step"] = torch.tensor(float(p_state["step"]), dtype=step_dtype)

    def share_memory(self) -> None:
        """Calls `tensor.share_memory_()` on the state sum tensors (as torch's Adagrad)."""
        for group in self.param_groups:
            for p in group["params"]:
                self.state[p]["sum"].share_memory_()

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
            for p in group["params"]:
                if p.grad is None:
                    continue  # no gradient: skipped (no step count, no weight decay)
                state = self.state[p]
                if not state:  # a parameter added later (add_param_group): torch uses self.defaults
                    init = self.defaults["initial_accumulator_value"]
                    state.update(adagrad_init_state(p, initial_accumulator_value=init))
                adagrad_update(
                    p, p.grad, state, lr=lr, lr_decay=group["lr_decay"],
                    weight_decay=group["weight_decay"], eps=group["eps"], maximize=group["maximize"],
                )
        return loss
    # --8<-- [end:step]

    def preconditioner(self, p: Tensor) -> Tensor:
        """P = 1/((1 + (t-1)η)(√G + ε)) of the last step for parameter `p` (ones before its first)."""
        # traced, the lookup by `p` returned another parameter's P (torch 2.13): so torch.compile
        # runs this method eagerly (with fullgraph=True: this error)
        if torch.compiler.is_compiling():
            raise RuntimeError(
                f"{type(self).__name__}.preconditioner() is eager-only: call it outside torch.compile"
            )
        for group in self.param_groups:
            if any(p is q for q in group["params"]):
                return adagrad_preconditioner(
                    p, self.state.get(p, {}), lr_decay=group["lr_decay"], eps=group["eps"]
                )
        raise ValueError(f"this Adagrad does not optimise the given tensor of shape {tuple(p.shape)}")
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


def _plus_(y: Tensor, a: float | Tensor) -> Tensor:
    """In place: y ← y + a."""
    return y.add_(_rounded(a, y))


def _add(y: Tensor, x: Tensor, a: float | Tensor) -> Tensor:
    """y + a·x in one fused multiply-add, as torch's `y.add(x, alpha=a)` (y + a*x rounds twice).
    `alpha=` takes a number only; `torch.addcmul(y, x, a)` is the same op for a tensor a."""
    return torch.addcmul(y, x, _rounded(a, y)) if isinstance(a, Tensor) else y.add(x, alpha=a)


def _addcdiv_(y: Tensor, x1: Tensor, x2: Tensor, c: float | Tensor) -> Tensor:
    """In place: y ← y + c·x1/x2. `value=` takes a number only; (c·x1)/x2 is bitwise the same."""
    if isinstance(c, Tensor):
        return y.addcdiv_(_rounded(c, y) * x1, x2)
    return y.addcdiv_(x1, x2, value=c)


def _sparse_step_(param: Tensor, g: Tensor, G: Tensor, lr_t: float, eps: float) -> None:
    """The core's last three lines for a sparse gradient, on the rows it has (torch's sparse path).
    The update is non-linear in g, so each index must appear once: coalesce first."""
    g = g.coalesce()
    indices, values = g._indices(), g._values()
    sparse = lambda v: torch.sparse_coo_tensor(indices, v, g.size(), check_invariants=False)
    G.add_(sparse(values.pow(2)))  # G_t = G_{t-1} + g_t² on those rows
    denominator = G.sparse_mask(g)._values().sqrt_().add_(eps)  # √G_t + ε on those rows
    param.add_(sparse(values / denominator), alpha=-lr_t)  # θ_t = θ_{t-1} - γ_t g_t/(√G_t + ε)
# --8<-- [end:all]
