// Memory-light page, under "What it loses": a 24×16 matrix of gradients G_ij = r_i c_j z_ij (row and
// column scales over two decades each; z = 1 − noise + noise·N(0, 1), fresh at every step), averaged
// over T steps with Adafactor's weights (docs/widgets/memory-math.js, equal to optimessay.Adafactor's
// state and preconditioner to 1e-9). Three heatmaps: the full running mean V of g² (what a full
// second moment keeps, m·n numbers), Adafactor's rank-1 V̂ = R Cᵀ/mean(R) (m + n numbers), and
// log₁₀(V̂/V). With noise 0, g² is rank 1 and V̂ = V to rounding; with noise, one step's V̂ is off
// by orders of magnitude in places, and averaging over steps brings it back towards V.

import { el, makeWidget, sig, theme } from "./kit.js";
import { COLS, ROWS, factor, gradients, summary } from "./memory-math.js";

// viridis at 9 stops (matplotlib's sequential map, which the static figures use)
const VIRIDIS = ["#440154", "#472d7b", "#3b528b", "#2c728e", "#21918c", "#28ae80", "#5ec962", "#addc30", "#fde725"];
const RED = [178, 24, 43];
const BLUE = [33, 102, 172];

const hex = (h) => [1, 3, 5].map((i) => parseInt(h.slice(i, i + 2), 16));

/** The colour of u in [0, 1] on the viridis stops. */
function sequential(u) {
  const x = Math.min(1, Math.max(0, u)) * (VIRIDIS.length - 1);
  const i = Math.min(VIRIDIS.length - 2, Math.floor(x));
  const a = hex(VIRIDIS[i]);
  const b = hex(VIRIDIS[i + 1]);
  const t = x - i;
  return `rgb(${a.map((v, k) => Math.round(v + t * (b[k] - v))).join(",")})`;
}

/** The colour of d in [−1, 1]: blue (V̂ too small), the card's colour (exact), red (V̂ too large). */
function diverging(d, mid) {
  const t = Math.min(1, Math.abs(d));
  const end = d < 0 ? BLUE : RED;
  return `rgb(${mid.map((v, k) => Math.round(v + t * (end[k] - v))).join(",")})`;
}

export const RATIO_RANGE = 2; // the ratio's colour scale: log₁₀ V̂/V in [−2, 2]

