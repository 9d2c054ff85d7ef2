"""NAdam, RAdam, Adamax, Adadelta, Rprop and ASGD against torch.optim (the independent reference).

Every equality is `torch.equal` (NaN at the same places counts as equal) against
`torch.optim.X(..., foreach=False)` on identical inputs, after every step, for parameters and state.
Compiled steps are compared with eager torch.optim at a tolerance measured here (torch's own
compiled step is not bitwise equal to its eager step either).
"""

import ast
import copy
import inspect
import io
import math
import random
import re
from pathlib import Path

import pytest
import torch
from equality import assert_same_state, group_options, make_params, same, scheduled_gradient
from hypothesis import given, settings
from hypothesis import strategies as st

from optimessay.optimizers import adadelta, adamax, asgd, nadam, radam, rprop
from optimessay.testing import check_optimizer

MODULES = {"NAdam": nadam, "RAdam": radam, "Adamax": adamax, "Adadelta": adadelta, "Rprop": rprop, "ASGD": asgd}
NAMES = list(MODULES)
SHAPES = [(), (3,), (2, 3), (4, 1, 2)]  # a 0-dim parameter and multi-dim ones


def ours_class(name):
    return getattr(MODULES[name], name)


def groups(params, group_kwargs):
    """Two parameter groups: the first uses the constructor's values, the second its own."""
    return [{"params": params[:2]}, {"params": params[2:], **group_kwargs}]


def run_lockstep(name, kwargs, *, dtype, seed, steps, group_kwargs=None, none_prob=0.25, scale=1.0):
    """Run ours and torch's side by side on the same gradients; assert equality after every step."""
    rng = random.Random(seed)
    ours_p, theirs_p = make_params(dtype, seed, SHAPES)
    ours = ours_class(name)(groups(ours_p, group_kwargs or {}), **kwargs)
    theirs = getattr(torch.optim, name)(groups(theirs_p, group_kwargs or {}), **kwargs, foreach=False)
    gen = torch.Generator().manual_seed(seed + 1)
    for step in range(steps):
        grads = [None if rng.random() < none_prob else scale * torch.randn(p.shape, generator=gen, dtype=dtype)
                 for p in ours_p]
        for params in (ours_p, theirs_p):
            for p, g in zip(params, grads, strict=True):
                p.grad = None if g is None else g.clone()
        given_grads = [p.grad for p in ours_p]
        if rng.random() < 0.3:  # step(closure): the closure runs with grad enabled, its loss returned
            seen = []

            def closure(params=ours_p, seen=seen):
                seen.append(torch.is_grad_enabled())
                return sum((p * p).sum() for p in params)

            loss = ours.step(closure)
            assert seen == [True] and torch.is_tensor(loss) and loss.requires_grad
            theirs.step(lambda: None)
        else:
            assert ours.step() is None
            theirs.step()
        for i, (p, q, g, g_obj) in enumerate(zip(ours_p, theirs_p, grads, given_grads, strict=True)):
            assert p.grad is g_obj and (g is None or torch.equal(p.grad, g)), f"step {step}: p.grad changed"
            assert same(p.detach(), q.detach()), (
                f"{name}{kwargs} {dtype} step {step} param {i}: max diff {(p - q).abs().max().item()}"
            )
    assert_same_state(ours, theirs, ours_p, theirs_p, tensors_only=True)
    return ours, theirs, ours_p, theirs_p


# ---- the option space ----------------------------------------------------------------------------
lrs = st.sampled_from([0.0, 1e-3, 0.01, 0.1, 0.5]) | st.floats(1e-4, 1.0)
decays = st.just(0.0) | st.floats(1e-4, 0.5)
fractions = st.just(0.0) | st.floats(0.0, 0.999)
epss = st.sampled_from([1e-8, 1e-10, 0.0, 1e-3]) | st.floats(1e-12, 0.1)
beta2s = st.sampled_from([0.0, 0.9, 0.999]) | st.floats(0.0, 0.9999)


@st.composite
def nadam_options(draw):
    return dict(lr=draw(lrs), betas=(draw(fractions), draw(beta2s)), eps=draw(epss), weight_decay=draw(decays),
                momentum_decay=draw(st.sampled_from([0.0, 4e-3, 0.1]) | st.floats(0.0, 1.0)),
                decoupled_weight_decay=draw(st.booleans()), maximize=draw(st.booleans()))


@st.composite
def radam_options(draw):  # β2 ≤ 0.6 never rectifies (ρ_∞ ≤ 4); 1/3 and 0.6 make torch's r_t divide by 0
    return dict(lr=draw(lrs), betas=(draw(fractions), draw(st.sampled_from([0.0, 1 / 3, 0.6, 0.9, 0.999]) | beta2s)),
                eps=draw(epss), weight_decay=draw(decays), decoupled_weight_decay=draw(st.booleans()),
                maximize=draw(st.booleans()))


@st.composite
def adamax_options(draw):
    return dict(lr=draw(lrs), betas=(draw(fractions), draw(beta2s)), eps=draw(epss), weight_decay=draw(decays),
                maximize=draw(st.booleans()))


