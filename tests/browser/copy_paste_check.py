"""Run copied code against torch: `python -I copy_paste_check.py < block.py` (a fresh interpreter), or
`python -I copy_paste_check.py --json < programs.json` for several programs in one interpreter
(a JSON list of {"id": ..., "code": ...}; each runs in a namespace of its own, so no class or name
of one program is seen by another; torch is imported once). The tests run `check_programs` in a child
of program_server.py (one per page, forked from an interpreter that has imported torch and nothing else).

The code read from stdin is what a reader copies from the site. It is executed with torch as the
only third-party import (importing optimessay raises). Then every class it defines that is named
like a torch.optim optimizer or lr_scheduler is compared with torch's on the configurations below:

- optimizers: parameters equal to torch.optim's (`foreach=False`) with `torch.equal` (bit for bit)
  after each of 6 steps on a non-convex loss, two parameters, float32 and float64;
- schedulers: every group's lr and `get_last_lr()` within 1e-12 of torch's over 30 steps, two
  param groups with different lrs.

Prints one line per class and configuration; the exit status is 1 on any mismatch. With --json the
last line is a JSON object {id: {"ok": bool, "output": text}}.
"""

from __future__ import annotations

import importlib.abc
import sys


class RefuseOptimessay(importlib.abc.MetaPathFinder):
    """Copied code must not need the package it was copied from."""

    def find_spec(self, name, path=None, target=None):
        if name == "optimessay" or name.startswith("optimessay."):
            raise ImportError(f"the copied code imports {name!r}; it must run with torch alone")
        return None


sys.meta_path.insert(0, RefuseOptimessay())

import torch  # noqa: E402  (after the import guard)

OPTIMIZER_CONFIGS = {
    "SGD": [dict(lr=0.1), dict(lr=0.05, momentum=0.9), dict(lr=0.05, momentum=0.9, dampening=0.1, weight_decay=0.01),
            dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.01), dict(lr=0.05, maximize=True)],
    "RMSprop": [dict(lr=0.01), dict(lr=0.01, alpha=0.9, momentum=0.5),
                dict(lr=0.01, alpha=0.8, centered=True, weight_decay=0.01, eps=1e-6)],
    "Adam": [dict(lr=0.01), dict(lr=0.01, betas=(0.8, 0.99), weight_decay=0.01),
             dict(lr=0.01, amsgrad=True), dict(lr=0.01, maximize=True)],
    "AdamW": [dict(lr=0.01), dict(lr=0.01, weight_decay=0.1), dict(lr=0.01, amsgrad=True, weight_decay=0.05)],
    "Adagrad": [dict(lr=0.1), dict(lr=0.1, lr_decay=0.01, weight_decay=0.01, initial_accumulator_value=0.1)],
}


def sequential(namespace):
    """SequentialLR needs schedulers to chain: the copied ones when the code defines them."""
    linear = namespace.get("LinearLR", torch.optim.lr_scheduler.LinearLR)
    cosine = namespace.get("CosineAnnealingLR", torch.optim.lr_scheduler.CosineAnnealingLR)
    return lambda opt: dict(schedulers=[linear(opt, start_factor=0.1, total_iters=4), cosine(opt, T_max=10)],
                            milestones=[4])


# name -> list of functions (optimizer, namespace) -> kwargs (some kwargs need the optimizer)
SCHEDULER_CONFIGS = {
    "LambdaLR": [lambda opt, ns: dict(lr_lambda=lambda epoch: 0.95 ** epoch)],
    "StepLR": [lambda opt, ns: dict(step_size=3, gamma=0.5)],
    "MultiStepLR": [lambda opt, ns: dict(milestones=[2, 5, 9], gamma=0.3)],
    "ConstantLR": [lambda opt, ns: dict(factor=0.5, total_iters=4)],
    "LinearLR": [lambda opt, ns: dict(start_factor=0.2, end_factor=1.0, total_iters=6)],
    "ExponentialLR": [lambda opt, ns: dict(gamma=0.9)],
    "CosineAnnealingLR": [lambda opt, ns: dict(T_max=10, eta_min=0.001)],
    "OneCycleLR": [lambda opt, ns: dict(max_lr=0.1, total_steps=40),
                   lambda opt, ns: dict(max_lr=[0.1, 0.02], total_steps=40, anneal_strategy="linear"),
                   lambda opt, ns: dict(max_lr=0.1, total_steps=40, three_phase=True)],
    "SequentialLR": [lambda opt, ns: sequential(ns)(opt)],
}


