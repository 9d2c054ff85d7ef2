"""One look for every figure of the site: palette, sizes, fonts.

- **Colour-blind safe**: the optimizers take the Okabe-Ito colours (Okabe & Ito, 2008), which stay
  distinguishable under the common colour-vision deficiencies; landscapes are drawn in greys and
  heatmaps in ``cividis`` (perceptually uniform, readable without red-green vision), so the coloured
  paths are the only colour on a landscape.
- **The same colour for the same optimizer on every figure**: :func:`color` maps a name ("Adam",
  "SGD + momentum", ...) to one colour. A sweep of one optimizer's hyperparameter uses
  :func:`shades` of that optimizer's colour.
- **Light and dark theme**: every figure is a neutral light-grey card with dark text; `make figures`
  also writes a dark variant of each picture (:func:`dark_color` maps every colour of the drawn
  figure: the card becomes :data:`DARK_BACKGROUND`, near the site's slate background, text and
  lines turn light, optimizer colours keep their hue and gain lightness), and the page shows the
  one that matches the reader's theme.
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

# The optimizers of the newer pages (issue 11). Chosen from Paul Tol's and ColorBrewer's schemes by
# a search that kept, for every set of optimizers one figure shows together (the Fixing-Adam, sign,
# memory-light, beyond-diagonal and comparison line-ups), every pair at least 13.5 CIELAB units apart
# in normal vision and under simulated protan, deutan and tritan vision (Machado et al. 2009; the
# Okabe-Ito pair momentum/Nesterov is 16), each with a contrast of at least 3:1 on the light card.
# A figure that shows many optimizers still gives them line styles too: colour is never the only cue.
PLUM = "#762A83"  # NAdam
INDIGO = "#332288"  # RAdam
MAGENTA = "#EE3377"  # Adamax
CRIMSON = "#B2182B"  # Adadelta
BROWN = "#8C564B"  # Rprop
RUST = "#B15928"  # ASGD
TEAL = "#225555"  # Adafactor
MAROON = "#663333"  # Muon
CERISE = "#C51B7D"  # Shampoo
MOSS = "#666633"  # SOAP
VIOLET = "#4B0092"  # LBFGS
GREY = "#666666"  # SparseAdam

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
    "nadam": PLUM,
    "radam": INDIGO,
    "adamax": MAGENTA,
    "adadelta": CRIMSON,
    "rprop": BROWN,
    "asgd": RUST,
    "adafactor": TEAL,
    "muon": MAROON,
    "shampoo": CERISE,
    "soap": MOSS,
    "lbfgs": VIOLET,
    "sparseadam": GREY,
}

# The card every figure is drawn on, and its ink.
BACKGROUND = "#f4f4f2"
INK = "#222222"
MUTED_INK = "#555555"
GRID = "#d8d8d4"
# Marks
MINIMUM_COLOR = "#111111"
DIVERGED_COLOR = "#b0b0b0"
# Heatmap cells: diverged (pale red, hatched in dark red) and ended above the start's loss (grey)
DIVERGED_FACE = "#f4c7c3"
DIVERGED_HATCH = "#9e2a1f"
ABOVE_COLOR = "#c9c9c9"

# The dark variant's card and ink. The card is a shade lighter than Material's slate background
# (hsl(225, 15%, 14%) = #1e2129), as the light card is a shade darker than the white page.
DARK_BACKGROUND = "#262a35"
DARK_INK = "#e4e4e6"
DARK_MUTED_INK = "#a9abb3"
DARK_GRID = "#3d4250"
# Each optimizer colour's dark-theme counterpart, chosen (hue within 8 degrees of the light colour's,
# contrast at least 4.5:1 on DARK_BACKGROUND) by the same search as the light colours: every pair of
# one figure's line-up at least 14.6 CIELAB units apart in normal and simulated protan/deutan/tritan
# vision (lightening every colour by one rule brought some pairs down to 4.6).
DARK_OPTIMIZER_COLORS = {
    BLUE: "#c0e6fc", SKY: "#4caee5", GREEN: "#77f8c4", ORANGE: "#faeba3", VERMILLION: "#f6974c",
    PURPLE: "#d968b6", WINE: "#cb76a1", OLIVE: "#f7f0c5", BLACK: "#ececec",
    PLUM: "#ce97d8", INDIGO: "#9d81df", MAGENTA: "#fbb1cc", CRIMSON: "#f76a69", BROWN: "#c7876b",
    RUST: "#e2ab8d", TEAL: "#0ce9cb", MAROON: "#e76d5a", CERISE: "#ecb1cb", MOSS: "#f4da2f",
    VIOLET: "#b181df", GREY: "#999999",
}
_DARK_NEUTRALS = {  # the light style's neutrals -> their dark counterparts; other greys: by lightness
    BACKGROUND: DARK_BACKGROUND, INK: DARK_INK, MUTED_INK: DARK_MUTED_INK, GRID: DARK_GRID,
    "#ffffff": "#2e3340",  # legend frames and label boxes: a raised card
    MINIMUM_COLOR: "#f2f2f2", BLACK: "#ececec", DIVERGED_COLOR: "#5a5f6b",
    DIVERGED_FACE: "#5c2a27", DIVERGED_HATCH: "#f08a80", ABOVE_COLOR: "#555a66",
}

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


def _hex(rgb) -> str:
    return "#" + "".join(f"{min(max(round(c * 255), 0), 255):02x}" for c in rgb)


def dark_color(value: str) -> str:
    """The dark-theme counterpart of a colour of the light style (``#rrggbb``).

    The style's neutrals map to the dark card and ink (:data:`_DARK_NEUTRALS`), the optimizer
    colours to :data:`DARK_OPTIMIZER_COLORS`; another grey (HLS
    saturation below 0.12) keeps its place between card and ink (light greys turn dark, dark greys
    turn light, so Adagrad's black becomes a near-white that stays visible); another colour keeps its hue
    (saturation capped at 0.8), with its lightness L moved to 0.5 + 0.4 L (a sweep's :func:`shades`
    keep their order) and raised further until it has a contrast of 4.5:1 on the dark card.

    >>> dark_color("#000000")
    '#ececec'
    """
    if not (isinstance(value, str) and len(value) == 7 and value.startswith("#")):
        raise ValueError(f"expected a colour '#rrggbb', got {value!r}")
    key = value.lower()
    for table in (_DARK_NEUTRALS, DARK_OPTIMIZER_COLORS):
        for light, dark in table.items():
            if light.lower() == key:
                return dark
    r, g, b = (int(key[i : i + 2], 16) / 255 for i in (1, 3, 5))
    h, lightness, s = colorsys.rgb_to_hls(r, g, b)
    if s < 0.12 or lightness > 0.97 or lightness < 0.03:
        # between the dark card (L ~ 0.18) and the ink (L ~ 0.9), in reverse order
        target = 0.18 + (1 - lightness) * (0.9 - 0.18)
        return _hex(colorsys.hls_to_rgb(h, target, s))
    target, s = 0.5 + 0.4 * lightness, min(s, 0.8)  # no neon: saturation at most 0.8
    while _contrast(colorsys.hls_to_rgb(h, target, s), DARK_BACKGROUND) < 4.5 and target < 0.9:
        target += 0.01  # blues and violets carry little luminance: lighten them until they read
    return _hex(colorsys.hls_to_rgb(h, target, s))


def _luminance(rgb) -> float:
    """WCAG relative luminance of an (r, g, b) in 0..1."""
    lin = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def _contrast(rgb, other: str) -> float:
    """WCAG contrast ratio between an (r, g, b) and a '#rrggbb'."""
    a = _luminance(rgb)
    b = _luminance([int(other[i : i + 2], 16) / 255 for i in (1, 3, 5)])
    return (max(a, b) + 0.05) / (min(a, b) + 0.05)


def dark_colors() -> dict[str, str]:
    """Optimizer -> its dark-theme colour (the playground mirrors this table for its dark mode)."""
    return {name: dark_color(value) for name, value in OPTIMIZER_COLORS.items()}


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
