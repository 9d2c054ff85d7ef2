"""Drop-in edges: the less common ways people use an optimizer, each bit for bit torch.optim's.

Every comparison is against `torch.optim.X(..., foreach=False)` on identical inputs, with
`torch.equal` (NaN at the same places counts as equal), parameters and state after every step.
Covered in tests/test_optimizers.py, so not repeated here: complex64 parameters
(`test_tensor_lr_and_complex_params`) and `torch.save` / `torch.load(weights_only=True)` of a state
dict mid-run, then continuing, into ours and into torch's (`test_state_dict_crossloads_and_resumes_bit_for_bit`).
"""

import copy
import pickle

import pytest
import torch
from equality import same

import optimessay

NAMES = ["SGD", "RMSprop", "Adam", "AdamW", "Adagrad"]
# one configuration per optimizer with its options switched on; the second group changes some
OPTIONS = {
    "SGD": dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.1),
    "RMSprop": dict(lr=0.01, momentum=0.5, centered=True, weight_decay=0.1),
    "Adam": dict(lr=0.05, amsgrad=True, weight_decay=0.1),
    "AdamW": dict(lr=0.05, amsgrad=True),
    "Adagrad": dict(lr=0.1, lr_decay=0.05, weight_decay=0.1, initial_accumulator_value=0.1),
}
SECOND_GROUP = {
    "SGD": dict(lr=0.02, momentum=0.5, dampening=0.3, nesterov=False, maximize=True),
    "RMSprop": dict(lr=0.02, centered=False, momentum=0.0, maximize=True),
    "Adam": dict(lr=0.02, amsgrad=False, decoupled_weight_decay=True, maximize=True),
    "AdamW": dict(lr=0.02, amsgrad=False, weight_decay=0.0, maximize=True),
    "Adagrad": dict(lr=0.05, lr_decay=0.0, maximize=True),
}
SHAPES = [(3,), (2, 3), (), (4, 1, 2)]


class Pair:
    """Ours and torch's optimizer on twin parameters, stepped in lockstep on the same gradients."""

    def __init__(self, name, *, dtype=torch.float32, seed=0, shapes=SHAPES, second_group=True):
        self.name, self.dtype = name, dtype
        gen = torch.Generator().manual_seed(seed)
        values = [torch.randn(shape, generator=gen).to(dtype) for shape in shapes]
        self.ours_p = [v.clone().requires_grad_() for v in values]
        self.theirs_p = [v.clone().requires_grad_() for v in values]

        def groups(params):
            if not second_group:
                return params
            return [{"params": params[:2]}, {"params": params[2:], **SECOND_GROUP[name]}]

        self.ours = getattr(optimessay, name)(groups(self.ours_p), **OPTIONS[name])
        self.theirs = getattr(torch.optim, name)(groups(self.theirs_p), **OPTIONS[name], foreach=False)
        self.gen = torch.Generator().manual_seed(seed + 1)
        self.steps = 0

    def random_grads(self):
        return [torch.randn(p.shape, generator=self.gen).to(self.dtype) for p in self.ours_p]

    def step(self, grads=None):
        grads = self.random_grads() if grads is None else grads
        for params in (self.ours_p, self.theirs_p):
            for p, g in zip(params, grads, strict=True):
                p.grad = None if g is None else g.clone()
        self.ours.step()
        self.theirs.step()
        self.steps += 1
        self.check()

    def check(self, ours=None, ours_p=None):
        ours, ours_p = ours or self.ours, ours_p or self.ours_p
        for i, (p, q) in enumerate(zip(ours_p, self.theirs_p, strict=True)):
            assert same(p.detach(), q.detach()), (
                f"{self.name} {self.dtype} step {self.steps} param {i}: max diff {(p - q).abs().max().item()}"
            )
            s, t = ours.state.get(p, {}), self.theirs.state.get(q, {})
            assert s.keys() == t.keys(), (i, sorted(s), sorted(t))
            for key in t:
                assert s[key].dtype == t[key].dtype and same(s[key], t[key]), (self.steps, i, key)


# ---- parameter dtypes ----------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, torch.complex128], ids=str)
@pytest.mark.parametrize("name", NAMES)
def test_half_precision_and_complex128_parameters(name, dtype):
    pair = Pair(name, dtype=dtype)
    for _ in range(12):
        pair.step()


# ---- non-finite gradients ------------------------------------------------------------------------
@pytest.mark.parametrize("name", NAMES)
def test_nan_and_inf_gradients(name):
    """NaN, +inf and -inf in some entries of some gradients: the same NaN/inf pattern, the same finite
    values elsewhere, and the same state afterwards (e.g. Adam's moments turn NaN, SGD's buffer too)."""
    pair = Pair(name, dtype=torch.float32, seed=1)
    for step in range(8):
        grads = pair.random_grads()
        if step == 2:
            grads[0][1] = float("nan")
        if step == 4:
            grads[1][0, 2] = float("inf")
            grads[3][0, 0, 1] = -float("inf")
        if step == 5:
            grads[2] = torch.tensor(float("inf"))  # the 0-dim parameter
        pair.step(grads)
    assert torch.isnan(pair.ours_p[0]).any() or torch.isinf(pair.ours_p[0]).any()  # the edge was reached


