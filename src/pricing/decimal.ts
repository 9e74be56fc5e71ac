/**
 * Exact decimal strings → fractions (pricing.md §1: rates and percentages are decimal strings parsed
 * into exact fractions; no float ever touches them).
 */

export interface Fraction {
  num: bigint;
  den: bigint;
}

/**
 * Accepted: one or more ASCII digits, optionally followed by "." and one or more digits:
 * "0", "7", "100", "0.0725", "12.5", "007.50".
 *
 * Rejected (null): "" and anything with a sign ("-1", "+1"), exponent ("1e3"), whitespace (" 1"),
 * a bare or trailing point (".5", "5.", "."), separators ("1,5", "1_000"), non-ASCII digits,
 * "NaN"/"Infinity". ".5" and "5." are rejected on purpose: a rate is written the way it is shown
 * back to the merchant, and a leading digit removes any doubt about a typo.
 *
 * The result is in lowest terms with a positive denominator ("0.50" → 1/2, "0" → 0/1).
 */
const DECIMAL = /^([0-9]+)(?:\.([0-9]+))?$/;
/** Guard against absurd inputs (a rate string is user input); 40 significant chars is plenty. */
const MAX_LENGTH = 40;

export function parseDecimal(s: string): Fraction | null {
  if (typeof s !== 'string' || s.length > MAX_LENGTH) return null;
  const m = DECIMAL.exec(s);
  if (!m) return null;
  const intPart = m[1] ?? '';
  const fracPart = m[2] ?? '';
  const num = BigInt(intPart + fracPart);
  const den = 10n ** BigInt(fracPart.length);
  const g = gcd(num, den);
  return { num: num / g, den: den / g };
}

function gcd(a: bigint, b: bigint): bigint {
  let x = a < 0n ? -a : a;
  let y = b < 0n ? -b : b;
  while (y !== 0n) [x, y] = [y, x % y];
  return x === 0n ? 1n : x;
}

/** A tax rate: a decimal with 0 ≤ rate < 1 ("0" = exempt, "0.0725" = 7.25 %). */
export function isValidRate(s: string): boolean {
  const f = parseDecimal(s);
  return f !== null && f.num < f.den;
}

/** A coupon percentage: a decimal with 0 < p ≤ 100 ("15", "12.5", "100"). */
export function isValidPercent(s: string): boolean {
  const f = parseDecimal(s);
  return f !== null && f.num > 0n && f.num <= 100n * f.den;
}

/** True when both strings denote the same exact number ("0.07" and "0.070"). */
export function sameDecimal(a: string, b: string): boolean {
  const x = parseDecimal(a);
  const y = parseDecimal(b);
  return x !== null && y !== null && x.num === y.num && x.den === y.den;
}
