"""One optimizer walking over one landscape: the seed notebook's ``opt_fn``, done properly.

    from optimessay import Adam, landscapes, trajectory
    walk = trajectory.run("rosenbrock", Adam, {"lr": 0.05}, steps=200)
    walk.points            # (steps + 1, 2): the point BEFORE each step; points[0] is the start,
                           #                 points[-1] the point after the last step
    walk.losses            # (steps + 1,):  f at those points
    walk.lrs               # (steps,):      the learning rate each step used (schedulers change it)
    walk.preconditioners   # (steps, 2):    the diagonal P of the step, update = -lr · P · ĝ
    walk.gradients         # (steps, 2):    the gradient estimate ĝ the optimizer was given
    walk.label             # "Adam(lr=0.05)": for legends

What the seed's ``opt_fn`` got wrong, and this module does instead: it returned ``n_iters`` rows and
lost the last point (here ``steps + 1``); it passed a ``set`` of parameters (here a list); it worked
in float32 with a hard-coded ``print(out[99])`` (here ``dtype`` is float64 by default, and nothing
prints); and a walk that blew up filled the rest with nan (here a walk stops at its first
non-finite loss or gradient: the remaining points repeat the last one and ``diverged_at`` says when).

The reference walkers :func:`newton` (P = H⁻¹) and :func:`preconditioned_gd` (P = diag(H)⁻¹, H⁻¹ or
I) use the exact Hessian: the ideal preconditioners that Adam and friends approximate.
"""

from __future__ import annotations

import functools
import inspect
import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import torch
from torch import Tensor

from optimessay import landscapes, optimizers
from optimessay.landscapes import Landscape

__all__ = ["Trajectory", "format_label", "newton", "preconditioned_gd", "run"]


@dataclass(eq=False)
class Trajectory:
    """A walk: points, losses, learning rates and preconditioners, step by step.

    Attributes:
        landscape: the :class:`~optimessay.landscapes.Landscape` walked on.
        label: a legend label naming the optimizer and its hyperparameters.
        optimizer: the optimizer's name, e.g. ``"Adam"`` (``"Newton"`` for the reference walkers).
        hyperparameters: the keyword arguments the optimizer was built with.
        points: ``(steps + 1, 2)``; ``points[t]`` is the point before step ``t``.
        losses: ``(steps + 1,)``; ``losses[t] = f(points[t])``.
        lrs: ``(steps,)``; the learning rate step ``t`` used (nan after a divergence).
        preconditioners: ``(steps, 2)``; the diagonal factor P of step ``t`` (nan where unknown).
        gradients: ``(steps, 2)``; the gradient estimate at ``points[t]`` (noise included).
        diverged_at: the first step whose loss or gradient was not finite (None: never).
        scheduler: the scheduler's name (None: constant lr).
        preconditioner_matrices: ``(steps, 2, 2)`` for the reference walkers (full P), else None.
    """

    landscape: Landscape
    label: str
    optimizer: str
    hyperparameters: dict
    points: Tensor
    losses: Tensor
    lrs: Tensor
    preconditioners: Tensor
    gradients: Tensor
    diverged_at: int | None = None
    scheduler: str | None = None
    preconditioner_matrices: Tensor | None = field(default=None, repr=False)

    @property
    def steps(self) -> int:
        return self.lrs.shape[0]

    @property
    def diverged(self) -> bool:
        """The walk hit a non-finite loss or gradient (``diverged_at``), or its last step left it at a
        point where the loss is not finite (as ``SweepResult.diverged``)."""
        return self.diverged_at is not None or not math.isfinite(self.final_loss)

    @property
    def final_point(self) -> Tensor:
        return self.points[-1]

    @property
    def final_loss(self) -> float:
        return float(self.losses[-1])

    def distances(self) -> Tensor:
        """``(steps + 1,)``: the distance of each point to the nearest known minimum."""
        return self.landscape.distance_to_minimum(self.points)

    def first_within(self, tol: float) -> int | None:
        """The first index ``t`` with ``points[t]`` within ``tol`` of a minimum (None: never)."""
        hits = torch.nonzero(self.distances() <= tol)
        return int(hits[0, 0]) if len(hits) else None


