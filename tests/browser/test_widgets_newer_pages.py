"""The live figures in Chromium: Beyond diagonal (muon), Sign and max-norm (sign), Fixing Adam
(fixing), Memory-light (memory).

For each widget: moving each control (keyboard on the range input, a typed value, a select) changes
the canvas pixels and the readout; for one fixed setting (given in the URL) the readout equals the
Python package's number, computed here from optimessay and formatted as the widget formats it (4
significant digits). A widget's controls run on the page load of one of its readout checks where
the readout needs no URL (or after it, from the state it set), so each distinct URL is opened once,
by Material's instant navigation from the page the last test left (widget_helpers.visit: about half
a load's Chromium CPU; the module's first test loads its page); the package references are computed
in a background thread while the page loads. The 390 px and dark
mode checks of every widget are made once for all widgets in test_widgets.py.
"""

from __future__ import annotations

import math

import pytest
import torch
from widget_helpers import (  # noqa: E402
    changes,
    in_background,
    js_sig,
    open_widget,
    press,
    readout,
    shared_page,
    type_value,
)

import optimessay
from optimessay.optimizers.muon import muon_spectral_map

pytestmark = pytest.mark.browser
page, each_test = shared_page()  # one Chromium page for this module's tests (per worker)


# --- Beyond diagonal: Muon's Newton–Schulz -------------------------------------------------------

MUON = "beyond-diagonal/"


def muon_reference(steps: int, kappa: float, rank: int = 8):
    sigma = torch.tensor([kappa ** (-i / (rank - 1)) for i in range(rank)], dtype=torch.float64)
    s = sigma / sigma.norm()  # the matrix U diag(σ) Vᵀ has Frobenius norm ‖σ‖
    return s, muon_spectral_map(s, ns_steps=steps)  # what the package says NS does to each value


def test_muon_readout_equals_the_package_then_controls(page, site_url):
    """At steps 5, κ 1000 (from the URL) the readout is the package's; then each control changes the
    drawing and the readout: steps by keyboard (5 -> 4), a typed κ, the coefficient select."""
    steps, kappa = 5, 1000.0
    root = open_widget(page, site_url, MUON, "muon", f"?w-muon-steps={steps}&w-muon-kappa={kappa:g}", instant=True)
    s, phi = muon_reference(steps, kappa)
    out = readout(root)
    assert out["before"] == f"{js_sig(s.min().item())} to {js_sig(s.max().item())}"
    assert out["after"] == f"{js_sig(phi.min().item())} to {js_sig(phi.max().item())}"
    rank_after = (phi.square().sum() / phi.max().square()).item()
    rank_before = (s.square().sum() / s.max().square()).item()
    assert out["rank"] == f"{js_sig(rank_before)} → {js_sig(rank_after)}"
    assert out["distance"] == js_sig((phi - 1).abs().max().item())
    # the controls, from this state
    assert readout(root)["coefficients"] == "3.4445, -4.775, 2.0315"
    changes(root, lambda: press(root, "muon", "steps", "ArrowLeft"))  # 5 -> 4 steps
    changes(root, lambda: type_value(root, "muon", "kappa", 10))
    changes(root, lambda: root.locator("#oe-w-muon-coefficients").select_option("cubic"))
    assert readout(root)["coefficients"] == "1.5, -0.5, 0"


# --- Sign and max-norm: Adam as sign descent -----------------------------------------------------

SIGN = "sign-and-max-norm/"


def sign_gradients(c: float = 1.0, steps: int = 40) -> list[list[float]]:
    """docs/widgets/sign-math.js's gradient sequence, same formula and order of operations."""
    return [[c * 1e-3 * (0.35 + math.sin(0.45 * t)), c * 100 * (math.cos(0.23 * t + 0.4) - 0.2)] for t in range(1, steps + 1)]


def adam_moves(grads, **kwargs) -> list[list[float]]:
    """Step / lr per coordinate of optimessay.Adam at lr 2⁻⁷ on the gradient sequence."""
    lr = 2.0**-7
    p = torch.nn.Parameter(torch.zeros(2, dtype=torch.float64))
    opt = optimessay.Adam([p], lr=lr, **kwargs)
    moves = []
    for g in grads:
        p.grad = torch.tensor(g, dtype=torch.float64)
        before = p.detach().clone()
        opt.step()
        moves.append(((p.detach() - before) / lr).tolist())
    return moves


def sign_reference(scale: float, betas, eps: float):
    grads = sign_gradients(scale)
    return grads, adam_moves(grads, betas=betas, eps=eps)


