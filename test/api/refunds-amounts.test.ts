// createRefund amounts through the public GraphQL API: Stripe's proportional tax example, every unit one by one,
// zero-amount line refunds, and refunds that stay PENDING and then FAILED (tok_refundFail).
import { describe, expect, it } from 'vitest';
import { api, CreateCoupon, Preview, GetRefund, CloseOrder, SARAH_LINES, merchant, paidOrder, refund, readOrder, sandboxRefundsOf } from '../support/refunds.js';

describe('amounts', () => {
  it("Stripe's proportional example: 25 of an order of 100 + 25 tax gives back 5 of tax", async () => {
    const { key } = await merchant('0.25');
    const { intentId, total, tax } = await paidOrder(key, [{ name: 'Thing', quantity: 1, unitPriceMoney: { amount: 100, currency: 'USD' } }]);
    expect({ total, tax }).toEqual({ total: 125, tax: 25 });
    const r = await refund(key, { paymentIntentId: intentId, amountMoney: { amount: 25, currency: 'USD' } });
    expect(r.userErrors).toEqual([]);
    expect(r.refund).toMatchObject({ amountMoney: { amount: 25 }, taxMoney: { amount: 5 } });
    expect(r.order!.netAmounts).toMatchObject({ taxMoney: { amount: 20 }, totalMoney: { amount: 100 }, refundedMoney: { amount: 25 } });
    // The rest by amount: 100 with the remaining 20 of tax; the order is REFUNDED with nothing left.
    const rest = await refund(key, { paymentIntentId: intentId, amountMoney: { amount: 100, currency: 'USD' } });
    expect(rest.refund).toMatchObject({ amountMoney: { amount: 100 }, taxMoney: { amount: 20 } });
    expect(rest.order!.status).toBe('REFUNDED');
    expect(rest.order!.netAmounts).toMatchObject({ taxMoney: { amount: 0 }, totalMoney: { amount: 0 }, refundedMoney: { amount: 125 }, balanceMoney: { amount: 0 } });
    expect(rest.order!.refundable.amountMoney.amount).toBe(0);
    expect(rest.order!.availableActions.map((a) => a.action)).toEqual(['CLOSE']);
  });

  it('refunding every unit one by one returns exactly what was paid, tax exactly what was charged, and netAmounts end at zero', async () => {
    const { key } = await merchant('0.08875');
    await api.exec(CreateCoupon, { input: { code: 'TENOFF', type: 'PERCENTAGE', percentOff: '12.5', stackable: true } }, key);
    const lines = [
      { name: 'Organic Coffee Beans', quantity: 3, unitPriceMoney: { amount: 1999, currency: 'USD' } },
      { name: 'Filter papers', quantity: 7, unitPriceMoney: { amount: 333, currency: 'USD' } },
      { name: 'Ceramic Pour-Over Mug', quantity: 1, unitPriceMoney: { amount: 2400, currency: 'USD' } },
    ];
    const { orderId, intentId, total, tax } = await paidOrder(key, lines, { extra: { couponCodes: ['TENOFF'] } });
    const order = await readOrder(key, orderId);
    let refunded = 0;
    let refundedTax = 0;
    const statuses: string[] = [];
    for (const line of order.lineItems) {
      for (let u = 0; u < line.quantity; u++) {
        const r = await refund(key, { paymentIntentId: intentId, lineItems: [{ lineItemId: line.id, quantity: 1 }] });
        expect(r.userErrors).toEqual([]);
        refunded += r.refund!.amountMoney.amount;
        refundedTax += r.refund!.taxMoney.amount;
        statuses.push(r.order!.status);
        expect(r.order!.netAmounts.balanceMoney.amount).toBe(0);
      }
    }
    expect(refunded).toBe(total);
    expect(refundedTax).toBe(tax);
    expect(statuses.at(-1)).toBe('REFUNDED');
    expect(new Set(statuses.slice(0, -1))).toEqual(new Set(['PARTIALLY_REFUNDED']));
    const after = await readOrder(key, orderId);
    expect(after.netAmounts).toEqual({
      subtotalMoney: { amount: 0, currency: 'USD' },
      discountMoney: { amount: 0 },
      taxMoney: { amount: 0 },
      totalMoney: { amount: 0 },
      paidMoney: { amount: total },
      refundedMoney: { amount: total },
      balanceMoney: { amount: 0 },
    });
    expect(after.lineItems.map((l) => [l.refundedQuantity, l.refundableQuantity, l.refundableMoney.amount])).toEqual([
      [3, 0, 0],
      [7, 0, 0],
      [1, 0, 0],
    ]);
    expect(after.refundable).toEqual({ amountMoney: { amount: 0, currency: 'USD' }, lineItems: [] });
    expect(after.paymentIntents[0]!.refundableMoney.amount).toBe(0);
    const ledger = await sandboxRefundsOf(intentId);
    expect(ledger.reduce((s, x) => s + x.amount, 0n)).toBe(BigInt(total));

    // Each line's units one by one returned exactly the whole line (§7).
    expect(after.refunds.map((x) => x.status)).toEqual(Array(11).fill('SUCCEEDED'));
    const refunds = await api.db.refundLineItem.findMany({ where: { lineItemId: { in: order.lineItems.map((l) => l.id) } } });
    for (const line of order.lineItems) {
      const sum = refunds.filter((x) => x.lineItemId === line.id).reduce((s, x) => s + x.amount, 0n);
      expect(sum).toBe(BigInt(line.totalMoney.amount));
    }
    // Nothing is left to refund: REFUNDED allows closing only.
    const more = await refund(key, { paymentIntentId: intentId, amountMoney: { amount: 1, currency: 'USD' } });
    expect(more.userErrors.map((e) => e.code)).toEqual(['INVALID_STATE_TRANSITION']);
    expect(more.userErrors[0]!.message).toContain('CLOSE (closeOrder)');
  });

  it('a line that costs nothing is refunded for 0 at once, without the processor', async () => {
    const { key } = await merchant();
    const { orderId, intentId } = await paidOrder(key, [
      { name: 'Coffee', quantity: 1, unitPriceMoney: { amount: 1999, currency: 'USD' } },
      { name: 'Free sticker', quantity: 2, unitPriceMoney: { amount: 0, currency: 'USD' } },
    ]);
    const sticker = (await readOrder(key, orderId)).lineItems[1]!;
    const r = await refund(key, { paymentIntentId: intentId, lineItems: [{ lineItemId: sticker.id, quantity: 2 }] });
    expect(r.userErrors).toEqual([]);
    expect(r.refund).toMatchObject({ status: 'SUCCEEDED', amountMoney: { amount: 0 }, taxMoney: { amount: 0 }, processorReference: null });
    expect(r.order!.status).toBe('PARTIALLY_REFUNDED');
    expect(r.order!.lineItems[1]).toMatchObject({ refundedQuantity: 2, refundableQuantity: 0 });
    expect(r.order!.netAmounts.refundedMoney.amount).toBe(0);
    expect(await sandboxRefundsOf(intentId)).toHaveLength(0);
  });
});

