// The playground's state: presets, the controls' ranges, and the URL form of a state.
//
// A state is a plain object:
//   { preset, landscape, kappa, theta (degrees), scale: "log"|"linear", start: [x, y], steps, t,
//     precond: bool, runs: [{ kind, on, hp: {...}, sched: { kind, params } }] }
// `kind` is what the reader toggles: sgd, momentum (heavy ball), nesterov, rmsprop, adam, adamw,
// adagrad, nadam, radam, adamax, adadelta, rprop, asgd, adafactor; `hp` uses torch's hyperparameter names (beta1/beta2 for betas).
//
// The URL is untrusted input: parseQuery() accepts only known keys with well-formed values,
// clamps numbers to their ranges, and returns a message (plain text) for everything it clamped or
// rejected. Nothing from the URL is ever interpreted as HTML.

import { hpText } from "./dom.js";
import { validate } from "./optimizers.js";
import { COLORS, DARK_COLORS, ramp } from "./palette.js";
import { validateScheduler } from "./schedulers.js";
import { REGISTRY, getLandscape } from "./landscapes.js";

/** The optimizers the reader can toggle: display name, optimizer, fixed options, their sliders. */
export const KINDS = {
  sgd: { name: "SGD", optimizer: "sgd", fixed: {}, controls: ["lr", "weight_decay"] },
  momentum: { name: "Momentum", optimizer: "sgd", fixed: {}, controls: ["lr", "momentum", "weight_decay"] },
  nesterov: { name: "Nesterov", optimizer: "sgd", fixed: { nesterov: true }, controls: ["lr", "momentum", "weight_decay"] },
  rmsprop: { name: "RMSprop", optimizer: "rmsprop", fixed: {}, controls: ["lr", "alpha", "momentum", "eps", "weight_decay", "centered"] },
  adam: { name: "Adam", optimizer: "adam", fixed: {}, controls: ["lr", "beta1", "beta2", "eps", "weight_decay", "amsgrad"] },
  adamw: { name: "AdamW", optimizer: "adamw", fixed: {}, controls: ["lr", "beta1", "beta2", "eps", "weight_decay", "amsgrad"] },
  adagrad: { name: "Adagrad", optimizer: "adagrad", fixed: {}, controls: ["lr", "lr_decay", "eps", "weight_decay"] },
  // the elementwise optimizers of issue 11; `lr`: the learning rate a newly added run starts at (torch's default)
  nadam: { name: "NAdam", optimizer: "nadam", fixed: {}, lr: 2e-3,
    controls: ["lr", "beta1", "beta2", "eps", "momentum_decay", "weight_decay", "decoupled_weight_decay"] },
  radam: { name: "RAdam", optimizer: "radam", fixed: {}, lr: 1e-3,
    controls: ["lr", "beta1", "beta2", "eps", "weight_decay", "decoupled_weight_decay"] },
  adamax: { name: "Adamax", optimizer: "adamax", fixed: {}, lr: 2e-3, controls: ["lr", "beta1", "beta2", "eps", "weight_decay"] },
  adadelta: { name: "Adadelta", optimizer: "adadelta", fixed: {}, lr: 1.0, controls: ["lr", "rho", "eps", "weight_decay"] },
  rprop: { name: "Rprop", optimizer: "rprop", fixed: {}, lr: 1e-2,
    controls: ["lr", "etaminus", "etaplus", "step_size_min", "step_size_max"],
    note: "The learning rate is only Rprop's first step size: a schedule does not change its steps (as in torch)." },
  asgd: { name: "ASGD", optimizer: "asgd", fixed: {}, lr: 1e-2, controls: ["lr", "lambd", "alpha", "t0", "weight_decay"],
    note: "The path is ASGD's iterate θ; its running average θ̄ (from step t0 on) is kept but not drawn." },
  adafactor: { name: "Adafactor", optimizer: "adafactor", fixed: {}, lr: 1e-2,
    controls: ["lr", "beta2_decay", "eps2", "d", "weight_decay"],
    note: "The point (x, y) is a vector of 2, as in optimessay.trajectory: its second moment is kept per coordinate, not factored into row and column means (that needs a matrix). ε₁ is torch's default, 2⁻⁵²." },
};

