"""The seven schedulers added for issue 11 against torch 2.13 (the reference): PolynomialLR,
MultiplicativeLR, CosineAnnealingWarmRestarts, CyclicLR, ChainedScheduler, ReduceLROnPlateau and
torch.optim.swa_utils.SWALR.

As in tests/test_schedulers.py, torch's scheduler and ours drive twin optimizers with two param
groups of different lrs (float64 params), the optimizer steps before the scheduler, and every
group's lr (CyclicLR: and momentum / Adam's beta1), `get_last_lr()` and `last_epoch` are asserted
*exactly* equal after construction and after every step. Random configurations come from
hypothesis (derandomized: the run is reproducible); each property prints how many it checked.
The docstring formulas are checked against independent re-derivations written out here.
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
NAMES = [
    "PolynomialLR", "MultiplicativeLR", "CosineAnnealingWarmRestarts", "CyclicLR", "ChainedScheduler",
    "ReduceLROnPlateau", "SWALR",
]
STEPS = 150  # steps per random configuration
EXAMPLES = 40  # random configurations per property
LRS = (0.05, 0.5)  # torch's own scheduler tests use these two groups
random_configs = settings(
    max_examples=EXAMPLES, derandomize=True, database=None, deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


class TorchSide:
    """torch's classes under one namespace: lr_scheduler's, plus swa_utils.SWALR."""

    def __getattr__(self, name):
        if name == "SWALR":
            return torch.optim.swa_utils.SWALR
        return getattr(torch_module, name)


theirs_module = TorchSide()


# ---------------------------------------------------------------------------------------------------
# helpers

def make_optimizer(lrs=LRS, kind="sgd"):
    """An optimizer over two small float64 tensors, one param group each, with lrs[0] and lrs[1]
    (`kind` "sgd": IdleSGD, as every comparison of this file but test_works_with_other_optimizers uses;
    "idle-adam": IdleAdam, for the random CyclicLR configurations that cycle beta1)."""
    params = [torch.zeros(3, dtype=torch.float64, requires_grad=True) for _ in lrs]
    groups = [{"params": [p], "lr": lr} for p, lr in zip(params, lrs, strict=True)]
    return {
        "sgd": lambda: IdleSGD(groups, momentum=0.9),
        "torch-sgd": lambda: torch.optim.SGD(groups, momentum=0.9),
        "adam": lambda: torch.optim.Adam(groups),
        "idle-adam": lambda: IdleAdam(groups),
        "optimessay-sgd": lambda: optimessay.SGD(groups, momentum=0.9),
        "optimessay-adam": lambda: optimessay.Adam(groups),
        "optimessay-rmsprop": lambda: optimessay.RMSprop(groups, momentum=0.5),
    }[kind]()


def group_values(optimizer):
    """What a scheduler may write: each group's lr, and momentum / beta1 (CyclicLR)."""
    return [(g["lr"], g.get("momentum"), g.get("betas")) for g in optimizer.param_groups]


def assert_same(ours, theirs, our_opt, torch_opt, t, where=""):
    got, want = group_values(our_opt), group_values(torch_opt)
    assert got == want, f"{where}step {t}: ours {got} != torch {want}"
    assert ours.get_last_lr() == theirs.get_last_lr(), f"{where}step {t}: get_last_lr differs"
    assert getattr(ours, "last_epoch", None) == getattr(theirs, "last_epoch", None), f"{where}step {t}: last_epoch"


def lockstep(build, lrs=LRS, kind="sgd", steps=STEPS, metrics=None, record=None):
    """Build torch's and our scheduler with `build(module, optimizer)` on twin optimizers and step
    both `steps` times (optimizer first; ReduceLROnPlateau gets `metrics[t]`): equal at every step.
    Our side must not warn. `record(t, ours, our_opt)` sees every step (for the formula checks)."""
    torch_opt, our_opt = make_optimizer(lrs, kind), make_optimizer(lrs, kind)
    theirs = build(theirs_module, torch_opt)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ours = build(ours_module, our_opt)
        for t in range(steps + 1):
            assert_same(ours, theirs, our_opt, torch_opt, t)
            if record is not None:
                record(t, ours, our_opt)
            if t < steps:
                torch_opt.step()
                our_opt.step()
                args = () if metrics is None else (metrics[t],)
                theirs.step(*args)
                ours.step(*args)
    return ours, our_opt


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
    print(f"\n{name}: {COUNTS[name]} random configurations, equal to torch")
    assert COUNTS[name] >= EXAMPLES


def close(a, b, scale, rel=1e-12):
    return abs(a - b) <= rel * scale


# two different lrs for the two groups
lrs = st.tuples(st.floats(1e-4, 1.0), st.floats(1.5, 20.0)).map(lambda p: (p[0], p[0] * p[1]))


# ---------------------------------------------------------------------------------------------------
# PolynomialLR

def test_polynomiallr_random_configs_and_formula():
    """Past total_iters too (the lr stays 0); the docstring formula to 1e-12 of the base lr."""
    def check(c):
        lrs_, total_iters, power = c

        def formula(t, ours, opt):
            for g, base in zip(opt.param_groups, ours.base_lrs, strict=True):
                want = base * (1 - min(t, total_iters) / total_iters) ** power
                assert close(g["lr"], want, base), (t, g["lr"], want)

        lockstep(lambda M, o: M.PolynomialLR(o, total_iters, power), lrs_, record=formula)

    run_counted("PolynomialLR", check, st.tuples(lrs, st.integers(1, STEPS + 20), st.floats(0.1, 5.0)))


# ---------------------------------------------------------------------------------------------------
# MultiplicativeLR

