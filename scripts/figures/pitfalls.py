"""The figures of the Pitfalls page (docs/pitfalls.md): their recipes and catalog entries."""

from __future__ import annotations

from ._shared import Figure


def pitfall_grad_mutation(lr, alpha, momentum, weight_decay, steps):
    import torch

    from optimessay import landscapes, plots, style

    banana = landscapes.rosenbrock()

    class SeedRMSprop:
        """The seed notebook's RMSprop step, with its bug: ``g = p.grad; g += wd * p`` adds the weight
        decay into p.grad itself."""

        def __init__(self, params, lr, alpha, momentum, weight_decay, eps=1e-8):
            self.params, self.lr, self.alpha, self.eps = list(params), lr, alpha, eps
            self.momentum, self.wd = momentum, weight_decay
            self.vs = [torch.zeros_like(p) for p in self.params]
            self.bs = [torch.zeros_like(p) for p in self.params]

        @torch.no_grad()
        def step(self):
            for i, p in enumerate(self.params):
                g = p.grad
                g += self.wd * p  # the bug: mutates p.grad in place
                self.vs[i] = self.alpha * self.vs[i] + (1 - self.alpha) * g * g
                self.bs[i] = self.momentum * self.bs[i] + g / (self.vs[i].sqrt() + self.eps)
                p -= self.lr * self.bs[i]

    # A side-by-side check, as a learner writes one: both optimizers step from the same start, fed
    # the same gradient tensor each step (q.grad = p.grad). The seed's step runs first and adds
    # wd * p into that tensor, so torch's RMSprop sees the weight decay twice.
    p = torch.tensor(banana.start, dtype=torch.float64, requires_grad=True)
    q = p.detach().clone().requires_grad_(True)
    kwargs = {"lr": lr, "alpha": alpha, "momentum": momentum, "weight_decay": weight_decay}
    seed, ref = SeedRMSprop([p], **kwargs), torch.optim.RMSprop([q], **kwargs)
    ps, qs = [p.detach().clone()], [q.detach().clone()]
    for _ in range(steps):
        p.grad = None
        banana.fn(p[0], p[1]).backward()
        q.grad = p.grad  # the same tensor: correct only if nobody writes into it
        seed.step()
        ref.step()
        ps.append(p.detach().clone())
        qs.append(q.detach().clone())
    runs = [
        {"label": "seed RMSprop (its g += wd·p writes into p.grad)", "points": torch.stack(ps).numpy(),
         "color": style.color("rmsprop")},
        {"label": "torch.optim.RMSprop, stepping next on that p.grad", "points": torch.stack(qs).numpy(),
         "color": style.color("sgd"), "linestyle": "--"},
    ]
    fig = plots.plot_trajectories(banana, runs, title="Mutating p.grad: two optimizers that should agree part ways",
                                  height=5.6, legend_ncols=1, markers=False)
    ax = fig.axes[0]
    ax.text(0.98, 0.02, "both: " + plots.label("", **kwargs).strip().replace(" ", ", "), transform=ax.transAxes,
            ha="right", va="bottom", fontsize=8.5, color=style.INK,
            bbox=dict(boxstyle="round,pad=0.25", facecolor="white", edgecolor="none", alpha=0.85))
    return fig



FIGURES = [
    Figure("pitfall-grad-mutation", "image",
           "Two 160-step paths on the banana from (-1.5, 2.5) that should coincide: the seed notebook's RMSprop "
           "(lr 0.01, alpha 0.5, momentum 0.9, weight decay 0.3), which adds the weight decay into p.grad in "
           "place, and torch's RMSprop with the same settings stepping next on that same gradient tensor. "
           "They start together, then the dashed torch path swings lower through the valley and stops "
           "short of the seed's, which gets closer to the minimum.",
           pitfall_grad_mutation, {"lr": 0.01, "alpha": 0.5, "momentum": 0.9, "weight_decay": 0.3, "steps": 160}),
]
