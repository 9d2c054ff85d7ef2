"""Every figure of the site, declared once: name, alt text, recipe (a function here) and parameters.

`make figures` (scripts/build_figures.py) calls ``entry.recipe(**entry.params)``; a recipe returns a
matplotlib Figure (kind "image") or an :class:`optimessay.animate.Race` (kind "video"). Pages place
a figure with ``!figure[NAME](Caption.)``; the alt text below is what a screen reader says instead of
the picture, so it states what the picture shows, not what to conclude.

Rules for recipes: import the package and matplotlib *inside* the recipe (so this file imports fast,
the build decides what is stale without loading torch, and a missing module fails only the figures
that need it); fix every seed; put every number that shapes a picture in ``params``.

The build keys each figure on the source of its recipe and of every helper here it calls, so editing
one recipe rebuilds one figure.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache


@dataclass(frozen=True)
class Figure:
    name: str
    kind: str  # "image" or "video"
    alt: str
    recipe: Callable
    params: dict = field(default_factory=dict)
    cost: float = 1.0  # rough relative build time: the build starts expensive figures first


# ================================================================================================
# helpers shared by recipes


def _walk(landscape, optimizer, kwargs, *, steps, start=None, scheduler=None, scheduler_kwargs=None):
    """One ``trajectory.run`` with an optimizer/scheduler given by class or by name (optimessay's)."""
    import optimessay
    from optimessay import trajectory

    cls = getattr(optimessay, optimizer) if isinstance(optimizer, str) else optimizer
    sched = getattr(optimessay, scheduler) if isinstance(scheduler, str) else scheduler
    return trajectory.run(landscape, cls, dict(kwargs), start=start, steps=steps,
                          scheduler_class=sched, scheduler_kwargs=dict(scheduler_kwargs or {}))


def _run(walk, label, color, **extra):
    from optimessay import plots

    return plots.run(walk, label, color, **extra)


# The seven contestants of the comparisons: (legend name, colour key, class, fixed kwargs).
CONTESTANTS = (
    ("SGD", "sgd", "SGD", {}),
    ("Momentum", "momentum", "SGD", {"momentum": 0.9}),
    ("Nesterov", "nesterov", "SGD", {"momentum": 0.9, "nesterov": True}),
    ("RMSprop", "rmsprop", "RMSprop", {}),
    ("Adam", "adam", "Adam", {}),
    ("AdamW", "adamw", "AdamW", {"weight_decay": 0.01}),
    ("Adagrad", "adagrad", "Adagrad", {}),
)


def _landscape(spec):
    """A landscape from a name, or from ``(name, ((key, value), ...))`` (hashable, for caches)."""
    from optimessay import landscapes

    if isinstance(spec, str):
        return landscapes.get(spec)
    name, kwargs = spec
    return landscapes.get(name, **dict(kwargs))


@cache
def _tuned_lr(spec, contestant: str, steps: int) -> float:
    """The contestant's best lr on the landscape: ``optimessay.tune`` over 51 lrs from 1e-5 to 1 (10
    per decade; above 1 a single step can cross the whole picture, and a chaotic walk that happens to
    end near a minimum can win), scored by tune's default objective, the mean log10 loss gap over the
    last 10% of the steps. Deterministic; cached per worker process (figures share contestants)."""
    import torch

    import optimessay

    _, _, cls, fixed = next(c for c in CONTESTANTS if c[0] == contestant)
    lrs = torch.logspace(-5, 0, 51, dtype=torch.float64)
    tuned = optimessay.tune(_landscape(spec), getattr(optimessay, cls), fixed, lr=lrs, steps=steps)
    return float(tuned.kwargs["lr"])


def _contestant_runs(spec, steps: int):
    """Each contestant at its tuned lr on the landscape ``spec``, as run dicts."""
    from optimessay import plots, style

    land = _landscape(spec)
    runs = []
    for name, color_key, cls, fixed in CONTESTANTS:
        lr = _tuned_lr(spec, name, steps)
        walk = _walk(land, cls, {"lr": lr, **fixed}, steps=steps)
        # the legend names every hyperparameter set (Nesterov's flag is in its name)
        shown = {key: value for key, value in fixed.items() if not isinstance(value, bool)}
        runs.append(_run(walk, plots.label(name, lr=float(f"{lr:.3g}"), **shown), style.color(color_key)))
    return runs


def _quadratic(kappa, theta_degrees):
    from optimessay import landscapes

    return landscapes.quadratic(kappa=kappa, theta=math.radians(theta_degrees))


# ================================================================================================
# the seed notebook's figures


def banana_log_contour(xlim, ylim):
    from optimessay import landscapes, plots, style

    fig, ax = style.figure(height=4.4)
    banana = landscapes.rosenbrock()
    filled = plots.draw_landscape(ax, banana, xlim=xlim, ylim=ylim, log=True, levels=22)
    from matplotlib import ticker

    cbar = fig.colorbar(filled, ax=ax, pad=0.02, shrink=0.9, spacing="proportional")
    cbar.ax.set_yscale("log")
    cbar.ax.yaxis.set_major_locator(ticker.LogLocator(base=10))
    cbar.ax.yaxis.set_major_formatter(ticker.LogFormatterSciNotation())
    cbar.ax.yaxis.set_minor_locator(ticker.NullLocator())
    cbar.set_label("f(x, y), log scale")
    ax.set_title("Rosenbrock's banana  f = (1 − x)² + 100 (y − x²)²")
    ax.legend(loc="upper left")
    return fig


def seed_sgd_momentum(lr, momentum, start, steps):
    import torch

    from optimessay import landscapes, plots, style

    banana = landscapes.rosenbrock()
    walk = _walk(banana, torch.optim.SGD, {"lr": lr, "momentum": momentum}, start=start, steps=steps)
    run = _run(walk, plots.label("torch.optim.SGD", lr=lr, momentum=momentum), style.color("momentum"))
    return plots.plot_trajectories(banana, [run], title=f"SGD with momentum, {steps} steps from {tuple(start)}",
                                   legend_inside=True)


def seed_sweep(sweep_name, values, fixed, reference, steps, start):
    """The seed's RMSprop experiments: one hyperparameter swept, SGD as reference."""
    from optimessay import landscapes, plots, style

    banana = landscapes.rosenbrock()
    ref = _walk(banana, "SGD", reference, start=start, steps=steps)
    runs = [_run(ref, plots.label("SGD", **reference), style.color("momentum"))]
    for value, color in zip(values, style.shades("rmsprop", len(values)), strict=True):
        walk = _walk(banana, "RMSprop", {**fixed, sweep_name: value}, start=start, steps=steps)
        runs.append(_run(walk, plots.label("RMSprop", **{sweep_name: value}), color))  # the rest: in the title
    title = f"{plots.label('RMSprop', **fixed)}, {sweep_name} swept, {steps} steps"
    return plots.plot_trajectories(banana, runs, title=title, height=5.2)


# The schedules of the scheduler figures: one colour and one line style each (Paul Tol's muted palette).
SCHEDULE_STYLES = {
    "constant lr": ("#332288", "-"),
    "ExponentialLR": ("#117733", "-"),
    "StepLR": ("#CC6677", "--"),
    "MultiStepLR": ("#882255", "-."),
    "LinearLR → CosineAnnealingLR": ("#44AA99", "-"),
    "CosineAnnealingLR": ("#DDCC77", "--"),
    "OneCycleLR (cos)": ("#AA4499", "-"),
    "OneCycleLR (linear)": ("#999933", ":"),
}


def _schedule(name, steps, lr):
    """(scheduler class name, kwargs) for a named schedule over ``steps`` steps."""
    warmup = steps // 10
    table = {
        "constant lr": (None, {}),
        "ExponentialLR": ("ExponentialLR", {"gamma": 0.99}),
        "StepLR": ("StepLR", {"step_size": 4, "gamma": 0.99}),
        "MultiStepLR": ("MultiStepLR", {"milestones": [20, 40, 50, 70], "gamma": 0.9}),
        "CosineAnnealingLR": ("CosineAnnealingLR", {"T_max": steps}),
        "OneCycleLR (cos)": ("OneCycleLR", {"max_lr": lr, "total_steps": steps, "anneal_strategy": "cos"}),
        "OneCycleLR (linear)": ("OneCycleLR", {"max_lr": lr, "total_steps": steps, "anneal_strategy": "linear"}),
    }
    if name == "LinearLR → CosineAnnealingLR":
        return "warmup-cosine", {"warmup": warmup}
    return table[name]


def _scheduled_walk(landscape, optimizer, kwargs, schedule, steps, start=None):
    """A walk under a named schedule; warmup + cosine is a SequentialLR built from the optimizer."""
    import optimessay

    cls_name, sched_kwargs = _schedule(schedule, steps, kwargs["lr"])
    if cls_name != "warmup-cosine":
        return _walk(landscape, optimizer, kwargs, steps=steps, start=start, scheduler=cls_name,
                     scheduler_kwargs=sched_kwargs)
    warmup = sched_kwargs["warmup"]

    class WarmupCosine(optimessay.SequentialLR):
        """LinearLR from lr/10 over ``warmup`` steps, then CosineAnnealingLR to 0."""

        def __init__(self, optimizer):
            super().__init__(optimizer, [
                optimessay.LinearLR(optimizer, start_factor=0.1, total_iters=warmup),
                optimessay.CosineAnnealingLR(optimizer, T_max=steps - warmup),
            ], milestones=[warmup])

    return _walk(landscape, optimizer, kwargs, steps=steps, start=start, scheduler=WarmupCosine)


def schedulers_trajectories(lr, momentum, schedules, steps, start):
    from optimessay import landscapes, plots

    banana = landscapes.rosenbrock()
    runs = []
    for name in schedules:
        walk = _scheduled_walk(banana, "SGD", {"lr": lr, "momentum": momentum}, name, steps, start)
        color, ls = SCHEDULE_STYLES[name]
        cls_name, kwargs = _schedule(name, steps, lr)
        text = name if cls_name is None else plots.label(name, **kwargs)
        runs.append(_run(walk, text, color, linestyle=ls))
    return plots.plot_trajectories(banana, runs, title=f"SGD lr={lr:g} momentum={momentum:g} under four schedules")


def schedulers_lr_curves(lr, schedules, steps):
    from optimessay import landscapes, plots

    banana = landscapes.rosenbrock()
    runs = []
    for name in schedules:
        walk = _scheduled_walk(banana, "SGD", {"lr": lr}, name, steps)
        color, ls = SCHEDULE_STYLES[name]
        runs.append({"label": name, "lrs": plots.as_numpy(walk.lrs), "color": color, "linestyle": ls,
                     "drawstyle": "steps-post"})
    fig = plots.plot_lr_curves(runs, title=f"Learning-rate schedules, base lr {lr:g}, {steps} steps")
    fig.axes[0].set_ylim(bottom=0)
    return fig


# ================================================================================================
# landscapes


def landscapes_gallery(names, levels):
    from optimessay import landscapes, plots, style

    fig, axes = style.figure(2, 3, height=5.6)
    for ax, name in zip(axes.flat, names, strict=True):
        land = landscapes.get(name)
        plots.draw_landscape(ax, land, n=181, levels=levels.get(name, 14))
        ax.set_title(land.title.replace("Rosenbrock's banana", "Banana"), fontsize=10)
        if name == "saddle":  # the saddle point itself: zero gradient, not a minimum
            ax.plot(0, 0, marker="X", markersize=8, color=style.INK, markeredgecolor="white", linestyle="none")
            ax.annotate("saddle point", (0, 0), xytext=(8, 6), textcoords="offset points", fontsize=8)
        ax.set_xlabel("")
        ax.set_ylabel("")
        ax.tick_params(labelsize=7.5)
    axes.flat[0].legend(loc="lower right", fontsize=7.5)
    return fig


def quadratic_conditioning(panels):
    import numpy as np

    from optimessay import landscapes, plots, style

    fig, axes = style.figure(2, 2, height=7.0)
    point = np.array([-1.2, 0.9])
    for ax, (kappa, theta_deg) in zip(axes.flat, panels, strict=True):
        land = _quadratic(kappa, theta_deg)
        plots.draw_landscape(ax, land, minima=True, levels=10)
        H = landscapes.quadratic_hessian(kappa, math.radians(theta_deg)).numpy()
        eigvals, eigvecs = np.linalg.eigh(H)
        for lam, vec, color in zip(eigvals, eigvecs.T, (style.BLUE, style.VERMILLION), strict=True):
            vec = vec if vec.sum() >= 0 else -vec  # point up/right
            ax.annotate("", xy=vec * 1.1, xytext=(0, 0),
                        arrowprops=dict(arrowstyle="-|>", color=color, lw=1.8, mutation_scale=12))
            ax.text(*(vec * 1.25), f"λ={lam:g}", color=color, fontsize=8.5, ha="center", va="center",
                    fontweight="bold")
        g = H @ point  # the gradient of 1/2 x^T H x
        g = g / np.linalg.norm(g) * 0.8
        ax.annotate("", xy=point - g, xytext=point,
                    arrowprops=dict(arrowstyle="-|>", color=style.INK, lw=1.4, mutation_scale=11))
        ax.plot(*point, "o", color=style.INK, markersize=4)
        ax.set_title(f"κ = {kappa:g}, θ = {theta_deg:g}°", fontsize=10)
    first = axes.flat[0]
    first.plot([], [], color=style.BLUE, label="eigenvector, small λ (along the valley)")
    first.plot([], [], color=style.VERMILLION, label="eigenvector, large λ (across)")
    first.plot([], [], color=style.INK, marker="o", markersize=4, label="−gradient at a point")
    handles, labels = first.get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=2, fontsize=8.5)
    return fig


