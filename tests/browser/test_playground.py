"""The playground on the built site, in Chromium (docs/playground/*.js).

The `page` fixture (tests/browser/conftest.py) fails every test on a console error, an uncaught page
error or a request outside 127.0.0.1. These tests check what the reader does: moving a slider
changes the drawn paths, each preset's walks equal optimessay's (the Python package, float64,
computed in the same run), the URL carries the whole state, malformed or hostile URL parameters give
a visible message and are never injected, the keyboard drives everything, and the playground mounts
again after Material's instant navigation.

JavaScript equals Python to 1e-9 relative (near 0: of 1 % of the landscape's window), at every step
where that is a test of the update rule and not of the CPU. The JavaScript's Math.sqrt is correctly
rounded; torch's float64 sqrt is not always, and which inputs it misrounds depends on the CPU. Some
walks amplify such a last-bit difference until it is no longer small (the rotated-quadratic preset's
RMSprop at lr 1: 1 ulp at step 96 grew to 1e-5 by step 200 on another machine). So each walk's own
sensitivity is measured in the test, in the same run: it is recomputed with its start moved by 1 ulp
(x, then y) and with sqrt 1 ulp high on half of its inputs (tests/conftest.py, two seeds), and JS
must equal Python at every step before any of those moved it by more than 1e-13 of the window (100x
below the comparison's own floor); the table's final point is compared only when the whole walk is.
Measured here (steps compared of the walk): every walk of every preset to its end except RMSprop with
α 0.1 and 0.05 (seed-rmsprop-alpha: 35 and 30 of 101) or α 0.4 (73), with momentum 0.7, 0.5, 0.3
(seed-rmsprop-momentum: 109, 89, 56 of 161), the banana race's momentum (88 of 301) and RMSprop (187)
and the rotated quadratic's RMSprop (170 of 201).
Under `--other-cpu-sqrt` the Python side runs on the simulated other CPU.

The newcomer's view (issue 13): a first visit opens at step 0 and plays to the end once the canvas is
on screen, or shows the end with Play under prefers-reduced-motion; the canvas draws axes with
ticks, a legend in the runs' colours (a colour bar for a sweep), a labelled minimum and a marker where
a walk diverges; "same lr for all" and typed exact values set the learning rates; the controls sit
beside the canvas (which stays in view) on a wide screen and below it at 390 px, with no horizontal
overflow. Most tests open the playground with reduced motion, so the state they read is the end's.

Cost: a page load is ~1.5-2 s of Chromium's CPU, so the checks that start from a preset run one after
the other on that preset's load (`FROM_THE_PRESET`), each from the preset again, chosen in the
playground's menu as a reader would; the two race presets are the home page's and the comparing
page's own (one load and an instant navigation); the diverging-run marker is checked on the
announcement test's load; the Python walks are batched by optimessay.sweep and computed once per
state (tests/browser/playground_python.py). Playwright's clock does not make the first visit's
playback cheaper: run_for() draws every frame of it too (measured: 3.1 s of Chromium's CPU against
0.9 s played in real time).
"""

from __future__ import annotations

import math
import re
from urllib.parse import parse_qs, urlsplit

import pytest
import torch
from playground_python import RTOL, PythonSide, python_side
from widget_helpers import goto, shared_page

pytestmark = pytest.mark.browser
# one Chromium page for this module's tests (per worker), checked like conftest.py's `page`; each test
# loads its own URL in it as a new context would (widget_helpers.goto: no storage of the site)
page, each_test = shared_page()

STATE = "() => JSON.parse(JSON.stringify(document.querySelectorAll('.oe-playground')[0].oePlayground.state))"
FINALS = """() => [...document.querySelectorAll('.oe-playground')[0].querySelectorAll('td.oe-pg-final')]
    .map((td) => ({ run: Number(td.parentElement.dataset.run), x: td.dataset.x, y: td.dataset.y, text: td.textContent }))"""
CANVAS = "() => document.querySelectorAll('.oe-playground')[0].querySelector('canvas').toDataURL()"
SEED_SGD = {"kind": "momentum", "on": True, "hp": {"lr": 1e-3, "momentum": 0.98}, "sched": {"kind": "none", "params": {}}}


def _run(kind, hp, sched=None):
    return {"kind": kind, "on": True, "hp": hp, "sched": sched or {"kind": "none", "params": {}}}


# What the seed notebook ran (its cells 4, 9, 10 and 40), written out independently of state.js.
SEED_PRESETS = {
    "seed-sgd": (100, [SEED_SGD]),
    "seed-rmsprop-alpha": (100, [SEED_SGD] + [
        _run("rmsprop", {"lr": 0.01, "alpha": a, "momentum": 0.9}) for a in (0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0.05)
    ]),
    "seed-rmsprop-momentum": (160, [SEED_SGD] + [
        _run("rmsprop", {"lr": 0.01, "alpha": 0.5, "momentum": m}) for m in (0.9, 0.7, 0.5, 0.3)
    ]),
    "seed-schedulers": (100, [
        SEED_SGD,
        _run("momentum", {"lr": 1e-3, "momentum": 0.98}, {"kind": "exponential", "params": {"gamma": 0.99}}),
        _run("momentum", {"lr": 1e-3, "momentum": 0.98}, {"kind": "step", "params": {"step_size": 4, "gamma": 0.99}}),
        _run("momentum", {"lr": 1e-3, "momentum": 0.98},
             {"kind": "multistep", "params": {"milestones": [20, 40, 50, 70], "gamma": 0.9}}),
    ]),
}


