// The live figures' kit: what every widget in docs/widgets/ shares (issue 13).
//
// Usage, in docs/widgets/NAME.js (mounted by index.js on `<div class="oe-widget" data-widget="NAME">`):
//
//   import { makeWidget, sig, themeColor } from "./kit.js";
//   export function mount(root) {
//     const w = makeWidget(root, { id: "precond", title: "κ_diag, live" });  // id: URL namespace
//     const kappa = w.slider("kappa", "κ", { min: 1, max: 1000, log: true, value: 100 });
//     const theta = w.slider("theta", "θ (°)", { min: 0, max: 45, step: 0.5, value: 30 });
//     const adam = w.toggle("adam", "Adam", true);
//     const view = w.select("view", "View", [["paths", "paths"], ["loss", "loss"]], "paths");
//     const plot = w.plot({ aspect: 0.8, label: "Paths on the quadratic" });
//     const out = w.readout();
//     w.onUpdate(() => {                       // runs on every control change; timed (root.oeWidget)
//       plot.render({ x: { min: -1, max: 1, label: "x" }, y: { min: -1, max: 1, label: "y" }, equal: true,
//                     legend: [{ label: "GD", color: themeColor("sgd") }],
//                     draw(ctx, X, Y, t) { plot.path(ctx, pts, X, Y, { color: themeColor("sgd") }); } });
//       out.set([["κ_diag", sig(k)], ["steps", "346"]]);    // 4 significant digits: use sig()
//       w.say(`κ_diag is ${sig(k)}.`);                       // the aria-live summary sentence
//     });
//     w.caption("What to try: ...");          // optional line under the figure
//     w.start();                               // reads the URL state, then the first update
//   }
//
// - Controls: `.value` (current value), `.set(v)` (no update), `.input` (the element to drive).
//   Every control is a native <input>/<select> with a <label>: keyboard accessible by construction.
//   A slider has a range input and a typed number field (Enter or blur applies; out-of-range or
//   non-numeric input is refused with a message, never applied); `log: true` moves in log10 space
//   (`perDecade` positions per decade, values rounded to 3 significant digits).
// - URL state: each control's value lives in `?w-<id>-<key>=value` (history.replaceState, 250 ms
//   after the last change); other query keys (the big playground's) are never touched; a value equal
//   to the default is removed from the URL. A bad URL value is ignored with a visible note.
// - Plot: `plot.render(spec)` draws background, the widget's own drawing (clipped to the plot area),
//   axes with ticks and labels, and a legend, in the theme's colours; it redraws by itself when the
//   container resizes or the reader switches dark mode. Helpers: plot.path, plot.contours, plot.marker.
// - Colours: themeColor(name) gives the palette colour of an optimizer (playground/palette.js; black
//   becomes the page's ink in dark mode); theme() gives {bg, fg, muted, grid, card}.
// - prefersReducedMotion(): true when the reader asked for reduced motion (no animation then).
// - Timing: root.oeWidget = {update(), lastUpdateMs}: scripts/bench_widgets.py measures it.
//
// The pure parts (sig, logSlider mapping, URL encode/decode, parseNumber, niceTicks) are tested in
// node: tests/js/widgets-kit.test.mjs.

import { el, sig } from "../playground/dom.js";
import { COLORS } from "../playground/palette.js";

export { el, sig };

// --- pure helpers (node-testable) ---------------------------------------------------------------------

const KEY = /^[a-z0-9][a-z0-9-]*$/;

/** `w-<widget>-<key>`: the URL query key of a widget's control (both parts [a-z0-9-]). */
export function urlKey(widgetId, key) {
  if (!KEY.test(widgetId)) throw new RangeError(`widget id "${widgetId}": expected lower-case letters, digits and '-'`);
  if (!KEY.test(key)) throw new RangeError(`control key "${key}": expected lower-case letters, digits and '-'`);
  return `w-${widgetId}-${key}`;
}

