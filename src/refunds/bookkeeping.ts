// Moving a refund between "nothing", "pending" (reserved) and "succeeded" (reserved and refunded), as a
// pure change of the rows it touches: the payment intent's reservation (refundedAmount), the lines'
// units and reserved amounts, the order's sums and status. bookOps turns the rows before and after
// into the write's updates and guards, so every move is one guarded write, whoever makes it.
//
// Decisions:
// - The order's status follows SUCCEEDED refunds only (netAmounts.refundedMoney counts succeeded
//   refunds, and the status must agree with it): a PENDING refund reserves (Order.refundable,
//   PaymentIntent.refundableMoney and the lines' refundable units drop at once) but the order becomes
//   PARTIALLY_REFUNDED / REFUNDED only when the processor confirms (REFUND_SUCCEEDED), and goes back
//   when a processor reverses a success (REFUND_REVERSED) — both through the lifecycle table.
// - Units refunded for nothing (a §7 share of 0 or less) still make the order partially refunded.
// - A write that moves refunds bumps the order's version once, and is guarded by the version it was
//   planned on and by each intent's reservation as read.
import { orderRefundableAmount, type LineRow, type OrderRow } from '../orders/order-model.js';
import { amountsSnapshot, orderGuard, orderUpdate } from '../orders/order-state.js';
import { orderStatusAfter } from '../kernel/transitions.js';
import type { Guard, Op } from '../kernel/writer.js';
import { refundTargetStatus, type OrderStatus } from '../pricing/index.js';
import type { PaymentIntentRow, RefundStatus, RefundWithLines } from './model.js';

export type Bucket = 'none' | 'pending' | 'succeeded';

export function bucketOf(status: RefundStatus): Bucket {
  return status === 'PENDING' ? 'pending' : status === 'SUCCEEDED' ? 'succeeded' : 'none';
}

/** The rows a refund's bookkeeping lives in. */
export interface Books {
  order: OrderRow;
  lines: LineRow[];
  intents: Map<string, PaymentIntentRow>;
}

/** PAID / PARTIALLY_REFUNDED / REFUNDED as the succeeded refunds say (§8); other statuses stay. */
export function statusAfterRefunds(order: OrderRow, lines: LineRow[]): OrderStatus {
  if (!['PAID', 'PARTIALLY_REFUNDED', 'REFUNDED'].includes(order.status)) return order.status;
  if (order.refundedAmount > 0n && order.refundedAmount <= order.paidAmount) return refundTargetStatus(order.paidAmount, order.refundedAmount);
  if (order.refundedAmount !== 0n || lines.some((l) => l.refundedQuantity > 0)) return 'PARTIALLY_REFUNDED';
  return 'PAID';
}

/** The rows after moving `refund` from one bucket to another (the status through the lifecycle table). */
export function moveRefund(books: Books, refund: RefundWithLines, from: Bucket, to: Bucket): Books {
  const one = (b: Bucket, which: Bucket): bigint => (b === which ? 1n : 0n);
  const dPending = one(to, 'pending') - one(from, 'pending');
  const dSucceeded = one(to, 'succeeded') - one(from, 'succeeded');
  const dReserved = (to === 'none' ? 0n : 1n) - (from === 'none' ? 0n : 1n);
  const gross = refund.lineItems.reduce((s, l) => s + l.grossAmount, 0n);
  const discount = refund.lineItems.reduce((s, l) => s + l.discountAmount, 0n);

  const intents = new Map(books.intents);
  if (dReserved !== 0n) {
    const intent = intents.get(refund.paymentIntentId);
    if (!intent) throw new Error(`refund ${refund.id}: payment intent ${refund.paymentIntentId} was not read`);
    intents.set(intent.id, { ...intent, refundedAmount: intent.refundedAmount + dReserved * refund.amount });
  }
  const lines = books.lines.map((l) => {
    const r = refund.lineItems.find((x) => x.lineItemId === l.id);
    if (!r) return l;
    return {
      ...l,
      pendingRefundQuantity: l.pendingRefundQuantity + Number(dPending) * r.quantity,
      refundedQuantity: l.refundedQuantity + Number(dSucceeded) * r.quantity,
      reservedRefundAmount: l.reservedRefundAmount + dReserved * r.amount,
    };
  });
  const order = books.order;
  const moved: OrderRow = {
    ...order,
    pendingRefundAmount: order.pendingRefundAmount + dPending * refund.amount,
    refundedAmount: order.refundedAmount + dSucceeded * refund.amount,
    refundedSubtotalAmount: order.refundedSubtotalAmount + dSucceeded * gross,
    refundedDiscountAmount: order.refundedDiscountAmount + dSucceeded * discount,
    refundedTaxAmount: order.refundedTaxAmount + dSucceeded * refund.taxAmount,
  };
  const cause = to === 'succeeded' ? 'REFUND_SUCCEEDED' : from === 'succeeded' ? 'REFUND_REVERSED' : 'REFUND';
  const status = orderStatusAfter(order.status, cause, statusAfterRefunds(moved, lines));
  return { order: { ...moved, status }, lines, intents };
}

