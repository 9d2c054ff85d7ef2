"""The figures and numbers of the Beyond-diagonal page (docs/beyond-diagonal.md)."""

from __future__ import annotations

from functools import cache

from ._results import shared
from ._shared import Figure, Numbers

# Colours of the matrix-page contestants (Okabe-Ito where the site has one, Paul Tol's muted otherwise).
COLORS = {"GD": "#0072B2", "Jacobi": "#999933", "Adam": "#D55E00", "Shampoo": "#117733", "SOAP": "#AA4499", "LBFGS": "#DDCC77",
          "Newton": "#882255", "Muon": "#44AA99"}
STYLES = {"GD": "-", "Jacobi": "--", "Adam": "-", "Shampoo": "--", "SOAP": "-.", "LBFGS": ":", "Newton": "-", "Muon": "--"}
RACE = {"m": 4, "n": 4, "kappa_a": 10.0, "kappa_b": 10.0, "steps": 150, "tol": 1e-6, "seeds": (0, 1, 2),
        "lr_min": 1e-3, "lr_max": 1.0, "per_decade": 2}


@cache
def _race(params):
    """The race of `beyond-diagonal-race` and `beyond-diagonal-numbers`: run once per build (shared)."""
    from optimessay.experiments import beyond_diagonal

    return shared(beyond_diagonal.compare, **dict(params))


def matrix_race(race):
    import numpy as np

    from optimessay import style

    result = _race(tuple(sorted(race.items())))
    fig, axes = style.figure(1, 2, height=4.2, sharey=True)
    titles = {"axis": "axis-aligned: A, B diagonal", "rotated": "rotated: A, B in random bases"}
    for ax, geometry in zip(axes, ("axis", "rotated"), strict=True):
        for name, res in result[geometry].items():
            curve = np.asarray(res["curve"], dtype=float)
            curve = curve / curve[0]
            ax.semilogy(np.arange(len(curve)), np.maximum(curve, 1e-17), color=COLORS[name],
                        linestyle=STYLES[name], lw=1.8, label=name)
        ax.axhline(race["tol"], color="#777777", lw=0.8, ls=":")
        ax.set_title(titles[geometry], fontsize=10)
        ax.set_xlabel("step")
        ax.set_ylim(1e-17, 10)
    axes[0].set_ylabel("loss / initial loss")
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=7, fontsize=8)
    return fig


def muon_map(ns_steps):
    import numpy as np
    import torch

    from optimessay import style
    from optimessay.optimizers.muon import muon_spectral_map

    s = torch.logspace(-3, 0, 400, dtype=torch.float64)
    fig, axes = style.figure(1, 1, height=3.4)
    ax = axes if not hasattr(axes, "__len__") else axes[0]
    phi = muon_spectral_map(s, ns_steps=ns_steps)
    ax.semilogx(s.numpy(), phi.numpy(), color=COLORS["Muon"], lw=2, label=f"{ns_steps} Newton–Schulz steps, φ(s)")
    ax.axhline(1.0, color="#777777", lw=0.8, ls=":", label="exact orthogonalization (every σ ↦ 1)")
    ax.axvline(0.01, color="#999999", lw=0.8, ls="--")
    band = phi[s >= 0.01]
    ax.axhspan(float(band.min()), float(band.max()), color=COLORS["Muon"], alpha=0.12,
               label=f"band for s ≥ 0.01: [{float(band.min()):.3f}, {float(band.max()):.3f}]")
    ax.set_xlabel("s = σ / ‖G‖_F (singular value of the normalized gradient)")
    ax.set_ylabel("singular value after the map")
    ax.legend(fontsize=8, loc="lower right")
    ax.set_ylim(0, 1.3)
    np.seterr(all="ignore")
    return fig


def beyond_numbers(race, ns_steps):
    import torch

    from optimessay.experiments import beyond_diagonal
    from optimessay.optimizers.muon import muon_orthogonalize, muon_spectral_map

    out = {"m": race["m"], "n": race["n"], "kappa_a": race["kappa_a"], "kappa_b": race["kappa_b"],
           "kappa": race["kappa_a"] * race["kappa_b"], "steps": race["steps"], "tol": race["tol"],
           "seeds": len(race["seeds"]), "lr_min": race["lr_min"], "lr_max": race["lr_max"],
           "per_decade": race["per_decade"]}
    result = _race(tuple(sorted(race.items())))
    for geometry, table in result.items():
        for name, res in table.items():
            out[f"{geometry}_{name.lower()}_steps"] = float(res["steps"])
            out[f"{geometry}_{name.lower()}_lr"] = float(res["lr"])
            out[f"{geometry}_{name.lower()}_arrived"] = "yes" if res["arrived"] else "no"
            out[f"{geometry}_{name.lower()}_on_edge"] = "yes" if res["on_edge"] else "no"
    for key, value in beyond_diagonal.jacobi_condition(race["m"], race["n"], race["kappa_a"], race["kappa_b"]).items():
        out[f"cond_{key}"] = value
    for name in ("GD", "Adam", "Shampoo", "SOAP", "Muon"):
        out[f"equivariance_{name.lower()}"] = beyond_diagonal.rotation_equivariance(name)
    s = torch.logspace(-2, 0, 2001, dtype=torch.float64)
    phi = muon_spectral_map(s, ns_steps=ns_steps)
    out["muon_phi_min"], out["muon_phi_max"], out["muon_phi_one"] = float(phi.min()), float(phi.max()), float(phi[-1])
    # torch's own bf16 routine on matrices with known singular values in [0.01, 1]·σmax
    gen = torch.Generator().manual_seed(0)
    lo, hi = float("inf"), 0.0
    for _ in range(20):
        q1, _r = torch.linalg.qr(torch.randn(32, 32, generator=gen, dtype=torch.float64))
        q2, _r = torch.linalg.qr(torch.randn(32, 32, generator=gen, dtype=torch.float64))
        sv = torch.logspace(-2, 0, 32, dtype=torch.float64)
        G = q1 @ torch.diag(sv) @ q2.T
        O = muon_orthogonalize(G.float(), ns_steps=ns_steps).double()
        got = torch.linalg.svdvals(O)
        lo, hi = min(lo, float(got.min())), max(hi, float(got.max()))
    out["muon_bf16_min"], out["muon_bf16_max"] = lo, hi
    return out


FIGURES = [
    Figure("beyond-diagonal-race", "image",
           "Two panels of loss relative to its start (log scale) against step, 150 steps on a 4 by 4 "
           "matrix quadratic with Hessian condition number 100: left with diagonal A and B, right with A "
           "and B in random bases; one curve each for GD, GD with the fixed diagonal P = 1/diag(H), Adam, Shampoo, SOAP, LBFGS and Newton at their "
           "tuned learning rates, named in a legend below the panels; a dotted line marks a millionth.",
           matrix_race, {"race": RACE}),
    Figure("muon-spectral-map", "image",
           "The curve of what Muon's five Newton–Schulz steps do to a singular value s of the normalized "
           "gradient, s from 0.001 to 1 on a log axis: it rises steeply from 0 and stays in a shaded band "
           "around 1 for every s above 0.01, marked by a dashed vertical line; a dotted line at 1 is exact "
           "orthogonalization.",
           muon_map, {"ns_steps": 5}),
    Numbers("beyond-diagonal-numbers", "Tuned steps on the matrix quadratic, rotation equivariance, Muon's band.",
            beyond_numbers, {"race": RACE, "ns_steps": 5}, cost=14.0),
]
