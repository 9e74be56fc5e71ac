// Reading an order: net amounts, refundable amounts, facts for the lifecycle, the summary sentence.
// Everything here is derived from the stored (priced) rows through the pure pricing engine.
import {
  evaluateActions,
  formatMoney,
  lineRefundShare,
  netAmounts,
  type Guarded,
  type NetAmounts,
  type OrderFacts,
  type OrderStatus,
} from '../pricing/index.js';
import type { LineItem, Order } from '../generated/prisma/client.js';

export type OrderRow = Order;
export type LineRow = LineItem;

export const REFUNDABLE_STATUSES: OrderStatus[] = ['PAID', 'PARTIALLY_REFUNDED'];

// --- refunds (issue 5) ---
// Refund bookkeeping lives in columns kept current by src/refunds/bookkeeping.ts in the same writes:
//   LineItem.refundedQuantity (SUCCEEDED units), pendingRefundQuantity (PENDING units),
//   reservedRefundAmount (Σ amount shares of SUCCEEDED + PENDING refunds of the line);
//   Order.refundedAmount / refundedSubtotalAmount / refundedDiscountAmount / refundedTaxAmount
//   (SUCCEEDED refunds), pendingRefundAmount (PENDING refunds).
// A PENDING refund is reserved (it counts against what is refundable) but not refunded (netAmounts and
// the status count SUCCEEDED refunds only). `?? 0` keeps hand-built rows without these columns working.

/** What can still be refunded of a line: units not refunded nor held by a pending refund, and their exact shares. */
export function lineRefundable(order: Pick<OrderRow, 'status'>, line: LineRow): { quantity: number; amount: bigint } {
  if (!REFUNDABLE_STATUSES.includes(order.status)) return { quantity: 0, amount: 0n };
  const quantity = line.quantity - line.refundedQuantity - (line.pendingRefundQuantity ?? 0);
  if (quantity <= 0) return { quantity: 0, amount: 0n };
  // f(q) of §7 for the amount, minus what earlier refunds of the line took: refunding the rest returns exactly this.
  const whole = lineRefundShare(refundableLine(line, 0), line.quantity).amount;
  return { quantity, amount: whole - (line.reservedRefundAmount ?? 0n) };
}

/** The line as the refund arithmetic sees it; `refundedQuantity` defaults to the units already taken (succeeded + pending). */
export function refundableLine(line: LineRow, refundedQuantity = line.refundedQuantity + (line.pendingRefundQuantity ?? 0)) {
  return {
    quantity: line.quantity,
    refundedQuantity,
    gross: line.grossAmount,
    discount: line.discountAmount,
    tax: line.taxAmount,
    exclusiveTax: line.exclusiveTaxAmount,
  };
}

/** Extra amount refunds to net out (e.g. a refund being previewed), on top of the recorded ones. */
export interface AmountRefund {
  amount: bigint;
  tax: bigint;
}

/**
 * netAmounts (§6) net of SUCCEEDED refunds. The order row carries their sums: line refunds' shares of
 * gross and discount, the tax of every refund and the amount of every refund; they enter netAmounts as
 * one combined share (it only subtracts, so this equals subtracting each refund in turn).
 */
export function orderNetAmounts(order: OrderRow, _lines: LineRow[], amountRefunds: AmountRefund[] = []): NetAmounts {
  const refunded = order.refundedAmount ?? 0n;
  return netAmounts({
    subtotal: order.subtotalAmount,
    discount: order.discountAmount,
    tax: order.taxAmount,
    total: order.totalAmount,
    refundedLineShares: [
      {
        gross: order.refundedSubtotalAmount ?? 0n,
        discount: order.refundedDiscountAmount ?? 0n,
        tax: order.refundedTaxAmount ?? 0n,
        exclusiveTax: 0n,
        amount: refunded,
      },
    ],
    amountRefunds,
    paid: order.paidAmount,
    refunded: refunded + amountRefunds.reduce((sum, a) => sum + a.amount, 0n),
  });
}

/** The most any refund can return now: paid − refunded − pending (0 unless PAID or PARTIALLY_REFUNDED). */
export function orderRefundableAmount(order: Pick<OrderRow, 'status' | 'paidAmount' | 'refundedAmount' | 'pendingRefundAmount'>): bigint {
  if (!REFUNDABLE_STATUSES.includes(order.status)) return 0n;
  const left = order.paidAmount - (order.refundedAmount ?? 0n) - (order.pendingRefundAmount ?? 0n);
  return left > 0n ? left : 0n;
}
// --- end refunds

