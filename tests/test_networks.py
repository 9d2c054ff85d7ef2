"""optimessay.networks: tasks, models, the training loop, the lr tuning and the four experiments at
tiny sizes (the whole file runs in well under a minute on one core)."""

from __future__ import annotations

import math

import pytest
import torch

from optimessay.networks import batched, data, experiments, models, train


@pytest.fixture(scope="module")
def digits():
    return data.digits()


@pytest.fixture(scope="module")
def small(digits):
    """A quarter of digits' training set (faster runs), same test set."""
    n = 336
    return data.Task("digits-small", digits.x_train[:n], digits.y_train[:n], digits.x_test, digits.y_test, 10)


# ---------------------------------------------------------------------------------------------- data


def test_digits_split_is_fixed_disjoint_and_standardized(digits):
    again = data.digits()
    assert digits.x_train.shape == (1348, 64) and digits.x_test.shape == (449, 64)
    assert torch.equal(digits.x_train, again.x_train) and torch.equal(digits.y_test, again.y_test)
    other = data.digits(seed=1)
    assert not torch.equal(digits.y_train, other.y_train)
    from sklearn.datasets import load_digits

    raw = torch.as_tensor(load_digits().data)
    assert len(raw) == len(digits.y_train) + len(digits.y_test)
    # standardized with the training set's statistics: mean 0, std 1 (or all 0 for constant pixels)
    mean, std = digits.x_train.double().mean(0), digits.x_train.double().std(0)
    assert mean.abs().max() < 1e-5
    assert torch.all(((std - 1).abs() < 1e-5) | (std == 0))
    assert set(digits.y_train.tolist()) == set(range(10))


def test_heavy_tailed_frequencies_and_balanced_test():
    task = data.heavy_tailed(n_classes=20, n_features=5, n_train=2000, test_per_class=3, exponent=1.0, seed=3)
    counts = task.class_counts()
    assert counts.sum() == 2000 and counts.min() >= 1
    p = data.zipf_frequencies(20, 1.0)
    assert abs(p.sum().item() - 1) < 1e-12 and torch.all(p[:-1] > p[1:])
    assert counts[:5].sum() > 4 * counts[-5:].sum()  # head classes dominate
    assert torch.equal(torch.bincount(task.y_test), torch.full((20,), 3))
    again = data.heavy_tailed(n_classes=20, n_features=5, n_train=2000, test_per_class=3, exponent=1.0, seed=3)
    assert torch.equal(task.x_train, again.x_train)


@pytest.mark.parametrize("kwargs, message", [
    ({"n_train": 5, "n_classes": 10}, "n_train must be at least n_classes"),
    ({"test_per_class": 0}, "test_per_class must be at least 1"),
    ({"noise": -1.0}, "noise must be >= 0"),
    ({"n_classes": 1}, "n_classes must be at least 2"),
])
def test_heavy_tailed_rejects_bad_input(kwargs, message):
    with pytest.raises(ValueError, match=message):
        data.heavy_tailed(**kwargs)


def test_transforms(digits):
    q = data.random_orthogonal(64, 1)
    assert torch.allclose(q @ q.T, torch.eye(64, dtype=torch.float64), atol=1e-12)
    rotated = data.transform(digits, "rotated", seed=0)
    assert torch.allclose(rotated.x_train.norm(dim=1), digits.x_train.norm(dim=1), rtol=1e-5, atol=1e-5)
    scales = data.feature_scales(64, 3.0, 0)
    assert 10**-1.5 <= scales.min() and scales.max() <= 10**1.5 and scales.max() / scales.min() > 100
    rescaled = data.transform(digits, "rescaled", decades=3.0, seed=0)
    assert torch.allclose(rescaled.x_train, (digits.x_train.double() * scales).float())
    both = data.transform(digits, "rescaled+rotated", decades=3.0, seed=0)
    assert torch.allclose(both.x_train, (rescaled.x_train.double() @ q.T).float(), atol=1e-4)
    assert data.transform(digits, "original") is digits
    assert torch.equal(both.y_train, digits.y_train)
    with pytest.raises(ValueError, match="kind must be one of"):
        data.transform(digits, "sheared")
    with pytest.raises(ValueError, match="decades must be >= 0"):
        data.feature_scales(3, -1, 0)


