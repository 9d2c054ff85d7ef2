// Drawing the playground on a canvas, a figure a newcomer can read without the text around it:
// - the landscape as grey contour bands (computed once per landscape, scale and size), inside a
//   plot frame with ticks and labelled x and y axes (equal scales: angles read true);
// - each walk as a coloured path up to the current step, with a dot at its current point;
// - the minimum (minima) as a bold ✕ with a label, the start as a ring labelled "start";
// - where a walk left the window or stopped being finite, an ✕ in its colour and a label
//   ("Adam diverged at step 12", or "… left the view at step 40" while it is outside the window);
// - a legend below the plot: each optimizer's name in its colour, and for a sweep of one
//   hyperparameter (the nine RMSprop runs of "Seed: RMSprop alphas") a colour bar naming the values;
// - optionally each walk's preconditioner lr·P at its current point, on one shared scale with a key.
// The whole canvas is the figures' card: light (optimessay.style.BACKGROUND), or its dark variant
// (DARK_BACKGROUND, with the dark optimizer colours) when Material's palette is slate.

import { THEMES } from "./palette.js";

const LEVELS = 16;
const FONT = "12px system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif";
const BOLD = "600 12px system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif";
const SMALL = "11px system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif";
// the theme of the drawing in progress (draw() sets it): card, ink, minimum, halo behind labels
let theme = THEMES.light;
/** Space around the plot: tick labels left and below, the axis titles, a little air right and above. */
export const MARGIN = { left: 48, right: 14, top: 12, bottom: 38 };
const LEGEND_GAP = 6;
const LINE_ROW = 18;
const BAR_ROW = 32;
const KEY_ROW = 50;
const KEY_LINES = ["ellipses: lr·P per coordinate, the factor that", "multiplies the gradient estimate ĝ (step = lr·P·ĝ)"];

/**
 * Maps data coordinates (x right, y up) to canvas pixels of the plot rectangle and back.
 * `plot` is {x, y, w, h} in CSS pixels; makeView(landscape, width, height) is the whole canvas.
 */
export function makeView(landscape, plot, height) {
  const rect = typeof plot === "number" ? { x: 0, y: 0, w: plot, h: height } : plot;
  const [x0, x1] = landscape.xRange;
  const [y0, y1] = landscape.yRange;
  const sx = rect.w / (x1 - x0);
  const sy = rect.h / (y1 - y0);
  return {
    width: rect.w,
    height: rect.h,
    plot: rect,
    px: (x) => rect.x + (x - x0) * sx,
    py: (y) => rect.y + (y1 - y) * sy,
    x: (px) => x0 + (px - rect.x) / sx,
    y: (py) => y1 - (py - rect.y) / sy,
  };
}

/** Round tick values (1, 2 or 5 times a power of 10) covering [lo, hi], about `target` of them. */
export function niceTicks(lo, hi, target = 5) {
  const span = hi - lo;
  if (!(span > 0) || !Number.isFinite(span)) return { step: 1, values: [lo] };
  const raw = span / Math.max(1, target);
  const power = 10 ** Math.floor(Math.log10(raw));
  // the candidate steps, largest first: the first at or below `raw`'s round-up that still gives 3 ticks
  const candidates = [10, 5, 2, 1, 0.5, 0.2, 0.1].map((m) => m * power).filter((s) => s <= [1, 2, 5, 10].map((m) => m * power).find((c) => c >= raw * 0.999) * 1.0000001);
  let step = candidates[0];
  let values = [];
  for (const c of candidates) {
    step = c;
    values = [];
    for (let k = Math.ceil(lo / step - 1e-9); k * step <= hi + step * 1e-9; k++) values.push(Math.abs(k * step) < step * 1e-9 ? 0 : +(k * step).toPrecision(12));
    if (values.length >= 3) break;
  }
  return { step, values };
}

/** A tick label: as many decimals as the tick step needs, "−" for minus. */
export function tickText(v, step) {
  const decimals = Math.max(0, -Math.floor(Math.log10(step) + 1e-9));
  return v.toFixed(Math.min(decimals, 6)).replace("-", "−");
}

