"""The live figures in Chromium: Beyond diagonal (muon), Sign and max-norm (sign), Fixing Adam
(fixing), Memory-light (memory).

For each widget: moving each control (keyboard on the range input, a typed value, a select) changes
the canvas pixels and the readout; for one fixed setting (given in the URL) the readout equals the
Python package's number, computed here from optimessay and formatted as the widget formats it (4
significant digits); at 390 px the page does not overflow; in dark mode the widget redraws.
"""

from __future__ import annotations

import math

import pytest
import torch
from widget_helpers import (  # noqa: E402
    changes,
    js_sig,
    no_overflow_and_dark,
    open_widget,
    press,
    readout,
    type_value,
)

import optimessay
from optimessay.optimizers.muon import muon_spectral_map

pytestmark = pytest.mark.browser


# --- Beyond diagonal: Muon's Newton–Schulz -------------------------------------------------------

MUON = "beyond-diagonal/"


def test_muon_controls_change_drawing_and_readout(page, site_url):
    root = open_widget(page, site_url, MUON, "muon")
    assert readout(root)["coefficients"] == "3.4445, -4.775, 2.0315"
    changes(root, lambda: press(root, "muon", "steps", "ArrowLeft"))  # 5 -> 4 steps
    changes(root, lambda: type_value(root, "muon", "kappa", 10))
    changes(root, lambda: root.locator("#oe-w-muon-coefficients").select_option("cubic"))
    assert readout(root)["coefficients"] == "1.5, -0.5, 0"


def test_muon_readout_equals_the_package(page, site_url):
    steps, kappa, rank = 5, 1000.0, 8
    root = open_widget(page, site_url, MUON, "muon", f"?w-muon-steps={steps}&w-muon-kappa={kappa:g}")
    sigma = torch.tensor([kappa ** (-i / (rank - 1)) for i in range(rank)], dtype=torch.float64)
    s = sigma / sigma.norm()  # the matrix U diag(σ) Vᵀ has Frobenius norm ‖σ‖
    phi = muon_spectral_map(s, ns_steps=steps)  # what the package says NS does to each value
    out = readout(root)
    assert out["before"] == f"{js_sig(s.min().item())} to {js_sig(s.max().item())}"
    assert out["after"] == f"{js_sig(phi.min().item())} to {js_sig(phi.max().item())}"
    rank_after = (phi.square().sum() / phi.max().square()).item()
    rank_before = (s.square().sum() / s.max().square()).item()
    assert out["rank"] == f"{js_sig(rank_before)} → {js_sig(rank_after)}"
    assert out["distance"] == js_sig((phi - 1).abs().max().item())


def test_muon_phone_and_dark(page, site_url):
    root = open_widget(page, site_url, MUON, "muon", width=390)
    no_overflow_and_dark(page, root)


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


def test_sign_controls_change_drawing_and_readout(page, site_url):
    root = open_widget(page, site_url, SIGN, "sign")
    changes(root, lambda: root.locator("#oe-w-sign-optimizer").select_option("adamax"))
    changes(root, lambda: root.locator("#oe-w-sign-optimizer").select_option("adam"))
    changes(root, lambda: press(root, "sign", "beta1", "Home"))  # β₁ 0.9 -> 0
    changes(root, lambda: type_value(root, "sign", "beta2", 0))
    changes(root, lambda: root.locator("#oe-w-sign-eps").select_option("0.001"))  # (1e-8 -> 0 moves < 1 px)
    changes(root, lambda: root.locator("#oe-w-sign-eps").select_option("0"))
    assert readout(root)["gap"] == "0"  # betas (0, 0), eps 0: sign descent exactly
    root.locator("#oe-w-sign-eps").select_option("0.001")
    changes(root, lambda: type_value(root, "sign", "scale", 1e-3))  # ε now matters next to c·|g|


def test_sign_readout_equals_the_package(page, site_url):
    root = open_widget(page, site_url, SIGN, "sign")  # torch's defaults, loss scale 1
    grads = sign_gradients()
    moves = adam_moves(grads, betas=(0.9, 0.999), eps=1e-8)
    sign = [[(g > 0) - (g < 0) for g in gv] for gv in grads]  # Math.sign
    gap = max(abs(m + s) for mv, sv in zip(moves, sign, strict=True) for m, s in zip(mv, sv, strict=True))
    out = readout(root)
    assert out["gap"] == js_sig(gap)
    assert out["last"] == f"{js_sig(moves[-1][0])}, {js_sig(moves[-1][1])}"
    root = open_widget(page, site_url, SIGN, "sign", "?w-sign-beta1=0&w-sign-beta2=0&w-sign-eps=0&w-sign-scale=1000")
    moves = adam_moves(sign_gradients(1000.0), betas=(0.0, 0.0), eps=0.0)
    assert readout(root)["gap"] == "0"
    assert readout(root)["last"] == f"{js_sig(moves[-1][0])}, {js_sig(moves[-1][1])}"
    assert {abs(m) for mv in moves for m in mv} == {1.0}  # the package agrees: every step is ±lr


