"""N independent walks as ONE batched computation, and :func:`tune`: each optimizer at its best lr.

    from optimessay import Adam, sweep
    result = sweep.run("rosenbrock", Adam, grid={"lr": torch.logspace(-4, 0, 200),
                                                  "beta1": torch.linspace(0, 0.99, 200)}, steps=500)
    result.trajectories        # (N, steps + 1, 2), N = 200 * 200 walks
    result.grid(result.final_loss)   # (200, 200): a heatmap over lr x beta1
    result.diverged            # (N,) bool

How: the walks' points form one parameter of shape ``(N, 2)``; a hyperparameter that differs
between walks is a tensor of shape ``(N, 1)``. Every step calls the optimizer's *functional core*
(``adam_update`` in ``optimessay/optimizers/adam.py``, ...), the very function the optimizer class
calls: there is no second copy of any update formula here. So each walk equals running its
configuration alone with :func:`optimessay.trajectory.run` (tests: 1e-12 relative in float64, 1e-5
in float32, 500 steps; measured bitwise).

Divergence: a walk whose loss or gradient stops being finite is dropped from the batch at that step
(its state rows with it), so it can never poison the others; like ``trajectory.run`` its later points
repeat its last point, and ``diverged_at`` records the step.

Schedulers: the learning rate (and the momentum / betas that OneCycleLR and CyclicLR cycle) of every
step is computed first by the scheduler class itself, on a stand-in optimizer with one parameter
group per distinct configuration; the batched walk then reads its per-step values from that table.
"""

from __future__ import annotations

import inspect
import math
import warnings
from contextlib import contextmanager
from dataclasses import dataclass, field

import torch
from torch import Tensor

from optimessay import landscapes, optimizers, trajectory
from optimessay.landscapes import Landscape

__all__ = ["SweepResult", "Tuned", "run", "tune"]

# The functional cores: one update rule per optimizer family, shared with the optimizer classes.
_CORES = {
    "SGD": (optimizers.sgd_init_state, optimizers.sgd_update, optimizers.sgd_preconditioner),
    "RMSprop": (optimizers.rmsprop_init_state, optimizers.rmsprop_update, optimizers.rmsprop_preconditioner),
    "Adam": (optimizers.adam_init_state, optimizers.adam_update, optimizers.adam_preconditioner),
    "Adagrad": (optimizers.adagrad_init_state, optimizers.adagrad_update, optimizers.adagrad_preconditioner),
}
_BY_NAME = {
    "sgd": optimizers.SGD,
    "rmsprop": optimizers.RMSprop,
    "adam": optimizers.Adam,
    "adamw": optimizers.AdamW,
    "adagrad": optimizers.Adagrad,
}
_SCHEDULED = ("lr", "momentum", "beta1", "beta2")  # what a scheduler may change during a run


