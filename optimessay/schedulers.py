r"""Learning-rate schedulers: drop-in, readable re-implementations of `torch.optim.lr_scheduler`.

A scheduler owns no learning rate of its own: it rewrites `group["lr"]` in every param group of any
`torch.optim.Optimizer` (torch's or optimessay's), once per `step()`. Write $t$ for the scheduler's
step counter `last_epoch` and $\eta_0$ for a group's `initial_lr` (its lr when the first scheduler was
attached); each class's docstring gives that group's lr $\eta_t$ as a formula of $t$ (ReduceLROnPlateau's
depends on the metrics it is stepped on, and its docstring gives the rule instead).

Torch computes most schedules *chainably*: the new lr is the optimizer's current lr times a factor
(for example $\eta_t = \gamma\,\eta_{t-1}$), not the formula evaluated afresh. On a fresh run the two
agree up to rounding, but the chainable form is what torch does when a scheduler is resumed with
`last_epoch >= 0` (it continues from whatever lr the optimizer holds) and when something else also
changes the lr, so the classes below compute `get_lr()` chainably wherever torch does (op for op, so
the numbers are bitwise torch's), and give the formula as `closed_form(t, base_lr)` (torch uses it for
`step(epoch)` and inside `SequentialLR`).

Each class sits between snippet markers (`steplr`, `cosineannealinglr`, ...); the base class, the
imports and the helpers several classes share are in the `base` section, and `base` plus any one class
section runs on its own with torch. `SWALR` is torch's `torch.optim.swa_utils.SWALR`.
"""

# --8<-- [start:base]
import math
import types
import warnings
from bisect import bisect_right
from collections import Counter

import torch


def _copy(lr):
    """An lr value that does not alias the optimizer's (lrs may be tensors)."""
    return lr.clone() if isinstance(lr, torch.Tensor) else lr


def _write_lr(group, lr):
    """Set a param group's lr; a tensor lr is filled in place, as torch does."""
    if isinstance(group["lr"], torch.Tensor):
        group["lr"].fill_(lr)
    else:
        group["lr"] = lr


def _per_group(name, optimizer, value):
    """One value per param group: a list/tuple as given (of the right length), or a number repeated."""
    n = len(optimizer.param_groups)
    if isinstance(value, (list, tuple)):
        if len(value) != n:
            raise ValueError(
                f"{name} must have the same length as optimizer.param_groups. "
                f"{name} has {len(value)} values, param_groups has {n}."
            )
        return [_copy(v) for v in value]
    return [_copy(value)] * n


def _write_momentum(group, momentum, use_beta1):
    """Momentum lives in `group["momentum"]` (SGD, RMSprop) or as beta1 in `group["betas"]` (Adam)."""
    if use_beta1:
        group["betas"] = (momentum, *group["betas"][1:])
    else:
        group["momentum"] = momentum


def _function_state(fn):
    """What a state dict keeps of a user's function: None for a plain function (it cannot be saved),
    a copy of its `__dict__` for a callable object (as torch)."""
    return None if fn is None or isinstance(fn, types.FunctionType) else fn.__dict__.copy()


def _load_function_state(fn, fn_state):
    """Put a callable object's saved `__dict__` back (nothing to do for a plain function)."""
    if fn_state is not None:
        fn.__dict__.update(fn_state)


def _steps_on_a_metric(scheduler):
    """ReduceLROnPlateau (torch's, ours, or a subclass of either): its step() needs a metric, so it
    cannot be a child of SequentialLR or ChainedScheduler."""
    return any(cls.__name__ == "ReduceLROnPlateau" for cls in type(scheduler).__mro__)


def _record_optimizer_steps(optimizer):
    """Wrap `optimizer.step` so that it notes it has run (for the step-order warning).

    The marker names are torch's, so torch's and our schedulers share one wrapper."""
    if hasattr(optimizer.step, "_wrapped_by_lr_sched"):
        return
    step = optimizer.step.__func__  # the optimizer class's step function

    def step_and_record(*args, **kwargs):
        optimizer._opt_called = True
        return step(optimizer, *args, **kwargs)

    step_and_record._wrapped_by_lr_sched = True
    optimizer.step = step_and_record


class LRScheduler:
    r"""Base class: sets every param group's `lr` from a schedule, one `step()` at a time.

    Subclasses give `get_lr()` (the lrs at $t$ = `last_epoch`, torch's way) and, where a formula
    exists, `closed_form(t, base_lr)`.

    - Construction records `initial_lr` in every group (unless a scheduler already did; with
      `last_epoch >= 0` it must be there, as after loading an optimizer checkpoint), keeps
      `base_lrs`, then steps once: to $t = 0$ on a fresh start, to $t$ = `last_epoch + 1` on a resume.
    - `step()` moves to $t + 1$ and writes the new lrs; call it *after* `optimizer.step()`
      (torch warns on the first call otherwise, and so do we, with torch's words).
    - `state_dict()` is everything but the optimizer, as in torch, so the two load each other's.

    It does not subclass torch's `LRScheduler`, so that the whole mechanism is here to read; its
    attribute and method names are torch's, so torch's `SequentialLR` can drive our schedulers and
    ours can drive torch's.
    """

    def __init__(self, optimizer, last_epoch=-1):
        if not isinstance(optimizer, torch.optim.Optimizer):
            raise TypeError(f"{type(optimizer).__name__} is not an Optimizer")
        self.optimizer = optimizer
        if last_epoch == -1:
            for group in optimizer.param_groups:
                group.setdefault("initial_lr", _copy(group["lr"]))
        else:
            for i, group in enumerate(optimizer.param_groups):
                if "initial_lr" not in group:
                    raise KeyError(
                        f"param 'initial_lr' is not specified in param_groups[{i}] when resuming scheduler with last_epoch >= 0.\n"
                        "This typically happens when:\n"
                        "1. You're trying to resume training from a checkpoint but haven't properly loaded the optimizer state\n"
                        "2. You're using last_epoch >= 0 for a fresh training run (not recommended)"
                    )
        self.base_lrs = [_copy(group["initial_lr"]) for group in optimizer.param_groups]
        self.last_epoch = last_epoch
        _record_optimizer_steps(optimizer)
        self._initial_step()

    def _initial_step(self):
        """The step taken at construction (to t = last_epoch + 1); `_is_initial` is True during it."""
        self._step_count = 0
        self._is_initial = True
        try:
            self.step()
        finally:
            self._is_initial = False

    def step(self, epoch=None):
        """Move to the next t and write the new lr into every param group."""
        if self._step_count == 1:  # the user's first call: was optimizer.step() called before it?
            if not hasattr(self.optimizer.step, "_wrapped_by_lr_sched"):
                warnings.warn(
                    "Seems like `optimizer.step()` has been overridden after learning rate scheduler "
                    "initialization. Please, make sure to call `optimizer.step()` before "
                    "`lr_scheduler.step()`. See more details at "
                    "https://pytorch.org/docs/stable/optim.html#how-to-adjust-learning-rate",
                    UserWarning,
                    stacklevel=2,
                )
            elif not getattr(self.optimizer, "_opt_called", False):
                warnings.warn(
                    "Detected call of `lr_scheduler.step()` before `optimizer.step()`. "
                    "In PyTorch 1.1.0 and later, you should call them in the opposite order: "
                    "`optimizer.step()` before `lr_scheduler.step()`.  Failure to do this "
                    "will result in PyTorch skipping the first value of the learning rate schedule. "
                    "See more details at "
                    "https://pytorch.org/docs/stable/optim.html#how-to-adjust-learning-rate",
                    UserWarning,
                    stacklevel=2,
                )
        self._step_count += 1
        if epoch is not None:
            warnings.warn(
                "The epoch parameter in `scheduler.step()` was not necessary and is being "
                "deprecated where possible. Please use `scheduler.step()` to step the "
                "scheduler. During the deprecation, if epoch is different from None, the "
                "closed form is used instead of the new chainable form, where available. "
                "Please open an issue if you are unable to replicate your use case: "
                "https://github.com/pytorch/pytorch/issues/new/choose.",
                UserWarning,
                stacklevel=2,
            )
        self._update_lr(epoch)

    def _update_lr(self, epoch=None):
        """t ← t + 1 and the chainable `get_lr()`; or t ← epoch and the closed form (as torch)."""
        if epoch is None:
            self.last_epoch += 1
            lrs = self.get_lr()
        else:
            self.last_epoch = epoch
            lrs = self._get_closed_form_lr()
        for group, lr in zip(self.optimizer.param_groups, lrs, strict=True):
            _write_lr(group, lr)
        self._last_lr = [_copy(group["lr"]) for group in self.optimizer.param_groups]

    def get_lr(self):
        """The lr of every param group at t = `last_epoch` (each subclass says how)."""
        raise NotImplementedError

    def closed_form(self, t, base_lr):
        """The docstring's formula: a group's lr at step t from its base lr."""
        raise NotImplementedError

    def _get_closed_form_lr(self):
        return [self.closed_form(self.last_epoch, base_lr) for base_lr in self.base_lrs]

    def _group_lrs(self):
        """The optimizer's current lr, one per param group."""
        return [_copy(group["lr"]) for group in self.optimizer.param_groups]

    def get_last_lr(self):
        """The lrs this scheduler last wrote, one per param group."""
        return self._last_lr

    def state_dict(self):
        """Everything but the optimizer (torch's layout)."""
        return {key: value for key, value in self.__dict__.items() if key != "optimizer"}

    def load_state_dict(self, state_dict):
        self.__dict__.update(state_dict)
