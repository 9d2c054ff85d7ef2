"""optimessay's optimizers against torch.optim (the independent reference), bit for bit.

Every comparison is `torch.equal` (NaN at the same places counts as equal) against
`torch.optim.X(..., foreach=False)` on identical inputs, after every step, for parameters and state.
"""

import ast
import copy
import inspect
import io
import itertools
import random
import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from equality import group_options, scheduled_gradient
from hypothesis import given, settings
from hypothesis import strategies as st

import optimessay
from optimessay import optimizers as core

NAMES = ["SGD", "RMSprop", "Adam", "AdamW", "Adagrad"]
FILES = {name: Path(core.__file__).parent / f"{name.lower()}.py" for name in ["SGD", "RMSprop", "Adam", "Adagrad"]}
SHAPES = [(), (3,), (2, 3), (4, 1, 2)]  # a 0-dim parameter and multi-dim ones


def same(a: torch.Tensor, b: torch.Tensor) -> bool:
    """torch.equal, with NaN equal to NaN at the same positions."""
    if a.shape != b.shape or a.dtype != b.dtype:
        return False
    if a.is_sparse or b.is_sparse:
        return same(a.to_dense(), b.to_dense())
    if torch.equal(a, b):  # the usual case, in one op: equal everywhere, hence no NaN on either side
        return True
    nan_a, nan_b = torch.isnan(a), torch.isnan(b)
    return torch.equal(nan_a, nan_b) and torch.equal(a[~nan_a], b[~nan_b])


def assert_same_state(ours, theirs, params_ours, params_theirs):
    for i, (p, q) in enumerate(zip(params_ours, params_theirs, strict=True)):
        s, t = ours.state.get(p, {}), theirs.state.get(q, {})
        assert s.keys() == t.keys(), f"param {i}: state keys {sorted(s)} != torch's {sorted(t)}"
        for key in t:
            assert torch.is_tensor(s[key]) and s[key].dtype == t[key].dtype, (i, key)
            assert s[key].device == t[key].device and same(s[key], t[key]), (i, key)


def make_params(dtype, seed, shapes=SHAPES):
    gen = torch.Generator().manual_seed(seed)
    values = [torch.randn(shape, generator=gen, dtype=dtype) for shape in shapes]
    return [v.clone().requires_grad_() for v in values], [v.clone().requires_grad_() for v in values]


def groups(params, group_kwargs):
    """Two parameter groups: the first uses the constructor's values, the second its own."""
    return [{"params": params[:2]}, {"params": params[2:], **group_kwargs}]


def run_lockstep(name, kwargs, *, dtype, seed, steps, group_kwargs=None, none_prob=0.25, closure_prob=0.3,
                 scale=1.0):
    """Run ours and torch's side by side on the same gradients; assert equality after every step."""
    rng = random.Random(seed)
    ours_p, theirs_p = make_params(dtype, seed)
    ours = getattr(optimessay, name)(groups(ours_p, group_kwargs or {}), **kwargs)
    theirs = getattr(torch.optim, name)(groups(theirs_p, group_kwargs or {}), **kwargs, foreach=False)
    gen = torch.Generator().manual_seed(seed + 1)
    for step in range(steps):
        grads = [None if rng.random() < none_prob else scale * torch.randn(p.shape, generator=gen, dtype=dtype)
                 for p in ours_p]
        for params in (ours_p, theirs_p):
            for p, g in zip(params, grads, strict=True):
                p.grad = None if g is None else g.clone()
        given_grads = [p.grad for p in ours_p]
        if rng.random() < closure_prob:  # step(closure): the closure runs with grad enabled, its loss returned
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
    assert_same_state(ours, theirs, ours_p, theirs_p)
    return ours, theirs, ours_p, theirs_p


# ---- the option space ----------------------------------------------------------------------------
lrs = st.sampled_from([0.0, 1e-3, 0.01, 0.1, 0.5]) | st.floats(1e-4, 1.0)
decays = st.just(0.0) | st.floats(1e-4, 0.5)
fractions = st.just(0.0) | st.floats(0.0, 0.999)
epss = st.sampled_from([1e-8, 1e-10, 0.0, 1e-3]) | st.floats(1e-12, 0.1)