# ================================================================================================
# preconditioning


def precond_gd_vs_newton(kappa, theta_degrees, lr, steps):
    from optimessay import plots, style, trajectory

    land = _quadratic(kappa, theta_degrees)
    gd = trajectory.preconditioned_gd(land, kind="none", lr=lr, steps=steps)
    newton = trajectory.newton(land, steps=3)
    runs = [
        _run(gd, f"gradient descent (P = I), lr={lr:g}", style.color("gd")),
        _run(newton, "Newton (P = H⁻¹), lr=1", style.color("newton")),
    ]
    return plots.plot_trajectories(land, runs, title=f"Ill-conditioned quadratic, κ={kappa:g}, θ={theta_degrees:g}°",
                                   height=4.8)


def precond_diag_axis_vs_rotated(kappa, thetas, steps):
    from optimessay import plots, style, trajectory

    fig, axes = style.figure(1, 2, height=4.3)
    gd_lr = 2 / (1 + kappa)  # the best fixed lr of plain GD: 2 / (lambda_min + lambda_max)
    for ax, theta_deg in zip(axes, thetas, strict=True):
        land = _quadratic(kappa, theta_deg)
        plots.draw_landscape(ax, land, levels=10)
        walks = [
            (trajectory.preconditioned_gd(land, kind="none", lr=gd_lr, steps=steps),
             f"GD, P = I, lr={gd_lr:.3g}", style.color("gd"), "-", 2.6),
            (trajectory.preconditioned_gd(land, kind="diag", lr=1.0, steps=steps),
             "P = diag(H)⁻¹, lr=1", style.color("diagonal P"), "--", 1.8),
            (trajectory.preconditioned_gd(land, kind="full", lr=1.0, steps=steps),
             "P = H⁻¹, lr=1", style.color("full P"), ":", 2.0),
        ]
        for walk, text, color, ls, lw in walks:
            plots.draw_path(ax, plots.as_numpy(walk.points), color=color, label=text, linestyle=ls, linewidth=lw)
        ax.set_title(f"κ = {kappa:g}, θ = {theta_deg:g}°" + (" (axis-aligned)" if theta_deg == 0 else " (rotated)"))
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=4)
    return fig


