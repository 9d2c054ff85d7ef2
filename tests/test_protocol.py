"""optimessay.protocol: the site's tuning protocol (objective, median over starts, edge-free grid)."""

from __future__ import annotations

import math

import pytest
import torch

from optimessay import landscapes, optimizers, protocol, trajectory


def test_steps_to_tolerance_counts_the_step_from_which_the_gap_stays_below():
    objective = protocol.steps_to_tolerance(1.0)
    assert objective([10.0, 0.5, 0.5, 2.0, 0.5, 0.1]) == 4  # dips at step 1, leaves at 3, stays from 4
    assert objective([0.5, 0.2]) == 0
    never = objective([10.0, 5.0, 3.0])
    assert never == pytest.approx(3 + math.log10(3.0))  # after every arrival; closer is better
    assert objective([10.0, 5.0, 2.0]) < never
    assert objective([10.0, float("nan"), 0.1]) == math.inf
    assert objective([10.0, float("inf")]) == math.inf
    relative = protocol.steps_to_tolerance(0.1, f_star=1.0, relative=True)
    assert relative([11.0, 3.0, 1.5, 1.9]) == 2  # tol 0.1 × (11 - 1) = 1 on the gap
    with pytest.raises(ValueError, match="tol=0"):
        protocol.steps_to_tolerance(0)


def test_final_log_gap():
    objective = protocol.final_log_gap(f_star=1.0)
    assert objective([5.0, 1.001]) == pytest.approx(-3.0)
    assert objective([5.0, float("nan")]) == math.inf


def test_lr_grid_is_geometric_with_round_values():
    grid = protocol.lr_grid(1e-3, 1.0, 4)
    assert len(grid) == 13 and grid[0] == 1e-3 and grid[4] == 1e-2 and grid[-1] == 1.0
    ratios = [b / a for a, b in zip(grid, grid[1:], strict=False)]
    assert max(ratios) == pytest.approx(min(ratios), rel=1e-9)
    with pytest.raises(ValueError, match="per_decade"):
        protocol.lr_grid(1e-3, 1.0, 0)


def _bowl(best_log_lr):
    """A fake training run: its loss curve arrives sooner the closer log10(lr) is to best_log_lr."""

    def run(lr, seed):
        t = int(10 + 20 * (math.log10(lr) - best_log_lr) ** 2 + seed)
        return [1.0] * t + [1e-9] * (200 - t)

    return run


def test_tune_finds_the_best_grid_lr_inside_the_grid():
    result = protocol.tune(_bowl(-2.0), protocol.lr_grid(1e-5, 1.0, 4), seeds=range(5))
    assert result.lr == 1e-2 and not result.on_edge and result.extended == (0, 0)
    assert result.score == 12  # t = 10 + seed, median seed 2
    assert set(result.table()) == set(protocol.lr_grid(1e-5, 1.0, 4))


def test_a_winner_on_the_edge_extends_the_grid_or_is_reported():
    result = protocol.tune(_bowl(-1.0), protocol.lr_grid(1e-5, 1e-3, 4), seeds=range(3))
    assert result.lr == pytest.approx(0.1) and not result.on_edge and result.extended == (0, 3)  # up to 1
    stuck = protocol.tune(_bowl(-1.0), protocol.lr_grid(1e-5, 1e-3, 4), seeds=range(3), max_extensions=0)
    assert stuck.lr == 1e-3 and stuck.on_edge
    low = protocol.tune(_bowl(-6.0), protocol.lr_grid(1e-3, 1.0, 4), seeds=range(3))
    assert low.lr == pytest.approx(1e-6) and low.extended == (3, 0) and low.on_edge  # 3 decades at most


def test_one_lucky_start_or_one_divergence_cannot_win():
    def run(lr, seed):
        if lr == 1.0:  # chaotic: one start lands on the minimum, the others end far away
            return [1.0] * 5 + ([1e-9] * 95 if seed == 0 else [1.0] * 95)
        if lr == 0.1:  # best median, but one start diverges
            return [1.0] * 3 + ([1e-9] * 97 if seed else [float("inf")] * 97)
        return [1.0] * 40 + [1e-9] * 60

    result = protocol.tune(run, [0.01, 0.1, 1.0], seeds=range(5), max_extensions=0)
    assert result.lr == 0.01
    assert result.median(0.1) == math.inf and result.median(1.0) > 100


def test_errors_name_the_value():
    with pytest.raises(ValueError, match="seeds is empty"):
        protocol.tune(_bowl(-2), [0.1], seeds=[])
    with pytest.raises(ValueError, match="positive finite"):
        protocol.tune(_bowl(-2), [0.0, 0.1])
    with pytest.raises(ValueError, match="every lr diverged"):
        protocol.tune(lambda lr, s: [1.0, float("inf")], [0.1, 1.0], seeds=[0])
    with pytest.raises(ValueError, match="lrs="):
        protocol.tune_landscape("quadratic", optimizers.SGD, {"lr": 0.1}, steps=5, tol=1e-3)
    with pytest.raises(ValueError, match="give tol"):
        protocol.tune_landscape("quadratic", optimizers.SGD, steps=5)


