// Input rules of the order edit mutations (addLineItems, updateLineItem, setShippingAddress, cancelOrder)
// through the public API: every bad value is a userError with the exact `field` path, nothing changed.
import { describe, expect, it } from 'vitest';
import { graphql } from '../generated/index.js';
import { api, AddLines, type LineInput, line, counts, expectCreated, Q } from '../support/order-validation.js';

const UpdateLine = graphql(`
  mutation ValidationUpdateLine($input: UpdateLineItemInput!) {
    updateLineItem(input: $input) {
      order { id version }
      userErrors { code message field }
    }
  }
`);

const SetShipping = graphql(`
  mutation ValidationSetShipping($input: SetShippingAddressInput!) {
    setShippingAddress(input: $input) {
      order { id version }
      userErrors { code message field }
    }
  }
`);

const CancelOrder = graphql(`
  mutation ValidationCancel($input: CancelOrderInput!) {
    cancelOrder(input: $input) {
      order { id status }
      userErrors { code message field }
    }
  }
`);

const GetOrder = graphql(`
  query ValidationGet($id: ID!) {
    order(id: $id) { id version status lineItems { id quantity } netAmounts { totalMoney { amount } } }
  }
`);

// --- edits ----------------------------------------------------------------------------------------------------

describe('edit input rules', () => {
  async function openOrder(key: string) {
    return expectCreated(key, { lineItems: [line({ name: 'Base', quantity: 2 })] });
  }

  async function expectUnchanged(key: string, orderId: string, merchantId: string, before: Awaited<ReturnType<typeof counts>>) {
    expect(await counts(merchantId)).toEqual(before);
    const read = (await api.exec(GetOrder, { id: orderId }, key)).order!;
    expect(read.version).toBe(1);
    expect(read.status).toBe('OPEN');
    expect(read.lineItems.map((l) => l.quantity)).toEqual([2]);
    expect(read.netAmounts.totalMoney.amount).toBe(2000);
  }

  it('addLineItems: the same line rules, paths under input.lineItems, nothing changed', async () => {
    const { key, merchantId } = await api.signup();
    const order = await openOrder(key);
    const before = await counts(merchantId);
    const cases: [LineInput[], [string, string[]][]][] = [
      [[], [['INVALID_INPUT', ['input', 'lineItems']]]],
      [[line({ quantity: 0 })], [['INVALID_INPUT', Q(0, 'quantity')]]],
      [[line(), line({ quantity: 100001 })], [['INVALID_INPUT', Q(1, 'quantity')]]],
      [[line({ unitPriceMoney: { amount: -1, currency: 'USD' } })], [['INVALID_INPUT', Q(0, 'unitPriceMoney', 'amount')]]],
      [[line({ name: '' })], [['INVALID_INPUT', Q(0, 'name')]]],
      [[line({ taxCategory: 'Bad Category' })], [['INVALID_INPUT', Q(0, 'taxCategory')]]],
      [[line({ metadata: ['x'] })], [['INVALID_INPUT', Q(0, 'metadata')]]],
      [[line({ unitPriceMoney: { amount: 100, currency: 'usd' } })], [['INVALID_INPUT', Q(0, 'unitPriceMoney', 'currency')]]],
      [[line({ unitPriceMoney: { amount: 100, currency: 'EUR' } })], [['CURRENCY_MISMATCH', Q(0, 'unitPriceMoney', 'currency')]]],
    ];
    for (const [lineItems, expected] of cases) {
      const data = await api.exec(AddLines, { input: { orderId: order.id, lineItems } }, key);
      expect(data.addLineItems.order).toBeNull();
      expect(data.addLineItems.userErrors.map((e) => [e.code, e.field])).toEqual(expected);
    }
    await expectUnchanged(key, order.id, merchantId, before);
  });

  it('updateLineItem: quantity from 1 to 100000 at input.quantity, nothing changed', async () => {
    const { key, merchantId } = await api.signup();
    const order = await openOrder(key);
    const before = await counts(merchantId);
    for (const quantity of [0, -1, 100001]) {
      const data = await api.exec(UpdateLine, { input: { orderId: order.id, lineItemId: order.lineItems[0]!.id, quantity } }, key);
      expect(data.updateLineItem.order).toBeNull();
      expect(data.updateLineItem.userErrors.map((e) => [e.code, e.field])).toEqual([['INVALID_INPUT', ['input', 'quantity']]]);
    }
    const float = await api.request(UpdateLine, { input: { orderId: order.id, lineItemId: order.lineItems[0]!.id, quantity: 2.5 } }, key);
    expect(float.errors?.length ?? 0).toBeGreaterThan(0);
    await expectUnchanged(key, order.id, merchantId, before);
  });

  it('refuses edits that would take an amount out of the SafeInt range with a userError, nothing changed', async () => {
    const { key, merchantId } = await api.signup();
    // 1 × 10^12 is fine; 100000 × 10^12 = 10^17 is not a SafeInt.
    const order = await expectCreated(key, { lineItems: [line({ name: 'Pricey', unitPriceMoney: { amount: 1_000_000_000_000, currency: 'USD' } })] });
    const before = await counts(merchantId);
    const upd = await api.request(UpdateLine, { input: { orderId: order.id, lineItemId: order.lineItems[0]!.id, quantity: 100000 } }, key);
    const add = await api.request(
      AddLines,
      { input: { orderId: order.id, lineItems: [line({ quantity: 100000, unitPriceMoney: { amount: 1_000_000_000_000, currency: 'USD' } })] } },
      key,
    );
    expect(await counts(merchantId)).toEqual(before);
    const read = (await api.exec(GetOrder, { id: order.id }, key)).order!;
    expect(read.version).toBe(1);
    expect(read.netAmounts.totalMoney.amount).toBe(1_000_000_000_000);
    // Expected: INVALID_INPUT userErrors, not an opaque "Unexpected error.".
    expect(upd.errors, JSON.stringify(upd.errors)).toBeUndefined();
    expect(upd.data!.updateLineItem.userErrors.map((e) => e.code)).toEqual(['INVALID_INPUT']);
    expect(upd.data!.updateLineItem.userErrors[0]!.field).toEqual(['input', 'quantity']);
    expect(add.errors, JSON.stringify(add.errors)).toBeUndefined();
    expect(add.data!.addLineItems.userErrors.map((e) => e.code)).toEqual(['INVALID_INPUT']);
    expect(add.data!.addLineItems.userErrors[0]!.field?.slice(0, 2)).toEqual(['input', 'lineItems']);
  });

  it('setShippingAddress: bad country or region at input.shippingAddress.*, nothing changed', async () => {
    const { key, merchantId } = await api.signup();
    const order = await openOrder(key);
    const before = await counts(merchantId);
    for (const [address, field] of [
      [{ country: 'ZZ' }, ['input', 'shippingAddress', 'country']],
      [{ country: 'Germany' }, ['input', 'shippingAddress', 'country']],
      [{ country: 'US', region: 'C-A!' }, ['input', 'shippingAddress', 'region']],
      [{ country: 'US', city: 'c'.repeat(201) }, ['input', 'shippingAddress', 'city']],
    ] as [{ country: string; region?: string; city?: string }, string[]][]) {
      const data = await api.exec(SetShipping, { input: { orderId: order.id, shippingAddress: address } }, key);
      expect(data.setShippingAddress.order).toBeNull();
      expect(data.setShippingAddress.userErrors.map((e) => [e.code, e.field])).toEqual([['INVALID_INPUT', field]]);
    }
    await expectUnchanged(key, order.id, merchantId, before);
  });

  it('cancelOrder: reason at most 500 characters, nothing changed', async () => {
    const { key, merchantId } = await api.signup();
    const order = await openOrder(key);
    const before = await counts(merchantId);
    const data = await api.exec(CancelOrder, { input: { orderId: order.id, reason: 'r'.repeat(501) } }, key);
    expect(data.cancelOrder.order).toBeNull();
    expect(data.cancelOrder.userErrors.map((e) => [e.code, e.field])).toEqual([['INVALID_INPUT', ['input', 'reason']]]);
    await expectUnchanged(key, order.id, merchantId, before);
  });
});
