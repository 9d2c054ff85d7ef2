"""L-BFGS (limited-memory quasi-Newton, optionally with a strong-Wolfe line search): bit for bit
`torch.optim.LBFGS`.

As a preconditioner: the gradient estimate is the gradient, and P is a full (not diagonal) matrix,
L-BFGS's estimate $H \\approx \\nabla^2 f^{-1}$ of the inverse Hessian, built from the last
`history_size` steps $s_i = \\theta_{i+1} - \\theta_i$ and gradient changes $y_i = g_{i+1} - g_i$
(only pairs with $y_i^\\top s_i > 10^{-10}$, the curvature condition, are kept). H is never formed:
the *two-loop recursion* applies it to a vector with $O(\\text{history} \\cdot n)$ work, starting
from $H_0 = \\gamma I$, $\\gamma = s^\\top y / y^\\top y$ of the newest pair. Each iteration moves along
$d = -H g$ by a step $t$: `lr` (the first iteration of the first step: $\\min(1, 1/\\lVert g\\rVert_1)$·`lr`),
or the step a strong-Wolfe line search finds.

`LBFGS.inverse_hessian_apply(v)` applies the current estimate H to a vector (the very operations of
the step: `state["d"]` is bit for bit `inverse_hessian_apply(-state["prev_flat_grad"])`),
`LBFGS.inverse_hessian()` returns H as a dense matrix for small problems, and
`LBFGS.preconditioner(p)` its block for one parameter's entries (all of H for a single parameter).

One `step(closure)` runs up to `max_iter` iterations and calls the closure (which must recompute the
loss and the gradients) several times; the state is global and kept under the first parameter,
as in torch. `torch.compile` cannot trace a step that calls the closure's backward: torch's dynamo
wraps `torch.optim.LBFGS.step` in `torch.compiler.disable`, and this class marks its step the same
way, so inside a compiled function it runs eagerly, with eager numbers.
"""

# --8<-- [start:all]
from typing import Any

import torch
from torch import Tensor