/**
 * The legend below the plot, laid out in rows. `items`: {type: "line", label, colour, dash} or
 * {type: "bar", label, colours: [...], values: [text, ...]} (a colour bar, one cell per run).
 */
export function legendLayout(ctx, items, left, width) {
  ctx.save();
  const entries = [];
  let x = left;
  let y = 0;
  let rowHeight = 0;
  const right = left + width;
  for (const item of items) {
    let w;
    let h;
    ctx.font = BOLD;
    const labelWidth = ctx.measureText(item.label).width;
    if (item.type === "key") {
      ctx.font = SMALL;
      w = Math.min(width, Math.max(...KEY_LINES.map((l) => ctx.measureText(l).width)) + 12);
      h = KEY_ROW;
    } else if (item.type === "bar") {
      ctx.font = SMALL;
      const valueWidth = Math.max(...item.values.map((v) => ctx.measureText(v).width));
      const cell = Math.max(16, Math.ceil(valueWidth) + 6);
      const every = 1; // each cell's value under it (the cells are wide enough by construction)
      const cells = item.colours.length;
      const barWidth = Math.min(cell * cells, width - labelWidth - 8);
      const cellWidth = barWidth / cells;
      const labelEvery = cellWidth >= valueWidth + 4 ? every : Math.ceil((valueWidth + 4) / cellWidth);
      w = labelWidth + 8 + barWidth;
      h = BAR_ROW;
      Object.assign(item, { cellWidth, labelEvery, labelWidth });
    } else {
      w = 22 + labelWidth;
      h = LINE_ROW;
    }
    if (item.type === "key" || (x > left && x + w > right)) {
      y += rowHeight;
      x = left;
      rowHeight = 0;
    }
    entries.push({ item, x, y, w, h });
    x += w + 16;
    rowHeight = Math.max(rowHeight, h);
  }
  ctx.restore();
  return { entries, height: entries.length ? y + rowHeight : 0 };
}

/**
 * Where everything goes on a canvas `width` CSS pixels wide: the plot (equal scales on both axes,
 * at most `maxPlotHeight` tall, centred), its view, the legend rows below; and the canvas height.
 */
export function computeLayout(ctx, landscape, width, maxPlotHeight, items) {
  const ratio = (landscape.yRange[1] - landscape.yRange[0]) / (landscape.xRange[1] - landscape.xRange[0]);
  const avail = width - MARGIN.left - MARGIN.right;
  let w = avail;
  let h = w * ratio;
  if (h > maxPlotHeight) {
    h = maxPlotHeight;
    w = h / ratio;
  }
  w = Math.floor(w);
  h = Math.floor(h);
  const plot = { x: MARGIN.left + Math.floor((avail - w) / 2), y: MARGIN.top, w, h };
  const legend = legendLayout(ctx, items, 8, width - 16);
  const legendTop = plot.y + h + MARGIN.bottom + LEGEND_GAP;
  for (const e of legend.entries) e.y += legendTop;
  const height = legendTop + legend.height + (legend.height ? 6 : 0);
  return { width, height, plot, view: makeView(landscape, plot), legend };
}

/**
 * The landscape's contour picture, `width` x `height` pixels: f is banded into LEVELS levels of grey
 * (light = low), on log(f − min + δ) or on f, with a darker line where the band changes.
 * Returns a canvas to drawImage() from.
 */
export function contourCanvas(landscape, scale, width, height, dark = false) {
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
      const edge = (i > 0 && band[k - 1] !== b) || (j > 0 && band[k - width] !== b);
      // light: near white (low f) to mid grey (high f); dark: the dark card (low f) to a lighter slate
      let grey = dark ? 34 + b * 3.2 + (edge ? 34 : 0) : 250 - b * 5 - (edge ? 40 : 0);
      grey = Math.round(grey);
      data[4 * k] = grey;
      data[4 * k + 1] = grey + (dark ? 3 : 0);
      data[4 * k + 2] = grey + (dark ? 12 : -2);
      data[4 * k + 3] = 255;
    }
  }
  ctx.putImageData(image, 0, 0);
  return canvas;
}