const ORDER_REFUND_COLUMNS = [
  'pendingRefundAmount',
  'refundedAmount',
  'refundedSubtotalAmount',
  'refundedDiscountAmount',
  'refundedTaxAmount',
  'status',
  'version',
  'updatedAt',
] as const satisfies readonly (keyof OrderRow)[];

/**
 * The updates and guards that take the rows from `before` to `after` (the order's version + 1), and the
 * order as written.
 */
export function bookOps(before: Books, after: Books, at: Date): { ops: Op[]; guards: Guard[]; order: OrderRow } {
  const order: OrderRow = { ...after.order, version: before.order.version + 1, updatedAt: at };
  const ops: Op[] = [orderUpdate(order, ORDER_REFUND_COLUMNS)];
  const guards: Guard[] = [orderGuard(before.order)];
  const lines = after.lines.filter((l, i) => {
    const b = before.lines[i];
    return !b || b.pendingRefundQuantity !== l.pendingRefundQuantity || b.refundedQuantity !== l.refundedQuantity || b.reservedRefundAmount !== l.reservedRefundAmount;
  });
  if (lines.length > 0) {
    ops.push({
      kind: 'update',
      table: 'LineItem',
      rows: lines.map((l) => ({ id: l.id, pendingRefundQuantity: l.pendingRefundQuantity, refundedQuantity: l.refundedQuantity, reservedRefundAmount: l.reservedRefundAmount })),
    });
  }
  const intents = [...after.intents.values()].filter((i) => before.intents.get(i.id)?.refundedAmount !== i.refundedAmount);
  if (intents.length > 0) {
    ops.push({ kind: 'update', table: 'PaymentIntent', rows: intents.map((i) => ({ id: i.id, refundedAmount: i.refundedAmount, updatedAt: at })) });
    for (const i of intents) {
      const read = before.intents.get(i.id)!;
      guards.push({ table: 'PaymentIntent', id: i.id, match: { status: read.status, refundedAmount: Number(read.refundedAmount) } });
    }
  }
  return { ops, guards, order };
}

// ---------------------------------------------------------------------------------------------
// Snapshots for audit deltas

export function net(order: OrderRow, lines: LineRow[]) {
  return amountsSnapshot(order, lines);
}

export function refundSnapshot(refund: RefundWithLines, lines: LineRow[]) {
  return {
    refundId: refund.id,
    paymentIntentId: refund.paymentIntentId,
    status: refund.status,
    reason: refund.reason,
    byLineItems: refund.byLineItems,
    amount: refund.amount,
    tax: refund.taxAmount,
    currency: refund.currency,
    lineItems: refund.lineItems.map((r) => ({
      lineItemId: r.lineItemId,
      name: lines.find((l) => l.id === r.lineItemId)?.name ?? null,
      quantity: r.quantity,
      gross: r.grossAmount,
      discount: r.discountAmount,
      tax: r.taxAmount,
      amount: r.amount,
    })),
  };
}

export function refundableSnapshot(order: OrderRow, lines: LineRow[], intentRefundable: bigint) {
  return {
    refundable: orderRefundableAmount(order),
    paymentIntentRefundable: intentRefundable,
    refundableQuantities: Object.fromEntries(lines.map((l) => [l.id, l.quantity - l.refundedQuantity - l.pendingRefundQuantity])),
  };
}