def js_points(page, run: int) -> torch.Tensor:
    """The playground's own walk of run `run` (its Float64Array of points), as (steps+1, 2)."""
    flat = page.evaluate(f"() => Array.from(document.querySelectorAll('.oe-playground')[0].oePlayground.results[{run}].result.points)")
    return torch.tensor(flat, dtype=torch.float64).reshape(-1, 2)


def assert_close(js: float, py: float, what: str, scale: float) -> None:
    """1e-9 relative, or of 1 % of the window where the coordinate is near 0 (crossing an axis)."""
    assert js == py or abs(js - py) <= RTOL * max(abs(py), 0.01 * scale), f"{what}: playground {js!r}, optimessay {py!r}"


def assert_walks_equal_python(page, python: PythonSide, what: str, *, at_least: float = 0.2) -> None:
    """Every enabled run's whole JS walk equals Python's at each reliable step; at least `at_least` of
    each walk is reliable (else the preset is a test of the CPU: choose another)."""
    for run, points in python.walks.items():
        mask = python.reliable[run]
        n = int(mask.sum())
        assert n >= at_least * len(points), (
            f"{what} run {run}: the walk amplifies rounding at {len(points) - n} of {len(points)} steps: no test of an update rule")
        js = js_points(page, run)
        assert js.shape == points.shape
        floor = torch.clamp(points.abs(), min=0.01 * python.scale)
        err = torch.where(mask, ((js - points).abs() / floor).amax(dim=1), torch.zeros(()))
        worst = int(err.argmax())
        assert err[worst] <= RTOL, (
            f"{what} run {run} step {worst}: playground {js[worst].tolist()}, optimessay {points[worst].tolist()}")


def assert_finals_equal_python(page, python: PythonSide, what: str, *, displayed: bool = False) -> int:
    """The table's final points (data-x, data-y) equal Python's for the runs whose final point is
    reliable; returns how many were compared."""
    compared = 0
    for f in page.evaluate(FINALS):
        run = f["run"]
        if not python.final_is_reliable(run):
            continue
        px, py = python.final(run)
        assert_close(float(f["x"]), px, f"{what} run {run} x", python.scale)
        assert_close(float(f["y"]), py, f"{what} run {run} y", python.scale)
        if displayed:
            shown = [float(v) for v in re.findall(r"[-+0-9.e]+", f["text"])]
            assert shown == pytest.approx([px, py], rel=5e-4, abs=1e-12), f"displayed {f['text']}"  # 4 significant digits
            assert all(len(re.sub(r"e.*|[-.]", "", t).lstrip("0")) <= 4 for t in re.findall(r"[-+0-9.e]+", f["text"])), f["text"]
        compared += 1
    return compared


def open_playground(page, site_url: str, query: str = "", path: str = "", *, reduced_motion: bool = True):
    """Open a page's first playground; with reduced motion (the default here) it shows the end at once."""
    page.emulate_media(reduced_motion="reduce" if reduced_motion else "no-preference")
    goto(page, f"{site_url}{path}{query}")
    page.wait_for_function("() => document.querySelector('.oe-playground')?.oePlayground?.results?.length > 0")
    return page.locator(".oe-playground").first


def wait_for_url(page, pattern: str):
    page.wait_for_function(f"() => new RegExp({pattern!r}).test(window.location.search)", timeout=3000)


def back_to(page, root, preset: str, opened: dict) -> None:
    """Choose `preset` in the playground's menu, as a reader starting over: the state is again the one
    the page opened with (`opened`), so the check that follows starts where it did on a load of its own."""
    root.locator("select[id$='-preset']").select_option(preset)
    assert page.evaluate(STATE) == opened, f"choosing {preset} again did not give the state the page opened with"


# --- the tests ----------------------------------------------------------------------------------------