describe('refunds that wait for the processor (tok_refundFail)', () => {
  it('stays PENDING with its amount and units reserved, then FAILS: everything is refundable again and refund.failed says so', async () => {
    const { key } = await merchant();
    const { orderId, intentId, total } = await paidOrder(key, SARAH_LINES, { token: 'tok_refundFail' });
    const order = await readOrder(key, orderId);
    const coffee = order.lineItems[0]!;

    const r = await refund(key, { paymentIntentId: intentId, lineItems: [{ lineItemId: coffee.id, quantity: 2 }] });
    expect(r.userErrors).toEqual([]);
    expect(r.refund).toMatchObject({ status: 'PENDING', amountMoney: { amount: 4288 } });
    expect(r.refund!.processorReference).toMatch(/^sbre_/);
    // Reserved, not refunded: the status waits for the processor.
    expect(r.order!.status).toBe('PAID');
    expect(r.order!.netAmounts.refundedMoney.amount).toBe(0);
    expect(r.order!.refundable.amountMoney.amount).toBe(total - 4288);
    expect(r.order!.lineItems[0]).toMatchObject({ refundedQuantity: 0, refundableQuantity: 0, refundableMoney: { amount: 0 } });
    expect(r.order!.paymentIntents[0]!.refundableMoney.amount).toBe(total - 4288);
    expect(r.order!.summary).toContain('42.88 USD refund pending');

    // The reservation holds: the same units cannot be refunded twice while pending.
    const preview = (await api.exec(Preview, { input: { paymentIntentId: intentId, lineItems: [{ lineItemId: coffee.id, quantity: 1 }] } }, key)).refundPreview;
    expect(preview.userErrors.map((e) => e.code)).toEqual(['REFUND_EXCEEDS_REFUNDABLE']);
    expect(preview.userErrors[0]!.message).toContain('has 0 of 2 units left');

    // The next call of the order asks the processor: the refund failed, its units came back, and the
    // new refund of one coffee goes through (and is PENDING in its turn).
    const next = await refund(key, { paymentIntentId: intentId, lineItems: [{ lineItemId: coffee.id, quantity: 1 }] });
    expect(next.userErrors).toEqual([]);
    expect(next.refund!.status).toBe('PENDING');
    expect(next.refund!.amountMoney.amount).toBe(2144);
    const first = (await api.exec(GetRefund, { id: r.refund!.id }, key)).refund!;
    expect(first).toMatchObject({ status: 'FAILED', failureReason: 'expired_or_canceled_card' });
    const afterFail = next.order!;
    expect(afterFail.lineItems[0]).toMatchObject({ refundedQuantity: 0, refundableQuantity: 1 });
    expect(afterFail.refundable.amountMoney.amount).toBe(total - 2144);
    const failed = afterFail.activity.find((a) => a.type === 'refund.failed')!;
    expect(failed.actor.type).toBe('SYSTEM');
    expect(failed.delta).toMatchObject({
      before: { refundId: r.refund!.id, status: 'PENDING' },
      after: { refundId: r.refund!.id, status: 'FAILED', failureReason: 'expired_or_canceled_card', givenBack: { amount: 4288, lineItems: [{ lineItemId: coffee.id, quantity: 2 }] } },
    });

    // closeOrder settles the second one (FAILED too), then closes: nothing was ever refunded.
    const closed = (await api.exec(CloseOrder, { input: { orderId } }, key)).closeOrder;
    expect(closed.userErrors).toEqual([]);
    expect(closed.order!.status).toBe('CLOSED');
    const final = await readOrder(key, orderId);
    expect(final.refunds.map((x) => x.status)).toEqual(['FAILED', 'FAILED']);
    expect(final.netAmounts.refundedMoney.amount).toBe(0);
    expect(final.activity.map((a) => a.type).filter((t) => t.startsWith('refund.'))).toEqual(['refund.created', 'refund.failed', 'refund.created', 'refund.failed']);
    expect((await sandboxRefundsOf(intentId)).map((x) => x.status)).toEqual(['FAILED', 'FAILED']);
  });
});