# --8<-- [start:update]
def lbfgs_update(
    params: list[Tensor],
    closure,
    state: dict[str, Any],
    *,
    lr: float | Tensor = 1,
    max_iter: int = 20,
    max_eval: int = 25,
    tolerance_grad: float = 1e-7,
    tolerance_change: float = 1e-9,
    history_size: int = 100,
    line_search_fn: str | None = None,
):
    """One L-BFGS step (up to `max_iter` iterations) on all `params` as one vector, in place; the
    closure recomputes the loss and the gradients. Returns the closure's first loss."""
    orig_loss = closure()
    loss = float(orig_loss)
    current_evals = 1
    state["func_evals"] += 1
    flat_grad = _flat_grad(params)  # g
    opt_cond = flat_grad.abs().max() <= tolerance_grad  # already optimal: ‖g‖∞ <= tolerance
    if opt_cond:
        return orig_loss
    d, t = state.get("d"), state.get("t")  # last direction and step length
    # yᵢ, sᵢ, 1/yᵢᵀsᵢ
    old_dirs, old_stps, ro = state.get("old_dirs"), state.get("old_stps"), state.get("ro")
    H_diag = state.get("H_diag")  # γ: H0 = γ I
    prev_flat_grad, prev_loss = state.get("prev_flat_grad"), state.get("prev_loss")

    n_iter = 0
    while n_iter < max_iter:
        n_iter += 1
        state["n_iter"] += 1
        if state["n_iter"] == 1:  # the very first iteration: steepest descent, empty memory
            d = flat_grad.neg()  # d = -g
            old_dirs, old_stps, ro = [], [], []
            H_diag = 1
        else:
            y = flat_grad.sub(prev_flat_grad)  # y = g_new - g_old
            s = d.mul(t)  # s = t d, the last move
            ys = y.dot(s)  # yᵀs
            if ys > 1e-10:  # curvature condition: keep the pair (H stays positive definite)
                if len(old_dirs) == history_size:  # forget the oldest pair
                    old_dirs.pop(0)
                    old_stps.pop(0)
                    ro.pop(0)
                old_dirs.append(y)
                old_stps.append(s)
                ro.append(1.0 / ys)  # ρ = 1 / yᵀs
                H_diag = ys / y.dot(y)  # γ = sᵀy / yᵀy: H0's scale from the newest pair
            if "al" not in state:
                state["al"] = [None] * history_size
            # d = -H g
            d = lbfgs_two_loop(flat_grad.neg(), old_dirs, old_stps, ro, H_diag, state["al"])
        if prev_flat_grad is None:
            prev_flat_grad = flat_grad.clone(memory_format=torch.contiguous_format)
        else:
            prev_flat_grad.copy_(flat_grad)
        prev_loss = loss

        # step length: lr (first iteration ever: min(1, 1/‖g‖₁)·lr)
        t = min(1.0, 1.0 / flat_grad.abs().sum()) * lr if state["n_iter"] == 1 else lr
        gtd = flat_grad.dot(d)  # directional derivative gᵀd
        if gtd > -tolerance_change:  # d is not a descent direction (to tolerance)
            break
        ls_func_evals = 0
        if line_search_fn is not None:
            if line_search_fn != "strong_wolfe":
                raise RuntimeError("only 'strong_wolfe' is supported")
            x_init = [p.clone(memory_format=torch.contiguous_format) for p in params]

            def obj_func(x, t, d):  # f and g at θ + t d, then θ restored
                _add_to_params(params, t, d)
                f = float(closure())
                g = _flat_grad(params)
                for p, x_p in zip(params, x, strict=True):
                    p.copy_(x_p)
                return f, g

            loss, flat_grad, t, ls_func_evals = _strong_wolfe(
                obj_func, x_init, t, d, loss, flat_grad, gtd, max_ls=max_eval - current_evals
            )
            _add_to_params(params, t, d)  # θ ← θ + t d with the line search's t
            opt_cond = flat_grad.abs().max() <= tolerance_grad
        else:
            _add_to_params(params, t, d)  # θ ← θ + t d with the fixed t
            if n_iter != max_iter:  # re-evaluate, except after the last iteration
                with torch.enable_grad():
                    loss = closure()
                loss = float(loss)  # outside enable_grad, like torch (no requires-grad warning)
                flat_grad = _flat_grad(params)
                opt_cond = flat_grad.abs().max() <= tolerance_grad
                ls_func_evals = 1
        current_evals += ls_func_evals
        state["func_evals"] += ls_func_evals

        # stop: iterations or evaluations used up, optimal, or no more progress
        if n_iter == max_iter or current_evals >= max_eval or opt_cond:
            break
        if d.mul(t).abs().max() <= tolerance_change:  # the move ‖t d‖∞ is negligible
            break
        if abs(loss - prev_loss) < tolerance_change:  # the loss no longer changes
            break

    state["d"], state["t"] = d, t
    state["old_dirs"], state["old_stps"], state["ro"], state["H_diag"] = old_dirs, old_stps, ro, H_diag
    state["prev_flat_grad"], state["prev_loss"] = prev_flat_grad, prev_loss
    return orig_loss
# --8<-- [end:update]


# --8<-- [start:twoloop]
def lbfgs_two_loop(q: Tensor, old_dirs: list, old_stps: list, ro: list, H_diag, al: list) -> Tensor:
    """H q by the two-loop recursion (q is overwritten; `al` receives the αᵢ): the L-BFGS inverse
    Hessian estimate, from the pairs (sᵢ, yᵢ) and H0 = γ I, applied without ever forming H."""
    for i in range(len(old_dirs) - 1, -1, -1):  # newest pair first
        al[i] = old_stps[i].dot(q) * ro[i]  # αᵢ = ρᵢ sᵢᵀ q
        q.add_(old_dirs[i], alpha=-al[i])  # q ← q - αᵢ yᵢ
    r = torch.mul(q, H_diag)  # r ← H0 q = γ q
    for i in range(len(old_dirs)):  # oldest pair first
        be_i = old_dirs[i].dot(r) * ro[i]  # βᵢ = ρᵢ yᵢᵀ r
        r.add_(old_stps[i], alpha=al[i] - be_i)  # r ← r + (αᵢ - βᵢ) sᵢ
    return r
# --8<-- [end:twoloop]


# --8<-- [start:state]
def lbfgs_init_state() -> dict[str, Any]:
    """The global state before the first step (torch keeps it under the first parameter); the
    memory (`old_dirs` y, `old_stps` s, `ro` 1/yᵀs, `H_diag` γ, `d`, `t`, ...) is added by the step."""
    return {"func_evals": 0, "n_iter": 0}
# --8<-- [end:state]


