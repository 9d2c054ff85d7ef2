"""optimessay: neural-network optimizers as preconditioners of the gradient.

Every name below, and every submodule, is imported on first use (PEP 562), so ``import optimessay``
stays light and the core never pulls in matplotlib::

    from optimessay import Adam, CosineAnnealingLR
    import optimessay
    optimessay.landscapes.rosenbrock()      # imports optimessay.landscapes now
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
    "NAdam": "optimessay.optimizers",
    "RAdam": "optimessay.optimizers",
    "Adamax": "optimessay.optimizers",
    "Adadelta": "optimessay.optimizers",
    "Rprop": "optimessay.optimizers",
    "ASGD": "optimessay.optimizers",
    "Adafactor": "optimessay.optimizers",
    "Muon": "optimessay.optimizers",
    "SparseAdam": "optimessay.optimizers",
    "LBFGS": "optimessay.optimizers",
    "Shampoo": "optimessay.optimizers",
    "SOAP": "optimessay.optimizers",
    "ExponentialLR": "optimessay.schedulers",
    "StepLR": "optimessay.schedulers",
    "MultiStepLR": "optimessay.schedulers",
    "LambdaLR": "optimessay.schedulers",
    "ConstantLR": "optimessay.schedulers",
    "LinearLR": "optimessay.schedulers",
    "CosineAnnealingLR": "optimessay.schedulers",
    "OneCycleLR": "optimessay.schedulers",
    "SequentialLR": "optimessay.schedulers",
    "PolynomialLR": "optimessay.schedulers",
    "MultiplicativeLR": "optimessay.schedulers",
    "CosineAnnealingWarmRestarts": "optimessay.schedulers",
    "CyclicLR": "optimessay.schedulers",
    "ChainedScheduler": "optimessay.schedulers",
    "ReduceLROnPlateau": "optimessay.schedulers",
    "SWALR": "optimessay.schedulers",
    # layer 2: landscapes, trajectories, sweeps
    "Landscape": "optimessay.landscapes",
    "Trajectory": "optimessay.trajectory",
    "SweepResult": "optimessay.sweep",
    "tune": "optimessay.sweep",
}

# submodules, reachable as attributes (optimessay.sweep, ...); plots, animate and style need matplotlib
_SUBMODULES = ("optimizers", "schedulers", "landscapes", "trajectory", "sweep", "testing", "style", "plots", "animate")

__all__ = sorted(_EXPORTS)


def __getattr__(name):
    if name in _EXPORTS:
        value = getattr(import_module(_EXPORTS[name]), name)
        globals()[name] = value
        return value
    if name in _SUBMODULES:
        return import_module(f"optimessay.{name}")  # the import system also binds it in globals()
    raise AttributeError(f"module 'optimessay' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__) | set(_SUBMODULES))
