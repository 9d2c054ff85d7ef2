"""check_optimizer catches the seed notebook's bugs and passes correct optimizers.

The three classes below are the seed notebook's (`/work/shared/seed/optimizer-exercises.txt`),
copied verbatim, bugs included:
- SGD and Adam read `param.grad` without checking for None, so a frozen layer crashes them;
- RMSprop adds weight decay with an in-place `g += ...`, which changes `param.grad`.
"""

from collections.abc import Iterable
from importlib import import_module

import pytest
import torch
import torch as t

import optimessay
from optimessay.testing import check_optimizer
from optimessay.testing.optimizers import DEFAULT_CONFIGS, SINGLE_GROUP_OPTIMIZERS


# ---- the seed notebook's classes, verbatim ------------------------------------------------------
class SGD:
    params: list

    def __init__(self, params: Iterable[t.nn.parameter.Parameter], lr: float, momentum: float = 0., weight_decay: float = 0.):
        '''Implements SGD with momentum.

        Like the PyTorch version, but assume nesterov=False, maximize=False, and dampening=0
            https://pytorch.org/docs/stable/generated/torch.optim.SGD.html#torch.optim.SGD
        '''

        self.params = list(params)
        self.lastGrads = [t.zeros_like(p) for p in self.params]
        #print(self.lastGrads.shape) # (had temporarily forgotten that grad is same size)

        self.lr = lr
        self.momentum = momentum
        self.weight_decay = weight_decay
        self.t = 0



    def zero_grad(self) -> None:
        for i in self.params:
            i.grad = None


    @t.inference_mode()
    def step(self) -> None:
        for index, param in enumerate(self.params):

            g = param.grad

            if self.weight_decay != 0:
                g = g + self.weight_decay * param

            if self.momentum != 0 and self.t > 0:
                g = (self.momentum * self.lastGrads[index]) + g

            param -= self.lr * g
            self.lastGrads[index] = g

        self.t = self.t + 1




    def __repr__(self) -> str:
        return f"SGD(lr={self.lr}, momentum={self.momentum}, weight_decay={self.weight_decay})"


class RMSprop:
    def __init__(
        self,
        params: Iterable[t.nn.parameter.Parameter],
        lr: float = 0.01,
        alpha: float = 0.99,
        eps: float = 1e-08,
        weight_decay: float = 0.,
        momentum: float = 0.,
    ):
        '''Implements RMSprop.

        Like the PyTorch version, but assumes centered=False
            https://pytorch.org/docs/stable/generated/torch.optim.RMSprop.html#torch.optim.RMSprop
        '''
        self.params = list(params)
        self.lr = lr
        self.alpha = alpha
        self.eps = eps
        self.weight_decay = weight_decay
        self.momentum = momentum
        self.vs = [t.zeros_like(p) for p in self.params]
        self.bs = [t.zeros_like(p) for p in self.params]


    def zero_grad(self) -> None:
        for i in self.params:
            i.grad = None

    @t.inference_mode()
    def step(self) -> None:
        for index, param in enumerate(self.params):
            g = param.grad

            if self.weight_decay != 0:
                g += self.weight_decay * param

            v = self.alpha * self.vs[index] + (1 - self.alpha) * (g * g)

            if self.momentum > 0:
                b = self.momentum * self.bs[index] + g / (t.sqrt(v) + self.eps)
                param -= self.lr * b
                self.bs[index] = b

            else:
                param -= self.lr * g / (t.sqrt(v) + self.eps)
            self.vs[index] = v





    def __repr__(self) -> str:
        return f"RMS(lr={self.lr}, alpha ={self.alpha}, momentum={self.momentum}, weight_decay={self.weight_decay})"


class Adam:
    def __init__(
        self,
        params: Iterable[t.nn.parameter.Parameter],
        lr: float = 0.001,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-08,
        weight_decay: float = 0.,
    ):
        '''Implements Adam.

        Like the PyTorch version, but assumes amsgrad=False and maximize=False
            https://pytorch.org/docs/stable/generated/torch.optim.Adam.html#torch.optim.Adam
        '''
        self.params = list(params)
        self.lr = lr
        self.beta1, self.beta2 = betas
        self.eps = eps
        self.weight_decay = weight_decay

        self.ms = [t.zeros_like(p) for p in self.params]
        self.vs = [t.zeros_like(p) for p in self.params]
        self.t = 1

    def zero_grad(self) -> None:
        for i in self.params:
            i.grad = None

    @t.inference_mode()
    def step(self) -> None:
        for index, param in enumerate(self.params):

            g = param.grad

            if self.weight_decay != 0:
                g = g + self.weight_decay * param

            m = self.beta1 * self.ms[index] + (1 - self.beta1) * g
            v = self.beta2 * self.vs[index] + (1 - self.beta2) * (g * g)

            m_hat = m / (1 - self.beta1 ** self.t)
            v_hat = v / (1 - self.beta2 ** self.t)


            param -= self.lr * m_hat / (v_hat.sqrt() + self.eps)

            self.ms[index] = m
            self.vs[index] = v

        self.t += 1

    def __repr__(self) -> str:
        return f"Adam(lr={self.lr}, beta1={self.beta1}, beta2={self.beta2}, weight_decay={self.weight_decay})"
