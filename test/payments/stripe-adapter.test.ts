// The Stripe processor against a local server that plays Stripe's endpoints: the exact form-encoded
// parameters, the Idempotency-Key header, the mapping of Stripe's answers, retries and refunds.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StripeProcessor } from '../../src/payments/stripe.js';
import type { ChargeRequest } from '../../src/kernel/processor.js';
import { startFakeStripe, type FakeStripe } from '../support/fake-stripe.js';

let fake: FakeStripe;
let stripe: StripeProcessor;

beforeAll(async () => {
  fake = await startFakeStripe();
  stripe = new StripeProcessor({ secretKey: 'sk_test_adapter123', host: '127.0.0.1', port: fake.port, protocol: 'http', maxNetworkRetries: 1 });
});
afterAll(() => fake.close());

let n = 0;
function request(token: string, extra: Partial<ChargeRequest> = {}): ChargeRequest {
  n += 1;
  const paymentIntentId = `pi_01TESTADAPTER${String(n).padStart(13, '0')}`;
  return {
    idempotencyKey: `flint_pi_${paymentIntentId}_attempt`,
    paymentIntentId,
    orderId: 'ord_01TESTORDER000000000000000',
    merchantId: 'mer_01TESTMERCHANT00000000000',
    livemode: false,
    amount: 6862n,
    currency: 'USD',
    token,
    customerId: 'cust-42',
    returnUrl: null,
    ...extra,
  };
}

const lastCreate = () => fake.requests.filter((r) => r.method === 'POST' && r.path === '/v1/payment_intents').at(-1)!;

