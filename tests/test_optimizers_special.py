"""Adafactor, Muon, SparseAdam and LBFGS against torch.optim (the independent reference), bit for bit.

Every comparison is `torch.equal` (NaN at the same places counts as equal) against torch's for-loop
implementation on identical inputs, after every step, for parameters and state; plus the identities
the pages use (Muon's Newton–Schulz band, LBFGS's inverse-Hessian estimate, the preconditioners).
"""

import ast
import copy
import inspect
import io
import random
import re
from pathlib import Path

import pytest
import torch
from equality import assert_same_state, group_options, make_params, same, scheduled_gradient
from hypothesis import given, settings
from hypothesis import strategies as st

from optimessay.optimizers import adafactor as adafactor_module
from optimessay.optimizers import lbfgs as lbfgs_module
from optimessay.optimizers import muon as muon_module
from optimessay.optimizers import sparse_adam as sparse_adam_module
from optimessay.optimizers.adafactor import (
    Adafactor,
    adafactor_init_state,
    adafactor_preconditioner,
    adafactor_update,
)
from optimessay.optimizers.lbfgs import LBFGS
from optimessay.optimizers.muon import Muon, muon_orthogonalize, muon_preconditioner, muon_spectral_map
from optimessay.optimizers.sparse_adam import SparseAdam, sparse_adam_preconditioner

OURS = {"Adafactor": Adafactor, "Muon": Muon, "SparseAdam": SparseAdam, "LBFGS": LBFGS}
MODULES = {"Adafactor": adafactor_module, "Muon": muon_module, "SparseAdam": sparse_adam_module,
           "LBFGS": lbfgs_module}


def groups(params, group_kwargs):
    """Two parameter groups when there are 2+ parameters: the second has its own options."""
    if group_kwargs is None or len(params) < 2:
        return params
    return [{"params": params[:1]}, {"params": params[1:], **group_kwargs}]


def run_lockstep(name, kwargs, *, dtype, seed, shapes, steps, group_kwargs=None, none_prob=0.25, scale=1.0,
                 closure_prob=0.3):
    """Ours and torch's side by side on the same dense gradients; equal after every step."""
    rng = random.Random(seed)
    ours_p, theirs_p = make_params(dtype, seed, shapes)
    ours = OURS[name](groups(ours_p, group_kwargs), **kwargs)
    theirs = getattr(torch.optim, name.removeprefix("copied "))(groups(theirs_p, group_kwargs), **kwargs)
    gen = torch.Generator().manual_seed(seed + 1)
    for step in range(steps):
        grads = [None if rng.random() < none_prob else scale * torch.randn(p.shape, generator=gen, dtype=dtype)
                 for p in ours_p]
        for params in (ours_p, theirs_p):
            for p, g in zip(params, grads, strict=True):
                p.grad = None if g is None else g.clone()
        given_grads = [p.grad for p in ours_p]
        if rng.random() < closure_prob:  # step(closure): run with grad enabled, its loss returned
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


def raised(make, *args, **kwargs):
    try:
        make(*args, **kwargs)
    except Exception as e:  # noqa: BLE001 - we compare whatever torch raises
        return type(e), str(e)
    return None


# ---- Adafactor ------------------------------------------------------------------------------------
ADAFACTOR_SHAPES = [(), (3,), (4, 5), (1, 2), (6, 1), (2, 3, 4)]  # scalar, vector, matrices, a batch of them


@st.composite
def adafactor_options(draw):
    eps1 = draw(st.none() | st.sampled_from([0.0, 1e-30, 1e-3]) | st.floats(0.0, 0.1))
    return dict(lr=draw(st.sampled_from([0.0, 1e-3, 1e-2, 0.5]) | st.floats(0.0, 1.0)),
                beta2_decay=draw(st.sampled_from([-0.8, 0.0, -1.0]) | st.floats(-2.0, 0.0)),
                eps=(eps1, draw(st.sampled_from([1e-3, 0.0]) | st.floats(0.0, 0.1))),
                d=draw(st.sampled_from([1.0, 2.0]) | st.floats(1.0, 10.0)),
                weight_decay=draw(st.just(0.0) | st.floats(0.0, 0.5)), maximize=draw(st.booleans()))


@settings(max_examples=120, deadline=None, derandomize=True, database=None)
@given(kwargs=adafactor_options(), dtype=st.sampled_from([torch.float32, torch.float64]),
       seed=st.integers(0, 2**16), steps=st.integers(1, 12),
       shapes=st.lists(st.sampled_from(ADAFACTOR_SHAPES), min_size=1, max_size=4),
       second_group=st.none() | adafactor_options(), scale=st.sampled_from([1.0, 1e-3, 1e3]))
def test_adafactor_matches_torch_over_the_option_space(kwargs, dtype, seed, steps, shapes, second_group, scale):
    run_lockstep("Adafactor", dict(kwargs, foreach=False), dtype=dtype, seed=seed, shapes=shapes, steps=steps,
                 group_kwargs=second_group, scale=scale)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=str)
def test_adafactor_long_run_tensor_lr_and_default_dtype(dtype):
    run_lockstep("Adafactor", dict(lr=torch.tensor([0.05]), weight_decay=0.01), dtype=dtype, seed=1,
                 shapes=ADAFACTOR_SHAPES, steps=60, none_prob=0.1)
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)  # the step counter follows the default dtype, like torch's
    try:
        ours, *_ = run_lockstep("Adafactor", {}, dtype=dtype, seed=2, shapes=[(3, 2)], steps=3, none_prob=0)
    finally:
        torch.set_default_dtype(previous)
    assert next(iter(ours.state.values()))["step"].dtype == torch.float64


def test_adafactor_needs_torchs_norm_based_means_and_rsqrt():
    """The measured fact behind the file's two odd-looking lines: a textbook mean of g² and g/√V̂
    give the same math but not torch's numbers (float32, ~1e-7 relative after a few steps)."""
    gen = torch.Generator().manual_seed(0)
    p0 = torch.randn(8, 16, generator=gen)
    grads = [torch.randn(8, 16, generator=gen) for _ in range(10)]
    ours, ref, textbook = p0.clone(), p0.clone().requires_grad_(), p0.clone()
    torch_opt = torch.optim.Adafactor([ref], foreach=False)
    s_ours, s_text = adafactor_init_state(ours), adafactor_init_state(textbook)
    for g in grads:
        adafactor_update(ours, g, s_ours)
        ref.grad = g
        torch_opt.step()
        # the same formulas, written the textbook way
        s_text["step"] += 1
        t = s_text["step"].item()
        alpha = max(1e-3, textbook.norm().item() / textbook.numel() ** 0.5) * min(1e-2, t**-0.5)
        s_text["row_var"].lerp_((g * g).mean(-1, keepdim=True), t**-0.8)
        s_text["col_var"].lerp_((g * g).mean(-2, keepdim=True), t**-0.8)
        v = s_text["row_var"] @ s_text["col_var"] / s_text["row_var"].mean(-2, keepdim=True)
        u = g / v.clamp(min=torch.finfo(torch.float32).eps ** 2).sqrt()
        textbook -= alpha / max(1.0, u.norm().item() / u.numel() ** 0.5) * u
    assert torch.equal(ours, ref.detach())
    drift = (textbook - ours).abs().max().item()
    assert 0 < drift < 1e-5


