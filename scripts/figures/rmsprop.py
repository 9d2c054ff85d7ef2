"""The figures of the RMSprop page (docs/rmsprop.md): their recipes and catalog entries."""

from __future__ import annotations

from ._shared import SEED_SGD, SEED_START, Figure, Numbers, _run, _walk, sweep_heatmap


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


def rmsprop_cold_start_numbers(steps, tol):
    """RMSprop's stall on the banana, cause by cause (optimessay.experiments.cold_start): each variant
    tuned by the site's protocol on the banana, the straightened banana and the straightened banana
    turned by 45°; keys ``<landscape>_<variant>_loss`` (median final loss over the 5 starts) and
    ``..._lr``; the first steps' length / lr, cold and warm (``cold_step1`` ...)."""
    from optimessay.experiments import cold_start

    out = {"steps": steps, "tol": tol}
    for land, row in cold_start.stall_table(steps=steps, tol=tol).items():
        for variant, r in row.items():
            out[f"{land}_{variant}_loss"] = r["final_loss"]
            out[f"{land}_{variant}_lr"] = r["lr"]
            out[f"{land}_{variant}_edge"] = int(r["on_edge"])
    first = cold_start.first_steps(alpha=0.99, steps=3)
    for t in range(3):
        out[f"cold_step{t + 1}"] = first["cold"][t]
    first09 = cold_start.first_steps(alpha=0.9, steps=1)
    out["cold09_step1"] = first09["cold"][0]
    return out


def _key(value):
    """A hyperparameter as part of a Numbers key: 0.8 -> "80", 0.05 -> "05"."""
    return f"{round(value * 100):02d}"


def rmsprop_seed_numbers(alphas, momenta, alpha_fixed, momentum_fixed, lr, reference, steps_alpha, steps_momentum,
                         start):
    """The seed's two RMSprop sweeps on the banana, re-run: final loss, distance of the end to the minimum
    (1, 1) and mean step length |θ_t − θ_{t−1}| of each walk (keys ``alpha_80_loss``, ``momentum_90_dist``,
    ``sgd_100_step``, ...), plus what the page derives from them: the valley floor's length from x = -1.5
    to 1 (y = x², the arc length) and the steps it takes at momentum 0.3's top speed lr/(1 − μ)."""
    import math

    from optimessay import landscapes

    banana = landscapes.rosenbrock()

    def measure(walk):
        steps = (walk.points[1:] - walk.points[:-1]).norm(dim=1)
        return {"loss": walk.final_loss, "dist": float(walk.distances()[-1]), "step": float(steps.mean())}

    out = {}
    for alpha in alphas:
        walk = _walk(banana, "RMSprop", {"lr": lr, "alpha": alpha, "momentum": momentum_fixed}, start=start,
                     steps=steps_alpha)
        out.update({f"alpha_{_key(alpha)}_{k}": v for k, v in measure(walk).items()})
    for momentum in momenta:
        walk = _walk(banana, "RMSprop", {"lr": lr, "alpha": alpha_fixed, "momentum": momentum}, start=start,
                     steps=steps_momentum)
        out.update({f"momentum_{_key(momentum)}_{k}": v for k, v in measure(walk).items()})
    for steps in (steps_alpha, steps_momentum):
        walk = _walk(banana, "SGD", reference, start=start, steps=steps)
        out.update({f"sgd_{steps}_{k}": v for k, v in measure(walk).items()})

    def arc(x):  # ∫ √(1 + 4x²) dx, the length of y = x² from 0 to x
        return x / 2 * math.sqrt(1 + 4 * x * x) + math.asinh(2 * x) / 4

    out["floor_length"] = arc(1.0) - arc(start[0])
    slowest = min(momenta)
    out["top_speed_slowest"] = lr / (1 - slowest)
    out["steps_at_slowest"] = out["floor_length"] / out["top_speed_slowest"]
    return out


