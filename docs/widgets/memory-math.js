// Memory-light page's live figure: Adafactor's factored second moment V̂ = R Cᵀ / mean(R) (row and
// column running means of g²) against the full running mean V of g² that Adam-like optimizers keep,
// for a matrix of gradients whose expected g² is a row-times-column pattern and whose single draws
// are not. The averaging is Adafactor's (weight t^beta2_decay of the newest g², torch's default
// −0.8), the arithmetic optimessay/optimizers/adafactor.py's, in float64.

import { random } from "./muon-math.js";

export const ROWS = 24;
export const COLS = 16;
export const BETA2_DECAY = -0.8;
const EPS1 = 2 ** -52; // torch's default ε1 for float64: the machine epsilon

/** Standard normal draws from a seeded uniform generator (Box–Muller). */
export function gaussians(rand) {
  let spare = null;
  return () => {
    if (spare !== null) {
      const s = spare;
      spare = null;
      return s;
    }
    const u = 1 - rand(); // (0, 1]: log(u) is finite
    const v = rand();
    const r = Math.sqrt(-2 * Math.log(u));
    spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  };
}

/** Row scales (10^[-1, 1], spread over the rows) and column scales (10^[-1, 1] over the columns). */
export function scales(rows = ROWS, cols = COLS) {
  const r = Array.from({ length: rows }, (_, i) => 10 ** (-1 + (2 * i) / (rows - 1)));
  const c = Array.from({ length: cols }, (_, j) => 10 ** (1 - (2 * j) / (cols - 1)));
  return { r, c };
}

/**
 * `steps` gradients G_t (rows × cols): G_ij = r_i c_j z_ij with z ~ N(0, 1) fresh at each step
 * (`noise` = 1) or z_ij = 1 (`noise` = 0: g² exactly rank 1), z = (1 − noise) + noise·N(0, 1) between.
 */
export function gradients(steps, noise, { rows = ROWS, cols = COLS, seed = 11 } = {}) {
  if (!(Number.isInteger(steps) && steps >= 1)) throw new RangeError(`steps=${steps}: expected a positive integer`);
  if (!(noise >= 0 && noise <= 1)) throw new RangeError(`noise=${noise}: expected a number in [0, 1]`);
  const normal = gaussians(random(seed));
  const { r, c } = scales(rows, cols);
  return Array.from({ length: steps }, () =>
    r.map((ri) => c.map((cj) => ri * cj * (1 - noise + noise * normal()))),
  );
}

const lerp = (a, b, w) => a + w * (b - a);

/**
 * Adafactor's running row and column means R, C and the full running mean V of g² after the given
 * gradients (each step t averages with weight t^BETA2_DECAY, so step 1 takes g² alone); V̂ = R C /
 * max(mean R, ε1) and P = 1/√max(V̂, ε1²) as adafactor.py computes them.
 */
export function factor(grads) {
  const rows = grads[0].length;
  const cols = grads[0][0].length;
  const R = new Array(rows).fill(0);
  const C = new Array(cols).fill(0);
  const V = Array.from({ length: rows }, () => new Array(cols).fill(0));
  grads.forEach((G, k) => {
    const w = (k + 1) ** BETA2_DECAY;
    for (let i = 0; i < rows; i++) {
      let s = 0;
      for (let j = 0; j < cols; j++) {
        s += G[i][j] * G[i][j];
        V[i][j] = lerp(V[i][j], G[i][j] * G[i][j], w);
      }
      R[i] = lerp(R[i], s / cols, w);
    }
    for (let j = 0; j < cols; j++) {
      let s = 0;
      for (let i = 0; i < rows; i++) s += G[i][j] * G[i][j];
      C[j] = lerp(C[j], s / rows, w);
    }
  });
  const meanR = Math.max(R.reduce((a, b) => a + b, 0) / rows, EPS1);
  const Vhat = R.map((ri) => C.map((cj) => (ri * cj) / meanR));
  const P = Vhat.map((row) => row.map((x) => 1 / Math.sqrt(Math.max(x, EPS1 * EPS1))));
  return { R, C, V, Vhat, P };
}

/**
 * What the figure reads out: memory (Adafactor's m + n numbers, a full V's m·n, Adam's 2·m·n), the
 * largest and median |log10(V̂/V)| (how far the factored estimate is from the full one), and the
 * range of P·|g| for the last gradient (1 everywhere if V̂ were that g²).
 */
export function summary(grads, f = factor(grads)) {
  const rows = f.R.length;
  const cols = f.C.length;
  const logs = [];
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) logs.push(Math.abs(Math.log10(f.Vhat[i][j] / f.V[i][j])));
  logs.sort((a, b) => a - b);
  const last = grads[grads.length - 1];
  let pgMin = Infinity;
  let pgMax = 0;
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) {
      const x = f.P[i][j] * Math.abs(last[i][j]);
      pgMin = Math.min(pgMin, x);
      pgMax = Math.max(pgMax, x);
    }
  }
  const mid = logs.length >> 1;
  return {
    memoryFactored: rows + cols,
    memoryFull: rows * cols,
    memoryAdam: 2 * rows * cols,
    maxLogError: logs[logs.length - 1],
    medianLogError: logs.length % 2 ? logs[mid] : (logs[mid - 1] + logs[mid]) / 2,
    pgMin,
    pgMax,
  };
}
