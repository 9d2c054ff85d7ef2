"""The figures of the SGD and momentum page (docs/sgd-momentum.md): their recipes and catalog entries."""

from __future__ import annotations

import math

from ._shared import SEED_SGD, SEED_START, Figure, Numbers, _quadratic, _run, _walk


def seed_sgd_momentum(lr, momentum, start, steps):
    import torch

    from optimessay import landscapes, plots, style

    banana = landscapes.rosenbrock()
    walk = _walk(banana, torch.optim.SGD, {"lr": lr, "momentum": momentum}, start=start, steps=steps)
    run = _run(walk, plots.label("torch.optim.SGD", lr=lr, momentum=momentum), style.color("momentum"))
    return plots.plot_trajectories(banana, [run], title=f"SGD with momentum, {steps} steps from {tuple(start)}",
                                   legend_inside=True)


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


def momentum_numbers(kappas, theta_degrees):
    """Heavy ball at Polyak's α, β against GD at its best lr (optimessay.experiments.momentum):
    theory and measured rates, steps to a millionfold loss reduction, the buffer's angle to the
    gradient, conjugate gradients in two steps."""
    from optimessay.experiments import momentum

    out = {}
    for k, row in momentum.rates(kappas, theta_degrees).items():
        for key, value in row.items():
            out[f"k{k}_{key}"] = value
    for k, row in momentum.steps_table(kappas, theta_degrees).items():
        out[f"k{k}_steps_gd"], out[f"k{k}_steps_hb"] = row["gd"], row["hb"]
    angle = momentum.buffer_direction()
    out["angle_median"], out["angle_max"], out["angle_share10"] = (angle["median_angle"], angle["max_angle"],
                                                                   angle["share_above_10"])
    cg = momentum.krylov_two_steps()["distance"]
    out["cg_d0"], out["cg_d1"], out["cg_d2"] = cg
    return out


def nesterov_stability(kappa, momentum, lrs, steps, start):
    """Heavy ball against Nesterov on ½(x² + κy²) (quadratic(κ, 0)) at two lrs: the final losses, and
    each method's stability limit on h = lr·λ (from the 2×2 recurrence of one eigen-direction)."""
    from optimessay import landscapes

    land = landscapes.quadratic(kappa, 0.0)
    out = {"h_limit_hb": 2 * (1 + momentum), "h_limit_nesterov": 2 * (1 + momentum) / (1 + 2 * momentum)}
    for i, lr in enumerate(lrs, start=1):
        out[f"lr{i}"] = lr
        out[f"lr{i}_h"] = lr * kappa
        for name, nesterov in (("hb", False), ("nesterov", True)):
            walk = _walk(land, "SGD", {"lr": lr, "momentum": momentum, "nesterov": nesterov}, steps=steps,
                         start=start)
            out[f"lr{i}_{name}"] = float(walk.losses[-1])
    return out


def seed_run_numbers(lr, momentum, start, steps):
    """The seed's run (torch.optim.SGD on the banana): the point its function printed (before the last
    step), the final point and loss, and how far x overshoots the minimum (its largest value, and when)."""
    import torch

    from optimessay import landscapes

    walk = _walk(landscapes.rosenbrock(), torch.optim.SGD, {"lr": lr, "momentum": momentum}, start=start,
                 steps=steps)
    pts = walk.points
    t_max = int(pts[:, 0].argmax())
    return {"printed_x": float(pts[-2, 0]), "printed_y": float(pts[-2, 1]), "final_x": float(pts[-1, 0]),
            "final_y": float(pts[-1, 1]), "final_loss": float(walk.losses[-1]), "x_max": float(pts[t_max, 0]),
            "x_max_step": t_max}


def hb_nesterov_numbers(kappa, theta_degrees, lr, momentum, steps):
    """The final losses of the heavy-ball-vs-Nesterov figure's three walks (same parameters)."""
    land = _quadratic(kappa, theta_degrees)
    out = {}
    for name, kwargs in (("gd", {"lr": lr}), ("hb", {"lr": lr, "momentum": momentum}),
                         ("nesterov", {"lr": lr, "momentum": momentum, "nesterov": True})):
        out[f"{name}_loss"] = float(_walk(land, "SGD", kwargs, steps=steps).losses[-1])
    return out


def weight_decay_numbers(kappa, theta_degrees, lr, weight_decay, steps):
    """SGD(weight_decay=λ) against shrinking first, θ ← (1 − ηλ)θ − η g, in float64 on a quadratic: the
    largest coordinate difference over the walk (rounding only)."""
    import torch

    land = _quadratic(kappa, theta_degrees)
    walk = _walk(land, "SGD", {"lr": lr, "weight_decay": weight_decay}, steps=steps)
    theta = torch.tensor(land.start, dtype=torch.float64)
    worst = 0.0
    for t in range(steps):
        theta = (1 - lr * weight_decay) * theta - lr * land.gradient(theta)
        worst = max(worst, float((theta - walk.points[t + 1]).abs().max()))
    return {"max_difference": worst}


def _seed_sgd_step(params, last, t, lr, momentum, weight_decay):
    """One step of the seed notebook's SGD.step(), its rule line for line: the buffer is ``g`` itself
    (on the first step without weight decay, the very tensor ``param.grad``), momentum from t > 0."""
    import torch

    with torch.inference_mode():
        for index, param in enumerate(params):
            g = param.grad
            if weight_decay != 0:
                g = g + weight_decay * param
            if momentum != 0 and t > 0:
                g = (momentum * last[index]) + g
            param -= lr * g
            last[index] = g


