"""The site's plots: landscapes, trajectories, curves, sweep heatmaps and the preconditioner view.

Every function draws from arrays (or objects that carry them: a ``Landscape``, a ``Trajectory``)
into matplotlib axes, in the look of :mod:`optimessay.style`. ``draw_*`` functions draw into an
``ax`` you pass; ``plot_*`` functions make and return a whole figure. :func:`save_png` writes a
figure reproducibly (no metadata, atomic rename).

A *run* is a dict describing one line on a plot::

    {"label": "Adam lr=0.1", "points": (T+1, 2) array, "color": "#D55E00"}

optionally with ``"losses"``, ``"lrs"``, ``"preconditioners"``, ``"linestyle"``; :func:`run` makes
one from a ``Trajectory``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from optimessay import style
from optimessay.files import write_atomic

# ---------------------------------------------------------------------------------------------
# labels


def _fmt(value) -> str:
    """A hyperparameter value, short: 0.001 -> '1e-3', 0.00158 -> '1.58e-3', 0.9 -> '0.9',
    (0.9, 0.999) -> '(0.9, 0.999)'."""
    if isinstance(value, bool) or value is None:
        return str(value)
    if isinstance(value, (tuple, list)):
        return "(" + ", ".join(_fmt(v) for v in value) + ")"
    if isinstance(value, float):
        if value != 0 and (abs(value) < 1e-2 or abs(value) >= 1e4):
            mantissa, exponent = f"{value:.2e}".split("e")
            mantissa = mantissa.rstrip("0").rstrip(".")
            return f"{mantissa}e{int(exponent)}"
        return f"{value:.4g}"
    return str(value)


def label(name: str, **hyperparameters) -> str:
    """A legend entry naming an optimizer and its hyperparameters: ``label("Adam", lr=0.1)`` ->
    ``'Adam lr=0.1'``; values keep torch's argument names so a reader can type them back in."""
    parts = [name] + [f"{key}={_fmt(value)}" for key, value in hyperparameters.items()]
    return " ".join(parts)


# ---------------------------------------------------------------------------------------------
# data helpers


def as_numpy(values) -> np.ndarray:
    """A float64 numpy copy of a tensor, array or list."""
    if hasattr(values, "detach"):
        values = values.detach().cpu().double().numpy()
    return np.array(values, dtype=np.float64)


def run(trajectory, label: str, color: str, **extra) -> dict:
    """A run dict (see the module docstring) from a ``Trajectory``'s arrays."""
    out = {"label": label, "color": color, "points": as_numpy(trajectory.points)}
    for field in ("losses", "lrs", "preconditioners"):
        value = getattr(trajectory, field, None)
        if value is not None:
            out[field] = as_numpy(value)
    out.update(extra)
    return out


def finite_prefix(points: np.ndarray) -> np.ndarray:
    """The points up to the first non-finite one (a diverged walk is drawn until it leaves)."""
    points = np.asarray(points, dtype=np.float64)
    bad = ~np.isfinite(points).all(axis=-1)
    return points[: int(np.argmax(bad))] if bad.any() else points


def grid_values(fn: Callable, xlim: Sequence[float], ylim: Sequence[float], n: int = 241):
    """Evaluate ``fn(x, y)`` (torch, batched) on an ``n x n`` grid: returns ``xs, ys, Z`` (numpy,
    ``Z[i, j] = fn(xs[j], ys[i])``), in float64."""
    import torch

    xs = np.linspace(xlim[0], xlim[1], n)
    ys = np.linspace(ylim[0], ylim[1], n)
    X, Y = torch.meshgrid(torch.tensor(xs), torch.tensor(ys), indexing="xy")
    with torch.no_grad():
        Z = fn(X, Y)
    return xs, ys, as_numpy(Z)


# ---------------------------------------------------------------------------------------------
# landscapes

LANDSCAPE_GID = "optimessay-landscape"  # on a landscape's axes and its filled contours
KEEP_GID = "optimessay-keep-colour"  # an artist the dark variant leaves as it is (a mark on a colour map)


def draw_contours(ax, xs, ys, Z, *, log: bool = False, levels: int = 18, filled: bool = True,
                  cmap: str = "Greys"):
    """Contours of ``Z`` over the grid ``xs x ys``. With ``log=True`` the levels are spaced evenly in
    log(Z - min Z), which shows both the floor of a valley and its steep walls (the seed's
    ``log_scale``). Returns the ``QuadContourSet`` of the lines."""
    from matplotlib import colors

    Z = np.asarray(Z, dtype=np.float64)
    finite = Z[np.isfinite(Z)]
    if finite.size == 0:
        raise ValueError("landscape values are all non-finite on this grid")
    if log:
        floor = finite.min()
        span = finite.max() - floor
        offset = max(span * 1e-6, 1e-12)  # log(Z - min + offset): the minimum itself is finite
        Zs = Z - floor + offset
        level_values = np.geomspace(Zs[np.isfinite(Zs)].min() * 10, Zs[np.isfinite(Zs)].max(), levels)
        norm = colors.LogNorm(vmin=level_values[0], vmax=level_values[-1])
    else:
        Zs = Z
        level_values = np.linspace(finite.min(), finite.max(), levels + 2)[1:-1]
        norm = colors.Normalize(vmin=level_values[0], vmax=level_values[-1])
    filled_set = None
    if filled:
        # light greys only (0.02 .. 0.38 of the map): the coloured paths stay the only strong colour
        import matplotlib

        base = matplotlib.colormaps[cmap]
        light = colors.ListedColormap(base(np.linspace(0.02, 0.38, 256)))
        fill_levels = np.concatenate([[Zs[np.isfinite(Zs)].min()], level_values, [Zs[np.isfinite(Zs)].max()]])
        fill_levels = np.unique(fill_levels)
        filled_set = ax.contourf(xs, ys, Zs, levels=fill_levels, cmap=light, norm=norm, extend="both")
        filled_set.set_gid(LANDSCAPE_GID)  # the dark variant swaps its colour map (to_dark)
    # lines a step darker than the darkest fill, so each level reads against the fill on both sides
    lines = ax.contour(xs, ys, Zs, levels=level_values, colors=style.MUTED_INK, linewidths=0.6, alpha=0.8)
    ax.set_xlim(xs[0], xs[-1])
    ax.set_ylim(ys[0], ys[-1])
    return filled_set if filled_set is not None else lines


