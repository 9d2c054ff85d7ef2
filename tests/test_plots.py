"""The pictures layer: style, plot functions (artists, labels, marks) and animations (formats, size,
determinism). References are independent: numpy for the numbers, the PNG/MP4 byte formats parsed by
hand, ffmpeg itself for the streams."""

import math
import re
import struct
import subprocess

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from optimessay import SGD, Adam, RMSprop, animate, landscapes, plots, style, trajectory  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


# --- style -----------------------------------------------------------------------------------------


def test_one_colour_per_optimizer_whatever_the_spelling():
    assert style.color("Adam") == style.color("adam") == style.color(" ADAM ")
    assert style.color("SGD + momentum") == style.color("momentum")
    main = [style.color(n) for n in ("SGD", "Momentum", "Nesterov", "RMSprop", "Adam", "AdamW", "Adagrad")]
    assert len(set(main)) == 7  # seven contestants, seven colours


def test_unknown_optimizer_colour_names_the_value():
    with pytest.raises(KeyError, match="Lion"):
        style.color("Lion")


def test_shades_keep_the_hue_and_order_the_lightness():
    import colorsys

    shades = style.shades("rmsprop", 5)
    assert len(shades) == 5
    hls = [colorsys.rgb_to_hls(*(int(s[i : i + 2], 16) / 255 for i in (1, 3, 5))) for s in shades]
    lightness = [h[1] for h in hls]
    assert lightness == sorted(lightness) and lightness[0] < lightness[-1] - 0.3
    base_hue = colorsys.rgb_to_hls(*(int(style.ORANGE[i : i + 2], 16) / 255 for i in (1, 3, 5)))[0]
    assert all(abs(h[0] - base_hue) < 0.02 for h in hls)
    with pytest.raises(ValueError, match="n must be >= 1"):
        style.shades("adam", 0)


def test_label_names_hyperparameters_as_torch_spells_them():
    assert plots.label("Adam", lr=0.1) == "Adam lr=0.1"
    assert plots.label("SGD", lr=1e-3, momentum=0.98) == "SGD lr=1e-3 momentum=0.98"
    assert plots.label("Adam", betas=(0.9, 0.999)) == "Adam betas=(0.9, 0.999)"


# --- landscapes and trajectories -----------------------------------------------------------------------


def test_landscape_contours_mark_every_minimum_and_keep_the_range():
    fig, ax = style.figure()
    himmelblau = landscapes.himmelblau()
    plots.draw_landscape(ax, himmelblau)
    stars = [line for line in ax.get_lines() if line.get_label() == "minimum"]
    assert len(stars) == 1
    np.testing.assert_allclose(np.column_stack(stars[0].get_data()), np.array(himmelblau.minima))
    assert ax.get_xlim() == pytest.approx(himmelblau.x_range)
    assert ax.get_ylim() == pytest.approx(himmelblau.y_range)
    assert ax.collections, "no contours drawn"


def test_log_contour_levels_are_log_spaced():
    xs = ys = np.linspace(-2, 2, 50)
    X, Y = np.meshgrid(xs, ys)
    Z = (1 - X) ** 2 + 100 * (Y - X**2) ** 2
    fig, ax = style.figure()
    filled = plots.draw_contours(ax, xs, ys, Z, log=True, levels=12)
    lines = [c for c in ax.collections if c is not filled][0]
    ratios = np.diff(np.log(lines.levels))
    np.testing.assert_allclose(ratios, ratios[0], rtol=1e-9)  # equal steps in log f


def test_trajectory_plot_has_one_labelled_line_per_run():
    banana = landscapes.rosenbrock()
    runs = [
        plots.run(trajectory.run(banana, SGD, {"lr": 1e-3, "momentum": 0.98}, steps=30),
                  plots.label("SGD", lr=1e-3, momentum=0.98), style.color("momentum")),
        plots.run(trajectory.run(banana, Adam, {"lr": 0.1}, steps=30), plots.label("Adam", lr=0.1), style.color("adam")),
    ]
    fig = plots.plot_trajectories(banana, runs, title="t")
    ax = fig.axes[0]
    labelled = {line.get_label(): line for line in ax.get_lines() if not line.get_label().startswith("_")}
    assert set(labelled) == {"minimum", "SGD lr=1e-3 momentum=0.98", "Adam lr=0.1"}
    np.testing.assert_allclose(np.column_stack(labelled["Adam lr=0.1"].get_data()), runs[1]["points"])
    assert labelled["Adam lr=0.1"].get_color() == style.color("adam")
    legend_texts = [t.get_text() for t in fig.legends[0].get_texts()]
    assert "SGD lr=1e-3 momentum=0.98" in legend_texts and "Adam lr=0.1" in legend_texts