@dataclass(eq=False)
class SweepResult:
    """The outcome of N walks, with per-walk summaries and the grid layout for heatmaps.

    Attributes:
        landscape, optimizer: what was walked on, and the optimizer class's name.
        hyperparameters: ``{name: (N,) float64 tensor}`` for each hyperparameter that varies across
            walks (``beta1`` / ``beta2`` for the entries of ``betas``).
        fixed: the class keyword arguments shared by every walk.
        shape: the grid's shape (``result.grid(values)`` reshapes ``(N,)`` values to it); ``(N,)``
            without a grid.
        axes: ``{name: 1-D tensor}``: the grid's axes, in order (empty without a grid).
        starts: ``(N, 2)`` start points.
        trajectories: ``(N, steps + 1, 2)`` (None with ``keep_trajectories=False``).
        losses: ``(N, steps + 1)`` (None with ``keep_trajectories=False``).
        final_point, final_loss: ``(N, 2)``, ``(N,)``: after the last step (or where a walk stopped).
        distance: ``(N,)``: distance of the final point to the nearest known minimum.
        first_within: ``(N,)`` int64: the first step t with ``trajectories[:, t]`` within ``tol`` of
            a minimum, -1 if never.
        diverged: ``(N,)`` bool: the walk hit a non-finite loss or gradient, or ended non-finite.
        diverged_at: ``(N,)`` int64: the step of the first non-finite loss or gradient, -1 if none.
        preconditioners: ``(N, steps, 2)`` when asked for (``preconditioners=True``), else None.
        lrs: ``(N, steps)`` when a scheduler ran, else None (the lr is constant).
    """

    landscape: Landscape
    optimizer: str
    optimizer_class: type
    hyperparameters: dict[str, Tensor]
    fixed: dict
    shape: tuple[int, ...]
    axes: dict[str, Tensor]
    steps: int
    tol: float
    starts: Tensor
    final_point: Tensor
    final_loss: Tensor
    distance: Tensor
    first_within: Tensor
    diverged: Tensor
    diverged_at: Tensor
    trajectories: Tensor | None = field(default=None, repr=False)
    losses: Tensor | None = field(default=None, repr=False)
    preconditioners: Tensor | None = field(default=None, repr=False)
    lrs: Tensor | None = field(default=None, repr=False)
    scheduler: tuple | None = None

    @property
    def n(self) -> int:
        return self.final_loss.shape[0]

    def grid(self, values: Tensor) -> Tensor:
        """Per-walk values ``(N, ...)`` laid out on the grid: ``(*shape, ...)`` (for heatmaps)."""
        return values.reshape(*self.shape, *values.shape[1:])

    def kwargs(self, i: int) -> dict:
        """The optimizer keyword arguments of walk ``i``, ready for the class (and trajectory.run)."""
        if not 0 <= i < self.n:
            raise IndexError(f"walk {i} of a sweep of {self.n} walks")
        out = dict(self.fixed)
        for name, values in self.hyperparameters.items():
            out[name] = float(values[i])
        if "beta1" in out or "beta2" in out:
            b1, b2 = out.get("betas", _class_defaults(self.optimizer_class)["betas"])
            out["betas"] = (float(out.pop("beta1", b1)), float(out.pop("beta2", b2)))
        return out

    def label(self, i: int) -> str:
        """A legend label for walk ``i``, e.g. ``"Adam(lr=0.01, betas=(0.8, 0.999))"``."""
        return trajectory.format_label(self.optimizer, self.kwargs(i))


# --- run -----------------------------------------------------------------------------------------


def run(
    landscape,
    optimizer,
    optimizer_kwargs: dict | None = None,
    *,
    grid: dict | None = None,
    starts=None,
    steps: int = 100,
    scheduler_class=None,
    scheduler_kwargs: dict | None = None,
    noise: float = 0.0,
    seed=0,
    tol: float = 1e-3,
    dtype: torch.dtype = torch.float64,
    keep_trajectories: bool = True,
    preconditioners: bool = False,
    progress: bool = False,
    threads: int | None = 1,
) -> SweepResult:
    """Run N walks of ``optimizer`` as one batch; see the module docstring.

    Args:
        landscape: a :class:`Landscape` or a registered name.
        optimizer: an optimizer class (optimessay's or torch.optim's SGD, RMSprop, Adam, AdamW,
            Adagrad) or its name (``"adam"``).
        optimizer_kwargs: the class's keyword arguments. A number (or a bool flag) is shared by all
            walks; a 1-D sequence or tensor gives one value per walk. ``beta1`` / ``beta2`` name the
            entries of ``betas`` (so they can vary on their own).
        grid: ``{name: 1-D values}``: walk every combination (the first name varies slowest);
            ``result.shape`` is the grid's shape and ``result.axes`` its axes.
        starts: ``(2,)`` shared, ``(N, 2)`` per walk, or ``(..., 2)`` (its leading shape becomes the
            grid shape when there is no ``grid``); default ``landscape.start``.
        scheduler_class, scheduler_kwargs: an lr scheduler, as in ``trajectory.run`` (cost: a Python
            loop over steps x distinct configurations, before the batched walk).
        noise, seed: gradient noise as in ``trajectory.run``; ``seed`` is an int (all walks see the
            same draws) or one int per walk. Walk i then equals ``trajectory.run(..., seed=seed_i)``.
        tol: the distance to a minimum that counts as arrived (``first_within``).
        dtype: float64 (default) or float32.
        keep_trajectories: False keeps only the per-walk summaries (saves N x steps x 3 numbers).
        preconditioners: also record each walk's diagonal preconditioner at each step.
        progress: show a tqdm progress bar.
        threads: run with ``torch.set_num_threads(threads)`` (restored afterwards); None keeps
            torch's setting. Default 1: the batch's tensors are small (N x 2), so a second thread
            gains little, and on a busy shared machine it made the sweep 5-15x slower (measured:
            docs/bench/sweep.md).
    """
    with _num_threads(threads):
        return _run(landscape, optimizer, optimizer_kwargs, grid, starts, steps, scheduler_class, scheduler_kwargs,
                    noise, seed, tol, dtype, keep_trajectories, preconditioners, progress)


