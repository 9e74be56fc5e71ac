// Amounts past SafeInt are refused before anything uses them. The pricing engine computes in bigint and
// cannot overflow, but every amount Flint stores or returns must fit in 2^53 − 1 (JSON numbers, the
// SafeInt scalar, the audit trail). One check of the engine's whole result covers every amount it
// produced — subtotals, discounts, tax bases, tax, totals — for every write path that prices an order.
import { type UserError, userError } from './errors.js';
import type { Path } from './validation.js';

const MAX = BigInt(Number.MAX_SAFE_INTEGER);

function tooLarge(value: unknown, depth = 0): boolean {
  if (typeof value === 'bigint') return value > MAX || value < -MAX;
  if (depth > 8 || value === null || typeof value !== 'object') return false;
  return Object.values(value as Record<string, unknown>).some((v) => tooLarge(v, depth + 1));
}

/** INVALID_INPUT when any amount of a priced order (or anything holding amounts) is outside SafeInt. */
export function amountOverflowError(priced: unknown, field: Path): UserError | null {
  if (!tooLarge(priced)) return null;
  return userError(
    'INVALID_INPUT',
    `The order's amounts would exceed ${MAX} minor units (tax included), the largest amount Flint can represent exactly. Lower the quantities or prices, or split the order.`,
    field,
  );
}