def precond_coordinates(kappa, theta_degrees, gd_lr, precond_lr, steps):
    import numpy as np

    from optimessay import landscapes, plots, style, trajectory

    land = _quadratic(kappa, theta_degrees)
    H = landscapes.quadratic_hessian(kappa, math.radians(theta_degrees)).numpy()
    w, V = np.linalg.eigh(H)
    H_half = V @ np.diag(np.sqrt(w)) @ V.T  # P = H^-1, so P^(-1/2) = H^(1/2) and P^(1/2) = H^(-1/2)
    H_minus_half = V @ np.diag(1 / np.sqrt(w)) @ V.T
    gd = plots.as_numpy(trajectory.preconditioned_gd(land, kind="none", lr=gd_lr, steps=steps).points)
    pgd = plots.as_numpy(trajectory.preconditioned_gd(land, kind="full", lr=precond_lr, steps=steps).points)

    fig, (left, right) = style.figure(1, 2, height=4.2)
    plots.draw_landscape(left, land, levels=10)
    left.set_title("original coordinates\nθ = (x, y)", fontsize=10)
    round_fn = plots.preconditioned_coordinates(land.fn, H_minus_half)  # g(φ) = f(P^(1/2) φ)
    span = 2.0 * math.sqrt(w.max())
    xs, ys, Z = plots.grid_values(round_fn, (-span, span), (-span, span), 201)
    plots.draw_contours(right, xs, ys, Z, levels=10)
    plots.draw_minima(right, [(0.0, 0.0)])
    right.set_aspect("equal", adjustable="box")
    right.set_title("preconditioned coordinates\nφ = P^(−1/2) θ with P = H⁻¹", fontsize=10)
    right.set_xlabel("φ₁")
    right.set_ylabel("φ₂")
    for ax, to in ((left, lambda p: p), (right, lambda p: p @ H_half.T)):
        plots.draw_path(ax, to(gd), color=style.color("gd"), label=f"GD (P = I), lr={gd_lr:g}")
        plots.draw_path(ax, to(pgd), color=style.color("full P"), label=f"GD with P = H⁻¹, lr={precond_lr:g}")
    handles, labels = left.get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=3)
    return fig


def _steps_to_converge(H, P, lr, start, tol, max_steps):
    """First t with |x_t| <= tol |x_0| for x_{t+1} = x_t - lr P H x_t (GD with preconditioner P on the
    quadratic 1/2 x^T H x, minimum 0): exactly what trajectory.preconditioned_gd does on it."""
    import numpy as np

    M = np.eye(2) - lr * P @ H
    x = np.asarray(start, dtype=np.float64)
    r0 = np.linalg.norm(x)
    for t in range(max_steps + 1):
        if np.linalg.norm(x) <= tol * r0:
            return t
        x = M @ x
    return np.nan


def precond_kappa_theta(kappas, thetas, tol, max_steps):
    import numpy as np

    from optimessay import landscapes, plots, style

    fig, ax = style.figure(height=5.0)
    kappas = np.asarray(kappas, dtype=np.float64)
    start = (-1.5, 1.0)
    gd = [_steps_to_converge(landscapes.quadratic_hessian(k, 0.0).numpy(), np.eye(2), 2 / (1 + k), start, tol, max_steps)
          for k in kappas]
    ax.plot(kappas, gd, color=style.color("gd"), linewidth=3.0, label="GD, P = I, lr = 2/(1+κ) (any θ)")
    shades = style.shades("diagonal P", len(thetas), lightest=0.62, darkest=0.22)
    for theta_deg, color in zip(thetas, shades, strict=True):
        steps = []
        for k in kappas:
            H = landscapes.quadratic_hessian(k, math.radians(theta_deg)).numpy()
            steps.append(_steps_to_converge(H, np.diag(1 / np.diag(H)), 1.0, start, tol, max_steps))
        ax.plot(kappas, steps, color=color, marker="o", markersize=3.5, linestyle="--",
                label=f"P = diag(H)⁻¹, lr=1, θ = {theta_deg:g}°")
    full = [_steps_to_converge(landscapes.quadratic_hessian(k, 0.3).numpy(),
                               np.linalg.inv(landscapes.quadratic_hessian(k, 0.3).numpy()), 1.0, start, tol, max_steps)
            for k in kappas]
    ax.plot(kappas, full, color=style.color("full P"), linestyle="-", linewidth=5, alpha=0.45, zorder=1.5,
            label="P = H⁻¹, lr=1 (any θ)")  # wide and underneath: the θ = 0 diagonal line lies on it
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("condition number κ")
    ax.set_ylabel(f"steps until |x − x*| ≤ {tol:g} |x₀ − x*|")
    ax.grid(True, which="major")
    ax.set_title("Steps to converge on ½(u² + κw²) turned by θ")
    plots.legend_below(fig, ax, ncols=2)
    return fig


# ================================================================================================
# SGD and momentum


def momentum_averaging(kappa, theta_degrees, lr, momentum, steps):
    import numpy as np

    from optimessay import style

    land = _quadratic(kappa, theta_degrees)
    walk = _walk(land, "SGD", {"lr": lr, "momentum": momentum}, steps=steps)
    g = walk.gradients.numpy()
    buffer = np.zeros_like(g)  # torch's SGD buffer: b_1 = g_1, b_t = mu b_{t-1} + g_t (dampening 0)
    for t in range(len(g)):
        buffer[t] = g[t] if t == 0 else momentum * buffer[t - 1] + g[t]
    fig, axes = style.figure(2, 1, height=5.2, sharex=True)
    steps_axis = np.arange(len(g))
    names = ("x: along the valley floor (small curvature)", f"y: across the valley (curvature {kappa:g})")
    for i, (ax, name) in enumerate(zip(axes, names, strict=True)):
        ax.axhline(0, color=style.MUTED_INK, linewidth=0.7)
        ax.plot(steps_axis, g[:, i], color=style.color("sgd"), linewidth=0.9, marker="o", markersize=2,
                label="raw gradient gₜ")
        ax.plot(steps_axis, buffer[:, i], color=style.color("momentum"), linewidth=2.6,
                label=f"momentum buffer bₜ = {momentum:g} bₜ₋₁ + gₜ")
        ax.set_title(name, fontsize=10, loc="left")
        ax.set_ylabel("value")
        ax.grid(True)
    axes[1].set_xlabel("step")
    axes[0].legend(loc="lower right")
    fig.suptitle(f"SGD lr={lr:g} momentum={momentum:g} on a quadratic valley (κ={kappa:g})", fontsize=11, fontweight="bold")
    return fig


def momentum_heavy_ball_vs_nesterov(kappa, theta_degrees, lr, momentum, steps):
    from optimessay import plots, style

    land = _quadratic(kappa, theta_degrees)
    runs = [
        _run(_walk(land, "SGD", {"lr": lr}, steps=steps), plots.label("GD", lr=lr), style.color("sgd")),
        _run(_walk(land, "SGD", {"lr": lr, "momentum": momentum}, steps=steps),
             plots.label("heavy ball", lr=lr, momentum=momentum), style.color("momentum")),
        _run(_walk(land, "SGD", {"lr": lr, "momentum": momentum, "nesterov": True}, steps=steps),
             plots.label("Nesterov", lr=lr, momentum=momentum), style.color("nesterov")),
    ]
    return plots.plot_trajectories(land, runs, title=f"{steps} steps on a quadratic valley, κ={kappa:g}, θ={theta_degrees:g}°",
                                   height=4.8)


def _shifted_quadratic(kappa, theta_degrees, center, l2=0.0):
    """½ (x−c)ᵀH(x−c) + l2/2 |x|²: a quadratic with its minimum at ``center``, plus an L2 term."""
    from optimessay import landscapes

    base = _quadratic(kappa, theta_degrees)
    cx, cy = center

    def fn(x, y):
        return base.fn(x - cx, y - cy) + 0.5 * l2 * (x**2 + y**2)

    H = landscapes.quadratic_hessian(kappa, math.radians(theta_degrees)).numpy()
    return fn, H


