"""N independent walks as ONE batched computation, and :func:`tune`: each optimizer at its best lr.

    from optimessay import Adam, sweep
    result = sweep.run("rosenbrock", Adam, grid={"lr": torch.logspace(-4, 0, 200),
                                                  "beta1": torch.linspace(0, 0.99, 200)}, steps=500)
    result.trajectories        # (N, steps + 1, 2), N = 200 * 200 walks
    result.grid(result.final_loss)   # (200, 200): a heatmap over lr x beta1
    result.diverged            # (N,) bool

How: the walks' points form one parameter of shape ``(2, N)`` (see Layout); a hyperparameter that differs
between walks is a tensor of shape ``(1, N)``. Every step calls the optimizer's *functional core*
(``adam_update`` in ``optimessay/optimizers/adam.py``, ...), the very function the optimizer class
calls: there is no second copy of any update formula here. So each walk equals running its
configuration alone with :func:`optimessay.trajectory.run`, bit for bit (tests: 500 steps, float32
and float64), with one measured exception: a hyperparameter that varies across walks *and* is raised
to a power inside the core (β₁ᵗ, β₂ᵗ of Adam, NAdam, RAdam; NAdam's 0.96^(tψ)) is powered by torch on
a tensor, which differs from Python's ``**`` in the last bit for ~1.7% of (β, t) pairs in float64;
such walks stay within ~1e-14 of the lone run (float32 walks: bitwise).

Which optimizers: every elementwise one, i.e. SGD, RMSprop, Adam, AdamW, Adagrad, NAdam, RAdam,
Adamax, Adadelta, Rprop, ASGD and Adafactor (optimessay's classes, torch.optim's, or subclasses).
Adafactor is the one exception to "one call per step": its step reads the norms ‖θ‖ and ‖P g‖ of
*its own parameter* as Python numbers (torch's eager arithmetic), so a batch of walks would share
them; the sweep calls its core once per walk on that walk's point, a vector of 2 (as
``trajectory.run`` gives it a vector ``(x, y)``: Adafactor keeps a full, unfactored second moment for
a vector, so on a 2-D landscape nothing is factored). The numbers are the same; the cost is a Python
loop over walks (measured: ~0.7 ms per walk and step on a busy 2-core machine, 1,000 walks x 200
steps in 135 s, where Adam's batch took 0.8 s: fine for a tune over a few hundred walks). LBFGS, Muon, Shampoo and SOAP are refused, with the reason (see ``_NOT_SWEPT``);
SparseAdam too (it steps on sparse gradients; a landscape's are dense).

Divergence: a walk whose loss or gradient stops being finite is dropped from the batch at that step
(its state rows with it), so it can never poison the others; like ``trajectory.run`` its later points
repeat its last point, and ``diverged_at`` records the step.

Schedulers: the learning rate (and the momentum / betas that OneCycleLR and CyclicLR cycle) of every
step is computed first by the scheduler class itself, on a stand-in optimizer with one parameter
group per distinct configuration; the batched walk then reads its per-step values from that table.
ReduceLROnPlateau is refused: its lr follows each walk's own losses, so it cannot be known before
the walk (run such a walk with ``trajectory.run``, which passes it the loss).

Layout: the batch is stored coordinate-major, the points as one ``(2, N)`` parameter (walk i is
column i; each coordinate's N values contiguous) and a per-walk hyperparameter as ``(1, N)``: an
elementwise core gives every element the same numbers in any layout, and this one keeps every op
contiguous (a per-walk value broadcast over a short last axis of 2 cost ~5x more per op).
``SweepResult.trajectories`` is a view of that record, ``(N, steps + 1, 2)`` as before.

Speed: a step is the landscape's loss and gradient (``Landscape.batch_value_and_gradient``:
Rosenbrock's closed form, op for op as autograd computes it, bitwise equal, into buffers allocated
once, the loss written straight into the record; other landscapes: autograd) and the core's update,
plus one copy (the points into the time-major record) and one running sum of the gradients: the
finiteness test is made once per window of 32 steps, on those sums and the window's recorded
losses, since a sum is finite only if every term is; a walk that fails it is stepped again from the
window's start with the exact test at every step (see ``_Walks``), so the numbers and divergence
steps are those of a test every step. The loop runs
under ``torch.inference_mode`` when the gradient is closed form. Everything else is done once, after
the walk (the final points and their distances to the minimum, the record of walks that stopped
early) or when first asked for (``first_within``, from the recorded points); ``docs/bench/sweep.md``
measures the gain.
"""