# ---- parameter groups and gradients --------------------------------------------------------------
@pytest.mark.parametrize("name", NAMES)
def test_add_param_group_mid_run(name):
    """A group added after some steps: torch's defaults fill it in, and it steps like torch's."""
    pair = Pair(name, seed=2, shapes=[(3,), (2, 3)], second_group=False)
    for _ in range(3):
        pair.step()
    values = [torch.randn(shape, generator=torch.Generator().manual_seed(9)) for shape in [(5,), (2, 2)]]
    ours_new = [v.clone().requires_grad_() for v in values]
    theirs_new = [v.clone().requires_grad_() for v in values]
    pair.ours.add_param_group({"params": ours_new, **SECOND_GROUP[name]})
    pair.theirs.add_param_group({"params": theirs_new, **SECOND_GROUP[name]})
    for g, h in zip(pair.ours.param_groups, pair.theirs.param_groups, strict=True):  # defaults filled in alike
        assert list(g) == list(h)  # same keys, same order; same values (torch's ran with foreach=False)
        assert {k: v for k, v in g.items() if k != "params"} == {k: v for k, v in h.items() if k != "params"} | {
            "foreach": None}
    pair.ours_p += ours_new
    pair.theirs_p += theirs_new
    for _ in range(4):
        pair.step()
    with pytest.raises(ValueError) as theirs_error:
        pair.theirs.add_param_group({"params": theirs_new[:1]})
    with pytest.raises(ValueError) as ours_error:
        pair.ours.add_param_group({"params": ours_new[:1]})
    assert str(ours_error.value) == str(theirs_error.value)  # some parameters appear in more than one group


@pytest.mark.parametrize("name", NAMES)
def test_zero_grad_keeping_the_gradient_tensors(name):
    """`zero_grad(set_to_none=False)` zeroes the same gradient tensors in place; a zero gradient then
    runs the full update (weight decay, momentum, moments), as in torch."""
    pair = Pair(name, seed=3)
    for _ in range(3):
        pair.step()
    grads_before = [p.grad for p in pair.ours_p]
    pair.ours.zero_grad(set_to_none=False)
    pair.theirs.zero_grad(set_to_none=False)
    assert all(p.grad is g and not g.any() for p, g in zip(pair.ours_p, grads_before, strict=True))
    assert all(torch.equal(p.grad, q.grad) for p, q in zip(pair.ours_p, pair.theirs_p, strict=True))
    before = [p.detach().clone() for p in pair.ours_p]
    for _ in range(3):  # step on the zeroed gradients themselves
        pair.ours.step()
        pair.theirs.step()
        pair.steps += 1
        pair.check()
    assert all(not torch.equal(p, b) for p, b in zip(pair.ours_p, before, strict=True))  # zero grads still step
    pair.ours.zero_grad()  # torch's default: set_to_none=True
    assert all(p.grad is None for p in pair.ours_p)


# ---- state dicts that do not fit ---------------------------------------------------------------
@pytest.mark.parametrize("name", NAMES)
def test_mismatched_load_state_dict_raises_torchs_error_and_changes_nothing(name):
    pair = Pair(name, seed=4)
    for _ in range(3):
        pair.step()
    one_group = Pair(name, seed=4, second_group=False)
    one_group.step()
    short = Pair(name, seed=4, shapes=SHAPES[:3])
    short.step()
    for other in (one_group, short):
        for source in (other.ours, other.theirs):  # a state dict of ours or of torch's
            state_dict = copy.deepcopy(source.state_dict())
            with pytest.raises(ValueError) as theirs_error:
                pair.theirs.load_state_dict(copy.deepcopy(state_dict))
            with pytest.raises(ValueError) as ours_error:
                pair.ours.load_state_dict(copy.deepcopy(state_dict))
            assert str(ours_error.value) == str(theirs_error.value)
    pair.check()  # the failed loads changed nothing
    for _ in range(3):
        pair.step()


@pytest.mark.parametrize("name", NAMES)
def test_state_of_the_wrong_shape_fails_at_the_step_like_torch(name):
    """torch checks only group sizes when loading; a state tensor of another shape fails at the step."""
    pair = Pair(name, seed=5)
    pair.step()
    swapped = Pair(name, seed=5, shapes=[(3,), (2, 3), (), (5,)])  # last parameter: another shape
    swapped.step()
    errors = []
    for opt, params, source in ((pair.theirs, pair.theirs_p, swapped.theirs), (pair.ours, pair.ours_p, swapped.ours)):
        opt.load_state_dict(copy.deepcopy(source.state_dict()))
        for p in params:
            p.grad = torch.ones(p.shape)
        with pytest.raises(RuntimeError) as error:
            opt.step()
        errors.append(error)
    assert type(errors[0].value) is type(errors[1].value)
    assert str(errors[0].value) == str(errors[1].value)  # the same op fails the same way


# ---- copies of a running optimizer ---------------------------------------------------------------
@pytest.mark.parametrize("copier", ["deepcopy", "pickle"])
@pytest.mark.parametrize("name", NAMES)
def test_copy_mid_run_then_continue(name, copier):
    """A copy (deepcopy, or pickle: the optimizer with its parameters) taken mid-run continues exactly
    as torch's copy of torch's optimizer, and the original is unaffected."""
    pair = Pair(name, seed=6)
    for _ in range(4):
        pair.step()

    def duplicate(opt):
        return copy.deepcopy(opt) if copier == "deepcopy" else pickle.loads(pickle.dumps(opt))

    twin = Pair(name, seed=6)
    twin.ours, twin.theirs = duplicate(pair.ours), duplicate(pair.theirs)
    assert type(twin.ours) is type(pair.ours)
    twin.ours_p = [p for group in twin.ours.param_groups for p in group["params"]]
    twin.theirs_p = [p for group in twin.theirs.param_groups for p in group["params"]]
    assert not any(p is q for p, q in zip(twin.ours_p, pair.ours_p, strict=True))
    twin.steps = pair.steps
    twin.check()
    for _ in range(4):
        grads = pair.random_grads()
        pair.step(grads)
        twin.step(grads)
        assert all(torch.equal(p, q) for p, q in zip(twin.ours_p, pair.ours_p, strict=True))
