"""Data for the network experiments: two classification tasks that need no download.

- :func:`digits`: scikit-learn's bundled ``load_digits`` (1,797 8×8 grey images of the digits 0-9,
  shipped inside the scikit-learn wheel), standardized per pixel, split once into train/test by a
  fixed seed.
- :func:`heavy_tailed`: a synthetic task with many classes whose training frequencies follow a
  power law (Zipf), like the word frequencies a language model sees; its test set has the same
  number of examples per class, so every class can be scored.
- :func:`transform`: the same task with its input features rescaled per coordinate and/or rotated by
  a random orthogonal matrix (the invariance experiment).

Everything is a float32 :class:`Task` of tensors; scikit-learn is imported only inside
:func:`digits`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import torch
from torch import Tensor


@dataclass(frozen=True)
class Task:
    """A classification task: inputs ``x_*`` (n, features), integer labels ``y_*`` (n,)."""

    name: str
    x_train: Tensor
    y_train: Tensor
    x_test: Tensor
    y_test: Tensor
    n_classes: int

    @property
    def n_features(self) -> int:
        return self.x_train.shape[1]

    def class_counts(self) -> Tensor:
        """How many training examples each class has (n_classes,)."""
        return torch.bincount(self.y_train, minlength=self.n_classes)


def _check_fraction(name: str, value: float) -> None:
    if not 0.0 < value < 1.0:
        raise ValueError(f"{name} must be strictly between 0 and 1, got {value!r}")


def digits(test_fraction: float = 0.25, seed: int = 0) -> Task:
    """scikit-learn's ``load_digits``, standardized per pixel with the training set's mean and
    standard deviation (pixels that are constant in the training set stay 0), and split into
    train/test by a permutation drawn from ``seed``. With the defaults: 1,348 train, 449 test."""
    _check_fraction("test_fraction", test_fraction)
    try:
        from sklearn.datasets import load_digits
    except ImportError as error:  # pragma: no cover - depends on the environment
        raise ImportError("optimessay.networks.data.digits needs scikit-learn: pip install scikit-learn") from error
    bunch = load_digits()
    x = torch.as_tensor(bunch.data, dtype=torch.float64)
    y = torch.as_tensor(bunch.target, dtype=torch.int64)
    order = torch.randperm(len(y), generator=torch.Generator().manual_seed(seed))
    n_test = round(test_fraction * len(y))
    test, train = order[:n_test], order[n_test:]
    mean = x[train].mean(0)
    std = x[train].std(0)
    std = torch.where(std > 0, std, torch.ones_like(std))  # constant pixels: centred to 0, not divided
    x = ((x - mean) / std).float()
    return Task("digits", x[train], y[train], x[test], y[test], 10)


def zipf_frequencies(n_classes: int, exponent: float) -> Tensor:
    """Class probabilities ∝ 1/k^exponent for k = 1..n_classes (float64, summing to 1)."""
    if n_classes < 2:
        raise ValueError(f"n_classes must be at least 2, got {n_classes!r}")
    if exponent < 0:
        raise ValueError(f"exponent must be >= 0, got {exponent!r}")
    weights = torch.arange(1, n_classes + 1, dtype=torch.float64).pow(-exponent)
    return weights / weights.sum()


def heavy_tailed(
    n_classes: int = 100,
    n_features: int = 32,
    n_train: int = 4000,
    test_per_class: int = 10,
    exponent: float = 1.0,
    noise: float = 1.0,
    seed: int = 0,
) -> Task:
    """A synthetic task with heavy-tailed class frequencies.

    Each class ``k`` has a mean ``μ_k`` drawn from N(0, I) in ``n_features`` dimensions; an example
    is ``μ_k + noise · N(0, I)``. Training labels are drawn with probabilities ∝ 1/k^exponent (class 0
    is the most frequent); every class gets at least one training example, so all can be learnt. The
    test set has ``test_per_class`` examples of every class."""
    if n_train < n_classes:
        raise ValueError(f"n_train must be at least n_classes ({n_classes}), got {n_train!r}")
    if test_per_class < 1:
        raise ValueError(f"test_per_class must be at least 1, got {test_per_class!r}")
    if noise < 0:
        raise ValueError(f"noise must be >= 0, got {noise!r}")
    g = torch.Generator().manual_seed(seed)
    means = torch.randn(n_classes, n_features, generator=g, dtype=torch.float64)
    p = zipf_frequencies(n_classes, exponent)
    drawn = torch.multinomial(p, n_train - n_classes, replacement=True, generator=g)
    y_train = torch.cat([torch.arange(n_classes), drawn])
    y_train = y_train[torch.randperm(n_train, generator=g)]
    y_test = torch.arange(n_classes).repeat_interleave(test_per_class)

    def sample(y: Tensor) -> Tensor:
        return (means[y] + noise * torch.randn(len(y), n_features, generator=g, dtype=torch.float64)).float()

    x_train = sample(y_train)
    x_test = sample(y_test)
    return Task(f"heavy-tailed (Zipf {exponent:g}, {n_classes} classes)", x_train, y_train, x_test, y_test, n_classes)


def random_orthogonal(n: int, seed: int) -> Tensor:
    """A random n × n orthogonal matrix (Haar-distributed: QR of a Gaussian matrix with the signs of
    R's diagonal moved into Q), float64."""
    a = torch.randn(n, n, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    q, r = torch.linalg.qr(a)
    return q * torch.sign(torch.diagonal(r))


def feature_scales(n: int, decades: float, seed: int) -> Tensor:
    """Per-feature scales 10^u with u uniform in [-decades/2, decades/2] (float64): the largest and
    smallest scale differ by up to ``decades`` powers of ten."""
    if decades < 0:
        raise ValueError(f"decades must be >= 0, got {decades!r}")
    u = torch.rand(n, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    return 10.0 ** (decades * (u - 0.5))


TRANSFORMS = ("original", "rescaled", "rotated", "rescaled+rotated")


# --8<-- [start:transform]
def transform(task: Task, kind: str, *, decades: float = 3.0, seed: int = 0) -> Task:
    """The task with every input ``x`` replaced by ``D x`` ("rescaled": ``D`` diagonal, see
    :func:`feature_scales`), ``Q x`` ("rotated": ``Q`` random orthogonal) or ``Q D x``
    ("rescaled+rotated"), train and test alike; "original" returns the task unchanged.

    Gradient descent is rotation-invariant (a network whose first layer is ``W Qᵀ`` computes the same
    function on ``Q x`` and gets the rotated gradient), so it sees "rescaled" and "rescaled+rotated"
    as the same problem. A diagonal preconditioner (Adam) can undo the axis-aligned ``D`` only while
    it stays axis-aligned."""
    if kind not in TRANSFORMS:
        raise ValueError(f"kind must be one of {TRANSFORMS}, got {kind!r}")
    if kind == "original":
        return task
    n = task.n_features
    m = torch.eye(n, dtype=torch.float64)
    if "rescaled" in kind:
        m = torch.diag(feature_scales(n, decades, seed)) @ m
    if "rotated" in kind:
        m = random_orthogonal(n, seed + 1) @ m

    def apply(x: Tensor) -> Tensor:
        return (x.double() @ m.T).float()

    return replace(task, name=f"{task.name}, {kind}", x_train=apply(task.x_train), x_test=apply(task.x_test))
# --8<-- [end:transform]