@contextmanager
def _num_threads(threads: int | None):
    """torch.set_num_threads(threads) inside the block, restored after it (None: leave it alone)."""
    if threads is None:
        yield
        return
    if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
        raise ValueError(f"threads={threads!r}: expected an int >= 1 or None")
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _run(landscape, optimizer, optimizer_kwargs, grid, starts, steps, scheduler_class, scheduler_kwargs,
         noise, seed, tol, dtype, keep_trajectories, preconditioners, progress) -> SweepResult:
    land = landscapes.get(landscape)
    cls = _optimizer_class(optimizer)
    family = _family(cls)
    init_state, update, precondition = _CORES[family]
    steps = trajectory.check_steps(steps)
    tol = _nonnegative("tol", tol)
    noise = _nonnegative("noise", noise)
    if dtype not in (torch.float32, torch.float64):
        raise ValueError(f"dtype={dtype!r}: expected torch.float32 or torch.float64")
    optimizer_kwargs = trajectory.check_kwargs("optimizer_kwargs", optimizer_kwargs)
    scheduler_kwargs = trajectory.check_kwargs("scheduler_kwargs", scheduler_kwargs)
    grid = trajectory.check_kwargs("grid", grid)
    if scheduler_class is None and scheduler_kwargs:
        raise ValueError(f"scheduler_kwargs={scheduler_kwargs!r} given without a scheduler_class")

    # 1. which hyperparameters vary, the grid layout, and the start points
    shared, per_walk, shape, axes = _layout(cls, optimizer_kwargs, grid)
    starts_t, shape = _starts(land, starts, shape, dtype)
    n = math.prod(shape)
    per_walk = {k: v.expand(n).contiguous() if v.numel() == 1 else v for k, v in per_walk.items()}
    for k, v in per_walk.items():
        if v.shape != (n,):
            raise ValueError(f"{k} has {v.numel()} values: expected one per walk ({n}, grid shape {shape})")
    starts_t = starts_t.expand(n, 2).clone()

    # 2. the core's arguments: the class's defaults and checks, then per-walk values as (N, 1) tensors
    defaults = _validated_defaults(cls, shared, per_walk)
    core_values = _core_values(defaults)
    core_args = _pick(update, core_values)  # the update's arguments (lr, beta1, ...)
    init_args = _pick(init_state, core_values)  # the state's (amsgrad, initial_accumulator_value, ...)
    hyper = {k: v.reshape(n, 1) for k, v in per_walk.items()}
    for k in hyper:
        if k not in core_args and k not in init_args:
            raise ValueError(f"{k!r} cannot vary across walks for {cls.__name__}")
    table = _schedule(cls, shared, per_walk, defaults, scheduler_class, scheduler_kwargs, steps, n)

    # 3. noise: the same draws as trajectory.run with the walk's seed
    draws, per_walk_draws = _noise(noise, seed, steps, n, dtype)

    # 4. the batched walk
    rec = _BatchRecorder(n, steps, dtype, tol, keep_trajectories, preconditioners)
    alive = torch.arange(n)  # the walks still stepping (global indices)
    P = starts_t.clone()
    state = init_state(P, **_pick(init_state, {**init_args, **hyper}))
    step_iter = range(steps)
    if progress:
        from tqdm.auto import tqdm

        step_iter = tqdm(step_iter, desc=f"sweep {cls.__name__} x{n}", unit="step")
    for t in step_iter:
        loss, grad = land.value_and_gradient(P)
        if draws is not None:
            grad = grad + noise * (draws[:, t] if per_walk_draws else draws[t])  # ĝ = ∇f + noise·ε (rows follow alive)
        rec.point(t, alive, P, loss, land)
        ok = torch.isfinite(loss) & torch.isfinite(grad).all(-1)
        if not bool(ok.all()):  # drop the walks that diverged, with their state and hyperparameters
            rec.diverged_at[alive[~ok]] = t
            keep = ok.nonzero().squeeze(1)
            alive, P, grad = alive[keep], P[keep], grad[keep]
            state = {k: _rows(v, keep, len(ok)) for k, v in state.items()}
            hyper = {k: v[keep] for k, v in hyper.items()}
            if per_walk_draws:
                draws = draws[keep]
            if len(alive) == 0:
                break
        args = {**core_args, **_pick(update, hyper)}
        if table is not None:
            args.update(table.at(t, alive, len(alive) == n))
            rec.lr(t, alive, args["lr"])
        update(P, grad, state, **args)
        if preconditioners:
            rec.precondition(t, alive, precondition(P, state, **_pick(precondition, args)))
    else:
        loss = land.loss(P)
        rec.point(steps, alive, P, loss, land)
    rec.finish()

    diverged = (rec.diverged_at >= 0) | ~torch.isfinite(rec.final_loss)
    return SweepResult(
        landscape=land,
        optimizer=cls.__name__,
        optimizer_class=cls,
        hyperparameters=per_walk,
        fixed={k: v for k, v in shared.items() if k not in per_walk},
        shape=shape,
        axes=axes,
        steps=steps,
        tol=tol,
        starts=starts_t,
        final_point=rec.final_point,
        final_loss=rec.final_loss,
        distance=land.distance_to_minimum(rec.final_point),
        first_within=rec.first_within,
        diverged=diverged,
        diverged_at=rec.diverged_at,
        trajectories=rec.points,
        losses=rec.losses,
        preconditioners=rec.preconditioners,
        lrs=rec.lrs,
        scheduler=None if scheduler_class is None else (scheduler_class, dict(scheduler_kwargs or {})),
    )


