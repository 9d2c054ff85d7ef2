"""optimessay.schedulers against torch.optim.lr_scheduler (torch 2.13), the reference.

Every comparison runs torch's scheduler and ours on twin optimizers with two param groups of different
lr, stepping both after an optimizer step, and compares every group's lr (and OneCycleLR's momentum
or beta1) after construction and after every step. Our `get_lr()` repeats torch's arithmetic op for
op, so the lrs are asserted *exactly* equal (stronger than the 1e-12 relative the issue asks for).
Random configurations come from hypothesis (derandomized, so the run is reproducible); each test
counts the configurations it checked and prints the count (`pytest -s`).
"""

import copy
import inspect
import math
import pickle
import warnings
from pathlib import Path

import pytest
import torch
from equality import IdleAdam, IdleSGD, copied_sections, two_group_sgd, without_optimessay
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import optimessay
from optimessay import schedulers as ours_module

torch_module = torch.optim.lr_scheduler
STEPS = 300  # steps per random configuration
EXAMPLES = 100  # random configurations per scheduler
NAMES = [
    "ExponentialLR", "StepLR", "MultiStepLR", "LambdaLR", "ConstantLR", "LinearLR",
    "CosineAnnealingLR", "OneCycleLR", "SequentialLR",
]
random_configs = settings(
    max_examples=EXAMPLES, derandomize=True, database=None, deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


# ---------------------------------------------------------------------------------------------------
# helpers

def make_optimizer(lrs, kind="sgd"):
    """An optimizer over two small float64 tensors, one param group each, with lrs[0] and lrs[1]
    (`kind` "sgd": IdleSGD, as every comparison of this file but test_works_with_other_optimizers uses;
    "idle-adam": IdleAdam, for the random OneCycleLR configurations that cycle beta1)."""
    params = [torch.zeros(3, dtype=torch.float64, requires_grad=True) for _ in lrs]
    groups = [{"params": [p], "lr": lr} for p, lr in zip(params, lrs, strict=True)]
    if kind == "sgd":
        return IdleSGD(groups, momentum=0.9)
    if kind == "torch-sgd":
        return torch.optim.SGD(groups, momentum=0.9)
    if kind == "idle-adam":
        return IdleAdam(groups)
    if kind == "adam":
        return torch.optim.Adam(groups)
    if kind == "optimessay-sgd":
        return optimessay.SGD(groups, momentum=0.9)
    if kind == "optimessay-adam":
        return optimessay.Adam(groups)
    if kind == "optimessay-rmsprop":
        return optimessay.RMSprop(groups, momentum=0.5)
    raise ValueError(kind)


def group_values(optimizer):
    """What a scheduler may write: each group's lr, and momentum / beta1 (OneCycleLR)."""
    return [(g["lr"], g.get("momentum"), g.get("betas")) for g in optimizer.param_groups]


def assert_same(ours, theirs, our_opt, torch_opt, t, where=""):
    got, want = group_values(our_opt), group_values(torch_opt)
    if got != want:
        rel = [abs(a[0] - b[0]) / max(abs(b[0]), 1e-300) for a, b in zip(got, want, strict=True)]
        raise AssertionError(f"{where}step {t}: ours {got} != torch {want} (relative lr difference {rel})")
    assert ours.get_last_lr() == theirs.get_last_lr(), f"{where}step {t}: get_last_lr differs"
    assert ours.last_epoch == theirs.last_epoch, f"{where}step {t}: last_epoch differs"


def lockstep(build, lrs, kind="sgd", steps=STEPS):
    """Build torch's and our scheduler with `build(module, optimizer)` on twin optimizers, then step
    both `steps` times (optimizer first); the group values must be equal at every step. Our side must
    not warn (the call order is right)."""
    torch_opt, our_opt = make_optimizer(lrs, kind), make_optimizer(lrs, kind)
    theirs = build(torch_module, torch_opt)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ours = build(ours_module, our_opt)
        for t in range(steps + 1):
            assert_same(ours, theirs, our_opt, torch_opt, t)
            if t < steps:
                torch_opt.step()
                our_opt.step()
                theirs.step()
                ours.step()
    return ours


def assert_formula(ours_sched, our_opt, t):
    """The docstring's formula (`closed_form`) gives the lr the scheduler wrote (torch's chainable
    update), on fresh runs, to 1e-12 relative to the schedule's scale: the larger of the lr, the base
    lr and eta_min (an lr of exactly 0, or eta_min far above the base lr, leaves only rounding)."""
    for group, base in zip(our_opt.param_groups, ours_sched.base_lrs, strict=True):
        want = ours_sched.closed_form(t, base)
        scale = max(abs(want), base, abs(getattr(ours_sched, "eta_min", 0.0)))
        assert abs(group["lr"] - want) <= 1e-12 * scale, (t, group["lr"], want)


def lockstep_with_formula(build, lrs, steps=STEPS):
    """lockstep, and at every step also the formula check."""
    torch_opt, our_opt = make_optimizer(lrs), make_optimizer(lrs)
    theirs, ours = build(torch_module, torch_opt), build(ours_module, our_opt)
    for t in range(steps + 1):
        assert_same(ours, theirs, our_opt, torch_opt, t)
        assert_formula(ours, our_opt, t)
        if t < steps:
            torch_opt.step()
            our_opt.step()
            theirs.step()
            ours.step()


COUNTS = {}


def run_counted(name, check, strategy):
    """Run the hypothesis property `check` over `strategy`, count the configurations, report them."""
    COUNTS[name] = 0

    @random_configs
    @given(strategy)
    def prop(config):
        COUNTS[name] += 1
        check(config)

    prop()
    print(f"\n{name}: {COUNTS[name]} random configurations x {STEPS} steps, equal to torch")
    assert COUNTS[name] >= EXAMPLES


# two different lrs for the two groups
lrs = st.tuples(st.floats(1e-4, 1.0), st.floats(1.5, 20.0)).map(lambda p: (p[0], p[0] * p[1]))
gammas = st.floats(0.5, 1.05)


# ---------------------------------------------------------------------------------------------------
# random configurations: lr sequences equal torch's

def test_exponentiallr_random_configs():
    def check(c):
        lrs_, gamma = c
        lockstep_with_formula(lambda M, o: M.ExponentialLR(o, gamma), lrs_)

    run_counted("ExponentialLR", check, st.tuples(lrs, st.floats(0.8, 1.02)))


def test_steplr_random_configs():
    def check(c):
        lrs_, step_size, gamma = c
        lockstep_with_formula(lambda M, o: M.StepLR(o, step_size, gamma), lrs_)

    run_counted("StepLR", check, st.tuples(lrs, st.integers(1, 80), gammas))


def test_multisteplr_random_configs_with_repeated_milestones():
    # a milestone listed n times multiplies by gamma**n; every configuration repeats one milestone
    milestones = st.lists(st.integers(0, STEPS + 10), min_size=1, max_size=8).flatmap(
        lambda ms: st.sampled_from(ms).map(lambda m: sorted(ms + [m]))
    )

    def check(c):
        lrs_, ms, gamma = c
        lockstep_with_formula(lambda M, o: M.MultiStepLR(o, ms, gamma), lrs_)

    run_counted("MultiStepLR", check, st.tuples(lrs, milestones, gammas))


def test_lambdalr_random_configs():
    # one function for both groups, or one per group, from a few families with random parameters
    def family(kind, a):
        if kind == "power":
            return lambda t: a**t
        if kind == "inverse":
            return lambda t: 1.0 / (1.0 + a * t)
        return lambda t: min(1.0, (t + 1) / (1 + 100 * a))  # warm-up

    fn = st.tuples(st.sampled_from(["power", "inverse", "warmup"]), st.floats(0.9, 1.0)).map(lambda p: family(*p))
    lr_lambda = st.one_of(fn, st.lists(fn, min_size=2, max_size=2))

    def check(c):
        lrs_, lam = c
        lockstep(lambda M, o: M.LambdaLR(o, lam), lrs_)

    run_counted("LambdaLR", check, st.tuples(lrs, lr_lambda))


def test_constantlr_random_configs():
    def check(c):
        lrs_, factor, total_iters = c
        lockstep_with_formula(lambda M, o: M.ConstantLR(o, factor, total_iters), lrs_)

    run_counted("ConstantLR", check, st.tuples(lrs, st.floats(0.01, 1.0), st.integers(1, STEPS + 10)))


def test_linearlr_random_configs():
    def check(c):
        lrs_, start, end, total_iters = c
        lockstep_with_formula(lambda M, o: M.LinearLR(o, start, end, total_iters), lrs_)

    run_counted(
        "LinearLR", check,
        st.tuples(lrs, st.floats(0.01, 1.0), st.floats(0.0, 1.0), st.integers(1, STEPS + 10)),
    )


def test_cosineannealinglr_random_configs_past_t_max():
    # T_max at most 150 of 300 steps: every run goes past T_max (the lr climbs back, period 2 T_max)
    def check(c):
        lrs_, T_max, eta_min = c
        lockstep_with_formula(lambda M, o: M.CosineAnnealingLR(o, T_max, eta_min), lrs_)

    run_counted("CosineAnnealingLR", check, st.tuples(lrs, st.integers(1, 150), st.floats(0.0, 0.05)))


def test_onecyclelr_random_configs():
    # three_phase and both anneal strategies; momentum (SGD) or beta1 (Adam) cycling, on or off
    config = st.fixed_dictionaries({
        "max_lr": st.one_of(st.floats(1e-3, 1.0), st.tuples(st.floats(1e-3, 1.0), st.floats(1e-3, 1.0)).map(list)),
        "total_steps": st.integers(STEPS, STEPS + 50),
        "pct_start": st.floats(0.05, 0.45),
        "anneal_strategy": st.sampled_from(["cos", "linear"]),
        "cycle_momentum": st.booleans(),
        "base_momentum": st.floats(0.5, 0.85),
        "max_momentum": st.floats(0.86, 0.99),
        "div_factor": st.floats(1.0, 100.0),
        "final_div_factor": st.floats(1.0, 1e5),
        "three_phase": st.booleans(),
    })

    def check(c):
        lrs_, kind, kwargs = c
        lockstep(lambda M, o: M.OneCycleLR(o, **kwargs), lrs_, kind=kind)

    run_counted("OneCycleLR", check, st.tuples(lrs, st.sampled_from(["sgd", "idle-adam"]), config))


def test_sequentiallr_random_configs():
    # LinearLR warm-up then CosineAnnealingLR, or three children; the milestones need not match the
    # warm-up's length (torch restarts each child at its own t = 0 at its milestone)
    def children(M, o, c):
        start, warmup, T_max, eta_min, third, gamma = c["children"]
        first = [M.LinearLR(o, start_factor=start, total_iters=warmup), M.CosineAnnealingLR(o, T_max, eta_min)]
        return first + ([M.ExponentialLR(o, gamma)] if third else [])

    config = st.fixed_dictionaries({
        "children": st.tuples(
            st.floats(0.01, 1.0), st.integers(1, 60), st.integers(1, 200), st.floats(0.0, 0.01),
            st.booleans(), st.floats(0.9, 1.0),
        ),
        "milestones": st.lists(st.integers(1, STEPS), min_size=2, max_size=2, unique=True).map(sorted),
    })

    def check(c):
        lrs_, cfg = c
        n_children = 3 if cfg["children"][4] else 2
        milestones = cfg["milestones"][: n_children - 1]
        lockstep(lambda M, o: M.SequentialLR(o, children(M, o, cfg), milestones), lrs_)

    run_counted("SequentialLR", check, st.tuples(lrs, config))


# ---------------------------------------------------------------------------------------------------
# fixed configurations used by the remaining tests

CONFIGS = {
    "ExponentialLR": lambda M, o: M.ExponentialLR(o, 0.97),
    "StepLR": lambda M, o: M.StepLR(o, 7, 0.5),
    "MultiStepLR": lambda M, o: M.MultiStepLR(o, [3, 3, 10, 20], 0.5),
    "LambdaLR": lambda M, o: M.LambdaLR(o, [lambda t: 0.95**t, lambda t: 1 / (1 + t)]),
    "ConstantLR": lambda M, o: M.ConstantLR(o, 0.25, 12),
    "LinearLR": lambda M, o: M.LinearLR(o, 0.1, 0.8, 15),
    "CosineAnnealingLR": lambda M, o: M.CosineAnnealingLR(o, 9, 0.001),
    "OneCycleLR": lambda M, o: M.OneCycleLR(o, [0.3, 0.9], total_steps=60, three_phase=True),
    "SequentialLR": lambda M, o: M.SequentialLR(
        o, [M.LinearLR(o, 0.1, total_iters=8), M.CosineAnnealingLR(o, 20, 1e-3), M.StepLR(o, 3)], [8, 30]
    ),
}
LRS = (0.05, 0.5)  # torch's own scheduler tests use these two groups


def test_every_scheduler_is_exported_and_covered():
    assert sorted(CONFIGS) == sorted(NAMES)
    for name in NAMES:
        assert getattr(optimessay, name) is getattr(ours_module, name)


@pytest.mark.parametrize("kind", ["torch-sgd", "adam", "optimessay-sgd", "optimessay-adam", "optimessay-rmsprop"])
@pytest.mark.parametrize("name", NAMES)
def test_works_with_other_optimizers(name, kind):
    """torch's SGD and Adam and optimessay's optimizers (momentum / betas for OneCycleLR included)."""
    lockstep(CONFIGS[name], LRS, kind=kind, steps=60)


def test_optimessay_optimizer_trains_under_our_scheduler_like_torch():
    """The whole loop: optimessay.SGD + our OneCycleLR vs torch.optim.SGD + torch's, same parameters."""
    def train(opt_class, module):
        torch.manual_seed(0)
        w = torch.randn(4, dtype=torch.float64, requires_grad=True)
        opt = opt_class([w], lr=0.1, momentum=0.9)
        sched = module.OneCycleLR(opt, max_lr=0.2, total_steps=50)
        for _ in range(50):
            opt.zero_grad()
            (torch.arange(1.0, 5.0, dtype=torch.float64) * (w - 1) ** 2).sum().backward()
            opt.step()
            sched.step()
        return w.detach()

    ours, theirs = train(optimessay.SGD, ours_module), train(torch.optim.SGD, torch_module)
    assert torch.isfinite(theirs).all() and (theirs - 1).abs().max() < 0.5  # it trained
    assert torch.equal(ours, theirs)


# ---------------------------------------------------------------------------------------------------
# the base class: initial_lr, state_dict, resume, warnings

def test_construction_sets_initial_lr_and_keeps_an_earlier_one():
    opt = make_optimizer(LRS)
    ours_module.ExponentialLR(opt, 0.5)
    assert [g["initial_lr"] for g in opt.param_groups] == list(LRS)
    for g in opt.param_groups:
        g["lr"] = 123.0
    second = ours_module.StepLR(opt, 3)  # a second scheduler keeps the first one's base, as torch
    assert second.base_lrs == list(LRS)


def test_state_dict_has_torchs_keys():
    """Torch's layout, except `_get_lr_called_within_step` (we do not warn on get_lr() outside step)."""
    for name, build in CONFIGS.items():
        theirs = build(torch_module, make_optimizer(LRS)).state_dict()
        ours = build(ours_module, make_optimizer(LRS)).state_dict()
        missing = set(theirs) - set(ours) - {"_get_lr_called_within_step"}
        assert not missing and set(ours) <= set(theirs), (name, missing, set(ours) - set(theirs))
        pickle.dumps(ours)  # a checkpoint can be saved (plain functions are stored as None)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("source", ["ours", "torch"])
def test_state_dict_mid_run_continues_the_same_sequence(name, source):
    """Run 25 steps, save the optimizer's and the scheduler's state dicts, build everything afresh,
    load both, and continue: the lrs equal those of an uninterrupted torch run. The saved scheduler
    state is ours or torch's (each loads the other's)."""
    build, total, cut = CONFIGS[name], 55, 25
    reference_opt = make_optimizer(LRS)
    reference = build(torch_module, reference_opt)
    saver_opt = make_optimizer(LRS)
    saver = build(ours_module if source == "ours" else torch_module, saver_opt)
    for _ in range(cut):
        for opt, sched in ((reference_opt, reference), (saver_opt, saver)):
            opt.step()
            sched.step()
    opt_state, sched_state = copy.deepcopy(saver_opt.state_dict()), copy.deepcopy(saver.state_dict())

    resumed_opt = make_optimizer((9.0, 9.0))  # different lrs: everything must come from the checkpoint
    resumed = build(ours_module, resumed_opt)  # torch's order: the scheduler, then the optimizer's state
    resumed_opt.load_state_dict(opt_state)
    resumed.load_state_dict(sched_state)
    for t in range(cut, total + 1):
        assert_same(resumed, reference, resumed_opt, reference_opt, t, where=f"{source} checkpoint: ")
        if t < total:
            for opt, sched in ((reference_opt, reference), (resumed_opt, resumed)):
                opt.step()
                sched.step()


@pytest.mark.parametrize("name", ["ExponentialLR", "StepLR", "MultiStepLR", "LambdaLR", "ConstantLR",
                                  "LinearLR", "CosineAnnealingLR", "OneCycleLR"])
@pytest.mark.parametrize("offset", [-1, 0])
def test_last_epoch_resume_matches_torch(name, offset):
    """Resume with `last_epoch` = (steps done + offset) on an optimizer restored from a checkpoint.
    Torch's schedulers disagree on what that means (StepLR, MultiStepLR and ConstantLR apply step
    last_epoch+1 at construction; the others keep the optimizer's lr): ours do exactly the same."""
    build, done = CONFIGS[name], 20
    opt = make_optimizer(LRS)
    sched = build(torch_module, opt)
    for _ in range(done):
        opt.step()
        sched.step()
    checkpoint = copy.deepcopy(opt.state_dict())

    def resumed(module):
        o = make_optimizer((7.0, 7.0))
        o.load_state_dict(copy.deepcopy(checkpoint))
        kwargs = {"last_epoch": done + offset}
        if name == "OneCycleLR":
            return o, module.OneCycleLR(o, [0.3, 0.9], total_steps=60, three_phase=True, **kwargs)
        if name == "LambdaLR":
            return o, module.LambdaLR(o, [lambda t: 0.95**t, lambda t: 1 / (1 + t)], **kwargs)
        args = {"ExponentialLR": (0.97,), "StepLR": (7, 0.5), "MultiStepLR": ([3, 3, 10, 21], 0.5),
                "ConstantLR": (0.25, 21), "LinearLR": (0.1, 0.8, 22), "CosineAnnealingLR": (9, 0.001)}[name]
        return o, getattr(module, name)(o, *args, **kwargs)

    (torch_opt, theirs), (our_opt, ours) = resumed(torch_module), resumed(ours_module)
    for t in range(30):
        assert_same(ours, theirs, our_opt, torch_opt, t, where=f"last_epoch={done + offset}: ")
        torch_opt.step()
        our_opt.step()
        theirs.step()
        ours.step()


def test_steplr_resume_gotcha():
    """StepLR(step_size=2, last_epoch=1) halves the lr at construction (torch's behaviour, kept)."""
    opt = make_optimizer(LRS)
    for g in opt.param_groups:
        g["initial_lr"] = g["lr"]
    sched = ours_module.StepLR(opt, step_size=2, gamma=0.5, last_epoch=1)
    assert sched.last_epoch == 2 and sched.get_last_lr() == [LRS[0] / 2, LRS[1] / 2]


def test_step_order_warnings_match_torch():
    def first_step_warnings(module, optimizer_first, override=False):
        opt = make_optimizer(LRS)
        sched = module.StepLR(opt, 3)
        if override:
            opt.step = lambda: None  # replaced after the scheduler wrapped it
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            if optimizer_first:
                opt.step()
            sched.step()
            opt.step()
            sched.step()
        return [str(w.message) for w in caught if issubclass(w.category, UserWarning)]

    for optimizer_first, override in [(True, False), (False, False), (True, True)]:
        theirs = first_step_warnings(torch_module, optimizer_first, override)
        ours = first_step_warnings(ours_module, optimizer_first, override)
        assert ours == theirs, (optimizer_first, override, ours, theirs)
        assert len(ours) == (0 if optimizer_first and not override else 1)


def test_torch_and_our_schedulers_share_the_optimizer_wrapper():
    """A torch scheduler and ours on one optimizer: both see optimizer.step() (no spurious warning)."""
    opt = make_optimizer(LRS)
    torch_module.ExponentialLR(opt, 0.9)
    sched = ours_module.StepLR(opt, 3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        opt.step()
        sched.step()


def test_step_with_epoch_uses_the_closed_form_and_warns_like_torch():
    for name in ["StepLR", "MultiStepLR", "ExponentialLR", "LinearLR", "CosineAnnealingLR", "ConstantLR"]:
        torch_opt, our_opt = make_optimizer(LRS), make_optimizer(LRS)
        theirs, ours = CONFIGS[name](torch_module, torch_opt), CONFIGS[name](ours_module, our_opt)
        for epoch in [5, 17, 3, 40]:
            with pytest.warns(UserWarning) as ours_w:
                ours.step(epoch)
            with pytest.warns(UserWarning) as theirs_w:
                theirs.step(epoch)
            assert [str(w.message) for w in ours_w] == [str(w.message) for w in theirs_w]
            assert_same(ours, theirs, our_opt, torch_opt, epoch, where=f"{name} step({epoch}): ")


def test_tensor_lr_is_filled_in_place():
    def run(module):
        p = torch.zeros(2, requires_grad=True)
        lr = torch.tensor(0.1)
        opt = torch.optim.SGD([p], lr=lr)
        sched = module.CosineAnnealingLR(opt, 10)
        for _ in range(15):
            opt.step()
            sched.step()
        assert opt.param_groups[0]["lr"] is lr  # the same tensor, filled
        return lr.item(), sched.get_last_lr()[0].item()

    assert run(ours_module) == run(torch_module)


# ---------------------------------------------------------------------------------------------------
# SequentialLR with torch's children, and torch's SequentialLR with ours

def test_sequentiallr_mixes_with_torch_schedulers():
    def build(seq_module, child_module, o):
        children = [child_module.LinearLR(o, 0.1, total_iters=8), child_module.CosineAnnealingLR(o, 20, 1e-3)]
        return seq_module.SequentialLR(o, children, [8])

    torch_opt = make_optimizer(LRS)
    reference = build(torch_module, torch_module, torch_opt)
    runs = [(make_optimizer(LRS), s, c) for s, c in [(ours_module, torch_module), (torch_module, ours_module)]]
    runs = [(o, build(s, c, o)) for o, s, c in runs]
    for t in range(60):
        for o, sched in runs:
            assert_same(sched, reference, o, torch_opt, t)
        for o, sched in [(torch_opt, reference)] + runs:
            o.step()
            sched.step()


# ---------------------------------------------------------------------------------------------------
# bad input: torch's exception type and message

def other_optimizer_child(M, o):
    other = make_optimizer(LRS)
    return M.SequentialLR(o, [M.ExponentialLR(o, 0.9), M.ExponentialLR(other, 0.9)], [5])


BAD = {
    "not an optimizer": lambda M, o: M.StepLR("sgd", 3),
    "LambdaLR: wrong number of lambdas": lambda M, o: M.LambdaLR(o, [lambda t: 1.0] * 3),
    "ConstantLR: factor > 1": lambda M, o: M.ConstantLR(o, factor=1.5),
    "ConstantLR: factor < 0": lambda M, o: M.ConstantLR(o, factor=-0.1),
    "LinearLR: start_factor 0": lambda M, o: M.LinearLR(o, start_factor=0.0),
    "LinearLR: start_factor > 1": lambda M, o: M.LinearLR(o, start_factor=1.5),
    "LinearLR: end_factor < 0": lambda M, o: M.LinearLR(o, end_factor=-0.5),
    "LinearLR: end_factor > 1": lambda M, o: M.LinearLR(o, end_factor=1.1),
    "OneCycleLR: not an optimizer": lambda M, o: M.OneCycleLR(None, 0.1, total_steps=10),
    "OneCycleLR: total_steps 0": lambda M, o: M.OneCycleLR(o, 0.1, total_steps=0),
    "OneCycleLR: total_steps float": lambda M, o: M.OneCycleLR(o, 0.1, total_steps=10.5),
    "OneCycleLR: no length": lambda M, o: M.OneCycleLR(o, 0.1),
    "OneCycleLR: epochs 0": lambda M, o: M.OneCycleLR(o, 0.1, epochs=0, steps_per_epoch=5),
    "OneCycleLR: steps_per_epoch -1": lambda M, o: M.OneCycleLR(o, 0.1, epochs=2, steps_per_epoch=-1),
    "OneCycleLR: pct_start > 1": lambda M, o: M.OneCycleLR(o, 0.1, total_steps=10, pct_start=1.5),
    "OneCycleLR: pct_start int": lambda M, o: M.OneCycleLR(o, 0.1, total_steps=10, pct_start=1),
    "OneCycleLR: anneal_strategy": lambda M, o: M.OneCycleLR(o, 0.1, total_steps=10, anneal_strategy="exp"),
    "OneCycleLR: max_lr length": lambda M, o: M.OneCycleLR(o, [0.1, 0.2, 0.3], total_steps=10),
    "OneCycleLR: momentum length": lambda M, o: M.OneCycleLR(o, 0.1, total_steps=10, max_momentum=[0.9]),
    "OneCycleLR: no momentum": lambda M, o: M.OneCycleLR(
        torch.optim.Adagrad([torch.zeros(1, requires_grad=True)]), 0.1, total_steps=10
    ),
    "SequentialLR: no scheduler": lambda M, o: M.SequentialLR(o, [], []),
    "SequentialLR: child without optimizer": lambda M, o: M.SequentialLR(o, [object()], []),
    "SequentialLR: mismatched milestones": lambda M, o: M.SequentialLR(
        o, [M.LinearLR(o), M.ExponentialLR(o, 0.9)], [5, 10]
    ),
    "SequentialLR: ReduceLROnPlateau": lambda M, o: M.SequentialLR(
        o, [M.LinearLR(o), torch_module.ReduceLROnPlateau(o)], [5]
    ),
    "SequentialLR: another optimizer": other_optimizer_child,
    "resume without initial_lr": lambda M, o: M.ExponentialLR(o, 0.9, last_epoch=3),
}


def raised(module, build):
    try:
        build(module, make_optimizer(LRS))
    except Exception as e:  # noqa: BLE001 - the point is to capture whatever torch raises
        return type(e), str(e)
    return None


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_input_raises_torchs_exception(case):
    theirs = raised(torch_module, BAD[case])
    assert theirs is not None, f"torch accepts {case}"
    assert raised(ours_module, BAD[case]) == theirs


def stepped(module, build, steps):
    opt = make_optimizer(LRS)
    sched = build(module, opt)
    try:
        for _ in range(steps):
            opt.step()
            sched.step()
    except Exception as e:  # noqa: BLE001
        return type(e), str(e), sched.last_epoch
    return None


@pytest.mark.parametrize("case, build, steps", [
    ("OneCycleLR stepped past total_steps", lambda M, o: M.OneCycleLR(o, 0.1, total_steps=10), 11),
    ("StepLR step_size 0", lambda M, o: M.StepLR(o, 0), 1),
    ("CosineAnnealingLR T_max 0", lambda M, o: M.CosineAnnealingLR(o, 0), 1),
    ("ConstantLR factor 0 at total_iters", lambda M, o: M.ConstantLR(o, 0.0, 3), 3),
])
def test_bad_steps_raise_torchs_exception(case, build, steps):
    theirs = stepped(torch_module, build, steps)
    assert theirs is not None, f"torch accepts {case}"
    assert stepped(ours_module, build, steps) == theirs
    if case.startswith("OneCycleLR"):
        assert theirs[1] == "Tried to step 11 times. The specified number of total steps is 10"


# ---------------------------------------------------------------------------------------------------
# what the site embeds: the base section plus one class section runs alone and matches torch

# the reader's copy: SequentialLR's children are theirs where the copied sections define them, else torch's
SNIPPET_CONFIGS = {
    "ExponentialLR": lambda M, o: M.ExponentialLR(o, 0.97),
    "StepLR": lambda M, o: M.StepLR(o, 7, 0.5),
    "MultiStepLR": lambda M, o: M.MultiStepLR(o, [3, 3, 10, 20], 0.5),
    "LambdaLR": lambda M, o: M.LambdaLR(o, lambda t: 0.95 ** t),
    "ConstantLR": lambda M, o: M.ConstantLR(o, 0.25, 12),
    "LinearLR": lambda M, o: M.LinearLR(o, 0.1, 0.8, 15),
    "CosineAnnealingLR": lambda M, o: M.CosineAnnealingLR(o, 9, 0.001),
    "OneCycleLR": lambda M, o: M.OneCycleLR(o, [0.3, 0.9], total_steps=60, three_phase=True),
    "SequentialLR": lambda M, o: M.SequentialLR(o, [M.LinearLR(o, 0.1, total_iters=8), M.CosineAnnealingLR(o, 20, 1e-3)], [8]),
}


def test_snippet_sections_run_alone_with_only_torch():
    """The `base` section plus one class section, executed alone in a fresh namespace with optimessay
    out of sys.modules (as in an interpreter that imported only torch; the copy must not import it),
    equals torch's scheduler for 60 steps. (In this process rather than a fresh interpreter per file:
    that was ~4 s of CPU, mostly importing torch.)"""
    source = Path(ours_module.__file__).read_text()
    checked = 0
    with without_optimessay() as imported:
        for name, build in SNIPPET_CONFIGS.items():
            M = copied_sections(source, name, borrowed=["LinearLR", "CosineAnnealingLR", "StepLR"])
            o1, o2 = two_group_sgd(), two_group_sgd()
            s1, s2 = build(M, o1), build(torch.optim.lr_scheduler, o2)
            for t in range(60):
                assert [g["lr"] for g in o1.param_groups] == [g["lr"] for g in o2.param_groups], (name, t)
                o1.step()
                o2.step()
                s1.step()
                s2.step()
            checked += 1
    assert not imported, f"the copied sections imported {imported}"
    assert checked == len(NAMES)


def test_every_docstring_gives_a_display_formula():
    for name in NAMES:
        doc = getattr(ours_module, name).__doc__
        assert doc.count("$$") >= 2 and doc.count("$$") % 2 == 0, name


def test_formulas_are_the_lr_for_fixed_configs():
    """closed_form (the docstring formula) equals the sequence on fresh runs, to 1e-12 relative."""
    for name in ["ExponentialLR", "StepLR", "MultiStepLR", "ConstantLR", "LinearLR", "CosineAnnealingLR"]:
        lockstep_with_formula(CONFIGS[name], LRS, steps=100)


def test_no_nan_or_inf_in_sequences():
    for name, build in CONFIGS.items():
        opt = make_optimizer(LRS)
        sched = build(ours_module, opt)
        for _ in range(55):
            opt.step()
            sched.step()
            assert all(math.isfinite(lr) for lr in sched.get_last_lr()), name


@pytest.mark.parametrize("name", NAMES)
def test_constructor_has_torchs_arguments_order_and_defaults(name):
    """Same names, order, kinds and defaults as torch.optim.lr_scheduler (last_epoch included)."""
    def arguments(cls):
        return [(p.name, p.kind, p.default) for p in inspect.signature(cls).parameters.values()]

    ours = arguments(getattr(ours_module, name))
    assert ours == arguments(getattr(torch_module, name))
    assert ("last_epoch", inspect.Parameter.POSITIONAL_OR_KEYWORD, -1) in ours


def onecycle_docstring_formula(t, T, p, eta_max, d, d_f, strategy, three_phase):
    """OneCycleLR's docstring formula, written out independently of the class."""
    eta_0 = eta_max / d
    eta_min = eta_0 / d_f

    def A(a, b, x):
        if strategy == "cos":
            return b + (a - b) / 2 * (1 + math.cos(math.pi * x))
        return a + (b - a) * x

    t1 = p * T - 1
    if not three_phase:
        t2 = T - 1
        return A(eta_0, eta_max, t / t1) if t <= t1 else A(eta_max, eta_min, (t - t1) / (t2 - t1))
    t2, t3 = 2 * p * T - 2, T - 1
    if t <= t1:
        return A(eta_0, eta_max, t / t1)
    if t <= t2:
        return A(eta_max, eta_0, (t - t1) / (t2 - t1))
    return A(eta_0, eta_min, (t - t2) / (t3 - t2))


@pytest.mark.parametrize("strategy", ["cos", "linear"])
@pytest.mark.parametrize("three_phase", [False, True])
def test_onecyclelr_is_its_docstring_formula(strategy, three_phase):
    T, p, d, d_f, max_lrs = 97, 0.27, 20.0, 300.0, [0.3, 0.9]
    opt = make_optimizer(LRS)
    sched = ours_module.OneCycleLR(opt, max_lrs, total_steps=T, pct_start=p, div_factor=d, final_div_factor=d_f,
                                   anneal_strategy=strategy, three_phase=three_phase)
    for t in range(T + 1):
        for group, eta_max in zip(opt.param_groups, max_lrs, strict=True):
            want = onecycle_docstring_formula(t, T, p, eta_max, d, d_f, strategy, three_phase)
            assert abs(group["lr"] - want) <= 1e-12 * eta_max, (t, group["lr"], want)
        opt.step()
        if t < T:
            sched.step()


def test_sequentiallr_is_each_child_restarted_at_its_milestone():
    """The docstring: eta_t = eta^(k)_{t - m_k}, child k's own lr at its own step t - m_k."""
    children = [
        lambda o: ours_module.LinearLR(o, 0.1, total_iters=12),
        lambda o: ours_module.CosineAnnealingLR(o, 30, 1e-3),
        lambda o: ours_module.ExponentialLR(o, 0.95),
    ]
    milestones, steps = [10, 45], 90
    opt = make_optimizer(LRS)
    sched = ours_module.SequentialLR(opt, [child(opt) for child in children], milestones)
    got = []
    for _ in range(steps):
        got.append([g["lr"] for g in opt.param_groups])
        opt.step()
        sched.step()
    for k, (m_k, end) in enumerate(zip([0, *milestones], [*milestones, steps], strict=True)):
        alone_opt = make_optimizer(LRS)
        alone = children[k](alone_opt)  # child k on its own, from its own t = 0
        for t in range(m_k, end):
            want = [g["lr"] for g in alone_opt.param_groups]
            assert got[t] == pytest.approx(want, rel=1e-12), (k, t)
            alone_opt.step()
            alone.step()


def test_the_newer_schedulers_are_exported_too():
    """The seven schedulers tested in tests/test_schedulers_more.py are reachable as optimessay.X."""
    for name in ["PolynomialLR", "MultiplicativeLR", "CosineAnnealingWarmRestarts", "CyclicLR",
                 "ChainedScheduler", "ReduceLROnPlateau", "SWALR"]:
        assert getattr(optimessay, name) is getattr(ours_module, name)