export function orderFacts(order: OrderRow, lines: LineRow[]): OrderFacts {
  const net = orderNetAmounts(order, lines);
  const discounts = (order.discounts as unknown[] | null) ?? [];
  return {
    status: order.status,
    lineItemCount: lines.length,
    balance: net.balance,
    hasSucceededPayment: order.paidAmount > 0n,
    refundable: orderRefundableAmount(order),
    hasAppliedCoupons: discounts.length > 0,
  };
}

// --- coupons (issue 3) ---
/** Attached coupons taking nothing because the gross subtotal is below their minimum (annotated when priced). */
export function couponShortfalls(order: Pick<OrderRow, 'discounts'>): { code: string; shortfall: bigint; minimum: bigint }[] {
  const discounts = (order.discounts as { code?: string; qualified?: boolean; shortfall?: number; minimumSubtotal?: number }[] | null) ?? [];
  return discounts
    .filter((d) => d.qualified === false && typeof d.shortfall === 'number' && typeof d.minimumSubtotal === 'number')
    .map((d) => ({ code: d.code ?? '', shortfall: BigInt(d.shortfall!), minimum: BigInt(d.minimumSubtotal!) }));
}

/** "coupon SAVE10 needs 12.00 USD more to apply (minimum 50.00 USD)", one per coupon whose minimum is not met. */
export function couponShortfallNotes(order: Pick<OrderRow, 'discounts' | 'currency'>): string[] {
  return couponShortfalls(order).map(
    (s) => `coupon ${s.code} needs ${formatMoney(s.shortfall, order.currency)} more to apply (minimum ${formatMoney(s.minimum, order.currency)})`,
  );
}
// --- end coupons

export function orderActions(order: OrderRow, lines: LineRow[]): Guarded[] {
  return evaluateActions(orderFacts(order, lines));
}

/**
 * One deterministic sentence: what was bought, what was paid, what is refundable. E.g.
 * "2 items (Organic Coffee Beans ×2, Ceramic Pour-Over Mug ×1), 69.34 USD paid by card, 21.70 USD refunded, up to 47.64 USD refundable".
 */
export function orderSummary(order: OrderRow, lines: LineRow[]): string {
  const c = order.currency;
  const net = orderNetAmounts(order, lines);
  // "items" are the order's lines (products); each shows its quantity.
  const items =
    lines.length === 0
      ? 'No items'
      : `${lines.length} item${lines.length === 1 ? '' : 's'} (${lines.map((l) => `${l.name} ×${l.quantity}`).join(', ')})`;
  const parts = [items];
  switch (order.status) {
    case 'OPEN':
      parts.push(`total ${formatMoney(net.total, c)}`, `${formatMoney(net.balance, c)} due`, 'open for changes');
      parts.push(...couponShortfallNotes(order));
      break;
    case 'CANCELED':
      parts.push(`total ${formatMoney(order.totalAmount, c)}`, 'canceled, nothing was charged');
      break;
    default: {
      // Every payment Flint takes is a card payment (sandbox or Stripe card tokens).
      parts.push(`${formatMoney(order.paidAmount, c)} paid by card`);
      if (order.refundedAmount !== 0n) parts.push(`${formatMoney(order.refundedAmount, c)} refunded`);
      if ((order.pendingRefundAmount ?? 0n) > 0n) parts.push(`${formatMoney(order.pendingRefundAmount, c)} refund pending`);
      parts.push(order.status === 'CLOSED' ? 'closed' : `up to ${formatMoney(orderRefundableAmount(order), c)} refundable`);
    }
  }
  return `${parts.join(', ')}.`;
}

/** An applied discount as stored on Order.discounts (priced JSON; amounts are minor units). */
export interface StoredDiscount {
  couponId?: string;
  code?: string;
  name?: string;
  type?: 'PERCENTAGE' | 'FIXED_AMOUNT';
  amount?: number;
}

/** A tax line as stored on Order.taxes / LineItem.taxes. */
export interface StoredTaxLine {
  name: string;
  jurisdiction: string;
  rate: string;
  inclusive: boolean;
  taxable: number;
  tax: number;
}

/** The discounts of an order that took something off. */
export function takenDiscounts(order: Pick<OrderRow, 'discounts'>): StoredDiscount[] {
  return ((order.discounts as StoredDiscount[] | null) ?? []).filter((d) => (d.amount ?? 0) > 0);
}

export function storedTaxLines(json: unknown): StoredTaxLine[] {
  return (json as StoredTaxLine[] | null) ?? [];
}