@st.composite
def sgd_options(draw):
    momentum, dampening = draw(fractions), draw(st.just(0.0) | st.floats(0.0, 1.0))
    nesterov = draw(st.booleans()) and momentum > 0 and dampening == 0
    return dict(lr=draw(lrs), momentum=momentum, dampening=dampening, weight_decay=draw(decays),
                nesterov=nesterov, maximize=draw(st.booleans()))


@st.composite
def adam_options(draw, decoupled=True):
    options = dict(lr=draw(lrs), betas=(draw(fractions), draw(st.floats(0.0, 0.9999))), eps=draw(epss),
                   weight_decay=draw(decays), amsgrad=draw(st.booleans()), maximize=draw(st.booleans()))
    if decoupled:
        options["decoupled_weight_decay"] = draw(st.booleans())
    return options


@st.composite
def rmsprop_options(draw):
    return dict(lr=draw(lrs), alpha=draw(st.floats(0.0, 0.9999)), eps=draw(epss), weight_decay=draw(decays),
                momentum=draw(fractions), centered=draw(st.booleans()), maximize=draw(st.booleans()))


@st.composite
def adagrad_options(draw):
    return dict(lr=draw(lrs), lr_decay=draw(decays), weight_decay=draw(decays),
                initial_accumulator_value=draw(st.just(0.0) | st.floats(0.0, 1.0)), eps=draw(epss),
                maximize=draw(st.booleans()))


STRATEGIES = {"SGD": sgd_options(), "RMSprop": rmsprop_options(), "Adam": adam_options(),
              "AdamW": adam_options(decoupled=False), "Adagrad": adagrad_options()}
EXAMPLES = 300  # per optimizer: 1500 random configurations, each 1-12 steps, float32 or float64


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


# every combination of the discrete options (each switch off/on), float32 and float64
GRID = {
    "SGD": dict(momentum=[0.0, 0.9], dampening=[0.0, 0.3], weight_decay=[0.0, 0.1], nesterov=[False, True],
                maximize=[False, True]),
    "RMSprop": dict(momentum=[0.0, 0.8], centered=[False, True], weight_decay=[0.0, 0.1], maximize=[False, True]),
    "Adam": dict(amsgrad=[False, True], weight_decay=[0.0, 0.1], decoupled_weight_decay=[False, True],
                 maximize=[False, True]),
    "AdamW": dict(amsgrad=[False, True], weight_decay=[0.0, 0.1], maximize=[False, True]),
    "Adagrad": dict(lr_decay=[0.0, 0.05], weight_decay=[0.0, 0.1], initial_accumulator_value=[0.0, 0.2],
                    maximize=[False, True]),
}
LR = {"SGD": 0.05, "RMSprop": 0.01, "Adam": 0.05, "AdamW": 0.05, "Adagrad": 0.1}


def grid(name):
    keys = list(GRID[name])
    for values in itertools.product(*GRID[name].values()):
        kwargs = dict(zip(keys, values, strict=True), lr=LR[name])
        if kwargs.get("nesterov") and (kwargs["momentum"] == 0 or kwargs["dampening"] != 0):
            continue
        yield kwargs


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=str)
@pytest.mark.parametrize("name", NAMES)
def test_every_combination_of_switches(name, dtype):
    for kwargs in grid(name):
        run_lockstep(name, kwargs, dtype=dtype, seed=7, steps=15, group_kwargs={"lr": LR[name] * 3})


@pytest.mark.parametrize("name", NAMES)
def test_tensor_lr_and_complex_params(name):
    run_lockstep(name, {"lr": torch.tensor(0.02)}, dtype=torch.float32, seed=3, steps=8)
    run_lockstep(name, {"lr": torch.tensor([0.02], dtype=torch.float64)}, dtype=torch.float64, seed=3, steps=8)
    kwargs = {"lr": 0.03, "weight_decay": 0.1, "maximize": True}
    run_lockstep(name, kwargs, dtype=torch.complex64, seed=4, steps=8, closure_prob=0)