class _BatchRecorder:
    """Per-walk outputs of a sweep; rows are written for the walks still stepping."""

    def __init__(self, n, steps, dtype, tol, keep, preconditioners):
        nan = math.nan
        self.steps, self._tol = steps, tol
        # time-major storage (one contiguous row per step), returned transposed: (N, steps + 1, ...)
        self._points = torch.full((steps + 1, n, 2), nan, dtype=dtype) if keep else None
        self._losses = torch.full((steps + 1, n), nan, dtype=dtype) if keep else None
        self.preconditioners = torch.full((n, steps, 2), nan, dtype=dtype) if preconditioners else None
        self.lrs = None
        self.final_point = torch.full((n, 2), nan, dtype=dtype)
        self.final_loss = torch.full((n,), nan, dtype=dtype)
        self.first_within = torch.full((n,), -1, dtype=torch.int64)
        self.diverged_at = torch.full((n,), -1, dtype=torch.int64)

    def point(self, t, alive, P, loss, land):
        everyone = len(alive) == self.final_loss.shape[0]
        idx = slice(None) if everyone else alive
        if self._points is not None:
            self._points[t, idx] = P
            self._losses[t, idx] = loss
        self.final_point[idx] = P  # the last point written is where the walk ended
        self.final_loss[idx] = loss
        arrived = (land.distance_to_minimum(P) <= self._tol) & (self.first_within[idx] < 0)
        if bool(arrived.any()):
            self.first_within[alive[arrived]] = t

    def lr(self, t, alive, lr):
        if self.lrs is None:
            self.lrs = torch.full((self.final_loss.shape[0], self.steps), math.nan, dtype=torch.float64)
        self.lrs[alive, t] = lr.reshape(-1) if isinstance(lr, Tensor) else lr

    def precondition(self, t, alive, P):
        self.preconditioners[alive, t] = P

    def finish(self):
        """A walk that stopped at step d stays there: its points and losses after d repeat d's."""
        self.points = None if self._points is None else self._points.transpose(0, 1)
        self.losses = None if self._losses is None else self._losses.transpose(0, 1)
        if self.points is None:
            return
        stopped = self.diverged_at >= 0
        if bool(stopped.any()):
            rows = stopped.nonzero().squeeze(1)
            d = self.diverged_at[rows]
            t = torch.minimum(torch.arange(self.steps + 1).expand(len(rows), -1), d[:, None])
            self.points[rows] = self.points[rows[:, None], t]
            self.losses[rows] = self.losses[rows[:, None], t]


