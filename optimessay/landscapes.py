"""Two-dimensional loss landscapes: the ground every optimizer on the site walks over.

A :class:`Landscape` is a value: a torch function ``fn(x, y)`` that works on tensors of any (equal)
shape, its plotting range, its known minima, whether its contours read better in log scale, and a
default start point. Gradients and Hessians come from autograd, so a landscape is written once::

    from optimessay import landscapes
    banana = landscapes.rosenbrock()            # or landscapes.get("rosenbrock")
    banana.loss(torch.tensor([-1.5, 2.5]))      # f at one point; points of shape (..., 2) work too
    banana.gradient(points)                     # (..., 2)
    banana.hessian(points)                      # (..., 2, 2)
    X, Y, Z = banana.grid(200)                  # for a contour plot (Z[i, j] = f(X[i, j], Y[i, j]))

Each landscape also carries ``latex`` (its formula for the pages) and ``expression``: the same
formula as a JavaScript expression in ``x`` and ``y`` (``Math.cos``, ``Math.PI``, ...), so the
browser playground evaluates exactly this definition instead of a second copy.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import torch
from torch import Tensor

__all__ = [
    "Landscape",
    "REGISTRY",
    "beale",
    "get",
    "himmelblau",
    "names",
    "quadratic",
    "quadratic_hessian",
    "rastrigin",
    "rosenbrock",
    "saddle",
    "valley",
]


@dataclass(frozen=True, eq=False)
class Landscape:
    """A 2D loss surface ``fn(x, y)`` with what plots, walks and sweeps need to know about it.

    Attributes:
        name: registry key, e.g. ``"rosenbrock"``.
        title: human title for legends and captions, e.g. ``"Rosenbrock's banana"``.
        fn: ``fn(x, y) -> Tensor``, elementwise over tensors of any equal shape (batched walks).
        x_range, y_range: the plotting window ``(low, high)``.
        minima: the known global minima ``((x, y), ...)``; empty if the surface has none.
        log_scale: whether contours read better on ``log(f - min + eps)`` (deep narrow valleys).
        start: the default start point of a walk.
        latex: the formula, for the pages.
        expression: the formula as a JavaScript expression in ``x`` and ``y`` (for the playground).
        params: the factory's parameters (e.g. ``{"a": 1.0, "b": 100.0}``, ``{"kappa": .., "theta": ..}``).
    """

    name: str
    title: str
    fn: Callable[[Tensor, Tensor], Tensor]
    x_range: tuple[float, float]
    y_range: tuple[float, float]
    minima: tuple[tuple[float, float], ...]
    log_scale: bool
    start: tuple[float, float]
    latex: str = ""
    expression: str = ""
    params: dict = field(default_factory=dict)

    def __call__(self, x: Tensor, y: Tensor) -> Tensor:
        return self.fn(x, y)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v:g}" for k, v in self.params.items())
        return f"Landscape({self.name}({args}))"

    # --- values -----------------------------------------------------------------------------
    def loss(self, points: Tensor) -> Tensor:
        """f at ``points`` of shape ``(..., 2)``; returns shape ``(...)``."""
        points = _as_points(points)
        return self.fn(points[..., 0], points[..., 1])

    def gradient(self, points: Tensor) -> Tensor:
        """∇f at ``points`` ``(..., 2)`` by autograd; returns ``(..., 2)`` (detached)."""
        points = _as_points(points, differentiable=True)
        with torch.enable_grad():
            p = points.detach().clone().requires_grad_(True)
            (g,) = torch.autograd.grad(self.fn(p[..., 0], p[..., 1]).sum(), p)
        return g

    def value_and_gradient(self, points: Tensor) -> tuple[Tensor, Tensor]:
        """``(f, ∇f)`` at ``points`` ``(..., 2)`` from one forward and one backward pass (detached)."""
        points = _as_points(points, differentiable=True)
        with torch.enable_grad():
            p = points.detach().clone().requires_grad_(True)
            f = self.fn(p[..., 0], p[..., 1])
            (g,) = torch.autograd.grad(f.sum(), p)
        return f.detach(), g

    def batch_value_and_gradient(self, n: int, dtype: torch.dtype) -> Callable[..., tuple[Tensor, Tensor]]:
        """``evaluate(XY, loss_out=None) -> (f, ∇f)`` for a batch of m points stored coordinate-major,
        ``XY`` of shape ``(2, m)`` (row 0 the x's, row 1 the y's; made for ``m = n``, another m is
        served too): what a sweep calls once per step. ``f`` is ``(m,)``, ``∇f`` is ``(2, m)``,
        bitwise equal to :meth:`value_and_gradient` of the points ``XY.T``. When ``fn`` carries
        closed-form derivatives (``fn.derivatives``: Rosenbrock's and the quadratic's) they are
        computed op for op as autograd computes them, into buffers allocated once: the returned
        tensors are overwritten by the next call, and ``loss_out`` (an ``(m,)`` tensor) receives f
        directly. Otherwise autograd (``loss_out`` is then filled by a copy)."""
        derivatives = getattr(self.fn, "derivatives", None)
        if derivatives is not None:
            return derivatives.evaluator(n, dtype)

        def evaluate(XY: Tensor, loss_out: Tensor | None = None) -> tuple[Tensor, Tensor]:
            f, g = self.value_and_gradient(XY.t())
            return (f if loss_out is None else loss_out.copy_(f)), g.t()

        return evaluate

    def hessian(self, points: Tensor) -> Tensor:
        """∇²f at ``points`` ``(..., 2)`` by double autograd; returns ``(..., 2, 2)`` (detached)."""
        points = _as_points(points, differentiable=True)
        with torch.enable_grad():
            p = points.detach().clone().requires_grad_(True)
            (g,) = torch.autograd.grad(self.fn(p[..., 0], p[..., 1]).sum(), p, create_graph=True)
            if not g.requires_grad:  # f is linear: its Hessian is zero
                return torch.zeros(*points.shape, 2, dtype=points.dtype)
            rows = [
                torch.autograd.grad(g[..., i].sum(), p, retain_graph=True, allow_unused=True, materialize_grads=True)[0]
                for i in range(2)
            ]
        return torch.stack(rows, dim=-2).detach()  # H[..., i, j] = ∂²f / ∂p_i ∂p_j

    @property
    def min_value(self) -> float | None:
        """The lowest value of f over ``minima`` (None if the landscape has no minimum)."""
        if not self.minima:
            return None
        m = torch.tensor(self.minima, dtype=torch.float64)
        return float(self.loss(m).min())

    def distance_to_minimum(self, points: Tensor) -> Tensor:
        """Euclidean distance from ``points`` ``(..., 2)`` to the nearest known minimum (inf if none)."""
        points = _as_points(points)
        if not self.minima:
            return torch.full(points.shape[:-1], math.inf, dtype=points.dtype)
        x, y = points[..., 0], points[..., 1]
        # elementwise over the (at most a few) minima: faster than a reduction over a short last axis
        d = torch.hypot(x - self.minima[0][0], y - self.minima[0][1])
        for mx, my in self.minima[1:]:
            d = torch.minimum(d, torch.hypot(x - mx, y - my))
        return d

    def grid(self, n: int = 200, *, dtype: torch.dtype = torch.float64) -> tuple[Tensor, Tensor, Tensor]:
        """``X, Y, Z`` of shape ``(n, n)`` over the plotting window, ``Z = f(X, Y)`` (contour plots)."""
        if not isinstance(n, int) or n < 2:
            raise ValueError(f"grid size n={n!r}: expected an int >= 2")
        xs = torch.linspace(*self.x_range, n, dtype=dtype)
        ys = torch.linspace(*self.y_range, n, dtype=dtype)
        Y, X = torch.meshgrid(ys, xs, indexing="ij")  # row i is y = ys[i] (matplotlib's layout)
        return X, Y, self.fn(X, Y)


def _as_points(points, *, differentiable: bool = False) -> Tensor:
    """``points`` as a tensor of shape ``(..., 2)`` (numbers become float64), or a clear ValueError.
    Derivatives need floating-point points."""
    if not isinstance(points, Tensor):
        try:
            points = torch.as_tensor(points, dtype=torch.float64)
        except (TypeError, ValueError, RuntimeError) as err:
            raise ValueError(f"points={points!r}: expected numbers of shape (..., 2)") from err
    if points.ndim == 0 or points.shape[-1] != 2:
        raise ValueError(f"points of shape {tuple(points.shape)}: expected shape (..., 2)")
    if differentiable and not points.is_floating_point():
        raise ValueError(f"points of dtype {points.dtype}: derivatives need floating-point points (e.g. float64)")
    return points


# --- the landscapes ------------------------------------------------------------------------------


def rosenbrock(a: float = 1.0, b: float = 100.0) -> Landscape:
    """Rosenbrock's banana, f = (a - x)² + b (y - x²)²: a curved valley, minimum (a, a²).

    The seed notebook's landscape: range x in [-2, 2], y in [-1, 3], start (-1.5, 2.5).
    """
    a, b = _number("a", a), _positive("b", b)

    def fn(x, y):
        return (a - x) ** 2 + b * (y - x**2) ** 2

    fn.derivatives = _RosenbrockDerivatives(a, b)  # closed form, bitwise autograd's (for sweeps)
    return Landscape(
        name="rosenbrock",
        title="Rosenbrock's banana",
        fn=fn,
        # the seed's window, widened if (a, a²) falls outside it
        x_range=(min(-2.0, a - 1), max(2.0, a + 1)),
        y_range=(min(-1.0, a * a - 1), max(3.0, a * a + 1)),
        minima=((a, a * a),),
        log_scale=True,
        start=(-1.5, 2.5),
        latex=rf"f(x, y) = ({a:g} - x)^2 + {b:g}\,(y - x^2)^2",
        expression=f"({a!r} - x) ** 2 + {b!r} * (y - x * x) ** 2",
        params={"a": a, "b": b},
    )


class _RosenbrockDerivatives:
    """f = (a - x)² + b (y - x²)² and ∇f on a batch of points, op for op as autograd computes them
    from ``fn`` (so bitwise equal, in float32 and float64; tests/test_trajectory.py checks it):

    - forward: u = a - x, w = y - x·x, f = u·u + (w·w)·b (``t ** 2`` is ``t * t`` in torch's kernel;
      u is computed as x - a, exactly -u: u·u and 2u only need it up to its sign);
    - backward of the sum: ∂f/∂y = b ⊗ (2w) (the 1 of the sum times b, exact, then ``pow``'s
      backward ``grad · (2 · w)``); ∂f/∂x = (-(2u)) + (-(∂f/∂y ⊗ 2x)), rounded once as the two
      paths' gradients are accumulated (an IEEE sum: the order does not matter);
    - autograd then scatters ∂f/∂x and ∂f/∂y into zeros (``select``'s backward) and adds the two:
      ``+ 0``, which turns a -0 into +0. Kept: one add of 0.0.

    Products by 2 and negations are exact, so -(2u) is (x - a)·2, the same number. The points come
    coordinate-major (x's and y's each contiguous); the buffers are allocated once and reused. u and
    w are the two rows of one buffer, so u·u and w·w are one op, and so are 2u and 2w (12 ops a step;
    an op costs a few µs whatever its length here, so fewer, longer ops are faster)."""

    def __init__(self, a: float, b: float):
        self.a, self.b = a, b

    def evaluator(self, n: int, dtype: torch.dtype) -> Callable[..., tuple[Tensor, Tensor]]:
        a, b = self.a, self.b
        buffers: dict = {}

        def evaluate(XY: Tensor, loss_out: Tensor | None = None) -> tuple[Tensor, Tensor]:
            m = XY.shape[1]
            if buffers.get("m") != m or buffers["dtype"] != XY.dtype:
                uw, sq, g = (torch.empty(2, m, dtype=XY.dtype) for _ in range(3))
                buffers.update(m=m, dtype=XY.dtype, f=torch.empty(m, dtype=XY.dtype), whole=(uw, sq, g),
                               rows=(uw[0], uw[1], sq[0], sq[1], g[0], g[1]),  # views made once
                               # the numbers as 0-dim tensors of the dtype: what torch rounds a Python
                               # number to inside the op (same values, without a cast per op)
                               numbers=tuple(torch.tensor(v, dtype=XY.dtype) for v in (a, b, 2.0, 0.0)))
            uw, sq, g = buffers["whole"]
            u, w, u2, w2, gx, gy = buffers["rows"]
            f = buffers["f"] if loss_out is None else loss_out
            x, y = XY.unbind(0)  # the two rows
            a_, b_, two, zero = buffers["numbers"]
            torch.sub(x, a_, out=u)  # u = x - a: exactly -(a - x), which is all f and ∂f/∂x need
            torch.mul(x, x, out=w)
            torch.sub(y, w, out=w)  # w = y - x²
            torch.mul(uw, uw, out=sq)  # u², w²
            torch.mul(w2, b_, out=f)  # b (w²)
            torch.add(u2, f, out=f)  # f = u² + b w²
            torch.mul(uw, two, out=g)  # -(2 (a - x)), 2w
            torch.mul(gy, b_, out=gy)  # ∂f/∂y = b ⊗ (2w)
            torch.mul(x, two, out=u2)  # 2x (u² is no longer needed)
            torch.mul(gy, u2, out=u2)  # ∂f/∂y ⊗ 2x
            torch.sub(gx, u2, out=gx)  # ∂f/∂x = -(2u) - (∂f/∂y ⊗ 2x)
            g.add_(zero)  # autograd's + 0 (-0 -> +0)
            return f, g

        return evaluate


def beale() -> Landscape:
    """Beale's function: flat plateaus and steep walls, minimum (3, 0.5)."""
    return Landscape(
        name="beale",
        title="Beale",
        fn=lambda x, y: (1.5 - x + x * y) ** 2 + (2.25 - x + x * y**2) ** 2 + (2.625 - x + x * y**3) ** 2,
        x_range=(-4.5, 4.5),
        y_range=(-4.5, 4.5),
        minima=((3.0, 0.5),),
        log_scale=True,
        start=(1.0, 1.5),
        latex=r"f(x, y) = (1.5 - x + xy)^2 + (2.25 - x + xy^2)^2 + (2.625 - x + xy^3)^2",
        expression="(1.5 - x + x * y) ** 2 + (2.25 - x + x * y * y) ** 2 + (2.625 - x + x * y * y * y) ** 2",
    )


def himmelblau() -> Landscape:
    """Himmelblau's function, f = (x² + y - 11)² + (x + y² - 7)²: four minima, all with f = 0."""
    return Landscape(
        name="himmelblau",
        title="Himmelblau",
        fn=lambda x, y: (x**2 + y - 11) ** 2 + (x + y**2 - 7) ** 2,
        x_range=(-5.0, 5.0),
        y_range=(-5.0, 5.0),
        # the three irrational minima were refined by Newton's method in float64
        minima=(
            (3.0, 2.0),
            (-2.805118086952745, 3.131312518250573),
            (-3.779310253377747, -3.283185991286169),
            (3.5844283403304917, -1.8481265269644034),
        ),
        log_scale=True,
        start=(0.0, 0.0),
        latex=r"f(x, y) = (x^2 + y - 11)^2 + (x + y^2 - 7)^2",
        expression="(x * x + y - 11) ** 2 + (x + y * y - 7) ** 2",
    )


def quadratic_hessian(kappa: float = 10.0, theta: float = 0.0, *, dtype=torch.float64) -> Tensor:
    """H = R diag(1, kappa) Rᵀ, R the rotation by ``theta`` radians: the Hessian of :func:`quadratic`.

    Its eigenvalues are 1 (along (cos θ, sin θ), the valley floor) and kappa (across the valley),
    so its condition number is kappa. The diagonal preconditioner diag(H)⁻¹ fixes it only when θ is
    a multiple of 90°; the full one, H⁻¹, always does.
    """
    kappa, theta = _kappa(kappa), _number("theta", theta)
    c, s = math.cos(theta), math.sin(theta)
    R = torch.tensor([[c, -s], [s, c]], dtype=dtype)
    return R @ torch.diag(torch.tensor([1.0, kappa], dtype=dtype)) @ R.T


def quadratic(kappa: float = 10.0, theta: float = 0.0) -> Landscape:
    """An ill-conditioned quadratic bowl f = ½ (u² + kappa w²), minimum (0, 0).

    ``u = x cos θ + y sin θ`` runs along the valley, ``w = -x sin θ + y cos θ`` across it, so the
    Hessian is :func:`quadratic_hessian` (kappa, theta): condition number ``kappa``, eigen-directions
    rotated by ``theta`` radians. This is the preconditioning story's landscape.
    """
    kappa, theta = _kappa(kappa), _number("theta", theta)
    c, s = math.cos(theta), math.sin(theta)

    def fn(x, y):
        u = c * x + s * y  # coordinate along the valley floor (eigenvalue 1)
        w = -s * x + c * y  # coordinate across the valley (eigenvalue kappa)
        return 0.5 * (u**2 + kappa * w**2)

    fn.derivatives = _QuadraticDerivatives(c, s, kappa)  # closed form, bitwise autograd's (walks, sweeps)
    degrees = math.degrees(theta)
    return Landscape(
        name="quadratic",
        title=f"Quadratic (κ={kappa:g}, θ={degrees:g}°)",
        fn=fn,
        x_range=(-2.0, 2.0),
        y_range=(-2.0, 2.0),
        minima=((0.0, 0.0),),
        log_scale=False,
        start=(-1.5, 1.0),
        latex=(
            rf"f = \tfrac12\,(u^2 + {kappa:g}\,w^2),\quad u = x\cos\theta + y\sin\theta,"
            rf"\ w = -x\sin\theta + y\cos\theta,\ \theta = {degrees:g}^\circ"
        ),
        expression=(
            f"0.5 * (({c!r} * x + {s!r} * y) ** 2 + {kappa!r} * ({-s!r} * x + {c!r} * y) ** 2)"
        ),
        params={"kappa": kappa, "theta": theta},
    )


class _QuadraticDerivatives:
    """f = ½ (u² + κ w²), u = c x + s y, w = (-s) x + c y, and ∇f on a batch of points, op for op as
    autograd computes them from :func:`quadratic`'s ``fn`` (so bitwise equal, in float32 and float64;
    tests/test_trajectory.py checks it, special points included):

    - forward: the four products x·c, x·(-s), y·s, y·c, then u = x·c + y·s and w = x·(-s) + y·c,
      f = (u·u + (w·w)·κ)·½ (``t ** 2`` is ``t * t`` in torch's kernel);
    - backward of the sum: ½ reaches u² and κw², so ∂f/∂u = ½ ⊗ (2u) and ∂f/∂w = (½ ⊗ κ) ⊗ (2w)
      (``pow``'s backward ``grad · (2 · t)``; ½ ⊗ κ is the product autograd forms, computed once);
      ∂f/∂x = ∂f/∂u ⊗ c + ∂f/∂w ⊗ (-s), ∂f/∂y = ∂f/∂u ⊗ s + ∂f/∂w ⊗ c (two paths each, rounded once
      when they are accumulated: an IEEE sum of two terms, whose order does not matter);
    - autograd then scatters ∂f/∂x and ∂f/∂y into zeros (``select``'s backward) and adds the two:
      ``+ 0``, which turns a -0 into +0. Kept: one add of 0.0.

    The numbers c, s, κ are those ``fn`` closes over (Python floats: what torch rounds them to in the
    op's dtype is what the evaluator uses); each may also be a float64 tensor of one value per walk
    (shape (N,), for a batch of N walks on N quadratics), which gives each walk its own quadratic's
    numbers bit for bit; the batch must then keep its N walks (a sweep drops a walk that diverges and
    steps a window of it again alone: such a sweep raises ValueError rather than mix the numbers up). The points come coordinate-major; the buffers are allocated once and reused
    (13 ops a step: x and y each times a column of two numbers, then rows added)."""

    def __init__(self, c, s, kappa):
        self.c, self.s, self.kappa = c, s, kappa

    def evaluator(self, n: int, dtype: torch.dtype) -> Callable[..., tuple[Tensor, Tensor]]:
        def number(v) -> Tensor:  # a Python float or a float64 tensor, rounded to the dtype as an op does
            return torch.as_tensor(v, dtype=torch.float64).to(dtype)

        def column(first, second) -> Tensor:  # (2, 1), or (2, N) for per-walk numbers
            return torch.stack(torch.broadcast_tensors(first, second)).reshape(2, -1)

        c, s, kappa, half = number(self.c), number(self.s), number(self.kappa), number(0.5)
        from_x, from_y = column(c, -s), column(s, c)  # u = x·c + y·s, w = x·(-s) + y·c
        to_x, to_y = column(c, s), column(-s, c)  # ∂f/∂u feeds x·c and y·s; ∂f/∂w feeds x·(-s) and y·c
        coefficients = column(half, torch.mul(half, kappa))  # ½ and ½ ⊗ κ: the grads reaching u² and w²
        two, zero = number(2.0), number(0.0)
        walks = from_x.shape[1]
        buffers: dict = {}

        def evaluate(XY: Tensor, loss_out: Tensor | None = None) -> tuple[Tensor, Tensor]:
            m = XY.shape[1]
            if walks != 1 and m != walks:
                raise ValueError(f"{m} points for a quadratic with {walks} per-walk numbers: expected {walks} "
                                 "(per-walk numbers need a batch that never shrinks: no walk may stop early)")
            if buffers.get("m") != m or buffers["dtype"] != XY.dtype:
                if XY.dtype != dtype:
                    raise ValueError(f"points of dtype {XY.dtype}: expected {dtype}")
                a, b, uw, sq, g = (torch.empty(2, m, dtype=dtype) for _ in range(5))
                buffers.update(m=m, dtype=dtype, f=torch.empty(m, dtype=dtype), whole=(a, b, uw, sq, g),
                               rows=(sq[0], sq[1], sq[0:1], sq[1:2]))  # views made once
            a, b, uw, sq, g = buffers["whole"]
            u2, w2, gu, gw = buffers["rows"]
            f = buffers["f"] if loss_out is None else loss_out
            torch.mul(XY[0:1], from_x, out=a)  # x·c, x·(-s)
            torch.mul(XY[1:2], from_y, out=b)  # y·s, y·c
            torch.add(a, b, out=uw)  # u, w
            torch.mul(uw, uw, out=sq)  # u², w²
            torch.mul(w2, kappa, out=f)  # κ w²
            torch.add(u2, f, out=f)  # u² + κ w²
            torch.mul(f, half, out=f)  # f = ½ (u² + κ w²)
            torch.mul(uw, two, out=sq)  # 2u, 2w (u² and w² are no longer needed)
            torch.mul(sq, coefficients, out=sq)  # ∂f/∂u = ½ ⊗ 2u, ∂f/∂w = (½ ⊗ κ) ⊗ 2w
            torch.mul(gu, to_x, out=a)  # ∂f/∂u ⊗ c, ∂f/∂u ⊗ s
            torch.mul(gw, to_y, out=b)  # ∂f/∂w ⊗ (-s), ∂f/∂w ⊗ c
            torch.add(a, b, out=g)  # ∂f/∂x, ∂f/∂y
            g.add_(zero)  # autograd's + 0 (-0 -> +0)
            return f, g

        return evaluate


def saddle() -> Landscape:
    """A saddle between two valleys, f = x² + y⁴/4 - y²/2.

    The origin is a saddle point (a minimum along x, a maximum along y); the minima are (0, ±1)
    with f = -1/4. The start sits just off the ridge y = 0, where the gradient along y is tiny:
    plain gradient descent crawls there before it escapes.
    """
    return Landscape(
        name="saddle",
        title="Saddle",
        fn=lambda x, y: x**2 + 0.25 * y**4 - 0.5 * y**2,
        x_range=(-2.0, 2.0),
        y_range=(-2.0, 2.0),
        minima=((0.0, 1.0), (0.0, -1.0)),
        log_scale=False,
        start=(-1.5, 0.05),
        latex=r"f(x, y) = x^2 + \tfrac14 y^4 - \tfrac12 y^2",
        expression="x * x + 0.25 * y ** 4 - 0.5 * y * y",
    )


def rastrigin(A: float = 10.0) -> Landscape:
    """Rastrigin's function, f = 2A + Σ (x² - A cos 2πx): a bowl covered in local minima; minimum (0, 0)."""
    A = _positive("A", A)
    two_pi = 2 * math.pi
    return Landscape(
        name="rastrigin",
        title="Rastrigin",
        fn=lambda x, y: 2 * A + x**2 - A * torch.cos(two_pi * x) + y**2 - A * torch.cos(two_pi * y),
        x_range=(-5.12, 5.12),
        y_range=(-5.12, 5.12),
        minima=((0.0, 0.0),),
        log_scale=False,
        start=(-3.2, 2.8),
        latex=rf"f(x, y) = {2 * A:g} + x^2 - {A:g}\cos 2\pi x + y^2 - {A:g}\cos 2\pi y",
        expression=(
            f"2 * {A!r} + x * x - {A!r} * Math.cos(2 * Math.PI * x)"
            f" + y * y - {A!r} * Math.cos(2 * Math.PI * y)"
        ),
        params={"A": A},
    )


def valley() -> Landscape:
    """A long, narrow, winding valley, f = 0.05 x² + 5 (y - ½ sin x)²; minimum (0, 0).

    The floor follows y = ½ sin x; the curvature across it (10) is about 100 times the curvature
    along it (0.1), and the directions turn as the valley winds, so no fixed rescaling of the axes
    makes it round.
    """
    return Landscape(
        name="valley",
        title="Long narrow valley",
        fn=lambda x, y: 0.05 * x**2 + 5 * (y - 0.5 * torch.sin(x)) ** 2,
        x_range=(-4.0, 4.0),
        y_range=(-2.0, 2.0),
        minima=((0.0, 0.0),),
        log_scale=True,
        start=(-3.5, 1.0),
        latex=r"f(x, y) = 0.05\,x^2 + 5\,(y - \tfrac12 \sin x)^2",
        expression="0.05 * x * x + 5 * (y - 0.5 * Math.sin(x)) ** 2",
    )


# --- registry ------------------------------------------------------------------------------------

REGISTRY: dict[str, Callable[..., Landscape]] = {
    "rosenbrock": rosenbrock,
    "beale": beale,
    "himmelblau": himmelblau,
    "quadratic": quadratic,
    "saddle": saddle,
    "rastrigin": rastrigin,
    "valley": valley,
}


def names() -> list[str]:
    """The registered landscape names, in gallery order."""
    return list(REGISTRY)


def get(name, **kwargs) -> Landscape:
    """The landscape registered as ``name`` (its factory called with ``kwargs``).

    A :class:`Landscape` passes through unchanged (so APIs can take either)::

        get("quadratic", kappa=100, theta=math.pi / 4)
    """
    if isinstance(name, Landscape):
        if kwargs:
            raise ValueError(f"get({name!r}, ...): keyword arguments need a landscape name, not a Landscape")
        return name
    if not isinstance(name, str) or name not in REGISTRY:
        raise ValueError(f"unknown landscape {name!r}: expected a Landscape or one of {', '.join(REGISTRY)}")
    return REGISTRY[name](**kwargs)


# --- validation ----------------------------------------------------------------------------------


def _number(what: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError(f"{what}={value!r}: expected a finite number")
    return float(value)


def _positive(what: str, value) -> float:
    value = _number(what, value)
    if value <= 0:
        raise ValueError(f"{what}={value!r}: expected a positive number")
    return value


def _kappa(value) -> float:
    value = _number("kappa", value)
    if value < 1:
        raise ValueError(f"kappa={value!r}: expected a condition number >= 1")
    return value