def weight_decay_l2(kappa, theta_degrees, center, lambdas, xlim, ylim):
    import numpy as np

    from optimessay import plots, style

    fig, axes = style.figure(1, len(lambdas), height=3.0)
    c = np.asarray(center, dtype=np.float64)
    _, H = _shifted_quadratic(kappa, theta_degrees, center)
    path = np.array([np.linalg.solve(H + lam * np.eye(2), H @ c) for lam in np.geomspace(1e-3, 1e3, 200)])
    for ax, lam in zip(axes, lambdas, strict=True):
        fn, _ = _shifted_quadratic(kappa, theta_degrees, center, lam)
        xs, ys, Z = plots.grid_values(fn, xlim, ylim, 181)
        plots.draw_contours(ax, xs, ys, Z, levels=12)
        minimum = np.linalg.solve(H + lam * np.eye(2), H @ c)  # (H + λI) x* = H c
        ax.plot(path[:, 0], path[:, 1], color=style.VERMILLION, linestyle="--", linewidth=1.2,
                label="minimum as λ grows")
        ax.plot(*c, marker="*", markersize=11, markerfacecolor="white", markeredgecolor=style.INK,
                linestyle="none", label="minimum of f (λ = 0)")
        plots.draw_minima(ax, [minimum], label="minimum of f + λ/2‖θ‖²")
        ax.plot(0, 0, marker="+", color=style.INK, markersize=9, linestyle="none", label="origin")
        ax.set_aspect("equal", adjustable="box")
        ax.set_title(f"λ = {lam:g}", fontsize=10)
        ax.tick_params(labelsize=7.5)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=4, fontsize=8)
    fig.suptitle(f"f + λ/2‖θ‖², f a quadratic valley (κ={kappa:g}, θ={theta_degrees:g}°) with minimum {tuple(center)}",
                 fontsize=10.5, fontweight="bold")
    return fig


# ================================================================================================
# RMSprop, Adam, Adagrad


def rmsprop_preconditioner(lr, alpha, momentum, steps, every):
    from optimessay import landscapes, plots, style

    banana = landscapes.rosenbrock()
    kwargs = {"lr": lr, "alpha": alpha, "momentum": momentum}
    walk = _walk(banana, "RMSprop", kwargs, steps=steps)
    color = style.color("rmsprop")
    fig, (left, right) = style.figure(1, 2, height=4.0, width=style.WIDTH)
    plots.draw_landscape(left, banana)
    plots.draw_path(left, plots.as_numpy(walk.points), color=color, label=plots.label("RMSprop", **kwargs),
                    markers=False)
    P = plots.as_numpy(walk.preconditioners)
    plots.draw_preconditioner_ellipses(left, plots.as_numpy(walk.points), P, color=style.shades("rmsprop", 3)[0],
                                       every=every, label=None, scale=0.35 / P[::every].max())
    left.plot([], [], linestyle="none", marker="o", markerfacecolor="none", markeredgecolor=style.shades("rmsprop", 3)[0],
              markersize=8, label=f"P every {every} steps (half-axes ∝ $p_x$, $p_y$)")
    left.legend(loc="lower left", fontsize=7.5)
    left.set_title("P along the walk")
    plots.draw_step_scale(right, plots.as_numpy(walk.preconditioners),
                          colors=(color, style.shades("rmsprop", 3)[0]))  # RMSprop's colours, as on adagrad-shrinking
    right.set_title("P per coordinate: 1 / (√v + ε)")
    right.legend(loc="lower right")
    return fig


def adam_bias_correction(lr, betas_list, steps, gradient):
    import numpy as np
    import torch

    import optimessay
    from optimessay import style

    fig, ax = style.figure(height=4.2)
    shades = style.shades("adam", len(betas_list), lightest=0.6)
    for betas, color in zip(betas_list, shades, strict=True):
        # a constant gradient: the ideal step is exactly lr in every step
        p = torch.zeros(1, dtype=torch.float64, requires_grad=True)
        opt = optimessay.Adam([p], lr=lr, betas=tuple(betas))
        with_bc, without_bc = [], []
        for _ in range(steps):
            before = p.detach().clone()
            p.grad = torch.full_like(p, gradient)
            opt.step()
            with_bc.append(float((before - p.detach()).abs()) / lr)
            m, v = opt.state[p]["exp_avg"], opt.state[p]["exp_avg_sq"]  # the raw (biased) moments
            without_bc.append(float((m / (v.sqrt() + 1e-8)).abs()))
        t = np.arange(1, steps + 1)
        ax.plot(t, with_bc, color=color, linewidth=2.4, label=f"with bias correction, betas={tuple(betas)}")
        ax.plot(t, without_bc, color=color, linewidth=1.6, linestyle="--",
                label=f"without (m / √v), betas={tuple(betas)}")
    ax.axhline(1.0, color=style.MUTED_INK, linewidth=0.8)
    ax.set_xlabel("step t")
    ax.set_ylabel("step size / lr")
    ax.set_ylim(bottom=0)
    ax.grid(True, alpha=0.6)
    ax.set_title(f"Adam's first {steps} steps on a constant gradient g = {gradient:g}")
    handles, labels = ax.get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=2)
    return fig


def adamw_vs_adam_l2(curvatures, center, weight_decay, lr, steps, xlim, ylim):
    """Adam + L2 against AdamW on f = sum_i c_i (θ_i − θ*_i)², the adam page's measured example:
    from the origin, lr cosine-annealed to 0 over ``steps`` steps. Adam + L2 converges to the L2
    minimizer 2c_i θ*_i / (2c_i + λ); AdamW does not, and stays inside the box |θ_i| ≤ 1/λ."""
    import numpy as np
    from matplotlib.patches import Rectangle

    from optimessay import landscapes, plots, style

    c = np.asarray(curvatures, dtype=np.float64)
    star = np.asarray(center, dtype=np.float64)

    def fn(x, y):
        return c[0] * (x - star[0]) ** 2 + c[1] * (y - star[1]) ** 2

    land = landscapes.Landscape(name="separable-quadratic", title="f", fn=fn, x_range=tuple(xlim),
                                y_range=tuple(ylim), minima=(tuple(center),), log_scale=False, start=(0.0, 0.0))
    l2_min = 2 * c * star / (2 * c + weight_decay)  # the minimum of f + λ/2 |θ|²
    schedule = {"scheduler": "CosineAnnealingLR", "scheduler_kwargs": {"T_max": steps}}
    adam = _walk(land, "Adam", {"lr": lr, "weight_decay": weight_decay}, steps=steps, **schedule)
    adamw = _walk(land, "AdamW", {"lr": lr, "weight_decay": weight_decay}, steps=steps, **schedule)
    fig, ax = style.figure(height=4.9)
    plots.draw_landscape(ax, land, levels=14, log=True, minima=False)
    plots.draw_minima(ax, [center], label=f"minimum of f, ({star[0]:g}, {star[1]:g})")
    box = 1 / weight_decay
    ax.add_patch(Rectangle((-box, -box), 2 * box, 2 * box, fill=False, edgecolor=style.GREEN, linestyle=":", linewidth=1.8,
        label=f"the box |θᵢ| ≤ 1/λ = {box:g}", zorder=3))
    for walk, text, color in ((adam, "Adam + L2 (coupled)", style.color("adam")),
                              (adamw, "AdamW (decoupled)", style.color("adamw"))):
        end = walk.points[-1].tolist()
        plots.draw_path(ax, plots.as_numpy(walk.points), color=color, markers=False,
                        label=f"{text}, ends at ({end[0]:.2f}, {end[1]:.2f})")
    ax.plot(*l2_min, marker="X", markersize=10, color=style.INK, markeredgecolor="white", linestyle="none",
            label=f"minimum of f + λ/2‖θ‖², ({l2_min[0]:.2f}, {l2_min[1]:.2f})", zorder=7)
    ax.plot(0, 0, marker="+", color=style.INK, markersize=10, linestyle="none", label="origin (start)")
    title = (f"f = {c[0]:g}(x − {star[0]:g})² + {c[1]:g}(y − {star[1]:g})², λ={weight_decay:g}, "
             f"lr {lr:g} cosine to 0 over {steps} steps")
    ax.set_title(title.replace("= 1(", "= ("), fontsize=10.5)
    plots.legend_below(fig, ax, ncols=2)
    return fig


