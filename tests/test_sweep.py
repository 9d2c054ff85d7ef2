"""Batched sweeps: every walk equals torch.optim run alone; divergence stays local; tune's choice."""

import math

import pytest
import torch

import optimessay
from optimessay import landscapes, sweep, trajectory

BANANA = landscapes.rosenbrock()


def lone(*args, **kwargs):
    """The reference: the walk run alone by trajectory.run with torch.optim. Without reading P from
    the optimizer's state each step (~28% of an Adam walk's time): these tests compare points, losses,
    lrs and divergence; the tests of recorded preconditioners call trajectory.run itself.

    On Rosenbrock trajectory.run gives the optimizer the closed-form gradient (as the sweep does):
    so the reference stays the torch.optim run on autograd's gradient, every loss and gradient the
    walk used is checked here against autograd at the walk's points, bit for bit (one batched
    autograd call; noise added as the walk adds it)."""
    walk = trajectory.run(*args, preconditioners=False, **kwargs)
    land, steps = walk.landscape, walk.steps
    loss, grad = land.value_and_gradient(walk.points)
    noise = kwargs.get("noise", 0.0)
    if noise:
        grad[:-1] += noise * trajectory.noise_sequence(steps, kwargs.get("seed", 0), walk.points.dtype)
    used = steps if walk.diverged_at is None else walk.diverged_at + 1  # the gradients the walk computed
    assert same_bits(walk.losses, loss) and same_bits(walk.gradients[:used], grad[:used]), walk.label
    return walk


def same_bits(x, y):
    """Bit for bit, any nan as nan."""
    bits = torch.int64 if x.dtype == torch.float64 else torch.int32
    return x.dtype == y.dtype and bool(((x.view(bits) == y.view(bits)) | (x.isnan() & y.isnan())).all())


def uniform(gen, n, lo, hi, log=False):
    u = torch.rand(n, generator=gen, dtype=torch.float64)
    if log:
        return torch.exp(math.log(lo) + u * (math.log(hi) - math.log(lo)))
    return lo + u * (hi - lo)


# (torch.optim class, shared kwargs, {per-walk hyperparameter: (low, high, log scale)})
CONFIGS = {
    "sgd": (torch.optim.SGD, {}, {"lr": (1e-4, 3e-3, True)}),
    "momentum": (torch.optim.SGD, {"dampening": 0.1}, {"lr": (1e-4, 2e-3, True), "momentum": (0.0, 0.95, False)}),
    "nesterov": (torch.optim.SGD, {"nesterov": True}, {"lr": (1e-4, 2e-3, True), "momentum": (0.5, 0.95, False)}),
    "rmsprop": (torch.optim.RMSprop, {"momentum": 0.5, "centered": True},
                {"lr": (1e-4, 1e-2, True), "alpha": (0.5, 0.99, False), "weight_decay": (0.0, 0.1, False)}),
    "adam": (torch.optim.Adam, {"amsgrad": True},
             {"lr": (1e-3, 0.3, True), "beta1": (0.5, 0.95, False), "beta2": (0.9, 0.9999, False)}),
    "adamw": (torch.optim.AdamW, {}, {"lr": (1e-3, 0.3, True), "weight_decay": (0.0, 0.1, False)}),
    "adagrad": (torch.optim.Adagrad, {"lr_decay": 1e-3}, {"lr": (1e-2, 1.0, True), "eps": (1e-10, 1e-3, True)}),
}


def random_sweep(name, n, dtype, steps, seed):
    """A random configuration per walk, and a random start near the seed's start."""
    cls, shared, ranges = CONFIGS[name]
    gen = torch.Generator().manual_seed(seed)
    per_walk = {k: uniform(gen, n, lo, hi, log) for k, (lo, hi, log) in ranges.items()}
    starts = torch.tensor([-1.5, 2.5], dtype=torch.float64) + 0.3 * torch.randn(n, 2, generator=gen, dtype=torch.float64)
    result = sweep.run(BANANA, cls, {**shared, **per_walk}, starts=starts, steps=steps, dtype=dtype)
    return cls, result


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("name", list(CONFIGS))
def test_each_walk_equals_torch_optim_run_alone(name, dtype):
    n, steps = 64, 500
    cls, result = random_sweep(name, n, dtype, steps, seed=list(CONFIGS).index(name))  # reproducible
    assert result.trajectories.shape == (n, steps + 1, 2) and result.losses.shape == (n, steps + 1)
    assert result.trajectories.dtype == dtype
    tol = 1e-12 if dtype == torch.float64 else 1e-5
    for i in torch.randperm(n, generator=torch.Generator().manual_seed(1))[:3].tolist():
        alone = lone(BANANA, cls, result.kwargs(i), start=result.starts[i].tolist(), steps=steps, dtype=dtype)
        torch.testing.assert_close(result.trajectories[i], alone.points, rtol=tol, atol=tol)
        torch.testing.assert_close(result.losses[i], alone.losses, rtol=tol, atol=tol)
        assert int(result.diverged_at[i]) == (-1 if alone.diverged_at is None else alone.diverged_at)


