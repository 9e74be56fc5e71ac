// Refunds through the Stripe processor (against the local fake Stripe in test/support/fake-stripe.ts) and
// Stripe's refund webhooks: the request Stripe receives (payment, amount, reason, metadata, our derived
// Idempotency-Key), refunds that stay pending and settle through refund.updated / charge.refunded (at
// most once, in any order: FAILED is final), Stripe refusing a refund, and a lost answer found again by
// our metadata instead of refunding twice.
import Stripe from 'stripe';
import { describe, expect, it } from 'vitest';
import { graphql } from '../generated/index.js';
import { useTestApi } from '../support/api.js';
import { useFakeStripe } from '../support/fake-stripe.js';

const SECRET = 'whsec_test_flint_refunds';

const stripe = useFakeStripe();
let now = new Date();
const api = useTestApi({ clock: { now: () => now }, deps: { paymentProcessor: stripe.processor, stripeWebhookSecret: SECRET } });

const CreateOrder = graphql(`
  mutation RefundsStripeCreateOrder($input: CreateOrderInput!) {
    createOrder(input: $input) { order { id lineItems { id } } userErrors { code } }
  }
`);

const PayOrder = graphql(`
  mutation RefundsStripePayOrder($input: PayOrderInput!) {
    payOrder(input: $input) { order { status } paymentIntent { id processorReference } userErrors { code message } }
  }
`);

const CreateRefund = graphql(`
  mutation RefundsStripeCreateRefund($input: CreateRefundInput!) {
    createRefund(input: $input) {
      refund { id status processorReference failureReason amountMoney { amount } }
      order { status netAmounts { refundedMoney { amount } } refundable { amountMoney { amount } } }
      userErrors { code message }
    }
  }
`);

const GetOrder = graphql(`
  query RefundsStripeGetOrder($id: ID!) {
    order(id: $id) {
      status
      netAmounts { refundedMoney { amount } }
      refundable { amountMoney { amount } }
      lineItems { refundableQuantity }
      refunds { id status processorReference failureReason }
      activity { type actor { type id } }
    }
  }
`);

async function paidWith(token: string) {
  const { key } = await api.signup();
  const order = (await api.exec(CreateOrder, { input: { lineItems: [{ name: 'Tea', quantity: 2, unitPriceMoney: { amount: 1500, currency: 'USD' } }] } }, key)).createOrder.order!;
  const paid = (await api.exec(PayOrder, { input: { orderId: order.id, paymentSourceTokens: [token] } }, key)).payOrder;
  expect(paid.userErrors).toEqual([]);
  return { key, orderId: order.id, lineId: order.lineItems[0]!.id, intentId: paid.paymentIntent!.id, stripeIntent: paid.paymentIntent!.processorReference! };
}

let seq = 0;
function event(type: string, object: Record<string, unknown>) {
  return { id: `evt_refunds_${++seq}_${Date.now()}`, object: 'event', type, livemode: false, created: Math.floor(now.getTime() / 1000), api_version: '2026-10-28.endive', data: { object } };
}

async function deliver(body: unknown) {
  const payload = JSON.stringify(body);
  const header = Stripe.webhooks.generateTestHeaderString({ payload, secret: SECRET, timestamp: Math.floor(now.getTime() / 1000) });
  const response = await fetch(`${api.url}/webhooks/stripe`, { method: 'POST', headers: { 'content-type': 'application/json', 'stripe-signature': header }, body: payload });
  return (await response.json()) as { outcome?: string; paymentIntentId?: string | null };
}

async function refund(key: string, input: Record<string, unknown>) {
  return (await api.exec(CreateRefund, { input: { reason: 'REFUND_REASON_REQUESTED_BY_CUSTOMER', ...input } as never }, key)).createRefund;
}

