"""Checkers for learners: run your own optimizer or scheduler against torch.optim and see the first
step where they part ways.

    from optimessay.testing import check_optimizer, check_scheduler
    check_optimizer(MyAdam, "Adam")
    check_scheduler(MyStepLR, "StepLR")
"""

from importlib import import_module

_EXPORTS = {
    "check_optimizer": "optimessay.testing.optimizers",
    "check_scheduler": "optimessay.testing.schedulers",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name):
    if name in _EXPORTS:
        return getattr(import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'optimessay.testing' has no attribute {name!r}")
