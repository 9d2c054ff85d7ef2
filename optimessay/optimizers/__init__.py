"""Drop-in `torch.optim` optimizers, each bit for bit equal to torch's for-loop implementation.

One self-contained file per optimizer (it imports only torch, math and typing, so a reader can copy
it): a *functional core* `<name>_update(param, grad, state, *, hyperparameters...)` that the class
calls once per parameter and that `optimessay.sweep` calls on a batch of walks, a
`<name>_init_state(param, ...)` that creates the state torch would create, a
`<name>_preconditioner(param, state, ...)` giving the diagonal preconditioner P of the last step,
and the `torch.optim.Optimizer` subclass.
"""

from optimessay.optimizers.adagrad import Adagrad, adagrad_init_state, adagrad_preconditioner, adagrad_update
from optimessay.optimizers.adam import Adam, AdamW, adam_init_state, adam_preconditioner, adam_update
from optimessay.optimizers.rmsprop import RMSprop, rmsprop_init_state, rmsprop_preconditioner, rmsprop_update
from optimessay.optimizers.sgd import SGD, sgd_init_state, sgd_preconditioner, sgd_update

__all__ = [
    "SGD", "RMSprop", "Adam", "AdamW", "Adagrad",
    "sgd_update", "rmsprop_update", "adam_update", "adagrad_update",
    "sgd_init_state", "rmsprop_init_state", "adam_init_state", "adagrad_init_state",
    "sgd_preconditioner", "rmsprop_preconditioner", "adam_preconditioner", "adagrad_preconditioner",
]