def test_adafactor_preconditioner_gives_the_step():
    """θ_t - θ_{t-1} = -αt/max(1, RMS(P g)/d) · P · g, with P the rank-1 factored estimate's 1/√V̂."""
    for shape in [(4, 3), (5,), (2, 3, 4)]:
        p = torch.randn(shape, dtype=torch.float64, requires_grad=True)
        opt = Adafactor([p], lr=0.1, d=1.5)
        assert torch.equal(opt.preconditioner(p), torch.ones_like(p))  # before the first step
        gen = torch.Generator().manual_seed(0)
        for t in range(1, 6):
            p.grad = torch.randn(shape, generator=gen, dtype=torch.float64)
            before = p.detach().clone()
            opt.step()
            P = opt.preconditioner(p)
            assert P.shape == p.shape and (P > 0).all()
            u = P * p.grad
            alpha = max(1e-3, before.norm().item() / before.numel() ** 0.5) * min(0.1, t**-0.5)
            clip = max(1.0, u.norm().item() / (u.numel() ** 0.5 * 1.5))
            torch.testing.assert_close(p.detach() - before, -alpha / clip * u, rtol=1e-12, atol=1e-15)
            assert torch.equal(P, adafactor_preconditioner(p, opt.state[p]))  # the core function, the same P
        if len(shape) == 2:  # rank 1: every 2x2 minor of 1/P² = V̂ vanishes
            V = P.pow(-2)
            torch.testing.assert_close(V[0, 0] * V[1, 1], V[0, 1] * V[1, 0], rtol=1e-12, atol=0)
    with pytest.raises(ValueError, match="does not optimise"):
        opt.preconditioner(torch.zeros(2))


def test_adafactor_docstring_notes_torchs_weight_decay_default():
    assert inspect.signature(torch.optim.Adafactor).parameters["weight_decay"].default == 0.0
    assert "(default: 1e-2)" in torch.optim.Adafactor.__doc__.split("weight_decay (float")[1].split("\n")[0]
    assert "torch's docstring says\n    `weight_decay` defaults to 1e-2" in Adafactor.__doc__
    assert "its signature (and so this class) defaults to 0.0" in Adafactor.__doc__


# ---- Muon -------------------------------------------------------------------------------------------
matrix_shapes = st.tuples(st.integers(1, 9), st.integers(1, 9))  # square, tall (m > n) and wide


@st.composite
def muon_options(draw):
    return dict(lr=draw(st.sampled_from([0.0, 1e-3, 0.02, 0.5]) | st.floats(0.0, 1.0)),
                weight_decay=draw(st.sampled_from([0.0, 0.1]) | st.floats(0.0, 0.5)),
                momentum=draw(st.sampled_from([0.0, 0.95, 1.0]) | st.floats(0.0, 0.999)),
                nesterov=draw(st.booleans()),
                ns_coefficients=draw(st.just((3.4445, -4.775, 2.0315)) | st.tuples(
                    st.floats(1.0, 4.0), st.floats(-5.0, -1.0), st.floats(0.0, 2.5))),
                eps=draw(st.sampled_from([1e-7, 0.0, 1e-3])), ns_steps=draw(st.integers(0, 7)),
                adjust_lr_fn=draw(st.sampled_from([None, "original", "match_rms_adamw"])))


@settings(max_examples=45, deadline=None, derandomize=True, database=None)
@given(kwargs=muon_options(), dtype=st.sampled_from([torch.float32, torch.float64, torch.bfloat16, torch.float16]),
       seed=st.integers(0, 2**16), steps=st.integers(1, 10), shapes=st.lists(matrix_shapes, min_size=1, max_size=3),
       second_group=st.none() | muon_options(), scale=st.sampled_from([1.0, 1e-3, 1e3]))
def test_muon_matches_torch_over_the_option_space(kwargs, dtype, seed, steps, shapes, second_group, scale):
    """float32/float64 and the half types (torch orthogonalizes in bfloat16 whatever the dtype; a
    bfloat16 parameter without Nesterov has its momentum buffer normalized in place, as in torch)."""
    run_lockstep("Muon", kwargs, dtype=dtype, seed=seed, shapes=shapes, steps=steps, group_kwargs=second_group,
                 scale=scale)


def test_muon_long_run_tensor_lr():
    run_lockstep("Muon", dict(lr=torch.tensor([0.02])), dtype=torch.float32, seed=3,
                 shapes=[(16, 4), (4, 16), (1, 5)], steps=30, none_prob=0.1)


def test_muon_momentum_is_an_average_not_the_documented_sum():
    """torch's docstring: B_t = μB_{t-1} + g_t; torch's code (and ours): B_t = μB_{t-1} + (1-μ)g_t."""
    gen = torch.Generator().manual_seed(0)
    p = torch.randn(3, 4, requires_grad=True)
    ours, theirs = Muon([p], momentum=0.9), torch.optim.Muon([p.detach().clone().requires_grad_()], momentum=0.9)
    q = theirs.param_groups[0]["params"][0]
    average, total = torch.zeros(3, 4), torch.zeros(3, 4)
    for _ in range(5):
        p.grad = torch.randn(3, 4, generator=gen)
        q.grad = p.grad.clone()
        ours.step()
        theirs.step()
        average = 0.9 * average + 0.1 * p.grad
        total = 0.9 * total + p.grad
    for buf in (ours.state[p]["momentum_buffer"], theirs.state[q]["momentum_buffer"]):
        torch.testing.assert_close(buf, average, rtol=1e-5, atol=1e-6)
        torch.testing.assert_close(buf, 0.1 * total, rtol=1e-5, atol=1e-6)  # a factor 1-μ from the sum
        assert not torch.allclose(buf, total, rtol=0.5)
    assert r"B_t &= \mu B_{t-1} + (1-\mu)\, g_t" in Muon.__doc__
    assert r"B_t \leftarrow \mu B_{t-1} + g_t" in torch.optim.Muon.__doc__


