"""`make vectors`: export float64 test vectors from optimessay for the playground's JavaScript.

The playground (docs/playground/*.js) re-implements the update rules, schedulers and landscapes in
the browser. This script runs the Python package on many configurations (every optimizer and
option, several landscapes, every scheduler the playground offers) and writes what it computed to
tests/vectors/playground.json:

- ``landscapes``: each landscape's window, minima, start, log-scale flag, and f and ∇f at sample
  points (∇f by autograd, as the walks use it);
- ``trajectories``: for each configuration, the points, losses, lrs and preconditioners of
  ``optimessay.trajectory.run``;
- ``palette``: the colours of optimessay.style, so the playground's paths match the figures.

tests/js/vectors.test.mjs replays every configuration in JavaScript and checks every number to 1e-9
relative; tests/test_vectors.py recomputes this file from the package and asserts it is unchanged, so
the tests fail when the package and the committed vectors disagree. The output is deterministic
(fixed configurations, seeded sample points) and written atomically (temporary file, then rename).

    .venv/bin/python scripts/export_vectors.py [--out tests/vectors/playground.json] [--palette-only]

``--palette-only`` rewrites only the file's ``palette`` line (optimessay.style changed, nothing a
walk computes did): the trajectories stay those of the machine that last exported them.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from optimessay import landscapes, style, trajectory  # noqa: E402
from optimessay.files import write_atomic  # noqa: E402
from optimessay.optimizers import SGD, Adagrad, Adam, AdamW, RMSprop  # noqa: E402
from optimessay.optimizers.adadelta import Adadelta  # noqa: E402
from optimessay.optimizers.adafactor import Adafactor  # noqa: E402
from optimessay.optimizers.adamax import Adamax  # noqa: E402
from optimessay.optimizers.asgd import ASGD  # noqa: E402
from optimessay.optimizers.nadam import NAdam  # noqa: E402
from optimessay.optimizers.radam import RAdam  # noqa: E402
from optimessay.optimizers.rprop import Rprop  # noqa: E402
from optimessay.schedulers import (  # noqa: E402
    CosineAnnealingLR,
    ExponentialLR,
    LinearLR,
    MultiStepLR,
    SequentialLR,
    StepLR,
)

OUT = ROOT / "tests" / "vectors" / "playground.json"
SAMPLES_PER_LANDSCAPE = 40

# --- how the playground's names map onto the package -----------------------------------------------

class WarmupCosineLR(SequentialLR):
    """The playground's "warmup + cosine": LinearLR from ``start_factor`` to 1 over ``warmup`` steps,
    then CosineAnnealingLR(T_max, eta_min), as one SequentialLR with the milestone at ``warmup``."""

    def __init__(self, optimizer, start_factor, warmup, T_max, eta_min=0.0):
        super().__init__(
            optimizer,
            [
                LinearLR(optimizer, start_factor=start_factor, end_factor=1.0, total_iters=warmup),
                CosineAnnealingLR(optimizer, T_max=T_max, eta_min=eta_min),
            ],
            milestones=[warmup],
        )


OPTIMIZERS = {
    "sgd": SGD,
    "rmsprop": RMSprop,
    "adam": Adam,
    "adamw": AdamW,
    "adagrad": Adagrad,
    "nadam": NAdam,
    "radam": RAdam,
    "adamax": Adamax,
    "adadelta": Adadelta,
    "rprop": Rprop,
    "asgd": ASGD,
    "adafactor": Adafactor,
}
SCHEDULERS = {
    "none": None,
    "step": StepLR,
    "multistep": MultiStepLR,
    "exponential": ExponentialLR,
    "cosine": CosineAnnealingLR,
    "warmup": LinearLR,
    "warmup-cosine": WarmupCosineLR,
}


# the playground's flat names of the classes' pair arguments, and the pairs' torch defaults
PAIRS = {
    "betas": (("beta1", "beta2"), (0.9, 0.999)),
    "etas": (("etaminus", "etaplus"), (0.5, 1.2)),
    "step_sizes": (("step_size_min", "step_size_max"), (1e-6, 50)),
}


def optimizer_kwargs(kind: str, hp: dict) -> dict:
    """The playground's flat hyperparameters as the optimizer's keyword arguments (beta1, beta2 ->
    betas; etaminus, etaplus -> etas; step_size_min, step_size_max -> step_sizes; Adafactor's eps2 ->
    eps=(None, eps2): eps1 stays torch's default, the dtype's machine epsilon)."""
    kwargs = dict(hp)
    for pair, ((first, second), (d1, d2)) in PAIRS.items():
        if first in hp or second in hp:
            kwargs.pop(first, None)
            kwargs.pop(second, None)
            kwargs[pair] = (float(hp.get(first, d1)), float(hp.get(second, d2)))
    if kind == "adafactor" and "eps2" in hp:
        kwargs["eps"] = (None, float(kwargs.pop("eps2")))
    return kwargs


def landscape_of(spec: dict) -> landscapes.Landscape:
    return landscapes.get(spec["name"], **spec.get("params", {}))


# --- the configurations -------------------------------------------------------------------------------

BANANA = {"name": "rosenbrock"}
SEED_START = [-1.5, 2.5]


def _walk(land, kind, hp, *, start=None, steps=100, scheduler="none", scheduler_params=None):
    return {
        "landscape": land,
        "optimizer": kind,
        "hyperparameters": hp,
        "scheduler": scheduler,
        "scheduler_params": scheduler_params or {},
        "start": start,
        "steps": steps,
    }


def configurations() -> list[dict]:
    """Every walk the vectors hold: each optimizer and option, several landscapes, every scheduler."""
    seed_sgd = {"lr": 1e-3, "momentum": 0.98}
    walks = [
        # SGD: plain, heavy ball, Nesterov, dampening, weight decay (banana, the seed's start)
        _walk(BANANA, "sgd", {"lr": 1e-3}, start=SEED_START, steps=200),
        _walk(BANANA, "sgd", seed_sgd, start=SEED_START),
        _walk(BANANA, "sgd", {"lr": 5e-4, "momentum": 0.9, "nesterov": True}, start=SEED_START, steps=200),
        _walk(BANANA, "sgd", {"lr": 1e-3, "momentum": 0.9, "dampening": 0.5, "weight_decay": 0.01}, start=SEED_START),
        _walk(BANANA, "sgd", {"lr": 1e-3, "momentum": 0.5, "nesterov": True, "weight_decay": 0.1}, start=SEED_START),
        # RMSprop: the seed's alpha and momentum sweeps, defaults, centered, weight decay, eps
        *[
            _walk(BANANA, "rmsprop", {"lr": 0.01, "alpha": a, "momentum": 0.9}, start=SEED_START)
            for a in (0.8, 0.5, 0.2, 0.05)
        ],
        # (60 steps, not the seed's 160: from about step 80 on these walks amplify rounding, so that one
        # sqrt rounded 1 ulp differently by another CPU moves their end by up to 4e-7 of the window: a test
        # of the CPU, not of the update rule; up to step 60 the largest such change is 3e-14, see
        # tests/test_vectors.py)
        *[
            _walk(BANANA, "rmsprop", {"lr": 0.01, "alpha": 0.5, "momentum": m}, start=SEED_START, steps=60)
            for m in (0.9, 0.7, 0.5, 0.3)
        ],
        _walk(BANANA, "rmsprop", {"lr": 0.01}, start=SEED_START),
        _walk(BANANA, "rmsprop", {"lr": 0.003, "centered": True, "momentum": 0.5}, start=SEED_START),
        _walk(BANANA, "rmsprop", {"lr": 0.01, "weight_decay": 0.1, "eps": 1e-3}, start=SEED_START),
        # Adam / AdamW: defaults, betas, eps, coupled and decoupled weight decay, AMSGrad
        _walk(BANANA, "adam", {"lr": 0.05}, start=SEED_START, steps=200),
        _walk(BANANA, "adam", {"lr": 0.02, "beta1": 0.5, "beta2": 0.9, "eps": 1e-3}, start=SEED_START),
        _walk(BANANA, "adam", {"lr": 0.05, "weight_decay": 0.1}, start=SEED_START),
        _walk(BANANA, "adam", {"lr": 0.05, "amsgrad": True}, start=SEED_START),
        _walk(BANANA, "adamw", {"lr": 0.05}, start=SEED_START),
        _walk(BANANA, "adamw", {"lr": 0.05, "weight_decay": 0.5, "amsgrad": True}, start=SEED_START),
        # Adagrad: defaults, lr decay, weight decay, initial accumulator, eps
        _walk(BANANA, "adagrad", {"lr": 0.5}, start=SEED_START),
        _walk(BANANA, "adagrad", {"lr": 0.5, "lr_decay": 0.01, "weight_decay": 0.01,
                                  "initial_accumulator_value": 0.1, "eps": 1e-6}, start=SEED_START),
        # schedulers: the seed's three, cosine (past T_max: the restart branch), warmup, repeated milestones
        _walk(BANANA, "sgd", seed_sgd, start=SEED_START, scheduler="exponential", scheduler_params={"gamma": 0.99}),
        _walk(BANANA, "sgd", seed_sgd, start=SEED_START, scheduler="step",
              scheduler_params={"step_size": 4, "gamma": 0.99}),
        _walk(BANANA, "sgd", seed_sgd, start=SEED_START, scheduler="multistep",
              scheduler_params={"milestones": [20, 40, 50, 70], "gamma": 0.9}),
        _walk(BANANA, "sgd", {"lr": 1e-3, "momentum": 0.9}, start=SEED_START, steps=150, scheduler="cosine",
              scheduler_params={"T_max": 50, "eta_min": 1e-4}),
        _walk(BANANA, "adam", {"lr": 0.05}, start=SEED_START, steps=120, scheduler="cosine",
              scheduler_params={"T_max": 100, "eta_min": 0.0}),
        _walk(BANANA, "rmsprop", {"lr": 0.01}, start=SEED_START, scheduler="warmup",
              scheduler_params={"start_factor": 0.1, "end_factor": 1.0, "total_iters": 20}),
        _walk(BANANA, "adagrad", {"lr": 0.5}, start=SEED_START, scheduler="warmup",
              scheduler_params={"start_factor": 0.25, "end_factor": 0.5, "total_iters": 30}),
        _walk(BANANA, "adamw", {"lr": 0.05}, start=SEED_START, scheduler="multistep",
              scheduler_params={"milestones": [10, 10, 30], "gamma": 0.5}),
        _walk(BANANA, "adam", {"lr": 0.05}, start=SEED_START, steps=150, scheduler="warmup-cosine",
              scheduler_params={"start_factor": 0.1, "warmup": 20, "T_max": 100}),
        _walk(BANANA, "sgd", {"lr": 1e-3, "momentum": 0.9}, start=SEED_START, steps=120, scheduler="warmup-cosine",
              scheduler_params={"start_factor": 0.5, "warmup": 10, "T_max": 40, "eta_min": 1e-4}),
        # the other landscapes (each from its default start unless stated)
        _walk({"name": "quadratic", "params": {"kappa": 10.0, "theta": 0.0}}, "sgd", {"lr": 0.15}),
        _walk({"name": "quadratic", "params": {"kappa": 10.0, "theta": 0.0}}, "sgd", {"lr": 0.05, "momentum": 0.8}),
        _walk({"name": "quadratic", "params": {"kappa": 50.0, "theta": math.pi / 6}}, "sgd",
              {"lr": 0.02, "momentum": 0.9, "nesterov": True}),
        _walk({"name": "quadratic", "params": {"kappa": 50.0, "theta": math.pi / 6}}, "rmsprop", {"lr": 0.01}),
        _walk({"name": "quadratic", "params": {"kappa": 100.0, "theta": math.pi / 4}}, "adam", {"lr": 0.05}),
        _walk({"name": "quadratic", "params": {"kappa": 100.0, "theta": math.pi / 4}}, "adagrad", {"lr": 0.3}),
        _walk({"name": "himmelblau"}, "sgd", {"lr": 0.01}),
        _walk({"name": "himmelblau"}, "adam", {"lr": 0.1}, start=[-0.5, -0.5]),
        _walk({"name": "himmelblau"}, "rmsprop", {"lr": 0.02, "momentum": 0.5}, start=[1.0, -3.0]),
        _walk({"name": "saddle"}, "sgd", {"lr": 0.05}, steps=150),
        _walk({"name": "saddle"}, "adam", {"lr": 0.05}),
        _walk({"name": "saddle"}, "adagrad", {"lr": 0.2}, start=[1.0, -0.01]),
        _walk({"name": "beale"}, "adam", {"lr": 0.01}, steps=300),
        _walk({"name": "beale"}, "sgd", {"lr": 1e-3, "momentum": 0.9}),
        _walk({"name": "beale"}, "rmsprop", {"lr": 0.003, "alpha": 0.9}),
        _walk({"name": "rastrigin"}, "sgd", {"lr": 1e-3}),
        _walk({"name": "rastrigin"}, "adam", {"lr": 0.05}),
        _walk({"name": "rastrigin", "params": {"A": 3.0}}, "sgd", {"lr": 2e-3, "momentum": 0.9}),
        _walk({"name": "valley"}, "sgd", {"lr": 0.05, "momentum": 0.9}),
        _walk({"name": "valley"}, "adam", {"lr": 0.05}),
        _walk({"name": "rosenbrock", "params": {"a": 0.5, "b": 20.0}}, "adamw", {"lr": 0.02, "weight_decay": 0.1},
              start=[-1.0, 1.0]),
        # the elementwise optimizers of issue 11 (non-chaotic walks: the banana at moderate lrs, the quadratic)
        _walk(BANANA, "nadam", {"lr": 0.02}, start=SEED_START, steps=150),
        _walk(BANANA, "nadam", {"lr": 0.01, "beta1": 0.8, "momentum_decay": 0.01, "weight_decay": 0.01,
                                "decoupled_weight_decay": True}, start=SEED_START, steps=100),
        _walk(BANANA, "radam", {"lr": 1e-3}, start=SEED_START, steps=150),  # (0.02: its first steps, P = I, leave the banana)
        _walk({"name": "quadratic", "params": {"kappa": 10.0, "theta": 0.0}}, "radam",
              {"lr": 0.05, "beta2": 0.99, "weight_decay": 0.01}, steps=100),
        _walk(BANANA, "adamax", {"lr": 0.02}, start=SEED_START, steps=150),
        _walk({"name": "quadratic", "params": {"kappa": 50.0, "theta": math.pi / 6}}, "adamax",
              {"lr": 0.05, "beta1": 0.5, "weight_decay": 0.01}, steps=100),
        _walk(BANANA, "adadelta", {"lr": 1.0}, start=SEED_START, steps=150),
        _walk({"name": "quadratic", "params": {"kappa": 10.0, "theta": 0.0}}, "adadelta",
              {"lr": 2.0, "rho": 0.95, "eps": 1e-4, "weight_decay": 0.01}, steps=100),
        _walk(BANANA, "rprop", {"lr": 0.01}, start=SEED_START, steps=150),
        _walk({"name": "quadratic", "params": {"kappa": 10.0, "theta": 0.0}}, "rprop",
              {"lr": 0.05, "etaminus": 0.3, "etaplus": 1.1, "step_size_max": 1.0}, steps=100),
        _walk(BANANA, "asgd", {"lr": 1e-3}, start=SEED_START, steps=150),
        _walk({"name": "quadratic", "params": {"kappa": 10.0, "theta": 0.0}}, "asgd",
              {"lr": 0.05, "lambd": 0.01, "alpha": 0.5, "t0": 50.0, "weight_decay": 0.01}, steps=100),
        _walk(BANANA, "adafactor", {"lr": 0.05}, start=SEED_START, steps=150),
        _walk({"name": "quadratic", "params": {"kappa": 10.0, "theta": 0.0}}, "adafactor",
              {"lr": 0.1, "beta2_decay": -0.5, "eps2": 1e-2, "d": 2.0, "weight_decay": 0.01}, steps=100),
        # long walks: the playground's 500 steps
        _walk(BANANA, "adam", {"lr": 0.02}, start=SEED_START, steps=500),
        _walk(BANANA, "sgd", {"lr": 1e-3, "momentum": 0.9, "nesterov": True}, start=SEED_START, steps=500),
    ]
    for i, w in enumerate(walks):
        w["id"] = f"{i:02d}-{w['landscape']['name']}-{w['optimizer']}" + (
            f"-{w['scheduler']}" if w["scheduler"] != "none" else ""
        )
    return walks


# --- computing -------------------------------------------------------------------------------------------


def _floats(t: torch.Tensor) -> list:
    return t.detach().to(torch.float64).tolist()


def walk(config: dict) -> dict:
    """Run one configuration through optimessay.trajectory.run (float64); return it with its results."""
    land = landscape_of(config["landscape"])
    start = config["start"] if config["start"] is not None else list(land.start)
    scheduler = SCHEDULERS[config["scheduler"]]
    traj = trajectory.run(
        land,
        OPTIMIZERS[config["optimizer"]],
        optimizer_kwargs(config["optimizer"], config["hyperparameters"]),
        start=tuple(start),
        steps=config["steps"],
        scheduler_class=scheduler,
        scheduler_kwargs=dict(config["scheduler_params"]) if scheduler else None,
        dtype=torch.float64,
    )
    out = dict(config, start=[float(v) for v in start])
    out["points"] = _floats(traj.points)
    out["losses"] = _floats(traj.losses)
    out["lrs"] = _floats(traj.lrs)
    out["preconditioners"] = _floats(traj.preconditioners)
    numbers = [*sum(out["points"], []), *out["losses"], *out["lrs"], *sum(out["preconditioners"], [])]
    if not all(math.isfinite(v) for v in numbers):
        raise ValueError(f"configuration {config['id']} leaves the finite numbers: choose a smaller lr")
    return out


def landscape_record(spec: dict) -> dict:
    """A landscape's metadata and f, ∇f (autograd, float64) at seeded sample points in its window."""
    land = landscape_of(spec)
    rng = random.Random(f"{land.name}-{sorted(spec.get('params', {}).items())}")
    pts = [
        (rng.uniform(*land.x_range), rng.uniform(*land.y_range)) for _ in range(SAMPLES_PER_LANDSCAPE)
    ] + [tuple(land.start), *land.minima]
    points = torch.tensor(pts, dtype=torch.float64)
    values, grads = land.loss(points), land.gradient(points)
    return {
        "name": land.name,
        "params": spec.get("params", {}),
        "title": land.title,
        "x_range": list(land.x_range),
        "y_range": list(land.y_range),
        "minima": [list(m) for m in land.minima],
        "log_scale": land.log_scale,
        "start": list(land.start),
        "expression": land.expression,
        "samples": [[x, y, f, gx, gy] for (x, y), f, (gx, gy) in zip(pts, _floats(values), _floats(grads), strict=True)],
    }


