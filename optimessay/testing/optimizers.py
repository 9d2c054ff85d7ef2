"""`check_optimizer`: run a learner's optimizer against `torch.optim` and show where they part ways.

    from optimessay.testing import check_optimizer
    results = check_optimizer(MyAdam, "Adam")           # prints one line per configuration
    assert all(r.passed for r in results)

For every configuration, the learner's class and `torch.optim.<name>(..., foreach=False)` optimise
copies of the same small model (two linear layers and a 0-dim scale, float64) on the same data.
After **every** step, **every** parameter is compared; the first step and parameter where they
differ by more than the tolerance is reported, with the size of the difference. The run also
checks what a drop-in optimizer must do beyond the arithmetic:

- parameters whose `.grad` is None are skipped (a layer is frozen on a few steps in the middle);
- `step()` never modifies `p.grad` (the gradient tensors are compared before and after each step).

Some optimizers need a different setting, and get it (see `MODEL_KINDS`, `CLOSURE_OPTIMIZERS`,
`SINGLE_GROUP_OPTIMIZERS`):

- Muon optimizes 2-D parameters only: its model has no biases and no scale (two bias-free linear
  layers);
- SparseAdam takes sparse gradients only: its model is two `nn.Embedding(sparse=True)` tables, each
  step on a new batch of rows (rows not in the batch get no update);
- LBFGS's `step(closure)` needs a closure: the checker passes one that sets the gradients and returns
  the loss (LBFGS calls it several times per step); LBFGS has one parameter group only, so the
  two-group run is skipped for it.

Learners' classes may be simplified: they may take a plain list of tensors and only some of torch's
arguments (like `SGD(params, lr, momentum=0.0, weight_decay=0.0)`), and need not subclass
`torch.optim.Optimizer`. Only the configurations whose arguments the constructor accepts are run;
the others are reported as skipped. The checker assigns `.grad` itself (it never calls the learner's
`zero_grad`). For `torch.optim.Optimizer` subclasses one more configuration uses two parameter
groups with different learning rates.

torch's run of a configuration given as plain data (numbers, strings, tuples) is kept for later
checks in the same process: checking a second class against the same configuration runs torch's
steps only once (they are deterministic on the same model and data).
"""

from __future__ import annotations

import copy
import functools
import inspect
import math
from dataclasses import dataclass

import torch

from optimessay.testing._kept import KeptRuns, plain

__all__ = ["CheckResult", "check_optimizer", "DEFAULT_CONFIGS", "MODEL_KINDS", "CLOSURE_OPTIMIZERS",
           "SINGLE_GROUP_OPTIMIZERS"]

