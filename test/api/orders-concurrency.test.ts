// Orders through the public GraphQL API: expectedVersion (VERSION_CONFLICT) and row locking under parallel
// edits and a cancel racing them.
import { describe, expect, it } from 'vitest';
import { api, AddLines, UpdateLine, RemoveLine, SetShipping, CancelOrder, line, createSimple, getOrder, counts, CA } from '../support/orders.js';

// --- versions & locking ------------------------------------------------------------------------------------

describe('expectedVersion and concurrency', () => {
  it('refuses a stale expectedVersion with VERSION_CONFLICT and changes nothing; the right one succeeds', async () => {
    const { key, merchantId } = await api.signup();
    const order = await createSimple(key);
    const bump = await api.exec(AddLines, { input: { orderId: order.id, lineItems: [line({ name: 'Second', quantity: 1, amount: 200 })] } }, key);
    expect(bump.addLineItems.order?.version).toBe(2);

    const before = await counts(merchantId);
    const stale = [
      (await api.exec(AddLines, { input: { orderId: order.id, expectedVersion: 1, lineItems: [line({ name: 'Late', quantity: 1, amount: 1 })] } }, key)).addLineItems,
      (await api.exec(UpdateLine, { input: { orderId: order.id, lineItemId: order.lineItems[0]!.id, quantity: 9, expectedVersion: 1 } }, key)).updateLineItem,
      (await api.exec(RemoveLine, { input: { orderId: order.id, lineItemId: order.lineItems[0]!.id, expectedVersion: 3 } }, key)).removeLineItem,
      (await api.exec(SetShipping, { input: { orderId: order.id, shippingAddress: CA, expectedVersion: 1 } }, key)).setShippingAddress,
    ];
    for (const payload of stale) {
      expect(payload.order).toBeNull();
      expect(payload.userErrors.map((e) => [e.code, e.field])).toEqual([['VERSION_CONFLICT', ['input', 'expectedVersion']]]);
      expect(payload.userErrors[0]!.message).toContain('version 2');
    }
    expect(await counts(merchantId)).toEqual(before);
    const unchanged = await getOrder(key, order.id);
    expect(unchanged.version).toBe(2);
    expect(unchanged.shippingAddress).toBeNull();
    expect(unchanged.lineItems.map((l) => [l.name, l.quantity])).toEqual([
      ['Widget', 1],
      ['Second', 1],
    ]);
    expect(unchanged.netAmounts.totalMoney.amount).toBe(1200);

    const right = await api.exec(UpdateLine, { input: { orderId: order.id, lineItemId: order.lineItems[0]!.id, quantity: 9, expectedVersion: 2 } }, key);
    expect(right.updateLineItem.userErrors).toEqual([]);
    expect(right.updateLineItem.order?.version).toBe(3);
    expect(right.updateLineItem.order?.netAmounts.totalMoney.amount).toBe(9200);
  });

  it('10 parallel addLineItems on one order all succeed without lost updates', async () => {
    const { key } = await api.signup();
    const order = await createSimple(key, {}, [line({ name: 'Base', quantity: 1, amount: 100 })]);
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        api.exec(AddLines, { input: { orderId: order.id, lineItems: [line({ name: `Par ${i}`, quantity: 1, amount: 10 * (i + 1) })] } }, key),
      ),
    );
    for (const r of results) expect(r.addLineItems.userErrors).toEqual([]);
    // Each request saw a distinct version: they were serialized by the row lock.
    expect(results.map((r) => r.addLineItems.order!.version).sort((a, b) => a - b)).toEqual([2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);

    const final = await getOrder(key, order.id);
    expect(final.version).toBe(11);
    expect(final.lineItems).toHaveLength(11);
    expect(final.lineItems.map((l) => l.name).sort()).toEqual(['Base', ...Array.from({ length: 10 }, (_, i) => `Par ${i}`)].sort());
    // 100 + 10 × (1 + … + 10) = 650
    expect(final.netAmounts.subtotalMoney.amount).toBe(650);
    expect(final.netAmounts.totalMoney.amount).toBe(650);
    expect(final.activity.map((a) => a.type)).toEqual(['order.created', ...Array.from({ length: 10 }, () => 'order.line_items_added')]);
    expect(await api.db.lineItem.count({ where: { orderId: order.id } })).toBe(11);
    // Positions stay unique, so the line order is stable.
    const positions = (await api.db.lineItem.findMany({ where: { orderId: order.id }, select: { position: true } })).map((p) => p.position);
    expect(new Set(positions).size).toBe(11);
  });

  it('a cancel racing parallel addLineItems: no line is added after the cancel', async () => {
    const { key } = await api.signup();
    const order = await createSimple(key);
    const adds = Array.from({ length: 8 }, (_, i) =>
      api.exec(AddLines, { input: { orderId: order.id, lineItems: [line({ name: `Race ${i}`, quantity: 1, amount: 5 })] } }, key).then((r) => r.addLineItems),
    );
    const cancel = api.exec(CancelOrder, { input: { orderId: order.id } }, key).then((r) => r.cancelOrder);
    const [addResults, cancelResult] = await Promise.all([Promise.all(adds), cancel]);
    expect(cancelResult.userErrors).toEqual([]);
    const cancelVersion = cancelResult.order!.version;
    const added = addResults.filter((r) => r.userErrors.length === 0);
    for (const r of addResults) {
      if (r.userErrors.length > 0) expect(r.userErrors.map((e) => e.code)).toEqual(['ORDER_NOT_EDITABLE']);
      else expect(r.order!.version).toBeLessThan(cancelVersion);
    }
    const final = await getOrder(key, order.id);
    expect(final.status).toBe('CANCELED');
    expect(final.lineItems).toHaveLength(1 + added.length);
    expect(final.version).toBe(2 + added.length);
    expect(cancelVersion).toBe(final.version);
    const types = final.activity.map((a) => a.type);
    expect(types.lastIndexOf('order.line_items_added')).toBeLessThan(types.indexOf('order.canceled'));
    expect(types.slice(-2)).toEqual(['order.canceled', 'order.status_changed']);
  });

  it('parallel edits with the same expectedVersion: exactly one wins, the rest get VERSION_CONFLICT', async () => {
    const { key } = await api.signup();
    const order = await createSimple(key);
    const results = await Promise.all(
      Array.from({ length: 5 }, (_, i) =>
        api.exec(AddLines, { input: { orderId: order.id, expectedVersion: 1, lineItems: [line({ name: `Race ${i}`, quantity: 1, amount: 1 })] } }, key),
      ),
    );
    const wins = results.filter((r) => r.addLineItems.userErrors.length === 0);
    const conflicts = results.filter((r) => r.addLineItems.userErrors[0]?.code === 'VERSION_CONFLICT');
    expect(wins).toHaveLength(1);
    expect(conflicts).toHaveLength(4);
    const final = await getOrder(key, order.id);
    expect(final.version).toBe(2);
    expect(final.lineItems).toHaveLength(2);
  });
});
