"""optimessay: neural-network optimizers as preconditioners of the gradient.

Every name below is imported on first use (PEP 562), so ``import optimessay`` stays light and the
core never pulls in matplotlib::

    from optimessay import Adam, CosineAnnealingLR
"""

from importlib import import_module

__version__ = "0.1.0"

_EXPORTS = {
    # layer 1: update rules (drop-in torch.optim replacements)
    "SGD": "optimessay.optimizers",
    "RMSprop": "optimessay.optimizers",
    "Adam": "optimessay.optimizers",
    "AdamW": "optimessay.optimizers",
    "Adagrad": "optimessay.optimizers",
    "ExponentialLR": "optimessay.schedulers",
    "StepLR": "optimessay.schedulers",
    "MultiStepLR": "optimessay.schedulers",
    "LambdaLR": "optimessay.schedulers",
    "ConstantLR": "optimessay.schedulers",
    "LinearLR": "optimessay.schedulers",
    "CosineAnnealingLR": "optimessay.schedulers",
    "OneCycleLR": "optimessay.schedulers",
    "SequentialLR": "optimessay.schedulers",
    # layer 2: landscapes, trajectories, sweeps
    "Landscape": "optimessay.landscapes",
    "Trajectory": "optimessay.trajectory",
    "SweepResult": "optimessay.sweep",
    "tune": "optimessay.sweep",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name):
    if name in _EXPORTS:
        value = getattr(import_module(_EXPORTS[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'optimessay' has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + __all__)
