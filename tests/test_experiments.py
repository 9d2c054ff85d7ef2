"""optimessay.experiments: the measurements behind the pages, at small sizes (signs and orderings)."""

from __future__ import annotations

import math

import pytest
import torch

from optimessay import landscapes, protocol
from optimessay.experiments import cold_start, curvature, invariance, momentum


def test_invariances():
    """GD, momentum and Nesterov ignore a rotation, not a rescaling; RMSprop, Adam and Adagrad the
    other way round (ε aside); Newton ignores both."""
    table = invariance.invariance_table(steps=30)
    for name in ("GD", "Momentum", "Nesterov"):
        assert table[name]["rotation"] < 1e-12 and table[name]["scale"] > 0.05, (name, table[name])
    for name in ("RMSprop", "Adam", "Adagrad"):
        assert table[name]["rotation"] > 0.05 and table[name]["scale"] < 1e-6, (name, table[name])
    assert table["Newton"]["rotation"] < 1e-12 and table["Newton"]["scale"] < 1e-12


def test_kappa_diag():
    assert invariance.kappa_diag(100, 0) == pytest.approx(1.0)
    assert invariance.kappa_diag(100, 45) == pytest.approx(100.0)
    assert 1 < invariance.kappa_diag(100, 10) < invariance.kappa_diag(100, 30) < 100


def test_batched_quadratic_is_the_quadratic_below_its_cap():
    pts = torch.tensor([[-1.5, 1.0], [0.3, -0.2], [1e3, 1e3]], dtype=torch.float64)
    kappas, thetas = [10.0, 100.0, 1000.0], [0.0, 0.5, 1.0]
    batch = invariance.batched_quadratic(kappas, thetas, cap=1e12)
    f = batch.loss(pts)
    for i in range(3):
        single = landscapes.quadratic(kappas[i], thetas[i])
        assert float(f[i]) == pytest.approx(float(single.loss(pts[i])), rel=1e-14)
    far = batch.loss(torch.tensor([[1e8, 0.0]] * 3, dtype=torch.float64))
    assert bool(torch.isfinite(far).all()) and bool((far > 1e12).all())


def test_theta_crossing_small():
    """κ = 100, θ ∈ {0°, 45°}: GD's steps do not depend on θ; Adagrad's diagonal P beats GD on the
    aligned valley and loses that lead when it is turned by 45°."""
    out = invariance.theta_crossing(kappas=(100,), thetas_degrees=(0, 45), steps=500, tol=1e-4,
                                    lrs=protocol.lr_grid(1e-3, 100.0, 2),
                                    contestants=invariance.THETA_CONTESTANTS[::4])  # GD, Adagrad
    gd, ada = out["steps"]["GD"]["100"], out["steps"]["Adagrad"]["100"]
    assert gd[0] == gd[1] and gd[0] is not None
    assert ada[0] < gd[0] / 5
    assert ada[1] is None or ada[1] > 5 * ada[0]
    assert out["crossings"]["100"]["Adagrad_vs_GD"] in (None, 45.0)


def test_heavy_ball_rates_match_theory():
    rates = momentum.rates(kappas=(10, 100))
    for row in rates.values():
        assert row["measured_gd"] == pytest.approx(row["rate_gd"], rel=1e-6)
        assert row["measured_hb"] == pytest.approx(row["rate_hb"], rel=1e-3)
    table = momentum.steps_table(kappas=(10, 100))
    assert table["10"]["hb"] < table["10"]["gd"] and table["100"]["hb"] * 4 < table["100"]["gd"]


def test_momentum_turns_the_step_away_from_the_gradient():
    angles = momentum.buffer_direction(steps=40)
    assert angles["max_angle"] > 45


def test_conjugate_gradients_finish_in_two_steps_in_two_dimensions():
    dist = momentum.krylov_two_steps(kappa=1000)["distance"]
    assert dist[1] > 0.5 * dist[0] and dist[2] < 1e-10 * dist[0]


def test_rmsprop_cold_start_steps():
    steps = cold_start.first_steps(alpha=0.99, steps=4)
    for t, ratio in enumerate(steps["cold"], start=1):
        assert ratio == pytest.approx(1 / math.sqrt(1 - 0.99**t), rel=1e-12)
    assert steps["warm"] == pytest.approx([1.0] * 4, rel=1e-12)


def test_saddle_escape_in_one_step_is_the_cold_start():
    out = cold_start.saddle_escape()
    assert out["rmsprop_cold_099"]["escape"] == 1 and out["rmsprop_cold_099"]["y1"] > 1.0
    warm = out["rmsprop_warm_099"]["escape"]
    assert 1 < warm < out["sgd"]["escape"]
    for name in ("adam", "adagrad"):
        assert out[name]["escape"] < out["sgd"]["escape"]