def test_multiplicativelr_random_configs_and_formula():
    """One factor function for both groups or one each, from a few families; eta_t = eta_0 prod lambda."""
    def family(kind, a):
        if kind == "constant":
            return lambda t: a
        if kind == "every-7":
            return lambda t: a if t % 7 == 0 else 1.0
        return lambda t: 1.0 - (1.0 - a) / (1 + t)  # factors tending to 1

    fn = st.tuples(st.sampled_from(["constant", "every-7", "fading"]), st.floats(0.8, 1.05)).map(lambda p: family(*p))
    lr_lambda = st.one_of(fn, st.lists(fn, min_size=2, max_size=2))

    def check(c):
        lrs_, lam = c
        fns = lam if isinstance(lam, list) else [lam, lam]

        def formula(t, ours, opt):
            for g, base, f in zip(opt.param_groups, lrs_, fns, strict=True):
                want = base * math.prod(f(s) for s in range(1, t + 1))
                assert close(g["lr"], want, want, rel=1e-12), (t, g["lr"], want)

        lockstep(lambda M, o: M.MultiplicativeLR(o, lam), lrs_, record=formula)

    run_counted("MultiplicativeLR", check, st.tuples(lrs, lr_lambda))


# ---------------------------------------------------------------------------------------------------
# CosineAnnealingWarmRestarts

def sgdr_formula(t, T_0, T_mult, eta_min, base):
    """The docstring: find the period t falls in by walking the periods (no logarithm), then the cosine."""
    start, length = 0, T_0
    while t >= start + length:
        start, length = start + length, length * T_mult
    return eta_min + (base - eta_min) * (1 + math.cos(math.pi * (t - start) / length)) / 2


def test_cosineannealingwarmrestarts_random_configs_and_formula():
    def check(c):
        lrs_, T_0, T_mult, eta_min = c

        def formula(t, ours, opt):
            for g, base in zip(opt.param_groups, lrs_, strict=True):
                want = sgdr_formula(t, T_0, T_mult, eta_min, base)
                assert close(g["lr"], want, max(base, eta_min)), (t, g["lr"], want)

        lockstep(lambda M, o: M.CosineAnnealingWarmRestarts(o, T_0, T_mult, eta_min), lrs_, record=formula)

    run_counted(
        "CosineAnnealingWarmRestarts", check,
        st.tuples(lrs, st.integers(1, 60), st.integers(1, 3), st.floats(0.0, 0.01)),
    )


def test_cosineannealingwarmrestarts_fractional_and_interleaved_epochs():
    """step(epoch) with fractional epochs (epoch + batch / batches), mixed with plain step() calls and
    jumps back: equal to torch, and neither side warns."""
    def check(c):
        T_0, T_mult, calls = c
        torch_opt, our_opt = make_optimizer(), make_optimizer()
        theirs = torch_module.CosineAnnealingWarmRestarts(torch_opt, T_0, T_mult, 1e-3)
        ours = ours_module.CosineAnnealingWarmRestarts(our_opt, T_0, T_mult, 1e-3)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            for i, epoch in enumerate(calls):
                for sched in (theirs, ours):
                    sched.step() if epoch is None else sched.step(epoch)
                assert_same(ours, theirs, our_opt, torch_opt, i, where=f"step({epoch}): ")
                assert (ours.T_cur, ours.T_i) == (theirs.T_cur, theirs.T_i)

    call = st.one_of(st.none(), st.integers(0, 200), st.integers(0, 2000).map(lambda k: k / 10))
    run_counted(
        "CosineAnnealingWarmRestarts step(epoch)", check,
        st.tuples(st.integers(1, 30), st.integers(1, 3), st.lists(call, min_size=1, max_size=60)),
    )


def test_cosineannealingwarmrestarts_keeps_torchs_logarithm_rounding():
    """The docstring's caveat: step(121) with T_0=1, T_mult=3 lands at the end of the period before
    the restart (log_3 243 rounds below 5), unlike 121 plain steps; ours does what torch does."""
    def jump(M, epoch):
        opt = make_optimizer((1.0, 2.0))
        sched = M.CosineAnnealingWarmRestarts(opt, 1, 3, 0.0)
        sched.step(epoch)
        return group_values(opt), sched.T_cur, sched.T_i

    assert jump(ours_module, 121) == jump(torch_module, 121)
    assert jump(ours_module, 121)[1:] == (81.0, 81)  # not (0, 243), where plain steps get
    assert [g[0] for g in jump(ours_module, 121)[0]] == [0.0, 0.0]


# ---------------------------------------------------------------------------------------------------
# CyclicLR

def clr_formula(t, base, peak, up, down, mode, gamma, fn, fn_mode):
    """The docstring's triangle h times the amplitude's scale s, written out independently."""
    N = up + down
    c = math.floor(1 + t / N)
    x = 1 + t / N - c
    r = up / N
    h = x / r if x <= r else (x - 1) / (r - 1)
    if fn is not None:
        s = fn(c) if fn_mode == "cycle" else fn(t)
    else:
        s = {"triangular": 1.0, "triangular2": 0.5 ** (c - 1), "exp_range": gamma**t}[mode]
    return base + (peak - base) * h * s, h * s


scale_fns = {
    None: None,
    "inverse": lambda x: 1 / (1 + 0.1 * x),
    "cosine": lambda x: 0.5 * (1 + math.cos(x / 10)),
}