from __future__ import annotations

import inspect
import math
import warnings
from collections.abc import Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field

import torch
from torch import Tensor

from optimessay import landscapes, optimizers, trajectory
from optimessay.landscapes import Landscape

__all__ = ["SweepResult", "Tuned", "run", "tune"]

# The functional cores: one update rule per optimizer family, shared with the optimizer classes.
_FAMILIES = ("SGD", "RMSprop", "Adam", "Adagrad", "NAdam", "RAdam", "Adamax", "Adadelta", "Rprop", "ASGD", "Adafactor")


class _Cores(Mapping):
    """family -> (``<family>_init_state``, ``<family>_update``, ``<family>_preconditioner``) of
    ``optimessay/optimizers/<family>.py``, imported on first use (like ``optimessay.optimizers``)."""

    def __getitem__(self, family: str) -> tuple:
        if family not in _FAMILIES:
            raise KeyError(family)
        return tuple(getattr(optimizers, f"{family.lower()}_{part}") for part in ("init_state", "update", "preconditioner"))

    def __iter__(self):
        return iter(_FAMILIES)

    def __len__(self) -> int:
        return len(_FAMILIES)


_CORES = _Cores()
_ONE_WALK_AT_A_TIME = {"Adafactor"}  # cores that read per-parameter norms as Python numbers (see above)
_NOT_SWEPT = {  # optimizers the sweep cannot batch, and why
    "LBFGS": "it is not elementwise: each step is a line search that calls a closure (re-evaluates the loss) "
             "several times and keeps a history of past steps; walk it with trajectory.run, which passes the closure",
    "Muon": "its preconditioner is a matrix (Newton-Schulz orthogonalization of each 2-D parameter's update), "
            "not elementwise; walk it with trajectory.run, which gives it the point as a (1, 2) matrix",
    "Shampoo": "its preconditioner is a matrix (Kronecker factors L^(-1/4) G R^(-1/4) of a 2-D parameter), "
               "not elementwise; walk it with trajectory.run, which gives it the point as a (1, 2) matrix",
    "SOAP": "its preconditioner is a matrix (Adam in the eigenbasis of Shampoo's factors of a 2-D parameter), "
            "not elementwise; walk it with trajectory.run, which gives it the point as a (1, 2) matrix",
    "SparseAdam": "it steps on sparse gradients only (the rows an embedding lookup touched), and a landscape's "
                  "gradient is dense; walk it with trajectory.run (which gives it the gradient in sparse "
                  "layout), or sweep Adam, its dense twin",
}
_BY_NAME = {name.lower(): name for name in (*_FAMILIES, "AdamW")}  # sweep.run(..., "adam") -> optimizers.Adam
# Class arguments that are pairs (betas, Rprop's etas and step_sizes, Adafactor's eps), and the
# names of their entries, which the functional cores take (each entry can vary on its own)
_PAIRS = trajectory.PAIRS
_SCHEDULED = ("lr", "momentum", "beta1", "beta2")  # what a scheduler may change during a run