@pytest.mark.parametrize("name", NAMES)
def test_state_layout_and_step_dtype(name):
    for default in (torch.float32, torch.float64):
        previous = torch.get_default_dtype()
        torch.set_default_dtype(default)
        try:
            ours, theirs, ours_p, theirs_p = run_lockstep(name, {"lr": 0.01}, dtype=torch.float32, seed=1, steps=3,
                                                          none_prob=0)
        finally:
            torch.set_default_dtype(previous)
        state = ours.state[ours_p[0]]
        if name != "SGD":  # SGD keeps no step counter
            assert state["step"].dim() == 0 and state["step"].device.type == "cpu"
            assert state["step"].dtype == default and state["step"].item() == 3


@pytest.mark.parametrize("name", NAMES)
def test_state_dict_crossloads_and_resumes_bit_for_bit(name):
    kwargs = {"SGD": dict(lr=0.05, momentum=0.9, nesterov=True), "RMSprop": dict(momentum=0.5, centered=True),
              "Adam": dict(amsgrad=True, weight_decay=0.1), "AdamW": dict(amsgrad=True),
              "Adagrad": dict(lr_decay=0.01, initial_accumulator_value=0.1)}[name]
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
        resumed(getattr(optimessay, name), theirs.state_dict(), theirs_p),  # torch's state into ours
        resumed(getattr(torch.optim, name), ours.state_dict(), ours_p),  # ours into torch
        resumed(getattr(optimessay, name), saved, ours_p),  # ours through a file, into ours
    ]
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
        assert_same_state(opt, theirs, params, theirs_p)


def test_adamw_stays_decoupled_and_is_an_adam():
    p = torch.zeros(2, requires_grad=True)
    opt = optimessay.AdamW([p])
    assert isinstance(opt, optimessay.Adam) and isinstance(opt, torch.optim.Optimizer)
    state = opt.state_dict()
    state["param_groups"][0]["decoupled_weight_decay"] = False
    opt.load_state_dict(state)
    assert opt.param_groups[0]["decoupled_weight_decay"] is True


# ---- torch's lr schedulers drive ours as they drive torch's ---------------------------------------
SCHEDULERS = [
    lambda o: torch.optim.lr_scheduler.StepLR(o, step_size=2, gamma=0.5),
    lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=5),
    lambda o: torch.optim.lr_scheduler.SequentialLR(
        o, [torch.optim.lr_scheduler.LinearLR(o, 0.1, total_iters=3),
            torch.optim.lr_scheduler.ExponentialLR(o, 0.9)], milestones=[3]),
    lambda o: torch.optim.lr_scheduler.OneCycleLR(
        o, max_lr=0.1, total_steps=12, cycle_momentum="momentum" in o.defaults or "betas" in o.defaults),
    lambda o: torch.optim.lr_scheduler.ReduceLROnPlateau(o, patience=1, factor=0.5),
]


@pytest.mark.parametrize("make_scheduler", SCHEDULERS, ids=["step", "cosine", "sequential", "onecycle", "plateau"])
@pytest.mark.parametrize("name", NAMES)
def test_torch_schedulers_drive_ours_identically(name, make_scheduler):
    kwargs = {"SGD": dict(lr=0.05, momentum=0.9), "RMSprop": dict(lr=0.01, momentum=0.5)}.get(name, {"lr": 0.05})
    ours_p, theirs_p = make_params(torch.float64, 5)
    ours = getattr(optimessay, name)(ours_p, **kwargs)
    theirs = getattr(torch.optim, name)(theirs_p, **kwargs, foreach=False)
    scheds = make_scheduler(ours), make_scheduler(theirs)
    for step in range(12):
        for params in (ours_p, theirs_p):  # the gradient of sum((p - 1)² + 0.1 cos 3p), in closed form
            for p in params:
                p.grad = scheduled_gradient(p)
        ours.step()
        theirs.step()
        metric = float(step % 3)
        for sched in scheds:
            sched.step(metric) if isinstance(sched, torch.optim.lr_scheduler.ReduceLROnPlateau) else sched.step()
        # every option of the group as torch's, the scheduled ones included (torch's ran with foreach=False)
        assert group_options(ours.param_groups[0]) == group_options(theirs.param_groups[0], foreach=None)
        assert all(same(p, q) for p, q in zip(ours_p, theirs_p, strict=True))
        assert all(torch.isfinite(p).all() for p in ours_p)
    assert scheds[0].state_dict().keys() == scheds[1].state_dict().keys()


