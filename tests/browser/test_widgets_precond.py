"""The Preconditioning page's live figure (docs/widgets/precond.js) in Chromium.

Moving each control (the κ, θ and Adam-lr sliders by keyboard, a typed value, the three toggles)
changes the drawing (canvas pixels) and the readout; at a fixed setting read from the URL, the
readout's κ_diag is optimessay.experiments.invariance.kappa_diag and its steps are
optimessay.protocol.steps_to_tolerance of the package's own walks (SGD at 2/(1+κ),
trajectory.preconditioned_gd(kind="diag", lr=1), Adam), computed here (see package_walks); the walks themselves equal the
package's to 1e-9. The URL keeps the widget's state under w-precond-* and never touches other keys;
a bad URL value or typed value is refused with a visible message; switching to dark mode redraws.

One page load serves the URL-state checks and then all the controls of both widgets (each control
changes the state the previous one left); each readout setting is one load, its package reference
computed in a background thread while the page loads; the invariance widget's two readout settings
ride on the two loads of the bad-URL check (its keys are its own). 6 page loads (8 before).
"""

from __future__ import annotations

import dataclasses
import json
import math
import types
from urllib.parse import parse_qs, urlsplit

import pytest
import torch
from widget_helpers import goto, in_background, shared_page

from optimessay import landscapes, optimizers, protocol, sweep, trajectory
from optimessay.experiments import invariance

pytestmark = pytest.mark.browser
page, each_test = shared_page()  # one Chromium page for this module's tests (per worker)

PATH = "preconditioning/"
ROOT = ".oe-widget[data-widget='precond']"
READY = f"() => document.querySelector(\"{ROOT}\").dataset.widgetState === 'ready'"
CANVASES = f"() => [...document.querySelector(\"{ROOT}\").querySelectorAll('canvas')].map((c) => c.toDataURL())"
READOUT = f"""() => Object.fromEntries([...document.querySelector("{ROOT}").querySelectorAll('.oe-w-readout tr')]
    .map((tr) => [tr.dataset.key, tr.querySelector('td').textContent]))"""
LIVE = f"() => document.querySelector(\"{ROOT}\").querySelector('.oe-w-live').textContent"
COMPARED = 600  # the walks' first 300 points (x, y) are compared with the package's
# one JSON string: Playwright checks every value of a returned structure one by one (a profile: ~5 s
# for the full walks), a string once; JSON.stringify writes each double as its shortest round trip
RESULT = f"""() => {{ const r = document.querySelector("{ROOT}").oeWidget.result;
    return JSON.stringify({{ kappaDiag: r.kappaDiag, start: r.start, walks: r.walks.map((w) => ({{ key: w.key, lr: w.lr,
      steps: w.steps, length: w.walk.points.length, points: Array.from(w.walk.points.slice(0, {COMPARED})) }})) }}); }}"""
BUDGET = 4000


def sig4(v: float) -> str:
    """docs/playground/dom.js's sig(v, 4) for the values compared here (1e-3 <= |v| < 1e5)."""
    assert 1e-3 <= abs(v) < 1e5
    return f"{float(f'{v:.4g}'):.15g}"


def open_widget(page, site_url, query=""):
    goto(page, site_url + PATH + query)
    page.wait_for_function(READY, timeout=20000)
    return page.locator(ROOT)


def state(page):
    return page.evaluate(CANVASES), page.evaluate(READOUT), page.evaluate(LIVE)


SLIDERS = [("kappa", ["ArrowRight"]), ("theta", ["ArrowLeft"]), ("adam-lr", ["ArrowRight", "ArrowRight"])]
TOGGLES = ["gd", "jacobi", "adam"]


