"""The live figures in Chromium: SGD and momentum (momentum), Landscapes (landscape), Schedules
(schedule).

For each widget: moving each control (keyboard on a range input, a typed value, a select, a button, a
click on the figure) changes the canvas pixels, the readout and the aria-live summary; for one fixed
setting (given in the URL) the readout equals the Python package's numbers, computed here from
optimessay and formatted as the widget formats them (dom.js's sig: 4 significant digits). Each
widget's controls run on the page load of one of its readout checks, after it, from the state it set:
one visit per distinct URL, by Material's instant navigation from the page the last test left
(widget_helpers.visit; the module's first test loads its page). The 390 px and dark mode checks of
every widget are made once for all widgets in test_widgets.py.
"""

from __future__ import annotations

import math

import pytest
import torch
from widget_helpers import (  # noqa: E402
    changes,
    js_sig,
    open_widget,
    press,
    readout,
    shared_page,
    summary,
    type_value,
)

import optimessay
from optimessay import landscapes, trajectory
from optimessay.experiments import momentum

pytestmark = pytest.mark.browser
page, each_test = shared_page()  # one Chromium page for this module's tests (per worker)


# --- SGD and momentum: the eigen-mode rates ------------------------------------------------------

MOMENTUM = "sgd-momentum/"


def mode_rate(lr: float, mu: float, lam: float) -> float:
    """The rate of one eigen-direction under the package's SGD: the spectral radius of its step as a
    linear map of (θ, momentum buffer) on ½λθ², its matrix read off two steps from basis states."""
    columns = []
    for theta, buffer in ((1.0, 0.0), (0.0, 1.0)):
        p = torch.tensor([theta], dtype=torch.float64, requires_grad=True)
        opt = optimessay.SGD([p], lr=lr, momentum=mu)
        if mu:
            opt.state[p]["momentum_buffer"] = torch.tensor([buffer], dtype=torch.float64)
        (0.5 * lam * p * p).sum().backward()
        opt.step()
        columns.append([p.item(), opt.state[p]["momentum_buffer"].item() if mu else 0.0])
    return torch.linalg.eigvals(torch.tensor(columns, dtype=torch.float64).T).abs().max().item()


def test_momentum_readout_equals_the_package_then_controls(page, site_url):
    """At κ 50, lr 0.03, μ 0.6 (from the URL) the readout is the package's, and Polyak's button sets
    the optimal rates; then each control changes the drawing, the readout and the summary."""
    kappa, lr, mu = 50.0, 0.03, 0.6
    root = open_widget(page, site_url, MOMENTUM, "momentum", f"?w-momentum-kappa={kappa:g}&w-momentum-lr={lr:g}&w-momentum-mu={mu:g}", instant=True)
    out = readout(root)
    flat, steep = mode_rate(lr, mu, 1.0), mode_rate(lr, mu, kappa)
    assert out["hb-flat"].split(" ")[0] == js_sig(flat)
    assert out["hb-steep"].split(" ")[0] == js_sig(steep)
    assert out["hb-rate"].startswith(js_sig(max(flat, steep)) + ":")
    assert out["gd-rate"].startswith(js_sig(max(mode_rate(lr, 0.0, 1.0), mode_rate(lr, 0.0, kappa))) + ":")
    best = momentum.polyak(kappa)
    assert out["polyak"] == f"{js_sig(best['alpha'])}, {js_sig(best['beta'])}"
    assert out["polyak-rate"].startswith(js_sig(best["rate_hb"]) + ":")
    assert out["gd-best-rate"].startswith(js_sig(best["rate_gd"]) + ":")
    land = landscapes.quadratic(kappa, math.radians(30))
    hb = trajectory.run(land, optimessay.SGD, {"lr": lr, "momentum": mu}, start=(-1.5, 1.0), steps=150)
    gd = trajectory.run(land, optimessay.SGD, {"lr": lr}, start=(-1.5, 1.0), steps=150)
    assert out["losses"] == f"{js_sig(hb.losses[-1].item())} / {js_sig(gd.losses[-1].item())}"
    # Polyak's button: both extreme directions then decay at the optimal rate (√κ−1)/(√κ+1)
    root.get_by_role("button", name="Set Polyak's lr and μ for this κ").click()
    out = readout(root)
    assert out["hb-flat"].split(" ")[0] == js_sig(best["rate_hb"])
    assert out["hb-steep"].split(" ")[0] == js_sig(best["rate_hb"])
    assert js_sig(best["alpha"]) in summary(root)
    # the controls, from this state
    changes(root, lambda: press(root, "momentum", "mu", "ArrowRight"))
    changes(root, lambda: press(root, "momentum", "lr", "ArrowLeft"))
    changes(root, lambda: type_value(root, "momentum", "kappa", 30))
    changes(root, lambda: root.get_by_role("button", name="Set Polyak's lr and μ for this κ").click())


# --- Landscapes: the curvature at a point --------------------------------------------------------

LANDSCAPES = "landscapes/"


@pytest.mark.parametrize(("name", "point", "then_controls"),
                         [("rosenbrock", (1.0, 1.0), True), ("valley", (-1.0, -0.42), False), ("valley", (-2.0, 0.5), False)])
