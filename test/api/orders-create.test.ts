// Orders through the public GraphQL API: createOrder and order(id) (exact amounts, US sales tax allocation,
// empty orders, another merchant's order hidden, unknown ids) and the summary sentence.
import { describe, expect, it } from 'vitest';
import { api, CreateOrder, GetOrder, ListOrders, AddLines, CancelOrder, line, create, createSimple, getOrder, californiaTax, counts, CA } from '../support/orders.js';

// --- create & read -----------------------------------------------------------------------------------

describe('createOrder and order(id)', () => {
  it('signs up, creates an order and returns every amount exactly (no tax settings → no tax)', async () => {
    const { key } = await api.signup();
    const order = await create(key, {
      customerId: 'cus_42',
      buyerEmail: 'sarah@example.com',
      metadata: { channel: 'web', cart: 7 },
      lineItems: [
        { ...line({ name: 'Organic Coffee Beans', quantity: 2, amount: 1999, sku: 'COF-1' }), metadata: { roast: 'dark' } },
        line({ name: 'Ceramic Mug', quantity: 1, amount: 1450 }),
      ],
    });
    expect(order.id).toMatch(/^ord_/);
    expect(order.status).toBe('OPEN');
    expect(order.currency).toBe('USD');
    expect(order.version).toBe(1);
    expect(order.customerId).toBe('cus_42');
    expect(order.buyerEmail).toBe('sarah@example.com');
    expect(order.metadata).toEqual({ channel: 'web', cart: 7 });
    expect(order.shippingAddress).toBeNull();
    expect(order.taxes).toEqual([]);
    expect(order.lineItems.map((l) => [l.name, l.sku, l.quantity, l.taxCategory, l.unitPriceMoney.amount, l.grossMoney.amount, l.taxMoney.amount, l.totalMoney.amount])).toEqual([
      ['Organic Coffee Beans', 'COF-1', 2, 'general', 1999, 3998, 0, 3998],
      ['Ceramic Mug', null, 1, 'general', 1450, 1450, 0, 1450],
    ]);
    expect(order.lineItems[0]!.metadata).toEqual({ roast: 'dark' });
    expect(order.lineItems[0]!.id).toMatch(/^li_/);
    expect(order.lineItems.every((l) => l.taxes.length === 0)).toBe(true);
    expect(order.netAmounts).toEqual({
      subtotalMoney: { amount: 5448, currency: 'USD' },
      discountMoney: { amount: 0 },
      taxMoney: { amount: 0 },
      totalMoney: { amount: 5448, currency: 'USD' },
      paidMoney: { amount: 0 },
      refundedMoney: { amount: 0 },
      balanceMoney: { amount: 5448 },
    });
    expect(order.activity.map((a) => a.type)).toEqual(['order.created']);
    expect(order.summary).toContain('Organic Coffee Beans ×2');
    expect(order.summary).toContain('Ceramic Mug ×1');
    expect(order.summary).toContain('54.48 USD');

    // Reading it back returns the same state.
    const read = await getOrder(key, order.id);
    expect(read.netAmounts).toEqual(order.netAmounts);
    expect(read.lineItems).toEqual(order.lineItems);
    expect(read.version).toBe(1);
  });

  it('taxes an exclusive US sales tax order with exact line allocation', async () => {
    const { key } = await api.signup();
    await californiaTax(key);
    const order = await create(key, {
      shippingAddress: { ...CA, city: 'San Francisco', postalCode: '94103', line1: '1 Market St' },
      lineItems: [line({ name: 'Beans', quantity: 2, amount: 1999 }), line({ name: 'Filter', quantity: 1, amount: 500 })],
    });
    // 4498 × 0.0725 = 326.105 → 326; allocated [289.76…, 36.24…] → [290, 36].
    expect(order.taxes).toEqual([
      { name: 'California sales tax', jurisdiction: 'US-CA', rate: '0.0725', inclusive: false, taxableMoney: { amount: 4498, currency: 'USD' }, taxMoney: { amount: 326, currency: 'USD' } },
    ]);
    expect(order.lineItems.map((l) => [l.taxMoney.amount, l.totalMoney.amount])).toEqual([
      [290, 4288],
      [36, 536],
    ]);
    expect(order.netAmounts.subtotalMoney.amount).toBe(4498);
    expect(order.netAmounts.taxMoney.amount).toBe(326);
    expect(order.netAmounts.totalMoney.amount).toBe(4824);
    expect(order.netAmounts.balanceMoney.amount).toBe(4824);
    expect(order.shippingAddress).toEqual({ country: 'US', region: 'CA', city: 'San Francisco', postalCode: '94103', line1: '1 Market St', line2: null });
  });

  it('creates an empty order when the currency is given, and prices lines added later', async () => {
    const { key } = await api.signup();
    const order = await create(key, { currency: 'EUR', lineItems: [] });
    expect(order.currency).toBe('EUR');
    expect(order.lineItems).toEqual([]);
    expect(order.netAmounts.totalMoney).toEqual({ amount: 0, currency: 'EUR' });
    const added = await api.exec(AddLines, { input: { orderId: order.id, lineItems: [line({ name: 'Tee', quantity: 3, amount: 2500, currency: 'EUR' })] } }, key);
    expect(added.addLineItems.userErrors).toEqual([]);
    expect(added.addLineItems.order?.netAmounts.totalMoney).toEqual({ amount: 7500, currency: 'EUR' });
  });

  it("hides another merchant's order: order(id) is null and edits are NOT_FOUND without touching it", async () => {
    const a = await api.signup();
    const b = await api.signup();
    const order = await createSimple(a.key);
    const read = await api.exec(GetOrder, { id: order.id }, b.key);
    expect(read.order).toBeNull();
    const before = await counts(a.merchantId);
    const add = await api.exec(AddLines, { input: { orderId: order.id, lineItems: [line({ name: 'X', quantity: 1, amount: 1 })] } }, b.key);
    expect(add.addLineItems.order).toBeNull();
    expect(add.addLineItems.userErrors.map((e) => [e.code, e.field])).toEqual([['NOT_FOUND', ['input', 'orderId']]]);
    const cancel = await api.exec(CancelOrder, { input: { orderId: order.id } }, b.key);
    expect(cancel.cancelOrder.userErrors.map((e) => [e.code, e.field])).toEqual([['NOT_FOUND', ['input', 'orderId']]]);
    expect(await counts(a.merchantId)).toEqual(before);
    const still = await getOrder(a.key, order.id);
    expect(still.status).toBe('OPEN');
    expect(still.version).toBe(1);
    // And B's list does not show it.
    const list = await api.exec(ListOrders, {}, b.key);
    expect(list.orders.edges).toEqual([]);
  });

  it('returns null for an id that does not exist', async () => {
    const { key } = await api.signup();
    const read = await api.exec(GetOrder, { id: 'ord_00000000000000000000000000' }, key);
    expect(read.order).toBeNull();
  });
});

describe('summary sentence', () => {
  it('is one deterministic sentence naming each line with its quantity', async () => {
    const { key } = await api.signup();
    const input = {
      lineItems: [
        { name: 'Organic Coffee Beans', quantity: 2, unitPriceMoney: { amount: 1999, currency: 'USD' } },
        { name: 'Ceramic Pour-Over Mug', quantity: 1, unitPriceMoney: { amount: 2400, currency: 'USD' } },
      ],
    };
    const first = (await api.exec(CreateOrder, { input }, key)).createOrder.order!;
    const second = (await api.exec(CreateOrder, { input }, key)).createOrder.order!;
    expect(first.summary).toBe('2 items (Organic Coffee Beans ×2, Ceramic Pour-Over Mug ×1), total 63.98 USD, 63.98 USD due, open for changes.');
    expect(second.summary).toBe(first.summary);
  });
});