def test_optimessay_classes_and_names_give_the_same_sweep():
    lrs = torch.logspace(-3, -1, 5, dtype=torch.float64)
    a = sweep.run(BANANA, optimessay.Adam, {"lr": lrs}, steps=50)
    b = sweep.run(BANANA, torch.optim.Adam, {"lr": lrs}, steps=50)
    c = sweep.run("rosenbrock", "adam", {"lr": lrs}, steps=50)
    assert torch.equal(a.trajectories, b.trajectories) and torch.equal(a.trajectories, c.trajectories)
    assert a.optimizer == "Adam" and b.kwargs(0) == {"lr": 1e-3}
    threads = torch.get_num_threads()
    d = sweep.run(BANANA, optimessay.Adam, {"lr": lrs}, steps=50, threads=None)
    assert torch.equal(a.trajectories, d.trajectories) and torch.get_num_threads() == threads


def test_divergence_stays_in_its_walk():
    lrs = torch.tensor([1e-3, 0.05, 5e-4, 1.0, 2e-4], dtype=torch.float64)  # 0.05 and 1.0 blow up plain SGD on the banana
    mixed = sweep.run(BANANA, torch.optim.SGD, {"lr": lrs, "momentum": 0.9}, steps=200)
    assert mixed.diverged.tolist() == [False, True, False, True, False]
    calm = sweep.run(BANANA, torch.optim.SGD, {"lr": lrs[[0, 2, 4]], "momentum": 0.9}, steps=200)
    assert torch.equal(mixed.trajectories[[0, 2, 4]], calm.trajectories)  # untouched by the others
    assert torch.isfinite(mixed.final_loss[[0, 2, 4]]).all()
    for i in (1, 3):
        alone = lone(BANANA, torch.optim.SGD, mixed.kwargs(i), steps=200)
        assert int(mixed.diverged_at[i]) == alone.diverged_at
        assert torch.equal(mixed.trajectories[i], alone.points)  # frozen where it stopped, like run
        assert not torch.isfinite(mixed.final_loss[i])


def test_grid_layout_axes_and_summaries():
    grid = {"lr": torch.tensor([1e-4, 1e-3, 3e-3]), "momentum": torch.tensor([0.0, 0.5, 0.9, 0.99])}
    result = sweep.run(BANANA, torch.optim.SGD, grid=grid, steps=300, tol=0.05)
    assert result.shape == (3, 4) and list(result.axes) == ["lr", "momentum"]
    assert result.grid(result.final_loss).shape == (3, 4) and result.grid(result.trajectories).shape == (3, 4, 301, 2)
    for i, (r, c) in enumerate([(r, c) for r in range(3) for c in range(4)]):  # the first axis varies slowest
        assert result.kwargs(i) == {"lr": float(grid["lr"][r]), "momentum": float(grid["momentum"][c])}
    for i in range(result.n):
        alone = lone(BANANA, torch.optim.SGD, result.kwargs(i), steps=300)
        assert int(result.first_within[i]) == (alone.first_within(0.05) if alone.first_within(0.05) is not None else -1)
        torch.testing.assert_close(result.distance[i], alone.distances()[-1], rtol=1e-12, atol=0)
        assert bool(result.diverged[i]) == alone.diverged
    assert (result.first_within >= 0).any() and (result.first_within < 0).any()
    slim = sweep.run(BANANA, torch.optim.SGD, grid=grid, steps=300, tol=0.05, keep_trajectories=False)
    assert slim.trajectories is None and slim.losses is None
    for name in ("final_loss", "final_point", "first_within", "diverged", "diverged_at"):
        assert torch.equal(getattr(slim, name), getattr(result, name)), name


def test_betas_entries_vary_on_their_own():
    result = sweep.run(BANANA, torch.optim.Adam, {"betas": (0.8, 0.99)}, grid={"lr": [0.01, 0.1]}, steps=5)
    assert result.kwargs(1) == {"betas": (0.8, 0.99), "lr": 0.1}
    result = sweep.run(BANANA, torch.optim.Adam, {"lr": 0.01}, grid={"beta2": [0.9, 0.99]}, steps=5)
    assert result.kwargs(0) == {"lr": 0.01, "betas": (0.9, 0.9)}
    assert result.label(0) == "Adam(lr=0.01, betas=(0.9, 0.9))"