# --- the walk ------------------------------------------------------------------------------------


def run(
    landscape,
    optimizer_class,
    optimizer_kwargs: dict | None = None,
    *,
    start=None,
    steps: int = 100,
    scheduler_class=None,
    scheduler_kwargs: dict | None = None,
    noise: float = 0.0,
    seed: int = 0,
    dtype: torch.dtype = torch.float64,
    preconditioners: bool = True,
) -> Trajectory:
    """Walk ``steps`` steps of ``optimizer_class(**optimizer_kwargs)`` from ``start``.

    Args:
        landscape: a :class:`Landscape` or a registered name (``"rosenbrock"``).
        optimizer_class: an optimessay or ``torch.optim`` optimizer class (called as
            ``optimizer_class([xy], **optimizer_kwargs)``).
        start: ``(x, y)``; default ``landscape.start``.
        scheduler_class, scheduler_kwargs: an optional lr scheduler, stepped after every step.
            ReduceLROnPlateau is stepped with the metric it needs: the loss of the step, ``losses[t]``
            (``scheduler.step(losses[t])``). A scheduler built from children (SequentialLR,
            ChainedScheduler) takes them as ``(class, kwargs)`` pairs,
            ``scheduler_kwargs={"schedulers": [(LinearLR, {...}), (ExponentialLR, {...})], ...}``:
            each child is built on the walk's optimizer first (see :func:`build_scheduler`).
        noise: standard deviation of Gaussian noise added to each gradient (stochastic gradients).
            The noise of walk ``seed`` is ``noise * torch.randn(steps, 2)`` drawn from
            ``torch.Generator().manual_seed(seed)``: the same draws whatever the optimizer, so
            optimizers are compared on the same noisy gradients (and a sweep can reproduce them).
        dtype: ``torch.float64`` (default) or ``torch.float32``.
        preconditioners: read each step's P from the optimizer (default); False leaves
            ``preconditioners`` nan and saves ~28% of an Adam walk's time on the banana (for references that only
            compare points and losses).

    Every optimizer class of torch.optim and optimessay walks; three need more than a gradient:

    - LBFGS: each step is a line search that re-evaluates the loss, so ``step(closure)`` gets a
      closure (zero the gradient, evaluate f at the current point, backward, add the step's noise
      draw ε_t: the same draw at every evaluation within step t). ``points`` are the points between
      its steps, not its inner evaluations.
    - Muon, Shampoo and SOAP precondition matrices only: they get the point as a ``(1, 2)`` matrix
      ``[[x, y]]`` (one row, two columns), the rest of the walk is the same.
    - SparseAdam steps on sparse gradients: it gets the gradient in sparse layout with both
      coordinates stored, so every step touches both (on a landscape it is Adam with ε added before
      the bias correction).

    The preconditioner is ``optimizer.preconditioner(xy)`` for optimessay's classes; for
    ``torch.optim``'s elementwise classes it is computed from their state the same way (see
    :func:`preconditioner_from_state`). It is nan where P is not diagonal (Muon, Shampoo, SOAP,
    LBFGS: their ``preconditioner`` methods say what they return) or unknown.
    """
    land = landscapes.get(landscape)
    optimizer_kwargs = check_kwargs("optimizer_kwargs", optimizer_kwargs)
    scheduler_kwargs = check_kwargs("scheduler_kwargs", scheduler_kwargs)
    _check_class("optimizer_class", optimizer_class)
    if not isinstance(preconditioners, bool):
        raise ValueError(f"preconditioners={preconditioners!r}: expected True or False")
    if scheduler_class is not None:
        _check_class("scheduler_class", scheduler_class)
    elif scheduler_kwargs:
        raise ValueError(f"scheduler_kwargs={scheduler_kwargs!r} given without a scheduler_class")
    xy0 = check_start(land, start, dtype)
    steps = check_steps(steps)
    noise = _check_noise(noise)
    seed = _check_seed(seed)
    noise_draws = noise_sequence(steps, seed, dtype) if noise > 0 else None

    kind = _kind(optimizer_class)
    if kind == "matrix":  # Muon, Shampoo, SOAP: the point as a (1, 2) matrix [[x, y]]
        xy = xy0.reshape(1, 2).clone().requires_grad_(True)
        xy_vector = xy[0]  # a view: the point as (x, y)
    else:
        xy = xy_vector = xy0.clone().requires_grad_(True)
    optimizer = optimizer_class([xy], **optimizer_kwargs)
    scheduler = build_scheduler(scheduler_class, optimizer, scheduler_kwargs) if scheduler_class is not None else None
    on_plateau = scheduler is not None and _is(scheduler_class, "ReduceLROnPlateau")

    def f() -> Tensor:
        return land.fn(xy_vector[0], xy_vector[1])

    def closure() -> Tensor:  # LBFGS: f and its (noisy) gradient at the current point, as often as it asks
        optimizer.zero_grad()
        loss = f()
        loss.backward()
        if noise_draws is not None:
            xy.grad.add_(noise * noise_draws[t].reshape(xy.shape))
        return loss

    out = _Recorder(steps, dtype)
    point = xy_vector.detach()  # a view: reads the current point
    # Rosenbrock's and the quadratic's loss and gradient in closed form (op for op autograd's, bitwise:
    # the sweeps' evaluator on a batch of one walk) instead of a graph and a backward pass each step
    # (~4x cheaper per step); LBFGS's closure and the other landscapes use autograd
    derivatives = getattr(land.fn, "derivatives", None)
    evaluate = derivatives.evaluator(1, dtype) if derivatives is not None and kind != "closure" else None
    column = point.view(2, 1)  # the point as a batch of one walk, coordinate-major
    for t in range(steps):
        out.point(point)
        if evaluate is not None:
            loss, g = evaluate(column)  # reused buffers: the optimizer gets its own copy of g
            xy.grad = g.view(xy.shape).clone()
        else:
            loss = f()
            loss.backward()
        grad = xy.grad
        if noise_draws is not None:
            grad.add_(noise * noise_draws[t].reshape(grad.shape))  # ĝ = ∇f + noise · ε_t
        loss = loss.item()  # Python numbers: the record's values and the finiteness test, one sync each
        gradient = grad.reshape(-1).tolist()
        out.loss(loss)
        out.gradient(gradient)
        if not (math.isfinite(loss) and all(math.isfinite(g) for g in gradient)):
            out.stop(t)  # diverged: the walk stays where it is
            break
        out.lr(_current_lr(optimizer))
        if kind == "closure":
            optimizer.step(closure)
        else:
            if kind == "sparse":  # both coordinates stored: every step touches both
                xy.grad = torch.sparse_coo_tensor(torch.arange(2)[None], grad.detach(), (2,), check_invariants=True)
            optimizer.step()
        if preconditioners:
            out.preconditioner(preconditioner_from_state(optimizer, xy))
        optimizer.zero_grad()
        if on_plateau:
            scheduler.step(loss)  # the metric: this step's loss
        elif scheduler is not None:
            scheduler.step()
    else:
        out.point(point)
        with torch.no_grad():
            out.loss(f().item())

    label = format_label(optimizer_class.__name__, optimizer_kwargs)
    if scheduler_class is not None:
        label += " + " + format_label(scheduler_class.__name__, scheduler_kwargs)
    if noise > 0:
        label += f", noise {noise:g}"
    return Trajectory(
        landscape=land,
        label=label,
        optimizer=optimizer_class.__name__,
        hyperparameters=optimizer_kwargs,
        scheduler=None if scheduler_class is None else scheduler_class.__name__,
        **out.fields(),
    )