# --8<-- [end:base]


# --8<-- [start:lambdalr]
class LambdaLR(LRScheduler):
    r"""The initial lr times a function of the step, one function per group (or one for all):

    $$
    \eta_t = \eta_0 \, \lambda(t)
    $$

    Not chainable in torch either: every step evaluates $\lambda$ afresh.
    """

    def __init__(self, optimizer, lr_lambda, last_epoch=-1):
        self.optimizer = optimizer
        if not isinstance(lr_lambda, (list, tuple)):
            self.lr_lambdas = [lr_lambda] * len(optimizer.param_groups)
        else:
            if len(lr_lambda) != len(optimizer.param_groups):
                raise ValueError(f"Expected {len(optimizer.param_groups)} lr_lambdas, but got {len(lr_lambda)}")
            self.lr_lambdas = list(lr_lambda)
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        t = self.last_epoch
        return [base_lr * lr_lambda(t) for lr_lambda, base_lr in zip(self.lr_lambdas, self.base_lrs, strict=True)]

    def _get_closed_form_lr(self):
        return self.get_lr()

    def state_dict(self):
        """As torch: plain functions are stored as None, callable objects as a copy of their `__dict__`."""
        state = {key: value for key, value in self.__dict__.items() if key not in ("optimizer", "lr_lambdas")}
        state["lr_lambdas"] = [_function_state(fn) for fn in self.lr_lambdas]
        return state

    def load_state_dict(self, state_dict):
        state = dict(state_dict)
        lr_lambdas = state.pop("lr_lambdas")
        self.__dict__.update(state)
        for fn, fn_state in zip(self.lr_lambdas, lr_lambdas, strict=True):
            _load_function_state(fn, fn_state)
# --8<-- [end:lambdalr]


