"""The figures of the Learning-rate schedules page (docs/schedules.md): their recipes and catalog entries."""

from __future__ import annotations

from ._shared import SEED_SGD, SEED_START, Figure, Numbers, _run, _walk

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


# --- the seven schedulers added for issue 11: one lr(t) figure each --------------------------------
NEW_SCHEDULERS = ("multiplicativelr", "polynomiallr", "cosineannealingwarmrestarts", "cycliclr",
                  "chainedscheduler", "reducelronplateau", "swalr")


def _new_schedule(which, opt):
    """(label, scheduler) pairs for one figure, built on ``opt`` (fresh optimizer per call)."""
    import optimessay

    if which == "multiplicativelr":
        return optimessay.MultiplicativeLR(opt, lr_lambda=lambda t: 0.95 if t < 30 else 1.0)
    if which == "polynomiallr":
        return optimessay.PolynomialLR(opt, total_iters=80, power=2.0)
    if which == "cosineannealingwarmrestarts":
        return optimessay.CosineAnnealingWarmRestarts(opt, T_0=10, T_mult=2, eta_min=1e-4)
    if which == "chainedscheduler":
        return optimessay.ChainedScheduler([optimessay.ConstantLR(opt, factor=0.1, total_iters=10),
                                            optimessay.ExponentialLR(opt, gamma=0.98)])
    if which == "swalr":
        return optimessay.SWALR(opt, swa_lr=2e-4, anneal_epochs=20, anneal_strategy="cos")
    raise ValueError(f"unknown schedule {which!r}")


def _lr_sequence(which, steps, lr, **cyclic):
    """The lr of every step (and the momentum, for CyclicLR) of a one-parameter SGD driven by ``which``."""
    import torch

    import optimessay

    p = torch.nn.Parameter(torch.zeros(1))
    opt = optimessay.SGD([p], lr=lr, momentum=0.9)
    sched = optimessay.CyclicLR(opt, **cyclic) if which == "cycliclr" else _new_schedule(which, opt)
    lrs, moms = [], []
    for _ in range(steps):
        lrs.append(opt.param_groups[0]["lr"])
        moms.append(opt.param_groups[0]["momentum"])
        opt.step()
        sched.step()
    return lrs, moms


def scheduler_curve(which, steps, lr, title):
    import numpy as np

    from optimessay import style

    fig, ax = style.figure(height=2.6)
    lrs, _ = _lr_sequence(which, steps, lr)
    ax.plot(np.arange(steps), lrs, color="#332288", lw=1.8, drawstyle="steps-post")
    ax.set_xlabel("step")
    ax.set_ylabel("lr")
    ax.set_ylim(bottom=0)
    ax.set_title(title, fontsize=10)
    ax.grid(True)
    return fig


def cyclic_curves(steps, base_lr, max_lr, step_size_up):
    import numpy as np

    from optimessay import style

    fig, (ax, mx) = style.figure(1, 2, height=2.8)
    for mode, color, ls in (("triangular", "#332288", "-"), ("triangular2", "#117733", "--"),
                            ("exp_range", "#CC6677", ":")):
        kw = {"base_lr": base_lr, "max_lr": max_lr, "step_size_up": step_size_up, "mode": mode}
        if mode == "exp_range":
            kw["gamma"] = 0.99
        lrs, moms = _lr_sequence("cycliclr", steps, base_lr, **kw)
        ax.plot(np.arange(steps), lrs, color=color, ls=ls, lw=1.6, label=mode)
        if mode == "triangular":
            mx.plot(np.arange(steps), moms, color=color, lw=1.6, label="momentum (triangular)")
    ax.set_title("lr, three modes", fontsize=10)
    mx.set_title("momentum: cycled the opposite way", fontsize=10)
    for a in (ax, mx):
        a.set_xlabel("step")
        a.grid(True)
        a.legend(fontsize=8, loc="upper right")
    ax.set_ylabel("lr")
    mx.set_ylabel("momentum")
    return fig


