// Beyond diagonal page, under Muon's Newton–Schulz paragraph: a 12×8 matrix G with chosen singular
// values (8 of them, spread geometrically over κ = σmax/σmin) goes through Newton–Schulz, in float64,
// for 0-10 steps (docs/widgets/muon-math.js: muon_orthogonalize's algebra, tested equal to the
// package to 1e-9). The top plot shows the spectrum before (σ/‖G‖_F) and after, singular value by
// singular value, computed from the matrices (one-sided Jacobi SVD); the bottom plot the scalar map
// φ(s) = a s + b s³ + c s⁵ repeated, with the matrix's values on it. The coefficients are torch's
// (muon.py's defaults) or, for contrast, the classic cubic iteration, which reaches exactly 1 but
// slowly. Readouts: the range and stable rank of both spectra, the largest distance from 1.

import { makeWidget, sig, themeColor } from "./kit.js";
import {
  CUBIC_COEFFICIENTS, MUON_COEFFICIENTS, frobenius, matrixWithSpectrum, newtonSchulz, singularValues, spectralMap,
  spreadSigmas, stableRank,
} from "./muon-math.js";

export const ROWS = 12;
export const RANK = 8;
export const SEED = 1;
const COEFFICIENTS = { muon: MUON_COEFFICIENTS, cubic: CUBIC_COEFFICIENTS };
const AFTER = "#0072B2"; // blue
const BEFORE = "#999999"; // grey

/** Everything the widget shows for one setting (pure: the tests call it too). */
export function compute(kappa, steps, which = "muon") {
  const coefficients = COEFFICIENTS[which];
  if (!coefficients) throw new RangeError(`coefficients "${which}": expected "muon" or "cubic"`);
  const G = matrixWithSpectrum(ROWS, spreadSigmas(RANK, kappa), SEED);
  const norm = frobenius(G);
  const before = singularValues(G).map((s) => s / norm); // s = σ/‖G‖_F: what NS starts from
  const after = singularValues(newtonSchulz(G, { coefficients, steps })); // largest first
  // NS keeps the singular vectors and maps each value by φ, which is not monotone: pair the output
  // values with the inputs they came from (the k-th largest output is the k-th largest φ(s_i))
  const order = before.map((s, i) => [spectralMap(s, coefficients, steps), i]).sort((x, y) => y[0] - x[0]);
  const paired = new Array(before.length);
  order.forEach(([, i], k) => { paired[i] = after[k]; });
  const distance = Math.max(...after.map((s) => Math.abs(s - 1)));
  return {
    coefficients, before, after, paired, distance,
    rankBefore: stableRank(before), rankAfter: stableRank(after),
  };
}

const fmtCoefficients = (c) => c.map((x) => sig(x, 5)).join(", ");