class _Recorder:
    """The outputs of a walk, collected step by step (points, losses and gradients as Python numbers,
    which the finiteness test reads anyway; preconditioners as small tensors; each kept in a list:
    cheaper per step than writing into a preallocated tensor) and laid out by :meth:`fields`:
    ``(steps + 1, 2)`` points, ``(steps + 1,)`` losses, ``(steps,)`` lrs, ``(steps, 2)``
    preconditioners and gradients; nan where a walk that stopped early has no value, and its points,
    losses and gradients after it stopped repeat the last ones. A float32 number read as a Python
    float and written back into float32 is the same number."""

    def __init__(self, steps: int, dtype: torch.dtype):
        self.steps, self.dtype = steps, dtype
        self._points, self._losses, self._gradients, self._lrs, self._preconditioners = [], [], [], [], []
        self.diverged_at = None

    def point(self, p: Tensor) -> None:
        self._points.append(p.tolist())

    def loss(self, loss: float) -> None:
        self._losses.append(loss)

    def gradient(self, grad: list[float]) -> None:
        self._gradients.append(grad)

    def lr(self, lr: float) -> None:
        self._lrs.append(lr)

    def preconditioner(self, P: Tensor, repeat: int = 1) -> None:
        """P of the next step (of the next ``repeat`` steps: the same P)."""
        self._preconditioners.extend([P.reshape(2).to(self.dtype, copy=True)] * repeat)  # P may be a view of the state

    def stop(self, t: int) -> None:
        """The walk stopped at step t: every later point (and loss) repeats ``points[t]``."""
        self.diverged_at = t

    def fields(self) -> dict:
        steps, dtype, nan = self.steps, self.dtype, math.nan

        def filled(values: list, shape: tuple, repeat_last: bool) -> Tensor:
            out = torch.full(shape, nan, dtype=dtype)
            if values:
                out[: len(values)] = torch.stack(values) if isinstance(values[0], Tensor) else torch.tensor(values, dtype=torch.float64)
                if repeat_last:
                    out[len(values) :] = out[len(values) - 1]
            return out

        stopped = self.diverged_at is not None
        return dict(
            points=filled(self._points, (steps + 1, 2), stopped),
            losses=filled(self._losses, (steps + 1,), stopped),
            lrs=filled(self._lrs, (steps,), False),
            preconditioners=filled(self._preconditioners, (steps, 2), False),
            gradients=filled(self._gradients, (steps, 2), stopped),
            diverged_at=self.diverged_at,
        )


