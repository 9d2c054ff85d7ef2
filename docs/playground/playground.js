// The playground: every `<div class="oe-playground" data-preset="NAME">` on a page becomes a live
// race of optimizers over a landscape. Every change recomputes all walks (float64, the package's
// exact update rules) and redraws them; the state lives in the URL.
//
// For a newcomer: it opens at step 0 and plays the race to its end once it is on screen (with
// prefers-reduced-motion: it shows the end, and Play is there); the canvas has axes, a legend, a
// labelled minimum and a marker where a walk diverges; on a wide column the controls sit beside the
// canvas (which stays in view while they scroll), on a phone below it, each optimizer's settings
// beyond its learning rate folded away.
//
// The DOM is built with createElement/textContent only: nothing read from the URL or computed is
// ever parsed as HTML. Loaded as an ES module on pages with `playground: true` in their front
// matter; mounts on first load and after every instant navigation of Material (document$).

import { announcement, checkbox, el, hpText, select, sig, slider } from "./dom.js";
import { distanceToMinimum, getLandscape } from "./landscapes.js";
import { COLORS, DARK_COLORS } from "./palette.js";
import { computeLayout, contourCanvas, draw, exitOf } from "./render.js";
import {
  DEFAULT_PRESET, GLOBALS, KINDS, LANDSCAPE_NAMES, MAX_RUNS, PARAMS, PRESETS, SCHEDULERS,
  colourRuns, landscapeParams, optimizerOf, parseQuery, presetState, toQuery,
} from "./state.js";
import { SCHEDULER_DEFAULTS } from "./schedulers.js";
import { run } from "./trajectory.js";
import { validate } from "./optimizers.js";

const LANDSCAPE_TITLES = {
  rosenbrock: "Rosenbrock's banana", beale: "Beale", himmelblau: "Himmelblau", quadratic: "Quadratic (κ, θ)",
  saddle: "Saddle", rastrigin: "Rastrigin", valley: "Long narrow valley",
};
const PRESET_TITLES = {
  "banana-race": "Race on the banana", "seed-sgd": "Seed: SGD with momentum", "seed-rmsprop-alpha": "Seed: RMSprop alphas",
  "seed-rmsprop-momentum": "Seed: RMSprop momenta", "seed-schedulers": "Seed: schedulers", "rotated-quadratic": "Rotated quadratic",
};
const SAME_LR = { min: 1e-6, max: 10, log: true, sliderMin: -5, sliderMax: 1, sliderStep: 0.01 };

const darkTheme = () => document.body?.getAttribute("data-md-color-scheme") === "slate";
const reducedMotion = () => typeof window.matchMedia === "function" && window.matchMedia("(prefers-reduced-motion: reduce)").matches;

// --- the playground -----------------------------------------------------------------------------

let instances = 0;

export class Playground {
  constructor(root, index) {
    this.root = root;
    this.index = index;
    this.uid = `oe-pg${instances++}`;
    this.path = window.location.pathname; // the page it was mounted on
    this.homePreset = Object.hasOwn(PRESETS, root.dataset.preset) ? root.dataset.preset : DEFAULT_PRESET;
    const { state, notes, mine } = parseQuery(window.location.search, this.homePreset, index);
    this.state = state;
    this.results = [];
    this.playing = false;
    this.backgroundKey = "";
    this.background = null;
    this.lastUpdateMs = NaN;
    this.firstFrameMs = NaN; // ms from the page's navigation start to the first frame drawn
    this.openCards = new Set();
    // a first visit (no step in the link) starts at step 0 and plays once the canvas is on screen;
    // with reduced motion it shows the end, and Play is there
    this.autoplayPending = state.t === null && !reducedMotion();
    if (this.autoplayPending) this.state.t = 0;
    this.openedAtStep = this.state.t;
    this.dark = darkTheme();
    this.build();
    if (root.dataset.preset && !Object.hasOwn(PRESETS, root.dataset.preset)) {
      notes.unshift(`Unknown preset "${root.dataset.preset}" on this page: using ${DEFAULT_PRESET}.`);
    }
    this.showMessages(notes, mine);
    this.update({ writeUrl: false });
    root.oePlayground = this; // for tests and the benchmark
    this.watchVisibility();
    this.watchTheme();
  }

