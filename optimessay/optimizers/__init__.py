"""Drop-in `torch.optim` optimizers, each bit for bit equal to torch's for-loop implementation,
and two matrix preconditioners beyond torch.optim (Shampoo, SOAP).

One self-contained file per optimizer (it imports only torch, math and typing, so a reader can copy
it): a *functional core* `<name>_update(param, grad, state, *, hyperparameters...)` that the class
calls once per parameter and that `optimessay.sweep` calls on a batch of walks, a
`<name>_init_state(param, ...)` that creates the state torch would create, a
`<name>_preconditioner(param, state, ...)` giving the preconditioner P of the last step (a diagonal
tensor where P is diagonal; what the matrix methods return is in their docstrings), and the
`torch.optim.Optimizer` subclass.

Every name is imported on first use (PEP 562): `import optimessay.optimizers` loads no optimizer file.
"""

from importlib import import_module

# file -> the public names it defines (classes first, then the functional pieces)
_FILES = {
    "sgd": ["SGD", "sgd_update", "sgd_init_state", "sgd_preconditioner"],
    "rmsprop": ["RMSprop", "rmsprop_update", "rmsprop_init_state", "rmsprop_preconditioner"],
    "adam": ["Adam", "AdamW", "adam_update", "adam_init_state", "adam_preconditioner"],
    "adagrad": ["Adagrad", "adagrad_update", "adagrad_init_state", "adagrad_preconditioner"],
    "nadam": ["NAdam", "nadam_update", "nadam_init_state", "nadam_preconditioner"],
    "radam": ["RAdam", "radam_update", "radam_init_state", "radam_preconditioner"],
    "adamax": ["Adamax", "adamax_update", "adamax_init_state", "adamax_preconditioner"],
    "adadelta": ["Adadelta", "adadelta_update", "adadelta_init_state", "adadelta_preconditioner"],
    "rprop": ["Rprop", "rprop_update", "rprop_init_state", "rprop_preconditioner"],
    "asgd": ["ASGD", "asgd_update", "asgd_init_state", "asgd_preconditioner"],
    "muon": ["Muon", "muon_update", "muon_init_state", "muon_preconditioner", "muon_orthogonalize",
             "muon_spectral_map", "muon_adjusted_lr"],
    "sparse_adam": ["SparseAdam", "sparse_adam_update", "sparse_adam_init_state", "sparse_adam_preconditioner"],
    "lbfgs": ["LBFGS", "lbfgs_update", "lbfgs_init_state", "lbfgs_two_loop"],
    "adafactor": ["Adafactor", "adafactor_update", "adafactor_init_state", "adafactor_preconditioner"],
    "shampoo": ["Shampoo", "shampoo_update", "shampoo_init_state", "shampoo_preconditioner",
                "shampoo_apply_preconditioner"],
    "soap": ["SOAP", "soap_update", "soap_init_state", "soap_preconditioner", "soap_apply_preconditioner"],
}

_WHERE = {name: f"optimessay.optimizers.{file}" for file, names in _FILES.items() for name in names}

__all__ = sorted(_WHERE)


def __getattr__(name):
    if name in _WHERE:
        value = getattr(import_module(_WHERE[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'optimessay.optimizers' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))