/** The widget's own values in a query string: {key: string} for every `w-<widgetId>-<key>`. */
export function decodeState(search, widgetId) {
  const prefix = `w-${widgetId}-`;
  const out = {};
  for (const [name, value] of new URLSearchParams(search)) {
    if (name.startsWith(prefix) && KEY.test(name.slice(prefix.length))) out[name.slice(prefix.length)] = value;
  }
  return out;
}

/**
 * The query string with the widget's values set: `values` is {key: string or null} (null: remove).
 * Every other query key, and the order of the existing keys, is kept. Returns "" or "?...".
 */
export function encodeState(search, widgetId, values) {
  const params = new URLSearchParams(search);
  for (const [key, value] of Object.entries(values)) {
    const name = urlKey(widgetId, key);
    if (value === null || value === undefined) params.delete(name);
    else params.set(name, String(value));
  }
  const text = params.toString();
  return text ? `?${text}` : "";
}

/** A slider's spec with defaults: {min, max, step, log, perDecade, integer, value}. */
export function sliderSpec(spec) {
  const s = { step: 1, log: false, perDecade: 20, integer: false, ...spec };
  for (const k of ["min", "max", "value"]) {
    if (typeof s[k] !== "number" || !Number.isFinite(s[k])) throw new RangeError(`slider ${k}=${s[k]}: expected a finite number`);
  }
  if (!(s.min < s.max)) throw new RangeError(`slider min=${s.min}, max=${s.max}: expected min < max`);
  if (s.log && !(s.min > 0)) throw new RangeError(`log slider min=${s.min}: expected a positive number`);
  if (s.value < s.min || s.value > s.max) throw new RangeError(`slider value=${s.value}: expected a number in [${s.min}, ${s.max}]`);
  return s;
}

/** The range input's position for a value (log sliders: log10 of it). */
export function toPosition(value, spec) {
  return spec.log ? Math.log10(value) : value;
}

/** The value at a range input's position: log sliders round 10^pos to 3 significant digits, clamped. */
export function fromPosition(position, spec) {
  let v = spec.log ? +(10 ** position).toPrecision(3) : position;
  if (spec.integer) v = Math.round(v);
  return Math.min(spec.max, Math.max(spec.min, v));
}

/** A typed number: {value} when it is a finite number in [min, max] (integer if asked), else {error}. */
export function parseNumber(text, spec) {
  const t = String(text).trim();
  const v = t === "" ? NaN : Number(t);
  if (!Number.isFinite(v)) return { error: `"${t}" is not a number` };
  if (v < spec.min || v > spec.max) return { error: `${t} is outside [${sig(spec.min)}, ${sig(spec.max)}]` };
  if (spec.integer && !Number.isInteger(v)) return { error: `${t} is not a whole number` };
  return { value: v };
}

/** About `count` round tick values covering [min, max] (1, 2, 5 × 10^k steps); log: powers of 10. */
export function niceTicks(min, max, count = 5, log = false) {
  if (!(max > min)) return [min];
  if (log) {
    const lo = Math.ceil(Math.log10(min) - 1e-9);
    const hi = Math.floor(Math.log10(max) + 1e-9);
    const every = Math.max(1, Math.ceil((hi - lo + 1) / Math.max(count, 2)));
    const out = [];
    for (let k = lo; k <= hi; k += every) out.push(10 ** k);
    return out;
  }
  const raw = (max - min) / Math.max(count, 1);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw * 0.999);
  const out = [];
  for (let v = Math.ceil(min / step - 1e-9) * step; v <= max + step * 1e-9; v += step) out.push(Math.abs(v) < step * 1e-9 ? 0 : +v.toPrecision(12));
  return out;
}

// --- browser helpers ------------------------------------------------------------------------------

/** True when the reader asked for reduced motion: widgets then draw the end state, no animation. */
export function prefersReducedMotion() {
  return typeof window !== "undefined" && !!window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;
}

const isDark = () => typeof document !== "undefined" && document.body?.getAttribute("data-md-color-scheme") === "slate";

