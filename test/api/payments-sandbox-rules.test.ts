// payOrder through the public GraphQL API with the sandbox processor: the amount is the balance due,
// zero-total orders, lifecycle refusals, input validation, tenancy, idempotency, coupons re-checked before any
// charge, no webhook endpoint without a secret, and the receipt written to the outbox.
import { describe, expect, it } from 'vitest';
import { graphql } from '../generated/index.js';
import { api, GetOrder, GetIntent, newOrder, pay, chargesOf } from '../support/payments.js';

const CancelOrder = graphql(`
  mutation PaymentsCancelOrder($input: CancelOrderInput!) {
    cancelOrder(input: $input) { order { status } userErrors { code } }
  }
`);

const CreateCoupon = graphql(`
  mutation PaymentsCreateCoupon($input: CreateCouponInput!) {
    createCoupon(input: $input) { coupon { id code } userErrors { code message } }
  }
`);

const ApplyCoupon = graphql(`
  mutation PaymentsApplyCoupon($input: ApplyCouponInput!) {
    applyCoupon(input: $input) { order { id netAmounts { totalMoney { amount } } } userErrors { code message } }
  }
`);

const SetupTax = graphql(`
  mutation PaymentsSetupTax {
    addTaxRegistration(input: { jurisdiction: "US-CA" }) { userErrors { code message } }
    setTaxRate(input: { jurisdiction: "US-CA", name: "California sales tax", rate: "0.0725" }) { userErrors { code message } }
  }
`);

