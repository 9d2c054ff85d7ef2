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
  // issue 11's optimizers: optimessay.style's colours for them (exported to tests/vectors, checked in tests/js)
  nadam: "#762A83", // plum
  radam: "#332288", // indigo
  adamax: "#EE3377", // magenta
  adadelta: "#B2182B", // crimson
  rprop: "#8C564B", // brown
  asgd: "#B15928", // rust
  adafactor: "#225555", // teal
};

export const BACKGROUND = "#f4f4f2";
export const INK = "#222222";
export const MINIMUM = "#111111";

// The dark theme's card, ink and optimizer colours (optimessay.style's DARK_* and dark_color(): the
// figures' dark variants), used when Material's palette is slate.
export const DARK_COLORS = {
  sgd: "#c0e6fc",
  momentum: "#4caee5",
  nesterov: "#77f8c4",
  rmsprop: "#faeba3",
  adam: "#f6974c",
  adamw: "#d968b6",
  adagrad: "#ececec",
  nadam: "#ce97d8",
  radam: "#9d81df",
  adamax: "#fbb1cc",
  adadelta: "#f76a69",
  rprop: "#c7876b",
  asgd: "#e2ab8d",
  adafactor: "#0ce9cb",
};
export const DARK_BACKGROUND = "#262a35";
export const DARK_INK = "#e4e4e6";
export const DARK_MINIMUM = "#f2f2f2";

/** What the canvas is drawn with, per theme: card, ink, the minimum's mark, a halo behind labels. */
export const THEMES = {
  light: { dark: false, card: BACKGROUND, ink: INK, minimum: MINIMUM, halo: "rgba(244, 244, 242, 0.92)", colors: COLORS },
  dark: { dark: true, card: DARK_BACKGROUND, ink: DARK_INK, minimum: DARK_MINIMUM, halo: "rgba(38, 42, 53, 0.92)", colors: DARK_COLORS },
};

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

// --- a sequential ramp for a sweep: distinguishable runs of one optimizer --------------------------
// shades() varies lightness only, and nine shades of one orange are hard to tell apart on a path.
// ramp() walks OKLab lightness from dark to light while turning the hue by ±HUE_TURN around the
// optimizer's own hue (orange: red-brown → orange → gold), at a chroma the sRGB gamut allows:
// neighbours differ in two perceptual directions, and the family still reads as its optimizer.

const HUE_TURN = (35 * Math.PI) / 180;
const srgbToLinear = (c) => (c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4);
const linearToSrgb = (c) => (c <= 0.0031308 ? 12.92 * c : 1.055 * c ** (1 / 2.4) - 0.055);

export function hexToOklab(hex) {
  const [r, g, b] = [1, 3, 5].map((i) => srgbToLinear(parseInt(hex.slice(i, i + 2), 16) / 255));
  const l = Math.cbrt(0.4122214708 * r + 0.5363325363 * g + 0.0514459929 * b);
  const m = Math.cbrt(0.2119034982 * r + 0.6806995451 * g + 0.1073969566 * b);
  const s = Math.cbrt(0.0883024619 * r + 0.2817188376 * g + 0.6299787005 * b);
  return [
    0.2104542553 * l + 0.793617785 * m - 0.0040720468 * s,
    1.9779984951 * l - 2.428592205 * m + 0.4505937099 * s,
    0.0259040371 * l + 0.7827717662 * m - 0.808675766 * s,
  ];
}

/** Linear sRGB of an OKLab colour (may fall outside [0, 1]: out of gamut). */
function oklabToLinear(L, a, b) {
  const l = (L + 0.3963377774 * a + 0.2158037573 * b) ** 3;
  const m = (L - 0.1055613458 * a - 0.0638541728 * b) ** 3;
  const s = (L - 0.0894841775 * a - 1.291485548 * b) ** 3;
  return [
    4.0767416621 * l - 3.3077115913 * m + 0.2309699292 * s,
    -1.2684380046 * l + 2.6097574011 * m - 0.3413193965 * s,
    -0.0041960863 * l - 0.7034186147 * m + 1.707614701 * s,
  ];
}

const inGamut = (rgb) => rgb.every((c) => c >= -1e-6 && c <= 1 + 1e-6);

/** An OKLCh colour as #rrggbb, its chroma reduced until it fits sRGB. */
function lchHex(L, C, h) {
  let lo = 0;
  let hi = C;
  if (!inGamut(oklabToLinear(L, C * Math.cos(h), C * Math.sin(h)))) {
    for (let k = 0; k < 24; k++) {
      const mid = (lo + hi) / 2;
      if (inGamut(oklabToLinear(L, mid * Math.cos(h), mid * Math.sin(h)))) lo = mid;
      else hi = mid;
    }
    C = lo;
  }
  const rgb = oklabToLinear(L, C * Math.cos(h), C * Math.sin(h));
  const h2 = (c) => Math.round(Math.min(1, Math.max(0, linearToSrgb(Math.min(1, Math.max(0, c))))) * 255).toString(16).padStart(2, "0");
  return `#${rgb.map(h2).join("")}`;
}

/**
 * `n` colours of one optimizer for a sweep (first = smallest swept value): OKLab lightness
 * 0.36 → 0.78 (dark theme: 0.93 → 0.58, from the card's far end), hue turned from −35° to +35°
 * around the optimizer's, chroma at least 0.11 (black and greys stay grey). n = 1: the optimizer's
 * own colour.
 */
export function ramp(nameOrColor, n, { dark = false } = {}) {
  if (!(Number.isInteger(n) && n >= 1)) throw new RangeError(`n must be a whole number >= 1, got ${n}`);
  const base = nameOrColor.startsWith("#") ? nameOrColor : (dark ? DARK_COLORS : COLORS)[nameOrColor];
  if (!base) throw new RangeError(`no colour for ${JSON.stringify(nameOrColor)}`);
  if (n === 1) return [base];
  const [, a, b] = hexToOklab(base);
  const chroma = Math.hypot(a, b);
  const grey = chroma < 0.02;
  const hue = Math.atan2(b, a);
  const out = [];
  for (let i = 0; i < n; i++) {
    const u = i / (n - 1);
    const L = dark ? 0.93 - 0.35 * u : 0.36 + 0.42 * u;
    out.push(grey ? lchHex(L, 0, 0) : lchHex(L, Math.max(chroma, 0.11), hue + HUE_TURN * (2 * u - 1)));
  }
  return out;
}
