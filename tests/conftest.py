"""What every test shares: the simulated other CPU, and the `numeric` and `cross_machine` markers.

Floats are machine-bound: on CPU, torch's float64 sqrt goes through MKL's vector sqrt, which is not
always correctly rounded and picks its code path by CPU vendor and instruction set (on one AMD EPYC
1,403 of 100,000 random inputs came out 1 ulp off; another CPU misrounds other inputs). A test that
compares numbers computed on this machine with numbers computed on another (a committed file, a
number in a page, the playground's JavaScript, whose `Math.sqrt` is correctly rounded) must pass
whatever the CPU: it compares at a tolerance, measured and stated where it is used.

`pytest --other-cpu-sqrt` proves it here: inside `with other_cpu():` (a fixture; the recomputes of
those cross-machine comparisons run in it) float64 `torch.sqrt`, `Tensor.sqrt` and `Tensor.sqrt_`
return the next float up (1 ulp) on a seeded 2 % of their inputs, as another CPU's misrounding
would. The choice is a hash of the input's bits, so one input always gives one output, like a real
CPU. Without the option `other_cpu()` changes nothing. Equality with torch.optim (both sides run on
the same machine, bit for bit) never runs inside it. `perturbed_sqrt()` is the same context, always
on, for the tests that prove the simulation changes something.

Markers, given here so new test files are picked up by `make test-portable` without a list to edit:
- `numeric`: every test of numbers (all of tests/ except the figure-build, file, plot, packaging and
  browser tests; in tests/browser/ only the playground's JavaScript-equals-Python tests);
- `cross_machine`: the tests that compare with numbers computed on another machine, the ones
  `--other-cpu-sqrt` concerns (they use the `other_cpu` fixture).
"""

from __future__ import annotations

import contextlib
import functools
import getpass
import math
import os
import random
import tempfile
from pathlib import Path

# torch.compile's C++ cache, one per ATEN_CPU_CAPABILITY: inductor reuses compiled kernels across
# runs, and kernels built for AVX2 do not compile or load under ATEN_CPU_CAPABILITY=default
# ("'at::vec' has not been declared"). Set before torch is imported; a user's own setting wins.
os.environ.setdefault("TORCHINDUCTOR_CACHE_DIR", os.path.join(
    tempfile.gettempdir(), f"torchinductor_{getpass.getuser()}_{os.environ.get('ATEN_CPU_CAPABILITY', 'native')}"))

import pytest  # noqa: E402
import torch  # noqa: E402

FRACTION = 0.02  # of float64 sqrt inputs that come out 1 ulp high under the simulation
SEED = 2026
# test files that test no numbers (pictures, files, the built site); every other file is `numeric`
NOT_NUMERIC = {"test_build_figures.py", "test_files.py", "test_plots.py", "test_dist.py", "test_figure_results.py"}
# in tests/browser/, the tests that compare the playground's JavaScript with the Python package
BROWSER_NUMERIC = {"test_playground.py"}


def pytest_addoption(parser):
    parser.addoption(
        "--other-cpu-sqrt",
        action="store_true",
        help="simulate another CPU in the cross-machine comparisons: float64 sqrt 1 ulp high on a seeded "
        f"{FRACTION:.0%} of inputs while their Python side is recomputed",
    )


def pytest_configure(config):
    config.addinivalue_line("markers", "numeric: a test of numbers (make test-portable runs these)")
    config.addinivalue_line(
        "markers", "cross_machine: compares with numbers computed on another machine (see --other-cpu-sqrt)"
    )


@pytest.hookimpl(tryfirst=True)  # before -m deselects by these markers
def pytest_collection_modifyitems(config, items):
    for item in items:
        path = Path(str(item.fspath))
        browser = path.parent.name == "browser"
        if (path.name in BROWSER_NUMERIC) if browser else (path.name not in NOT_NUMERIC):
            item.add_marker(pytest.mark.numeric)
        if "other_cpu" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.cross_machine)
    # the `slow` tests first (a stable sort: otherwise in collection order): under xdist
    # (`make test`: -n 4, load scheduling) a long test collected late starts late and the run waits
    # for it on one worker while the other has nothing left; started first, it runs beside the rest.
    # Every worker sorts the same collection the same way, as xdist requires.
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


# --- the simulated other CPU ------------------------------------------------------------------------------