  // --- DOM ----------------------------------------------------------------------------------------
  build() {
    const id = (name) => `${this.uid}-${name}`;
    this.root.replaceChildren();
    this.root.classList.add("oe-pg");
    this.swatches = new Map();
    this.messages = el("div", { class: "oe-pg-messages", role: "status" });
    this.controls = el("div", { class: "oe-pg-globals" });
    this.canvas = el("canvas", {
      class: "oe-pg-canvas", tabindex: 0, role: "img", "aria-describedby": id("help"),
      "aria-label": "Landscape with the optimizers' paths, axes and legend. Click or drag to set the start point; arrow keys move it (Shift: faster).",
    });
    this.timeBox = el("div", { class: "oe-pg-time" });
    this.live = el("p", { class: "oe-pg-live", "aria-live": "polite" });
    this.stage = el("div", { class: "oe-pg-stage" }, [this.canvas, this.timeBox, this.live]);
    this.runsBox = el("div", { class: "oe-pg-runs" });
    this.side = el("div", { class: "oe-pg-side" }, [this.controls, this.runsBox]);
    this.readout = el("table", { class: "oe-pg-readout" });
    const readoutNote = el("p", { class: "oe-pg-note", text: "Each step is lr·P·ĝ: lr·P multiplies the gradient estimate ĝ (momentum's buffer, Adam's average, or the gradient itself), coordinate by coordinate; |Δx| is the length of the step into the current point." });
    this.root.append(
      el("p", { class: "oe-pg-title", text: "Playground" }),
      el("p", { class: "oe-pg-help", id: id("help"), text: "Each coloured path is one optimizer walking downhill from the start ring towards the minimum ✕; Play replays the race and the step slider scrubs through it. Drag on the landscape to move the start, change a learning rate (or type an exact value): every change reruns all optimizers in your browser, with the same float64 update rules as the Python package." }),
      this.messages,
      el("div", { class: "oe-pg-layout" }, [this.stage, this.side]),
      el("div", { class: "oe-pg-readout-box" }, [this.readout]),
      readoutNote,
    );
    this.buildGlobals(id);
    this.buildRuns();
    this.buildTime(id);
    this.bindCanvas();
    // redraw when the column width changes; in the next frame, since redrawing resizes the canvas
    // (a resize inside the observer's callback would be reported as a loop error)
    // The sizes are read here, once and then when they change, never in render(): reading a size
    // after the readout's texts changed would force a layout of the whole page on every frame.
    this.measure();
    this.resizeObserver = new ResizeObserver(() => {
      if (!this.root.isConnected) {
        this.resizeObserver.disconnect(); // the page was left (instant navigation)
        return;
      }
      const width = this.stageWidth;
      this.measure();
      if (this.stageWidth === width) return;
      requestAnimationFrame(() => this.render());
    });
    this.resizeObserver.observe(this.stage);
    this.resizeObserver.observe(this.root);
  }

  /** The canvas's width and whether the controls sit beside it (two columns: the canvas is sticky). */
  measure() {
    this.stageWidth = this.stage.clientWidth;
    this.wide = this.side.offsetTop < this.stage.offsetTop + this.stage.offsetHeight / 2 && this.side.offsetLeft > this.stage.offsetLeft;
  }

  /** Redraw in the other theme's colours when the reader switches Material's palette. */
  watchTheme() {
    this.themeObserver = new MutationObserver(() => {
      if (!this.root.isConnected) {
        this.themeObserver.disconnect();
        return;
      }
      if (darkTheme() === this.dark) return;
      this.dark = darkTheme();
      this.update({ writeUrl: false });
    });
    this.themeObserver.observe(document.body, { attributes: true, attributeFilter: ["data-md-color-scheme"] });
  }

  /** Start the first visit's playback when the canvas comes on screen (not while it is scrolled away). */
  watchVisibility() {
    if (!this.autoplayPending) return;
    if (typeof IntersectionObserver !== "function") {
      this.autoplayPending = false;
      this.togglePlay({ auto: true });
      return;
    }
    this.visibility = new IntersectionObserver((entries) => {
      if (!this.root.isConnected) {
        this.visibility.disconnect();
        return;
      }
      if (!entries.some((e) => e.isIntersecting)) return;
      this.visibility.disconnect();
      if (!this.autoplayPending) return;
      this.autoplayPending = false;
      this.togglePlay({ auto: true });
    }, { threshold: 0.35 });
    this.visibility.observe(this.canvas);
  }