def test_muon_newton_schulz_needs_torchs_addmm_form():
    """The measured fact behind `muon_orthogonalize`: aX + (bA + cA²)X, the same algebra in bfloat16,
    is not torch's result (it differs by ~1e-3 while torch's form is bitwise)."""
    from torch.optim._muon import _zeropower_via_newtonschulz

    gen = torch.Generator().manual_seed(0)
    worst = 0.0
    for shape in [(8, 16), (16, 8), (32, 32)]:
        G = torch.randn(shape, generator=gen)
        ours = muon_orthogonalize(G)
        assert torch.equal(ours, _zeropower_via_newtonschulz(G, (3.4445, -4.775, 2.0315), 5, 1e-7))
        X = G.bfloat16()
        X = X.T if shape[0] > shape[1] else X
        X = X / X.norm()
        for _ in range(5):
            A = X @ X.T
            X = 3.4445 * X + (-4.775 * A + 2.0315 * A @ A) @ X
        X = X.T if shape[0] > shape[1] else X
        worst = max(worst, (X.float() - ours.float()).abs().max().item())
    assert 1e-4 < worst < 0.1


def test_muon_orthogonalize_refuses_what_torch_refuses():
    from torch.optim._muon import _zeropower_via_newtonschulz

    for args in [(torch.ones(2, 2), (1.0, 2.0, 3.0), 100, 1e-7), (torch.ones(2), (1.0, 2.0, 3.0), 5, 1e-7),
                 (torch.ones(2, 2), (1.0, 2.0), 5, 1e-7)]:
        assert raised(muon_orthogonalize, *args) == raised(_zeropower_via_newtonschulz, *args) is not None


def _matrices(count, seed, max_side=64):
    """Random matrices: Gaussian ones, and ones with log-uniform singular values spanning 1e-3 (tall,
    wide and square)."""
    gen = torch.Generator().manual_seed(seed)
    for i in range(count):
        m, n = (int(x) for x in torch.randint(2, max_side + 1, (2,), generator=gen))
        if i % 2:
            yield torch.randn(m, n, generator=gen, dtype=torch.float64)
        else:
            k = min(m, n)
            U = torch.linalg.qr(torch.randn(m, k, generator=gen, dtype=torch.float64))[0]
            V = torch.linalg.qr(torch.randn(n, k, generator=gen, dtype=torch.float64))[0]
            s = torch.empty(k, dtype=torch.float64).uniform_(-7, 0, generator=gen).exp()
            yield (U * s) @ V.T


def test_muon_five_steps_map_singular_values_into_a_band():
    """The identity the pages use. Newton–Schulz first divides by ‖G‖_F, then maps each s = σ/‖G‖_F
    by φ(s) = a s + b s³ + c s⁵ five times. Measured: φ maps [0.01, 1] onto [0.6818, 1.1344]; torch's
    bfloat16 iteration gives u_iᵀ O v_i in [0.6775, 1.1414] over 300 random matrices up to 128 × 128
    for σ_i ≥ 0.01‖G‖_F (asserted below on 40 of them, up to 64 × 64, with margin). Relative to σmax
    instead (σ ≥ 0.01 σmax) the band is [0.68, 1.20]: σ/‖G‖_F then reaches ~1e-3, where φ has a hump."""
    s = torch.linspace(0.01, 1, 200_001, dtype=torch.float64)
    phi = muon_spectral_map(s)
    assert 0.6817 < phi.min().item() < 0.6819 and 1.1343 < phi.max().item() < 1.1345
    hump = muon_spectral_map(torch.linspace(1e-3, 0.01, 10_001, dtype=torch.float64))
    assert hump.max().item() > 1.2  # below 0.01‖G‖_F the band no longer holds
    low, high = 1.0, 1.0
    for G in _matrices(40, seed=1):
        U, sigma, Vh = torch.linalg.svd(G, full_matrices=False)
        O = muon_orthogonalize(G.float()).double()
        mapped = ((U.T @ O) * Vh).sum(-1)  # u_iᵀ O v_i: what became of σ_i
        kept = sigma >= 0.01 * G.norm()
        low, high = min(low, mapped[kept].min().item()), max(high, mapped[kept].max().item())
        exact = muon_spectral_map(sigma / G.norm())
        assert (mapped[kept] - exact[kept]).abs().max() < 0.05  # bfloat16 ≈ exact
    assert 0.67 < low < 0.69 and 1.12 < high < 1.15, (low, high)


def test_muon_on_a_row_vector_is_normalized_momentum_descent():
    """For a 1 × n parameter (a point of a 2-D landscape as a matrix) the only singular value is
    normalized to 1, so every step has the same length lr·φ(1), φ(1) = 0.69644 exactly (torch's
    bfloat16: within 0.02), along the momentum's direction."""
    assert abs(muon_spectral_map(torch.tensor(1.0, dtype=torch.float64)).item() - 0.69644) < 1e-5
    p = torch.tensor([[1.0, -0.5]], requires_grad=True)
    opt = Muon([p], lr=0.1, weight_decay=0.0, nesterov=False)
    gen = torch.Generator().manual_seed(0)
    for _ in range(5):
        p.grad = torch.randn(1, 2, generator=gen) * 10 ** torch.randint(-3, 3, (1,), generator=gen).item()
        before = p.detach().clone()
        opt.step()
        move = (p.detach() - before)[0]
        buf = opt.state[p]["momentum_buffer"][0]
        assert abs(move.norm().item() - 0.1 * 0.69644) < 0.1 * 0.02
        assert torch.dot(move, buf).item() < 0 and abs(move[0] * buf[1] - move[1] * buf[0]) < 2e-3 * buf.norm()


def test_muon_preconditioner_gives_the_step():
    """θ_t = θ_{t-1}(1-γλ) - γ' P B̃: P B̃ is the exact-arithmetic Newton–Schulz result (1e-12), and
    the bfloat16 step equals it to bfloat16 accuracy."""
    for shape, nesterov in [((4, 6), True), ((7, 3), False), ((5, 5), True)]:
        p = torch.randn(shape, dtype=torch.float64, requires_grad=True)
        opt = Muon([p], lr=0.1, weight_decay=0.0, nesterov=nesterov)
        assert torch.equal(opt.preconditioner(p), torch.eye(shape[0], dtype=torch.float64))
        gen = torch.Generator().manual_seed(0)
        for _ in range(3):
            p.grad = torch.randn(shape, generator=gen, dtype=torch.float64)
            before = p.detach().clone()
            opt.step()
            P = opt.preconditioner(p)
            buf = opt.state[p]["momentum_buffer"]
            estimate = p.grad.lerp(buf, 0.95) if nesterov else buf
            assert P.shape == (shape[0], shape[0]) and torch.allclose(P, P.T, atol=1e-12)
            X = estimate / estimate.norm()  # the Newton–Schulz iteration in float64
            X = X.T if shape[0] > shape[1] else X
            for _ in range(5):
                A = X @ X.T
                X = 3.4445 * X + (-4.775 * A + 2.0315 * A @ A) @ X
            X = X.T if shape[0] > shape[1] else X
            torch.testing.assert_close(P @ estimate, X, rtol=0, atol=1e-12)
            lr = 0.1 * max(1, shape[0] / shape[1]) ** 0.5
            # bfloat16 Newton–Schulz vs exact: entries of O differ by up to 0.04 (measured)
            torch.testing.assert_close(p.detach() - before, -lr * (P @ estimate), rtol=0, atol=lr * 0.06)
            assert torch.equal(P, muon_preconditioner(estimate))
    p.grad = None
    with pytest.raises(ValueError, match="needs the last step's gradient"):
        opt.preconditioner(p)


