// createRefund and refundPreview through the public GraphQL API with the sandbox processor: the seed's
// scenario (Sarah's coffee), refunds by line item and by amount, proportional tax, idempotent replays,
// every unit one by one, refunds that stay PENDING and then FAILED (tok_refundFail), zero-amount line
// refunds, the errors and their messages, previews that write nothing, and tenancy.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { graphql } from '../generated/index.js';
import { useTestApi } from '../support/api.js';

const api = useTestApi();

const SetupVat = graphql(`
  mutation RefundsSetupVat {
    addTaxRegistration(input: { jurisdiction: "DE" }) { userErrors { code message } }
    setTaxRate(input: { jurisdiction: "DE", name: "Umsatzsteuer", rate: "0.19", inclusive: true }) { userErrors { code message } }
    food: setTaxRate(input: { jurisdiction: "DE", name: "Umsatzsteuer", rate: "0.07", inclusive: true, taxCategory: "food" }) { userErrors { code message } }
  }
`);

const SetupTax = graphql(`
  mutation RefundsSetupTax($rate: String!) {
    addTaxRegistration(input: { jurisdiction: "US-CA" }) { userErrors { code message } }
    setTaxRate(input: { jurisdiction: "US-CA", name: "California sales tax", rate: $rate }) { userErrors { code message } }
  }
`);

const CreateOrder = graphql(`
  mutation RefundsCreateOrder($input: CreateOrderInput!) {
    createOrder(input: $input) { order { id netAmounts { totalMoney { amount } taxMoney { amount } } } userErrors { code message } }
  }
`);

const PayOrder = graphql(`
  mutation RefundsPayOrder($input: PayOrderInput!) {
    payOrder(input: $input) { order { status } paymentIntent { id status amountMoney { amount } } userErrors { code message } }
  }
`);

const CreateCoupon = graphql(`
  mutation RefundsCreateCoupon($input: CreateCouponInput!) {
    createCoupon(input: $input) { coupon { id } userErrors { code message } }
  }
`);

const OrderFields = graphql(`
  fragment RefundsOrderFields on Order {
    id
    status
    summary
    netAmounts {
      subtotalMoney { amount currency }
      discountMoney { amount }
      taxMoney { amount }
      totalMoney { amount }
      paidMoney { amount }
      refundedMoney { amount }
      balanceMoney { amount }
    }
    lineItems { id name quantity refundedQuantity refundableQuantity refundableMoney { amount } totalMoney { amount } taxMoney { amount } }
    refundable { amountMoney { amount currency } lineItems { lineItem { id } quantity amountMoney { amount } } }
    paymentIntents { id refundableMoney { amount } refunds { id } }
    refunds { id status amountMoney { amount } }
    availableActions { action }
    activity { type delta idempotencyKey actor { type } }
  }
`);
void OrderFields;

const RefundFields = graphql(`
  fragment RefundsRefundFields on Refund {
    id
    status
    reason
    processorReference
    failureReason
    amountMoney { amount currency }
    taxMoney { amount currency }
    lineItems { lineItem { id name } quantity amountMoney { amount } grossMoney { amount } discountMoney { amount } taxMoney { amount } }
    paymentIntent { id }
    order { id }
  }
`);
void RefundFields;

const CreateRefund = graphql(`
  mutation RefundsCreateRefund($input: CreateRefundInput!) {
    createRefund(input: $input) {
      refund { ...RefundsRefundFields }
      order { ...RefundsOrderFields }
      userErrors { code message field }
    }
  }
`);

const Preview = graphql(`
  query RefundsPreview($input: RefundPreviewInput!) {
    refundPreview(input: $input) {
      amountMoney { amount currency }
      taxMoney { amount currency }
      lineItems { lineItem { id name } quantity amountMoney { amount } grossMoney { amount } discountMoney { amount } taxMoney { amount } }
      resultingStatus
      resultingNetAmounts { subtotalMoney { amount } discountMoney { amount } taxMoney { amount } totalMoney { amount } paidMoney { amount } refundedMoney { amount } balanceMoney { amount } }
      userErrors { code message field }
    }
  }
`);

const GetOrder = graphql(`
  query RefundsGetOrder($id: ID!) {
    order(id: $id) { ...RefundsOrderFields }
  }
`);

const LastOrderOf = graphql(`
  query RefundsLastOrderOf($email: String!) {
    orders(filter: { buyerEmail: $email }, first: 1) {
      edges { node { id lineItems { id name } paymentIntents { id status } } }
    }
  }
`);

const GetRefund = graphql(`
  query RefundsGetRefund($id: ID!) {
    refund(id: $id) { ...RefundsRefundFields }
    node(id: $id) { id ... on Refund { status } }
  }
`);

const CloseOrder = graphql(`
  mutation RefundsCloseOrder($input: CloseOrderInput!) {
    closeOrder(input: $input) { order { id status availableActions { action } } userErrors { code message field } }
  }
`);

const SARAH_LINES = [
  { name: 'Organic Coffee Beans', sku: 'COFFEE-1KG', quantity: 2, unitPriceMoney: { amount: 1999, currency: 'USD' } },
  { name: 'Ceramic Pour-Over Mug', sku: 'MUG-01', quantity: 1, unitPriceMoney: { amount: 2400, currency: 'USD' } },
];

/** A merchant in California collecting 7.25 % (the seed's setup). */
async function merchant(rate = '0.0725') {
  const m = await api.signup({ originAddress: { country: 'US', region: 'CA' } });
  const setup = await api.exec(SetupTax, { rate }, m.key);
  expect([...setup.addTaxRegistration.userErrors, ...setup.setTaxRate.userErrors]).toEqual([]);
  return m;
}