@pytest.mark.slow  # the module's longest test (both races): started first under xdist
def test_home_page_playground_draws_the_race_with_axes_legend_minimum_plays_on_request_and_mounts_again(
        page, site_url, other_cpu, simulated_sqrt):
    """One load of the home page (reduced motion), then the comparing page by instant navigation, six
    checks in turn: the race and its labelled controls; the axes, legend and minimum drawn; under
    reduced motion the end shown; the banana race's walks equal Python's, then what a reader does
    from it (`race_walks_equal_python`); playing only on request; the comparing page's playground
    mounted after instant navigation, and its rotated-quadratic race equal to Python's, then what a
    reader does from it. (The two races were a test of their own, each loading the home page with
    `?preset=`: the home page opens the banana race and the comparing page the rotated quadratic,
    and a load costs ~1.5 s of Chromium's CPU; `?preset=` is read on the seed presets' loads.)"""
    root = open_playground(page, site_url)
    state = page.evaluate(STATE)
    assert state["preset"] == "banana-race"
    assert [r["kind"] for r in state["runs"]] == ["sgd", "momentum", "nesterov", "rmsprop", "adam", "adamw", "adagrad"]
    assert root.locator("canvas").bounding_box()["width"] > 300
    assert root.locator("tbody tr").count() == 7
    # every control has a label, and the readout is announced politely
    unlabelled = page.evaluate("""() => [...document.querySelectorAll('.oe-playground input, .oe-playground select')]
        .filter((el) => !el.labels || el.labels.length === 0).map((el) => el.id || el.outerHTML.slice(0, 60))""")
    assert unlabelled == []
    assert root.locator("[aria-live=polite]").inner_text().startswith("Step 300 of 300")

    # the axes, the legend and the minimum are drawn
    drawn = page.evaluate(f"() => {PG}.drawn")
    assert [t["value"] for t in drawn["ticks"]["x"]] == [-2, -1, 0, 1, 2]
    assert [t["value"] for t in drawn["ticks"]["y"]][0] == -1 and [t["value"] for t in drawn["ticks"]["y"]][-1] == 3
    plot = page.evaluate(f"() => {PG}.layout.plot")
    # every tick has its mark and its label in ink below / left of the frame
    for tick in drawn["ticks"]["x"]:
        assert near(pixel(page, tick["px"], plot["y"] + plot["h"] + 3), [34, 34, 34], 80), f"x tick {tick}"
        label = pixels(page, [(tick["px"] + dx, plot["y"] + plot["h"] + 13) for dx in range(-6, 7)])
        assert any(sum(p[:3]) < 400 for p in label), f"no label under x tick {tick['value']}"
    for tick in drawn["ticks"]["y"]:
        label = pixels(page, [(plot["x"] - 12 + dx, tick["py"]) for dx in range(-8, 6)])
        assert any(sum(p[:3]) < 400 for p in label), f"no label left of y tick {tick['value']}"
    # the legend names the seven optimizers, each drawn in its colour
    state = page.evaluate(STATE)
    assert [e["label"] for e in drawn["legend"]] == ["SGD", "Momentum", "Nesterov", "RMSprop", "Adam", "AdamW", "Adagrad"]
    colours = page.evaluate(f"() => {PG}.results.map((w) => w.colour)")
    for entry, colour in zip(drawn["legend"], colours, strict=True):
        assert entry["colour"] == colour
        assert near(pixel(page, entry["x"] + 9, entry["y"] + 9), rgb(colour)), entry
    assert len(state["runs"]) == 7
    # the minimum: a dark cross at (1, 1), labelled
    (minimum,) = drawn["minima"]
    assert near(pixel(page, minimum["x"], minimum["y"]), [17, 17, 17], 60)

    # reduced motion: the end, without animating
    assert page.evaluate(f"() => {PG}.openedAtStep") is None  # the end
    root.locator("canvas").scroll_into_view_if_needed()
    page.wait_for_timeout(400)
    assert page.evaluate(f"() => [{PG}.playing, {PG}.currentStep()]") == [False, 300]
    play = root.locator("button.oe-pg-play")
    assert play.is_visible() and play.inner_text() == "Play"

    # the banana race equals Python, then what a reader does from it; then the preset again
    race_walks_equal_python(page, root, site_url, "banana-race", state, other_cpu, simulated_sqrt)
    back_to(page, root, "banana-race", state)
    assert page.evaluate(f"() => [{PG}.playing, {PG}.currentStep()]") == [False, 300]
    play.click()  # the reader asks for the animation: it plays from step 0
    page.wait_for_function(f"() => {PG}.playing && {PG}.state.t < 300", timeout=3000)
    play.click()
    assert page.evaluate(f"() => {PG}.playing") is False
    # the link is followed at once, while the paused step's URL write (150 ms after the change) is still
    # pending: Material changes the URL before it swaps the page, and that write must not land on the
    # next page's URL (it did: the comparing page's playground then opened the home page's state)
    page.locator("a.md-nav__link[href$='comparing/']").first.click()
    page.wait_for_url(lambda url: urlsplit(url).path.endswith("/comparing/"))
    page.wait_for_function("() => document.querySelector('.oe-playground')?.oePlayground?.state?.preset === 'rotated-quadratic'")
    page.wait_for_timeout(300)  # longer than the write's delay: nothing may arrive late either
    assert urlsplit(page.url).query == "", page.url
    assert page.locator(".oe-playground canvas").count() == 1

    # the comparing page's race equals Python, then what a reader does from it
    page.wait_for_function("() => document.querySelector('.oe-playground')?.oePlayground?.results?.length > 0")
    race_walks_equal_python(page, page.locator(".oe-playground").first, site_url, "rotated-quadratic",
                            page.evaluate(STATE), other_cpu, simulated_sqrt)