def draw_minima(ax, minima, *, label: str | None = "minimum", size: float = 11):
    """Mark each ``(x, y)`` in ``minima`` with a star (white rim: it reads on any background)."""
    minima = np.atleast_2d(np.asarray(minima, dtype=np.float64))
    if minima.size == 0:
        return None
    return ax.plot(minima[:, 0], minima[:, 1], linestyle="none", marker="*", markersize=size,
                   markerfacecolor=style.MINIMUM_COLOR, markeredgecolor="white", markeredgewidth=0.9,
                   label=label, zorder=6)[0]


def draw_landscape(ax, landscape, *, xlim=None, ylim=None, log: bool | None = None, n: int = 241,
                   minima: bool = True, levels: int = 18, title: str | None = None):
    """A landscape's contours (log-scale if the landscape asks for it) with its minima marked.
    Returns the contour set (for a colour bar)."""
    xlim = xlim if xlim is not None else landscape.x_range
    ylim = ylim if ylim is not None else landscape.y_range
    log = landscape.log_scale if log is None else log
    xs, ys, Z = grid_values(landscape.fn, xlim, ylim, n)
    contours = draw_contours(ax, xs, ys, Z, log=log, levels=levels)
    ax.set_gid(LANDSCAPE_GID)  # a trajectory figure: the build adds a narrow variant (narrow_layout)
    if minima:
        draw_minima(ax, landscape.minima)
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    ax.set_aspect("equal", adjustable="box")
    if title:
        ax.set_title(title)
    return contours


# ---------------------------------------------------------------------------------------------
# trajectories


PATH_GID = "optimessay-path"


def draw_path(ax, points, *, color: str, label: str | None = None, linestyle: str = "-",
              linewidth: float | None = None, markers: bool = True, start: bool = True, zorder: float = 4):
    """One walk: a line through ``points`` with small dots at the iterates, a ring at the start and
    a filled dot at the end (where it stopped, or where it left the finite numbers).

    Without a ``linewidth``, each walk drawn on the same axes is a little thinner than the one before
    (1.8, 1.5, 1.2, 1.0 pt...): two walks that coincide (gradient descent under Nesterov, or schedules
    that agree until they part) both stay visible, the earlier one as a rim around the later one."""
    pts = finite_prefix(points)
    if linewidth is None:
        earlier = sum(1 for line in ax.get_lines() if line.get_gid() == PATH_GID)
        linewidth = max(1.0, 1.8 - 0.3 * earlier)
        markersize = max(1.6, 2.2 - 0.3 * earlier)
    else:
        markersize = 2.2
    line = ax.plot(pts[:, 0], pts[:, 1], color=color, linestyle=linestyle, linewidth=linewidth,
                   label=label, zorder=zorder, marker="o" if markers else None,
                   markersize=markersize, markevery=1 if markers else None, gid=PATH_GID)[0]
    if start and len(pts):
        ax.plot(*pts[0], marker="o", markersize=7, markerfacecolor="none", markeredgecolor=style.INK,
                markeredgewidth=1.2, zorder=zorder + 1)
    if len(pts):
        ax.plot(*pts[-1], marker="o", markersize=5.5, color=color, markeredgecolor="white",
                markeredgewidth=0.8, zorder=zorder + 1)
    return line


def legend(ax, *, outside: bool = False, **kwargs):
    """The site's legend: inside the axes (best corner), or outside to the right of the figure, where
    the constrained layout makes room for it (long labels never get clipped)."""
    if outside:
        handles, labels = ax.get_legend_handles_labels()
        return ax.figure.legend(handles, labels, loc="outside right upper", **kwargs)
    return ax.legend(**kwargs)