# ---- bad input: torch's exception type and message -----------------------------------------------
BAD = {
    "SGD": [dict(lr=-0.1), dict(lr=torch.tensor([0.1, 0.2])), dict(momentum=-0.5), dict(weight_decay=-1e-3),
            dict(nesterov=True), dict(nesterov=True, momentum=0.9, dampening=0.1)],
    "RMSprop": [dict(lr=-1.0), dict(eps=-1e-8), dict(momentum=-0.1), dict(weight_decay=-0.1), dict(alpha=-0.5),
                dict(lr=torch.tensor([0.1, 0.2]))],
    "Adam": [dict(lr=-1e-3), dict(eps=-1.0), dict(betas=(1.0, 0.999)), dict(betas=(0.9, -0.1)),
             dict(betas=(0.9, 1.0)), dict(weight_decay=-0.1), dict(betas=(0, 0.99)),
             dict(betas=(torch.tensor(0.9), 0.99)), dict(lr=torch.tensor(0.01), foreach=True),
             dict(betas=(torch.tensor([0.9, 0.8]), torch.tensor(0.99)))],
    "AdamW": [dict(lr=-1e-3), dict(betas=(0.9, 1.5)), dict(weight_decay=-0.01), dict(eps=-1e-8)],
    "Adagrad": [dict(lr=-0.1), dict(lr_decay=-0.1), dict(weight_decay=-0.1), dict(initial_accumulator_value=-1.0),
                dict(eps=-1e-10)],
}


def raised(make, *args, **kwargs):
    try:
        make(*args, **kwargs)
    except Exception as e:  # noqa: BLE001 - we compare whatever torch raises
        return type(e), str(e)
    return None


@pytest.mark.parametrize("name", NAMES)
def test_bad_hyperparameters_raise_torchs_errors(name):
    for kwargs in BAD[name]:
        ours = raised(getattr(optimessay, name), [torch.zeros(2, requires_grad=True)], **kwargs)
        theirs = raised(getattr(torch.optim, name), [torch.zeros(2, requires_grad=True)], **kwargs)
        assert theirs is not None and ours == theirs, kwargs


@pytest.mark.parametrize("name", NAMES)
def test_bad_parameter_lists_raise_torchs_errors(name):
    p = torch.zeros(2, requires_grad=True)
    for params in ([], p, [p * 2], [{"params": [p]}, {"params": [p]}], [{"lr": 0.1}]):
        ours = raised(getattr(optimessay, name), params)
        theirs = raised(getattr(torch.optim, name), params)
        assert theirs is not None and ours == theirs, params


@pytest.mark.parametrize("name", NAMES)
def test_unsupported_flags_are_refused_clearly(name):
    p = torch.zeros(2, requires_grad=True)
    cls = getattr(optimessay, name)
    cls([p], foreach=None), cls([p], foreach=False), cls([p], differentiable=False)  # accepted, like torch
    with pytest.raises(ValueError, match="differentiable=False only, got True"):
        cls([p], differentiable=True)
    if name != "RMSprop":
        with pytest.raises(ValueError, match="no fused kernel"):
            cls([p], fused=True)


def sparse_run(name, kwargs, steps=6):
    """An Embedding with sparse gradients (rows repeat within a batch), ours vs torch's."""
    results = []
    for cls in (getattr(optimessay, name), getattr(torch.optim, name)):
        torch.manual_seed(0)
        emb = torch.nn.Embedding(10, 3, sparse=True, dtype=torch.float64)
        opt = cls(emb.parameters(), **kwargs)
        gen = torch.Generator().manual_seed(1)
        history = []
        for _ in range(steps):
            rows = torch.randint(0, 10, (6,), generator=gen)
            emb.weight.grad = None
            (emb(rows) ** 2).sum().backward()
            grad = emb.weight.grad.clone()
            opt.step()
            assert same(emb.weight.grad, grad)
            history.append(emb.weight.detach().clone())
        results.append((history, opt))
    return results