LANDSCAPE_SPECS = [
    {"name": "rosenbrock"},
    {"name": "rosenbrock", "params": {"a": 0.5, "b": 20.0}},
    {"name": "beale"},
    {"name": "himmelblau"},
    {"name": "quadratic", "params": {"kappa": 10.0, "theta": 0.0}},
    {"name": "quadratic", "params": {"kappa": 50.0, "theta": math.pi / 6}},
    {"name": "quadratic", "params": {"kappa": 100.0, "theta": math.pi / 4}},
    {"name": "saddle"},
    {"name": "rastrigin"},
    {"name": "rastrigin", "params": {"A": 3.0}},
    {"name": "valley"},
]

# every optimizer the playground draws (docs/playground/palette.js mirrors these colours)
PALETTE_NAMES = ["sgd", "momentum", "nesterov", "rmsprop", "adam", "adamw", "adagrad",
                 "nadam", "radam", "adamax", "adadelta", "rprop", "asgd", "adafactor"]


def palette() -> dict:
    return {
        "optimizers": {name: style.color(name) for name in PALETTE_NAMES},
        "shades": {f"{name}-{n}": style.shades(name, n) for name in ("sgd", "rmsprop") for n in (2, 4, 10)},
        "background": style.BACKGROUND,
        "ink": style.INK,
        "minimum": style.MINIMUM_COLOR,
        # the figures' dark variant (Material's slate palette): the playground draws with these there
        "dark": {
            "optimizers": {name: style.dark_color(style.color(name)) for name in PALETTE_NAMES},
            "background": style.DARK_BACKGROUND,
            "ink": style.DARK_INK,
            "minimum": style.dark_color(style.MINIMUM_COLOR),
        },
    }


