"""optimessay's optimizers under `torch.compile(opt.step)`: the numbers of eager torch.optim, one
compiled graph for all parameters.

Users compile their training step, optimizer included, so a drop-in optimizer must survive it. The
reference is eager `torch.optim.X(..., foreach=False)` on the same inputs. A compiled step is not
bitwise equal to an eager one, not even torch's own: inductor fuses and reorders the arithmetic,
and a compiled Adam computes its bias corrections in float32 tensor ops from the float32 step
counter instead of Python doubles. The tolerances are set from that effect, measured here on
torch 2.13 CPU with these very configurations (20 steps, float32 parameters of size ~1), as the
largest |compiled - eager| over all steps and parameters:

| optimizer | torch.optim compiled vs eager | optimessay compiled vs torch eager | tolerance |
|---|---|---|---|
| SGD, RMSprop, Adagrad | 2.4e-7 (2 ulp at 1) | 2.4e-7 | 1e-6 |
| Adam / AdamW | 3.5e-6 / 3.1e-6 | 3.5e-6 / 3.2e-6 | 1e-5 |

(optimessay compiled vs torch.optim compiled: at most 1.2e-7.) Adam's code before the fix (Python
arithmetic on `step.item()`) was off by 1.2e-2 here, and only when two parameters share a shape, so
two do: the tolerances catch any real error in an update.

Backend: "inductor", what `torch.compile` uses by default, for every class. Compiling is slow on a
2-core machine (a cold inductor compile is several seconds per graph), so each class runs one
configuration that switches on all its options at once over two parameter groups, rather than a
grid. Recompiles are counted with `torch._dynamo.utils.counters` and bounded with dynamo's own
recompile limit.
"""

import importlib
import logging

import pytest
import torch
import torch._dynamo
from torch._dynamo.utils import counters

import optimessay

NAMES = ["SGD", "RMSprop", "Adam", "AdamW", "Adagrad"]
# group 1 takes the constructor's options, group 2 overrides them: every option is on in one group
CONFIGS = {
    "SGD": (dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.1, maximize=True),
            dict(lr=0.02, momentum=0.5, dampening=0.3, nesterov=False, weight_decay=0.0, maximize=False)),
    "RMSprop": (dict(lr=0.01, centered=True, momentum=0.5, weight_decay=0.1, maximize=True),
                dict(lr=0.02, alpha=0.9, centered=False, momentum=0.0, maximize=False)),
    "Adam": (dict(lr=0.05, amsgrad=True, weight_decay=0.1, maximize=True),
             dict(lr=0.02, betas=(0.8, 0.99), amsgrad=False, decoupled_weight_decay=True, maximize=False)),
    "AdamW": (dict(lr=0.05, amsgrad=True, maximize=True),
              dict(lr=0.02, betas=(0.8, 0.99), amsgrad=False, weight_decay=0.0, maximize=False)),
    "Adagrad": (dict(lr=0.1, lr_decay=0.05, weight_decay=0.1, initial_accumulator_value=0.1, maximize=True),
                dict(lr=0.05, lr_decay=0.0, eps=1e-6, maximize=False)),
}
TOLERANCE = {"SGD": 1e-6, "RMSprop": 1e-6, "Adagrad": 1e-6, "Adam": 1e-5, "AdamW": 1e-5}
SHAPES = [(4,), (4,), (2, 3), ()]  # two per group; two of the same shape (see above); a 0-dim one
STEPS = 20
# the first step creates the lazy state (a graph of its own), every later step runs a second graph;
# Adagrad fills its state in the constructor, and SGD keeps no state in the second group (momentum 0)
MAX_GRAPHS = {"SGD": 2, "RMSprop": 2, "Adam": 2, "AdamW": 2, "Adagrad": 1}


@pytest.fixture(autouse=True)
def fresh_dynamo():
    """Each test starts from an empty dynamo cache and counters, and may compile a frame at most
    twice: one more compile (a recompile per parameter, per step, ...) raises."""
    torch._dynamo.reset()
    counters.clear()
    torch._logging.set_logs(dynamo=logging.ERROR)  # dynamo's warnings would only be noise here
    try:
        with torch._dynamo.config.patch(recompile_limit=2, fail_on_recompile_limit_hit=True):
            yield
    finally:
        torch._logging.set_logs()
        torch._dynamo.reset()