/** The page's colours now (Material's CSS variables; they follow dark mode). */
export function theme() {
  const css = getComputedStyle(document.body);
  const v = (name, fallback) => css.getPropertyValue(name).trim() || fallback;
  const dark = isDark();
  return {
    dark,
    bg: v("--md-default-bg-color", dark ? "#1e2129" : "#ffffff"),
    fg: v("--md-default-fg-color", dark ? "#e2e4e9" : "#000000de"),
    muted: v("--md-default-fg-color--light", dark ? "#e2e4e98f" : "#0000008a"),
    grid: v("--md-default-fg-color--lightest", dark ? "#e2e4e91f" : "#00000012"),
    card: dark ? "#23262f" : "#f4f4f2", // the figures' card (optimessay.style.BACKGROUND) / its dark twin
  };
}

/** An optimizer's palette colour (or any CSS colour); black (Adagrad) becomes the ink in dark mode. */
export function themeColor(nameOrColor) {
  const c = COLORS[nameOrColor] ?? nameOrColor;
  return isDark() && (c === "#000000" || c === "#111111" || c === "#222222") ? "#e2e4e9" : c;
}

// --- the canvas plot -------------------------------------------------------------------------------

const FONT = "12px -apple-system, BlinkMacSystemFont, 'Segoe UI', Roboto, sans-serif";

/** A canvas plot: axes, ticks, labels, a legend; DPR aware; redraws on resize and theme change. */
export class Plot {
  constructor({ aspect = 0.75, maxHeight = 420, minHeight = 220, label = "Live figure" } = {}) {
    this.aspect = aspect;
    this.maxHeight = maxHeight;
    this.minHeight = minHeight;
    this.canvas = el("canvas", { class: "oe-w-canvas", role: "img", "aria-label": label });
    this.box = el("div", { class: "oe-w-stage" }, [this.canvas]);
    this.spec = null;
    this.width = 0;
    this.height = 0;
    if (typeof ResizeObserver !== "undefined") {
      this.observer = new ResizeObserver(() => {
        if (this.spec && Math.round(this.box.clientWidth) !== this.width) this.render(this.spec);
      });
      this.observer.observe(this.box);
    }
  }

  /** Size the backing store to the box × devicePixelRatio; returns a context in CSS pixels. */
  _context() {
    const width = Math.max(120, Math.round(this.box.clientWidth || 320));
    const height = Math.round(Math.min(this.maxHeight, Math.max(this.minHeight, width * this.aspect)));
    const dpr = window.devicePixelRatio || 1;
    if (this.canvas.width !== Math.round(width * dpr) || this.canvas.height !== Math.round(height * dpr)) {
      this.canvas.width = Math.round(width * dpr);
      this.canvas.height = Math.round(height * dpr);
      this.canvas.style.height = `${height}px`;
    }
    this.width = width;
    this.height = height;
    const ctx = this.canvas.getContext("2d");
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    return ctx;
  }

