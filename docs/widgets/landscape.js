// Landscapes page, at the curvature table: pick a landscape and a point (sliders, typed values, or a
// click on the figure); the readout gives the gradient there, the local Hessian's eigenvalues, κ, the
// flat direction and κ after the best diagonal (Jacobi) scaling, as the table computes them at the
// minima (closed-form Hessians: landscape-math.js, equal to optimessay.landscapes' autograd to 1e-9),
// and a short gradient-descent walk from the point (the playground's engine) with its local
// stability number lr·λmax (below 2 the steep direction does not blow up there).

import { makeWidget, sig, theme, themeColor } from "./kit.js";
import { cachedContours } from "./landscape-contours.js";
import { curvature } from "./landscape-math.js";
import { getLandscape, radians } from "../playground/landscapes.js";
import { run } from "../playground/trajectory.js";

export const CHOICES = [
  ["rosenbrock", "banana (Rosenbrock)"],
  ["valley", "narrow valley"],
  ["beale", "Beale"],
  ["himmelblau", "Himmelblau"],
  ["saddle", "saddle"],
  ["rastrigin", "Rastrigin"],
  ["quadratic", "quadratic κ = 10, θ = 30°"],
];
export const QUADRATIC = { kappa: 10, theta: radians(30) };
const BOUND = 5.12; // the largest window (Rastrigin's): the x and y sliders cover every landscape

export function landscapeOf(name) {
  return getLandscape(name, name === "quadratic" ? QUADRATIC : {});
}

/** Everything the widget shows for one setting (pure; the browser tests read it). */
export function compute(name, x, y, lr, steps) {
  const land = landscapeOf(name);
  const g = new Float64Array(2);
  land.grad(x, y, g);
  const c = curvature(land, x, y);
  const walk = run(land, "sgd", { lr }, { start: [x, y], steps });
  return { land, value: land.value(x, y), grad: [g[0], g[1]], curvature: c, walk, stability: lr * c.lamMax };
}

/**
 * What the contours are drawn of, and at which levels: log(f − min + δ) at even levels for the
 * log-scale landscapes (deep narrow valleys: lines on the floor as well as on the walls), f at even
 * levels otherwise; the range from a coarse sample of the window (min to the 95th percentile).
 */
const contourCache = new Map();
function contoursFor(land) {
  const key = land.name;
  if (contourCache.has(key)) return contourCache.get(key);
  const vals = [];
  const [x0, x1] = land.xRange;
  const [y0, y1] = land.yRange;
  for (let i = 0; i <= 40; i++) for (let j = 0; j <= 40; j++) vals.push(land.value(x0 + (x1 - x0) * i / 40, y0 + (y1 - y0) * j / 40));
  vals.sort((a, b) => a - b);
  const lo = Math.min(vals[0], ...land.minima.map(([mx, my]) => land.value(mx, my)));
  const hi = vals[Math.floor(0.95 * (vals.length - 1))];
  const n = 16;
  let fn;
  let a;
  let b;
  if (land.logScale) {
    const delta = Math.max(hi - lo, 1e-9) * 1e-5;
    fn = (x, y) => Math.log(land.value(x, y) - lo + delta);
    a = Math.log(delta);
    b = Math.log(hi - lo + delta);
  } else {
    fn = (x, y) => land.value(x, y);
    a = lo;
    b = hi;
  }
  const levels = [];
  for (let i = 1; i <= n; i++) levels.push(a + (b - a) * i / (n + 1));
  const out = { fn, levels };
  contourCache.set(key, out);
  return out;
}

const angleText = (deg) => `${sig(deg)}°`;