def test_schedulers_inside_a_sweep():
    steps = 120
    lrs = torch.tensor([5e-4, 1e-3, 1e-3, 2e-3])
    cases = [
        (torch.optim.SGD, {"lr": lrs, "momentum": 0.9}, torch.optim.lr_scheduler.StepLR, {"step_size": 7, "gamma": 0.8}),
        (torch.optim.Adam, {"lr": lrs * 10}, torch.optim.lr_scheduler.CosineAnnealingLR, {"T_max": 50}),
        # OneCycleLR also cycles the momentum (SGD) and beta1 (Adam)
        (torch.optim.SGD, {"lr": 1e-3, "momentum": torch.tensor([0.8, 0.9, 0.95, 0.9])},
         torch.optim.lr_scheduler.OneCycleLR, {"max_lr": 2e-3, "total_steps": steps}),
        (torch.optim.Adam, {"lr": 0.01}, torch.optim.lr_scheduler.OneCycleLR, {"max_lr": 0.05, "total_steps": steps}),
    ]
    for cls, kwargs, sched, skw in cases:
        result = sweep.run(BANANA, cls, kwargs, steps=steps, scheduler_class=sched, scheduler_kwargs=skw)
        for i in range(result.n):
            alone = lone(BANANA, cls, result.kwargs(i), steps=steps, scheduler_class=sched, scheduler_kwargs=skw)
            torch.testing.assert_close(result.trajectories[i], alone.points, rtol=1e-12, atol=1e-12)
            torch.testing.assert_close(result.lrs[i], alone.lrs, rtol=0, atol=0, equal_nan=True)


def test_a_per_walk_hyperparameter_the_scheduler_does_not_touch_stays_each_walks_own():
    # found by the figure build: with a scheduler and one shared lr, every walk got the first
    # walk's weight_decay (and eps, ...) once the scheduled lr was applied
    steps = 60
    cases = [
        (torch.optim.Adam, {"lr": 0.05, "weight_decay": torch.tensor([0.1, 0.5, 0.0])},
         torch.optim.lr_scheduler.CosineAnnealingLR, {"T_max": steps}),
        (torch.optim.AdamW, {"lr": torch.tensor([0.01, 0.02, 0.02]), "weight_decay": torch.tensor([0.1, 0.5, 2.0])},
         torch.optim.lr_scheduler.StepLR, {"step_size": 7, "gamma": 0.5}),
        (torch.optim.SGD, {"lr": 1e-3, "momentum": 0.9, "dampening": torch.tensor([0.0, 0.5, 0.9])},
         torch.optim.lr_scheduler.ExponentialLR, {"gamma": 0.97}),
    ]
    for cls, kwargs, sched, skw in cases:
        result = sweep.run(BANANA, cls, kwargs, steps=steps, scheduler_class=sched, scheduler_kwargs=skw)
        for i in range(result.n):
            alone = lone(BANANA, cls, result.kwargs(i), steps=steps, scheduler_class=sched, scheduler_kwargs=skw)
            assert torch.equal(result.trajectories[i], alone.points), (cls.__name__, i)


def test_noise_with_per_walk_seeds_matches_run():
    seeds = [0, 1, 1, 7]
    result = sweep.run(BANANA, torch.optim.RMSprop, {"lr": 1e-3}, starts=torch.zeros(4, 2), steps=50, noise=3.0, seed=seeds)
    for i, s in enumerate(seeds):
        alone = lone(BANANA, torch.optim.RMSprop, {"lr": 1e-3}, start=(0, 0), steps=50, noise=3.0, seed=s)
        assert torch.equal(result.trajectories[i], alone.points)
    assert torch.equal(result.trajectories[1], result.trajectories[2])
    assert not torch.equal(result.trajectories[0], result.trajectories[3])
    # walks that diverge leave the batch; the others keep their own noise
    lrs, seeds = [1e-3, 0.05, 5e-4, 1.0, 2e-4], [3, 4, 5, 6, 7]
    result = sweep.run(BANANA, torch.optim.SGD, {"lr": lrs, "momentum": 0.9}, steps=120, noise=1.0, seed=seeds)
    assert result.diverged.tolist() == [False, True, False, True, False]
    for i, s in enumerate(seeds):
        alone = lone(BANANA, torch.optim.SGD, result.kwargs(i), steps=120, noise=1.0, seed=s)
        assert torch.equal(result.trajectories[i], alone.points)


def test_recorded_preconditioners_match_run():
    for cls in (torch.optim.Adam, torch.optim.RMSprop, torch.optim.Adagrad, torch.optim.SGD):
        result = sweep.run(BANANA, cls, {"lr": [1e-3, 1e-2]}, steps=30, preconditioners=True)
        for i in range(2):
            alone = trajectory.run(BANANA, cls, result.kwargs(i), steps=30)
            torch.testing.assert_close(result.preconditioners[i], alone.preconditioners, rtol=1e-12, atol=0, equal_nan=True)