# --------------------------------------------------------------------------------------------- models


def test_mlp_layout_seeded_and_leaves_global_rng_alone():
    state = torch.random.get_rng_state()
    a, b, c = models.mlp(64, 10, width=16, depth=8, seed=5), models.mlp(64, 10, width=16, depth=8, seed=5), \
        models.mlp(64, 10, width=16, depth=8, seed=6)
    assert torch.equal(torch.random.get_rng_state(), state)
    layers = models.linear_layers(a)
    assert len(layers) == 8 and layers[0].in_features == 64 and layers[-1].out_features == 10
    assert sum(isinstance(m, torch.nn.ReLU) for m in a) == 7
    assert not any(isinstance(m, torch.nn.modules.batchnorm._BatchNorm | torch.nn.LayerNorm) for m in a.modules())
    for pa, pb, pc in zip(a.parameters(), b.parameters(), c.parameters(), strict=True):
        assert torch.equal(pa, pb) and not torch.equal(pa, pc)
    bound = 1 / 16**0.5  # nn.Linear's default bound for a hidden layer of fan-in 16
    assert layers[3].weight.abs().max() <= bound


def test_optimizers_muon_takes_hidden_matrices_adamw_the_rest():
    import optimessay

    model = models.mlp(8, 3, width=4, depth=4)
    muon, adamw = models.optimizers("Muon", model, 1e-2)
    layers = models.linear_layers(model)
    assert isinstance(muon, optimessay.Muon) and isinstance(adamw, optimessay.AdamW)
    assert [p for g in muon.param_groups for p in g["params"]] == [layers[1].weight, layers[2].weight]
    assert muon.defaults["adjust_lr_fn"] == "match_rms_adamw"
    everything = {id(p) for o in (muon, adamw) for g in o.param_groups for p in g["params"]}
    assert everything == {id(p) for p in model.parameters()}
    assert sum(len(g["params"]) for g in adamw.param_groups) == len(list(model.parameters())) - 2
    (sgd,) = models.optimizers("Momentum", model, 0.1)
    assert isinstance(sgd, optimessay.SGD) and sgd.defaults["momentum"] == 0.9 and sgd.defaults["nesterov"]
    with pytest.raises(ValueError, match="optimizer name must be one of"):
        models.optimizers("Lion", model, 0.1)
    with pytest.raises(ValueError, match="lr must be > 0"):
        models.optimizers("Adam", model, 0.0)
    with pytest.raises(ValueError, match="at least one hidden weight matrix"):
        models.optimizers("Muon", models.mlp(8, 3, depth=2), 0.1)


# ------------------------------------------------------------------------------------------- training


def _run(task, name, lr, seed=0, epochs=2, depth=3, width=16, **kw):
    model = models.mlp(task.n_features, task.n_classes, width=width, depth=depth, seed=seed)
    return train.train(model, models.optimizers(name, model, lr), task, epochs=epochs, seed=seed, name=name, lr=lr, **kw)


@pytest.mark.parametrize("name", ["SGD", "Adam", "Muon"])
def test_training_is_deterministic_for_a_seed(small, name):
    with train.quiet_cpu():
        a, b = _run(small, name, 1e-2), _run(small, name, 1e-2)
        c = _run(small, name, 1e-2, seed=1)
    assert a.losses == b.losses and a.test_accuracy == b.test_accuracy
    assert a.losses != c.losses
    assert len(a.losses) == 3 and a.losses[-1] < a.losses[0]


def test_run_records_per_class_losses_consistently(small):
    with train.quiet_cpu():
        run = _run(small, "Adam", 1e-2, per_class=True)
    assert len(run.class_losses) == 3 and all(len(c) == 10 for c in run.class_losses)
    counts = small.class_counts().double()
    for epoch in range(3):  # the count-weighted mean of the class losses is the loss
        weighted = (torch.tensor(run.class_losses[epoch], dtype=torch.float64) * counts).sum() / counts.sum()
        assert math.isclose(weighted.item(), run.losses[epoch], rel_tol=1e-6)
    assert 0 <= run.test_accuracy <= 1 and run.cpu_seconds >= 0