async function paidOrder(key: string, lines: unknown[] = SARAH_LINES, options: { token?: string; extra?: Record<string, unknown> } = {}) {
  const created = await api.exec(CreateOrder, { input: { buyerEmail: 'sarah@example.com', lineItems: lines as never, ...options.extra } }, key);
  expect(created.createOrder.userErrors).toEqual([]);
  const order = created.createOrder.order!;
  const paid = await api.exec(PayOrder, { input: { orderId: order.id, paymentSourceTokens: [options.token ?? 'tok_visa'] } }, key);
  expect(paid.payOrder.userErrors).toEqual([]);
  expect(paid.payOrder.order!.status).toBe('PAID');
  return { orderId: order.id, intentId: paid.payOrder.paymentIntent!.id, total: order.netAmounts.totalMoney.amount, tax: order.netAmounts.taxMoney.amount };
}

async function refund(key: string, input: Record<string, unknown>) {
  return (await api.exec(CreateRefund, { input: { reason: 'REFUND_REASON_REQUESTED_BY_CUSTOMER', ...input } as never }, key)).createRefund;
}

async function readOrder(key: string, id: string) {
  return (await api.exec(GetOrder, { id }, key)).order!;
}

async function sandboxRefundsOf(intentId: string) {
  const rows = await api.db.sandboxRefund.findMany({ orderBy: { id: 'asc' } });
  return rows.filter((r) => (r.metadata as { flint_payment_intent_id?: string }).flint_payment_intent_id === intentId);
}

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

describe('property through the API (a smaller version of src/domain/refund-plan.property.test.ts)', () => {
  const lineArb = fc.record({ quantity: fc.integer({ min: 1, max: 4 }), price: fc.integer({ min: 1, max: 5000 }), food: fc.boolean() });
  const opArb = fc.oneof(
    fc.record({ kind: fc.constant('units' as const), line: fc.nat(), units: fc.integer({ min: 1, max: 3 }) }),
    fc.record({ kind: fc.constant('amount' as const), amount: fc.integer({ min: 1, max: 4000 }) }),
  );

  it('random orders and refund sequences: never more than paid; finishing returns exactly what was paid, tax exactly, netAmounts at zero', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(lineArb, { minLength: 1, maxLength: 3 }),
        fc.option(fc.constantFrom('10', '12.5', '33'), { nil: null }),
        fc.constantFrom('exclusive', 'inclusive'),
        fc.array(opArb, { maxLength: 6 }),
        async (lines, percentOff, tax, ops) => {
          const currency = tax === 'inclusive' ? 'EUR' : 'USD';
          let key: string;
          if (tax === 'inclusive') {
            key = (await api.signup({ originAddress: { country: 'DE' } })).key;
            const vat = await api.exec(SetupVat, {}, key);
            expect([...vat.addTaxRegistration.userErrors, ...vat.setTaxRate.userErrors, ...vat.food.userErrors]).toEqual([]);
          } else {
            key = (await merchant()).key;
          }
          if (percentOff) await api.exec(CreateCoupon, { input: { code: 'PROP', type: 'PERCENTAGE', percentOff } }, key);
          const { orderId, intentId, total, tax: charged } = await paidOrder(
            key,
            lines.map((l, i) => ({ name: `Line ${i}`, quantity: l.quantity, unitPriceMoney: { amount: l.price, currency }, taxCategory: l.food ? 'food' : 'general' })),
            { extra: percentOff ? { couponCodes: ['PROP'] } : {} },
          );
          const order = await readOrder(key, orderId);
          let refunded = 0;
          let refundedTax = 0;
          const step = async (input: Record<string, unknown>) => {
            const r = await refund(key, { paymentIntentId: intentId, ...input });
            if (r.userErrors.length > 0) {
              // More than is left; or nothing is left at all (REFUNDED orders take no more refunds).
              expect(r.userErrors.map((e) => e.code)).toEqual([refunded === total ? 'INVALID_STATE_TRANSITION' : 'REFUND_EXCEEDS_REFUNDABLE']);
              return null;
            }
            refunded += r.refund!.amountMoney.amount;
            refundedTax += r.refund!.taxMoney.amount;
            expect(refunded).toBeLessThanOrEqual(total);
            expect(r.order!.refundable.amountMoney.amount).toBe(total - refunded);
            expect(r.order!.netAmounts.balanceMoney.amount).toBe(0);
            return r;
          };
          for (const op of ops) {
            if (op.kind === 'units') {
              const line = order.lineItems[op.line % order.lineItems.length]!;
              await step({ lineItems: [{ lineItemId: line.id, quantity: Math.min(op.units, line.quantity) }] });
            } else {
              await step({ amountMoney: { amount: op.amount, currency } });
            }
          }
          // Finish: every unit left (as far as the payment covers it), then whatever amount is left.
          for (const line of (await readOrder(key, orderId)).lineItems) {
            if (line.refundableQuantity > 0) await step({ lineItems: [{ lineItemId: line.id, quantity: line.refundableQuantity }] });
          }
          const left = (await readOrder(key, orderId)).refundable.amountMoney.amount;
          if (left > 0) expect(await step({ amountMoney: { amount: left, currency } })).not.toBeNull();
          const final = await readOrder(key, orderId);
          expect(refunded).toBe(total);
          expect(refundedTax).toBe(charged);
          expect(final.status).toBe('REFUNDED');
          expect(final.netAmounts).toMatchObject({ taxMoney: { amount: 0 }, totalMoney: { amount: 0 }, refundedMoney: { amount: total }, balanceMoney: { amount: 0 } });
          if (ops.every((o) => o.kind === 'units')) expect(final.netAmounts).toMatchObject({ subtotalMoney: { amount: 0 }, discountMoney: { amount: 0 } });
        },
      ),
      { numRuns: 6 },
    );
  }, 120_000);
});