def amsgrad(lr, betas, steps, landscape_name, coordinate):
    import numpy as np
    import torch

    import optimessay
    from optimessay import landscapes, plots, style

    land = landscapes.get(landscape_name)
    fig, (right, left) = style.figure(1, 2, height=4.0)  # v on the left, the paths on the right
    plots.draw_landscape(left, land)
    for flag, color, ls in ((False, style.color("adam"), "-"), (True, style.color("amsgrad"), "--")):
        walk = _walk(land, "Adam", {"lr": lr, "betas": tuple(betas), "amsgrad": flag}, steps=steps)
        plots.draw_path(left, plots.as_numpy(walk.points), color=color, linestyle=ls, markers=False,
                        label=plots.label("Adam" + (" amsgrad" if flag else ""), lr=lr, betas=tuple(betas)))
    left.legend(loc="lower left", fontsize=7.5)
    left.set_title(f"Adam vs AMSGrad, {steps} steps")
    # v_t and max(v) along the AMSGrad run, one coordinate
    p = torch.tensor(land.start, dtype=torch.float64, requires_grad=True)
    opt = optimessay.Adam([p], lr=lr, betas=tuple(betas), amsgrad=True)
    v, vmax = [], []
    for _ in range(steps):
        opt.zero_grad()
        land.fn(p[0], p[1]).backward()
        opt.step()
        v.append(float(opt.state[p]["exp_avg_sq"][coordinate]))
        vmax.append(float(opt.state[p]["max_exp_avg_sq"][coordinate]))
    t = np.arange(1, steps + 1)
    right.plot(t, v, color=style.color("adam"), label="vₜ, the running mean of g² (Adam's v)")
    right.plot(t, vmax, color=style.color("amsgrad"), linestyle="--", linewidth=2.4, label="max(v₁..vₜ) (AMSGrad)")
    right.set_yscale("log")
    right.set_xlabel("step")
    right.set_ylabel(f"second moment, {'xy'[coordinate]} coordinate")
    right.grid(True)
    right.legend(loc="lower right")
    right.set_title("AMSGrad's v never decreases")
    return fig


def adagrad_shrinking(lrs, steps, alpha):
    import numpy as np

    from optimessay import landscapes, plots, style

    banana = landscapes.rosenbrock()
    fig, axes = style.figure(1, 2, height=3.9, sharey=True)
    walks = (
        (_walk(banana, "Adagrad", {"lr": lrs["Adagrad"]}, steps=steps), plots.label("Adagrad", lr=lrs["Adagrad"])),
        (_walk(banana, "RMSprop", {"lr": lrs["RMSprop"], "alpha": alpha}, steps=steps),
         plots.label("RMSprop", lr=lrs["RMSprop"], alpha=alpha)),
    )
    for ax, (walk, title) in zip(axes, walks, strict=True):
        P = plots.as_numpy(walk.preconditioners)
        t = np.arange(1, len(P) + 1)
        key = "adagrad" if title.startswith("Adagrad") else "rmsprop"
        ax.plot(t, P[:, 0], color=style.color(key), label="$p_x$")
        ax.plot(t, P[:, 1], color=style.shades(key, 3)[0] if key == "rmsprop" else style.MUTED_INK,
                linestyle="--", label="$p_y$")
        ax.set_yscale("log")
        ax.set_xlabel("step")
        ax.grid(True)
        ax.set_title(title, fontsize=10)
        ax.legend(loc="center right")  # the empty band between the curves
    axes[0].set_ylabel("preconditioner P (per coordinate)")
    fig.suptitle("Adagrad's P = 1/(√Σg² + ε) only shrinks; RMSprop's P = 1/(√v + ε) grows back",
                 fontsize=10, fontweight="bold")
    return fig


# ================================================================================================
# comparisons


def race(landscape, steps, title, max_frames=120):
    from optimessay import animate

    runs = _contestant_runs(landscape, steps)
    for r in runs:  # "Momentum lr=0.02 momentum=0.9": the fixed options on a second line of the legend,
        name, lr, *fixed = r["label"].split(" ")  # which sits beside the square plot and must stay narrow
        r["label"] = " ".join([name, lr]) + "".join(f"\n  {option}" for option in fixed)
    return animate.Race(_landscape(landscape), runs, title=title, max_frames=max_frames)


def compare_landscapes(landscape_names, steps):
    from optimessay import landscapes, plots, style

    fig, axes = style.figure(2, 2, height=7.2)
    for ax, name in zip(axes.flat, landscape_names, strict=True):
        land = landscapes.get(name)
        plots.draw_landscape(ax, land, n=181, levels=14, minima=True)
        for r in _contestant_runs(name, steps):
            plots.draw_path(ax, r["points"], color=r["color"], label=r["label"].split(" ")[0], markers=False,
                            linewidth=1.5)
        ax.set_title(f"{land.title}, {steps} steps", fontsize=10)
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=4)
    return fig


def compare_loss_curves(landscape, steps):
    from optimessay import plots

    runs = _contestant_runs(landscape, steps)
    return plots.plot_loss_curves(runs, title=f"Loss at each optimizer's tuned lr, Rosenbrock, {steps} steps")


def sweep_heatmap(optimizer, fixed, x_name, x_range, y_name, y_range, n, steps, floor, marks):
    """Final loss over a grid of two hyperparameters (x: lr, log-spaced; y: linear), one batched
    ``optimessay.sweep.run`` of n x n walks on the banana from (-1.5, 2.5); diverged walks hatched."""
    import numpy as np
    import torch

    from optimessay import plots, style, sweep

    xs = torch.logspace(math.log10(x_range[0]), math.log10(x_range[1]), n, dtype=torch.float64)
    ys = torch.linspace(y_range[0], y_range[1], n, dtype=torch.float64)
    result = sweep.run("rosenbrock", optimizer, dict(fixed), grid={x_name: xs, y_name: ys}, steps=steps,
                       keep_trajectories=False)
    values = plots.as_numpy(result.grid(result.final_loss)).T  # rows: y, columns: x
    diverged = plots.as_numpy(result.grid(result.diverged)).T.astype(bool)
    shown = np.where(np.isfinite(values), np.maximum(values, floor), values)  # f below `floor` shows as floor
    fig, ax = style.figure(height=4.6)
    draw_name = {"beta1": "beta1 (β₁)", "alpha": "alpha (α)"}.get(y_name, y_name)
    plots.draw_heatmap(ax, shown, plots.as_numpy(xs), plots.as_numpy(ys), diverged=diverged, xlabel=x_name,
                       ylabel=draw_name, logx=True, colorbar_label=f"final loss after {steps} steps"
                       + (f" (≤ {floor:g} shown as {floor:g})" if np.nanmin(values) < floor else ""))
    for (mx, my), text in marks:
        ax.plot(mx, my, marker="D", markersize=7, markerfacecolor=style.ORANGE, markeredgecolor=style.INK,
                linestyle="none", zorder=6)
        ax.annotate(text, (mx, my), xytext=(-9, 0), textcoords="offset points", fontsize=8.5, color=style.INK,
                    ha="right", va="center", zorder=6,
                    bbox=dict(boxstyle="round,pad=0.2", facecolor="white", edgecolor="none", alpha=0.85))
    fixed_text = ", ".join(f"{k}={v}" for k, v in fixed.items())
    ax.set_title(f"{optimizer}{' (' + fixed_text + ')' if fixed_text else ''} on the banana: {n}×{n} walks")
    return fig


