"""trajectory.run and the reference walkers, against hand-written loops and closed forms."""

import math

import pytest
import torch

import optimessay
from optimessay import landscapes, trajectory

BANANA = landscapes.rosenbrock()


def seed_loop(optimizer_class, kwargs, start, steps, scheduler=None, dtype=torch.float64):
    """The seed notebook's opt_fn_with_scheduler with its bugs fixed: steps + 1 points, a list."""
    xy = torch.tensor(start, dtype=dtype, requires_grad=True)
    opt = optimizer_class([xy], **kwargs)
    sched = scheduler[0](opt, **scheduler[1]) if scheduler else None
    out, lrs = [], []
    for _ in range(steps):
        out.append(xy.detach().clone())
        loss = (1 - xy[0]) ** 2 + 100 * (xy[1] - xy[0] ** 2) ** 2
        loss.backward()
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        opt.zero_grad()
        if sched:
            sched.step()
    out.append(xy.detach().clone())
    return torch.stack(out), torch.tensor(lrs, dtype=torch.float64)


@pytest.mark.parametrize(
    "cls, kwargs",
    [
        (torch.optim.SGD, {"lr": 1e-3, "momentum": 0.98}),
        (torch.optim.RMSprop, {"lr": 0.01, "alpha": 0.5, "momentum": 0.9}),
        (torch.optim.Adam, {"lr": 0.05, "betas": (0.8, 0.99)}),
    ],
)
def test_points_match_the_seed_loop_bitwise(cls, kwargs):
    walk = trajectory.run(BANANA, cls, kwargs, steps=60)
    points, _ = seed_loop(cls, kwargs, (-1.5, 2.5), 60)
    assert walk.points.shape == (61, 2) and walk.losses.shape == (61,)
    assert walk.lrs.shape == (60,) and walk.preconditioners.shape == (60, 2) and walk.gradients.shape == (60, 2)
    assert torch.equal(walk.points, points)
    assert walk.points[0].tolist() == [-1.5, 2.5]
    torch.testing.assert_close(walk.losses, BANANA.loss(points), rtol=0, atol=0)
    torch.testing.assert_close(walk.gradients, BANANA.gradient(points[:-1]), rtol=0, atol=0)
    assert not walk.diverged


def test_seed_figure_sgd_reaches_the_valley_floor():
    walk = trajectory.run("rosenbrock", torch.optim.SGD, {"lr": 1e-3, "momentum": 0.98}, steps=100)
    assert walk.label == "SGD(lr=0.001, momentum=0.98)"
    assert walk.distances()[-1] < 0.3 < walk.distances()[0]


