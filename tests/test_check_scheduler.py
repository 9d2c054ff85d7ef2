"""check_scheduler: passes torch's and our schedulers, and catches the seed notebook's bugs.

The seed notebook's three schedulers are copied below verbatim (from
/work/shared/seed/optimizer-exercises.txt, "Learning Rate Schedulers"). They multiply an
`optimizer.lr` attribute (the notebook's own SGD kept its lr there) instead of every param group's
lr. Run against a torch optimizer, each one fails at its first lr change. With an SGD that, like the
notebook's, has an `lr` attribute (standing for all param groups), what remains is what the notebook's
tests could not see: ExponentialLR's `last_epoch` lags torch's by one step, MultiStepLR applies a
milestone listed twice only once, and every one of them writes one lr into all param groups.
(The seed's StepLR arithmetic is right: with one group it matches torch.)
"""
# ruff: noqa: UP039, W293 (the seed's classes are kept verbatim, blank line with spaces included)

import pytest
import torch

import optimessay
from optimessay import schedulers as ours_module
from optimessay.testing import check_scheduler
from optimessay.testing.schedulers import DEFAULT_CONFIGS, _reference_class, plateau_metric

# ---------------------------------------------------------------------------------------------------
# the seed notebook's schedulers, verbatim


class ExponentialLR():
    def __init__(self, optimizer, gamma):
        '''Implements ExponentialLR.

        Like the PyTorch version, but assumes last_epoch=-1 and verbose=False
            https://pytorch.org/docs/stable/generated/torch.optim.lr_scheduler.ExponentialLR.html
        '''

        self.last_epoch = -1
        self.optimizer = optimizer
        self.gamma = gamma

    def step(self):
        self.last_epoch += 1
        self.optimizer.lr = self.optimizer.lr * self.gamma

    def __repr__(self):
        return "ExponentialLR with gamma " + str(self.gamma)


class StepLR():
    def __init__(self, optimizer, step_size, gamma=0.1):
        '''Implements StepLR.

        Like the PyTorch version, but assumes last_epoch=-1 and verbose=False
            https://pytorch.org/docs/stable/generated/torch.optim.lr_scheduler.StepLR.html
        '''
        self.step_size = step_size
        self.steps_till_update = step_size
        self.optimizer = optimizer
        self.gamma = gamma

    def step(self):
        self.steps_till_update -= 1
        if self.steps_till_update == 0:
            self.optimizer.lr = self.optimizer.lr * self.gamma
            self.steps_till_update = self.step_size

    def __repr__(self):
        return "StepLR with step count" + str(self.step_size)


class MultiStepLR():
    def __init__(self, optimizer, milestones: list, gamma=0.1):
        '''Implements MultiStepLR.

        Like the PyTorch version, but assumes last_epoch=-1 and verbose=False
            https://pytorch.org/docs/stable/generated/torch.optim.lr_scheduler.MultiStepLR.html
        '''
        self.optimizer = optimizer
        self.milestones = milestones
        self.steps = 0
        self.gamma = gamma

    def step(self):
        self.steps = self.steps + 1
        if self.steps in self.milestones:
            self.optimizer.lr = self.optimizer.lr * self.gamma

        

    def __repr__(self):
        return "multistepLR with gamma " + str(self.gamma)


SEED = {"ExponentialLR": ExponentialLR, "StepLR": StepLR, "MultiStepLR": MultiStepLR}


class SeedStyleSGD(torch.optim.SGD):
    """torch's SGD plus the notebook's `optimizer.lr`: reading gives group 0's lr, writing sets the lr
    of every group (the notebook's SGD had exactly one lr)."""

    @property
    def lr(self):
        return self.param_groups[0]["lr"]

    @lr.setter
    def lr(self, value):
        for group in self.param_groups:
            group["lr"] = value


def first_lr_change(name, config):
    """The first step at which torch's scheduler changes the lr (the seed's first `optimizer.lr` use)."""
    if name == "ExponentialLR":
        return 1
    if name == "StepLR":
        return config["step_size"]
    return min(config["milestones"])


# ---------------------------------------------------------------------------------------------------
# passes the real thing

@pytest.mark.parametrize("name", sorted(DEFAULT_CONFIGS))
def test_passes_ours_and_torchs(name):
    for scheduler_class, optimizer_class in [
        (_reference_class(name), torch.optim.SGD),  # torch.optim.swa_utils.SWALR for "SWALR"
        (getattr(ours_module, name), torch.optim.SGD),
        (getattr(ours_module, name), optimessay.SGD),  # our scheduler driving our SGD
    ]:
        results = check_scheduler(scheduler_class, name, optimizer_class=optimizer_class, verbose=False)
        assert len(results) == len(DEFAULT_CONFIGS[name])
        assert all(r.passed and not r.skipped for r in results), [str(r) for r in results]