def test_sign_phone_and_dark(page, site_url):
    root = open_widget(page, site_url, SIGN, "sign", width=390)
    no_overflow_and_dark(page, root)


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


def test_fixing_controls_change_drawing_and_readout(page, site_url):
    root = open_widget(page, site_url, FIXING, "fixing")
    changes(root, lambda: press(root, "fixing", "spike", "ArrowRight"))
    changes(root, lambda: type_value(root, "fixing", "beta2", 0.99))


def test_fixing_readout_equals_the_package(page, site_url):
    root = open_widget(page, site_url, FIXING, "fixing", "?w-fixing-spike=1000&w-fixing-beta2=0.99")
    adam = adam_preconditioners(1000.0, 0.99, amsgrad=False)
    ams = adam_preconditioners(1000.0, 0.99, amsgrad=True)
    out = readout(root)
    assert out["spike"] == f"{js_sig(adam[49])}, {js_sig(ams[49])}"
    assert out["end"] == f"{js_sig(adam[-1])}, {js_sig(ams[-1])}"
    assert out["growth"] == f"{js_sig(adam[-1] / adam[49])}×, {js_sig(ams[-1] / ams[49])}×"
    # AMSGrad's growth after the spike is the bias correction's (the page's claim), to 4 digits
    assert out["bias"] == f"{js_sig(ams[-1] / ams[49])}×"


def test_fixing_phone_and_dark(page, site_url):
    root = open_widget(page, site_url, FIXING, "fixing", width=390)
    no_overflow_and_dark(page, root)


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


def test_fixing_radam_controls_change_drawing_and_readout(page, site_url):
    root = open_widget(page, site_url, FIXING, "fixing-radam")
    changes(root, lambda: press(root, "fixing-radam", "g", "ArrowRight"))
    changes(root, lambda: type_value(root, "fixing-radam", "beta2", 0.99))


def test_fixing_radam_readout_equals_the_package(page, site_url):
    root = open_widget(page, site_url, FIXING, "fixing-radam", "?w-fixing-radam-g=100")
    ref = radam_vs_adam(100.0, 0.999, 1000)
    out = readout(root)
    assert out["switch"] == str(ref["switch"]) == "6"  # the page's number: rho_t crosses 5 at step 6
    assert out["rho-inf"] == js_sig(2 / (1 - 0.999) - 1)
    assert out["ratio-1"] == js_sig(ref["radam"][0] / ref["adam"][0])
    assert out["ratio-late"] == f"{js_sig(ref['radam'][99] / ref['adam'][99])}, {js_sig(ref['radam'][999] / ref['adam'][999])}"


# --- Memory-light: Adafactor's factored second moment --------------------------------------------

MEMORY = "memory-light/"


def test_memory_controls_change_drawing_and_readout(page, site_url):
    root = open_widget(page, site_url, MEMORY, "memory")
    changes(root, lambda: press(root, "memory", "steps", "ArrowRight"))
    changes(root, lambda: type_value(root, "memory", "noise", 0.3))
    changes(root, lambda: type_value(root, "memory", "noise", 0))
    out = readout(root)
    assert out["pg"] == "1 to 1"  # g² rank 1: the factored estimate is exact
    assert out["memory"] == "40, 384, 768"


def test_memory_readout_equals_the_package(page, site_url):
    root = open_widget(page, site_url, MEMORY, "memory", "?w-memory-noise=1&w-memory-steps=1")
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


def test_memory_phone_and_dark(page, site_url):
    root = open_widget(page, site_url, MEMORY, "memory", width=390)
    no_overflow_and_dark(page, root)


# --- Comparing: the tuning protocol ---------------------------------------------------------------

COMPARING = "comparing/"