@dataclass(eq=False)
class SweepResult:
    """The outcome of N walks, with per-walk summaries and the grid layout for heatmaps.

    Attributes:
        landscape, optimizer: what was walked on, and the optimizer class's name.
        hyperparameters: ``{name: (N,) float64 tensor}`` for each hyperparameter that varies across
            walks (``beta1`` / ``beta2`` for the entries of ``betas``, ``etaminus`` / ``etaplus`` for
            Rprop's ``etas``, ...).
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
            a minimum, -1 if never (computed from ``trajectories`` when first read, not during the
            walk; step by step when the sweep kept no trajectories).
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
    diverged: Tensor
    diverged_at: Tensor
    trajectories: Tensor | None = field(default=None, repr=False)
    losses: Tensor | None = field(default=None, repr=False)
    preconditioners: Tensor | None = field(default=None, repr=False)
    lrs: Tensor | None = field(default=None, repr=False)
    scheduler: tuple | None = None
    _first_within: Tensor | None = field(default=None, repr=False)  # None: not computed yet

    @property
    def n(self) -> int:
        return self.final_loss.shape[0]

    @property
    def first_within(self) -> Tensor:
        """``(N,)`` int64: the first step t with ``trajectories[:, t]`` within ``tol`` of a minimum,
        -1 if never. Computed from the trajectories on first use: a sweep that never asks for it
        (``tune``, a heatmap of final losses) does not pay for the distances of every point."""
        if self._first_within is None:
            self._first_within = _first_within(self.landscape, self.trajectories.transpose(0, 1), self.tol)
        return self._first_within

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
        return _pack_pairs(self.optimizer_class, out)

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
        optimizer: an elementwise optimizer class (optimessay's or torch.optim's SGD, RMSprop, Adam,
            AdamW, Adagrad, NAdam, RAdam, Adamax, Adadelta, Rprop, ASGD, Adafactor) or its name
            (``"adam"``).
        optimizer_kwargs: the class's keyword arguments. A number (or a bool flag) is shared by all
            walks; a 1-D sequence or tensor gives one value per walk. The entries of a pair argument
            have names of their own, so they can vary on their own: ``beta1`` / ``beta2`` for
            ``betas``, ``etaminus`` / ``etaplus`` and ``step_size_min`` / ``step_size_max`` for Rprop's
            ``etas`` and ``step_sizes``, ``eps1`` / ``eps2`` for Adafactor's ``eps``.
        grid: ``{name: 1-D values}``: walk every combination (the first name varies slowest);
            ``result.shape`` is the grid's shape and ``result.axes`` its axes.
        starts: ``(2,)`` shared, ``(N, 2)`` per walk, or ``(..., 2)`` (its leading shape becomes the
            grid shape when there is no ``grid``); default ``landscape.start``.
        scheduler_class, scheduler_kwargs: an lr scheduler, as in ``trajectory.run`` (cost: a Python
            loop over steps x distinct configurations, before the batched walk). Not
            ReduceLROnPlateau (it follows each walk's losses).
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

    # 2. the core's arguments: the class's defaults and checks, then per-walk values as (1, N) tensors
    defaults = _validated_defaults(cls, shared, per_walk)
    core = (_WalkByWalk if family in _ONE_WALK_AT_A_TIME else _Batch)(*_CORES[family], _core_values(defaults))
    hyper = {k: v.reshape(1, n) for k, v in per_walk.items()}  # one column per walk (the batch is (2, N))
    for k in hyper:
        if k not in core.takes:
            raise ValueError(f"{k!r} cannot vary across walks for {cls.__name__}")
    table = _schedule(cls, shared, per_walk, defaults, scheduler_class, scheduler_kwargs, steps, n)

    # 3. noise: the same draws as trajectory.run with the walk's seed
    draws, per_walk_draws = _noise(noise, seed, steps, n, dtype)

    # 4. the batched walk, a window of steps at a time (see _Walks.window)
    rec = _BatchRecorder(n, steps, dtype, keep_trajectories, preconditioners, land, tol, table is not None)
    P = starts_t.t().contiguous()  # (2, N): row 0 the walks' x, row 1 their y (each contiguous)
    walks = _Walks(core, land, dtype, rec, table, noise, preconditioners, n, alive=torch.arange(n), P=P,
                   state=core.init_state(P, hyper), hyper=hyper, draws=draws, per_walk_draws=per_walk_draws)
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=steps, desc=f"sweep {cls.__name__} x{n}", unit="step")
    size = 1 if isinstance(core, _WalkByWalk) else _WINDOW  # walk by walk: the exact test every step
    # no autograd bookkeeping per op (~0.4 µs of each call; the recorder's tensors are made outside),
    # unless the landscape's gradient is autograd's
    with torch.inference_mode(getattr(land.fn, "derivatives", None) is not None):
        for t in range(0, steps, size):
            walks.window(t, min(steps, t + size))
            if bar is not None:
                bar.update(min(steps, t + size) - t)
            if len(walks.alive) == 0:
                break
    if bar is not None:
        bar.close()
    if len(walks.alive):  # where the walks still stepping ended
        P, alive = walks.P, walks.alive
        loss = land.loss(P.t())
        rec.point(steps, alive, P, loss)
        rec.stop(steps, alive, P, loss)
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
        _first_within=None if keep_trajectories else rec.first_within,  # with trajectories: on first use
        diverged=diverged,
        diverged_at=rec.diverged_at,
        trajectories=rec.points,
        losses=rec.losses,
        preconditioners=rec.preconditioners,
        lrs=rec.lrs,
        scheduler=None if scheduler_class is None else (scheduler_class, dict(scheduler_kwargs or {})),
    )


_WINDOW = 32  # steps between two finiteness tests (see _Walks.window)


class _Walks:
    """The walks still stepping (``alive``: their indices in the sweep; ``P``: their points, one column
    each; their optimizer state, hyperparameters and noise draws) and how they step.

    A walk leaves the batch at the first step whose loss or gradient is not finite (as in
    ``trajectory.run``). Testing that every step cost 4 operator calls and two syncs; instead
    :meth:`window` runs a window of steps and tests once at its end: a per-walk running sum of the
    gradients (one op a step) and the window's recorded losses (or, when the losses are not all in the
    record, a running sum of them too: a second op a step). A sum is finite only if every term
    is (inf + x is inf or nan, nan + x is nan), so a walk whose sums are finite had finite losses and
    gradients at every step of the window and stepped exactly as with a test per step. The others
    (a non-finite value, or finite values whose sum overflowed) are stepped again from the window's
    start, alone, with the exact test at every step, and their records rewritten: the same numbers
    and the same divergence step as a test every step, at the cost of a copy of the points and the
    state per window."""

    def __init__(self, core, land, dtype, rec, table, noise, preconditioners, n, *, alive, P, state, hyper, draws,
                 per_walk_draws):
        self.core, self.land, self.dtype, self.rec, self.table = core, land, dtype, rec, table
        self.noise, self.preconditioners, self.n = noise, preconditioners, n
        self.alive, self.P, self.state, self.hyper = alive, P, state, hyper
        self.draws, self.per_walk_draws = draws, per_walk_draws
        self.args = core.update_args(hyper)  # the update's keyword arguments: rebuilt when walks stop, updated by a scheduler
        self.local = None  # for a replay: the walks' columns in the batch being replayed
        self.evaluate = land.batch_value_and_gradient(len(alive), dtype)  # closed form into reused buffers, or autograd

    def keep(self, keep: Tensor, m: int) -> None:
        """Only the walks in columns ``keep`` (of ``m``) step on."""
        self.alive, self.P = self.alive[keep], self.P[:, keep]
        self.state = self.core.keep_rows(self.state, keep, m)
        self.hyper = {k: v[:, keep] for k, v in self.hyper.items()}
        self.args = self.core.update_args(self.hyper)
        if self.per_walk_draws:
            self.draws = self.draws[..., keep]
        if self.local is not None:
            self.local = self.local[keep]

    def step(self, t: int, sums: tuple | None) -> None:
        """Step t of every walk. ``sums`` None: the exact test (walk by walk when a sum is not
        finite), and the walks that diverged leave the batch; else ``(gradients, losses or None)``,
        running sums to add this step's values to."""
        rec = self.rec
        loss, grad = self.evaluate(self.P, rec.loss_row(t, self.alive))  # f straight into the record when it can
        if self.draws is not None:
            grad = grad + self.noise * self.draws[t]  # ĝ = ∇f + noise·ε: (2, N) per walk or (2, 1) shared
        rec.point(t, self.alive, self.P, loss)
        if sums is not None:
            sums[0].add_(grad)
            if sums[1] is not None:  # the losses are not in the record (it reads them there)
                sums[1].add_(loss)
        elif not math.isfinite(float(loss.sum()) + float(grad.sum())):  # maybe not finite: walk by walk
            ok = torch.isfinite(loss) & torch.isfinite(grad).all(0)
            if not bool(ok.all()):  # drop the walks that diverged, with their state and hyperparameters
                rec.stop(t, self.alive[~ok], self.P[:, ~ok], loss[~ok])
                keep = ok.nonzero().squeeze(1)
                grad = grad[:, keep]
                self.keep(keep, len(ok))
                if len(self.alive) == 0:
                    return
        if self.table is not None:  # this step's lr (and momentum / betas) from the scheduler's table
            scheduled = self.table.at(t, self.alive, len(self.alive) == self.n)
            rec.lr(t, self.alive, scheduled["lr"])
            # what the update takes (Rprop's lr only starts it); the per-walk values the scheduler does
            # not touch (e.g. weight_decay) stay each walk's own
            self.args.update(self.core.update_args({**self.hyper, **scheduled}))
        self.core.update(self.P, grad, self.state, self.args)
        if self.preconditioners:
            rec.precondition(t, self.alive, self.core.preconditioner(self.P, self.state, self.args))

    def window(self, t0: int, t1: int) -> None:
        """Steps t0 .. t1 - 1, the finiteness test after the last (see the class docstring)."""
        if t1 - t0 == 1:
            self.step(t0, None)
            return
        m = len(self.alive)
        start = (self.P.clone(), _copy_state(self.state))  # where a replay starts
        rec = self.rec
        losses = rec.window_losses(t0, t1, self.alive)  # (t1 - t0, m), or None: not in the record
        sums = (torch.zeros_like(self.P), None if losses is not None else self.P.new_zeros(m))
        marks = rec.marks()
        if losses is not None and self.draws is None and self.table is None and not self.preconditioners:
            # what step() does in this case (every walk steps and is recorded, nothing else per step),
            # with the Python lookups done once per window
            evaluate, update, P, state, args = self.evaluate, self.core.update, self.P, self.state, self.args
            loss_rows, point_rows, g_sum = rec.loss_rows, rec.point_rows, sums[0]
            for t in range(t0, t1):
                _, grad = evaluate(P, loss_rows[t])  # f straight into the record
                point_rows[t].copy_(P)
                g_sum.add_(grad)
                update(P, grad, state, args)
        else:
            for t in range(t0, t1):
                self.step(t, sums)
        g, f = sums
        if math.isfinite(float(g.sum()) + float((f if losses is None else losses).sum())):
            return
        bad = ~(torch.isfinite(g).all(0) & (torch.isfinite(f) if losses is None else torch.isfinite(losses).all(0)))
        if not bool(bad.any()):  # finite sums of finite terms overflowed the total: nothing to replay
            return
        cols = bad.nonzero().squeeze(1)
        rec.forget(t0, t1, self.alive[cols], marks)
        replay = _Walks(self.core, self.land, self.dtype, rec, self.table, self.noise, self.preconditioners, self.n,
                        alive=self.alive[cols], P=start[0][:, cols], state=self.core.keep_rows(start[1], cols, m),
                        hyper={k: v[:, cols] for k, v in self.hyper.items()},
                        draws=self.draws[..., cols] if self.per_walk_draws else self.draws,
                        per_walk_draws=self.per_walk_draws)
        replay.local = cols
        for t in range(t0, t1):
            replay.step(t, None)
            if len(replay.alive) == 0:
                break
        # the walks that did not diverge go on in the batch, with their replayed points and state
        back = replay.local
        if len(back):
            self.P[:, back] = replay.P
            for k, v in self.state.items():
                # a batch's per-walk state has the walk axis last, as keep_rows() cuts it; the rest
                # (the step count, shared values) stepped the same in the replay
                if isinstance(v, Tensor) and v.dim() > 0 and v.shape[-1] == m:
                    v[..., back] = replay.state[k]
        ok = torch.ones(m, dtype=torch.bool)
        ok[cols] = False
        ok[back] = True
        if not bool(ok.all()):
            self.keep(ok.nonzero().squeeze(1), m)


