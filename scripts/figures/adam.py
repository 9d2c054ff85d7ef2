"""The figures of the Adam and AdamW page (docs/adam.md): their recipes and catalog entries."""

from __future__ import annotations

from ._shared import Figure, Numbers, _sweep_walk, _walk, sweep_heatmap


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
    adam = _sweep_walk(land, "Adam", {"lr": lr, "weight_decay": weight_decay}, steps=steps, **schedule)
    adamw = _sweep_walk(land, "AdamW", {"lr": lr, "weight_decay": weight_decay}, steps=steps, **schedule)
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

def adam_sweep_numbers(x_range, y_range, n, steps, big):
    """What the Adam lr × beta1 heatmap shows, measured on the same sweep: the best cell and whether it
    is on the grid's edge, diverged cells, and how many cells end above ``big``."""
    import math

    import torch

    from optimessay import sweep

    xs = torch.logspace(math.log10(x_range[0]), math.log10(x_range[1]), n, dtype=torch.float64)
    ys = torch.linspace(y_range[0], y_range[1], n, dtype=torch.float64)
    result = sweep.run("rosenbrock", "Adam", {}, grid={"lr": xs, "beta1": ys}, steps=steps, keep_trajectories=False)
    loss = result.grid(result.final_loss)  # (lr, beta1)
    finite = torch.where(torch.isfinite(loss), loss, torch.tensor(math.inf, dtype=loss.dtype))
    best = int(torch.argmin(finite))
    i, j = divmod(best, n)
    return {"best_lr": float(xs[i]), "best_beta1": float(ys[j]), "best_loss": float(finite.flatten()[best]),
            "best_on_lr_edge": "yes" if i in (0, n - 1) else "no",
            "diverged": int(result.diverged.sum()), "cells": n * n,
            "above_big": int((finite > big).sum()), "big": big, "max_loss": float(finite[torch.isfinite(finite)].max()),
            "lr_max": float(xs[-1])}


def adam_bias_numbers(lr, betas, gradient, steps, ts):
    """Adam on a constant gradient, with and without bias correction (the page's table): optimessay.Adam
    steps; its raw moments give the uncorrected step m/(√v + ε) and the m-only-corrected step
    m̂/(√v + ε). Keys: ``uncorrected_<t>`` (step / lr at step t, for t in ``ts``), the peak and its step,
    ``m_only_1``, and how far the corrected step strays from lr (largest relative difference)."""
    import torch

    import optimessay

    p = torch.zeros(1, dtype=torch.float64)
    p.grad = torch.full_like(p, gradient)
    opt = optimessay.Adam([p], lr=lr, betas=tuple(betas))
    uncorrected, m_only, corrected = [], [], []
    for t in range(1, steps + 1):
        before = p.detach().clone()
        opt.step()
        corrected.append(float((before - p).abs()) / lr)
        m, v = opt.state[p]["exp_avg"], opt.state[p]["exp_avg_sq"]  # the raw (biased) moments
        uncorrected.append(float((m / (v.sqrt() + 1e-8)).abs()))
        m_only.append(float((m / (1 - betas[0] ** t) / (v.sqrt() + 1e-8)).abs()))
    out = {f"uncorrected_{t}": uncorrected[t - 1] for t in ts}
    peak = max(range(steps), key=uncorrected.__getitem__)
    out.update({"peak": uncorrected[peak], "peak_step": peak + 1, "m_only_1": m_only[0],
                "corrected_error": max(abs(c - 1) for c in corrected), "last_step": steps,
                "excess_last": uncorrected[-1] - 1})
    return out