describe('StripeProcessor', () => {
  it('creates and confirms a PaymentIntent with the token, our metadata and our Idempotency-Key', async () => {
    const req = request('tok_visa');
    const result = await stripe.confirmPayment(req);
    expect(result).toEqual({ status: 'SUCCEEDED', processorReference: expect.stringMatching(/^pi_fake/) });
    const sent = lastCreate();
    expect(sent.form).toEqual({
      amount: '6862',
      currency: 'usd',
      confirm: 'true',
      'payment_method_types[0]': 'card',
      'payment_method_data[type]': 'card',
      'payment_method_data[card][token]': 'tok_visa',
      description: 'Flint order ord_01TESTORDER000000000000000',
      'metadata[flint_order_id]': 'ord_01TESTORDER000000000000000',
      'metadata[flint_payment_intent_id]': req.paymentIntentId,
      'metadata[flint_merchant_id]': 'mer_01TESTMERCHANT00000000000',
      'metadata[flint_customer_id]': 'cust-42',
    });
    expect(sent.headers['idempotency-key']).toBe(req.idempotencyKey);
    expect(sent.headers.authorization).toBe('Bearer sk_test_adapter123');
    expect(sent.headers['content-type']).toContain('application/x-www-form-urlencoded');
  });

  it('sends a PaymentMethod id as payment_method, and return_url when there is one', async () => {
    await stripe.confirmPayment(request('pm_card_visa', { returnUrl: 'http://localhost:4000/checkout/cs_1' }));
    const sent = lastCreate();
    expect(sent.form.payment_method).toBe('pm_card_visa');
    expect(sent.form['payment_method_data[type]']).toBeUndefined();
    expect(sent.form.return_url).toBe('http://localhost:4000/checkout/cs_1');
  });

  it('replaying the same key returns the first answer and creates no second payment', async () => {
    const req = request('tok_visa');
    const before = fake.charges();
    const first = await stripe.confirmPayment(req);
    const again = await stripe.confirmPayment(req);
    expect(again).toEqual(first);
    expect(fake.charges()).toBe(before + 1);
  });

  it('maps card errors to FAILED/DECLINED with Stripe code, decline code and message', async () => {
    const result = await stripe.confirmPayment(request('tok_chargeDeclinedInsufficientFunds'));
    expect(result).toEqual({
      status: 'FAILED',
      processorReference: expect.stringMatching(/^pi_fake/),
      kind: 'DECLINED',
      failureCode: 'card_declined',
      declineCode: 'insufficient_funds',
      failureMessage: 'Your card has insufficient funds.',
    });
  });

  it('maps an invalid request (unknown token) to FAILED/ERROR', async () => {
    const result = await stripe.confirmPayment(request('tok_nonsense'));
    expect(result).toMatchObject({ status: 'FAILED', kind: 'ERROR', failureCode: 'resource_missing', failureMessage: "No such token: 'tok_nonsense'" });
  });

  it('maps requires_action to REQUIRES_ACTION with the redirect URL, and processing to PROCESSING', async () => {
    expect(await stripe.confirmPayment(request('tok_threeDSecure2Required'))).toEqual({
      status: 'REQUIRES_ACTION',
      processorReference: expect.stringMatching(/^pi_fake/),
      actionUrl: expect.stringMatching(/^https:\/\/hooks\.stripe\.test\/3ds\/pi_fake/),
    });
    expect(await stripe.confirmPayment(request('tok_async'))).toMatchObject({ status: 'PROCESSING' });
  });

  it('the SDK retries a 500 with the same Idempotency-Key; one payment results', async () => {
    const req = request('tok_flaky');
    const before = fake.charges();
    const result = await stripe.confirmPayment(req);
    expect(result.status).toBe('SUCCEEDED');
    const attempts = fake.requests.filter((r) => r.path === '/v1/payment_intents' && r.headers['idempotency-key'] === req.idempotencyKey);
    expect(attempts).toHaveLength(2);
    expect(fake.charges()).toBe(before + 1);
  });

  it('a server that keeps failing is UNKNOWN (never FAILED: the charge may exist)', async () => {
    const broken = new StripeProcessor({ secretKey: 'sk_test_x', host: '127.0.0.1', port: 1, protocol: 'http', maxNetworkRetries: 0, timeoutMs: 2000 });
    expect((await broken.confirmPayment(request('tok_visa'))).status).toBe('UNKNOWN');
  });

  it('retrieves by Stripe id, or by our metadata through search; null when Stripe has none', async () => {
    const req = request('tok_visa');
    const created = await stripe.confirmPayment(req);
    const reference = (created as { processorReference: string }).processorReference;
    const ref = { idempotencyKey: req.idempotencyKey, paymentIntentId: req.paymentIntentId, createdAt: new Date() };
    expect(await stripe.retrievePayment({ ...ref, processorReference: reference })).toEqual({ status: 'SUCCEEDED', processorReference: reference });
    expect(fake.requests.at(-1)!.path).toBe(`/v1/payment_intents/${reference}`);
    expect(await stripe.retrievePayment({ ...ref, processorReference: null })).toEqual({ status: 'SUCCEEDED', processorReference: reference });
    const search = fake.requests.at(-1)!;
    expect(search.path).toBe('/v1/payment_intents/search');
    expect(search.query.get('query')).toBe(`metadata['flint_payment_intent_id']:'${req.paymentIntentId}'`);
    expect(await stripe.retrievePayment({ ...ref, paymentIntentId: 'pi_unknown', processorReference: null })).toBeNull();
  });

  it('cancels a payment waiting for authentication', async () => {
    const req = request('tok_threeDSecure2Required');
    const pending = await stripe.confirmPayment(req);
    const reference = (pending as { processorReference: string }).processorReference;
    const result = await stripe.cancelPayment({ idempotencyKey: req.idempotencyKey, paymentIntentId: req.paymentIntentId, processorReference: reference, createdAt: new Date() });
    expect(result).toEqual({ status: 'CANCELED', processorReference: reference });
    expect(fake.requests.at(-1)!.path).toBe(`/v1/payment_intents/${reference}/cancel`);
  });

  it('refunds through the same interface, with parameters, metadata and Idempotency-Key', async () => {
    const paid = await stripe.confirmPayment(request('tok_visa'));
    const reference = (paid as { processorReference: string }).processorReference;
    const refund = await stripe.createRefund({
      idempotencyKey: 'flint_re_re_01TEST',
      refundId: 're_01TEST',
      paymentIntentId: 'pi_01TEST',
      processorPaymentReference: reference,
      amount: 1999n,
      currency: 'USD',
      reason: 'requested_by_customer',
    });
    expect(refund).toEqual({ status: 'SUCCEEDED', processorReference: 're_fake1' });
    const sent = fake.requests.at(-1)!;
    expect(sent.path).toBe('/v1/refunds');
    expect(sent.form).toEqual({
      payment_intent: reference,
      amount: '1999',
      reason: 'requested_by_customer',
      'metadata[flint_refund_id]': 're_01TEST',
      'metadata[flint_payment_intent_id]': 'pi_01TEST',
    });
    expect(sent.headers['idempotency-key']).toBe('flint_re_re_01TEST');
    expect(await stripe.retrieveRefund({ idempotencyKey: 'flint_re_re_01TEST', processorReference: 're_fake1' })).toEqual({ status: 'SUCCEEDED', processorReference: 're_fake1' });
    expect(await stripe.retrieveRefund({ idempotencyKey: 'x', processorReference: null })).toBeNull();
    const refused = await stripe.createRefund({
      idempotencyKey: 'flint_re_re_02TEST',
      refundId: 're_02TEST',
      paymentIntentId: 'pi_02TEST',
      processorPaymentReference: 'pi_missing',
      amount: 100n,
      currency: 'USD',
      reason: null,
    });
    expect(refused).toEqual({ status: 'FAILED', processorReference: null, failureReason: 'charge_not_refundable' });
  });
});