def _copy_state(state: dict) -> dict:
    """A copy of a batch's optimizer state (its tensors cloned)."""
    return {k: v.clone() if isinstance(v, Tensor) else v for k, v in state.items()}


# --- the functional core, called on the batch ----------------------------------------------------


class _Batch:
    """An optimizer's functional core applied to all walks at once: the parameter is ``(2, N)``
    (coordinate-major: walk i is column i, so each coordinate's N values are contiguous and a
    per-walk value broadcasts along them), a per-walk hyperparameter a ``(1, N)`` tensor. Every
    elementwise core gives each element the same numbers in any layout."""

    def __init__(self, init_state, update, precondition, values: dict):
        self._init, self._update, self._precondition = init_state, update, precondition
        self._names = {fn: trajectory.keyword_names(fn) for fn in (init_state, update, precondition)}  # looked up once
        self.takes = set(self._names[init_state]) | set(self._names[update])  # what may vary per walk
        self.values = values  # the class's defaults, under the core's names

    def _args(self, fn, hyper: dict) -> dict:
        """The arguments ``fn`` takes: shared values, overridden by the per-walk ``hyper``."""
        return {k: hyper.get(k, self.values.get(k)) for k in self._names[fn] if k in hyper or k in self.values}

    def update_args(self, hyper: dict) -> dict:
        return self._args(self._update, hyper)

    def init_state(self, P: Tensor, hyper: dict) -> dict:
        return self._init(P, **self._args(self._init, hyper))

    def update(self, P: Tensor, grad: Tensor, state: dict, args: dict) -> None:
        self._update(P, grad, state, **args)

    def preconditioner(self, P: Tensor, state: dict, args: dict) -> Tensor:
        return self._precondition(P, state, **{k: args[k] for k in self._names[self._precondition] if k in args})

    @staticmethod
    def keep_rows(state: dict, keep: Tensor, n: int) -> dict:
        """The state of the kept walks (columns; shared 0-dim entries such as ``step`` stay)."""
        return {k: _rows(v, keep, n) for k, v in state.items()}


