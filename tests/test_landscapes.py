"""Landscapes: batched values, autograd derivatives against finite differences, minima, registry."""

import json
import math
import subprocess
from types import SimpleNamespace

import pytest
import torch

from optimessay import landscapes

ALL = [landscapes.get(name) for name in landscapes.names()] + [
    landscapes.rosenbrock(a=2.0, b=10.0),
    landscapes.quadratic(100.0, math.pi / 4),
    landscapes.quadratic(3.0, -0.3),
]
IDS = [repr(land) for land in ALL]


def random_points(land, n, seed=0):
    gen = torch.Generator().manual_seed(seed)
    u = torch.rand(n, 2, generator=gen, dtype=torch.float64)
    lo = torch.tensor([land.x_range[0], land.y_range[0]], dtype=torch.float64)
    hi = torch.tensor([land.x_range[1], land.y_range[1]], dtype=torch.float64)
    return lo + u * (hi - lo)


def test_registry_has_the_seven_landscapes():
    assert landscapes.names() == [
        "rosenbrock", "beale", "himmelblau", "quadratic", "saddle", "rastrigin", "valley"
    ]
    for name in landscapes.names():
        assert landscapes.get(name).name == name


@pytest.mark.parametrize("land", ALL, ids=IDS)
def test_fn_is_elementwise_over_batches(land):
    pts = random_points(land, 12).reshape(3, 4, 2)
    batched = land.loss(pts)
    assert batched.shape == (3, 4)
    one_by_one = torch.tensor([[float(land.fn(p[0], p[1])) for p in row] for row in pts], dtype=torch.float64)
    torch.testing.assert_close(batched, one_by_one, rtol=1e-15, atol=0)


@pytest.mark.parametrize("land", ALL, ids=IDS)
def test_gradient_and_hessian_match_finite_differences(land):
    pts = random_points(land, 5, seed=1)
    h = 1e-5
    e = torch.eye(2, dtype=torch.float64)
    # central differences: ∂f/∂p_i ≈ (f(p + h e_i) - f(p - h e_i)) / 2h
    fd_grad = torch.stack([(land.loss(pts + h * e[i]) - land.loss(pts - h * e[i])) / (2 * h) for i in range(2)], -1)
    fd_hess = torch.stack(
        [(land.gradient(pts + h * e[i]) - land.gradient(pts - h * e[i])) / (2 * h) for i in range(2)], -2
    )
    grad, hess = land.gradient(pts), land.hessian(pts)
    assert grad.shape == (5, 2) and hess.shape == (5, 2, 2)
    scale = 1 + land.loss(pts).abs().max()
    torch.testing.assert_close(grad, fd_grad, rtol=1e-6, atol=1e-6 * scale)
    torch.testing.assert_close(hess, fd_hess, rtol=1e-5, atol=1e-5 * scale)
    torch.testing.assert_close(hess, hess.transpose(-1, -2))


@pytest.mark.parametrize("land", ALL, ids=IDS)
def test_minima_are_global_minima_inside_the_window(land):
    minima = torch.tensor(land.minima, dtype=torch.float64)
    assert len(minima) >= 1
    # stationary, with a positive definite Hessian
    torch.testing.assert_close(land.gradient(minima), torch.zeros_like(minima), rtol=0, atol=1e-9)
    assert (torch.linalg.eigvalsh(land.hessian(minima)) > 0).all()
    # nothing on a fine grid over the window is lower
    _, _, Z = land.grid(301)
    assert Z.min() >= land.min_value - 1e-12
    for x, y in list(land.minima) + [land.start]:
        assert land.x_range[0] <= x <= land.x_range[1] and land.y_range[0] <= y <= land.y_range[1]
    assert land.loss(torch.tensor(land.start, dtype=torch.float64)) > land.min_value


def test_seed_banana_and_its_parameters():
    banana = landscapes.rosenbrock()
    assert banana.x_range == (-2.0, 2.0) and banana.y_range == (-1.0, 3.0)
    assert banana.start == (-1.5, 2.5) and banana.minima == ((1.0, 1.0),) and banana.log_scale
    x, y = torch.tensor(0.5, dtype=torch.float64), torch.tensor(-0.25, dtype=torch.float64)
    assert float(banana(x, y)) == (1 - 0.5) ** 2 + 100 * (-0.25 - 0.25) ** 2
    assert landscapes.rosenbrock(a=2.0, b=5.0).minima == ((2.0, 4.0),)


def test_himmelblau_has_four_zero_minima():
    land = landscapes.himmelblau()
    minima = torch.tensor(land.minima, dtype=torch.float64)
    assert len(minima) == 4
    assert land.loss(minima).abs().max() < 1e-25