# ---- end of the seed notebook's classes ---------------------------------------------------------


def _ran(results):
    return [r for r in results if not r.skipped]


def test_seed_sgd_is_caught_at_the_frozen_layer():
    results = check_optimizer(SGD, "SGD", verbose=False)
    ran = _ran(results)
    # configs with dampening / nesterov / maximize are skipped: the seed's SGD has no such argument
    assert {r.config.get("lr") for r in ran} and len(ran) == 4
    assert all(not r.passed for r in ran)
    for r in ran:  # its math agrees with torch's until the first step without a gradient
        assert r.step == 6 and "TypeError" in r.message and ".grad is None" in r.message


def test_seed_rmsprop_is_caught_mutating_the_gradient():
    results = {str(r.config): r for r in _ran(check_optimizer(RMSprop, "RMSprop", verbose=False))}
    with_decay = [r for r in results.values() if r.config.get("weight_decay")]
    assert with_decay and all(not r.passed and r.step == 1 and "changed p.grad" in r.message for r in with_decay)
    without = [r for r in results.values() if not r.config.get("weight_decay")]
    assert without and all(not r.passed and r.step == 6 for r in without)  # and the frozen layer


def test_seed_adam_is_caught():
    ran = _ran(check_optimizer(Adam, "Adam", verbose=False))
    assert len(ran) == 3 and all(not r.passed and r.step == 6 for r in ran)


def test_a_wrong_formula_is_caught_at_its_first_step_with_the_size_of_the_difference():
    class AdamWithoutBiasCorrection(Adam):  # the seed's Adam minus its bias correction
        @t.inference_mode()
        def step(self):
            for index, param in enumerate(self.params):
                if param.grad is None:
                    continue
                g = param.grad
                self.ms[index] = self.beta1 * self.ms[index] + (1 - self.beta1) * g
                self.vs[index] = self.beta2 * self.vs[index] + (1 - self.beta2) * g * g
                param -= self.lr * self.ms[index] / (self.vs[index].sqrt() + self.eps)

    result = check_optimizer(AdamWithoutBiasCorrection, "Adam", [{"lr": 0.1, "betas": (0.8, 0.95)}], verbose=False)[0]
    assert not result.passed and result.step == 1 and result.parameter == "scale"  # the first in model.parameters()
    assert 1e-3 < result.max_abs_diff < 1


MODULES = {"AdamW": "adam", "SparseAdam": "sparse_adam"}  # the optimizer files not named name.lower()


def ours(name):
    """optimessay's class: exported by the package, or (not yet exported) from its own file."""
    try:
        return getattr(optimessay, name)
    except AttributeError:
        return getattr(import_module(f"optimessay.optimizers.{MODULES.get(name, name.lower())}"), name)


@pytest.mark.parametrize("name", sorted(DEFAULT_CONFIGS))
def test_ours_and_torchs_pass_bitwise(name):
    for cls in (ours(name), getattr(torch.optim, name)):
        results = check_optimizer(cls, name, verbose=False, rtol=0, atol=0)
        assert results and all(r.passed and r.bitwise and not r.skipped for r in results)
        # two parameter groups, except for LBFGS (torch refuses them)
        assert any("2 param groups" in r.message for r in results) == (name not in SINGLE_GROUP_OPTIMIZERS)


def test_prints_one_line_per_configuration(capsys):
    check_optimizer(SGD, "SGD", [{"lr": 0.1}, {"lr": 0.1, "nesterov": True, "momentum": 0.9}])
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0].startswith("FAIL  {'lr': 0.1}  step 6: your step() raised TypeError")
    assert lines[1].startswith("SKIP") and "'nesterov'" in lines[1]
    assert lines[2] == "SGD vs torch.optim.SGD: 0/1 configurations pass (1 skipped)"


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="'Adma'"):
        check_optimizer(SGD, "Adma")
    with pytest.raises(TypeError, match="list of dicts"):
        check_optimizer(SGD, "SGD", configs={"lr": 0.1})