@pytest.mark.filterwarnings("ignore:Sparse invariant checks are implicitly disabled")  # torch's Adagrad warns
@pytest.mark.parametrize("name, kwargs", [
    ("SGD", dict(lr=0.1)), ("SGD", dict(lr=0.1, momentum=0.9, dampening=0.2)), ("SGD", dict(lr=0.1, maximize=True)),
    ("Adagrad", dict(lr=0.1)), ("Adagrad", dict(lr=0.1, lr_decay=0.1, maximize=True, eps=1e-3)),
])
def test_sparse_gradients_match_torch(name, kwargs):
    (ours, ours_opt), (theirs, theirs_opt) = sparse_run(name, kwargs)
    assert all(torch.equal(a, b) for a, b in zip(ours, theirs, strict=True))
    params = list(ours_opt.state)
    assert_same_state(ours_opt, theirs_opt, params, list(theirs_opt.state))


@pytest.mark.parametrize("name, kwargs", [("Adam", {}), ("AdamW", {}), ("RMSprop", {}),
                                          ("Adagrad", dict(weight_decay=0.1))])
def test_sparse_gradients_refused_like_torch(name, kwargs):
    ours = raised(_sparse_step, optimessay, name, kwargs)
    theirs = raised(_sparse_step, torch.optim, name, kwargs)
    assert theirs is not None and ours == theirs


def _sparse_step(module, name, kwargs):
    emb = torch.nn.Embedding(4, 2, sparse=True)
    opt = getattr(module, name)(emb.parameters(), **kwargs)
    emb(torch.tensor([1, 2])).sum().backward()
    opt.step()


def test_the_seed_pitfall_in_place_weight_decay_is_not_ours():
    """The seed's RMSprop does `g += weight_decay * p`, changing p.grad; ours never does."""
    for name in NAMES:
        p = torch.randn(5, requires_grad=True)
        p.grad = torch.randn(5)
        grad = p.grad.clone()
        getattr(optimessay, name)([p], weight_decay=0.5, maximize=True).step()
        assert torch.equal(p.grad, grad), name


# ---- the preconditioner: update = -lr · P · ĝ ----------------------------------------------------
def gradient_estimate(name, opt, p, g):
    state = opt.state[p]
    if name == "Adam":
        beta1 = opt.param_groups[0]["betas"][0]
        return state["exp_avg"] / (1 - beta1 ** state["step"].item())
    return g


@pytest.mark.parametrize("name, kwargs", [
    ("SGD", dict(lr=0.1)), ("RMSprop", dict(lr=0.01)), ("RMSprop", dict(lr=0.01, centered=True)),
    ("Adam", dict(lr=0.01)), ("Adam", dict(lr=0.01, amsgrad=True)), ("Adagrad", dict(lr=0.1, lr_decay=0.3)),
])
def test_preconditioner_gives_the_step(name, kwargs):
    p = torch.randn(4, 3, dtype=torch.float64, requires_grad=True)
    opt = getattr(optimessay, name)([p], **kwargs)
    assert torch.equal(opt.preconditioner(p), torch.ones_like(p))  # before the first step: ones
    gen = torch.Generator().manual_seed(0)
    for _ in range(4):
        p.grad = torch.randn(p.shape, generator=gen, dtype=torch.float64)
        before = p.detach().clone()
        opt.step()
        P = opt.preconditioner(p)
        expected = -kwargs["lr"] * P * gradient_estimate(name, opt, p, p.grad)
        torch.testing.assert_close(p.detach() - before, expected, rtol=1e-9, atol=1e-15)
    with pytest.raises(ValueError, match="does not optimise"):
        opt.preconditioner(torch.zeros(2))