def test_starts_grid_without_hyperparameter_grid():
    xs = torch.linspace(-1.5, 1.5, 4)
    starts = torch.stack(torch.meshgrid(xs, xs, indexing="ij"), -1)  # (4, 4, 2)
    result = sweep.run("himmelblau", torch.optim.Adam, {"lr": 0.1}, starts=starts, steps=300)
    assert result.shape == (4, 4)
    assert (result.distance < 1e-2).all()  # every start reaches one of the four minima


def test_tune_finds_gradient_descents_optimal_lr_on_a_quadratic():
    # on f = ½(u² + κw²) gradient descent contracts by max(|1 - lr|, |1 - κ·lr|) per step,
    # smallest at lr* = 2 / (1 + κ)
    kappa = 10.0
    best = sweep.tune(landscapes.quadratic(kappa, 0.4), torch.optim.SGD, lr=torch.logspace(-2, 0, 41), steps=60)
    lr_star = 2 / (1 + kappa)
    assert lr_star / 1.15 < best.kwargs["lr"] < lr_star * 1.15
    assert not best.on_edge and best.objective == "tail(last=6)"
    # the score is the documented objective: mean log10 loss gap over the last 6 points
    i = int(torch.argmin(best.scores))
    alone = lone(best.sweep.landscape, torch.optim.SGD, best.kwargs, steps=60)
    assert best.score == pytest.approx(float(alone.losses[-6:].log10().mean()), rel=1e-12)
    assert best.scores[-1] == best.scores.max()  # lr = 1 > 2/κ blows up: the worst score
    assert best.sweep.kwargs(i) == best.kwargs