def test_a_diverging_run_is_marked_and_padded(small):
    with train.quiet_cpu():
        run = _run(small, "SGD", 1e6, epochs=3)
    assert run.diverged and len(run.losses) == 4 and math.isnan(run.losses[-1])
    assert train.score(run) == math.inf


def test_quiet_cpu_restores_threads_and_denormals():
    before = torch.get_num_threads()
    tiny = torch.tensor([1e-40])
    assert tiny.item() != 0  # denormals kept outside
    with train.quiet_cpu():
        assert torch.get_num_threads() == 1
        assert (torch.tensor([1e-39]) * 0.1).item() == 0  # flushed to zero inside
    assert torch.get_num_threads() == before
    assert (torch.tensor([1e-39]) * 0.1).item() != 0


def _fake_run(lr, best):
    """A run whose losses are lowest at lr = best (a parabola in log10 lr)."""
    final = 10 ** ((math.log10(lr) - math.log10(best)) ** 2 - 2)
    return train.Run("fake", lr, 0, [1e30, final, final, final, final], 0.0, 0.0)


@pytest.mark.parametrize("best, expected", [(1e-3, 1e-3), (1e-6, 1e-6), (3.0, 1.0)])
def test_tune_lr_moves_off_the_edge(best, expected):
    grid = train.lr_grid(1e-4, 1e-1, per_decade=1)
    assert grid == [1e-4, 1e-3, 1e-2, 1e-1]
    tuning = train.tune_lr(lambda lr: _fake_run(lr, best), grid, max_extend=3)
    lrs = sorted(tuning.scores)
    assert tuning.lr == pytest.approx(expected, rel=1e-9)
    assert lrs[0] < tuning.lr < lrs[-1]  # the grid was extended until the winner is inside it
    assert min(tuning.scores, key=tuning.scores.get) == tuning.lr


def _fake_batch(best_per_seed, calls):
    """``run(lrs, seeds)`` for protocol_tune: seed s's runs are best at lr = best_per_seed[s]."""

    def run(lrs, seeds):
        calls.append((list(lrs), list(seeds)))
        return {(lr, s): _fake_run(lr, best_per_seed[s]) for lr in lrs for s in seeds}

    return run


@pytest.mark.parametrize("best, expected", [(1e-3, 1e-3), (3e-6, 10**-5.5)])
def test_protocol_tune_uses_the_sites_grid_and_leaves_the_edge(best, expected):
    calls = []
    tuning = train.protocol_tune(_fake_batch({0: best, 1: best, 2: best}, calls),
                                 train.lr_grid(1e-4, 1e-1, per_decade=2), seeds=(0, 1, 2), name="fake")
    lrs = sorted(tuning.scores)
    assert tuning.lr == pytest.approx(expected, rel=1e-9) and not tuning.on_edge
    assert lrs[0] < tuning.lr < lrs[-1]
    asked = [lr for lrs_, _ in calls for lr in lrs_]
    assert len(set(asked)) == len(asked) == len(lrs)  # every lr trained once
    assert all(seeds == [0, 1, 2] for _, seeds in calls)  # with every seed
    # the grid, then one call per decade's extension: whole batches, never one run at a time
    assert len(calls) == 1 + (best < 1e-4) * round(math.log10(1e-4 / expected) + 0.5)
    assert lrs[:2] == [pytest.approx(lrs[1] / 10**0.5), lrs[1]]  # 2 per decade, as the grid given
    assert train.curve_score([2.0, 1.0, float("nan")]) == math.inf


