// The site's figure colours (optimessay/style.py): one Okabe-Ito colour per optimizer, and shades of
// it for a sweep of one hyperparameter. tests/js/ checks these against the exported Python palette.

export const COLORS = {
  sgd: "#0072B2", // blue
  momentum: "#56B4E9", // sky
  nesterov: "#009E73", // green
  rmsprop: "#E69F00", // orange
  adam: "#D55E00", // vermillion
  adamw: "#CC79A7", // purple
  adagrad: "#000000", // black
  // issue 11's optimizers. optimessay.style has no colour for them yet (the exported palette, which
  // tests/js/ checks, does not list them): until it does, existing palette entries: its two extra
  // colours (wine, olive) and, for the others, the colour of a relative (two runs of different kinds
  // can then share a colour; the legend names them)
  nadam: "#882255", // wine (style's AMSGrad/Newton colour)
  radam: "#999933", // olive (style's diagonal-P colour)
  adamax: "#D55E00", // vermillion, Adam's
  adadelta: "#E69F00", // orange, RMSprop's
  rprop: "#56B4E9", // sky
  asgd: "#0072B2", // blue, SGD's
  adafactor: "#CC79A7", // purple
};

export const BACKGROUND = "#f4f4f2";
export const INK = "#222222";
export const MINIMUM = "#111111";

// Python's colorsys, line for line, so the shades come out the same.
const ONE_THIRD = 1.0 / 3.0;
const ONE_SIXTH = 1.0 / 6.0;
const TWO_THIRD = 2.0 / 3.0;
const pyMod1 = (x) => ((x % 1.0) + 1.0) % 1.0;

function rgbToHls(r, g, b) {
  const maxc = Math.max(r, g, b);
  const minc = Math.min(r, g, b);
  const sumc = maxc + minc;
  const rangec = maxc - minc;
  const l = sumc / 2.0;
  if (minc === maxc) return [0.0, l, 0.0];
  const s = l <= 0.5 ? rangec / sumc : rangec / (2.0 - maxc - minc);
  const rc = (maxc - r) / rangec;
  const gc = (maxc - g) / rangec;
  const bc = (maxc - b) / rangec;
  let h;
  if (r === maxc) h = bc - gc;
  else if (g === maxc) h = 2.0 + rc - bc;
  else h = 4.0 + gc - rc;
  return [pyMod1(h / 6.0), l, s];
}

function v(m1, m2, hue) {
  hue = pyMod1(hue);
  if (hue < ONE_SIXTH) return m1 + (m2 - m1) * hue * 6.0;
  if (hue < 0.5) return m2;
  if (hue < TWO_THIRD) return m1 + (m2 - m1) * (TWO_THIRD - hue) * 6.0;
  return m1;
}

function hlsToRgb(h, l, s) {
  if (s === 0.0) return [l, l, l];
  const m2 = l <= 0.5 ? l * (1.0 + s) : l + s - l * s;
  const m1 = 2.0 * l - m2;
  return [v(m1, m2, h + ONE_THIRD), v(m1, m2, h), v(m1, m2, h - ONE_THIRD)];
}

/** Python's round(): halves go to the even neighbour. */
function pyRound(x) {
  const f = Math.floor(x);
  const d = x - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

const hex2 = (x) => pyRound(x * 255).toString(16).padStart(2, "0");

/** `n` shades of an optimizer's colour, dark to light (optimessay.style.shades). */
export function shades(nameOrColor, n, { lightest = 0.78, darkest = 0.28 } = {}) {
  if (!(n >= 1)) throw new RangeError(`n must be >= 1, got ${n}`);
  const base = nameOrColor.startsWith("#") ? nameOrColor : COLORS[nameOrColor];
  if (n === 1) return [base];
  const [r, g, b] = [1, 3, 5].map((i) => parseInt(base.slice(i, i + 2), 16) / 255);
  const [h, , s] = rgbToHls(r, g, b);
  const out = [];
  for (let i = 0; i < n; i++) {
    const lightness = darkest + (lightest - darkest) * i / (n - 1);
    const [rr, gg, bb] = hlsToRgb(h, lightness, Math.max(s, 0.35));
    out.push(`#${hex2(rr)}${hex2(gg)}${hex2(bb)}`);
  }
  return out;
}