# --8<-- [start:class]
class LBFGS(torch.optim.Optimizer):
    r"""L-BFGS: a drop-in `torch.optim.LBFGS` (one parameter group; `step(closure)` needs a closure).

    With $g_k = \nabla f(\theta_k)$ (all parameters as one vector), the pairs
    $s_i = \theta_{i+1} - \theta_i$, $y_i = g_{i+1} - g_i$ of the last `history_size` iterations that
    satisfy $y_i^\top s_i > 10^{-10}$, and $\rho_i = 1 / y_i^\top s_i$:

    $$
    \begin{aligned}
    H_0 &= \gamma I, \qquad \gamma = \frac{s^\top y}{y^\top y} \ \text{(newest pair)} \\
    H_{i+1} &= (I - \rho_i s_i y_i^\top)\, H_i\, (I - \rho_i y_i s_i^\top) + \rho_i s_i s_i^\top \\
    d_k &= -H\, g_k \quad\text{(by the two-loop recursion, never forming } H\text{)} \\
    t_k &= \gamma_{\text{lr}} \quad\text{or the strong-Wolfe line search's } t \\
    \theta_{k+1} &= \theta_k + t_k\, d_k
    \end{aligned}
    $$

    so the update is $-t_k\, P\, g_k$ with the full-matrix preconditioner $P = H$, an inverse-Hessian
    estimate. The first iteration of the first step uses $d = -g$ and $t = \min(1, 1/\lVert g\rVert_1)$·lr.
    A step stops after `max_iter` iterations or `max_eval` closure calls, when
    $\lVert g\rVert_\infty \le$ `tolerance_grad`, or when the move or the loss change falls below
    `tolerance_change`.

    `inverse_hessian_apply(v)` returns $H v$, `inverse_hessian()` the dense $H$, `preconditioner(p)`
    its block for p. Arguments, defaults, errors and the state (under the first parameter: `func_evals`,
    `n_iter`, `al`, `d`, `t`, `old_dirs`, `old_stps`, `ro`, `H_diag`, `prev_flat_grad`,
    `prev_loss`) are torch's. Like torch's, `step` is excluded from `torch.compile` (it runs eagerly).
    One deliberate difference: a deep copy (or unpickled copy) of torch's LBFGS has lost its
    parameter list and raises AttributeError on `step`; a copy of this one steps on (same numbers).
    """

    def __init__(
        self,
        params,
        lr: float | Tensor = 1,
        max_iter: int = 20,
        max_eval: int | None = None,
        tolerance_grad: float = 1e-7,
        tolerance_change: float = 1e-9,
        history_size: int = 100,
        line_search_fn: str | None = None,
    ):
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if max_eval is None:
            max_eval = max_iter * 5 // 4
        defaults = dict(
            lr=lr, max_iter=max_iter, max_eval=max_eval, tolerance_grad=tolerance_grad,
            tolerance_change=tolerance_change, history_size=history_size, line_search_fn=line_search_fn,
        )
        super().__init__(params, defaults)
        if len(self.param_groups) != 1:
            raise ValueError("LBFGS doesn't support per-parameter options (parameter groups)")
        self._params = self.param_groups[0]["params"]

    def __setstate__(self, state):
        super().__setstate__(state)  # (torch's LBFGS adds nothing for older state dicts either)
        # after deepcopy/pickle: torch's LBFGS loses `_params` here and cannot step; this one can
        self._params = self.param_groups[0]["params"]

    # --8<-- [start:step]
    @torch.compiler.disable(reason="a closure with backward cannot be traced; torch disables its LBFGS.step too")
    @torch.no_grad()
    def step(self, closure):
        """Up to `max_iter` L-BFGS iterations; `closure()` must zero the gradients, compute the loss,
        call backward and return the loss. Returns the loss before the step."""
        group = self.param_groups[0]
        lr = group["lr"]
        if isinstance(lr, Tensor) and lr.dim() != 0:
            lr = lr.squeeze()  # a 1-element tensor lr acts as a number, as in torch
        state = self.state[self._params[0]]  # one global state, kept under the first parameter
        for key, value in lbfgs_init_state().items():
            state.setdefault(key, value)
        return lbfgs_update(
            self._params, torch.enable_grad()(closure), state, lr=lr, max_iter=group["max_iter"],
            max_eval=group["max_eval"], tolerance_grad=group["tolerance_grad"],
            tolerance_change=group["tolerance_change"], history_size=group["history_size"],
            line_search_fn=group["line_search_fn"],
        )
    # --8<-- [end:step]

    # --8<-- [start:preconditioner]
    def inverse_hessian_apply(self, v: Tensor) -> Tensor:
        """H v for the current estimate H (v: a vector over all parameters, flattened in order; a new
        tensor). The identity before the first step and after it if no pair was kept yet. The very
        operations of the step: `state["d"]` is bit for bit `inverse_hessian_apply(-state["prev_flat_grad"])`."""
        state = self.state[self._params[0]]
        if not state.get("old_dirs"):
            return torch.mul(v, state.get("H_diag", 1))
        al = [None] * len(state["old_dirs"])
        return lbfgs_two_loop(v.clone(), state["old_dirs"], state["old_stps"], state["ro"], state["H_diag"], al)

    def inverse_hessian(self, max_size: int = 4096) -> Tensor:
        """The dense n × n estimate H (n: all parameters' entries), column by column, for small problems."""
        n = sum(2 * p.numel() if torch.is_complex(p) else p.numel() for p in self._params)
        if n > max_size:
            raise ValueError(f"inverse_hessian() forms an n x n matrix: n = {n} exceeds max_size={max_size}; "
                             "use inverse_hessian_apply(v)")
        first = self._params[0]
        dtype = torch.view_as_real(first).dtype if torch.is_complex(first) else first.dtype
        eye = torch.eye(n, dtype=dtype, device=first.device)
        return torch.stack([self.inverse_hessian_apply(e) for e in eye], dim=1)

    def preconditioner(self, p: Tensor) -> Tensor:
        """The block of the dense inverse-Hessian estimate H on p's entries (p.numel() × p.numel(),
        complex as (real, imag)); the whole H when p is the only parameter. The identity before the
        first step."""
        offset = 0
        for q in self._params:
            numel = 2 * q.numel() if torch.is_complex(q) else q.numel()
            if q is p:
                return self.inverse_hessian()[offset:offset + numel, offset:offset + numel]
            offset += numel
        raise ValueError(f"this {type(self).__name__} does not optimise the given tensor of shape {tuple(p.shape)}")
    # --8<-- [end:preconditioner]