def seed_sgd_numbers(lr, momentum, weight_decay, steps, alias_start, alias_lr, alias_momentum):
    """The seed's SGD against optimessay.SGD (= torch's): the largest parameter difference over ``steps``
    steps on a small float32 network (seeded data), and two steps on ‖w‖² from ``alias_start`` with the
    gradient cleared in place between them (the seed's buffer aliases param.grad on step 1)."""
    import torch

    import optimessay

    torch.manual_seed(0)
    x, y = torch.randn(64, 4), torch.randn(64, 1)
    net = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Tanh(), torch.nn.Linear(8, 1))
    twin = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Tanh(), torch.nn.Linear(8, 1))
    twin.load_state_dict(net.state_dict())
    ours, last = list(net.parameters()), [None] * 4
    opt = optimessay.SGD(twin.parameters(), lr=lr, momentum=momentum, weight_decay=weight_decay)
    worst = 0.0
    for t in range(steps):
        for model in (net, twin):
            for q in model.parameters():
                q.grad = None
            torch.nn.functional.mse_loss(model(x), y).backward()
        _seed_sgd_step(ours, last, t, lr, momentum, weight_decay)
        opt.step()
        worst = max(worst, max(float((a.detach() - b.detach()).abs().max()) for a, b in zip(ours, twin.parameters(), strict=True)))
    out = {"network_max_difference": worst}
    for name in ("seed", "torch"):
        w = torch.nn.Parameter(torch.tensor(alias_start, dtype=torch.float64))
        last = [None]
        torch_opt = optimessay.SGD([w], lr=alias_lr, momentum=alias_momentum)
        for t in range(2):
            if w.grad is not None:
                w.grad.zero_()  # cleared in place, as zero_grad(set_to_none=False) does
            (w * w).sum().backward()
            if name == "seed":
                _seed_sgd_step([w], last, t, alias_lr, alias_momentum, 0.0)
            else:
                torch_opt.step()
        out[f"alias_{name}_x"], out[f"alias_{name}_y"] = (float(v) for v in w.detach())
    return out


FIGURES = [
    Figure("seed-sgd-momentum", "image",
           "Trajectory of torch.optim.SGD with lr 1e-3 and momentum 0.98 over the banana's log contours, "
           "100 steps from (-1.5, 2.5): it drops down the valley wall, swings along the curved floor and "
           "overshoots past the minimum at (1, 1), marked with a star, then comes back toward it.",
           seed_sgd_momentum, {**SEED_SGD, "start": SEED_START, "steps": 100}),
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
    Numbers("momentum-rates", "Heavy ball (Polyak's alpha, beta) against GD at its best lr on quadratics "
            "kappa 10/100/1000 turned 30 degrees: rates in theory and measured, steps to a millionfold loss "
            "reduction from (1, 1); the buffer's angle to the gradient; CG in two steps.",
            momentum_numbers, {"kappas": (10, 100, 1000), "theta_degrees": 30.0}),
    Numbers("momentum-nesterov-stability", "Heavy ball against Nesterov (momentum 0.9) on ½(x² + 100y²) "
            "from (-1.5, 1), 100 steps, at lr 0.01 and 0.015: final losses; each method's stability limit on lr·λ.",
            nesterov_stability, {"kappa": 100, "momentum": 0.9, "lrs": (0.01, 0.015), "steps": 100,
                                 "start": (-1.5, 1.0)}),
    Numbers("momentum-seed-run", "The seed's run, torch.optim.SGD(lr=1e-3, momentum=0.98) on the banana from "
            "(-1.5, 2.5), 100 steps: the point printed (before the last step), the final point and loss, x's peak.",
            seed_run_numbers, {**SEED_SGD, "start": SEED_START, "steps": 100}),
    Numbers("momentum-hb-nesterov", "Final losses of GD, heavy ball and Nesterov (lr 0.008, momentum 0.9) after "
            "80 steps on the quadratic with kappa 100 turned 20 degrees (the figure's walks).",
            hb_nesterov_numbers, {"kappa": 100, "theta_degrees": 20, "lr": 0.008, "momentum": 0.9, "steps": 80}),
    Numbers("momentum-weight-decay", "SGD's weight_decay against shrinking the weights first, float64, 100 steps "
            "on a quadratic (kappa 10, 20 degrees): the largest coordinate difference.",
            weight_decay_numbers, {"kappa": 10, "theta_degrees": 20, "lr": 0.05, "weight_decay": 0.3, "steps": 100}),
    Numbers("momentum-seed-sgd", "The seed notebook's SGD rule against optimessay.SGD: largest parameter difference "
            "over 30 steps on a small float32 network (lr 0.05, momentum 0.9, weight decay 0.01), and two steps "
            "on |w|^2 from (1, 2) (lr 0.1, momentum 0.9) with the gradient zeroed in place in between.",
            seed_sgd_numbers, {"lr": 0.05, "momentum": 0.9, "weight_decay": 0.01, "steps": 30,
                               "alias_start": (1.0, 2.0), "alias_lr": 0.1, "alias_momentum": 0.9}),
]
