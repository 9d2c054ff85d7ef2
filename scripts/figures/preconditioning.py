"""The figures of the Preconditioning page (docs/preconditioning.md): their recipes and catalog entries."""

from __future__ import annotations

import math

from ._results import shared
from ._shared import Figure, Numbers, _quadratic, _run


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


THETA_CROSSING = {"kappas": (10, 100, 1000), "thetas_degrees": (0, 5, 10, 15, 20, 25, 30, 35, 40, 45), "steps": 4000,
                  "tol": 1e-6}


def precond_theta_crossing(kappas, thetas_degrees, steps, tol):
    """Steps to a millionfold loss reduction against the valley's angle θ, one panel per κ, each
    contestant tuned at each (κ, θ) by the site's protocol (optimessay.experiments.invariance)."""
    from optimessay import style
    from optimessay.experiments import invariance

    data = shared(invariance.theta_crossing, kappas=kappas, thetas_degrees=thetas_degrees, steps=steps, tol=tol)
    fig, axes = style.figure(1, len(data["kappas"]), height=4.4, sharey=True)
    marks = {"GD": "o", "Nesterov": "s", "RMSprop": "v", "Adam": "D", "Adagrad": "^"}
    for ax, k in zip(axes, data["kappas"], strict=True):
        key = f"{k:g}"
        for name, _, _ in invariance.THETA_CONTESTANTS:
            ys = data["steps"][name][key]
            xs = [t for t, y in zip(data["thetas"], ys, strict=True) if y is not None]
            ax.plot(xs, [max(y, 1) for y in ys if y is not None], marker=marks[name], markersize=4,
                    color=style.color("gd" if name == "GD" else name), label=name, linewidth=1.6)
            missed = [t for t, y in zip(data["thetas"], ys, strict=True) if y is None]
            if missed:
                ax.plot(missed, [steps * 1.6] * len(missed), linestyle="none", marker="x", markersize=6,
                        color=style.color("gd" if name == "GD" else name))
        ax.axhline(steps, color=style.INK, linewidth=0.8, linestyle=":")
        ax.set_yscale("log")
        ax.set_xlabel("valley angle θ (degrees)")
        ax.set_xticks([0, 15, 30, 45])
        ax.set_title(f"κ = {k:g}", fontsize=10)
        ax.grid(True, which="major")
    axes[0].set_ylabel(f"steps until f ≤ {tol:g}·f(start) for good")
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=5)
    return fig


def precond_theta_numbers(kappas, thetas_degrees, steps, tol):
    """The θ-crossing's data as flat numbers: ``<name>_k<kappa>_t<theta>`` steps (-1: did not arrive
    within the budget) and ``..._lr``; ``kdiag_k<kappa>_t<theta>``; crossings ``cross_<name>_vs_<ref>_k<kappa>``
    (-1: never); ``edges`` of ``n_tuned`` tuned lrs on the grid's edge (``lr_min`` .. ``lr_max``); the
    invariance table ``inv_<name>_rotation`` / ``inv_<name>_scale``."""
    from optimessay.experiments import invariance

    data = shared(invariance.theta_crossing, kappas=kappas, thetas_degrees=thetas_degrees, steps=steps, tol=tol)
    out = {"budget": steps, "tol": tol}
    for name in data["steps"]:
        for key, values in data["steps"][name].items():
            for t, v, lr, edge in zip(data["thetas"], values, data["lr"][name][key], data["on_edge"][name][key],
                                      strict=True):
                out[f"{name.lower()}_k{key}_t{t:g}"] = -1 if v is None else v
                out[f"{name.lower()}_k{key}_t{t:g}_lr"] = lr
                out[f"{name.lower()}_k{key}_t{t:g}_edge"] = int(edge)
    for key, values in data["kappa_diag"].items():
        for t, v in zip(data["thetas"], values, strict=True):
            out[f"kdiag_k{key}_t{t:g}"] = v
    for key, row in data["crossings"].items():
        for name, t in row.items():
            out[f"cross_{name.lower()}_k{key}"] = -1 if t is None else t
    out["edges"] = sum(v for k, v in out.items() if k.endswith("_edge"))
    out["n_tuned"] = sum(1 for k in out if k.endswith("_edge"))
    out["lr_min"], out["lr_max"] = data["lrs"][0], data["lrs"][-1]
    for name, row in invariance.invariance_table().items():
        out[f"inv_{name.lower()}_rotation"] = row["rotation"]
        out[f"inv_{name.lower()}_scale"] = row["scale"]
    return out


def precond_curvature_numbers(d, n, batch, draws):
    """Why √v can track curvature: slopes of log E[g²] against log H_ii (noisy least squares), and
    Adam(betas=(0, 0), eps=0) against sign descent."""
    import torch

    from optimessay.experiments import curvature

    r = curvature.squared_gradient_vs_curvature(d=d, n=n, batch=batch, draws=draws)
    sign64 = curvature.sign_descent(lr=2**-7)
    sign32 = curvature.sign_descent(lr=2**-7, dtype=torch.float32)
    other = curvature.sign_descent(lr=0.01)
    return {"slope_at_optimum": r["slope_at_optimum"], "slope_far": r["slope_far"], "d": d, "batch": batch,
            "sign_equal_f64": "yes" if sign64["equal"] else "no", "sign_equal_f32": "yes" if sign32["equal"] else "no",
            "sign_diff_lr001": other["max_abs_difference"]}


