"""`check_scheduler`: run a learner's lr scheduler against `torch.optim.lr_scheduler` and show the
first step where they part ways.

    from optimessay.testing import check_scheduler
    results = check_scheduler(MyStepLR, "StepLR")       # prints one line per configuration
    assert all(r.passed for r in results)

For every configuration, the learner's scheduler and torch's drive the same small training run: a
linear least-squares model (float64; its weights and its bias in two param groups with different
lrs) trained by SGD with momentum, one optimizer step then one scheduler step, `steps` times (the
checker assigns each step's gradient itself, computed in closed form). After construction and after
every step it compares, and reports the first step where they differ:

- every param group's `lr` (to `rtol`, 1e-12 relative by default);
- `get_last_lr()`, if the learner's scheduler has it;
- `last_epoch`, if the learner's scheduler has one (torch's counts the step done at construction;
  a wrong lr, momentum or parameter is reported before it);
- every param group's momentum / Adam beta1 (OneCycleLR and CyclicLR cycle it; to `rtol` as well);
- the trained parameters (rtol 1e-9, atol 1e-12): the lr the optimizer actually used.

An exception from the learner's scheduler is reported with its step. A scheduler must write the lr
where the optimizer reads it, `group["lr"]` for every `group in optimizer.param_groups`; the seed
notebook's schedulers set an `optimizer.lr` attribute instead, which torch optimizers do not have.

Learners' classes may be simplified (no `last_epoch` argument, no `state_dict`): configurations
whose arguments the constructor does not accept are reported as skipped. For `SequentialLR` and
`ChainedScheduler`, a configuration names the children as `(torch scheduler name, kwargs)` pairs;
they are built from `torch.optim.lr_scheduler` for both runs (the learner's SequentialLR or
ChainedScheduler is what is checked; a ChainedScheduler is built as `ChainedScheduler(children)`,
without the optimizer). `"SWALR"` is `torch.optim.swa_utils.SWALR`.

torch's run is deterministic: it is recorded once per configuration whose value its key determines
(plain data, or a default configuration) and reused by later checks in the same process, so checking
several schedulers against one configuration runs torch's scheduler once.

`ReduceLROnPlateau` is stepped on a metric, the same for both runs: `plateau_metric(t)`, a validation
loss that falls in stages of 20 steps and stalls in between, with a small wiggle (`1 - ` that, an
accuracy, for `mode="max"`), so that patience, cooldown, thresholds, `min_lr` and `eps` all matter.
CyclicLR's momentum (or Adam's beta1) is compared like OneCycleLR's.
"""

from __future__ import annotations

import copy
import inspect
import math
from dataclasses import dataclass

import torch

from optimessay.testing._kept import KeptRuns, plain

__all__ = ["SchedulerCheckResult", "check_scheduler", "DEFAULT_CONFIGS", "plateau_metric"]

STEPS = 120  # the seed notebook's test: 30 epochs x 4 batches