def test_the_legend_goes_below_the_plot_in_columns_and_never_overlaps_it():
    banana = landscapes.rosenbrock()
    runs = [{"label": f"RMSprop alpha={a}", "points": np.array([[-1.5, 2.5], [0.0, 0.0]]), "color": "#E69F00"}
            for a in (0.8, 0.7, 0.6, 0.5, 0.4, 0.3)]
    fig = plots.plot_trajectories(banana, runs, title="t")
    fig.canvas.draw()
    legend_box = fig.legends[0].get_window_extent()
    axes_box = fig.axes[0].get_tightbbox()
    assert legend_box.y1 <= axes_box.y0 + 1  # wholly under the axes, tick labels included
    assert legend_box.width <= fig.bbox.width  # inside the figure
    assert fig.legends[0]._ncols == plots.legend_columns(["minimum"] + [r["label"] for r in runs]) > 1
    # columns: about 112 characters of legend fit across; a long label gets one column
    assert plots.legend_columns(["x" * 20] * 6) == 112 // 27
    assert plots.legend_columns(["x" * 90, "y"]) == 1


def test_a_diverged_walk_is_drawn_up_to_its_last_finite_point():
    points = np.array([[0.0, 0.0], [1.0, 1.0], [np.inf, 2.0], [np.nan, np.nan]])
    np.testing.assert_array_equal(plots.finite_prefix(points), points[:2])
    fig, ax = style.figure()
    line = plots.draw_path(ax, points, color="#000000", label="x")
    assert len(line.get_xdata()) == 2


def test_curves_plot_losses_per_step_on_a_log_axis():
    walk = trajectory.run("rosenbrock", Adam, {"lr": 0.05}, steps=20)
    fig = plots.plot_loss_curves([plots.run(walk, "Adam lr=0.05", style.color("adam"))])
    ax = fig.axes[0]
    assert ax.get_yscale() == "log" and ax.get_xlabel() == "step" and ax.get_ylabel() == "loss"
    (line,) = [ln for ln in ax.get_lines() if ln.get_label() == "Adam lr=0.05"]
    np.testing.assert_allclose(line.get_ydata(), walk.losses.numpy())
    np.testing.assert_array_equal(line.get_xdata(), np.arange(21))


# --- heatmaps -------------------------------------------------------------------------------------------


def test_heatmap_marks_divergence_and_the_best_cell():
    xs = np.logspace(-3, 0, 6)
    ys = np.linspace(0, 0.9, 4)
    values = np.add.outer(ys, np.log10(xs)) ** 2 + 0.01  # rows: y, columns: x
    values[3, 5] = np.inf
    diverged = np.zeros_like(values, dtype=bool)
    diverged[2:, 4:] = True
    fig, ax = style.figure()
    plots.draw_heatmap(ax, values, xs, ys, diverged=diverged, xlabel="lr", ylabel="momentum", logx=True)
    legend_texts = [t.get_text() for t in fig.legends[0].get_texts()]
    assert "diverged (inf/nan)" in legend_texts
    masked = np.where(diverged | ~np.isfinite(values), np.inf, values)
    i, j = np.unravel_index(np.argmin(masked), masked.shape)
    best = [ln for ln in ax.get_lines() if ln.get_label().startswith(("best", "lowest cell"))][0]
    assert best.get_xdata()[0] == pytest.approx(xs[j]) and best.get_ydata()[0] == pytest.approx(ys[i])
    # this grid's lowest cell is on its momentum edge (row 0): never called "best" without saying so
    assert i == 0 and best.get_label().startswith("lowest cell, on the grid's lr and momentum edge")
    assert ax.get_xscale() == "log"
    assert fig.axes[1].get_ylabel() == "final loss"  # the colour bar


def test_heatmap_rejects_a_wrong_shape():
    fig, ax = style.figure()
    with pytest.raises(ValueError, match=r"shape \(len\(ys\), len\(xs\)\) = \(2, 3\)"):
        plots.draw_heatmap(ax, np.ones((3, 2)), [1, 2, 3], [1, 2], xlabel="a", ylabel="b")