@st.composite
def adadelta_options(draw):
    return dict(lr=draw(st.sampled_from([1.0]) | lrs), rho=draw(st.sampled_from([0.0, 0.9, 1.0]) | st.floats(0.0, 1.0)),
                eps=draw(st.sampled_from([1e-6, 0.0]) | epss), weight_decay=draw(decays), maximize=draw(st.booleans()))


@st.composite
def rprop_options(draw):  # η₋ = 1e-50 rounds to 0 in float32: torch then treats those elements as "no change"
    etaminus = draw(st.sampled_from([0.5, 1e-50, 0.999]) | st.floats(1e-3, 0.999))
    etaplus = draw(st.sampled_from([1.2, 1.0001, 3.0]) | st.floats(1.001, 5.0))
    step_sizes = draw(st.sampled_from([(1e-6, 50), (0.0, 1.0), (1e-3, 1e-2), (0.5, 0.1)])
                      | st.tuples(st.floats(0.0, 1e-2), st.floats(1e-2, 10.0)))
    return dict(lr=draw(lrs), etas=(etaminus, etaplus), step_sizes=step_sizes, maximize=draw(st.booleans()))


@st.composite
def asgd_options(draw):
    return dict(lr=draw(lrs), lambd=draw(st.sampled_from([1e-4, 0.0, 0.1, 1.0]) | st.floats(0.0, 2.0)),
                alpha=draw(st.sampled_from([0.75, 0.0, 1.0, 2.0]) | st.floats(0.0, 3.0)),
                t0=draw(st.sampled_from([1e6, 0.0, 3.0, 5.5]) | st.floats(0.0, 12.0)),
                weight_decay=draw(decays), maximize=draw(st.booleans()))


STRATEGIES = {"NAdam": nadam_options(), "RAdam": radam_options(), "Adamax": adamax_options(),
              "Adadelta": adadelta_options(), "Rprop": rprop_options(), "ASGD": asgd_options()}
EXAMPLES = 100  # per optimizer: 100 random configurations, each 1-12 steps, float32 or float64


@pytest.mark.parametrize("name", NAMES)
def test_matches_torch_over_the_option_space(name):
    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None)
    # the second parameter group overrides the lr, or every option
    @given(kwargs=STRATEGIES[name], dtype=st.sampled_from([torch.float32, torch.float64]),
           seed=st.integers(0, 2**16), steps=st.integers(1, 12),
           second_group=lrs.map(lambda lr: {"lr": lr}) | STRATEGIES[name],
           scale=st.sampled_from([1.0, 1e-3, 1e3]))
    def check(kwargs, dtype, seed, steps, second_group, scale):
        run_lockstep(name, kwargs, dtype=dtype, seed=seed, steps=steps, group_kwargs=second_group, scale=scale)

    check()


# every switch off and on, float32 and float64, 15 steps
SWITCHES = {
    "NAdam": [dict(lr=0.05), dict(lr=0.05, weight_decay=0.1), dict(lr=0.05, weight_decay=0.1, decoupled_weight_decay=True),
              dict(lr=0.05, maximize=True, momentum_decay=0.0), dict(lr=0.05, betas=(0.0, 0.0), eps=0.0)],
    "RAdam": [dict(lr=0.05), dict(lr=0.05, weight_decay=0.1), dict(lr=0.05, weight_decay=0.1, decoupled_weight_decay=True),
              dict(lr=0.05, maximize=True, betas=(0.5, 0.6)), dict(lr=0.05, betas=(0.0, 0.9), eps=0.0)],
    "Adamax": [dict(lr=0.05), dict(lr=0.05, weight_decay=0.1), dict(lr=0.05, maximize=True, betas=(0.5, 0.6)),
               dict(lr=0.05, betas=(0.0, 0.0), eps=0.0)],
    "Adadelta": [dict(), dict(lr=0.5, weight_decay=0.1), dict(maximize=True, rho=0.5), dict(rho=0.0, eps=1e-3),
                 dict(rho=1.0)],
    "Rprop": [dict(), dict(lr=0.05, etas=(0.3, 1.5), step_sizes=(1e-3, 0.1)), dict(maximize=True),
              dict(lr=0.1, step_sizes=(0.2, 0.1))],
    "ASGD": [dict(), dict(lr=0.05, lambd=0.1, alpha=1.0, t0=4.0, weight_decay=0.1), dict(maximize=True, t0=0.0),
             dict(lr=0.1, lambd=0.0, alpha=0.0)],
}


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=str)
@pytest.mark.parametrize("name", NAMES)
def test_every_switch_off_and_on(name, dtype):
    for kwargs in SWITCHES[name]:
        run_lockstep(name, kwargs, dtype=dtype, seed=7, steps=15, group_kwargs={"lr": 0.02})


