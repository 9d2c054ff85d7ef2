"""The live figures in Chromium: RMSprop (rmsprop-sign), Adam (adam-bias, adam-decay), Adagrad
(adagrad-shrink).

For each widget: moving each control (arrow keys on a range input, a typed value, a checkbox, a
select) changes the canvas pixels, the readout and the aria-live summary; for one fixed setting (given
in the URL) a readout equals the Python package's number, computed here from optimessay (to the 4
significant digits the readout shows); in dark mode the widget redraws. Each widget's controls run
on the page load of its readout check, after it, from the state the URL set: one load per distinct
URL; the longest package reference runs in a background thread while the page loads. The 390 px
checks (no overflow, each widget within the window, mounted with a timed update) are made once for all
widgets in test_widgets.py.
"""

from __future__ import annotations

import re

import pytest
import torch
from widget_helpers import changes, in_background, open_widget, pixels, readout, shared_page  # noqa: E402

import optimessay
from optimessay import landscapes, sweep, trajectory

pytestmark = pytest.mark.browser
page, each_test = shared_page()  # one Chromium page for this module's tests (per worker)

NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:e[+-]?\d+)?")


def press(root, control_id: str, keys: str) -> None:
    """Focus a slider's range input and press keys on it (keyboard access)."""
    root.locator(f"#oe-w-{control_id}").focus()
    root.page.keyboard.press(keys)


def type_value(root, control_id: str, value) -> None:
    """Type a value into a slider's number field and press Enter."""
    field = root.locator(f"#oe-w-{control_id}-n")
    field.fill(str(value))
    field.press("Enter")


def numbers(text: str) -> list[float]:
    return [float(m) for m in NUMBER.findall(text)]


def same_4_digits(shown: float, exact: float) -> bool:
    """`shown` is `exact` rounded to 4 significant digits (what the readout shows)."""
    if exact == 0:
        return shown == 0
    return abs(shown - exact) <= 5.01e-4 * abs(exact) * (1 + 1e-12) or float(f"{exact:.4g}") == shown


def assert_shown(text: str, expected: list[float], what: str) -> None:
    got = numbers(text)
    assert len(got) >= len(expected), f"{what}: readout {text!r}"
    for shown, exact in zip(got, expected, strict=False):
        assert same_4_digits(shown, exact), f"{what}: readout {text!r} shows {shown}, the package gives {exact:.10g}"


def redraws_in_dark_mode(*roots) -> None:
    """Switching the page to dark mode redraws each of `roots` (widgets of the same page)."""
    before = [pixels(root) for root in roots]
    page = roots[0].page
    page.evaluate("document.body.setAttribute('data-md-color-scheme', 'slate')")
    for _ in range(40):  # wait for the redraw (the condition), at most ~2 s
        after = [pixels(root) for root in roots]
        if all(a != b for a, b in zip(after, before, strict=True)):
            break
        page.wait_for_timeout(50)
    for a, b in zip(after, before, strict=True):  # the last digests read (each canvas encoded once per poll)
        assert a != b, "the widget did not redraw in dark mode"


# --- RMSprop: P·g → sign(g) --------------------------------------------------------------------------


def test_rmsprop_sign_readout_is_the_package_then_controls(page, site_url):
    """At α 0.05, step 37 (from the URL) the readout is the package's g, P and P·g; then each control
    changes the drawing, the readout and the summary; then dark mode redraws."""
    alpha, t = 0.05, 37
    root = open_widget(page, site_url, "rmsprop/", "rmsprop-sign", f"?w-rmsprop-sign-alpha={alpha}&w-rmsprop-sign-step={t}")
    banana = landscapes.rosenbrock()
    p = torch.tensor([-1.5, 2.5], dtype=torch.float64, requires_grad=True)
    opt = optimessay.RMSprop([p], lr=0.01, alpha=alpha, momentum=0.9)
    for _ in range(t):
        opt.zero_grad()
        banana.fn(p[0], p[1]).backward()
        g = p.grad.detach().clone()
        opt.step()
    P = opt.preconditioner(p)
    shown = readout(root)
    assert_shown(shown["g"], g.tolist(), "g")
    assert_shown(shown["P"], P.tolist(), "P")
    assert_shown(shown["pg"], (P * g).tolist(), "P·g")
    # the controls, from this state
    changes(root, lambda: press(root, "rmsprop-sign-alpha", "ArrowLeft"))
    changes(root, lambda: type_value(root, "rmsprop-sign-alpha", 0))
    assert readout(root)["near-sign"] == "100 %, 100 %"  # α = 0: every |P·g| is 1 (sign descent)
    changes(root, lambda: press(root, "rmsprop-sign-step", "ArrowLeft"))
    changes(root, lambda: type_value(root, "rmsprop-sign-step", 40))
    redraws_in_dark_mode(root)