export function mount(root) {
  const w = makeWidget(root, { id: "landscape", title: "Live: the curvature at a point, and gradient descent from it" });
  const which = w.select("land", "landscape", CHOICES, "rosenbrock");
  const px = w.slider("x", "point x", { min: -BOUND, max: BOUND, step: 0.01, value: -1 });
  const py = w.slider("y", "point y", { min: -BOUND, max: BOUND, step: 0.01, value: 1 });
  const lr = w.slider("lr", "GD learning rate", { min: 1e-5, max: 1, log: true, perDecade: 20, value: 1e-3 });
  const steps = w.slider("steps", "GD steps", { min: 0, max: 1000, step: 1, integer: true, value: 300 });
  const plot = w.plot({ aspect: 0.8, maxHeight: 420, label: "Contours of the landscape, the point with its Hessian's eigen-directions, the negative gradient and the gradient-descent walk" });
  const out = w.readout({ label: "Gradient and curvature at the point" });
  w.caption("What to try: on the banana, move the point along the valley floor from (−1, 1) to (1, 1) and watch the flat direction turn with the parabola while κ stays in the thousands; "
    + "then put it at the start (−1.5, 2.5), where one eigenvalue is negative. Click the figure to move the point. Raise the lr until lr·λmax passes 2: the walk bounces off the walls.");

  let shown = null; // the landscape drawn last (null: the first update keeps the point, e.g. from the URL)
  // a click (or tap) on the figure moves the point there
  plot.canvas.addEventListener("click", (e) => {
    if (!plot.X) return;
    const rect = plot.canvas.getBoundingClientRect();
    const cx = e.clientX - rect.left;
    const cy = e.clientY - rect.top;
    const a = plot.area;
    if (cx < a.left || cx > a.right || cy < a.top || cy > a.bottom) return;
    const invert = (map, p) => { const v0 = map(0); return (p - v0) / (map(1) - v0); };
    const round = (v) => Math.max(-BOUND, Math.min(BOUND, Math.round(v * 100) / 100));
    px.set(round(invert(plot.X, cx)));
    py.set(round(invert(plot.Y, cy)));
    px.input.dispatchEvent(new Event("input")); // through the control: update and URL state
  });

  w.onUpdate(() => {
    const name = which.value;
    if (shown !== null && name !== shown) {
      // another landscape: start from its default start point, inside its window
      const land = landscapeOf(name);
      px.set(land.start[0]);
      py.set(land.start[1]);
    }
    shown = name;
    const r = compute(name, px.value, py.value, lr.value, steps.value);
    root.oeWidget.result = r; // for the tests
    const { land, curvature: c } = r;
    const contour = contoursFor(land);
    const flatColor = themeColor("#0072B2");
    const steepColor = themeColor("#D55E00");
    const walkColor = themeColor("momentum");
    plot.render({
      x: { min: land.xRange[0], max: land.xRange[1], label: "x" },
      y: { min: land.yRange[0], max: land.yRange[1], label: "y" },
      equal: true,
      legend: [
        { label: "flat eigen-direction", color: flatColor },
        { label: "steep eigen-direction", color: steepColor },
        { label: "−gradient (direction)", color: theme().fg, width: 1.6 },
        { label: `GD walk, ${steps.value} steps`, color: walkColor, dash: [5, 3] },
      ],
      draw(ctx, X, Y, th) {
        cachedContours(plot, ctx, land.name, contour.fn, contour.levels, X, Y, { n: 120, color: th.muted });
        for (const [mx, my] of land.minima) plot.marker(ctx, mx, my, X, Y, { color: th.fg, shape: "x", size: 5 });
        const pts = [];
        for (let i = 0; i <= r.walk.steps; i++) pts.push([r.walk.points[2 * i], r.walk.points[2 * i + 1]]);
        plot.path(ctx, pts, X, Y, { color: walkColor, dash: [5, 3], width: 1.8 });
        // the eigen-directions as lines through the point (28 px each way), the steep one perpendicular
        const cx = X(px.value);
        const cy = Y(py.value);
        const [fx, fy] = c.flat;
        for (const [dx, dy, color] of [[fx, fy, flatColor], [-fy, fx, steepColor]]) {
          ctx.strokeStyle = color;
          ctx.lineWidth = 2.5;
          ctx.beginPath();
          ctx.moveTo(cx - 28 * dx, cy + 28 * dy);
          ctx.lineTo(cx + 28 * dx, cy - 28 * dy);
          ctx.stroke();
        }
        // the negative gradient: an arrow 40 px long (its direction; the readout gives its size)
        const gn = Math.hypot(r.grad[0], r.grad[1]);
        if (gn > 0) {
          const ux = -r.grad[0] / gn;
          const uy = -r.grad[1] / gn;
          const ex = cx + 40 * ux;
          const ey = cy - 40 * uy;
          ctx.strokeStyle = th.fg;
          ctx.fillStyle = th.fg;
          ctx.lineWidth = 1.6;
          ctx.beginPath();
          ctx.moveTo(cx, cy);
          ctx.lineTo(ex, ey);
          ctx.stroke();
          const ang = Math.atan2(ey - cy, ex - cx);
          ctx.beginPath();
          ctx.moveTo(ex, ey);
          ctx.lineTo(ex - 8 * Math.cos(ang - 0.4), ey - 8 * Math.sin(ang - 0.4));
          ctx.lineTo(ex - 8 * Math.cos(ang + 0.4), ey - 8 * Math.sin(ang + 0.4));
          ctx.closePath();
          ctx.fill();
        }
        plot.marker(ctx, px.value, py.value, X, Y, { color: th.fg, shape: "o", size: 5 });
      },
    });
    const definite = c.kappa !== null;
    const walkEnd = r.walk.divergedAt !== null ? `diverged at step ${r.walk.divergedAt}`
      : `(${sig(r.walk.points[2 * r.walk.steps])}, ${sig(r.walk.points[2 * r.walk.steps + 1])}), f = ${sig(r.walk.losses[r.walk.steps])}`;
    out.set([
      ["f at the point", sig(r.value), "f"],
      ["gradient", `(${sig(r.grad[0])}, ${sig(r.grad[1])}), length ${sig(Math.hypot(r.grad[0], r.grad[1]))}`, "grad"],
      ["Hessian eigenvalues", `${sig(c.lamMin)} and ${sig(c.lamMax)}`, "eig"],
      ["condition number κ", definite ? sig(c.kappa) : "none: an eigenvalue is ≤ 0 (not convex here)", "kappa"],
      ["flat direction (from the x axis)", angleText(c.flatAngle), "angle"],
      ["κ after the best diagonal P", definite ? sig(c.kappaDiag) : "none", "kappa-diag"],
      ["lr·λmax (below 2: stable here)", sig(r.stability), "stability"],
      ["GD walk ends at", walkEnd, "walk"],
    ]);
    w.say(`${land.title} at (${sig(px.value)}, ${sig(py.value)}): Hessian eigenvalues ${sig(c.lamMin)} and ${sig(c.lamMax)}, `
      + (definite ? `κ = ${sig(c.kappa)}, ${sig(c.kappaDiag)} after the best diagonal scaling; ` : "not convex here; ")
      + `flat direction at ${angleText(c.flatAngle)}. Gradient descent at lr ${sig(lr.value)}: ${walkEnd}.`);
  });
  w.start();
}