# configurations per torch.optim name: the seed notebook's test configurations plus the options it
# left out (dampening, nesterov, centered, amsgrad, maximize, ...)
DEFAULT_CONFIGS: dict[str, list[dict]] = {
    "SGD": [
        {"lr": 0.1},
        {"lr": 0.1, "momentum": 0.7},
        {"lr": 0.1, "momentum": 0.5, "weight_decay": 0.05},
        {"lr": 0.2, "momentum": 0.8, "weight_decay": 0.05},
        {"lr": 0.1, "momentum": 0.9, "dampening": 0.5},
        {"lr": 0.1, "momentum": 0.9, "nesterov": True, "weight_decay": 0.05},
        {"lr": 0.1, "momentum": 0.5, "maximize": True},
    ],
    "RMSprop": [
        {"lr": 0.1, "alpha": 0.9, "eps": 0.001, "weight_decay": 0.0, "momentum": 0.0},
        {"lr": 0.1, "alpha": 0.95, "eps": 0.0001, "weight_decay": 0.05, "momentum": 0.0},
        {"lr": 0.1, "alpha": 0.95, "eps": 0.0001, "weight_decay": 0.05, "momentum": 0.5},
        {"lr": 0.05, "alpha": 0.9, "eps": 0.001, "momentum": 0.5, "centered": True},
        {"lr": 0.05, "alpha": 0.9, "eps": 0.001, "maximize": True},
    ],
    "Adam": [
        {"lr": 0.1, "betas": (0.8, 0.95), "eps": 0.001, "weight_decay": 0.0},
        {"lr": 0.1, "betas": (0.8, 0.9), "eps": 0.001, "weight_decay": 0.05},
        {"lr": 0.2, "betas": (0.9, 0.95), "eps": 0.01, "weight_decay": 0.08},
        {"lr": 0.1, "betas": (0.8, 0.95), "eps": 0.001, "amsgrad": True},
        {"lr": 0.1, "betas": (0.8, 0.95), "weight_decay": 0.1, "decoupled_weight_decay": True},
        {"lr": 0.1, "maximize": True},
    ],
    "AdamW": [
        {"lr": 0.1, "betas": (0.8, 0.95), "eps": 0.001},
        {"lr": 0.1, "betas": (0.8, 0.9), "eps": 0.001, "weight_decay": 0.1},
        {"lr": 0.1, "betas": (0.8, 0.95), "weight_decay": 0.1, "amsgrad": True},
    ],
    "Adagrad": [
        {"lr": 0.1},
        {"lr": 0.1, "lr_decay": 0.05},
        {"lr": 0.1, "weight_decay": 0.05, "initial_accumulator_value": 0.1},
        {"lr": 0.1, "eps": 1e-3, "maximize": True},
    ],
    "Adafactor": [
        {"lr": 0.1},
        {"lr": 0.1, "weight_decay": 0.05},
        {"lr": 0.05, "beta2_decay": -0.5, "eps": (1e-3, 1e-3), "d": 2.0},
        {"lr": 0.1, "maximize": True},
    ],
    "Muon": [
        {"lr": 0.05},
        {"lr": 0.05, "nesterov": False, "weight_decay": 0.0},
        {"lr": 0.05, "momentum": 0.5, "adjust_lr_fn": "match_rms_adamw"},
        {"lr": 0.02, "ns_steps": 3},
    ],
    "SparseAdam": [
        {"lr": 0.1},
        {"lr": 0.1, "betas": (0.8, 0.9), "eps": 1e-3},
        {"lr": 0.05, "maximize": True},
    ],
    "LBFGS": [
        {"lr": 0.5, "max_iter": 3},
        {"lr": 1.0, "max_iter": 4, "line_search_fn": "strong_wolfe"},
        {"lr": 0.2, "max_iter": 5, "history_size": 2},
    ],
    "NAdam": [
        {"lr": 0.1},
        {"lr": 0.1, "betas": (0.8, 0.95), "weight_decay": 0.05},
        {"lr": 0.1, "weight_decay": 0.1, "decoupled_weight_decay": True},
        {"lr": 0.1, "momentum_decay": 0.01, "maximize": True},
    ],
    "RAdam": [
        {"lr": 0.1},
        {"lr": 0.1, "betas": (0.8, 0.9), "weight_decay": 0.05},
        {"lr": 0.1, "betas": (0.8, 0.9), "weight_decay": 0.1, "decoupled_weight_decay": True},
        {"lr": 0.1, "betas": (0.9, 0.5), "maximize": True},
    ],
    "Adamax": [
        {"lr": 0.1},
        {"lr": 0.1, "betas": (0.8, 0.95), "eps": 1e-3, "weight_decay": 0.05},
        {"lr": 0.1, "maximize": True},
    ],
    "Adadelta": [
        {"lr": 1.0},
        {"lr": 0.5, "rho": 0.8, "eps": 1e-4, "weight_decay": 0.05},
        {"lr": 1.0, "maximize": True},
    ],
    "Rprop": [
        {"lr": 0.01},
        {"lr": 0.05, "etas": (0.3, 1.5), "step_sizes": (1e-4, 0.5)},
        {"lr": 0.01, "maximize": True},
    ],
    "ASGD": [
        {"lr": 0.1},
        {"lr": 0.1, "lambd": 0.1, "alpha": 1.0, "t0": 3.0, "weight_decay": 0.05},
        {"lr": 0.1, "maximize": True},
    ],
}