def test_url_state_then_controls_typed_values_toggles_and_dark_mode(page, site_url):
    """One load with another page's key and θ in the URL: the URL keeps the widget's state under
    w-precond-* and never touches other keys (url_state_is_namespaced_and_keeps_other_keys: a test
    of its own before, with a load of its own); then from that state the typed κ (applied, then
    refused values), each slider by keyboard, each toggle; then the invariance widget's controls on
    the same load (invariance_controls: a test of its own before, with a load of its own at the
    defaults); then Material's palette switch to dark mode; each changes the state the last left."""
    page.emulate_media(color_scheme="light")
    widget = open_widget(page, site_url, "?keep=me&w-precond-theta=10")
    url_state_is_namespaced_and_keeps_other_keys(page)
    # a typed value applies; a bad one is refused and changes nothing
    before = state(page)
    field = widget.locator("#oe-w-precond-kappa-n")
    field.fill("10")
    field.press("Enter")
    after = state(page)
    assert after[0] != before[0] and after[1] != before[1]
    assert page.input_value("#oe-w-precond-kappa") == "1"  # log10(10): the range follows the typed value
    field.fill("abc")
    field.press("Enter")
    assert field.get_attribute("aria-invalid") == "true"
    assert '"abc" is not a number' in widget.locator(".oe-w-error").first.text_content()
    assert state(page)[1] == after[1], "a refused value changed the readout"
    field.fill("5000")
    field.press("Enter")
    assert "outside [1, 1000]" in widget.locator(".oe-w-error").first.text_content()
    # each slider, by keyboard
    for control, keys in SLIDERS:
        before = state(page)
        page.focus(f"#oe-w-precond-{control}")
        for key in keys:
            page.keyboard.press(key)
        after = state(page)
        assert after[0][0] != before[0][0], f"{control}: the paths were not redrawn"
        assert after[1] != before[1], f"{control}: the readout did not change"
        assert after[2] != before[2], f"{control}: the live summary did not change"
    # each toggle hides its walk
    for toggle in TOGGLES:
        before = state(page)
        page.click(f"label[for='oe-w-precond-{toggle}']")
        after = state(page)
        assert after[0] != before[0], f"{toggle}: the drawing did not change"
        assert after[1][f"steps-{toggle}"] == "hidden" and before[1][f"steps-{toggle}"] != "hidden"
        assert after[2] != before[2]
    page.wait_for_function(INV_READY, timeout=20000)
    invariance_controls(page)
    # Material's palette switch to dark mode redraws both canvases
    before = page.evaluate(CANVASES)
    page.locator("form[data-md-component='palette'] label:visible").first.click()
    assert page.evaluate("() => document.body.getAttribute('data-md-color-scheme')") == "slate"
    after = page.evaluate(CANVASES)
    assert after[0] != before[0] and after[1] != before[1]


def python_steps(losses) -> float:
    return protocol.steps_to_tolerance(1e-6, relative=True)(losses)


SETTINGS = [(100.0, 30.0, 0.0316), (10.0, 0.0, 0.1), (1000.0, 45.0, 0.01)]  # (κ, θ°, Adam's lr)


def turned_start(theta: float) -> tuple[float, float]:
    """The widget's start (-1.5, 1) turned with the valley by θ degrees."""
    t = math.radians(theta)
    return (math.cos(t) * -1.5 - math.sin(t) * 1.0, math.sin(t) * -1.5 + math.cos(t) * 1.0)


def quadratics_as_one(settings) -> landscapes.Landscape:
    """landscapes.quadratic(κ_i, θ_i) of every setting as ONE landscape for a sweep whose walk i is
    setting i: the package's own quadratic function (its code object, not a copy of its formula)
    and its closed-form derivatives (its class: what a sweep or walk on landscapes.quadratic
    evaluates, bitwise autograd's) with the numbers they close over (cos θ, sin θ, κ) given as one
    value per walk, shape (N,), where the package's are Python floats. Each walk's loss and gradient
    are then the same elementwise float64 operations on the same numbers (a product by a Python
    float and by a tensor holding it are the same IEEE product), so each walk is its lone
    quadratic's: measured torch.equal (points and losses, SGD and Adam, 4000 steps, the three
    settings) against trajectory.run on landscapes.quadratic(κ, θ) with autograd's gradient."""
    lands = [landscapes.quadratic(kappa, math.radians(theta)) for kappa, theta, _ in settings]
    code = lands[0].fn.__code__
    numbers = {name: torch.tensor([land.fn.__closure__[i].cell_contents for land in lands], dtype=torch.float64)
               for i, name in enumerate(code.co_freevars)}
    fn = types.FunctionType(code, lands[0].fn.__globals__, code.co_name, None, tuple(map(types.CellType, numbers.values())))
    fn.derivatives = type(lands[0].fn.derivatives)(**numbers)
    return dataclasses.replace(lands[0], fn=fn)