# ---- SparseAdam -------------------------------------------------------------------------------------
SPARSE_SHAPES = [(10, 3), (6,), (4, 5)]  # an embedding table, a vector, a matrix with single entries touched


def sparse_grad(gen, shape, dtype, per_entry):
    """An uncoalesced sparse gradient: k (possibly repeated, possibly 0) rows of the table as an
    embedding's backward gives them, or k single entries."""
    k = int(torch.randint(0, 2 * shape[0] + 1, (1,), generator=gen))
    if per_entry:
        indices = torch.stack([torch.randint(0, n, (k,), generator=gen) for n in shape])
        values = torch.randn(k, generator=gen, dtype=dtype)
    else:
        indices = torch.randint(0, shape[0], (1, k), generator=gen)
        values = torch.randn((k, *shape[1:]), generator=gen, dtype=dtype)
    return torch.sparse_coo_tensor(indices, values, shape, check_invariants=True)


def sparse_lockstep(kwargs, *, dtype, seed, steps, group_kwargs=None, none_prob=0.2, scheduler=None):
    rng = random.Random(seed)
    ours_p, theirs_p = make_params(dtype, seed, SPARSE_SHAPES)
    ours = SparseAdam(groups(ours_p, group_kwargs), **kwargs)
    theirs = torch.optim.SparseAdam(groups(theirs_p, group_kwargs), **kwargs)
    scheds = (scheduler(ours), scheduler(theirs)) if scheduler else ()
    gen = torch.Generator().manual_seed(seed + 1)
    for step in range(steps):
        grads = [None if rng.random() < none_prob else sparse_grad(gen, p.shape, dtype, per_entry=i == 2)
                 for i, p in enumerate(ours_p)]
        for params in (ours_p, theirs_p):
            for p, g in zip(params, grads, strict=True):
                p.grad = None if g is None else g.clone()
        ours.step()
        theirs.step()
        for sched in scheds:
            sched.step()
        for i, (p, q, g) in enumerate(zip(ours_p, theirs_p, grads, strict=True)):
            assert g is None or same(p.grad, g), f"step {step}: p.grad changed"
            assert same(p.detach(), q.detach()), f"SparseAdam{kwargs} {dtype} step {step} param {i}"
    assert_same_state(ours, theirs, ours_p, theirs_p)
    return ours, theirs, ours_p, theirs_p


@settings(max_examples=35, deadline=None, derandomize=True, database=None)
@given(lr=st.sampled_from([1e-3, 0.1]) | st.floats(1e-4, 1.0),
       betas=st.tuples(st.sampled_from([0.0, 0.9]) | st.floats(0.0, 0.999),
                       st.sampled_from([0.0, 0.999]) | st.floats(0.0, 0.9999)),
       eps=st.sampled_from([1e-8, 1e-3]) | st.floats(1e-12, 0.1), maximize=st.booleans(),
       dtype=st.sampled_from([torch.float32, torch.float64]), seed=st.integers(0, 2**16), steps=st.integers(1, 12),
       second_lr=st.none() | st.floats(1e-4, 1.0))
def test_sparse_adam_matches_torch_over_the_option_space(lr, betas, eps, maximize, dtype, seed, steps, second_lr):
    """Row-wise (embedding-like, repeated rows) and entry-wise sparse gradients, empty ones (nothing
    touched: the step still counts), parameters without a gradient, two groups."""
    sparse_lockstep(dict(lr=lr, betas=betas, eps=eps, maximize=maximize), dtype=dtype, seed=seed, steps=steps,
                    group_kwargs=None if second_lr is None else {"lr": second_lr})


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=str)
def test_sparse_adam_trains_an_embedding_like_torch(dtype):
    """nn.Embedding(sparse=True) in a small model, 40 steps, plus a tensor lr and torch's schedulers."""
    histories, optimizers = [], []
    for cls in (SparseAdam, torch.optim.SparseAdam):
        torch.manual_seed(0)
        emb = torch.nn.Embedding(20, 4, sparse=True, dtype=dtype)
        head = torch.nn.Embedding(3, 4, sparse=True, dtype=dtype)
        opt = cls([{"params": emb.parameters()}, {"params": head.parameters(), "lr": 0.03}], lr=torch.tensor(0.05))
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=15)
        gen = torch.Generator().manual_seed(1)
        history = []
        for _ in range(40):
            words, labels = torch.randint(0, 20, (8,), generator=gen), torch.randint(0, 3, (8,), generator=gen)
            opt.zero_grad()
            logits = emb(words) @ head.weight.T  # the head's gradient would be dense: use it through head()
            loss = torch.nn.functional.cross_entropy(logits.detach() + (emb(words) * head(labels)).sum(-1, True),
                                                     labels)
            loss.backward()
            opt.step()
            sched.step()
            history.append(torch.cat([emb.weight.detach().flatten(), head.weight.detach().flatten()]))
        histories.append(history)
        optimizers.append(opt)
    assert all(torch.equal(a, b) for a, b in zip(*histories, strict=True))
    params = [list(o.state) for o in optimizers]
    assert_same_state(*optimizers, *params)
    assert isinstance(optimizers[0].state[params[0][0]]["step"], int)  # torch's layout: a Python int


def test_sparse_adam_preconditioner_gives_the_step():
    """θ_t - θ_{t-1} = -γ P m̂ with P = √(1-β2ᵗ)/(√v + ε) on the touched entries and 0 elsewhere."""
    p = torch.randn(8, 3, dtype=torch.float64, requires_grad=True)
    opt = SparseAdam([p], lr=0.1, betas=(0.8, 0.9), eps=1e-3)
    assert torch.equal(opt.preconditioner(p), torch.ones_like(p))  # before the first step
    gen = torch.Generator().manual_seed(0)
    for t in range(1, 6):
        p.grad = sparse_grad(gen, (8, 3), torch.float64, per_entry=False)
        touched = p.grad.to_dense().ne(0) | torch.zeros(8, 3, dtype=torch.bool).index_fill_(
            0, p.grad.coalesce().indices()[0], True)
        before = p.detach().clone()
        opt.step()
        P = opt.preconditioner(p)
        m_hat = opt.state[p]["exp_avg"] / (1 - 0.8**t)
        torch.testing.assert_close(p.detach() - before, -0.1 * P * m_hat, rtol=1e-12, atol=1e-15)
        assert torch.equal(P == 0, ~touched) or not touched.any()
        assert torch.equal(P, sparse_adam_preconditioner(p, p.grad, opt.state[p], beta2=0.9, eps=1e-3))
    p.grad = None
    with pytest.raises(ValueError, match="needs the last step's sparse gradient"):
        opt.preconditioner(p)