# ---------------------------------------------------------------------------------------------------
# catches the seed's bugs

@pytest.mark.parametrize("name", sorted(SEED))
def test_catches_each_seed_scheduler_on_a_torch_optimizer(name, capsys):
    results = check_scheduler(SEED[name], name)
    assert len(results) == len(DEFAULT_CONFIGS[name])
    for result in results:
        assert not result.passed and not result.skipped
        assert result.what == "error"
        assert result.step == first_lr_change(name, result.config)
        assert "AttributeError" in result.message and "param_groups" in result.message
    out = capsys.readouterr().out
    assert f"0/{len(results)} configurations pass" in out and "FAIL" in out


def test_seed_exponentiallr_last_epoch_is_off_by_one():
    """With the notebook's `optimizer.lr` available and one group, the lrs match torch's; last_epoch
    does not (torch's constructor already takes step 0)."""
    for result in check_scheduler(ExponentialLR, "ExponentialLR", optimizer_class=SeedStyleSGD, groups=1, verbose=False):
        assert not result.passed and result.what == "last_epoch" and result.step == 0
        assert "last_epoch is -1, torch's is 0" in result.message


def test_seed_multisteplr_applies_a_repeated_milestone_once():
    results = check_scheduler(MultiStepLR, "MultiStepLR", optimizer_class=SeedStyleSGD, groups=1, verbose=False)
    by_milestones = {tuple(r.config["milestones"]): r for r in results}
    repeated = by_milestones[(5, 5, 12)]
    assert not repeated.passed and repeated.what == "lr" and repeated.step == 5
    assert "is 0.05, torch's is 0.025" in repeated.message  # gamma once instead of gamma ** 2
    assert all(r.passed for m, r in by_milestones.items() if len(set(m)) == len(m))


def test_seed_steplr_arithmetic_is_right_with_one_group():
    results = check_scheduler(StepLR, "StepLR", optimizer_class=SeedStyleSGD, groups=1, verbose=False)
    assert all(r.passed for r in results)


@pytest.mark.parametrize("name", sorted(SEED))
def test_seed_schedulers_write_one_lr_into_every_group(name):
    """Two param groups with different lrs: the notebook's single `optimizer.lr` overwrites group 1."""
    for result in check_scheduler(SEED[name], name, optimizer_class=SeedStyleSGD, verbose=False):
        assert not result.passed and result.what == "lr", str(result)
        assert result.step == first_lr_change(name, result.config)
        repeated = name == "MultiStepLR" and len(set(result.config["milestones"])) < len(result.config["milestones"])
        # at a repeated milestone group 0 is already wrong (gamma once, not twice), so it is reported first
        assert f"lr of param group {0 if repeated else 1}" in result.message


# ---------------------------------------------------------------------------------------------------
# each kind of difference is reported

class NoMomentumOneCycleLR(optimessay.OneCycleLR):
    """A learner's 1cycle that forgets to cycle the momentum."""

    def __init__(self, optimizer, **kwargs):
        super().__init__(optimizer, **{**kwargs, "cycle_momentum": False})


def test_reports_uncycled_momentum():
    results = check_scheduler(NoMomentumOneCycleLR, "OneCycleLR", verbose=False)
    cycling = [r for r in results if r.config.get("cycle_momentum", True)]
    assert cycling and all(r.what == "momentum" and r.step == 0 for r in cycling)
    assert all(r.passed for r in results if not r.config.get("cycle_momentum", True))


class StaleLastLrStepLR(optimessay.StepLR):
    """A learner's StepLR whose get_last_lr() returns the lrs it started from."""

    def get_last_lr(self):
        return self.base_lrs


def test_reports_a_stale_get_last_lr():
    [result] = check_scheduler(StaleLastLrStepLR, "StepLR", [{"step_size": 4, "gamma": 0.5}], verbose=False)
    assert result.what == "get_last_lr" and result.step == 4
    assert "get_last_lr() is [0.1, 0.05], torch's is [0.05, 0.025]" in result.message


class FrozenLrSGD(torch.optim.SGD):
    """A learner's SGD that reads its lrs once, at construction (as the notebook's SGD kept `self.lr`):
    the scheduler writes the right lrs, and the optimizer ignores them."""

    def __init__(self, params, **kwargs):
        super().__init__(params, **kwargs)
        self.frozen = [group["lr"] for group in self.param_groups]

    def step(self, closure=None):
        scheduled = [group["lr"] for group in self.param_groups]
        for group, lr in zip(self.param_groups, self.frozen, strict=True):
            group["lr"] = lr
        super().step(closure)
        for group, lr in zip(self.param_groups, scheduled, strict=True):
            group["lr"] = lr