# configurations per torch.optim.lr_scheduler name: the seed notebook's test configurations, plus
# what they left out (a milestone listed twice, warm-up, cosine past T_max, 1cycle's phases, ...)
DEFAULT_CONFIGS: dict[str, list[dict]] = {
    "ExponentialLR": [{"gamma": 1.0}, {"gamma": 0.5}, {"gamma": 0.97}],
    "StepLR": [
        {"step_size": 30, "gamma": 1.0},
        {"step_size": 3, "gamma": 1.0},
        {"step_size": 1, "gamma": 0.5},
        {"step_size": 3, "gamma": 0.5},
        {"step_size": 7, "gamma": 0.8},
    ],
    "MultiStepLR": [
        {"milestones": [40], "gamma": 1.0},
        {"milestones": [10], "gamma": 0.5},
        {"milestones": [10, 15], "gamma": 0.5},
        {"milestones": [5, 5, 12], "gamma": 0.5},  # a milestone listed twice: gamma twice
    ],
    "LambdaLR": [
        {"lr_lambda": lambda t: 0.97**t},
        {"lr_lambda": lambda t: min(1.0, (t + 1) / 10)},
    ],
    "ConstantLR": [{}, {"factor": 0.5, "total_iters": 20}],
    "LinearLR": [
        {},
        {"start_factor": 0.1, "total_iters": 30},
        {"start_factor": 1.0, "end_factor": 0.05, "total_iters": 50},
    ],
    "CosineAnnealingLR": [{"T_max": STEPS}, {"T_max": 25, "eta_min": 0.001}],  # the second goes past T_max
    "OneCycleLR": [
        {"max_lr": 0.2, "total_steps": STEPS},
        {"max_lr": 0.2, "total_steps": STEPS, "anneal_strategy": "linear"},
        {"max_lr": 0.2, "total_steps": STEPS, "three_phase": True, "pct_start": 0.25},
        {"max_lr": 0.2, "total_steps": STEPS, "cycle_momentum": False},
    ],
    "SequentialLR": [
        {
            "schedulers": [("LinearLR", {"start_factor": 0.1, "total_iters": 10}), ("CosineAnnealingLR", {"T_max": 110})],
            "milestones": [10],
        },
        {
            "schedulers": [("ConstantLR", {"factor": 0.5, "total_iters": 5}), ("ExponentialLR", {"gamma": 0.97})],
            "milestones": [15],
        },
    ],
    "PolynomialLR": [{}, {"total_iters": 100, "power": 2.0}, {"total_iters": 60, "power": 0.5}],  # past T, lr 0
    "MultiplicativeLR": [
        {"lr_lambda": lambda t: 0.97},
        {"lr_lambda": lambda t: 0.5 if t % 25 == 0 else 1.0},
    ],
    "CosineAnnealingWarmRestarts": [{"T_0": 10}, {"T_0": 5, "T_mult": 2, "eta_min": 0.001}],
    "CyclicLR": [
        {"base_lr": 0.01, "max_lr": 0.2, "step_size_up": 10},
        {"base_lr": 0.01, "max_lr": 0.2, "step_size_up": 8, "step_size_down": 12, "mode": "triangular2"},
        {"base_lr": 0.01, "max_lr": 0.2, "step_size_up": 10, "mode": "exp_range", "gamma": 0.98},
        {"base_lr": 0.01, "max_lr": 0.2, "step_size_up": 6, "scale_fn": lambda x: 1 / (1 + 0.05 * x),
         "scale_mode": "iterations", "base_momentum": 0.7, "max_momentum": 0.95},
        {"base_lr": 0.01, "max_lr": 0.2, "step_size_up": 10, "cycle_momentum": False},
    ],
    "ChainedScheduler": [
        {"schedulers": [("ConstantLR", {"factor": 0.1, "total_iters": 20}), ("ExponentialLR", {"gamma": 0.97})]},
        {"schedulers": [("LinearLR", {"start_factor": 0.2, "total_iters": 15}), ("StepLR", {"step_size": 30}),
                        ("PolynomialLR", {"total_iters": 150, "power": 2.0})]},
    ],
    "ReduceLROnPlateau": [
        {},
        {"factor": 0.5, "patience": 3, "cooldown": 4},
        {"mode": "max", "patience": 2, "threshold": 0.01, "threshold_mode": "abs", "min_lr": 0.005},
        {"factor": 0.5, "patience": 0, "eps": 0.01},  # drops smaller than eps are skipped
    ],
    "SWALR": [
        {"swa_lr": 0.05},
        {"swa_lr": 0.02, "anneal_epochs": 30, "anneal_strategy": "linear"},
        {"swa_lr": 0.2, "anneal_epochs": 0},
    ],
}


