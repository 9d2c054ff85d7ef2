// Drawing the playground on a canvas: the landscape as grey contour bands (computed once per
// landscape, scale and size, into an ImageData), then each walk as a coloured path up to the current
// step, the minima, the start, and (optionally) each optimizer's preconditioner at its current point.

import { BACKGROUND, INK, MINIMUM } from "./palette.js";

const LEVELS = 16;

/** Maps data coordinates (x right, y up) to canvas pixels and back. */
export function makeView(landscape, width, height) {
  const [x0, x1] = landscape.xRange;
  const [y0, y1] = landscape.yRange;
  const sx = width / (x1 - x0);
  const sy = height / (y1 - y0);
  return {
    width,
    height,
    px: (x) => (x - x0) * sx,
    py: (y) => (y1 - y) * sy,
    x: (px) => x0 + px / sx,
    y: (py) => y1 - py / sy,
  };
}

/**
 * The landscape's contour picture, `width` x `height` pixels: f is banded into LEVELS levels of grey
 * (light = low), on log(f − min + δ) or on f, with a darker line where the band changes.
 * Returns a canvas to drawImage() from.
 */
export function contourCanvas(landscape, scale, width, height) {
  const view = makeView(landscape, width, height);
  const z = new Float64Array(width * height);
  for (let j = 0; j < height; j++) {
    const y = view.y(j + 0.5);
    for (let i = 0; i < width; i++) z[j * width + i] = landscape.value(view.x(i + 0.5), y);
  }
  // the bands span [min f, 98th percentile of f]: the percentile from a strided sample (fast)
  let lo = Infinity;
  for (let k = 0; k < z.length; k++) if (z[k] < lo) lo = z[k];
  const stride = Math.max(1, Math.floor(z.length / 20000));
  const sample = new Float64Array(Math.ceil(z.length / stride));
  for (let k = 0, m = 0; k < z.length; k += stride, m++) sample[m] = z[k];
  sample.sort();
  const hi = sample[Math.floor(0.98 * (sample.length - 1))];
  const delta = Math.max((hi - lo) * 1e-6, 1e-12);
  const transform = scale === "log" ? (v) => Math.log(v - lo + delta) : (v) => v;
  const t0 = transform(lo);
  const t1 = transform(hi);
  const band = new Int16Array(width * height);
  for (let k = 0; k < z.length; k++) {
    const u = (transform(z[k]) - t0) / (t1 - t0 || 1);
    band[k] = Math.max(0, Math.min(LEVELS, Math.floor(u * LEVELS)));
  }
  const canvas = document.createElement("canvas");
  canvas.width = width;
  canvas.height = height;
  const ctx = canvas.getContext("2d");
  const image = ctx.createImageData(width, height);
  const data = image.data;
  for (let j = 0; j < height; j++) {
    for (let i = 0; i < width; i++) {
      const k = j * width + i;
      const b = band[k];
      let grey = 250 - b * 5; // near white (low f) to mid grey (high f)
      const edge = (i > 0 && band[k - 1] !== b) || (j > 0 && band[k - width] !== b);
      if (edge) grey -= 40;
      data[4 * k] = grey;
      data[4 * k + 1] = grey;
      data[4 * k + 2] = grey - 2;
      data[4 * k + 3] = 255;
    }
  }
  ctx.putImageData(image, 0, 0);
  return canvas;
}

const clampPx = (v) => Math.max(-1e5, Math.min(1e5, v));

/**
 * Draw everything: `walks` = [{ result, colour, dash }], `t` the current step, `precond` whether
 * to draw the preconditioner glyphs. `ctx` is scaled so that 1 unit = 1 CSS pixel.
 */
export function draw(ctx, { view, background, landscape, walks, start, t, precond }) {
  ctx.save();
  ctx.fillStyle = BACKGROUND;
  ctx.fillRect(0, 0, view.width, view.height);
  if (background) ctx.drawImage(background, 0, 0, view.width, view.height);

  // minima: small black crosses
  ctx.strokeStyle = MINIMUM;
  ctx.lineWidth = 2;
  for (const [mx, my] of landscape.minima) {
    const x = view.px(mx);
    const y = view.py(my);
    ctx.beginPath();
    ctx.moveTo(x - 6, y - 6);
    ctx.lineTo(x + 6, y + 6);
    ctx.moveTo(x + 6, y - 6);
    ctx.lineTo(x - 6, y + 6);
    ctx.stroke();
  }

  for (const walk of walks) {
    const { points, divergedAt } = walk.result;
    const last = Math.min(t, walk.result.steps);
    ctx.strokeStyle = walk.colour;
    ctx.lineWidth = 2;
    ctx.lineJoin = "bevel";
    ctx.setLineDash(walk.dash || []);
    ctx.beginPath();
    let lx = clampPx(view.px(points[0]));
    let ly = clampPx(view.py(points[1]));
    ctx.moveTo(lx, ly);
    for (let k = 1; k <= last; k++) {
      const x = clampPx(view.px(points[2 * k]));
      const y = clampPx(view.py(points[2 * k + 1]));
      // skip moves under half a pixel (a converged walk): same picture, far fewer segments
      if (k < last && Math.abs(x - lx) < 0.5 && Math.abs(y - ly) < 0.5) continue;
      ctx.lineTo(x, y);
      lx = x;
      ly = y;
    }
    ctx.stroke();
    ctx.setLineDash([]);
    const cx = clampPx(view.px(points[2 * last]));
    const cy = clampPx(view.py(points[2 * last + 1]));
    ctx.fillStyle = walk.colour;
    ctx.strokeStyle = BACKGROUND;
    ctx.lineWidth = 1.5;
    ctx.beginPath();
    ctx.arc(cx, cy, 4.5, 0, 2 * Math.PI);
    ctx.fill();
    ctx.stroke();
    if (divergedAt !== null && last >= divergedAt) {
      ctx.fillStyle = INK;
      ctx.font = "bold 12px system-ui, sans-serif";
      ctx.fillText("diverged", cx + 6, cy - 6);
    }
    if (precond && last > 0) drawPreconditioner(ctx, walk, last, cx, cy);
  }

  // the start: a hollow ring the reader can drag
  ctx.strokeStyle = INK;
  ctx.lineWidth = 2;
  ctx.beginPath();
  ctx.arc(view.px(start[0]), view.py(start[1]), 7, 0, 2 * Math.PI);
  ctx.stroke();
  ctx.restore();
}

/**
 * An optimizer's diagonal preconditioner at its current point: an axis-aligned ellipse whose
 * half-axes are proportional to the step scale lr·P of the step into that point, per coordinate
 * (the larger one drawn 22 px long), with a cross along the axes. SGD's is a circle.
 */
function drawPreconditioner(ctx, walk, k, cx, cy) {
  const { preconditioners, lrs } = walk.result;
  const px = lrs[k - 1] * preconditioners[2 * (k - 1)];
  const py = lrs[k - 1] * preconditioners[2 * (k - 1) + 1];
  if (!(px > 0 && py > 0)) return;
  const big = Math.max(px, py);
  const rx = Math.max(2, (22 * px) / big);
  const ry = Math.max(2, (22 * py) / big);
  ctx.strokeStyle = walk.colour;
  ctx.lineWidth = 1.5;
  ctx.beginPath();
  ctx.ellipse(cx, cy, rx, ry, 0, 0, 2 * Math.PI);
  ctx.moveTo(cx - rx, cy);
  ctx.lineTo(cx + rx, cy);
  ctx.moveTo(cx, cy - ry);
  ctx.lineTo(cx, cy + ry);
  ctx.stroke();
}
