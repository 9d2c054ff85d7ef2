// Muon's Newton–Schulz orthogonalization in float64, for the Beyond-diagonal page's live figure.
//
// The same algebra as optimessay/optimizers/muon.py's `muon_orthogonalize` (torch.optim.Muon's
// routine): X ← G/max(‖G‖_F, ε) on the wide orientation, then `steps` times
//   A = X Xᵀ;  B = b·A + c·A²;  X ← a·X + B·X
// so every singular value s of X goes to a·s + b·s³ + c·s⁵ (`spectralMap`, the package's
// `muon_spectral_map`). torch runs it in bfloat16; here it runs in float64, and tests/js/widgets-newer-pages.test.mjs
// checks it against the package's float64 result `muon_preconditioner(G) @ G` to 1e-9.
// Matrices are arrays of rows (plain arrays of numbers).

/** torch.optim.Muon's Newton–Schulz coefficients (a, b, c) and step count (muon.py's defaults). */
export const MUON_COEFFICIENTS = Object.freeze([3.4445, -4.775, 2.0315]);
export const MUON_STEPS = 5;
export const MUON_EPS = 1e-7;
/** The classic cubic Newton–Schulz iteration s ↦ 1.5 s − 0.5 s³: converges to exactly 1, slowly. */
export const CUBIC_COEFFICIENTS = Object.freeze([1.5, -0.5, 0]);

function check(ok, message) {
  if (!ok) throw new RangeError(message);
}

function checkMatrix(M, what) {
  check(Array.isArray(M) && M.length > 0 && Array.isArray(M[0]) && M[0].length > 0, `${what}: expected a non-empty array of rows`);
  const n = M[0].length;
  for (const row of M) {
    check(row.length === n, `${what}: rows of different lengths (${row.length} and ${n})`);
    for (const x of row) check(Number.isFinite(x), `${what}: entry ${x} is not a finite number`);
  }
}

function checkSteps(steps) {
  check(Number.isInteger(steps) && steps >= 0 && steps < 100, `steps=${steps}: expected an integer in [0, 99] (torch's limit)`);
}

function checkCoefficients(coefficients) {
  check(Array.isArray(coefficients) && coefficients.length === 3 && coefficients.every(Number.isFinite), `coefficients=${coefficients}: expected three finite numbers (a, b, c)`);
}

export const transpose = (M) => M[0].map((_, j) => M.map((row) => row[j]));

/** The matrix product M·N. */
export function matmul(M, N) {
  const n = N[0].length;
  const k = N.length;
  return M.map((row) => {
    const out = new Array(n).fill(0);
    for (let l = 0; l < k; l++) {
      const x = row[l];
      const Nl = N[l];
      for (let j = 0; j < n; j++) out[j] += x * Nl[j];
    }
    return out;
  });
}

export const frobenius = (M) => Math.sqrt(M.reduce((s, row) => s + row.reduce((t, x) => t + x * x, 0), 0));

/** φ(s): `steps` Newton–Schulz steps on one normalized singular value, s ↦ a s + b s³ + c s⁵. */
export function spectralMap(s, coefficients = MUON_COEFFICIENTS, steps = MUON_STEPS) {
  checkCoefficients(coefficients);
  checkSteps(steps);
  const [a, b, c] = coefficients;
  for (let i = 0; i < steps; i++) s = a * s + b * s ** 3 + c * s ** 5;
  return s;
}

/** Newton–Schulz on G (m×n) in float64, exactly muon_orthogonalize's algebra: returns X_steps (m×n). */
export function newtonSchulz(G, { coefficients = MUON_COEFFICIENTS, steps = MUON_STEPS, eps = MUON_EPS } = {}) {
  checkMatrix(G, "G");
  checkCoefficients(coefficients);
  checkSteps(steps);
  const [a, b, c] = coefficients;
  const tall = G.length > G[0].length;
  let X = tall ? transpose(G) : G.map((row) => row.slice());
  const norm = Math.max(frobenius(X), eps); // X ← G / max(‖G‖_F, ε): every singular value ≤ 1
  X = X.map((row) => row.map((x) => x / norm));
  for (let k = 0; k < steps; k++) {
    const A = matmul(X, transpose(X)); // A = X Xᵀ
    const AA = matmul(A, A);
    const B = A.map((row, i) => row.map((x, j) => b * x + c * AA[i][j])); // B = b A + c A²
    const BX = matmul(B, X);
    X = X.map((row, i) => row.map((x, j) => a * x + BX[i][j])); // X ← a X + B X
  }
  return tall ? transpose(X) : X;
}