def package_walks(settings) -> list[dict]:
    """The package's three walks of each setting, from the start turned with the valley, each by its
    cheapest call that gives the same walk: SGD and Adam as one optimessay.sweep each for all the
    settings (a sweep's walk is trajectory.run's bit for bit: sweep's contract, tested in
    tests/test_sweep.py; on its landscape see quadratics_as_one); Jacobi with P = diag(H)⁻¹ taken
    at the start (fixed=True): on a quadratic the Hessian is the same at every point, so it is the
    walk with P recomputed every step, bit for bit (measured: 5.4 -> 1.8 s of CPU per setting;
    torch.equal to the walk with P recomputed every step on autograd's gradient). With the
    quadratic's closed-form gradient (landscapes.quadratic carries it, bitwise autograd's) the three
    settings' walks cost 11.0 -> 3.4 s of CPU (measured side by side at load ~15: the SGD and Adam
    sweeps and the Jacobi walks, each torch.equal to the lone walks on autograd's gradient:
    trajectory.run on the quadratic without its closed form, and preconditioned_gd as it was when
    it called land.loss and land.gradient each step).
    Per setting {"start": (x, y), key: (points (steps + 1, 2), losses (steps + 1,))}."""
    starts = [turned_start(theta) for _, theta, _ in settings]
    land = quadratics_as_one(settings)
    gd = sweep.run(land, optimizers.SGD, {"lr": [2 / (1 + kappa) for kappa, _, _ in settings]}, starts=starts, steps=BUDGET)
    adam = sweep.run(land, optimizers.Adam, {"lr": [adam_lr for _, _, adam_lr in settings]}, starts=starts, steps=BUDGET)
    walks = []
    for i, (kappa, theta, _) in enumerate(settings):
        jacobi = trajectory.preconditioned_gd(landscapes.quadratic(kappa, math.radians(theta)), kind="diag", lr=1.0,
                                              start=starts[i], steps=BUDGET, fixed=True)
        walks.append({"start": starts[i], "gd": (gd.trajectories[i], gd.losses[i]),
                      "adam": (adam.trajectories[i], adam.losses[i]), "jacobi": (jacobi.points, jacobi.losses)})
    return walks


@pytest.mark.slow
def test_readout_equals_the_package(page, site_url):
    """Each setting of SETTINGS, one page load each (the URL sets κ, θ and Adam's lr): κ_diag, the
    three walks' first 300 points and their steps to a millionfold loss reduction are the package's.
    One test for the three settings (three before): their package walks are computed as one batch
    (see package_walks), in a background thread while the first page loads."""
    reference = in_background(package_walks, SETTINGS)
    for i, (kappa, theta, adam_lr) in enumerate(SETTINGS):
        query = f"?w-precond-kappa={kappa:g}&w-precond-theta={theta:g}&w-precond-adam-lr={adam_lr:g}"
        open_widget(page, site_url, query)
        js = json.loads(page.evaluate(RESULT))
        readout = page.evaluate(READOUT)
        where = f"κ {kappa:g}, θ {theta:g}, Adam lr {adam_lr:g}"
        # κ_diag: the package's eigenvalue ratio (the JS uses the closed form 1 ± |r| of the same matrix)
        expected = invariance.kappa_diag(kappa, theta)
        assert js["kappaDiag"] == pytest.approx(expected, rel=1e-12), where
        assert readout["kappa-diag"] == sig4(expected), where
        # the walks, from the start turned with the valley
        walks = reference.result()[i]
        assert js["start"] == pytest.approx(walks["start"], abs=1e-15), where
        for w in js["walks"]:
            walk_points, walk_losses = walks[w["key"]]
            points = walk_points.reshape(-1).tolist()
            assert w["length"] == len(points), where
            # JS = Python to 1e-9 (of the window's size 4) on the first 300 steps; all three walks contract
            # (GD and Jacobi at stable lrs; Adam measured here), so a last-bit difference does not grow
            for a, b in zip(w["points"], points[:COMPARED], strict=True):
                assert abs(a - b) <= 4e-9, f"{where}: {w['key']}: JS {a} != Python {b}"
            steps = python_steps(walk_losses)
            js_steps = w["steps"] if w["steps"] is not None else math.inf
            if steps <= BUDGET:
                assert js_steps == steps, f"{where}: {w['key']}: JS {js_steps} steps, Python {steps}"
                assert readout[f"steps-{w['key']}"] == str(int(steps)), where
            else:
                assert js_steps > BUDGET, f"{where}: {w['key']}: JS arrived in {js_steps}, Python did not within {BUDGET}"
                assert readout[f"steps-{w['key']}"] == f"not within {BUDGET}", where
        assert readout["steps-gd"].isdigit() and readout["steps-jacobi"].isdigit(), where


def url_state_is_namespaced_and_keeps_other_keys(page):
    """Opened at ?keep=me&w-precond-theta=10: θ is read; κ moved by keyboard enters the URL beside
    the other keys, and leaves it when back at its default."""
    assert page.input_value("#oe-w-precond-theta-n") == "10"
    page.focus("#oe-w-precond-kappa")
    page.keyboard.press("ArrowRight")
    page.wait_for_function("() => location.search.includes('w-precond-kappa=')")
    query = parse_qs(urlsplit(page.url).query)
    assert query["keep"] == ["me"]
    assert query["w-precond-theta"] == ["10"]
    assert float(query["w-precond-kappa"][0]) == pytest.approx(112, rel=0.01)
    # back at the default: the key leaves the URL
    page.keyboard.press("ArrowLeft")
    page.wait_for_function("() => !location.search.includes('w-precond-kappa=')")
    assert parse_qs(urlsplit(page.url).query)["keep"] == ["me"]


