// The arithmetic of the momentum widget (docs/sgd-momentum.md): each eigen-direction of a quadratic
// under gradient descent and under the heavy ball (torch's SGD with momentum), and Polyak's optimal
// heavy ball. Pure functions, no DOM: tests/js/widgets-momentum-landscapes-schedules.test.mjs checks them against the Python
// package (optimessay.experiments.momentum.polyak, and the package's SGD step as a linear map).
//
// On a direction with curvature λ, torch's heavy ball (b ← μb + g, θ ← θ − ηb) is the recurrence
// θ_{t+1} = θ_t − ηλθ_t + μ(θ_t − θ_{t−1}); its error shrinks per step by the larger |root| r of
//     r² − (1 + μ − ηλ) r + μ = 0,
// and gradient descent's (μ = 0) by |1 − ηλ|. A rate below 1 converges, above 1 diverges.

function need(ok, message) {
  if (!ok) throw new RangeError(message);
}
const finite = (what, v) => need(typeof v === "number" && Number.isFinite(v), `${what}=${v}: expected a finite number`);

/** Gradient descent's contraction per step along a direction of curvature `lambda`: |1 − lr·λ|. */
export function gdModeRate(lr, lambda) {
  finite("lr", lr);
  finite("lambda", lambda);
  return Math.abs(1 - lr * lambda);
}

/**
 * The heavy ball's contraction per step along a direction of curvature `lambda`: the largest |root|
 * of r² − (1 + μ − lr·λ) r + μ = 0. Complex roots (b² < 4μ) both have modulus √μ; real roots are
 * computed without cancellation (the larger-magnitude one first, the other as μ / it).
 */
export function heavyBallModeRate(lr, mu, lambda) {
  finite("lr", lr);
  finite("mu", mu);
  finite("lambda", lambda);
  need(mu >= 0 && mu < 1, `mu=${mu}: expected a momentum in [0, 1)`);
  const b = 1 + mu - lr * lambda;
  const disc = b * b - 4 * mu;
  if (disc < 0) return Math.sqrt(mu);
  const big = (b + (b >= 0 ? 1 : -1) * Math.sqrt(disc)) / 2;
  if (big === 0) return 0;
  return Math.max(Math.abs(big), Math.abs(mu / big));
}

/** Whether the heavy ball's roots along `lambda` are complex (the direction oscillates as it decays). */
export function oscillates(lr, mu, lambda) {
  const b = 1 + mu - lr * lambda;
  return b * b - 4 * mu < 0;
}

/**
 * Polyak's heavy ball and gradient descent's best fixed lr for eigenvalues in [λmin, κ·λmin]
 * (optimessay.experiments.momentum.polyak, formula for formula).
 */
export function polyak(kappa, lamMin = 1.0) {
  finite("kappa", kappa);
  finite("lamMin", lamMin);
  need(kappa >= 1, `kappa=${kappa}: expected a condition number >= 1`);
  need(lamMin > 0, `lamMin=${lamMin}: expected a positive eigenvalue`);
  const lamMax = kappa * lamMin;
  const sk = Math.sqrt(kappa);
  return {
    alpha: 4 / (Math.sqrt(lamMax) + Math.sqrt(lamMin)) ** 2,
    beta: ((sk - 1) / (sk + 1)) ** 2,
    rate_hb: (sk - 1) / (sk + 1),
    lr_gd: 2 / (lamMin + lamMax),
    rate_gd: (kappa - 1) / (kappa + 1),
  };
}

/**
 * The rates of a 2-D quadratic with eigenvalues `lambdas` at (lr, mu): per eigenvalue, and the whole
 * walk's (the slowest direction's) for the heavy ball and for GD at the same lr.
 */
export function quadraticRates(lr, mu, lambdas) {
  const hb = lambdas.map((l) => heavyBallModeRate(lr, mu, l));
  const gd = lambdas.map((l) => gdModeRate(lr, l));
  return { hb, gd, hbRate: Math.max(...hb), gdRate: Math.max(...gd) };
}

/** Steps for a contraction `rate` per step to shrink the error `factor`-fold (Infinity if rate ≥ 1). */
export function stepsToShrink(rate, factor = 1e6) {
  finite("rate", rate);
  need(factor > 1, `factor=${factor}: expected a number > 1`);
  if (!(rate < 1)) return Infinity;
  if (rate === 0) return 1;
  return Math.ceil(Math.log(factor) / -Math.log(rate));
}