  buildGlobals(id) {
    const s = this.state;
    const box = this.controls;
    box.replaceChildren();
    const preset = select(id("preset"), "preset", Object.keys(PRESETS).map((p) => [p, PRESET_TITLES[p] || p]), s.preset, (v) => {
      this.state = presetState(v);
      if (!reducedMotion()) this.state.t = 0;
      this.rebuild();
      if (!reducedMotion()) this.togglePlay({ auto: true });
    });
    const land = select(id("land"), "landscape", LANDSCAPE_NAMES.map((n) => [n, LANDSCAPE_TITLES[n] || n]), s.landscape, (v) => {
      s.landscape = v;
      const l = getLandscape(v, landscapeParams(s));
      s.start = [...l.start];
      s.scale = l.logScale ? "log" : "linear";
      this.rebuild();
    });
    const scale = select(id("scale"), "contours", [["log", "log scale"], ["linear", "linear scale"]], s.scale, (v) => {
      s.scale = v;
      this.update();
    });
    const steps = slider(id("steps"), "steps", GLOBALS.steps, s.steps, (v) => {
      const atEnd = s.t === null || s.t >= s.steps;
      s.steps = v;
      s.t = atEnd ? null : Math.min(s.t, v);
      this.update();
    });
    const firstLr = s.runs.length ? validate(...optimizerOf(s.runs[0])).lr : 1e-3;
    this.sameLr = slider(id("same-lr"), "same lr for all", SAME_LR, Math.min(SAME_LR.max, Math.max(SAME_LR.min, firstLr)), (v) => this.setAllLr(v));
    this.sameLr.row.classList.add("oe-pg-same-lr");
    const pre = checkbox(id("precond"), "show lr·P (what multiplies the gradient)", s.precond, (v) => {
      s.precond = v;
      this.update();
    });
    const reset = el("button", { type: "button", class: "oe-pg-button", text: "Reset", onclick: () => this.reset() });
    const rows = [preset.row, land.row, scale.row];
    if (s.landscape === "quadratic") {
      rows.push(
        slider(id("kappa"), GLOBALS.kappa.label, GLOBALS.kappa, s.kappa, (v) => { s.kappa = v; this.update(); }).row,
        slider(id("theta"), GLOBALS.theta.label, GLOBALS.theta, s.theta, (v) => { s.theta = v; this.update(); }).row,
      );
    }
    rows.push(steps.row, this.sameLr.row, pre, reset);
    box.append(...rows);
  }

  /** The "same lr for all" control: every run's learning rate set to v, each run's slider moved. */
  setAllLr(v) {
    this.state.runs.forEach((r, i) => {
      r.hp.lr = v;
      this.lrSetters.get(i)?.(v);
    });
    this.update();
  }

  buildRuns() {
    const box = this.runsBox;
    box.replaceChildren();
    this.lrSetters = new Map();
    this.state.runs.forEach((r, i) => box.append(this.runCard(r, i)));
    if (this.state.runs.length < MAX_RUNS) {
      const addId = `${this.uid}-add`;
      const add = el("select", { id: addId }, [el("option", { value: "", text: "add an optimizer…" }),
        ...Object.entries(KINDS).map(([k, v]) => el("option", { value: k, text: v.name }))]);
      add.addEventListener("change", () => {
        if (!add.value) return;
        this.state.runs.push({ kind: add.value, on: true, hp: { lr: KINDS[add.value].lr ?? (KINDS[add.value].optimizer === "sgd" ? 1e-3 : 1e-2) }, sched: { kind: "none", params: {} } });
        this.rebuild();
      });
      box.append(el("div", { class: "oe-pg-control oe-pg-add" }, [el("label", { for: addId, text: "More:" }), add]));
    }
  }

