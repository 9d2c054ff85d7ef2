"""The Python side of tests/browser/test_playground.py: optimessay's walks of a playground state.

A playground state (the JSON of `oePlayground.state`) names a landscape, a start, a number of steps
and its runs (an optimizer kind, its hyperparameters, a schedule). For each enabled run the test
needs five float64 walks: the walk itself, the walk from a start 1 ulp off in x and in y, and the walk
with a simulated sqrt (tests/conftest.py, seeds 1 and 2); they measure where comparing with the
JavaScript is a test of the update rule (see test_playground.py's docstring).

Cost: `optimessay.sweep.run` walks a run's three starts as one batch, and each simulated-sqrt walk
alone, instead of five `trajectory.run` calls (each a torch.optim step with autograd per step). The
sweep calls the optimizer's own functional core, the one the class calls: each walk equals
`trajectory.run` of its configuration alone (tests/test_sweep.py), and here bit for bit, because no
hyperparameter varies across the walks of one sweep (only the start); under the simulated sqrt too,
since the simulation chooses what to misround element by element from the input's bits, whatever
the batch. Checked bit for bit against `python_walk` (trajectory.run) on every state
test_playground.py compares: `reference_walks` and `lone_walks` below.

A state's walks are computed once per session (`python_side` caches them on the state's JSON and on
which CPU `other_cpu` simulates): a test that reaches a state another test already compared reuses it.
"""

from __future__ import annotations

import json
import math

import torch
from site_helpers import load_script

from optimessay import landscapes, sweep, trajectory

export_vectors = load_script("export_vectors")

RTOL = 1e-9
# a step is compared while a walk started 1 ulp off (or with a simulated sqrt) stays within this much of
# the window: 100x below the comparison's floor (RTOL x 1 % of the window), because JS and Python
# differ by more than one such rounding (with ATEN_CPU_CAPABILITY=default, torch fuses no multiply-add
# that the JS emulates: a difference at every step; measured: a walk whose 1-ulp spread was 4e-11 of
# the window at step 190 was 1.5e-10 from the JS there)
SENSITIVITY = RTOL * 0.01 / 100
SQRT_SEEDS = (1, 2)  # the simulated sqrts a walk is recomputed with (1 ulp high on half of its inputs)
KINDS = {  # the playground's toggles -> optimessay classes and their fixed options
    "sgd": ("sgd", {}),
    "momentum": ("sgd", {}),
    "nesterov": ("sgd", {"nesterov": True}),
    "rmsprop": ("rmsprop", {}),
    "adam": ("adam", {}),
    "adamw": ("adamw", {}),
    "adagrad": ("adagrad", {}),
}


def landscape(state: dict):
    params = {}
    if state["landscape"] == "quadratic":
        params = {"kappa": float(state["kappa"]), "theta": math.radians(state["theta"])}
    return landscapes.get(state["landscape"], **params)


def window(state: dict) -> float:
    """The larger side of the landscape's window: the scale of a walk's coordinates."""
    land = landscape(state)
    return max(land.x_range[1] - land.x_range[0], land.y_range[1] - land.y_range[0])


def run_config(r: dict) -> dict:
    """Run `r` of a playground state as optimessay's class, keyword arguments and scheduler."""
    kind, fixed = KINDS[r["kind"]]
    hp = dict(r["hp"], **fixed)
    if r["kind"] == "sgd":
        hp.pop("momentum", None)
    scheduler = export_vectors.SCHEDULERS[r["sched"]["kind"]]
    return {
        "optimizer_class": export_vectors.OPTIMIZERS[kind],
        "optimizer_kwargs": export_vectors.optimizer_kwargs(kind, hp),
        "scheduler_class": scheduler,
        "scheduler_kwargs": dict(r["sched"]["params"]) if scheduler else None,
    }