def schedules_on_banana(optimizers, schedules, steps):
    from optimessay import landscapes, plots, style

    banana = landscapes.rosenbrock()
    fig, axes = style.figure(1, len(optimizers), height=4.2)
    for ax, (name, kwargs) in zip(axes, optimizers, strict=True):
        plots.draw_landscape(ax, banana, n=181)
        for schedule in schedules:
            walk = _scheduled_walk(banana, name, kwargs, schedule, steps)
            color, ls = SCHEDULE_STYLES[schedule]
            plots.draw_path(ax, plots.as_numpy(walk.points), color=color, linestyle=ls, label=schedule, markers=False)
        ax.set_title(plots.label(name, **kwargs), fontsize=10)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=4, fontsize=8)
    return fig


# ================================================================================================
# pitfalls


def pitfall_grad_mutation(lr, alpha, momentum, weight_decay, steps):
    import torch

    from optimessay import landscapes, plots, style

    banana = landscapes.rosenbrock()

    class SeedRMSprop:
        """The seed notebook's RMSprop step, with its bug: ``g = p.grad; g += wd * p`` adds the weight
        decay into p.grad itself."""

        def __init__(self, params, lr, alpha, momentum, weight_decay, eps=1e-8):
            self.params, self.lr, self.alpha, self.eps = list(params), lr, alpha, eps
            self.momentum, self.wd = momentum, weight_decay
            self.vs = [torch.zeros_like(p) for p in self.params]
            self.bs = [torch.zeros_like(p) for p in self.params]

        @torch.no_grad()
        def step(self):
            for i, p in enumerate(self.params):
                g = p.grad
                g += self.wd * p  # the bug: mutates p.grad in place
                self.vs[i] = self.alpha * self.vs[i] + (1 - self.alpha) * g * g
                self.bs[i] = self.momentum * self.bs[i] + g / (self.vs[i].sqrt() + self.eps)
                p -= self.lr * self.bs[i]

    # A side-by-side check, as a learner writes one: both optimizers step from the same start, fed
    # the same gradient tensor each step (q.grad = p.grad). The seed's step runs first and adds
    # wd * p into that tensor, so torch's RMSprop sees the weight decay twice.
    p = torch.tensor(banana.start, dtype=torch.float64, requires_grad=True)
    q = p.detach().clone().requires_grad_(True)
    kwargs = {"lr": lr, "alpha": alpha, "momentum": momentum, "weight_decay": weight_decay}
    seed, ref = SeedRMSprop([p], **kwargs), torch.optim.RMSprop([q], **kwargs)
    ps, qs = [p.detach().clone()], [q.detach().clone()]
    for _ in range(steps):
        p.grad = None
        banana.fn(p[0], p[1]).backward()
        q.grad = p.grad  # the same tensor: correct only if nobody writes into it
        seed.step()
        ref.step()
        ps.append(p.detach().clone())
        qs.append(q.detach().clone())
    runs = [
        {"label": "seed RMSprop (its g += wd·p writes into p.grad)", "points": torch.stack(ps).numpy(),
         "color": style.color("rmsprop")},
        {"label": "torch.optim.RMSprop, stepping next on that p.grad", "points": torch.stack(qs).numpy(),
         "color": style.color("sgd"), "linestyle": "--"},
    ]
    fig = plots.plot_trajectories(banana, runs, title="Mutating p.grad: two optimizers that should agree part ways",
                                  height=5.6, legend_ncols=1, markers=False)
    ax = fig.axes[0]
    ax.text(0.98, 0.02, "both: " + plots.label("", **kwargs).strip().replace(" ", ", "), transform=ax.transAxes,
            ha="right", va="bottom", fontsize=8.5, color=style.INK,
            bbox=dict(boxstyle="round,pad=0.25", facecolor="white", edgecolor="none", alpha=0.85))
    return fig


# ================================================================================================
# the catalog

SEED_START = (-1.5, 2.5)
SEED_SGD = {"lr": 1e-3, "momentum": 0.98}