def _is(cls: type, name: str) -> bool:
    """``cls`` is the class called ``name`` or a subclass (optimessay's and torch's classes alike)."""
    return any(base.__name__ == name for base in cls.__mro__)


def _kind(optimizer_class: type) -> str:
    """How a walk feeds the optimizer: "closure" (LBFGS), "matrix" (Muon, Shampoo, SOAP: a (1, 2)
    parameter), "sparse" (SparseAdam: a sparse gradient) or "plain"."""
    if _is(optimizer_class, "LBFGS"):
        return "closure"
    if any(_is(optimizer_class, name) for name in _MATRIX_ONLY):
        return "matrix"
    if _is(optimizer_class, "SparseAdam"):
        return "sparse"
    return "plain"


_MATRIX_ONLY = ("Muon", "Shampoo", "SOAP")  # optimizers of 2-D parameters only


def build_scheduler(scheduler_class: type, optimizer, scheduler_kwargs: dict):
    """``scheduler_class(optimizer, **scheduler_kwargs)``. A scheduler built from children
    (SequentialLR, ChainedScheduler) may be given them as ``(class, kwargs)`` pairs in
    ``scheduler_kwargs["schedulers"]``: each child is built on ``optimizer`` first (in order), then
    the parent with ``optimizer=`` and ``schedulers=`` as keywords (both classes take them). Children
    given as scheduler instances are passed as they are."""
    children = scheduler_kwargs.get("schedulers")
    if isinstance(children, (list, tuple)) and children and all(_is_pair(c) for c in children):
        built = [build_scheduler(cls, optimizer, check_kwargs("a child's kwargs", kw)) for cls, kw in children]
        return scheduler_class(optimizer=optimizer, **{**scheduler_kwargs, "schedulers": built})
    return scheduler_class(optimizer, **scheduler_kwargs)


def _is_pair(child) -> bool:
    return isinstance(child, tuple) and len(child) == 2 and isinstance(child[0], type)


def _current_lr(optimizer) -> float:
    groups = getattr(optimizer, "param_groups", None)
    lr = groups[0]["lr"] if groups else getattr(optimizer, "lr", math.nan)
    return float(lr)


