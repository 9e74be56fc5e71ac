/** Refund arithmetic (pricing.md §6–§7). Pure; bigint minor units; roundHalfEven is the only rounding. */
import { roundHalfEven } from './rounding.js';

export interface RefundableLine {
  /** The line's (priced) quantity q. */
  quantity: number;
  /** Units r already refunded (succeeded refunds; callers that hold units for pending refunds count them too). */
  refundedQuantity: number;
  /** The priced line's amounts, over all q units (not net of refunds). */
  gross: bigint;
  discount: bigint;
  tax: bigint;
  exclusiveTax: bigint;
}

export interface LineRefundShare {
  gross: bigint;
  discount: bigint;
  /** Inclusive + exclusive tax given back: Refund.taxMoney. */
  tax: bigint;
  exclusiveTax: bigint;
  /** gross − discount + exclusiveTax: what the buyer gets back. */
  amount: bigint;
}

/**
 * Refunding k = `units` more units of a line of quantity q with r already refunded returns
 * f(r+k) − f(r) of each amount X, with f(n) = roundHalfEven(X × n / q) (§7). So refunding units one
 * at a time returns exactly what refunding them together would, and all q units return exactly the
 * line's gross, discount, tax and total.
 *
 * Throws RangeError unless q is a positive integer, 0 <= r, 1 <= k and r + k <= q (the API reports
 * REFUND_EXCEEDS_REFUNDABLE before calling this).
 *
 * Note: each amount is apportioned independently, as §7 prescribes, so for a single chunk the
 * discount share can exceed the gross share by one minor unit (e.g. gross 6, discount 5, q 4: the
 * third unit returns gross 1, discount 2). Totals over all units are always exact.
 */
export function lineRefundShare(line: RefundableLine, units: number): LineRefundShare {
  const { quantity: q, refundedQuantity: r } = line;
  if (!Number.isSafeInteger(q) || q <= 0) throw new RangeError('lineRefundShare: quantity must be a positive integer');
  if (!Number.isSafeInteger(r) || r < 0) throw new RangeError('lineRefundShare: refundedQuantity must be an integer >= 0');
  if (!Number.isSafeInteger(units) || units <= 0) throw new RangeError('lineRefundShare: units must be a positive integer');
  if (r + units > q) {
    throw new RangeError(`lineRefundShare: cannot refund ${units} more of ${q} units with ${r} already refunded`);
  }
  const Q = BigInt(q);
  const before = BigInt(r);
  const after = BigInt(r + units);
  const f = (x: bigint, n: bigint): bigint => roundHalfEven(x * n, Q);
  const share = (x: bigint): bigint => f(x, after) - f(x, before);
  const gross = share(line.gross);
  const discount = share(line.discount);
  const tax = share(line.tax);
  const exclusiveTax = share(line.exclusiveTax);
  return { gross, discount, tax, exclusiveTax, amount: gross - discount + exclusiveTax };
}

/**
 * Tax part of an amount refund A (tax included), §7: roundHalfEven(A × remainingTax / remainingTotal),
 * never more than remainingTax and never below 0; 0 when remainingTotal is 0 (or less).
 * "Remaining" = the order's net tax / total after earlier refunds. Stripe's example: 25 of 100 + 25
 * tax → 5.
 */
export function amountRefundTax(amount: bigint, remainingTax: bigint, remainingTotal: bigint): bigint {
  if (remainingTotal <= 0n || remainingTax <= 0n || amount <= 0n) return 0n;
  const tax = roundHalfEven(amount * remainingTax, remainingTotal);
  return tax > remainingTax ? remainingTax : tax;
}

export interface NetAmountsInput {
  /** The priced order's amounts (over the full quantities, before refunds). */
  subtotal: bigint;
  discount: bigint;
  tax: bigint;
  total: bigint;
  /** Shares of succeeded line-item refunds. */
  refundedLineShares: LineRefundShare[];
  /** Succeeded amount refunds: amount (tax included) and its tax part. */
  amountRefunds: { amount: bigint; tax: bigint }[];
  /** Σ captured payments. */
  paid: bigint;
  /** Σ succeeded refunds (line and amount refunds alike). */
  refunded: bigint;
}

export interface NetAmounts {
  subtotal: bigint;
  discount: bigint;
  tax: bigint;
  total: bigint;
  paid: bigint;
  refunded: bigint;
  balance: bigint;
}

/**
 * Order netAmounts (§6, Square's net_amounts): subtotal/discount/tax/total net of line refunds; an
 * amount refund reduces total and tax only; balance = total − (paid − refunded). A refund lowers total
 * and raises refunded by the same amount, so a settled order stays at balance 0.
 */
export function netAmounts(i: NetAmountsInput): NetAmounts {
  let subtotal = i.subtotal;
  let discount = i.discount;
  let tax = i.tax;
  let total = i.total;
  for (const s of i.refundedLineShares) {
    subtotal -= s.gross;
    discount -= s.discount;
    tax -= s.tax;
    total -= s.amount;
  }
  for (const a of i.amountRefunds) {
    tax -= a.tax;
    total -= a.amount;
  }
  return { subtotal, discount, tax, total, paid: i.paid, refunded: i.refunded, balance: total - (i.paid - i.refunded) };
}
