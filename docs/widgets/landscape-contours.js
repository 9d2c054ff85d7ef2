// Contour lines drawn once and reused: the landscape, momentum and schedule widgets redraw their
// paths on every control change, but their contours change only with the landscape, the plot's size
// or the theme. This draws kit.js's Plot.contours into an offscreen canvas (device pixels) under a
// key and copies it onto the plot on later updates (a drawImage instead of a marching-squares pass).

const cache = new WeakMap(); // plot -> {key, canvas}

/**
 * Draw the contours of `fn` at `levels` on `plot` (inside its draw callback: ctx, X, Y as given),
 * from the cache when `key` (what the picture depends on besides size and theme) is unchanged.
 */
export function cachedContours(plot, ctx, key, fn, levels, X, Y, { n = 120, color, width = 0.7 } = {}) {
  const dpr = window.devicePixelRatio || 1;
  const full = `${key}|${plot.width}x${plot.height}@${dpr}|${color}|${JSON.stringify(plot.area)}`;
  let entry = cache.get(plot);
  if (!entry || entry.key !== full) {
    const canvas = document.createElement("canvas");
    canvas.width = Math.round(plot.width * dpr);
    canvas.height = Math.round(plot.height * dpr);
    const off = canvas.getContext("2d");
    off.setTransform(dpr, 0, 0, dpr, 0, 0);
    plot.contours(off, fn, levels, X, Y, { n, color, width });
    entry = { key: full, canvas };
    cache.set(plot, entry);
  }
  ctx.drawImage(entry.canvas, 0, 0, plot.width, plot.height);
}