# the model each optimizer is checked on (default "mlp"): Muon takes 2-D parameters only, SparseAdam
# sparse gradients only
MODEL_KINDS: dict[str, str] = {"Muon": "matrix", "SparseAdam": "embedding"}
CLOSURE_OPTIMIZERS = {"LBFGS"}  # step(closure) needs a closure that recomputes loss and gradients
SINGLE_GROUP_OPTIMIZERS = {"LBFGS"}  # torch refuses a second parameter group

STEPS = 10
FROZEN_STEPS = (6, 7)  # steps on which the first layer has no gradient (its .grad is None)


def _same(a: torch.Tensor, b: torch.Tensor) -> bool:
    """Exactly equal, dense or sparse (a sparse gradient is compared as its dense values)."""
    if a.is_sparse or b.is_sparse:
        return a.is_sparse == b.is_sparse and torch.equal(a.to_dense(), b.to_dense())
    return torch.equal(a, b)


@dataclass
class CheckResult:
    """The outcome for one configuration."""

    config: dict
    passed: bool
    skipped: bool = False
    step: int | None = None  # first step (1-based) where the learner's run differs from torch's
    parameter: str | None = None  # name of the first parameter that differs at that step
    max_abs_diff: float = 0.0  # largest |learner - torch| at that step (over all runs if passed)
    bitwise: bool = False  # passed with every parameter exactly equal (torch.equal) after every step
    message: str = ""

    def __str__(self) -> str:
        status = "SKIP" if self.skipped else ("PASS" if self.passed else "FAIL")
        return f"{status}  {self.config}  {self.message}"


def _model(dtype: torch.dtype, kind: str = "mlp") -> torch.nn.Module:
    """The seeded model of a kind: "mlp", Linear(2, 3) - Sigmoid - Linear(3, 1) - Sigmoid times a
    0-dim scale; "matrix", the same without biases and scale (2-D parameters only); "embedding", two
    `nn.Embedding(8, 3, sparse=True)` tables whose rows' product is squashed to one output."""
    gen = torch.Generator().manual_seed(0)

    class Small(torch.nn.Module):
        def __init__(self):
            super().__init__()
            if kind == "embedding":
                self.layer1 = torch.nn.Embedding(8, 3, sparse=True, dtype=dtype)
                self.layer2 = torch.nn.Embedding(8, 3, sparse=True, dtype=dtype)
            else:
                self.layer1 = torch.nn.Linear(2, 3, bias=kind == "mlp", dtype=dtype)
                self.layer2 = torch.nn.Linear(3, 1, bias=kind == "mlp", dtype=dtype)
            if kind == "mlp":
                self.scale = torch.nn.Parameter(torch.tensor(1.5, dtype=dtype))

        def forward(self, x):
            if kind == "embedding":
                return torch.sigmoid((self.layer1(x) * self.layer2(x)).sum(-1, keepdim=True))
            out = torch.sigmoid(self.layer2(torch.sigmoid(self.layer1(x))))
            return self.scale * out if kind == "mlp" else out

    model = Small()
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.randn(p.shape, generator=gen, dtype=dtype))
    return model


def _data(kind: str, steps: int, dtype: torch.dtype) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """(inputs, targets) per step: the same batch every step, or for embeddings a new batch of row
    indices each step (rows not in a batch get no gradient, the case SparseAdam exists for)."""
    gen = torch.Generator().manual_seed(1)
    if kind == "embedding":
        return [(torch.randint(0, 8, (6,), generator=gen), torch.rand(6, 1, generator=gen, dtype=dtype))
                for _ in range(steps)]
    x = torch.randn(16, 2, generator=gen, dtype=dtype)
    y = torch.rand(16, 1, generator=gen, dtype=dtype)
    return [(x, y)] * steps