FIGURES = [
    # --- the seed notebook's figures, done properly ----------------------------------------------
    Figure("banana-log-contour", "image",
           "Contour plot of Rosenbrock's banana function over x from -2 to 3 and y from -1 to 3, with "
           "log-spaced contour levels: a curved, parabola-shaped valley whose floor is light grey, and a "
           "star at the minimum (1, 1). A colour bar gives f on a log scale.",
           banana_log_contour, {"xlim": (-2.0, 3.0), "ylim": (-1.0, 3.0)}),
    Figure("seed-sgd-momentum", "image",
           "Trajectory of torch.optim.SGD with lr 1e-3 and momentum 0.98 over the banana's log contours, "
           "100 steps from (-1.5, 2.5): it drops down the valley wall, swings along the curved floor and "
           "overshoots past the minimum at (1, 1), marked with a star, then comes back toward it.",
           seed_sgd_momentum, {**SEED_SGD, "start": SEED_START, "steps": 100}),
    Figure("rmsprop-alpha-sweep", "image",
           "Ten trajectories on the banana from (-1.5, 2.5), 100 steps each: SGD with lr 1e-3 and momentum "
           "0.98 in light blue for reference, and RMSprop with lr 0.01 and momentum 0.9 for alpha from 0.8 "
           "down to 0.05, drawn in shades of orange from dark (alpha 0.8) to light (alpha 0.05).",
           seed_sweep, {"sweep_name": "alpha", "values": (0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0.05),
                        "fixed": {"lr": 0.01, "momentum": 0.9}, "reference": SEED_SGD, "steps": 100,
                        "start": SEED_START}),
    Figure("rmsprop-momentum-sweep", "image",
           "Five trajectories on the banana from (-1.5, 2.5), 160 steps each: the SGD reference (lr 1e-3, "
           "momentum 0.98) and RMSprop with lr 0.01 and alpha 0.5 for momentum 0.9, 0.7, 0.5 and 0.3, in "
           "shades of orange from dark (0.9) to light (0.3).",
           seed_sweep, {"sweep_name": "momentum", "values": (0.9, 0.7, 0.5, 0.3),
                        "fixed": {"lr": 0.01, "alpha": 0.5}, "reference": SEED_SGD, "steps": 160,
                        "start": SEED_START}),
    Figure("schedulers-trajectories", "image",
           "Four trajectories of SGD (lr 1e-3, momentum 0.98) on the banana from (-1.5, 2.5), 100 steps: "
           "constant lr, ExponentialLR with gamma 0.99, StepLR with step 4 and gamma 0.99, and MultiStepLR "
           "with milestones 20, 40, 50, 70 and gamma 0.9; each in its own colour and line style.",
           schedulers_trajectories, {**SEED_SGD, "schedules": ("constant lr", "ExponentialLR", "StepLR", "MultiStepLR"),
                                     "steps": 100, "start": SEED_START}),
    Figure("schedulers-lr-curves", "image",
           "Learning rate against step for 100 steps from a base lr of 1e-3: ExponentialLR (0.99), StepLR "
           "(4, 0.99) and MultiStepLR (20, 40, 50, 70; 0.9) decay slowly; linear warmup then cosine rises "
           "for 10 steps and falls to zero; CosineAnnealingLR falls from 1e-3 to zero; OneCycleLR with "
           "cosine and with linear annealing rises to 1e-3 and falls far below the start.",
           schedulers_lr_curves, {"lr": 1e-3, "steps": 100,
                                  "schedules": ("ExponentialLR", "StepLR", "MultiStepLR", "LinearLR → CosineAnnealingLR",
                                                "CosineAnnealingLR", "OneCycleLR (cos)", "OneCycleLR (linear)")}),
    # --- landscapes ----------------------------------------------------------------------------
    Figure("landscapes-gallery", "image",
           "Six small contour plots with their minima starred: Rosenbrock's banana (a curved valley), Beale "
           "(flat plateaus and steep ridges), Himmelblau (four minima), a saddle (two minima above and below "
           "a saddle point at the origin), Rastrigin (a grid of local minima in a bowl) and a long narrow "
           "valley that winds along a sine curve.",
           landscapes_gallery, {"names": ("rosenbrock", "beale", "himmelblau", "saddle", "rastrigin", "valley"),
                                "levels": {"rastrigin": 6}}),
    Figure("quadratic-conditioning", "image",
           "Four contour plots of quadratics: kappa 1 (circles), kappa 10 and kappa 100 (ever thinner "
           "ellipses along the x axis), and kappa 10 turned by 30 degrees. Two arrows from the centre show the "
           "Hessian's eigenvectors, labelled with their eigenvalues: blue along the valley (1), orange across "
           "it (kappa); a black arrow at one point shows the negative gradient, which points mostly across "
           "the valley when kappa is large.",
           quadratic_conditioning, {"panels": ((1, 0), (10, 0), (100, 0), (10, 30))}),
    # --- preconditioning -----------------------------------------------------------------------
    Figure("precond-gd-vs-newton", "image",
           "Contours of an elongated quadratic (kappa 25, turned 30 degrees) with two paths from (-1.5, 1): "
           "gradient descent zigzags between the valley walls for 30 steps and is still short of the "
           "centre; Newton's method jumps straight to the minimum in one step.",
           precond_gd_vs_newton, {"kappa": 25, "theta_degrees": 30, "lr": 0.078, "steps": 30}),
    Figure("precond-diag-axis-vs-rotated", "image",
           "Two contour plots of a quadratic with kappa 25: axis-aligned (left) and turned by 45 degrees "
           "(right), each with three paths from (-1.5, 1): gradient descent, the diagonal preconditioner "
           "diag(H)^-1 and the full H^-1. On the left the diagonal and full preconditioners both go "
           "straight to the centre in one step; on the right the diagonal one zigzags on top of gradient "
           "descent's path while the full one still goes straight.",
           precond_diag_axis_vs_rotated, {"kappa": 25, "thetas": (0, 45), "steps": 12}),
    Figure("precond-coordinates", "image",
           "Left: an elongated, tilted quadratic valley (kappa 25, 30 degrees) with a zigzagging gradient "
           "descent path and a straight path of gradient descent preconditioned by H^-1. Right: the same "
           "function and paths in preconditioned coordinates, where the contours are circles and the "
           "preconditioned path is a straight line to the centre.",
           precond_coordinates, {"kappa": 25, "theta_degrees": 30, "gd_lr": 0.06, "precond_lr": 0.3, "steps": 25}),
    Figure("precond-kappa-theta", "image",
           "Log-log plot of steps to converge against the condition number kappa from 1 to 1000. Gradient "
           "descent's line rises in proportion to kappa; the full preconditioner H^-1 stays at one step; the "
           "diagonal preconditioner needs one step at theta 0 and climbs toward gradient descent's line as "
           "theta goes to 15, 30 and 45 degrees, where it coincides with it.",
           precond_kappa_theta, {"kappas": (1, 2, 3, 5, 10, 20, 30, 50, 100, 200, 300, 500, 1000),
                                 "thetas": (0, 5, 15, 30, 45), "tol": 1e-6, "max_steps": 20000}),
    # --- SGD and momentum ----------------------------------------------------------------------
    Figure("momentum-averaging", "image",
           "Two line plots over 80 steps of SGD with momentum 0.9 on a quadratic valley (kappa 500). Top, the "
           "x coordinate along the valley: the raw gradient is small and steady, shrinking from -1.5 toward 0, "
           "while the momentum buffer accumulates it to about -9.5 by step 14 before decaying. Bottom, the y "
           "coordinate across the valley: the raw gradient flips sign almost every step with amplitude up to "
           "several hundred, and the buffer follows it at about half its size.",
           momentum_averaging, {"kappa": 500, "theta_degrees": 0, "lr": 0.0055, "momentum": 0.9, "steps": 80}),
    Figure("momentum-heavy-ball-vs-nesterov", "image",
           "Contours of a tilted quadratic valley (kappa 100) with three 80-step paths from (-1.5, 1) at the "
           "same lr 0.008 and momentum 0.9: plain gradient descent moves only partway along the valley floor; "
           "heavy-ball momentum swings widely from wall to wall all the way; Nesterov momentum makes one deep "
           "swing across the valley, then runs straight along the floor to the minimum.",
           momentum_heavy_ball_vs_nesterov, {"kappa": 100, "theta_degrees": 20, "lr": 0.008, "momentum": 0.9,
                                             "steps": 80}),
    Figure("weight-decay-l2", "image",
           "Three contour plots of a tilted quadratic valley with its minimum at (1.5, 1), plus an L2 term of "
           "strength lambda 0, 0.3 and 1.5. A dashed curve traces the minimum as lambda grows, from (1.5, 1) "
           "to the origin; the starred minimum of each panel slides along it, moving faster along the "
           "valley's flat direction than across it.",
           weight_decay_l2, {"kappa": 10, "theta_degrees": 20, "center": (1.5, 1.0), "lambdas": (0.0, 0.3, 1.5),
                             "xlim": (-0.5, 2.5), "ylim": (-0.75, 1.75)}),
    # --- RMSprop, Adam, Adagrad ---------------------------------------------------------------
    Figure("rmsprop-preconditioner", "image",
           "Left: the path of RMSprop (lr 0.005, alpha 0.7, momentum 0.9) on the banana with an ellipse every "
           "8 steps whose half-axes are the two diagonal entries of its preconditioner P; the walk reaches the "
           "minimum. Right: the two entries against the step on a log scale: both start near 0.01 to 0.04 on "
           "the steep wall, rise about a hundredfold as the walk reaches the flatter valley floor, spike up and "
           "down between steps 90 and 125 where the walk rounds the bend, and settle near 0.5 (x) and 1 (y).",
           rmsprop_preconditioner, {"lr": 0.005, "alpha": 0.7, "momentum": 0.9, "steps": 200, "every": 8}),
    Figure("adam-bias-correction", "image",
           "Step size divided by lr over Adam's first 50 steps on a constant gradient, for betas (0.9, 0.999) "
           "and (0.9, 0.99). With bias correction both lie flat at 1 from the first step on; without it the "
           "step starts at about 3 times lr for beta2 0.999, rises to 6.5 times by step 12 and is still 4.5 "
           "times at step 50; for beta2 0.99 it peaks at about 2 times.",
           adam_bias_correction, {"lr": 0.1, "betas_list": ((0.9, 0.999), (0.9, 0.99)), "steps": 50, "gradient": 2.0}),
    Figure("adamw-vs-adam-l2", "image",
           "Contours of f = (x-3)^2 + 10(y-2)^2, minimum starred at (3, 2), with a dotted square marking the "
           "box where both coordinates lie within 1/lambda = 2 of zero. Two paths from the origin with weight "
           "decay 0.5 and lr 0.05 cosine-annealed over 4000 steps: Adam with L2 (coupled) ends on an X at "
           "(2.40, 1.95), the minimum of f plus the L2 term; AdamW (decoupled) ends elsewhere, at (1.93, 1.71), "
           "inside the box and nearer the origin.",
           adamw_vs_adam_l2, {"curvatures": (1.0, 10.0), "center": (3.0, 2.0), "weight_decay": 0.5, "lr": 0.05,
                              "steps": 4000, "xlim": (-0.5, 3.5), "ylim": (-0.5, 2.5)}),
    Figure("amsgrad", "image",
           "Left: for the y coordinate, the second-moment estimate v rises over the first 20 steps and then "
           "decays steadily on a log scale, while AMSGrad's running maximum of v steps up and then stays flat. "
           "Right: the paths of Adam and Adam with amsgrad on the banana from (-1.5, 2.5); AMSGrad's stops "
           "short of Adam's.",
           amsgrad, {"lr": 0.05, "betas": (0.9, 0.99), "steps": 300, "landscape_name": "rosenbrock", "coordinate": 1}),
    Figure("adagrad-shrinking", "image",
           "Two plots of the preconditioner's two diagonal entries against the step on the banana, log scale. "
           "Left, Adagrad: both curves only go down. Right, RMSprop: the curves go down and up again as the "
           "gradients shrink and grow.",
           adagrad_shrinking, {"lrs": {"Adagrad": 0.5, "RMSprop": 0.01}, "steps": 300, "alpha": 0.9}),
    # --- comparisons -------------------------------------------------------------------------
    Figure("race-banana", "video",
           "Animation: SGD, momentum, Nesterov, RMSprop, Adam, AdamW and Adagrad, each at its tuned learning "
           "rate, walk together for 300 steps from (-1.5, 2.5) on the banana's contours, leaving coloured "
           "trails, with a step counter. SGD, momentum and Nesterov bounce off the valley walls, then follow "
           "the floor to the minimum; RMSprop and Adagrad barely leave the start; Adam swings widely; AdamW "
           "glides along the valley floor.",
           race, {"landscape": "rosenbrock", "steps": 300, "title": "Seven optimizers on the banana, tuned lr"},
           cost=6.0),
    Figure("race-himmelblau", "video",
           "Animation: the seven optimizers, each at its tuned learning rate, walk together from (0, 0) on "
           "Himmelblau's function, whose four minima are starred; trails show which minimum each one reaches.",
           race, {"landscape": "himmelblau", "steps": 200, "title": "Seven optimizers on Himmelblau, tuned lr"},
           cost=6.0),
    Figure("race-rotated-quadratic", "video",
           "Animation: the seven optimizers, each at its tuned learning rate, walk together on a quadratic "
           "valley with kappa 50 turned by 30 degrees; SGD zigzags across the valley, the momentum methods "
           "swing, and the adaptive methods head off at an angle set by their per-coordinate scaling.",
           race, {"landscape": ("quadratic", (("kappa", 50.0), ("theta", math.radians(30)))), "steps": 200,
                  "title": "Rotated quadratic (κ=50, θ=30°), tuned lr"},
           cost=6.0),
    Figure("compare-landscapes", "image",
           "Four contour plots, banana, Beale, Himmelblau and the winding valley, each with the paths of "
           "the seven optimizers at their tuned learning rates from the landscape's start point, 300 steps. "
           "On the banana RMSprop and Adagrad stop on the left arm while the others reach the minimum region; "
           "on Beale, Himmelblau (minimum (3, 2)) and the valley all seven end at or near the minimum, "
           "momentum by the widest swings.",
           compare_landscapes, {"landscape_names": ("rosenbrock", "beale", "himmelblau", "valley"), "steps": 300},
           cost=3.0),
    Figure("compare-loss-curves", "image",
           "Loss against step on a log scale for the seven optimizers at their tuned learning rates on the "
           "banana, 300 steps, one coloured line each. SGD, momentum, Nesterov and Adam bounce to losses of hundreds "
           "in the first steps; SGD and Nesterov fall fastest and end lowest, near 1e-3; momentum, Adam and "
           "AdamW follow; RMSprop and Adagrad stay flat near 5.",
           compare_loss_curves, {"landscape": "rosenbrock", "steps": 300}, cost=2.0),
    Figure("sweep-sgd-lr-momentum", "image",
           "Heatmap of SGD's final loss on the banana after 300 steps from (-1.5, 2.5), over 100 learning "
           "rates from 1e-5 to 0.1 (log scale, x axis) and 100 momentum values from 0 to 0.99 (y axis); "
           "dark is low loss, bright is high. A grey hatched region at large lr and large momentum marks "
           "the walks that diverged; a ring marks the best cell and a diamond the seed's lr 1e-3, momentum 0.98.",
           sweep_heatmap, {"optimizer": "SGD", "fixed": {}, "x_name": "lr", "x_range": (1e-5, 0.1),
                           "y_name": "momentum", "y_range": (0.0, 0.99), "n": 100, "steps": 300, "floor": 1e-8,
                           "marks": (((1e-3, 0.98), "seed"),)}, cost=3.0),
    Figure("sweep-rmsprop-lr-alpha", "image",
           "Heatmap of RMSprop's final loss on the banana after 300 steps (no momentum), over 100 learning "
           "rates from 1e-5 to 1 (log scale, x axis) and 100 alpha values from 0.05 to 0.999 (y axis); dark "
           "is low loss. Below an lr of about 0.05 the whole map is one flat mediocre band; low losses appear "
           "only at large learning rates, speckled. A ring marks the best cell and a diamond lr 0.01, alpha 0.5.",
           sweep_heatmap, {"optimizer": "RMSprop", "fixed": {}, "x_name": "lr", "x_range": (1e-5, 1.0),
                           "y_name": "alpha", "y_range": (0.05, 0.999), "n": 100, "steps": 300, "floor": 1e-8,
                           "marks": (((0.01, 0.5), "lr 0.01, alpha 0.5"),)}, cost=2.0),
    Figure("sweep-rmsprop-lr-alpha-momentum", "image",
           "Heatmap of the final loss on the banana after 300 steps of RMSprop with momentum 0.9 (the "
           "seed's), over 100 learning rates from 1e-4 to 1 (log scale, x axis) and 100 alpha values from "
           "0.05 to 0.999 (y axis); dark is low loss. A dark region of low loss spans lr 2e-3 to 2e-2 for "
           "alpha from about 0.3 to 0.95; a ring marks the best cell and a diamond the seed's lr 0.01, alpha 0.5.",
           sweep_heatmap, {"optimizer": "RMSprop", "fixed": {"momentum": 0.9}, "x_name": "lr", "x_range": (1e-4, 1.0),
                           "y_name": "alpha", "y_range": (0.05, 0.999), "n": 100, "steps": 300, "floor": 1e-8,
                           "marks": (((0.01, 0.5), "seed"),)}, cost=2.0),
    Figure("sweep-adam-lr-beta1", "image",
           "Heatmap of Adam's final loss on the banana after 300 steps, over 100 learning rates from 1e-4 to "
           "3 (log scale, x axis) and 100 beta1 values from 0 to 0.99 (y axis); dark is low loss; a ring marks "
           "the best cell and a diamond the default lr 1e-3, beta1 0.9. No cell diverged. Everything left of lr "
           "0.03 is one flat mediocre band; the lowest losses lie on a thin dark streak at lr 0.5 to 3.",
           sweep_heatmap, {"optimizer": "Adam", "fixed": {}, "x_name": "lr", "x_range": (1e-4, 3.0),
                           "y_name": "beta1", "y_range": (0.0, 0.99), "n": 100, "steps": 300, "floor": 1e-8,
                           "marks": (((1e-3, 0.9), "default"),)}, cost=2.0),
    Figure("schedules-on-banana", "image",
           "Two contour plots of the banana: SGD with lr 1e-3 and momentum 0.98 (left) and Adam with lr 0.1 "
           "(right), each walking 200 steps under four schedules: constant lr, StepLR, linear warmup then cosine, and "
           "one-cycle. On the left three schedules reach the minimum and swing around it while one-cycle is "
           "halfway down the left arm; on the right every Adam walk stops on the left arm.",
           schedules_on_banana, {"optimizers": (("SGD", {"lr": 1e-3, "momentum": 0.98}), ("Adam", {"lr": 0.1})),
                                 "schedules": ("constant lr", "StepLR", "LinearLR → CosineAnnealingLR", "OneCycleLR (cos)"),
                                 "steps": 200}),
    # --- pitfalls ----------------------------------------------------------------------------
    Figure("pitfall-grad-mutation", "image",
           "Two 160-step paths on the banana from (-1.5, 2.5) that should coincide: the seed notebook's RMSprop "
           "(lr 0.01, alpha 0.5, momentum 0.9, weight decay 0.3), which adds the weight decay into p.grad in "
           "place, and torch's RMSprop with the same settings stepping next on that same gradient tensor. "
           "They start together, then the dashed torch path swings lower through the valley and stops "
           "short of the seed's, which gets closer to the minimum.",
           pitfall_grad_mutation, {"lr": 0.01, "alpha": 0.5, "momentum": 0.9, "weight_decay": 0.3, "steps": 160}),
]