def plateau_curve(steps, lr, noise, patience, factor, seed):
    import numpy as np

    import optimessay
    from optimessay import landscapes, plots, style, trajectory

    walk = trajectory.run(landscapes.quadratic(10), optimessay.SGD, {"lr": lr}, steps=steps, noise=noise, seed=seed,
                          scheduler_class=optimessay.ReduceLROnPlateau,
                          scheduler_kwargs={"patience": patience, "factor": factor})
    fig, ax = style.figure(height=2.8)
    losses, lrs = plots.as_numpy(walk.losses), plots.as_numpy(walk.lrs)
    ax.semilogy(np.arange(len(losses)), losses, color="#999999", lw=0.8, label="loss (noisy gradients)")
    ax.set_ylabel("loss")
    ax.set_xlabel("step")
    lr_ax = ax.twinx()
    lr_ax.plot(np.arange(len(lrs)), lrs, color="#332288", lw=1.8, drawstyle="steps-post", label="lr")
    lr_ax.set_yscale("log")
    lr_ax.set_ylabel("lr")
    handles = ax.get_legend_handles_labels()[0] + lr_ax.get_legend_handles_labels()[0]
    ax.legend(handles, [h.get_label() for h in handles], fontsize=8, loc="lower left")
    ax.set_title(f"ReduceLROnPlateau(patience={patience}, factor={factor}) stepped with the loss", fontsize=10)
    return fig


def new_scheduler_numbers(steps, lr, noise, patience, factor, seed):
    import optimessay
    from optimessay import landscapes, trajectory

    walk = trajectory.run(landscapes.quadratic(10), optimessay.SGD, {"lr": lr}, steps=steps, noise=noise, seed=seed,
                          scheduler_class=optimessay.ReduceLROnPlateau,
                          scheduler_kwargs={"patience": patience, "factor": factor})
    lrs = [float(x) for x in walk.lrs]
    cuts = [t for t in range(1, len(lrs)) if lrs[t] < lrs[t - 1]]
    return {"plateau_cuts": len(cuts), "plateau_first_cut": cuts[0] if cuts else -1,
            "plateau_final_lr": lrs[-1], "plateau_lr": lr, "plateau_steps": steps}


def noise_floor_numbers(kappa, lr, noise, steps, last, seeds, schedules):
    """SGD with noisy gradients (σ = ``noise``) on quadratic(κ): the predicted noise floor
    Σᵢ ησ²/(2(2 − ηλᵢ)) and, per schedule, the mean loss over the last ``last`` of ``steps`` steps,
    averaged over ``seeds`` seeds (and for seed 0 alone). ``schedules``: ((key, class name or None, kwargs), ...).
    The seeds of a schedule run as one batched ``sweep.run`` (walk i is bit for bit
    ``trajectory.run(..., seed=i)``)."""
    import torch

    import optimessay
    from optimessay import landscapes, sweep

    land = landscapes.quadratic(kappa)
    out = {"predicted": sum(lr * noise**2 / (2 * (2 - lr * lam)) for lam in (1.0, kappa))}
    starts = torch.tensor([land.start] * seeds, dtype=torch.float64)
    for key, cls_name, kwargs in schedules:
        walks = sweep.run(land, optimessay.SGD, {"lr": lr}, starts=starts, steps=steps, noise=noise,
                          seed=list(range(seeds)),
                          scheduler_class=None if cls_name is None else getattr(optimessay, cls_name),
                          scheduler_kwargs=dict(kwargs))
        floors = [float(walks.losses[i, -last:].contiguous().mean()) for i in range(seeds)]
        out[f"{key}_floor"] = sum(floors) / len(floors)
        out[f"{key}_floor_seed0"] = floors[0]
    return out