@pytest.mark.parametrize("name", NAMES)
def test_tensor_lr_complex_params_and_step_dtype(name):
    run_lockstep(name, {"lr": torch.tensor(0.02)}, dtype=torch.float32, seed=3, steps=8)
    run_lockstep(name, {"lr": torch.tensor([0.02], dtype=torch.float64)}, dtype=torch.float64, seed=3, steps=8)
    run_lockstep(name, dict(SWITCHES[name][1], maximize=True), dtype=torch.complex64, seed=4, steps=8)
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)  # torch's 0-dim state scalars follow the default dtype
    try:
        ours, *_ = run_lockstep(name, {"lr": 0.01}, dtype=torch.float32, seed=1, steps=3, none_prob=0)
    finally:
        torch.set_default_dtype(previous)
    assert all(s["step"].dtype == torch.float64 and s["step"].item() == 3 for s in ours.state.values())


@pytest.mark.parametrize("name", NAMES)
def test_drop_in_edges(name):
    """float16/bfloat16 parameters, NaN and ±Inf gradients, add_param_group, zero_grad(set_to_none=False)."""
    for dtype in (torch.float16, torch.bfloat16):
        run_lockstep(name, SWITCHES[name][1], dtype=dtype, seed=11, steps=8)
    ours_p, theirs_p = make_params(torch.float32, 12, SHAPES)
    ours = ours_class(name)(ours_p[:2], lr=0.05)
    theirs = getattr(torch.optim, name)(theirs_p[:2], lr=0.05, foreach=False)
    gen = torch.Generator().manual_seed(13)
    for step in range(8):
        if step == 3:  # a new group mid-run, with torch's defaults filled in
            ours.add_param_group({"params": ours_p[2:], "lr": 0.02})
            theirs.add_param_group({"params": theirs_p[2:], "lr": 0.02})
            assert group_options(ours.param_groups[1]) == group_options(theirs.param_groups[1], foreach=None)
        for opt in (ours, theirs):
            opt.zero_grad(set_to_none=False)  # zeros where a grad exists: a full step with g = 0
        for p, q in zip(ours_p, theirs_p, strict=True):
            if step in (2, 5):  # NaN, +Inf and -Inf in the gradient
                g = torch.randn(p.shape, generator=gen).flatten()
                g[: min(3, g.numel())] = torch.tensor([float("nan"), float("inf"), -float("inf")])[: g.numel()]
                p.grad = g.reshape(p.shape).clone()
                q.grad = p.grad.clone()
            elif step % 2 == 0:
                p.grad = torch.randn(p.shape, generator=gen)
                q.grad = p.grad.clone()
        ours.step()
        theirs.step()
        assert all(same(p.detach(), q.detach()) for p, q in zip(ours_p, theirs_p, strict=True)), step
    assert_same_state(ours, theirs, ours_p, theirs_p, tensors_only=True)


# ---- state dicts both ways, through a file, and old files ------------------------------------------
@pytest.mark.parametrize("name", NAMES)
def test_state_dict_crossloads_and_resumes_bit_for_bit(name):
    kwargs = SWITCHES[name][1]
    ours, theirs, ours_p, theirs_p = run_lockstep(name, kwargs, dtype=torch.float32, seed=2, steps=6)
    ours_groups, theirs_groups = ours.state_dict()["param_groups"], theirs.state_dict()["param_groups"]
    assert [list(g) for g in ours_groups] == [list(g) for g in theirs_groups]  # same keys, same order
    for g, h in zip(ours_groups, theirs_groups, strict=True):  # same values (torch ran with foreach=False)
        assert g == dict(h, foreach=None)

    def resumed(cls, state_dict, params):
        copies = [p.detach().clone().requires_grad_() for p in params]
        opt = cls(groups(copies, {}), lr=123.0)  # the loaded param_groups override the constructor's
        opt.load_state_dict(copy.deepcopy(state_dict))
        return opt, copies

    buffer = io.BytesIO()
    torch.save(ours.state_dict(), buffer)
    buffer.seek(0)
    saved = torch.load(buffer, weights_only=True)
    runs = [
        (ours, ours_p),
        resumed(ours_class(name), theirs.state_dict(), theirs_p),  # torch's state into ours
        resumed(getattr(torch.optim, name), ours.state_dict(), ours_p),  # ours into torch
        resumed(ours_class(name), saved, ours_p),  # ours through a file, into ours
        (copy.deepcopy(ours), None),  # a deep copy mid-run
    ]
    runs[-1] = (runs[-1][0], [p for g in runs[-1][0].param_groups for p in g["params"]])
    gen = torch.Generator().manual_seed(9)
    for _ in range(5):
        grads = [torch.randn(p.shape, generator=gen) for p in ours_p]
        for opt, params in [(theirs, theirs_p), *runs]:
            for p, g in zip(params, grads, strict=True):
                p.grad = g.clone()
            opt.step()
        for _, params in runs:
            for p, q in zip(params, theirs_p, strict=True):
                assert torch.equal(p, q)
    for opt, params in runs:
        assert_same_state(opt, theirs, params, theirs_p, tensors_only=True)


