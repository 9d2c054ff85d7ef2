// Comparing page's live figure: the site's tuning protocol (optimessay/protocol.py) in JS, on the
// playground's walks (docs/playground/trajectory.js, equal to optimessay.trajectory to 1e-9).
//
// For one optimizer on one landscape: every lr of the grid (4 per decade, 1e-5 to 10, grown by a
// decade on a side while the winner sits on that edge, up to 3 times; AdamW at most 0.1/λ) runs from
// the 5 starts (the landscape's start and 4 at distance 0.1 on the diagonals); each run scores
// steps_to_tolerance (the first step from which the loss gap stays ≤ tol × its start value; a run
// that never gets there scores budget + 1 + log10(final gap / tol)); an lr scores the median of its 5
// (inf if any diverged); the lowest median wins, ties to the smaller lr. Same rules, same order, as
// protocol.tune / tune_landscape; tests/js/widgets-newer-pages.test.mjs checks the winner and every median against them.

import { getLandscape, radians } from "../playground/landscapes.js";
import { run } from "../playground/trajectory.js";

export const SITE = Object.freeze({ lrMin: 1e-5, lrMax: 10, perDecade: 4, maxExtensions: 3, nStarts: 5, radius: 0.1 });

/** The comparisons' seven contestants (scripts/figures/_shared.py CONTESTANTS): kind and fixed kwargs. */
export const CONTESTANTS = Object.freeze({
  sgd: { name: "SGD", kind: "sgd", fixed: {} },
  momentum: { name: "Momentum 0.9", kind: "sgd", fixed: { momentum: 0.9 } },
  nesterov: { name: "Nesterov 0.9", kind: "sgd", fixed: { momentum: 0.9, nesterov: true } },
  rmsprop: { name: "RMSprop", kind: "rmsprop", fixed: {} },
  adam: { name: "Adam", kind: "adam", fixed: {} },
  adamw: { name: "AdamW", kind: "adamw", fixed: { weight_decay: 0.01 } },
  adagrad: { name: "Adagrad", kind: "adagrad", fixed: {} },
});

/** The Comparing page's three races (scripts/figures/comparing.py): landscape and budget. */
export const RACES = Object.freeze({
  banana: { name: "banana (Rosenbrock), 300 steps", landscape: () => getLandscape("rosenbrock"), steps: 300 },
  himmelblau: { name: "Himmelblau, 200 steps", landscape: () => getLandscape("himmelblau"), steps: 200 },
  quadratic: { name: "quadratic κ = 50, θ = 30°, 200 steps", landscape: () => getLandscape("quadratic", { kappa: 50, theta: radians(30) }), steps: 200 },
});

/** protocol._grid_lr: 10^(k/perDecade) rounded to 12 significant digits (1e-3, not 0.0010000000000000002). */
export const gridLr = (k, perDecade) => +(10 ** (k / perDecade)).toPrecision(12);

/** protocol.lr_grid. */
export function lrGrid(lrMin, lrMax, perDecade = 4) {
  const lo = Math.round(Math.log10(lrMin) * perDecade);
  const hi = Math.round(Math.log10(lrMax) * perDecade);
  const out = [];
  for (let k = lo; k <= hi; k++) out.push(gridLr(k, perDecade));
  return out;
}

/** protocol.starts_around. */
export function startsAround(start, n = SITE.nStarts, radius = SITE.radius) {
  const out = [[start[0], start[1]]];
  for (let k = 0; k < n - 1; k++) {
    const a = Math.PI / 4 + (2 * Math.PI * k) / Math.max(1, n - 1);
    out.push([start[0] + radius * Math.cos(a), start[1] + radius * Math.sin(a)]);
  }
  return out;
}

/** protocol.steps_to_tolerance(tol, fStar, relative=true) on one loss curve (inf if any value is not finite). */
export function stepsToTolerance(losses, tol, fStar = 0) {
  for (const v of losses) if (!Number.isFinite(v)) return Infinity;
  const bound = tol * (losses[0] - fStar);
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

/** statistics.median, or inf when any score is not finite (protocol._aggregate). */
export function aggregate(scores) {
  if (!scores.every(Number.isFinite)) return Infinity;
  const s = [...scores].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/**
 * The protocol for contestant `key` on race `raceKey` with relative tolerance `tol`. Returns
 * {lr, score, onEdge, extended: [below, above], table: [{lr, median, scores}] ascending by lr,
 * lrLimit, steps}. Every walk is trajectory.js's run; a walk that diverged scores inf.
 */
export function tune(key, raceKey, tol = 1e-6) {
  const c = CONTESTANTS[key];
  const race = RACES[raceKey];
  if (!c) throw new RangeError(`optimizer "${key}": expected one of ${Object.keys(CONTESTANTS).join(", ")}`);
  if (!race) throw new RangeError(`race "${raceKey}": expected one of ${Object.keys(RACES).join(", ")}`);
  if (!(Number.isFinite(tol) && tol > 0)) throw new RangeError(`tol=${tol}: expected a positive finite number`);
  const land = race.landscape();
  const starts = startsAround(land.start);
  const fStar = land.value(land.minima[0][0], land.minima[0][1]);
  const pd = SITE.perDecade;
  const lrLimit = key === "adamw" ? 0.1 / c.fixed.weight_decay : null;
  const allowed = (lr) => lrLimit === null || lr <= lrLimit * (1 + 1e-12);
  const scores = new Map();
  const evaluate = (lrs) => {
    for (const lr of lrs) {
      if (scores.has(lr) || !allowed(lr)) continue;
      scores.set(lr, starts.map((start) => {
        const walk = run(land, c.kind, { ...c.fixed, lr }, { start, steps: race.steps });
        return walk.divergedAt !== null ? Infinity : stepsToTolerance(walk.losses, tol, fStar);
      }));
    }
  };
  evaluate(lrGrid(SITE.lrMin, SITE.lrMax, pd).filter(allowed));
  let below = 0;
  let above = 0;
  let medians;
  let best;
  for (;;) {
    medians = new Map([...scores].map(([lr, s]) => [lr, aggregate(s)]));
    const lrs = [...scores.keys()].sort((a, b) => a - b);
    best = lrs.reduce((b, lr) => (medians.get(lr) < medians.get(b) ? lr : b), lrs[0]); // ties: the smaller lr
    const lo = lrs[0];
    const hi = lrs[lrs.length - 1];
    const atLimit = lrLimit !== null && gridLr(Math.round(Math.log10(hi) * pd) + 1, pd) > lrLimit * (1 + 1e-12);
    if (best === lo && below < SITE.maxExtensions && Number.isFinite(medians.get(best))) {
      const k = Math.round(Math.log10(lo) * pd);
      evaluate(Array.from({ length: pd }, (_, j) => gridLr(k - j - 1, pd)));
      below += 1;
    } else if (best === hi && above < SITE.maxExtensions && !atLimit && Number.isFinite(medians.get(best))) {
      const k = Math.round(Math.log10(hi) * pd);
      evaluate(Array.from({ length: pd }, (_, j) => gridLr(k + j + 1, pd)));
      above += 1;
    } else break;
  }
  const lrs = [...scores.keys()].sort((a, b) => a - b);
  return {
    lr: best,
    score: medians.get(best),
    onEdge: best === lrs[0] || best === lrs[lrs.length - 1],
    extended: [below, above],
    table: lrs.map((lr) => ({ lr, median: medians.get(lr), scores: scores.get(lr) })),
    lrLimit,
    steps: race.steps,
    fStar,
  };
}