def test_cycliclr_random_configs_lr_and_momentum_and_formula():
    """All three modes and a custom scale_fn in both scale modes; momentum (SGD) or beta1 (Adam)
    cycled or not; per-group lists for the lrs and momenta; many cycles in STEPS steps."""
    config = st.fixed_dictionaries({
        "base_lr": st.one_of(st.floats(1e-4, 0.01), st.lists(st.floats(1e-4, 0.01), min_size=2, max_size=2)),
        "max_lr": st.one_of(st.floats(0.02, 1.0), st.lists(st.floats(0.02, 1.0), min_size=2, max_size=2)),
        "step_size_up": st.integers(1, 40),
        "step_size_down": st.one_of(st.none(), st.integers(1, 40)),
        "mode": st.sampled_from(["triangular", "triangular2", "exp_range"]),
        "gamma": st.floats(0.95, 1.0),
        "scale_fn": st.sampled_from(list(scale_fns)),
        "scale_mode": st.sampled_from(["cycle", "iterations"]),
        "cycle_momentum": st.booleans(),
        "base_momentum": st.one_of(st.floats(0.5, 0.85), st.lists(st.floats(0.5, 0.85), min_size=2, max_size=2)),
        "max_momentum": st.floats(0.86, 0.99),
    })

    def check(c):
        kind, cfg = c
        kwargs = {**cfg, "scale_fn": scale_fns[cfg["scale_fn"]]}
        per_group = lambda v: v if isinstance(v, list) else [v, v]  # noqa: E731
        up = cfg["step_size_up"]
        down = cfg["step_size_down"] if cfg["step_size_down"] is not None else up
        fn_mode = cfg["scale_mode"] if kwargs["scale_fn"] else None

        def formula(t, ours, opt):
            for i, g in enumerate(opt.param_groups):
                want, hs = clr_formula(t, per_group(cfg["base_lr"])[i], per_group(cfg["max_lr"])[i], up, down,
                                       cfg["mode"], cfg["gamma"], kwargs["scale_fn"], fn_mode)
                assert close(g["lr"], want, per_group(cfg["max_lr"])[i]), (t, g["lr"], want)
                if cfg["cycle_momentum"]:
                    m_max, m_base = cfg["max_momentum"], per_group(cfg["base_momentum"])[i]
                    momentum = g["betas"][0] if kind == "idle-adam" else g["momentum"]
                    assert close(momentum, m_max - (m_max - m_base) * hs, 1.0), (t, momentum)

        lockstep(lambda M, o: M.CyclicLR(o, **kwargs), kind=kind, record=formula)

    run_counted("CyclicLR", check, st.tuples(st.sampled_from(["sgd", "idle-adam"]), config))


# ---------------------------------------------------------------------------------------------------
# ChainedScheduler

CHAINABLE = {  # children whose step multiplies the lr by a factor, with random arguments
    "ConstantLR": st.tuples(st.floats(0.05, 1.0), st.integers(1, 60)).map(lambda a: {"factor": a[0], "total_iters": a[1]}),
    "ExponentialLR": st.floats(0.95, 1.0).map(lambda g: {"gamma": g}),
    "StepLR": st.tuples(st.integers(1, 40), st.floats(0.3, 1.0)).map(lambda a: {"step_size": a[0], "gamma": a[1]}),
    "LinearLR": st.tuples(st.floats(0.05, 1.0), st.integers(1, 60)).map(lambda a: {"start_factor": a[0], "total_iters": a[1]}),
    "PolynomialLR": st.tuples(st.integers(STEPS + 1, 2 * STEPS), st.floats(0.5, 2.0)).map(
        lambda a: {"total_iters": a[0], "power": a[1]}),
    "MultiplicativeLR": st.floats(0.97, 1.0).map(lambda f: {"lr_lambda": lambda t: f}),
}
children_strategy = st.lists(
    st.sampled_from(sorted(CHAINABLE)).flatmap(lambda n: CHAINABLE[n].map(lambda kw: (n, kw))), min_size=1, max_size=3,
)


def chain(chain_module, child_module, children):
    return lambda M, o: chain_module.ChainedScheduler([getattr(child_module, n)(o, **kw) for n, kw in children])


def test_chainedscheduler_random_children_and_product_formula():
    """The product of the children's factors (the docstring) to 1e-12 relative."""
    def check(c):
        lrs_, children = c
        alone = []  # each child's lr sequence on its own optimizer
        for n, kw in children:
            opt = make_optimizer(lrs_)
            sched = getattr(ours_module, n)(opt, **kw)
            seq = []
            for _ in range(STEPS + 1):
                seq.append([g["lr"] for g in opt.param_groups])
                opt.step()
                sched.step()
            alone.append(seq)

        def formula(t, ours, opt):
            for i, (g, base) in enumerate(zip(opt.param_groups, lrs_, strict=True)):
                want = base * math.prod(seq[t][i] / base for seq in alone)
                assert close(g["lr"], want, want), (t, g["lr"], want)

        lockstep(chain(ours_module, ours_module, children), lrs_, record=formula)

    run_counted("ChainedScheduler", check, st.tuples(lrs, children_strategy))


@pytest.mark.parametrize("chain_side, child_side", [("ours", "torch"), ("torch", "ours")])
def test_chainedscheduler_mixes_with_torch_schedulers(chain_side, child_side):
    """Our ChainedScheduler over torch's children, and torch's over ours, equal torch over torch."""
    modules = {"ours": ours_module, "torch": torch_module}
    children = [("ConstantLR", {"factor": 0.1, "total_iters": 20}), ("ExponentialLR", {"gamma": 0.9}),
                ("CosineAnnealingLR", {"T_max": 15})]
    torch_opt, opt = make_optimizer(), make_optimizer()
    reference = chain(torch_module, torch_module, children)(None, torch_opt)
    mixed = chain(modules[chain_side], modules[child_side], children)(None, opt)
    for t in range(60):
        assert group_values(opt) == group_values(torch_opt), t
        assert mixed.get_last_lr() == reference.get_last_lr()
        for o, s in ((torch_opt, reference), (opt, mixed)):
            o.step()
            s.step()


