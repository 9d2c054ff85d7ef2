// Small DOM helpers for the playground: elements are built with createElement, and text goes in
// through textContent only (never parsed as HTML). Every input gets a <label for=...>.

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

/** A slider (log or linear) bound to a number; `onChange(value)` on input. Returns {row, set}. */
export function slider(id, label, spec, value, onChange) {
  const input = el("input", { type: "range", id, class: "oe-pg-range" });
  const out = el("output", { for: id, class: "oe-pg-value" });
  if (spec.log) {
    input.min = spec.sliderMin;
    input.max = spec.sliderMax;
    input.step = spec.sliderStep;
  } else {
    input.min = spec.min;
    input.max = spec.max;
    input.step = spec.step ?? 1;
  }
  const set = (v) => {
    input.value = spec.log ? Math.log10(v) : v;
    out.textContent = sig(v);
    input.setAttribute("aria-valuetext", sig(v));
  };
  set(value);
  input.addEventListener("input", () => {
    let v = Number(input.value);
    if (spec.log) v = +(10 ** v).toPrecision(3); // 3 significant digits: 0.00501, not 0.005011872
    if (spec.integer) v = Math.round(v);
    out.textContent = sig(v);
    input.setAttribute("aria-valuetext", sig(v));
    onChange(v);
  });
  const row = el("div", { class: "oe-pg-control" }, [el("label", { for: id, text: label }), input, out]);
  return { row, set, input };
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