@pytest.mark.parametrize("name", NAMES)
def test_old_state_dicts_load_like_torchs(name):
    """Files from older torch versions: no newer flags, state scalars as Python numbers."""
    flags = {"maximize", "foreach", "differentiable", "capturable", "decoupled_weight_decay"}
    ours, theirs, ours_p, theirs_p = run_lockstep(name, {"lr": 0.02}, dtype=torch.float64, seed=8, steps=4,
                                                  none_prob=0)
    old = copy.deepcopy(theirs.state_dict())
    for group in old["param_groups"]:
        for flag in flags & set(group):
            del group[flag]
    for state in old["state"].values():
        for key in ("step", "mu_product", "eta", "mu"):
            if key in state:
                state[key] = state[key].item()
    for opt in (ours, theirs):
        opt.load_state_dict(copy.deepcopy(old))
    assert repr(ours.param_groups) == repr(theirs.param_groups)
    gen = torch.Generator().manual_seed(0)
    for _ in range(3):
        for p, q in zip(ours_p, theirs_p, strict=True):
            p.grad = q.grad = torch.randn(p.shape, generator=gen, dtype=torch.float64)
        ours.step()
        theirs.step()
        assert all(torch.equal(p, q) for p, q in zip(ours_p, theirs_p, strict=True))
    assert_same_state(ours, theirs, ours_p, theirs_p, tensors_only=True)


# ---- torch's lr schedulers drive ours as they drive torch's ---------------------------------------
SCHEDULERS = [
    lambda o: torch.optim.lr_scheduler.StepLR(o, step_size=2, gamma=0.5),
    lambda o: torch.optim.lr_scheduler.OneCycleLR(
        o, max_lr=0.1, total_steps=12, cycle_momentum="momentum" in o.defaults or "betas" in o.defaults),
    lambda o: torch.optim.lr_scheduler.ReduceLROnPlateau(o, patience=1, factor=0.5),
]


@pytest.mark.parametrize("make_scheduler", SCHEDULERS, ids=["step", "onecycle", "plateau"])
@pytest.mark.parametrize("name", NAMES)
def test_torch_schedulers_drive_ours_identically(name, make_scheduler):
    ours_p, theirs_p = make_params(torch.float64, 5, SHAPES)
    ours = ours_class(name)(ours_p, lr=0.05)
    theirs = getattr(torch.optim, name)(theirs_p, lr=0.05, foreach=False)
    scheds = make_scheduler(ours), make_scheduler(theirs)
    for step in range(12):
        for params in (ours_p, theirs_p):  # the gradient of sum((p - 1)² + 0.1 cos 3p), in closed form
            for p in params:
                p.grad = scheduled_gradient(p)
        ours.step()
        theirs.step()
        for sched in scheds:
            if isinstance(sched, torch.optim.lr_scheduler.ReduceLROnPlateau):
                sched.step(float(step % 3))
            else:
                sched.step()
        # every option of the group as torch's, the scheduled ones included (torch's ran with foreach=False)
        assert group_options(ours.param_groups[0]) == group_options(theirs.param_groups[0], foreach=None)
        assert all(same(p, q) for p, q in zip(ours_p, theirs_p, strict=True))
        assert all(torch.isfinite(p).all() for p in ours_p)


# ---- bad input: torch's exception type and message -----------------------------------------------
BAD = {
    "NAdam": [dict(lr=-1e-3), dict(eps=-1.0), dict(betas=(1.0, 0.999)), dict(betas=(0.9, -0.1)),
              dict(betas=(0.9, 1.0)), dict(weight_decay=-0.1), dict(momentum_decay=-0.1),
              dict(lr=torch.tensor([0.1, 0.2]))],
    "RAdam": [dict(lr=-1e-3), dict(eps=-1.0), dict(betas=(1.0, 0.999)), dict(betas=(0.9, -0.1)),
              dict(betas=(0.9, 1.0)), dict(weight_decay=-0.1), dict(lr=torch.tensor([0.1, 0.2]))],
    "Adamax": [dict(lr=-1e-3), dict(eps=-1.0), dict(betas=(1.0, 0.999)), dict(betas=(0.9, -0.1)),
               dict(betas=(0.9, 1.0)), dict(weight_decay=-0.1), dict(lr=torch.tensor([0.1, 0.2]))],
    "Adadelta": [dict(lr=-1.0), dict(rho=-0.1), dict(rho=1.1), dict(eps=-1e-6), dict(weight_decay=-0.1),
                 dict(lr=torch.tensor([0.1, 0.2]))],
    "Rprop": [dict(lr=-0.1), dict(etas=(1.5, 2.0)), dict(etas=(0.5, 0.9)), dict(etas=(0.0, 1.2)),
              dict(etas=(0.5, 1.0)), dict(lr=torch.tensor([0.1, 0.2]))],
    "ASGD": [dict(lr=-0.1), dict(weight_decay=-0.1), dict(lr=torch.tensor([0.1, 0.2]))],
}


def raised(make, *args, **kwargs):
    try:
        make(*args, **kwargs)
    except Exception as e:  # noqa: BLE001 - we compare whatever torch raises
        return type(e), str(e)
    return None


