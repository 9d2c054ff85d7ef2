"""The playground on the built site, in Chromium (docs/playground/*.js).

The `page` fixture (tests/browser/conftest.py) fails every test on a console error, an uncaught page
error or a request outside 127.0.0.1. These tests check what the reader does: moving a slider
changes the drawn paths, each preset's displayed final points equal optimessay's (the Python
package, float64, to 1e-9 relative), the URL carries the whole state, malformed or hostile URL
parameters give a visible message and are never injected, the keyboard drives everything, and
the playground mounts again after Material's instant navigation.
"""

from __future__ import annotations

import math
import re
from urllib.parse import parse_qs, urlsplit

import pytest
import torch
from site_helpers import load_script

from optimessay import landscapes, trajectory

pytestmark = pytest.mark.browser
export_vectors = load_script("export_vectors")

RTOL = 1e-9
STATE = "() => JSON.parse(JSON.stringify(document.querySelectorAll('.oe-playground')[0].oePlayground.state))"
FINALS = """() => [...document.querySelectorAll('.oe-playground')[0].querySelectorAll('td.oe-pg-final')]
    .map((td) => ({ run: Number(td.parentElement.dataset.run), x: td.dataset.x, y: td.dataset.y, text: td.textContent }))"""
CANVAS = "() => document.querySelectorAll('.oe-playground')[0].querySelector('canvas').toDataURL()"
SEED_SGD = {"kind": "momentum", "on": True, "hp": {"lr": 1e-3, "momentum": 0.98}, "sched": {"kind": "none", "params": {}}}
KINDS = {  # the playground's toggles -> optimessay classes and their fixed options
    "sgd": ("sgd", {}),
    "momentum": ("sgd", {}),
    "nesterov": ("sgd", {"nesterov": True}),
    "rmsprop": ("rmsprop", {}),
    "adam": ("adam", {}),
    "adamw": ("adamw", {}),
    "adagrad": ("adagrad", {}),
}


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


def python_final(state: dict, r: dict) -> tuple[float, float]:
    """The final point of run `r` of a playground state, computed by optimessay (float64)."""
    params = {}
    if state["landscape"] == "quadratic":
        params = {"kappa": float(state["kappa"]), "theta": math.radians(state["theta"])}
    land = landscapes.get(state["landscape"], **params)
    kind, fixed = KINDS[r["kind"]]
    hp = dict(r["hp"], **fixed)
    if r["kind"] == "sgd":
        hp.pop("momentum", None)
    scheduler = export_vectors.SCHEDULERS[r["sched"]["kind"]]
    walk = trajectory.run(
        land,
        export_vectors.OPTIMIZERS[kind],
        export_vectors.optimizer_kwargs(kind, hp),
        start=tuple(state["start"]),
        steps=state["steps"],
        scheduler_class=scheduler,
        scheduler_kwargs=dict(r["sched"]["params"]) if scheduler else None,
        dtype=torch.float64,
    )
    x, y = walk.points[-1].tolist()
    return x, y


def assert_close(js: float, py: float, what: str) -> None:
    assert js == py or abs(js - py) <= RTOL * abs(py), f"{what}: playground {js!r}, optimessay {py!r}"


def open_playground(page, site_url: str, query: str = "", path: str = ""):
    page.goto(f"{site_url}{path}{query}")
    page.wait_for_function("() => document.querySelector('.oe-playground')?.oePlayground?.results?.length > 0")
    return page.locator(".oe-playground").first


def wait_for_url(page, pattern: str):
    page.wait_for_function(f"() => new RegExp({pattern!r}).test(window.location.search)", timeout=3000)


# --- the tests ----------------------------------------------------------------------------------------


def test_home_page_playground_draws_the_race(page, site_url):
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


@pytest.mark.parametrize("preset", list(SEED_PRESETS))
def test_seed_preset_final_points_equal_python(page, site_url, preset):
    open_playground(page, site_url, f"?preset={preset}")
    state = page.evaluate(STATE)
    steps, runs = SEED_PRESETS[preset]
    assert (state["landscape"], state["start"], state["steps"]) == ("rosenbrock", [-1.5, 2.5], steps)
    assert state["runs"] == runs, "the preset is not the seed notebook's experiment"
    finals = page.evaluate(FINALS)
    assert [f["run"] for f in finals] == list(range(len(runs)))
    for f, r in zip(finals, runs, strict=True):
        px, py = python_final(state, r)
        assert_close(float(f["x"]), px, f"{preset} run {f['run']} x")
        assert_close(float(f["y"]), py, f"{preset} run {f['run']} y")
        shown = [float(v) for v in re.findall(r"[-+0-9.e]+", f["text"])]
        assert shown == pytest.approx([px, py], rel=1e-6, abs=1e-12), f"displayed {f['text']}"


