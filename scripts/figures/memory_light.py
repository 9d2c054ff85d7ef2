"""The figures and numbers of the Memory-light page (docs/memory-light.md)."""

from __future__ import annotations

from ._shared import Figure, Numbers


def factored_v(m, n, seed):
    import numpy as np
    import torch

    from optimessay import style
    from optimessay.optimizers.adafactor import Adafactor

    gen = torch.Generator().manual_seed(seed)
    row = torch.logspace(-1, 1, m, dtype=torch.float64)[torch.randperm(m, generator=gen)]
    col = torch.logspace(-1, 1, n, dtype=torch.float64)[torch.randperm(n, generator=gen)]
    g = torch.randn(m, n, generator=gen, dtype=torch.float64) * torch.outer(row, col)
    p = torch.zeros(m, n, dtype=torch.float64, requires_grad=True)
    opt = Adafactor([p])
    p.grad = g
    opt.step()
    v_full = (g * g).numpy()
    v_fact = (1 / opt.preconditioner(p) ** 2).numpy()
    fig, axes = style.figure(1, 3, height=3.2)
    lo, hi = np.log10(v_full.min()), np.log10(v_full.max())
    for ax, data, title in ((axes[0], v_full, "g²"),
                            (axes[1], v_fact, "factored V̂")):
        im = ax.imshow(np.log10(data), cmap="viridis", vmin=lo, vmax=hi)
        ax.set_title(title, fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
    fig.colorbar(im, ax=axes[:2], shrink=0.8, label="log10")
    ratio = axes[2].imshow(np.log10(v_fact / v_full), cmap="RdBu_r", vmin=-3, vmax=3)
    axes[2].set_title("log10(V̂ / g²)", fontsize=9)
    axes[2].set_xticks([])
    axes[2].set_yticks([])
    fig.colorbar(ratio, ax=axes[2], shrink=0.8)
    return fig


def memory_numbers(m, n):
    from optimessay.experiments import memory_light

    out = {f"state_{k}": v for k, v in memory_light.state_sizes(m, n).items()}
    out["m"], out["n"] = m, n
    out.update(memory_light.factored_exactness())
    out.update({f"wd_{k}": v for k, v in memory_light.docstring_weight_decay().items()})
    return out


FIGURES = [
    Figure("adafactor-factored-v", "image",
           "Three 24 by 16 heat maps: the squared gradient of a random matrix whose rows and columns have "
           "scales spread over two decades, Adafactor's rank-1 factored estimate of it after one step (same "
           "log colour scale), and the log ratio of the two on a red-blue scale from -3 to 3.",
           factored_v, {"m": 24, "n": 16, "seed": 0}),
    Numbers("memory-light-numbers", "Adafactor's state size, factored-estimate exactness, docstring weight decay.",
            memory_numbers, {"m": 1024, "n": 1024}),
]