def legend_columns(labels: Sequence[str], *, width_chars: int = 112) -> int:
    """How many legend columns fit across the figure: about ``width_chars`` characters of legend
    text fit in one row at the site's width (7.5 in, 9 pt), and each entry also needs its handle."""
    longest = max((len(text) for text in labels), default=1)
    return max(1, min(len(labels), width_chars // (longest + 7)))


def legend_below(fig, ax=None, *, ncols: int | None = None, **kwargs):
    """A legend under the plot, in as many columns as fit (:func:`legend_columns`): it takes a few
    rows of height instead of a column of width, so it never squeezes the axes. Entries are taken
    from ``ax`` (default: the figure's first axes)."""
    ax = ax if ax is not None else fig.axes[0]
    handles, labels = ax.get_legend_handles_labels()
    ncols = ncols if ncols is not None else legend_columns(labels)
    return fig.legend(handles, labels, loc="outside lower center", ncols=ncols, **kwargs)


def paths_overlap(runs: Sequence[dict], *, xlim, ylim, tolerance: float = 0.02) -> float:
    """How much the walks of ``runs`` lie on top of each other: for each pair, the smaller of the two
    fractions of one walk's points that lie within ``tolerance`` x the window's diagonal of a point of
    the other; the mean over pairs (0: apart, 1: every walk on every other)."""
    window = np.hypot(xlim[1] - xlim[0], ylim[1] - ylim[0])
    paths = [finite_prefix(r["points"]) for r in runs]
    shares = []
    for a in range(len(paths)):
        for b in range(a + 1, len(paths)):
            if len(paths[a]) == 0 or len(paths[b]) == 0:
                shares.append(0.0)
                continue
            d = np.linalg.norm(paths[a][:, None, :] - paths[b][None, :, :], axis=-1)
            near = d < tolerance * window
            shares.append(min(near.any(axis=1).mean(), near.any(axis=0).mean()))
    return float(np.mean(shares)) if shares else 0.0


SMALL_MULTIPLES_OVERLAP = 0.5  # walks that overlap more than this (paths_overlap) get a panel each


def plot_trajectories(landscape, runs: Sequence[dict], *, title: str | None = None, xlim=None, ylim=None,
                      log: bool | None = None, height: float = 4.8, legend_inside: bool = False,
                      legend_ncols: int | None = None, markers: bool = True):
    """Several walks over one landscape (the seed's ``plot_optimization`` family), legend naming
    each walk's optimizer and hyperparameters; the minima are marked. The legend goes below the plot
    in columns (default) or inside the axes (``legend_inside=True``, for one or two short entries);
    ``markers=False`` leaves out the dots at each iterate (long walks).

    Three or more walks that mostly lie on top of each other (:func:`paths_overlap` above
    ``SMALL_MULTIPLES_OVERLAP``, e.g. one optimizer under gentle schedules) are drawn as small
    multiples: a panel per walk, in its colour, over the others in faint grey, so each can be followed
    to its end."""
    if not runs:
        raise ValueError("plot_trajectories needs at least one run")
    window_x = xlim if xlim is not None else landscape.x_range
    window_y = ylim if ylim is not None else landscape.y_range
    if len(runs) >= 3 and paths_overlap(runs, xlim=window_x, ylim=window_y) > SMALL_MULTIPLES_OVERLAP:
        return _small_multiples(landscape, runs, title=title, xlim=xlim, ylim=ylim, log=log, markers=markers)
    fig, ax = style.figure(height=height)
    draw_landscape(ax, landscape, xlim=xlim, ylim=ylim, log=log)
    for r in runs:
        draw_path(ax, r["points"], color=r["color"], label=r["label"], linestyle=r.get("linestyle", "-"),
                  markers=markers)
    if title:
        ax.set_title(title)
    if legend_inside:
        legend(ax)
    else:
        legend_below(fig, ax, ncols=legend_ncols)
    return fig


def _small_multiples(landscape, runs, *, title, xlim, ylim, log, markers):
    from matplotlib.lines import Line2D

    ncols = 2 if len(runs) <= 4 else 3
    nrows = -(-len(runs) // ncols)
    # rows no taller than a column is wide (a 2D landscape): the picture stays light for the page
    fig, axes = style.figure(nrows, ncols, height=(2.9 if ncols == 2 else 2.3) * nrows + 0.9, squeeze=False,
                             sharex=True, sharey=True)
    flat = list(axes.flat)
    for k, (ax, r) in enumerate(zip(flat, runs, strict=False)):
        draw_landscape(ax, landscape, xlim=xlim, ylim=ylim, log=log, n=161, minima=k == 0)
        if k != 0:
            draw_minima(ax, landscape.minima, label=None)
        for other in runs:
            if other is not r:
                pts = finite_prefix(other["points"])
                ax.plot(pts[:, 0], pts[:, 1], color=style.MUTED_INK, linewidth=0.8, alpha=0.45, zorder=3)
        draw_path(ax, r["points"], color=r["color"], label=r["label"], linestyle=r.get("linestyle", "-"),
                  markers=markers, linewidth=1.8)
        ax.set_title(r["label"], fontsize=9, fontweight="normal")
        ax.label_outer()
    for ax in flat[len(runs):]:
        ax.set_visible(False)
    handles, labels = [], []
    for ax in flat[: len(runs)]:
        for handle, text in zip(*ax.get_legend_handles_labels(), strict=True):
            if text not in labels:
                handles.append(handle)
                labels.append(text)
    handles.append(Line2D([], [], color=style.MUTED_INK, linewidth=0.8, alpha=0.45))
    labels.append("the other walks")
    fig.legend(handles, labels, loc="outside lower center", ncols=legend_columns(labels))
    if title:
        fig.suptitle(title, fontsize=11, fontweight="bold")
    return fig


# ---------------------------------------------------------------------------------------------
# curves


def draw_curves(ax, runs: Sequence[dict], field: str, *, logy: bool = False, xlabel: str = "step",
                ylabel: str | None = None, start: int = 0):
    """``run[field]`` against the step for each run (e.g. ``"losses"`` or ``"lrs"``)."""
    for r in runs:
        values = np.asarray(r[field], dtype=np.float64)
        steps = np.arange(start, start + len(values))
        ax.plot(steps, values, color=r["color"], linestyle=r.get("linestyle", "-"), label=r["label"],
                linewidth=r.get("linewidth", 1.8), drawstyle=r.get("drawstyle", "default"))
    if logy:
        ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel or field)
    ax.grid(True, which="major")
    return ax


def plot_loss_curves(runs: Sequence[dict], *, title: str | None = None, logy: bool = True, height: float = 3.8):
    """Loss against step for each run, log scale by default (losses span decades)."""
    fig, ax = style.figure(height=height)
    draw_curves(ax, runs, "losses", logy=logy, ylabel="loss")
    if title:
        ax.set_title(title)
    legend_below(fig, ax)
    return fig


def plot_lr_curves(runs: Sequence[dict], *, title: str | None = None, logy: bool = False, height: float = 3.8):
    """Learning rate against step for each run (schedulers)."""
    fig, ax = style.figure(height=height)
    draw_curves(ax, runs, "lrs", logy=logy, ylabel="learning rate")
    if title:
        ax.set_title(title)
    legend_below(fig, ax)
    return fig


# ---------------------------------------------------------------------------------------------
# sweeps


def _log1m_forward(values):
    """mu -> -log10(1 - mu): the axis of a momentum-like parameter (0.9, 0.99, 0.999 equally spaced)."""
    values = np.asarray(values, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        return -np.log10(np.clip(1 - values, 1e-12, None))


def _log1m_inverse(values):
    return 1 - 10 ** (-np.asarray(values, dtype=np.float64))


def set_log1m_scale(ax, axis: str = "y", *, label: str | None = None):
    """Put a momentum-like parameter mu in [0, 1) on a log(1 - mu) axis: 0, 0.9, 0.99 and 0.999 are
    equally spaced, so the range 0.9-0.99, where the behaviour changes most, is not squeezed into a
    sliver. The data stay in mu (marks and lines need no conversion); ticks name mu."""
    from matplotlib.ticker import FixedLocator, FuncFormatter

    (ax.set_yscale if axis == "y" else ax.set_xscale)("function", functions=(_log1m_forward, _log1m_inverse))
    target = ax.yaxis if axis == "y" else ax.xaxis
    target.set_major_locator(FixedLocator([0.0, 0.5, 0.8, 0.9, 0.95, 0.99, 0.995, 0.999]))
    target.set_major_formatter(FuncFormatter(_tick_mu))
    target.set_minor_locator(FixedLocator([]))
    if label is not None:
        (ax.set_ylabel if axis == "y" else ax.set_xlabel)(label)


def _tick_mu(value, position=None) -> str:
    return f"{value:g}"


def _edges(c, scale):
    """Cell edges around centres ``c`` (midpoints, extrapolated at the ends) in the axis' scale."""
    forward, inverse = {"log": (np.log10, lambda t: 10**t), "log1m": (_log1m_forward, _log1m_inverse),
                        "linear": (lambda t: t, lambda t: t)}[scale]
    t = forward(np.asarray(c, dtype=np.float64))
    if len(t) == 1:
        return inverse(np.array([t[0] - 0.5, t[0] + 0.5]))
    mid = (t[1:] + t[:-1]) / 2
    return inverse(np.concatenate([[t[0] - (mid[0] - t[0])], mid, [t[-1] + (t[-1] - mid[-1])]]))


HEATMAP_CMAP = "viridis"  # perceptually uniform and colour-blind safe, with hue all along its range
ABOVE_COLOR = style.ABOVE_COLOR  # cells that ended above their start loss
DIVERGED_FACE = style.DIVERGED_FACE  # cells whose walk diverged (inf/nan), hatched in DIVERGED_HATCH
DIVERGED_HATCH = style.DIVERGED_HATCH


def draw_heatmap(ax, values, xs, ys, *, diverged=None, xlabel: str, ylabel: str, logx: bool = False,
                 logy: bool = False, log1m_y: bool = False, log_values: bool = True,
                 colorbar_label: str = "final loss", mark_best: bool = True, vmin: float | None = None,
                 vmax: float | None = None, above: float | None = None, above_label: str | None = None):
    """A heatmap of ``values[i, j]`` at ``(xs[j], ys[i])``: colour = value (log scale by default) on a
    colour bar from ``vmin`` to ``vmax`` (default: the finite values' range; pass the same pair to every
    heatmap a page compares); cells above ``above`` (e.g. the loss at the start: the walk made things
    worse) in flat grey, named in the legend with ``above_label``; cells where the walk diverged
    (non-finite, or ``diverged``) pale red and hatched, named in the legend; the lowest cell ringed,
    called "best" only when it is inside the grid (on an edge the grid may have cut off a better value,
    and the legend says which edge). ``log1m_y``: a momentum-like y on a log(1 - y) axis
    (:func:`set_log1m_scale`)."""
    import matplotlib.pyplot as plt
    from matplotlib import colors
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    values = np.asarray(values, dtype=np.float64)
    xs, ys = np.asarray(xs, dtype=np.float64), np.asarray(ys, dtype=np.float64)
    if values.shape != (len(ys), len(xs)):
        raise ValueError(f"values must have shape (len(ys), len(xs)) = {(len(ys), len(xs))}, got {values.shape}")
    if logy and log1m_y:
        raise ValueError("choose one of logy and log1m_y")
    bad = ~np.isfinite(values)
    if diverged is not None:
        bad |= np.asarray(diverged, dtype=bool)
    ok = values[~bad]
    if ok.size == 0:
        raise ValueError("every cell of the heatmap diverged: nothing to colour")
    worse = (~bad) & (values > above) if above is not None else np.zeros_like(bad)
    lo = float(vmin) if vmin is not None else float(ok.min())
    hi = float(vmax) if vmax is not None else float(ok.max())
    if log_values:
        lo = max(lo, 1e-300)
        hi = max(hi, lo * 10)
        norm = colors.LogNorm(vmin=lo, vmax=hi)
    else:
        hi = hi if hi > lo else lo + 1
        norm = colors.Normalize(vmin=lo, vmax=hi)
    shown = np.ma.masked_array(np.clip(values, lo, hi), mask=bad | worse)

    xe = _edges(xs, "log" if logx else "linear")
    ye = _edges(ys, "log" if logy else "log1m" if log1m_y else "linear")
    mesh = ax.pcolormesh(xe, ye, shown, cmap=HEATMAP_CMAP, norm=norm, shading="flat")
    mesh.set_gid(KEEP_GID)
    handles = []
    if worse.any():
        grey = ax.pcolormesh(xe, ye, np.where(worse, 1.0, np.nan), cmap=colors.ListedColormap([ABOVE_COLOR]),
                             shading="flat")
        grey.set_gid("optimessay-above")
        handles.append(Patch(facecolor=ABOVE_COLOR, edgecolor=style.MUTED_INK,
                             label=above_label or f"ended above {_fmt(float(above))}"))
    if bad.any():
        red = ax.pcolormesh(xe, ye, np.where(bad, 1.0, np.nan), cmap=colors.ListedColormap([DIVERGED_FACE]),
                            shading="flat")
        red.set_gid("optimessay-diverged")
        # the hatch over exactly the diverged cells (a contourf of the mask would round their corners)
        from matplotlib.collections import PolyCollection

        cells = []  # one rectangle per run of diverged cells in a row (a polygon per cell drew for a minute)
        for i in range(bad.shape[0]):
            row = np.concatenate([[False], bad[i], [False]])
            changes = np.flatnonzero(row[1:] != row[:-1])
            for j0, j1 in zip(changes[::2], changes[1::2], strict=True):
                cells.append([(xe[j0], ye[i]), (xe[j1], ye[i]), (xe[j1], ye[i + 1]), (xe[j0], ye[i + 1])])
        ax.add_collection(PolyCollection(cells, facecolors="none", edgecolors=DIVERGED_HATCH, linewidths=0,
                                         hatch="xxxx", zorder=2))
        handles.append(Patch(facecolor=DIVERGED_FACE, hatch="xxxx", edgecolor=DIVERGED_HATCH,
                             label="diverged (inf/nan)"))
    if logx:
        ax.set_xscale("log")
    if logy:
        ax.set_yscale("log")
    ax.set_xlim(xe[0], xe[-1])
    ax.set_ylim(ye[0], ye[-1])
    if log1m_y:
        set_log1m_scale(ax, "y")
        ax.set_ylim(ye[0], ye[-1])
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel + (", log(1 − ·) axis" if log1m_y else ""))
    cbar = plt.colorbar(mesh, ax=ax, pad=0.02, extend="min" if ok.min() < lo else "neither")
    cbar.set_label(colorbar_label)
    if mark_best:
        candidates = np.where(bad, np.inf, values)
        i, j = np.unravel_index(np.argmin(candidates), values.shape)
        best_x, best_y = (float(f"{float(v):.3g}") for v in (xs[j], ys[i]))  # 3 digits: a grid value, not a law
        where = f"{xlabel}={_fmt(best_x)}, {ylabel}={_fmt(best_y)}"
        edges = [name for name, at_edge in ((xlabel, j in (0, len(xs) - 1)), (ylabel, i in (0, len(ys) - 1)))
                 if at_edge and len(xs if name == xlabel else ys) > 1]
        text = (f"lowest cell, on the grid's {' and '.join(edges)} edge (a better value may lie beyond): {where}"
                if edges else f"best: {where}")
        ring = ax.plot(xs[j], ys[i], marker="o", markersize=11, markerfacecolor="none", markeredgecolor="white",
                       markeredgewidth=2.2, linestyle="none", label=text, zorder=5)[0]
        ring.set_gid(KEEP_GID)
        if edges:  # a second, dashed ring: an edge winner does not look like an interior best
            ax.plot(xs[j], ys[i], marker="o", markersize=15, markerfacecolor="none", markeredgecolor="white",
                    markeredgewidth=1.2, linestyle="none", zorder=5, gid=KEEP_GID)
        handles.append(Line2D([], [], marker="o", markersize=9, markerfacecolor="none", markeredgecolor=style.INK,
                              markeredgewidth=1.8, linestyle="none", label=text))
    if handles:
        ax.figure.legend(handles=handles, loc="outside lower center", ncols=1 if len(handles) > 2 else 2,
                         frameon=False)
    return mesh


def plot_heatmap(values, xs, ys, *, title: str | None = None, height: float = 4.6, **kwargs):
    """A whole figure around :func:`draw_heatmap`."""
    fig, ax = style.figure(height=height)
    draw_heatmap(ax, values, xs, ys, **kwargs)
    if title:
        ax.set_title(title)
    return fig


# ---------------------------------------------------------------------------------------------
# the preconditioner view


def draw_preconditioner_ellipses(ax, points, preconditioners, *, color: str, every: int = 5,
                                 scale: float | None = None, label: str | None = "P along the walk"):
    """The diagonal preconditioner P = (p_x, p_y) drawn along a walk: at every ``every``-th iterate an
    axis-aligned ellipse with half-axes proportional to (p_x, p_y), i.e. the shape a unit gradient is
    stretched into before the step. ``scale`` (data units per unit of P) defaults to making the
    largest ellipse 1/6 of the plot's width."""
    from matplotlib.collections import EllipseCollection

    pts = np.asarray(points, dtype=np.float64)
    P = np.asarray(preconditioners, dtype=np.float64)
    if P.ndim != 2 or P.shape[1] != 2:
        raise ValueError(f"preconditioners must have shape (steps, 2), got {P.shape}")
    n = min(len(P), len(pts))  # P[k] scaled the step from points[k] to points[k+1]
    idx = np.arange(0, n, every)
    idx = idx[np.isfinite(P[idx]).all(axis=1) & np.isfinite(pts[idx]).all(axis=1)]
    if idx.size == 0:
        return None
    if scale is None:
        width = abs(ax.get_xlim()[1] - ax.get_xlim()[0])
        scale = (width / 6) / max(P[idx].max(), 1e-300)
    widths = 2 * scale * P[idx, 0]
    heights = 2 * scale * P[idx, 1]
    coll = EllipseCollection(widths, heights, np.zeros(len(idx)), units="xy", offsets=pts[idx],
                             offset_transform=ax.transData, facecolors="none", edgecolors=color,
                             linewidths=1.1, alpha=0.85, zorder=5, label=label)
    ax.add_collection(coll)
    return coll


def draw_step_scale(ax, preconditioners, *, colors: Sequence[str], logy: bool = True, start: int = 0):
    """Per-coordinate step scale: p_x and p_y (the diagonal of P) against the step, in ``colors``
    (two shades of the optimizer's own colour: a fixed default would lend it another's)."""
    P = np.asarray(preconditioners, dtype=np.float64)
    steps = np.arange(start, start + len(P))
    ax.plot(steps, P[:, 0], color=colors[0], label="$p_x$ (x coordinate)")
    ax.plot(steps, P[:, 1], color=colors[1], label="$p_y$ (y coordinate)", linestyle="--")
    if logy:
        ax.set_yscale("log")
    ax.set_xlabel("step")
    ax.set_ylabel("preconditioner P (per coordinate)")
    ax.grid(True)
    return ax


def preconditioned_coordinates(fn: Callable, P_sqrt) -> Callable:
    """The landscape seen in coordinates u = P^(-1/2) x: ``g(u) = f(P^(1/2) u)``.

    Gradient descent with preconditioner P on f is plain gradient descent on g (with the same lr):
    x_{k+1} = x_k - lr P grad f(x_k)  <=>  u_{k+1} = u_k - lr grad g(u_k). With P = H^-1 the
    Hessian of g is the identity: an ill-conditioned valley becomes round. ``P_sqrt`` is a 2x2
    matrix (a full P^(1/2)) or a length-2 diagonal.
    """
    import torch

    M = torch.as_tensor(np.asarray(P_sqrt, dtype=np.float64))
    if M.ndim == 1:
        M = torch.diag(M)
    if M.shape != (2, 2):
        raise ValueError(f"P_sqrt must be a 2x2 matrix or a length-2 diagonal, got shape {tuple(M.shape)}")

    def g(u, v):
        x = M[0, 0] * u + M[0, 1] * v
        y = M[1, 0] * u + M[1, 1] * v
        return fn(x, y)

    return g


# ---------------------------------------------------------------------------------------------
# variants: the same drawn figure for the dark theme and for a phone

NARROW_WIDTH = 3.8  # inches: 380 CSS px at save_png's 100 px per inch, ~1:1 on a 390 px phone


def clone(fig, *, keep_layout: bool = False):
    """An independent copy of a drawn figure (pickled and unpickled): the variants are made from the
    figure the recipe returned, so no experiment runs twice. ``keep_layout=True`` (for a copy of a
    figure that has been drawn, e.g. saved): the copy keeps the positions the layout engine found and
    runs no layout of its own; the dark variant only changes colours, and the layout pass (text
    measuring) is most of a figure's drawing time. Raises what pickle raises for a figure holding
    something unpicklable (a lambda formatter, say)."""
    import pickle

    copy = pickle.loads(pickle.dumps(fig))
    if keep_layout:
        copy.set_layout_engine("none")
    return copy


def _rgba_map(value):
    """An RGBA tuple (or colour spec) -> its dark counterpart, alpha kept."""
    from matplotlib import colors

    r, g, b, a = colors.to_rgba(value)
    if a == 0:
        return (r, g, b, a)
    dark = style.dark_color(colors.to_hex((r, g, b)))
    return (*colors.to_rgb(dark), a)


def _map_colors(values):
    import numpy as np

    arr = np.asarray(values)
    if arr.size == 0:
        return values
    return [_rgba_map(tuple(c)) for c in np.atleast_2d(arr)]


def to_dark(fig):
    """Recolour a drawn figure for the dark theme, in place: every colour of every artist goes through
    :func:`optimessay.style.dark_color` (the card becomes the dark card, text and lines light, optimizer
    colours their dark counterparts); filled landscape contours get :func:`dark_landscape_cmap`;
    colour maps of data (heatmaps) and marks tagged ``KEEP_GID`` stay as they are. Returns ``fig``."""
    from matplotlib import collections, lines, patches, text
    from matplotlib.axes import Axes

    fig.set_facecolor(_rgba_map(fig.get_facecolor()))
    done = {id(fig), id(fig.patch)}  # each artist's colours are mapped once (a second pass would map them back)
    found = fig.findobj()  # children before their parents: the axes (and their tick settings) go first
    for artist in [a for a in found if isinstance(a, Axes)] + [a for a in found if not isinstance(a, Axes)]:
        if id(artist) in done:
            continue
        done.add(id(artist))
        if artist.get_gid() == KEEP_GID:
            continue
        if isinstance(artist, Axes):
            # ticks are made afresh when drawn, from the axis' tick settings: set those, and skip the
            # tick artists that exist now (they take the same settings)
            for axis, which in ((artist.xaxis, "x"), (artist.yaxis, "y")):
                ticks = axis.get_major_ticks() + axis.get_minor_ticks()
                if ticks:
                    first = ticks[0]
                    artist.tick_params(axis=which, which="both", color=_rgba_map(first.tick1line.get_color()),
                                       labelcolor=_rgba_map(first.label1.get_color()),
                                       grid_color=_rgba_map(first.gridline.get_color()))
                for tick in ticks:
                    done.update(id(a) for a in (tick.tick1line, tick.tick2line, tick.label1, tick.label2,
                                                tick.gridline))
        elif isinstance(artist, lines.Line2D):
            artist.set_color(_rgba_map(artist.get_color()))
            for getter, setter in (("get_markerfacecolor", "set_markerfacecolor"),
                                   ("get_markeredgecolor", "set_markeredgecolor")):
                value = getattr(artist, getter)()
                if not (isinstance(value, str) and value in ("none", "auto")):
                    getattr(artist, setter)(_rgba_map(value))
        elif isinstance(artist, text.Text):
            artist.set_color(_rgba_map(artist.get_color()))
            box = artist.get_bbox_patch()
            if box is not None and id(box) not in done:
                done.add(id(box))
                box.set_facecolor(_rgba_map(box.get_facecolor()))
                box.set_edgecolor(_rgba_map(box.get_edgecolor()))
        elif isinstance(artist, patches.Patch):
            if getattr(artist.axes, "_colorbar", None) is not None and artist.get_fill() and artist.axes.patch is not artist:
                continue  # a colour bar's end triangle: a colour of the map, the same in both themes
            artist.set_facecolor(_rgba_map(artist.get_facecolor()))
            artist.set_edgecolor(_rgba_map(artist.get_edgecolor()))
            if hasattr(artist, "get_hatchcolor") and artist.get_hatch():
                artist.set_hatchcolor(_rgba_map(artist.get_hatchcolor()))
        elif isinstance(artist, collections.Collection):
            if artist.get_gid() == LANDSCAPE_GID:
                artist.set_cmap(dark_landscape_cmap())
            elif artist.get_array() is not None and artist.get_gid() not in ("optimessay-above",
                                                                              "optimessay-diverged"):
                pass  # data on a colour map: the same colours mean the same values in both themes
            elif artist.get_array() is not None:
                cmap = artist.get_cmap()
                from matplotlib.colors import ListedColormap

                artist.set_cmap(ListedColormap(_map_colors(cmap(np.linspace(0, 1, cmap.N)))))
            else:
                artist.set_facecolor(_map_colors(artist.get_facecolor()))
                artist.set_edgecolor(_map_colors(artist.get_edgecolor()))
            if hasattr(artist, "get_hatchcolor") and artist.get_hatch():
                artist.set_hatchcolor(_rgba_map(artist.get_hatchcolor()))
    return fig


def dark_landscape_cmap():
    """The filled contours of a landscape in the dark variant: from the dark card (the floor of the
    valley) up to a slate grey (the walls), so the paths' light colours stay the strongest marks."""
    from matplotlib.colors import LinearSegmentedColormap

    return LinearSegmentedColormap.from_list("optimessay-dark-landscape", [style.DARK_BACKGROUND, "#4d5366"])


def is_trajectory_figure(fig) -> bool:
    """Whether ``fig`` draws a landscape (:func:`draw_landscape`): the figures that get a narrow variant."""
    return any(ax.get_gid() == LANDSCAPE_GID for ax in fig.axes)


def narrow_layout(fig, *, width: float = NARROW_WIDTH):
    """Re-lay a drawn figure out for a phone, in place: panels stacked in one column ``width`` inches
    wide (text keeps its size in points, so at ~1:1 on a 390 px screen a 9 pt tick label is ~12 px
    tall instead of ~6), titles wrapped, every legend of the figure (below or beside the plot) rebuilt
    below it in as many columns as fit. Returns ``fig``."""
    import textwrap

    from matplotlib.gridspec import GridSpec

    panels = [ax for ax in fig.axes if ax.get_subplotspec() is not None and ax.get_label() != "<colorbar>"]
    panels.sort(key=lambda ax: (ax.get_subplotspec().rowspan.start, ax.get_subplotspec().colspan.start))
    chars = int(width * 9.5)  # characters of 11 pt bold per line, about
    heights = []
    for ax in panels:
        if ax.get_aspect() == 1.0 or ax.get_aspect() == "equal":
            x0, x1 = ax.get_xlim()
            y0, y1 = ax.get_ylim()
            ratio = abs(y1 - y0) / max(abs(x1 - x0), 1e-300)
        else:
            ratio = 0.7
        heights.append(min(max(ratio, 0.45), 1.3))
        title = ax.get_title()
        if title and len(title) > chars:
            ax.set_title(textwrap.fill(title, chars))
        ax.tick_params(labelleft=True, labelbottom=True)
    if fig._suptitle is not None and len(fig._suptitle.get_text()) > chars:
        fig._suptitle.set_text(textwrap.fill(fig._suptitle.get_text(), chars))
    legends_rows = 0
    for old in list(fig.legends):
        handles, labels = old.legend_handles, [t.get_text() for t in old.get_texts()]
        ncols = legend_columns(labels, width_chars=int(width * 112 / style.WIDTH))
        fontsize = old.get_texts()[0].get_fontsize() if labels else None
        old.remove()
        fig.legend(handles, labels, loc="outside lower center", ncols=ncols,
                   fontsize=fontsize, frameon=old.get_frame_on())
        legends_rows += -(-len(labels) // ncols)
    grid = GridSpec(len(panels), 1, figure=fig, height_ratios=heights)
    for k, ax in enumerate(panels):
        ax.set_subplotspec(grid[k, 0])
    panel_width = width - 0.9
    height = sum(panel_width * h + 0.85 for h in heights) + 0.25 * legends_rows + 0.2
    fig.set_size_inches(width, height)
    return fig


# ---------------------------------------------------------------------------------------------
# saving


def _rgba_image(fig, dpi):
    """``fig`` rendered at ``dpi`` as a PIL RGBA image (Agg's pixels, as its PNG writer would store them)."""
    import io

    from PIL import Image

    buffer = io.BytesIO()
    fig.savefig(buffer, format="rgba", dpi=dpi, facecolor=fig.get_facecolor())
    data = buffer.getvalue()
    width, height = fig.get_size_inches() * dpi  # Agg's canvas: int() of these (round: float noise)
    for w, h in ((int(width), int(height)), (round(width), round(height))):
        if w * h * 4 == len(data):
            return Image.frombuffer("RGBA", (w, h), data, "raw", "RGBA", 0, 1)
    buffer = io.BytesIO()  # a size we cannot tell from the bytes: through a PNG, as before
    fig.savefig(buffer, format="png", dpi=dpi, facecolor=fig.get_facecolor())
    buffer.seek(0)
    return Image.open(buffer)


def save_png(fig, path, *, dpi: int = style.IMAGE_DPI, close: bool = True) -> tuple[int, int]:
    """Save ``fig`` as a 256-colour PNG at ``path``, reproducibly (no metadata: no software version, no
    date) and atomically (written to a temporary name in the same folder, then renamed). Closes the
    figure (unless ``close=False``: the build copies it afterwards, laid out, for its variants).

    Returns the size to show it at, ``(width, height)`` in CSS pixels: 100 per inch of figure, the
    scale its fonts are chosen for (7.5 in -> 750 px, the content width). The file has ``dpi / 100``
    times as many pixels (1.5x at 150 dpi), so it stays sharp on high-density screens."""
    import io

    import matplotlib.pyplot as plt
    from PIL import Image

    try:
        # the figure's own background (the dark variant's is dark; rcParams name the light one); the
        # raw RGBA pixels, not a PNG: matplotlib's PNG would be encoded only to be decoded again here
        # (measured: 0.25 -> 0.10 s CPU per picture; the very same pixels, so the same file)
        with _rgba_image(fig, dpi) as im:
            # 256 colours (no dithering) are plenty for flat plots and make the file 2-5x smaller;
            # PIL writes no text chunks or timestamps, so the bytes depend on the pixels only.
            palette = im.convert("RGB").quantize(colors=256, method=Image.Quantize.FASTOCTREE,
                                                  dither=Image.Dither.NONE)
            png = io.BytesIO()
            palette.save(png, format="png", optimize=True)
            size = tuple(round(n * 100 / dpi) for n in palette.size)
        write_atomic(path, png.getvalue())
    finally:
        if close:
            plt.close(fig)
    return size


# ---------------------------------------------------------------------------------------------
# notebooks


def describe(fig) -> str:
    """A plain-text description of a figure from what it names: each panel's title and axes, and
    the legend's entries. The default alt text of :func:`show`."""
    panels = []
    for ax in fig.axes:
        if not (ax.get_title() or ax.get_lines() or ax.collections or ax.images):
            continue  # an empty or decorative axes
        text = ax.get_title() or "a plot"
        if ax.get_xlabel() and ax.get_ylabel():
            text += f" ({ax.get_ylabel()} against {ax.get_xlabel()})"
        panels.append(text)
    legends = [ax.get_legend() for ax in fig.axes] + list(fig.legends)
    entries = [t.get_text() for legend in legends if legend is not None for t in legend.get_texts()]
    description = "Figure: " + "; ".join(panels or ["a plot"])
    if entries:
        description += ". Legend: " + ", ".join(dict.fromkeys(entries))
    return description + "."


def show(fig, alt: str | None = None, *, dpi: int = 90):
    """Show ``fig`` in a notebook as a light 256-colour PNG with alt text (``alt``, or
    :func:`describe`'s), and close it. The image goes out as HTML (``<img alt=...>``): Jupyter's
    PNG outputs carry no alt text into nbconvert's pages, which then say "No description"."""
    import base64
    import io
    from html import escape

    import matplotlib.pyplot as plt
    from IPython.display import HTML, display
    from PIL import Image

    text = alt if alt is not None else describe(fig)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight")
    plt.close(fig)
    buffer.seek(0)
    with Image.open(buffer) as im:
        png = io.BytesIO()
        im.convert("RGB").quantize(256).save(png, format="PNG", optimize=True)
    data = base64.b64encode(png.getvalue()).decode("ascii")
    display(HTML(f'<img alt="{escape(text)}" src="data:image/png;base64,{data}">'))
