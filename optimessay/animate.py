"""Animations: several optimizers walking together over a landscape, as MP4 + WebM + a PNG poster.

Frames are drawn with matplotlib by blitting: the landscape, axes and legend are drawn once, and each
frame only restores that background and redraws the moving artists (a trail and a head per walk, a
step counter), ~10x faster than redrawing the whole figure. The frames go, as raw RGBA, through one
pipe into the ffmpeg shipped by imageio-ffmpeg (a ``matplotlib.animation.FFMpegWriter`` with two
outputs), which encodes both formats in one pass:

- MP4: H.264, yuv420p (plays everywhere), ``+faststart`` (playback starts before the download ends);
- WebM: VP9 (smaller, for browsers that prefer it).

Reproducible: ``-fflags +bitexact -flags:v +bitexact`` (no encoder version string or timestamps), no
metadata (``-map_metadata -1``), single-threaded encoders (multi-threaded x264/VP9 output depends on
thread timing), so the same frames always give the same bytes.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from optimessay import plots, style

MP4_ARGS = [
    "-c:v", "libx264", "-preset", "medium", "-tune", "animation", "-crf", "25", "-pix_fmt", "yuv420p",
    "-threads", "1", "-x264-params", "threads=1:lookahead-threads=1",
    "-movflags", "+faststart",
]
WEBM_ARGS = [
    "-c:v", "libvpx-vp9", "-b:v", "0", "-crf", "36", "-deadline", "realtime", "-cpu-used", "7",
    "-row-mt", "0", "-threads", "1", "-pix_fmt", "yuv420p",
]
# Shared by both outputs (ffmpeg options apply per output): RGB -> BT.709 YUV, tagged as such (so
# browsers convert back to the colours we drew), no metadata, no encoder tags, no timestamps.
COMMON_ARGS = [
    "-vf", "scale=out_color_matrix=bt709:out_range=tv:flags=bicubic,"
           "setparams=color_primaries=bt709:color_trc=bt709:colorspace=bt709:range=tv",
    "-map_metadata", "-1", "-metadata:s:v:0", "encoder=", "-fflags", "+bitexact", "-flags:v", "+bitexact",
]


def ffmpeg_exe() -> str:
    """The ffmpeg binary shipped by the imageio-ffmpeg wheel (static, with x264 and VP9)."""
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


def _writer_class():
    """A ``matplotlib.animation.FFMpegWriter`` that encodes MP4 and WebM from one stream of frames and
    takes each frame from the canvas buffer (already drawn by blitting) instead of redrawing."""
    import matplotlib
    from matplotlib.animation import FFMpegWriter

    matplotlib.rcParams["animation.ffmpeg_path"] = ffmpeg_exe()

    class TwoFormatWriter(FFMpegWriter):
        def __init__(self, webm_path: str, **kwargs):
            super().__init__(codec="h264", **kwargs)
            self.webm_path = str(webm_path)

        @property
        def output_args(self):
            return (["-filter_threads", "1"]
                    + ["-map", "0:v"] + MP4_ARGS + COMMON_ARGS + ["-f", "mp4", "-y", self.outfile]
                    + ["-map", "0:v"] + WEBM_ARGS + COMMON_ARGS + ["-f", "webm", "-y", self.webm_path])

        def grab_frame(self, **savefig_kwargs):
            # The figure is drawn by the caller (blitting); send its pixels as they are.
            self._proc.stdin.write(bytes(self.fig.canvas.buffer_rgba()))

    return TwoFormatWriter


@dataclass
class Race:
    """Several walks over one landscape, animated together.

    ``runs``: run dicts (see :mod:`optimessay.plots`) with ``label``, ``points`` (T+1, 2), ``color``.
    All walks advance one step per frame (at most ``max_frames`` frames: longer walks are sampled
    evenly), then the last frame holds for ``hold`` seconds.
    """

    landscape: object
    runs: Sequence[dict]
    title: str = ""
    xlim: Sequence[float] | None = None
    ylim: Sequence[float] | None = None
    log: bool | None = None
    fps: int = 20
    max_frames: int = 120
    hold: float = 1.5
    width: float = 7.6  # inches at style.VIDEO_DPI: 760 px, the site's content width
    height: float = 4.8
    trail: int | None = None  # steps of trail to show (None: the whole path so far)
    extra: dict = field(default_factory=dict)

    def frame_steps(self) -> np.ndarray:
        """The step shown by each frame (0 .. T), then the last one repeated to hold."""
        T = max(len(r["points"]) for r in self.runs) - 1
        n = min(T + 1, self.max_frames)
        steps = np.unique(np.round(np.linspace(0, T, n)).astype(int))
        hold = np.full(int(round(self.hold * self.fps)), T)
        return np.concatenate([steps, hold])

    def save(self, mp4_path, webm_path, poster_path, *, dark_poster_path=None) -> tuple[int, int]:
        """Render and encode to the three paths; return the video's ``(width, height)`` in pixels.
        With ``dark_poster_path``, also the poster's dark variant: the last frame's figure recoloured by
        :func:`optimessay.plots.to_dark` (drawn once more, nothing recomputed)."""
        import matplotlib.pyplot as plt
        from PIL import Image

        if not self.runs:
            raise ValueError("Race needs at least one run")
        style.apply()
        fig, ax = plt.subplots(figsize=(self.width, self.height), dpi=style.VIDEO_DPI, layout="constrained")
        try:
            plots.draw_landscape(ax, self.landscape, xlim=self.xlim, ylim=self.ylim, log=self.log)
            if self.title:
                ax.set_title(self.title)
            paths, trails, heads = [], [], []
            for r in self.runs:
                pts = np.asarray(r["points"], dtype=np.float64)
                paths.append(pts)
                (trail,) = ax.plot([], [], color=r["color"], linewidth=2.0, label=r["label"],
                                   linestyle=r.get("linestyle", "-"), animated=True, zorder=4)
                (head,) = ax.plot([], [], marker="o", markersize=7, color=r["color"],
                                  markeredgecolor="white", markeredgewidth=1.0, animated=True, zorder=5)
                trails.append(trail)
                heads.append(head)
            plots.legend(ax, outside=True)
            counter = ax.text(0.02, 0.97, "", transform=ax.transAxes, ha="left", va="top", animated=True,
                              fontsize=10, color=style.INK, zorder=7,
                              bbox=dict(boxstyle="round,pad=0.25", facecolor="white", edgecolor="none", alpha=0.85))
            # the minima are redrawn over the trails in every frame, so a walk never hides its goal
            stars = [line for line in ax.get_lines() if line.get_label() == "minimum"]
            for star in stars:
                star.set_animated(True)
            fig.canvas.draw()  # lays out and draws everything that is not animated
            background = fig.canvas.copy_from_bbox(fig.bbox)
            total = max(len(p) for p in paths) - 1

            writer = _writer_class()(webm_path, fps=self.fps)
            last = None
            with writer.saving(fig, str(mp4_path), dpi=style.VIDEO_DPI):
                for k in self.frame_steps():
                    fig.canvas.restore_region(background)
                    for pts, trail, head in zip(paths, trails, heads, strict=True):
                        shown = plots.finite_prefix(pts[: k + 1])
                        if self.trail is not None:
                            shown = shown[-(self.trail + 1):]
                        trail.set_data(shown[:, 0], shown[:, 1])
                        head.set_data(shown[-1:, 0], shown[-1:, 1])
                        ax.draw_artist(trail)
                        ax.draw_artist(head)
                    for star in stars:
                        ax.draw_artist(star)
                    counter.set_text(f"step {k} / {total}")
                    ax.draw_artist(counter)
                    writer.grab_frame()
                    last = np.asarray(fig.canvas.buffer_rgba())[:, :, :3].copy()
            height, width = last.shape[:2]
            # the poster as a 256-colour PNG, like every figure (plots.save_png): 4x smaller than RGB
            # (137 kB -> 35 kB for race-banana) and the same picture, since the frame has few colours
            poster = Image.fromarray(last).quantize(colors=256, method=Image.Quantize.FASTOCTREE,
                                                    dither=Image.Dither.NONE)
            poster.save(Path(poster_path), format="png", optimize=True)
            if dark_poster_path is not None:
                for artist in [*trails, *heads, *stars, counter]:
                    artist.set_animated(False)  # drawn with the rest: the last frame, whole
                plots.to_dark(fig)
                fig.canvas.draw()
                dark = np.asarray(fig.canvas.buffer_rgba())[:, :, :3].copy()
                Image.fromarray(dark).quantize(colors=256, method=Image.Quantize.FASTOCTREE,
                                               dither=Image.Dither.NONE).save(Path(dark_poster_path), format="png",
                                                                               optimize=True)
        finally:
            plt.close(fig)
        for path in (mp4_path, webm_path):
            if not os.path.exists(path) or os.path.getsize(path) == 0:
                raise RuntimeError(f"ffmpeg wrote no output to {path}")
        return width, height
