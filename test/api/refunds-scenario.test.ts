// createRefund through the public GraphQL API with the sandbox processor: the seed's scenario (Sarah's coffee)
// refunded by line item and by amount, proportional tax, idempotent replays.
import { describe, expect, it } from 'vitest';
import { graphql } from '../generated/index.js';
import { api, Preview, GetRefund, merchant, paidOrder, refund, readOrder, sandboxRefundsOf } from '../support/refunds.js';

const LastOrderOf = graphql(`
  query RefundsLastOrderOf($email: String!) {
    orders(filter: { buyerEmail: $email }, first: 1) {
      edges { node { id lineItems { id name } paymentIntents { id status } } }
    }
  }
`);

describe("the seed's scenario: refund the coffee from Sarah's last order", () => {
  it('by line item: the unit\'s exact share, tax part, new netAmounts, PARTIALLY_REFUNDED and refund.created', async () => {
    const { key } = await merchant();
    await paidOrder(key); // an older order of Sarah's
    const { orderId, intentId, total, tax } = await paidOrder(key);
    // 2 × 19.99 + 24.00 = 63.98; tax 7.25 % = 4.63855 → 4.64, allocated 2.90 to the coffee, 1.74 to the mug.
    expect({ total, tax }).toEqual({ total: 6862, tax: 464 });

    // Find her last order by buyerEmail, then the coffee line and the payment.
    const last = (await api.exec(LastOrderOf, { email: 'sarah@example.com' }, key)).orders.edges[0]!.node;
    expect(last.id).toBe(orderId);
    const coffee = last.lineItems.find((l) => l.name === 'Organic Coffee Beans')!;
    const payment = last.paymentIntents.find((p) => p.status === 'SUCCEEDED')!;
    expect(payment.id).toBe(intentId);

    // Preview first: the very same numbers, nothing written.
    const preview = (await api.exec(Preview, { input: { paymentIntentId: payment.id, lineItems: [{ lineItemId: coffee.id, quantity: 1 }] } }, key)).refundPreview;
    expect(preview.userErrors).toEqual([]);
    expect(preview.amountMoney).toEqual({ amount: 2144, currency: 'USD' });
    expect(preview.taxMoney).toEqual({ amount: 145, currency: 'USD' });
    expect(preview.resultingStatus).toBe('PARTIALLY_REFUNDED');
    const before = await readOrder(key, orderId);
    expect(before.refunds).toEqual([]);

    const result = await refund(key, { paymentIntentId: payment.id, lineItems: [{ lineItemId: coffee.id, quantity: 1 }] });
    expect(result.userErrors).toEqual([]);
    const r = result.refund!;
    // One coffee: gross 19.99, tax f(1) = 2.90 / 2 = 1.45 → 21.44 back.
    expect(r).toMatchObject({
      status: 'SUCCEEDED',
      reason: 'REFUND_REASON_REQUESTED_BY_CUSTOMER',
      amountMoney: { amount: 2144, currency: 'USD' },
      taxMoney: { amount: 145, currency: 'USD' },
      paymentIntent: { id: intentId },
      order: { id: orderId },
      failureReason: null,
    });
    expect(r.processorReference).toMatch(/^sbre_/);
    expect(r.lineItems).toEqual([
      { lineItem: { id: coffee.id, name: 'Organic Coffee Beans' }, quantity: 1, amountMoney: { amount: 2144 }, grossMoney: { amount: 1999 }, discountMoney: { amount: 0 }, taxMoney: { amount: 145 } },
    ]);
    expect(preview.lineItems).toEqual(r.lineItems);

    const order = result.order!;
    expect(order.status).toBe('PARTIALLY_REFUNDED');
    expect(order.netAmounts).toEqual({
      subtotalMoney: { amount: 6398 - 1999, currency: 'USD' },
      discountMoney: { amount: 0 },
      taxMoney: { amount: 464 - 145 },
      totalMoney: { amount: 6862 - 2144 },
      paidMoney: { amount: 6862 },
      refundedMoney: { amount: 2144 },
      balanceMoney: { amount: 0 },
    });
    expect(preview.resultingNetAmounts).toEqual({
      subtotalMoney: { amount: 4399 },
      discountMoney: { amount: 0 },
      taxMoney: { amount: 319 },
      totalMoney: { amount: 4718 },
      paidMoney: { amount: 6862 },
      refundedMoney: { amount: 2144 },
      balanceMoney: { amount: 0 },
    });
    const coffeeAfter = order.lineItems.find((l) => l.id === coffee.id)!;
    expect(coffeeAfter).toMatchObject({ refundedQuantity: 1, refundableQuantity: 1, refundableMoney: { amount: 2144 } }); // 3998 + 290 − 2144
    expect(order.refundable.amountMoney).toEqual({ amount: 6862 - 2144, currency: 'USD' });
    expect(order.paymentIntents).toEqual([{ id: intentId, refundableMoney: { amount: 4718 }, refunds: [{ id: r.id }] }]);
    expect(order.refunds).toEqual([{ id: r.id, status: 'SUCCEEDED', amountMoney: { amount: 2144 } }]);
    expect(order.summary).toContain('21.44 USD refunded');
    expect(order.availableActions.map((a) => a.action).sort()).toEqual(['CLOSE', 'REFUND']);

    const types = order.activity.map((a) => a.type);
    expect(types.slice(-3)).toEqual(['refund.created', 'refund.succeeded', 'order.status_changed']);
    const created = order.activity.find((a) => a.type === 'refund.created')!;
    expect(created.actor.type).toBe('API_KEY');
    expect(created.delta).toMatchObject({
      before: { refundable: 6862, paymentIntentRefundable: 6862 },
      after: {
        refundId: r.id,
        status: 'PENDING',
        amount: 2144,
        tax: 145,
        currency: 'USD',
        byLineItems: true,
        lineItems: [{ lineItemId: coffee.id, name: 'Organic Coffee Beans', quantity: 1, gross: 1999, discount: 0, tax: 145, amount: 2144 }],
        refundable: 4718,
        paymentIntentRefundable: 4718,
      },
    });
    expect(order.activity.at(-1)!.delta).toEqual({ before: { status: 'PAID' }, after: { status: 'PARTIALLY_REFUNDED' } });

    // The processor refunded exactly that, under our derived key.
    const ledger = await sandboxRefundsOf(intentId);
    expect(ledger.map((x) => [x.amount, x.status, x.idempotencyKey])).toEqual([[2144n, 'SUCCEEDED', `flint_re_${r.id}`]]);

    const read = await api.exec(GetRefund, { id: r.id }, key);
    expect(read.refund).toEqual(r);
    expect(read.node).toEqual({ id: r.id, status: 'SUCCEEDED' });
  });

  it('by amountMoney 1999 with a reason and an idempotency key: replayed, one refund; tax part proportional', async () => {
    const { key } = await merchant();
    const { orderId, intentId } = await paidOrder(key);
    const input = {
      paymentIntentId: intentId,
      amountMoney: { amount: 1999, currency: 'USD' },
      reason: 'REFUND_REASON_REQUESTED_BY_CUSTOMER',
      idempotencyKey: `sarah-coffee-${orderId}`,
    };
    const first = await refund(key, input);
    expect(first.userErrors).toEqual([]);
    // 1999 × 464 / 6862 = 135.17 → 135.
    expect(first.refund).toMatchObject({ status: 'SUCCEEDED', amountMoney: { amount: 1999 }, taxMoney: { amount: 135 }, lineItems: [] });
    expect(first.order!.status).toBe('PARTIALLY_REFUNDED');
    expect(first.order!.netAmounts).toMatchObject({
      subtotalMoney: { amount: 6398 },
      taxMoney: { amount: 464 - 135 },
      totalMoney: { amount: 6862 - 1999 },
      refundedMoney: { amount: 1999 },
      balanceMoney: { amount: 0 },
    });
    // An amount refund takes no units.
    expect(first.order!.lineItems.map((l) => l.refundableQuantity)).toEqual([2, 1]);

    const replay = await refund(key, input);
    expect(replay.userErrors).toEqual([]);
    expect(replay.refund!.id).toBe(first.refund!.id);
    const again = await Promise.all([refund(key, input), refund(key, input)]);
    expect(again.map((x) => x.refund!.id)).toEqual([first.refund!.id, first.refund!.id]);

    const order = await readOrder(key, orderId);
    expect(order.refunds).toHaveLength(1);
    expect(order.netAmounts.refundedMoney.amount).toBe(1999);
    expect(order.activity.filter((a) => a.type === 'refund.created')).toHaveLength(1);
    expect(await sandboxRefundsOf(intentId)).toHaveLength(1);

    const reused = await refund(key, { ...input, amountMoney: { amount: 2000, currency: 'USD' } });
    expect(reused.userErrors.map((e) => e.code)).toEqual(['IDEMPOTENCY_KEY_REUSED']);
    expect(reused.refund).toBeNull();
  });
});