@pytest.mark.parametrize("preset", list(SEED_PRESETS))
def test_seed_preset_walks_equal_python_then_what_a_reader_does_from_it(page, site_url, preset, other_cpu, simulated_sqrt):
    """The preset is the seed notebook's experiment and its walks equal Python's; then, on the same load,
    each check of `FROM_THE_PRESET[preset]` in turn, each from the preset again (`back_to`)."""
    root = open_playground(page, site_url, f"?preset={preset}")
    state = page.evaluate(STATE)
    steps, runs = SEED_PRESETS[preset]
    assert (state["landscape"], state["start"], state["steps"]) == ("rosenbrock", [-1.5, 2.5], steps)
    assert state["runs"] == runs, "the preset is not the seed notebook's experiment"
    finals = page.evaluate(FINALS)
    assert [f["run"] for f in finals] == list(range(len(runs)))
    python = python_side(state, other_cpu, simulated_sqrt)
    assert_walks_equal_python(page, python, preset)
    # RMSprop with α ≤ 0.1 or momentum 0.5 (seed-rmsprop-alpha, -momentum) amplifies rounding near its
    # end; the other runs' displayed final points are compared too
    assert assert_finals_equal_python(page, python, preset, displayed=True) >= len(runs) - 3
    for check in FROM_THE_PRESET[preset]:
        back_to(page, root, preset, state)
        check(page, root, site_url, other_cpu, simulated_sqrt)


def race_walks_equal_python(page, root, site_url, preset, state, other_cpu, simulated_sqrt):
    """A race preset, open in `root` with `state`: every contestant's walk equals Python's where it is
    not chaotic. The rotated quadratic's RMSprop (lr 1) is chaotic from about step 100: there only its
    first steps are compared, and its final point is not (on another CPU it moved from -1.3e-5 to
    -2.3e-5). Then, on the same load, each check of `FROM_THE_PRESET[preset]` in turn, each from the
    preset again (`back_to`)."""
    assert state["preset"] == preset
    python = python_side(state, other_cpu, simulated_sqrt)
    assert_walks_equal_python(page, python, preset)
    compared = assert_finals_equal_python(page, python, preset)
    assert compared >= len(state["runs"]) - 1, f"{preset}: {compared} final points are a test of the update rules"
    for check in FROM_THE_PRESET[preset]:
        back_to(page, root, preset, state)
        check(page, root, site_url, other_cpu, simulated_sqrt)


def test_the_announcement_never_names_a_diverged_walk(page, site_url):
    """SGD at lr 1 diverges on the banana; listed first, it used to be announced as the lowest loss
    ("lowest loss NaN by SGD"): NaN never compares smaller, so nothing else could win. Then, on the
    same load, SGD at lr 0.01: its divergence is marked where it left the view."""
    root = open_playground(page, site_url, "?preset=seed-sgd&run=sgd:lr=1&run=adam:lr=0.05")
    state = page.evaluate(STATE)
    assert [(r["kind"], r["hp"]) for r in state["runs"]] == [("sgd", {"lr": 1}), ("adam", {"lr": 0.05})]
    live = root.locator("[aria-live=polite]").inner_text()
    assert live.startswith("Step 100 of 100: lowest loss ") and live.endswith(" by Adam (lr 0.05).") and "NaN" not in live
    root.locator("[data-run='1'] legend input[type=checkbox]").uncheck()  # only the diverged walk is left
    assert root.locator("[aria-live=polite]").inner_text() == "Step 100 of 100: SGD (lr 1) has diverged."

    # then, on this load, SGD at lr 0.01 typed in: exactly the state
    # `?preset=seed-sgd&run=sgd:lr=0.01&run=adam:lr=0.05` opens
    root.locator("[data-run='1'] legend input[type=checkbox]").check()
    lr = root.locator("input[id$='-r0-lr-num']")
    lr.fill("0.01")
    lr.press("Enter")
    expected = {**state, "runs": [{**state["runs"][0], "hp": {"lr": 0.01}}, *state["runs"][1:]]}
    assert page.evaluate(STATE) == expected
    a_diverging_run_is_marked_where_it_left_the_view(page, root)
    # and when the playground mounts on that URL (the marker is drawn by another path than a redraw)
    root = open_playground(page, site_url, "?preset=seed-sgd&run=sgd:lr=0.01&run=adam:lr=0.05")
    assert page.evaluate(STATE) == expected
    a_diverging_run_is_marked_where_it_left_the_view(page, root)


def test_a_decay_rate_of_0_9999_reads_0_9999(page, site_url):
    root = open_playground(page, site_url, "?preset=seed-sgd&run=adam:lr=0.05,beta2=0.9999&run=rmsprop:alpha=0.9999")
    rows = root.locator("tbody tr th")
    assert "β₂ 0.9999" in rows.nth(0).inner_text() and "α 0.9999" in rows.nth(1).inner_text()
    for run, key in ((0, "beta2"), (1, "alpha")):
        slider = root.locator(f"[data-run='{run}'] input[id$='-r{run}-{key}']")
        assert slider.get_attribute("aria-valuetext") == "0.9999", key
        assert root.locator(f"#{slider.get_attribute('id')}-num").input_value() == "0.9999", key


def check_moving_a_slider_changes_the_drawn_trajectory(page, root, site_url, other_cpu, simulated_sqrt):
    before_canvas = page.evaluate(CANVAS)
    before = page.evaluate(FINALS)[0]
    slider = root.locator("[data-run='0'] input[type=range]").first  # the learning rate
    slider.focus()
    for _ in range(10):
        slider.press("ArrowRight")
    state = page.evaluate(STATE)
    assert state["runs"][0]["hp"]["lr"] > 1e-3
    after = page.evaluate(FINALS)[0]
    assert (after["x"], after["y"]) != (before["x"], before["y"])
    assert page.evaluate(CANVAS) != before_canvas, "the canvas did not change"
    python = python_side(state, other_cpu, simulated_sqrt)
    assert_walks_equal_python(page, python, "after the slider moved")
    assert assert_finals_equal_python(page, python, "after the slider moved") == 1
    wait_for_url(page, "lr=" + re.escape(str(state["runs"][0]["hp"]["lr"])))