@pytest.mark.parametrize("name", NAMES)
def test_bad_arguments_raise_torchs_errors(name):
    for kwargs in BAD[name]:
        ours = raised(ours_class(name), [torch.zeros(2, requires_grad=True)], **kwargs)
        theirs = raised(getattr(torch.optim, name), [torch.zeros(2, requires_grad=True)], **kwargs)
        assert theirs is not None and ours == theirs, kwargs
    p = torch.zeros(2, requires_grad=True)
    for params in ([], p, [p * 2], [{"params": [p]}, {"params": [p]}]):
        assert raised(ours_class(name), params) == raised(getattr(torch.optim, name), params), params
    emb = [torch.nn.Embedding(4, 2, sparse=True) for _ in range(2)]
    errors = []
    for module, cls in zip(emb, (ours_class(name), getattr(torch.optim, name)), strict=True):
        module(torch.tensor([1, 2])).sum().backward()
        errors.append(raised(cls(module.parameters()).step))
    assert errors[0] is not None and errors[0] == errors[1]  # sparse gradients are refused like torch's
    with pytest.raises(ValueError, match="differentiable=False only, got True"):
        ours_class(name)([p], differentiable=True)


@pytest.mark.parametrize("name", NAMES)
def test_constructor_has_torchs_arguments_order_and_defaults(name):
    def arguments(cls):
        return [(p.name, p.kind, p.default) for p in inspect.signature(cls).parameters.values()]

    assert arguments(ours_class(name)) == arguments(getattr(torch.optim, name))


# ---- torch.compile(opt.step): torch's numbers, no graph break, no recompile per parameter ---------
# group 1 takes the constructor's options, group 2 overrides them: every option is on in one group
COMPILED = {
    "NAdam": (dict(lr=0.05, weight_decay=0.1, momentum_decay=0.01, decoupled_weight_decay=True, maximize=True),
              dict(lr=0.02, betas=(0.8, 0.95), weight_decay=0.05, decoupled_weight_decay=False, maximize=False)),
    "RAdam": (dict(lr=0.05, betas=(0.8, 0.9), weight_decay=0.1, decoupled_weight_decay=True, maximize=True),
              dict(lr=0.02, betas=(0.9, 0.5), weight_decay=0.05, decoupled_weight_decay=False, maximize=False)),
    "Adamax": (dict(lr=0.05, betas=(0.8, 0.9), weight_decay=0.1, maximize=True),
               dict(lr=0.02, eps=1e-3, weight_decay=0.0, maximize=False)),
    "Adadelta": (dict(lr=0.5, rho=0.8, weight_decay=0.1, maximize=True),
                 dict(lr=1.0, eps=1e-4, weight_decay=0.0, maximize=False)),
    "Rprop": (dict(lr=0.05, etas=(0.4, 1.3), step_sizes=(1e-4, 0.2), maximize=True), dict(lr=0.02, maximize=False)),
    "ASGD": (dict(lr=0.05, lambd=0.1, alpha=0.75, t0=5.0, weight_decay=0.1, maximize=True),  # averaging from step 7
             dict(lr=0.02, t0=1e6, weight_decay=0.0, maximize=False)),
}
# Measured on torch 2.13 CPU with these configurations (20 steps, float32 parameters of size ~1), the
# largest |compiled - eager torch.optim| over all steps and parameters, for torch's own compiled step
# and for ours: NAdam 2.4e-6 / 2.4e-6, RAdam 2.4e-7 / 2.4e-7, Adamax 6.0e-8 / 6.0e-8,
# Adadelta 6.0e-8 / 6.0e-8, Rprop 0 / 0, ASGD 1.2e-7 / 1.2e-7 (ours compiled vs torch compiled: 0,
# except Adamax 6.0e-8). Compiled code computes the bias corrections and momentum schedules in float32
# tensor ops from the float32 step counter (torch's `_get_value` pattern), hence NAdam's larger gap.
COMPILE_TOLERANCE = {"NAdam": 2e-5, "RAdam": 1e-6, "Adamax": 1e-6, "Adadelta": 1e-6, "Rprop": 1e-6, "ASGD": 1e-6}
COMPILE_SHAPES = [(4,), (4,), (2, 3), ()]  # two per group; two of the same shape; a 0-dim one


@pytest.mark.parametrize("name", NAMES)
def test_compiled_step_gives_torchs_numbers_without_recompiling(name):
    import logging

    from torch._dynamo.utils import counters

    def make(cls, **flags):
        gen = torch.Generator().manual_seed(0)
        params = [torch.randn(shape, generator=gen).requires_grad_() for shape in COMPILE_SHAPES]
        first, second = COMPILED[name]
        return cls([{"params": params[:2]}, {"params": params[2:], **second}], **first, **flags), params

    torch._dynamo.reset()
    counters.clear()
    torch._logging.set_logs(dynamo=logging.ERROR)
    try:  # one more compile than the two graphs below (a recompile per parameter or per step) raises
        with torch._dynamo.config.patch(recompile_limit=2, fail_on_recompile_limit_hit=True):
            ours, ours_p = make(ours_class(name))
            theirs, theirs_p = make(getattr(torch.optim, name), foreach=False)
            compiled_step = torch.compile(ours.step, backend="inductor")
            gen = torch.Generator().manual_seed(1)
            for step in range(20):
                for p, q in zip(ours_p, theirs_p, strict=True):
                    p.grad = torch.randn(p.shape, generator=gen)
                    q.grad = p.grad.clone()
                compiled_step()
                theirs.step()
                for i, (p, q) in enumerate(zip(ours_p, theirs_p, strict=True)):
                    torch.testing.assert_close(p.detach(), q.detach(), rtol=0, atol=COMPILE_TOLERANCE[name],
                                               msg=lambda m, i=i, step=step: f"{name} step {step} param {i}: {m}")
            for p, q in zip(ours_p, theirs_p, strict=True):  # the state too (same keys, close values)
                s, t = ours.state[p], theirs.state[q]
                assert list(s) == list(t)
                for key in t:
                    torch.testing.assert_close(s[key], t[key], rtol=1e-5, atol=COMPILE_TOLERANCE[name])
            # no graph break; the first step (lazy state) is one graph, every later step another
            assert not counters["graph_break"], dict(counters["graph_break"])
            assert counters["stats"]["unique_graphs"] <= 2, dict(counters["stats"])
    finally:
        torch._logging.set_logs()
        torch._dynamo.reset()


