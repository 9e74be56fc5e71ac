// payOrder through the public GraphQL API with the sandbox processor: every Stripe test token, the order's
// balance and status after each, failures kept on their PaymentIntents, tokens tried in order, 3-D Secure.
import { describe, expect, it } from 'vitest';
import { api, GetOrder, GetIntent, newOrder, pay, chargesOf } from '../support/payments.js';

describe('payOrder with the sandbox processor', () => {
  it.each(['tok_visa', 'tok_mastercard', 'tok_refundFail'])('%s pays the whole balance: PAID, paid = total, balance 0', async (token) => {
    const { key } = await api.signup({ originAddress: { country: 'US', region: 'CA' } });
    const order = await newOrder(key);
    const total = order.netAmounts.totalMoney.amount;
    const result = await pay(key, order.id, [token], { buyerEmail: 'sarah@example.com' });
    expect(result.userErrors).toEqual([]);
    expect(result.order!.status).toBe('PAID');
    expect(result.order!.netAmounts.paidMoney).toEqual({ amount: total, currency: 'USD' });
    expect(result.order!.netAmounts.balanceMoney.amount).toBe(0);
    expect(result.order!.availableActions.map((a) => a.action)).not.toContain('PAY');
    const intent = result.paymentIntent!;
    expect(intent.status).toBe('SUCCEEDED');
    expect(intent.processor).toBe('SANDBOX');
    expect(intent.processorReference).toMatch(/^sbch_/);
    expect(intent.amountMoney).toEqual({ amount: total, currency: 'USD' });
    expect(intent.refundableMoney).toEqual({ amount: total, currency: 'USD' });
    expect(intent.receiptEmail).toBe('sarah@example.com');
    expect(intent.failureCode).toBeNull();
    expect(intent.order.id).toBe(order.id);

    const read = (await api.exec(GetOrder, { id: order.id }, key)).order!;
    expect(read.paymentIntents.map((p) => p.id)).toEqual([intent.id]);
    const types = read.activity.map((a) => a.type);
    expect(types).toEqual(['order.created', 'payment.created', 'payment.captured', 'order.status_changed']);
    expect(read.activity.find((a) => a.type === 'order.status_changed')!.delta).toEqual({ before: { status: 'OPEN' }, after: { status: 'PAID' } });
    expect(read.summary).toContain('paid');

    const charges = await chargesOf(order.id);
    expect(charges).toHaveLength(1);
    expect(charges[0]!.status).toBe('SUCCEEDED');
    expect(charges[0]!.amount).toBe(BigInt(total));
    expect(charges[0]!.idempotencyKey).toBe(`flint_pi_${intent.id}_attempt`);
  });

  const declines: [string, string, string, string | null, string][] = [
    ['tok_chargeDeclined', 'PAYMENT_DECLINED', 'card_declined', 'generic_decline', 'Your card was declined.'],
    ['tok_chargeDeclinedInsufficientFunds', 'PAYMENT_DECLINED', 'card_declined', 'insufficient_funds', 'Your card has insufficient funds.'],
    ['tok_chargeDeclinedExpiredCard', 'PAYMENT_DECLINED', 'expired_card', 'expired_card', 'Your card has expired.'],
    ['tok_chargeDeclinedIncorrectCvc', 'PAYMENT_DECLINED', 'incorrect_cvc', 'incorrect_cvc', "Your card's security code is incorrect."],
    ['tok_chargeDeclinedProcessingError', 'PAYMENT_FAILED', 'processing_error', 'processing_error', 'An error occurred while processing your card. Try again in a little bit.'],
  ];

  it.each(declines)('%s → %s (%s / %s), kept on a FAILED intent; the order stays OPEN with its balance', async (token, code, failureCode, declineCode, message) => {
    const { key } = await api.signup();
    const order = await newOrder(key);
    const result = await pay(key, order.id, [token]);
    expect(result.userErrors).toHaveLength(1);
    expect(result.userErrors[0]!.code).toBe(code);
    expect(result.userErrors[0]!.field).toEqual(['input', 'paymentSourceTokens', '0']);
    expect(result.userErrors[0]!.message).toContain(message);
    expect(result.userErrors[0]!.message).toContain('Nothing was charged');
    expect(result.order!.status).toBe('OPEN');
    expect(result.order!.netAmounts.paidMoney.amount).toBe(0);
    expect(result.order!.netAmounts.balanceMoney.amount).toBe(3998);
    expect(result.order!.availableActions.map((a) => a.action)).toContain('PAY');
    expect(result.paymentIntent).toMatchObject({ status: 'FAILED', failureCode, declineCode, failureMessage: message });
    expect(result.paymentIntent!.refundableMoney.amount).toBe(0);
    const read = (await api.exec(GetOrder, { id: order.id }, key)).order!;
    expect(read.activity.map((a) => a.type)).toEqual(['order.created', 'payment.created', 'payment.failed']);
  });

  it('an unknown token is PAYMENT_FAILED with a message naming the tokens that work', async () => {
    const { key } = await api.signup();
    const order = await newOrder(key);
    const result = await pay(key, order.id, ['tok_doesNotExist']);
    expect(result.userErrors[0]!.code).toBe('PAYMENT_FAILED');
    expect(result.userErrors[0]!.message).toContain("No such token: 'tok_doesNotExist'");
    expect(result.userErrors[0]!.message).toContain('tok_visa');
    expect(result.paymentIntent).toMatchObject({ status: 'FAILED', failureCode: 'resource_missing' });
    expect(result.order!.status).toBe('OPEN');
  });

  it('tries tokens in order: the first that succeeds pays the whole balance; earlier failures stay on their intents', async () => {
    const { key } = await api.signup();
    const order = await newOrder(key);
    const result = await pay(key, order.id, ['tok_chargeDeclined', 'tok_chargeDeclinedExpiredCard', 'tok_visa', 'tok_mastercard']);
    expect(result.userErrors).toEqual([]);
    expect(result.order!.status).toBe('PAID');
    expect(result.order!.netAmounts.paidMoney.amount).toBe(3998);
    const read = (await api.exec(GetOrder, { id: order.id }, key)).order!;
    expect(read.paymentIntents.map((p) => [p.status, p.failureCode])).toEqual([
      ['FAILED', 'card_declined'],
      ['FAILED', 'expired_card'],
      ['SUCCEEDED', null],
    ]);
    expect(read.paymentIntents.every((p) => p.amountMoney.amount === 3998)).toBe(true);
    expect(result.paymentIntent!.id).toBe(read.paymentIntents[2]!.id);
    expect(await chargesOf(order.id)).toHaveLength(3);
    expect(read.activity.filter((a) => a.type === 'payment.captured')).toHaveLength(1);
  });

  it('when every token fails, each is reported (in order) and the order stays OPEN', async () => {
    const { key } = await api.signup();
    const order = await newOrder(key);
    const result = await pay(key, order.id, ['tok_chargeDeclinedInsufficientFunds', 'tok_chargeDeclinedProcessingError']);
    expect(result.userErrors.map((e) => [e.code, e.field])).toEqual([
      ['PAYMENT_DECLINED', ['input', 'paymentSourceTokens', '0']],
      ['PAYMENT_FAILED', ['input', 'paymentSourceTokens', '1']],
    ]);
    expect(result.paymentIntent!.failureCode).toBe('processing_error');
    expect(result.order!.status).toBe('OPEN');
    // The buyer can try again with another card.
    const again = await pay(key, order.id, ['tok_visa']);
    expect(again.userErrors).toEqual([]);
    expect(again.order!.status).toBe('PAID');
  });

  it('tok_threeDSecure2Required → REQUIRES_ACTION with a sandbox authentication page; completing it pays the order', async () => {
    const { key } = await api.signup();
    const order = await newOrder(key);
    const result = await pay(key, order.id, ['tok_threeDSecure2Required']);
    expect(result.userErrors).toEqual([]);
    expect(result.order!.status).toBe('OPEN');
    const intent = result.paymentIntent!;
    expect(intent.status).toBe('REQUIRES_ACTION');
    expect(intent.nextActionUrl).toMatch(new RegExp(`^${api.url}/sandbox/3ds/sbch_[0-9A-Z]{26}$`));
    const page = await fetch(intent.nextActionUrl!);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('Complete authentication');

    const done = await fetch(intent.nextActionUrl!, { method: 'POST', body: new URLSearchParams({ action: 'complete' }) });
    expect(done.status).toBe(200);
    expect(await done.text()).toContain('SUCCEEDED');
    const read = (await api.exec(GetOrder, { id: order.id }, key)).order!;
    expect(read.status).toBe('PAID');
    expect(read.netAmounts.balanceMoney.amount).toBe(0);
    expect(read.paymentIntents[0]).toMatchObject({ status: 'SUCCEEDED', nextActionUrl: null });
    expect(read.activity.map((a) => a.type)).toEqual(['order.created', 'payment.created', 'payment.requires_action', 'payment.captured', 'order.status_changed']);
    // Authenticating again changes nothing.
    await fetch(intent.nextActionUrl!, { method: 'POST', body: new URLSearchParams({ action: 'fail' }) });
    expect((await api.exec(GetIntent, { id: intent.id }, key)).paymentIntent!.status).toBe('SUCCEEDED');
  });

  it('a failed authentication fails the intent (order stays OPEN); another card then pays', async () => {
    const { key } = await api.signup();
    const order = await newOrder(key);
    const intent = (await pay(key, order.id, ['tok_threeDSecure2Required'])).paymentIntent!;
    await fetch(intent.nextActionUrl!, { method: 'POST', body: new URLSearchParams({ action: 'fail' }) });
    const failed = (await api.exec(GetIntent, { id: intent.id }, key)).paymentIntent!;
    expect(failed).toMatchObject({ status: 'FAILED', failureCode: 'payment_intent_authentication_failure' });
    const again = await pay(key, order.id, ['tok_visa']);
    expect(again.order!.status).toBe('PAID');
  });

  it('a new payOrder while an authentication is pending cancels it first: it can no longer charge', async () => {
    const { key } = await api.signup();
    const order = await newOrder(key);
    const pending = (await pay(key, order.id, ['tok_threeDSecure2Required'])).paymentIntent!;
    const paid = await pay(key, order.id, ['tok_visa']);
    expect(paid.userErrors).toEqual([]);
    expect(paid.order!.status).toBe('PAID');
    expect((await api.exec(GetIntent, { id: pending.id }, key)).paymentIntent!.status).toBe('CANCELED');
    // The buyer finishing the old authentication afterwards changes nothing.
    await fetch(pending.nextActionUrl!, { method: 'POST', body: new URLSearchParams({ action: 'complete' }) });
    const read = (await api.exec(GetOrder, { id: order.id }, key)).order!;
    expect(read.netAmounts.paidMoney.amount).toBe(3998);
    expect(read.paymentIntents.map((p) => p.status)).toEqual(['CANCELED', 'SUCCEEDED']);
    expect((await chargesOf(order.id)).map((c) => c.status).sort()).toEqual(['CANCELED', 'SUCCEEDED']);
  });
});
