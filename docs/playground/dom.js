// Small DOM helpers for the playground: elements are built with createElement, and text goes in
// through textContent only (never parsed as HTML). Every input gets a <label for=...>. The texts
// the readout shows (numbers, hyperparameters, the live announcement) are pure functions, tested in
// node (tests/js/readout.test.mjs).

/** An element with attributes ("text": its textContent, "onX": a listener for event X) and children. */
export function el(tag, attrs = {}, children = []) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === "text") node.textContent = value;
    else if (key === "class") node.className = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (value !== undefined && value !== null && value !== false) node.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children) if (child) node.append(child);
  return node;
}

/** A number for reading: `digits` significant digits, exponent notation outside [1e-3, 1e5). */
export const sig = (v, digits = 4) => (v === 0 ? "0" : Number.isFinite(v) ? (Math.abs(v) >= 1e-3 && Math.abs(v) < 1e5 ? String(+v.toPrecision(digits)) : v.toExponential(digits - 1)) : String(v));

/**
 * A hyperparameter for reading: `digits` significant digits, with more while rounding would carry a
 * value below 1 onto 1 (α or β₂ of 0.9999 reads "0.9999", never "1": a decay rate of 1 is another
 * optimizer, one that never forgets).
 */
export function hpText(v, digits = 3) {
  let d = digits;
  while (d < 17 && Number.isFinite(v) && Math.abs(v) < 1 && Math.abs(+v.toPrecision(d)) >= 1) d++;
  return sig(v, d);
}

/**
 * The sentence the live region announces at step t: the walk with the lowest loss at that step.
 * `walks` are {name, result} with result from trajectory.js's run. A walk that has diverged by step
 * t, or whose loss there is not a finite number (NaN never compares smaller), never wins; when every
 * walk has, the sentence says so.
 */
export function announcement(walks, t, steps) {
  if (walks.length === 0) return "No optimizer is switched on.";
  let best = null;
  for (const { name, result } of walks) {
    const k = Math.min(t, result.steps);
    const loss = result.losses[k];
    const diverged = result.divergedAt !== null && k >= result.divergedAt;
    if (!diverged && Number.isFinite(loss) && (best === null || loss < best.loss)) best = { loss, name };
  }
  const head = `Step ${t} of ${steps}:`;
  if (best) return `${head} lowest loss ${sig(best.loss)} by ${best.name}.`;
  return walks.length === 1 ? `${head} ${walks[0].name} has diverged.` : `${head} every optimizer has diverged.`;
}

/** The text a number field shows for v: the shortest form that reads back as v. */
const exact = (v) => String(v);

/**
 * A slider (log or linear) bound to a number, with a number field beside it where the reader types
 * an exact value (Enter or leaving the field applies it; a value outside the slider's range is
 * clamped to it, text that is not a number is marked invalid and ignored). `onChange(value)` on
 * either. Returns {row, set, input, number}; set(v) moves both without calling onChange.
 */
export function slider(id, label, spec, value, onChange) {
  const input = el("input", { type: "range", id, class: "oe-pg-range" });
  const numberId = `${id}-num`;
  const number = el("input", {
    type: "number", id: numberId, class: "oe-pg-num", step: "any", inputmode: "decimal",
    min: spec.min, max: spec.max, autocomplete: "off",
  });
  if (spec.log) {
    input.min = spec.sliderMin;
    input.max = spec.sliderMax;
    input.step = spec.sliderStep;
  } else {
    input.min = spec.min;
    input.max = spec.max;
    input.step = spec.step ?? 1;
  }
  const show = (v) => {
    input.setAttribute("aria-valuetext", hpText(v, 4));
    number.value = exact(v);
    number.removeAttribute("aria-invalid");
  };
  const set = (v) => {
    input.value = spec.log ? Math.log10(v) : v;
    show(v);
  };
  set(value);
  input.addEventListener("input", () => {
    let v = Number(input.value);
    if (spec.log) v = +(10 ** v).toPrecision(3); // 3 significant digits: 0.00501, not 0.005011872
    if (spec.integer) v = Math.round(v);
    show(v);
    onChange(v);
  });
  number.addEventListener("change", () => {
    const text = number.value.trim();
    const typed = text === "" ? NaN : Number(text);
    if (!Number.isFinite(typed)) {
      number.setAttribute("aria-invalid", "true");
      return;
    }
    let v = Math.min(spec.max, Math.max(spec.min, typed));
    if (spec.integer) v = Math.round(v);
    set(v);
    onChange(v);
  });
  const row = el("div", { class: "oe-pg-control oe-pg-slider" }, [
    el("label", { for: id, text: label }),
    input,
    el("label", { for: numberId, class: "oe-pg-sr", text: `${label}, exact value` }),
    number,
  ]);
  return { row, set, input, number };
}

/** A labelled checkbox; `onChange(checked)`. */
export function checkbox(id, label, checked, onChange) {
  const input = el("input", { type: "checkbox", id });
  input.checked = checked;
  input.addEventListener("change", () => onChange(input.checked));
  return el("div", { class: "oe-pg-control oe-pg-check" }, [input, el("label", { for: id, text: label })]);
}

/** A labelled <select> of [value, text] options; `onChange(value)`. Returns {row, input}. */
export function select(id, label, options, value, onChange) {
  const input = el("select", { id });
  for (const [v, text] of options) input.append(el("option", { value: v, text }));
  input.value = value;
  input.addEventListener("change", () => onChange(input.value));
  return { row: el("div", { class: "oe-pg-control" }, [el("label", { for: id, text: label }), input]), input };
}