# ---- LBFGS --------------------------------------------------------------------------------------------
def rosenbrock(params):
    """The n-dimensional Rosenbrock function of all parameters' entries (nonconvex, a curved valley)."""
    x = torch.cat([(torch.stack([p.real, p.imag], -1) if p.is_complex() else p).reshape(-1) for p in params])
    return (100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2).sum()


def rosenbrock_and_gradient(params):
    """`rosenbrock` of real parameters and each parameter's gradient, in closed form (no graph): with
    d_i = x_{i+1} - x_i², ∂f/∂x_i = -400 x_i d_i - 2 (1 - x_i) + 200 d_{i-1} (each term where it exists).
    Equal to autograd's to rounding (test_rosenbrock_gradient_in_closed_form_is_autograds); a third of the
    CPU of a closure that builds the graph and runs backward(), which LBFGS calls up to 25 times a step."""
    with torch.no_grad():
        x = torch.cat([p.reshape(-1) for p in params])
        head = x[:-1]
        d = x[1:] - head * head
        rest = 1 - head
        loss = (100 * d * d + rest * rest).sum()
        gradient = torch.zeros_like(x)
        gradient[:-1] = -400 * head * d - 2 * rest
        gradient[1:] += 200 * d
        return loss, [g.view(p.shape) for g, p in zip(gradient.split([p.numel() for p in params]), params, strict=True)]


def lbfgs_run(cls, kwargs, start, steps, scheduler=None, closed_form=False):
    """`steps` calls of step(closure) on Rosenbrock, the vector split into two parameters. The closure
    runs backward() on the loss's graph, or with `closed_form` (real parameters) assigns
    `rosenbrock_and_gradient`'s gradients (ours and torch's get the same closure either way)."""
    params = [v.clone().requires_grad_() for v in start]
    opt = cls(params, **kwargs)
    sched = scheduler(opt) if scheduler else None

    def closure():
        if closed_form:
            loss, gradients = rosenbrock_and_gradient(params)
            for p, g in zip(params, gradients, strict=True):
                p.grad = g
            return loss
        opt.zero_grad()
        loss = rosenbrock(params)
        loss.backward()
        return loss

    history = []
    for _ in range(steps):
        loss = opt.step(closure)
        history.append([loss.detach().clone(), *(p.detach().clone() for p in params)])
        if sched:
            sched.step()
    return opt, params, history


def lbfgs_lockstep(kwargs, *, dtype, seed, dims, steps, scheduler=None, complex_part=False, autograd=False):
    gen = torch.Generator().manual_seed(seed)
    x = 1.5 * torch.randn(dims, generator=gen, dtype=dtype)
    start = [x[:1], x[1:].reshape(1, -1)]
    if complex_part:  # the same numbers, the second parameter complex (optimised as (real, imag))
        start[1] = torch.view_as_complex(start[1].reshape(-1, 2).clone())
    # real parameters: the closed-form gradient, unless `autograd`; complex ones: the usual closure
    # (zero_grad, loss, backward)
    closed_form = not (complex_part or autograd)
    ours, ours_p, ours_h = lbfgs_run(LBFGS, kwargs, start, steps, scheduler, closed_form=closed_form)
    theirs, theirs_p, theirs_h = lbfgs_run(torch.optim.LBFGS, kwargs, start, steps, scheduler, closed_form=closed_form)
    for step, (a, b) in enumerate(zip(ours_h, theirs_h, strict=True)):
        assert all(same(u, v) for u, v in zip(a, b, strict=True)), f"LBFGS{kwargs} {dtype} step {step}"
    assert_same_state(ours, theirs, ours_p, theirs_p)
    return ours, theirs, ours_p, theirs_p, ours_h


@st.composite
def lbfgs_options(draw):
    max_iter = draw(st.integers(1, 25))
    return dict(lr=draw(st.sampled_from([1.0, 0.5, 0.1]) | st.floats(1e-3, 1.0)), max_iter=max_iter,
                max_eval=draw(st.none() | st.integers(1, 40)), history_size=draw(st.integers(1, 12)),
                tolerance_grad=draw(st.sampled_from([1e-7, 1e-5, 0.0])),
                tolerance_change=draw(st.sampled_from([1e-9, 1e-6, 0.0])),
                line_search_fn=draw(st.sampled_from([None, "strong_wolfe"])))


@settings(max_examples=60, deadline=None, derandomize=True, database=None)
@given(kwargs=lbfgs_options(), dtype=st.sampled_from([torch.float32, torch.float64]), seed=st.integers(0, 2**16),
       dims=st.integers(2, 6), steps=st.integers(1, 6))
def test_lbfgs_matches_torch_over_the_option_space(kwargs, dtype, seed, dims, steps):
    lbfgs_lockstep(kwargs, dtype=dtype, seed=seed, dims=dims, steps=steps)


@pytest.mark.parametrize("line_search_fn", [None, "strong_wolfe"])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=str)
def test_lbfgs_on_rosenbrock_over_many_steps(dtype, line_search_fn):
    """Rosenbrock in 5 dimensions from a point far in the valley, 40 steps of at most 4 iterations:
    equal to torch's at every step, and the walk really goes somewhere (the loss falls from > 100 by a
    factor > 1000: to the global minimum 0, or to 5-D Rosenbrock's local minimum near (-1, 1, 1, 1, 1)).
    On real parameters with the closure a user writes (zero_grad, loss, backward)."""
    kwargs = dict(max_iter=4, history_size=5, line_search_fn=line_search_fn, lr=1.0 if line_search_fn else 0.2)
    *_, history = lbfgs_lockstep(kwargs, dtype=dtype, seed=4, dims=5, steps=40, autograd=True,
                                 scheduler=lambda o: torch.optim.lr_scheduler.StepLR(o, step_size=10, gamma=0.9))
    assert history[0][0].item() > 100 and history[-1][0].item() < 1e-3 * history[0][0].item()


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=str)
def test_rosenbrock_gradient_in_closed_form_is_autograds(dtype):
    """The closed-form closure of the LBFGS lockstep tests optimises the same function as `rosenbrock`
    with backward(): loss and gradients equal to autograd's to rounding, at the start points those tests
    use (dims 2-6, 1.5·N(0, 1)) and near the valley's minima."""
    gen = torch.Generator().manual_seed(0)
    points = [1.5 * torch.randn(dims, generator=gen, dtype=dtype) for dims in (2, 3, 4, 5, 6) for _ in range(4)]
    points += [torch.ones(5, dtype=dtype), torch.tensor([-0.96, 0.94, 0.96, 0.98, 0.99], dtype=dtype)]
    for x in points:
        params = [x[:1].clone().requires_grad_(), x[1:].reshape(1, -1).clone().requires_grad_()]
        loss = rosenbrock(params)
        loss.backward()
        closed, gradients = rosenbrock_and_gradient(params)
        tol = dict(rtol=1e-5, atol=1e-4) if dtype == torch.float32 else dict(rtol=1e-12, atol=1e-10)
        torch.testing.assert_close(closed, loss.detach(), **tol)
        for g, p in zip(gradients, params, strict=True):
            assert g.shape == p.shape and g.dtype == dtype
            torch.testing.assert_close(g, p.grad, **tol)