def test_landscape_readout_equals_the_package(page, site_url, name, point, then_controls):
    """At a point (from the URL) the readout is the package's curvature and walk; in the first case
    each control then changes the drawing, the readout and the summary, from that state."""
    lr, steps = 0.001, 40
    query = f"?w-landscape-land={name}&w-landscape-x={point[0]:g}&w-landscape-y={point[1]:g}&w-landscape-lr={lr:g}&w-landscape-steps={steps}"
    root = open_widget(page, site_url, LANDSCAPES, "landscape", query, instant=True)
    land = landscapes.get(name)
    p = torch.tensor(point, dtype=torch.float64)
    H = land.hessian(p)
    ev, vec = torch.linalg.eigh(H)
    out = readout(root)
    assert out["eig"] == f"{js_sig(ev[0].item())} and {js_sig(ev[1].item())}"
    if ev[0] > 0:
        assert out["kappa"] == js_sig((ev[1] / ev[0]).item())
        d = torch.diagonal(H).rsqrt()
        ev_diag = torch.linalg.eigvalsh(d[:, None] * H * d[None, :])
        assert out["kappa-diag"] == js_sig((ev_diag[1] / ev_diag[0]).item())
    else:  # not convex there: no condition number
        assert out["kappa"].startswith("none") and out["kappa-diag"] == "none"
    angle = math.degrees(math.atan2(vec[1, 0].item(), vec[0, 0].item())) % 180.0
    assert out["angle"] == f"{js_sig(angle)}°"
    g = land.gradient(p)
    assert out["grad"].startswith(f"({js_sig(g[0].item())}, {js_sig(g[1].item())})")
    assert out["stability"] == js_sig(lr * ev[1].item())
    walk = trajectory.run(land, optimessay.SGD, {"lr": lr}, start=point, steps=steps)
    x, y = walk.points[-1].tolist()
    assert out["walk"] == f"({js_sig(x)}, {js_sig(y)}), f = {js_sig(walk.losses[-1].item())}"
    if then_controls:
        landscape_controls(page, root)


def landscape_controls(page, root) -> None:
    """Each control (keyboard, a typed value, the landscape select, a click on the figure) changes the
    drawing, the readout and the summary; the select starts the new landscape at its own start."""
    changes(root, lambda: press(root, "landscape", "x", "ArrowRight"))
    changes(root, lambda: type_value(root, "landscape", "y", 0.5))
    changes(root, lambda: press(root, "landscape", "lr", "ArrowRight"))
    changes(root, lambda: press(root, "landscape", "steps", "ArrowLeft"))
    changes(root, lambda: root.locator("#oe-w-landscape-land").select_option("beale"))
    assert readout(root)["f"] == js_sig(landscapes.beale().loss(torch.tensor(landscapes.beale().start)).item())
    box = root.locator("canvas").first.bounding_box()
    changes(root, lambda: page.mouse.click(box["x"] + box["width"] * 0.6, box["y"] + box["height"] * 0.6))


# --- Schedules: lr(t) and the walk ---------------------------------------------------------------

SCHEDULES = "schedules/"


@pytest.mark.parametrize(("key", "t"), [("cosine", 37), ("multistep", 100)])
def test_schedule_readout_equals_the_package(page, site_url, key, t):
    """At a schedule and step t (from the URL) the readout is the package's; in the cosine case each
    control then changes the drawing, the readout and the summary, from that state."""
    lr, steps = 1e-3, 100
    root = open_widget(page, site_url, SCHEDULES, "schedule", f"?w-schedule-schedule={key}&w-schedule-t={t}", instant=True)
    scheduler, kwargs = {"cosine": (optimessay.CosineAnnealingLR, {"T_max": steps}),
                         "multistep": (optimessay.MultiStepLR, {"milestones": [20, 40, 50, 70], "gamma": 0.9})}[key]
    # the lr after t scheduler steps, from the package's scheduler on a one-parameter SGD
    q = torch.nn.Parameter(torch.zeros(1))
    opt = optimessay.SGD([q], lr=lr, momentum=0.98)
    sched = scheduler(opt, **kwargs)
    for _ in range(t):
        opt.step()
        sched.step()
    walk = trajectory.run(landscapes.rosenbrock(), optimessay.SGD, {"lr": lr, "momentum": 0.98}, start=(-1.5, 2.5),
                          steps=steps, scheduler_class=scheduler, scheduler_kwargs=kwargs)
    out = readout(root)
    assert out["lr"] == js_sig(opt.param_groups[0]["lr"])
    assert out["lr-sum"] == js_sig(walk.lrs[:t].sum().item())
    x, y = walk.points[t].tolist()
    assert out["point"] == f"({js_sig(x)}, {js_sig(y)})"
    assert out["loss"] == js_sig(walk.losses[t].item())
    assert out["distance"] == js_sig(math.hypot(x - 1, y - 1))
    if key == "cosine":
        changes(root, lambda: press(root, "schedule", "t", "ArrowLeft"))
        changes(root, lambda: type_value(root, "schedule", "lr", 0.0005))
        changes(root, lambda: root.locator("#oe-w-schedule-schedule").select_option("warmup-cosine"))
