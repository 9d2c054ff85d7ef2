"""What the equality tests share: bitwise comparison of tensors and optimizer state with torch.optim's,
and the idle optimizers the scheduler lockstep tests drive; snippet sections run alone.

Imported by the test files of tests/ (pytest puts this folder on sys.path); not a test file itself.
"""

import contextlib
import re
import sys
import types

import torch


def same(a: torch.Tensor, b: torch.Tensor) -> bool:
    """torch.equal, with NaN equal to NaN at the same positions (dense or sparse)."""
    if a.shape != b.shape or a.dtype != b.dtype:
        return False
    if a.is_sparse or b.is_sparse:
        return same(a.to_dense(), b.to_dense())
    if torch.equal(a, b):  # the usual case, in one op: equal everywhere, hence no NaN on either side
        return True
    nan_a, nan_b = torch.isnan(a), torch.isnan(b)
    return torch.equal(nan_a, nan_b) and torch.equal(a[~nan_a], b[~nan_b])


def same_value(a, b) -> bool:
    """Equal state entries: tensors bitwise (same dtype and device), lists elementwise, numbers ==."""
    if torch.is_tensor(a) or torch.is_tensor(b):
        return torch.is_tensor(a) and torch.is_tensor(b) and a.device == b.device and same(a, b)
    if isinstance(a, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(same_value(x, y) for x, y in zip(a, b, strict=True))
    return type(a) is type(b) and (a == b or (a != a and b != b))


def group_options(group: dict, **replaced) -> str:
    """A param group's options as text: every key but "params", in order, with their values (those
    named in `replaced` replaced, e.g. foreach=None to compare with a torch optimizer built with
    foreach=False, which ours records as None). Equal text: the same options, the same values."""
    return repr({key: replaced.get(key, value) for key, value in group.items() if key != "params"})


def scheduled_gradient(p: torch.Tensor) -> torch.Tensor:
    """The gradient of sum((p - 1)² + 0.1·cos(3p)), the smooth loss on which the tests of torch's
    schedulers driving our optimizers train, in closed form: 2(p - 1) - 0.3·sin(3p) (no graph, no
    backward pass; ours and torch's get it from their own parameters, as from their own backward())."""
    with torch.no_grad():
        return 2 * (p - 1) - 0.3 * torch.sin(3 * p)


def assert_same_state(ours, theirs, params_ours, params_theirs, *, tensors_only=False):
    """Every parameter's state: the same keys in the same order, every entry `same_value` as torch's
    (with `tensors_only`, every entry must also be a tensor, as for optimizers whose state is all tensors)."""
    for i, (p, q) in enumerate(zip(params_ours, params_theirs, strict=True)):
        s, t = ours.state.get(p, {}), theirs.state.get(q, {})
        assert list(s) == list(t), f"param {i}: state keys {list(s)} != torch's {list(t)}"
        for key in t:
            assert not tensors_only or torch.is_tensor(s[key]), (i, key)
            assert same_value(s[key], t[key]), (i, key, s[key], t[key])


def make_params(dtype, seed, shapes):
    """Two identical lists of leaf tensors (ours, torch's) of the given shapes, seeded."""
    gen = torch.Generator().manual_seed(seed)
    values = [torch.randn(shape, generator=gen, dtype=dtype) for shape in shapes]
    return [v.clone().requires_grad_() for v in values], [v.clone().requires_grad_() for v in values]


class IdleSGD(torch.optim.SGD):
    """torch.optim.SGD (momentum in its groups, for the schedulers that cycle it) whose step() does
    nothing. The parameters here never get a gradient, so SGD's own step() changes nothing either (no
    parameter, no state), at twice the cost (measured 33 vs 15 µs a call, most of a lockstep iteration).
    Its step is marked `hooked`, so torch's Optimizer leaves it as it is instead of wrapping it in its
    profiler `record_function` and step-hook pass (no hook is ever registered here). Measured side by
    side, OMP_NUM_THREADS=1: test_schedulers.py's 9 random-configuration tests alone 18.0 -> 7.9 s CPU
    (with IdleAdam for OneCycleLR); in a process that ran other files first the wrapper cost less
    (the same tests after test_optimizers ... test_check_scheduler: 10.0 -> 6.9 s). It is still a
    torch Optimizer: a scheduler still wraps the instance's step and its check that the optimizer
    stepped first sees each call (the lockstep tests turn warnings into errors). test_works_with_other_optimizers runs every scheduler on a real
    torch.optim.SGD ("torch-sgd"), torch.optim.Adam and optimessay's optimizers."""

    def step(self, closure=None):
        return None

    step.hooked = True  # torch.optim.Optimizer._patch_step_function skips a step marked so


class IdleAdam(torch.optim.Adam):
    """torch.optim.Adam (betas in its groups: OneCycleLR and CyclicLR cycle beta1) whose step() does
    nothing, as IdleSGD: with no gradient, Adam's own step() reads the groups and changes nothing.
    For the random-configuration properties; test_works_with_other_optimizers runs a real
    torch.optim.Adam ("adam")."""

    def step(self, closure=None):
        return None

    step.hooked = True


@contextlib.contextmanager
def without_optimessay():
    """Run a block as in an interpreter that has imported torch but not optimessay: every optimessay
    module is taken out of sys.modules for the block, and put back after it. Yields a list that holds,
    after the block, the optimessay modules the block imported (a fresh import, since none was loaded)."""
    ours = {name: module for name, module in sys.modules.items() if name == "optimessay" or name.startswith("optimessay.")}
    for name in ours:
        del sys.modules[name]
    imported = []
    try:
        yield imported
    finally:
        imported += sorted(n for n in sys.modules if n == "optimessay" or n.startswith("optimessay."))
        for name in imported:
            del sys.modules[name]
        sys.modules.update(ours)


def snippet_section(source: str, name: str) -> str:
    """The text of the snippet section NAME (`# --8<-- [start:NAME]` ... `# --8<-- [end:NAME]`), which
    must occur exactly once."""
    found = re.findall(rf"# --8<-- \[start:{name}\]\n(.*?)# --8<-- \[end:{name}\]", source, re.S)
    assert len(found) == 1, name
    return found[0]


def copied_sections(source: str, name: str, borrowed=()) -> types.SimpleNamespace:
    """What a reader who copied the `base` section and the section `name.lower()` of a schedulers file
    (its text `source`) has: those lines executed alone, in a fresh namespace. The classes named in
    `borrowed` that the copy does not define (the children a ChainedScheduler or SequentialLR is given)
    are torch.optim.lr_scheduler's."""
    namespace = {"__name__": f"copied_{name.lower()}"}
    code = snippet_section(source, "base") + snippet_section(source, name.lower())
    exec(compile(code, f"<copied base + {name.lower()}>", "exec"), namespace)
    copied = types.SimpleNamespace(**namespace)
    for key in borrowed:
        if not hasattr(copied, key):
            setattr(copied, key, getattr(torch.optim.lr_scheduler, key))
    return copied


def two_group_sgd() -> torch.optim.SGD:
    """SGD with momentum 0.9 over two one-number parameters in two groups, lrs 0.05 and 0.5."""
    return torch.optim.SGD([{"params": [torch.zeros(1, requires_grad=True)], "lr": 0.05},
                            {"params": [torch.zeros(1, requires_grad=True)], "lr": 0.5}], momentum=0.9)