def _rows(value, keep: Tensor, n: int):
    """A state entry restricted to the kept walks (shared 0-dim entries such as ``step`` stay)."""
    if isinstance(value, Tensor) and value.dim() > 0 and value.shape[0] == n:
        return value[keep]
    return value


# --- hyperparameters: names, defaults, validation ------------------------------------------------


def _optimizer_class(optimizer) -> type:
    if isinstance(optimizer, str):
        if optimizer.lower() not in _BY_NAME:
            raise ValueError(f"unknown optimizer {optimizer!r}: expected one of {', '.join(_BY_NAME)}")
        return _BY_NAME[optimizer.lower()]
    if not isinstance(optimizer, type):
        raise ValueError(f"optimizer={optimizer!r}: expected an optimizer class or name, not an instance")
    return optimizer


def _family(cls: type) -> str:
    for base in cls.__mro__:
        if base.__name__ in _CORES and issubclass(base, torch.optim.Optimizer):
            return base.__name__
    raise ValueError(
        f"optimizer {cls.__name__}: the sweep runs the functional cores of {', '.join(_CORES)} "
        "(and AdamW); expected one of those classes (optimessay's or torch.optim's)"
    )


def _class_kwargs(cls: type) -> list[str]:
    sig = inspect.signature(cls.__init__)
    return [p for p in sig.parameters if p not in ("self", "params")]


def _class_defaults(cls: type) -> dict:
    return cls([torch.zeros(1, requires_grad=True)]).defaults


def _layout(cls, kwargs: dict, grid: dict | None):
    """Split hyperparameters into shared values and per-walk (N,) tensors; build the grid."""
    allowed = _class_kwargs(cls) + (["beta1", "beta2"] if "betas" in _class_kwargs(cls) else [])
    grid = dict(grid or {})
    for name in list(kwargs) + list(grid):
        if name not in allowed:
            raise ValueError(f"unknown hyperparameter {name!r} for {cls.__name__}: expected one of {', '.join(allowed)}")
    both = set(kwargs) & set(grid)
    if both:
        raise ValueError(f"{sorted(both)} given both in optimizer_kwargs and in grid: give each once")
    if {"beta1", "beta2"} & (set(kwargs) | set(grid)) and "betas" in kwargs:
        raise ValueError("give betas either as betas=(b1, b2) or as beta1 / beta2, not both")
    flags = {k for k, v in _class_defaults(cls).items() if isinstance(v, bool)}
    for name in flags & (set(grid) | {k for k, v in kwargs.items() if not isinstance(v, bool)}):
        raise ValueError(f"{name} is a flag of {cls.__name__}: give one bool for all walks, not {kwargs.get(name, grid.get(name))!r}")
    betas = kwargs.get("betas")
    if betas is not None and not (isinstance(betas, tuple) and len(betas) == 2):
        raise ValueError(f"betas={betas!r}: expected a tuple (beta1, beta2) shared by all walks "
                         "(to vary them, give beta1 / beta2 values)")
    shared, per_walk = {}, {}
    for name, value in kwargs.items():
        if isinstance(value, (bool, int, float, tuple)) or value is None or callable(value):
            shared[name] = value
        else:
            per_walk[name] = _values(name, value).reshape(-1)
    axes, shape = {}, None
    if grid:
        axes = {name: _values(name, values) for name, values in grid.items()}
        for name, values in axes.items():
            if values.dim() != 1 or len(values) == 0:
                raise ValueError(f"grid[{name!r}] has shape {tuple(values.shape)}: expected non-empty 1-D values")
        shape = tuple(len(v) for v in axes.values())
        mesh = torch.meshgrid(*axes.values(), indexing="ij")  # the first axis varies slowest
        per_walk.update({name: m.reshape(-1) for name, m in zip(axes, mesh, strict=True)})
    elif per_walk:
        sizes = {name: v.numel() for name, v in per_walk.items() if v.numel() != 1}
        if len(set(sizes.values())) > 1:
            raise ValueError(f"per-walk hyperparameters of different lengths {sizes}: expected one value per walk")
        shape = (next(iter(sizes.values())),) if sizes else None
    return shared, per_walk, shape, axes