# --8<-- [end:class]


# ---- Machinery: the flat view of all parameters, and torch's strong-Wolfe line search ----


def _flat_grad(params: list[Tensor]) -> Tensor:
    """All gradients as one vector g (zeros for a parameter without one; complex as (real, imag))."""
    views = []
    for p in params:
        if p.grad is None:
            view = p.new(p.numel()).zero_()
        elif p.grad.is_sparse:
            view = p.grad.to_dense().view(-1)
        else:
            view = p.grad.view(-1)
        if torch.is_complex(view):
            view = torch.view_as_real(view).view(-1)
        views.append(view)
    return torch.cat(views, 0)


def _add_to_params(params: list[Tensor], step_size, direction: Tensor) -> None:
    """θ ← θ + t·d, with θ all parameters flattened into one vector (in place, one view each)."""
    offset = 0
    for p in params:
        if torch.is_complex(p):
            p = torch.view_as_real(p)
        numel = p.numel()
        p.add_(direction[offset:offset + numel].view_as(p), alpha=step_size)
        offset += numel


# --8<-- [start:linesearch]
def _cubic_interpolate(x1, f1, g1, x2, f2, g2, bounds=None):
    """The minimiser of the cubic through (x1, f1) and (x2, f2) with slopes g1, g2, kept in `bounds`
    (default: between x1 and x2); the midpoint when the cubic has no minimiser."""
    xmin_bound, xmax_bound = bounds if bounds is not None else ((x1, x2) if x1 <= x2 else (x2, x1))
    d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2)
    d2_square = d1**2 - g1 * g2
    if d2_square >= 0:
        d2 = d2_square.sqrt()
        if x1 <= x2:
            min_pos = x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
        else:
            min_pos = x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2))
        return min(max(min_pos, xmin_bound), xmax_bound)
    return (xmin_bound + xmax_bound) / 2.0