def test_tune_exported_at_top_level_with_extra_axes():
    best = optimessay.tune("rosenbrock", optimessay.SGD, lr=[1e-4, 5e-4, 1e-3], grid={"momentum": [0.0, 0.9]},
                           steps=150, objective="final")
    assert best.kwargs == {"lr": 1e-3, "momentum": 0.9}
    assert best.on_edge and best.objective == "final"
    assert best.label == "SGD(lr=0.001, momentum=0.9)"


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="unknown optimizer 'lion'"):
        sweep.run(BANANA, "lion")
    with pytest.raises(ValueError, match="cannot batch LBFGS: it is not elementwise"):
        sweep.run(BANANA, torch.optim.LBFGS)
    with pytest.raises(ValueError, match="unknown hyperparameter 'alpha' for Adam"):
        sweep.run(BANANA, torch.optim.Adam, {"alpha": [0.5, 0.9]})
    with pytest.raises(ValueError, match="different lengths"):
        sweep.run(BANANA, torch.optim.Adam, {"lr": [0.1, 0.2], "eps": [1e-8, 1e-6, 1e-4]})
    with pytest.raises(ValueError, match="Invalid learning rate: -0.1"):
        sweep.run(BANANA, torch.optim.Adam, {"lr": [0.1, -0.1]})
    with pytest.raises(ValueError, match="Invalid beta parameter at index 0: 1.0"):
        sweep.run(BANANA, torch.optim.Adam, grid={"beta1": [0.5, 1.0]})
    with pytest.raises(ValueError, match=r"starts of shape \(3,\)"):
        sweep.run(BANANA, torch.optim.Adam, starts=[1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="starts has 3 points but the grid"):
        sweep.run(BANANA, torch.optim.Adam, grid={"lr": [0.1, 0.2]}, starts=torch.zeros(3, 2))
    with pytest.raises(ValueError, match="both in optimizer_kwargs and in grid"):
        sweep.run(BANANA, torch.optim.Adam, {"lr": 0.1}, grid={"lr": [0.1]})
    with pytest.raises(ValueError, match="nesterov is a flag of SGD"):
        sweep.run(BANANA, torch.optim.SGD, {"lr": 1e-3, "momentum": 0.9, "nesterov": [True, False]})
    with pytest.raises(ValueError, match="threads=0"):
        sweep.run(BANANA, torch.optim.Adam, threads=0)
    with pytest.raises(ValueError, match="steps=-3"):
        sweep.run(BANANA, torch.optim.Adam, steps=-3)
    with pytest.raises(ValueError, match="unknown landscape"):
        sweep.run("moon", torch.optim.Adam)
    with pytest.raises(ValueError, match="objective='best'"):
        sweep.tune(BANANA, torch.optim.Adam, lr=[0.1], steps=3, objective="best")
    with pytest.raises(ValueError, match="every walk of SGD diverged"):
        sweep.tune(BANANA, torch.optim.SGD, lr=[1.0, 10.0], steps=50)


def test_rmsprop_without_momentum_inside_a_momentum_sweep():
    """The core's momentum path rounds once more for a walk with momentum 0 (its docstring): still
    within 1e-12 of RMSprop without momentum, over 500 steps."""
    result = sweep.run(BANANA, torch.optim.RMSprop, grid={"lr": [1e-3, 1e-2], "momentum": [0.0, 0.5]}, steps=500)
    for i in (0, 2):  # momentum 0
        alone = lone(BANANA, torch.optim.RMSprop, result.kwargs(i), steps=500)
        torch.testing.assert_close(result.trajectories[i], alone.points, rtol=1e-12, atol=1e-12)


def test_adagrad_initial_accumulator_shared_or_per_walk():
    """initial_accumulator_value goes into the state, not the update: shared or one per walk, each
    walk equals torch.optim.Adagrad run alone."""
    shared = sweep.run(BANANA, torch.optim.Adagrad, {"lr": [0.1, 0.3], "initial_accumulator_value": 5.0}, steps=60)
    per_walk = sweep.run(BANANA, torch.optim.Adagrad, {"lr": 0.1, "initial_accumulator_value": [0.0, 0.5, 5.0]},
                         steps=60)
    for result in (shared, per_walk):
        for i in range(result.n):
            alone = lone(BANANA, torch.optim.Adagrad, result.kwargs(i), steps=60)
            assert torch.equal(result.trajectories[i], alone.points), result.kwargs(i)
    assert not torch.equal(per_walk.trajectories[0], per_walk.trajectories[2])  # the value matters


@pytest.mark.parametrize("family, cls, kwargs", [
    ("sgd", optimessay.SGD, {"lr": 1e-3, "momentum": 0.9}),
    ("rmsprop", optimessay.RMSprop, {"lr": 1e-3}),
    ("adam", optimessay.Adam, {"lr": 1e-2}),
    ("adagrad", optimessay.Adagrad, {"lr": 0.1}),
])
def test_one_source_of_truth_the_class_and_the_sweep_call_the_same_core(family, cls, kwargs, monkeypatch):
    """The update rule lives once, in `<family>_update` of optimessay/optimizers/<family>.py: the sweep
    holds that very function, the class's step() calls it, and the trajectory reads P of torch.optim's
    state with the same module's `<family>_preconditioner`."""
    import importlib

    module = importlib.import_module(f"optimessay.optimizers.{family}")
    update = getattr(module, f"{family}_update")
    assert sweep._CORES[cls.__name__] == (
        getattr(module, f"{family}_init_state"), update, getattr(module, f"{family}_preconditioner")
    )
    calls = []

    def counted(*args, **kw):
        calls.append(kw)
        return update(*args, **kw)

    monkeypatch.setattr(module, f"{family}_update", counted)  # the class looks the core up at step time
    trajectory.run(BANANA, cls, kwargs, steps=3)
    assert len(calls) == 3 and calls[0]["lr"] == kwargs["lr"]
    source = (sweep.__file__, trajectory.__file__)
    for path in source:  # no update arithmetic outside the optimizer files
        text = open(path).read()
        assert not any(op in text for op in ("lerp", "addcdiv", "sqrt(")), path


def test_more_bad_input_is_named():
    with pytest.raises(ValueError, match="optimizer_kwargs='lr': expected a dict"):
        sweep.run(BANANA, "adam", "lr")
    with pytest.raises(ValueError, match=r"grid=\[0.1, 0.2\]: expected a dict"):
        sweep.run(BANANA, "adam", grid=[0.1, 0.2])
    with pytest.raises(ValueError, match=r"seed: expected an int or 2 ints \(one per walk\), got 'a'"):
        sweep.run(BANANA, "adam", {"lr": [0.1, 0.2]}, noise=1.0, seed="a", steps=2)
    with pytest.raises(ValueError, match=r"betas=\[0.9, 0.99\]: expected a tuple \(beta1, beta2\)"):
        sweep.run(BANANA, "adam", {"betas": [0.9, 0.99]}, steps=2)
    with pytest.raises(ValueError, match="maximize is a flag of Adagrad: give one bool for all walks"):
        sweep.run(BANANA, "adagrad", {"maximize": [True, False]}, steps=2)
    with pytest.raises(ValueError, match="tune\\(..., lr=...\\), not in grid"):
        sweep.tune(BANANA, "adam", grid={"lr": [0.1]}, steps=2)
    with pytest.raises(ValueError, match="tune\\(..., lr=...\\), not in optimizer_kwargs"):
        sweep.tune(BANANA, "adam", {"lr": 0.1}, steps=2)


# --- every elementwise optimizer -----------------------------------------------------------------

# (torch.optim class, shared kwargs, {per-walk hyperparameter: (low, high, log scale)}); the entries of
# pair arguments (beta1/beta2, etaminus/etaplus, step_size_max, Adafactor's eps2) vary on their own
NEW_CONFIGS = {
    "nadam": (torch.optim.NAdam, {"decoupled_weight_decay": True, "betas": (0.8, 0.99), "momentum_decay": 0.01},
              {"lr": (1e-3, 0.1, True), "eps": (1e-8, 1e-3, True), "weight_decay": (0.0, 0.1, False)}),
    "radam": (torch.optim.RAdam, {"betas": (0.8, 0.99)},
              {"lr": (1e-3, 0.1, True), "eps": (1e-8, 1e-3, True), "weight_decay": (0.0, 0.1, False)}),
    "adamax": (torch.optim.Adamax, {"maximize": False},
               {"lr": (1e-3, 0.1, True), "beta1": (0.5, 0.95, False), "beta2": (0.9, 0.9999, False),
                "eps": (1e-8, 1e-3, True)}),
    "adadelta": (torch.optim.Adadelta, {},
                 {"lr": (0.1, 1.0, True), "rho": (0.5, 0.99, False), "eps": (1e-6, 1e-3, True),
                  "weight_decay": (0.0, 0.1, False)}),
    "rprop": (torch.optim.Rprop, {},
              {"lr": (1e-4, 1e-2, True), "etaminus": (0.3, 0.7, False), "etaplus": (1.05, 1.5, False),
               "step_size_max": (0.01, 1.0, True)}),
    "asgd": (torch.optim.ASGD, {},
             {"lr": (1e-4, 1e-3, True), "lambd": (0.0, 1e-2, False), "alpha": (0.5, 1.0, False),
              "t0": (0.0, 300.0, False), "weight_decay": (0.0, 0.1, False)}),
    "adafactor": (torch.optim.Adafactor, {},
                  {"lr": (1e-3, 0.1, True), "beta2_decay": (-1.0, -0.5, False), "d": (1.0, 2.0, False),
                   "weight_decay": (0.0, 0.1, False), "eps2": (1e-4, 1e-2, True)}),
    # betas (and NAdam's momentum_decay) one per walk: their powers β^t are torch's pow on a tensor
    "nadam-betas": (torch.optim.NAdam, {}, {"lr": (1e-3, 0.1, True), "beta1": (0.5, 0.95, False),
                                          "beta2": (0.9, 0.9999, False), "momentum_decay": (0.0, 0.01, False)}),
    "radam-betas": (torch.optim.RAdam, {},  # beta2 from 0.6: some walks rectify late (rho_t > 5 after more steps)
                    {"lr": (1e-3, 0.1, True), "beta1": (0.5, 0.95, False), "beta2": (0.6, 0.999, False)}),
}
# measured (torch 2.13, this CPU): torch.pow on a float64 tensor differs from Python's float ** by 1 ulp
# on ~1.7% of (beta, t) pairs; a per-walk beta^t can then differ in its last bit from the class's, and
# the walk by ~1e-14 relative (seen: up to 2e-14 over 500 steps). Float32 walks stay bitwise.
POWERS_PER_WALK = {"nadam-betas", "radam-betas"}
def new_random_sweep(name, n, dtype, steps, seed):
    cls, shared, ranges = NEW_CONFIGS[name]
    gen = torch.Generator().manual_seed(seed)
    per_walk = {k: uniform(gen, n, lo, hi, log) for k, (lo, hi, log) in ranges.items()}
    starts = torch.tensor([-1.5, 2.5], dtype=torch.float64) + 0.3 * torch.randn(n, 2, generator=gen, dtype=torch.float64)
    return cls, sweep.run(BANANA, cls, {**shared, **per_walk}, starts=starts, steps=steps, dtype=dtype)


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("name", list(NEW_CONFIGS))
def test_each_walk_of_the_new_optimizers_equals_torch_optim_run_alone_bitwise(name, dtype):
    n, steps = 16, 500
    cls, result = new_random_sweep(name, n, dtype, steps, seed=100 + list(NEW_CONFIGS).index(name))
    assert result.trajectories.shape == (n, steps + 1, 2) and result.trajectories.dtype == dtype
    assert set(result.hyperparameters) == set(NEW_CONFIGS[name][2])
    bitwise = dtype == torch.float32 or name not in POWERS_PER_WALK
    for i in torch.randperm(n, generator=torch.Generator().manual_seed(2))[:4].tolist():
        alone = lone(BANANA, cls, result.kwargs(i), start=result.starts[i].tolist(), steps=steps, dtype=dtype)
        if bitwise:
            assert torch.equal(result.trajectories[i], alone.points), (name, i, result.kwargs(i))
            assert torch.equal(result.losses[i], alone.losses)
        else:
            torch.testing.assert_close(result.trajectories[i], alone.points, rtol=1e-12, atol=1e-12)
        assert int(result.diverged_at[i]) == (-1 if alone.diverged_at is None else alone.diverged_at)


def test_pair_entries_fold_back_into_the_class_arguments():
    result = sweep.run(BANANA, "rprop", {"etas": (0.4, 1.3)}, grid={"step_size_max": [0.1, 1.0]}, steps=3)
    assert result.kwargs(1) == {"etas": (0.4, 1.3), "step_sizes": (1e-6, 1.0)}
    result = sweep.run(BANANA, "adafactor", grid={"eps2": [1e-3, 1e-2]}, steps=3)
    assert result.kwargs(0) == {"eps": (None, 1e-3)}
    assert result.label(1) == "Adafactor(eps=(None, 0.01))"
    with pytest.raises(ValueError, match=r"give etas either as etas=\(etaminus, etaplus\) or as etaminus / etaplus"):
        sweep.run(BANANA, "rprop", {"etas": (0.4, 1.3), "etaminus": [0.3, 0.5]}, steps=2)
    with pytest.raises(ValueError, match=r"Invalid eta values: 1.5, 1.2"):  # the class's own check
        sweep.run(BANANA, torch.optim.Rprop, {"etaminus": [0.5, 1.5]}, steps=2)


def test_adafactor_walks_are_vectors_stepped_one_by_one():
    """Adafactor reads ‖θ‖ and ‖P g‖ of its parameter: one call on the (N, 2) batch would factor the
    second moment over the N walks and share the norms. The sweep steps each walk's vector of 2, as
    trajectory.run does; the batch call gives other numbers (so the per-walk loop is needed)."""
    lrs = [0.01, 0.05, 0.1]
    result = sweep.run(BANANA, optimessay.Adafactor, {"lr": lrs}, steps=40, preconditioners=True)
    batch = result.starts.clone()
    state = optimessay.optimizers.adafactor_init_state(batch)
    assert "row_var" in state  # an (N, 2) tensor is a matrix to Adafactor: factored
    for _ in range(40):
        optimessay.optimizers.adafactor_update(batch, BANANA.gradient(batch), state, lr=0.05)
    for i, lr in enumerate(lrs):
        alone = trajectory.run(BANANA, torch.optim.Adafactor, {"lr": lr}, steps=40)
        assert torch.equal(result.trajectories[i], alone.points)
        assert torch.equal(result.preconditioners[i], alone.preconditioners)  # P read from torch's state
    assert not torch.equal(batch[1], result.trajectories[1, -1])


def test_new_optimizers_with_schedulers_and_noise():
    steps = 80
    cases = [  # OneCycleLR cycles NAdam's beta1 too; Rprop's lr only sets its first step sizes
        (torch.optim.NAdam, {"lr": [0.01, 0.02]}, torch.optim.lr_scheduler.OneCycleLR, {"max_lr": 0.05, "total_steps": steps}),
        (torch.optim.Rprop, {"lr": [1e-3, 1e-2]}, torch.optim.lr_scheduler.StepLR, {"step_size": 10, "gamma": 0.5}),
        (torch.optim.ASGD, {"lr": [1e-4, 5e-4]}, torch.optim.lr_scheduler.ExponentialLR, {"gamma": 0.99}),
        (torch.optim.Adafactor, {"lr": [0.01, 0.05]}, torch.optim.lr_scheduler.CosineAnnealingLR, {"T_max": 30}),
        (torch.optim.Adamax, {"lr": 0.01}, torch.optim.lr_scheduler.ChainedScheduler,
         {"schedulers": [(torch.optim.lr_scheduler.ConstantLR, {"factor": 0.5, "total_iters": 10}),
                         (torch.optim.lr_scheduler.ExponentialLR, {"gamma": 0.98})]}),
    ]
    for cls, kwargs, sched, skw in cases:
        result = sweep.run(BANANA, cls, kwargs, steps=steps, scheduler_class=sched, scheduler_kwargs=skw,
                           noise=0.5, seed=[3, 4] if isinstance(kwargs["lr"], list) else 3)
        for i in range(result.n):
            seed = [3, 4][i] if isinstance(kwargs["lr"], list) else 3
            alone = lone(BANANA, cls, result.kwargs(i), steps=steps, scheduler_class=sched,
                                   scheduler_kwargs=skw, noise=0.5, seed=seed)
            assert torch.equal(result.trajectories[i], alone.points), cls.__name__
            torch.testing.assert_close(result.lrs[i], alone.lrs, rtol=0, atol=0, equal_nan=True)


def test_new_optimizers_diverge_alone():
    lrs = torch.tensor([1e-3, 0.5, 1e-2, 3.0])  # Adadelta-like lrs that blow up the banana: RAdam's SGD phase
    result = sweep.run(BANANA, torch.optim.RAdam, {"lr": lrs, "beta2": 0.6}, steps=100)
    for i in range(4):
        alone = lone(BANANA, torch.optim.RAdam, result.kwargs(i), steps=100)
        assert int(result.diverged_at[i]) == (-1 if alone.diverged_at is None else alone.diverged_at)
        assert torch.equal(result.trajectories[i], alone.points)
    assert result.diverged.any() and not result.diverged.all()


@pytest.mark.parametrize("cls, reason", [
    (torch.optim.LBFGS, "cannot batch LBFGS: it is not elementwise: each step is a line search that calls a closure"),
    (torch.optim.Muon, r"cannot batch Muon: its preconditioner is a matrix \(Newton-Schulz"),
    ("shampoo", r"cannot batch Shampoo: its preconditioner is a matrix \(Kronecker factors"),
    ("soap", r"cannot batch SOAP: its preconditioner is a matrix \(Adam in the eigenbasis"),
    (torch.optim.SparseAdam, "cannot batch SparseAdam: it steps on sparse gradients only"),
])
def test_non_elementwise_optimizers_are_refused_with_the_reason(cls, reason):
    if isinstance(cls, str):
        import importlib

        module = importlib.import_module(f"optimessay.optimizers.{cls}")
        cls = getattr(module, cls.capitalize() if cls == "shampoo" else cls.upper())
    with pytest.raises(ValueError, match=reason):
        sweep.run(BANANA, cls, {"lr": [0.1, 0.2]}, steps=2)


def test_reduce_lr_on_plateau_is_refused_in_a_sweep():
    with pytest.raises(ValueError, match="ReduceLROnPlateau's lr follows each walk's own losses"):
        sweep.run(BANANA, "adam", {"lr": [0.1, 0.2]}, steps=2, scheduler_class=torch.optim.lr_scheduler.ReduceLROnPlateau)


def test_first_within_and_final_points_after_the_walk_match_step_by_step_values():
    """first_within and final_point are computed once after the walk (from the recorded points):
    the same as walking without a record (computed step by step), on a landscape with four minima."""
    xs = torch.linspace(-4, 4, 7)
    starts = torch.stack(torch.meshgrid(xs, xs, indexing="ij"), -1).reshape(-1, 2)
    kw = dict(starts=starts, steps=200, tol=0.05)
    full = sweep.run("himmelblau", torch.optim.SGD, {"lr": [0.002, 0.03] * 24 + [0.002]}, **kw)
    slim = sweep.run("himmelblau", torch.optim.SGD, {"lr": [0.002, 0.03] * 24 + [0.002]}, keep_trajectories=False, **kw)
    for name in ("final_point", "final_loss", "first_within", "diverged_at", "distance"):
        assert torch.equal(getattr(full, name).nan_to_num(), getattr(slim, name).nan_to_num()), name
    assert (full.first_within >= 0).any() and full.diverged.any()
    for i in range(full.n):
        hit = torch.nonzero(full.landscape.distance_to_minimum(full.trajectories[i]) <= 0.05)
        assert int(full.first_within[i]) == (int(hit[0, 0]) if len(hit) else -1)


def test_finite_values_whose_window_sums_overflow_step_on_exactly_as_alone():
    """The sweep tests finiteness once per window, on running sums of the gradients and the recorded
    losses. On a quadratic of κ = 1e306 from (0, 10) every loss (~5e307) and gradient (~1e307) is
    finite while their sums over a window overflow: those walks are stepped again alone, and must
    come out as trajectory.run's, bit for bit, never marked diverged; a walk that really diverges
    (a larger lr) in the same batch still leaves at the step run names."""
    land = landscapes.quadratic(1e306, 0.0)
    lrs = torch.tensor([1e-310, 3e-310, 1e-300, 2e-310], dtype=torch.float64)  # 1e-300 overshoots: diverges
    result = sweep.run(land, torch.optim.SGD, {"lr": lrs}, starts=[0.0, 10.0], steps=70)
    assert result.diverged.tolist() == [False, False, True, False]
    for i in range(len(lrs)):
        alone = lone(land, torch.optim.SGD, result.kwargs(i), start=[0.0, 10.0], steps=70)
        assert same_bits(result.trajectories[i], alone.points) and same_bits(result.losses[i], alone.losses)
        assert int(result.diverged_at[i]) == (-1 if alone.diverged_at is None else alone.diverged_at)
    losses = result.losses[[0, 1, 3]]
    assert torch.isfinite(losses).all() and not torch.isfinite(losses[:, :32].sum(1)).any()  # the sums do overflow