def test_quadratic_hessian_condition_number_and_rotation():
    for kappa, theta in [(1.0, 0.0), (10.0, 0.0), (100.0, math.pi / 4), (7.0, 1.1)]:
        land = landscapes.quadratic(kappa, theta)
        H = landscapes.quadratic_hessian(kappa, theta)
        torch.testing.assert_close(land.hessian(random_points(land, 3)), H.expand(3, 2, 2), rtol=1e-12, atol=1e-12)
        evals, evecs = torch.linalg.eigh(H)
        torch.testing.assert_close(evals, torch.tensor([1.0, kappa], dtype=torch.float64))
        along = torch.tensor([math.cos(theta), math.sin(theta)], dtype=torch.float64)
        assert abs(float(evecs[:, 0] @ along)) == pytest.approx(1.0)  # eigenvalue 1 along theta
        assert land.params == {"kappa": kappa, "theta": theta}


def test_distance_to_minimum_picks_the_nearest():
    land = landscapes.saddle()  # minima (0, 1) and (0, -1)
    d = land.distance_to_minimum(torch.tensor([[0.0, 0.9], [3.0, -1.0], [0.0, 0.0]], dtype=torch.float64))
    torch.testing.assert_close(d, torch.tensor([0.1, 3.0, 1.0], dtype=torch.float64))


def test_grid_layout_is_matplotlibs():
    land = landscapes.beale()
    X, Y, Z = land.grid(7)
    assert X.shape == Y.shape == Z.shape == (7, 7)
    assert X[0, 0] == land.x_range[0] and X[0, -1] == land.x_range[1] and Y[-1, 0] == land.y_range[1]
    torch.testing.assert_close(Z, land.fn(X, Y))


def _python_math():
    return SimpleNamespace(cos=torch.cos, sin=torch.sin, PI=math.pi)


@pytest.mark.parametrize("land", ALL, ids=IDS)
def test_expression_is_the_same_function(land):
    pts = random_points(land, 20, seed=2)
    x, y = pts[:, 0], pts[:, 1]
    value = eval(land.expression, {"Math": _python_math(), "x": x, "y": y})  # noqa: S307 (our own string)
    torch.testing.assert_close(value, land.fn(x, y), rtol=1e-13, atol=1e-13)


def test_expressions_evaluate_in_javascript():
    """The playground's copy: node evaluates each expression to f (float64 in both)."""
    pts = [[0.3, -1.2], [-1.5, 2.5], [2.0, 0.5]]
    cases = [{"expr": land.expression, "pts": pts} for land in ALL]
    script = (
        "const cases = JSON.parse(process.argv[1]);"
        "console.log(JSON.stringify(cases.map(c => c.pts.map(([x, y]) => eval(c.expr)))));"
    )
    out = subprocess.run(["node", "-e", script, json.dumps(cases)], capture_output=True, text=True, check=True)
    values = json.loads(out.stdout)
    for land, row in zip(ALL, values, strict=True):
        expected = land.loss(torch.tensor(pts, dtype=torch.float64))
        torch.testing.assert_close(torch.tensor(row, dtype=torch.float64), expected, rtol=1e-13, atol=1e-13)


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="unknown landscape 'banana'.*rosenbrock"):
        landscapes.get("banana")
    with pytest.raises(ValueError, match="kappa=0.5"):
        landscapes.quadratic(0.5)
    with pytest.raises(ValueError, match="b=-1"):
        landscapes.rosenbrock(b=-1)
    with pytest.raises(ValueError, match=r"shape \(3,\)"):
        landscapes.rosenbrock().loss(torch.zeros(3))
    with pytest.raises(ValueError, match="theta=nan"):
        landscapes.quadratic(2.0, float("nan"))
    land = landscapes.valley()
    assert landscapes.get(land) is land
    assert landscapes.get("quadratic", kappa=4.0).params["kappa"] == 4.0


def test_more_bad_input_is_named():
    with pytest.raises(ValueError, match=r"unknown landscape \['rosenbrock'\]: expected a Landscape or one of"):
        landscapes.get(["rosenbrock"])
    with pytest.raises(ValueError, match=r"points=\[\[1, 2\], \[3\]\]: expected numbers of shape"):
        landscapes.beale().loss([[1, 2], [3]])
    with pytest.raises(ValueError, match="points of dtype torch.int64: derivatives need floating-point"):
        landscapes.beale().gradient(torch.tensor([1, 2]))
    with pytest.raises(ValueError, match="grid size n=2.5"):
        landscapes.beale().grid(2.5)