def precond_settling_numbers(kappa, lrs, steps, tol):
    """RMSprop at constant lrs on the aligned quadratic: the first step at a millionfold loss reduction,
    how often it leaves it again, the worst loss after, the final loss (``lr<i>_first`` ...)."""
    from optimessay.experiments import invariance

    out = {"kappa": kappa, "steps": steps}
    for i, lr in enumerate(lrs):
        r = invariance.settling("RMSprop", {"lr": lr}, kappa, 0.0, steps, tol)
        out[f"lr{i}"] = lr
        for key, value in r.items():
            out[f"lr{i}_{key}"] = value
    return out


def precond_kdiag_numbers(kappas, thetas_degrees):
    """The κ_diag table: ``k<kappa>_t<theta>`` (theta's '.' written '_': t22_5) from the eigenvalues of
    D^-1/2 H D^-1/2 (optimessay.experiments.invariance.kappa_diag), and ``formula_gap``: the largest
    relative difference between those and the page's closed form (1 + |r|)/(1 - |r|)."""
    from optimessay.experiments import invariance

    out, gap = {}, 0.0
    for k in kappas:
        for t in thetas_degrees:
            eig = invariance.kappa_diag(k, t)
            c, s = math.cos(math.radians(t)), math.sin(math.radians(t))
            r = (k - 1) * s * c / math.sqrt((c * c + k * s * s) * (s * s + k * c * c))
            gap = max(gap, abs((1 + abs(r)) / (1 - abs(r)) - eig) / eig)
            out[f"k{k:g}_t{t:g}".replace(".", "_")] = eig
    out["formula_gap"] = gap
    return out


def steps_at_best_lr(H, P, tol=1e-6, max_steps=100_000):
    """The page's code block: preconditioned GD from (1, 1) at its best fixed lr 2/(min + max eigenvalue
    of P H), steps until the loss is at or below ``tol`` times its start value."""
    import torch

    ev = torch.linalg.eigvals(P @ H).real
    lr = 2 / (ev.min() + ev.max())
    theta = torch.ones(2, dtype=torch.float64)
    f0 = 0.5 * theta @ H @ theta
    for t in range(max_steps):
        if 0.5 * theta @ H @ theta <= tol * f0:
            return t
        theta = theta - lr * P @ (H @ theta)
    raise RuntimeError(f"did not converge within {max_steps} steps")


def precond_steps_numbers(kappa, thetas_degrees, tol):
    """The steps table: ``t<theta>_<gd|diag|full>`` for P = I, diag(H)⁻¹, H⁻¹ at each one's best fixed lr,
    from (1, 1), until the loss is at or below ``tol`` times its start value (the page's code block)."""
    import torch

    from optimessay import landscapes

    out = {"kappa": kappa, "tol": tol}
    for t in thetas_degrees:
        H = landscapes.quadratic_hessian(kappa, math.radians(t))
        for name, P in (("gd", torch.eye(2, dtype=torch.float64)), ("diag", torch.diag(1 / torch.diagonal(H))),
                        ("full", torch.linalg.inv(H))):
            out[f"t{t:g}_{name}"] = steps_at_best_lr(H, P, tol)
    return out


FIGURES = [
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
    Figure("precond-theta-crossing", "image",
           "Three panels, kappa 10, 100 and 1000: steps (log scale) until the loss stays below a millionth of "
           "its start value, against the valley's angle theta from 0 to 45 degrees, for gradient descent, "
           "Nesterov, RMSprop, Adam and Adagrad, each tuned at every point. GD and Nesterov are flat lines; "
           "Adagrad starts at a few steps at theta 0 and climbs with theta; RMSprop and Adam are described "
           "in the caption; crosses above the dotted budget line mark runs that did not arrive.",
           precond_theta_crossing, THETA_CROSSING, cost=1.0),
    Numbers("precond-theta", "The theta-crossing data (steps to a millionfold loss reduction, tuned lrs, "
            "crossing angles) and the invariance table (rotation / rescaling deviations per method).",
            precond_theta_numbers, THETA_CROSSING, cost=18.0),
    Numbers("precond-curvature", "Slopes of log E[g^2] against log diag(H) on noisy least squares (at the "
            "optimum with mini-batches, far from it with the full batch) and Adam as sign descent.",
            precond_curvature_numbers, {"d": 20, "n": 4000, "batch": 8, "draws": 400}),
    Numbers("precond-settling", "RMSprop (alpha 0.99) at constant lrs on the aligned quadratic kappa 100: first "
            "step at a millionfold loss reduction, exits afterwards, worst and final relative loss.",
            precond_settling_numbers, {"kappa": 100.0, "lrs": (0.0316, 0.00316), "steps": 4000, "tol": 1e-6}),
    Numbers("precond-kdiag", "The condition number left by the Jacobi P = diag(H)^-1 on the quadratic (kappa, "
            "theta), from the eigenvalues, and its largest relative gap to the page's closed form.",
            precond_kdiag_numbers, {"kappas": (10, 100), "thetas_degrees": (0, 10, 22.5, 45)}),
    Numbers("precond-steps", "Steps to a millionfold loss reduction from (1, 1) on the quadratic kappa 100 at 0, 15, "
            "30 and 45 degrees for P = I, diag(H)^-1 and H^-1, each at its best fixed lr (the page's code).",
            precond_steps_numbers, {"kappa": 100.0, "thetas_degrees": (0, 15, 30, 45), "tol": 1e-6}),
]