def adamw_table_numbers(curvatures, center, weight_decays, lr, steps):
    """Adam + L2 against AdamW on f = Σ c_i(θ_i − θ*_i)² from the origin, lr cosine-annealed to 0 over
    ``steps``: where each ends and the L2 minimizer 2c_iθ*_i/(2c_i + λ), per λ (``l<i>_adam_x``,
    ``l<i>_l2_x``, ``l<i>_adamw_x``, ... for weight_decays[i]), and the box 1/λ. The weight decays of
    one optimizer run as one ``sweep.run`` (a per-walk weight_decay: each walk bit for bit the lone
    walk, tests/test_sweep.py)."""
    import torch

    import optimessay
    from optimessay import landscapes, sweep

    c, star = curvatures, center

    def fn(x, y):
        return c[0] * (x - star[0]) ** 2 + c[1] * (y - star[1]) ** 2

    land = landscapes.Landscape(name="separable-quadratic", title="f", fn=fn, x_range=(-0.5, 3.5),
                                y_range=(-0.5, 2.5), minima=(tuple(center),), log_scale=False, start=(0.0, 0.0))
    out = {"lr": lr, "steps": steps}
    lams = torch.tensor([float(lam) for lam in weight_decays], dtype=torch.float64)
    starts = torch.zeros(len(weight_decays), 2, dtype=torch.float64)
    ends = {}
    for name, cls in (("adam", optimessay.Adam), ("adamw", optimessay.AdamW)):
        result = sweep.run(land, cls, {"lr": lr, "weight_decay": lams}, starts=starts, steps=steps,
                           scheduler_class=optimessay.CosineAnnealingLR, scheduler_kwargs={"T_max": steps})
        ends[name] = result.trajectories[:, -1]
    for i, lam in enumerate(weight_decays):
        out[f"l{i}_lambda"] = lam
        out[f"l{i}_box"] = 1 / lam
        for name in ("adam", "adamw"):
            out[f"l{i}_{name}_x"], out[f"l{i}_{name}_y"] = (float(v) for v in ends[name][i])
        for j, axis in enumerate("xy"):
            out[f"l{i}_l2_{axis}"] = 2 * c[j] * star[j] / (2 * c[j] + lam)
    return out


FIGURES = [
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
    Figure("sweep-adam-lr-beta1", "image",
           "Heatmap of Adam's final loss on the banana after 300 steps, over 100 learning rates from 1e-4 to "
           "30 (log scale, x axis) and 100 beta1 values from 0 to 0.99 (y axis); dark is low loss, bright is "
           "high; grey hatching marks walks that diverged, a ring the best cell and a diamond the default lr "
           "1e-3, beta1 0.9. Everything left of lr 0.03 is one flat mediocre band; the lowest losses lie on a "
           "thin streak between lr 0.3 and 3, and beyond it the final losses climb.",
           sweep_heatmap, {"optimizer": "Adam", "fixed": {}, "x_name": "lr", "x_range": (1e-4, 30.0),
                           "y_name": "beta1", "y_range": (0.0, 0.99), "n": 100, "steps": 300, "floor": 1e-8,
                           "marks": (((1e-3, 0.9), "default"),)}, cost=2.0),
    Numbers("adam-sweep", "The Adam lr x beta1 sweep on the banana (300 steps, lr 1e-4 to 30): best cell, "
            "edge, diverged cells, cells above 1e3.", adam_sweep_numbers,
            {"x_range": (1e-4, 30.0), "y_range": (0.0, 0.99), "n": 100, "steps": 300, "big": 1e3}, cost=2.0),
    Numbers("adam-bias", "Adam (betas 0.9, 0.999) on a constant gradient with and without bias correction: the "
            "uncorrected step / lr at steps 1 to 1000, its peak, the m-only-corrected first step, the corrected "
            "step's largest relative difference from lr.",
            adam_bias_numbers, {"lr": 0.1, "betas": (0.9, 0.999), "gradient": 2.0, "steps": 1000,
                                "ts": (1, 2, 5, 10, 12, 50, 100, 1000)}),
    Numbers("adamw-table", "Adam + L2 and AdamW on (x-3)^2 + 10(y-2)^2 from the origin, lr 0.05 cosine-annealed "
            "over 4000 steps, weight decay 0.1 and 0.5: where each ends, the L2 minimizer, the box 1/lambda.",
            adamw_table_numbers, {"curvatures": (1.0, 10.0), "center": (3.0, 2.0), "weight_decays": (0.1, 0.5),
                                  "lr": 0.05, "steps": 4000}),
]
