"""Many MLPs trained as ONE batched computation: the engine of the page's figure build.

Tuning an lr by the site's protocol means training every lr of a grid with every seed: dozens of small
networks. Each alone spends most of its CPU time in Python and in per-op overhead (a 32-unit layer
is a tiny matrix product), so :func:`train_many` trains K of them at once. Member k is
``models.mlp(..., seed=seeds[k])`` with the optimizer set-up of ``models.optimizers(name, ·, lrs[k])``,
visiting the training set in the order :func:`optimessay.networks.train.train` draws from
``seeds[k]``; its weights are the k-th slice of stacked tensors ``(K, out, in)``, a Linear layer is
``torch.baddbmm``, and the optimizers are the package's own functional cores (``sgd_update``,
``adam_update``, ``muon_update``) called once per stacked parameter with one lr per member as a
tensor (the form ``optimessay.sweep`` uses): ``(K, 1)`` for the flat buffer, ``(K, 1, 1, 1)`` for
Muon's stack of hidden matrices ``(K, layers, width, width)``, each of which ``muon_update``
orthogonalizes on its own. Muon's Newton–Schulz products run with ``exact=False``: float32 sums of
the bfloat16 values, rounded to bfloat16 once per product (~10× faster on this CPU; not torch's bits:
a few entries one or two bfloat16 units off; ``exact=True`` gives torch's bfloat16 products, see
``optimessay.optimizers.muon.muon_orthogonalize``). Members never mix: the batched loss is the sum
of the members' own minibatch losses, so member k gets its own gradient.

``tests/test_networks.py`` checks that a member's losses equal the same model trained alone with
:func:`~optimessay.networks.train.train` (the reader's loop) to a measured tolerance.
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor

from . import models as _models
from .data import Task
from .train import Run

# the fixed AdamW that takes the non-matrix parameters of "Muon" (as models.optimizers builds it)
MUON_ADAMW_WEIGHT_DECAY = 0.01


class Stack:
    """K MLPs of one shape, their parameters in one buffer ``flat`` (K, P): member k's parameters are
    row k. ``layers[i]`` is ``(weight (K, out, in), bias (K, out))``, views of ``flat`` that are leaf
    tensors requiring grad, whose ``.grad`` are the matching views of ``grad`` (K, P) (so one
    ``grad.zero_()`` clears them and one update on ``flat`` steps them all). The hidden weight
    matrices come first, in one block ``flat[:, :hidden]`` (Muon's), the rest after it."""

    def __init__(self, seeds: Sequence[int], n_in: int, n_out: int, *, width: int, depth: int):
        models = [_models.linear_layers(_models.mlp(n_in, n_out, width=width, depth=depth, seed=s)) for s in seeds]
        K, n = len(seeds), len(models[0])
        hidden = [(i, "weight") for i in range(1, n - 1)]
        rest = [(i, kind) for i in range(n) for kind in ("weight", "bias") if (i, kind) not in hidden]
        shapes = {(i, kind): tuple(getattr(models[0][i], kind).shape) for i in range(n) for kind in ("weight", "bias")}
        sizes = {key: math.prod(shape) for key, shape in shapes.items()}
        self.hidden = sum(sizes[key] for key in hidden)
        total = self.hidden + sum(sizes[key] for key in rest)
        self.flat = torch.empty(K, total)
        self.grad = torch.zeros(K, total)
        views, offset = {}, 0
        for key in hidden + rest:
            i, kind = key
            block = slice(offset, offset + sizes[key])
            self.flat[:, block] = torch.stack([getattr(m[i], kind).detach().reshape(-1) for m in models])
            view = self.flat[:, block].view(K, *shapes[key]).requires_grad_()
            view.grad = self.grad[:, block].view(K, *shapes[key])
            views[key] = view
            offset += sizes[key]
        self.layers = [(views[i, "weight"], views[i, "bias"]) for i in range(n)]
        self.n_hidden = len(hidden)
        self.width = width


def stack(seeds: Sequence[int], n_in: int, n_out: int, *, width: int, depth: int) -> list[tuple[Tensor, Tensor]]:
    """The Linear layers of ``models.mlp(n_in, n_out, width=, depth=, seed=s)`` for every seed, stacked:
    one ``(weight (K, out, in), bias (K, out))`` pair per layer (views of one :class:`Stack` buffer)."""
    return Stack(seeds, n_in, n_out, width=width, depth=depth).layers


def forward(params: Sequence[tuple[Tensor, Tensor]], x: Tensor) -> Tensor:
    """The K MLPs on inputs ``x`` (K, n, in): logits (K, n, out). Linear + ReLU, as ``models.mlp``."""
    h = x
    for i, (w, b) in enumerate(params):
        h = torch.baddbmm(b.unsqueeze(1), h, w.transpose(1, 2))  # h Wᵀ + b, member by member
        if i < len(params) - 1:
            h = torch.relu(h)
    return h


class _Stepper:
    """The optimizer set-up of contestant ``name`` (``models.CONTESTANTS``) on a :class:`Stack`: the
    package's functional core once on the whole buffer (every update is elementwise), or for "Muon"
    ``muon_update`` on the stack of hidden matrices (K, layers, width, width), each matrix on its own,
    with Newton–Schulz's fast products (``exact=False``), and AdamW on the rest."""

    def __init__(self, name: str, net: Stack, lrs: Tensor):
        from optimessay.optimizers.adam import adam_init_state, adam_update
        from optimessay.optimizers.muon import muon_init_state, muon_update
        from optimessay.optimizers.sgd import sgd_update

        if name not in _models.CONTESTANTS:
            raise ValueError(f"optimizer name must be one of {sorted(_models.CONTESTANTS)}, got {name!r}")
        cls_name, kwargs = _models.CONTESTANTS[name]
        K, lr = net.flat.shape[0], lrs.view(-1, 1)
        if cls_name == "Muon":
            if net.n_hidden < 1:
                raise ValueError(f"Muon+AdamW needs at least one hidden weight matrix (3 Linear layers), got "
                                 f"{len(net.layers)}")
            shape = (K, net.n_hidden, net.width, net.width)
            matrices = net.flat[:, :net.hidden].view(shape), net.grad[:, :net.hidden].view(shape)
            rest = net.flat[:, net.hidden:], net.grad[:, net.hidden:]
            self.entries = [
                (*matrices, muon_update, muon_init_state(matrices[0]),
                 {"lr": lrs.view(-1, 1, 1, 1), **kwargs, "exact": False}),
                (*rest, adam_update, adam_init_state(rest[0]),
                 {"lr": lr, "weight_decay": MUON_ADAMW_WEIGHT_DECAY, "decoupled_weight_decay": True}),
            ]
        elif cls_name in ("Adam", "AdamW"):
            extra = {"decoupled_weight_decay": True} if cls_name == "AdamW" else {}
            self.entries = [(net.flat, net.grad, adam_update, adam_init_state(net.flat), {"lr": lr, **kwargs, **extra})]
        else:
            self.entries = [(net.flat, net.grad, sgd_update, {}, {"lr": lr, **kwargs})]

    @torch.no_grad()
    def step(self) -> None:
        for param, grad, update, state, kw in self.entries:
            update(param, grad, state, **kw)


def _evaluate(params, x: Tensor, y: Tensor, n_classes: int, per_class: bool):
    """Per member: (mean loss (K,) float64, accuracy (K,), per-class mean loss (K, C) or None), as
    ``train.evaluate`` computes them for one model."""
    K = params[0][0].shape[0]
    with torch.no_grad():
        logits = forward(params, x.expand(K, *x.shape))
        per_example = F.cross_entropy(logits.flatten(0, 1), y.repeat(K), reduction="none").view(K, -1).double()
        accuracy = (logits.argmax(2) == y).double().mean(1)
        classes = None
        if per_class:
            sums = torch.zeros(K, n_classes, dtype=torch.float64).index_add_(1, y, per_example)
            classes = sums / torch.bincount(y, minlength=n_classes).double()
    return per_example.mean(1), accuracy, classes


def train_many(name: str, task: Task, lrs: Sequence[float], seeds: Sequence[int], *, width: int, depth: int,
               epochs: int, batch_size: int = 64, per_class: bool = False) -> list[Run]:
    """Train K = ``len(lrs)`` MLPs at once: member k at ``lrs[k]`` with seed ``seeds[k]`` (both the
    initialization and the minibatch order), as ``train.train(models.mlp(..., seed=seeds[k]),
    models.optimizers(name, ..., lrs[k]), task, seed=seeds[k])`` would; one :class:`Run` per member.
    A member whose epoch loss stops being finite is marked diverged and its later losses are NaN (it
    keeps stepping with the others; its NaNs stay in its own slices). Timings: the batch's, divided by K."""
    if len(lrs) != len(seeds) or not lrs:
        raise ValueError(f"need one seed per lr and at least one member, got {len(lrs)} lrs and {len(seeds)} seeds")
    if not all(lr > 0 for lr in lrs):
        raise ValueError(f"every lr must be > 0, got {list(lrs)!r}")
    K = len(lrs)
    start, start_cpu = time.perf_counter(), time.process_time()
    net = Stack(seeds, task.n_features, task.n_classes, width=width, depth=depth)
    params = net.layers
    stepper = _Stepper(name, net, torch.tensor([float(v) for v in lrs], dtype=torch.float64))
    rngs = [torch.Generator().manual_seed(s) for s in seeds]
    x, y = task.x_train, task.y_train
    loss, _, classes = _evaluate(params, x, y, task.n_classes, per_class)
    losses = [[v] for v in loss.tolist()]
    class_losses = [[c] for c in classes.tolist()] if per_class else [[] for _ in range(K)]
    alive = [True] * K
    for _ in range(epochs):
        order = torch.stack([torch.randperm(len(y), generator=g) for g in rngs])  # (K, n): each member's own
        for batch in order.split(batch_size, dim=1):
            logits = forward(params, x[batch])
            loss = F.cross_entropy(logits.flatten(0, 1), y[batch].flatten(), reduction="none")
            total = loss.view(K, -1).mean(1).sum()  # the members' minibatch losses, summed: no mixing
            net.grad.zero_()
            with warnings.catch_warnings():  # the grads are views of one buffer, on purpose
                warnings.filterwarnings("ignore", message="grad and param do not obey the gradient layout contract")
                total.backward()  # accumulates into net.grad
            stepper.step()
        loss, _, classes = _evaluate(params, x, y, task.n_classes, per_class)
        for k, v in enumerate(loss.tolist()):
            if not alive[k]:
                continue
            losses[k].append(v)
            if per_class:
                class_losses[k].append(classes[k].tolist())
            if not math.isfinite(v):
                alive[k] = False
        if not any(alive):
            break
    test_loss, test_accuracy, _ = _evaluate(params, task.x_test, task.y_test, task.n_classes, False)
    wall, cpu = (time.perf_counter() - start) / K, (time.process_time() - start_cpu) / K
    runs = []
    for k in range(K):
        curve = losses[k] + [math.nan] * (epochs + 1 - len(losses[k]))
        runs.append(Run(name, float(lrs[k]), seeds[k], curve, test_accuracy[k].item(), test_loss[k].item(),
                        class_losses[k] if per_class else None, wall, cpu, not alive[k]))
    return runs


__all__ = ["Stack", "forward", "stack", "train_many"]
