"""Adagrad (optionally with lr decay, weight decay, sparse gradients): bit for bit `torch.optim.Adagrad`.

As a preconditioner: the gradient estimate is the gradient itself and
$P = 1 / \\big((1 + (t-1)\\eta)(\\sqrt{G} + \\epsilon)\\big)$, where $G$ is the running *sum* of
squared gradients (so P only ever shrinks) and $\\eta$ the lr decay (0 by default, and then
$P = 1/(\\sqrt{G}+\\epsilon)$); the step is $-\\gamma P g$.

How `optimessay.sweep` calls the functional core (N walks as one batch)
-----------------------------------------------------------------------
- The parameter has shape `(N, 2)`; `lr, lr_decay, weight_decay, eps` are Python floats (one value
  for all walks) or tensors of shape `(N, 1)` (one per walk);
  `initial_accumulator_value` is a float or an `(N, 1)` tensor too. `maximize` is a per-sweep bool.
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


def _nonzero(x: float | Tensor) -> bool:
    """Whether a hyperparameter is switched on: a float != 0, or a tensor with any entry != 0."""
    return bool((x != 0).any()) if isinstance(x, Tensor) else x != 0


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


def _addcdiv_(y: Tensor, x1: Tensor, x2: Tensor, c: float | Tensor) -> Tensor:
    """In place: y ← y + c·x1/x2. `value=` takes a number; `(c·x1)/x2` is bitwise the same."""
    return y.addcdiv_(c.to(y.dtype) * x1, x2) if isinstance(c, Tensor) else y.addcdiv_(x1, x2, value=c)


def _get_value(x: Tensor) -> float | Tensor:
    """The value of the 0-dim step counter for scalar arithmetic, read as torch.optim reads it.

    Eagerly: a Python number (`.item()`), so the arithmetic around it is in Python doubles, bit for
    bit torch's. Under `torch.compile`: the tensor itself, so that the arithmetic stays in the graph
    as tensor ops; `.item()` there breaks the graph, recompiles for every parameter and (measured,
    torch 2.13) can leave a stale step count baked into the compiled code."""
    return x if torch.compiler.is_compiling() else x.item()


# --8<-- [start:state]
def adagrad_init_state(param: Tensor, *, initial_accumulator_value: float | Tensor = 0.0) -> dict[str, Any]:
    """A parameter's state before its first step, laid out as torch's (same keys, shapes, dtypes)."""
    step_dtype = torch.float64 if torch.get_default_dtype() == torch.float64 else torch.float32
    if isinstance(initial_accumulator_value, Tensor):  # one value per walk (the sweep)
        total = torch.zeros_like(param, memory_format=torch.preserve_format).add_(_cast(initial_accumulator_value, param))
    else:
        init = initial_accumulator_value
        if torch.is_complex(param):  # like torch: the value goes into both the real and imaginary part
            init = complex(init, init)
        total = torch.full_like(param, init, memory_format=torch.preserve_format)
    return {"step": torch.tensor(0.0, dtype=step_dtype), "sum": total}  # step: a 0-dim CPU tensor
# --8<-- [end:state]


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
    """One Adagrad step for one parameter, in place (`grad` is never modified)."""
    step = state["step"]
    step += 1  # t ← t + 1, in place in the float32 counter (like torch)
    t = _get_value(step)  # t: a number eagerly (Python double arithmetic, like torch), a tensor when compiled
    g = -grad if maximize else grad  # gradient of the objective we minimise (a new tensor)
    if _nonzero(weight_decay):
        if g.is_sparse:
            raise RuntimeError("weight_decay option is not compatible with sparse gradients")
        g = _axpy(g, param, weight_decay)  # weight decay (L2): g ← g + λθ
    clr = lr / (1 + (t - 1) * lr_decay)  # decayed learning rate, in Python double arithmetic like torch
    total = state["sum"]  # G
    if g.is_sparse:  # only the rows that received a gradient change
        g = g.coalesce()  # the update is non-linear in g, so each index must appear once
        indices, values = g._indices(), g._values()
        total.add_(torch.sparse_coo_tensor(indices, values.pow(2), g.size(), check_invariants=False))  # G ← G + g²
        d = total.sparse_mask(g)._values().sqrt_().add_(eps)  # √G + ε at those rows
        param.add_(torch.sparse_coo_tensor(indices, values / d, g.size(), check_invariants=False), alpha=-clr)  # θ ← θ - γ'·g/d
        return
    if torch.is_complex(param):  # complex numbers are optimised as (real, imag) pairs, like torch
        param, g, total = (torch.view_as_real(x) for x in (param, g, total))
    total.addcmul_(g, g, value=1)  # sum of squares: G ← G + g²
    d = total.sqrt().add_(_cast(eps, total))  # preconditioner denominator √G + ε (eps after the sqrt, like torch)
    _addcdiv_(param, g, d, -clr)  # step: θ ← θ - γ'·g/d = θ - γ·P·g
# --8<-- [end:update]


# --8<-- [start:preconditioner]
def adagrad_preconditioner(
    param: Tensor, state: dict[str, Any], *, lr_decay: float | Tensor = 0.0, eps: float | Tensor = 1e-10
) -> Tensor:
    """P = 1/((1 + (t-1)η)(√G + ε)) of the last step (ones before the first step), so that the step
    was -γ·P·g. Complex parameters give their (real, imag) view."""
    if not state or state["step"].item() == 0:
        return torch.ones_like(torch.view_as_real(param) if torch.is_complex(param) else param)
    total = state["sum"]
    if total.is_sparse:
        total = total.to_dense()
    if torch.is_complex(total):
        total = torch.view_as_real(total)
    decay = 1 + (_get_value(state["step"]) - 1) * lr_decay
    return 1 / (total.sqrt().add_(_cast(eps, total)) * _cast(decay, total))
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
                self.state[p].update(adagrad_init_state(p, initial_accumulator_value=initial_accumulator_value))

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
                    p, p.grad, state, lr=lr, lr_decay=group["lr_decay"], weight_decay=group["weight_decay"],
                    eps=group["eps"], maximize=group["maximize"],
                )
        return loss
    # --8<-- [end:step]

    def preconditioner(self, p: Tensor) -> Tensor:
        """P = 1/((1 + (t-1)η)(√G + ε)) of the last step for parameter `p` (ones before its first)."""
        if torch.compiler.is_compiling():  # traced, the lookup by `p` returned another parameter's P (torch 2.13)
            raise RuntimeError(  # so torch.compile runs this method eagerly (with fullgraph=True: this error)
                f"{type(self).__name__}.preconditioner() is eager-only: call it outside torch.compile"
            )
        for group in self.param_groups:
            if any(p is q for q in group["params"]):
                return adagrad_preconditioner(
                    p, self.state.get(p, {}), lr_decay=group["lr_decay"], eps=group["eps"]
                )
        raise ValueError(f"this Adagrad does not optimise the given tensor of shape {tuple(p.shape)}")
# --8<-- [end:class]
# --8<-- [end:all]