def plateau_metric(t: int, mode: str = "min") -> float:
    """The metric ReduceLROnPlateau is stepped on at step t: a loss that drops every 20 steps and
    stalls in between, wiggling by up to 0.004; for mode "max", 1 minus it (an accuracy)."""
    loss = 1 / (1 + t // 20) + 0.002 * ((7 * t) % 3)
    return 1 - loss if mode == "max" else loss


def _reference_class(name):
    """torch's scheduler of that name (SWALR lives in torch.optim.swa_utils)."""
    if name == "SWALR":
        return torch.optim.swa_utils.SWALR
    return getattr(torch.optim.lr_scheduler, name)


def _construct(scheduler_class, name, config, optimizer):
    """Build a scheduler from a configuration; a ChainedScheduler gets its children, not the optimizer."""
    kwargs = _build_kwargs(config, optimizer)
    if name == "ChainedScheduler":
        return scheduler_class(**kwargs)
    return scheduler_class(optimizer, **kwargs)


def _step(scheduler, name, config, t):
    """One scheduler step after optimizer step t (ReduceLROnPlateau: on the metric of step t)."""
    if name == "ReduceLROnPlateau":
        scheduler.step(plateau_metric(t, config.get("mode", "min")))
    else:
        scheduler.step()


@dataclass
class SchedulerCheckResult:
    """The outcome for one configuration."""

    config: dict
    passed: bool
    skipped: bool = False
    step: int | None = None  # first step where the learner's run differs (0: right after construction)
    what: str | None = None  # "lr", "momentum", "get_last_lr", "last_epoch", "parameters" or "error"
    message: str = ""

    def __str__(self) -> str:
        status = "SKIP" if self.skipped else ("PASS" if self.passed else "FAIL")
        return f"{status}  {_show(self.config)}  {self.message}"


def _show(config: dict) -> str:
    """A configuration for printing (lambdas by name rather than by address)."""
    shown = {k: getattr(v, "__name__", v) if callable(v) else v for k, v in config.items()}
    return str(shown)


def _accepted_arguments(scheduler_class) -> set[str] | None:
    """Names the constructor accepts (None: anything, it takes **kwargs)."""
    signature = inspect.signature(scheduler_class.__init__)
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in signature.parameters.values()):
        return None
    return set(signature.parameters) - {"self", "optimizer"}


def _problem():
    """Least squares with 3 features: data, and initial weights and bias (seeded, float64)."""
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(32, 3, generator=gen, dtype=torch.float64)
    y = x @ torch.tensor([1.0, -2.0, 0.5], dtype=torch.float64) + 0.3 + 0.1 * torch.randn(32, generator=gen, dtype=torch.float64)
    w = torch.randn(3, generator=gen, dtype=torch.float64)
    b = torch.zeros(1, dtype=torch.float64)
    return x, y, w, b


def _build_kwargs(config: dict, optimizer) -> dict:
    """Constructor arguments; SequentialLR's and ChainedScheduler's `(name, kwargs)` children become
    torch schedulers."""
    kwargs = dict(config)
    if "schedulers" in kwargs:
        kwargs["schedulers"] = [
            getattr(torch.optim.lr_scheduler, child)(optimizer, **child_kwargs)
            for child, child_kwargs in kwargs["schedulers"]
        ]
    return kwargs


def _momenta(optimizer) -> list:
    return [(g.get("momentum"), g.get("betas", (None,))[0]) for g in optimizer.param_groups]


def _close(a, b, rtol) -> bool:
    """Equal within rtol (relative), or both missing."""
    if a is None or b is None:
        return a is None and b is None
    a, b = float(a), float(b)
    return abs(a - b) <= rtol * max(abs(a), abs(b))


def _momenta_match(mine: list, ref: list, rtol) -> bool:
    pairs = list(zip(mine, ref, strict=True))
    return all(_close(a, b, rtol) for ours, theirs in pairs for a, b in zip(ours, theirs, strict=True))


def _lr_mismatch(mine_lrs: list, ref_lrs: list, rtol) -> str | None:
    """Describe the first param group whose lr differs by more than rtol (relative), else None."""
    for i, (a, b) in enumerate(zip(mine_lrs, ref_lrs, strict=True)):
        try:
            a = float(a)
        except (TypeError, ValueError):  # e.g. (1 - t/T) ** 0.5 past T is a complex number in Python
            return f"lr of param group {i} is {a!r}, not a real number; torch's is {b!r}"
        b = float(b)
        if not (abs(a - b) <= rtol * max(abs(a), abs(b)) or (math.isnan(a) and math.isnan(b))):
            return f"lr of param group {i} is {a!r}, torch's is {b!r} (all groups: yours {mine_lrs}, torch's {ref_lrs})"
    return None