def _accepted_arguments(optimizer_class) -> set[str] | None:
    """Names the constructor accepts (None: anything, it takes **kwargs)."""
    signature = inspect.signature(optimizer_class.__init__)
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in signature.parameters.values()):
        return None
    return set(signature.parameters) - {"self"}


def _loss_and_grads(model, x, y, frozen: bool) -> tuple[torch.Tensor, list[torch.Tensor | None]]:
    loss = ((model(x) - y) ** 2).mean()
    names, params = zip(*model.named_parameters(), strict=True)
    grads = torch.autograd.grad(loss, params)
    # a frozen step: the first layer gets no gradient
    return loss.detach(), [None if frozen and n.startswith("layer1.") else g
                           for n, g in zip(names, grads, strict=True)]


def _set_grads(model, x, y, frozen: bool) -> torch.Tensor:
    """Assign every parameter's .grad (None for the frozen layer) and return the loss."""
    loss, grads = _loss_and_grads(model, x, y, frozen)
    for p, g in zip(model.parameters(), grads, strict=True):
        p.grad = g
    return loss


class _Reference:
    """torch's run of one configuration (`torch.optim.<name>(..., foreach=False)` on the seeded model),
    stepped on demand: `after(step)` is its parameters after that step. It is built when the learner's
    constructor has succeeded (torch's constructor raising is raised there, as before) and advanced one
    step after each of the learner's steps; an exception torch raised at a step is raised again at that
    step. Kept for later checks in this process when the run is determined by its key (see
    `_reference`): torch's run on the same model and data is deterministic, so a later learner is
    compared with the same values as before, without running torch again."""

    def __init__(self, name, config, *, groups, steps, dtype, kind):
        torch_class = getattr(torch.optim, name)
        self.model = _model(dtype, kind)
        self.params = list(self.model.parameters())
        self.data = _data(kind, steps, dtype)
        self.closure_driven = name in CLOSURE_OPTIMIZERS
        ref_config = dict(config)
        if "foreach" in inspect.signature(torch_class).parameters:
            ref_config["foreach"] = False  # torch's for-loop, always
        self.opt = torch_class(_param_arg(self.params, config, groups), **ref_config)
        self.snapshots: list[list[torch.Tensor]] = []  # parameters after step 1, 2, ...
        self.failure: tuple[int, BaseException] | None = None
        self.poisoned = False  # interrupted inside a step of torch's: never reused

    def after(self, step: int) -> list[torch.Tensor]:
        """torch's parameters after `step` (1-based), running torch's steps not run yet."""
        while len(self.snapshots) < step:
            if self.failure is not None:
                raise self.failure[1]
            done = len(self.snapshots) + 1
            frozen = done in FROZEN_STEPS
            x, y = self.data[done - 1]
            try:
                if self.closure_driven:
                    self.opt.step(functools.partial(_set_grads, self.model, x, y, frozen))
                else:
                    _set_grads(self.model, x, y, frozen)
                    self.opt.step()
            except Exception as e:
                self.failure = (done, e)
                raise
            except BaseException:  # interrupted mid-step (a KeyboardInterrupt): torch's state may be half
                self.poisoned = True  # stepped, so this run is never reused (see _reference)
                raise
            self.snapshots.append([p.detach().clone() for p in self.params])
        return self.snapshots[step - 1]


_REFERENCES = KeptRuns()  # key -> _Reference: torch's runs, reused (see _reference)


