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
]