def _kept(value):
    """A value as it is now (a tensor lr or momentum is filled in place by later steps: copy it)."""
    if torch.is_tensor(value):
        return value.detach().clone()
    if isinstance(value, tuple):
        return tuple(_kept(v) for v in value)
    return value


def _setup(optimizer_class, optimizer_kwargs, groups, w0, b0):
    """Copies of the initial weights and bias, and the optimizer over them (two groups: the bias at half
    the lr)."""
    lr = optimizer_kwargs.get("lr", 0.1)
    w, b = w0.clone().requires_grad_(True), b0.clone().requires_grad_(True)
    params = [{"params": [w], "lr": lr}, {"params": [b], "lr": lr / 2}] if groups == 2 else [w, b]
    return w, b, optimizer_class(params, **optimizer_kwargs)


def _set_gradients(problem, w, b) -> None:
    """Assign the gradient of the mean squared error at (w, b), in closed form: with r = x w + b - y,
    d/dw = 2/n x^T r and d/db = 2/n sum(r). (What backward() gives, without building a graph: the
    same function for both runs, so they stay comparable; the checker assigns .grad itself.)"""
    x_scaled_t, x, y = problem
    with torch.no_grad():
        r = torch.addmv(b - y, x, w)
        w.grad = torch.mv(x_scaled_t, r)
        b.grad = r.sum().mul(2 / len(y)).reshape(1)


@dataclass
class _Snapshot:
    """torch's run after construction (step 0) or after step t: what the learner's run is compared with."""

    lrs: list
    momenta: list
    last_lr: list
    last_epoch: object  # int, or _NO_LAST_EPOCH
    weights: torch.Tensor
    bias: torch.Tensor


_NO_LAST_EPOCH = object()
_REFERENCE_RUNS = KeptRuns()  # key -> (snapshots, config copy): torch's runs, reused (see _reference)


def _reference_run(name, config, *, steps, optimizer_kwargs, groups, problem, w0, b0):
    """torch's scheduler driving torch.optim.SGD for `steps` steps: a snapshot after construction and
    after every step, and the exception torch's scheduler raised at a step as (step, exception), or
    None (the snapshots stop there, with only that step's parameters)."""
    w, b, opt = _setup(torch.optim.SGD, optimizer_kwargs, groups, w0, b0)
    ref = _construct(_reference_class(name), name, config, opt)

    def snapshot():
        return _Snapshot(
            lrs=[_kept(g["lr"]) for g in opt.param_groups],
            momenta=[_kept(m) for m in _momenta(opt)],
            last_lr=[float(v) for v in ref.get_last_lr()],
            last_epoch=getattr(ref, "last_epoch", _NO_LAST_EPOCH),
            weights=w.detach().clone(),
            bias=b.detach().clone(),
        )

    snapshots = [snapshot()]
    for step in range(1, steps + 1):
        _set_gradients(problem, w, b)
        opt.step()
        try:
            _step(ref, name, config, step)
        except Exception as e:  # noqa: BLE001 - raised to the caller where the lockstep run would have
            # the parameters after this step's optimizer step still count (they are compared first)
            snapshots.append(_Snapshot([], [], [], _NO_LAST_EPOCH, w.detach().clone(), b.detach().clone()))
            return snapshots, (step, e)
        snapshots.append(snapshot())
    return snapshots, None


def _reference(name, config, default_index, *, steps, optimizer_kwargs, groups, problem, w0, b0):
    """`_reference_run`, kept for later calls in this process when the run is determined by its key:
    a configuration of plain data (by its repr), or `DEFAULT_CONFIGS[name][default_index]` itself
    (its lambdas are pure functions) unchanged since; optimizer_kwargs plain too. torch's run on the
    same problem is deterministic, so a learner's scheduler is compared with the same values as
    before, at half the cost (check_scheduler(ours), then check_scheduler(theirs), ...)."""
    key = None
    if plain(optimizer_kwargs) and (default_index is not None or plain(config)):
        what = ("default", default_index) if default_index is not None else ("plain", repr(config))
        key = (name, _reference_class(name), what, steps, repr(sorted(optimizer_kwargs.items())), groups)
        kept = _REFERENCE_RUNS.get(key)
        if kept is not None and kept[1] == config:
            return kept[0], None
    snapshots, failure = _reference_run(name, config, steps=steps, optimizer_kwargs=optimizer_kwargs,
                                        groups=groups, problem=problem, w0=w0, b0=b0)
    if key is not None and failure is None:
        _REFERENCE_RUNS.put(key, (snapshots, copy.copy(config)))
    return snapshots, failure