  /**
   * Draw: spec = {x: {min, max, label, log}, y: {...}, equal, legend: [{label, color, dash, width}],
   * draw(ctx, X, Y, theme)}. X, Y map data to CSS pixels. `equal`: one unit is as long on both axes
   * (the ranges grow to fill the area). The widget's drawing is clipped to the plot area.
   */
  render(spec) {
    this.spec = spec;
    const ctx = this._context();
    const th = theme();
    const W = this.width;
    const H = this.height;
    ctx.font = FONT;
    ctx.fillStyle = th.bg;
    ctx.fillRect(0, 0, W, H);
    // the legend sits above the plot area, wrapped into as many rows as the width needs
    const legend = spec.legend ?? [];
    const rows = [];
    let row = [];
    let used = 8;
    for (const item of legend) {
      const w = 30 + ctx.measureText(item.label).width + 14;
      if (row.length && used + w > W - 8) {
        rows.push(row);
        row = [];
        used = 8;
      }
      row.push({ ...item, w });
      used += w;
    }
    if (row.length) rows.push(row);
    const top = 8 + rows.length * 18;
    let { x, y } = spec;
    // the left margin fits the widest y tick label (of the requested range: `equal` only widens it a little)
    const yWidth = Math.max(...niceTicks(y.min, y.max, 5, y.log).map((t) => ctx.measureText(tickText(t)).width), 0);
    const area = { left: Math.ceil((y.label ? 22 : 6) + yWidth + 6), right: W - 12, top: top + 9, bottom: H - 38 };
    if (spec.equal && !x.log && !y.log) ({ x, y } = equalRanges(x, y, area));
    const map = (ax, lo, hi) => (ax.log
      ? (v) => lo + (Math.log10(v) - Math.log10(ax.min)) / (Math.log10(ax.max) - Math.log10(ax.min)) * (hi - lo)
      : (v) => lo + (v - ax.min) / (ax.max - ax.min) * (hi - lo));
    const X = map(x, area.left, area.right);
    const Y = map(y, area.bottom, area.top);
    this.X = X;
    this.Y = Y;
    this.area = area;
    ctx.fillStyle = th.card;
    ctx.fillRect(area.left, area.top, area.right - area.left, area.bottom - area.top);
    // grid and ticks
    ctx.strokeStyle = th.grid;
    ctx.lineWidth = 1;
    const xt = niceTicks(x.min, x.max, W < 480 ? 4 : 6, x.log);
    const yt = niceTicks(y.min, y.max, 5, y.log);
    ctx.beginPath();
    for (const t of xt) { ctx.moveTo(Math.round(X(t)) + 0.5, area.top); ctx.lineTo(Math.round(X(t)) + 0.5, area.bottom); }
    for (const t of yt) { ctx.moveTo(area.left, Math.round(Y(t)) + 0.5); ctx.lineTo(area.right, Math.round(Y(t)) + 0.5); }
    ctx.stroke();
    // the widget's drawing, clipped to the area
    ctx.save();
    ctx.beginPath();
    ctx.rect(area.left, area.top, area.right - area.left, area.bottom - area.top);
    ctx.clip();
    spec.draw?.(ctx, X, Y, th);
    ctx.restore();
    // axes, tick labels, axis labels
    ctx.strokeStyle = th.muted;
    ctx.strokeRect(area.left + 0.5, area.top + 0.5, area.right - area.left - 1, area.bottom - area.top - 1);
    ctx.fillStyle = th.fg;
    ctx.font = FONT;
    ctx.textAlign = "center";
    ctx.textBaseline = "top";
    for (const t of xt) ctx.fillText(tickText(t), X(t), area.bottom + 4);
    ctx.textAlign = "right";
    ctx.textBaseline = "middle";
    for (const t of yt) ctx.fillText(tickText(t), area.left - 5, Y(t));
    ctx.textAlign = "center";
    ctx.textBaseline = "bottom";
    if (x.label) ctx.fillText(x.label, (area.left + area.right) / 2, H - 3);
    if (y.label) {
      ctx.save();
      ctx.translate(12, (area.top + area.bottom) / 2);
      ctx.rotate(-Math.PI / 2);
      ctx.textBaseline = "middle";
      ctx.fillText(y.label, 0, 0);
      ctx.restore();
    }
    // legend
    ctx.textAlign = "left";
    ctx.textBaseline = "middle";
    rows.forEach((items, i) => {
      let at = 8;
      const yy = 8 + i * 18 + 8;
      for (const item of items) {
        ctx.strokeStyle = item.color;
        ctx.lineWidth = item.width ?? 2.5;
        ctx.setLineDash(item.dash ?? []);
        ctx.beginPath();
        ctx.moveTo(at, yy);
        ctx.lineTo(at + 24, yy);
        ctx.stroke();
        ctx.setLineDash([]);
        ctx.fillStyle = th.fg;
        ctx.fillText(item.label, at + 30, yy);
        at += item.w;
      }
    });
  }