def test_lbfgs_tensor_lr_and_complex_parameters():
    lbfgs_lockstep(dict(lr=torch.tensor([0.5]), max_iter=5), dtype=torch.float32, seed=1, dims=5, steps=8,
                   complex_part=True)
    lbfgs_lockstep(dict(max_iter=5, line_search_fn="strong_wolfe"), dtype=torch.float64, seed=1, dims=5, steps=8,
                   complex_part=True)


def test_lbfgs_inverse_hessian_estimate():
    """The step's direction is -H g with H from `inverse_hessian_apply` (bit for bit); the dense H is
    symmetric positive definite and satisfies the secant equation H y = s for the newest pair."""
    ours, *_ = lbfgs_lockstep(dict(max_iter=3, history_size=4, line_search_fn="strong_wolfe"),
                              dtype=torch.float64, seed=2, dims=4, steps=5)
    p = ours.param_groups[0]["params"][0]
    state = ours.state[p]
    assert torch.equal(state["d"], ours.inverse_hessian_apply(-state["prev_flat_grad"]))
    H = ours.inverse_hessian()
    assert H.shape == (4, 4) and torch.allclose(H, H.T, rtol=1e-10, atol=1e-12)
    assert torch.linalg.eigvalsh(H).min() > 0
    s, y = state["old_stps"][-1], state["old_dirs"][-1]
    torch.testing.assert_close(H @ y, s, rtol=1e-9, atol=1e-12)
    v = torch.randn(4, dtype=torch.float64)
    torch.testing.assert_close(ours.inverse_hessian_apply(v), H @ v, rtol=1e-12, atol=1e-14)
    torch.testing.assert_close(ours.preconditioner(p), H[:1, :1], rtol=0, atol=0)
    fresh_p = torch.zeros(3, requires_grad=True)
    fresh = LBFGS([fresh_p])
    assert torch.equal(fresh.preconditioner(fresh_p), torch.eye(3))  # before the first step
    with pytest.raises(ValueError, match="does not optimise"):
        fresh.preconditioner(torch.zeros(3))
    with pytest.raises(ValueError, match="exceeds max_size=2"):
        fresh.inverse_hessian(max_size=2)


def test_lbfgs_state_dict_crossloads_and_resumes_bit_for_bit():
    kwargs = dict(max_iter=3, history_size=3, line_search_fn="strong_wolfe")
    ours, theirs, ours_p, theirs_p, _ = lbfgs_lockstep(kwargs, dtype=torch.float32, seed=3, dims=4, steps=3)
    assert ours.state_dict()["param_groups"] == theirs.state_dict()["param_groups"]
    buffer = io.BytesIO()
    torch.save(ours.state_dict(), buffer)
    buffer.seek(0)
    saved = torch.load(buffer, weights_only=True)

    def resumed(cls, state_dict, params):
        copies = [p.detach().clone().requires_grad_() for p in params]
        opt = cls(copies, lr=0.123)
        opt.load_state_dict(copy.deepcopy(state_dict))
        return opt, copies

    runs = [resumed(LBFGS, theirs.state_dict(), theirs_p), resumed(torch.optim.LBFGS, ours.state_dict(), ours_p),
            resumed(LBFGS, saved, ours_p), resumed(torch.optim.LBFGS, theirs.state_dict(), theirs_p)]
    twin = copy.deepcopy(ours)  # torch's deep copy cannot step (it loses `_params`); ours can
    runs.append((twin, twin.param_groups[0]["params"]))
    assert raised(copy.deepcopy(theirs).step, lambda: None)[0] is AttributeError
    for opt, params in runs + [(theirs, theirs_p)]:
        for _ in range(3):
            def closure(opt=opt, params=params):
                opt.zero_grad()
                loss = rosenbrock(params)
                loss.backward()
                return loss

            opt.step(closure)
    for opt, params in runs:
        assert all(torch.equal(p, q) for p, q in zip(params, theirs_p, strict=True))
        assert_same_state(opt, theirs, params, theirs_p)


def test_lbfgs_refuses_what_torch_refuses():
    p = torch.zeros(2, requires_grad=True)

    def closure():
        p.grad = None
        loss = ((p - 1) ** 2).sum()
        loss.backward()
        return loss

    for make in (lambda cls: cls([{"params": [p]}, {"params": [torch.zeros(1, requires_grad=True)]}]),
                 lambda cls: cls([p], lr=-1.0), lambda cls: cls([p], lr=torch.tensor([1.0, 2.0])),
                 lambda cls: cls([p], foreach=False), lambda cls: cls([p]).step(),
                 lambda cls: cls([p], line_search_fn="armijo").step(closure)):  # raised at step, like torch
        ours, theirs = raised(make, LBFGS), raised(make, torch.optim.LBFGS)
        assert theirs is not None and ours == theirs


