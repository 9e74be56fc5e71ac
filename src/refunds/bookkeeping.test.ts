// moveRefund as a pure function: what each move does to the reservation, the lines, the order's sums,
// and the order's status through the lifecycle table (REFUND_SUCCEEDED, REFUND_REVERSED).
import { describe, expect, it } from 'vitest';
import type { LineRow, OrderRow } from '../orders/order-model.js';
import { TransitionError } from '../kernel/transitions.js';
import { bookOps, moveRefund, type Books } from './bookkeeping.js';
import type { PaymentIntentRow, RefundWithLines } from './model.js';

const order = (status: OrderRow['status'], refunded: bigint, pending = 0n): OrderRow =>
  ({
    id: 'ord_1',
    status,
    version: 7,
    paidAmount: 3000n,
    refundedAmount: refunded,
    pendingRefundAmount: pending,
    refundedSubtotalAmount: refunded,
    refundedDiscountAmount: 0n,
    refundedTaxAmount: 0n,
  }) as OrderRow;

const line = (refundedQuantity: number, pendingRefundQuantity = 0): LineRow =>
  ({ id: 'li_1', quantity: 2, refundedQuantity, pendingRefundQuantity, reservedRefundAmount: BigInt(1500 * (refundedQuantity + pendingRefundQuantity)) }) as LineRow;

const intent = (reserved: bigint): PaymentIntentRow => ({ id: 'pi_1', status: 'SUCCEEDED', amount: 3000n, refundedAmount: reserved }) as PaymentIntentRow;

const refund: RefundWithLines = {
  id: 're_1',
  paymentIntentId: 'pi_1',
  amount: 1500n,
  taxAmount: 0n,
  lineItems: [{ lineItemId: 'li_1', quantity: 1, grossAmount: 1500n, discountAmount: 0n, amount: 1500n }],
} as RefundWithLines;

const books = (o: OrderRow, l: LineRow, reserved: bigint): Books => ({ order: o, lines: [l], intents: new Map([['pi_1', intent(reserved)]]) });

describe('moveRefund', () => {
  it('reserving (none → pending) holds amount and units but leaves the status', () => {
    const after = moveRefund(books(order('PAID', 0n), line(0), 0n), refund, 'none', 'pending');
    expect(after.order).toMatchObject({ status: 'PAID', pendingRefundAmount: 1500n, refundedAmount: 0n });
    expect(after.lines[0]).toMatchObject({ pendingRefundQuantity: 1, refundedQuantity: 0, reservedRefundAmount: 1500n });
    expect(after.intents.get('pi_1')!.refundedAmount).toBe(1500n);
  });

  it('success (pending → succeeded) moves the reservation to refunded: PAID → PARTIALLY_REFUNDED → REFUNDED', () => {
    const first = moveRefund(books(order('PAID', 0n, 1500n), line(0, 1), 1500n), refund, 'pending', 'succeeded');
    expect(first.order).toMatchObject({ status: 'PARTIALLY_REFUNDED', pendingRefundAmount: 0n, refundedAmount: 1500n });
    expect(first.intents.get('pi_1')!.refundedAmount).toBe(1500n);
    const second = moveRefund(books(order('PARTIALLY_REFUNDED', 1500n, 1500n), line(1, 1), 3000n), refund, 'pending', 'succeeded');
    expect(second.order.status).toBe('REFUNDED');
  });

  it('a reversal (succeeded → none) gives everything back: REFUNDED → PARTIALLY_REFUNDED, PARTIALLY_REFUNDED → PAID (REFUND_REVERSED)', () => {
    const once = moveRefund(books(order('REFUNDED', 3000n), line(2), 3000n), refund, 'succeeded', 'none');
    expect(once.order).toMatchObject({ status: 'PARTIALLY_REFUNDED', refundedAmount: 1500n });
    expect(once.lines[0]).toMatchObject({ refundedQuantity: 1, reservedRefundAmount: 1500n });
    expect(once.intents.get('pi_1')!.refundedAmount).toBe(1500n);
    const twice = moveRefund(books(order('PARTIALLY_REFUNDED', 1500n), line(1), 1500n), refund, 'succeeded', 'none');
    expect(twice.order).toMatchObject({ status: 'PAID', refundedAmount: 0n });
  });

  it('a status the lifecycle table does not list is refused loudly', () => {
    // An order marked REFUNDED while nothing succeeded: a success cannot move it "back" to PARTIALLY_REFUNDED.
    expect(() => moveRefund(books(order('REFUNDED', 0n, 1500n), line(0, 1), 1500n), refund, 'pending', 'succeeded')).toThrow(TransitionError);
  });

  it('bookOps writes the order once (version + 1), the changed lines and the intent, guarded as read', () => {
    const before = books(order('PAID', 0n, 1500n), line(0, 1), 1500n);
    const after = moveRefund(before, refund, 'pending', 'none');
    const at = new Date('2026-12-04T12:00:00Z');
    const { ops, guards, order: written } = bookOps(before, after, at);
    expect(written).toMatchObject({ version: 8, updatedAt: at, status: 'PAID', pendingRefundAmount: 0n });
    expect(ops.map((o) => o.table)).toEqual(['Order', 'LineItem', 'PaymentIntent']);
    expect(guards).toEqual([
      { table: 'Order', id: 'ord_1', match: { version: 7, status: 'PAID' } },
      { table: 'PaymentIntent', id: 'pi_1', match: { status: 'SUCCEEDED', refundedAmount: 1500 } },
    ]);
  });
});