/** Every number the state holds: its valid range (URL values are clamped to it) and its slider. */
export const PARAMS = {
  lr: { label: "learning rate", short: "lr", min: 1e-6, max: 10, log: true, sliderMin: -5, sliderMax: 1, sliderStep: 0.01 },
  momentum: { label: "momentum μ", short: "μ", min: 0, max: 0.999, step: 0.001 },
  dampening: { label: "dampening", short: "dampening", min: 0, max: 1, step: 0.01 },
  weight_decay: { label: "weight decay", short: "wd", min: 0, max: 1, step: 0.001 },
  alpha: { label: "alpha α", short: "α", min: 0, max: 0.9999, step: 0.001 },
  eps: { label: "epsilon ε", short: "ε", min: 1e-12, max: 1, log: true, sliderMin: -12, sliderMax: 0, sliderStep: 0.1 },
  beta1: { label: "beta₁", short: "β₁", min: 0, max: 0.999, step: 0.001 },
  beta2: { label: "beta₂", short: "β₂", min: 0, max: 0.9999, step: 0.0001 },
  lr_decay: { label: "lr decay", short: "lr decay", min: 0, max: 1, step: 0.001 },
  initial_accumulator_value: { label: "initial accumulator", short: "G₀", min: 0, max: 10, step: 0.01 },
  centered: { label: "centered", boolean: true },
  amsgrad: { label: "AMSGrad", boolean: true },
  nesterov: { label: "Nesterov", boolean: true },
  momentum_decay: { label: "momentum decay ψ", short: "ψ", min: 0, max: 0.1, step: 0.0001 },
  decoupled_weight_decay: { label: "decoupled weight decay", boolean: true },
  rho: { label: "rho ρ", short: "ρ", min: 0, max: 0.9999, step: 0.001 },
  etaminus: { label: "shrink η₋", short: "η₋", min: 0.01, max: 0.99, step: 0.01 },
  etaplus: { label: "grow η₊", short: "η₊", min: 1.01, max: 3, step: 0.01 },
  step_size_min: { label: "smallest step", short: "s_min", min: 1e-9, max: 1, log: true, sliderMin: -9, sliderMax: 0, sliderStep: 0.1 },
  step_size_max: { label: "largest step", short: "s_max", min: 1e-3, max: 100, log: true, sliderMin: -3, sliderMax: 2, sliderStep: 0.01 },
  lambd: { label: "decay λ", short: "λ", min: 0, max: 1, step: 0.0001 },
  t0: { label: "averaging from t₀", short: "t₀", min: 0, max: 1e6, log: true, sliderMin: 0, sliderMax: 6, sliderStep: 0.01 },
  beta2_decay: { label: "β₂ decay τ", short: "τ", min: -1, max: 0, step: 0.01 },
  eps2: { label: "epsilon ε₂", short: "ε₂", min: 1e-8, max: 1, log: true, sliderMin: -8, sliderMax: 0, sliderStep: 0.1 },
  d: { label: "clipping d", short: "d", min: 1, max: 10, step: 0.01 },
};

/** The schedulers the reader can pick, and their parameters' ranges. */
export const SCHEDULERS = {
  none: { name: "constant lr", params: {} },
  step: { name: "StepLR", params: { step_size: { label: "every", min: 1, max: 1000, step: 1, integer: true }, gamma: { label: "γ", min: 0.01, max: 1, step: 0.001 } } },
  multistep: { name: "MultiStepLR", params: { milestones: { label: "milestones", list: true, min: 1, max: 5000 }, gamma: { label: "γ", min: 0.01, max: 1, step: 0.001 } } },
  exponential: { name: "ExponentialLR", params: { gamma: { label: "γ", min: 0.5, max: 1, step: 0.001 } } },
  cosine: { name: "CosineAnnealingLR", params: { T_max: { label: "T_max", min: 1, max: 5000, step: 1, integer: true }, eta_min: { label: "η_min", min: 0, max: 1, step: 0.0001 } } },
  "warmup-cosine": { name: "warmup + cosine", params: { start_factor: { label: "start factor", min: 0.01, max: 1, step: 0.01 }, warmup: { label: "warm-up steps", min: 1, max: 1000, step: 1, integer: true }, T_max: { label: "T_max", min: 1, max: 5000, step: 1, integer: true }, eta_min: { label: "η_min", min: 0, max: 1, step: 0.0001 } } },
  warmup: { name: "LinearLR warmup", params: { start_factor: { label: "start factor", min: 0.01, max: 1, step: 0.01 }, end_factor: { label: "end factor", min: 0.01, max: 1, step: 0.01 }, total_iters: { label: "over", min: 1, max: 1000, step: 1, integer: true } } },
};