def test_reports_parameters_when_the_optimizer_ignores_the_lr():
    results = check_scheduler(optimessay.StepLR, "StepLR", optimizer_class=FrozenLrSGD, verbose=False)
    for result in results:
        if result.config["gamma"] == 1.0:
            assert result.passed
        else:  # lr written at step s is used by optimizer step s + 1
            assert result.what == "parameters" and result.step == result.config["step_size"] + 1, str(result)


def test_reports_constructor_errors_and_skips_unknown_arguments():
    def broken(optimizer, gamma):
        raise RuntimeError("not yet")

    [result] = check_scheduler(broken, "ExponentialLR", [{"gamma": 0.5}], verbose=False)
    assert result.step == 0 and result.what == "error" and "RuntimeError: not yet" in result.message
    [skipped] = check_scheduler(ExponentialLR, "ExponentialLR", [{"gamma": 0.5, "last_epoch": -1}], verbose=False)
    assert skipped.skipped and "'last_epoch'" in skipped.message


def test_custom_configs_and_steps():
    results = check_scheduler(
        optimessay.SequentialLR, "SequentialLR",
        [{"schedulers": [("LinearLR", {"total_iters": 4}), ("StepLR", {"step_size": 2})], "milestones": [4]}],
        steps=30, verbose=False,
    )
    assert [r.passed for r in results] == [True]


def test_bad_arguments():
    with pytest.raises(ValueError, match="name must be one of the schedulers"):
        check_scheduler(optimessay.StepLR, "NoSuchLR")
    with pytest.raises(TypeError, match="configs must be a list of dicts"):
        check_scheduler(optimessay.StepLR, "StepLR", {"step_size": 3})
    with pytest.raises(ValueError, match="groups must be 1 or 2, got 3"):
        check_scheduler(optimessay.StepLR, "StepLR", groups=3)
    with pytest.raises(ValueError, match="steps must be a positive integer, got 0"):
        check_scheduler(optimessay.StepLR, "StepLR", steps=0)


def test_more_bad_arguments_are_named():
    with pytest.raises(ValueError, match="configs is empty"):
        check_scheduler(optimessay.StepLR, "StepLR", [])
    optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)])
    with pytest.raises(TypeError, match="scheduler_class must be your scheduler's class.*not an instance"):
        check_scheduler(optimessay.StepLR(optimizer, 3), "StepLR")
    with pytest.raises(ValueError, match="rtol must be a number >= 0, got 'x'"):
        check_scheduler(optimessay.StepLR, "StepLR", rtol="x")
    with pytest.raises(ValueError, match="steps must be a positive integer, got True"):
        check_scheduler(optimessay.StepLR, "StepLR", steps=True)


class RoundedMomentumOneCycleLR(optimessay.OneCycleLR):
    """A learner's 1cycle whose momentum differs from torch's by rounding only (1e-15 relative)."""

    def get_lr(self):
        lrs = super().get_lr()
        for group in self.optimizer.param_groups:
            group["momentum"] *= 1 + 1e-15
        return lrs


def test_momentum_is_compared_to_the_tolerance_like_the_lr():
    results = check_scheduler(RoundedMomentumOneCycleLR, "OneCycleLR", verbose=False)
    assert all(r.passed for r in results), [str(r) for r in results]
    strict = check_scheduler(RoundedMomentumOneCycleLR, "OneCycleLR", rtol=0, verbose=False)
    cycling = [r for r in strict if r.config.get("cycle_momentum", True)]
    assert cycling and all(r.what == "momentum" and r.step == 0 for r in cycling)


# ---------------------------------------------------------------------------------------------------
# the schedulers added for issue 11: a learner's typical mistake in each is caught, where it shows

def test_new_schedulers_are_all_covered():
    new = {"PolynomialLR", "MultiplicativeLR", "CosineAnnealingWarmRestarts", "CyclicLR", "ChainedScheduler",
           "ReduceLROnPlateau", "SWALR"}
    assert new <= set(DEFAULT_CONFIGS) and new <= set(WRONG)


class UnclampedPolynomialLR(ours_module.PolynomialLR):
    """(1 - t/T)^p without the min(t, T): past T the lr goes negative (p = 1), climbs again (p = 2)
    or turns complex (p = 0.5)."""

    def get_lr(self):
        return [base * (1 - self.last_epoch / self.total_iters) ** self.power for base in self.base_lrs]