# --8<-- [start:steplr]
class StepLR(LRScheduler):
    r"""Multiply the lr by `gamma` every `step_size` steps:

    $$
    \eta_t = \eta_0 \, \gamma^{\lfloor t / s \rfloor}
    $$

    with $s$ = `step_size`.
    """

    def __init__(self, optimizer, step_size, gamma=0.1, last_epoch=-1):
        self.step_size = step_size
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def closed_form(self, t, base_lr):
        return base_lr * self.gamma ** (t // self.step_size)

    def get_lr(self):
        # torch's chainable form of the formula (needed to equal torch on a resume): the lr is
        # multiplied by gamma each time t reaches a positive multiple of step_size.
        t = self.last_epoch
        if t == 0 or t % self.step_size != 0:
            return self._group_lrs()
        return [lr * self.gamma for lr in self._group_lrs()]
# --8<-- [end:steplr]


# --8<-- [start:multisteplr]
class MultiStepLR(LRScheduler):
    r"""Multiply the lr by `gamma` at each milestone (twice at a milestone listed twice):

    $$
    \eta_t = \eta_0 \, \gamma^{\#\{i \,:\, m_i \le t\}}
    $$

    with $m_1, m_2, \dots$ the `milestones`, counted with repetition.
    """

    def __init__(self, optimizer, milestones, gamma=0.1, last_epoch=-1):
        self.milestones = Counter(milestones)  # milestone -> how many times it is listed
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def closed_form(self, t, base_lr):
        passed = sum(count for milestone, count in self.milestones.items() if milestone <= t)
        return base_lr * self.gamma**passed

    def get_lr(self):
        # torch's chainable form (needed to equal torch on a resume): at a milestone listed n times
        # the lr is multiplied by gamma ** n.
        t = self.last_epoch
        if t not in self.milestones:
            return self._group_lrs()
        return [lr * self.gamma ** self.milestones[t] for lr in self._group_lrs()]
# --8<-- [end:multisteplr]


# --8<-- [start:constantlr]
class ConstantLR(LRScheduler):
    r"""A constant fraction `factor` of the lr for the first `total_iters` steps, then the full lr:

    $$
    \eta_t = \begin{cases} f\,\eta_0 & t < T \\ \eta_0 & t \ge T \end{cases}
    $$

    with $f$ = `factor` and $T$ = `total_iters`.
    """

    def __init__(self, optimizer, factor=1.0 / 3, total_iters=5, last_epoch=-1):
        if factor > 1.0 or factor < 0:
            raise ValueError("Constant multiplicative factor expected to be between 0 and 1.")
        self.factor = factor
        self.total_iters = total_iters
        super().__init__(optimizer, last_epoch)

    def closed_form(self, t, base_lr):
        return base_lr * (self.factor + (t >= self.total_iters) * (1 - self.factor))

    def get_lr(self):
        # torch's chainable form (needed to equal torch on a resume): multiply by f at t = 0 and
        # by 1/f at t = T; in between the lr is left as it is.
        t = self.last_epoch
        if t == 0:
            return [lr * self.factor for lr in self._group_lrs()]
        if t != self.total_iters:
            return self._group_lrs()
        return [lr * (1.0 / self.factor) for lr in self._group_lrs()]
# --8<-- [end:constantlr]


# --8<-- [start:linearlr]
class LinearLR(LRScheduler):
    r"""Warm-up (or decay): the lr's factor moves linearly from `start_factor` to `end_factor` over
    `total_iters` steps, then stays:

    $$
    \eta_t = \eta_0 \left(s + (e - s)\,\frac{\min(t, T)}{T}\right)
    $$

    with $s$ = `start_factor`, $e$ = `end_factor`, $T$ = `total_iters`.
    """

    def __init__(self, optimizer, start_factor=1.0 / 3, end_factor=1.0, total_iters=5, last_epoch=-1):
        if start_factor > 1.0 or start_factor <= 0:
            raise ValueError("Starting multiplicative factor expected to be greater than 0 and less or equal to 1.")
        if end_factor > 1.0 or end_factor < 0:
            raise ValueError("Ending multiplicative factor expected to be between 0 and 1.")
        self.start_factor = start_factor
        self.end_factor = end_factor
        self.total_iters = total_iters
        super().__init__(optimizer, last_epoch)

    def closed_form(self, t, base_lr):
        s, e, T = self.start_factor, self.end_factor, self.total_iters
        return base_lr * (s + (e - s) * min(T, t) / T)

    def get_lr(self):
        # torch's chainable form (needed to equal torch on a resume): the factor at t over the factor
        # at t-1 is (s + (e-s)t/T) / (s + (e-s)(t-1)/T) = 1 + (e-s) / (T s + (t-1)(e-s)).
        s, e, T = self.start_factor, self.end_factor, self.total_iters
        t = self.last_epoch
        if t == 0:
            return [lr * s for lr in self._group_lrs()]
        if self._is_initial or t > T:  # a resume keeps the optimizer's lr; after T nothing changes
            return self._group_lrs()
        return [lr * (1.0 + (e - s) / (T * s + (t - 1) * (e - s))) for lr in self._group_lrs()]
# --8<-- [end:linearlr]


# --8<-- [start:exponentiallr]
class ExponentialLR(LRScheduler):
    r"""Multiply the lr by `gamma` every step:

    $$
    \eta_t = \eta_0 \, \gamma^{t}
    $$
    """

    def __init__(self, optimizer, gamma, last_epoch=-1):
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def closed_form(self, t, base_lr):
        return base_lr * self.gamma**t

    def get_lr(self):
        # torch's chainable form (needed to equal torch on a resume): eta_t = gamma * eta_{t-1}.
        if self._is_initial:  # construction (t = 0, or a resume) keeps the optimizer's lr
            return self._group_lrs()
        return [lr * self.gamma for lr in self._group_lrs()]
# --8<-- [end:exponentiallr]


# --8<-- [start:cosineannealinglr]
class CosineAnnealingLR(LRScheduler):
    r"""Half a cosine from the initial lr down to `eta_min` over `T_max` steps; past `T_max` it
    keeps going, back up and down again (period $2T$):

    $$
    \eta_t = \eta_{\min} + \frac{\eta_0 - \eta_{\min}}{2}\left(1 + \cos\frac{\pi t}{T}\right)
    $$

    with $T$ = `T_max`.
    """

    def __init__(self, optimizer, T_max, eta_min=0.0, last_epoch=-1):
        self.T_max = T_max
        self.eta_min = eta_min
        super().__init__(optimizer, last_epoch)

    def closed_form(self, t, base_lr):
        return self.eta_min + (base_lr - self.eta_min) * (1 + math.cos(math.pi * t / self.T_max)) / 2

    def get_lr(self):
        # torch's chainable form (needed to equal torch on a resume; on a fresh run the closed form
        # agrees to ~1e-13 relative, not bitwise): eta_t - eta_min is proportional to 1 + cos(pi t/T),
        # so each step multiplies it by the ratio of that quantity at t and at t-1.
        t, T, eta_min = self.last_epoch, self.T_max, self.eta_min
        if self._is_initial:  # construction (t = 0, or a resume) keeps the optimizer's lr
            return self._group_lrs()
        if (t - 1 - T) % (2 * T) == 0:
            # t-1 was a trough (1 + cos = 0, the ratio would divide by zero): climb by the formula's
            # increment from the trough, (eta_0 - eta_min)(1 - cos(pi / T)) / 2.
            return [
                lr + (base_lr - eta_min) * (1 - math.cos(math.pi / T)) / 2
                for lr, base_lr in zip(self._group_lrs(), self.base_lrs, strict=True)
            ]
        ratio = (1 + math.cos(math.pi * t / T)) / (1 + math.cos(math.pi * (t - 1) / T))
        return [ratio * (lr - eta_min) + eta_min for lr in self._group_lrs()]
# --8<-- [end:cosineannealinglr]


# --8<-- [start:onecyclelr]
class OneCycleLR(LRScheduler):
    r"""The 1cycle policy: the lr climbs from `max_lr / div_factor` to `max_lr`, then anneals to
    `initial_lr / final_div_factor`; momentum (or Adam's $\beta_1$) moves the opposite way.

    With $T$ = `total_steps`, $p$ = `pct_start`, $\eta_{\max}$ = `max_lr`,
    $\eta_0 = \eta_{\max} / d$ (`div_factor`), $\eta_{\min} = \eta_0 / d_f$ (`final_div_factor`),
    and the anneal from $a$ to $b$ as the fraction $x$ goes from 0 to 1

    $$
    A_{\cos}(a, b, x) = b + \frac{a - b}{2}\left(1 + \cos \pi x\right), \qquad
    A_{\mathrm{lin}}(a, b, x) = a + (b - a)\,x,
    $$

    the two-phase schedule (default) is, with $t_1 = pT - 1$ and $t_2 = T - 1$,

    $$
    \eta_t = \begin{cases}
    A(\eta_0, \eta_{\max}, t / t_1) & t \le t_1 \\
    A(\eta_{\max}, \eta_{\min}, (t - t_1) / (t_2 - t_1)) & t > t_1
    \end{cases}
    $$

    and the three-phase one (`three_phase=True`) goes back down to $\eta_0$ symmetrically first,
    then to $\eta_{\min}$, with $t_1 = pT - 1$, $t_2 = 2pT - 2$, $t_3 = T - 1$:

    $$
    \eta_t = \begin{cases}
    A(\eta_0, \eta_{\max}, t / t_1) & t \le t_1 \\
    A(\eta_{\max}, \eta_0, (t - t_1) / (t_2 - t_1)) & t_1 < t \le t_2 \\
    A(\eta_0, \eta_{\min}, (t - t_2) / (t_3 - t_2)) & t > t_2
    \end{cases}
    $$

    Momentum follows the same phases from `max_momentum` to `base_momentum` and back (it stays at
    `max_momentum` in the third phase). Stepping to $t > T$ raises `ValueError`.
    The schedule is not chainable: every step evaluates it afresh, as torch does.
    """

    def __init__(
        self,
        optimizer,
        max_lr,
        total_steps=None,
        epochs=None,
        steps_per_epoch=None,
        pct_start=0.3,
        anneal_strategy="cos",
        cycle_momentum=True,
        base_momentum=0.85,
        max_momentum=0.95,
        div_factor=25.0,
        final_div_factor=1e4,
        three_phase=False,
        last_epoch=-1,
    ):
        if not isinstance(optimizer, torch.optim.Optimizer):
            raise TypeError(f"{type(optimizer).__name__} is not an Optimizer")
        self.optimizer = optimizer

        if total_steps is not None:
            if total_steps <= 0 or not isinstance(total_steps, int):
                raise ValueError(f"Expected positive integer total_steps, but got {total_steps}")
            self.total_steps = total_steps
        elif epochs is not None and steps_per_epoch is not None:
            if not isinstance(epochs, int) or epochs <= 0:
                raise ValueError(f"Expected positive integer epochs, but got {epochs}")
            if not isinstance(steps_per_epoch, int) or steps_per_epoch <= 0:
                raise ValueError(f"Expected positive integer steps_per_epoch, but got {steps_per_epoch}")
            self.total_steps = epochs * steps_per_epoch
        else:
            raise ValueError("You must define either total_steps OR (epochs AND steps_per_epoch)")

        # Each phase: its last step, and the names of the group entries it anneals from and to.
        T = self.total_steps
        if three_phase:
            self._schedule_phases = [
                _phase(float(pct_start * T) - 1, "initial_lr", "max_lr", "max_momentum", "base_momentum"),
                _phase(float(2 * pct_start * T) - 2, "max_lr", "initial_lr", "base_momentum", "max_momentum"),
                _phase(T - 1, "initial_lr", "min_lr", "max_momentum", "max_momentum"),
            ]
        else:
            self._schedule_phases = [
                _phase(float(pct_start * T) - 1, "initial_lr", "max_lr", "max_momentum", "base_momentum"),
                _phase(T - 1, "max_lr", "min_lr", "base_momentum", "max_momentum"),
            ]

        if pct_start < 0 or pct_start > 1 or not isinstance(pct_start, float):
            raise ValueError(f"Expected float between 0 and 1 pct_start, but got {pct_start}")
        if anneal_strategy not in ["cos", "linear"]:
            raise ValueError(f"anneal_strategy must be one of 'cos' or 'linear', instead got {anneal_strategy}")
        self._anneal_func_type = anneal_strategy

        # The lr ends of the cycle live in each group (initial_lr is overwritten, unlike other schedulers).
        max_lrs = _per_group("max_lr", optimizer, max_lr)
        if last_epoch == -1:
            for group, group_max_lr in zip(optimizer.param_groups, max_lrs, strict=True):
                group["initial_lr"] = group_max_lr / div_factor
                group["max_lr"] = group_max_lr
                group["min_lr"] = group["initial_lr"] / final_div_factor

        self.cycle_momentum = cycle_momentum
        if cycle_momentum:
            if "momentum" not in optimizer.defaults and "betas" not in optimizer.defaults:
                raise ValueError("optimizer must support momentum or beta1 with `cycle_momentum` option enabled")
            self.use_beta1 = "betas" in optimizer.defaults
            max_momentums = _per_group("max_momentum", optimizer, max_momentum)
            base_momentums = _per_group("base_momentum", optimizer, base_momentum)
            if last_epoch == -1:
                for group, group_max, group_base in zip(
                    optimizer.param_groups, max_momentums, base_momentums, strict=True
                ):
                    _write_momentum(group, group_max, self.use_beta1)
                    group["max_momentum"] = group_max
                    group["base_momentum"] = group_base

        super().__init__(optimizer, last_epoch)

    def _anneal(self, start, end, pct):
        if self._anneal_func_type == "cos":
            return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1)
        return (end - start) * pct + start

    def get_lr(self):
        t = self.last_epoch
        if t > self.total_steps:
            raise ValueError(f"Tried to step {t} times. The specified number of total steps is {self.total_steps}")

        # The phase t is in (the last phase also takes t = T, one past its end), and how far into it.
        phase_start = 0.0
        for i, phase in enumerate(self._schedule_phases):
            if t <= phase["end_step"] or i == len(self._schedule_phases) - 1:
                break
            phase_start = phase["end_step"]
        pct = (t - phase_start) / (phase["end_step"] - phase_start)

        lrs = []
        for group in self.optimizer.param_groups:
            lrs.append(self._anneal(group[phase["start_lr"]], group[phase["end_lr"]], pct))
            if self.cycle_momentum:
                momentum = self._anneal(group[phase["start_momentum"]], group[phase["end_momentum"]], pct)
                _write_momentum(group, momentum, self.use_beta1)
        return lrs

    def _get_closed_form_lr(self):
        return self.get_lr()