/**
 * Where a walk leaves the landscape's window or stops being finite: {step, x, y} (the point on the
 * window's edge where step `step` crossed it, or the last finite point), or null if it never does.
 */
export function exitOf(result, landscape) {
  const [x0, x1] = landscape.xRange;
  const [y0, y1] = landscape.yRange;
  const P = result.points;
  const last = result.divergedAt ?? result.steps;
  for (let k = 1; k <= last; k++) {
    const x = P[2 * k];
    const y = P[2 * k + 1];
    const finite = Number.isFinite(x) && Number.isFinite(y);
    if (finite && x >= x0 && x <= x1 && y >= y0 && y <= y1) continue;
    const ax = P[2 * k - 2];
    const ay = P[2 * k - 1];
    if (!finite) return { step: k, x: ax, y: ay };
    // the fraction s of the segment (a → p) at which it crosses the window's edge
    let s = 1;
    if (x < x0) s = Math.min(s, (x0 - ax) / (x - ax));
    if (x > x1) s = Math.min(s, (x1 - ax) / (x - ax));
    if (y < y0) s = Math.min(s, (y0 - ay) / (y - ay));
    if (y > y1) s = Math.min(s, (y1 - ay) / (y - ay));
    s = Math.max(0, Math.min(1, s));
    return { step: k, x: ax + s * (x - ax), y: ay + s * (y - ay) };
  }
  if (result.divergedAt !== null) return { step: result.divergedAt, x: P[2 * last], y: P[2 * last + 1] };
  return null;
}

const clampPx = (v) => Math.max(-1e5, Math.min(1e5, v));

function haloText(ctx, text, x, y) {
  ctx.textAlign = "left";
  ctx.lineWidth = 3.5;
  ctx.lineJoin = "round";
  ctx.strokeStyle = theme.halo;
  ctx.strokeText(text, x, y);
  ctx.fillText(text, x, y);
}

function cross(ctx, x, y, r, colour, width) {
  ctx.lineCap = "round";
  ctx.strokeStyle = theme.halo;
  ctx.lineWidth = width + 3;
  ctx.beginPath();
  ctx.moveTo(x - r, y - r);
  ctx.lineTo(x + r, y + r);
  ctx.moveTo(x + r, y - r);
  ctx.lineTo(x - r, y + r);
  ctx.stroke();
  ctx.strokeStyle = colour;
  ctx.lineWidth = width;
  ctx.stroke();
  ctx.lineCap = "butt";
}

/** A short number for a label on the canvas: 3 significant digits, "−" for minus. */
const short = (v) => String(+v.toPrecision(3)).replace("-", "−");

function drawAxes(ctx, view, landscape) {
  const { plot } = view;
  ctx.strokeStyle = theme.ink;
  ctx.fillStyle = theme.ink;
  ctx.lineWidth = 1;
  ctx.strokeRect(plot.x - 0.5, plot.y - 0.5, plot.w + 1, plot.h + 1);
  ctx.font = FONT;
  const ticks = { x: [], y: [] };
  const xt = niceTicks(landscape.xRange[0], landscape.xRange[1], Math.max(3, Math.floor(plot.w / 70)));
  ctx.textAlign = "center";
  ctx.textBaseline = "top";
  ctx.beginPath();
  for (const v of xt.values) {
    const x = Math.round(view.px(v)) + 0.5;
    ctx.moveTo(x, plot.y + plot.h);
    ctx.lineTo(x, plot.y + plot.h + 5);
    ctx.fillText(tickText(v, xt.step), x, plot.y + plot.h + 7);
    ticks.x.push({ value: v, px: x });
  }
  const yt = niceTicks(landscape.yRange[0], landscape.yRange[1], Math.max(3, Math.floor(plot.h / 50)));
  ctx.textAlign = "right";
  ctx.textBaseline = "middle";
  for (const v of yt.values) {
    const y = Math.round(view.py(v)) + 0.5;
    ctx.moveTo(plot.x, y);
    ctx.lineTo(plot.x - 5, y);
    ctx.fillText(tickText(v, yt.step), plot.x - 7, y);
    ticks.y.push({ value: v, py: y });
  }
  ctx.stroke();
  // axis titles: x under the tick labels, y rotated left of them
  ctx.font = BOLD;
  ctx.textAlign = "center";
  ctx.textBaseline = "top";
  ctx.fillText("x", plot.x + plot.w / 2, plot.y + plot.h + 22);
  ctx.save();
  ctx.translate(11, plot.y + plot.h / 2);
  ctx.rotate(-Math.PI / 2);
  ctx.textBaseline = "middle";
  ctx.fillText("y", 0, 0);
  ctx.restore();
  return ticks;
}