def check_url_round_trips_the_state(page, root, site_url, other_cpu, simulated_sqrt):
    root.locator("[data-run='1'] legend input[type=checkbox]").uncheck()  # switch run 2 off
    root.locator("[data-run='2'] .oe-pg-more-toggle").click()  # run 3's settings beyond its lr
    root.locator("[data-run='2'] select").select_option("cosine")  # run 3: another schedule
    steps = root.locator("input[id$='-steps']")
    steps.focus()
    steps.press("ArrowRight")
    root.locator("canvas").click(position={"x": 120, "y": 200})  # a new start
    root.locator("button", has_text="step").first.click()  # one step back in time
    page.locator("input[id$='-precond']").first.check()
    expected = page.evaluate(STATE)
    finals = page.evaluate(FINALS)
    wait_for_url(page, "precond=1")
    url = page.url
    query = parse_qs(urlsplit(url).query)
    assert query["steps"] == ["101"] and query["t"] == ["100"] and "on=0" in query["run"][1]
    open_playground(page, site_url, "?" + urlsplit(url).query)  # a new load (goto leaves for about:blank first)
    assert page.evaluate(STATE) == expected
    assert page.evaluate(FINALS) == finals
    assert page.locator(".oe-pg-messages").inner_text() == ""


def test_malformed_url_parameters_give_a_visible_message_and_no_injection(page, site_url):
    hostile = "%3Cimg%20src%3Dx%20onerror%3D%22window.__pwned%3D1%22%3E"
    query = (f"?preset=seed-sgd&land={hostile}&steps=99999&scale=%3Cb%3Ebold%3C%2Fb%3E&start=1,2,3"
             f"&run=adam:lr=abc&run={hostile}&run=momentum:lr=50,momentum=0.9&{hostile}=1")
    root = open_playground(page, site_url, query)
    messages = root.locator(".oe-pg-messages")
    assert messages.is_visible()
    text = messages.inner_text()
    for fragment in ("Unknown landscape", '"<img src=x onerror="window.__pwned=1">"', "steps=99999", "scale=<b>bold</b>",
                     "start=1,2,3", "lr=abc", "unknown optimizer", "lr=50", "Unknown URL parameter"):
        assert fragment in text, f"no message about {fragment!r} in:\n{text}"
    assert page.evaluate("() => window.__pwned") is None
    assert page.evaluate("() => document.querySelectorAll('.oe-playground img, .oe-playground b, .oe-playground script').length") == 0
    state = page.evaluate(STATE)
    assert (state["landscape"], state["steps"], state["scale"]) == ("rosenbrock", 1000, "log")
    assert [(r["kind"], r["hp"]) for r in state["runs"]] == [("adam", {}), ("momentum", {"lr": 10, "momentum": 0.9})]


def test_keyboard_start_point_time_controls_and_reset(page, site_url):
    root = open_playground(page, site_url, "?preset=seed-sgd&steps=200")
    canvas = root.locator("canvas")
    canvas.focus()
    canvas.press("ArrowRight")
    canvas.press("Shift+ArrowUp")
    assert page.evaluate(STATE)["start"] == [-1.46, 2.9]
    outline = page.evaluate("() => getComputedStyle(document.activeElement).outlineStyle")
    assert outline == "solid", "keyboard focus is not visible"
    # play, pause, step
    play = root.locator("button", has_text="Play")
    play.click()
    page.wait_for_timeout(150)
    pause = root.locator("button[aria-pressed=true]")
    assert pause.inner_text() == "Pause"
    pause.click()
    t = page.evaluate(STATE)["t"]
    assert 0 < t < 200
    page.wait_for_timeout(100)
    assert page.evaluate(STATE)["t"] == t, "time moved while paused"
    root.locator("button", has_text="step ▶").click()
    assert page.evaluate(STATE)["t"] == t + 1
    assert root.locator("caption").inner_text().startswith(f"At step {t + 1} of 200")
    # reset: back to the page's own preset, and the URL forgets the state
    root.locator("button", has_text="Reset").click()
    assert page.evaluate(STATE)["preset"] == "banana-race"
    assert urlsplit(page.url).query == ""


def check_preconditioner_view_draws_and_reads_out(page, root, site_url, other_cpu, simulated_sqrt):
    before = page.evaluate(CANVAS)
    root.locator("input[id$='-precond']").check()
    assert page.evaluate(CANVAS) != before
    # RMSprop's lr·P differs per coordinate (diagonal P), SGD's is lr in both
    rows = root.locator("tbody tr")
    sgd = rows.nth(0).locator("td").nth(3).inner_text()
    rms = rows.nth(3).locator("td").nth(3).inner_text()
    assert sgd == "0.0316, 0.0316"
    a, b = (float(v) for v in rms.split(","))
    assert a != b



