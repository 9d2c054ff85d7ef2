"""The figures of the Learning-rate schedules page (docs/schedules.md): their recipes and catalog entries."""

from __future__ import annotations

from ._shared import SEED_SGD, SEED_START, Figure, _run, _walk

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



FIGURES = [
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
    Figure("schedules-on-banana", "image",
           "Two contour plots of the banana: SGD with lr 1e-3 and momentum 0.98 (left) and Adam with lr 0.1 "
           "(right), each walking 200 steps under four schedules: constant lr, StepLR, linear warmup then cosine, and "
           "one-cycle. On the left three schedules reach the minimum and swing around it while one-cycle is "
           "halfway down the left arm; on the right every Adam walk stops on the left arm.",
           schedules_on_banana, {"optimizers": (("SGD", {"lr": 1e-3, "momentum": 0.98}), ("Adam", {"lr": 0.1})),
                                 "schedules": ("constant lr", "StepLR", "LinearLR → CosineAnnealingLR", "OneCycleLR (cos)"),
                                 "steps": 200}),
]