def _strong_wolfe(obj_func, x, t, d, f, g, gtd, c1=1e-4, c2=0.9, tolerance_change=1e-9, max_ls=25):
    """A step t along d with sufficient decrease, f(x + t d) <= f + c1 t gᵀd (Armijo), and small slope,
    |g(x + t d)ᵀd| <= c2 |gᵀd| (strong Wolfe): bracket such a t, then zoom in by cubic interpolation.
    Returns (f, g, t, evaluations) at the chosen t. Moré–Thuente style, as in torch (and minFunc)."""
    d_norm = d.abs().max()
    g = g.clone(memory_format=torch.contiguous_format)
    f_new, g_new = obj_func(x, t, d)  # evaluate at the initial step
    ls_func_evals = 1
    gtd_new = g_new.dot(d)

    # bracketing phase: grow t until an interval [t_prev, t] contains a point satisfying the conditions
    t_prev, f_prev, g_prev, gtd_prev = 0, f, g, gtd
    done = False
    ls_iter = 0
    while ls_iter < max_ls:
        # no sufficient decrease
        if f_new > (f + c1 * t * gtd) or (ls_iter > 1 and f_new >= f_prev):
            bracket, bracket_f = [t_prev, t], [f_prev, f_new]
            bracket_g = [g_prev, g_new.clone(memory_format=torch.contiguous_format)]
            bracket_gtd = [gtd_prev, gtd_new]
            break
        if abs(gtd_new) <= -c2 * gtd:  # both conditions hold at t: done
            bracket, bracket_f, bracket_g = [t], [f_new], [g_new]
            done = True
            break
        if gtd_new >= 0:  # the slope turned positive: a minimiser lies in [t_prev, t]
            bracket, bracket_f = [t_prev, t], [f_prev, f_new]
            bracket_g = [g_prev, g_new.clone(memory_format=torch.contiguous_format)]
            bracket_gtd = [gtd_prev, gtd_new]
            break
        # still descending: extrapolate, between 1.01 t and 10 t
        min_step = t + 0.01 * (t - t_prev)
        max_step = t * 10
        tmp = t
        t = _cubic_interpolate(t_prev, f_prev, gtd_prev, t, f_new, gtd_new, bounds=(min_step, max_step))
        t_prev, f_prev = tmp, f_new
        g_prev = g_new.clone(memory_format=torch.contiguous_format)
        gtd_prev = gtd_new
        f_new, g_new = obj_func(x, t, d)
        ls_func_evals += 1
        gtd_new = g_new.dot(d)
        ls_iter += 1
    if ls_iter == max_ls:  # out of evaluations: the bracket is [0, t]
        bracket, bracket_f, bracket_g = [0, t], [f, f_new], [g, g_new]

    # zoom phase: shrink the bracket around a point satisfying both conditions
    insuf_progress = False
    # the lower end, and the other
    low_pos, high_pos = (0, 1) if bracket_f[0] <= bracket_f[-1] else (1, 0)
    while not done and ls_iter < max_ls:
        if abs(bracket[1] - bracket[0]) * d_norm < tolerance_change:  # the bracket is too small
            break
        t = _cubic_interpolate(bracket[0], bracket_f[0], bracket_gtd[0], bracket[1], bracket_f[1], bracket_gtd[1])
        # too close to an end (twice, or beyond it): move to 10% of the bracket's length from that end
        eps = 0.1 * (max(bracket) - min(bracket))
        if min(max(bracket) - t, t - min(bracket)) < eps:
            if insuf_progress or t >= max(bracket) or t <= min(bracket):
                t = max(bracket) - eps if abs(t - max(bracket)) < abs(t - min(bracket)) else min(bracket) + eps
                insuf_progress = False
            else:
                insuf_progress = True
        else:
            insuf_progress = False
        f_new, g_new = obj_func(x, t, d)
        ls_func_evals += 1
        gtd_new = g_new.dot(d)
        ls_iter += 1
        # not lower: t replaces the high end
        if f_new > (f + c1 * t * gtd) or f_new >= bracket_f[low_pos]:
            bracket[high_pos], bracket_f[high_pos] = t, f_new
            bracket_g[high_pos] = g_new.clone(memory_format=torch.contiguous_format)
            bracket_gtd[high_pos] = gtd_new
            low_pos, high_pos = (0, 1) if bracket_f[0] <= bracket_f[1] else (1, 0)
        else:
            if abs(gtd_new) <= -c2 * gtd:  # strong Wolfe conditions hold
                done = True
            # old low end becomes the high end
            elif gtd_new * (bracket[high_pos] - bracket[low_pos]) >= 0:
                bracket[high_pos], bracket_f[high_pos] = bracket[low_pos], bracket_f[low_pos]
                bracket_g[high_pos], bracket_gtd[high_pos] = bracket_g[low_pos], bracket_gtd[low_pos]
            bracket[low_pos], bracket_f[low_pos] = t, f_new  # t becomes the low end
            bracket_g[low_pos] = g_new.clone(memory_format=torch.contiguous_format)
            bracket_gtd[low_pos] = gtd_new
    return bracket_f[low_pos], bracket_g[low_pos], bracket[low_pos], ls_func_evals
# --8<-- [end:linesearch]
# --8<-- [end:all]
