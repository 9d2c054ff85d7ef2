// The playground's loss landscapes: the same definitions as optimessay.landscapes (formula,
// plotting window, minima, default start), with analytic gradients that repeat, rounding for
// rounding, what torch's autograd computes for the Python formula in float64 (each backward op,
// and the order in which autograd adds the contributions of a variable used several times).
// tests/js/ checks values, gradients and metadata against vectors exported from the package.

/** @typedef {{name: string, title: string, value: (x: number, y: number) => number,
 *   grad: (x: number, y: number, out: Float64Array) => void, xRange: number[], yRange: number[],
 *   minima: number[][], logScale: boolean, start: number[], params: object}} Landscape */

function need(ok, message) {
  if (!ok) throw new RangeError(message);
}
const finite = (what, v) => need(typeof v === "number" && Number.isFinite(v), `${what}=${v}: expected a finite number`);

/** Rosenbrock's banana, f = (a − x)² + b (y − x²)²; minimum (a, a²). */
export function rosenbrock(a = 1.0, b = 100.0) {
  finite("a", a);
  finite("b", b);
  need(b > 0, `b=${b}: expected a positive number`);
  return {
    name: "rosenbrock",
    title: "Rosenbrock's banana",
    value: (x, y) => (a - x) ** 2 + b * (y - x * x) ** 2,
    grad(x, y, out) {
      const t1 = a - x;
      const t3 = y - x * x;
      const g3 = b * (2 * t3); // ∂f/∂(y − x²) = 2b (y − x²)
      out[0] = -(2 * t1) + -g3 * (2 * x); // −2 (a − x) − 4b x (y − x²)
      out[1] = g3; // 2b (y − x²)
    },
    xRange: [-2.0, 2.0],
    yRange: [-1.0, 3.0],
    minima: [[a, a * a]],
    logScale: true,
    start: [-1.5, 2.5],
    params: { a, b },
  };
}

/** Beale's function: flat plateaus and steep walls; minimum (3, 0.5). */
export function beale() {
  return {
    name: "beale",
    title: "Beale",
    value: (x, y) => (1.5 - x + x * y) ** 2 + (2.25 - x + x * y * y) ** 2 + (2.625 - x + x * y * y * y) ** 2,
    grad(x, y, out) {
      const y2 = y * y;
      const y3 = y * y * y;
      const gA = 2 * (1.5 - x + x * y); // ∂f/∂A, A = 1.5 − x + xy
      const gB = 2 * (2.25 - x + x * y2); // B = 2.25 − x + xy²
      const gC = 2 * (2.625 - x + x * y3); // C = 2.625 − x + xy³
      // autograd meets the terms in reverse order of creation: C, then B, then A
      out[0] = gC * y3 + -gC + gB * y2 + -gB + gA * y + -gA; // Σ g·(∂/∂x) = Σ g (yᵏ − 1)
      out[1] = (gC * x) * (3 * y2) + (gB * x) * (2 * y) + gA * x; // Σ g·k x yᵏ⁻¹
    },
    xRange: [-4.5, 4.5],
    yRange: [-4.5, 4.5],
    minima: [[3.0, 0.5]],
    logScale: true,
    start: [1.0, 1.5],
    params: {},
  };
}

/** Himmelblau's function, f = (x² + y − 11)² + (x + y² − 7)²: four minima, all with f = 0. */
export function himmelblau() {
  return {
    name: "himmelblau",
    title: "Himmelblau",
    value: (x, y) => (x * x + y - 11) ** 2 + (x + y * y - 7) ** 2,
    grad(x, y, out) {
      const gP = 2 * (x * x + y - 11);
      const gQ = 2 * (x + y * y - 7);
      out[0] = gQ + gP * (2 * x); // 4x (x² + y − 11) + 2 (x + y² − 7)
      out[1] = gQ * (2 * y) + gP; // 2 (x² + y − 11) + 4y (x + y² − 7)
    },
    xRange: [-5.0, 5.0],
    yRange: [-5.0, 5.0],
    minima: [
      [3.0, 2.0],
      [-2.805118086952745, 3.131312518250573],
      [-3.779310253377747, -3.283185991286169],
      [3.5844283403304917, -1.8481265269644034],
    ],
    logScale: true,
    start: [0.0, 0.0],
    params: {},
  };
}

/** Python's math.radians. */
export const radians = (degrees) => degrees * (Math.PI / 180.0);

/**
 * An ill-conditioned quadratic bowl f = ½ (u² + κ w²), u = x cos θ + y sin θ, w = −x sin θ + y cos θ:
 * condition number κ, eigen-directions rotated by θ (radians); minimum (0, 0).
 */