export function mount(root) {
  const w = makeWidget(root, { id: "muon", title: "Live: Newton–Schulz on a matrix's singular values" });
  const steps = w.slider("steps", "Newton–Schulz steps", { min: 0, max: 10, step: 1, integer: true, value: 5 });
  const kappa = w.slider("kappa", "spread σmax/σmin of G", { min: 1, max: 1e4, log: true, perDecade: 10, value: 1000 });
  const which = w.select("coefficients", "coefficients (a, b, c)", [
    ["muon", `Muon's (${fmtCoefficients(MUON_COEFFICIENTS)})`],
    ["cubic", `cubic (${fmtCoefficients(CUBIC_COEFFICIENTS)})`],
  ], "muon");
  const spectrum = w.plot({ aspect: 0.45, maxHeight: 260, minHeight: 190, label: "Singular values of the 12×8 matrix, largest first, before and after Newton–Schulz" });
  const map = w.plot({ aspect: 0.5, maxHeight: 280, minHeight: 200, label: "The map each singular value goes through, s to φ(s), on a log s axis" });
  const out = w.readout({ label: "Spectrum before and after Newton–Schulz" });
  w.caption("What to try: step from 0 to 5 and watch the small singular values climb towards 1 while the largest "
    + "overshoot and come back; raise the spread to 10⁴ and the smallest is left behind. Then choose the cubic "
    + "coefficients: the large values land exactly on 1, but the small ones need far more steps.");

  w.onUpdate(() => {
    const k = steps.value;
    const r = compute(kappa.value, k, which.value);
    root.oeWidget.result = r; // for the tests
    const after = themeColor(AFTER);
    spectrum.render({
      x: { min: 0.5, max: RANK + 0.5, label: "singular value of G (largest first) and what it becomes" },
      y: { min: 0, max: 1.3, label: "value" },
      legend: [
        { label: "before: σ/‖G‖_F", color: BEFORE, width: 6 },
        { label: `after ${k} step${k === 1 ? "" : "s"}`, color: after, width: 6 },
      ],
      draw(ctx, X, Y, th) {
        const half = Math.max(2, (X(1) - X(0)) * 0.2);
        for (let i = 0; i < RANK; i++) {
          ctx.fillStyle = BEFORE;
          ctx.fillRect(X(i + 1) - 2 * half, Y(r.before[i]), 1.8 * half, Y(0) - Y(r.before[i]));
          ctx.fillStyle = after;
          ctx.fillRect(X(i + 1) + 0.2 * half, Y(Math.min(r.paired[i], 1.3)), 1.8 * half, Y(0) - Y(Math.min(r.paired[i], 1.3)));
        }
        ctx.setLineDash([5, 4]);
        ctx.strokeStyle = th.fg;
        ctx.lineWidth = 1;
        ctx.beginPath();
        ctx.moveTo(X(0.5), Y(1));
        ctx.lineTo(X(RANK + 0.5), Y(1));
        ctx.stroke();
        ctx.setLineDash([]);
      },
    });
    const sMin = 1e-5;
    map.render({
      x: { min: sMin, max: 1, log: true, label: "s = σ/‖G‖_F (log scale)" },
      y: { min: 0, max: 1.3, label: "φ(s)" },
      legend: [
        { label: `φ after ${k} step${k === 1 ? "" : "s"} (rings: G's values)`, color: after },
        { label: "no change (φ = s)", color: BEFORE, dash: [4, 4], width: 1.5 },
      ],
      draw(ctx, X, Y, th) {
        const pts = [];
        const ident = [];
        for (let i = 0; i <= 240; i++) {
          const s = sMin * (1 / sMin) ** (i / 240);
          pts.push([s, Math.min(spectralMap(s, r.coefficients, k), 2)]);
          ident.push([s, s]);
        }
        map.path(ctx, ident, X, Y, { color: BEFORE, dash: [4, 4], width: 1.5, end: false });
        map.path(ctx, pts, X, Y, { color: after, width: 2, end: false });
        r.before.forEach((s, i) => {
          if (s >= sMin) map.marker(ctx, s, Math.min(r.paired[i], 1.3), X, Y, { color: th.fg, shape: "o", size: 4, width: 1.5 });
        });
      },
    });
    const span = (v) => `${sig(Math.min(...v))} to ${sig(Math.max(...v))}`;
    out.set([
      ["coefficients (a, b, c)", fmtCoefficients(r.coefficients), "coefficients"],
      ["before: σ/‖G‖_F", span(r.before), "before"],
      [`after ${k} step${k === 1 ? "" : "s"}`, span(r.after), "after"],
      ["stable rank before → after (of 8)", `${sig(r.rankBefore)} → ${sig(r.rankAfter)}`, "rank"],
      ["largest |s − 1| after", sig(r.distance), "distance"],
    ]);
    w.say(`After ${k} Newton–Schulz step${k === 1 ? "" : "s"} with ${which.value === "muon" ? "Muon's" : "the cubic"} coefficients, `
      + `the singular values run from ${span(r.after)} (before: ${span(r.before)}); stable rank ${sig(r.rankBefore)} → ${sig(r.rankAfter)} of 8.`);
  });
  w.start();
}