def rmsprop_mechanism_numbers(alphas, lr, momentum, steps, window_start, start):
    """Why short memory stalls (the seed's alpha sweep walks): over steps ``window_start``..``steps``, the
    x component of P_t·g_t (mean, mean size, share of steps whose sign differs from the step before) and
    the mean size of the momentum buffer's x component. Keys ``a80_pg_mean``, ``a05_flips``, ..."""
    import torch

    import optimessay
    from optimessay import landscapes

    banana = landscapes.rosenbrock()
    out = {"window_start": window_start, "window_end": steps}
    for alpha in alphas:
        p = torch.tensor(start, dtype=torch.float64, requires_grad=True)
        opt = optimessay.RMSprop([p], lr=lr, alpha=alpha, momentum=momentum)
        pg, buf = [], []
        for _ in range(steps):
            opt.zero_grad()
            banana.fn(p[0], p[1]).backward()
            g = p.grad.detach().clone()
            opt.step()
            pg.append(float(opt.preconditioner(p)[0] * g[0]))
            buf.append(float(opt.state[p]["momentum_buffer"][0]))
        x = torch.tensor(pg[window_start - 1:], dtype=torch.float64)
        b = torch.tensor(buf[window_start - 1:], dtype=torch.float64)
        k = f"a{_key(alpha)}"
        out[f"{k}_pg_mean"] = float(x.mean())
        out[f"{k}_pg_size"] = float(x.abs().mean())
        out[f"{k}_flips"] = float((torch.sign(x[1:]) != torch.sign(x[:-1])).double().mean())
        out[f"{k}_buffer_size"] = float(b.abs().mean())
    out["buffer_limit"] = 1 / (1 - momentum)
    return out


def rmsprop_scale_numbers(scales, lr, alpha, steps, start):
    """RMSprop (and SGD, same lr) on the banana f and on c·f for each c in ``scales``: where each walk ends
    (``rmsprop_<i>_x``, ``..._y`` for scales[i]), how far each RMSprop end lies from the one on f
    (``rmsprop_<i>_gap``), and SGD's first-step lengths (``sgd_<i>_step1``)."""
    from optimessay import landscapes

    banana = landscapes.rosenbrock()
    out = {"lr": lr, "alpha": alpha, "steps": steps}
    ends = []
    for i, c in enumerate(scales):
        land = landscapes.Landscape(name=f"banana-x{c:g}", title=f"{c:g} f", fn=lambda x, y, c=c: c * banana.fn(x, y),
                                    x_range=banana.x_range, y_range=banana.y_range, minima=banana.minima,
                                    log_scale=True, start=banana.start)
        walk = _walk(land, "RMSprop", {"lr": lr, "alpha": alpha}, start=start, steps=steps)
        ends.append(walk.points[-1])
        out[f"rmsprop_{i}_x"], out[f"rmsprop_{i}_y"] = (float(v) for v in walk.points[-1])
        out[f"rmsprop_{i}_gap"] = float((walk.points[-1] - ends[0]).norm())
        sgd = _walk(land, "SGD", {"lr": lr}, start=start, steps=1)
        out[f"sgd_{i}_step1"] = float((sgd.points[1] - sgd.points[0]).norm())
        out[f"scale_{i}"] = c
    return out


