// payOrder through the API with the Stripe processor (against the local fake Stripe), and
// POST /webhooks/stripe: signature accepted / rejected, events deduplicated, applied at most once in any
// order, refund events recorded and acknowledged.
import Stripe from 'stripe';
import { describe, expect, it } from 'vitest';
import { graphql } from '../generated/index.js';
import { useTestApi } from '../support/api.js';
import { useFakeStripe } from '../support/fake-stripe.js';

const SECRET = 'whsec_test_flint_secret';

const stripe = useFakeStripe();
let now = new Date();
const api = useTestApi({ clock: { now: () => now }, deps: { paymentProcessor: stripe.processor, stripeWebhookSecret: SECRET } });

const CreateOrder = graphql(`
  mutation StripeCreateOrder($input: CreateOrderInput!) {
    createOrder(input: $input) { order { id } userErrors { code } }
  }
`);

const PayOrder = graphql(`
  mutation StripePayOrder($input: PayOrderInput!) {
    payOrder(input: $input) {
      order { status netAmounts { paidMoney { amount } balanceMoney { amount } } }
      paymentIntent { id status processor processorReference failureCode declineCode failureMessage nextActionUrl }
      userErrors { code message }
    }
  }
`);

const GetOrder = graphql(`
  query StripeGetOrder($id: ID!) {
    order(id: $id) {
      status
      netAmounts { paidMoney { amount } balanceMoney { amount } }
      paymentIntents { id status processorReference failureCode }
      activity { type actor { type id } }
    }
  }
`);

let seq = 0;
async function paidWith(token: string) {
  const { key } = await api.signup();
  const order = (await api.exec(CreateOrder, { input: { lineItems: [{ name: 'Tea', quantity: 1, unitPriceMoney: { amount: 1500, currency: 'USD' } }] } }, key)).createOrder.order!;
  const result = (await api.exec(PayOrder, { input: { orderId: order.id, paymentSourceTokens: [token] } }, key)).payOrder;
  return { key, orderId: order.id, result };
}

function event(type: string, object: Record<string, unknown>, id = `evt_test_${++seq}_${Date.now()}`) {
  return { id, object: 'event', type, livemode: false, created: Math.floor(now.getTime() / 1000), api_version: '2026-10-28.endive', data: { object } };
}

async function deliver(body: unknown, options: { secret?: string; timestamp?: number; signature?: string } = {}) {
  const payload = JSON.stringify(body);
  const header =
    options.signature ??
    Stripe.webhooks.generateTestHeaderString({ payload, secret: options.secret ?? SECRET, timestamp: options.timestamp ?? Math.floor(now.getTime() / 1000) });
  const response = await fetch(`${api.url}/webhooks/stripe`, { method: 'POST', headers: { 'content-type': 'application/json', 'stripe-signature': header }, body: payload });
  return { status: response.status, body: (await response.json()) as { outcome?: string; error?: string } };
}

describe('payOrder with the Stripe processor', () => {
  it('pays through Stripe: the order is PAID and the intent carries Stripe’s id', async () => {
    const { result, orderId } = await paidWith('tok_visa');
    expect(result.userErrors).toEqual([]);
    expect(result.order!.status).toBe('PAID');
    expect(result.paymentIntent).toMatchObject({ status: 'SUCCEEDED', processor: 'STRIPE', processorReference: expect.stringMatching(/^pi_fake/) });
    const sent = stripe.fake.requests.filter((r) => r.path === '/v1/payment_intents').at(-1)!;
    expect(sent.form['metadata[flint_order_id]']).toBe(orderId);
    expect(sent.form.amount).toBe('1500');
    expect(sent.headers['idempotency-key']).toBe(`flint_pi_${result.paymentIntent!.id}_attempt`);
  });

  it('a Stripe decline is PAYMENT_DECLINED with Stripe’s codes and message', async () => {
    const { result } = await paidWith('tok_chargeDeclinedInsufficientFunds');
    expect(result.userErrors[0]!.code).toBe('PAYMENT_DECLINED');
    expect(result.paymentIntent).toMatchObject({ status: 'FAILED', failureCode: 'card_declined', declineCode: 'insufficient_funds', failureMessage: 'Your card has insufficient funds.' });
    expect(result.order!.status).toBe('OPEN');
  });

  it('3-D Secure on Stripe: REQUIRES_ACTION with Stripe’s redirect URL', async () => {
    const { result } = await paidWith('tok_threeDSecure2Required');
    expect(result.paymentIntent).toMatchObject({ status: 'REQUIRES_ACTION', nextActionUrl: expect.stringContaining('/3ds/pi_fake') });
  });
});