def _phase(end_step, start_lr, end_lr, start_momentum, end_momentum):
    return {
        "end_step": end_step,
        "start_lr": start_lr,
        "end_lr": end_lr,
        "start_momentum": start_momentum,
        "end_momentum": end_momentum,
    }

# --8<-- [end:onecyclelr]


# --8<-- [start:sequentiallr]
class SequentialLR(LRScheduler):
    r"""Run `schedulers[0]` until the first milestone, then `schedulers[1]` (restarted at its own
    $t = 0$) until the next, and so on. With milestones $m_1 < m_2 < \dots$ and $m_0 = 0$, the
    scheduler $k$ in charge at step $t$ ($m_k \le t < m_{k+1}$) sets

    $$
    \eta_t = \eta^{(k)}_{\,t - m_k}
    $$

    where $\eta^{(k)}_u$ is scheduler $k$'s lr at its own step $u$: for example linear warm-up for
    $m_1$ steps, then a cosine. Children may be torch's schedulers or ours.
    """

    def __init__(self, optimizer, schedulers, milestones, last_epoch=-1):
        name = type(self).__name__
        if len(schedulers) < 1:
            raise ValueError(f"{name} expects at least one scheduler, but got no scheduler.")
        for i, scheduler in enumerate(schedulers):
            if not hasattr(scheduler, "optimizer"):
                raise TypeError(f"{name} at index {i} should have `optimizer` as its attribute.")
            if _steps_on_a_metric(scheduler):
                raise ValueError(
                    f"{name} does not support `ReduceLROnPlateau` scheduler as it "
                    "requires additional kwargs to be specified when calling `step`, "
                    f"but got one at index {i} in the given schedulers sequence."
                )
            if optimizer != scheduler.optimizer:
                raise ValueError(
                    f"{name} expects all schedulers to belong to the same optimizer, but "
                    f"got scheduler {type(scheduler).__name__} at index {i} has {scheduler.optimizer}, "
                    f"which is different from {type(optimizer).__name__}."
                )
        if len(milestones) != len(schedulers) - 1:
            raise ValueError(
                "Sequential Schedulers expects number of schedulers provided to be one more "
                f"than the number of milestone points, but got number of schedulers {len(schedulers)} and the "
                f"number of milestones to be equal to {len(milestones)}"
            )
        self._schedulers = schedulers
        self._milestones = milestones
        self.last_epoch = last_epoch + 1
        self.optimizer = optimizer

        # Each child stepped once when it was built: put the lrs back and undo those steps (as torch),
        # then redo the first step of the child in charge at t = 0 only.
        for group in optimizer.param_groups:
            _write_lr(group, group["initial_lr"])
        for scheduler in schedulers:
            _undo_initial_step(scheduler)
        current = self._schedulers[self._index(0)]
        current._initial_step()
        self._last_lr = current.get_last_lr()

    def _index(self, t):
        """Which child is in charge at step t: how many milestones are <= t."""
        return bisect_right(self._milestones, t)

    def step(self):
        self.last_epoch += 1
        k = self._index(self.last_epoch)
        scheduler = self._schedulers[k]
        if k > 0 and self._milestones[k - 1] == self.last_epoch:
            scheduler._update_lr(0)  # a new child takes over: its formula at its own t = 0
        else:
            scheduler.step()
        self._last_lr = scheduler.get_last_lr()

    def state_dict(self):
        """Torch's layout: our own attributes, with each child's state dict under `_schedulers`."""
        state = {key: value for key, value in self.__dict__.items() if key not in ("optimizer", "_schedulers")}
        state["_schedulers"] = [scheduler.state_dict() for scheduler in self._schedulers]
        return state

    def load_state_dict(self, state_dict):
        state = dict(state_dict)
        children = state.pop("_schedulers")
        self.__dict__.update(state)
        for scheduler, child_state in zip(self._schedulers, children, strict=True):
            scheduler.load_state_dict(child_state)