def rmsprop_preconditioner_numbers(lr, alpha, momentum, steps, first):
    """What the rmsprop-preconditioner figure shows, measured on its walk: P's entries over the first
    ``first`` steps (smallest, largest), its growth (median over the last half of the walk divided by
    the median over the first ``first`` steps, per coordinate) and its value at the last step."""
    from optimessay import landscapes

    walk = _walk(landscapes.rosenbrock(), "RMSprop", {"lr": lr, "alpha": alpha, "momentum": momentum}, steps=steps)
    P = walk.preconditioners
    early, late = P[:first], P[steps // 2:]
    growth = late.median(dim=0).values / early.median(dim=0).values
    return {"first": first, "early_min": float(early.min()), "early_max": float(early.max()),
            "growth_x": float(growth[0]), "growth_y": float(growth[1]), "end_x": float(P[-1, 0]),
            "end_y": float(P[-1, 1]), "end_distance": float(walk.distances()[-1])}


def rmsprop_sweep_numbers(fixed, x_range, y_range, n, steps, good, band_lr=None):
    """What an RMSprop lr × alpha heatmap shows, measured on the same sweep (sweep_heatmap's grid): the
    best cell, the lr and alpha extent of the cells that end below ``good`` (the dark basin), and with
    ``band_lr`` the smallest and largest final loss of the cells left of that lr (``band_min``, ...)."""
    import math

    import torch

    from optimessay import sweep

    xs = torch.logspace(math.log10(x_range[0]), math.log10(x_range[1]), n, dtype=torch.float64)
    ys = torch.linspace(y_range[0], y_range[1], n, dtype=torch.float64)
    result = sweep.run("rosenbrock", "RMSprop", dict(fixed), grid={"lr": xs, "alpha": ys}, steps=steps,
                       keep_trajectories=False)
    loss = result.grid(result.final_loss)  # (lr, alpha)
    finite = torch.where(torch.isfinite(loss), loss, torch.tensor(math.inf, dtype=loss.dtype))
    best = int(torch.argmin(finite))
    i, j = divmod(best, n)
    cells = torch.nonzero(finite < good)
    out = {"best_lr": float(xs[i]), "best_alpha": float(ys[j]), "best_loss": float(finite.flatten()[best]),
           "good": good, "good_cells": int(cells.shape[0]), "cells": n * n}
    if band_lr is not None:
        band = finite[xs < band_lr]
        out.update({"band_lr": band_lr, "band_min": float(band.min()), "band_max": float(band.max())})
    if cells.shape[0]:
        out.update({"good_lr_min": float(xs[cells[:, 0].min()]), "good_lr_max": float(xs[cells[:, 0].max()]),
                    "good_alpha_min": float(ys[cells[:, 1].min()]), "good_alpha_max": float(ys[cells[:, 1].max()])})
    return out


FIGURES = [
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
    Figure("rmsprop-preconditioner", "image",
           "Left: the path of RMSprop (lr 0.005, alpha 0.7, momentum 0.9) on the banana with an ellipse every "
           "8 steps whose half-axes are the two diagonal entries of its preconditioner P; the walk reaches the "
           "minimum. Right: the two entries against the step on a log scale: both start near 0.01 to 0.04 on "
           "the steep wall, rise about a hundredfold as the walk reaches the flatter valley floor, spike up and "
           "down between steps 90 and 125 where the walk rounds the bend, and settle near 0.5 (x) and 1 (y).",
           rmsprop_preconditioner, {"lr": 0.005, "alpha": 0.7, "momentum": 0.9, "steps": 200, "every": 8}),
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
    Numbers("rmsprop-cold-start", "RMSprop with and without its cold start (bias-corrected = Adam with betas "
            "(0, alpha)), alpha 0.99 and 0.9, Adagrad, Adam and SGD, each tuned by the protocol on the banana, "
            "the straightened banana and the straightened banana turned 45 degrees: median final losses, lrs.",
            rmsprop_cold_start_numbers, {"steps": 300, "tol": 1e-3}, cost=3.0),
    Numbers("rmsprop-seed-sweeps", "The seed's RMSprop alpha sweep (lr 0.01, momentum 0.9, 100 steps) and momentum "
            "sweep (alpha 0.5, 160 steps) on the banana with the SGD reference: final loss, distance to (1, 1), "
            "mean step length; the valley floor's length and the steps it takes at momentum 0.3's top speed.",
            rmsprop_seed_numbers, {"alphas": (0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0.05),
                                   "momenta": (0.9, 0.7, 0.5, 0.3), "alpha_fixed": 0.5, "momentum_fixed": 0.9,
                                   "lr": 0.01, "reference": SEED_SGD, "steps_alpha": 100, "steps_momentum": 160,
                                   "start": SEED_START}),
    Numbers("rmsprop-mechanism", "Why short memory stalls: along the seed's alpha-sweep walks (alpha 0.8, 0.2, "
            "0.05), the x component of P·g over steps 51 to 100 (mean, mean size, sign flips) and the mean size "
            "of the momentum buffer.",
            rmsprop_mechanism_numbers, {"alphas": (0.8, 0.2, 0.05), "lr": 0.01, "momentum": 0.9, "steps": 100,
                                        "window_start": 51, "start": SEED_START}),
    Numbers("rmsprop-scale", "RMSprop (lr 0.01, alpha 0.9, 50 steps) on the banana f, on 1000 f and on 1e-6 f: "
            "where the walks end and how far apart; SGD's first step on each.",
            rmsprop_scale_numbers, {"scales": (1.0, 1000.0, 1e-6), "lr": 0.01, "alpha": 0.9, "steps": 50,
                                    "start": SEED_START}),
    Numbers("rmsprop-preconditioner-numbers", "The rmsprop-preconditioner figure's walk (lr 0.005, alpha 0.7, "
            "momentum 0.9, 200 steps on the banana): P over the first 10 steps, its growth, its last value.",
            rmsprop_preconditioner_numbers, {"lr": 0.005, "alpha": 0.7, "momentum": 0.9, "steps": 200, "first": 10}),
    Numbers("rmsprop-sweep-momentum", "The RMSprop lr x alpha sweep with momentum 0.9 (the heatmap's grid): best cell "
            "and the extent of the cells ending below a loss of 1e-3.",
            rmsprop_sweep_numbers, {"fixed": {"momentum": 0.9}, "x_range": (1e-4, 1.0), "y_range": (0.05, 0.999),
                                    "n": 100, "steps": 300, "good": 1e-3}, cost=2.0),
    Numbers("rmsprop-sweep", "The RMSprop lr x alpha sweep without momentum (the heatmap's grid): best cell, the "
            "cells ending below 1e-3, and the range of final losses left of lr 0.05.",
            rmsprop_sweep_numbers, {"fixed": {}, "x_range": (1e-5, 1.0), "y_range": (0.05, 0.999), "n": 100,
                                    "steps": 300, "good": 1e-3, "band_lr": 0.05}, cost=2.0),
]