# --- the preconditioner view -----------------------------------------------------------------------------


def test_preconditioner_ellipses_have_half_axes_proportional_to_P():
    walk = trajectory.run("rosenbrock", RMSprop, {"lr": 0.01}, steps=40)
    fig, ax = style.figure()
    plots.draw_landscape(ax, walk.landscape)
    P = walk.preconditioners.numpy()
    coll = plots.draw_preconditioner_ellipses(ax, walk.points.numpy(), P, color="#000000", every=10, scale=0.5)
    idx = np.arange(0, 40, 10)
    np.testing.assert_allclose(coll.get_widths(), 2 * 0.5 * P[idx, 0])
    np.testing.assert_allclose(coll.get_heights(), 2 * 0.5 * P[idx, 1])
    np.testing.assert_allclose(coll.get_offsets(), walk.points.numpy()[idx])


def test_preconditioned_coordinates_make_an_ill_conditioned_quadratic_round():
    kappa, theta = 50.0, math.radians(30)
    land = landscapes.quadratic(kappa, theta)
    H = landscapes.quadratic_hessian(kappa, theta).numpy()
    w, V = np.linalg.eigh(H)
    P_half = V @ np.diag(w**-0.5) @ V.T  # P = H^-1
    g = plots.preconditioned_coordinates(land.fn, P_half)
    u = torch.randn(100, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    v = torch.randn(100, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    torch.testing.assert_close(g(u, v), 0.5 * (u**2 + v**2))  # Hessian = identity: round
    with pytest.raises(ValueError, match="2x2 matrix"):
        plots.preconditioned_coordinates(land.fn, np.ones((3, 3)))


# --- saving ---------------------------------------------------------------------------------------------


def _png_chunks(data: bytes) -> list[str]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    chunks, pos = [], 8
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        chunks.append(data[pos + 4 : pos + 8].decode("ascii"))
        pos += 12 + length
    return chunks


def test_save_png_is_reproducible_and_carries_no_metadata(tmp_path):
    def draw():
        fig, ax = style.figure()
        plots.draw_landscape(ax, landscapes.rosenbrock(), n=60)
        return fig

    size = plots.save_png(draw(), tmp_path / "a.png")
    plots.save_png(draw(), tmp_path / "b.png")
    a, b = (tmp_path / "a.png").read_bytes(), (tmp_path / "b.png").read_bytes()
    assert a == b
    chunks = _png_chunks(a)
    assert not {"tEXt", "iTXt", "zTXt", "tIME"} & set(chunks), chunks
    file_width, file_height = struct.unpack(">II", a[16:24])
    assert file_width == round(style.WIDTH * style.IMAGE_DPI)  # 1.5 file pixels per CSS pixel
    assert size == (round(file_width * 100 / style.IMAGE_DPI), round(file_height * 100 / style.IMAGE_DPI))
    assert size[0] == round(style.WIDTH * 100)  # shown at the content width
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.png", "b.png"]  # no temporary file left


# --- animations -----------------------------------------------------------------------------------------


def _small_race():
    banana = landscapes.rosenbrock()
    runs = [
        plots.run(trajectory.run(banana, SGD, {"lr": 1e-3, "momentum": 0.9}, steps=12), "SGD", style.color("momentum")),
        plots.run(trajectory.run(banana, Adam, {"lr": 0.1}, steps=12), "Adam", style.color("adam")),
    ]
    return animate.Race(banana, runs, title="test", fps=10, hold=0.5)


def _mp4_top_level_boxes(data: bytes) -> list[str]:
    boxes, pos = [], 0
    while pos + 8 <= len(data):
        size, kind = struct.unpack(">I4s", data[pos : pos + 8])
        boxes.append(kind.decode("ascii"))
        if size == 1:
            (size,) = struct.unpack(">Q", data[pos + 8 : pos + 16])
        pos += size
    return boxes


def test_race_encodes_h264_mp4_with_faststart_vp9_webm_and_a_poster_byte_for_byte_reproducibly(tmp_path):
    """One test, so the first of the two races it saves is the one whose formats it checks (it was two
    tests, one race each plus one more: three saves, each ~0.6 s of CPU in Python and ffmpeg)."""
    outs = []
    for k in range(2):
        race = _small_race()
        paths = [tmp_path / f"{k}.mp4", tmp_path / f"{k}.webm", tmp_path / f"{k}.png"]
        saved = race.save(*paths)
        outs.append([p.read_bytes() for p in paths])
        if k == 0:
            frames, (width, height), first = len(race.frame_steps()), saved, paths
    assert outs[0] == outs[1]  # byte for byte reproducible

    paths = first
    assert frames == 13 + 5  # one frame per step (0..12), then half a second held at 10 fps
    assert (width, height) == (760, 480)
    for p in paths:
        assert 0 < p.stat().st_size <= 300_000, p
    assert paths[2].read_bytes()[25] == 3  # PNG colour type 3: a 256-colour palette poster, like every figure
    boxes = _mp4_top_level_boxes(paths[0].read_bytes())
    assert boxes.index("moov") < boxes.index("mdat"), boxes  # +faststart
    probe = subprocess.run([animate.ffmpeg_exe(), "-hide_banner", "-i", str(paths[0]), "-i", str(paths[1])],
                           capture_output=True, text=True)
    streams = re.findall(r"Stream #\d+:\d+.*?: Video: (\w+).*?, (yuv420p)", probe.stderr)
    assert [s[0] for s in streams] == ["h264", "vp9"], probe.stderr
    count = subprocess.run([animate.ffmpeg_exe(), "-i", str(paths[0]), "-map", "0:v", "-c", "copy", "-f", "null", "-"],
                           capture_output=True, text=True).stderr
    assert re.search(rf"frame=\s*{frames}\b", count), count
    assert "creation_time" not in probe.stderr and not re.search(r"Lav[cf]\d", probe.stderr)  # no dates, no versions
    assert "bt709" in probe.stderr  # colours tagged, so players convert back to the RGB we drew


# --- notebooks -------------------------------------------------------------------------------------


def test_describe_names_the_titles_axes_and_legend_entries():
    fig, (left, right) = plt.subplots(1, 2)
    left.plot([0, 1], [1, 0], label="Adam lr=0.1")
    left.plot([0, 1], [0, 1], label="SGD lr=1e-3")
    left.set(title="Paths on the banana", xlabel="x", ylabel="y")
    left.legend()
    right.plot([0, 1], [2, 1])
    right.set(title="Loss", xlabel="step", ylabel="loss")
    fig.add_axes((0.9, 0.1, 0.05, 0.1)).set_axis_off()  # decorative: not described
    assert plots.describe(fig) == ("Figure: Paths on the banana (y against x); Loss (loss against step). "
                                   "Legend: Adam lr=0.1, SGD lr=1e-3.")


def test_show_displays_the_figure_as_an_image_with_escaped_alt_text(monkeypatch):
    import IPython.display

    shown = []
    monkeypatch.setattr(IPython.display, "display", shown.append)
    fig, ax = plt.subplots()
    ax.plot([0, 1], [0, 1])
    plots.show(fig, 'The "diagonal" <line>')
    (html,) = shown
    assert re.fullmatch(r'<img alt="The &quot;diagonal&quot; &lt;line&gt;" src="data:image/png;base64,[A-Za-z0-9+/=]+">',
                        html.data)
    assert not plt.fignum_exists(fig.number)  # closed: the inline backend does not draw it a second time


def test_heatmap_calls_an_interior_minimum_best_and_marks_cells_above_the_start():
    xs = np.logspace(-3, 0, 5)
    ys = np.linspace(0, 0.9, 5)
    values = np.full((5, 5), 5.0)
    values[2, 2] = 0.01
    values[4, 4] = 50.0  # above the start's loss
    fig, ax = style.figure()
    plots.draw_heatmap(ax, values, xs, ys, xlabel="lr", ylabel="momentum", logx=True, log1m_y=True,
                       vmin=1e-8, vmax=12.5, above=12.5, above_label="ended above the start")
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert "ended above the start" in labels
    assert any(text.startswith("best: lr=") for text in labels)
    assert ax.get_yscale() == "function"  # log(1 - momentum)
    mesh = next(c for c in ax.collections if c.get_gid() == plots.KEEP_GID)
    assert (mesh.norm.vmin, mesh.norm.vmax) == (1e-8, 12.5)  # the shared scale, not this grid's range


def test_to_dark_recolours_once_and_keeps_data_colours():
    from matplotlib import colors

    fig, ax = style.figure()
    ax.plot([0, 1], [0, 1], color=style.color("adagrad"), label="Adagrad")
    ax.set_title("t")
    plots.legend_below(fig, ax)
    values = np.arange(4.0).reshape(2, 2) + 1
    mesh = ax.pcolormesh([0, 1, 2], [0, 1, 2], values, cmap="viridis")
    mesh.set_gid(plots.KEEP_GID)
    before = mesh.get_cmap().name
    plots.to_dark(fig)
    assert colors.to_hex(fig.get_facecolor()) == style.DARK_BACKGROUND
    assert colors.to_hex(ax.get_lines()[0].get_color()) == style.dark_color(style.BLACK)  # black turns light
    assert colors.to_hex(ax.title.get_color()) == style.DARK_INK
    assert mesh.get_cmap().name == before


def test_narrow_layout_stacks_panels_and_keeps_text_size():
    from optimessay import landscapes

    fig, axes = style.figure(1, 2)
    for ax in axes:
        plots.draw_landscape(ax, landscapes.quadratic(kappa=10, theta=0.3), n=31)
        plots.draw_path(ax, np.array([[-1.0, 1.0], [0.0, 0.0]]), color=style.color("sgd"), label="SGD")
    plots.legend_below(fig, axes[0])
    assert plots.is_trajectory_figure(fig)
    copy = plots.clone(fig)
    plots.narrow_layout(copy)
    assert copy.get_size_inches()[0] == pytest.approx(plots.NARROW_WIDTH)
    specs = [ax.get_subplotspec() for ax in copy.axes if ax.get_subplotspec() is not None]
    assert {spec.colspan.start for spec in specs} == {0} and len({spec.rowspan.start for spec in specs}) == 2
    assert fig.get_size_inches()[0] == pytest.approx(style.WIDTH)  # the original is untouched


def test_later_paths_are_thinner_so_coinciding_walks_stay_visible():
    fig, ax = style.figure()
    pts = np.array([[0.0, 0.0], [1.0, 1.0]])
    first = plots.draw_path(ax, pts, color=style.color("sgd"))
    second = plots.draw_path(ax, pts, color=style.color("nesterov"))
    assert first.get_linewidth() > second.get_linewidth()


def test_every_optimizer_has_a_distinct_colour_in_both_themes():
    names = ["SGD", "Momentum", "Nesterov", "RMSprop", "Adam", "AdamW", "Adagrad", "AMSGrad", "NAdam", "RAdam",
             "Adamax", "Adadelta", "Rprop", "ASGD", "Adafactor", "Muon", "Shampoo", "SOAP", "LBFGS", "SparseAdam"]
    light = [style.color(name) for name in names]
    dark = [style.dark_color(c) for c in light]
    assert len(set(light)) == len(names) and len(set(dark)) == len(names)
    for c in dark:
        assert style._contrast([int(c[i:i + 2], 16) / 255 for i in (1, 3, 5)], style.DARK_BACKGROUND) >= 4.4


def test_walks_on_top_of_each_other_get_small_multiples_and_apart_one_panel():
    from optimessay import landscapes

    land = landscapes.quadratic(kappa=4.0, theta=0.3)
    line = np.stack([np.linspace(-1, 0, 30), np.linspace(1, 0, 30)], axis=1)
    close = [{"label": f"run {k}", "color": style.color(name), "points": line + 0.001 * k}
             for k, name in enumerate(("sgd", "adam", "rmsprop"))]
    assert plots.paths_overlap(close, xlim=land.x_range, ylim=land.y_range) > plots.SMALL_MULTIPLES_OVERLAP
    fig = plots.plot_trajectories(land, close)
    panels = [ax for ax in fig.axes if ax.get_visible()]
    assert len(panels) == 3 and [ax.get_title() for ax in panels] == ["run 0", "run 1", "run 2"]
    apart = [dict(r) for r in close]
    apart[1]["points"] = line * (1, -1)  # mirrored: crosses the first only at the ends
    apart[2]["points"] = line * (-1, 1)
    assert plots.paths_overlap(apart, xlim=land.x_range, ylim=land.y_range) < plots.SMALL_MULTIPLES_OVERLAP
    assert len(plots.plot_trajectories(land, apart).axes) == 1