def test_adagrad_preconditioner_only_shrinks_and_rmsprop_can_grow():
    p, q = (torch.ones(2, dtype=torch.float64, requires_grad=True) for _ in range(2))
    ada, rms = optimessay.Adagrad([p], lr=0.1), optimessay.RMSprop([q], lr=0.01, alpha=0.5)
    last_ada, rms_values = None, []
    for scale in [1.0, 10.0, 0.01, 0.01, 0.01]:
        p.grad, q.grad = torch.full((2,), scale, dtype=torch.float64), torch.full((2,), scale, dtype=torch.float64)
        ada.step()
        rms.step()
        P = ada.preconditioner(p)
        assert last_ada is None or (P <= last_ada).all()
        last_ada = P
        rms_values.append(rms.preconditioner(q)[0].item())
    assert rms_values[-1] > rms_values[1]


# ---- the functional cores with one value per walk (what optimessay.sweep does) --------------------
SWEEPS = [
    ("SGD", core.sgd_update, core.sgd_init_state,
     dict(lr=[0.01, 0.02, 0.05], momentum=[0.0, 0.5, 0.9], weight_decay=[0.0, 0.1, 0.2]), {}, {}),
    ("SGD", core.sgd_update, core.sgd_init_state,
     dict(lr=[0.01, 0.02, 0.05], momentum=[0.3, 0.5, 0.9], dampening=[0.0, 0.1, 0.7]), {}, {}),
    ("SGD", core.sgd_update, core.sgd_init_state, dict(lr=[0.01, 0.02, 0.05], momentum=[0.3, 0.5, 0.9]),
     dict(nesterov=True, maximize=False), {}),
    ("Adam", core.adam_update, core.adam_init_state,
     dict(lr=[0.01, 0.02, 0.05], beta1=[0.0, 0.5, 0.9], beta2=[0.9, 0.99, 0.999], eps=[1e-8, 1e-3, 0.1],
          weight_decay=[0.0, 0.1, 0.2]), dict(amsgrad=True), dict(amsgrad=True)),
    ("Adam", core.adam_update, core.adam_init_state,
     dict(lr=[0.01, 0.02, 0.05], beta1=[0.0, 0.5, 0.9], weight_decay=[0.0, 0.1, 0.2]),
     dict(decoupled_weight_decay=True, maximize=True), {}),
    ("RMSprop", core.rmsprop_update, core.rmsprop_init_state,
     dict(lr=[0.01, 0.02, 0.05], alpha=[0.5, 0.9, 0.99], momentum=[0.2, 0.5, 0.9], weight_decay=[0.0, 0.1, 0.2]),
     dict(centered=True), dict(centered=True)),
    ("RMSprop", core.rmsprop_update, core.rmsprop_init_state,
     dict(lr=[0.01, 0.02, 0.05], alpha=[0.5, 0.9, 0.99], eps=[1e-8, 1e-3, 0.1]), {}, {}),
    ("Adagrad", core.adagrad_update, core.adagrad_init_state,
     dict(lr=[0.01, 0.02, 0.05], lr_decay=[0.0, 0.01, 0.1], weight_decay=[0.0, 0.1, 0.2]), {}, {}),
]


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=str)
@pytest.mark.parametrize("name, update, init_state, per_walk, flags, init_flags", SWEEPS)
def test_core_with_one_value_per_walk_equals_the_class_walk_by_walk(
    name, update, init_state, per_walk, flags, init_flags, dtype
):
    n, steps = 3, 40
    start = torch.randn(n, 2, dtype=dtype, generator=torch.Generator().manual_seed(0))
    A = torch.tensor([[3.0, 1.0], [1.0, 0.5]], dtype=dtype)

    def grad(x):
        return x @ A + 0.1 * torch.sin(5 * x)

    batch = start.clone()
    hyper = {k: torch.tensor(v, dtype=torch.float64).reshape(n, 1) for k, v in per_walk.items()}
    if name == "RMSprop":
        init_flags = dict(init_flags, momentum=hyper.get("momentum", 0.0))
    state = init_state(batch, **init_flags)
    for _ in range(steps):
        update(batch, grad(batch), state, **hyper, **flags)
    for i in range(n):
        x = start[i].clone().requires_grad_()
        kwargs = {k: v[i] for k, v in per_walk.items()}
        if "beta1" in kwargs or "beta2" in kwargs:
            kwargs["betas"] = (kwargs.pop("beta1", 0.9), kwargs.pop("beta2", 0.999))
        opt = getattr(optimessay, name)([x], **kwargs, **flags)
        for _ in range(steps):
            x.grad = grad(x.detach())
            opt.step()
        # float64 hyperparameters: the float32 batch rounds exactly as the class; float64 within 1e-12
        torch.testing.assert_close(batch[i], x.detach(), rtol=1e-12 if dtype == torch.float64 else 0, atol=0)


