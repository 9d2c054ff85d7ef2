"""The figures of the Landscapes page (docs/landscapes.md): their recipes and catalog entries."""

from __future__ import annotations

import math

from ._shared import Figure, Numbers, _quadratic


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


def saddle_numbers(lr, steps, threshold):
    """Steps to |y| > threshold on the saddle from (-1.5, 0.05) at one lr, and y after step 1, for SGD,
    momentum, Adam, Adagrad, torch's RMSprop (cold start) and RMSprop bias-corrected (warm)."""
    from optimessay.experiments import cold_start

    out = {"lr": lr, "threshold": threshold}
    for name, r in cold_start.saddle_escape(lr=lr, steps=steps, threshold=threshold).items():
        out[f"{name}_escape"] = -1 if r["escape"] is None else r["escape"]
        out[f"{name}_y1"] = r["y1"]
    return out


def curvature_numbers(points):
    """The Hessian (autograd, float64) at a point of each landscape: its eigenvalues, condition number κ,
    the angle of its flat eigenvector from the x axis (degrees in [0, 180)), and κ after the Jacobi
    scaling diag(H)^(-1/2) H diag(H)^(-1/2) (for a 2×2 matrix the best diagonal scaling); at a point where H
    is not positive definite, only the eigenvalues. ``points``:
    ``((key, landscape name, params, (x, y)), ...)``."""
    import torch

    from optimessay import landscapes

    out = {}
    for key, name, params, point in points:
        H = landscapes.get(name, **dict(params)).hessian(torch.tensor(point, dtype=torch.float64))
        ev, vec = torch.linalg.eigh(H)
        flat = vec[:, 0]
        d = torch.diagonal(H).rsqrt()
        ev_diag = torch.linalg.eigvalsh(d[:, None] * H * d[None, :])
        out[f"{key}_lam_min"], out[f"{key}_lam_max"] = float(ev[0]), float(ev[1])
        if ev[0] <= 0:  # not a minimum (the saddle): no condition number, no scaling
            continue
        out[f"{key}_kappa"] = float(ev[1] / ev[0])
        out[f"{key}_angle"] = math.degrees(math.atan2(float(flat[1]), float(flat[0]))) % 180.0
        out[f"{key}_kappa_diag"] = float(ev_diag[-1] / ev_diag[0])
    return out


FIGURES = [
    Figure("banana-log-contour", "image",
           "Contour plot of Rosenbrock's banana function over x from -2 to 3 and y from -1 to 3, with "
           "log-spaced contour levels: a curved, parabola-shaped valley whose floor is light grey, and a "
           "star at the minimum (1, 1). A colour bar gives f on a log scale.",
           banana_log_contour, {"xlim": (-2.0, 3.0), "ylim": (-1.0, 3.0)}),
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
    Numbers("landscapes-saddle", "Escape from the saddle at lr 0.1: steps to |y| > 0.5 and y after the first "
            "step, for SGD, momentum, Adam, Adagrad, RMSprop (cold start) and RMSprop bias-corrected.",
            saddle_numbers, {"lr": 0.1, "steps": 100, "threshold": 0.5}),
    Numbers("landscapes-curvature", "The Hessian at a minimum of each landscape (autograd): eigenvalues, "
            "condition number, flat direction and the condition number after the Jacobi (best diagonal) scaling.",
            curvature_numbers, {"points": (("banana", "rosenbrock", (), (1.0, 1.0)),
                                           ("valley", "valley", (), (0.0, 0.0)),
                                           ("beale", "beale", (), (3.0, 0.5)),
                                           ("himmelblau", "himmelblau", (), (3.0, 2.0)),
                                           ("quadratic", "quadratic", (("kappa", 10.0), ("theta", 0.0)), (0.0, 0.0)),
                                           ("saddle", "saddle", (), (0.0, 0.0)))}),
]