def test_starts_around():
    starts = protocol.starts_around((1.0, 2.0), n=5, radius=0.1)
    assert starts[0] == (1.0, 2.0) and len(starts) == 5
    for x, y in starts[1:]:
        assert math.hypot(x - 1.0, y - 2.0) == pytest.approx(0.1)


def test_tune_landscape_equals_the_generic_tuner_over_single_walks():
    """The batched sweep and one trajectory.run per (lr, start) give the same scores and winner;
    on a quadratic with κ = 10 gradient descent's winner is the grid lr nearest 2/(1 + κ)."""
    land = landscapes.quadratic(10.0, math.radians(30))
    lrs = protocol.lr_grid(1e-2, 1.0, 4)
    starts = protocol.starts_around(land.start, n=3)
    batched = protocol.tune_landscape(land, optimizers.SGD, steps=60, tol=1e-4, lrs=lrs, starts=starts)

    def run(lr, s):
        walk = trajectory.run(land, optimizers.SGD, {"lr": lr}, start=starts[s], steps=60)
        losses = walk.losses.clone()
        if walk.diverged_at is not None and walk.diverged_at >= 0:
            losses[walk.diverged_at:] = math.inf
        return losses

    single = protocol.tune(run, lrs, range(3), protocol.steps_to_tolerance(1e-4))
    assert batched.lr == single.lr
    for lr in lrs:
        assert batched.scores[lr] == pytest.approx(single.scores[lr], rel=1e-9)
    assert batched.lr == min(lrs, key=lambda lr: abs(math.log(lr / (2 / 11))))
    assert batched.score < 60 and not batched.on_edge


def test_gradient_descent_above_its_stability_limit_is_out():
    land = landscapes.quadratic(10.0, 0.0)
    result = protocol.tune_landscape(land, optimizers.SGD, steps=80, tol=1e-4, lrs=[0.1, 0.178, 0.3, 10.0])
    assert result.median(10.0) == math.inf  # overflows within the budget: out
    assert result.median(0.3) > 80  # lr > 2/κ = 0.2: grows, never arrives (ranks after every arrival)
    assert result.lr == 0.178 and torch.isfinite(torch.tensor(result.score)) and result.score < 80


def test_lr_limit_stops_the_grid_and_adamw_stays_at_most_a_tenth_over_its_weight_decay():
    result = protocol.tune(_bowl(1.0), protocol.lr_grid(1e-2, 1.0, 4), seeds=range(3), lr_limit=5.0)
    assert max(result.scores) < 5.0 and result.on_edge and result.lr == max(result.scores)
    at = protocol.tune(_bowl(1.0), protocol.lr_grid(1e-2, 1.0, 4), seeds=range(3), lr_limit=10.0)
    assert at.lr == 10.0 and at.on_edge  # the limit itself is allowed
    land = landscapes.quadratic(50.0, math.radians(30))  # minimum at the origin
    tuned = protocol.tune_landscape(land, optimizers.AdamW, {"weight_decay": 0.01}, steps=40, tol=1e-6,
                                    relative=True, lrs=protocol.lr_grid(1.0, 10.0, 2), starts=[land.start])
    assert max(tuned.scores) == 10.0  # 0.1 / weight_decay: lr 100 would set θ to 0 in one step


def test_steps_to_tolerance_many_gives_the_objectives_floats_row_by_row():
    # arrivals at 0, in the middle and at the last step; never (the log-gap score); dips below the
    # tolerance that bounce out again; non-finite values; negative gaps; relative and absolute
    gen = torch.Generator().manual_seed(0)
    length = 60
    rows = [torch.logspace(0, -9, length, dtype=torch.float64)]  # crosses 1e-6 x start mid-way
    rows.append(torch.full((length,), 1e-9, dtype=torch.float64))  # below from the start (relative: never)
    rows.append(torch.linspace(1, 0.5, length, dtype=torch.float64))  # never arrives
    bounce = torch.logspace(0, -9, length, dtype=torch.float64)
    bounce[-1] = 1.0
    rows.append(bounce)  # above again at the very end
    for bad in (math.nan, math.inf, -math.inf):
        r = torch.logspace(0, -9, length, dtype=torch.float64)
        r[length // 2] = bad
        rows.append(r)
    rows.append(-torch.rand(length, generator=gen, dtype=torch.float64))
    for _ in range(40):
        rows.append(torch.rand(length, generator=gen, dtype=torch.float64) ** 12)
    curves = torch.stack(rows)
    for tol, f_star, relative in ((1e-6, 0.0, True), (1e-3, 0.0, False), (0.01, -0.5, True), (0.2, 0.1, False)):
        objective = protocol.steps_to_tolerance(tol, f_star, relative=relative)
        expected = [objective(c) for c in curves]
        got = protocol.steps_to_tolerance_many(curves, tol, f_star, relative=relative)
        assert len(got) == len(expected)
        for i, (a, b) in enumerate(zip(got, expected, strict=True)):
            assert a == b or (math.isnan(a) and math.isnan(b)), (tol, f_star, relative, i, a, b)
    with pytest.raises(ValueError, match="expected an"):
        protocol.steps_to_tolerance_many(torch.zeros(3), 1e-6)
    with pytest.raises(ValueError, match="tol="):
        protocol.steps_to_tolerance_many(curves, 0.0)