# ---- the preconditioner: update = -lr · P · ĝ ----------------------------------------------------
def nadam_estimate(opt, p, g, before):
    """ĝ = (1-μ_t)/(1-Π_t)·g + μ_{t+1}/(1-Π_t·μ_{t+1})·m of NAdam's last step."""
    group, state = opt.param_groups[0], opt.state[p]
    beta1, psi, t = group["betas"][0], group["momentum_decay"], state["step"].item()
    mu = beta1 * (1 - 0.5 * 0.96 ** (t * psi))
    mu_next = beta1 * (1 - 0.5 * 0.96 ** ((t + 1) * psi))
    product = state["mu_product"].item()
    return (1 - mu) / (1 - product) * g + mu_next / (1 - product * mu_next) * state["exp_avg"]


def bias_corrected_first_moment(opt, p, g, before):
    """ĝ = m̂ = m/(1-β1ᵗ)."""
    beta1 = opt.param_groups[0]["betas"][0]
    return opt.state[p]["exp_avg"] / (1 - beta1 ** opt.state[p]["step"].item())


PRECONDITIONED = {  # name: (kwargs, the gradient estimate ĝ of the last step)
    "NAdam": (dict(lr=0.01), nadam_estimate),
    "RAdam": (dict(lr=0.01, betas=(0.9, 0.9)), bias_corrected_first_moment),  # P = 1 up to step 5, then rectified
    "Adamax": (dict(lr=0.01), bias_corrected_first_moment),
    "Adadelta": (dict(lr=0.5), lambda opt, p, g, before: g),
    "Rprop": (dict(lr=0.05, etas=(0.3, 1.5)), lambda opt, p, g, before: g),  # the step is -P·g (no lr factor)
    "ASGD": (dict(lr=0.05, lambd=0.1, t0=3.0, weight_decay=0.05),  # ĝ = g + (w + λ)θ
             lambda opt, p, g, before: g + (0.05 + 0.1) * before),
}


@pytest.mark.parametrize("name", NAMES)
def test_preconditioner_gives_the_step(name):
    kwargs, estimate = PRECONDITIONED[name]
    p = torch.randn(4, 3, dtype=torch.float64, requires_grad=True)
    opt = ours_class(name)([p], **kwargs)
    assert torch.equal(opt.preconditioner(p), torch.ones_like(p))  # before the first step: ones
    gen = torch.Generator().manual_seed(0)
    for step in range(8):
        p.grad = torch.randn(p.shape, generator=gen, dtype=torch.float64)
        if name == "Rprop" and step % 3 == 2:
            p.grad = -p.grad  # flipped signs: those elements are skipped (P = 0)
        before, state_before = p.detach().clone(), copy.deepcopy(opt.state[p])
        opt.step()
        P = opt.preconditioner(p)
        if name == "Adadelta":  # the step used a_{t-1}; the state (and so P) holds a_t
            eps, state = opt.param_groups[0]["eps"], opt.state[p]
            a_before = state_before.get("acc_delta", torch.zeros_like(p))
            assert torch.equal(P, (state["acc_delta"] + eps).sqrt() / (state["square_avg"] + eps).sqrt())
            P = (a_before + eps).sqrt() / (state["square_avg"] + eps).sqrt()
        lr = 1.0 if name == "Rprop" else kwargs["lr"]
        expected = -lr * P * estimate(opt, p, p.grad, before)
        torch.testing.assert_close(p.detach() - before, expected, rtol=1e-9, atol=1e-15)
    functional = getattr(MODULES[name], f"{name.lower()}_preconditioner")
    assert torch.equal(opt.preconditioner(p), functional(p, opt.state[p], **PRECONDITIONER_ARGS[name](opt)))
    with pytest.raises(ValueError, match="does not optimise"):
        opt.preconditioner(torch.zeros(2))


PRECONDITIONER_ARGS = {
    "NAdam": lambda opt: dict(beta2=opt.param_groups[0]["betas"][1], eps=opt.param_groups[0]["eps"]),
    "RAdam": lambda opt: dict(beta2=opt.param_groups[0]["betas"][1], eps=opt.param_groups[0]["eps"]),
    "Adamax": lambda opt: {},
    "Adadelta": lambda opt: dict(eps=opt.param_groups[0]["eps"]),
    "Rprop": lambda opt: {},
    "ASGD": lambda opt: {k: opt.param_groups[0][k] for k in ("lr", "lambd", "alpha")},
}


