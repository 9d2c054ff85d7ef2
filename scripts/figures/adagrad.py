"""The figures of the Adagrad page (docs/adagrad.md): their recipes and catalog entries."""

from __future__ import annotations

from ._shared import Figure, _walk


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



FIGURES = [
    Figure("adagrad-shrinking", "image",
           "Two plots of the preconditioner's two diagonal entries against the step on the banana, log scale. "
           "Left, Adagrad: both curves only go down. Right, RMSprop: the curves go down and up again as the "
           "gradients shrink and grow.",
           adagrad_shrinking, {"lrs": {"Adagrad": 0.5, "RMSprop": 0.01}, "steps": 300, "alpha": 0.9}),
]
