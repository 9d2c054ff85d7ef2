r"""Adafactor's factored second moment: what it stores and what it loses.

- :func:`state_sizes`: the numbers of state each optimizer keeps for an m × n matrix (counted from the
  optimizers' own state after one step).
- :func:`factored_exactness`: after one step (β2 at t = 1 is 0, so V is g² itself) the preconditioned
  gradient P·|g| is exactly 1 everywhere when g² is a rank-1 outer product r cᵀ (the factored
  estimate R C / mean(R) is then exact), and spread out when it is not.
- :func:`docstring_weight_decay`: torch's Adafactor docstring states one weight-decay default, its
  signature has another.
"""

from __future__ import annotations

import inspect
import re

import torch

from optimessay.optimizers.adafactor import Adafactor
from optimessay.optimizers.adam import Adam

__all__ = ["docstring_weight_decay", "factored_exactness", "state_sizes"]


def state_sizes(m: int = 1024, n: int = 1024) -> dict:
    """Elements of state per optimizer for one m × n parameter, after one step (step counters included)."""
    out = {}
    for name, cls in (("adam", Adam), ("adafactor", Adafactor)):
        p = torch.zeros(m, n, requires_grad=True)
        opt = cls([p])
        p.grad = torch.ones(m, n)
        opt.step()
        out[name] = sum(v.numel() for v in opt.state[p].values() if isinstance(v, torch.Tensor))
    out["params"] = m * n
    return out


def factored_exactness(m: int = 64, n: int = 32, seed: int = 0) -> dict:
    """max |P·|g| - 1| after Adafactor's first step, for a rank-1 g² and for a Gaussian g, plus the
    spread (min, max) of P·|g| for the Gaussian one (float64)."""
    gen = torch.Generator().manual_seed(seed)
    r = torch.rand(m, generator=gen, dtype=torch.float64) + 0.1
    c = torch.rand(n, generator=gen, dtype=torch.float64) + 0.1
    signs = torch.randint(0, 2, (m, n), generator=gen).to(torch.float64) * 2 - 1
    cases = {"rank1": signs * torch.outer(r, c).sqrt(), "gaussian": torch.randn(m, n, generator=gen, dtype=torch.float64)}
    out = {}
    for name, g in cases.items():
        p = torch.zeros(m, n, dtype=torch.float64, requires_grad=True)
        opt = Adafactor([p])
        p.grad = g
        opt.step()
        ratio = opt.preconditioner(p) * g.abs()
        out[f"{name}_max_error"] = float((ratio - 1).abs().max())
        out[f"{name}_min_ratio"], out[f"{name}_max_ratio"] = float(ratio.min()), float(ratio.max())
    return out


def docstring_weight_decay() -> dict:
    """torch.optim.Adafactor's weight_decay default as its docstring states it and as its signature has it."""
    doc = torch.optim.Adafactor.__doc__ or ""
    found = re.search(r"weight_decay \(float, optional\):[^\n]*\(default: ([^)]+)\)", doc)
    return {"docstring": found.group(1) if found else "not stated",
            "signature": repr(inspect.signature(torch.optim.Adafactor).parameters["weight_decay"].default)}
