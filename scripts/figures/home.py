"""The figures and numbers of the Home page (docs/index.md): their recipes and catalog entries.

(Home also shows race-banana, declared with the other races on the Comparing page.)
"""

from __future__ import annotations

from ._shared import CONTESTANTS, Numbers, _walk


def same_lr_race(lr, steps):
    """The seven contestants of the races at one shared lr on the banana, from its start: why "the
    same lr" means very different steps. SGD's first step is lr·|g| (|g| ≈ 150 at the start), Adam's
    about lr per coordinate. Keys: ``lr``, ``steps``, ``start_gradient_norm``, and per contestant
    (``sgd``, ``momentum``, ``nesterov``, ``rmsprop``, ``adam``, ``adamw``, ``adagrad``)
    ``<name>_first_step`` (the length of step 1) and ``<name>_final_loss`` (after ``steps`` steps);
    ``sgd_over_adam_first_step``."""
    import torch

    from optimessay import landscapes

    banana = landscapes.rosenbrock()
    x = torch.tensor(banana.start, dtype=torch.float64, requires_grad=True)
    banana.fn(x[0], x[1]).backward()
    values = {"lr": lr, "steps": steps, "start_gradient_norm": float(x.grad.norm())}
    for name, _, cls, fixed in CONTESTANTS:
        walk = _walk(banana, cls, {"lr": lr, **fixed}, steps=steps)
        key = name.lower()
        values[f"{key}_first_step"] = float((walk.points[1] - walk.points[0]).norm())
        values[f"{key}_final_loss"] = float(walk.losses[-1])
    values["sgd_over_adam_first_step"] = values["sgd_first_step"] / values["adam_first_step"]
    return values


FIGURES = [
    Numbers("home-same-lr", "The seven optimizers of the races at one shared lr (1e-3) on the banana, 300 steps "
            "from (-1.5, 2.5): the gradient norm at the start, each one's first step length and final loss.",
            same_lr_race, {"lr": 1e-3, "steps": 300}),
]