export const GLOBALS = {
  steps: { label: "steps", min: 1, max: 1000, step: 1, integer: true },
  kappa: { label: "condition number κ", min: 1, max: 1000, log: true, sliderMin: 0, sliderMax: 3, sliderStep: 0.01 },
  theta: { label: "rotation θ (degrees)", min: -90, max: 90, step: 1 },
};

export const MAX_RUNS = 12;
export const LANDSCAPE_NAMES = Object.keys(REGISTRY);

// --- presets ------------------------------------------------------------------------------------

const run = (kind, hp, sched = { kind: "none", params: {} }) => ({ kind, on: true, hp, sched });
const SEED_SGD = () => run("momentum", { lr: 1e-3, momentum: 0.98 });

function base(overrides) {
  return { landscape: "rosenbrock", kappa: 10, theta: 0, scale: "log", start: [-1.5, 2.5], steps: 100, t: null, precond: false, ...overrides };
}

/** The presets: the seed notebook's experiments, a race on the banana, a rotated valley. */
export const PRESETS = {
  // the contestants of the site's race figures (scripts/figures/home.py, race-banana), at the lr
  // the site's tuning protocol (optimessay.protocol) picks for each on the banana in 300 steps (3 significant digits)
  "banana-race": () => base({
    steps: 300,
    runs: [
      run("sgd", { lr: 1e-3 }),
      run("momentum", { lr: 1e-3, momentum: 0.9 }),
      run("nesterov", { lr: 5.62e-4, momentum: 0.9 }),
      run("rmsprop", { lr: 0.178 }),
      run("adam", { lr: 1 }),
      run("adamw", { lr: 0.178, weight_decay: 0.01 }),
      run("adagrad", { lr: 1.78 }),
    ],
  }),
  "seed-sgd": () => base({ steps: 100, runs: [SEED_SGD()] }),
  "seed-rmsprop-alpha": () => base({
    steps: 100,
    runs: [SEED_SGD(), ...[0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0.05].map((alpha) => run("rmsprop", { lr: 0.01, alpha, momentum: 0.9 }))],
  }),
  "seed-rmsprop-momentum": () => base({
    steps: 160,
    runs: [SEED_SGD(), ...[0.9, 0.7, 0.5, 0.3].map((momentum) => run("rmsprop", { lr: 0.01, alpha: 0.5, momentum }))],
  }),
  "seed-schedulers": () => base({
    steps: 100,
    runs: [
      SEED_SGD(),
      run("momentum", { lr: 1e-3, momentum: 0.98 }, { kind: "exponential", params: { gamma: 0.99 } }),
      run("momentum", { lr: 1e-3, momentum: 0.98 }, { kind: "step", params: { step_size: 4, gamma: 0.99 } }),
      run("momentum", { lr: 1e-3, momentum: 0.98 }, { kind: "multistep", params: { milestones: [20, 40, 50, 70], gamma: 0.9 } }),
    ],
  }),
  // race-rotated-quadratic: kappa 50, theta 30°, each contestant at its lr by optimessay.protocol for 200 steps
  "rotated-quadratic": () => base({
    landscape: "quadratic", kappa: 50, theta: 30, scale: "linear", start: [-1.5, 1.0], steps: 200,
    runs: [
      run("sgd", { lr: 0.0316 }),
      run("momentum", { lr: 0.0178, momentum: 0.9 }),
      run("nesterov", { lr: 0.0178, momentum: 0.9 }),
      run("rmsprop", { lr: 1 }),
      run("adam", { lr: 0.316 }),
      run("adamw", { lr: 10, weight_decay: 0.01 }),
      run("adagrad", { lr: 1.78 }),
    ],
  }),
};
export const DEFAULT_PRESET = "banana-race";

export function presetState(name) {
  const make = Object.hasOwn(PRESETS, name) ? PRESETS[name] : PRESETS[DEFAULT_PRESET];
  return { preset: Object.hasOwn(PRESETS, name) ? name : DEFAULT_PRESET, ...make() };
}

/** The optimizer kind and torch hyperparameters of a run (the kind's fixed options applied). */
export function optimizerOf(r) {
  const k = KINDS[r.kind];
  const hp = { ...r.hp, ...k.fixed };
  if (r.kind === "sgd") hp.momentum = 0;
  return [k.optimizer, hp];
}

/** The landscape parameters of a state, as landscapes.getLandscape takes them (theta in radians). */
export function landscapeParams(state) {
  return state.landscape === "quadratic" ? { kappa: state.kappa, theta: state.theta * (Math.PI / 180.0) } : {};
}

