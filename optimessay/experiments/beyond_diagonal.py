r"""Why a full-matrix preconditioner fixes the rotated valley that no diagonal one can.

The problem: a *matrix-shaped quadratic*. The parameter is a matrix W (m × n) and

.. math::  f(W) = \tfrac12 \operatorname{tr}\big((W-W^\star)^\top A\,(W-W^\star)\,B\big),
           \qquad \nabla f(W) = A\,(W-W^\star)\,B,

with A (m × m) and B (n × n) symmetric positive definite. On vec(W) the Hessian is the Kronecker
product H = B ⊗ A, with eigenvalues a_i b_j, so its condition number is κ_A·κ_B. Two versions of the
same spectrum:

- *axis-aligned*: A and B diagonal, so H is diagonal: every coordinate W_ij is its own 1-D problem,
  and a diagonal P (Adam, Adagrad, RMSprop) can rescale each one;
- *rotated*: A = Q_A diag(a) Q_Aᵀ and B = Q_B diag(b) Q_Bᵀ with random orthogonal Q_A, Q_B. H is the
  same up to a rotation of the coordinates, but no coordinate is an eigen-direction any more, and no
  diagonal P can undo a rotation.

Matrix preconditioners act on W from the left and the right (P·G = L̃ G R̃): Newton is A⁻¹ G B⁻¹ (one
step to the minimum at lr 1); Shampoo builds L = Σ G Gᵀ and R = Σ Gᵀ G and steps along
L^{-1/4} G R^{-1/4}; SOAP runs Adam in Shampoo's eigenbasis; Muon replaces the (momentum of the)
gradient by the orthogonal factor U Vᵀ of its SVD. All four commute with rotations W → U W V
(orthogonal U, V): rotating the problem rotates their walk and changes nothing else.

:func:`compare` tunes every optimizer on both versions with :mod:`optimessay.protocol` (steps until
the loss stays below ``tol`` times its initial value; median over seeds = random starts; a
geometric lr grid extended off its edges) and returns the steps and the tuned lrs as data.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from optimessay import protocol
from optimessay.optimizers.adam import Adam
from optimessay.optimizers.lbfgs import LBFGS
from optimessay.optimizers.muon import Muon
from optimessay.optimizers.sgd import SGD
from optimessay.optimizers.shampoo import Shampoo
from optimessay.optimizers.soap import SOAP

__all__ = ["OPTIMIZERS", "MatrixQuadratic", "compare", "jacobi_condition", "matrix_quadratic", "rotation_equivariance",
           "run"]

# The contestants and the hyperparameters they keep fixed (everything else: the class's defaults).
# Muon's default weight decay 0.1 would pull W toward 0, not W*: switched off on a quadratic.
# LBFGS: one iteration per step (max_iter=1), no line search, so one step is one gradient, as for the others.
OPTIMIZERS = {
    "GD": (SGD, {}),
    "Adam": (Adam, {}),
    "Shampoo": (Shampoo, {}),
    "SOAP": (SOAP, {}),
    "Muon": (Muon, {"weight_decay": 0.0}),
    "LBFGS": (LBFGS, {"max_iter": 1}),
    "Jacobi": (None, {}),
    "Newton": (None, {}),
}


@dataclass
class MatrixQuadratic:
    """f(W) = ½ tr((W-W*)ᵀ A (W-W*) B) for SPD A (m×m), B (n×n); Hessian B ⊗ A on vec(W)."""

    A: torch.Tensor
    B: torch.Tensor
    W_star: torch.Tensor

    def loss(self, W: torch.Tensor) -> torch.Tensor:
        E = W - self.W_star
        return 0.5 * torch.trace(E.T @ self.A @ E @ self.B)

    def grad(self, W: torch.Tensor) -> torch.Tensor:
        return self.A @ (W - self.W_star) @ self.B

    def hessian(self) -> torch.Tensor:
        """The (mn × mn) Hessian on W.flatten() (row-major): A ⊗ B."""
        return torch.kron(self.A, self.B)


def _orthogonal(k: int, gen: torch.Generator) -> torch.Tensor:
    q, r = torch.linalg.qr(torch.randn(k, k, generator=gen, dtype=torch.float64))
    return q * torch.sign(torch.diagonal(r))


def matrix_quadratic(m: int = 6, n: int = 6, kappa_a: float = 10.0, kappa_b: float = 10.0, *,
                     rotated: bool = True, seed: int = 0) -> MatrixQuadratic:
    """Eigenvalues of A log-spaced in [1, κ_A], of B in [1/κ_B, 1] (so H's spectrum is [1/κ_B, κ_A],
    condition number κ_A·κ_B), W* with standard normal entries; ``rotated``: A and B in random
    orthonormal bases (the same seed gives the same spectrum and W* either way)."""
    for name, value in (("m", m), ("n", n)):
        if not (isinstance(value, int) and value >= 1):
            raise ValueError(f"{name}={value!r}: expected a positive int")
    for name, value in (("kappa_a", kappa_a), ("kappa_b", kappa_b)):
        if not (math.isfinite(value) and value >= 1):
            raise ValueError(f"{name}={value!r}: expected a finite condition number >= 1")
    gen = torch.Generator().manual_seed(seed)
    a = torch.logspace(0, math.log10(kappa_a), m, dtype=torch.float64)
    b = torch.logspace(-math.log10(kappa_b), 0, n, dtype=torch.float64)
    W_star = torch.randn(m, n, generator=gen, dtype=torch.float64)
    qa, qb = _orthogonal(m, gen), _orthogonal(n, gen)
    if rotated:
        A, B = qa @ torch.diag(a) @ qa.T, qb @ torch.diag(b) @ qb.T
    else:
        A, B = torch.diag(a), torch.diag(b)
    return MatrixQuadratic(A=(A + A.T) / 2, B=(B + B.T) / 2, W_star=W_star)


def _start(problem: MatrixQuadratic, seed: int) -> torch.Tensor:
    gen = torch.Generator().manual_seed(1000 + seed)
    return problem.W_star + torch.randn(problem.W_star.shape, generator=gen, dtype=torch.float64)


def run(problem: MatrixQuadratic, name: str, lr: float, steps: int, seed: int = 0,
        start: torch.Tensor | None = None) -> list[float]:
    """One walk of optimizer ``name`` (a key of :data:`OPTIMIZERS`) from a random start near W*
    (``seed``) or ``start``: the loss before step 1 and after each of ``steps`` steps (float64)."""
    if name not in OPTIMIZERS:
        raise ValueError(f"optimizer {name!r}: expected one of {sorted(OPTIMIZERS)}")
    W = (_start(problem, seed) if start is None else start.clone()).requires_grad_(True)
    losses = [float(problem.loss(W.detach()))]
    cls, kwargs = OPTIMIZERS[name]
    if name == "Newton":  # W ← W - lr A⁻¹ G B⁻¹ (the inverse Hessian on vec(W))
        A_inv, B_inv = torch.linalg.inv(problem.A), torch.linalg.inv(problem.B)
        with torch.no_grad():
            for _ in range(steps):
                W -= lr * (A_inv @ problem.grad(W) @ B_inv)
                losses.append(float(problem.loss(W)))
        return losses
    if name == "Jacobi":  # the best-informed diagonal P: 1/diag(H), H_(ij),(ij) = A_ii B_jj, fixed
        d = torch.outer(torch.diagonal(problem.A), torch.diagonal(problem.B))
        with torch.no_grad():
            for _ in range(steps):
                W -= lr * problem.grad(W) / d
                loss = float(problem.loss(W))
                losses.append(loss if math.isfinite(loss) and loss < 1e12 * losses[0] else math.inf)
                if losses[-1] == math.inf:
                    losses.extend([math.inf] * (steps + 1 - len(losses)))
                    break
        return losses
    opt = cls([W], lr=lr, **kwargs)

    def closure():
        W.grad = problem.grad(W.detach())
        return problem.loss(W.detach())

    with torch.no_grad():
        for _ in range(steps):
            if cls is LBFGS:
                opt.step(closure)
            else:
                closure()
                opt.step()
            loss = float(problem.loss(W))
            losses.append(loss)
            if not math.isfinite(loss) or loss > 1e12 * losses[0]:  # diverged: the rest is inf
                losses.extend([math.inf] * (steps + 1 - len(losses)))
                break
    return losses


def compare(names=("GD", "Jacobi", "Adam", "Shampoo", "SOAP", "LBFGS", "Newton"), *, m: int = 4, n: int = 4,
            kappa_a: float = 10.0, kappa_b: float = 10.0, steps: int = 150, tol: float = 1e-6, seeds=range(3),
            lr_min: float = 1e-3, lr_max: float = 1.0, per_decade: int = 2, problem_seed: int = 0) -> dict:
    """Every optimizer tuned by the site's protocol on the axis-aligned and the rotated problem.

    Returns ``{"axis": {name: result}, "rotated": {name: result}}`` with result ``{"lr", "steps",
    "on_edge", "arrived", "curve"}``: ``steps`` the median score (steps until the loss stays below
    ``tol``·initial loss; ``> steps`` when it never does), ``curve`` the loss curve of the tuned lr
    from the first start. Newton runs at lr 1 (its own step, no tuning).
    """
    objective = protocol.steps_to_tolerance(tol, relative=True)
    seeds = list(seeds)
    out = {}
    for geometry in ("axis", "rotated"):
        problem = matrix_quadratic(m, n, kappa_a, kappa_b, rotated=geometry == "rotated", seed=problem_seed)
        out[geometry] = {}
        for name in names:
            if name == "Newton":
                curves = [run(problem, name, 1.0, steps, s) for s in seeds]
                lr, scores, on_edge = 1.0, [objective(c) for c in curves], False
                score = sorted(scores)[len(scores) // 2]
            else:
                tuning = protocol.tune(lambda lr, s, name=name, problem=problem: run(problem, name, lr, steps, s),
                                       lrs=protocol.lr_grid(lr_min, lr_max, per_decade), seeds=seeds,
                                       objective=objective, per_decade=per_decade)
                lr, score, on_edge = tuning.lr, tuning.score, tuning.on_edge
                curves = tuning.curves[lr]  # the tuning's own runs at its lr, in the order of seeds
            out[geometry][name] = {"lr": lr, "steps": score, "on_edge": on_edge, "arrived": score <= steps,
                                   "curve": list(curves[0])}  # the first seed's run (walks are deterministic)
    return out


def rotation_equivariance(name: str, *, m: int = 5, n: int = 4, steps: int = 20, lr: float = 1e-2, seed: int = 0) -> float:
    """Run ``name`` on the axis-aligned problem and on the problem rotated by orthogonal (U, V)
    (A → U A Uᵀ, B → V B Vᵀ, W* → U W* V ᵀ, start rotated the same way); return the largest
    |U W_t Vᵀ - W'_t| over the walk, relative to max |W|. About 1e-15 for a rotation-equivariant
    optimizer (GD, Newton, Shampoo, Muon's exact map), O(1) for a diagonal one (Adam)."""
    gen = torch.Generator().manual_seed(seed)
    base = matrix_quadratic(m, n, rotated=False, seed=seed)
    U, V = _orthogonal(m, gen), _orthogonal(n, gen)
    turned = MatrixQuadratic(A=U @ base.A @ U.T, B=V @ base.B @ V.T, W_star=U @ base.W_star @ V.T)
    start = _start(base, seed)
    cls, kwargs = OPTIMIZERS[name]
    walks = []
    for problem, W0 in ((base, start), (turned, U @ start @ V.T)):
        W = W0.clone().requires_grad_(True)
        opt = cls([W], lr=lr, **kwargs)
        points = []
        with torch.no_grad():
            for _ in range(steps):
                W.grad = problem.grad(W.detach())
                opt.step()
                points.append(W.detach().clone())
        walks.append(points)
    scale = max(float(p.abs().max()) for p in walks[1])
    return max(float((U @ p @ V.T - q).abs().max()) for p, q in zip(*walks, strict=True)) / scale


def jacobi_condition(m: int = 4, n: int = 4, kappa_a: float = 10.0, kappa_b: float = 10.0, seed: int = 0) -> dict:
    """Condition number of H and of the Jacobi-preconditioned D^(-1/2) H D^(-1/2) (D = diag(H)) on the
    axis-aligned and the rotated problem: ``{"axis_h", "axis_jacobi", "rotated_h", "rotated_jacobi"}``."""
    out = {}
    for geometry in ("axis", "rotated"):
        H = matrix_quadratic(m, n, kappa_a, kappa_b, rotated=geometry == "rotated", seed=seed).hessian()
        s = torch.diagonal(H).rsqrt()
        for key, M in (("h", H), ("jacobi", s[:, None] * H * s[None, :])):
            ev = torch.linalg.eigvalsh((M + M.T) / 2)
            out[f"{geometry}_{key}"] = float(ev.max() / ev.min())
    return out