def check_landscape_add_and_remove_controls_stay_equal_to_python(page, root, site_url, other_cpu, simulated_sqrt):
    root.locator("select[id$='-land']").select_option("himmelblau")
    root.locator("select[id$='-add']").select_option("adam")
    root.locator("select[id$='-add']").select_option("rmsprop")
    root.locator("[data-run='0'] .oe-pg-remove").click()  # remove the seed's SGD
    state = page.evaluate(STATE)
    assert (state["landscape"], state["start"], state["scale"]) == ("himmelblau", [0.0, 0.0], "log")
    assert [r["kind"] for r in state["runs"]] == ["adam", "rmsprop"]
    assert len(page.evaluate(FINALS)) == 2
    python = python_side(state, other_cpu, simulated_sqrt)
    assert_walks_equal_python(page, python, "himmelblau")
    assert assert_finals_equal_python(page, python, "himmelblau") == 2


def check_quadratic_sliders_redraw_and_stay_equal_to_python(page, root, site_url, other_cpu, simulated_sqrt):
    before = page.evaluate(CANVAS)
    theta = root.locator("input[id$='-theta']")
    theta.focus()
    for _ in range(15):
        theta.press("ArrowLeft")
    state = page.evaluate(STATE)
    assert state["theta"] == 15
    assert page.evaluate(CANVAS) != before
    python = python_side(state, other_cpu, simulated_sqrt)
    assert_walks_equal_python(page, python, "theta 15")
    assert assert_finals_equal_python(page, python, "theta 15") >= len(state["runs"]) - 1



def check_dragging_on_the_canvas_moves_the_start_and_recomputes(page, root, site_url, other_cpu, simulated_sqrt):
    root.locator("canvas").scroll_into_view_if_needed()
    box = root.locator("canvas").bounding_box()  # in the viewport's coordinates, as the mouse's
    y = box["y"] + box["height"] * 0.5
    page.mouse.move(box["x"] + box["width"] * 0.25, y)
    page.mouse.down()
    pressed = page.evaluate(STATE)["start"]
    assert pressed != [-1.5, 2.5], "pressing on the canvas did not set the start"
    page.mouse.move(box["x"] + box["width"] * 0.75, y, steps=5)
    dragged = page.evaluate(STATE)["start"]
    page.mouse.up()
    page.mouse.move(box["x"] + box["width"] * 0.9, box["y"] + box["height"] * 0.1)  # not dragging any more
    state = page.evaluate(STATE)
    assert state["start"] == dragged
    # half the canvas to the right: x grew, y (same row of pixels) did not change
    assert dragged[0] > pressed[0] and dragged[1] == pressed[1]
    assert len(page.evaluate(FINALS)) == 1
    python = python_side(state, other_cpu, simulated_sqrt)
    assert_walks_equal_python(page, python, "after the drag")
    assert assert_finals_equal_python(page, python, "after the drag") == 1
    wait_for_url(page, re.escape(f"start={dragged[0]:g},{dragged[1]:g}&"))


# --- the newcomer's playground (issue 13) ----------------------------------------------------------

PG = "document.querySelectorAll('.oe-playground')[0].oePlayground"


def pixels(page, points: list[tuple[float, float]]) -> list[list[int]]:
    """The canvas's RGBA at each CSS pixel (x, y) of `points`, read in one round trip to the browser."""
    return page.evaluate(f"""(points) => {{ const pg = {PG}; const dpr = pg.canvas.width / pg.canvas.clientWidth;
        const context = pg.canvas.getContext('2d');
        return points.map(([x, y]) => Array.from(context.getImageData(Math.floor(x * dpr), Math.floor(y * dpr), 1, 1).data)); }}""",
        [[x, y] for x, y in points])


def pixel(page, x: float, y: float) -> list[int]:
    """The canvas's RGBA at CSS pixel (x, y)."""
    return pixels(page, [(x, y)])[0]


def rgb(hex_colour: str) -> list[int]:
    return [int(hex_colour[i:i + 2], 16) for i in (1, 3, 5)]


def near(actual: list[int], expected: list[int], tol: int = 40) -> bool:
    return all(abs(a - e) <= tol for a, e in zip(actual[:3], expected, strict=True))


def test_a_first_visit_starts_at_step_0_and_plays_to_the_end(page, site_url):
    """Without reduced motion: step 0 until the canvas is on screen, then it plays through to the
    last step by itself and stops there; the link is left as it was."""
    open_playground(page, site_url, reduced_motion=False)
    assert page.evaluate(f"() => {PG}.openedAtStep") == 0
    root = page.locator(".oe-playground").first
    root.locator("canvas").scroll_into_view_if_needed()
    page.wait_for_function(f"() => {PG}.state.t > 0 && {PG}.state.t < {PG}.state.steps", timeout=5000)
    assert root.locator("button.oe-pg-play").inner_text() == "Pause"
    assert root.locator("button.oe-pg-play").is_visible()
    page.wait_for_function(f"() => !{PG}.playing && {PG}.state.t === {PG}.state.steps", timeout=10000)
    assert root.locator("button.oe-pg-play").inner_text() == "Play"
    assert root.locator("[aria-live=polite]").inner_text().startswith("Step 300 of 300")
    assert root.locator("input[id$='-t']").input_value() == "300"  # the scrubber at the end
    page.wait_for_timeout(300)
    assert urlsplit(page.url).query == ""