class EagerMultiplicativeLR(ours_module.MultiplicativeLR):
    """Multiplies by lambda(0) at construction too (torch leaves the lr as it is at t = 0)."""

    def get_lr(self):
        t = self.last_epoch
        return [lr * fn(t) for fn, lr in zip(self.lr_lambdas, self._group_lrs(), strict=True)]


class FixedPeriodWarmRestarts(ours_module.CosineAnnealingWarmRestarts):
    """Ignores T_mult: every period lasts T_0 steps."""

    def step(self, epoch=None):
        self.T_i = self.T_0
        super().step(epoch)


class FixedMomentumCyclicLR(ours_module.CyclicLR):
    """Cycles the lr but leaves the momentum where the constructor put it."""

    def __init__(self, optimizer, base_lr, max_lr, **kwargs):
        super().__init__(optimizer, base_lr, max_lr, **kwargs)
        self.cycle_momentum = False


class LastChildOnlyChainedScheduler(ours_module.ChainedScheduler):
    """Steps only the last child."""

    def step(self):
        self._schedulers[-1].step()
        self._last_lr = self._group_lrs()


class NoCooldownReduceLROnPlateau(ours_module.ReduceLROnPlateau):
    """Forgets the cooldown: counts bad steps right after a drop."""

    def step(self, metrics, epoch=None):
        self.cooldown_counter = 0
        super().step(metrics, epoch)


class ImpatientReduceLROnPlateau(ours_module.ReduceLROnPlateau):
    """Drops the lr when the bad steps *reach* patience (torch: when they exceed it)."""

    def step(self, metrics, epoch=None):
        self.patience -= 1
        super().step(metrics, epoch)
        self.patience += 1


class AlwaysLinearSWALR(ours_module.SWALR):
    """Anneals linearly whatever anneal_strategy says."""

    def anneal_func(self, u):
        return u


# name -> (wrong class, {config index: (what, step)} for the configs it fails; the others pass)
WRONG = {
    "PolynomialLR": (UnclampedPolynomialLR, {0: ("lr", 6), 1: ("lr", 101), 2: ("lr", 61)}),
    "MultiplicativeLR": (EagerMultiplicativeLR, {0: ("lr", 0), 1: ("lr", 0)}),
    "CosineAnnealingWarmRestarts": (FixedPeriodWarmRestarts, {1: ("lr", 6)}),
    "CyclicLR": (FixedMomentumCyclicLR, {0: ("momentum", 1), 1: ("momentum", 1), 2: ("momentum", 1),
                                          3: ("momentum", 1)}),
    # ConstantLR's factor is undone at its step 20; LinearLR's warm-up starts at step 1
    "ChainedScheduler": (LastChildOnlyChainedScheduler, {0: ("lr", 20), 1: ("lr", 1)}),
    "ReduceLROnPlateau": (NoCooldownReduceLROnPlateau, {1: ("lr", 11)}),
    "SWALR": (AlwaysLinearSWALR, {0: ("lr", 1)}),
}


@pytest.mark.parametrize("name", sorted(WRONG))
def test_catches_a_wrong_new_scheduler(name):
    wrong, failing = WRONG[name]
    results = check_scheduler(wrong, name, verbose=False)
    assert len(results) == len(DEFAULT_CONFIGS[name])
    for i, result in enumerate(results):
        if i in failing:
            assert not result.passed and (result.what, result.step) == failing[i], str(result)
        else:  # the mistake does not show in this configuration
            assert result.passed, str(result)


def test_complex_lr_is_reported_not_raised():
    [result] = check_scheduler(UnclampedPolynomialLR, "PolynomialLR", [{"total_iters": 60, "power": 0.5}], verbose=False)
    assert "not a real number" in result.message and result.step == 61


def test_off_by_one_patience_is_caught_with_default_configs():
    results = check_scheduler(ImpatientReduceLROnPlateau, "ReduceLROnPlateau", verbose=False)
    assert not any(r.passed for r in results[:3]), [str(r) for r in results]
    assert all(r.what == "lr" for r in results if not r.passed)


def test_plateau_metric_stalls_and_max_mode_mirrors_it():
    losses = [plateau_metric(t) for t in range(120)]
    assert losses[19] > losses[20] < losses[0]  # a drop every 20 steps
    assert max(losses[20:40]) - min(losses[20:40]) == pytest.approx(0.004)  # a wiggle in between
    assert all(plateau_metric(t, "max") == 1 - plateau_metric(t) for t in range(50))


def test_summary_names_swa_utils(capsys):
    check_scheduler(ours_module.SWALR, "SWALR", [{"swa_lr": 0.05}], steps=5)
    assert "vs torch.optim.swa_utils.SWALR: 1/1" in capsys.readouterr().out
