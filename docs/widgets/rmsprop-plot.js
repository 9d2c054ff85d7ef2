// Drawing helpers shared by the RMSprop, Adam and Adagrad live figures (docs/widgets/rmsprop-sign.js,
// adam-bias.js, adam-decay.js, adagrad-shrink.js): a walk's interleaved points as [[x, y], ...], and
// contour lines drawn once per (landscape, window, plot size, theme) and then copied (a drawImage instead of
// a marching-squares pass on every slider move).

const cache = new WeakMap(); // plot -> Map(key -> canvas), the most recently used last
const KEEP = 24; // pictures kept per plot (a widget whose window follows a slider revisits a few)

/** [[x, y], ...] from interleaved points (x0, y0, x1, y1, ...), the first `count` points (default all). */
export function pairs(points, count = points.length / 2) {
  const out = [];
  for (let i = 0; i < count; i++) out.push([points[2 * i], points[2 * i + 1]]);
  return out;
}

/** Contour levels for a landscape: `n` levels geometric from `lo` to `hi` (log-spaced valleys). */
export function geometricLevels(lo, hi, n) {
  const out = [];
  for (let i = 0; i < n; i++) out.push(lo * (hi / lo) ** (i / (n - 1)));
  return out;
}

/** Draw contours of `fn` on `plot` (inside its draw callback), from the cache while `key` holds. */
export function contoursOnce(plot, ctx, key, fn, levels, X, Y, { n = 110, color, width = 0.7 } = {}) {
  const dpr = window.devicePixelRatio || 1;
  const full = `${key}|${plot.width}x${plot.height}@${dpr}|${color}|${JSON.stringify(plot.area)}`;
  if (!cache.has(plot)) cache.set(plot, new Map());
  const pictures = cache.get(plot);
  let canvas = pictures.get(full);
  if (canvas) {
    pictures.delete(full); // re-inserted below: most recently used
  } else {
    canvas = document.createElement("canvas");
    canvas.width = Math.round(plot.width * dpr);
    canvas.height = Math.round(plot.height * dpr);
    const off = canvas.getContext("2d");
    off.setTransform(dpr, 0, 0, dpr, 0, 0);
    plot.contours(off, fn, levels, X, Y, { n, color, width });
    if (pictures.size >= KEEP) pictures.delete(pictures.keys().next().value);
  }
  pictures.set(full, canvas);
  ctx.drawImage(canvas, 0, 0, plot.width, plot.height);
}

/** A vertical dashed line at data x (a "you are here" step marker), in the theme's ink. */
export function vline(ctx, x, X, area, color) {
  ctx.strokeStyle = color;
  ctx.lineWidth = 1;
  ctx.setLineDash([4, 3]);
  ctx.beginPath();
  ctx.moveTo(Math.round(X(x)) + 0.5, area.top);
  ctx.lineTo(Math.round(X(x)) + 0.5, area.bottom);
  ctx.stroke();
  ctx.setLineDash([]);
}

/** A horizontal dashed line at data y with a small label at its left end. */
export function hline(ctx, y, Y, area, color, label = "") {
  ctx.strokeStyle = color;
  ctx.lineWidth = 1;
  ctx.setLineDash([3, 3]);
  ctx.beginPath();
  ctx.moveTo(area.left, Math.round(Y(y)) + 0.5);
  ctx.lineTo(area.right, Math.round(Y(y)) + 0.5);
  ctx.stroke();
  ctx.setLineDash([]);
  if (label) {
    ctx.fillStyle = color;
    ctx.font = "11px system-ui, sans-serif";
    ctx.textAlign = "left";
    ctx.textBaseline = "bottom";
    ctx.fillText(label, area.left + 4, Y(y) - 2);
  }
}

/** An arrow from (x0, y0) to (x1, y1), data coordinates. */
export function arrow(ctx, x0, y0, x1, y1, X, Y, { color, width = 1.4, head = 5 } = {}) {
  const ax = X(x0);
  const ay = Y(y0);
  const bx = X(x1);
  const by = Y(y1);
  const len = Math.hypot(bx - ax, by - ay);
  if (!(len > 0.5)) return;
  const ux = (bx - ax) / len;
  const uy = (by - ay) / len;
  ctx.strokeStyle = color;
  ctx.fillStyle = color;
  ctx.lineWidth = width;
  ctx.beginPath();
  ctx.moveTo(ax, ay);
  ctx.lineTo(bx, by);
  ctx.stroke();
  ctx.beginPath();
  ctx.moveTo(bx, by);
  ctx.lineTo(bx - head * ux + head * 0.5 * uy, by - head * uy - head * 0.5 * ux);
  ctx.lineTo(bx - head * ux - head * 0.5 * uy, by - head * uy + head * 0.5 * ux);
  ctx.closePath();
  ctx.fill();
}