# --- the preconditioner of a step ----------------------------------------------------------------


@torch.no_grad()
def preconditioner_from_state(optimizer, p: Tensor) -> Tensor:
    """The diagonal P of the optimizer's last step on ``p``, in ``update = -lr · P · ĝ``.

    Uses ``optimizer.preconditioner(p)`` when the class has it (every optimessay optimizer).
    ``torch.optim``'s SGD, RMSprop, Adam/AdamW and Adagrad keep their state in the same layout as
    optimessay's, so their P is read by the same functions the optimessay classes use
    (``adam_preconditioner``, ... in ``optimessay.optimizers``; no second copy of the formulas):

    - SGD (any momentum): P = 1 (momentum changes ĝ, not P)
    - RMSprop: P = 1 / (√v + eps), v the square average (centered: v - ḡ²)
    - Adam, AdamW: P = 1 / (√v / √(1 - β₂ᵗ) + eps), with ĝ = m / (1 - β₁ᵗ) (amsgrad: v = max v)
    - Adagrad: P = 1 / ((1 + (t - 1)·lr_decay)(√Σg² + eps))

    - NAdam, RAdam, Adamax, Adadelta, Rprop, ASGD, Adafactor: ``<name>_preconditioner`` of their
      optimessay files, given the parameter group's values (their docstrings give P)

    Any other class, or a P that is not one number per element (Muon's rows x rows matrix,
    Shampoo's and SOAP's factors): nan.
    """
    nan = torch.full_like(p.detach(), math.nan)
    if hasattr(optimizer, "preconditioner"):
        P = optimizer.preconditioner(p)
        if not isinstance(P, Tensor) or P.numel() != p.numel():
            return nan
        return P.detach().to(p.dtype).reshape(p.shape)
    if isinstance(optimizer, torch.optim.SGD):
        return optimizers.sgd_preconditioner(p, {})
    state = getattr(optimizer, "state", {}).get(p, {})
    groups = getattr(optimizer, "param_groups", [])
    group = next((g for g in groups if any(p is q for q in g["params"])), None)
    if state and group is not None:
        if isinstance(optimizer, torch.optim.Adam):  # AdamW is an Adam
            return optimizers.adam_preconditioner(
                p, state, beta2=group["betas"][1], eps=group["eps"], amsgrad=group["amsgrad"]
            )
        if isinstance(optimizer, torch.optim.RMSprop):
            return optimizers.rmsprop_preconditioner(p, state, eps=group["eps"])
        if isinstance(optimizer, torch.optim.Adagrad):  # the lr decay is folded into P
            return optimizers.adagrad_preconditioner(p, state, lr_decay=group["lr_decay"], eps=group["eps"])
        for name in _SAME_STATE:
            if _is(type(optimizer), name):
                precondition = getattr(optimizers, f"{name.lower()}_preconditioner")
                return precondition(p, state, **core_arguments(precondition, group))
    return nan


# torch.optim classes whose state has the layout of optimessay's (P is read by optimessay's function)
_SAME_STATE = ("NAdam", "RAdam", "Adamax", "Adadelta", "Rprop", "ASGD", "Adafactor")
# class arguments that are pairs, and the names a functional core gives their entries
PAIRS = {
    "betas": ("beta1", "beta2"),
    "etas": ("etaminus", "etaplus"),
    "step_sizes": ("step_size_min", "step_size_max"),
    "eps": ("eps1", "eps2"),  # Adafactor's (the others' eps is a number)
}


def core_values(values: dict) -> dict:
    """A class's hyperparameters (its defaults, or a parameter group) under the functional cores'
    names: each pair also as its entries (betas -> beta1, beta2; etas -> etaminus, etaplus; ...)."""
    out = dict(values)
    for name, (first, second) in PAIRS.items():
        if isinstance(out.get(name), tuple):
            out[first], out[second] = out[name]
    return out


@functools.cache
def keyword_names(fn) -> tuple[str, ...]:
    """The keyword-only arguments of ``fn`` (a functional core's hyperparameters)."""
    return tuple(p.name for p in inspect.signature(fn).parameters.values() if p.kind is p.KEYWORD_ONLY)


