// createRefund and refundPreview through the public GraphQL API: the errors and their messages (nothing
// written), tenancy, and previews that compute the same and write nothing.
import { describe, expect, it } from 'vitest';
import { api, CreateOrder, PayOrder, CreateCoupon, Preview, GetRefund, CloseOrder, SARAH_LINES, merchant, paidOrder, refund, readOrder } from '../support/refunds.js';

describe('errors', () => {
  it('INVALID_INPUT when both or neither of amountMoney and lineItems are given, or a quantity is not positive', async () => {
    const { key } = await merchant();
    const { intentId, orderId } = await paidOrder(key);
    const lineId = (await readOrder(key, orderId)).lineItems[0]!.id;
    const cases: [Record<string, unknown>, string[]][] = [
      [{}, ['input']],
      [{ amountMoney: { amount: 100, currency: 'USD' }, lineItems: [{ lineItemId: lineId, quantity: 1 }] }, ['input']],
      [{ lineItems: [{ lineItemId: lineId, quantity: 0 }] }, ['input', 'lineItems', '0', 'quantity']],
      [{ lineItems: [{ lineItemId: lineId, quantity: -1 }] }, ['input', 'lineItems', '0', 'quantity']],
      [{ lineItems: [] }, ['input', 'lineItems']],
      [{ lineItems: [{ lineItemId: lineId, quantity: 1 }, { lineItemId: lineId, quantity: 1 }] }, ['input', 'lineItems', '1', 'lineItemId']],
      [{ amountMoney: { amount: 0, currency: 'USD' } }, ['input', 'amountMoney', 'amount']],
      [{ amountMoney: { amount: -5, currency: 'USD' } }, ['input', 'amountMoney', 'amount']],
      [{ amountMoney: { amount: 5, currency: 'XYZ' } }, ['input', 'amountMoney', 'currency']],
    ];
    for (const [input, field] of cases) {
      const r = await refund(key, { paymentIntentId: intentId, ...input });
      expect(r.userErrors.map((e) => [e.code, e.field])).toEqual([['INVALID_INPUT', field]]);
      expect(r.refund).toBeNull();
      const p = (await api.exec(Preview, { input: { paymentIntentId: intentId, ...input } as never }, key)).refundPreview;
      expect(p.userErrors.map((e) => e.code)).toEqual(['INVALID_INPUT']);
      expect(p.amountMoney).toBeNull();
    }
    expect((await readOrder(key, orderId)).refunds).toEqual([]);
  });

  it('REFUND_EXCEEDS_REFUNDABLE states the maximum in all and per line, and writes nothing', async () => {
    const { key } = await merchant();
    const { intentId, orderId } = await paidOrder(key);
    const [coffee, mug] = (await readOrder(key, orderId)).lineItems;
    await refund(key, { paymentIntentId: intentId, lineItems: [{ lineItemId: coffee!.id, quantity: 1 }] });
    const before = await readOrder(key, orderId);

    const tooMany = await refund(key, { paymentIntentId: intentId, lineItems: [{ lineItemId: coffee!.id, quantity: 2 }] });
    expect(tooMany.userErrors.map((e) => [e.code, e.field])).toEqual([['REFUND_EXCEEDS_REFUNDABLE', ['input', 'lineItems', '0', 'quantity']]]);
    const message = tooMany.userErrors[0]!.message;
    expect(message).toContain('has 1 of 2 units left to refund, not 2');
    expect(message).toContain('Still refundable: 47.18 USD in all');
    expect(message).toContain(`Organic Coffee Beans (${coffee!.id}) 1 of 2 units, 21.44 USD`);
    expect(message).toContain(`Ceramic Pour-Over Mug (${mug!.id}) 1 of 1 unit, 25.74 USD`);
    expect(tooMany.order!.id).toBe(orderId); // the order comes back to show what is refundable

    const tooMuch = await refund(key, { paymentIntentId: intentId, amountMoney: { amount: 4719, currency: 'USD' } });
    expect(tooMuch.userErrors.map((e) => [e.code, e.field])).toEqual([['REFUND_EXCEEDS_REFUNDABLE', ['input', 'amountMoney', 'amount']]]);
    expect(tooMuch.userErrors[0]!.message).toMatch(/^A refund of 47\.19 USD is more than payment pi_\w+ has left to refund \(47\.18 USD\)\. Nothing was refunded\. Still refundable: 47\.18 USD in all/);

    const preview = (await api.exec(Preview, { input: { paymentIntentId: intentId, amountMoney: { amount: 4719, currency: 'USD' } } }, key)).refundPreview;
    expect(preview.userErrors).toEqual(tooMuch.userErrors);

    const exact = await refund(key, { paymentIntentId: intentId, amountMoney: { amount: 4718, currency: 'USD' } });
    expect(exact.userErrors).toEqual([]);
    expect(exact.order!.status).toBe('REFUNDED');
    const after = await readOrder(key, orderId);
    expect(after.activity.length).toBe(before.activity.length + 3); // only the exact refund's entries
  });

  it('CURRENCY_MISMATCH, a line of another order, and an order that is not paid', async () => {
    const { key } = await merchant();
    const { intentId } = await paidOrder(key);
    const other = await paidOrder(key);
    const otherLine = (await readOrder(key, other.orderId)).lineItems[0]!.id;

    const eur = await refund(key, { paymentIntentId: intentId, amountMoney: { amount: 100, currency: 'EUR' } });
    expect(eur.userErrors.map((e) => [e.code, e.field])).toEqual([['CURRENCY_MISMATCH', ['input', 'amountMoney', 'currency']]]);
    expect(eur.userErrors[0]!.message).toContain('in USD');

    const foreignLine = await refund(key, { paymentIntentId: intentId, lineItems: [{ lineItemId: otherLine, quantity: 1 }] });
    expect(foreignLine.userErrors.map((e) => [e.code, e.field])).toEqual([['NOT_FOUND', ['input', 'lineItems', '0', 'lineItemId']]]);

    // A declined payment of an OPEN order: nothing to refund, and the message says what can be done.
    const created = await api.exec(CreateOrder, { input: { lineItems: SARAH_LINES } }, key);
    const declined = await api.exec(PayOrder, { input: { orderId: created.createOrder.order!.id, paymentSourceTokens: ['tok_chargeDeclined'] } }, key);
    const failedIntent = declined.payOrder.paymentIntent!.id;
    const open = await refund(key, { paymentIntentId: failedIntent, amountMoney: { amount: 100, currency: 'USD' } });
    expect(open.userErrors.map((e) => e.code)).toEqual(['INVALID_STATE_TRANSITION']);
    expect(open.userErrors[0]!.message).toMatch(/^Cannot REFUND \(createRefund\): The order is OPEN; REFUND is possible only when it is PAID or PARTIALLY_REFUNDED\. Allowed now: .*PAY \(payOrder\)/);
  });

  it("another merchant's payment and refund read as NOT_FOUND / null", async () => {
    const a = await merchant();
    const b = await merchant();
    const { intentId, orderId } = await paidOrder(a.key);
    const lineId = (await readOrder(a.key, orderId)).lineItems[0]!.id;
    const mine = await refund(a.key, { paymentIntentId: intentId, lineItems: [{ lineItemId: lineId, quantity: 1 }] });

    const theirs = await refund(b.key, { paymentIntentId: intentId, lineItems: [{ lineItemId: lineId, quantity: 1 }] });
    expect(theirs.userErrors.map((e) => [e.code, e.field])).toEqual([['NOT_FOUND', ['input', 'paymentIntentId']]]);
    expect(theirs.order).toBeNull();
    const preview = (await api.exec(Preview, { input: { paymentIntentId: intentId, amountMoney: { amount: 1, currency: 'USD' } } }, b.key)).refundPreview;
    expect(preview.userErrors.map((e) => e.code)).toEqual(['NOT_FOUND']);
    expect(await api.exec(GetRefund, { id: mine.refund!.id }, b.key)).toEqual({ refund: null, node: null });
    const close = (await api.exec(CloseOrder, { input: { orderId } }, b.key)).closeOrder;
    expect(close.userErrors.map((e) => e.code)).toEqual(['NOT_FOUND']);
    expect((await readOrder(a.key, orderId)).refunds).toHaveLength(1);
  });
});