  runCard(r, i) {
    const id = (name) => `${this.uid}-r${i}-${name}`;
    const kind = KINDS[r.kind];
    const [optKind, hp] = optimizerOf(r);
    const full = validate(optKind, hp); // torch's defaults filled in
    const swatch = el("span", { class: "oe-pg-swatch", "aria-hidden": "true" });
    const toggle = el("input", { type: "checkbox", id: id("on") });
    toggle.checked = r.on;
    toggle.addEventListener("change", () => {
      r.on = toggle.checked;
      card.classList.toggle("oe-pg-off", !r.on);
      this.update();
    });
    const remove = el("button", { type: "button", class: "oe-pg-remove", "aria-label": `remove ${kind.name} ${i + 1}`, text: "×",
      onclick: () => { this.state.runs.splice(i, 1); this.openCards.clear(); this.rebuild(); } });
    this.nameNodes = this.nameNodes || new Map();
    const nameText = document.createTextNode(` ${kind.name}`);
    this.nameNodes.set(i, nameText);
    const name = el("label", { for: id("on") }, [swatch, nameText]);
    const card = el("fieldset", { class: `oe-pg-run${r.on ? "" : " oe-pg-off"}` }, [el("legend", {}, [toggle, name, remove])]);
    card.dataset.run = String(i);
    const body = el("div", { class: "oe-pg-run-body" });
    // the settings beyond the learning rate, folded away (a plain button: Material restyles <details>)
    const more = el("div", { class: "oe-pg-more", id: id("more") });
    const opened = this.openCards.has(i);
    more.hidden = !opened;
    const summary = el("button", {
      type: "button", class: "oe-pg-more-toggle", "aria-expanded": String(opened), "aria-controls": id("more"),
      text: r.sched.kind === "none" ? "more settings" : `more settings (${SCHEDULERS[r.sched.kind].name})`,
      onclick: () => {
        more.hidden = !more.hidden;
        summary.setAttribute("aria-expanded", String(!more.hidden));
        if (more.hidden) this.openCards.delete(i);
        else this.openCards.add(i);
      },
    });
    if (kind.note) more.append(el("p", { class: "oe-pg-note", text: kind.note }));
    for (const key of kind.controls) {
      const spec = PARAMS[key];
      if (spec.boolean) {
        more.append(checkbox(id(key), spec.label, Boolean(r.hp[key]), (v) => { r.hp[key] = v; this.update(); }));
      } else {
        const s = slider(id(key), spec.label, spec, full[key], (v) => { r.hp[key] = v; this.update(); });
        if (key === "lr") {
          // on one line with its range: "lr" shown, "learning rate" read out
          s.row.querySelector("label").replaceChildren(el("span", { "aria-hidden": "true", text: "lr" }), el("span", { class: "oe-pg-sr", text: spec.label }));
          body.append(s.row);
          this.lrSetters.set(i, s.set);
        } else {
          more.append(s.row);
        }
      }
    }
    more.append(this.schedulerControls(r, id));
    body.append(summary, more);
    card.append(body);
    this.swatches.set(i, swatch);
    return card;
  }

  schedulerControls(r, id) {
    const box = el("div", { class: "oe-pg-sched" });
    const kindSelect = select(id("sched"), "schedule", Object.entries(SCHEDULERS).map(([k, v]) => [k, v.name]), r.sched.kind, (v) => {
      r.sched = { kind: v, params: {} };
      box.replaceWith(this.schedulerControls(r, id));
      this.update();
    });
    box.append(kindSelect.row);
    const specs = SCHEDULERS[r.sched.kind].params;
    for (const [key, spec] of Object.entries(specs)) {
      const value = r.sched.params[key] ?? SCHEDULER_DEFAULTS[r.sched.kind][key];
      if (spec.list) {
        const input = el("input", { type: "text", id: id(`s-${key}`), inputmode: "numeric", value: value.join(", "), class: "oe-pg-text" });
        input.addEventListener("change", () => {
          const items = input.value.split(/[\s,/]+/).filter(Boolean).map(Number);
          const ok = items.length > 0 && items.length <= 20 && items.every((v) => Number.isInteger(v) && v >= spec.min && v <= spec.max);
          input.setAttribute("aria-invalid", ok ? "false" : "true");
          if (!ok) return;
          r.sched.params[key] = items;
          this.update();
        });
        box.append(el("div", { class: "oe-pg-control" }, [el("label", { for: id(`s-${key}`), text: spec.label }), input]));
      } else if (key !== "eta_min" && key !== "end_factor") {
        box.append(slider(id(`s-${key}`), spec.label, spec, value, (v) => { r.sched.params[key] = v; this.update(); }).row);
      }
    }
    return box;
  }