def test_protocol_tune_takes_the_median_over_seeds_and_drops_an_lr_where_one_seed_diverges():
    grid = train.lr_grid(1e-4, 1e-1, per_decade=1)
    # two of three seeds prefer 1e-2: the median picks it, whatever the third seed says
    tuning = train.protocol_tune(_fake_batch({0: 1e-2, 1: 1e-3, 2: 1e-2}, []), grid, seeds=(0, 1, 2))
    assert tuning.lr == pytest.approx(1e-2)
    one = train.protocol_tune(_fake_batch({0: 1e-3, 1: 1e-2, 2: 1e-2}, []), grid, seeds=(0,))
    assert one.lr == pytest.approx(1e-3)  # one seed alone would have picked its own

    def run(lrs, seeds):  # at 1e-2 seed 2 diverges: that lr is out, even though it is best for seeds 0 and 1
        out = {(lr, s): _fake_run(lr, 1e-2) for lr in lrs for s in seeds}
        for s in seeds:
            if 1e-2 in lrs and s == 2:
                out[1e-2, s] = train.Run("fake", 1e-2, s, [1.0, math.nan, math.nan, math.nan, math.nan], 0.0, 0.0,
                                         diverged=True)
        return out

    tuning = train.protocol_tune(run, grid, seeds=(0, 1, 2))
    assert tuning.scores[1e-2] == math.inf and tuning.lr != pytest.approx(1e-2)


def test_tune_lr_and_grid_reject_bad_input():
    with pytest.raises(ValueError, match="at least 3 values"):
        train.tune_lr(lambda lr: _fake_run(lr, 1), [0.1, 1.0])
    with pytest.raises(ValueError, match="need 0 < low < high"):
        train.lr_grid(1.0, 0.1)


# ---------------------------------------------------------------------------------------- experiments


def test_gradient_descent_is_rotation_invariant_on_a_network(small):
    """The invariance claim itself: SGD on inputs Q x from first-layer weights W Qᵀ follows the same
    function-space trajectory as on x from W (equal losses up to float32 rounding)."""
    rotated = data.transform(small, "rotated", seed=0)
    q = data.random_orthogonal(small.n_features, 1).float()
    with train.quiet_cpu():
        runs = {}
        for name in ("SGD", "Adam"):
            for kind, task in (("original", small), ("rotated", rotated)):
                model = models.mlp(64, 10, width=16, depth=3, seed=0)
                if kind == "rotated":
                    with torch.no_grad():
                        model[0].weight.copy_(model[0].weight @ q.T)
                runs[name, kind] = train.train(model, models.optimizers(name, model, 0.05 if name == "SGD" else 3e-3),
                                               task, epochs=3, seed=0)
    sgd = [abs(a - b) / a for a, b in zip(runs["SGD", "original"].losses, runs["SGD", "rotated"].losses, strict=True)]
    adam = [abs(a - b) / a for a, b in zip(runs["Adam", "original"].losses, runs["Adam", "rotated"].losses, strict=True)]
    assert max(sgd) < 1e-4  # the same trajectory
    assert max(adam) > 100 * max(sgd) and max(adam) > 1e-3  # a diagonal P sees the rotation


def test_invariance_experiment_sign(small):
    """Experiment 3 at a tiny size (2 layers of 16 units, 3 epochs, 3 seeds, 3-lr grids): rescaling the
    inputs hurts SGD; rotating the rescaled inputs adds nothing for SGD (measured: -0.09..+0.07
    decades with each seed alone) and hurts Adam (+0.24..+0.33)."""
    inv = experiments.invariance(names=("SGD", "Adam"), kinds=("original", "rescaled", "rescaled+rotated"),
                                 task=small, depth=2, width=16, epochs=3, seeds=(0, 1, 2),
                                 grids={"SGD": [0.1, 0.316, 1.0], "Adam": [3e-3, 1e-2, 3e-2]})
    extra = {n: inv.harm("rescaled+rotated", n) - inv.harm("rescaled", n) for n in ("SGD", "Adam")}
    assert inv.harm("rescaled", "SGD") > 0.2
    assert abs(extra["SGD"]) < 0.15
    assert extra["Adam"] > 0.15 and extra["Adam"] > extra["SGD"] + 0.15
    numbers = inv.numbers()
    assert numbers["adam_rescaled_rotated_harm"] == pytest.approx(inv.harm("rescaled+rotated", "Adam"))
    assert set(inv.results) == {"original", "rescaled", "rescaled+rotated"}
    with pytest.raises(ValueError, match="must include 'original'"):
        experiments.invariance(kinds=("rescaled",), task=small)