def test_scheduler_lrs_are_the_ones_used():
    sched = (torch.optim.lr_scheduler.StepLR, {"step_size": 4, "gamma": 0.5})
    walk = trajectory.run(
        BANANA, torch.optim.SGD, {"lr": 1e-3}, steps=20, scheduler_class=sched[0], scheduler_kwargs=sched[1]
    )
    points, lrs = seed_loop(torch.optim.SGD, {"lr": 1e-3}, (-1.5, 2.5), 20, scheduler=sched)
    assert torch.equal(walk.points, points) and torch.equal(walk.lrs, lrs)
    expected = torch.tensor([1e-3 * 0.5 ** (t // 4) for t in range(20)], dtype=torch.float64)  # closed form
    torch.testing.assert_close(walk.lrs, expected, rtol=1e-15, atol=0)
    assert walk.label == "SGD(lr=0.001) + StepLR(step_size=4, gamma=0.5)" and walk.scheduler == "StepLR"


def test_adam_preconditioner_from_its_state_matches_the_formula():
    beta1, beta2, eps = 0.9, 0.99, 1e-6
    walk = trajectory.run(BANANA, torch.optim.Adam, {"lr": 0.02, "betas": (beta1, beta2), "eps": eps}, steps=40)
    v = torch.zeros(2, dtype=torch.float64)
    for t, g in enumerate(walk.gradients, start=1):
        v = beta2 * v + (1 - beta2) * g * g
        P = 1 / (torch.sqrt(v / (1 - beta2**t)) + eps)  # the textbook P = 1 / (sqrt(v̂) + eps)
        torch.testing.assert_close(walk.preconditioners[t - 1], P, rtol=1e-12, atol=0)


def test_rmsprop_adagrad_sgd_preconditioners():
    walk = trajectory.run(BANANA, torch.optim.RMSprop, {"lr": 0.001, "alpha": 0.9, "eps": 1e-4}, steps=30)
    v = torch.zeros(2, dtype=torch.float64)
    for t, g in enumerate(walk.gradients):
        v = 0.9 * v + 0.1 * g * g
        torch.testing.assert_close(walk.preconditioners[t], 1 / (v.sqrt() + 1e-4), rtol=1e-12, atol=0)
    walk = trajectory.run(BANANA, torch.optim.Adagrad, {"lr": 0.1}, steps=30)
    s = torch.cumsum(walk.gradients**2, 0)
    torch.testing.assert_close(walk.preconditioners, 1 / (s.sqrt() + 1e-10), rtol=1e-12, atol=0)
    assert (walk.preconditioners[1:] <= walk.preconditioners[:-1]).all()  # Adagrad's P only shrinks
    walk = trajectory.run(BANANA, torch.optim.SGD, {"lr": 1e-3, "momentum": 0.9}, steps=5)
    assert torch.equal(walk.preconditioners, torch.ones(5, 2, dtype=torch.float64))
    walk = trajectory.run(BANANA, torch.optim.LBFGS, {"lr": 0.1}, steps=3)  # no diagonal P
    assert walk.preconditioners.isnan().all() and not walk.points.isnan().any()


@pytest.mark.parametrize(
    "name, kwargs",
    [
        ("SGD", {"lr": 1e-3, "momentum": 0.9, "nesterov": True}),
        ("RMSprop", {"lr": 1e-3, "centered": True, "momentum": 0.5}),
        ("Adam", {"lr": 0.02, "amsgrad": True}),
        ("AdamW", {"lr": 0.02, "weight_decay": 0.1}),
        ("Adagrad", {"lr": 0.1, "lr_decay": 0.05}),
    ],
)
def test_optimessay_classes_walk_and_precondition_like_torch(name, kwargs):
    ours = trajectory.run(BANANA, getattr(optimessay, name), kwargs, steps=40)
    torchs = trajectory.run(BANANA, getattr(torch.optim, name), kwargs, steps=40)
    assert torch.equal(ours.points, torchs.points)
    # optimessay's preconditioner(p) vs the same P read from torch.optim's state (by the same functions)
    assert torch.equal(ours.preconditioners, torchs.preconditioners)


def test_noise_is_seeded_and_shared_between_optimizers():
    kw = {"lr": 1e-3}
    a = trajectory.run(BANANA, torch.optim.SGD, kw, steps=30, noise=2.0, seed=3)
    b = trajectory.run(BANANA, torch.optim.SGD, kw, steps=30, noise=2.0, seed=3)
    c = trajectory.run(BANANA, torch.optim.SGD, kw, steps=30, noise=2.0, seed=4)
    assert torch.equal(a.points, b.points) and not torch.equal(a.points, c.points)
    eps = torch.randn(30, 2, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    torch.testing.assert_close(a.gradients - BANANA.gradient(a.points[:-1]), 2.0 * eps, rtol=1e-9, atol=1e-9)
    # the same draws whatever the optimizer: the first step differs only by the update rule
    d = trajectory.run(BANANA, torch.optim.Adam, {"lr": 1e-3}, steps=30, noise=2.0, seed=3)
    assert torch.equal(d.gradients[0], a.gradients[0])
    assert a.label.endswith("noise 2")


def test_divergence_stops_the_walk():
    walk = trajectory.run(BANANA, torch.optim.SGD, {"lr": 0.1}, steps=50)
    t = walk.diverged_at
    assert walk.diverged and 0 < t < 50
    assert not torch.isfinite(walk.losses[t]) and torch.isfinite(walk.losses[:t]).all()
    assert (walk.points[t:] == walk.points[t]).all()  # frozen
    assert walk.lrs[t:].isnan().all() and not walk.lrs[:t].isnan().any()


def test_float32_and_zero_steps():
    walk = trajectory.run(BANANA, torch.optim.Adam, {"lr": 0.01}, steps=10, dtype=torch.float32)
    assert walk.points.dtype == torch.float32
    points, _ = seed_loop(torch.optim.Adam, {"lr": 0.01}, (-1.5, 2.5), 10, dtype=torch.float32)
    assert torch.equal(walk.points, points)
    empty = trajectory.run(BANANA, torch.optim.Adam, {"lr": 0.01}, steps=0, start=(0.5, 0.5))
    assert empty.points.tolist() == [[0.5, 0.5]] and empty.losses.tolist() == [0.25 + 100 * 0.0625]


def test_bad_input_is_named():
    adam = torch.optim.Adam
    with pytest.raises(ValueError, match=r"start=\[1, 2, 3\].*2 numbers"):
        trajectory.run(BANANA, adam, start=[1, 2, 3])
    with pytest.raises(ValueError, match="start='a'"):
        trajectory.run(BANANA, adam, start="a")
    with pytest.raises(ValueError, match="steps=-1"):
        trajectory.run(BANANA, adam, steps=-1)
    with pytest.raises(ValueError, match="steps=2.5"):
        trajectory.run(BANANA, adam, steps=2.5)
    with pytest.raises(ValueError, match="unknown landscape 'nope'"):
        trajectory.run("nope", adam)
    with pytest.raises(ValueError, match="dtype"):
        trajectory.run(BANANA, adam, dtype=torch.int64)
    with pytest.raises(ValueError, match="noise=-1"):
        trajectory.run(BANANA, adam, noise=-1)
    with pytest.raises(ValueError, match="not an instance"):
        trajectory.run(BANANA, adam([torch.zeros(2, requires_grad=True)]))
    with pytest.raises(ValueError, match="without a scheduler_class"):
        trajectory.run(BANANA, adam, scheduler_kwargs={"gamma": 0.5})
    with pytest.raises(ValueError, match="kind='cholesky'"):
        trajectory.preconditioned_gd(BANANA, kind="cholesky")


# --- reference walkers -----------------------------------------------------------------------


def test_newton_solves_a_quadratic_in_one_step():
    for theta in (0.0, math.pi / 4, 1.0):
        walk = trajectory.newton(landscapes.quadratic(100.0, theta), steps=3)
        torch.testing.assert_close(walk.points[1], torch.zeros(2, dtype=torch.float64), rtol=0, atol=1e-12)
        H = landscapes.quadratic_hessian(100.0, theta)
        torch.testing.assert_close(walk.preconditioner_matrices[0], torch.linalg.inv(H))
    assert walk.label == "Newton"


def test_newton_converges_fast_on_the_banana():
    walk = trajectory.newton(BANANA, steps=12)
    assert walk.distances()[-1] < 1e-10


def test_diagonal_preconditioner_fixes_only_axis_aligned_valleys():
    straight = trajectory.preconditioned_gd(landscapes.quadratic(100.0, 0.0), kind="diag", steps=2)
    torch.testing.assert_close(straight.points[1], torch.zeros(2, dtype=torch.float64), rtol=0, atol=1e-12)
    rotated = trajectory.preconditioned_gd(landscapes.quadratic(100.0, math.pi / 4), kind="diag", steps=50)
    assert rotated.distances()[-1] > 0.1  # still far: diag(H) does not see the rotation
    full = trajectory.preconditioned_gd(landscapes.quadratic(100.0, math.pi / 4), kind="full", steps=2)
    torch.testing.assert_close(full.points[1], torch.zeros(2, dtype=torch.float64), rtol=0, atol=1e-12)
    H = landscapes.quadratic_hessian(100.0, math.pi / 4)
    torch.testing.assert_close(rotated.preconditioners[0], 1 / torch.diagonal(H))


def test_plain_gradient_descent_and_a_fixed_preconditioner():
    quad = landscapes.quadratic(10.0, 0.3)
    gd = trajectory.preconditioned_gd(quad, kind="none", lr=0.15, steps=40)
    x = torch.tensor(quad.start, dtype=torch.float64)
    H = landscapes.quadratic_hessian(10.0, 0.3)
    for _ in range(40):
        x = x - 0.15 * (H @ x)  # ∇f = H x on this quadratic
    torch.testing.assert_close(gd.points[-1], x, rtol=1e-12, atol=1e-15)
    assert gd.label == "GD, P = I, lr=0.15"
    # on a quadratic H is the same everywhere: fixed and per-step P agree
    a = trajectory.preconditioned_gd(quad, kind="diag", lr=0.5, steps=10)
    b = trajectory.preconditioned_gd(quad, kind="diag", lr=0.5, steps=10, fixed=True)
    torch.testing.assert_close(a.points, b.points, rtol=1e-12, atol=1e-15)


def test_singular_hessian_stops_newton():
    flat = landscapes.Landscape(
        name="trough", title="trough", fn=lambda x, y: x**2 + 0 * y, x_range=(-1, 1), y_range=(-1, 1),
        minima=((0.0, 0.0),), log_scale=False, start=(0.5, 0.5),
    )
    walk = trajectory.newton(flat, steps=4)  # H = diag(2, 0) has no inverse
    assert walk.diverged_at == 0 and (walk.points == 0.5).all()
    linear = landscapes.Landscape(
        name="plane", title="plane", fn=lambda x, y: x + y, x_range=(-1, 1), y_range=(-1, 1),
        minima=(), log_scale=False, start=(0.5, 0.5),
    )
    assert torch.equal(linear.hessian(torch.zeros(3, 2)), torch.zeros(3, 2, 2))


class LearnerSGD:
    """A learner's optimizer in the seed's style: no torch.optim.Optimizer, an ``lr`` attribute."""

    def __init__(self, params, lr):
        self.params, self.lr = list(params), lr

    def zero_grad(self):
        for p in self.params:
            p.grad = None

    @torch.no_grad()
    def step(self):
        for p in self.params:
            p -= self.lr * p.grad


def test_a_learners_class_walks_too():
    walk = trajectory.run(BANANA, LearnerSGD, {"lr": 1e-3}, steps=20)
    reference = trajectory.run(BANANA, torch.optim.SGD, {"lr": 1e-3}, steps=20)
    torch.testing.assert_close(walk.points, reference.points, rtol=1e-15, atol=1e-15)
    assert (walk.lrs == 1e-3).all() and walk.preconditioners.isnan().all()
    assert walk.label == "LearnerSGD(lr=0.001)"


def test_more_bad_input_is_named():
    adam = torch.optim.Adam
    with pytest.raises(ValueError, match="optimizer_kwargs='lr': expected a dict"):
        trajectory.run(BANANA, adam, "lr")
    with pytest.raises(ValueError, match="scheduler_kwargs=3: expected a dict"):
        trajectory.run(BANANA, adam, scheduler_class=torch.optim.lr_scheduler.StepLR, scheduler_kwargs=3)
    with pytest.raises(ValueError, match="seed='a': expected an int"):  # even without noise
        trajectory.run(BANANA, adam, steps=2, seed="a")
    with pytest.raises(ValueError, match="lr=nan: expected a finite number"):
        trajectory.newton(BANANA, lr=float("nan"))


def test_a_walk_that_ends_at_an_infinite_loss_has_diverged():
    """The last step overflows: no step saw a non-finite loss, yet the walk ended at inf (like the sweep)."""
    steps = 1
    walk = trajectory.run(BANANA, torch.optim.SGD, {"lr": 1e300}, steps=steps)
    assert walk.diverged_at is None and not math.isfinite(walk.final_loss) and walk.diverged
    result = optimessay.sweep.run(BANANA, torch.optim.SGD, {"lr": [1e300, 1e-3]}, steps=steps)
    assert result.diverged.tolist() == [walk.diverged, False]


# --- every optimizer class, and the schedulers that need more than step() -----------------------


def banana(p):
    return (1 - p[0]) ** 2 + 100 * (p[1] - p[0] ** 2) ** 2


def closure_loop(cls, kwargs, steps, noise=0.0, seed=0):
    """LBFGS as its users write it: step(closure), the closure re-evaluating loss and gradient."""
    xy = torch.tensor(BANANA.start, dtype=torch.float64, requires_grad=True)
    opt = cls([xy], **kwargs)
    eps = torch.randn(steps, 2, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    out = [xy.detach().clone()]
    for t in range(steps):
        def closure(t=t):
            opt.zero_grad()
            loss = banana(xy)
            loss.backward()
            xy.grad.add_(noise * eps[t])
            return loss

        opt.step(closure)
        out.append(xy.detach().clone())
    return torch.stack(out)


@pytest.mark.parametrize("kwargs", [{"lr": 0.5, "max_iter": 5}, {"lr": 1, "line_search_fn": "strong_wolfe"}])
@pytest.mark.parametrize("noise", [0.0, 0.3])
def test_lbfgs_walks_with_a_closure(kwargs, noise):
    walk = trajectory.run(BANANA, torch.optim.LBFGS, kwargs, steps=15, noise=noise, seed=4)
    assert torch.equal(walk.points, closure_loop(torch.optim.LBFGS, kwargs, 15, noise, seed=4))
    assert torch.equal(walk.losses, torch.stack([banana(p) for p in walk.points]))
    assert walk.preconditioners.isnan().all()  # no diagonal P: a low-rank inverse-Hessian estimate
    if noise == 0 and "line_search_fn" in kwargs:
        assert walk.final_loss < 1e-8  # quasi-Newton: at the minimum in 15 steps


def matrix_loop(cls, kwargs, steps):
    """A matrix optimizer on the point as the (1, 2) matrix [[x, y]]."""
    w = torch.tensor([BANANA.start], dtype=torch.float64, requires_grad=True)
    opt = cls([w], **kwargs)
    out = [w.detach()[0].clone()]
    for _ in range(steps):
        banana(w[0]).backward()
        opt.step()
        opt.zero_grad()
        out.append(w.detach()[0].clone())
    return torch.stack(out)


def matrix_classes():
    from optimessay.optimizers.shampoo import Shampoo
    from optimessay.optimizers.soap import SOAP

    return [(torch.optim.Muon, {"lr": 0.02}), (Shampoo, {"lr": 0.01}), (SOAP, {"lr": 0.01})]


@pytest.mark.parametrize("index", range(3), ids=["Muon", "Shampoo", "SOAP"])
def test_matrix_optimizers_walk_the_point_as_a_1x2_matrix(index):
    cls, kwargs = matrix_classes()[index]
    walk = trajectory.run(BANANA, cls, kwargs, steps=40)
    assert walk.points.shape == (41, 2)
    assert torch.equal(walk.points, matrix_loop(cls, kwargs, 40))
    assert walk.preconditioners.isnan().all()  # P is a matrix (see the class's preconditioner)
    assert walk.final_loss < walk.losses[0]


def test_muon_on_one_row_is_normalized_gradient_descent_with_momentum():
    """Newton–Schulz maps a 1 x 2 matrix to (about) a unit row: without momentum every step of Muon
    has about the same length, whatever the gradient's size."""
    walk = trajectory.run(BANANA, torch.optim.Muon, {"lr": 0.01, "momentum": 0.0, "weight_decay": 0.0,
                                                   "nesterov": False}, steps=30)
    lengths = (walk.points[1:] - walk.points[:-1]).norm(dim=1)
    grads = walk.gradients.norm(dim=1)
    assert grads.max() / grads.min() > 10  # gradients of very different sizes ...
    assert lengths.max() / lengths.min() < 1.2  # ... steps of about the same length (NS in bf16)


@pytest.mark.parametrize("cls", [torch.optim.SparseAdam, "ours"])
def test_sparse_adam_walks_on_a_sparse_gradient(cls):
    if cls == "ours":
        from optimessay.optimizers.sparse_adam import SparseAdam as cls
    walk = trajectory.run(BANANA, cls, {"lr": 0.05}, steps=50)
    xy = torch.tensor(BANANA.start, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.SparseAdam([xy], lr=0.05)
    for t in range(50):
        assert torch.equal(walk.points[t], xy.detach())
        banana(xy).backward()
        xy.grad = xy.grad.to_sparse()  # both coordinates are non-zero here: both stored
        opt.step()
        opt.zero_grad()
    assert torch.equal(walk.points[50], xy.detach())
    if cls is not torch.optim.SparseAdam:  # optimessay's P: Adam's with eps before the bias correction
        assert torch.isfinite(walk.preconditioners).all() and (walk.preconditioners > 0).all()


def test_reduce_lr_on_plateau_gets_the_loss():
    kwargs = {"mode": "min", "factor": 0.5, "patience": 3, "threshold": 0.05}
    walk = trajectory.run(BANANA, torch.optim.SGD, {"lr": 1e-3}, steps=80,
                          scheduler_class=torch.optim.lr_scheduler.ReduceLROnPlateau, scheduler_kwargs=kwargs)
    xy = torch.tensor(BANANA.start, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.SGD([xy], lr=1e-3)
    sched = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, **kwargs)
    lrs = []
    for _ in range(80):
        loss = banana(xy)
        loss.backward()
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        opt.zero_grad()
        sched.step(loss.item())
    assert walk.lrs.tolist() == lrs
    assert len(set(lrs)) > 2  # the plateau was detected, more than once


@pytest.mark.parametrize("parent", ["ChainedScheduler", "SequentialLR"])
def test_schedulers_built_from_children_given_as_pairs(parent):
    lr_scheduler = torch.optim.lr_scheduler
    children = [(lr_scheduler.LinearLR, {"start_factor": 0.1, "total_iters": 10}),
                (lr_scheduler.ExponentialLR, {"gamma": 0.95})]
    extra = {"milestones": [10]} if parent == "SequentialLR" else {}
    walk = trajectory.run(BANANA, torch.optim.Adam, {"lr": 0.01}, steps=40, scheduler_class=getattr(lr_scheduler, parent),
                          scheduler_kwargs={"schedulers": children, **extra})
    xy = torch.tensor(BANANA.start, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.Adam([xy], lr=0.01)
    built = [cls(opt, **kw) for cls, kw in children]
    sched = getattr(lr_scheduler, parent)(optimizer=opt, schedulers=built, **extra)
    lrs = []
    for _ in range(40):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    assert walk.lrs.tolist() == lrs
    assert walk.label.startswith(f"Adam(lr=0.01) + {parent}(schedulers=[(LinearLR, ")


NEW_ELEMENTWISE = {
    "NAdam": {"lr": 0.01}, "RAdam": {"lr": 0.01}, "Adamax": {"lr": 0.01}, "Adadelta": {"lr": 0.5},
    "Rprop": {"lr": 1e-3}, "ASGD": {"lr": 1e-4, "t0": 10}, "Adafactor": {"lr": 0.05},
}


@pytest.mark.parametrize("name", list(NEW_ELEMENTWISE))
def test_torch_optims_new_classes_preconditioners_are_read_from_their_state(name):
    ours = trajectory.run(BANANA, getattr(optimessay.optimizers, name), NEW_ELEMENTWISE[name], steps=30)
    theirs = trajectory.run(BANANA, getattr(torch.optim, name), NEW_ELEMENTWISE[name], steps=30)
    assert torch.equal(ours.points, theirs.points)
    assert torch.equal(ours.preconditioners, theirs.preconditioners)
    assert not ours.preconditioners.isnan().any()


@pytest.mark.parametrize("name", [n for n in dir(torch.optim) if isinstance(getattr(torch.optim, n), type)
                                  and issubclass(getattr(torch.optim, n), torch.optim.Optimizer)
                                  and n != "Optimizer"])
def test_every_torch_optim_optimizer_walks(name):
    kwargs = {"LBFGS": {"lr": 0.5}, "Adadelta": {"lr": 0.5}, "Muon": {"lr": 0.01}}.get(name, {"lr": 1e-3})
    walk = trajectory.run(BANANA, getattr(torch.optim, name), kwargs, steps=20)
    assert walk.diverged_at is None and torch.isfinite(walk.points).all()
    assert not torch.equal(walk.points[0], walk.points[-1]), name


NEW_SCHEDULERS = {  # optimessay's new schedulers in trajectory.run, against torch's in a hand-written loop
    "PolynomialLR": {"total_iters": 30, "power": 2.0},
    "CosineAnnealingWarmRestarts": {"T_0": 7, "T_mult": 2},
    "CyclicLR": {"base_lr": 5e-4, "max_lr": 2e-3, "step_size_up": 5, "mode": "triangular2"},
    "MultiplicativeLR": {"lr_lambda": lambda epoch: 0.97},
    "ReduceLROnPlateau": {"factor": 0.5, "patience": 2, "threshold": 0.02},
    "ChainedScheduler": {"schedulers": [("ConstantLR", {"factor": 0.5, "total_iters": 5}), ("ExponentialLR", {"gamma": 0.95})]},
    "SWALR": {"swa_lr": 1e-4, "anneal_epochs": 8},
}


@pytest.mark.parametrize("name", list(NEW_SCHEDULERS))
def test_new_schedulers_drive_a_walk_like_torchs(name):
    import torch.optim.swa_utils

    def resolve(module, kw):
        kw = dict(kw)
        if "schedulers" in kw:
            kw["schedulers"] = [(getattr(module, child), ckw) for child, ckw in kw["schedulers"]]
        return kw

    ours = getattr(optimessay.schedulers, name)
    walk = trajectory.run(BANANA, torch.optim.SGD, {"lr": 1e-3, "momentum": 0.5}, steps=40, scheduler_class=ours,
                          scheduler_kwargs=resolve(optimessay.schedulers, NEW_SCHEDULERS[name]))
    torch_module = torch.optim.swa_utils if name == "SWALR" else torch.optim.lr_scheduler
    xy = torch.tensor(BANANA.start, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.SGD([xy], lr=1e-3, momentum=0.5)
    kw = resolve(torch.optim.lr_scheduler, NEW_SCHEDULERS[name])
    if "schedulers" in kw:
        kw = {"optimizer": opt, **kw, "schedulers": [cls(opt, **ckw) for cls, ckw in kw["schedulers"]]}
        sched = getattr(torch_module, name)(**kw)
    else:
        sched = getattr(torch_module, name)(opt, **kw)
    lrs = []
    for _ in range(40):
        loss = banana(xy)
        loss.backward()
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        opt.zero_grad()
        sched.step(loss.item()) if name == "ReduceLROnPlateau" else sched.step()
    assert walk.diverged_at is None and walk.lrs.tolist() == lrs, name
    assert len(set(lrs)) > 1


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32], ids=["float64", "float32"])
def test_batch_value_and_gradient_is_autograds_bit_for_bit(dtype):
    """The sweeps' per-step loss and gradient (Rosenbrock's and the quadratic's closed forms, op for
    op as autograd; any other landscape: autograd itself) equal value_and_gradient bit for bit, sign
    of zero included, on ordinary, huge, tiny and special points, for the default banana and other
    (a, b), and quadratics of several κ and θ (θ = 0: -s is -0); the reused buffers follow a batch
    that shrinks; loss_out receives the loss."""
    gen = torch.Generator().manual_seed(0)
    special = [[1.0, 1.0], [0.0, 0.0], [-0.0, -0.0], [1.0, -0.0], [-0.0, 1.0], [-0.0, -1.0], [1e200, 1.0], [1e30, 1e-30],
               [math.inf, 0.0], [-math.inf, 2.0], [math.nan, 1.0], [2.0, math.inf]]
    points = torch.cat([3 * torch.randn(3000, 2, generator=gen, dtype=dtype),
                        1e18 * torch.randn(300, 2, generator=gen, dtype=dtype),
                        1e-30 * torch.randn(300, 2, generator=gen, dtype=dtype),
                        torch.tensor(special, dtype=dtype)])
    bits = torch.int64 if dtype == torch.float64 else torch.int32

    def same(x, y):  # bit for bit, any nan as nan
        return bool(((x.view(bits) == y.view(bits)) | (x.isnan() & y.isnan())).all())

    for land in (landscapes.rosenbrock(), landscapes.rosenbrock(0.3, 7.1), landscapes.rosenbrock(-2.5, 0.013),
                 landscapes.rosenbrock(0.0, 3.0), landscapes.himmelblau(),  # a = 0: ∂f/∂x can be -0 + 0
                 landscapes.quadratic(), landscapes.quadratic(100.0, math.radians(30)), landscapes.quadratic(1000.0, math.pi / 4),
                 landscapes.quadratic(3.7, -2.1), landscapes.quadratic(10.0, math.pi / 2), landscapes.quadratic(1e300, 1.0)):
        assert (getattr(land.fn, "derivatives", None) is not None) == (land.name in ("rosenbrock", "quadratic"))
        evaluate = land.batch_value_and_gradient(len(points), dtype)
        for rows in (slice(None), slice(0, 1000)):  # the whole batch, then fewer walks (buffers follow)
            p = points[rows]
            f0, g0 = land.value_and_gradient(p)
            out = torch.empty(len(p), dtype=dtype)
            f1, g1 = evaluate(p.t().contiguous(), out)  # coordinate-major: (2, m)
            assert f1.data_ptr() == out.data_ptr() and g1.shape == (2, len(p))
            assert same(f0, f1) and same(g0, g1.t()), land
            finite = ~g0.isnan()
            assert torch.equal(torch.signbit(g0[finite]), torch.signbit(g1.t()[finite]))  # autograd's +0, not -0
            f2, _ = evaluate(p.t().contiguous())
            assert same(f0, f2)
        one = land.batch_value_and_gradient(1, dtype)  # trajectory.run's: one walk, one element per op
        for point in torch.cat([points[-len(special):], points[:20], points[3000:3010], points[3300:3310]]):
            f0, g0 = land.value_and_gradient(point)
            f1, g1 = one(point.reshape(2, 1))
            assert same(f0.reshape(1), f1) and same(g0, g1.reshape(2)), (land, point)
            assert torch.equal(torch.signbit(g0[~g0.isnan()]), torch.signbit(g1.reshape(2)[~g0.isnan()]))


def test_a_walk_without_reading_preconditioners_is_the_same_walk():
    """preconditioners=False skips reading P from the optimizer each step: the same points, losses,
    lrs, gradients and divergence; P is nan. Also for a walk that diverges."""
    cases = ((torch.optim.Adam, {"lr": 0.01, "amsgrad": True}, 200), (torch.optim.SGD, {"lr": 0.05, "momentum": 0.9}, 100))
    for cls, kwargs, steps in cases:  # the SGD walk blows up on the banana
        full = trajectory.run("rosenbrock", cls, kwargs, steps=steps, noise=0.5, seed=3)
        lean = trajectory.run("rosenbrock", cls, kwargs, steps=steps, noise=0.5, seed=3, preconditioners=False)
        for name in ("points", "losses", "lrs", "gradients"):
            assert torch.equal(getattr(full, name).nan_to_num(), getattr(lean, name).nan_to_num()), name
        assert full.diverged_at == lean.diverged_at and lean.preconditioners.isnan().all()
        assert not full.preconditioners[:5].isnan().any()
        assert (full.diverged_at is not None) == (cls is torch.optim.SGD)
    with pytest.raises(ValueError, match="preconditioners='no': expected True or False"):
        trajectory.run("rosenbrock", torch.optim.Adam, steps=2, preconditioners="no")