  /**
   * A polyline through points [[x, y], ...] (stops at the first non-finite point; marks the end).
   * Points closer than half a pixel to the last drawn one are skipped (a converging walk's thousands
   * of sub-pixel steps cost raster time and show nothing); the final point is always drawn.
   */
  path(ctx, points, X, Y, { color, width = 2, dash = [], dots = false, end = true } = {}) {
    ctx.strokeStyle = color;
    ctx.fillStyle = color;
    ctx.lineWidth = width;
    ctx.setLineDash(dash);
    ctx.beginPath();
    let last = null;
    let pending = null;
    for (const [px, py] of points) {
      if (!Number.isFinite(px) || !Number.isFinite(py)) break;
      const cx = clampPx(X(px));
      const cy = clampPx(Y(py));
      if (!last) {
        ctx.moveTo(cx, cy);
        last = [cx, cy];
      } else if (Math.abs(cx - last[0]) + Math.abs(cy - last[1]) >= 0.5) {
        ctx.lineTo(cx, cy);
        last = [cx, cy];
        pending = null;
      } else pending = [cx, cy];
    }
    if (pending) {
      ctx.lineTo(pending[0], pending[1]);
      last = pending;
    }
    ctx.stroke();
    ctx.setLineDash([]);
    if (dots) {
      for (const [px, py] of points) {
        if (!Number.isFinite(px) || !Number.isFinite(py)) break;
        ctx.beginPath();
        ctx.arc(clampPx(X(px)), clampPx(Y(py)), 2, 0, 2 * Math.PI);
        ctx.fill();
      }
    }
    if (end && last) {
      ctx.beginPath();
      ctx.arc(last[0], last[1], 3.5, 0, 2 * Math.PI);
      ctx.fill();
    }
  }

  /** A marker: "x" (cross), "o" (ring) or "+" at data point (px, py). */
  marker(ctx, px, py, X, Y, { color, size = 6, shape = "x", width = 2 } = {}) {
    const cx = X(px);
    const cy = Y(py);
    ctx.strokeStyle = color;
    ctx.lineWidth = width;
    ctx.beginPath();
    if (shape === "o") ctx.arc(cx, cy, size, 0, 2 * Math.PI);
    else if (shape === "+") { ctx.moveTo(cx - size, cy); ctx.lineTo(cx + size, cy); ctx.moveTo(cx, cy - size); ctx.lineTo(cx, cy + size); } else { ctx.moveTo(cx - size, cy - size); ctx.lineTo(cx + size, cy + size); ctx.moveTo(cx - size, cy + size); ctx.lineTo(cx + size, cy - size); }
    ctx.stroke();
  }

  /**
   * Contour lines of f(x, y) at `levels` (marching squares on an n × n grid over the area's data
   * window): for landscapes and quadratics. Lines in `color` (default: the theme's muted ink).
   */
  contours(ctx, f, levels, X, Y, { n = 64, color, width = 1 } = {}) {
    const a = this.area;
    const xs = [];
    const ys = [];
    const invX = invert(X, a.left, a.right);
    const invY = invert(Y, a.bottom, a.top);
    for (let i = 0; i <= n; i++) xs.push(invX(a.left + (a.right - a.left) * i / n));
    for (let j = 0; j <= n; j++) ys.push(invY(a.bottom + (a.top - a.bottom) * j / n));
    const z = new Float64Array((n + 1) * (n + 1));
    for (let j = 0; j <= n; j++) for (let i = 0; i <= n; i++) z[j * (n + 1) + i] = f(xs[i], ys[j]);
    ctx.strokeStyle = color ?? theme().muted;
    ctx.lineWidth = width;
    ctx.beginPath();
    const px = (i) => a.left + (a.right - a.left) * i / n;
    const py = (j) => a.bottom + (a.top - a.bottom) * j / n;
    for (const level of levels) {
      for (let j = 0; j < n; j++) {
        for (let i = 0; i < n; i++) {
          const v = [z[j * (n + 1) + i], z[j * (n + 1) + i + 1], z[(j + 1) * (n + 1) + i + 1], z[(j + 1) * (n + 1) + i]];
          const pts = [];
          const corners = [[i, j], [i + 1, j], [i + 1, j + 1], [i, j + 1]];
          for (let e = 0; e < 4; e++) {
            const v0 = v[e];
            const v1 = v[(e + 1) % 4];
            if ((v0 < level) !== (v1 < level)) {
              const t = (level - v0) / (v1 - v0);
              const [i0, j0] = corners[e];
              const [i1, j1] = corners[(e + 1) % 4];
              pts.push([px(i0 + (i1 - i0) * t), py(j0 + (j1 - j0) * t)]);
            }
          }
          for (let k = 0; k + 1 < pts.length; k += 2) {
            ctx.moveTo(pts[k][0], pts[k][1]);
            ctx.lineTo(pts[k + 1][0], pts[k + 1][1]);
          }
        }
      }
    }
    ctx.stroke();
  }
}