def seed_schedule_numbers(lr, momentum, schedules, steps, start):
    """The seed's three schedulers: η_steps/η_0, and the final point, loss, distance to (1, 1) and
    Σ lr of SGD (lr, momentum) on the banana under each (and under a constant lr)."""
    import math

    from optimessay import landscapes

    banana = landscapes.rosenbrock()
    keys = {"constant lr": "constant", "ExponentialLR": "exponential", "StepLR": "step", "MultiStepLR": "multistep"}
    out = {}
    for name in schedules:
        walk = _scheduled_walk(banana, "SGD", {"lr": lr, "momentum": momentum}, name, steps, start)
        k = keys[name]
        x, y = (float(v) for v in walk.points[-1])
        out[f"{k}_x"], out[f"{k}_y"], out[f"{k}_loss"] = x, y, float(walk.losses[-1])
        out[f"{k}_distance"] = math.hypot(x - 1.0, y - 1.0)
        out[f"{k}_lr_sum"] = float(walk.lrs.sum())
        if name != "constant lr":  # the lr the scheduler would give the next step, relative to the first
            out[f"{k}_ratio"] = _lr_after(name, steps, lr) / lr
    return out


def _lr_after(name, steps, lr):
    """The lr after ``steps`` scheduler steps of the named schedule on a one-parameter SGD."""
    import torch

    import optimessay

    cls_name, kwargs = _schedule(name, steps, lr)
    p = torch.nn.Parameter(torch.zeros(1))
    opt = optimessay.SGD([p], lr=lr)
    sched = getattr(optimessay, cls_name)(opt, **kwargs)
    for _ in range(steps):
        opt.step()
        sched.step()
    return opt.param_groups[0]["lr"]