  buildTime(id) {
    const box = this.timeBox;
    box.replaceChildren();
    this.playButton = el("button", { type: "button", class: "oe-pg-button oe-pg-play", "aria-pressed": "false", text: "Play", onclick: () => this.togglePlay() });
    const back = el("button", { type: "button", class: "oe-pg-button oe-pg-step", "aria-label": "one step back", text: "◀ step", onclick: () => this.stepBy(-1) });
    const fwd = el("button", { type: "button", class: "oe-pg-button oe-pg-step", "aria-label": "one step forward", text: "step ▶", onclick: () => this.stepBy(1) });
    this.timeSlider = el("input", { type: "range", id: id("t"), min: 0, max: this.state.steps, step: 1, class: "oe-pg-range oe-pg-scrub" });
    this.timeOut = el("output", { for: id("t"), class: "oe-pg-value" });
    this.timeSlider.addEventListener("input", () => {
      this.stopPlay();
      this.autoplayPending = false;
      this.state.t = Number(this.timeSlider.value);
      this.render();
      this.announce();
      this.scheduleUrl();
    });
    box.append(this.playButton, back, fwd, el("label", { for: id("t"), text: "step", class: "oe-pg-scrub-label" }), this.timeSlider, this.timeOut);
  }

  bindCanvas() {
    const c = this.canvas;
    let dragging = false;
    const moveTo = (event) => {
      const rect = c.getBoundingClientRect();
      const view = this.view;
      const x = view.x(event.clientX - rect.left);
      const y = view.y(event.clientY - rect.top);
      this.setStart(x, y);
    };
    c.addEventListener("pointerdown", (event) => {
      dragging = true;
      c.setPointerCapture(event.pointerId);
      moveTo(event);
    });
    c.addEventListener("pointermove", (event) => { if (dragging) moveTo(event); });
    const stop = () => { dragging = false; };
    c.addEventListener("pointerup", stop);
    c.addEventListener("pointercancel", stop);
    c.addEventListener("keydown", (event) => {
      const moves = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, 1], ArrowDown: [0, -1] };
      if (!(event.key in moves)) return;
      event.preventDefault();
      const land = this.landscape;
      const f = event.shiftKey ? 0.1 : 0.01;
      const [dx, dy] = moves[event.key];
      this.setStart(this.state.start[0] + dx * f * (land.xRange[1] - land.xRange[0]), this.state.start[1] + dy * f * (land.yRange[1] - land.yRange[0]));
    });
  }

  setStart(x, y) {
    const land = this.landscape;
    const round = (v) => Math.round(v * 1000) / 1000; // a readable, shareable start
    this.state.start = [
      round(Math.min(land.xRange[1], Math.max(land.xRange[0], x))),
      round(Math.min(land.yRange[1], Math.max(land.yRange[0], y))),
    ];
    this.update();
  }

  showMessages(notes, fromUrl) {
    this.messages.replaceChildren();
    if (!notes.length) return;
    const list = el("ul", {}, notes.slice(0, 12).map((n) => el("li", { text: n })));
    this.messages.append(el("p", { text: fromUrl ? "Some settings in the link were changed or ignored:" : "Note:" }), list);
  }

  rebuild() {
    this.stopPlay();
    this.swatches = new Map();
    const id = (name) => `${this.uid}-${name}`;
    this.buildGlobals(id);
    this.buildRuns();
    this.buildTime(id);
    this.update();
  }

  reset() {
    this.stopPlay();
    this.autoplayPending = false;
    this.state = presetState(this.homePreset);
    this.openCards.clear();
    this.showMessages([], false);
    const url = new URL(window.location.href);
    url.search = "";
    window.history.replaceState(window.history.state, "", url);
    this.rebuild();
    this.urlTimer && clearTimeout(this.urlTimer);
  }

  // --- computing and drawing ---------------------------------------------------------------------
  get landscape() {
    return getLandscape(this.state.landscape, landscapeParams(this.state));
  }

  /** Recompute every enabled walk (float64, exact update rules), its colour and where it leaves the window. */
  recompute() {
    const s = this.state;
    const land = this.landscape;
    this.land = land;
    const { colours, sweeps } = colourRuns(s.runs, { dark: this.dark });
    this.sweeps = sweeps;
    this.readoutRows = null; // rebuilt at the next render
    const counts = {};
    for (const r of s.runs) counts[r.kind] = (counts[r.kind] || 0) + 1;
    const seen = {};
    this.results = s.runs.map((r, i) => {
      const j = (seen[r.kind] = (seen[r.kind] ?? -1) + 1);
      const { colour, bits, sweep } = colours[i];
      const dash = r.sched.kind !== "none" && counts[r.kind] > 1 ? [6, 3 + 2 * (j % 3)] : null;
      const name = bits ? `${KINDS[r.kind].name} ${bits}` : KINDS[r.kind].name;
      if (!r.on) return { index: i, run: r, colour, dash, name, sweep, result: null, exit: null };
      const [opt, hp] = optimizerOf(r);
      const result = run(land, opt, hp, { start: s.start, steps: s.steps, scheduler: r.sched.kind, schedulerParams: r.sched.params });
      return { index: i, run: r, colour, dash, name, sweep, result, exit: exitOf(result, land) };
    });
  }

  /** The legend's entries: one line per drawn run, one colour bar per sweep (2 or more runs on). */
  legendItems() {
    const items = [];
    const inBar = new Set();
    for (const sweep of this.sweeps) {
      const on = sweep.members.filter((i) => this.results[i].result);
      if (on.length < 2) continue;
      on.forEach((i) => inBar.add(i));
      items.push({
        type: "bar", label: `${KINDS[sweep.kind].name} ${PARAMS[sweep.key].short}`, colour: (this.dark ? DARK_COLORS : COLORS)[sweep.kind],
        colours: on.map((i) => this.results[i].colour), values: on.map((i) => hpText(this.results[i].sweep.value)), first: on[0],
      });
    }
    const lines = [];
    for (const w of this.results) {
      if (!w.result) continue;
      if (inBar.has(w.index)) {
        const bar = items.find((it) => it.first === w.index);
        if (bar) lines.push(bar);
        continue;
      }
      lines.push({ type: "line", label: w.name, colour: w.colour, dash: w.dash });
    }
    if (this.state.precond) lines.push({ type: "key", label: "lr·P" });
    return lines;
  }

  /** Redraw the canvas and the readout for the current step (no recomputation). */
  render() {
    const s = this.state;
    const land = this.land || this.landscape;
    const cssWidth = Math.max(240, Math.floor(this.stageWidth || 480));
    // beside the controls the canvas stays in view: it must fit the window with the time controls
    const maxPlot = this.wide ? Math.max(200, Math.min(520, window.innerHeight - 260)) : 520;
    const ctx = this.canvas.getContext("2d");
    // the layout (legend text measured) changes with the runs, the width or the window, not the step
    const items = this.legendItems();
    const layoutKey = JSON.stringify([cssWidth, maxPlot, s.landscape, land.xRange, land.yRange,
      items.map((i) => [i.type, i.label, i.colour, i.colours, i.values, i.dash])]);
    if (layoutKey !== this.layoutKey) {
      this.cachedLayout = computeLayout(ctx, land, cssWidth, maxPlot, items);
      this.layoutKey = layoutKey;
    }
    const layout = this.cachedLayout;
    const cssHeight = Math.round(layout.height);
    const dpr = Math.min(2, window.devicePixelRatio || 1);
    if (this.canvas.width !== Math.round(cssWidth * dpr) || this.canvas.height !== Math.round(cssHeight * dpr)) {
      this.canvas.width = Math.round(cssWidth * dpr);
      this.canvas.height = Math.round(cssHeight * dpr);
      this.canvas.style.width = `${cssWidth}px`;
      this.canvas.style.height = `${cssHeight}px`;
    }
    this.layout = layout;
    this.view = layout.view;
    const { plot } = layout;
    const key = JSON.stringify([s.landscape, landscapeParams(s), s.scale, plot.w, plot.h, this.dark]);
    if (key !== this.backgroundKey) {
      this.background = contourCanvas(land, s.scale, plot.w, plot.h, this.dark);
      this.backgroundKey = key;
    }
    const t = this.currentStep();
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    const walks = this.results.filter((w) => w.result);
    this.drawn = draw(ctx, { layout, background: this.background, landscape: land, walks, start: s.start, t, precond: s.precond, dark: this.dark });
    if (Number.isNaN(this.firstFrameMs)) this.firstFrameMs = performance.now();
    this.timeSlider.max = s.steps;
    this.timeSlider.value = t;
    this.timeOut.textContent = `${t} / ${s.steps}`;
    this.renderReadout(t);
  }

  /** The run cards' swatches and names, after a recompute (their colours and sweep labels may change). */
  renderCards() {
    for (const w of this.results) {
      const sw = this.swatches.get(w.index);
      if (sw && sw.dataset.colour !== w.colour) {
        sw.dataset.colour = w.colour;
        sw.style.background = w.colour;
      }
      const name = this.nameNodes?.get(w.index);
      if (name && name.textContent !== ` ${w.name}`) name.textContent = ` ${w.name}`;
    }
  }

  currentStep() {
    const s = this.state;
    return s.t === null ? s.steps : Math.min(s.t, s.steps);
  }

  /** The readout table: built once per recompute, its texts refreshed on every frame (cheap during playback). */
  renderReadout(t) {
    const land = this.land;
    if (!this.readoutRows) {
      const head = el("tr", {}, ["optimizer", "loss", "distance to minimum", "step length |Δx|", "lr·P (x, y): multiplies ĝ", `final point (step ${this.state.steps})`]
        .map((h) => el("th", { scope: "col", text: h })));
      this.readoutRows = [];
      const rows = [];
      for (const w of this.results) {
        if (!w.result) continue;
        const res = w.result;
        const fx = res.points[2 * res.steps];
        const fy = res.points[2 * res.steps + 1];
        const final = el("td", { class: "oe-pg-final", text: res.divergedAt !== null ? "diverged" : `(${sig(fx)}, ${sig(fy)})` });
        final.dataset.x = String(fx);
        final.dataset.y = String(fy);
        const swatch = el("span", { class: "oe-pg-swatch", "aria-hidden": "true" });
        swatch.style.background = w.colour;
        const cells = { loss: el("td"), distance: el("td"), step: el("td", { class: "oe-pg-step" }), lrp: el("td", { class: "oe-pg-lrp" }) };
        rows.push(el("tr", { "data-run": w.index }, [
          el("th", { scope: "row" }, [swatch, document.createTextNode(` ${this.label(w.run)}`)]),
          cells.loss, cells.distance, cells.step, cells.lrp, final,
        ]));
        this.readoutRows.push({ w, cells });
      }
      this.caption = el("caption");
      this.readout.replaceChildren(this.caption, el("thead", {}, [head]), el("tbody", {}, rows));
    }
    for (const { w, cells } of this.readoutRows) {
      const res = w.result;
      const k = Math.min(t, res.steps);
      const x = res.points[2 * k];
      const y = res.points[2 * k + 1];
      const p = k > 0 ? [res.lrs[k - 1] * res.preconditioners[2 * k - 2], res.lrs[k - 1] * res.preconditioners[2 * k - 1]] : null;
      const diverged = res.divergedAt !== null && k >= res.divergedAt;
      const step = k > 0 && !diverged ? Math.hypot(x - res.points[2 * k - 2], y - res.points[2 * k - 1]) : null;
      cells.loss.textContent = diverged ? `diverged at step ${res.divergedAt}` : sig(res.losses[k]);
      cells.distance.textContent = diverged ? "–" : sig(distanceToMinimum(land, x, y));
      cells.step.textContent = step === null ? "–" : sig(step);
      cells.lrp.textContent = p && !diverged ? `${sig(p[0])}, ${sig(p[1])}` : "–";
    }
    this.caption.textContent = `At step ${t} of ${this.state.steps}, from (${this.state.start[0]}, ${this.state.start[1]})`;
  }

  label(r) {
    const k = KINDS[r.kind];
    const bits = k.controls.filter((c) => !PARAMS[c].boolean && r.hp[c] !== undefined).map((c) => `${PARAMS[c].short} ${hpText(r.hp[c])}`);
    for (const c of k.controls) if (PARAMS[c].boolean && r.hp[c]) bits.push(PARAMS[c].label);
    let text = `${k.name} (${bits.join(", ")})`;
    if (r.sched.kind !== "none") text += ` + ${SCHEDULERS[r.sched.kind].name}`;
    return text;
  }

  /** Tell screen readers where the walks are (not during playback). */
  announce() {
    if (this.playing) return;
    const walks = this.results.filter((w) => w.result).map((w) => ({ name: this.label(w.run), result: w.result }));
    this.live.textContent = announcement(walks, this.currentStep(), this.state.steps);
  }

  /** Recompute and redraw everything; the time spent is kept in lastUpdateMs. */
  update({ writeUrl = true } = {}) {
    if (!this.swatches) this.swatches = new Map();
    const t0 = performance.now();
    this.recompute();
    this.render();
    this.renderCards();
    this.lastUpdateMs = performance.now() - t0;
    this.announce();
    if (writeUrl) this.scheduleUrl();
  }

  scheduleUrl() {
    clearTimeout(this.urlTimer);
    this.urlTimer = setTimeout(() => {
      // the reader has moved on to another page: Material's instant navigation changes the URL
      // before it swaps the page, so a write still pending would land on the next page's URL
      if (!this.root.isConnected || window.location.pathname !== this.path) return;
      const url = new URL(window.location.href);
      url.search = toQuery(this.state, this.index);
      window.history.replaceState(window.history.state, "", url);
    }, 150);
  }

  // --- time -------------------------------------------------------------------------------------------
  /** How long playing the whole walk takes: about 15 ms a step, between 2.5 and 6 seconds. */
  get duration() {
    return Math.min(6000, Math.max(2500, 15 * this.state.steps));
  }

  togglePlay({ auto = false } = {}) {
    if (this.playing) {
      this.stopPlay();
      return;
    }
    this.autoplayPending = false;
    if (this.currentStep() >= this.state.steps) this.state.t = 0;
    this.playing = true;
    this.autoPlaying = auto;
    this.playButton.textContent = "Pause";
    this.playButton.setAttribute("aria-pressed", "true");
    const from = this.currentStep();
    const steps = this.state.steps;
    this.live.textContent = `Playing from step ${from} to ${steps}…`; // announced again when it stops
    let began = null;
    const frame = (now) => {
      if (!this.playing || !this.root.isConnected) return;
      if (began === null) began = now;
      this.state.t = Math.min(this.state.steps, from + Math.floor(((now - began) / this.duration) * steps));
      this.render();
      if (this.state.t >= this.state.steps) {
        this.stopPlay();
        return;
      }
      this.raf = requestAnimationFrame(frame);
    };
    this.raf = requestAnimationFrame(frame);
  }

  stopPlay() {
    if (!this.playing) return;
    this.playing = false;
    cancelAnimationFrame(this.raf);
    this.playButton.textContent = "Play";
    this.playButton.setAttribute("aria-pressed", "false");
    this.announce();
    // the first visit's playback reaching the end leaves the link as it was
    if (!(this.autoPlaying && this.currentStep() >= this.state.steps)) this.scheduleUrl();
    this.autoPlaying = false;
  }

  stepBy(delta) {
    this.stopPlay();
    this.autoplayPending = false;
    this.state.t = Math.max(0, Math.min(this.state.steps, this.currentStep() + delta));
    this.render();
    this.announce();
    this.scheduleUrl();
  }
}

/** Mount every playground on the page that is not mounted yet. */
export function mountAll() {
  document.querySelectorAll(".oe-playground").forEach((root, index) => {
    if (root.oePlayground) return;
    try {
      new Playground(root, index);
    } catch (error) {
      root.replaceChildren(el("p", { class: "oe-pg-messages", role: "alert", text: `The playground could not start: ${error.message}` }));
      throw error;
    }
  });
}

if (window.document$ && typeof window.document$.subscribe === "function") {
  window.document$.subscribe(() => mountAll()); // Material: first load and every instant navigation
} else {
  mountAll();
}