def _reference(name, config, *, groups, steps, dtype, kind) -> _Reference:
    """torch's run for this check: the one kept from an earlier check when the configuration is plain
    data (keyed by its repr, with the optimizer class, steps, dtype, groups, model and torch's default
    dtype and thread count), else a new one."""
    if not plain(config):
        return _Reference(name, config, groups=groups, steps=steps, dtype=dtype, kind=kind)
    key = (name, getattr(torch.optim, name), repr(config), steps, dtype, groups, kind, torch.get_default_dtype(),
           torch.get_num_threads())
    kept = _REFERENCES.get(key)
    if kept is None or kept.poisoned:
        kept = _Reference(name, config, groups=groups, steps=steps, dtype=dtype, kind=kind)
        _REFERENCES.put(key, kept)
    return kept


def _param_arg(params, config, groups):
    """The parameters as the constructor gets them: one list, or two groups (the second at half the lr)."""
    if not groups:
        return params
    return [{"params": params[:2]}, {"params": params[2:], "lr": config.get("lr", 1e-3) / 2}]


def _run_one(optimizer_class, name, config, *, groups, steps, dtype, rtol, atol) -> CheckResult:
    kind = MODEL_KINDS.get(name, "mlp")
    data = _data(kind, steps, dtype)
    mine = _model(dtype, kind)
    names = [n for n, _ in mine.named_parameters()]
    mine_params = list(mine.parameters())
    closure_driven = name in CLOSURE_OPTIMIZERS

    try:
        opt = optimizer_class(_param_arg(mine_params, config, groups), **config)
    except Exception as e:  # the learner's constructor failed
        return CheckResult(config, False, message=f"constructing your optimizer raised {type(e).__name__}: {e}")
    reference = _reference(name, config, groups=groups, steps=steps, dtype=dtype, kind=kind)

    worst = 0.0
    bitwise = True
    for step in range(1, steps + 1):
        frozen = step in FROZEN_STEPS
        x, y = data[step - 1]
        if closure_driven:  # the optimizer calls the closure (maybe several times): it sets the grads itself
            mine_step = functools.partial(opt.step, functools.partial(_set_grads, mine, x, y, frozen))
        else:
            _set_grads(mine, x, y, frozen)
            mine_step = opt.step
        given = [None if p.grad is None else p.grad.clone() for p in mine_params]
        grad_objects = [p.grad for p in mine_params]
        try:
            mine_step()
        except Exception as e:
            hint = " (torch skips a parameter whose .grad is None)" if frozen else ""
            return CheckResult(
                config, False, step=step, message=f"step {step}: your step() raised {type(e).__name__}: {e}{hint}"
            )
        ref_params = reference.after(step)  # torch's step (run now, or kept from an earlier check)
        for pname, p, g, obj in zip(names, mine_params, given, grad_objects, strict=True):
            if closure_driven:
                break  # the closure assigned new gradients during the step
            if g is not None and (p.grad is not obj or not _same(p.grad, g)):
                return CheckResult(
                    config, False, step=step, parameter=pname,
                    message=f"step {step}, parameter {pname!r}: step() changed p.grad (e.g. an in-place "
                    "`g += weight_decay * p`); torch never modifies the gradient",
                )
        for pname, p, q in zip(names, mine_params, ref_params, strict=True):
            diff = (p.detach() - q.detach()).abs().max().item() if p.numel() else 0.0
            if not math.isfinite(diff) and torch.equal(p, q):
                diff = 0.0
            bitwise = bitwise and torch.equal(p, q)
            if not torch.allclose(p.detach(), q.detach(), rtol=rtol, atol=atol, equal_nan=True):
                return CheckResult(
                    config, False, step=step, parameter=pname, max_abs_diff=diff,
                    message=f"step {step}, parameter {pname!r}: max |yours - torch's| = {diff:.3g} "
                    f"(tolerance rtol={rtol:g}, atol={atol:g})",
                )
            worst = max(worst, diff)
    exact = "bitwise equal" if bitwise else f"max |yours - torch's| = {worst:.3g}"
    return CheckResult(
        config, True, max_abs_diff=worst, bitwise=bitwise,
        message=f"{steps} steps, every parameter matches ({exact})",
    )


