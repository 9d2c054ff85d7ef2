"""Models and optimizer set-ups for the network experiments.

:func:`mlp` is a plain multilayer perceptron (Linear + ReLU, no normalization, PyTorch's default
initialization: the set-up where layers' gradients differ by orders of magnitude). :func:`optimizers`
builds the optimizers a named contestant uses: one optimessay optimizer for every parameter, or, for
"Muon", :class:`optimessay.Muon` on the hidden weight matrices and :class:`optimessay.AdamW` on the
rest (the first and last layers' weights and every bias), as Muon is meant to be used.
"""

from __future__ import annotations

import torch
from torch import nn


def mlp(n_in: int, n_out: int, *, width: int = 64, depth: int = 8, seed: int = 0) -> nn.Sequential:
    """``depth`` Linear layers (``depth - 1`` hidden layers of ``width`` units, ReLU after each), no
    normalization, initialized like ``nn.Linear``'s default (weights and biases uniform in
    ±1/√fan_in) but drawn from a generator seeded with ``seed``: the same seed gives the same model,
    and building one leaves the global RNG as it was."""
    if depth < 1:
        raise ValueError(f"depth must be at least 1, got {depth!r}")
    if width < 1:
        raise ValueError(f"width must be at least 1, got {width!r}")
    sizes = [n_in] + [width] * (depth - 1) + [n_out]
    layers: list[nn.Module] = []
    with torch.random.fork_rng(devices=[]):  # nn.Linear's own initialization draws from the global RNG
        for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
            layers.append(nn.Linear(a, b))
            if i < depth - 1:
                layers.append(nn.ReLU())
    model = nn.Sequential(*layers)
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for layer in model:
            if isinstance(layer, nn.Linear):
                # nn.Linear's default: U(-1/√fan_in, 1/√fan_in) for weight and bias, from our generator
                bound = 1.0 / layer.in_features**0.5
                layer.weight.copy_(torch.rand(layer.weight.shape, generator=g) * 2 * bound - bound)
                layer.bias.copy_(torch.rand(layer.bias.shape, generator=g) * 2 * bound - bound)
    return model


def linear_layers(model: nn.Module) -> list[nn.Linear]:
    """The model's Linear layers, input to output."""
    return [m for m in model.modules() if isinstance(m, nn.Linear)]


# The contestants: legend name -> (optimessay class name, fixed keyword arguments).
CONTESTANTS: dict[str, tuple[str, dict]] = {
    "SGD": ("SGD", {}),
    "Momentum": ("SGD", {"momentum": 0.9, "nesterov": True}),
    "Adam": ("Adam", {}),
    "AdamW": ("AdamW", {"weight_decay": 0.01}),
    "Muon": ("Muon", {"adjust_lr_fn": "match_rms_adamw"}),
}


# --8<-- [start:optimizers]
def optimizers(name: str, model: nn.Module, lr: float) -> list[torch.optim.Optimizer]:
    """The optimizers of contestant ``name`` (a key of :data:`CONTESTANTS`) for ``model`` at ``lr``.

    "Muon" returns two optimizers: ``Muon(hidden weight matrices, lr, adjust_lr_fn="match_rms_adamw")``
    (its update rescaled to AdamW's typical size, so one lr serves both) and ``AdamW(the rest, lr)``."""
    import optimessay

    if name not in CONTESTANTS:
        raise ValueError(f"optimizer name must be one of {sorted(CONTESTANTS)}, got {name!r}")
    if not lr > 0:
        raise ValueError(f"lr must be > 0, got {lr!r}")
    cls_name, kwargs = CONTESTANTS[name]
    if cls_name != "Muon":
        return [getattr(optimessay, cls_name)(model.parameters(), lr=lr, **kwargs)]
    layers = linear_layers(model)
    if len(layers) < 3:
        raise ValueError(f"Muon+AdamW needs at least one hidden weight matrix (3 Linear layers), got {len(layers)}")
    hidden = [layer.weight for layer in layers[1:-1]]
    hidden_ids = {id(p) for p in hidden}
    rest = [p for p in model.parameters() if id(p) not in hidden_ids]
    return [optimessay.Muon(hidden, lr=lr, **kwargs), optimessay.AdamW(rest, lr=lr, weight_decay=0.01)]
# --8<-- [end:optimizers]