export function mount(root) {
  const w = makeWidget(root, { id: "memory", title: "Live: Adafactor's factored second moment against the full one" });
  const noise = w.slider("noise", "noise off the row × column pattern", { min: 0, max: 1, step: 0.05, value: 1 });
  const steps = w.slider("steps", "steps averaged T", { min: 1, max: 300, step: 1, integer: true, value: 1 });
  const canvas = el("canvas", { class: "oe-w-canvas", role: "img", "aria-label": "Three heatmaps of the 24 by 16 matrix: the full running mean of g squared, Adafactor's factored estimate, and the log ratio of the two" });
  const box = el("div", { class: "oe-w-stage" }, [canvas]);
  w.figure.append(box);
  const out = w.readout({ label: "Memory and error of the factored estimate" });
  w.caption("What to try: set the noise to 0: g² is a row scale times a column scale, the estimate is exact and the "
    + "ratio panel is blank. At noise 1 one step's estimate is off by orders of magnitude in places; raise T and the "
    + "averages smooth g² towards its expectation, a row-times-column pattern again: that is Adafactor's bet.");

  let last = null;
  const draw = () => {
    const { V, Vhat } = last.f;
    const width = Math.max(240, Math.round(box.clientWidth || 320));
    const gap = 10;
    const panelW = (width - 2 * gap) / 3;
    const cell = panelW / COLS;
    const top = 22;
    const panelH = cell * ROWS;
    const height = Math.round(top + panelH + 56);
    const dpr = window.devicePixelRatio || 1;
    canvas.width = Math.round(width * dpr);
    canvas.height = Math.round(height * dpr);
    canvas.style.height = `${height}px`;
    const ctx = canvas.getContext("2d");
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    const th = theme();
    ctx.fillStyle = th.bg;
    ctx.fillRect(0, 0, width, height);
    const logs = [];
    for (const M of [V, Vhat]) for (const row of M) for (const x of row) logs.push(Math.log10(x));
    const hi = Math.max(...logs);
    const lo = Math.max(Math.min(...logs), hi - 12);
    const mid = hex(th.dark ? "#23262f" : "#f4f4f2");
    const panels = [
      ["full V (m·n numbers)", (i, j) => sequential((Math.log10(V[i][j]) - lo) / (hi - lo))],
      ["Adafactor's V̂ (m + n)", (i, j) => sequential((Math.log10(Vhat[i][j]) - lo) / (hi - lo))],
      ["log₁₀ V̂/V", (i, j) => diverging(Math.log10(Vhat[i][j] / V[i][j]) / RATIO_RANGE, mid)],
    ];
    ctx.font = "12px -apple-system, BlinkMacSystemFont, 'Segoe UI', Roboto, sans-serif";
    ctx.textBaseline = "bottom";
    ctx.textAlign = "center";
    panels.forEach(([title, color], k) => {
      const x0 = k * (panelW + gap);
      for (let i = 0; i < ROWS; i++) {
        for (let j = 0; j < COLS; j++) {
          ctx.fillStyle = color(i, j);
          ctx.fillRect(x0 + j * cell, top + i * cell, Math.ceil(cell), Math.ceil(cell));
        }
      }
      ctx.strokeStyle = th.muted;
      ctx.strokeRect(x0 + 0.5, top + 0.5, panelW - 1, panelH - 1);
      ctx.fillStyle = th.fg;
      ctx.fillText(title, x0 + panelW / 2, top - 4, panelW);
    });
    // colour bars: log₁₀ of V and V̂ (shared), and the ratio
    const barY = top + panelH + 10;
    const bar = (x0, w0, colorAt, left, right, label) => {
      for (let p = 0; p < w0; p++) {
        ctx.fillStyle = colorAt(p / (w0 - 1));
        ctx.fillRect(x0 + p, barY, 1.5, 10);
      }
      ctx.fillStyle = th.fg;
      ctx.textBaseline = "top";
      ctx.textAlign = "left";
      ctx.fillText(left, x0, barY + 13);
      ctx.textAlign = "right";
      ctx.fillText(right, x0 + w0, barY + 13);
      ctx.textAlign = "center";
      ctx.fillText(label, x0 + w0 / 2, barY + 28, w0);
    };
    bar(0, Math.round(2 * panelW + gap), sequential, sig(lo, 2), sig(hi, 2), "log₁₀ of V and V̂ (one colour scale)");
    bar(Math.round(2 * (panelW + gap)), Math.round(panelW), (u) => diverging(2 * u - 1, mid), `−${RATIO_RANGE}`, `+${RATIO_RANGE}`, "V̂ too small | too large");
  };
  if (typeof ResizeObserver !== "undefined") {
    let seen = 0;
    new ResizeObserver(() => {
      const now = Math.round(box.clientWidth);
      if (last && now !== seen) {
        seen = now;
        draw();
      }
    }).observe(box);
  }

  w.onUpdate(() => {
    const grads = gradients(steps.value, noise.value);
    const f = factor(grads);
    const s = summary(grads, f);
    last = { f, s };
    root.oeWidget.result = s; // for the tests
    draw();
    out.set([
      ["numbers stored: Adafactor, full V, Adam (m and v)", `${s.memoryFactored}, ${s.memoryFull}, ${s.memoryAdam}`, "memory"],
      ["largest |log₁₀ V̂/V|", sig(s.maxLogError), "max-error"],
      ["median |log₁₀ V̂/V|", sig(s.medianLogError), "median-error"],
      ["P·|g| of the last gradient: min to max", `${sig(s.pgMin)} to ${sig(s.pgMax)}`, "pg"],
    ]);
    w.say(`Noise ${sig(noise.value)}, ${steps.value} step${steps.value === 1 ? "" : "s"} averaged: Adafactor's ${s.memoryFactored} numbers `
      + `estimate the full ${s.memoryFull}-number second moment to within a factor ${sig(10 ** s.maxLogError)} everywhere `
      + `(median entry: a factor ${sig(10 ** s.medianLogError)}).`);
  });
  w.start();
}