describe('payOrder with the sandbox processor', () => {
  it('the amount is the balance due, tax included; nothing about it is taken from the caller', async () => {
    const { key } = await api.signup({ originAddress: { country: 'US', region: 'CA' } });
    const tax = await api.exec(SetupTax, {}, key);
    expect(tax.addTaxRegistration.userErrors).toEqual([]);
    expect(tax.setTaxRate.userErrors).toEqual([]);
    const order = await newOrder(key, [
      { name: 'Organic Coffee Beans', quantity: 2, unitPriceMoney: { amount: 1999, currency: 'USD' } },
      { name: 'Ceramic Pour-Over Mug', quantity: 1, unitPriceMoney: { amount: 2400, currency: 'USD' } },
    ]);
    expect(order.netAmounts.totalMoney.amount).toBe(6398 + 464);
    const result = await pay(key, order.id, ['tok_visa']);
    expect(result.paymentIntent!.amountMoney).toEqual({ amount: 6862, currency: 'USD' });
    expect(result.order!.netAmounts.paidMoney.amount).toBe(6862);
    expect(result.order!.netAmounts.balanceMoney.amount).toBe(0);
  });

  it('an order totalling 0 is marked PAID without a processor call; paying again is NOTHING_TO_PAY', async () => {
    const { key } = await api.signup();
    const order = await newOrder(key, [{ name: 'Free sample', quantity: 1, unitPriceMoney: { amount: 0, currency: 'USD' } }]);
    const result = await pay(key, order.id, ['tok_visa']);
    expect(result.userErrors).toEqual([]);
    expect(result.paymentIntent).toBeNull();
    expect(result.order!.status).toBe('PAID');
    expect(result.order!.netAmounts.balanceMoney.amount).toBe(0);
    expect(await chargesOf(order.id)).toHaveLength(0);
    const read = (await api.exec(GetOrder, { id: order.id }, key)).order!;
    expect(read.paymentIntents).toEqual([]);
    expect(read.activity.map((a) => a.type)).toEqual(['order.created', 'order.status_changed']);
    const again = await pay(key, order.id, ['tok_visa']);
    expect(again.userErrors.map((e) => e.code)).toEqual(['NOTHING_TO_PAY']);
  });

  it('a PAID order is NOTHING_TO_PAY; a CANCELED one INVALID_STATE_TRANSITION; an order without lines NOTHING_TO_PAY', async () => {
    const { key } = await api.signup();
    const paidOrder = await newOrder(key);
    await pay(key, paidOrder.id, ['tok_visa']);
    const again = await pay(key, paidOrder.id, ['tok_visa']);
    expect(again.userErrors.map((e) => e.code)).toEqual(['NOTHING_TO_PAY']);
    expect(again.paymentIntent).toBeNull();
    expect(await chargesOf(paidOrder.id)).toHaveLength(1);

    const canceled = await newOrder(key);
    await api.exec(CancelOrder, { input: { orderId: canceled.id } }, key);
    const refused = await pay(key, canceled.id, ['tok_visa']);
    expect(refused.userErrors[0]!.code).toBe('INVALID_STATE_TRANSITION');
    expect(refused.userErrors[0]!.message).toContain('CANCELED');

    const empty = await newOrder(key, [], { currency: 'USD' });
    const nothing = await pay(key, empty.id, ['tok_visa']);
    expect(nothing.userErrors.map((e) => e.code)).toEqual(['NOTHING_TO_PAY']);
    expect(nothing.userErrors[0]!.message).toContain('no line items');
  });

  it('validates the input', async () => {
    const { key } = await api.signup();
    const order = await newOrder(key);
    expect((await pay(key, order.id, [])).userErrors.map((e) => e.code)).toEqual(['INVALID_INPUT']);
    expect((await pay(key, order.id, ['tok visa'])).userErrors[0]!.field).toEqual(['input', 'paymentSourceTokens', '0']);
    expect((await pay(key, order.id, ['tok_visa'], { buyerEmail: 'not-an-email' })).userErrors[0]!.field).toEqual(['input', 'buyerEmail']);
    expect(await chargesOf(order.id)).toHaveLength(0);
  });

  it("another merchant's order is NOT_FOUND and its payments read as null", async () => {
    const alice = await api.signup();
    const bob = await api.signup();
    const order = await newOrder(alice.key);
    const intent = (await pay(alice.key, order.id, ['tok_visa'])).paymentIntent!;
    const stolen = await pay(bob.key, order.id, ['tok_visa']);
    expect(stolen.userErrors.map((e) => e.code)).toEqual(['NOT_FOUND']);
    expect(stolen.order).toBeNull();
    // Errors raised before the order is looked up (here a malformed key) never reveal it either.
    const early = await pay(bob.key, order.id, ['tok_visa'], { idempotencyKey: '' });
    expect(early.userErrors.map((e) => e.code)).toEqual(['INVALID_INPUT']);
    expect(early.order).toBeNull();
    const read = await api.exec(GetIntent, { id: intent.id }, bob.key);
    expect(read.paymentIntent).toBeNull();
    expect(read.node).toBeNull();
    const own = await api.exec(GetIntent, { id: intent.id }, alice.key);
    expect(own.paymentIntent!.id).toBe(intent.id);
    expect(own.node).toEqual({ id: intent.id, status: 'SUCCEEDED' });
  });

  it('the same idempotencyKey returns the same payload without a second effect; another input with it is IDEMPOTENCY_KEY_REUSED', async () => {
    const { key } = await api.signup();
    const order = await newOrder(key);
    const first = await pay(key, order.id, ['tok_chargeDeclined', 'tok_visa'], { idempotencyKey: 'pay-once' });
    const second = await pay(key, order.id, ['tok_chargeDeclined', 'tok_visa'], { idempotencyKey: 'pay-once' });
    expect(second).toEqual(first);
    expect(first.order!.status).toBe('PAID');
    expect(await chargesOf(order.id)).toHaveLength(2);
    const reused = await pay(key, order.id, ['tok_mastercard'], { idempotencyKey: 'pay-once' });
    expect(reused.userErrors.map((e) => e.code)).toEqual(['IDEMPOTENCY_KEY_REUSED']);

    // A declined call replays its decline too (it is the stored result), and a new key can pay.
    const other = await newOrder(key);
    const declined = await pay(key, other.id, ['tok_chargeDeclined'], { idempotencyKey: 'declined-once' });
    const replay = await pay(key, other.id, ['tok_chargeDeclined'], { idempotencyKey: 'declined-once' });
    expect(replay).toEqual(declined);
    expect(await chargesOf(other.id)).toHaveLength(1);
    const read = (await api.exec(GetOrder, { id: order.id }, key)).order!;
    expect(read.activity.filter((a) => a.type.startsWith('payment.')).every((a) => a.idempotencyKey === 'pay-once')).toBe(true);
  });

  it('coupons are redeemed with the payment; one that became invalid fails the payment before any charge', async () => {
    const { key } = await api.signup();
    const coupon = await api.exec(CreateCoupon, { input: { code: 'ONCE', type: 'FIXED_AMOUNT', amountOffMoney: { amount: 500, currency: 'USD' }, maxRedemptions: 1 } }, key);
    expect(coupon.createCoupon.userErrors).toEqual([]);
    const first = await newOrder(key);
    const second = await newOrder(key);
    for (const o of [first, second]) {
      const applied = await api.exec(ApplyCoupon, { input: { orderId: o.id, code: 'ONCE' } }, key);
      expect(applied.applyCoupon.userErrors).toEqual([]);
      expect(applied.applyCoupon.order!.netAmounts.totalMoney.amount).toBe(3498);
    }
    const paid = await pay(key, first.id, ['tok_visa']);
    expect(paid.userErrors).toEqual([]);
    expect(paid.paymentIntent!.amountMoney.amount).toBe(3498);

    const refused = await pay(key, second.id, ['tok_visa']);
    expect(refused.userErrors.map((e) => e.code)).toEqual(['COUPON_USAGE_LIMIT_REACHED']);
    expect(refused.paymentIntent).toBeNull();
    expect(await chargesOf(second.id)).toHaveLength(0);
    const read = (await api.exec(GetOrder, { id: second.id }, key)).order!;
    expect(read.status).toBe('OPEN');
    expect(read.paymentIntents).toEqual([]);
  });

  it('without STRIPE_WEBHOOK_SECRET the webhook endpoint is not there (404)', async () => {
    const response = await fetch(`${api.url}/webhooks/stripe`, { method: 'POST', body: '{}', headers: { 'stripe-signature': 't=1,v1=x' } });
    expect(response.status).toBe(404);
    expect(((await response.json()) as { error: string }).error).toContain('STRIPE_WEBHOOK_SECRET');
  });

  it('writes the receipt into the outbox with the payment (delivery needs SMTP_URL; see receipts.test.ts)', async () => {
    const { key } = await api.signup();
    const order = await newOrder(key, undefined, { buyerEmail: 'buyer@example.com' });
    const intent = (await pay(key, order.id, ['tok_visa'])).paymentIntent!;
    expect(intent.receiptEmail).toBe('buyer@example.com');
    const receipt = await api.db.receipt.findUniqueOrThrow({ where: { paymentIntentId: intent.id } });
    expect(receipt.toEmail).toBe('buyer@example.com');
    expect(receipt.text).toContain('Organic Coffee Beans × 2');
    const outbox = await api.db.outboxMessage.findUniqueOrThrow({ where: { kind_refId: { kind: 'receipt.email', refId: receipt.id } } });
    // PENDING here (no mailer on this server); another test file's worker sharing the database may deliver it.
    expect(['PENDING', 'SENDING', 'SENT']).toContain(outbox.status);
    const noEmail = await newOrder(key);
    const silent = (await pay(key, noEmail.id, ['tok_visa'])).paymentIntent!;
    expect(silent.receiptEmail).toBeNull();
    expect(await api.db.receipt.findUnique({ where: { paymentIntentId: silent.id } })).toBeNull();
  });
});