# ---------------------------------------------------------------------------------------------------
# ReduceLROnPlateau

def plateau_reference(metrics, lr, mode, factor, patience, threshold, threshold_mode, cooldown, min_lr, eps):
    """The docstring's rule, written out independently: the lr after each step."""
    best = math.inf if mode == "min" else -math.inf
    bad, cool, out = 0, 0, []
    for m in metrics:
        sign = 1 if mode == "min" else -1
        if threshold_mode == "rel":
            better = sign * m < sign * best * (1 - sign * threshold)
        else:
            better = sign * m < sign * best - threshold
        bad = 0 if better else bad + 1
        best = m if better else best
        if cool > 0:
            cool, bad = cool - 1, 0
        if bad > patience:
            new = max(lr * factor, min_lr)
            lr = new if lr - new > eps else lr
            cool, bad = cooldown, 0
        out.append(lr)
    return out


def test_reducelronplateau_random_configs_and_rule():
    """Metric sequences with plateaus, ties and noise (values on a coarse grid, so "equal" and
    "better by less than the threshold" happen); every argument random, min_lr one or per group."""
    config = st.fixed_dictionaries({
        "mode": st.sampled_from(["min", "max"]),
        "factor": st.floats(0.05, 0.95),
        "patience": st.integers(0, 8),
        "threshold": st.sampled_from([0.0, 1e-4, 0.01, 0.1, 0.5]),
        "threshold_mode": st.sampled_from(["rel", "abs"]),
        "cooldown": st.integers(0, 5),
        "min_lr": st.one_of(st.sampled_from([0, 1e-3, 0.02]), st.lists(st.sampled_from([0.0, 1e-3, 0.1]), min_size=2, max_size=2)),
        "eps": st.sampled_from([1e-8, 1e-3, 0.0]),
    })
    metrics = st.lists(st.integers(-20, 20).map(lambda k: 1.0 + k / 20), min_size=STEPS, max_size=STEPS)

    def check(c):
        lrs_, kwargs, ms = c
        ours, opt = lockstep(lambda M, o: M.ReduceLROnPlateau(o, **kwargs), lrs_, metrics=ms)
        for i, (g, lr) in enumerate(zip(opt.param_groups, lrs_, strict=True)):
            min_lr = kwargs["min_lr"][i] if isinstance(kwargs["min_lr"], list) else kwargs["min_lr"]
            want = plateau_reference(ms, lr, **{**kwargs, "min_lr": min_lr})[-1]
            assert g["lr"] == want

    run_counted("ReduceLROnPlateau", check, st.tuples(lrs, config, metrics))


def test_reducelronplateau_internal_state_matches_torch():
    """best, num_bad_epochs, cooldown_counter, last_epoch after each step, tensor metrics too."""
    torch_opt, opt = make_optimizer(), make_optimizer()
    kwargs = {"mode": "max", "factor": 0.5, "patience": 2, "cooldown": 3, "threshold": 0.05}
    theirs, ours = torch_module.ReduceLROnPlateau(torch_opt, **kwargs), ours_module.ReduceLROnPlateau(opt, **kwargs)
    keys = ["best", "num_bad_epochs", "cooldown_counter", "last_epoch", "min_lrs", "mode_worse", "in_cooldown"]
    for t in range(80):
        metric = torch.tensor(math.sin(t / 5) + t / 40, dtype=torch.float64)
        theirs.step(metric)
        ours.step(metric)
        assert [getattr(ours, k) for k in keys] == [getattr(theirs, k) for k in keys], t
        assert group_values(opt) == group_values(torch_opt) and ours.get_last_lr() == theirs.get_last_lr()


def test_reducelronplateau_with_a_param_group_added_later():
    """A scalar min_lr extends to the new group; a per-group list raises torch's RuntimeError."""
    def run(module, min_lr):
        opt = make_optimizer()
        sched = module.ReduceLROnPlateau(opt, patience=0, min_lr=min_lr)
        opt.add_param_group({"params": [torch.zeros(1, requires_grad=True)], "lr": 0.2})
        try:
            for m in [1.0, 2.0, 3.0]:
                sched.step(m)
        except RuntimeError as e:
            return str(e)
        return group_values(opt), sched.min_lrs

    for min_lr in [0.001, [0.001, 0.002]]:
        assert run(ours_module, min_lr) == run(torch_module, min_lr)
    assert "param group being added" in run(ours_module, [0.001, 0.002])


# ---------------------------------------------------------------------------------------------------
# SWALR

def swa_formula(t, start, swa_lr, T, strategy):
    u = min(1.0, t / max(1, T)) if T > 0 else 1.0
    alpha = (1 - math.cos(math.pi * u)) / 2 if strategy == "cos" else u
    return alpha * swa_lr + (1 - alpha) * start


def test_swalr_random_configs_and_formula():
    """swa_lr one or per group, both strategies, anneal_epochs 0 to past STEPS."""
    config = st.fixed_dictionaries({
        "swa_lr": st.one_of(st.floats(1e-4, 1.0), st.lists(st.floats(1e-4, 1.0), min_size=2, max_size=2)),
        "anneal_epochs": st.integers(0, STEPS + 10),
        "anneal_strategy": st.sampled_from(["cos", "linear"]),
    })

    def check(c):
        lrs_, kwargs = c
        swa = kwargs["swa_lr"] if isinstance(kwargs["swa_lr"], list) else [kwargs["swa_lr"]] * 2

        def formula(t, ours, opt):
            for g, start, s in zip(opt.param_groups, lrs_, swa, strict=True):
                want = swa_formula(t, start, s, kwargs["anneal_epochs"], kwargs["anneal_strategy"])
                assert close(g["lr"], want, max(start, s), rel=1e-10), (t, g["lr"], want)

        lockstep(lambda M, o: M.SWALR(o, **kwargs), lrs_, record=formula)

    run_counted("SWALR", check, st.tuples(lrs, config))