// --- numbers ------------------------------------------------------------------------------------

const NUMBER = /^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i;

/** A strictly formatted decimal number, or null. */
export function parseNumber(text) {
  if (typeof text !== "string" || text.length > 40 || !NUMBER.test(text)) return null;
  const v = Number(text);
  return Number.isFinite(v) ? v : null;
}

/** Clamp v to spec's range (and to a whole number if spec.integer); `notes` collects what changed. */
export function clamp(v, spec, what, notes) {
  let out = v;
  if (spec.integer && !Number.isInteger(out)) out = Math.round(out);
  if (out < spec.min) out = spec.min;
  if (out > spec.max) out = spec.max;
  if (out !== v) notes.push(`${what}=${v} is outside [${spec.min}, ${spec.max}]${spec.integer ? " or not whole" : ""}: using ${out}.`);
  return out;
}

/** A short text for a number: the shortest string that reads back as the same float. */
export const fmt = (v) => String(v);

// --- the URL ------------------------------------------------------------------------------------
// ?pg=0&preset=seed-sgd&land=rosenbrock&scale=log&start=-1.5,2.5&steps=100&t=100&precond=1
//  &run=momentum:lr=0.001,momentum=0.98;step:step_size=4,gamma=0.99&run=adam:lr=0.05,on=0
// (quadratic: &kappa=25&theta=30; milestones are written 20/40/50/70)

const KEYS = new Set(["pg", "preset", "land", "kappa", "theta", "scale", "start", "steps", "t", "precond", "run"]);

function parseRun(text, index, notes) {
  const what = `run ${index + 1}`;
  if (text.length > 400) {
    notes.push(`${what}: too long, ignored.`);
    return null;
  }
  const [optPart, schedPart, ...extra] = text.split(";");
  if (extra.length) notes.push(`${what}: more than one scheduler given, using the first.`);
  const [kind, body = ""] = optPart.split(/:(.*)/s);
  if (!Object.hasOwn(KINDS, kind)) {
    notes.push(`${what}: unknown optimizer "${kind}", ignored (expected one of ${Object.keys(KINDS).join(", ")}).`);
    return null;
  }
  const r = { kind, on: true, hp: {}, sched: { kind: "none", params: {} } };
  for (const pair of body ? body.split(",") : []) {
    const [key, value = ""] = pair.split(/=(.*)/s);
    if (key === "on") {
      if (value === "0" || value === "1") r.on = value === "1";
      else notes.push(`${what}: on=${value} is not 0 or 1, ignored.`);
      continue;
    }
    const spec = Object.hasOwn(PARAMS, key) ? PARAMS[key] : null;
    if (!spec || !(key in defaultsOf(kind))) {
      notes.push(`${what}: ${kind} has no hyperparameter "${key}", ignored.`);
      continue;
    }
    if (spec.boolean) {
      if (value === "0" || value === "1") r.hp[key] = value === "1";
      else notes.push(`${what}: ${key}=${value} is not 0 or 1, ignored.`);
      continue;
    }
    const v = parseNumber(value);
    if (v === null) notes.push(`${what}: ${key}=${value} is not a number, ignored.`);
    else r.hp[key] = clamp(v, spec, `${what}: ${key}`, notes);
  }
  if (schedPart !== undefined) r.sched = parseScheduler(schedPart, what, notes);
  try {
    const [opt, hp] = optimizerOf(r);
    validate(opt, hp);
  } catch (error) {
    notes.push(`${what}: ${error.message}; ignored.`);
    return null;
  }
  return r;
}

function defaultsOf(kind) {
  const keys = {};
  for (const c of KINDS[kind].controls) keys[c] = true;
  if (KINDS[kind].optimizer === "sgd" && kind !== "sgd") keys.dampening = true;
  if (kind === "adagrad") keys.initial_accumulator_value = true;
  return keys;
}