# ---- the functional cores with one value per walk (what optimessay.sweep does) --------------------
SWEEPS = {  # name: (per-walk hyperparameters, per-sweep flags, the class's argument for (beta1, beta2))
    "NAdam": [
        (dict(lr=[0.01, 0.02, 0.05], beta1=[0.0, 0.5, 0.9], beta2=[0.9, 0.99, 0.999], eps=[1e-8, 1e-3, 0.1],
              weight_decay=[0.0, 0.1, 0.2], momentum_decay=[0.0, 4e-3, 0.1]), {}),
        (dict(lr=[0.01, 0.02, 0.05], weight_decay=[0.0, 0.1, 0.2]), dict(decoupled_weight_decay=True, maximize=True)),
    ],
    "RAdam": [  # one walk never rectifies (β2 = 0.5), the others switch at their own step
        (dict(lr=[0.01, 0.02, 0.05], beta1=[0.0, 0.5, 0.9], beta2=[0.5, 0.9, 0.999], eps=[1e-8, 1e-3, 0.1],
              weight_decay=[0.0, 0.1, 0.2]), {}),
        (dict(lr=[0.01, 0.02, 0.05], weight_decay=[0.0, 0.1, 0.2]), dict(decoupled_weight_decay=True, maximize=True)),
    ],
    "Adamax": [
        (dict(lr=[0.01, 0.02, 0.05], beta1=[0.0, 0.5, 0.9], beta2=[0.0, 0.99, 0.999], eps=[1e-8, 1e-3, 0.1],
              weight_decay=[0.0, 0.1, 0.2]), dict(maximize=True)),
    ],
    "Adadelta": [
        (dict(lr=[0.1, 0.5, 1.0], rho=[0.0, 0.9, 1.0], eps=[1e-6, 1e-3, 0.1], weight_decay=[0.0, 0.1, 0.2]), {}),
        (dict(lr=[0.1, 0.5, 1.0]), dict(maximize=True)),
    ],
    "Rprop": [
        (dict(lr=[0.01, 0.05, 0.1], etaminus=[0.3, 0.5, 0.7], etaplus=[1.1, 1.2, 2.0], step_size_min=[0.0, 1e-6, 1e-3],
              step_size_max=[0.05, 1.0, 50.0]), {}),
        (dict(lr=[0.01, 0.05, 0.1], step_size_max=[0.05, 1.0, 50.0]), dict(maximize=True)),
    ],
    "ASGD": [
        (dict(lr=[0.01, 0.05, 0.1], lambd=[0.0, 1e-4, 0.1], alpha=[0.5, 0.75, 1.0], t0=[0.0, 5.0, 1e6],
              weight_decay=[0.0, 0.1, 0.2]), {}),
        (dict(lr=[0.01, 0.05, 0.1]), dict(maximize=True)),
    ],
}
SWEEP_CASES = [(name, i) for name in NAMES for i in range(len(SWEEPS[name]))]


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=str)
@pytest.mark.parametrize("name, case", SWEEP_CASES)
def test_core_with_one_value_per_walk_equals_lone_runs_bitwise(name, case, dtype):
    per_walk, flags = SWEEPS[name][case]
    module = MODULES[name]
    update, init_state = getattr(module, f"{name.lower()}_update"), getattr(module, f"{name.lower()}_init_state")
    n, steps = 3, 40
    start = torch.randn(n, 2, dtype=dtype, generator=torch.Generator().manual_seed(0))
    A = torch.tensor([[3.0, 1.0], [1.0, 0.5]], dtype=dtype)

    def grad(x):
        return x @ A + 0.1 * torch.sin(5 * x)

    batch = start.clone()
    hyper = {k: torch.tensor(v, dtype=torch.float64).reshape(n, 1) for k, v in per_walk.items()}

    def pick(fn, values):  # the keyword-only arguments fn takes, as optimessay.sweep picks them
        names = [p.name for p in inspect.signature(fn).parameters.values() if p.kind is p.KEYWORD_ONLY]
        return {k: values[k] for k in names if k in values}

    state = init_state(batch, **pick(init_state, hyper))
    for _ in range(steps):
        update(batch, grad(batch), state, **pick(update, hyper), **flags)
    for i in range(n):
        x = start[i].clone().requires_grad_()
        kwargs = {k: v[i] for k, v in per_walk.items()}
        if "beta1" in kwargs or "beta2" in kwargs:
            kwargs["betas"] = (kwargs.pop("beta1", 0.9), kwargs.pop("beta2", 0.999))
        if "etaminus" in kwargs or "etaplus" in kwargs:
            kwargs["etas"] = (kwargs.pop("etaminus", 0.5), kwargs.pop("etaplus", 1.2))
        if "step_size_min" in kwargs or "step_size_max" in kwargs:
            kwargs["step_sizes"] = (kwargs.pop("step_size_min", 1e-6), kwargs.pop("step_size_max", 50))
        opt = ours_class(name)([x], **kwargs, **flags)
        for _ in range(steps):
            x.grad = grad(x.detach())
            opt.step()
        assert torch.equal(batch[i], x.detach()), (i, batch[i], x)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=str)
