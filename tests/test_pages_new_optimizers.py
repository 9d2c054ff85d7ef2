"""The claims of the new optimizer pages (sign-and-max-norm, fixing-adam, memory-light, beyond-diagonal,
the new schedulers of schedules), checked on the experiments that compute their numbers, at small sizes.

Independent references: torch.optim (the optimizers are bit for bit torch's), closed forms (Newton on a
quadratic, RAdam's ρ_t, the factored second moment of a rank-1 g²) and symmetries (rotations, loss scale).
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import pytest
import torch

from optimessay.experiments import beyond_diagonal as bd
from optimessay.experiments import fixing_adam, memory_light, sign

ROOT = Path(__file__).resolve().parents[1]
PAGES = ("sign-and-max-norm", "fixing-adam", "memory-light", "beyond-diagonal")




# --- beyond diagonal ---------------------------------------------------------------------------------

def test_matrix_quadratic_gradient_and_hessian_match_autograd():
    problem = bd.matrix_quadratic(3, 2, 5.0, 4.0, rotated=True, seed=1)
    W = torch.randn(3, 2, dtype=torch.float64, requires_grad=True)
    problem.loss(W).backward()
    torch.testing.assert_close(W.grad, problem.grad(W.detach()), rtol=1e-12, atol=1e-12)
    H = torch.autograd.functional.hessian(lambda w: problem.loss(w.reshape(3, 2)), W.detach().flatten())
    torch.testing.assert_close(H, problem.hessian(), rtol=1e-12, atol=1e-12)
    ev = torch.linalg.eigvalsh(H)
    assert float(ev.max() / ev.min()) == pytest.approx(20.0, rel=1e-9)  # κ_A κ_B


def test_axis_and_rotated_share_a_spectrum_and_jacobi_only_fixes_the_axis_one():
    axis, turned = (bd.matrix_quadratic(4, 3, rotated=r, seed=2) for r in (False, True))
    torch.testing.assert_close(torch.linalg.eigvalsh(axis.hessian()), torch.linalg.eigvalsh(turned.hessian()))
    cond = bd.jacobi_condition(4, 3, seed=2)
    assert cond["axis_jacobi"] == pytest.approx(1.0, abs=1e-12)
    assert cond["rotated_jacobi"] > 5


def test_newton_and_jacobi_one_step():
    for rotated in (False, True):
        problem = bd.matrix_quadratic(4, 4, rotated=rotated, seed=0)
        assert bd.run(problem, "Newton", 1.0, 1)[-1] < 1e-25
        jacobi = bd.run(problem, "Jacobi", 1.0, 1)[-1]
        assert (jacobi < 1e-25) == (not rotated)


@pytest.mark.parametrize("name, equivariant", [("GD", True), ("Shampoo", True), ("Adam", False)])
def test_rotation_equivariance(name, equivariant):
    dev = bd.rotation_equivariance(name, steps=8)
    assert (dev < 1e-9) == equivariant, dev


def test_run_is_deterministic_and_refuses_unknown_names():
    problem = bd.matrix_quadratic(3, 3, seed=0)
    assert bd.run(problem, "Shampoo", 0.1, 5, seed=1) == bd.run(problem, "Shampoo", 0.1, 5, seed=1)
    with pytest.raises(ValueError, match="optimizer 'Sophia'"):
        bd.run(problem, "Sophia", 0.1, 1)
    with pytest.raises(ValueError, match="kappa_a=0.5"):
        bd.matrix_quadratic(2, 2, kappa_a=0.5)


def test_compare_small_tunes_off_the_edge():
    result = bd.compare(("GD", "Newton"), m=2, n=2, steps=30, seeds=range(1), tol=1e-3)
    for geometry in ("axis", "rotated"):
        assert result[geometry]["Newton"]["steps"] == 1.0
        gd = result[geometry]["GD"]
        assert not gd["on_edge"] and len(gd["curve"]) == 31


# --- sign and max-norm -------------------------------------------------------------------------------

def test_loss_scale_invariance():
    assert sign.scale_invariance("Rprop", steps=50) == 0.0
    assert sign.scale_invariance("sign descent", steps=50) == 0.0
    assert 0 < sign.scale_invariance("Adam", steps=50) < 1e-8
    assert not sign.scale_invariance("GD", steps=50) < 1e-3  # nan (diverged) or far


def test_sign_race_small():
    result = sign.race(("sign descent",), steps=50)
    assert set(result["sign descent"]) == {"lr", "steps", "arrived", "on_edge", "final_gap"}


# --- fixing Adam ---------------------------------------------------------------------------------------

def test_radam_rectifies_where_rho_crosses_five():
    w = fixing_adam.radam_warmup()
    assert w["first_rectified_step"] == 6
    assert w["rho_before"] <= 5 < w["rho_at"]
    t = w["first_rectified_step"]
    rho = lambda t: w["rho_inf"] - 2 * t * 0.999**t / (1 - 0.999**t)  # noqa: E731
    assert math.isclose(rho(t), w["rho_at"])


def test_amsgrad_growth_is_bias_correction_only():
    g = fixing_adam.amsgrad_monotone(steps=200)
    bias = math.sqrt((1 - 0.999**200) / (1 - 0.999**100))  # how 1/(1-β2ᵗ) moves P when v is frozen
    assert g["amsgrad_growth"] == pytest.approx(bias, rel=1e-4)
    assert g["adam_growth"] > g["amsgrad_growth"]


# --- memory light ----------------------------------------------------------------------------------------

def test_adafactor_state_and_factored_exactness():
    sizes = memory_light.state_sizes(16, 8)
    assert sizes["adam"] == 2 * 16 * 8 + 1 and sizes["adafactor"] == 16 + 8 + 1
    ex = memory_light.factored_exactness(m=12, n=6)
    assert ex["rank1_max_error"] < 1e-14
    assert ex["gaussian_max_error"] > 0.1


def test_adafactor_docstring_weight_decay_against_torch():
    wd = memory_light.docstring_weight_decay()
    assert wd["signature"] == repr(torch.optim.Adafactor([torch.zeros(1, requires_grad=True)]).defaults["weight_decay"])
    assert wd["docstring"] != "not stated"


# --- the pages quote only keys their numbers entries produce ------------------------------------------------

NUM = re.compile(r"!num\[([\w-]+)\.(\w+)(?::[^\]]*)?\]")


@pytest.mark.parametrize("page", PAGES + ("schedules",))
def test_pages_embed_existing_sections_and_figures(page):
    text = (ROOT / "docs" / f"{page}.md").read_text()
    for path, section in re.findall(r'(?:--8<-- "|!annotated\[)([^":\]]+):([\w-]+)["\]]', text):
        source = (ROOT / path).read_text()
        assert f"[start:{section}]" in source, (page, path, section)
    module = (ROOT / "scripts" / "figures" / f"{page.replace('-', '_')}.py").read_text()
    for name in re.findall(r"^!figure\[([\w-]+)\]", text, flags=re.MULTILINE):
        assert f'"{name}"' in module, (page, name)
    for name, _ in NUM.findall(text):
        assert f'"{name}"' in module, (page, name)


def test_new_scheduler_sections_on_the_schedules_page():
    text = (ROOT / "docs" / "schedules.md").read_text()
    for cls in ("MultiplicativeLR", "PolynomialLR", "CosineAnnealingWarmRestarts", "CyclicLR", "ChainedScheduler",
                "ReduceLROnPlateau", "SWALR"):
        assert f"### {cls}" in text
        assert f"!annotated[optimessay/schedulers.py:{cls.lower()}]" in text
        assert f"!figure[{cls.lower()}-curve" in text or f"!figure[{cls.lower()}-curves" in text