def _undo_initial_step(scheduler):
    """last_epoch -= 1 for a scheduler, or for every scheduler nested in it."""
    if hasattr(scheduler, "_schedulers"):
        for child in scheduler._schedulers:
            _undo_initial_step(child)
    elif hasattr(scheduler, "last_epoch"):
        scheduler.last_epoch -= 1
# --8<-- [end:sequentiallr]


# --8<-- [start:multiplicativelr]
class MultiplicativeLR(LRScheduler):
    r"""Multiply the lr by a function of the step, every step (one function per group, or one for all):

    $$
    \eta_t = \lambda(t)\,\eta_{t-1}, \qquad \text{so} \qquad \eta_t = \eta_0 \prod_{s=1}^{t} \lambda(s)
    $$

    Construction ($t = 0$) leaves the lr as it is. Unlike `LambdaLR`, $\lambda$ gives the step's
    factor, not the whole schedule: `lambda t: 0.95` is `ExponentialLR(gamma=0.95)`.
    """

    def __init__(self, optimizer, lr_lambda, last_epoch=-1):
        self.optimizer = optimizer
        if not isinstance(lr_lambda, (list, tuple)):
            self.lr_lambdas = [lr_lambda] * len(optimizer.param_groups)  # one function for every group
        else:
            if len(lr_lambda) != len(optimizer.param_groups):
                raise ValueError(f"Expected {len(optimizer.param_groups)} lr_lambdas, but got {len(lr_lambda)}")
            self.lr_lambdas = list(lr_lambda)  # one function per group
        for fn in self.lr_lambdas:
            if not callable(fn):
                raise TypeError(f"lr_lambda should be a function, but got {type(fn).__name__}")
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        if self._is_initial:  # construction (t = 0, or a resume) keeps the optimizer's lr
            return self._group_lrs()
        t = self.last_epoch
        # eta_t = eta_{t-1} * lambda(t)
        return [lr * fn(t) for fn, lr in zip(self.lr_lambdas, self._group_lrs(), strict=True)]

    def _get_closed_form_lr(self):
        # no formula to jump to: torch's step(epoch) multiplies once by lambda(epoch), and so do we
        return self.get_lr()

    def state_dict(self):
        """As torch: plain functions are stored as None, callable objects as a copy of their `__dict__`."""
        state = {key: value for key, value in self.__dict__.items() if key not in ("optimizer", "lr_lambdas")}
        state["lr_lambdas"] = [_function_state(fn) for fn in self.lr_lambdas]
        return state

    def load_state_dict(self, state_dict):
        state = dict(state_dict)
        lr_lambdas = state.pop("lr_lambdas")
        self.__dict__.update(state)
        for fn, fn_state in zip(self.lr_lambdas, lr_lambdas, strict=True):
            _load_function_state(fn, fn_state)
# --8<-- [end:multiplicativelr]


# --8<-- [start:polynomiallr]
class PolynomialLR(LRScheduler):
    r"""Decay the lr to zero along a polynomial over `total_iters` steps, then keep it there:

    $$
    \eta_t = \eta_0 \left(1 - \frac{\min(t, T)}{T}\right)^{p}
    $$

    with $T$ = `total_iters` and $p$ = `power` ($p = 1$ is a straight line down to 0).
    """

    def __init__(self, optimizer, total_iters=5, power=1.0, last_epoch=-1):
        self.total_iters = total_iters
        self.power = power
        super().__init__(optimizer, last_epoch)

    def closed_form(self, t, base_lr):
        return base_lr * (1.0 - min(self.total_iters, t) / self.total_iters) ** self.power

    def get_lr(self):
        # torch's chainable form (needed to equal torch on a resume): the formula at t over the
        # formula at t-1, ((1 - t/T) / (1 - (t-1)/T))^p, times the current lr.
        t, T = self.last_epoch, self.total_iters
        if self._is_initial or t > T:  # construction keeps the optimizer's lr; after T it stays (at 0)
            return self._group_lrs()
        factor = ((1.0 - t / T) / (1.0 - (t - 1) / T)) ** self.power
        return [lr * factor for lr in self._group_lrs()]
# --8<-- [end:polynomiallr]


# --8<-- [start:cosineannealingwarmrestarts]
class CosineAnnealingWarmRestarts(LRScheduler):
    r"""SGDR: half a cosine from the initial lr down to `eta_min` over $T_i$ steps, then a restart at
    the initial lr; each period is `T_mult` times longer than the one before ($T_0$ = `T_0`):

    $$
    \eta_t = \eta_{\min} + \frac{\eta_0 - \eta_{\min}}{2}\left(1 + \cos\frac{\pi\,T_{cur}}{T_i}\right)
    $$

    where $T_{cur}$ counts the steps since the last restart. With $m$ = `T_mult`, period $n$
    ($n = 0, 1, \dots$) lasts $T_i = T_0\,m^n$ steps and starts at step $T_0 (m^n - 1)/(m - 1)$, so

    $$
    n = \left\lfloor \log_m\!\left(1 + \frac{t\,(m - 1)}{T_0}\right) \right\rfloor, \qquad
    T_{cur} = t - T_0\,\frac{m^n - 1}{m - 1} \qquad (m > 1), \qquad T_{cur} = t \bmod T_0 \quad (m = 1).
    $$

    `step()` counts $T_{cur}$ up by one and restarts it when it reaches $T_i$; `step(epoch)` jumps to
    `epoch` by the formula, which may be fractional (`epoch + i / batches_per_epoch`). As in torch,
    this scheduler has its own `step`: it never warns (neither about the call order nor about `epoch`).
    Torch's $n$ is a floating-point logarithm, which at a few restarts lands just below the integer
    ($\log_3 243$ = 4.999999999999999): `T_0=1, T_mult=3`, `step(121)` then gives `eta_min` (the end
    of the previous period) where 121 `step()` calls give the restart's $\eta_0$. Kept, to equal torch.
    """

    def __init__(self, optimizer, T_0, T_mult=1, eta_min=0.0, last_epoch=-1):
        if T_0 <= 0 or not isinstance(T_0, int):
            raise ValueError(f"Expected positive integer T_0, but got {T_0}")
        if T_mult < 1 or not isinstance(T_mult, int):
            raise ValueError(f"Expected integer T_mult >= 1, but got {T_mult}")
        if not isinstance(eta_min, (float, int)):
            raise ValueError(f"Expected float or int eta_min, but got {eta_min} of type {type(eta_min)}")
        self.T_0 = T_0
        self.T_i = T_0  # the current period's length
        self.T_mult = T_mult
        self.eta_min = eta_min
        self.T_cur = last_epoch  # steps since the last restart
        super().__init__(optimizer, last_epoch)

    def _position(self, epoch):
        """(T_cur, T_i) at step `epoch` (possibly fractional), by the docstring's formula."""
        if epoch < self.T_0:  # still in the first period
            return epoch, self.T_0
        if self.T_mult == 1:  # equal periods: T_cur = t mod T_0
            return epoch % self.T_0, self.T_i
        m = self.T_mult
        n = int(math.log((epoch / self.T_0 * (m - 1) + 1), m))  # the period epoch falls in
        return epoch - self.T_0 * (m**n - 1) / (m - 1), self.T_0 * m**n  # minus the earlier periods' steps

    def closed_form(self, t, base_lr):
        T_cur, T_i = self._position(t)
        return self.eta_min + (base_lr - self.eta_min) * (1 + math.cos(math.pi * T_cur / T_i)) / 2

    def get_lr(self):
        # the formula at the current (T_cur, T_i), from the base lr (not chainable, as torch)
        return [
            self.eta_min + (base_lr - self.eta_min) * (1 + math.cos(math.pi * self.T_cur / self.T_i)) / 2
            for base_lr in self.base_lrs
        ]

    def step(self, epoch=None):
        if epoch is None and self.last_epoch < 0:  # construction of a fresh run: step 0
            epoch = 0
        if epoch is None:  # one step on: T_cur + 1, and a restart (with a longer period) at T_i
            epoch = self.last_epoch + 1
            self.T_cur = self.T_cur + 1
            if self.T_cur >= self.T_i:
                self.T_cur = self.T_cur % self.T_i
                self.T_i = self.T_i * self.T_mult
        else:  # jump to `epoch` by the formula
            if epoch < 0:
                raise ValueError(f"Expected non-negative epoch, but got {epoch}")
            self.T_cur, self.T_i = self._position(epoch)
        self.last_epoch = math.floor(epoch)
        for group, lr in zip(self.optimizer.param_groups, self.get_lr(), strict=True):
            _write_lr(group, lr)
        self._last_lr = self._group_lrs()