def test_sign_readout_equals_the_package_then_controls(page, site_url):
    """At the defaults (torch's, loss scale 1) the readout is the package's; then each control
    changes the drawing, the readout and the summary."""
    reference = in_background(sign_reference, 1.0, (0.9, 0.999), 1e-8)
    root = open_widget(page, site_url, SIGN, "sign", instant=True)
    grads, moves = reference.result()
    sign = [[(g > 0) - (g < 0) for g in gv] for gv in grads]  # Math.sign
    gap = max(abs(m + s) for mv, sv in zip(moves, sign, strict=True) for m, s in zip(mv, sv, strict=True))
    out = readout(root)
    assert out["gap"] == js_sig(gap)
    assert out["last"] == f"{js_sig(moves[-1][0])}, {js_sig(moves[-1][1])}"
    # the controls, from the defaults
    changes(root, lambda: root.locator("#oe-w-sign-optimizer").select_option("adamax"))
    changes(root, lambda: root.locator("#oe-w-sign-optimizer").select_option("adam"))
    changes(root, lambda: press(root, "sign", "beta1", "Home"))  # β₁ 0.9 -> 0
    changes(root, lambda: type_value(root, "sign", "beta2", 0))
    changes(root, lambda: root.locator("#oe-w-sign-eps").select_option("0.001"))  # (1e-8 -> 0 moves < 1 px)
    changes(root, lambda: root.locator("#oe-w-sign-eps").select_option("0"))
    assert readout(root)["gap"] == "0"  # betas (0, 0), eps 0: sign descent exactly
    root.locator("#oe-w-sign-eps").select_option("0.001")
    changes(root, lambda: type_value(root, "sign", "scale", 1e-3))  # ε now matters next to c·|g|


def test_sign_readout_at_sign_descent_equals_the_package(page, site_url):
    reference = in_background(sign_reference, 1000.0, (0.0, 0.0), 0.0)
    root = open_widget(page, site_url, SIGN, "sign", "?w-sign-beta1=0&w-sign-beta2=0&w-sign-eps=0&w-sign-scale=1000", instant=True)
    _, moves = reference.result()
    assert readout(root)["gap"] == "0"
    assert readout(root)["last"] == f"{js_sig(moves[-1][0])}, {js_sig(moves[-1][1])}"
    assert {abs(m) for mv in moves for m in mv} == {1.0}  # the package agrees: every step is ±lr


# --- Fixing Adam: AMSGrad's running maximum ----------------------------------------------------

FIXING = "fixing-adam/"


def adam_preconditioners(spike: float, beta2: float, amsgrad: bool, steps: int = 300, at: int = 50) -> list[float]:
    """optimessay.Adam's P per step on the gradient 1, `spike` at step `at` (as fixing-math.js)."""
    p = torch.nn.Parameter(torch.zeros(1, dtype=torch.float64))
    opt = optimessay.Adam([p], lr=1e-3, betas=(0.9, beta2), amsgrad=amsgrad)
    out = []
    for t in range(1, steps + 1):
        p.grad = torch.tensor([spike if t == at else 1.0], dtype=torch.float64)
        opt.step()
        out.append(opt.preconditioner(p).item())
    return out


def radam_vs_adam(g: float, beta2: float, steps: int):
    """optimessay.Adam's and RAdam's step lengths on a constant gradient g, and RAdam's first step
    whose preconditioner is not 1 (its first adaptive step)."""
    out = {}
    for name, cls in (("adam", optimessay.Adam), ("radam", optimessay.RAdam)):
        p = torch.nn.Parameter(torch.zeros(1, dtype=torch.float64))
        opt = cls([p], lr=1e-3, betas=(0.9, beta2))
        lengths, first = [], None
        for t in range(1, steps + 1):
            p.grad = torch.tensor([g], dtype=torch.float64)
            before = p.item()
            opt.step()
            lengths.append(abs(p.item() - before))
            if name == "radam" and first is None and opt.preconditioner(p).item() != 1.0:
                first = t
        out[name] = lengths
        if name == "radam":
            out["switch"] = first
    return out


def test_fixing_controls_change_drawing_and_readout(page, site_url):
    """One load at the defaults serves both widgets of the page: AMSGrad's (spike, β₂) and RAdam's (g, β₂)."""
    root = open_widget(page, site_url, FIXING, "fixing", instant=True)
    changes(root, lambda: press(root, "fixing", "spike", "ArrowRight"))
    changes(root, lambda: type_value(root, "fixing", "beta2", 0.99))
    root = open_widget(page, site_url, FIXING, "fixing-radam", reload=False)
    changes(root, lambda: press(root, "fixing-radam", "g", "ArrowRight"))
    changes(root, lambda: type_value(root, "fixing-radam", "beta2", 0.99))