def _error(config, step, error, call="step()") -> SchedulerCheckResult:
    where = "constructing your scheduler" if step == 0 and call == "step()" else f"step {step}: your scheduler's {call}"
    hint = ""
    if isinstance(error, AttributeError) and "'lr'" in str(error):
        hint = (" (a torch optimizer has no `optimizer.lr`: set group['lr'] for every group in "
                "optimizer.param_groups)")
    message = f"{where} raised {type(error).__name__}: {error}{hint}"
    return SchedulerCheckResult(config, False, step=step, what="error", message=message)


def _run_one(scheduler_class, name, config, *, steps, optimizer_class, optimizer_kwargs, groups, rtol,
             default_index=None):
    x, y, w0, b0 = _problem()
    problem = ((2 / len(y)) * x.T.contiguous(), x, y)
    reference, failure = _reference(name, config, default_index, steps=steps, optimizer_kwargs=optimizer_kwargs,
                                    groups=groups, problem=problem, w0=w0, b0=b0)
    w, b, opt = _setup(optimizer_class, optimizer_kwargs, groups, w0, b0)
    try:
        sched = _construct(scheduler_class, name, config, opt)
    except Exception as e:  # noqa: BLE001 - whatever the learner's code raises is reported
        return _error(config, 0, e)

    # last_epoch is checked too, but a wrong lr, momentum or parameter is reported first
    late = []  # the first last_epoch mismatch, if any

    def compare(step) -> SchedulerCheckResult | None:
        ref = reference[step]
        lr_problem = _lr_mismatch([g["lr"] for g in opt.param_groups], ref.lrs, rtol)
        if lr_problem:
            return SchedulerCheckResult(config, False, step=step, what="lr", message=f"step {step}: {lr_problem}")
        if not _momenta_match(_momenta(opt), ref.momenta, rtol):
            return SchedulerCheckResult(
                config, False, step=step, what="momentum",
                message=f"step {step}: momentum / beta1 per group is {_momenta(opt)}, torch's is {ref.momenta}",
            )
        if hasattr(sched, "get_last_lr"):
            try:
                last = [float(v) for v in sched.get_last_lr()]
            except Exception as e:  # noqa: BLE001
                return _error(config, step, e, "get_last_lr()")
            want = ref.last_lr
            if len(last) != len(want) or any(abs(a - b) > rtol * max(abs(a), abs(b)) for a, b in zip(last, want, strict=False)):
                return SchedulerCheckResult(
                    config, False, step=step, what="get_last_lr",
                    message=f"step {step}: get_last_lr() is {last}, torch's is {want} (the lrs just written)",
                )
        if (not late and hasattr(sched, "last_epoch") and ref.last_epoch is not _NO_LAST_EPOCH
                and sched.last_epoch != ref.last_epoch):
            late.append(SchedulerCheckResult(
                config, False, step=step, what="last_epoch",
                message=f"step {step}: last_epoch is {sched.last_epoch}, torch's is {ref.last_epoch} "
                "(torch's constructor already takes step 0, so after n steps last_epoch is n)",
            ))
        return None

    def with_note(result):
        if late and result.what != "last_epoch":
            result.message += f"; also, from step {late[0].step}, last_epoch differs"
        return result

    if (problem_found := compare(0)) is not None:
        return with_note(problem_found)
    for step in range(1, steps + 1):
        _set_gradients(problem, w, b)
        opt.step()
        ref = reference[step]
        for mine, theirs, pname in ((w, ref.weights, "weights"), (b, ref.bias, "bias")):
            if not (torch.equal(mine, theirs) or torch.allclose(mine, theirs, rtol=1e-9, atol=1e-12)):
                diff = (mine - theirs).abs().max().item()
                return with_note(SchedulerCheckResult(
                    config, False, step=step, what="parameters",
                    message=f"optimizer step {step}: the {pname} differ from torch's by {diff:.3g} "
                    "(the optimizer used a different lr or momentum)",
                ))
        try:
            _step(sched, name, config, step)
        except Exception as e:  # noqa: BLE001
            return with_note(_error(config, step, e))
        if failure is not None and failure[0] == step:
            raise failure[1]  # torch's scheduler raised at this step: not the learner's fault
        if (problem_found := compare(step)) is not None:
            return with_note(problem_found)
    if late:
        return late[0]
    return SchedulerCheckResult(config, True, message=f"{steps} steps: lrs, momentum, get_last_lr, last_epoch and parameters match")