def test_core_preconditioner_functions_match_the_classes():
    p = torch.randn(3, 2, dtype=torch.float64, requires_grad=True)
    opt = optimessay.Adam([p], lr=0.1, betas=(0.8, 0.9))
    p.grad = torch.randn(3, 2, dtype=torch.float64)
    opt.step()
    P = core.adam_preconditioner(p, opt.state[p], beta2=0.9, eps=1e-8)
    assert torch.equal(P, opt.preconditioner(p))
    assert torch.equal(core.sgd_preconditioner(p, {}), torch.ones_like(p))


# ---- the source files: self-contained, with the snippet sections the pages embed ------------------
@pytest.mark.parametrize("name", sorted(FILES))
def test_file_is_self_contained_with_snippet_sections(name):
    text = FILES[name].read_text()
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

    # the `all` section is what a reader copies: it must run with nothing but torch
    copied = re.search(r"# --8<-- \[start:all\]\n(.*)# --8<-- \[end:all\]", text, re.S).group(1)
    namespace = {"__name__": "copied"}
    exec(compile(copied, f"<copied {name}>", "exec"), namespace)
    classes = ["Adam", "AdamW"] if name == "Adam" else [name]
    for cls_name in classes:
        ours_p, theirs_p = make_params(torch.float32, 0)
        ours = namespace[cls_name](ours_p, lr=0.01, weight_decay=0.1)
        theirs = getattr(torch.optim, cls_name)(theirs_p, lr=0.01, weight_decay=0.1, foreach=False)
        for _ in range(3):
            for p, q in zip(ours_p, theirs_p, strict=True):
                p.grad = q.grad = torch.randn(p.shape)
            ours.step()
            theirs.step()
        assert all(torch.equal(p, q) for p, q in zip(ours_p, theirs_p, strict=True))


def test_package_exports_and_hooks():
    for name in NAMES:
        cls = getattr(optimessay, name)
        assert issubclass(cls, torch.optim.Optimizer) and cls.__module__.startswith("optimessay.optimizers")
    p = torch.zeros(2, requires_grad=True)
    opt = optimessay.Adam([p])
    calls = []
    opt.register_step_pre_hook(lambda *a: calls.append("pre"))
    opt.register_step_post_hook(lambda *a: calls.append("post"))
    p.grad = torch.ones(2)
    opt.step()
    opt.zero_grad()
    assert calls == ["pre", "post"] and p.grad is None


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=str)
@pytest.mark.parametrize("name", ["Adam", "AdamW"])
def test_tensor_betas_in_the_parameters_dtype(name, dtype):
    betas = (torch.tensor(0.3, dtype=dtype), torch.tensor([0.95], dtype=dtype))
    run_lockstep(name, dict(lr=0.01, betas=betas, amsgrad=True, weight_decay=0.1), dtype=dtype, seed=5, steps=8)


def test_adagrad_state_is_filled_in_the_constructor_and_for_added_groups():
    ours_p, theirs_p = make_params(torch.float32, 0)
    ours = optimessay.Adagrad(ours_p[:2], initial_accumulator_value=0.3)
    theirs = torch.optim.Adagrad(theirs_p[:2], initial_accumulator_value=0.3, foreach=False)
    assert_same_state(ours, theirs, ours_p[:2], theirs_p[:2])  # before any step, like torch
    # torch ignores a group's own initial_accumulator_value (it uses the constructor's)
    ours.add_param_group({"params": ours_p[2:], "initial_accumulator_value": 0.9})
    theirs.add_param_group({"params": theirs_p[2:], "initial_accumulator_value": 0.9})
    for p, q in zip(ours_p, theirs_p, strict=True):
        p.grad = q.grad = torch.ones(p.shape)
    ours.step()
    theirs.step()
    assert_same_state(ours, theirs, ours_p, theirs_p)
    assert all(torch.equal(p, q) for p, q in zip(ours_p, theirs_p, strict=True))