def test_straight_valley():
    aligned, turned = cold_start.straight_valley(0.0), cold_start.straight_valley(45.0)
    assert float(aligned.loss(torch.tensor(aligned.minima[0]))) == 0.0
    assert float(turned.loss(torch.tensor(turned.start))) == pytest.approx(float(aligned.loss(torch.tensor(aligned.start))))
    banana = landscapes.rosenbrock()
    assert float(aligned.loss(torch.tensor(aligned.start))) == pytest.approx(float(banana.loss(torch.tensor(banana.start))))


def test_rmsprop_stall_on_the_banana_is_the_cold_start():
    """Tuned by the protocol on the banana, 300 steps: the bias-corrected RMSprop (same α = 0.99)
    ends far lower than torch's cold-started one."""
    table = cold_start.stall_table(landscapes_=("banana",), variants=cold_start.VARIANTS[:2],
                                   lrs=protocol.lr_grid(1e-3, 1.0, 2))
    cold, warm = table["banana"]["rmsprop_cold_099"], table["banana"]["rmsprop_warm_099"]
    assert cold["final_loss"] > 3 and warm["final_loss"] < cold["final_loss"] / 3


def test_squared_gradients_and_curvature():
    out = curvature.squared_gradient_vs_curvature(draws=200)
    assert out["slope_at_optimum"] == pytest.approx(1.0, abs=0.15)
    assert out["slope_far"] == pytest.approx(2.0, abs=0.2)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_adam_with_zero_betas_and_eps_is_sign_descent(dtype):
    """Adam(betas=(0, 0), eps=0): m = g, v = g², the step is lr·g/|g| = lr·sign(g), bit for bit with
    a power-of-two lr (lr·g/|g| then has no rounding)."""
    out = curvature.sign_descent(lr=2**-7, dtype=dtype)
    assert out["equal"], out
    approx = curvature.sign_descent(lr=0.01, dtype=dtype)  # otherwise within one rounding of θ
    assert approx["max_abs_difference"] <= approx["ulp_at_max_param"]


def test_rmsprop_at_a_constant_lr_does_not_settle_on_a_quadratic():
    r = invariance.settling("RMSprop", {"lr": 0.0316}, kappa=100.0, steps=2000)
    assert 0 < r["first"] < 100 and r["exits"] >= 1 and r["worst_after"] > 1e-4
    gd = invariance.settling("SGD", {"lr": 0.0178}, kappa=100.0, steps=600)
    assert gd["first"] > 0 and gd["exits"] == 0  # gradient descent, once there, stays


def test_race_stats_and_other_starts():
    from optimessay.experiments import races

    land = landscapes.quadratic(10.0, 0.0)
    stats = races.race_stats(land, "SGD", {}, 0.178, 60)
    assert stats["arrived"] == 5 and 0 < stats["steps_to_tol"] < 60 and stats["final_loss"] < 1e-6
    too_big = races.race_stats(land, "SGD", {}, 0.5, 60)
    assert too_big["arrived"] == 0 and too_big["steps_to_tol"] == -1
    rows = races.other_starts(land, [("GD", "SGD", {}), ("big", "SGD", {})], {"GD": 0.178, "big": 0.5},
                              [(1.0, 1.0)], 400)
    assert rows[0]["ranking"][0] == "GD" and rows[0]["diverged"] == ["big"]


def test_batched_walks_of_the_races_and_of_momentum_equal_the_lone_walks():
    from optimessay import optimizers, trajectory
    from optimessay.experiments import races

    land = landscapes.rosenbrock()
    starts = protocol.starts_around(land.start)[:2]
    losses, diverged = races._walks(land, "Adam", {"lr": 0.05}, starts, 80)
    for i, start in enumerate(starts):
        lone = trajectory.run(land, optimizers.Adam, {"lr": 0.05}, start=start, steps=80)
        assert torch.equal(losses[i], lone.losses) and not bool(diverged[i])
    pair = momentum._pair(100.0, 30.0, 120, (1.0, 1.0))
    p = momentum.polyak(100.0)
    quad = landscapes.quadratic(100.0, math.radians(30.0))
    for name, kwargs in (("gd", {"lr": p["lr_gd"]}), ("hb", {"lr": p["alpha"], "momentum": p["beta"]})):
        lone = trajectory.run(quad, optimizers.SGD, kwargs, start=(1.0, 1.0), steps=120)
        assert torch.equal(pair[name][1], lone.losses) and torch.equal(pair[name][0], lone.points.norm(dim=-1))
        shorter = momentum._pair(100.0, 30.0, 50, (1.0, 1.0))[name]  # a prefix of the walk already run
        assert torch.equal(shorter[1], lone.losses[:51])