def fixing_references():
    return (adam_preconditioners(1000.0, 0.99, amsgrad=False), adam_preconditioners(1000.0, 0.99, amsgrad=True),
            radam_vs_adam(100.0, 0.999, 1000))


def test_fixing_readouts_equal_the_package(page, site_url):
    """One load sets both widgets from the URL: AMSGrad's at spike 1000, β₂ 0.99; RAdam's at g 100."""
    reference = in_background(fixing_references)
    query = "?w-fixing-spike=1000&w-fixing-beta2=0.99&w-fixing-radam-g=100"
    root = open_widget(page, site_url, FIXING, "fixing", query, instant=True)
    adam, ams, ref = reference.result()
    out = readout(root)
    assert out["spike"] == f"{js_sig(adam[49])}, {js_sig(ams[49])}"
    assert out["end"] == f"{js_sig(adam[-1])}, {js_sig(ams[-1])}"
    assert out["growth"] == f"{js_sig(adam[-1] / adam[49])}×, {js_sig(ams[-1] / ams[49])}×"
    # AMSGrad's growth after the spike is the bias correction's (the page's claim), to 4 digits
    assert out["bias"] == f"{js_sig(ams[-1] / ams[49])}×"
    root = open_widget(page, site_url, FIXING, "fixing-radam", reload=False)
    out = readout(root)
    assert out["switch"] == str(ref["switch"]) == "6"  # the page's number: rho_t crosses 5 at step 6
    assert out["rho-inf"] == js_sig(2 / (1 - 0.999) - 1)
    assert out["ratio-1"] == js_sig(ref["radam"][0] / ref["adam"][0])
    assert out["ratio-late"] == f"{js_sig(ref['radam'][99] / ref['adam'][99])}, {js_sig(ref['radam'][999] / ref['adam'][999])}"


# --- Memory-light: Adafactor's factored second moment --------------------------------------------

MEMORY = "memory-light/"


def test_memory_readout_equals_the_package_then_controls(page, site_url):
    """At noise 1, 1 step (from the URL) the readout is the package's Adafactor; then each control
    changes the drawing, the readout and the summary, down to noise 0 where the estimate is exact."""
    root = open_widget(page, site_url, MEMORY, "memory", "?w-memory-noise=1&w-memory-steps=1", instant=True)
    grads = page.evaluate(f"async () => (await import('{site_url}widgets/memory-math.js')).gradients(1, 1)")
    g = torch.tensor(grads[0], dtype=torch.float64)
    p = torch.nn.Parameter(torch.zeros_like(g))
    opt = optimessay.Adafactor([p])
    p.grad = g
    opt.step()
    pg = opt.preconditioner(p) * g.abs()  # 1 everywhere if the factored V̂ were g²
    out = readout(root)
    assert out["pg"] == f"{js_sig(pg.min().item())} to {js_sig(pg.max().item())}"
    # after one step V is g² itself, and V̂ = 1/P²: the largest |log10 V̂/V|
    error = (opt.preconditioner(p).square().reciprocal() / g.square()).log10().abs().max().item()
    assert out["max-error"] == js_sig(error)
    rows, cols = g.shape
    state = opt.state[p]
    assert out["memory"] == f"{state['row_var'].numel() + state['col_var'].numel()}, {rows * cols}, {2 * rows * cols}"
    # the controls, from this state
    changes(root, lambda: press(root, "memory", "steps", "ArrowRight"))
    changes(root, lambda: type_value(root, "memory", "noise", 0.3))
    changes(root, lambda: type_value(root, "memory", "noise", 0))
    out = readout(root)
    assert out["pg"] == "1 to 1"  # g² rank 1: the factored estimate is exact
    assert out["memory"] == "40, 384, 768"


# --- Comparing: the tuning protocol ---------------------------------------------------------------

COMPARING = "comparing/"


def tuned(race: str):
    from optimessay import landscapes, optimizers, protocol

    if race == "banana":  # Adam on the banana, 300 steps, tol 1e-6
        return protocol.tune_landscape(landscapes.rosenbrock(), optimizers.Adam, steps=300, tol=1e-6, relative=True)
    quad = landscapes.quadratic(kappa=50.0, theta=math.radians(30))
    return protocol.tune_landscape(quad, optimizers.SGD, steps=200, tol=1e-6, relative=True)


