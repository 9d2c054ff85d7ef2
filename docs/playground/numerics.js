// Floating-point helpers that make the playground's float64 arithmetic equal to torch's on CPU.
//
// torch (2.13, CPU, float64) evaluates `y.add(x, alpha=a)`, `y.addcmul(t1, t2, value=v)` and
// `y.lerp(end, w)` with a fused multiply-add (one rounding), and JavaScript has no Math.fma.
// `fma(a, b, c)` below returns round(a * b + c) with a single rounding, built from exact
// error-free transformations (Dekker's product, Knuth's sum) and one addition rounded to odd
// (Boldo & Melquiond, "Emulation of FMA and correctly rounded sums: proved algorithms using
// rounding to odd", IEEE TC 2008). Over- and underflowing inputs fall back to a * b + c.

const SPLITTER = 134217729; // 2^27 + 1: Veltkamp's constant for 53-bit significands
const BITS = new Float64Array(1);
const WORDS = new Uint32Array(BITS.buffer); // WORDS[0]: low 32 bits of the double (little endian)
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const LOW = LITTLE_ENDIAN ? 0 : 1;
const HIGH = 1 - LOW;

/** a + b rounded to odd: exact if representable, else the neighbour with an odd last bit. */
function addRoundToOdd(a, b) {
  const s = a + b;
  const bb = s - a;
  const err = (a - (s - bb)) + (b - bb); // a + b = s + err exactly (Knuth's TwoSum)
  if (err === 0 || !Number.isFinite(s)) return s;
  BITS[0] = s;
  if (WORDS[LOW] & 1) return s; // s is already odd
  // move one ulp from s toward the exact value (s + err): that neighbour is odd
  const awayFromZero = (s > 0) === (err > 0);
  if (awayFromZero) {
    WORDS[LOW] += 1; // low bit is 0: no carry
  } else if (WORDS[LOW] === 0) {
    WORDS[LOW] = 0xffffffff;
    WORDS[HIGH] -= 1;
  } else {
    WORDS[LOW] -= 1;
  }
  return BITS[0];
}

/** round(a * b + c) with one rounding, like the C fma(). */
export function fma(a, b, c) {
  const p = a * b;
  const ap = Math.abs(p);
  if (!(ap < 1e300) || ap < 1e-280 || !(Math.abs(c) < 1e300) || !Number.isFinite(a) || !Number.isFinite(b)) {
    return p + c; // out of the error-free range (or NaN/Inf): no error term to recover
  }
  // Dekker: a * b = p + pErr exactly
  let t = SPLITTER * a;
  const aHi = t - (t - a);
  const aLo = a - aHi;
  t = SPLITTER * b;
  const bHi = t - (t - b);
  const bLo = b - bHi;
  const pErr = ((aHi * bHi - p) + aHi * bLo + aLo * bHi) + aLo * bLo;
  // Knuth: c + p = s + sErr exactly
  const s = c + p;
  const pp = s - c;
  const sErr = (c - (s - pp)) + (p - pp);
  // a * b + c = s + sErr + pErr: add the two small terms rounded to odd, then round once
  return s + addRoundToOdd(sErr, pErr);
}

/** Double-double product of (ah + al) and (bh + bl), returned in out[0] + out[1]. */
function ddMul(ah, al, bh, bl, out) {
  const p = ah * bh;
  const e = fma(ah, bh, -p) + (ah * bl + al * bh);
  const hi = p + e;
  out[0] = hi;
  out[1] = e - (hi - p);
}

const DD = new Float64Array(2);
const ACC = new Float64Array(2);

/**
 * base ** n for a whole number n >= 0, correctly rounded: Python's `beta ** t` (C pow, which is
 * correctly rounded for these arguments in practice) as used by Adam's bias corrections.
 * Exponentiation by squaring in double-double arithmetic (about 100 bits), then one rounding.
 */
export function powInt(base, n) {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`powInt: expected a whole n >= 0, got ${n}`);
  let rh = 1;
  let rl = 0;
  let bh = base;
  let bl = 0;
  let k = n;
  while (k > 0) {
    if (k & 1) {
      ddMul(rh, rl, bh, bl, ACC);
      rh = ACC[0];
      rl = ACC[1];
    }
    k = Math.floor(k / 2);
    if (k > 0) {
      ddMul(bh, bl, bh, bl, DD);
      bh = DD[0];
      bl = DD[1];
    }
  }
  return rh + rl;
}

/** torch's lerp(self, end, w) on CPU: two branches, each one fused multiply-add. */
export function lerp(self, end, w) {
  const diff = end - self;
  return Math.abs(w) < 0.5 ? fma(w, diff, self) : fma(-diff, 1 - w, end);
}