def banana_schedule_numbers(optimizers, schedules, steps):
    """The final loss of each walk of the schedules-on-banana figure (same parameters)."""
    from optimessay import landscapes

    banana = landscapes.rosenbrock()
    keys = {"constant lr": "constant", "StepLR": "step", "LinearLR → CosineAnnealingLR": "warmup_cosine",
            "OneCycleLR (cos)": "onecycle"}
    out = {}
    for name, kwargs in optimizers:
        for schedule in schedules:
            walk = _scheduled_walk(banana, name, kwargs, schedule, steps)
            out[f"{name.lower()}_{keys[schedule]}_loss"] = float(walk.losses[-1])
    return out


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
    Figure("multiplicativelr-curve", "image",
           "Learning rate against step, 60 steps from lr 0.1: MultiplicativeLR multiplying it by 0.95 every "
           "step for the first 30 steps, then by 1, so the curve falls geometrically and then stays flat.",
           scheduler_curve, {"which": "multiplicativelr", "steps": 60, "lr": 0.1,
                             "title": "MultiplicativeLR(lr_lambda=lambda t: 0.95 if t < 30 else 1.0)"}),
    Figure("polynomiallr-curve", "image",
           "Learning rate against step, 100 steps from lr 0.1: PolynomialLR with total_iters 80 and power 2 "
           "falls along a parabola to zero at step 80 and stays at zero.",
           scheduler_curve, {"which": "polynomiallr", "steps": 100, "lr": 0.1,
                             "title": "PolynomialLR(total_iters=80, power=2)"}),
    Figure("cosineannealingwarmrestarts-curve", "image",
           "Learning rate against step, 150 steps from lr 0.1: CosineAnnealingWarmRestarts with T_0 10 and "
           "T_mult 2 falls along half a cosine over 10 steps, jumps back to 0.1, falls over 20, then 40, then 80 steps.",
           scheduler_curve, {"which": "cosineannealingwarmrestarts", "steps": 150, "lr": 0.1,
                             "title": "CosineAnnealingWarmRestarts(T_0=10, T_mult=2, eta_min=1e-4)"}),
    Figure("cycliclr-curves", "image",
           "Left: learning rate against step, 200 steps of CyclicLR between 0.01 and 0.1 with 20 steps up and "
           "20 down, in its three modes: triangular repeats the same triangle, triangular2 halves the height "
           "every cycle, exp_range shrinks it by 0.99 per step. Right: the momentum of the triangular run, "
           "between 0.8 and 0.9, low when the lr is high.",
           cyclic_curves, {"steps": 200, "base_lr": 0.01, "max_lr": 0.1, "step_size_up": 20}),
    Figure("chainedscheduler-curve", "image",
           "Learning rate against step, 100 steps from lr 0.1: ConstantLR with factor 0.1 for 10 steps chained "
           "with ExponentialLR 0.98: the lr starts at a tenth, jumps up at step 10 and decays geometrically "
           "throughout.",
           scheduler_curve, {"which": "chainedscheduler", "steps": 100, "lr": 0.1,
                             "title": "ChainedScheduler([ConstantLR(factor=0.1, total_iters=10), ExponentialLR(0.98)])"}),
    Figure("reducelronplateau-curve", "image",
           "The loss of SGD with noisy gradients on a quadratic with condition number 10 over 300 steps (grey, "
           "log scale) and its learning rate (dark blue, log scale, right axis), which ReduceLROnPlateau cuts "
           "in steps whenever the loss has not improved for the patience.",
           plateau_curve, {"steps": 300, "lr": 0.05, "noise": 1.0, "patience": 10, "factor": 0.5, "seed": 0}),
    Figure("swalr-curve", "image",
           "Learning rate against step, 40 steps from lr 0.1: SWALR anneals it along half a cosine to 2e-4 "
           "over 20 steps and then holds it there.",
           scheduler_curve, {"which": "swalr", "steps": 40, "lr": 0.1,
                             "title": "SWALR(swa_lr=2e-4, anneal_epochs=20, anneal_strategy='cos')"}),
    Numbers("new-schedulers-numbers", "ReduceLROnPlateau on the noisy quadratic: how often it cut the lr.",
            new_scheduler_numbers, {"steps": 300, "lr": 0.05, "noise": 1.0, "patience": 10, "factor": 0.5, "seed": 0}),
    Numbers("schedules-noise-floor", "SGD lr 0.05 with gradient noise 1 on the quadratic kappa 10, 300 steps: "
            "predicted noise floor, and mean loss over the last 50 steps (20 seeds, and seed 0) per schedule.",
            noise_floor_numbers, {"kappa": 10.0, "lr": 0.05, "noise": 1.0, "steps": 300, "last": 50, "seeds": 20,
                                  "schedules": (("constant", None, ()),
                                                ("step", "StepLR", (("step_size", 100), ("gamma", 0.1))),
                                                ("exponential", "ExponentialLR", (("gamma", 0.985),)),
                                                ("cosine", "CosineAnnealingLR", (("T_max", 300),)))}),
    Numbers("schedules-seed", "The seed's three schedulers: lr after 100 steps relative to the first, and SGD "
            "(lr 1e-3, momentum 0.98) on the banana from (-1.5, 2.5), 100 steps, under each: final point, loss, "
            "distance to (1, 1), sum of the lrs.",
            seed_schedule_numbers, {**SEED_SGD, "schedules": ("constant lr", "ExponentialLR", "StepLR", "MultiStepLR"),
                                    "steps": 100, "start": SEED_START}),
    Numbers("schedules-banana", "Final losses of the schedules-on-banana walks: SGD (lr 1e-3, momentum 0.98) and "
            "Adam (lr 0.1), 200 steps, under four schedules.",
            banana_schedule_numbers, {"optimizers": (("SGD", {"lr": 1e-3, "momentum": 0.98}), ("Adam", {"lr": 0.1})),
                                      "schedules": ("constant lr", "StepLR", "LinearLR → CosineAnnealingLR",
                                                    "OneCycleLR (cos)"),
                                      "steps": 200}),
]