def check_optimizer(
    optimizer_class,
    name: str,
    configs: list[dict] | None = None,
    *,
    steps: int = STEPS,
    dtype: torch.dtype = torch.float64,
    rtol: float = 1e-9,
    atol: float = 1e-12,
    verbose: bool = True,
) -> list[CheckResult]:
    """Compare `optimizer_class` with `torch.optim.<name>` on a small model, every parameter after
    every step, for each configuration (default: `DEFAULT_CONFIGS[name]`, filtered to the arguments
    the constructor accepts). Prints one line per configuration (unless `verbose=False`) and returns
    the list of `CheckResult`s.

    The default tolerance (float64, rtol 1e-9, atol 1e-12) accepts rounding differences such as
    `sqrt(v / c)` instead of torch's `sqrt(v) / sqrt(c)`, and catches every wrong formula; pass
    `rtol=0, atol=0` to demand bit-for-bit equality.
    """
    if not callable(optimizer_class):
        raise TypeError(f"optimizer_class must be your optimizer's class (e.g. MyAdam), not an instance: "
                        f"got {optimizer_class!r}")
    if not isinstance(name, str) or not hasattr(torch.optim, name) or name == "Optimizer":
        known = ", ".join(sorted(DEFAULT_CONFIGS))
        raise ValueError(f"name must name a torch.optim optimizer (e.g. {known}), got {name!r}")
    if configs is None:
        if name not in DEFAULT_CONFIGS:
            known = ", ".join(sorted(DEFAULT_CONFIGS))
            raise ValueError(f"no default configurations for {name!r} (known: {known}); pass configs=[{{...}}]")
        configs = DEFAULT_CONFIGS[name]
    if not isinstance(configs, (list, tuple)) or not all(isinstance(c, dict) for c in configs):
        raise TypeError(f"configs must be a list of dicts of constructor arguments, got {configs!r}")
    if not configs:
        raise ValueError("configs is empty: expected at least one dict of constructor arguments (or None)")
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < max(FROZEN_STEPS) + 1:
        raise ValueError(
            f"steps must be an int of at least {max(FROZEN_STEPS) + 1} (layers are frozen on steps "
            f"{FROZEN_STEPS}), got {steps!r}"
        )
    if dtype not in (torch.float32, torch.float64):
        raise ValueError(f"dtype must be torch.float32 or torch.float64, got {dtype!r}")
    for what, tol in (("rtol", rtol), ("atol", atol)):
        if isinstance(tol, bool) or not isinstance(tol, (int, float)) or not tol >= 0:
            raise ValueError(f"{what} must be a number >= 0, got {tol!r}")

    accepted = _accepted_arguments(optimizer_class)
    runs = [(copy.deepcopy(c), False) for c in configs]
    if (isinstance(optimizer_class, type) and issubclass(optimizer_class, torch.optim.Optimizer)
            and name not in SINGLE_GROUP_OPTIMIZERS):
        runs.append((copy.deepcopy(configs[0]), True))  # two parameter groups, different lr
    results = []
    for config, groups in runs:
        missing = [] if accepted is None else sorted(set(config) - accepted)
        if missing:
            result = CheckResult(
                config, True, skipped=True,
                message=f"your constructor has no argument {', '.join(map(repr, missing))}",
            )
        else:
            result = _run_one(
                optimizer_class, name, config, groups=groups, steps=steps, dtype=dtype, rtol=rtol, atol=atol
            )
            if groups:
                result.message = "[2 param groups] " + result.message
        results.append(result)
        if verbose:
            print(result, flush=True)
    if verbose:
        ran = [r for r in results if not r.skipped]
        passed = sum(r.passed for r in ran)
        print(f"{optimizer_class.__name__} vs torch.optim.{name}: {passed}/{len(ran)} configurations pass"
              f" ({len(results) - len(ran)} skipped)")
    return results