# --- Adam: bias correction, Adam + L2 against AdamW ----------------------------------------------


def separable_quadratic() -> landscapes.Landscape:
    """f = 1·(x - 3)² + 10·(y - 2)², with its loss and gradient in closed form for sweeps
    (SeparableDerivatives: op for op autograd's, checked bit for bit against autograd on every point
    of the walks that use it, see decay_walks)."""
    def fn(x, y):
        return 1.0 * (x - 3.0) ** 2 + 10.0 * (y - 2.0) ** 2

    fn.derivatives = SeparableDerivatives()
    return landscapes.Landscape(name="separable-quadratic", title="f", fn=fn, x_range=(-0.5, 3.5), y_range=(-0.5, 2.5),
                                minima=((3.0, 2.0),), log_scale=False, start=(0.0, 0.0))


class SeparableDerivatives:
    """separable_quadratic's f and ∇f on a batch of points stored coordinate-major ((2, m): what
    Landscape.batch_value_and_gradient serves a sweep), as autograd computes them from its fn:
    d = p - (3, 2), f = d_x·d_x·1 + d_y·d_y·10; the backward of the sum gives each square the
    factor it was multiplied by, so ∇f = (1, 10) ⊗ (2d) (pow's backward grad · (2d)), then + 0 (the
    two select-backward scatters added: a -0 becomes +0)."""

    def evaluator(self, n: int, dtype: torch.dtype):
        centre, weights = torch.tensor([[3.0], [2.0]], dtype=dtype), torch.tensor([[1.0], [10.0]], dtype=dtype)
        two, zero = torch.tensor(2.0, dtype=dtype), torch.tensor(0.0, dtype=dtype)

        def evaluate(XY, loss_out=None):
            d = XY - centre
            terms = d * d * weights
            f = torch.add(terms[0], terms[1], out=loss_out) if loss_out is not None else terms[0] + terms[1]
            return f, (weights * (d * two)).add_(zero)

        return evaluate


def same_bits(x, y) -> bool:
    """Bit for bit (float64)."""
    return x.dtype == y.dtype == torch.float64 and torch.equal(x.view(torch.int64), y.view(torch.int64))


def decay_walks(lam: float) -> dict:
    """Adam + L2 and AdamW on the separable quadratic, 4000 steps of cosine-annealed lr 0.05: each a
    one-walk optimessay.sweep, which is trajectory.run's walk bit for bit (sweep's contract, tested in
    tests/test_sweep.py; measured here at λ 0.3: points and preconditioners torch.equal to the
    trajectory.run walks this test used before, 6.1 -> 4.2 s of CPU). The sweep evaluates the
    landscape's closed form (SeparableDerivatives); so that the reference stays the walk on
    autograd's gradient, every loss and gradient a walk used is checked here against autograd at the
    walk's points, bit for bit (one batched autograd call: a walk is a function of the gradients it
    was given). Per key (points (steps + 1, 2), preconditioners (steps, 2))."""
    walks = {}
    land = separable_quadratic()
    for key, cls in (("coupled-end", optimessay.Adam), ("decoupled-end", optimessay.AdamW)):
        one = sweep.run(land, cls, {"lr": 0.05, "weight_decay": lam}, starts=(0.0, 0.0), steps=4000,
                        scheduler_class=optimessay.CosineAnnealingLR, scheduler_kwargs={"T_max": 4000},
                        preconditioners=True)
        points = one.trajectories[0]
        loss, grad = land.value_and_gradient(points)  # autograd
        closed_loss, closed_grad = land.fn.derivatives.evaluator(len(points), torch.float64)(points.t().contiguous())
        assert same_bits(closed_loss, loss) and same_bits(closed_grad.t(), grad), key
        assert same_bits(one.losses[0], loss), key
        walks[key] = (points, one.preconditioners[0])
    return walks