export function quadratic(kappa = 10.0, theta = 0.0) {
  finite("kappa", kappa);
  finite("theta", theta);
  need(kappa >= 1, `kappa=${kappa}: expected a condition number >= 1`);
  const c = Math.cos(theta);
  const s = Math.sin(theta);
  const ms = -s;
  const degrees = theta * (180.0 / Math.PI);
  return {
    name: "quadratic",
    title: `Quadratic (κ=${+kappa.toPrecision(6)}, θ=${+degrees.toPrecision(6)}°)`,
    value(x, y) {
      const u = c * x + s * y;
      const w = ms * x + c * y;
      return 0.5 * (u * u + kappa * (w * w));
    },
    grad(x, y, out) {
      const gu = 0.5 * (2 * (c * x + s * y)); // ∂f/∂u = u
      const gw = (0.5 * kappa) * (2 * (ms * x + c * y)); // ∂f/∂w = κ w
      out[0] = gu * c + gw * ms; // u cos θ − κ w sin θ
      out[1] = gu * s + gw * c; // u sin θ + κ w cos θ
    },
    xRange: [-2.0, 2.0],
    yRange: [-2.0, 2.0],
    minima: [[0.0, 0.0]],
    logScale: false,
    start: [-1.5, 1.0],
    params: { kappa, theta },
  };
}

/** A saddle between two valleys, f = x² + y⁴/4 − y²/2; minima (0, ±1). */
export function saddle() {
  return {
    name: "saddle",
    title: "Saddle",
    value: (x, y) => x * x + 0.25 * y ** 4 - 0.5 * y * y,
    grad(x, y, out) {
      out[0] = 2 * x;
      out[1] = -0.5 * (2 * y) + 0.25 * (4 * (y * y * y)); // y³ − y
    },
    xRange: [-2.0, 2.0],
    yRange: [-2.0, 2.0],
    minima: [[0.0, 1.0], [0.0, -1.0]],
    logScale: false,
    start: [-1.5, 0.05],
    params: {},
  };
}

/** Rastrigin's function, f = 2A + Σ (x² − A cos 2πx): a bowl covered in local minima; minimum (0, 0). */
export function rastrigin(A = 10.0) {
  finite("A", A);
  need(A > 0, `A=${A}: expected a positive number`);
  const twoPi = 2 * Math.PI;
  return {
    name: "rastrigin",
    title: "Rastrigin",
    value: (x, y) => 2 * A + x * x - A * Math.cos(twoPi * x) + y * y - A * Math.cos(twoPi * y),
    grad(x, y, out) {
      out[0] = 2 * x + -A * -Math.sin(twoPi * x) * twoPi; // 2x + 2πA sin 2πx
      out[1] = 2 * y + -A * -Math.sin(twoPi * y) * twoPi;
    },
    xRange: [-5.12, 5.12],
    yRange: [-5.12, 5.12],
    minima: [[0.0, 0.0]],
    logScale: false,
    start: [-3.2, 2.8],
    params: { A },
  };
}

/** A long, narrow, winding valley, f = 0.05 x² + 5 (y − ½ sin x)²; minimum (0, 0). */
export function valley() {
  return {
    name: "valley",
    title: "Long narrow valley",
    value: (x, y) => 0.05 * x * x + 5 * (y - 0.5 * Math.sin(x)) ** 2,
    grad(x, y, out) {
      const gr = 5 * (2 * (y - 0.5 * Math.sin(x))); // ∂f/∂r, r = y − ½ sin x
      out[0] = -gr * 0.5 * Math.cos(x) + 0.05 * (2 * x); // −½ cos x · 10 r + 0.1 x
      out[1] = gr;
    },
    xRange: [-4.0, 4.0],
    yRange: [-2.0, 2.0],
    minima: [[0.0, 0.0]],
    logScale: true,
    start: [-3.5, 1.0],
    params: {},
  };
}

/** The registry, in gallery order (as optimessay.landscapes.REGISTRY). */
export const REGISTRY = { rosenbrock, beale, himmelblau, quadratic, saddle, rastrigin, valley };

/** The landscape registered as `name`, its factory called with `params` (an object of numbers). */
export function getLandscape(name, params = {}) {
  need(Object.hasOwn(REGISTRY, name), `unknown landscape ${JSON.stringify(name)}: expected one of ${Object.keys(REGISTRY).join(", ")}`);
  if (name === "quadratic") return quadratic(params.kappa ?? 10.0, params.theta ?? 0.0);
  if (name === "rosenbrock") return rosenbrock(params.a ?? 1.0, params.b ?? 100.0);
  if (name === "rastrigin") return rastrigin(params.A ?? 10.0);
  return REGISTRY[name]();
}

/** Euclidean distance from (x, y) to the nearest known minimum (Infinity if none). */
export function distanceToMinimum(landscape, x, y) {
  let best = Infinity;
  for (const [mx, my] of landscape.minima) best = Math.min(best, Math.sqrt((x - mx) ** 2 + (y - my) ** 2));
  return best;
}