def core_arguments(fn, values: dict) -> dict:
    """The entries of ``core_values(values)`` that ``fn`` takes as keyword-only arguments."""
    values = core_values(values)
    return {k: values[k] for k in keyword_names(fn) if k in values}


# --- reference walkers: the exact preconditioners ------------------------------------------------


def newton(landscape, *, start=None, steps: int = 20, lr: float = 1.0, dtype=torch.float64) -> Trajectory:
    """Newton's method, x ← x - lr · H(x)⁻¹ ∇f(x): gradient descent with the ideal P = H⁻¹.

    On a quadratic, ``lr=1`` lands on the minimum in one step, whatever kappa and theta. Where H is
    not positive definite Newton heads for the saddle or maximum: that is the method, not a bug.
    A singular Hessian stops the walk (``diverged_at``).
    """
    return _reference_walk(landscape, "newton", lr=lr, start=start, steps=steps, dtype=dtype)


def preconditioned_gd(
    landscape,
    *,
    kind: str = "diag",
    lr: float = 1.0,
    start=None,
    steps: int = 100,
    fixed: bool = False,
    dtype=torch.float64,
) -> Trajectory:
    """Gradient descent with an exact preconditioner: x ← x - lr · P ∇f(x).

    Args:
        kind: ``"diag"``: P = diag(H)⁻¹ (what a perfect diagonal method such as Adam aims at);
            ``"full"``: P = H⁻¹ (Newton); ``"none"``: P = I (plain gradient descent).
        fixed: False: H at the current point, every step; True: H at the start only, one constant
            P: a fixed change of coordinates.

    On ``quadratic(kappa, theta)``, ``"diag"`` with ``lr=1`` is perfect when theta = 0 (the
    Hessian is diagonal) and zigzags when theta = 45°; ``"full"`` is perfect for every theta.
    """
    if kind not in ("diag", "full", "none"):
        raise ValueError(f"kind={kind!r}: expected 'diag', 'full' or 'none'")
    return _reference_walk(landscape, kind, lr=lr, start=start, steps=steps, dtype=dtype, fixed=fixed)


def _preconditioner_matrix(kind: str, H: Tensor) -> tuple[Tensor, bool]:
    """P for ``kind`` from the Hessian H (2, 2), and whether it exists (H or diag(H) invertible)."""
    if kind == "none":
        return torch.eye(2, dtype=H.dtype), True
    if kind == "diag":
        d = torch.diagonal(H)
        return torch.diag(1 / d), bool((d != 0).all())
    P, info = torch.linalg.inv_ex(H)  # "full" and "newton": P = H⁻¹
    return P, int(info) == 0


_NAMES = {"newton": "Newton", "full": "GD, P = H⁻¹", "diag": "GD, P = diag(H)⁻¹", "none": "GD, P = I"}


def _reference_walk(landscape, kind, *, lr, start, steps, dtype, fixed=False) -> Trajectory:
    land = landscapes.get(landscape)
    x = check_start(land, start, dtype)
    steps = check_steps(steps)
    lr = landscapes._number("lr", lr)
    out = _Recorder(steps, dtype)
    matrices = torch.full((steps, 2, 2), math.nan, dtype=dtype)
    P, ok = _preconditioner_matrix(kind, land.hessian(x)) if fixed else (None, True)
    P_finite = fixed and bool(torch.isfinite(P).all())
    # f and ∇f at x, a batch of one walk: the landscape's closed form where it has one (op for op
    # autograd's, bitwise), else one autograd pass; the same numbers as land.loss(x) and
    # land.gradient(x). Read as Python numbers (the record's values and the finiteness test).
    evaluate = land.batch_value_and_gradient(1, dtype)
    for t in range(steps):
        out.point(x)
        loss, g = evaluate(x.view(2, 1))  # reused buffers, read before the next call
        g = g.reshape(2)
        loss = loss.item()
        gradient = g.tolist()
        out.loss(loss)
        out.gradient(gradient)
        if not fixed:
            P, ok = _preconditioner_matrix(kind, land.hessian(x))
        finite = math.isfinite(loss) and all(math.isfinite(v) for v in gradient)
        if not (ok and finite and (P_finite if fixed else bool(torch.isfinite(P).all()))):
            out.stop(t)
            break
        x = x - lr * (P @ g)  # update = -lr · P · ∇f
        out.lr(lr)
        if not fixed:
            matrices[t] = P
            out.preconditioner(torch.diagonal(P))
    else:
        out.point(x)
        out.loss(land.loss(x).item())
    if fixed:  # one P for every step taken, written once
        taken = len(out._lrs)
        matrices[:taken] = P
        out.preconditioner(torch.diagonal(P), repeat=taken)
    label = _NAMES[kind] + (" (fixed)" if fixed else "") + (f", lr={lr:g}" if lr != 1 else "")
    return Trajectory(
        landscape=land,
        label=label,
        optimizer=_NAMES[kind],
        hyperparameters={"lr": lr, "kind": kind, "fixed": fixed},
        preconditioner_matrices=matrices,
        **out.fields(),
    )