def check_a_sweep_gets_a_ramp_and_a_colour_bar(page, root, site_url, other_cpu, simulated_sqrt):
    drawn = page.evaluate(f"() => {PG}.drawn")
    assert [(e["label"], e["type"]) for e in drawn["legend"]] == [("Momentum", "line"), ("RMSprop α", "bar")]
    colours = page.evaluate(f"() => {PG}.results.map((w) => w.colour)")
    assert len(set(colours)) == 10
    # the bar's cells, left to right, are the runs' colours ordered by alpha (0.05 ... 0.8)
    layout = page.evaluate(f"""() => {{ const e = {PG}.layout.legend.entries.find((e) => e.item.type === 'bar');
        return {{ x: e.x, y: e.y, label: e.item.labelWidth, cell: e.item.cellWidth, values: e.item.values }}; }}""")
    assert layout["values"] == ["0.05", "0.1", "0.2", "0.3", "0.4", "0.5", "0.6", "0.7", "0.8"]
    by_alpha = sorted(range(1, 10), key=lambda i: page.evaluate(STATE)["runs"][i]["hp"]["alpha"])
    for cell, run in enumerate(by_alpha):
        x = layout["x"] + layout["label"] + 8 + (cell + 0.5) * layout["cell"]
        assert near(pixel(page, x, layout["y"] + 8), rgb(colours[run]), 12), f"cell {cell}"
    # each run card is named by its alpha
    assert page.locator(".oe-playground [data-run='9'] legend label").inner_text().strip() == "RMSprop α 0.05"


def a_diverging_run_is_marked_where_it_left_the_view(page, root):
    """SGD at lr 0.01 and Adam at lr 0.05 on seed-sgd (test_the_announcement_never_names_a_diverged_walk
    sets them): SGD's divergence is marked, in its colour, where it left the window, and not before."""
    diverged_at = page.evaluate(f"() => {PG}.results[0].result.divergedAt")
    assert diverged_at is not None and diverged_at > 0
    markers = page.evaluate(f"() => {PG}.drawn.markers")
    assert [(m["run"], m["text"]) for m in markers] == [(0, f"SGD diverged at step {diverged_at}")]
    marker = markers[0]
    plot = page.evaluate(f"() => {PG}.layout.plot")
    assert plot["x"] <= marker["x"] <= plot["x"] + plot["w"] and plot["y"] <= marker["y"] <= plot["y"] + plot["h"]
    assert near(pixel(page, marker["x"], marker["y"]), rgb("#0072B2"), 60), "the marker is not in SGD's colour"
    assert root.locator("tbody tr[data-run='0'] td").first.inner_text() == f"diverged at step {diverged_at}"
    # before the walk left the window there is no marker
    exit_step = page.evaluate(f"() => {PG}.results[0].exit.step")
    root.locator("input[id$='-t']").fill(str(exit_step - 1))
    assert page.evaluate(f"() => {PG}.drawn.markers") == []


def check_same_lr_for_all_sets_every_runs_lr(page, root, site_url, other_cpu, simulated_sqrt):
    same = root.locator("input[id$='-same-lr-num']")
    assert same.is_visible()
    same.fill("0.003")
    same.press("Enter")
    state = page.evaluate(STATE)
    assert [r["hp"]["lr"] for r in state["runs"]] == [0.003] * 7
    for i in range(7):
        assert root.locator(f"input[id$='-r{i}-lr-num']").input_value() == "0.003"
        assert float(root.locator(f"input[id$='-r{i}-lr']").input_value()) == pytest.approx(math.log10(0.003), abs=0.006)  # its 0.01 steps
    wait_for_url(page, "(run=[a-z]+:lr=0.003[,&;]?.*){7}")
    # the slider of "same lr for all" moves them together too
    slider = root.locator("input[id$='-same-lr']")
    slider.focus()
    slider.press("ArrowRight")
    lrs = {r["hp"]["lr"] for r in page.evaluate(STATE)["runs"]}
    assert len(lrs) == 1 and lrs != {0.003}


def check_a_typed_value_sets_the_slider_exactly(page, root, site_url, other_cpu, simulated_sqrt):
    field = root.locator("input[id$='-r0-lr-num']")
    field.fill("0.0012345")
    field.press("Enter")
    state = page.evaluate(STATE)
    assert state["runs"][0]["hp"]["lr"] == 0.0012345  # exact, not snapped to the slider's 3 digits
    assert float(root.locator("input[id$='-r0-lr']").input_value()) == pytest.approx(math.log10(0.0012345), abs=0.006)
    python = python_side(state, other_cpu, simulated_sqrt)
    assert_walks_equal_python(page, python, "typed lr")
    # outside the slider's range: clamped to it, and said in the field
    momentum = root.locator("[data-run='0'] .oe-pg-more-toggle")
    momentum.click()
    mu = root.locator("input[id$='-r0-momentum-num']")
    mu.fill("1.5")
    mu.press("Enter")
    assert page.evaluate(STATE)["runs"][0]["hp"]["momentum"] == 0.999
    assert mu.input_value() == "0.999"