# --8<-- [end:cosineannealingwarmrestarts]


# --8<-- [start:cycliclr]
class CyclicLR(LRScheduler):
    r"""Cyclical learning rates: the lr climbs linearly from `base_lr` to `max_lr` over
    `step_size_up` steps, comes back down over `step_size_down`, and repeats; momentum (or Adam's
    $\beta_1$) moves the opposite way, between `max_momentum` and `base_momentum`.

    With $N$ = `step_size_up` + `step_size_down` (one cycle) and $r$ = `step_size_up` / $N$, step $t$
    is in cycle $c$ (counted from 1) at the fraction $x$ of it, and the triangle $h$ rises to 1 at $x = r$:

    $$
    c = \left\lfloor 1 + \frac{t}{N} \right\rfloor, \qquad x = 1 + \frac{t}{N} - c, \qquad
    h = \begin{cases} x / r & x \le r \\ (x - 1)/(r - 1) & x > r \end{cases}
    $$

    $$
    \eta_t = \eta_{base} + (\eta_{max} - \eta_{base})\, h\, s, \qquad
    \mu_t = \mu_{max} - (\mu_{max} - \mu_{base})\, h\, s
    $$

    where the amplitude's scale $s$ is 1 (`mode="triangular"`), $2^{-(c - 1)}$ (`"triangular2"`:
    halved every cycle), $\gamma^{t}$ (`"exp_range"`), or a function of your own,
    `scale_fn(c)` (`scale_mode="cycle"`) or `scale_fn(t)` (`scale_mode="iterations"`).
    Not chainable: every step evaluates the formula afresh, as torch does.
    """

    def __init__(
        self,
        optimizer,
        base_lr,
        max_lr,
        step_size_up=2000,
        step_size_down=None,
        mode="triangular",
        gamma=1.0,
        scale_fn=None,
        scale_mode="cycle",
        cycle_momentum=True,
        base_momentum=0.8,
        max_momentum=0.9,
        last_epoch=-1,
    ):
        if not isinstance(optimizer, torch.optim.Optimizer):
            raise TypeError(f"{type(optimizer).__name__} is not an Optimizer")
        self.optimizer = optimizer

        base_lrs = _per_group("base_lr", optimizer, base_lr)
        if last_epoch == -1:  # a fresh run starts at the bottom of the cycle
            for lr, group in zip(base_lrs, optimizer.param_groups, strict=True):
                _write_lr(group, lr)
        self.max_lrs = _per_group("max_lr", optimizer, max_lr)

        step_size_up = float(step_size_up)
        step_size_down = float(step_size_down) if step_size_down is not None else step_size_up
        self.total_size = step_size_up + step_size_down  # N: steps per cycle
        self.step_ratio = step_size_up / self.total_size  # r: the rising part's share of a cycle

        if mode not in ["triangular", "triangular2", "exp_range"] and scale_fn is None:
            raise ValueError("mode is invalid and scale_fn is None")
        self.mode = mode
        self.gamma = gamma
        self._scale_fn_custom = scale_fn
        self.scale_mode = scale_mode
        self._init_scale_fn()

        self.cycle_momentum = cycle_momentum
        if cycle_momentum:
            if "momentum" not in optimizer.defaults and "betas" not in optimizer.defaults:
                raise ValueError("optimizer must support momentum or beta1 with `cycle_momentum` option enabled")
            self.use_beta1 = "betas" in optimizer.defaults  # Adam-like: momentum is betas[0]
            self.base_momentums = _per_group("base_momentum", optimizer, base_momentum)
            self.max_momentums = _per_group("max_momentum", optimizer, max_momentum)
            if last_epoch == -1:  # the momentum starts at its top (the lr at its bottom)
                for group_max, group_base, group in zip(
                    self.max_momentums, self.base_momentums, optimizer.param_groups, strict=True
                ):
                    _write_momentum(group, group_max, self.use_beta1)
                    group["max_momentum"] = group_max
                    group["base_momentum"] = group_base

        # As torch: the step taken at construction reads base_lrs from the groups' initial_lr (the
        # base lr, unless an earlier scheduler recorded another); from then on they are base_lr.
        super().__init__(optimizer, last_epoch)
        self.base_lrs = base_lrs

    def _init_scale_fn(self):
        """The built-in modes fix which count the scale is a function of (a custom scale_fn does not)."""
        if self._scale_fn_custom is not None:
            return
        self.scale_mode = "iterations" if self.mode == "exp_range" else "cycle"

    def scale_fn(self, x):
        """s: the amplitude's scale, at cycle x or at step x (see `scale_mode`)."""
        if self._scale_fn_custom is not None:
            return self._scale_fn_custom(x)
        if self.mode == "triangular":
            return 1.0  # the full amplitude every cycle
        if self.mode == "triangular2":
            return 1 / (2.0 ** (x - 1))  # halved every cycle
        return self.gamma**x  # exp_range: gamma^t

    def get_lr(self):
        t = self.last_epoch
        cycle = math.floor(1 + t / self.total_size)  # c
        x = 1.0 + t / self.total_size - cycle  # how far into the cycle, in [0, 1)
        if x <= self.step_ratio:
            height = x / self.step_ratio  # h, rising
        else:
            height = (x - 1) / (self.step_ratio - 1)  # h, falling
        scale = self.scale_fn(cycle) if self.scale_mode == "cycle" else self.scale_fn(t)  # s

        # eta_t = eta_base + (eta_max - eta_base) h s
        lrs = [
            base_lr + (max_lr - base_lr) * height * scale
            for base_lr, max_lr in zip(self.base_lrs, self.max_lrs, strict=True)
        ]
        if self.cycle_momentum:
            # mu_t = mu_max - (mu_max - mu_base) h s, written into the groups here (as torch)
            for group, base_m, max_m in zip(
                self.optimizer.param_groups, self.base_momentums, self.max_momentums, strict=True
            ):
                _write_momentum(group, max_m - (max_m - base_m) * height * scale, self.use_beta1)
        return lrs

    def _get_closed_form_lr(self):
        return self.get_lr()  # get_lr already is the formula of t

    def state_dict(self):
        """Torch's layout: a custom scale_fn is kept as None (a function) or its `__dict__` (an object)."""
        state = {key: value for key, value in self.__dict__.items() if key not in ("optimizer", "_scale_fn_custom")}
        state["_scale_fn_custom"] = _function_state(self._scale_fn_custom)
        return state

    def load_state_dict(self, state_dict):
        state = dict(state_dict)
        fn_state = state.pop("_scale_fn_custom")
        self.__dict__.update(state)
        _load_function_state(self._scale_fn_custom, fn_state)
        self._init_scale_fn()