def test_the_seed_classes_once_fixed_pass_within_the_tolerance():
    """Skip parameters without a gradient, count steps per parameter, never write into p.grad: then
    only rounding differences remain (e.g. `g + wd * p` instead of torch's fused `g.add(p, alpha=wd)`)."""

    class FixedSGD(SGD):
        @t.inference_mode()
        def step(self):
            for index, param in enumerate(self.params):
                if param.grad is None:
                    continue
                g = param.grad
                if self.weight_decay != 0:
                    g = g + self.weight_decay * param
                if self.momentum != 0:
                    g = self.momentum * self.lastGrads[index] + g if self.t > 0 else g
                    self.lastGrads[index] = g
                param -= self.lr * g
            self.t += 1

    class FixedRMSprop(RMSprop):
        @t.inference_mode()
        def step(self):
            for index, param in enumerate(self.params):
                if param.grad is None:
                    continue
                g = param.grad
                if self.weight_decay != 0:
                    g = g + self.weight_decay * param  # a new tensor: p.grad is left alone
                self.vs[index] = self.alpha * self.vs[index] + (1 - self.alpha) * g * g
                d = t.sqrt(self.vs[index]) + self.eps
                if self.momentum > 0:
                    self.bs[index] = self.momentum * self.bs[index] + g / d
                    param -= self.lr * self.bs[index]
                else:
                    param -= self.lr * g / d

    class FixedAdam(Adam):
        @t.inference_mode()
        def step(self):
            if not hasattr(self, "steps"):
                self.steps = [0] * len(self.params)
            for index, param in enumerate(self.params):
                if param.grad is None:
                    continue
                self.steps[index] += 1
                g = param.grad
                if self.weight_decay != 0:
                    g = g + self.weight_decay * param
                self.ms[index] = self.beta1 * self.ms[index] + (1 - self.beta1) * g
                self.vs[index] = self.beta2 * self.vs[index] + (1 - self.beta2) * g * g
                m_hat = self.ms[index] / (1 - self.beta1 ** self.steps[index])
                v_hat = self.vs[index] / (1 - self.beta2 ** self.steps[index])
                param -= self.lr * m_hat / (v_hat.sqrt() + self.eps)

    for cls, name in ((FixedSGD, "SGD"), (FixedRMSprop, "RMSprop"), (FixedAdam, "Adam")):
        ran = _ran(check_optimizer(cls, name, verbose=False))
        assert ran and all(r.passed for r in ran), [str(r) for r in ran if not r.passed]
        assert all(0 < r.max_abs_diff < 1e-12 or r.bitwise for r in ran)
        strict = _ran(check_optimizer(cls, name, verbose=False, rtol=0, atol=0))
        # bit-for-bit mode fails exactly the configurations that were not bitwise
        assert [r.passed for r in strict] == [r.bitwise for r in ran]
        if cls is FixedAdam:
            # correct, but rounded differently from torch on every CPU: `b1*m + (1-b1)*g` is not torch's
            # lerp_. (The fixed SGD and RMSprop differ from torch only where its kernels fuse a
            # multiply-add, e.g. `g.add(p, alpha=wd)`: with ATEN_CPU_CAPABILITY=default, which has no
            # FMA, they are bitwise equal to torch, measured.)
            assert not all(r.bitwise for r in ran) and not all(r.passed for r in strict)


def test_more_bad_arguments_are_named():
    with pytest.raises(ValueError, match="configs is empty"):
        check_optimizer(optimessay.Adam, "Adam", [])
    with pytest.raises(TypeError, match="optimizer_class must be your optimizer's class.*not an instance"):
        check_optimizer(optimessay.Adam([torch.zeros(1, requires_grad=True)]), "Adam")
    with pytest.raises(ValueError, match="steps must be an int of at least 8.*got '10'"):
        check_optimizer(optimessay.Adam, "Adam", steps="10")
    with pytest.raises(ValueError, match="dtype must be torch.float32 or torch.float64, got torch.int64"):
        check_optimizer(optimessay.Adam, "Adam", dtype=torch.int64)
    with pytest.raises(ValueError, match="rtol must be a number >= 0, got -1"):
        check_optimizer(optimessay.Adam, "Adam", rtol=-1)


def test_a_config_with_foreach_runs_against_torchs_for_loop():
    results = check_optimizer(optimessay.Adam, "Adam", [{"lr": 0.1, "foreach": True}], verbose=False, rtol=0, atol=0)
    assert len(results) == 2  # one group, then two groups
    assert all(r.passed and r.bitwise for r in results)  # the reference is always torch's foreach=False