def test_swalr_takes_over_from_another_scheduler_like_torch():
    """torch's recipe: MultiplicativeLR until swa_start, then SWALR anneals from wherever the lr is."""
    def run(module):
        opt = make_optimizer()
        first = module.MultiplicativeLR(opt, lambda t: 0.9)
        swa = (torch.optim.swa_utils if module is torch_module else module).SWALR(
            opt, swa_lr=0.01, anneal_epochs=5, anneal_strategy="linear")
        lrs_seen = []
        for i in range(40):
            opt.step()
            (swa if i > 20 else first).step()
            lrs_seen.append(group_values(opt))
        return lrs_seen

    assert run(ours_module) == run(torch_module)


# ---------------------------------------------------------------------------------------------------
# fixed configurations for the remaining tests

CONFIGS = {
    "PolynomialLR": lambda M, o: M.PolynomialLR(o, 30, 1.5),
    "MultiplicativeLR": lambda M, o: M.MultiplicativeLR(o, [lambda t: 0.95, lambda t: 0.9 if t % 5 == 0 else 1.0]),
    "CosineAnnealingWarmRestarts": lambda M, o: M.CosineAnnealingWarmRestarts(o, 4, 2, 1e-3),
    "CyclicLR": lambda M, o: M.CyclicLR(o, [0.01, 0.05], [0.1, 0.8], 6, 9, "triangular2"),
    "ChainedScheduler": lambda M, o: M.ChainedScheduler(
        [M.ConstantLR(o, 0.25, 12), M.ExponentialLR(o, 0.97), M.PolynomialLR(o, 80, 2.0)]),
    "ReduceLROnPlateau": lambda M, o: M.ReduceLROnPlateau(o, patience=2, cooldown=1, factor=0.5, min_lr=[0.0, 0.1]),
    "SWALR": lambda M, o: M.SWALR(o, [0.01, 0.2], anneal_epochs=12),
}
METRICS = [1.0 / (1 + t // 6) + 0.01 * ((t * 7) % 3) for t in range(200)]  # falls in plateaus, with noise


def stepper(name):
    """How a scheduler steps: ReduceLROnPlateau on a metric, the rest on nothing."""
    if name == "ReduceLROnPlateau":
        return lambda sched, t: sched.step(METRICS[t])
    return lambda sched, t: sched.step()


@pytest.mark.parametrize("kind", ["torch-sgd", "adam", "optimessay-sgd", "optimessay-adam", "optimessay-rmsprop"])
@pytest.mark.parametrize("name", NAMES)
def test_works_with_other_optimizers(name, kind):
    """torch's SGD and Adam and optimessay's optimizers (CyclicLR's momentum or beta1 included)."""
    lockstep(CONFIGS[name], kind=kind, steps=50, metrics=METRICS if name == "ReduceLROnPlateau" else None)


def test_cycliclr_drives_optimessay_adam_like_torch_adam():
    """The whole loop: optimessay.Adam + our CyclicLR (beta1 cycled) vs torch's pair, same parameters."""
    def train(opt_class, module):
        w = torch.tensor([3.0, -2.0, 0.5, 1.0], dtype=torch.float64, requires_grad=True)
        opt = opt_class([w], lr=0.1)
        sched = module.CyclicLR(opt, 0.01, 0.2, step_size_up=7, mode="exp_range", gamma=0.99)
        for _ in range(60):
            opt.zero_grad()
            (torch.arange(1.0, 5.0, dtype=torch.float64) * (w - 1) ** 2).sum().backward()
            opt.step()
            sched.step()
        return w.detach()

    ours, theirs = train(optimessay.Adam, ours_module), train(torch.optim.Adam, torch_module)
    assert (theirs - 1).abs().max() < 0.5  # it trained
    assert torch.equal(ours, theirs)


def test_state_dict_has_torchs_keys_and_pickles():
    """Torch's layout, except `_get_lr_called_within_step` (we do not warn on get_lr() outside step)."""
    for name, build in CONFIGS.items():
        theirs = build(theirs_module, make_optimizer()).state_dict()
        ours = build(ours_module, make_optimizer()).state_dict()
        assert set(ours) == set(theirs) - {"_get_lr_called_within_step"}, name
        pickle.dumps(ours)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("source", ["ours", "torch"])
def test_state_dict_mid_run_continues_the_same_sequence(name, source):
    """Run 25 steps, save the optimizer's and the scheduler's state dicts, build everything afresh,
    load both, and continue: equal to an uninterrupted torch run. The saved scheduler state is ours
    or torch's (each loads the other's)."""
    build, total, cut, step = CONFIGS[name], 55, 25, stepper(name)
    reference_opt = make_optimizer()
    reference = build(theirs_module, reference_opt)
    saver_opt = make_optimizer()
    saver = build(ours_module if source == "ours" else theirs_module, saver_opt)
    for t in range(cut):
        for opt, sched in ((reference_opt, reference), (saver_opt, saver)):
            opt.step()
            step(sched, t)
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
                step(sched, t)


def test_callable_object_state_is_saved_like_torch():
    """A callable object's `__dict__` goes into the state dict (MultiplicativeLR's lambdas, CyclicLR's
    scale_fn), a plain function as None; loading puts the object's state back."""
    class Factor:
        def __init__(self, f):
            self.f = f

        def __call__(self, x):
            return self.f

    for name, build in [
        ("MultiplicativeLR", lambda M, o, f: M.MultiplicativeLR(o, [Factor(f), lambda t: 0.9])),
        ("CyclicLR", lambda M, o, f: M.CyclicLR(o, 0.01, 0.1, 5, scale_fn=Factor(f))),
    ]:
        for source, target in [(ours_module, ours_module), (torch_module, ours_module), (ours_module, torch_module)]:
            saved = build(source, make_optimizer(), 0.5).state_dict()
            loaded = build(target, make_optimizer(), 0.7)
            loaded.load_state_dict(copy.deepcopy(saved))
            fn = loaded.lr_lambdas[0] if name == "MultiplicativeLR" else loaded._scale_fn_custom
            assert fn.f == 0.5, (name, source, target)


@pytest.mark.parametrize("name", ["PolynomialLR", "MultiplicativeLR", "CosineAnnealingWarmRestarts", "CyclicLR", "SWALR"])
@pytest.mark.parametrize("offset", [-1, 0])
def test_last_epoch_resume_matches_torch(name, offset):
    """Resume with `last_epoch` = steps done + offset on an optimizer restored from a checkpoint."""
    build, done = CONFIGS[name], 20
    opt = make_optimizer()
    sched = build(theirs_module, opt)
    for _ in range(done):
        opt.step()
        sched.step()
    checkpoint = copy.deepcopy(opt.state_dict())

    def resumed(M):
        o = make_optimizer((7.0, 7.0))
        o.load_state_dict(copy.deepcopy(checkpoint))
        kw = {"last_epoch": done + offset}
        return o, {
            "PolynomialLR": lambda: M.PolynomialLR(o, 30, 1.5, **kw),
            "MultiplicativeLR": lambda: M.MultiplicativeLR(o, lambda t: 0.95, **kw),
            "CosineAnnealingWarmRestarts": lambda: M.CosineAnnealingWarmRestarts(o, 4, 2, 1e-3, **kw),
            "CyclicLR": lambda: M.CyclicLR(o, [0.01, 0.05], [0.1, 0.8], 6, 9, "triangular2", **kw),
            "SWALR": lambda: M.SWALR(o, [0.01, 0.2], anneal_epochs=12, **kw),
        }[name]()

    (torch_opt, theirs), (our_opt, ours) = resumed(theirs_module), resumed(ours_module)
    for t in range(30):
        assert_same(ours, theirs, our_opt, torch_opt, t, where=f"last_epoch={done + offset}: ")
        torch_opt.step()
        our_opt.step()
        theirs.step()
        ours.step()


def first_step_warnings(module, name, optimizer_first, override=False):
    opt = make_optimizer()
    sched = CONFIGS[name](module, opt)
    if override:
        opt.step = lambda: None  # replaced after the scheduler wrapped it
    step = stepper(name)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if optimizer_first:
            opt.step()
        step(sched, 0)
        opt.step()
        step(sched, 1)
    return [str(w.message) for w in caught if issubclass(w.category, UserWarning)]


@pytest.mark.parametrize("name", NAMES)
def test_step_order_warnings_match_torch(name):
    """Same warnings as torch's (CosineAnnealingWarmRestarts and ReduceLROnPlateau never warn;
    ChainedScheduler's come from its children)."""
    for optimizer_first, override in [(True, False), (False, False), (True, True)]:
        theirs = first_step_warnings(theirs_module, name, optimizer_first, override)
        assert first_step_warnings(ours_module, name, optimizer_first, override) == theirs, (optimizer_first, override)


@pytest.mark.parametrize("name", ["PolynomialLR", "MultiplicativeLR", "CyclicLR", "SWALR", "CosineAnnealingWarmRestarts"])
def test_step_with_epoch_matches_torch_values_and_warnings(name):
    """step(epoch): PolynomialLR jumps by its closed form, MultiplicativeLR multiplies once by
    lambda(epoch), CyclicLR evaluates at epoch, SWALR takes an ordinary step, all with torch's
    deprecation warning; CosineAnnealingWarmRestarts jumps (fractional epochs too) without one."""
    torch_opt, our_opt = make_optimizer(), make_optimizer()
    theirs, ours = CONFIGS[name](theirs_module, torch_opt), CONFIGS[name](ours_module, our_opt)
    for epoch in [5, 17, 3, 40, 2.5, 0, 7.25]:
        if name != "CosineAnnealingWarmRestarts" and isinstance(epoch, float):
            continue
        with warnings.catch_warnings(record=True) as ours_w:
            warnings.simplefilter("always")
            ours.step(epoch)
        with warnings.catch_warnings(record=True) as theirs_w:
            warnings.simplefilter("always")
            theirs.step(epoch)
        assert [str(w.message) for w in ours_w] == [str(w.message) for w in theirs_w]
        assert (len(theirs_w) == 0) == (name == "CosineAnnealingWarmRestarts")
        assert_same(ours, theirs, our_opt, torch_opt, epoch, where=f"{name} step({epoch}): ")


def test_reducelronplateau_step_with_epoch_warns_like_torch():
    torch_opt, our_opt = make_optimizer(), make_optimizer()
    theirs, ours = CONFIGS["ReduceLROnPlateau"](torch_module, torch_opt), CONFIGS["ReduceLROnPlateau"](ours_module, our_opt)
    for t, epoch in enumerate([3, 9, 4, 4, 20, 21, 22, 23]):
        with pytest.warns(UserWarning) as ours_w:
            ours.step(METRICS[t], epoch)
        with pytest.warns(UserWarning) as theirs_w:
            theirs.step(METRICS[t], epoch)
        assert [str(w.message) for w in ours_w] == [str(w.message) for w in theirs_w]
        assert_same(ours, theirs, our_opt, torch_opt, t)


@pytest.mark.parametrize("name", ["PolynomialLR", "CosineAnnealingWarmRestarts", "CyclicLR", "ReduceLROnPlateau", "SWALR"])
def test_tensor_lr_is_filled_in_place(name):
    def run(M):
        p = torch.zeros(2, requires_grad=True)
        lr = torch.tensor(0.1)
        opt = torch.optim.SGD([p], lr=lr, momentum=0.9)
        sched = {
            "PolynomialLR": lambda: M.PolynomialLR(opt, 10, 2.0),
            "CosineAnnealingWarmRestarts": lambda: M.CosineAnnealingWarmRestarts(opt, 3, 2),
            "CyclicLR": lambda: M.CyclicLR(opt, 0.01, 0.1, 4),
            "ReduceLROnPlateau": lambda: M.ReduceLROnPlateau(opt, patience=1),
            "SWALR": lambda: M.SWALR(opt, 0.01, 5),
        }[name]()
        for t in range(15):
            opt.step()
            stepper(name)(sched, t)
        assert opt.param_groups[0]["lr"] is lr  # the same tensor, filled
        return lr.item(), [float(v) for v in sched.get_last_lr()]

    assert run(ours_module) == run(theirs_module)


# ---------------------------------------------------------------------------------------------------
# bad input: torch's exception type and message

def plateau_child(M, o):
    return [M.ExponentialLR(o, 0.9), M.ReduceLROnPlateau(o)]


BAD = {
    "MultiplicativeLR: wrong number of lambdas": lambda M, o: M.MultiplicativeLR(o, [lambda t: 1.0] * 3),
    "MultiplicativeLR: not callable": lambda M, o: M.MultiplicativeLR(o, 0.9),
    "MultiplicativeLR: one not callable": lambda M, o: M.MultiplicativeLR(o, [lambda t: 1.0, "x"]),
    "CosineAnnealingWarmRestarts: T_0 0": lambda M, o: M.CosineAnnealingWarmRestarts(o, 0),
    "CosineAnnealingWarmRestarts: T_0 float": lambda M, o: M.CosineAnnealingWarmRestarts(o, 2.5),
    "CosineAnnealingWarmRestarts: T_mult 0": lambda M, o: M.CosineAnnealingWarmRestarts(o, 5, 0),
    "CosineAnnealingWarmRestarts: T_mult float": lambda M, o: M.CosineAnnealingWarmRestarts(o, 5, 1.5),
    "CosineAnnealingWarmRestarts: eta_min str": lambda M, o: M.CosineAnnealingWarmRestarts(o, 5, 1, "0"),
    "CosineAnnealingWarmRestarts: negative epoch": lambda M, o: M.CosineAnnealingWarmRestarts(o, 5).step(-1),
    "CyclicLR: not an optimizer": lambda M, o: M.CyclicLR("sgd", 0.01, 0.1),
    "CyclicLR: base_lr length": lambda M, o: M.CyclicLR(o, [0.01], 0.1),
    "CyclicLR: max_lr length": lambda M, o: M.CyclicLR(o, 0.01, [0.1, 0.2, 0.3]),
    "CyclicLR: mode": lambda M, o: M.CyclicLR(o, 0.01, 0.1, mode="triangle"),
    "CyclicLR: no momentum": lambda M, o: M.CyclicLR(
        torch.optim.Adagrad([torch.zeros(1, requires_grad=True)]), 0.01, 0.1),
    "CyclicLR: momentum length": lambda M, o: M.CyclicLR(o, 0.01, 0.1, base_momentum=[0.8]),
    "ChainedScheduler: none": lambda M, o: M.ChainedScheduler([]),
    "ChainedScheduler: child without optimizer": lambda M, o: M.ChainedScheduler([M.ExponentialLR(o, 0.9), object()]),
    "ChainedScheduler: ReduceLROnPlateau": lambda M, o: M.ChainedScheduler(plateau_child(M, o)),
    "ChainedScheduler: another optimizer": lambda M, o: M.ChainedScheduler(
        [M.ExponentialLR(o, 0.9), M.ExponentialLR(make_optimizer(), 0.9)]),
    "ChainedScheduler: children of another optimizer": lambda M, o: M.ChainedScheduler(
        [M.ExponentialLR(o, 0.9)], optimizer=make_optimizer()),
    "ChainedScheduler: step(epoch)": lambda M, o: M.ChainedScheduler([M.ExponentialLR(o, 0.9)]).step(3),
    "SequentialLR: our ReduceLROnPlateau": lambda M, o: M.SequentialLR(o, plateau_child(M, o), [5]),
    "ReduceLROnPlateau: factor 1": lambda M, o: M.ReduceLROnPlateau(o, factor=1.0),
    "ReduceLROnPlateau: not an optimizer": lambda M, o: M.ReduceLROnPlateau(None),
    "ReduceLROnPlateau: min_lr length": lambda M, o: M.ReduceLROnPlateau(o, min_lr=[0.1, 0.2, 0.3]),
    "ReduceLROnPlateau: mode": lambda M, o: M.ReduceLROnPlateau(o, mode="lowest"),
    "ReduceLROnPlateau: threshold_mode": lambda M, o: M.ReduceLROnPlateau(o, threshold_mode="relative"),
    "ReduceLROnPlateau: no metric": lambda M, o: M.ReduceLROnPlateau(o).step(),
    "ReduceLROnPlateau: metric not a number": lambda M, o: M.ReduceLROnPlateau(o).step("low"),
    "SWALR: swa_lr length": lambda M, o: M.SWALR(o, [0.1, 0.2, 0.3]),
    "SWALR: anneal_strategy": lambda M, o: M.SWALR(o, 0.1, anneal_strategy="exp"),
    "SWALR: anneal_epochs negative": lambda M, o: M.SWALR(o, 0.1, anneal_epochs=-1),
    "SWALR: anneal_epochs float": lambda M, o: M.SWALR(o, 0.1, anneal_epochs=2.0),
    "SWALR: not an optimizer": lambda M, o: M.SWALR("sgd", 0.1),
    "resume without initial_lr": lambda M, o: M.PolynomialLR(o, last_epoch=3),
}


def raised(module, build):
    try:
        build(module, make_optimizer())
    except Exception as e:  # noqa: BLE001 - the point is to capture whatever torch raises
        return type(e), str(e)
    return None


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_input_raises_torchs_exception(case):
    theirs = raised(theirs_module, BAD[case])
    assert theirs is not None, f"torch accepts {case}"
    assert raised(ours_module, BAD[case]) == theirs


def test_polynomiallr_total_iters_0_fails_like_torch_only_in_the_closed_form():
    """total_iters=0: the chainable steps never divide by it (the lr stays), step(epoch) does."""
    def run(M):
        opt = make_optimizer()
        sched = M.PolynomialLR(opt, total_iters=0)
        for _ in range(3):
            opt.step()
            sched.step()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                sched.step(2)
            except ZeroDivisionError as e:
                return group_values(opt), str(e)
        return None

    assert run(ours_module) == run(torch_module) is not None


# ---------------------------------------------------------------------------------------------------
# what the site embeds, signatures, docstrings

SNIPPET_CONFIGS = {
    "PolynomialLR": lambda M, o: M.PolynomialLR(o, 30, 1.5),
    "MultiplicativeLR": lambda M, o: M.MultiplicativeLR(o, lambda t: 0.95),
    "CosineAnnealingWarmRestarts": lambda M, o: M.CosineAnnealingWarmRestarts(o, 4, 2, 1e-3),
    "CyclicLR": lambda M, o: M.CyclicLR(o, 0.01, 0.1, 6, 9, "exp_range", 0.99),
    "ChainedScheduler": lambda M, o: M.ChainedScheduler([M.ConstantLR(o, 0.25, 12), M.ExponentialLR(o, 0.97)]),
    "ReduceLROnPlateau": lambda M, o: M.ReduceLROnPlateau(o, patience=2),
    "SWALR": lambda M, o: M.SWALR(o, 0.01, 12),
}


def test_snippet_sections_run_alone_with_only_torch():
    """The `base` section plus one class section, executed alone in a fresh namespace with optimessay
    out of sys.modules (as in an interpreter that imported only torch; the copy must not import it),
    equals torch's scheduler (lr and momentum) for 60 steps. (In this process rather than a fresh
    interpreter: that was ~4 s of CPU, mostly importing torch.)"""
    source = Path(ours_module.__file__).read_text()
    checked = 0
    with without_optimessay() as imported:
        for name, build in SNIPPET_CONFIGS.items():
            M = copied_sections(source, name, borrowed=["ConstantLR", "ExponentialLR"])
            o1, o2 = two_group_sgd(), two_group_sgd()
            s1, s2 = build(M, o1), build(theirs_module, o2)
            for t in range(60):
                assert ([(g["lr"], g["momentum"]) for g in o1.param_groups]
                        == [(g["lr"], g["momentum"]) for g in o2.param_groups]), (name, t)
                o1.step()
                o2.step()
                args = (1.0 / (1 + t // 5),) if name == "ReduceLROnPlateau" else ()
                s1.step(*args)
                s2.step(*args)
            checked += 1
    assert not imported, f"the copied sections imported {imported}"
    assert checked == len(NAMES)


def test_every_docstring_gives_a_display_formula():
    for name in NAMES:
        doc = getattr(ours_module, name).__doc__
        assert doc.count("$$") >= 2 and doc.count("$$") % 2 == 0, name


@pytest.mark.parametrize("name", NAMES)
def test_constructor_and_step_have_torchs_arguments_order_and_defaults(name):
    def arguments(fn):
        return [(p.name, p.kind, p.default) for p in inspect.signature(fn).parameters.values()]

    ours, theirs = getattr(ours_module, name), getattr(theirs_module, name)
    assert arguments(ours) == arguments(theirs)
    assert arguments(ours.step) == arguments(theirs.step)


def test_no_nan_or_inf_in_sequences():
    for name, build in CONFIGS.items():
        opt = make_optimizer()
        sched = build(ours_module, opt)
        for t in range(80):
            opt.step()
            stepper(name)(sched, t)
            assert all(math.isfinite(lr) for lr in sched.get_last_lr()), name


def test_state_dicts_survive_a_weights_only_checkpoint(tmp_path):
    """torch.save, then torch.load(weights_only=True) (torch's default): our state dicts hold only
    plain values, as torch's do, and the loaded one continues like torch's."""
    for name, build in CONFIGS.items():
        opt, torch_opt = make_optimizer(), make_optimizer()
        ours, theirs = build(ours_module, opt), build(theirs_module, torch_opt)
        for t in range(10):
            for o, s in ((opt, ours), (torch_opt, theirs)):
                o.step()
                stepper(name)(s, t)
        path = tmp_path / f"{name}.pt"
        torch.save({"optimizer": opt.state_dict(), "scheduler": ours.state_dict()}, path)
        checkpoint = torch.load(path, weights_only=True)
        resumed_opt = make_optimizer((9.0, 9.0))
        resumed = build(ours_module, resumed_opt)
        resumed_opt.load_state_dict(checkpoint["optimizer"])
        resumed.load_state_dict(checkpoint["scheduler"])
        for t in range(10, 30):
            assert_same(resumed, theirs, resumed_opt, torch_opt, t, where=f"{name}: ")
            for o, s in ((resumed_opt, resumed), (torch_opt, theirs)):
                o.step()
                stepper(name)(s, t)