def test_nadam_core_when_beta1_becomes_per_walk_mid_run(dtype):
    """A sweep whose scheduler moves β1 per walk (OneCycleLR) hands the core a per-walk β1 after a
    shared one: each walk's mu_product continues from the shared product, as a lone run's does."""
    start = torch.randn(3, 2, dtype=dtype, generator=torch.Generator().manual_seed(0))
    later = [0.8, 0.85, 0.95]
    batch, state = start.clone(), nadam.nadam_init_state(start)
    grads = [torch.randn(3, 2, dtype=dtype, generator=torch.Generator().manual_seed(k)) for k in range(10)]
    for k, g in enumerate(grads):
        beta1 = 0.9 if k < 4 else torch.tensor(later, dtype=torch.float64).reshape(3, 1)
        nadam.nadam_update(batch, g, state, lr=0.05, beta1=beta1)
    assert state["mu_product"].shape == (3, 1) and state["mu_product"].dtype == torch.float32
    for i in range(3):
        x = start[i].clone().requires_grad_()
        opt = torch.optim.NAdam([x], lr=0.05, foreach=False)
        for k, g in enumerate(grads):
            opt.param_groups[0]["betas"] = (0.9 if k < 4 else later[i], 0.999)
            x.grad = g[i].clone()
            opt.step()
        assert torch.equal(batch[i], x.detach())


# ---- check_optimizer, the learners' checker, passes our classes ----------------------------------
CHECK_CONFIGS = {
    "NAdam": [{"lr": 0.1}, {"lr": 0.1, "betas": (0.8, 0.95), "weight_decay": 0.05},
              {"lr": 0.1, "weight_decay": 0.1, "decoupled_weight_decay": True},
              {"lr": 0.1, "momentum_decay": 0.01, "maximize": True}],
    "RAdam": [{"lr": 0.1}, {"lr": 0.1, "betas": (0.8, 0.9), "weight_decay": 0.05},
              {"lr": 0.1, "betas": (0.8, 0.9), "weight_decay": 0.1, "decoupled_weight_decay": True},
              {"lr": 0.1, "betas": (0.9, 0.5), "maximize": True}],
    "Adamax": [{"lr": 0.1}, {"lr": 0.1, "betas": (0.8, 0.95), "eps": 1e-3, "weight_decay": 0.05},
               {"lr": 0.1, "maximize": True}],
    "Adadelta": [{"lr": 1.0}, {"lr": 0.5, "rho": 0.8, "eps": 1e-4, "weight_decay": 0.05},
                 {"lr": 1.0, "maximize": True}],
    "Rprop": [{"lr": 0.01}, {"lr": 0.05, "etas": (0.3, 1.5), "step_sizes": (1e-4, 0.5)}, {"lr": 0.01, "maximize": True}],
    "ASGD": [{"lr": 0.1}, {"lr": 0.1, "lambd": 0.1, "alpha": 1.0, "t0": 3.0, "weight_decay": 0.05},
             {"lr": 0.1, "maximize": True}],
}


@pytest.mark.parametrize("name", NAMES)
def test_check_optimizer_passes_bitwise(name):
    results = check_optimizer(ours_class(name), name, configs=CHECK_CONFIGS[name], rtol=0, atol=0, verbose=False)
    assert results and all(r.passed and r.bitwise and not r.skipped for r in results), [str(r) for r in results]


# ---- the source files: self-contained, with the snippet sections the pages embed ------------------
@pytest.mark.parametrize("name", NAMES)
def test_file_is_self_contained_with_snippet_sections(name):
    text = Path(MODULES[name].__file__).read_text()
    imports = set()
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.Import):
            imports |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            imports.add(node.module.split(".")[0])
    assert imports <= {"torch", "math", "typing"}, imports
    for section in ("all", "update", "step", "state", "preconditioner", "class"):
        assert text.count(f"# --8<-- [start:{section}]") == 1 and text.count(f"# --8<-- [end:{section}]") == 1
    assert "$$" in text and "\\begin{aligned}" in text  # the update equations, for the site
    copied = re.search(r"# --8<-- \[start:all\]\n(.*)# --8<-- \[end:all\]", text, re.S).group(1)
    namespace = {"__name__": "copied"}
    exec(compile(copied, f"<copied {name}>", "exec"), namespace)  # what a reader copies runs on its own
    ours_p, theirs_p = make_params(torch.float32, 0, SHAPES)
    ours = namespace[name](ours_p, lr=0.01)
    theirs = getattr(torch.optim, name)(theirs_p, lr=0.01, foreach=False)
    for _ in range(3):
        for p, q in zip(ours_p, theirs_p, strict=True):
            p.grad = q.grad = torch.randn(p.shape)
        ours.step()
        theirs.step()
    assert all(torch.equal(p, q) for p, q in zip(ours_p, theirs_p, strict=True))
    assert math.isfinite(sum(p.sum().item() for p in ours_p))