function parseScheduler(text, what, notes) {
  const [kind, body = ""] = text.split(/:(.*)/s);
  if (!Object.hasOwn(SCHEDULERS, kind)) {
    notes.push(`${what}: unknown scheduler "${kind}", using a constant lr.`);
    return { kind: "none", params: {} };
  }
  const specs = SCHEDULERS[kind].params;
  const params = {};
  for (const pair of body ? body.split(",") : []) {
    const [key, value = ""] = pair.split(/=(.*)/s);
    if (!Object.hasOwn(specs, key)) {
      notes.push(`${what}: ${SCHEDULERS[kind].name} has no parameter "${key}", ignored.`);
      continue;
    }
    const spec = specs[key];
    if (spec.list) {
      const items = value.split("/").map(parseNumber);
      if (!value || items.length > 20 || items.some((v) => v === null || !Number.isInteger(v))) {
        notes.push(`${what}: ${key}=${value} is not a list of whole numbers like 20/40/50, ignored.`);
      } else {
        params[key] = items.map((v) => clamp(v, spec, `${what}: ${key}`, notes));
      }
      continue;
    }
    const v = parseNumber(value);
    if (v === null) notes.push(`${what}: ${key}=${value} is not a number, ignored.`);
    else params[key] = clamp(v, spec, `${what}: ${key}`, notes);
  }
  try {
    validateScheduler(kind, params);
  } catch (error) {
    notes.push(`${what}: ${error.message} Using a constant lr.`);
    return { kind: "none", params: {} };
  }
  return { kind, params };
}

/**
 * The state a query string describes, for the playground at position `index` on the page.
 * Returns { state, notes, mine }: notes are plain-text messages about ignored or clamped values;
 * mine is false when the URL belongs to another playground of the page (then state = the preset).
 */
export function parseQuery(search, presetName, index = 0) {
  const params = new URLSearchParams(search);
  const notes = [];
  // pg: which playground of the page the state is for (0, 1, ...); a malformed one goes to the first
  const pg = params.has("pg") ? parseNumber(params.get("pg")) : 0;
  const badOwner = pg === null || !Number.isInteger(pg) || pg < 0;
  const owner = badOwner ? 0 : pg;
  const anyState = [...params.keys()].some((k) => KEYS.has(k) && k !== "pg");
  if (owner !== index || !anyState) return { state: presetState(presetName), notes, mine: false };
  if (badOwner) notes.push(`pg=${params.get("pg").slice(0, 40)} is not a playground number (0, 1, ...): using 0.`);

  for (const key of new Set(params.keys())) {
    if (!KEYS.has(key)) notes.push(`Unknown URL parameter "${key.slice(0, 40)}" ignored.`);
  }
  let name = presetName;
  if (params.has("preset")) {
    const p = params.get("preset");
    if (Object.hasOwn(PRESETS, p)) name = p;
    else notes.push(`Unknown preset "${p.slice(0, 40)}": using ${presetState(presetName).preset}.`);
  }
  const state = presetState(name);
  if (params.has("land")) {
    const land = params.get("land");
    if (LANDSCAPE_NAMES.includes(land)) state.landscape = land;
    else notes.push(`Unknown landscape "${land.slice(0, 40)}": expected one of ${LANDSCAPE_NAMES.join(", ")}.`);
  }
  for (const key of ["kappa", "theta", "steps"]) {
    if (!params.has(key)) continue;
    const v = parseNumber(params.get(key));
    if (v === null) notes.push(`${key}=${params.get(key).slice(0, 40)} is not a number, ignored.`);
    else state[key] = clamp(v, GLOBALS[key], key, notes);
  }
  if (params.has("scale")) {
    const s = params.get("scale");
    if (s === "log" || s === "linear") state.scale = s;
    else notes.push(`scale=${s.slice(0, 40)}: expected log or linear, ignored.`);
  }
  if (params.has("precond")) {
    const p = params.get("precond");
    if (p === "0" || p === "1") state.precond = p === "1";
    else notes.push(`precond=${p.slice(0, 40)}: expected 0 or 1, ignored.`);
  }
  if (params.has("start")) {
    const parts = params.get("start").split(",");
    const xy = parts.map(parseNumber);
    if (parts.length !== 2 || xy.includes(null)) notes.push(`start=${params.get("start").slice(0, 40)}: expected two numbers "x,y", ignored.`);
    else state.start = xy;
  }
  // the start stays within the landscape's window
  const land = getLandscape(state.landscape, landscapeParams(state));
  state.start = [
    clamp(state.start[0], { min: land.xRange[0], max: land.xRange[1] }, "start x", notes),
    clamp(state.start[1], { min: land.yRange[0], max: land.yRange[1] }, "start y", notes),
  ];
  if (params.has("run")) {
    const texts = params.getAll("run");
    if (texts.length > MAX_RUNS) notes.push(`${texts.length} runs given: only the first ${MAX_RUNS} are used.`);
    const runs = texts.slice(0, MAX_RUNS).map((t, i) => parseRun(t, i, notes)).filter(Boolean);
    if (runs.length) state.runs = runs;
    else notes.push("No valid run in the URL: using the preset's.");
  }
  if (params.has("t")) {
    const v = parseNumber(params.get("t"));
    if (v === null) notes.push(`t=${params.get("t").slice(0, 40)} is not a number, ignored.`);
    else state.t = clamp(v, { min: 0, max: state.steps, integer: true }, "t", notes);
  }
  return { state, notes, mine: true };
}

