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

export function lineRefundable(order: Pick<OrderRow, 'status'>, line: LineRow): { quantity: number; amount: bigint } {
  if (!REFUNDABLE_STATUSES.includes(order.status)) return { quantity: 0, amount: 0n };
  const quantity = line.quantity - line.refundedQuantity;
  const share = lineRefundShare(refundableLine(line), quantity);
  return { quantity, amount: share.amount };
}

export function refundableLine(line: LineRow) {
  return {
    quantity: line.quantity,
    refundedQuantity: line.refundedQuantity,
    gross: line.grossAmount,
    discount: line.discountAmount,
    tax: line.taxAmount,
    exclusiveTax: line.exclusiveTaxAmount,
  };
}

/** Amount refunds (not tied to items) are recorded by the refunds feature; until then there are none. */
export interface AmountRefund {
  amount: bigint;
  tax: bigint;
}

export function orderNetAmounts(order: OrderRow, lines: LineRow[], amountRefunds: AmountRefund[] = []): NetAmounts {
  return netAmounts({
    subtotal: order.subtotalAmount,
    discount: order.discountAmount,
    tax: order.taxAmount,
    total: order.totalAmount,
    refundedLineShares: lines
      .filter((l) => l.refundedQuantity > 0)
      .map((l) => lineRefundShare({ ...refundableLine(l), refundedQuantity: 0 }, l.refundedQuantity)),
    amountRefunds,
    paid: order.paidAmount,
    refunded: order.refundedAmount,
  });
}

export function orderFacts(order: OrderRow, lines: LineRow[]): OrderFacts {
  const net = orderNetAmounts(order, lines);
  const refundable = REFUNDABLE_STATUSES.includes(order.status) ? order.paidAmount - order.refundedAmount : 0n;
  const discounts = (order.discounts as unknown[] | null) ?? [];
  return {
    status: order.status,
    lineItemCount: lines.length,
    balance: net.balance,
    hasSucceededPayment: order.paidAmount > 0n,
    refundable: refundable > 0n ? refundable : 0n,
    hasAppliedCoupons: discounts.length > 0,
  };
}

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
  const units = lines.reduce((n, l) => n + l.quantity, 0);
  const items =
    lines.length === 0
      ? 'No items'
      : `${units} item${units === 1 ? '' : 's'} (${lines.map((l) => `${l.name} ×${l.quantity}`).join(', ')})`;
  const parts = [items];
  switch (order.status) {
    case 'OPEN':
      parts.push(`total ${formatMoney(net.total, c)}`, `${formatMoney(net.balance, c)} due`, 'open for changes');
      break;
    case 'CANCELED':
      parts.push(`total ${formatMoney(order.totalAmount, c)}`, 'canceled, nothing was charged');
      break;
    default: {
      parts.push(`${formatMoney(order.paidAmount, c)} paid`);
      if (order.refundedAmount > 0n) parts.push(`${formatMoney(order.refundedAmount, c)} refunded`);
      const refundable = REFUNDABLE_STATUSES.includes(order.status) ? order.paidAmount - order.refundedAmount : 0n;
      parts.push(order.status === 'CLOSED' ? 'closed' : `up to ${formatMoney(refundable > 0n ? refundable : 0n, c)} refundable`);
    }
  }
  return `${parts.join(', ')}.`;
}