def test_compiled_lbfgs_runs_eagerly_like_torchs():
    """torch's dynamo wraps `torch.optim.LBFGS.step` in `torch.compiler.disable` (it calls the
    closure's backward, which cannot be traced); ours is marked the same way: compiled, it runs
    eagerly, bit for bit the eager numbers, with no graph to recompile."""
    import torch._dynamo
    from torch._dynamo.utils import counters

    start = [torch.tensor([-1.2]), torch.tensor([[1.0, 0.8]])]
    eager = lbfgs_run(torch.optim.LBFGS, dict(max_iter=5, line_search_fn="strong_wolfe"), start, 6)[2]
    torch._dynamo.reset()
    counters.clear()
    params = [v.clone().requires_grad_() for v in start]
    opt = LBFGS(params, max_iter=5, line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        loss = rosenbrock(params)
        loss.backward()
        return loss

    step = torch.compile(opt.step)
    for i in range(6):
        step(closure)
        assert all(torch.equal(p, q) for p, q in zip(params, eager[i][1:], strict=True))
    assert counters["stats"]["unique_graphs"] == 0 and not counters["recompiles"]


# ---- for every optimizer ---------------------------------------------------------------------------
BAD = {
    "Adafactor": [dict(lr=-1e-3), dict(lr=torch.tensor([0.1, 0.2])), dict(beta2_decay=0.5), dict(eps=(-1.0, 1e-3)),
                  dict(eps=(None, -1e-3)), dict(d=0.5), dict(weight_decay=-0.1)],
    "Muon": [dict(lr=-1e-3), dict(lr=torch.tensor([0.1, 0.2])), dict(momentum=-0.5), dict(weight_decay=-0.1),
             dict(adjust_lr_fn="spectral"), dict(foreach=True), dict(maximize=True)],
    "SparseAdam": [dict(lr=0.0), dict(lr=-1.0), dict(lr=torch.tensor([0.1, 0.2])), dict(eps=0.0),
                   dict(betas=(1.0, 0.999)), dict(betas=(0.9, -0.1)), dict(weight_decay=0.1), dict(foreach=False)],
}


@pytest.mark.parametrize("name", sorted(BAD))
def test_bad_hyperparameters_raise_torchs_errors(name):
    for kwargs in BAD[name]:
        ours = raised(OURS[name], [torch.zeros(2, 2, requires_grad=True)], **kwargs)
        theirs = raised(getattr(torch.optim, name), [torch.zeros(2, 2, requires_grad=True)], **kwargs)
        assert theirs is not None and ours == theirs, kwargs


@pytest.mark.parametrize("name", sorted(OURS))
def test_bad_parameter_lists_raise_torchs_errors(name):
    p = torch.zeros(2, 2, requires_grad=True)
    for params in ([], p, [p * 2], [{"params": [p]}, {"params": [p]}], [{"lr": 0.1}]):
        ours = raised(OURS[name], params)
        theirs = raised(getattr(torch.optim, name), params)
        assert theirs is not None and ours == theirs, params


def _step_on(cls, param, grad):
    opt = cls([param])
    param.grad = grad
    opt.step()


STEP_ERRORS = {  # (parameter, gradient) pairs that torch refuses at step(), per optimizer
    "Adafactor": [
        lambda: (torch.zeros(2, 2, dtype=torch.complex64, requires_grad=True), torch.ones(2, 2, dtype=torch.complex64)),
        lambda: (torch.zeros(3, 2, requires_grad=True), torch.ones(3, 2).to_sparse()),
    ],
    "Muon": [
        lambda: (torch.zeros(2, 2, dtype=torch.complex64, requires_grad=True), torch.ones(2, 2, dtype=torch.complex64)),
        lambda: (torch.zeros(3, 2, requires_grad=True), torch.ones(3, 2).to_sparse()),
        lambda: (torch.zeros(3, requires_grad=True), torch.ones(3)),  # only 2-D parameters
        lambda: (torch.zeros(1, 2, 3, requires_grad=True), torch.ones(1, 2, 3)),
    ],
    "SparseAdam": [
        lambda: (torch.zeros(3, 2, requires_grad=True), torch.ones(3, 2)),  # a dense gradient
        lambda: (torch.zeros(3, 2, dtype=torch.complex64, requires_grad=True), torch.ones(3, 2).to_sparse()),
        lambda: (torch.zeros(3, 2).to_sparse().requires_grad_(), torch.ones(3, 2).to_sparse()),
    ],
}


@pytest.mark.parametrize("name", sorted(STEP_ERRORS))
def test_bad_parameters_at_step_raise_torchs_errors(name):
    for make in STEP_ERRORS[name]:
        ours = raised(_step_on, OURS[name], *make())
        theirs = raised(_step_on, getattr(torch.optim, name), *make())
        assert theirs is not None and ours == theirs


@pytest.mark.parametrize("name", sorted(OURS))
def test_constructor_has_torchs_arguments_order_and_defaults(name):
    def arguments(cls):
        return [(p.name, p.kind, p.default) for p in inspect.signature(cls).parameters.values()]

    assert arguments(OURS[name]) == arguments(getattr(torch.optim, name))


STATE_DICT_CASES = {"Adafactor": (dict(lr=0.05, weight_decay=0.1, foreach=False), [(3,), (4, 2), (2, 2, 3)]),
                    "Muon": (dict(lr=0.05, nesterov=False), [(3, 5), (4, 2), (2, 2)]),
                    "SparseAdam": (dict(lr=0.05, betas=(0.8, 0.9), maximize=True), SPARSE_SHAPES)}


@pytest.mark.parametrize("name", sorted(STATE_DICT_CASES))
def test_state_dict_crossloads_and_resumes_bit_for_bit(name):
    kwargs, shapes = STATE_DICT_CASES[name]
    if name == "SparseAdam":
        ours, theirs, ours_p, theirs_p = sparse_lockstep(kwargs, dtype=torch.float32, seed=2, steps=6,
                                                         group_kwargs={"lr": 0.02})
    else:
        ours, theirs, ours_p, theirs_p = run_lockstep(name, kwargs, dtype=torch.float32, seed=2, shapes=shapes,
                                                      steps=6, group_kwargs={"lr": 0.02})
    ours_groups, theirs_groups = ours.state_dict()["param_groups"], theirs.state_dict()["param_groups"]
    assert [list(g) for g in ours_groups] == [list(g) for g in theirs_groups]  # same keys, same order
    assert ours_groups == theirs_groups

    def resumed(cls, state_dict, params):
        copies = [p.detach().clone().requires_grad_() for p in params]
        opt = cls(groups(copies, {}), lr=0.123)  # the loaded param_groups override the constructor's
        opt.load_state_dict(copy.deepcopy(state_dict))
        return opt, copies

    buffer = io.BytesIO()
    torch.save(ours.state_dict(), buffer)
    buffer.seek(0)
    saved = torch.load(buffer, weights_only=True)
    runs = [
        (ours, ours_p),
        resumed(OURS[name], theirs.state_dict(), theirs_p),  # torch's state into ours
        resumed(getattr(torch.optim, name), ours.state_dict(), ours_p),  # ours into torch
        resumed(OURS[name], saved, ours_p),  # ours through a file, into ours
    ]
    twin = copy.deepcopy(ours)  # deepcopy mid-run continues identically
    runs.append((twin, [p for group in twin.param_groups for p in group["params"]]))
    gen = torch.Generator().manual_seed(9)
    for _ in range(5):
        grads = [sparse_grad(gen, p.shape, torch.float32, per_entry=False) if name == "SparseAdam"
                 else torch.randn(p.shape, generator=gen) for p in ours_p]
        for opt, params in [(theirs, theirs_p), *runs]:
            for p, g in zip(params, grads, strict=True):
                p.grad = g.clone()
            opt.step()
        for _, params in runs:
            for p, q in zip(params, theirs_p, strict=True):
                assert torch.equal(p, q)
    for opt, params in runs:
        assert_same_state(opt, theirs, params, theirs_p)


def test_old_state_dicts_load_like_torchs():
    """Files from older torch versions: no `foreach` flag, `step` a Python number."""
    ours, theirs, ours_p, theirs_p = run_lockstep("Adafactor", {"lr": 0.02}, dtype=torch.float64, seed=8,
                                                  shapes=[(3,), (2, 3)], steps=4, none_prob=0)
    old = copy.deepcopy(theirs.state_dict())
    for group in old["param_groups"]:
        del group["foreach"]
    for state in old["state"].values():
        state["step"] = state["step"].item()
    for opt in (ours, theirs):
        opt.load_state_dict(copy.deepcopy(old))
    assert repr(ours.param_groups) == repr(theirs.param_groups)
    for _ in range(3):
        for p, q in zip(ours_p, theirs_p, strict=True):
            p.grad = q.grad = torch.randn(p.shape, dtype=torch.float64)
        ours.step()
        theirs.step()
        assert all(torch.equal(p, q) for p, q in zip(ours_p, theirs_p, strict=True))
    assert_same_state(ours, theirs, ours_p, theirs_p)


# ---- torch's lr schedulers drive ours as they drive torch's ---------------------------------------
SCHEDULERS = [
    lambda o: torch.optim.lr_scheduler.StepLR(o, step_size=2, gamma=0.5),
    lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=5),
    lambda o: torch.optim.lr_scheduler.OneCycleLR(
        o, max_lr=0.1, total_steps=12, cycle_momentum="momentum" in o.defaults or "betas" in o.defaults),
    lambda o: torch.optim.lr_scheduler.ReduceLROnPlateau(o, patience=1, factor=0.5),
]
SCHEDULED = {"Adafactor": (dict(lr=0.05), [(3,), (4, 2)]), "Muon": (dict(lr=0.05), [(3, 5), (4, 2)])}