describe('refundPreview', () => {
  it('is the same computation as createRefund and writes nothing', async () => {
    const { key } = await merchant('0.08875');
    await api.exec(CreateCoupon, { input: { code: 'FIVE', type: 'FIXED_AMOUNT', amountOffMoney: { amount: 500, currency: 'USD' }, stackable: true } }, key);
    const { intentId, orderId } = await paidOrder(key, SARAH_LINES, { extra: { couponCodes: ['FIVE'] } });
    const [coffee, mug] = (await readOrder(key, orderId)).lineItems;
    const inputs = [
      { lineItems: [{ lineItemId: coffee!.id, quantity: 1 }] },
      { amountMoney: { amount: 777, currency: 'USD' } },
      { lineItems: [{ lineItemId: mug!.id, quantity: 1 }] },
      { lineItems: [{ lineItemId: coffee!.id, quantity: 1 }] }, // more than is left after the amount refund
    ];
    for (const input of inputs) {
      const before = await readOrder(key, orderId);
      const preview = (await api.exec(Preview, { input: { paymentIntentId: intentId, ...input } }, key)).refundPreview;
      expect(await readOrder(key, orderId)).toEqual(before); // nothing written
      const r = await refund(key, { paymentIntentId: intentId, ...input });
      expect(preview.userErrors).toEqual(r.userErrors);
      if (r.userErrors.length > 0) {
        expect(r.userErrors.map((e) => e.code)).toEqual(['REFUND_EXCEEDS_REFUNDABLE']);
        expect(preview.amountMoney).toBeNull();
        continue;
      }
      expect(preview.amountMoney).toEqual(r.refund!.amountMoney);
      expect(preview.taxMoney).toEqual(r.refund!.taxMoney);
      expect(preview.lineItems).toEqual(r.refund!.lineItems);
      expect(preview.resultingStatus).toBe(r.order!.status);
      const { subtotalMoney, ...restNet } = r.order!.netAmounts;
      expect(preview.resultingNetAmounts).toEqual({ subtotalMoney: { amount: subtotalMoney.amount }, ...restNet });
    }
  });
});