# --- labels and validation (shared with optimessay.sweep) ----------------------------------------


def format_label(name: str, kwargs: dict) -> str:
    """``"Adam(lr=0.01, betas=(0.9, 0.99))"``: a class name and its keyword arguments, compactly."""
    return f"{name}({', '.join(f'{k}={_fmt(v)}' for k, v in kwargs.items())})"


def _fmt(value) -> str:
    if isinstance(value, bool):
        return repr(value)
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, (tuple, list)):
        inner = ", ".join(_fmt(v) for v in value)
        return f"({inner})" if isinstance(value, tuple) else f"[{inner}]"
    if callable(value):
        return getattr(value, "__name__", "fn")
    return repr(value)


def check_start(land: Landscape, start, dtype) -> Tensor:
    """``start`` (None: the landscape's) as a tensor of shape (2,), or a clear ValueError."""
    if dtype not in (torch.float32, torch.float64):
        raise ValueError(f"dtype={dtype!r}: expected torch.float32 or torch.float64")
    if start is None:
        start = land.start
    try:
        xy = torch.as_tensor(start, dtype=dtype).detach().clone()
    except (TypeError, ValueError, RuntimeError) as err:
        raise ValueError(f"start={start!r}: expected 2 numbers (x, y)") from err
    if xy.shape != (2,):
        raise ValueError(f"start={start!r} has shape {tuple(xy.shape)}: expected 2 numbers (x, y)")
    if not torch.isfinite(xy).all():
        raise ValueError(f"start={start!r}: expected finite numbers")
    return xy


def check_steps(steps) -> int:
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 0:
        raise ValueError(f"steps={steps!r}: expected an int >= 0")
    return steps


def noise_sequence(steps: int, seed: int, dtype) -> Tensor:
    """``(steps, 2)`` standard normal draws of walk ``seed``: ε_t in ĝ_t = ∇f + noise · ε_t."""
    return torch.randn(steps, 2, generator=torch.Generator().manual_seed(_check_seed(seed)), dtype=dtype)


def _check_seed(seed) -> int:
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ValueError(f"seed={seed!r}: expected an int")
    return seed


def _check_noise(noise) -> float:
    noise = landscapes._number("noise", noise)
    if noise < 0:
        raise ValueError(f"noise={noise!r}: expected a standard deviation >= 0")
    return noise


def check_kwargs(what: str, kwargs) -> dict:
    """A copy of keyword arguments given as a dict or other mapping (None: none), or a clear ValueError."""
    if kwargs is None:
        return {}
    if not isinstance(kwargs, Mapping) or not all(isinstance(k, str) for k in kwargs):
        raise ValueError(f"{what}={kwargs!r}: expected a dict of keyword arguments, e.g. {{'lr': 0.01}}")
    return dict(kwargs)


def _check_class(what: str, cls) -> None:
    if not isinstance(cls, type):
        raise ValueError(f"{what}={cls!r}: expected a class (e.g. torch.optim.Adam), not an instance")