@pytest.mark.parametrize("preset", ["banana-race", "rotated-quadratic"])
def test_race_preset_final_points_equal_python(page, site_url, preset):
    open_playground(page, site_url, f"?preset={preset}")
    state = page.evaluate(STATE)
    for f in page.evaluate(FINALS):
        px, py = python_final(state, state["runs"][f["run"]])
        assert_close(float(f["x"]), px, f"{preset} run {f['run']} x")
        assert_close(float(f["y"]), py, f"{preset} run {f['run']} y")


def test_moving_a_slider_changes_the_drawn_trajectory(page, site_url):
    root = open_playground(page, site_url, "?preset=seed-sgd")
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
    px, py = python_final(state, state["runs"][0])
    assert_close(float(after["x"]), px, "x after the slider moved")
    wait_for_url(page, "lr=" + re.escape(str(state["runs"][0]["hp"]["lr"])))


def test_url_round_trips_the_state(page, site_url):
    root = open_playground(page, site_url, "?preset=seed-schedulers")
    root.locator("[data-run='1'] legend input[type=checkbox]").uncheck()  # switch run 2 off
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
    page.goto(site_url + "landscapes/")
    open_playground(page, site_url, "?" + urlsplit(url).query)
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


def test_preconditioner_view_draws_and_reads_out(page, site_url):
    root = open_playground(page, site_url, "?preset=rotated-quadratic")
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


def test_comparing_page_mounts_after_instant_navigation(page, site_url):
    open_playground(page, site_url)
    page.locator("a.md-nav__link[href$='comparing/']").first.click()
    page.wait_for_url("**/comparing/")
    page.wait_for_function("() => document.querySelector('.oe-playground')?.oePlayground?.state?.preset === 'rotated-quadratic'")
    assert page.locator(".oe-playground canvas").count() == 1


def test_landscape_add_and_remove_controls_stay_equal_to_python(page, site_url):
    root = open_playground(page, site_url, "?preset=seed-sgd")
    root.locator("select[id$='-land']").select_option("himmelblau")
    root.locator("select[id$='-add']").select_option("adam")
    root.locator("select[id$='-add']").select_option("rmsprop")
    root.locator("[data-run='0'] .oe-pg-remove").click()  # remove the seed's SGD
    state = page.evaluate(STATE)
    assert (state["landscape"], state["start"], state["scale"]) == ("himmelblau", [0.0, 0.0], "log")
    assert [r["kind"] for r in state["runs"]] == ["adam", "rmsprop"]
    finals = page.evaluate(FINALS)
    assert len(finals) == 2
    for f in finals:
        px, py = python_final(state, state["runs"][f["run"]])
        assert_close(float(f["x"]), px, f"himmelblau run {f['run']} x")
        assert_close(float(f["y"]), py, f"himmelblau run {f['run']} y")


def test_quadratic_sliders_redraw_and_stay_equal_to_python(page, site_url):
    root = open_playground(page, site_url, "?preset=rotated-quadratic")
    before = page.evaluate(CANVAS)
    theta = root.locator("input[id$='-theta']")
    theta.focus()
    for _ in range(15):
        theta.press("ArrowLeft")
    state = page.evaluate(STATE)
    assert state["theta"] == 15
    assert page.evaluate(CANVAS) != before
    for f in page.evaluate(FINALS):
        px, py = python_final(state, state["runs"][f["run"]])
        assert_close(float(f["x"]), px, f"theta 15 run {f['run']} x")
        assert_close(float(f["y"]), py, f"theta 15 run {f['run']} y")


def test_narrow_and_wide_windows(page, site_url):
    root = open_playground(page, site_url)
    for width in (380, 800, 1280):
        page.set_viewport_size({"width": width, "height": 900})
        page.wait_for_timeout(100)
        box = root.locator("canvas").bounding_box()
        assert box["width"] <= root.bounding_box()["width"], f"the canvas overflows at {width} px"


def test_dragging_on_the_canvas_moves_the_start_and_recomputes(page, site_url):
    root = open_playground(page, site_url, "?preset=seed-sgd")
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
    (final,) = page.evaluate(FINALS)
    px, py = python_final(state, state["runs"][0])
    assert_close(float(final["x"]), px, "x after the drag")
    assert_close(float(final["y"]), py, "y after the drag")
    wait_for_url(page, re.escape(f"start={dragged[0]:g},{dragged[1]:g}&"))