describe('POST /webhooks/stripe', () => {
  it('applies payment_intent.succeeded to a PROCESSING payment once; a redelivery is acknowledged and changes nothing', async () => {
    const { key, orderId, result } = await paidWith('tok_async');
    expect(result.paymentIntent!.status).toBe('PROCESSING');
    expect(result.userErrors[0]!.code).toBe('PAYMENT_FAILED');
    expect(result.order!.status).toBe('OPEN');
    const stripeIntent = { ...stripe.fake.intents.get(result.paymentIntent!.processorReference!)!, status: 'succeeded' };
    const evt = event('payment_intent.succeeded', stripeIntent);
    const first = await deliver(evt);
    expect(first).toEqual({ status: 200, body: expect.objectContaining({ outcome: 'applied', paymentIntentId: result.paymentIntent!.id }) });
    const order = (await api.exec(GetOrder, { id: orderId }, key)).order!;
    expect(order.status).toBe('PAID');
    expect(order.netAmounts.paidMoney.amount).toBe(1500);
    const captured = order.activity.filter((a) => a.type === 'payment.captured');
    expect(captured).toEqual([{ type: 'payment.captured', actor: { type: 'WEBHOOK', id: evt.id } }]);

    const again = await deliver(evt);
    expect(again).toEqual({ status: 200, body: expect.objectContaining({ outcome: 'duplicate' }) });
    const same = (await api.exec(GetOrder, { id: orderId }, key)).order!;
    expect(same.netAmounts.paidMoney.amount).toBe(1500);
    expect(same.activity.filter((a) => a.type === 'payment.captured')).toHaveLength(1);
  });

  it('ten concurrent deliveries of one event apply it once', async () => {
    const { key, orderId, result } = await paidWith('tok_async');
    const evt = event('payment_intent.succeeded', { ...stripe.fake.intents.get(result.paymentIntent!.processorReference!)!, status: 'succeeded' });
    const responses = await Promise.all(Array.from({ length: 10 }, () => deliver(evt)));
    expect(responses.every((r) => r.status === 200)).toBe(true);
    expect(responses.filter((r) => r.body.outcome === 'applied')).toHaveLength(1);
    expect(responses.filter((r) => r.body.outcome === 'duplicate')).toHaveLength(9);
    const order = (await api.exec(GetOrder, { id: orderId }, key)).order!;
    expect(order.netAmounts.paidMoney.amount).toBe(1500);
    expect(order.activity.filter((a) => a.type === 'payment.captured')).toHaveLength(1);
  });

  it('events out of order: failed or requires_action after succeeded change nothing; succeeded after requires_action pays', async () => {
    const { key, orderId, result } = await paidWith('tok_threeDSecure2Required');
    const base = stripe.fake.intents.get(result.paymentIntent!.processorReference!)!;
    expect((await deliver(event('payment_intent.succeeded', { ...base, status: 'succeeded', next_action: null }))).body.outcome).toBe('applied');
    expect((await deliver(event('payment_intent.requires_action', base))).body.outcome).toBe('unchanged');
    const failed = { ...base, status: 'requires_payment_method', last_payment_error: { code: 'card_declined', decline_code: 'generic_decline', message: 'Your card was declined.' } };
    expect((await deliver(event('payment_intent.payment_failed', failed))).body.outcome).toBe('unchanged');
    const order = (await api.exec(GetOrder, { id: orderId }, key)).order!;
    expect(order.status).toBe('PAID');
    expect(order.paymentIntents.map((p) => p.status)).toEqual(['SUCCEEDED']);
  });

  it('payment_intent.payment_failed fails a PROCESSING payment; the order stays OPEN', async () => {
    const { key, orderId, result } = await paidWith('tok_async');
    const base = stripe.fake.intents.get(result.paymentIntent!.processorReference!)!;
    const failed = { ...base, status: 'requires_payment_method', last_payment_error: { code: 'card_declined', decline_code: 'insufficient_funds', message: 'Your card has insufficient funds.' } };
    expect((await deliver(event('payment_intent.payment_failed', failed))).body.outcome).toBe('applied');
    const order = (await api.exec(GetOrder, { id: orderId }, key)).order!;
    expect(order.status).toBe('OPEN');
    expect(order.paymentIntents).toEqual([{ id: result.paymentIntent!.id, status: 'FAILED', processorReference: base.id, failureCode: 'card_declined' }]);
  });

  it('a success reported late on a FAILED payment is recorded: the money was captured, so the order is paid', async () => {
    const { key, orderId, result } = await paidWith('tok_chargeDeclined');
    expect(result.paymentIntent!.status).toBe('FAILED');
    const base = stripe.fake.intents.get(result.paymentIntent!.processorReference!)!;
    expect((await deliver(event('payment_intent.succeeded', { ...base, status: 'succeeded', last_payment_error: null }))).body.outcome).toBe('applied');
    const order = (await api.exec(GetOrder, { id: orderId }, key)).order!;
    expect(order.status).toBe('PAID');
    expect(order.netAmounts.paidMoney.amount).toBe(1500);
    expect(order.paymentIntents).toEqual([{ id: result.paymentIntent!.id, status: 'SUCCEEDED', processorReference: base.id, failureCode: null }]);
    expect(order.activity.filter((a) => a.type === 'payment.captured')).toEqual([{ type: 'payment.captured', actor: { type: 'WEBHOOK', id: expect.any(String) } }]);
    // A failure arriving after that changes nothing: SUCCEEDED is final.
    const failed = { ...base, status: 'requires_payment_method', last_payment_error: { code: 'card_declined', decline_code: 'generic_decline', message: 'Your card was declined.' } };
    expect((await deliver(event('payment_intent.payment_failed', failed))).body.outcome).toBe('unchanged');
    expect((await api.exec(GetOrder, { id: orderId }, key)).order!.paymentIntents.map((p) => p.status)).toEqual(['SUCCEEDED']);
  });

  it('rejects a bad signature, a wrong secret and a stale timestamp with 400, and applies nothing', async () => {
    const { key, orderId, result } = await paidWith('tok_async');
    const evt = event('payment_intent.succeeded', { ...stripe.fake.intents.get(result.paymentIntent!.processorReference!)!, status: 'succeeded' });
    expect((await deliver(evt, { signature: 't=1,v1=deadbeef' })).status).toBe(400);
    expect((await deliver(evt, { secret: 'whsec_someone_else' })).status).toBe(400);
    expect((await deliver(evt, { timestamp: Math.floor(now.getTime() / 1000) - 301 })).status).toBe(400);
    const noHeader = await fetch(`${api.url}/webhooks/stripe`, { method: 'POST', body: JSON.stringify(evt) });
    expect(noHeader.status).toBe(400);
    // Tampering with a signed body breaks the signature.
    const payload = JSON.stringify(evt);
    const header = Stripe.webhooks.generateTestHeaderString({ payload, secret: SECRET, timestamp: Math.floor(now.getTime() / 1000) });
    const tampered = await fetch(`${api.url}/webhooks/stripe`, { method: 'POST', headers: { 'stripe-signature': header }, body: payload.replace('"succeeded"', '"canceled"') });
    expect(tampered.status).toBe(400);
    const order = (await api.exec(GetOrder, { id: orderId }, key)).order!;
    expect(order.status).toBe('OPEN');
    expect(await api.db.webhookEvent.findUnique({ where: { id: evt.id } })).toBeNull();
    // Within the 300 s tolerance it is accepted.
    expect((await deliver(evt, { timestamp: Math.floor(now.getTime() / 1000) - 290 })).body.outcome).toBe('applied');
  });

  it('records and acknowledges refund events (applied by the refunds feature), and ignores unknown ones', async () => {
    const refund = { id: 're_fake_x', object: 'refund', amount: 100, status: 'succeeded', payment_intent: 'pi_fake_x' };
    const charge = { id: 'ch_fake_x', object: 'charge', amount_refunded: 100, payment_intent: 'pi_fake_x' };
    expect(await deliver(event('refund.updated', refund))).toEqual({ status: 200, body: expect.objectContaining({ outcome: 'recorded' }) });
    const refunded = event('charge.refunded', charge);
    expect((await deliver(refunded)).body.outcome).toBe('recorded');
    expect((await deliver(refunded)).body.outcome).toBe('duplicate');
    expect((await deliver(event('customer.created', { id: 'cus_1', object: 'customer' }))).body.outcome).toBe('ignored');
    const stored = await api.db.webhookEvent.findUniqueOrThrow({ where: { id: refunded.id } });
    expect(stored).toMatchObject({ type: 'charge.refunded', outcome: 'recorded', processor: 'STRIPE' });
    expect((stored.payload as { data: { object: { id: string } } }).data.object.id).toBe('ch_fake_x');
  });

  it('answers only POST', async () => {
    expect((await fetch(`${api.url}/webhooks/stripe`)).status).toBe(405);
  });
});