/**
 * The singular values of M, largest first: one-sided Jacobi (Hestenes) on the columns of the
 * tall orientation, rotated until every pair is orthogonal to 1e-15; the column norms are then the
 * singular values (accurate to ~1e-15 relative to the largest).
 */
export function singularValues(M) {
  checkMatrix(M, "M");
  const W = M.length >= M[0].length ? M.map((row) => row.slice()) : transpose(M); // rows ≥ cols
  const rows = W.length;
  const cols = W[0].length;
  for (let sweep = 0; sweep < 60; sweep++) {
    let rotated = false;
    for (let p = 0; p < cols - 1; p++) {
      for (let q = p + 1; q < cols; q++) {
        let alpha = 0;
        let beta = 0;
        let gamma = 0;
        for (let i = 0; i < rows; i++) {
          alpha += W[i][p] * W[i][p];
          beta += W[i][q] * W[i][q];
          gamma += W[i][p] * W[i][q];
        }
        if (gamma === 0 || Math.abs(gamma) <= 1e-15 * Math.sqrt(alpha * beta)) continue;
        rotated = true;
        const zeta = (beta - alpha) / (2 * gamma);
        const t = Math.sign(zeta || 1) / (Math.abs(zeta) + Math.sqrt(1 + zeta * zeta));
        const cs = 1 / Math.sqrt(1 + t * t);
        const sn = cs * t;
        for (let i = 0; i < rows; i++) {
          const wp = W[i][p];
          const wq = W[i][q];
          W[i][p] = cs * wp - sn * wq;
          W[i][q] = sn * wp + cs * wq;
        }
      }
    }
    if (!rotated) break;
  }
  const out = [];
  for (let j = 0; j < cols; j++) {
    let s = 0;
    for (let i = 0; i < rows; i++) s += W[i][j] * W[i][j];
    out.push(Math.sqrt(s));
  }
  return out.sort((x, y) => y - x);
}

/** Stable rank ‖M‖_F² / ‖M‖₂² from the singular values: how many directions carry the matrix. */
export function stableRank(sigmas) {
  const top = Math.max(...sigmas);
  return top === 0 ? 0 : sigmas.reduce((s, x) => s + x * x, 0) / (top * top);
}

/** A deterministic uniform generator in [0, 1) (mulberry32) from an integer seed. */
export function random(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** An orthonormal k×k matrix (rows), Gram–Schmidt (twice) on seeded uniform entries in [-1, 1). */
export function orthogonal(k, rand) {
  const Q = [];
  for (let r = 0; r < k; r++) {
    let v = Array.from({ length: k }, () => 2 * rand() - 1);
    for (let pass = 0; pass < 2; pass++) {
      for (const q of Q) {
        const d = v.reduce((s, x, i) => s + x * q[i], 0);
        v = v.map((x, i) => x - d * q[i]);
      }
    }
    const n = Math.sqrt(v.reduce((s, x) => s + x * x, 0));
    Q.push(v.map((x) => x / n));
  }
  return Q;
}

/** The singular values of the widget's matrix: `rank` values spread geometrically from 1 down to 1/κ. */
export function spreadSigmas(rank, kappa) {
  check(Number.isInteger(rank) && rank >= 1, `rank=${rank}: expected a positive integer`);
  check(Number.isFinite(kappa) && kappa >= 1, `kappa=${kappa}: expected a number ≥ 1`);
  return Array.from({ length: rank }, (_, i) => (rank === 1 ? 1 : kappa ** (-i / (rank - 1))));
}

/** G = U diag(σ) Vᵀ (m×n, m ≥ n = σ.length) with seeded random orthogonal U (m×m) and V (n×n). */
export function matrixWithSpectrum(m, sigmas, seed = 1) {
  const n = sigmas.length;
  check(Number.isInteger(m) && m >= n, `m=${m}: expected an integer ≥ the number of singular values (${n})`);
  const rand = random(seed);
  const U = orthogonal(m, rand); // its first n rows serve as the left singular vectors
  const V = orthogonal(n, rand);
  return Array.from({ length: m }, (_, i) =>
    Array.from({ length: n }, (_, j) => sigmas.reduce((s, sig, k) => s + U[k][i] * sig * V[k][j], 0)),
  );
}