function drawLegend(ctx, legend, key) {
  ctx.textBaseline = "middle";
  ctx.textAlign = "left";
  for (const { item, x, y } of legend.entries) {
    if (item.type === "key") {
      ctx.font = SMALL;
      ctx.fillStyle = theme.ink;
      KEY_LINES.forEach((l, i) => ctx.fillText(l, x, y + 7 + 13 * i));
      const yBar = y + 7 + 13 * KEY_LINES.length + 3;
      if (!key) {
        ctx.fillText("(no lr·P at this step)", x, yBar);
        continue;
      }
      ctx.strokeStyle = theme.ink;
      ctx.lineWidth = 2;
      ctx.beginPath();
      ctx.moveTo(x + 1, yBar);
      ctx.lineTo(x + 1 + key.pixels, yBar);
      ctx.moveTo(x + 1, yBar - 4);
      ctx.lineTo(x + 1, yBar + 4);
      ctx.moveTo(x + 1 + key.pixels, yBar - 4);
      ctx.lineTo(x + 1 + key.pixels, yBar + 4);
      ctx.stroke();
      ctx.fillText(`= lr·P of ${short(key.reference)}, one scale for every run`, x + 8 + key.pixels, yBar);
      key.x = x;
      key.y = y;
    } else if (item.type === "bar") {
      ctx.font = BOLD;
      ctx.fillStyle = item.colour || theme.ink;
      ctx.fillText(item.label, x, y + 8);
      const bx = x + item.labelWidth + 8;
      item.colours.forEach((c, i) => {
        ctx.fillStyle = c;
        ctx.fillRect(bx + i * item.cellWidth, y + 2, Math.ceil(item.cellWidth), 12);
      });
      ctx.strokeStyle = theme.ink;
      ctx.lineWidth = 1;
      ctx.strokeRect(bx - 0.5, y + 1.5, item.cellWidth * item.colours.length + 1, 13);
      ctx.font = SMALL;
      ctx.fillStyle = theme.ink;
      ctx.textAlign = "center";
      item.values.forEach((v, i) => {
        const last = i === item.values.length - 1;
        if (i % item.labelEvery === 0 || last) ctx.fillText(v, bx + (i + 0.5) * item.cellWidth, y + 24);
      });
      ctx.textAlign = "left";
    } else {
      ctx.strokeStyle = item.colour;
      ctx.lineWidth = 3;
      ctx.setLineDash(item.dash || []);
      ctx.beginPath();
      ctx.moveTo(x, y + 9);
      ctx.lineTo(x + 18, y + 9);
      ctx.stroke();
      ctx.setLineDash([]);
      ctx.font = BOLD;
      ctx.fillStyle = item.colour;
      ctx.fillText(item.label, x + 22, y + 9);
    }
  }
}

/** Place a label near (x, y) inside the plot, below any label already placed where it would overlap. */
function placeLabel(ctx, text, x, y, plot, placed) {
  ctx.textAlign = "left";
  const w = ctx.measureText(text).width;
  let lx = x + 9;
  if (lx + w > plot.x + plot.w - 3) lx = x - 9 - w;
  lx = Math.max(plot.x + 3, lx);
  let ly = Math.max(plot.y + 9, Math.min(plot.y + plot.h - 9, y - 9));
  for (let tries = 0; tries < 12; tries++) {
    const hit = placed.find((r) => lx < r.x + r.w && lx + w > r.x && Math.abs(ly - r.y) < 14);
    if (!hit) break;
    ly = hit.y + 15 > plot.y + plot.h - 9 ? hit.y - 15 : hit.y + 15;
  }
  placed.push({ x: lx, y: ly, w });
  return [lx, ly];
}