class _WalkByWalk(_Batch):
    """The core called once per walk, on that walk's point (a vector of 2, a column of the batch),
    with that walk's hyperparameters as Python numbers: for cores whose step reads a norm of the
    whole parameter (Adafactor's ‖θ‖ and ‖P g‖), which one call on the batch would share."""

    def init_state(self, P: Tensor, hyper: dict) -> list[dict]:
        return [self._init(P[:, i].contiguous(), **_walk(self._args(self._init, hyper), i)) for i in range(P.shape[1])]

    def update(self, P: Tensor, grad: Tensor, state: list[dict], args: dict) -> None:
        # each walk's point and gradient contiguous, as trajectory.run's (2,) point (a strided view
        # changes the rounding of its norms): rows of walk-major copies, the points written back after
        points, grads = P.t().contiguous(), grad.t().contiguous()
        for p, g, walk_state, walk_args in zip(points.unbind(0), grads.unbind(0), state, _walks(args, len(state)),
                                               strict=True):
            self._update(p, g, walk_state, **walk_args)
        P.copy_(points.t())

    def preconditioner(self, P: Tensor, state: list[dict], args: dict) -> Tensor:
        return torch.stack([super(_WalkByWalk, self).preconditioner(P[:, i].contiguous(), s, _walk(args, i))
                            for i, s in enumerate(state)], 1)

    @staticmethod
    def keep_rows(state: list[dict], keep: Tensor, n: int) -> list[dict]:
        return [state[i] for i in keep.tolist()]