def test_stable_rank_and_frequency_groups():
    assert experiments.stable_rank(torch.outer(torch.arange(1.0, 5), torch.ones(3))) == pytest.approx(1.0)
    assert experiments.stable_rank(torch.eye(6)) == pytest.approx(6.0)
    groups = experiments.frequency_groups(torch.tensor([5, 1, 9, 3, 3]), 2)
    assert groups == [[2, 0], [3, 4, 1]] or groups == [[2, 0, 3], [4, 1]]
    assert sorted(sum(groups, [])) == list(range(5))
    with pytest.raises(ValueError, match="n_groups must be between 1"):
        experiments.frequency_groups(torch.tensor([1, 2]), 3)


def test_deep_mlp_comparison_shapes(small):
    grids = {name: [1e-3, 1e-2, 1e-1] for name in ("SGD", "Muon")}
    result = experiments.deep_mlp(names=("SGD", "Muon"), depth=4, width=8, epochs=2, seeds=(0, 1), grids=grids,
                                  task=small, tune=lambda run_at, grid, **kw: train.Tuning("x", grid[1], {}))
    rows = result.table()
    assert [r["optimizer"] for r in rows] == ["SGD", "Muon"]
    assert all(r["seeds"] == 2 and r["lr"] == 1e-2 and 0 <= r["accuracy_min"] <= r["accuracy_max"] <= 1 for r in rows)
    assert all(len(run.losses) == 3 for runs in result.runs.values() for run in runs)
    numbers = result.numbers()
    assert numbers["muon_lr"] == 1e-2 and numbers["seeds"] == 2 and 0 <= numbers["sgd_acc"] <= 100
    assert all(isinstance(v, int | float) and math.isfinite(v) for v in numbers.values())
    with pytest.raises(ValueError, match="depth must be at least 3"):
        experiments.deep_mlp(depth=2, task=small)


def test_preconditioner_views_shapes_and_eps_floor(small):
    views = experiments.preconditioner_views(depth=4, width=8, epochs=1, batch_size=64, snapshots=(1, 5), layer=1,
                                             task=small)
    assert views.steps == [1, 5] and len(views.adam_log_step) == 2
    assert [t.shape for t in views.adam_log_step[0]] == [(8, 64), (8, 8), (8, 8), (10, 8)]
    # pixels that are 0 in every training image give first-layer weights a zero gradient forever: P sits at 1/ε
    constant = (small.x_train == 0).all(0).double().mean().item()
    assert constant > 0 and views.floor_fraction[-1][0] >= constant
    assert views.adam_log_step[-1][0].max().item() == pytest.approx(math.log10(views.lr_adam / views.eps), abs=1e-4)
    for name in ("Adam", "Muon", "gradient"):
        assert len(views.spectra[name]) == 2 and len(views.spectra[name][0]) == 8
        assert all(1 - 1e-9 <= r <= 8 + 1e-9 for r in views.stable_ranks[name])
    assert set(views.numbers()) >= {"stable_rank_muon", "stable_rank_adam", "floor_first_layer"}
    with pytest.raises(ValueError, match="must name a hidden Linear layer"):
        experiments.preconditioner_views(depth=4, layer=3, task=small)
    with pytest.raises(ValueError, match="fewer steps than the last snapshot"):
        experiments.preconditioner_views(depth=4, width=8, epochs=1, snapshots=(1, 10**6), layer=1, task=small)


def test_imbalance_groups_and_shapes():
    result = experiments.imbalance(names=("SGD", "Adam"), n_classes=12, n_features=6, n_train=300, width=8,
                                   epochs=2, seeds=(0,), n_groups=3, grids={"SGD": [0.01, 0.1, 1], "Adam": [1e-3, 1e-2, 1e-1]})
    assert len(result.groups) == 3 and sorted(sum(result.groups, [])) == list(range(12))
    counts = data.heavy_tailed(n_classes=12, n_features=6, n_train=300).class_counts()
    assert min(counts[k] for k in result.groups[0]) >= max(counts[k] for k in result.groups[-1])
    curves = result.group_losses("Adam")
    assert len(curves) == 3 and all(len(c) == 3 for c in curves)
    assert {"adam_rare_loss", "sgd_frequent_loss"} <= set(result.numbers())