def build(progress: bool = False) -> dict:
    """Everything the vectors file holds (deterministic)."""
    configs = configurations()
    if progress:
        from tqdm import tqdm

        configs = tqdm(configs, desc="trajectories", unit="walk")
    return {
        "about": "Exported by scripts/export_vectors.py from optimessay (float64); do not edit by hand.",
        "torch": torch.__version__.split("+")[0],
        "palette": palette(),
        "landscapes": [landscape_record(s) for s in LANDSCAPE_SPECS],
        "trajectories": [walk(c) for c in configs],
    }


def dumps(data: dict) -> str:
    """The file's text: one landscape or trajectory per line (readable diffs); floats round-trip (repr)."""

    def one(value) -> str:
        return json.dumps(value, allow_nan=False, sort_keys=True, separators=(",", ":"))

    lines = ["{"]
    for i, (key, value) in enumerate(data.items()):
        comma = "," if i < len(data) - 1 else ""
        if isinstance(value, list):
            items = ",\n  ".join(one(v) for v in value)
            lines.append(f" {one(key)}: [\n  {items}\n ]{comma}")
        else:
            lines.append(f" {one(key)}: {one(value)}{comma}")
    lines.append("}")
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT, help=f"output file (default {OUT.relative_to(ROOT)})")
    parser.add_argument("--palette-only", action="store_true",
                        help="rewrite only the palette of an existing file (the style changed, no update rule did)")
    args = parser.parse_args(argv)
    if args.palette_only:
        data = json.loads(args.out.read_text(encoding="utf-8"))
        data["palette"] = palette()
        write_atomic(args.out, dumps(data))
        print(f"wrote the palette of {args.out} ({len(data['palette']['optimizers'])} optimizers)")
        return 0
    data = build(progress=True)
    write_atomic(args.out, dumps(data))
    n = len(data["trajectories"])
    print(f"wrote {args.out} ({n} trajectories, {len(data['landscapes'])} landscapes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