def _values(name, value) -> Tensor:
    try:
        t = torch.as_tensor(value, dtype=torch.float64)
    except (TypeError, ValueError, RuntimeError) as err:
        raise ValueError(f"{name}={value!r}: expected a number or a sequence of numbers") from err
    if not torch.isfinite(t).all():
        raise ValueError(f"{name} has a non-finite value: expected finite numbers")
    return t.detach().clone()


def _starts(land: Landscape, starts, shape, dtype):
    if starts is None:
        starts = land.start
    try:
        s = torch.as_tensor(starts, dtype=dtype).detach().clone()
    except (TypeError, ValueError, RuntimeError) as err:
        raise ValueError(f"starts={starts!r}: expected (x, y) or an (N, 2) array of points") from err
    if s.dim() == 0 or s.shape[-1] != 2:
        raise ValueError(f"starts of shape {tuple(s.shape)}: expected (2,), (N, 2) or (..., 2)")
    if not torch.isfinite(s).all():
        raise ValueError("starts has a non-finite coordinate: expected finite numbers")
    lead = tuple(s.shape[:-1])
    s = s.reshape(-1, 2)
    if shape is None:
        shape = lead if lead else (1,)
    elif lead and math.prod(lead) != math.prod(shape):
        raise ValueError(f"starts has {math.prod(lead)} points but the grid {shape} has {math.prod(shape)} walks")
    return s, shape


def _validated_defaults(cls, shared: dict, per_walk: dict) -> dict:
    """The class's full defaults with the shared values; the class checks the smallest and the
    largest per-walk value of each hyperparameter (its checks are ranges), so a sweep accepts
    exactly what the class accepts."""
    def build(pick):
        kw = dict(shared)
        for name, v in per_walk.items():
            kw[name] = float(pick(v))
        if "beta1" in kw or "beta2" in kw:
            b1, b2 = kw.get("betas", _class_defaults(cls)["betas"])
            kw["betas"] = (float(kw.pop("beta1", b1)), float(kw.pop("beta2", b2)))
        return cls([torch.zeros(1, requires_grad=True)], **kw).defaults

    defaults = build(torch.min)
    if per_walk:
        build(torch.max)
    return dict(defaults)


def _core_values(defaults: dict) -> dict:
    """The class defaults under the functional core's names (betas -> beta1, beta2)."""
    values = dict(defaults)
    if "betas" in values:
        values["beta1"], values["beta2"] = values["betas"]
    return values


def _pick(fn, values: dict) -> dict:
    """The entries of ``values`` that ``fn`` takes as keyword-only arguments."""
    names = [p.name for p in inspect.signature(fn).parameters.values() if p.kind is p.KEYWORD_ONLY]
    return {k: values[k] for k in names if k in values}


# --- schedulers ----------------------------------------------------------------------------------


class _Table:
    """Per-step values of the scheduled hyperparameters, one column per distinct configuration."""

    def __init__(self, values: dict[str, Tensor], inverse: Tensor):
        self.values = values  # {name: (steps, U)}
        self.inverse = inverse  # (N,): walk -> configuration

    def at(self, t: int, alive: Tensor, everyone: bool) -> dict:
        out = {}
        for name, v in self.values.items():
            row = v[t]
            if len(row) == 1:
                out[name] = float(row[0])  # one configuration: a Python float, as the class sees it
            else:
                idx = self.inverse if everyone else self.inverse[alive]
                out[name] = row[idx].reshape(-1, 1)
        return out