def _walks(args: dict, n: int) -> list[dict]:
    """Every walk's arguments (``_walk(args, i)`` for i < n), each per-walk tensor read once."""
    columns = {k: v.reshape(-1).tolist() for k, v in args.items() if isinstance(v, Tensor)}
    return [{**args, **{k: values[i] for k, values in columns.items()}} for i in range(n)]


def _walk(args: dict, i: int) -> dict:
    """Walk i's arguments: its column of each per-walk ``(1, N)`` tensor as a Python number, as the
    optimizer class passes a parameter group's values."""
    return {k: float(v[0, i]) if isinstance(v, Tensor) else v for k, v in args.items()}


class _BatchRecorder:
    """Per-walk outputs of a sweep. During the walk: one copy of the points and one of the losses
    per step (time-major, into memory that is never pre-filled: every row is either written or, for
    a walk that stopped early, filled by :meth:`finish`). Everything else is computed at the end."""

    def __init__(self, n, steps, dtype, keep, preconditioners, land, tol, scheduled=False):
        nan = math.nan
        self.steps, self._land, self._tol = steps, land, tol
        # time-major storage in the batch's layout (one contiguous (2, N) block per step), returned as
        # a permuted view: (N, steps + 1, 2)
        self._points = torch.empty((steps + 1, 2, n), dtype=dtype) if keep else None
        self._losses = torch.empty((steps + 1, n), dtype=dtype) if keep else None
        # every step's rows as views made at once (one call, instead of one indexing call per row and step)
        self.point_rows = self._points.unbind(0) if keep else None
        self.loss_rows = self._losses.unbind(0) if keep else None
        # nan where a walk had stopped (as in trajectory.run): pre-filled, but only when asked for
        self.preconditioners = torch.full((n, steps, 2), nan, dtype=dtype) if preconditioners else None
        self.lrs = torch.full((n, steps), nan, dtype=torch.float64) if scheduled else None
        self.final_point = torch.empty((n, 2), dtype=dtype)  # written by stop(), for every walk
        self.final_loss = torch.empty((n,), dtype=dtype)
        self.first_within = torch.full((n,), -1, dtype=torch.int64)
        self.diverged_at = torch.full((n,), -1, dtype=torch.int64)
        self._everyone = n
        self._row = None  # the losses' row handed to the landscape for the current step

    def loss_row(self, t, alive):
        """Where step t's losses go while every walk steps (the landscape writes them there), else None."""
        self._row = self.loss_rows[t] if self._losses is not None and alive.shape[0] == self._everyone else None
        return self._row

    def window_losses(self, t0, t1, alive):
        """Steps t0 .. t1 - 1's recorded losses ``(t1 - t0, N)`` if the landscape writes them into the
        record (every walk steps), else None."""
        return self._losses[t0:t1] if self._losses is not None and alive.shape[0] == self._everyone else None

    def point(self, t, alive, P, loss):
        """The points before step t (and their losses) of the walks still stepping."""
        if self._points is not None:
            if alive.shape[0] == self._everyone:  # every walk still steps: one plain copy (the loss is in place)
                self.point_rows[t].copy_(P)
                if loss is not self._row:  # not written there by the landscape (the final point's)
                    self.loss_rows[t].copy_(loss)
                self._row = None
            else:
                self.point_rows[t][:, alive] = P
                self._losses[t, alive] = loss
        else:  # no trajectories to compute it from later: first_within step by step
            arrived = (self._land.distance_to_minimum(P.t()) <= self._tol) & (self.first_within[alive] < 0)
            if bool(arrived.any()):
                self.first_within[alive[arrived]] = t

    def marks(self):
        """What :meth:`forget` restores (first_within, when it is found step by step)."""
        return self.first_within.clone() if self._points is None else None

    def forget(self, t0, t1, rows, marks):
        """Walks ``rows`` are stepped again from t0: what steps t0 .. t1 - 1 recorded for them and
        nothing rewrites (a stopped walk's later lrs and preconditioners, first_within) is undone."""
        if self.lrs is not None:
            self.lrs[rows, t0:t1] = math.nan
        if self.preconditioners is not None:
            self.preconditioners[rows, t0:t1] = math.nan
        if marks is not None:
            self.first_within[rows] = marks[rows]

    def stop(self, t, rows, P, loss):
        """Walks ``rows`` end at step t (diverged there, or t = steps: the walk is over) at ``P``."""
        self.final_point[rows] = P.t()
        self.final_loss[rows] = loss
        if t < self.steps:
            self.diverged_at[rows] = t

    def lr(self, t, alive, lr):
        self.lrs[alive, t] = lr.reshape(-1) if isinstance(lr, Tensor) else lr

    def precondition(self, t, alive, P):
        self.preconditioners[alive, t] = P.t()

    def finish(self):
        """A walk that stopped at step d stays there: its points and losses after d repeat d's."""
        self.point_rows = self.loss_rows = None
        self.points = None if self._points is None else self._points.permute(2, 0, 1)
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


