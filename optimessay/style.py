"""One look for every figure of the site: palette, sizes, fonts.

- **Colour-blind safe**: the optimizers take the Okabe-Ito colours (Okabe & Ito, 2008), which stay
  distinguishable under the common colour-vision deficiencies; landscapes are drawn in greys and
  heatmaps in ``cividis`` (perceptually uniform, readable without red-green vision), so the coloured
  paths are the only colour on a landscape.
- **The same colour for the same optimizer on every figure**: :func:`color` maps a name ("Adam",
  "SGD + momentum", ...) to one colour. A sweep of one optimizer's hyperparameter uses
  :func:`shades` of that optimizer's colour.
- **Light and dark theme**: every figure is a neutral light-grey card with dark text (videos
  cannot be transparent, and a transparent plot with mid-grey text reads poorly on both themes), so
  the same file reads on a white page and on a dark one.
- **Readable at the site's content width** (~750 CSS px): figures are 7.5 in wide; images are saved at
  150 dpi (1125 px, sharp on high-density screens) and shown at the content width, where 10 pt text
  comes out at ~14 CSS px.

This module imports matplotlib only inside :func:`apply` / :func:`figure`, so the palette can be read
without it; neither changes matplotlib's backend (notebooks keep their inline plots).
"""

from __future__ import annotations

import colorsys

# The Okabe-Ito palette (yellow left out: it vanishes on a light background).
BLUE = "#0072B2"
SKY = "#56B4E9"
GREEN = "#009E73"
ORANGE = "#E69F00"
VERMILLION = "#D55E00"
PURPLE = "#CC79A7"
BLACK = "#000000"
# Two extra, from Paul Tol's colour-blind-safe "muted" scheme, for reference walkers.
WINE = "#882255"
OLIVE = "#999933"

# Optimizer -> colour. Keys are compared case-insensitively, ignoring spaces, "-", "_" and "+".
OPTIMIZER_COLORS = {
    "sgd": BLUE,
    "gd": BLUE,  # plain gradient descent: P = I, i.e. SGD without noise or momentum
    "momentum": SKY,
    "sgdmomentum": SKY,
    "heavyball": SKY,
    "nesterov": GREEN,
    "rmsprop": ORANGE,
    "adam": VERMILLION,
    "amsgrad": WINE,
    "adaml2": VERMILLION,
    "adamw": PURPLE,
    "adagrad": BLACK,
    "newton": WINE,
    "diagonalp": OLIVE,
    "diagp": OLIVE,
    "fullp": WINE,
}

# The card every figure is drawn on, and its ink.
BACKGROUND = "#f4f4f2"
INK = "#222222"
MUTED_INK = "#555555"
GRID = "#d8d8d4"
# Marks
MINIMUM_COLOR = "#111111"
DIVERGED_COLOR = "#b0b0b0"

# Sizes (inches at the stated dpi)
WIDTH = 7.5
IMAGE_DPI = 150
VIDEO_DPI = 100  # 7.6 in x 100 dpi = 760 px of video: the content width, no scaling in the page


def _key(name: str) -> str:
    return "".join(ch for ch in name.lower() if ch not in " -_+")


def color(name: str) -> str:
    """The colour of optimizer ``name`` ("SGD", "Adam", "SGD + momentum", "Nesterov", ...).

    >>> color("Adam") == color("adam")
    True
    """
    if not isinstance(name, str):
        raise TypeError(f"optimizer name must be a str, got {name!r}")
    key = _key(name)
    if key not in OPTIMIZER_COLORS:
        known = ", ".join(sorted(OPTIMIZER_COLORS))
        raise KeyError(f"no colour for optimizer {name!r}; known (normalized): {known}")
    return OPTIMIZER_COLORS[key]


def shades(name_or_color: str, n: int, *, lightest: float = 0.78, darkest: float = 0.28) -> list[str]:
    """``n`` shades of one optimizer's colour, dark to light, for a sweep of one hyperparameter.

    The hue stays the optimizer's; the lightness (HLS) goes from ``darkest`` to ``lightest``, so the
    order of the sweep reads as an order of lightness (which survives colour-blindness and greyscale).
    """
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    base = name_or_color if name_or_color.startswith("#") else color(name_or_color)
    r, g, b = (int(base[i : i + 2], 16) / 255 for i in (1, 3, 5))
    h, _, s = colorsys.rgb_to_hls(r, g, b)
    if n == 1:
        return [base]
    out = []
    for i in range(n):
        lightness = darkest + (lightest - darkest) * i / (n - 1)
        rr, gg, bb = colorsys.hls_to_rgb(h, lightness, max(s, 0.35))
        out.append(f"#{round(rr * 255):02x}{round(gg * 255):02x}{round(bb * 255):02x}")
    return out


RC = {
    "figure.facecolor": BACKGROUND,
    "savefig.facecolor": BACKGROUND,
    "axes.facecolor": BACKGROUND,
    "axes.edgecolor": MUTED_INK,
    "axes.labelcolor": INK,
    "axes.titlecolor": INK,
    "axes.titlesize": 11,
    "axes.titleweight": "bold",
    "axes.labelsize": 10,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": False,
    "grid.color": GRID,
    "grid.linewidth": 0.6,
    "xtick.color": MUTED_INK,
    "ytick.color": MUTED_INK,
    "xtick.labelcolor": INK,
    "ytick.labelcolor": INK,
    "xtick.labelsize": 9,
    "ytick.labelsize": 9,
    "font.size": 10,
    "font.family": "DejaVu Sans",
    "legend.fontsize": 8.5,
    "legend.frameon": True,
    "legend.framealpha": 0.92,
    "legend.facecolor": "#ffffff",
    "legend.edgecolor": GRID,
    "legend.labelcolor": INK,
    "text.color": INK,
    "lines.linewidth": 1.8,
    "lines.solid_capstyle": "round",
    "image.cmap": "cividis",
    "savefig.dpi": IMAGE_DPI,
    "figure.dpi": IMAGE_DPI,
    "svg.hashsalt": "optimessay",  # deterministic ids, should anyone save SVG
    "path.simplify": True,
    "axes.formatter.use_mathtext": True,
    "mathtext.default": "regular",
}


def apply() -> None:
    """Set the site's rcParams. The backend is left alone, so figures still show inline in a
    notebook (forcing Agg there silently drops every plot); the figure build and the tests choose
    Agg themselves (``MPLBACKEND=Agg``), and matplotlib falls back to it without a display."""
    import matplotlib

    matplotlib.rcParams.update(RC)


def figure(nrows: int = 1, ncols: int = 1, *, height: float = 4.6, width: float = WIDTH, **kwargs):
    """A new ``(fig, axes)`` in the site's style, laid out with the constrained layout engine."""
    import matplotlib.pyplot as plt

    apply()
    fig, axes = plt.subplots(
        nrows, ncols, figsize=(width, height), layout="constrained", squeeze=kwargs.pop("squeeze", True),
        **kwargs,
    )
    return fig, axes