@pytest.mark.parametrize("make_scheduler", SCHEDULERS, ids=["step", "cosine", "onecycle", "plateau"])
@pytest.mark.parametrize("name", sorted(SCHEDULED))
def test_torch_schedulers_drive_ours_identically(name, make_scheduler):
    kwargs, shapes = SCHEDULED[name]
    ours_p, theirs_p = make_params(torch.float64, 5, shapes)
    ours, theirs = OURS[name](ours_p, **kwargs), getattr(torch.optim, name)(theirs_p, **kwargs)
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
        assert group_options(ours.param_groups[0]) == group_options(theirs.param_groups[0])  # every option
        assert all(same(p, q) for p, q in zip(ours_p, theirs_p, strict=True))


# ---- torch.compile(opt.step): one graph for all parameters, torch's numbers -------------------------
def compiled_run(cls, kwargs, shapes, steps, compiled):
    """`steps` steps on a smooth problem (gradient (θ - c)(1 + t/10)), 3 parameters in 2 groups."""
    gen = torch.Generator().manual_seed(0)
    params = [torch.randn(s, generator=gen).requires_grad_() for s in shapes]
    targets = [torch.randn(s, generator=gen) for s in shapes]
    opt = cls(groups(params, {"lr": kwargs["lr"] * 2}), **kwargs)
    step = torch.compile(opt.step) if compiled else opt.step
    for i in range(steps):
        for p, c in zip(params, targets, strict=True):
            p.grad = (p.detach() - c) * (1 + 0.1 * i)
        step()
    return params


# measured max |compiled ours - eager torch| after 20 float32 steps: Adafactor 3.8e-6 (torch's own
# compiled Adafactor graph-breaks at `.item()` and runs eagerly); Muon 5.6e-3, exactly what torch's own
# compiled Muon gives (inductor rounds the bfloat16 Newton–Schulz matmuls differently from eager)
COMPILE_CASES = {"Adafactor": (dict(lr=0.1, weight_decay=0.1, maximize=True), [(4, 3), (5,), (2, 3)], 2e-5),
                 "Muon": (dict(lr=0.02, weight_decay=0.1), [(4, 3), (2, 5), (6, 2)], 2e-2)}


@pytest.mark.parametrize("name", sorted(COMPILE_CASES))
def test_compiled_step_gives_torchs_numbers_without_recompiling(name):
    """`torch.compile(opt.step)`: no graph break, no recompile per parameter (one graph for the first
    step, which creates the state, one for the others), and torch's numbers to the measured tolerance.
    Ours never does Python arithmetic on `.item()` while compiling (torch's `_get_value` pattern)."""
    import torch._dynamo
    from torch._dynamo.utils import counters

    kwargs, shapes, tol = COMPILE_CASES[name]
    torch._dynamo.reset()
    counters.clear()
    ours = compiled_run(OURS[name], kwargs, shapes, 20, compiled=True)
    graphs, breaks = counters["stats"]["unique_graphs"], dict(counters["graph_break"])
    recompiles = sum(counters["recompiles"].values())
    torch._dynamo.reset()
    theirs = compiled_run(getattr(torch.optim, name), kwargs, shapes, 20, compiled=False)
    assert not breaks and recompiles == 0 and graphs <= 2, (breaks, recompiles, graphs)
    for p, q in zip(ours, theirs, strict=True):
        torch.testing.assert_close(p, q, rtol=0, atol=tol)


def test_compiled_sparse_adam_runs_eagerly_like_torchs():
    """torch's dynamo wraps `torch.optim.SparseAdam.step` in `torch.compiler.disable` (sparse tensors
    cannot be traced); ours is marked the same way: compiled, it runs eagerly, with eager numbers."""
    import torch._dynamo
    from torch._dynamo.utils import counters

    results = []
    for cls, compiled in ((SparseAdam, True), (torch.optim.SparseAdam, False)):
        torch._dynamo.reset()
        counters.clear()
        gen = torch.Generator().manual_seed(0)
        params = [torch.randn(s, generator=gen).requires_grad_() for s in SPARSE_SHAPES]
        opt = cls(groups(params, {"lr": 0.02}), lr=0.05)
        step = torch.compile(opt.step) if compiled else opt.step
        for _ in range(8):
            for i, p in enumerate(params):
                p.grad = sparse_grad(gen, p.shape, torch.float32, per_entry=i == 2)
            step()
        results.append(params)
        if compiled:
            assert counters["stats"]["unique_graphs"] == 0 and not counters["recompiles"]
    assert all(torch.equal(p, q) for p, q in zip(*results, strict=True))


# ---- the source files: self-contained, with the snippet sections the pages embed ------------------
@pytest.mark.parametrize("name", sorted(MODULES))
def test_file_is_self_contained_with_snippet_sections(name):
    path = Path(MODULES[name].__file__)
    text = path.read_text()
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
    exec(compile(copied, f"<copied {path.name}>", "exec"), namespace)  # what a reader copies runs alone
    assert issubclass(namespace[name], torch.optim.Optimizer)
    if name in ("Adafactor", "Muon"):  # and is torch's optimizer
        OURS[f"copied {name}"] = namespace[name]
        try:
            run_lockstep(f"copied {name}", {}, dtype=torch.float32, seed=0,
                         shapes=[(3, 4), (2, 2)], steps=3, none_prob=0)
        finally:
            del OURS[f"copied {name}"]