/** The query string of a state (inverse of parseQuery, up to clamping). */
export function toQuery(state, index = 0) {
  const enc = (s) => encodeURIComponent(s).replace(/%2C/g, ",").replace(/%3A/g, ":").replace(/%3D/g, "=").replace(/%3B/g, ";").replace(/%2F/g, "/");
  const parts = [];
  if (index !== 0) parts.push(`pg=${index}`);
  parts.push(`preset=${enc(state.preset)}`, `land=${enc(state.landscape)}`);
  if (state.landscape === "quadratic") parts.push(`kappa=${fmt(state.kappa)}`, `theta=${fmt(state.theta)}`);
  parts.push(`scale=${state.scale}`, `start=${fmt(state.start[0])},${fmt(state.start[1])}`, `steps=${state.steps}`);
  if (state.t !== null && state.t !== state.steps) parts.push(`t=${state.t}`);
  if (state.precond) parts.push("precond=1");
  for (const r of state.runs) {
    const fields = Object.entries(r.hp).map(([k, v]) => `${k}=${typeof v === "boolean" ? Number(v) : fmt(v)}`);
    if (!r.on) fields.push("on=0");
    let text = `${r.kind}:${fields.join(",")}`;
    if (r.sched.kind !== "none") {
      const sp = Object.entries(r.sched.params).map(([k, v]) => `${k}=${Array.isArray(v) ? v.join("/") : fmt(v)}`);
      text += `;${r.sched.kind}:${sp.join(",")}`;
    }
    parts.push(`run=${enc(text)}`);
  }
  return `?${parts.join("&")}`;
}

// --- colours -----------------------------------------------------------------------------------

/**
 * How the runs of one optimizer kind are told apart. Runs that differ in exactly one numeric
 * hyperparameter (a sweep) get a sequential ramp ordered by that value and one colour bar in the
 * legend; runs that differ otherwise get ramp colours in list order and a label naming what differs.
 * Returns {colours: per run index {colour, sweep, bits}, sweeps: [{kind, key, members (by value)}]}.
 */
export function colourRuns(runs, { dark = false } = {}) {
  const own = dark ? DARK_COLORS : COLORS;
  const byKind = new Map();
  runs.forEach((r, i) => {
    if (!byKind.has(r.kind)) byKind.set(r.kind, []);
    byKind.get(r.kind).push(i);
  });
  const out = runs.map(() => ({ colour: null, sweep: null, bits: "" }));
  const sweeps = [];
  for (const [kind, members] of byKind) {
    if (members.length === 1) {
      out[members[0]].colour = own[kind];
      continue;
    }
    const full = members.map((i) => validate(...optimizerOf(runs[i])));
    const keys = KINDS[kind].controls.filter((key) => new Set(full.map((h) => String(h[key]))).size > 1);
    const scheds = new Set(members.map((i) => JSON.stringify(runs[i].sched)));
    const colours = ramp(kind, members.length, { dark });
    if (keys.length === 1 && scheds.size === 1 && !PARAMS[keys[0]].boolean) {
      const key = keys[0];
      const order = members.map((i, j) => ({ i, v: full[j][key] })).sort((a, b) => a.v - b.v);
      order.forEach(({ i, v }, rank) => {
        out[i].colour = colours[rank];
        out[i].sweep = { kind, key, value: v };
        out[i].bits = `${PARAMS[key].short} ${hpText(v)}`;
      });
      sweeps.push({ kind, key, members: order.map((o) => o.i) });
    } else {
      members.forEach((i, j) => {
        out[i].colour = colours[j];
        const bits = keys.map((key) => (PARAMS[key].boolean ? (full[j][key] ? PARAMS[key].label : "") : `${PARAMS[key].short} ${hpText(full[j][key])}`)).filter(Boolean);
        if (scheds.size > 1) bits.push(runs[i].sched.kind === "none" ? "constant lr" : SCHEDULERS[runs[i].sched.kind].name);
        out[i].bits = bits.length ? bits.join(", ") : `#${j + 1}`; // identical twins: told apart by place

      });
    }
  }
  return { colours: out, sweeps };
}