# ------------------------------------------------------------------------------- the batched engine

# lrs for the equality checks: well inside every optimizer's stable range on the small task, where
# 18 steps do not amplify rounding (measured worst relative loss difference over 3 epochs, member vs
# alone: SGD, momentum, Adam, AdamW 3e-9; Muon 3.4e-6; the tolerances below leave 30x margin)
_EQUAL_LRS = {"SGD": 0.1, "Momentum": 0.03, "Adam": 3e-3, "AdamW": 3e-3, "Muon": 3e-3}


@pytest.mark.parametrize("name", list(_EQUAL_LRS))
def test_a_batched_member_equals_the_model_trained_alone(small, name):
    """train_many's member k is models.mlp(seed_k) + models.optimizers(name, lr_k) trained by the reader's
    loop train.train: the same initial loss bit for bit, then equal losses to a measured tolerance (the
    batched products sum in another order than the single ones; Muon's bfloat16 Newton-Schulz turns
    such last-bit differences into bfloat16 rounding flips), the same test accuracy."""
    lr = _EQUAL_LRS[name]
    lrs, seeds = [lr, lr / 3, 2 * lr], [0, 1, 2]
    with train.quiet_cpu():
        members = batched.train_many(name, small, lrs, seeds, width=16, depth=4, epochs=3)
        alone = [_run(small, name, lr_, seed=s, epochs=3, depth=4) for lr_, s in zip(lrs, seeds, strict=True)]
    tolerance = 1e-4 if name == "Muon" else 1e-7
    for member, single in zip(members, alone, strict=True):
        assert (member.optimizer, member.lr, member.seed) == (single.optimizer, single.lr, single.seed)
        assert member.losses[0] == single.losses[0]
        assert member.losses == pytest.approx(single.losses, rel=tolerance)
        assert member.test_accuracy == single.test_accuracy and not member.diverged
        assert member.test_loss == pytest.approx(single.test_loss, rel=100 * tolerance)
    assert members[0].losses != members[1].losses  # the members are different runs


@pytest.mark.parametrize("name", ["SGD", "Adam", "Muon"])
def test_batched_members_never_mix(small, name):
    """A member's run is bit for bit the same alone or beside others, even beside one that diverges."""
    with train.quiet_cpu():
        (alone,) = batched.train_many(name, small, [_EQUAL_LRS[name]], [0], width=16, depth=4, epochs=2)
        beside = batched.train_many(name, small, [_EQUAL_LRS[name], 1e6, _EQUAL_LRS[name]], [0, 1, 1],
                                    width=16, depth=4, epochs=2)
    assert beside[0].losses == alone.losses and beside[0].test_accuracy == alone.test_accuracy
    assert beside[2].losses != alone.losses  # seed 1: another model and order
    if name != "Adam":  # Adam's normalized step stays finite even at lr 1e6
        assert beside[1].diverged and math.isnan(beside[1].losses[-1]) and len(beside[1].losses) == 3


def test_batched_per_class_losses_match_the_single_run(small):
    with train.quiet_cpu():
        (member,) = batched.train_many("Adam", small, [3e-3], [0], width=16, depth=4, epochs=2, per_class=True)
        single = _run(small, "Adam", 3e-3, depth=4, per_class=True)
    assert len(member.class_losses) == 3
    for a, b in zip(member.class_losses, single.class_losses, strict=True):
        assert a == pytest.approx(b, rel=1e-7)