def test_adam_readouts_are_the_package_then_controls(page, site_url):
    """One load sets both widgets of the page from the URL (two tests and loads before, each setting
    one widget): at β₂ 0.99 adam-bias's readout is the package's walk; at λ 0.3 adam-decay's readout
    is the package's Adam + L2 and AdamW walks; then each control of both widgets changes the
    drawing, the readout and the summary; then dark mode redraws both."""
    lam = 0.3
    bias_reference = in_background(trajectory.run, landscapes.quadratic(10.0, 0.0), optimessay.Adam,
                                   {"lr": 0.01, "betas": (0.9, 0.99)}, start=(-1.5, 1.0), steps=60)
    decay_reference = in_background(decay_walks, lam)  # both while the page loads
    root = open_widget(page, site_url, "adam/", "adam-bias", f"?w-adam-bias-beta2=0.99&w-adam-decay-lambda={lam}")
    walk = bias_reference.result()
    text = readout(root)["shown"]  # "first step 1·lr, largest ...·lr (step k), loss after 60 steps L"
    loss = float(text.rsplit(" ", 1)[1])
    assert same_4_digits(loss, walk.final_loss), f"{text!r}: the package's final loss is {walk.final_loss:.10g}"
    first = (walk.points[1] - walk.points[0]).abs().max().item() / 0.01
    assert_shown(text, [first], "first step / lr")
    # adam-decay's readout at λ 0.3
    decay = open_widget(page, site_url, "adam/", "adam-decay", reload=False)
    shown = readout(decay)
    walks = decay_reference.result()
    for key, cls in (("coupled-end", optimessay.Adam), ("decoupled-end", optimessay.AdamW)):
        points, preconditioners = walks[key]
        assert_shown(shown[key], points[-1].tolist(), key)
        if cls is optimessay.Adam:  # λ·P of Adam + L2 at step 2000
            assert_shown(shown["coupled-decay-mid"], (lam * preconditioners[1999]).tolist(), "λ·P at step 2000")
    assert_shown(shown["l2-min"], [2 * 1 * 3 / (2 * 1 + lam), 2 * 10 * 2 / (2 * 10 + lam)], "L2 minimizer")
    # adam-bias's controls, from this state
    changes(root, lambda: root.locator("#oe-w-adam-bias-corrected").click())
    assert "without bias correction (shown)" in root.locator(".oe-w-readout").text_content()
    changes(root, lambda: root.locator("#oe-w-adam-bias-beta2").select_option("0.9999"))
    # without correction the first step is (1 − β₁)/√(1 − β₂) = 10 times lr at β₂ = 0.9999
    assert readout(root)["shown"].startswith("first step 10·lr")
    # adam-decay's controls, from λ 0.3
    changes(decay, lambda: press(decay, "adam-decay-lambda", "ArrowLeft"))
    changes(decay, lambda: type_value(decay, "adam-decay-lambda", 0.1))
    redraws_in_dark_mode(root, decay)


# --- Adagrad: P only shrinks --------------------------------------------------------------------------


def test_adagrad_shrink_readout_is_the_package_then_controls(page, site_url):
    """At lr 1, step 50 (from the URL) the readout is the package's walk; then each control changes
    the drawing, the readout and the summary (P never grows); then dark mode redraws."""
    lr, t = 1.0, 50
    root = open_widget(page, site_url, "adagrad/", "adagrad-shrink", f"?w-adagrad-shrink-lr={lr}&w-adagrad-shrink-step={t}")
    walk = trajectory.run(landscapes.rosenbrock(), optimessay.Adagrad, {"lr": lr}, start=(-1.5, 2.5), steps=300)
    shown = readout(root)
    assert_shown(shown["P"], walk.preconditioners[t - 1].tolist(), "P at step t")
    assert_shown(shown["length"], [float((walk.points[t] - walk.points[t - 1]).norm())], "step length")
    assert_shown(shown["loss"], [float(walk.losses[t])], "loss")
    # the controls, from this state
    changes(root, lambda: press(root, "adagrad-shrink-step", "ArrowRight"))
    changes(root, lambda: type_value(root, "adagrad-shrink-step", 150))
    assert readout(root)["grew"] == "0, 0"
    changes(root, lambda: press(root, "adagrad-shrink-lr", "ArrowLeft"))
    changes(root, lambda: type_value(root, "adagrad-shrink-lr", 2))
    redraws_in_dark_mode(root)