def _schedule(cls, shared, per_walk, defaults, scheduler_class, scheduler_kwargs, steps, n):
    """Run the scheduler class on a stand-in optimizer (one group per distinct configuration)."""
    if scheduler_class is None:
        return None
    trajectory._check_class("scheduler_class", scheduler_class)
    keys = [k for k in _SCHEDULED if k in defaults or (k.startswith("beta") and "betas" in defaults)]
    base = {
        "lr": defaults["lr"],
        "momentum": defaults.get("momentum"),
        "beta1": defaults["betas"][0] if "betas" in defaults else None,
        "beta2": defaults["betas"][1] if "betas" in defaults else None,
    }
    cols = torch.stack(
        [per_walk[k] if k in per_walk else torch.full((n,), float(base[k]), dtype=torch.float64) for k in keys], 1
    )
    configs, inverse = torch.unique(cols, dim=0, return_inverse=True)
    groups = []
    for row in configs.tolist():
        g = dict(zip(keys, row, strict=True))
        group = {"params": [torch.zeros(1, requires_grad=True)], "lr": g["lr"]}
        if "momentum" in g:
            group["momentum"] = g["momentum"]
        if "beta1" in g:
            group["betas"] = (g["beta1"], g["beta2"])
        groups.append(group)
    kw = {k: v for k, v in shared.items() if k not in ("lr", "momentum", "betas", "beta1", "beta2")}
    stand_in = cls(groups, **kw)  # the groups carry lr, momentum and betas
    scheduler = scheduler_class(stand_in, **(scheduler_kwargs or {}))
    values = {k: torch.empty(steps, len(groups), dtype=torch.float64) for k in keys}
    with warnings.catch_warnings():
        # the stand-in optimizer never steps: torch's "scheduler.step() before optimizer.step()" is moot
        warnings.filterwarnings("ignore", message=r"Detected call of `lr_scheduler\.step\(\)`")
        warnings.filterwarnings("ignore", message=r"Seems like `optimizer\.step\(\)` has been overridden")
        for t in range(steps):
            for j, group in enumerate(stand_in.param_groups):
                values["lr"][t, j] = float(group["lr"])
                if "momentum" in values:
                    values["momentum"][t, j] = float(group["momentum"])
                if "beta1" in values:
                    values["beta1"][t, j], values["beta2"][t, j] = (float(b) for b in group["betas"])
            scheduler.step()
    constant = [k for k in keys if k != "lr" and bool((values[k] == values[k][:1]).all()) and k not in per_walk]
    for k in constant:  # never changed by the scheduler: leave it to the ordinary arguments
        del values[k]
    return _Table(values, inverse)


# --- noise ---------------------------------------------------------------------------------------


def _noise(noise: float, seed, steps: int, n: int, dtype):
    """The noise draws: (steps, 2) shared by all walks, or (N, steps, 2) for per-walk seeds."""
    if noise == 0:
        return None, False
    if isinstance(seed, int) and not isinstance(seed, bool):
        return trajectory.noise_sequence(steps, seed, dtype), False
    try:
        seeds = torch.as_tensor(seed).reshape(-1)
    except (TypeError, ValueError, RuntimeError) as err:
        raise ValueError(f"seed: expected an int or {n} ints (one per walk), got {seed!r}") from err
    if seeds.dtype.is_floating_point or seeds.dtype == torch.bool or len(seeds) != n:
        raise ValueError(f"seed: expected an int or {n} ints (one per walk), got {seed!r}")
    unique, inverse = torch.unique(seeds, return_inverse=True)
    draws = torch.stack([trajectory.noise_sequence(steps, int(s), dtype) for s in unique])
    return draws[inverse], True


def _nonnegative(what: str, value) -> float:
    value = landscapes._number(what, value)
    if value < 0:
        raise ValueError(f"{what}={value!r}: expected a number >= 0")
    return value


# --- tune ----------------------------------------------------------------------------------------


@dataclass(eq=False)
class Tuned:
    """The best configuration found by :func:`tune`.

    Attributes:
        kwargs: the optimizer keyword arguments of the best walk (pass them to the class).
        score: its objective value (lower is better).
        objective: the objective's name and window, e.g. ``"tail(last=20)"``.
        on_edge: whether the best lr is the smallest or largest tried (widen the range).
        sweep: the :class:`SweepResult` the choice was made from.
        scores: ``(N,)`` every walk's objective (inf for a diverged walk).
    """

    kwargs: dict
    score: float
    objective: str
    on_edge: bool
    sweep: SweepResult
    scores: Tensor

    @property
    def label(self) -> str:
        return trajectory.format_label(self.sweep.optimizer, self.kwargs)