_MODULUS = 2**31 - 1  # a prime; the hash below stays inside int64 (each product < 2**62)


@functools.cache
def _hash_constants(seed: int) -> tuple[int, int, int]:
    rng = random.Random(seed)
    return rng.randrange(1, 2**30), rng.randrange(1, 2**30), rng.randrange(0, _MODULUS)


def misrounded(x: torch.Tensor, root: torch.Tensor, *, fraction: float = FRACTION, seed: int = SEED) -> torch.Tensor:
    """Where a CPU with another sqrt would round sqrt(x) 1 ulp off: a seeded `fraction` of the inputs,
    chosen by a hash of their bits (the same input is always chosen or never), and never where the
    root is exact (a perfect square such as 0, 1 or 4: every sqrt gets those right)."""
    a, b, c = _hash_constants(seed)
    bits = x.detach().view(torch.int64)
    low, high = bits & (2**31 - 1), (bits >> 31) & (2**31 - 1)
    h = (low * a % _MODULUS + high * b % _MODULUS + c) % _MODULUS
    chosen = h < int(fraction * _MODULUS)
    r = root.detach()
    # an exact root has at most 27 significant bits (its square fits in 53), and squares back to x
    exact = ((r.view(torch.int64) & (2**26 - 1)) == 0) & (r * r == x.detach())
    return chosen & torch.isfinite(r) & ~exact


@contextlib.contextmanager
def perturbed_sqrt(*, fraction: float = FRACTION, seed: int = SEED):
    """Float64 torch.sqrt, Tensor.sqrt and Tensor.sqrt_ return the next float up on the inputs
    `misrounded` chooses; other dtypes are untouched. Restores torch's functions on exit."""
    original = {"torch.sqrt": torch.sqrt, "Tensor.sqrt": torch.Tensor.sqrt, "Tensor.sqrt_": torch.Tensor.sqrt_}
    inf = math.inf

    def off_by_one_ulp(x, root):
        mask = misrounded(x, root, fraction=fraction, seed=seed)
        return torch.where(mask, torch.nextafter(root.detach(), torch.tensor(inf, dtype=root.dtype)), root)

    def sqrt(input, *args, **kwargs):  # noqa: A002 (torch's argument name)
        out = kwargs.get("out")
        root = original["torch.sqrt"](input, *args, **kwargs)
        if not (isinstance(input, torch.Tensor) and input.dtype == torch.float64 and not input.is_sparse):
            return root
        if out is not None:
            return out.copy_(off_by_one_ulp(input, out.detach().clone()))
        return off_by_one_ulp(input, root)

    def tensor_sqrt(self):
        root = original["Tensor.sqrt"](self)
        if self.dtype != torch.float64 or self.is_sparse:
            return root
        return off_by_one_ulp(self, root)

    def tensor_sqrt_(self):
        if self.dtype != torch.float64 or self.is_sparse:
            return original["Tensor.sqrt_"](self)
        before = self.detach().clone()
        original["Tensor.sqrt_"](self)
        with torch.no_grad():
            self.copy_(off_by_one_ulp(before, self.detach().clone()))
        return self

    torch.sqrt, torch.Tensor.sqrt, torch.Tensor.sqrt_ = sqrt, tensor_sqrt, tensor_sqrt_
    try:
        yield
    finally:
        torch.sqrt = original["torch.sqrt"]
        torch.Tensor.sqrt = original["Tensor.sqrt"]
        torch.Tensor.sqrt_ = original["Tensor.sqrt_"]


@pytest.fixture(scope="session")
def other_cpu(request):
    """`with other_cpu(): ...` recomputes as another CPU would under --other-cpu-sqrt, as this one
    would without it. Use it only around the Python side of a cross-machine comparison."""
    if request.config.getoption("--other-cpu-sqrt"):
        return perturbed_sqrt
    return contextlib.nullcontext


@pytest.fixture(scope="session")
def simulated_sqrt():
    """`perturbed_sqrt`, always on whatever the option: for the tests that prove the simulation
    changes what it should (a test module cannot import this conftest by name: tests/browser has one too)."""
    return perturbed_sqrt


@pytest.fixture(scope="session")
def simulating_other_cpu(request) -> bool:
    """Whether this run simulates another CPU (--other-cpu-sqrt)."""
    return bool(request.config.getoption("--other-cpu-sqrt"))