def test_compare_controls_change_drawing_and_readout(page, site_url):
    root = open_widget(page, site_url, COMPARING, "compare")
    changes(root, lambda: root.locator("#oe-w-compare-optimizer").select_option("sgd"))
    changes(root, lambda: root.locator("#oe-w-compare-race").select_option("quadratic"))
    changes(root, lambda: root.locator("#oe-w-compare-tol").select_option("0.01"))


def test_compare_readout_equals_the_package(page, site_url):
    from optimessay import landscapes, optimizers, protocol

    root = open_widget(page, site_url, COMPARING, "compare")  # Adam on the banana, 300 steps, tol 1e-6
    banana = protocol.tune_landscape(landscapes.rosenbrock(), optimizers.Adam, steps=300, tol=1e-6, relative=True)
    out = readout(root)
    assert out["lr"] == js_sig(banana.lr)
    assert out["score"] == f"did not arrive (score {js_sig(banana.score)})"
    assert out["grid"].startswith(f"{len(banana.scores)}: ")
    root = open_widget(page, site_url, COMPARING, "compare", "?w-compare-optimizer=sgd&w-compare-race=quadratic")
    quad = landscapes.quadratic(kappa=50.0, theta=math.radians(30))
    sgd = protocol.tune_landscape(quad, optimizers.SGD, steps=200, tol=1e-6, relative=True)
    out = readout(root)
    assert out["lr"] == js_sig(sgd.lr)
    assert out["score"] == f"{js_sig(sgd.score)} steps"


def test_compare_phone_and_dark(page, site_url):
    root = open_widget(page, site_url, COMPARING, "compare", width=390)
    no_overflow_and_dark(page, root)


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


def test_pitfall_controls_change_drawing_and_readout(page, site_url):
    root = open_widget(page, site_url, PITFALLS, "pitfall")
    changes(root, lambda: press(root, "pitfall", "lr", "ArrowLeft"))
    changes(root, lambda: type_value(root, "pitfall", "momentum", 0))
    changes(root, lambda: type_value(root, "pitfall", "steps", 250))


def test_pitfall_readout_equals_the_package(page, site_url):
    root = open_widget(page, site_url, PITFALLS, "pitfall")  # the seed's lr 1e-3, momentum 0.98; 100 steps
    good, good_at = sgd_on_banana(1e-3, 0.98, True, 100)
    bad, bad_at = sgd_on_banana(1e-3, 0.98, False, 100)
    assert good_at is None and bad_at is not None  # the page's claim: nan within 100 steps
    out = readout(root)
    assert out["with"] == f"loss {js_sig(good[-1])} after 100 steps"
    assert out["without"] == f"diverged at step {bad_at} (loss {js_sig(bad[-2])} the step before)"


def test_pitfall_phone_and_dark(page, site_url):
    root = open_widget(page, site_url, PITFALLS, "pitfall", width=390)
    no_overflow_and_dark(page, root)


# --- Networks: Adam's lr·P per layer over training (numbers from the figure build) ----------------

NETWORKS = "networks/"


def test_network_controls_change_drawing_and_readout(page, site_url):
    root = open_widget(page, site_url, NETWORKS, "network")
    changes(root, lambda: press(root, "network", "snapshot", "ArrowRight"))
    changes(root, lambda: type_value(root, "network", "snapshot", 4))
    assert root.locator("details.oe-w-data table tbody tr").count() == 32  # 4 steps × 8 layers, kept readable


def test_network_readout_equals_the_package(page, site_url):
    from site_helpers import load_script

    networks = load_script("catalog").PAGES["networks"]
    views, _, _ = networks._experiment("views", networks.VIEWS)  # optimessay.networks.experiments (disk-cached)
    numbers = views.numbers()
    root = open_widget(page, site_url, NETWORKS, "network")
    out = readout(root)
    assert out["step"] == str(views.steps[0])
    assert out["ratio"] == js_sig(numbers["median_step_ratio_first"])
    assert out["medians"] == f"{js_sig(numbers['median_step_first_layer_first'])}, {js_sig(numbers['median_step_last_layer_first'])}"
    root = open_widget(page, site_url, NETWORKS, "network", f"?w-network-snapshot={len(views.steps)}")
    out = readout(root)
    assert out["step"] == str(views.steps[-1])
    assert out["ratio"] == js_sig(numbers["median_step_ratio"])
    assert out["medians"] == f"{js_sig(numbers['median_step_first_layer'])}, {js_sig(numbers['median_step_last_layer'])}"


def test_network_phone_and_dark(page, site_url):
    root = open_widget(page, site_url, NETWORKS, "network", width=390)
    no_overflow_and_dark(page, root)