@pytest.mark.parametrize("name", NAMES)
def test_old_state_dicts_load_like_torchs(name):
    """Files from older torch versions: no newer flags, `step` a Python number."""
    flags = {"maximize", "foreach", "differentiable", "fused", "capturable", "decoupled_weight_decay",
             "nesterov", "centered", "amsgrad"}
    ours, theirs, ours_p, theirs_p = run_lockstep(name, {"lr": 0.02}, dtype=torch.float64, seed=8, steps=4,
                                                  none_prob=0)
    old = copy.deepcopy(theirs.state_dict())
    for group in old["param_groups"]:
        for flag in flags & set(group):
            del group[flag]
    for state in old["state"].values():
        if "step" in state:
            state["step"] = state["step"].item()
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
    assert_same_state(ours, theirs, ours_p, theirs_p)


@pytest.mark.parametrize("name", NAMES)
def test_deepcopy_continues_identically(name):
    ours, _, ours_p, _ = run_lockstep(name, {"lr": 0.02}, dtype=torch.float32, seed=9, steps=3, none_prob=0)
    twin = copy.deepcopy(ours)
    twin_p = [p for group in twin.param_groups for p in group["params"]]
    for p, q in zip(ours_p, twin_p, strict=True):
        p.grad = q.grad = torch.ones(p.shape)
    ours.step()
    twin.step()
    assert all(torch.equal(p, q) and p is not q for p, q in zip(ours_p, twin_p, strict=True))


@pytest.mark.parametrize("name", NAMES)
def test_constructor_has_torchs_arguments_order_and_defaults(name):
    def arguments(cls):
        return [(p.name, p.kind, p.default) for p in inspect.signature(cls).parameters.values()]

    assert arguments(getattr(optimessay, name)) == arguments(getattr(torch.optim, name))


LIGHT_IMPORT_CHECK = r"""
import sys
import optimessay
assert "torch" not in sys.modules, "import optimessay imported torch"
import torch
optimessay.Adam, optimessay.CosineAnnealingLR, optimessay.Landscape
optimessay.testing.check_optimizer, optimessay.testing.check_scheduler
result = optimessay.sweep.run(optimessay.landscapes.get("rosenbrock"), "adam", {"lr": [0.01, 0.1]}, steps=5)
optimessay.tune("beale", optimessay.SGD, lr=[1e-3, 1e-2], steps=5)
optimessay.trajectory.run("saddle", optimessay.RMSprop, {"lr": 0.01}, steps=5)
heavy = sorted(m for m in ("matplotlib", "imageio", "imageio_ffmpeg", "optimessay.plots") if m in sys.modules)
assert not heavy, heavy
print("light", flush=True)
import os
os._exit(0)  # checked: skip tearing torch down (~0.5 s of CPU, seconds of wall on a loaded machine)
"""


def test_import_is_lazy_and_the_core_never_imports_matplotlib():
    """`import optimessay` imports nothing heavy; layers 1-2 in use never pull in matplotlib."""
    # the timeout guards against a hang only: at load 20 on 2 cores this interpreter once printed "light"
    # and was still tearing torch down after 120 s
    done = subprocess.run([sys.executable, "-c", LIGHT_IMPORT_CHECK], capture_output=True, text=True, timeout=600,
                          cwd=Path(optimessay.__file__).parent.parent)
    assert done.returncode == 0 and done.stdout.strip() == "light", done.stderr
    assert {"sweep", "landscapes", "testing"} <= set(dir(optimessay))


def test_every_optimizer_file_is_exported():
    """Each public name of optimessay.optimizers is the one its own file defines, and every
    optimizer class is reachable as optimessay.X (the package imports them lazily)."""
    import importlib

    for name in core.__all__:
        module = importlib.import_module(core._WHERE[name])
        assert getattr(core, name) is getattr(module, name)
        if name[0].isupper():
            assert getattr(optimessay, name) is getattr(module, name)