def _first_within(land: Landscape, points: Tensor, tol: float) -> Tensor:
    """``(N,)``: the first t with ``points[t, i]`` within ``tol`` of a minimum (-1: never), for
    time-major ``points`` ``(T, N, 2)``, computed a block of about a million points at a time."""
    steps, n = points.shape[:2]
    first = torch.full((n,), steps, dtype=torch.int64)  # steps: not (yet) found
    block = max(1, 2**20 // max(1, n))
    for t0 in range(0, steps, block):
        t, walk = (land.distance_to_minimum(points[t0 : t0 + block]) <= tol).nonzero(as_tuple=True)
        first.scatter_reduce_(0, walk, t + t0, "amin")  # the earliest hit of each walk
    return torch.where(first < steps, first, -1)


def _rows(value, keep: Tensor, n: int):
    """A state entry restricted to the kept walks, its columns (shared 0-dim entries such as
    ``step`` stay)."""
    if isinstance(value, Tensor) and value.dim() > 0 and value.shape[-1] == n:
        return value[..., keep]
    return value


# --- hyperparameters: names, defaults, validation ------------------------------------------------


def _optimizer_class(optimizer) -> type:
    if isinstance(optimizer, str):
        if optimizer.lower() not in _BY_NAME:
            raise ValueError(f"unknown optimizer {optimizer!r}: expected one of {', '.join(_BY_NAME)}")
        return getattr(optimizers, _BY_NAME[optimizer.lower()])
    if not isinstance(optimizer, type):
        raise ValueError(f"optimizer={optimizer!r}: expected an optimizer class or name, not an instance")
    return optimizer


def _family(cls: type) -> str:
    for base in cls.__mro__:
        if not (isinstance(base, type) and issubclass(base, torch.optim.Optimizer)):
            continue
        if base.__name__ in _CORES:
            return base.__name__
        if base.__name__ in _NOT_SWEPT:
            raise ValueError(f"optimizer {cls.__name__}: a sweep cannot batch {base.__name__}: {_NOT_SWEPT[base.__name__]}")
    raise ValueError(
        f"optimizer {cls.__name__}: the sweep runs the functional cores of {', '.join(_CORES)} "
        "(and AdamW); expected one of those classes (optimessay's or torch.optim's)"
    )


def _class_kwargs(cls: type) -> list[str]:
    sig = inspect.signature(cls.__init__)
    return [p for p in sig.parameters if p not in ("self", "params")]


def _class_defaults(cls: type) -> dict:
    return cls([torch.zeros(1, requires_grad=True)]).defaults


def _pairs(cls: type) -> dict[str, tuple[str, str]]:
    """The class's pair arguments and their entries' names, e.g. ``{"betas": ("beta1", "beta2")}``."""
    return {name: entries for name, entries in _PAIRS.items() if isinstance(_class_defaults(cls).get(name), tuple)}


def _pack_pairs(cls: type, kwargs: dict) -> dict:
    """Entries given on their own (``beta1=0.8``) folded back into the class's pair
    (``betas=(0.8, 0.999)``, the other entry from ``kwargs``'s pair or the class default)."""
    out = dict(kwargs)
    for name, (first, second) in _pairs(cls).items():
        if first in out or second in out:
            a, b = out.get(name, _class_defaults(cls)[name])
            a, b = out.pop(first, a), out.pop(second, b)
            out[name] = tuple(None if v is None else float(v) for v in (a, b))
    return out


def _layout(cls, kwargs: dict, grid: dict | None):
    """Split hyperparameters into shared values and per-walk (N,) tensors; build the grid."""
    pairs = _pairs(cls)
    allowed = _class_kwargs(cls) + [entry for entries in pairs.values() for entry in entries]
    grid = dict(grid or {})
    for name in list(kwargs) + list(grid):
        if name not in allowed:
            raise ValueError(f"unknown hyperparameter {name!r} for {cls.__name__}: expected one of {', '.join(allowed)}")
    both = set(kwargs) & set(grid)
    if both:
        raise ValueError(f"{sorted(both)} given both in optimizer_kwargs and in grid: give each once")
    for name, (first, second) in pairs.items():
        if {first, second} & (set(kwargs) | set(grid)) and name in kwargs:
            raise ValueError(f"give {name} either as {name}=({first}, {second}) or as {first} / {second}, not both")
    flags = {k for k, v in _class_defaults(cls).items() if isinstance(v, bool)}
    for name in flags & (set(grid) | {k for k, v in kwargs.items() if not isinstance(v, bool)}):
        raise ValueError(f"{name} is a flag of {cls.__name__}: give one bool for all walks, not {kwargs.get(name, grid.get(name))!r}")
    for name, (first, second) in pairs.items():
        value = kwargs.get(name)
        if value is not None and not (isinstance(value, tuple) and len(value) == 2):
            raise ValueError(f"{name}={value!r}: expected a tuple ({first}, {second}) shared by all walks "
                             f"(to vary them, give {first} / {second} values)")
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
        return cls([torch.zeros(1, requires_grad=True)], **_pack_pairs(cls, kw)).defaults

    defaults = build(torch.min)
    if per_walk:
        build(torch.max)
    return dict(defaults)


def _core_values(defaults: dict) -> dict:
    """The class defaults under the functional core's names (betas -> beta1, beta2; ...)."""
    return trajectory.core_values(defaults)


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
                out[name] = row[idx].reshape(1, -1)
        return out


def _schedule(cls, shared, per_walk, defaults, scheduler_class, scheduler_kwargs, steps, n):
    """Run the scheduler class on a stand-in optimizer (one group per distinct configuration)."""
    if scheduler_class is None:
        return None
    trajectory._check_class("scheduler_class", scheduler_class)
    if any(base.__name__ == "ReduceLROnPlateau" for base in scheduler_class.__mro__):
        raise ValueError(f"scheduler_class={scheduler_class.__name__}: a sweep computes every step's lr before the "
                         "walk, but ReduceLROnPlateau's lr follows each walk's own losses; walk it with trajectory.run, "
                         "which passes it the loss")
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
    scheduler = trajectory.build_scheduler(scheduler_class, stand_in, scheduler_kwargs or {})
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
    """The noise draws in the batch's layout: (steps, 2, 1) shared by all walks, or (steps, 2, N)
    for per-walk seeds (walk i's draws in column i)."""
    if noise == 0:
        return None, False
    if isinstance(seed, int) and not isinstance(seed, bool):
        return trajectory.noise_sequence(steps, seed, dtype)[:, :, None], False
    try:
        seeds = torch.as_tensor(seed).reshape(-1)
    except (TypeError, ValueError, RuntimeError) as err:
        raise ValueError(f"seed: expected an int or {n} ints (one per walk), got {seed!r}") from err
    if seeds.dtype.is_floating_point or seeds.dtype == torch.bool or len(seeds) != n:
        raise ValueError(f"seed: expected an int or {n} ints (one per walk), got {seed!r}")
    unique, inverse = torch.unique(seeds, return_inverse=True)
    draws = torch.stack([trajectory.noise_sequence(steps, int(s), dtype) for s in unique], 2)  # (steps, 2, U)
    return draws[..., inverse].contiguous(), True


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