# --8<-- [end:cycliclr]


# --8<-- [start:chainedscheduler]
class ChainedScheduler(LRScheduler):
    r"""Step several schedulers of one optimizer together: each `step()` steps every child in turn,
    each child updating the lr the previous one left. For children that multiply the lr by a factor
    (StepLR, ExponentialLR, ConstantLR, LinearLR, PolynomialLR, MultiplicativeLR, ...) the factors
    multiply:

    $$
    \eta_t = \eta_0 \prod_{k=1}^{K} \frac{\eta^{(k)}_t}{\eta^{(k)}_0}
    $$

    where $\eta^{(k)}_t$ is child $k$'s lr at step $t$ had it run alone. A child that writes an
    absolute lr (LambdaLR, OneCycleLR, CyclicLR) overrides the children before it. Children may be
    torch's schedulers or ours; it has no `last_epoch` of its own (as torch).
    """

    def __init__(self, schedulers, optimizer=None):
        name = type(self).__name__
        if len(schedulers) < 1:
            raise ValueError(f"{name} expects at least one scheduler to be chained, but got no scheduler.")
        optimizer = optimizer or schedulers[0].optimizer
        for i, scheduler in enumerate(schedulers):
            if not hasattr(scheduler, "optimizer"):
                raise TypeError(f"{name} at index {i} should have `optimizer` as its attribute.")
            if _steps_on_a_metric(scheduler):
                raise ValueError(
                    f"{name} does not support `ReduceLROnPlateau` scheduler as it "
                    "requires additional kwargs to be specified when calling `step`, "
                    f"but got one at index {i} in the given schedulers sequence."
                )
            if optimizer != scheduler.optimizer:
                raise ValueError(
                    f"{name} expects all schedulers to belong to the same optimizer, but "
                    f"got scheduler {type(scheduler).__name__} at index {i} has {scheduler.optimizer}, "
                    f"which is different from {type(optimizer).__name__}."
                )
        self._schedulers = schedulers
        self.optimizer = optimizer
        self._last_lr = [_copy(group["lr"]) for group in self._schedulers[-1].optimizer.param_groups]

    def step(self):
        for scheduler in self._schedulers:  # every child, in order, on the lr the previous one left
            scheduler.step()
        self._last_lr = [_copy(group["lr"]) for group in self._schedulers[-1].optimizer.param_groups]

    def state_dict(self):
        """Torch's layout: our own attributes, with each child's state dict under `_schedulers`."""
        state = {key: value for key, value in self.__dict__.items() if key not in ("optimizer", "_schedulers")}
        state["_schedulers"] = [scheduler.state_dict() for scheduler in self._schedulers]
        return state

    def load_state_dict(self, state_dict):
        state = dict(state_dict)
        children = state.pop("_schedulers")
        self.__dict__.update(state)
        for scheduler, child_state in zip(self._schedulers, children, strict=True):
            scheduler.load_state_dict(child_state)
# --8<-- [end:chainedscheduler]