/**
 * Draw everything: `walks` = [{ index, name, result, colour, dash, exit }], `t` the current step,
 * `precond` whether to draw the preconditioner glyphs. `ctx` is scaled so that 1 unit = 1 CSS
 * pixel. Returns what was drawn where (for tests and the readout): the ticks, the legend entries,
 * the markers of walks that left the window, the preconditioner key.
 */
export function draw(ctx, { layout, background, landscape, walks, start, t, precond, dark = false }) {
  theme = dark ? THEMES.dark : THEMES.light;
  const { view } = layout;
  const { plot } = view;
  ctx.save();
  ctx.fillStyle = theme.card;
  ctx.fillRect(0, 0, layout.width, layout.height);
  if (background) ctx.drawImage(background, plot.x, plot.y, plot.w, plot.h);
  const ticks = drawAxes(ctx, view, landscape);

  ctx.save();
  ctx.beginPath();
  ctx.rect(plot.x, plot.y, plot.w, plot.h);
  ctx.clip();
  const placed = [];
  // the paths, up to step t, and each walk's current point
  const current = [];
  for (const walk of walks) {
    const { points } = walk.result;
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
      if (!(Number.isFinite(x) && Number.isFinite(y))) break;
      // skip moves under half a pixel (a converged walk): same picture, far fewer segments
      if (k < last && Math.abs(x - lx) < 0.5 && Math.abs(y - ly) < 0.5) continue;
      ctx.lineTo(x, y);
      lx = x;
      ly = y;
    }
    ctx.stroke();
    ctx.setLineDash([]);
    const cx = view.px(points[2 * last]);
    const cy = view.py(points[2 * last + 1]);
    const inside = cx >= plot.x && cx <= plot.x + plot.w && cy >= plot.y && cy <= plot.y + plot.h;
    current.push({ walk, last, cx, cy, inside });
  }
  // minima, over the paths: a bold ✕ with a halo, labelled
  ctx.font = BOLD;
  ctx.fillStyle = theme.minimum;
  const minima = [];
  for (const [mx, my] of landscape.minima) {
    const x = view.px(mx);
    const y = view.py(my);
    cross(ctx, x, y, 7, theme.minimum, 2.5);
    minima.push({ x, y });
  }
  for (const [mx, my] of landscape.minima) {
    const text = landscape.minima.length === 1 ? `minimum (${short(mx)}, ${short(my)})` : "minimum";
    const [lx, ly] = placeLabel(ctx, text, view.px(mx), view.py(my) + 20, plot, placed);
    ctx.fillStyle = theme.minimum;
    ctx.textBaseline = "middle";
    haloText(ctx, text, lx, ly);
  }

  for (const { walk, cx, cy, inside } of current) {
    if (!inside) continue;
    ctx.fillStyle = walk.colour;
    ctx.strokeStyle = theme.card;
    ctx.lineWidth = 1.5;
    ctx.beginPath();
    ctx.arc(cx, cy, 4.5, 0, 2 * Math.PI);
    ctx.fill();
    ctx.stroke();
  }

  // where a walk diverged or left the window: an ✕ in its colour at the edge, and a label
  const markers = [];
  ctx.font = BOLD;
  for (const { walk, last, inside } of current) {
    const exit = walk.exit;
    if (!exit || last < exit.step) continue;
    const diverged = walk.result.divergedAt !== null && last >= walk.result.divergedAt;
    if (!diverged && inside) continue; // it came back into the window
    const x = Math.max(plot.x + 7, Math.min(plot.x + plot.w - 7, view.px(exit.x)));
    const y = Math.max(plot.y + 7, Math.min(plot.y + plot.h - 7, view.py(exit.y)));
    cross(ctx, x, y, 6, walk.colour, 3);
    const text = diverged ? `${walk.name} diverged at step ${walk.result.divergedAt}` : `${walk.name} left the view at step ${exit.step}`;
    const [lx, ly] = placeLabel(ctx, text, x, y, plot, placed);
    ctx.fillStyle = theme.ink;
    ctx.textBaseline = "middle";
    haloText(ctx, text, lx, ly);
    markers.push({ run: walk.index, step: diverged ? walk.result.divergedAt : exit.step, diverged, text, x, y });
  }

  // the start: a ring the reader can drag, labelled
  const sx = view.px(start[0]);
  const sy = view.py(start[1]);
  ctx.strokeStyle = theme.halo;
  ctx.lineWidth = 4.5;
  ctx.beginPath();
  ctx.arc(sx, sy, 7, 0, 2 * Math.PI);
  ctx.stroke();
  ctx.strokeStyle = theme.ink;
  ctx.lineWidth = 2;
  ctx.stroke();
  ctx.font = BOLD;
  ctx.fillStyle = theme.ink;
  ctx.textBaseline = "middle";
  const [slx, sly] = placeLabel(ctx, "start", sx, sy - 6, plot, placed);
  haloText(ctx, "start", slx, sly);

  const key = precond ? drawPreconditioners(ctx, current) : null;
  ctx.restore(); // the clip
  drawLegend(ctx, layout.legend, key);
  ctx.restore();
  const legend = layout.legend.entries.filter((e) => e.item.type !== "key")
    .map((e) => ({ label: e.item.label, type: e.item.type, colour: e.item.colour ?? e.item.colours[0], x: e.x, y: e.y }));
  return { ticks, legend, markers, minima, precondKey: key };
}