describe('refunds through Stripe', () => {
  it('sends the refund to Stripe with our derived Idempotency-Key, metadata and reason: SUCCEEDED with Stripe’s id', async () => {
    const { key, orderId, lineId, intentId, stripeIntent } = await paidWith('tok_visa');
    const r = await refund(key, { paymentIntentId: intentId, lineItems: [{ lineItemId: lineId, quantity: 1 }] });
    expect(r.userErrors).toEqual([]);
    expect(r.refund).toMatchObject({ status: 'SUCCEEDED', amountMoney: { amount: 1500 }, processorReference: expect.stringMatching(/^re_fake/) });
    expect(r.order).toMatchObject({ status: 'PARTIALLY_REFUNDED', netAmounts: { refundedMoney: { amount: 1500 } }, refundable: { amountMoney: { amount: 1500 } } });
    const sent = stripe.fake.requests.filter((x) => x.method === 'POST' && x.path === '/v1/refunds').at(-1)!;
    expect(sent.headers['idempotency-key']).toBe(`flint_re_${r.refund!.id}`);
    expect(sent.form).toMatchObject({
      payment_intent: stripeIntent,
      amount: '1500',
      reason: 'requested_by_customer',
      'metadata[flint_refund_id]': r.refund!.id,
      'metadata[flint_payment_intent_id]': intentId,
    });
    expect((await api.exec(GetOrder, { id: orderId }, key)).order!.refunds).toHaveLength(1);
  });

  it('a pending refund fails through refund.updated: given back once; duplicates and late events change nothing', async () => {
    const { key, orderId, lineId, intentId } = await paidWith('tok_refundFail');
    const r = await refund(key, { paymentIntentId: intentId, lineItems: [{ lineItemId: lineId, quantity: 2 }] });
    expect(r.refund).toMatchObject({ status: 'PENDING', amountMoney: { amount: 3000 } });
    expect(r.order).toMatchObject({ status: 'PAID', refundable: { amountMoney: { amount: 0 } } });
    const stripeRefund = stripe.fake.refunds.get(r.refund!.processorReference!)!;

    const failed = event('refund.updated', { ...stripeRefund, status: 'failed', failure_reason: 'expired_or_canceled_card' });
    expect(await deliver(failed)).toMatchObject({ outcome: 'applied', paymentIntentId: intentId });
    expect(await deliver(failed)).toMatchObject({ outcome: 'duplicate' });
    // Out of order: an older "pending", or a "succeeded", after the failure: FAILED is final.
    expect(await deliver(event('refund.updated', { ...stripeRefund, status: 'pending' }))).toMatchObject({ outcome: 'unchanged' });
    expect(await deliver(event('refund.updated', { ...stripeRefund, status: 'succeeded' }))).toMatchObject({ outcome: 'unchanged' });

    const order = (await api.exec(GetOrder, { id: orderId }, key)).order!;
    expect(order.status).toBe('PAID');
    expect(order.refunds).toEqual([{ id: r.refund!.id, status: 'FAILED', processorReference: stripeRefund.id, failureReason: 'expired_or_canceled_card' }]);
    expect(order.refundable.amountMoney.amount).toBe(3000);
    expect(order.lineItems[0]!.refundableQuantity).toBe(2);
    const failures = order.activity.filter((a) => a.type === 'refund.failed');
    expect(failures).toEqual([{ type: 'refund.failed', actor: { type: 'WEBHOOK', id: failed.id } }]);
  });

  it('a pending refund succeeds through charge.refunded: Flint asks Stripe about its pending refunds of that payment', async () => {
    const { key, orderId, intentId, stripeIntent } = await paidWith('tok_refundFail');
    const r = await refund(key, { paymentIntentId: intentId, amountMoney: { amount: 3000, currency: 'USD' } });
    expect(r.refund!.status).toBe('PENDING');
    stripe.fake.refunds.get(r.refund!.processorReference!)!.status = 'succeeded';
    const charge = { id: 'ch_fake_refunded', object: 'charge', amount: 3000, amount_refunded: 3000, refunded: true, payment_intent: stripeIntent };
    const delivered = event('charge.refunded', charge);
    expect(await deliver(delivered)).toMatchObject({ outcome: 'recorded', paymentIntentId: intentId });
    const order = (await api.exec(GetOrder, { id: orderId }, key)).order!;
    expect(order.status).toBe('REFUNDED');
    expect(order.netAmounts.refundedMoney.amount).toBe(3000);
    expect(order.refunds.map((x) => x.status)).toEqual(['SUCCEEDED']);
    expect(order.activity.filter((a) => a.type === 'refund.succeeded')).toEqual([{ type: 'refund.succeeded', actor: { type: 'WEBHOOK', id: delivered.id } }]);
    // The same news again, now carrying the refund itself: nothing more happens.
    expect(await deliver(event('refund.updated', stripe.fake.refunds.get(r.refund!.processorReference!)!))).toMatchObject({ outcome: 'unchanged' });
  });

  it('Stripe refusing a refund at once: FAILED with PAYMENT_FAILED, and the amount is refundable again', async () => {
    const { key, intentId, stripeIntent } = await paidWith('tok_visa');
    // Someone refunded part of the payment in Stripe's dashboard, behind Flint's back.
    stripe.fake.refunds.set('re_dashboard', { id: 're_dashboard', object: 'refund', amount: 2000, payment_intent: stripeIntent, status: 'succeeded', metadata: {} });
    const r = await refund(key, { paymentIntentId: intentId, amountMoney: { amount: 1500, currency: 'USD' } });
    expect(r.refund).toMatchObject({ status: 'FAILED', failureReason: 'amount_too_large', processorReference: null });
    expect(r.userErrors.map((e) => e.code)).toEqual(['PAYMENT_FAILED']);
    expect(r.userErrors[0]!.message).toContain('STRIPE refused refund');
    expect(r.order).toMatchObject({ status: 'PAID', refundable: { amountMoney: { amount: 3000 } } });
  });

  it('an answer lost after Stripe refunded is found again by our metadata on the next call, not refunded twice', async () => {
    const { key, orderId, lineId, intentId, stripeIntent } = await paidWith('tok_visa');
    stripe.processor.loseNextRefundAnswer = true;
    const lost = await refund(key, { paymentIntentId: intentId, lineItems: [{ lineItemId: lineId, quantity: 1 }] });
    expect(lost.userErrors).toEqual([]);
    expect(lost.refund).toMatchObject({ status: 'PENDING', processorReference: null });
    const atStripe = () => [...stripe.fake.refunds.values()].filter((x) => x.payment_intent === stripeIntent);
    expect(atStripe()).toHaveLength(1);

    // A minute later (the lost call is not in flight any more), the next refund of the order settles it first.
    now = new Date(now.getTime() + 120_000);
    try {
      const next = await refund(key, { paymentIntentId: intentId, lineItems: [{ lineItemId: lineId, quantity: 1 }] });
      expect(next.userErrors).toEqual([]);
      expect(next.order!.status).toBe('REFUNDED');
    } finally {
      now = new Date();
    }
    const order = (await api.exec(GetOrder, { id: orderId }, key)).order!;
    expect(order.refunds.map((x) => [x.status, x.processorReference])).toEqual([
      ['SUCCEEDED', atStripe()[0]!.id],
      ['SUCCEEDED', atStripe()[1]!.id],
    ]);
    expect(atStripe()).toHaveLength(2);
    expect(stripe.fake.requests.filter((x) => x.method === 'GET' && x.path === '/v1/refunds').at(-1)!.query.get('payment_intent')).toBe(stripeIntent);
  });

  it('Stripe reversing succeeded refunds (refund.updated → failed) moves the order back through the lifecycle: REFUNDED → PARTIALLY_REFUNDED → PAID', async () => {
    const { key, orderId, lineId, intentId } = await paidWith('tok_visa');
    const first = await refund(key, { paymentIntentId: intentId, lineItems: [{ lineItemId: lineId, quantity: 1 }] });
    const second = await refund(key, { paymentIntentId: intentId, amountMoney: { amount: 1500, currency: 'USD' } });
    expect([first.refund!.status, second.refund!.status]).toEqual(['SUCCEEDED', 'SUCCEEDED']);
    expect(second.order!.status).toBe('REFUNDED');

    const reverse = (id: string) => event('refund.updated', { ...stripe.fake.refunds.get(id)!, status: 'failed', failure_reason: 'lost_or_stolen_card' });
    const reversedFirst = reverse(first.refund!.processorReference!);
    expect(await deliver(reversedFirst)).toMatchObject({ outcome: 'applied', paymentIntentId: intentId });
    let order = (await api.exec(GetOrder, { id: orderId }, key)).order!;
    expect(order.status).toBe('PARTIALLY_REFUNDED');
    expect(order.netAmounts.refundedMoney.amount).toBe(1500);
    expect(order.refundable.amountMoney.amount).toBe(1500);
    expect(order.lineItems[0]!.refundableQuantity).toBe(2);
    expect(order.refunds.map((x) => [x.id, x.status, x.failureReason])).toEqual([
      [first.refund!.id, 'FAILED', 'lost_or_stolen_card'],
      [second.refund!.id, 'SUCCEEDED', null],
    ]);

    expect(await deliver(reverse(second.refund!.processorReference!))).toMatchObject({ outcome: 'applied', paymentIntentId: intentId });
    // A reversal delivered again (a new event id) finds the refund FAILED: nothing more changes.
    expect(await deliver(reverse(first.refund!.processorReference!))).toMatchObject({ outcome: 'unchanged' });
    order = (await api.exec(GetOrder, { id: orderId }, key)).order!;
    expect(order.status).toBe('PAID');
    expect(order.netAmounts.refundedMoney.amount).toBe(0);
    expect(order.refundable.amountMoney.amount).toBe(3000);
    const changes = order.activity.filter((a) => a.type === 'refund.failed' || a.type === 'order.status_changed').map((a) => a.type);
    // paid → partially refunded → refunded, then the two reversals, each with its status change.
    expect(changes).toEqual(['order.status_changed', 'order.status_changed', 'order.status_changed', 'refund.failed', 'order.status_changed', 'refund.failed', 'order.status_changed']);
    const row = await api.db.order.findUniqueOrThrow({ where: { id: orderId } });
    expect([row.refundedAmount, row.pendingRefundAmount, row.refundedTaxAmount]).toEqual([0n, 0n, 0n]);
    expect((await api.db.paymentIntent.findUniqueOrThrow({ where: { id: intentId } })).refundedAmount).toBe(0n);
  });
});