/** Canvas coordinates far outside the area are clamped (huge values would stall the rasterizer). */
const clampPx = (v) => Math.max(-1e5, Math.min(1e5, v));

/** The inverse of a linear map built by Plot.render, from two of its points. */
function invert(map, p0, p1) {
  const v0 = map(0);
  const v1 = map(1);
  const scale = v1 - v0;
  return (p) => (p - v0) / scale;
}

/** Ranges widened so one data unit has the same length in pixels on both axes. */
function equalRanges(x, y, area) {
  const w = area.right - area.left;
  const h = area.bottom - area.top;
  const sx = (x.max - x.min) / w;
  const sy = (y.max - y.min) / h;
  const s = Math.max(sx, sy);
  const cx = (x.min + x.max) / 2;
  const cy = (y.min + y.max) / 2;
  return {
    x: { ...x, min: cx - s * w / 2, max: cx + s * w / 2 },
    y: { ...y, min: cy - s * h / 2, max: cy + s * h / 2 },
  };
}

/** A tick label: short (1000 → "1000", 1e-4 → "1e-4", 0.25 → "0.25"). */
export function tickText(v) {
  if (v === 0) return "0";
  const a = Math.abs(v);
  if (a >= 1e4 || a < 1e-3) {
    const e = Math.round(Math.log10(a));
    if (Math.abs(a - 10 ** e) < 1e-9 * a) return `${v < 0 ? "-" : ""}1e${e}`;
    return v.toExponential(1).replace("e+", "e");
  }
  return String(+v.toPrecision(3));
}

// --- the widget ------------------------------------------------------------------------------------

const ids = new Map();

/** A fresh DOM id prefix for a widget id (two widgets of one kind on a page get distinct ids). */
function domPrefix(id) {
  const n = (ids.get(id) ?? 0) + 1;
  ids.set(id, n);
  return n === 1 ? `oe-w-${id}` : `oe-w-${id}-${n}`;
}

/**
 * Build a widget's frame inside `root`: title, controls beside (wide) or above (phone) the figure,
 * readout, aria-live summary, caption. Returns the builder (see the usage comment at the top).
 * `id` namespaces the URL keys; data-id on the root overrides it (two widgets of one kind).
 */