/** 1, 2 or 5 times a power of 10, at most v. */
function roundDown(v) {
  const power = 10 ** Math.floor(Math.log10(v));
  return [5, 2, 1].map((m) => m * power).find((s) => s <= v * (1 + 1e-12)) ?? power;
}

/**
 * Each walk's diagonal preconditioner at its current point: an axis-aligned ellipse with half-axes
 * lr·P_x and lr·P_y (of the step into that point), on ONE scale shared by all walks (the largest
 * half-axis is 26 px), with a cross along the axes; the legend's key says what it is and gives the
 * scale. lr·P multiplies the gradient estimate ĝ: it is not a step length (the readout
 * gives the step |Δx| beside it).
 */
function drawPreconditioners(ctx, current) {
  const glyphs = [];
  let biggest = 0;
  for (const c of current) {
    if (!c.inside || c.last === 0) continue;
    const { preconditioners, lrs } = c.walk.result;
    const px = lrs[c.last - 1] * preconditioners[2 * (c.last - 1)];
    const py = lrs[c.last - 1] * preconditioners[2 * (c.last - 1) + 1];
    if (!(px > 0 && py > 0 && Number.isFinite(px) && Number.isFinite(py))) continue;
    glyphs.push({ c, px, py });
    biggest = Math.max(biggest, px, py);
  }
  if (!glyphs.length) return null;
  const perUnit = 26 / biggest;
  for (const { c, px, py } of glyphs) {
    const rx = Math.max(1.5, px * perUnit);
    const ry = Math.max(1.5, py * perUnit);
    ctx.strokeStyle = c.walk.colour;
    ctx.lineWidth = 1.5;
    ctx.beginPath();
    ctx.ellipse(c.cx, c.cy, rx, ry, 0, 0, 2 * Math.PI);
    ctx.moveTo(c.cx - rx, c.cy);
    ctx.lineTo(c.cx + rx, c.cy);
    ctx.moveTo(c.cx, c.cy - ry);
    ctx.lineTo(c.cx, c.cy + ry);
    ctx.stroke();
  }
  // the key (drawn in the legend): a round value of lr·P and its length on this scale
  const ref = roundDown(biggest);
  return { reference: ref, pixels: ref * perUnit };
}
