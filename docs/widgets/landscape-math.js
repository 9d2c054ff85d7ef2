// The arithmetic of the landscape widget (docs/landscapes.md): the Hessian of each of the
// playground's landscapes (docs/playground/landscapes.js) in closed form, the eigen-decomposition of
// a symmetric 2×2 matrix, and the condition number left after the Jacobi scaling. Pure functions, no
// DOM; tests/js/widgets-momentum-landscapes-schedules.test.mjs checks them against optimessay.landscapes (autograd Hessians,
// torch.linalg.eigh) at sample points of every landscape, to 1e-9 relative.

function need(ok, message) {
  if (!ok) throw new RangeError(message);
}

/**
 * ∇²f at (x, y) as [fxx, fxy, fyy] for a landscape of docs/playground/landscapes.js (its `name` and
 * `params` select the formula). The derivatives are worked out by hand from the same formulas as
 * optimessay.landscapes.
 */
export function hessian(landscape, x, y) {
  need(Number.isFinite(x) && Number.isFinite(y), `point (${x}, ${y}): expected finite coordinates`);
  const p = landscape.params || {};
  switch (landscape.name) {
    case "rosenbrock": {
      const { b } = p; // f = (a − x)² + b (y − x²)²: a drops out of the second derivatives
      return [2 - 4 * b * (y - x * x) + 8 * b * x * x, -4 * b * x, 2 * b];
    }
    case "beale": {
      // f = Σ_k T_k², T_k = c_k − x + x y^k (k = 1, 2, 3)
      let fxx = 0;
      let fxy = 0;
      let fyy = 0;
      for (const [c, k] of [[1.5, 1], [2.25, 2], [2.625, 3]]) {
        const t = c - x + x * y ** k;
        const tx = y ** k - 1;
        const ty = k * x * y ** (k - 1);
        const txy = k * y ** (k - 1);
        const tyy = k === 1 ? 0 : k * (k - 1) * x * y ** (k - 2);
        fxx += 2 * tx * tx;
        fxy += 2 * (tx * ty + t * txy);
        fyy += 2 * (ty * ty + t * tyy);
      }
      return [fxx, fxy, fyy];
    }
    case "himmelblau": {
      const P = x * x + y - 11; // f = P² + Q²
      const Q = x + y * y - 7;
      return [8 * x * x + 4 * P + 2, 4 * x + 4 * y, 2 + 8 * y * y + 4 * Q];
    }
    case "quadratic": {
      const { kappa, theta } = p; // f = ½ (u² + κ w²), u = x cos θ + y sin θ, w = −x sin θ + y cos θ
      const c = Math.cos(theta);
      const s = Math.sin(theta);
      return [c * c + kappa * s * s, c * s * (1 - kappa), s * s + kappa * c * c];
    }
    case "saddle":
      return [2, 0, 3 * y * y - 1]; // f = x² + y⁴/4 − y²/2
    case "rastrigin": {
      const k = p.A * (2 * Math.PI) ** 2; // f = 2A + Σ (x² − A cos 2πx)
      return [2 + k * Math.cos(2 * Math.PI * x), 0, 2 + k * Math.cos(2 * Math.PI * y)];
    }
    case "valley": {
      const r = y - 0.5 * Math.sin(x); // f = 0.05 x² + 5 r², r = y − ½ sin x
      const rx = -0.5 * Math.cos(x);
      return [0.1 + 10 * (rx * rx + r * 0.5 * Math.sin(x)), 10 * rx, 10];
    }
    default:
      throw new RangeError(`no Hessian for landscape ${JSON.stringify(landscape.name)}`);
  }
}

/**
 * Eigenvalues (ascending) and the unit eigenvector of the smaller one of the symmetric matrix
 * [[a, b], [b, c]]. The larger-magnitude eigenvalue comes from the mean and the half-gap, the other
 * as det / it (no cancellation when they differ by orders of magnitude).
 */
export function eigSym2(a, b, c) {
  const m = (a + c) / 2;
  const d = Math.hypot((a - c) / 2, b);
  const big = m >= 0 ? m + d : m - d;
  const det = a * c - b * b;
  const other = big === 0 ? 0 : det / big;
  const lo = Math.min(big, other);
  const hi = Math.max(big, other);
  // eigenvector of lo: (b, lo − a) or (lo − c, b), whichever is longer (a diagonal matrix: an axis)
  let vx = b;
  let vy = lo - a;
  const ux = lo - c;
  const uy = b;
  if (Math.hypot(ux, uy) > Math.hypot(vx, vy)) {
    vx = ux;
    vy = uy;
  }
  let n = Math.hypot(vx, vy);
  if (n === 0) {
    // a multiple of the identity: every direction is an eigenvector
    vx = 1;
    vy = 0;
    n = 1;
  }
  return { values: [lo, hi], vector: [vx / n, vy / n] };
}

/** The direction of a vector as an angle from the x axis in degrees, in [0, 180) (a line, not an arrow). */
export function lineAngle(vx, vy) {
  const deg = (Math.atan2(vy, vx) * 180) / Math.PI;
  return ((deg % 180) + 180) % 180;
}

/**
 * The curvature at (x, y): Hessian entries, eigenvalues, the flat direction, κ = λmax/λmin and κ after
 * the Jacobi scaling diag(H)^(-1/2) H diag(H)^(-1/2) (for 2×2 the best diagonal scaling; its
 * eigenvalues are 1 ± |ρ|, ρ = fxy / √(fxx fyy)). κ and κ_diag are null where H is not positive definite.
 */
export function curvature(landscape, x, y) {
  const [fxx, fxy, fyy] = hessian(landscape, x, y);
  const { values, vector } = eigSym2(fxx, fxy, fyy);
  const [lo, hi] = values;
  const positive = lo > 0;
  const rho = positive ? Math.abs(fxy) / Math.sqrt(fxx * fyy) : NaN;
  return {
    hessian: [fxx, fxy, fyy],
    lamMin: lo,
    lamMax: hi,
    kappa: positive ? hi / lo : null,
    kappaDiag: positive ? (1 + rho) / (1 - rho) : null,
    flatAngle: lineAngle(vector[0], vector[1]),
    flat: vector,
  };
}