def objective_scores(result: SweepResult, objective: str = "tail", last: int | None = None) -> Tensor:
    """Per-walk scores, lower is better; a diverged walk scores +inf.

    - ``"tail"`` (default): the mean of ``log10(f - f*)`` over the last ``last`` points (default: the
      last 10% of the walk, at least 1). It rewards arriving close *and staying* close; an optimizer
      that jitters around the minimum pays for it.
    - ``"final"``: ``log10(f - f*)`` at the final point.

    ``f*`` is the landscape's minimum value (0 for a landscape without known minima); gaps below the
    dtype's smallest normal number count as that number (so reaching the minimum exactly does not
    give -inf).
    """
    if objective not in ("tail", "final"):
        raise ValueError(f"objective={objective!r}: expected 'tail' or 'final'")
    steps = result.steps
    if objective == "final" or steps == 0:
        window = result.final_loss[:, None]
    else:
        if result.losses is None:
            raise ValueError("objective 'tail' needs the losses: run the sweep with keep_trajectories=True")
        last = max(1, steps // 10) if last is None else last
        if isinstance(last, bool) or not isinstance(last, int) or not 1 <= last <= steps + 1:
            raise ValueError(f"last={last!r}: expected an int in [1, {steps + 1}]")
        window = result.losses[:, -last:]
    fmin = result.landscape.min_value or 0.0
    tiny = torch.finfo(window.dtype).tiny
    gap = (window.to(torch.float64) - fmin).clamp_min(tiny)
    scores = gap.log10().mean(1)
    scores[result.diverged | ~torch.isfinite(scores)] = math.inf
    return scores


def tune(
    landscape,
    optimizer,
    optimizer_kwargs: dict | None = None,
    *,
    lr=None,
    grid: dict | None = None,
    steps: int = 200,
    objective: str = "tail",
    last: int | None = None,
    start=None,
    **sweep_kwargs,
) -> Tuned:
    """The best lr (and any other ``grid`` axes, e.g. momentum or beta1) for ``optimizer`` on
    ``landscape``, by one sweep over every combination, scored by :func:`objective_scores`.

    Args:
        lr: the learning rates to try; default ``torch.logspace(-5, 1, 61)`` (10 per decade).
        grid: more axes, e.g. ``{"momentum": [0.0, 0.5, 0.9, 0.98]}``.
        optimizer_kwargs: fixed keyword arguments (``{"nesterov": True, "momentum": 0.9}``).
        objective, last: see :func:`objective_scores` (default: mean log10 loss gap over the last
            10% of the steps).
        sweep_kwargs: passed to :func:`run` (e.g. ``scheduler_class``, ``noise``, ``dtype``).

    So that the site compares optimizers each at its best, not at an arbitrary lr::

        best = tune("rosenbrock", Adam, steps=300)
        trajectory.run("rosenbrock", Adam, best.kwargs, steps=300)
    """
    lrs = torch.logspace(-5, 1, 61, dtype=torch.float64) if lr is None else _values("lr", lr).reshape(-1)
    grid = trajectory.check_kwargs("grid", grid)
    for where, given in (("grid", grid), ("optimizer_kwargs", trajectory.check_kwargs("optimizer_kwargs", optimizer_kwargs))):
        if "lr" in given:
            raise ValueError(f"give the learning rates to try as tune(..., lr=...), not in {where}")
    axes = {"lr": lrs, **grid}
    result = run(landscape, optimizer, optimizer_kwargs, grid=axes, starts=start, steps=steps, **sweep_kwargs)
    scores = objective_scores(result, objective, last)
    best = int(torch.argmin(scores))  # ties: the first, i.e. the smallest lr
    if not math.isfinite(float(scores[best])):
        raise ValueError(f"every walk of {result.optimizer} diverged on {result.landscape.name}: try smaller lrs")
    best_lr = result.hyperparameters["lr"][best]
    window = "" if objective == "final" else f"(last={last or max(1, steps // 10)})"
    return Tuned(
        kwargs=result.kwargs(best),
        score=float(scores[best]),
        objective=objective + window,
        on_edge=bool(best_lr == lrs.min() or best_lr == lrs.max()),
        sweep=result,
        scores=scores,
    )