def make(cls, name, **flags):
    gen = torch.Generator().manual_seed(0)
    params = [torch.randn(shape, generator=gen).requires_grad_() for shape in SHAPES]
    first, second = CONFIGS[name]
    return cls([{"params": params[:2]}, {"params": params[2:], **second}], **first, **flags), params


@pytest.mark.parametrize("name", NAMES)
def test_compiled_step_matches_eager_torch_with_one_graph_for_all_parameters(name):
    ours, ours_p = make(getattr(optimessay, name), name)
    theirs, theirs_p = make(getattr(torch.optim, name), name, foreach=False)
    compiled_step = torch.compile(ours.step, backend="inductor")
    gen = torch.Generator().manual_seed(1)
    for step in range(STEPS):
        for p, q in zip(ours_p, theirs_p, strict=True):
            p.grad = torch.randn(p.shape, generator=gen)
            q.grad = p.grad.clone()
        compiled_step()
        theirs.step()
        for i, (p, q) in enumerate(zip(ours_p, theirs_p, strict=True)):
            torch.testing.assert_close(p.detach(), q.detach(), rtol=0, atol=TOLERANCE[name],
                                       msg=lambda m, i=i, step=step: f"{name} step {step} param {i}: {m}")
    for p, q in zip(ours_p, theirs_p, strict=True):  # the state too (same keys, close values)
        s, t = ours.state.get(p, {}), theirs.state.get(q, {})
        assert s.keys() == t.keys()
        for key in t:
            torch.testing.assert_close(s[key], t[key], rtol=1e-5, atol=TOLERANCE[name])
    # no graph break, and the number of graphs does not grow with the number of parameters
    assert not counters["graph_break"], dict(counters["graph_break"])
    assert counters["stats"]["unique_graphs"] <= MAX_GRAPHS[name], dict(counters["stats"])


PRECONDITIONER_ARGS = {  # what each functional *_preconditioner takes besides (param, state), from the group
    "SGD": lambda group: {},
    "RMSprop": lambda group: dict(eps=group["eps"]),
    "Adam": lambda group: dict(beta2=group["betas"][1], eps=group["eps"], amsgrad=group["amsgrad"]),
    "Adagrad": lambda group: dict(lr_decay=group["lr_decay"], eps=group["eps"]),
}


@pytest.mark.parametrize("name", sorted(PRECONDITIONER_ARGS))
def test_preconditioners_under_compile(name):
    """`opt.preconditioner(p)` refuses to be traced (traced, its lookup of the state by `p` returned the
    first parameter's P for the second, measured on torch 2.13 even with backend="eager"), so
    torch.compile runs it eagerly; the functional `*_preconditioner(p, state, ...)` it calls compiles,
    with the step count read as the step reads it (`_value`, torch's `_get_value` pattern). Both
    within float32 rounding of eager (Adam's bias correction in float32: measured 1e-5 relative; the
    bug was 0.7 relative).
    Backend "aot_eager": the failure was in dynamo's tracing, and inductor would only add minutes of
    compiling tiny graphs."""
    module = importlib.import_module(f"optimessay.optimizers.{name.lower()}")
    functional = getattr(module, f"{name.lower()}_preconditioner")
    opt, params = make(getattr(optimessay, name), name)
    compiled_method = torch.compile(opt.preconditioner, backend="aot_eager")
    compiled_functional = torch.compile(functional, backend="aot_eager")
    group_of = {id(p): group for group in opt.param_groups for p in group["params"]}
    gen = torch.Generator().manual_seed(2)
    with torch._dynamo.config.patch(recompile_limit=8, fail_on_recompile_limit_hit=False):
        for _ in range(3):
            for p in params:
                expected = opt.preconditioner(p)
                torch.testing.assert_close(compiled_method(p), expected, rtol=1e-4, atol=0)
                kwargs = PRECONDITIONER_ARGS[name](group_of[id(p)])
                torch.testing.assert_close(compiled_functional(p, opt.state.get(p, {}), **kwargs), expected,
                                           rtol=1e-4, atol=0)
            for p in params:
                p.grad = torch.randn(p.shape, generator=gen)
            opt.step()