def test_compare_readout_equals_the_package_then_controls(page, site_url):
    """At the defaults (Adam on the banana, 300 steps, tol 1e-6) the readout is the package's tuning;
    then each select changes the drawing, the readout and the summary."""
    reference = in_background(tuned, "banana")
    root = open_widget(page, site_url, COMPARING, "compare", instant=True)
    banana = reference.result()
    out = readout(root)
    assert out["lr"] == js_sig(banana.lr)
    assert out["score"] == f"did not arrive (score {js_sig(banana.score)})"
    assert out["grid"].startswith(f"{len(banana.scores)}: ")
    changes(root, lambda: root.locator("#oe-w-compare-optimizer").select_option("sgd"))
    changes(root, lambda: root.locator("#oe-w-compare-race").select_option("quadratic"))
    changes(root, lambda: root.locator("#oe-w-compare-tol").select_option("0.01"))


def test_compare_readout_of_sgd_on_the_quadratic_equals_the_package(page, site_url):
    reference = in_background(tuned, "quadratic")
    root = open_widget(page, site_url, COMPARING, "compare", "?w-compare-optimizer=sgd&w-compare-race=quadratic", instant=True)
    sgd = reference.result()
    out = readout(root)
    assert out["lr"] == js_sig(sgd.lr)
    assert out["score"] == f"{js_sig(sgd.score)} steps"


# --- Pitfalls: forgetting zero_grad ------------------------------------------------------------

PITFALLS = "pitfalls/"


def sgd_on_banana(lr: float, momentum: float, zero_grad: bool, steps: int):
    """optimessay.SGD on the banana with autograd's accumulation: (losses, step of divergence or None)."""
    from optimessay import landscapes

    banana = landscapes.rosenbrock()
    p = torch.tensor(banana.start, dtype=torch.float64, requires_grad=True)
    opt = optimessay.SGD([p], lr=lr, momentum=momentum)
    losses = []
    for t in range(steps + 1):
        if zero_grad:
            opt.zero_grad()
        loss = banana.fn(p[0], p[1])
        loss.backward()
        losses.append(loss.item())
        if not (math.isfinite(loss.item()) and bool(torch.isfinite(p.grad).all())):
            return losses, t
        if t < steps:
            opt.step()
    return losses, None


def pitfall_reference():
    return sgd_on_banana(1e-3, 0.98, True, 100), sgd_on_banana(1e-3, 0.98, False, 100)


def test_pitfall_readout_equals_the_package_then_controls(page, site_url):
    """At the seed's lr 1e-3, momentum 0.98, 100 steps the readout is the package's; then each
    control changes the drawing, the readout and the summary."""
    reference = in_background(pitfall_reference)
    root = open_widget(page, site_url, PITFALLS, "pitfall", instant=True)
    (good, good_at), (bad, bad_at) = reference.result()
    assert good_at is None and bad_at is not None  # the page's claim: nan within 100 steps
    out = readout(root)
    assert out["with"] == f"loss {js_sig(good[-1])} after 100 steps"
    assert out["without"] == f"diverged at step {bad_at} (loss {js_sig(bad[-2])} the step before)"
    changes(root, lambda: press(root, "pitfall", "lr", "ArrowLeft"))
    changes(root, lambda: type_value(root, "pitfall", "momentum", 0))
    changes(root, lambda: type_value(root, "pitfall", "steps", 250))


# --- Networks: Adam's lr·P per layer over training (numbers from the figure build) ----------------

NETWORKS = "networks/"


def network_views():
    from site_helpers import load_script

    networks = load_script("catalog").PAGES["networks"]
    views, _, _ = networks._experiment("views", networks.VIEWS)  # optimessay.networks.experiments (disk-cached)
    return views, views.numbers()


def test_network_readout_equals_the_package_then_controls(page, site_url):
    """At the first snapshot (the default) the readout is the figure build's numbers; then each
    control changes the drawing, the readout and the summary; then the last snapshot from the URL."""
    reference = in_background(network_views)
    root = open_widget(page, site_url, NETWORKS, "network", instant=True)
    views, numbers = reference.result()
    out = readout(root)
    assert out["step"] == str(views.steps[0])
    assert out["ratio"] == js_sig(numbers["median_step_ratio_first"])
    assert out["medians"] == f"{js_sig(numbers['median_step_first_layer_first'])}, {js_sig(numbers['median_step_last_layer_first'])}"
    changes(root, lambda: press(root, "network", "snapshot", "ArrowRight"))
    changes(root, lambda: type_value(root, "network", "snapshot", 4))
    assert root.locator("details.oe-w-data table tbody tr").count() == 32  # 4 steps × 8 layers, kept readable
    root = open_widget(page, site_url, NETWORKS, "network", f"?w-network-snapshot={len(views.steps)}", instant=True)
    out = readout(root)
    assert out["step"] == str(views.steps[-1])
    assert out["ratio"] == js_sig(numbers["median_step_ratio"])
    assert out["medians"] == f"{js_sig(numbers['median_step_first_layer'])}, {js_sig(numbers['median_step_last_layer'])}"