def check_layout_wide_beside_and_sticky_phone_stacked_without_overflow_and_the_canvas_fits_every_width(page, root, site_url, other_cpu, simulated_sqrt):
    """One load: the layout at 1280 px, then at 390 px, then the canvas within the playground at 380,
    800 and 1280 px."""
    stage, side = root.locator(".oe-pg-stage"), root.locator(".oe-pg-side")
    s, c = stage.bounding_box(), side.bounding_box()
    assert c["x"] >= s["x"] + s["width"] - 1, "at 1280 px the controls are not beside the canvas"
    assert page.evaluate("() => getComputedStyle(document.querySelector('.oe-pg-stage')).position") == "sticky"
    # scrolling down the controls (taller than the canvas) keeps the canvas in view
    assert c["height"] > s["height"] + 100
    page.evaluate("""() => { const side = document.querySelector('.oe-pg-side').getBoundingClientRect();
        const stage = document.querySelector('.oe-pg-stage').getBoundingClientRect();
        window.scrollTo(0, side.top + window.scrollY + (side.height - stage.height) / 2); }""")
    page.wait_for_timeout(100)
    assert root.locator(".oe-pg-side").bounding_box()["y"] < -50, "the controls did not scroll"
    canvas = root.locator("canvas").bounding_box()
    assert canvas["y"] >= 0 and canvas["y"] + canvas["height"] <= 900, f"the canvas scrolled away: {canvas}"
    page.set_viewport_size({"width": 390, "height": 844})
    page.wait_for_timeout(200)
    s, c = stage.bounding_box(), side.bounding_box()
    assert c["y"] >= s["y"] + s["height"] - 1, "at 390 px the controls are not below the canvas"
    assert page.evaluate("() => document.documentElement.scrollWidth - document.documentElement.clientWidth") == 0
    box = root.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 390
    assert root.locator("canvas").bounding_box()["width"] <= box["width"]
    # the settings beyond each lr are folded away: a compact list
    assert root.locator(".oe-pg-more:visible").count() == 0

    # narrow and wide windows: the canvas never overflows the playground
    for width in (380, 800, 1280):
        page.set_viewport_size({"width": width, "height": 900})
        page.wait_for_timeout(100)
        box = root.locator("canvas").bounding_box()
        assert box["width"] <= root.bounding_box()["width"], f"the canvas overflows at {width} px"


def test_dark_mode_and_the_preconditioner_view(page, site_url):
    root = open_playground(page, site_url, "?preset=seed-sgd&run=sgd:lr=0.001&run=adam:lr=0.05&t=40&precond=1")
    assert near(pixel(page, 2, 2), rgb("#f4f4f2"), 2)  # the light card
    page.evaluate("() => document.body.setAttribute('data-md-color-scheme', 'slate')")  # Material's dark palette
    page.wait_for_function(f"() => {PG}.dark === true")
    # redrawn as the figures' dark variant: dark card, light ink, the dark optimizer colours
    assert near(pixel(page, 2, 2), rgb("#262a35"), 2)
    assert [e["colour"] for e in page.evaluate(f"() => {PG}.drawn.legend")] == ["#c0e6fc", "#f6974c"]
    entry = page.evaluate(f"() => {PG}.drawn.legend[1]")
    assert near(pixel(page, entry["x"] + 9, entry["y"] + 9), rgb("#f6974c"))
    key = page.evaluate(f"() => {PG}.drawn.precondKey")
    assert key["reference"] > 0 and 0 < key["pixels"] <= 26
    rows = root.locator("tbody tr")
    # the readout: lr·P per coordinate and the step actually taken, 4 significant digits
    sgd_lrp = rows.nth(0).locator("td.oe-pg-lrp").inner_text()
    assert sgd_lrp == "0.001, 0.001"
    step = float(rows.nth(1).locator("td.oe-pg-step").inner_text())
    points = page.evaluate(f"() => Array.from({PG}.results[1].result.points.slice(78, 82))")
    assert step == pytest.approx(math.hypot(points[2] - points[0], points[3] - points[1]), rel=5e-4)
    header = root.locator("thead").inner_text()
    assert "multiplies ĝ" in header and "|Δx|" in header
    colour = page.evaluate("() => getComputedStyle(document.querySelector('.oe-pg-num')).color")
    background = page.evaluate("() => getComputedStyle(document.body).backgroundColor")
    assert colour != background


# What each preset's test checks after the preset itself, on the same load. Each check was a test of its
# own that loaded the page with the preset (a load costs ~2 s of Chromium's CPU); each starts from the
# preset again. The layout check changes the window's size: last.
FROM_THE_PRESET = {
    "seed-sgd": [check_moving_a_slider_changes_the_drawn_trajectory, check_dragging_on_the_canvas_moves_the_start_and_recomputes,
                 check_landscape_add_and_remove_controls_stay_equal_to_python, check_a_typed_value_sets_the_slider_exactly],
    "seed-rmsprop-alpha": [check_a_sweep_gets_a_ramp_and_a_colour_bar],
    "seed-rmsprop-momentum": [],
    "seed-schedulers": [check_url_round_trips_the_state],
    "banana-race": [check_same_lr_for_all_sets_every_runs_lr,
                    check_layout_wide_beside_and_sticky_phone_stacked_without_overflow_and_the_canvas_fits_every_width],
    "rotated-quadratic": [check_preconditioner_view_draws_and_reads_out, check_quadratic_sliders_redraw_and_stay_equal_to_python],
}