def nudged_starts(state: dict) -> list[tuple[float, float]]:
    """The start, then the start moved 1 ulp up in x, then 1 ulp down in y."""
    x, y = state["start"]
    return [(x, y), (math.nextafter(x, math.inf), y), (x, math.nextafter(y, -math.inf))]


def python_walk(state: dict, r: dict, *, start=None) -> torch.Tensor:
    """The points (steps+1, 2) of run `r` of a playground state, by `trajectory.run` alone (float64):
    the reference the batched walks are checked against."""
    c = run_config(r)
    walk = trajectory.run(landscape(state), c["optimizer_class"], c["optimizer_kwargs"],
                          start=tuple(state["start"] if start is None else start), steps=state["steps"],
                          scheduler_class=c["scheduler_class"], scheduler_kwargs=c["scheduler_kwargs"],
                          preconditioners=False, dtype=torch.float64)
    return walk.points


def _swept(state: dict, r: dict, starts: list[tuple[float, float]]) -> torch.Tensor:
    """Run `r` from each of `starts` as one sweep: (len(starts), steps+1, 2)."""
    c = run_config(r)
    result = sweep.run(landscape(state), c["optimizer_class"], c["optimizer_kwargs"],
                       starts=torch.tensor(starts, dtype=torch.float64), steps=state["steps"],
                       scheduler_class=c["scheduler_class"], scheduler_kwargs=c["scheduler_kwargs"],
                       dtype=torch.float64)
    return result.trajectories


def reference_walks(state: dict, r: dict, other_cpu, simulated_sqrt) -> list[torch.Tensor]:
    """Run `r`'s five walks (the start, x 1 ulp up, y 1 ulp down, the two simulated sqrts), batched."""
    with other_cpu():
        walks = list(_swept(state, r, nudged_starts(state)))
    for seed in SQRT_SEEDS:
        with simulated_sqrt(seed=seed, fraction=0.5):
            walks.append(_swept(state, r, nudged_starts(state)[:1])[0])
    return walks


def lone_walks(state: dict, r: dict, other_cpu, simulated_sqrt) -> list[torch.Tensor]:
    """The same five walks, each by `trajectory.run` alone (what the tests computed before)."""
    starts = nudged_starts(state)
    with other_cpu():
        walks = [python_walk(state, r, start=s) for s in starts]
    for seed in SQRT_SEEDS:
        with simulated_sqrt(seed=seed, fraction=0.5):
            walks.append(python_walk(state, r))
    return walks


class PythonSide:
    """Python's walks of a playground state, with the steps where comparing is a test of the update
    rule: those before the walk amplifies a last-bit difference beyond the comparison's own
    tolerance (1e-11 of the window, measured with a nudged start and a simulated sqrt)."""

    def __init__(self, state: dict, other_cpu, simulated_sqrt):
        self.state, self.scale = state, window(state)
        self.walks, self.reliable = {}, {}
        for i, r in enumerate(state["runs"]):
            if not r["on"]:
                continue
            points, *variants = reference_walks(state, r, other_cpu, simulated_sqrt)
            spread = torch.stack([(v - points).abs().amax(dim=1) for v in variants]).amax(dim=0)
            self.walks[i] = points
            self.reliable[i] = spread <= SENSITIVITY * self.scale  # the steps where comparing tests the rule

    def final_is_reliable(self, run: int) -> bool:
        return bool(self.reliable[run][-1])

    def final(self, run: int) -> tuple[float, float]:
        x, y = self.walks[run][-1].tolist()
        return x, y


_SIDES: dict[tuple, PythonSide] = {}


def python_side(state: dict, other_cpu, simulated_sqrt) -> PythonSide:
    """`PythonSide(state, ...)`, computed once per session for each state (and simulated CPU)."""
    key = (json.dumps(state, sort_keys=True), other_cpu, simulated_sqrt)
    if key not in _SIDES:
        _SIDES[key] = PythonSide(state, other_cpu, simulated_sqrt)
    return _SIDES[key]
