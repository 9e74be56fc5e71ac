// Every payment status the record planner writes goes through the lifecycle table: for every status an
// intent can be in and every answer a processor can give, the planned write either changes nothing or
// moves the intent along a transition the table lists (a late success on FAILED/CANCELED included), and
// a transition the table does not list throws TransitionError. Pure: the planner is given the order it
// would otherwise read, and nothing here needs a database.
import { describe, expect, it } from 'vitest';
import { planChargeRecord } from '../../src/payments/record-charge.js';
import type { ChargeResult } from '../../src/kernel/processor.js';
import { paymentStatusAfter, TransitionError } from '../../src/kernel/transitions.js';
import { checkPaymentTransition, type PaymentIntentStatus } from '../../src/pricing/index.js';
import type { Deps } from '../../src/kernel/context.js';
import type { LineRow, OrderRow } from '../../src/orders/order-model.js';
import type { PaymentIntent as PaymentIntentRow } from '../../src/generated/prisma/client.js';

const at = new Date('2026-12-04T12:00:00.000Z');
const deps = { db: {} as Deps['db'], clock: { now: () => at } } as Deps;

const order = {
  id: 'ord_1',
  merchantId: 'mer_1',
  livemode: false,
  status: 'OPEN',
  currency: 'USD',
  customerId: null,
  buyerEmail: null,
  version: 3,
  subtotalAmount: 1000n,
  discountAmount: 0n,
  taxAmount: 0n,
  exclusiveTaxAmount: 0n,
  totalAmount: 1000n,
  taxes: [],
  discounts: [],
  paidAmount: 0n,
  refundedAmount: 0n,
  createdAt: at,
  updatedAt: at,
} as unknown as OrderRow;
const lines = [{ id: 'li_1', orderId: 'ord_1', name: 'Tea', quantity: 1, unitPriceAmount: 1000n, grossAmount: 1000n, discountAmount: 0n, taxAmount: 0n, exclusiveTaxAmount: 0n, totalAmount: 1000n, refundedQuantity: 0 }] as unknown as LineRow[];

function intent(status: PaymentIntentStatus): PaymentIntentRow {
  return {
    id: 'pi_1',
    merchantId: 'mer_1',
    livemode: false,
    orderId: 'ord_1',
    amount: 1000n,
    currency: 'USD',
    customerId: null,
    status,
    processor: 'SANDBOX',
    processorIdempotencyKey: 'flint_pi_pi_1_attempt',
    processorReference: 'sbch_1',
    paymentSourceToken: 'tok_visa',
    nextActionUrl: null,
    failureCode: null,
    declineCode: null,
    failureMessage: null,
    refundedAmount: 0n,
    receiptEmail: null,
    receiptSentAt: null,
    requestKey: null,
    checkoutSessionId: null,
    createdAt: at,
    updatedAt: at,
  };
}

const STATUSES: PaymentIntentStatus[] = ['PROCESSING', 'REQUIRES_ACTION', 'SUCCEEDED', 'FAILED', 'CANCELED'];
const ANSWERS: ChargeResult[] = [
  { status: 'SUCCEEDED', processorReference: 'sbch_1' },
  { status: 'REQUIRES_ACTION', processorReference: 'sbch_1', actionUrl: 'http://127.0.0.1/sandbox/3ds/sbch_1' },
  { status: 'PROCESSING', processorReference: 'sbch_2' },
  { status: 'FAILED', processorReference: 'sbch_1', kind: 'DECLINED', failureCode: 'card_declined', declineCode: 'generic_decline', failureMessage: 'Your card was declined.' },
  { status: 'CANCELED', processorReference: 'sbch_1' },
  { status: 'UNKNOWN', message: 'timeout' },
];

describe('payment status writes go through the table', () => {
  it('a transition the table does not list throws TransitionError', () => {
    expect(() => paymentStatusAfter('SUCCEEDED', 'FAILED')).toThrow(TransitionError);
    expect(() => paymentStatusAfter('FAILED', 'PROCESSING')).toThrow(TransitionError);
    expect(() => paymentStatusAfter('CANCELED', 'REQUIRES_ACTION')).toThrow(TransitionError);
    expect(paymentStatusAfter('FAILED', 'SUCCEEDED')).toBe('SUCCEEDED');
  });

  for (const from of STATUSES) {
    for (const answer of ANSWERS) {
      it(`${from} + ${answer.status}: only a listed transition, guarded by the status it changes from`, async () => {
        const plan = await planChargeRecord(deps, intent(from), answer, at, { actor: { type: 'SYSTEM', id: null, name: 'test' } }, { order, lines });
        expect(checkPaymentTransition(from, plan.after.status as PaymentIntentStatus)).toBeNull();
        const settled = from === 'SUCCEEDED' || from === 'FAILED' || from === 'CANCELED';
        if (settled && !(answer.status === 'SUCCEEDED' && from !== 'SUCCEEDED')) expect(plan.changed).toBe(false);
        if (answer.status === 'SUCCEEDED') expect(plan.after.status).toBe('SUCCEEDED');
        if (answer.status === 'UNKNOWN') expect(plan.write).toBeNull();
        if (plan.changed) {
          expect(plan.write!.guards).toContainEqual({ table: 'PaymentIntent', id: 'pi_1', match: { status: from } });
          expect(plan.write!.guards).toContainEqual({ table: 'Order', id: 'ord_1', match: { version: 3, status: 'OPEN' } });
        }
      });
    }
  }

  it('a late success on a FAILED intent pays the order: PAID through the order table, version + 1', async () => {
    const plan = await planChargeRecord(deps, intent('FAILED'), { status: 'SUCCEEDED', processorReference: 'sbch_1' }, at, { actor: { type: 'SYSTEM', id: null, name: 'test' } }, { order, lines });
    expect(plan.changed).toBe(true);
    expect(plan.order!.order).toMatchObject({ status: 'PAID', paidAmount: 1000n, version: 4 });
    expect(plan.write!.activity.map((a) => a.type)).toEqual(['payment.captured', 'order.status_changed']);
  });
});
