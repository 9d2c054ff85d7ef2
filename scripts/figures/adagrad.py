"""The figures of the Adagrad page (docs/adagrad.md): their recipes and catalog entries."""

from __future__ import annotations

from ._shared import Figure, Numbers, _walk


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

def adagrad_banana_numbers(lrs, steps, p_lr, rmsprop):
    """Adagrad on the banana from its start for each lr: the final loss (``lr_<i>_loss`` for lrs[i]), on
    how many steps P grew in any coordinate (``lr_<i>_grew``, of ``steps - 1``), the best lr, P's x entry
    at the first and last step for lr ``p_lr``; and RMSprop (``rmsprop``'s kwargs) for the same steps: its
    final loss and the steps on which its P grew."""
    from optimessay import landscapes

    banana = landscapes.rosenbrock()

    def grew(walk):
        P = walk.preconditioners
        return int((P[1:] > P[:-1]).any(dim=1).sum())

    out = {"steps": steps, "comparisons": steps - 1}
    losses = []
    for i, lr in enumerate(lrs):
        walk = _walk(banana, "Adagrad", {"lr": lr}, steps=steps)
        out[f"lr_{i}"] = lr
        out[f"lr_{i}_loss"] = walk.final_loss
        out[f"lr_{i}_grew"] = grew(walk)
        losses.append(walk.final_loss)
        if lr == p_lr:
            out["p_lr"] = lr
            out["px_first"] = float(walk.preconditioners[0, 0])
            out["px_last"] = float(walk.preconditioners[-1, 0])
    out["grew_max"] = max(out[f"lr_{i}_grew"] for i in range(len(lrs)))
    best = min(range(len(lrs)), key=losses.__getitem__)
    out["best_lr"] = lrs[best]
    out["best_loss"] = losses[best]
    walk = _walk(banana, "RMSprop", rmsprop, steps=steps)
    out["rmsprop_lr"] = rmsprop["lr"]
    out["rmsprop_alpha"] = rmsprop["alpha"]
    out["rmsprop_loss"] = walk.final_loss
    out["rmsprop_grew"] = grew(walk)
    return out


FIGURES = [
    Figure("adagrad-shrinking", "image",
           "Two plots of the preconditioner's two diagonal entries against the step on the banana, log scale. "
           "Left, Adagrad: both curves only go down. Right, RMSprop: the curves go down and up again as the "
           "gradients shrink and grow.",
           adagrad_shrinking, {"lrs": {"Adagrad": 0.5, "RMSprop": 0.01}, "steps": 300, "alpha": 0.9}),
    Numbers("adagrad-banana", "Adagrad on the banana, 500 steps from (-1.5, 2.5), lr 0.03 to 10: final losses, "
            "steps on which P grew, P_x at the first and last step (lr 1); RMSprop (lr 0.01, alpha 0.99) alongside.",
            adagrad_banana_numbers, {"lrs": (0.03, 0.1, 0.3, 1.0, 3.0, 10.0), "steps": 500, "p_lr": 1.0,
                                     "rmsprop": {"lr": 0.01, "alpha": 0.99}}),
]