@pytest.mark.parametrize("theta, scale", [(30.0, 10.0), (45.0, 100.0)])
def test_bad_url_values_are_ignored_with_a_note_and_invariance_readout(page, site_url, theta, scale):
    """One load whose URL has bad values for the precond widget and a setting of the invariance
    widget (two widgets, keys of their own): the bad values are ignored with a note, each time;
    the invariance readout is the package's at (θ, c) (invariance_readout_equals_the_package: a
    test of its own before, with a load of its own per setting)."""
    table = in_background(invariance.invariance_table, kappa=10.0, theta_degrees=theta, scale=scale, steps=50)
    widget = open_widget(page, site_url, "?w-precond-kappa=abc&w-precond-theta=90&w-precond-nope=1"
                         f"&w-invariance-mode=rotate&w-invariance-theta={theta:g}&w-invariance-c={scale:g}")
    notes = widget.locator(".oe-w-notes").text_content()
    assert 'w-precond-kappa: "abc" is not a number' in notes
    assert "w-precond-theta: 90 is outside [0, 45]" in notes
    assert 'no control "nope"' in notes
    assert page.input_value("#oe-w-precond-kappa-n") == "100"  # the default kept
    page.wait_for_function(INV_READY, timeout=20000)
    invariance_readout_equals_the_package(page, table)


# --- the invariance widget (docs/widgets/precond-invariance.js) -------------------------------------

INV = ".oe-widget[data-widget='precond-invariance']"
INV_READY = f"() => document.querySelector(\"{INV}\").dataset.widgetState === 'ready'"
INV_STATE = f"""() => {{ const r = document.querySelector("{INV}");
    return [r.querySelector('canvas').toDataURL(), r.querySelector('.oe-w-readout').textContent,
            r.querySelector('.oe-w-live').textContent]; }}"""


INV_STEPS = [  # (what, action): each from the state the previous one left
    ("theta", lambda page: (page.focus("#oe-w-invariance-theta"), page.keyboard.press("ArrowRight"))),
    ("mode", lambda page: page.select_option("#oe-w-invariance-mode", "rescale")),
    ("c", lambda page: (page.focus("#oe-w-invariance-c"), page.keyboard.press("ArrowLeft"))),
    ("method", lambda page: page.select_option("#oe-w-invariance-method", "gd")),
]


def invariance_controls(page):
    """At the defaults (rotate): θ by keyboard, the mode select (then c is the enabled slider, θ the
    disabled one), c by keyboard in rescale mode, the method select."""
    assert page.is_disabled("#oe-w-invariance-c") and page.is_enabled("#oe-w-invariance-theta")
    for what, act in INV_STEPS:
        before = page.evaluate(INV_STATE)
        act(page)
        after = page.evaluate(INV_STATE)
        assert after[0] != before[0], f"{what}: the drawing did not change"
        assert after[1] != before[1], f"{what}: the readout did not change"
        assert after[2] != before[2], f"{what}: the live summary did not change"
        if what == "mode":
            assert page.is_enabled("#oe-w-invariance-c") and page.is_disabled("#oe-w-invariance-theta")


def invariance_readout_equals_the_package(page, table):
    """Both columns of the package's table (`table`: the future of invariance.invariance_table at the
    URL's θ and c) from the page as opened: rotate mode from the URL, then rescale mode by the mode
    select (θ and c stay as the URL set them)."""
    names = {"gd": "GD", "momentum": "Momentum", "nesterov": "Nesterov", "rmsprop": "RMSprop", "adam": "Adam",
             "adagrad": "Adagrad"}
    for mode, column in (("rotate", "rotation"), ("rescale", "scale")):
        if mode == "rescale":
            page.select_option("#oe-w-invariance-mode", "rescale")
        assert page.input_value("#oe-w-invariance-mode") == mode
        js = page.evaluate(f"() => document.querySelector(\"{INV}\").oeWidget.result")
        assert [r["key"] for r in js] == list(names)
        for r in js:
            expected = table.result()[names[r["key"]]][column]
            if expected < 1e-12:  # an invariant method: both are rounding (~1e-16), not a number to match
                assert r["deviation"] < 1e-12, f"{mode} {r['key']}: JS {r['deviation']}, Python {expected}"
            else:
                assert r["deviation"] == pytest.approx(expected, rel=1e-9), f"{mode} {r['key']}"
