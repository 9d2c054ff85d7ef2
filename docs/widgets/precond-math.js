// The Preconditioning page's live figure, its numbers (pure functions, tested in node against the
// Python package: tests/js/widgets-kit.test.mjs and tests/browser/test_widgets_precond.py):
// the Hessian of quadratic(κ, θ), κ_diag (as optimessay.experiments.invariance.kappa_diag computes
// it: the eigenvalue ratio of D^-1/2 H D^-1/2, D = diag(H)), the Jacobi walk x ← x − lr·diag(H)⁻¹∇f
// (optimessay.trajectory.preconditioned_gd(kind="diag")), and steps to a tolerance
// (optimessay.protocol.steps_to_tolerance).

/** H = R diag(1, κ) Rᵀ of quadratic(κ, θ) (θ in degrees): [h11, h12, h22]. */
export function hessian(kappa, thetaDegrees) {
  const t = thetaDegrees * (Math.PI / 180.0);
  const c = Math.cos(t);
  const s = Math.sin(t);
  return [c * c + kappa * s * s, c * s - s * c * kappa, s * s + kappa * c * c];
}

/** The condition number left after the Jacobi preconditioner diag(H)⁻¹ (1 at θ = 0, κ at 45°). */
export function kappaDiag(kappa, thetaDegrees) {
  const [a, b, d] = hessian(kappa, thetaDegrees);
  // D^-1/2 H D^-1/2 = [[1, r], [r, 1]]: eigenvalues 1 ± |r|
  const r = Math.abs(b / Math.sqrt(a * d));
  return (1 + r) / (1 - r);
}

/** The off-diagonal r of D^-1/2 H D^-1/2 (the page's formula). */
export function offDiagonal(kappa, thetaDegrees) {
  const [a, b, d] = hessian(kappa, thetaDegrees);
  return b / Math.sqrt(a * d);
}

/** A point turned by θ degrees (counter-clockwise): the start "in the valley's own coordinates". */
export function turn([x, y], thetaDegrees) {
  const t = thetaDegrees * (Math.PI / 180.0);
  const c = Math.cos(t);
  const s = Math.sin(t);
  return [c * x - s * y, s * x + c * y];
}

/**
 * Gradient descent with the fixed Jacobi preconditioner P = diag(H)⁻¹ on a landscape from
 * landscapes.js: x ← x − lr·(P ∘ ∇f(x)). Returns {points (steps+1)·2, losses steps+1, steps}, the
 * layout of playground/trajectory.js's run.
 */
export function jacobiWalk(landscape, h, lr, start, steps) {
  const p0 = 1 / h[0];
  const p1 = 1 / h[2];
  const points = new Float64Array(2 * (steps + 1));
  const losses = new Float64Array(steps + 1);
  const g = new Float64Array(2);
  let x = start[0];
  let y = start[1];
  for (let k = 0; k < steps; k++) {
    points[2 * k] = x;
    points[2 * k + 1] = y;
    losses[k] = landscape.value(x, y);
    landscape.grad(x, y, g);
    x = x - lr * (p0 * g[0]);
    y = y - lr * (p1 * g[1]);
  }
  points[2 * steps] = x;
  points[2 * steps + 1] = y;
  losses[steps] = landscape.value(x, y);
  return { points, losses, steps };
}

/**
 * optimessay.protocol.steps_to_tolerance: the first t from which the loss gap stays at or below tol
 * (relative: tol × the first gap) to the end; a curve that never gets there scores
 * len + log10(final gap / bound); a non-finite value anywhere scores Infinity.
 */
export function stepsToTolerance(losses, tol, { fStar = 0, relative = false } = {}) {
  for (const v of losses) if (!Number.isFinite(v)) return Infinity;
  const bound = relative ? tol * (losses[0] - fStar) : tol;
  let lastAbove = -1;
  for (let i = losses.length - 1; i >= 0; i--) {
    if (losses[i] - fStar > bound) {
      lastAbove = i;
      break;
    }
  }
  if (lastAbove === -1) return 0;
  if (lastAbove < losses.length - 1) return lastAbove + 1;
  return losses.length + Math.log10((losses[losses.length - 1] - fStar) / bound);
}