# ---- optimizers checked on their own model: Muon (2-D only), SparseAdam (sparse), LBFGS (closure) -----
def test_a_muon_written_from_torchs_docstring_is_caught():
    """torch's docstring writes Muon's momentum as a sum, B = μB + g; its code keeps an average,
    B = μB + (1-μ)g. Newton–Schulz normalizes, so the updates agree up to bfloat16 rounding: the
    default tolerance still sees it at the first step."""

    class DocstringMuon(torch.optim.Optimizer):
        def __init__(self, params, lr=1e-3, weight_decay=0.1, momentum=0.95):
            super().__init__(params, dict(lr=lr, weight_decay=weight_decay, momentum=momentum))

        @torch.no_grad()
        def step(self):
            from torch.optim._muon import _zeropower_via_newtonschulz

            for group in self.param_groups:
                for p in group["params"]:
                    if p.grad is None:
                        continue
                    buf = self.state[p].setdefault("momentum_buffer", torch.zeros_like(p))
                    buf.mul_(group["momentum"]).add_(p.grad)  # the docstring's sum
                    update = p.grad + group["momentum"] * buf  # and its Nesterov
                    update = _zeropower_via_newtonschulz(update, (3.4445, -4.775, 2.0315), 5, 1e-7)
                    p.mul_(1 - group["lr"] * group["weight_decay"])
                    p.add_(update, alpha=-group["lr"] * max(1, p.shape[0] / p.shape[1]) ** 0.5)

    results = _ran(check_optimizer(DocstringMuon, "Muon", verbose=False))
    assert results and all(not r.passed and r.step == 1 for r in results)
    assert all(1e-6 < r.max_abs_diff < 1e-1 for r in results), [str(r) for r in results]


def test_a_sparse_adam_that_moves_every_row_is_caught():
    """Dense Adam on a sparse gradient moves rows the batch did not touch (their moments are stale)."""

    class DenseSparseAdam(torch.optim.Optimizer):
        def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8):
            super().__init__(params, dict(lr=lr, betas=betas, eps=eps))

        @torch.no_grad()
        def step(self):
            for group in self.param_groups:
                for p in group["params"]:
                    if p.grad is None:
                        continue
                    g = p.grad.to_dense()
                    state = self.state[p]
                    if not state:
                        state.update(step=0, m=torch.zeros_like(p), v=torch.zeros_like(p))
                    state["step"] += 1
                    b1, b2 = group["betas"]
                    state["m"].lerp_(g, 1 - b1)
                    state["v"].mul_(b2).addcmul_(g, g, value=1 - b2)
                    step_size = group["lr"] * (1 - b2 ** state["step"]) ** 0.5 / (1 - b1 ** state["step"])
                    p.addcdiv_(state["m"], state["v"].sqrt().add_(group["eps"]), value=-step_size)

    results = _ran(check_optimizer(DenseSparseAdam, "SparseAdam", verbose=False))
    assert results and all(not r.passed for r in results)
    assert all(r.step == 2 for r in results)  # step 1 touches rows with zero moments elsewhere: agrees


def test_an_lbfgs_without_the_initial_hessian_scale_is_caught(monkeypatch):
    """L-BFGS whose two-loop recursion starts from H0 = I instead of γI (γ = sᵀy/yᵀy): equal to
    torch's until the first direction that uses the memory."""
    from optimessay.optimizers import lbfgs as module

    two_loop = module.lbfgs_two_loop
    monkeypatch.setattr(module, "lbfgs_two_loop", lambda q, dirs, stps, ro, H_diag, al: two_loop(q, dirs, stps, ro, 1, al))
    ran = _ran(check_optimizer(module.LBFGS, "LBFGS", verbose=False))
    assert ran and all(not r.passed and r.step == 1 for r in ran)  # max_iter >= 3: memory used within step 1
    assert all(r.max_abs_diff > 1e-6 for r in ran)


def test_sparse_adam_model_leaves_rows_untouched_and_lbfgs_needs_its_closure():
    from optimessay.testing.optimizers import _data, _model

    data = _data("embedding", 10, torch.float64)
    assert all(len(torch.unique(x)) < 8 for x, _ in data)  # every batch leaves some rows without a gradient
    assert len({tuple(x.tolist()) for x, _ in data}) == 10  # a new batch each step
    model = _model(torch.float64, "matrix")
    assert all(p.dim() == 2 for p in model.parameters())  # Muon's model: 2-D parameters only

    class NoClosureLBFGS(torch.optim.LBFGS):
        def step(self, closure=None):
            return None  # a learner's LBFGS that never calls the closure: never moves

    [result, *_] = check_optimizer(NoClosureLBFGS, "LBFGS", verbose=False)
    assert not result.passed and result.step == 1


@pytest.mark.parametrize("name", ["NAdam", "RAdam", "Adamax", "Adadelta", "Rprop", "ASGD"])
def test_the_elementwise_optimizers_pass_their_default_configurations(name):
    """optimessay's NAdam ... ASGD pass check_optimizer's default configurations bitwise."""
    results = check_optimizer(getattr(optimessay, name), name, verbose=False)
    assert results and all(r.passed for r in results), [r for r in results if not r.passed]