# --8<-- [start:reducelronplateau]
class ReduceLROnPlateau(LRScheduler):
    r"""Cut the lr by `factor` when a metric (say the validation loss) stops improving: `step(metric)`
    after every evaluation. No schedule is fixed in advance; the lr depends on the metrics seen.

    A metric $m_t$ is *better* than the best so far, $b$, when (with $\theta$ = `threshold`)

    $$
    m_t < b\,(1 - \theta) \;\; (\text{min, rel}), \quad m_t < b - \theta \;\; (\text{min, abs}), \quad
    m_t > b\,(1 + \theta) \;\; (\text{max, rel}), \quad m_t > b + \theta \;\; (\text{max, abs}).
    $$

    A better metric becomes $b$ and resets the count $n$ of bad steps; any other adds 1 to it. When
    $n$ exceeds $P$ = `patience`, every group's lr drops and $n$ restarts from 0:

    $$
    \eta_t = \begin{cases}
    \max(f\,\eta_{t-1},\ \eta_{\min}) & \text{if } \eta_{t-1} - \max(f\,\eta_{t-1},\ \eta_{\min}) > \epsilon \\
    \eta_{t-1} & \text{otherwise (a change smaller than } \epsilon \text{ is skipped)}
    \end{cases}
    $$

    with $f$ = `factor`, $\eta_{\min}$ = `min_lr` (one for all groups, or one per group) and
    $\epsilon$ = `eps`. After a drop, bad steps are not counted for `cooldown` steps.
    Like torch's, it does not record `initial_lr` nor step at construction (`last_epoch` = 0).
    """

    def __init__(
        self,
        optimizer,
        mode="min",
        factor=0.1,
        patience=10,
        threshold=1e-4,
        threshold_mode="rel",
        cooldown=0,
        min_lr=0,
        eps=1e-8,
    ):
        if factor >= 1.0:
            raise ValueError("Factor should be < 1.0.")
        self.factor = factor
        if not isinstance(optimizer, torch.optim.Optimizer):
            raise TypeError(f"{type(optimizer).__name__} is not an Optimizer")
        self.optimizer = optimizer

        if isinstance(min_lr, (list, tuple)):  # one floor per group
            if len(min_lr) != len(optimizer.param_groups):
                raise ValueError(f"expected {len(optimizer.param_groups)} min_lrs, got {len(min_lr)}")
            self.default_min_lr = None
            self.min_lrs = list(min_lr)
        else:  # one floor for all groups (also for groups added later)
            self.default_min_lr = min_lr
            self.min_lrs = [min_lr] * len(optimizer.param_groups)

        self.patience = patience
        self.cooldown = cooldown
        self.eps = eps
        self.last_epoch = 0
        self._last_lr = self._group_lrs()
        self._init_is_better(mode=mode, threshold=threshold, threshold_mode=threshold_mode)
        self._reset()

    def _reset(self):
        """No best metric yet, no bad steps, no cooldown."""
        self.best = self.mode_worse
        self.cooldown_counter = 0
        self.num_bad_epochs = 0

    def step(self, metrics, epoch=None):
        current = float(metrics)  # a 0-dim tensor works too
        if epoch is None:
            epoch = self.last_epoch + 1
        else:
            warnings.warn(
                "The epoch parameter in `scheduler.step()` was not necessary and is being "
                "deprecated where possible. Please use `scheduler.step()` to step the "
                "scheduler. During the deprecation, if epoch is different from None, the "
                "closed form is used instead of the new chainable form, where available. "
                "Please open an issue if you are unable to replicate your use case: "
                "https://github.com/pytorch/pytorch/issues/new/choose.",
                UserWarning,
                stacklevel=2,
            )
        self.last_epoch = epoch

        if self._is_better(current, self.best):  # a new best: n = 0
            self.best = current
            self.num_bad_epochs = 0
        else:  # not better: n + 1
            self.num_bad_epochs += 1

        if self.in_cooldown:  # just after a drop: bad steps do not count
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0

        if self.num_bad_epochs > self.patience:  # n > P: drop the lr, then cool down
            self._reduce_lr(epoch)
            self.cooldown_counter = self.cooldown
            self.num_bad_epochs = 0

        self._last_lr = self._group_lrs()

    def _reduce_lr(self, epoch):
        if len(self.optimizer.param_groups) != len(self.min_lrs):  # a param group was added since
            if self.default_min_lr is None:
                raise RuntimeError(
                    "The number of param groups in the `optimizer` "
                    f"({len(self.optimizer.param_groups)}) differs "
                    f"from when `ReduceLROnPlateau` was initialized "
                    f"({len(self.min_lrs)}), usually due to a new "
                    "param group being added to the optimizer. Please "
                    "modify the `min_lrs` field to match the length "
                    "of the `optimizer` param groups."
                )
            self.min_lrs = [self.default_min_lr] * len(self.optimizer.param_groups)

        for group, min_lr in zip(self.optimizer.param_groups, self.min_lrs, strict=True):
            old_lr = float(group["lr"])
            new_lr = max(old_lr * self.factor, min_lr)  # max(f eta, eta_min)
            if old_lr - new_lr > self.eps:  # skip a change smaller than eps
                _write_lr(group, new_lr)

    @property
    def in_cooldown(self):
        return self.cooldown_counter > 0

    def _is_better(self, a, best):
        if self.mode == "min" and self.threshold_mode == "rel":
            return a < best * (1.0 - self.threshold)
        if self.mode == "min" and self.threshold_mode == "abs":
            return a < best - self.threshold
        if self.mode == "max" and self.threshold_mode == "rel":
            return a > best * (self.threshold + 1.0)
        return a > best + self.threshold  # max, abs

    def _init_is_better(self, mode, threshold, threshold_mode):
        if mode not in {"min", "max"}:
            raise ValueError("mode " + mode + " is unknown!")
        if threshold_mode not in {"rel", "abs"}:
            raise ValueError("threshold mode " + threshold_mode + " is unknown!")
        self.mode_worse = math.inf if mode == "min" else -math.inf  # the starting "best": anything beats it
        self.mode = mode
        self.threshold = threshold
        self.threshold_mode = threshold_mode

    def load_state_dict(self, state_dict):
        self.__dict__.update(state_dict)
        self._init_is_better(mode=self.mode, threshold=self.threshold, threshold_mode=self.threshold_mode)
# --8<-- [end:reducelronplateau]


# --8<-- [start:swalr]
class SWALR(LRScheduler):
    r"""`torch.optim.swa_utils.SWALR`: anneal each group's lr from where it is to `swa_lr` over
    `anneal_epochs` steps, then hold it there (the constant lr of stochastic weight averaging).

    With $\eta_s$ the lr when SWALR takes over, $\eta_{swa}$ = `swa_lr`, $T$ = `anneal_epochs`
    and $t$ the number of `step()` calls since construction,

    $$
    \eta_t = \alpha_t\,\eta_{swa} + (1 - \alpha_t)\,\eta_s, \qquad
    \alpha_t = \begin{cases} \tfrac12\left(1 - \cos \pi u\right) & \text{cos} \\ u & \text{linear} \end{cases}, \qquad
    u = \min\!\left(1, \frac{t}{\max(1, T)}\right)
    $$

    ($T = 0$: $\eta_{swa}$ from construction on). Torch does not keep $\eta_s$: each step recovers it
    from the current lr by undoing the previous step's mix, $\eta_s = (\eta_{t-1} - \alpha_{t-1}\eta_{swa})
    / (1 - \alpha_{t-1})$, and the code does the same (so the lr is bitwise torch's, and another
    scheduler changing the lr in between moves $\eta_s$, as in torch). `step(epoch)` ignores `epoch`
    but for `last_epoch`.
    """

    def __init__(self, optimizer, swa_lr, anneal_epochs=10, anneal_strategy="cos", last_epoch=-1):
        swa_lrs = _per_group("swa_lr", optimizer, swa_lr)
        for group_swa_lr, group in zip(swa_lrs, optimizer.param_groups, strict=True):
            group["swa_lr"] = group_swa_lr  # eta_swa lives in the group
        if anneal_strategy not in ["cos", "linear"]:
            raise ValueError(f"anneal_strategy must be one of 'cos' or 'linear', instead got {anneal_strategy}")
        self._anneal_strategy = anneal_strategy
        if not isinstance(anneal_epochs, int) or anneal_epochs < 0:
            raise ValueError(f"anneal_epochs must be equal or greater than 0, got {anneal_epochs}")
        self.anneal_epochs = anneal_epochs
        super().__init__(optimizer, last_epoch)

    def anneal_func(self, u):
        """alpha: how far the lr has moved towards swa_lr, for u in [0, 1]."""
        if self._anneal_strategy == "cos":
            return (1 - math.cos(math.pi * u)) / 2
        return u

    @staticmethod
    def _get_initial_lr(lr, swa_lr, alpha):
        """eta_s from an lr that mixed it with swa_lr at alpha (any eta_s fits alpha = 1: keep swa_lr)."""
        if alpha == 1:
            return swa_lr
        return (lr - alpha * swa_lr) / (1 - alpha)

    def get_lr(self):
        t = self._step_count - 1  # step() calls before this one (0 at construction)
        if self.anneal_epochs == 0:
            t = max(1, t)  # no annealing: straight to swa_lr
        T = max(1, self.anneal_epochs)
        prev_alpha = self.anneal_func(max(0, min(1, (t - 1) / T)))  # alpha_{t-1}
        starts = [  # eta_s, recovered from the current lr
            self._get_initial_lr(group["lr"], group["swa_lr"], prev_alpha) for group in self.optimizer.param_groups
        ]
        alpha = self.anneal_func(max(0, min(1, t / T)))  # alpha_t
        # eta_t = alpha_t eta_swa + (1 - alpha_t) eta_s
        return [group["swa_lr"] * alpha + start * (1 - alpha) for group, start in zip(
            self.optimizer.param_groups, starts, strict=True)]

    def _get_closed_form_lr(self):
        return self.get_lr()  # torch's step(epoch) takes an ordinary step too
# --8<-- [end:swalr]