def test_muon_core_on_a_stack_is_torchs_muon_matrix_by_matrix():
    """train_many's Muon is the package's core on a stack of matrices: ``muon_orthogonalize`` of a stack
    (exact: torch's bfloat16 batched products, bit for bit matrix by matrix; the default of train_many,
    exact=False: float32 sums rounded once per product, a few entries off), and ``muon_update`` on a
    (K, L, A, B) stack with one lr per member, exact, bit for bit torch.optim.Muon on each matrix."""
    from optimessay.optimizers.muon import muon_init_state, muon_orthogonalize, muon_update

    g = torch.Generator().manual_seed(0)
    for shape in ((6, 16, 16), (4, 24, 8), (2, 3, 8, 8)):  # square, tall (worked on the transpose), 2 batch dims
        grads = torch.randn(*shape, generator=g)
        each = torch.stack([muon_orthogonalize(m) for m in grads.reshape(-1, *shape[-2:])]).view(shape)
        exact = muon_orthogonalize(grads)
        fast = muon_orthogonalize(grads, exact=False)
        assert exact.dtype == fast.dtype == torch.bfloat16 and exact.shape == grads.shape
        assert torch.equal(exact, each)  # torch's bfloat16 products, batched: bit for bit
        # float32 sums rounded to bfloat16 once per product: a few entries one or two bfloat16 units off
        # (measured on 32x32: 96% of the final entries equal, largest difference 2^-7 at entries near 1)
        assert (fast.float() - each.float()).abs().max() <= 2**-6
        assert (fast == each).float().mean() > 0.9
    lrs, K, L = [0.02, 0.005, 0.1], 3, 2
    stack = torch.randn(K, L, 6, 4, generator=g)
    singles = [[stack[k, i].clone().requires_grad_() for i in range(L)] for k in range(K)]
    opts = [torch.optim.Muon(singles[k], lr=lrs[k], adjust_lr_fn="match_rms_adamw") for k in range(K)]
    state = muon_init_state(stack)
    for _ in range(3):
        grad = torch.randn(K, L, 6, 4, generator=g)
        muon_update(stack, grad, state, lr=torch.tensor(lrs, dtype=torch.float64).view(K, 1, 1, 1),
                    adjust_lr_fn="match_rms_adamw")
        for k in range(K):
            for i in range(L):
                singles[k][i].grad = grad[k, i].clone()
            opts[k].step()
    assert torch.equal(stack, torch.stack([torch.stack([p.detach() for p in ps]) for ps in singles]))


def test_train_many_and_compare_reject_bad_input(small):
    with pytest.raises(ValueError, match="one seed per lr"):
        batched.train_many("SGD", small, [0.1, 0.2], [0], width=4, depth=3, epochs=1)
    with pytest.raises(ValueError, match="every lr must be > 0"):
        batched.train_many("SGD", small, [0.0], [0], width=4, depth=3, epochs=1)
    with pytest.raises(ValueError, match="optimizer name must be one of"):
        batched.train_many("Lion", small, [0.1], [0], width=4, depth=3, epochs=1)
    with pytest.raises(ValueError, match="at least one hidden weight matrix"):
        batched.train_many("Muon", small, [0.1], [0], width=4, depth=2, epochs=1)
    with pytest.raises(ValueError, match="engine must be 'batched' or 'single'"):
        experiments.compare(small, ["SGD"], width=4, depth=3, epochs=1, batch_size=64, seeds=[0], engine="gpu")


def test_compare_tunes_the_same_with_either_engine(small):
    """The figure build's engine (batched) and the reader's loop (single) pick the same lrs over three
    seeds and report the same runs, to the tolerance of the member test."""
    kw = dict(names=("SGD", "Adam"), depth=3, width=8, epochs=2, seeds=(0, 1, 2), task=small,
              grids={"SGD": [0.1, 0.316, 1.0], "Adam": [3e-3, 1e-2, 3e-2]})
    fast = experiments.deep_mlp(engine="batched", **kw)
    slow = experiments.deep_mlp(engine="single", **kw)
    for name in ("SGD", "Adam"):
        assert fast.tunings[name].lr == slow.tunings[name].lr
        assert fast.tunings[name].scores == pytest.approx(slow.tunings[name].scores, rel=1e-6)
        assert [r.seed for r in fast.runs[name]] == [0, 1, 2]
        for a, b in zip(fast.runs[name], slow.runs[name], strict=True):
            assert a.losses == pytest.approx(b.losses, rel=1e-7) and a.lr == b.lr == fast.tunings[name].lr