def check_scheduler(
    scheduler_class,
    name: str,
    configs: list[dict] | None = None,
    *,
    steps: int = STEPS,
    optimizer_class=torch.optim.SGD,
    optimizer_kwargs: dict | None = None,
    groups: int = 2,
    rtol: float = 1e-12,
    verbose: bool = True,
) -> list[SchedulerCheckResult]:
    """Compare `scheduler_class` with `torch.optim.lr_scheduler.<name>` in a small training run, for
    each configuration (default: `DEFAULT_CONFIGS[name]`). Prints one line per configuration (unless
    `verbose=False`) and returns the list of `SchedulerCheckResult`s.

    `optimizer_class` is the SGD the learner's scheduler drives (default `torch.optim.SGD`; any SGD
    taking `optimizer_kwargs`, default `lr=0.1, momentum=0.9`); torch's scheduler always drives
    `torch.optim.SGD`. `groups=2` (default) puts the weights and the bias in two param groups with
    different lrs, `groups=1` in one.
    """
    if not callable(scheduler_class):
        raise TypeError(f"scheduler_class must be your scheduler's class (e.g. MyStepLR), not an instance: "
                        f"got {scheduler_class!r}")
    if not isinstance(name, str) or name not in DEFAULT_CONFIGS:
        known = ", ".join(sorted(DEFAULT_CONFIGS))
        raise ValueError(f"name must be one of the schedulers {known}, got {name!r}")
    if configs is None:
        configs = DEFAULT_CONFIGS[name]
    if not isinstance(configs, (list, tuple)) or not all(isinstance(c, dict) for c in configs):
        raise TypeError(f"configs must be a list of dicts of constructor arguments, got {configs!r}")
    if not configs:
        raise ValueError("configs is empty: expected at least one dict of constructor arguments (or None)")
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise ValueError(f"steps must be a positive integer, got {steps!r}")
    if isinstance(rtol, bool) or not isinstance(rtol, (int, float)) or not rtol >= 0:
        raise ValueError(f"rtol must be a number >= 0, got {rtol!r}")
    if groups not in (1, 2):
        raise ValueError(f"groups must be 1 or 2, got {groups!r}")
    optimizer_kwargs = {"lr": 0.1, "momentum": 0.9} if optimizer_kwargs is None else dict(optimizer_kwargs)

    accepted = _accepted_arguments(scheduler_class)
    defaults = DEFAULT_CONFIGS[name]
    results = []
    for config in configs:
        missing = [] if accepted is None else sorted(set(config) - accepted)
        if missing:
            result = SchedulerCheckResult(
                config, True, skipped=True, message=f"your constructor has no argument {', '.join(map(repr, missing))}"
            )
        else:
            default_index = next((i for i, c in enumerate(defaults) if c is config), None)
            result = _run_one(
                scheduler_class, name, copy.copy(config), steps=steps, optimizer_class=optimizer_class,
                optimizer_kwargs=optimizer_kwargs, groups=groups, rtol=rtol, default_index=default_index,
            )
        results.append(result)
        if verbose:
            print(result, flush=True)
    if verbose:
        ran = [r for r in results if not r.skipped]
        passed = sum(r.passed for r in ran)
        reference = _reference_class(name)
        print(f"{getattr(scheduler_class, '__name__', scheduler_class)} vs {reference.__module__}.{name}: "
              f"{passed}/{len(ran)} configurations pass ({len(results) - len(ran)} skipped)")
    return results