def optimizer_history(cls, kwargs, dtype, steps=6):
    """Parameters after each step of `cls(params, **kwargs)` on a fixed non-convex loss."""
    generator = torch.Generator().manual_seed(0)
    params = [torch.randn(3, 4, generator=generator, dtype=dtype).requires_grad_(),
              torch.randn(5, generator=generator, dtype=dtype).requires_grad_()]
    optimizer = cls(params, **kwargs)
    history = []
    for _ in range(steps):
        optimizer.zero_grad()
        loss = sum((0.5 * p**2 + torch.sin(3 * p)).sum() for p in params)  # f = sum p^2/2 + sin 3p
        loss.backward()
        optimizer.step()
        history.append([p.detach().clone() for p in params])
    return history


def compare_optimizer(name, cls) -> bool:
    ok = True
    reference = getattr(torch.optim, name)
    for kwargs in OPTIMIZER_CONFIGS[name]:
        for dtype in (torch.float32, torch.float64):
            ours = optimizer_history(cls, kwargs, dtype)
            theirs = optimizer_history(reference, {**kwargs, "foreach": False}, dtype)
            mismatch = next(((step, i) for step, (a, b) in enumerate(zip(ours, theirs, strict=True))
                             for i, (x, y) in enumerate(zip(a, b, strict=True)) if not torch.equal(x, y)), None)
            status = "equal" if mismatch is None else f"DIFFERS at step {mismatch[0] + 1}, parameter {mismatch[1]}"
            print(f"{name} {kwargs} {dtype}: {status}")
            ok &= mismatch is None
    return ok


def scheduler_history(cls, make_kwargs, namespace, steps=30):
    """Every group's lr and get_last_lr() after each of `steps` optimizer+scheduler steps."""
    param = torch.zeros(2, requires_grad=True)
    optimizer = torch.optim.SGD([{"params": [param], "lr": 0.1}, {"params": [torch.zeros(1, requires_grad=True)],
                                                                   "lr": 0.02}], lr=0.1)
    scheduler = cls(optimizer, **make_kwargs(optimizer, namespace))
    history = []
    for _ in range(steps):
        optimizer.step()
        scheduler.step()
        history.append([g["lr"] for g in optimizer.param_groups] + list(scheduler.get_last_lr()))
    return history


def compare_scheduler(name, cls, namespace) -> bool:
    ok = True
    reference = getattr(torch.optim.lr_scheduler, name)
    torch_namespace = {}  # torch's SequentialLR chains torch's schedulers
    for number, make_kwargs in enumerate(SCHEDULER_CONFIGS[name]):
        ours = scheduler_history(cls, make_kwargs, namespace)
        theirs = scheduler_history(reference, make_kwargs, torch_namespace)
        worst = max(abs(float(a) - float(b)) for x, y in zip(ours, theirs, strict=True) for a, b in zip(x, y, strict=True))
        status = "within 1e-12" if worst <= 1e-12 else "DIFFERS"
        print(f"{name} configuration {number}: largest lr difference {worst:.3g}: {status}")
        ok &= worst <= 1e-12
    return ok


def check_program(source: str) -> bool:
    """Run one program in a namespace of its own and compare every class it defines with torch's."""
    namespace = {"__name__": "copied_from_the_site"}
    exec(compile(source, "<code copied from the site>", "exec"), namespace)
    defined = {name: value for name, value in namespace.items()
               if isinstance(value, type) and value.__module__ == "copied_from_the_site"}
    compared, ok = 0, True
    for name, cls in defined.items():
        if name in OPTIMIZER_CONFIGS:
            ok &= compare_optimizer(name, cls)
            compared += 1
        elif name in SCHEDULER_CONFIGS:
            ok &= compare_scheduler(name, cls, namespace)
            compared += 1
    if compared == 0:
        print(f"no optimizer or scheduler class to compare among {sorted(defined)}")
        return False
    return ok


def check_programs(programs: list[dict]) -> dict:
    """{id: {"ok": bool, "output": text}} for a list of {"id": ..., "code": ...}: each program runs in a
    namespace of its own, and one that raises fails alone (the others still run)."""
    import contextlib
    import io
    import traceback

    results = {}
    for program in programs:
        output = io.StringIO()
        with contextlib.redirect_stdout(output):
            try:
                ok = check_program(program["code"])
            except Exception:
                traceback.print_exc(file=output)
                ok = False
        results[program["id"]] = {"ok": ok, "output": output.getvalue()}
    return results


def main() -> int:
    if sys.argv[1:] != ["--json"]:
        return 0 if check_program(sys.stdin.read()) else 1
    import json

    results = check_programs(json.load(sys.stdin))
    print(json.dumps(results))
    return 0 if all(r["ok"] for r in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