export function makeWidget(root, { id, title = "", summaryLabel = "Summary" } = {}) {
  const wid = root.dataset.id || id;
  urlKey(wid, "x"); // validates the id
  const prefix = domPrefix(wid);
  root.replaceChildren();
  root.classList.add("oe-w");
  const controls = el("div", { class: "oe-w-controls" });
  const figure = el("div", { class: "oe-w-figure" });
  const notes = el("p", { class: "oe-w-notes", role: "status" });
  const live = el("p", { class: "oe-w-live", "aria-live": "polite", "aria-label": summaryLabel });
  const captionBox = el("p", { class: "oe-w-caption" });
  if (title) root.append(el("p", { class: "oe-w-title", text: title }));
  root.append(notes, el("div", { class: "oe-w-body" }, [controls, figure]), live, captionBox);
  notes.hidden = true;

  const registry = new Map(); // key -> control {key, value, set, serialize, parse, initial}
  let updateFn = () => {};
  let urlTimer = null;
  const path = window.location.pathname; // the page the widget was mounted on
  const api = { root, id: wid, controls, figure, live };

  const note = (text) => {
    notes.hidden = false;
    notes.append(el("span", { text: `${text} ` }));
  };

  const writeUrl = () => {
    urlTimer = null;
    // the reader has moved on: instant navigation changes the URL before it swaps the page
    if (!root.isConnected || window.location.pathname !== path) return;
    const values = {};
    for (const c of registry.values()) values[c.key] = c.value === c.initial ? null : c.serialize(c.value);
    const search = encodeState(window.location.search, wid, values);
    if (search !== window.location.search) {
      history.replaceState(history.state, "", `${window.location.pathname}${search}${window.location.hash}`);
    }
  };

  const changed = () => {
    api.update();
    if (urlTimer) clearTimeout(urlTimer);
    urlTimer = setTimeout(writeUrl, 250);
  };

  const register = (control) => {
    if (registry.has(control.key)) throw new RangeError(`control key "${control.key}" used twice in widget ${wid}`);
    urlKey(wid, control.key);
    control.initial = control.value;
    registry.set(control.key, control);
    return control;
  };

  /** A labelled slider with a typed number field. spec: {min, max, step, log, perDecade, integer, value}. */
  api.slider = (key, label, rawSpec) => {
    const spec = sliderSpec(rawSpec);
    const did = `${prefix}-${key}`;
    const range = el("input", { type: "range", id: did, class: "oe-w-range" });
    const field = el("input", { type: "text", inputmode: "decimal", id: `${did}-n`, class: "oe-w-number", "aria-label": `${label}, typed value`, size: 7 });
    const error = el("span", { class: "oe-w-error", role: "alert" });
    if (spec.log) {
      range.min = Math.log10(spec.min);
      range.max = Math.log10(spec.max);
      range.step = 1 / spec.perDecade;
    } else {
      range.min = spec.min;
      range.max = spec.max;
      range.step = spec.step;
    }
    const control = { key, input: range, field, value: spec.value, spec };
    const show = (v) => {
      range.value = toPosition(v, spec);
      field.value = sig(v, 4);
      range.setAttribute("aria-valuetext", sig(v, 4));
      field.removeAttribute("aria-invalid");
      error.textContent = "";
    };
    control.set = (v) => {
      control.value = v;
      show(v);
    };
    control.serialize = (v) => String(v);
    control.parse = (text) => parseNumber(text, spec);
    range.addEventListener("input", () => {
      control.set(fromPosition(Number(range.value), spec));
      changed();
    });
    const applyTyped = () => {
      const r = parseNumber(field.value, spec);
      if (r.error) {
        field.setAttribute("aria-invalid", "true");
        error.textContent = `${r.error}: expected a number in [${sig(spec.min)}, ${sig(spec.max)}].`;
        return;
      }
      if (r.value !== control.value) {
        control.set(r.value);
        changed();
      } else show(r.value);
    };
    field.addEventListener("change", applyTyped);
    field.addEventListener("keydown", (e) => {
      if (e.key === "Enter") {
        e.preventDefault();
        applyTyped();
      }
    });
    show(spec.value);
    controls.append(el("div", { class: "oe-w-control oe-w-slider" }, [
      el("label", { for: did, text: label }), el("div", { class: "oe-w-inputs" }, [range, field]), error,
    ]));
    return register(control);
  };

  /** A labelled checkbox. */
  api.toggle = (key, label, value) => {
    const did = `${prefix}-${key}`;
    const input = el("input", { type: "checkbox", id: did });
    input.checked = !!value;
    const control = { key, input, value: !!value };
    control.set = (v) => {
      control.value = !!v;
      input.checked = !!v;
    };
    control.serialize = (v) => (v ? "1" : "0");
    control.parse = (text) => (text === "1" ? { value: true } : text === "0" ? { value: false } : { error: `"${text}" is not 0 or 1` });
    input.addEventListener("change", () => {
      control.value = input.checked;
      changed();
    });
    controls.append(el("div", { class: "oe-w-control oe-w-toggle" }, [input, el("label", { for: did, text: label })]));
    return register(control);
  };

  /** A labelled <select> of [value, text] options. */
  api.select = (key, label, options, value) => {
    const did = `${prefix}-${key}`;
    const input = el("select", { id: did });
    for (const [v, text] of options) input.append(el("option", { value: v, text }));
    if (!options.some(([v]) => v === value)) throw new RangeError(`select ${key}: value "${value}" is not one of its options`);
    input.value = value;
    const control = { key, input, value };
    control.set = (v) => {
      control.value = v;
      input.value = v;
    };
    control.serialize = (v) => v;
    control.parse = (text) => (options.some(([v]) => v === text) ? { value: text } : { error: `"${text}" is not one of ${options.map(([v]) => v).join(", ")}` });
    input.addEventListener("change", () => {
      control.value = input.value;
      changed();
    });
    controls.append(el("div", { class: "oe-w-control oe-w-select" }, [el("label", { for: did, text: label }), input]));
    return register(control);
  };

  /** A button that runs `onClick()` then updates. */
  api.button = (label, onClick) => {
    const b = el("button", { type: "button", class: "oe-w-button", text: label });
    b.addEventListener("click", () => {
      onClick();
      changed();
    });
    controls.append(el("div", { class: "oe-w-control" }, [b]));
    return b;
  };

  /** A canvas plot in the figure column (see Plot). */
  api.plot = (options = {}) => {
    const plot = new Plot(options);
    figure.append(plot.box);
    return plot;
  };

  /**
   * A readout table: set([[label, text, key?], ...]) (texts made with sig(): 4 significant digits; key:
   * the row's data-key, for tests). place: "figure" (under the plots) or "controls" (under the controls:
   * beside the figure on wide screens).
   */
  api.readout = ({ label = "Readout", place = "figure" } = {}) => {
    const table = el("table", { class: "oe-w-readout", "aria-label": label });
    const body = el("tbody");
    table.append(body);
    (place === "controls" ? controls : figure).append(table);
    return {
      table,
      set(rows) {
        body.replaceChildren(...rows.map(([k, v, key]) => el("tr", key ? { "data-key": key } : {}, [el("th", { scope: "row", text: k }), el("td", { text: v })])));
      },
    };
  };

  /** The aria-live summary sentence. */
  api.say = (text) => {
    if (live.textContent !== text) live.textContent = text;
  };

  /** The "what to try" line under the figure. */
  api.caption = (text) => {
    captionBox.textContent = text;
  };

  api.onUpdate = (fn) => {
    updateFn = fn;
  };

  api.update = () => {
    const t0 = performance.now();
    updateFn();
    root.oeWidget.lastUpdateMs = performance.now() - t0;
  };

  api.values = () => Object.fromEntries([...registry.values()].map((c) => [c.key, c.value]));

  /** Read the URL state (bad values: a visible note, the default kept), then the first update. */
  api.start = () => {
    const saved = decodeState(window.location.search, wid);
    for (const [key, text] of Object.entries(saved)) {
      const c = registry.get(key);
      if (!c) {
        note(`Ignored the URL setting ${urlKey(wid, key)}: this figure has no control "${key}".`);
        continue;
      }
      const r = c.parse(text);
      if (r.error) note(`Ignored the URL setting ${urlKey(wid, key)}: ${r.error}.`);
      else c.set(r.value);
    }
    api.update();
  };

  root.oeWidget = { update: () => api.update(), lastUpdateMs: NaN, values: () => api.values() };
  // dark mode switched: redraw with the new colours
  if (typeof MutationObserver !== "undefined") {
    const observer = new MutationObserver(() => {
      if (root.isConnected) api.update();
      else observer.disconnect(); // the page was left (instant navigation)
    });
    observer.observe(document.body, { attributes: true, attributeFilter: ["data-md-color-scheme"] });
  }
  return api;
}
