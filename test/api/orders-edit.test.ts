// Orders through the public GraphQL API: editing an OPEN order (add, update, remove lines and set the shipping
// address re-price, bump the version and append activity; unknown line items are NOT_FOUND).
import { describe, expect, it } from 'vitest';
import { graphql } from '../generated/index.js';
import { api, AddLines, UpdateLine, RemoveLine, SetShipping, line, create, createSimple, getOrder, californiaTax, counts, type Delta, CA } from '../support/orders.js';

const Viewer = graphql(`
  query OrdersViewer {
    viewer { id apiKeys { id prefix } }
  }
`);
const netTotal = (side: Record<string, unknown> | null | undefined) => (side?.netAmounts as { total: number } | undefined)?.total;
const netSubtotal = (side: Record<string, unknown> | null | undefined) => (side?.netAmounts as { subtotal: number } | undefined)?.subtotal;

// --- edits ------------------------------------------------------------------------------------------------

describe('editing an OPEN order', () => {
  it('addLineItems, updateLineItem and removeLineItem re-price, bump the version and append activity', async () => {
    const { key } = await api.signup();
    await californiaTax(key);
    const viewer = (await api.exec(Viewer, {}, key)).viewer!;
    const apiKey = viewer.apiKeys[0]!;

    const created = await create(key, { shippingAddress: CA, lineItems: [line({ name: 'Beans', quantity: 1, amount: 1000 })] });
    // 1000 × 7.25 % = 72.5 → 72 (half even).
    expect(created.netAmounts.taxMoney.amount).toBe(72);
    expect(created.netAmounts.totalMoney.amount).toBe(1072);
    const v1UpdatedAt = created.updatedAt;

    // add: 1000 + 2×600 = 2200 × 7.25 % = 159.5 → 160 (half even, 159 is odd).
    const add = await api.exec(
      AddLines,
      { input: { orderId: created.id, expectedVersion: 1, lineItems: [line({ name: 'Mug', quantity: 2, amount: 600, sku: 'MUG' })] } },
      key,
    );
    expect(add.addLineItems.userErrors).toEqual([]);
    const v2 = add.addLineItems.order!;
    expect(v2.version).toBe(2);
    expect(v2.lineItems.map((l) => [l.name, l.quantity, l.grossMoney.amount])).toEqual([
      ['Beans', 1, 1000],
      ['Mug', 2, 1200],
    ]);
    expect(v2.netAmounts.subtotalMoney.amount).toBe(2200);
    expect(v2.netAmounts.taxMoney.amount).toBe(160);
    // 160 over [1000, 1200]: 72.72… / 87.27… → floors 72 + 87 = 159, leftover to the larger fraction (first).
    expect(v2.lineItems.map((l) => l.taxMoney.amount)).toEqual([73, 87]);
    expect(v2.netAmounts.totalMoney.amount).toBe(2360);
    expect(v2.lineItems.reduce((s, l) => s + l.totalMoney.amount, 0)).toBe(2360);
    expect(Date.parse(v2.updatedAt)).toBeGreaterThanOrEqual(Date.parse(v1UpdatedAt));
    const mugId = v2.lineItems[1]!.id;
    const beansId = v2.lineItems[0]!.id;
    expect(v2.lineItems[0]!.id).toBe(created.lineItems[0]!.id);

    // update: Mug ×5 → 1000 + 3000 = 4000 × 7.25 % = 290.
    const upd = await api.exec(UpdateLine, { input: { orderId: created.id, lineItemId: mugId, quantity: 5, expectedVersion: 2 } }, key);
    expect(upd.updateLineItem.userErrors).toEqual([]);
    const v3 = upd.updateLineItem.order!;
    expect(v3.version).toBe(3);
    expect(v3.lineItems.map((l) => [l.id, l.quantity, l.grossMoney.amount, l.taxMoney.amount, l.totalMoney.amount])).toEqual([
      [beansId, 1, 1000, 73, 1073],
      [mugId, 5, 3000, 217, 3217],
    ]);
    expect(v3.netAmounts.taxMoney.amount).toBe(290);
    expect(v3.netAmounts.totalMoney.amount).toBe(4290);

    // remove Beans: 3000 × 7.25 % = 217.5 → 218 (half even, 217 is odd).
    const rem = await api.exec(RemoveLine, { input: { orderId: created.id, lineItemId: beansId, expectedVersion: 3 } }, key);
    expect(rem.removeLineItem.userErrors).toEqual([]);
    const v4 = rem.removeLineItem.order!;
    expect(v4.version).toBe(4);
    expect(v4.lineItems.map((l) => l.id)).toEqual([mugId]);
    expect(v4.netAmounts.subtotalMoney.amount).toBe(3000);
    expect(v4.netAmounts.taxMoney.amount).toBe(218);
    expect(v4.netAmounts.totalMoney.amount).toBe(3218);
    expect(v4.lineItems[0]!.totalMoney.amount).toBe(3218);

    // The stored state matches the mutation responses.
    const read = await getOrder(key, created.id);
    expect(read.version).toBe(4);
    expect(read.netAmounts).toEqual(v4.netAmounts);
    expect(read.lineItems).toEqual(v4.lineItems);
    expect(await api.db.lineItem.count({ where: { orderId: created.id } })).toBe(1);

    // Activity: one entry per change, in order, by the API key, with before/after net amounts.
    expect(read.activity.map((a) => a.type)).toEqual(['order.created', 'order.line_items_added', 'order.line_item_updated', 'order.line_item_removed']);
    for (const a of read.activity) {
      expect(a.actor).toEqual({ type: 'API_KEY', id: apiKey.id, name: apiKey.prefix });
      expect(a.orderId).toBe(created.id);
      expect(a.id).toMatch(/^act_/);
    }
    const deltas = read.activity.map((a) => a.delta as Delta);
    expect(deltas[0]!.before).toBeNull();
    expect(netTotal(deltas[0]!.after)).toBe(1072);
    expect([netTotal(deltas[1]!.before), netTotal(deltas[1]!.after)]).toEqual([1072, 2360]);
    expect([netSubtotal(deltas[1]!.before), netSubtotal(deltas[1]!.after)]).toEqual([1000, 2200]);
    expect([netTotal(deltas[2]!.before), netTotal(deltas[2]!.after)]).toEqual([2360, 4290]);
    expect([netTotal(deltas[3]!.before), netTotal(deltas[3]!.after)]).toEqual([4290, 3218]);
    expect((deltas[2]!.before!.lineItem as { quantity: number }).quantity).toBe(2);
    expect((deltas[2]!.after!.lineItem as { quantity: number }).quantity).toBe(5);
    expect((deltas[3]!.before!.lineItem as { id: string }).id).toBe(beansId);
    expect(((deltas[1]!.after!.lineItems as { name: string }[]) ?? []).map((l) => l.name)).toEqual(['Mug']);
  });

  it('NOT_FOUND for an unknown line item, with nothing changed', async () => {
    const { key, merchantId } = await api.signup();
    const order = await createSimple(key);
    const before = await counts(merchantId);
    const upd = await api.exec(UpdateLine, { input: { orderId: order.id, lineItemId: 'li_nope', quantity: 2 } }, key);
    expect(upd.updateLineItem.order).toBeNull();
    expect(upd.updateLineItem.userErrors.map((e) => [e.code, e.field])).toEqual([['NOT_FOUND', ['input', 'lineItemId']]]);
    const rem = await api.exec(RemoveLine, { input: { orderId: order.id, lineItemId: 'li_nope' } }, key);
    expect(rem.removeLineItem.userErrors.map((e) => [e.code, e.field])).toEqual([['NOT_FOUND', ['input', 'lineItemId']]]);
    expect(await counts(merchantId)).toEqual(before);
    expect((await getOrder(key, order.id)).version).toBe(1);
  });

  it('setShippingAddress re-prices: tax appears, then disappears for a state without nexus', async () => {
    const { key } = await api.signup();
    await californiaTax(key);
    const order = await createSimple(key, {}, [line({ name: 'Lamp', quantity: 1, amount: 10000 })]);
    expect(order.taxes).toEqual([]);
    expect(order.netAmounts.totalMoney.amount).toBe(10000);

    const toCa = await api.exec(SetShipping, { input: { orderId: order.id, shippingAddress: CA, expectedVersion: 1 } }, key);
    expect(toCa.setShippingAddress.userErrors).toEqual([]);
    const v2 = toCa.setShippingAddress.order!;
    expect(v2.version).toBe(2);
    expect(v2.shippingAddress).toMatchObject({ country: 'US', region: 'CA' });
    expect(v2.netAmounts.taxMoney.amount).toBe(725);
    expect(v2.netAmounts.totalMoney.amount).toBe(10725);
    expect(v2.lineItems[0]!.taxes.map((t) => [t.jurisdiction, t.taxMoney.amount])).toEqual([['US-CA', 725]]);

    const toOr = await api.exec(SetShipping, { input: { orderId: order.id, shippingAddress: { country: 'US', region: 'OR' } } }, key);
    expect(toOr.setShippingAddress.userErrors).toEqual([]);
    const v3 = toOr.setShippingAddress.order!;
    expect(v3.version).toBe(3);
    expect(v3.taxes).toEqual([]);
    expect(v3.lineItems[0]!.taxes).toEqual([]);
    expect(v3.netAmounts.taxMoney.amount).toBe(0);
    expect(v3.netAmounts.totalMoney.amount).toBe(10000);

    const read = await getOrder(key, order.id);
    expect(read.activity.map((a) => a.type)).toEqual(['order.created', 'order.shipping_address_set', 'order.shipping_address_set']);
    const d = read.activity.map((a) => a.delta as Delta);
    expect([netTotal(d[1]!.before), netTotal(d[1]!.after)]).toEqual([10000, 10725]);
    expect([netTotal(d[2]!.before), netTotal(d[2]!.after)]).toEqual([10725, 10000]);
  });
});
