// Tenancy through the public GraphQL API: another merchant's key cannot change an order or its line items
// (every edit NOT_FOUND, nothing written, no activity), and idempotency keys never cross merchants.
import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { api, CreateOrder, AddLineItems, UpdateLineItem, RemoveLineItem, SetShippingAddress, CancelOrder, line, createOrder, readOrder, listIds, expectNotFound, type World, world } from '../support/tenancy.js';

describe("another merchant's key cannot change an order", () => {
  let w: World;
  beforeAll(async () => {
    w = await world();
  });

  async function expectUnchanged(before: Awaited<ReturnType<typeof readOrder>>) {
    const after = await readOrder(w.a.key, w.aOrder.id);
    expect(after).toEqual(before);
    const rows = await api.db.order.findUniqueOrThrow({ where: { id: w.aOrder.id }, include: { lineItems: true } });
    expect(rows.version).toBe(before!.version);
    expect(rows.merchantId).toBe(w.a.merchantId);
    expect(rows.lineItems.map((l) => [l.id, l.quantity]).sort()).toEqual(before!.lineItems.map((l) => [l.id, l.quantity]).sort());
  }

  it('addLineItems is NOT_FOUND and changes nothing', async () => {
    const before = await readOrder(w.a.key, w.aOrder.id);
    const payload = (await api.exec(AddLineItems, { input: { orderId: w.aOrder.id, lineItems: [line('Intruder', 1)] } }, w.b.key)).addLineItems;
    expectNotFound(payload);
    await expectUnchanged(before);
  });

  it('addLineItems with the right expectedVersion is still NOT_FOUND', async () => {
    const before = await readOrder(w.a.key, w.aOrder.id);
    const payload = (
      await api.exec(AddLineItems, { input: { orderId: w.aOrder.id, lineItems: [line('Intruder', 1)], expectedVersion: before!.version } }, w.b.key)
    ).addLineItems;
    expectNotFound(payload);
    await expectUnchanged(before);
  });

  it('updateLineItem is NOT_FOUND and changes nothing', async () => {
    const before = await readOrder(w.a.key, w.aOrder.id);
    const payload = (await api.exec(UpdateLineItem, { input: { orderId: w.aOrder.id, lineItemId: w.aOrder.lineIds[0]!, quantity: 99 } }, w.b.key))
      .updateLineItem;
    expectNotFound(payload);
    await expectUnchanged(before);
  });

  it('removeLineItem is NOT_FOUND and changes nothing', async () => {
    const before = await readOrder(w.a.key, w.aOrder.id);
    const payload = (await api.exec(RemoveLineItem, { input: { orderId: w.aOrder.id, lineItemId: w.aOrder.lineIds[1]! } }, w.b.key)).removeLineItem;
    expectNotFound(payload);
    await expectUnchanged(before);
  });

  it('setShippingAddress is NOT_FOUND and changes nothing', async () => {
    const before = await readOrder(w.a.key, w.aOrder.id);
    const payload = (
      await api.exec(SetShippingAddress, { input: { orderId: w.aOrder.id, shippingAddress: { country: 'DE', city: 'Berlin' } } }, w.b.key)
    ).setShippingAddress;
    expectNotFound(payload);
    await expectUnchanged(before);
    expect(before?.shippingAddress).toEqual({ country: 'US', region: 'NY', city: 'New York' });
  });

  it('cancelOrder is NOT_FOUND and the order stays OPEN', async () => {
    const before = await readOrder(w.a.key, w.aOrder.id);
    const payload = (await api.exec(CancelOrder, { input: { orderId: w.aOrder.id, reason: 'not yours' } }, w.b.key)).cancelOrder;
    expectNotFound(payload);
    await expectUnchanged(before);
    expect(before?.status).toBe('OPEN');
  });

  it("B cannot reach A's line items through B's own order", async () => {
    const aBefore = await readOrder(w.a.key, w.aOrder.id);
    const bBefore = await readOrder(w.b.key, w.bOrder.id);
    const update = (await api.exec(UpdateLineItem, { input: { orderId: w.bOrder.id, lineItemId: w.aOrder.lineIds[0]!, quantity: 7 } }, w.b.key))
      .updateLineItem;
    expectNotFound(update, ['input', 'lineItemId']);
    const remove = (await api.exec(RemoveLineItem, { input: { orderId: w.bOrder.id, lineItemId: w.aOrder.lineIds[0]! } }, w.b.key)).removeLineItem;
    expectNotFound(remove, ['input', 'lineItemId']);
    await expectUnchanged(aBefore);
    expect(await readOrder(w.b.key, w.bOrder.id)).toEqual(bBefore);
  });

  it("A cannot reach B's order either, and A's own edits still work", async () => {
    const bBefore = await readOrder(w.b.key, w.bOrder.id);
    expectNotFound((await api.exec(CancelOrder, { input: { orderId: w.bOrder.id } }, w.a.key)).cancelOrder);
    expect(await readOrder(w.b.key, w.bOrder.id)).toEqual(bBefore);

    const aBefore = await readOrder(w.a.key, w.aOrder.id);
    const own = (await api.exec(UpdateLineItem, { input: { orderId: w.aOrder.id, lineItemId: w.aOrder.lineIds[0]!, quantity: 3 } }, w.a.key))
      .updateLineItem;
    expect(own.userErrors).toEqual([]);
    expect(own.order?.version).toBe(aBefore!.version + 1);
  });

  it('the failed attempts left no activity on the order and none under B', async () => {
    const fresh = await world();
    const before = await api.db.activity.findMany({ where: { orderId: fresh.aOrder.id } });
    const bBefore = await api.db.activity.count({ where: { merchantId: fresh.b.merchantId } });
    const k = fresh.b.key;
    const id = fresh.aOrder.id;
    await api.exec(AddLineItems, { input: { orderId: id, lineItems: [line('X', 1)] } }, k);
    await api.exec(UpdateLineItem, { input: { orderId: id, lineItemId: fresh.aOrder.lineIds[0]!, quantity: 5 } }, k);
    await api.exec(RemoveLineItem, { input: { orderId: id, lineItemId: fresh.aOrder.lineIds[0]! } }, k);
    await api.exec(SetShippingAddress, { input: { orderId: id, shippingAddress: { country: 'DE' } } }, k);
    await api.exec(CancelOrder, { input: { orderId: id } }, k);
    expect(await api.db.activity.findMany({ where: { orderId: id } })).toEqual(before);
    expect(await api.db.activity.count({ where: { merchantId: fresh.b.merchantId } })).toBe(bBefore);
  });

  it("B reusing A's idempotency key gets its own result, never A's order", async () => {
    const a = await api.signup();
    const b = await api.signup();
    const idempotencyKey = randomUUID();
    const input = { idempotencyKey, lineItems: [line('Shared key', 1000)] };
    const aOrder = await createOrder(a.key, input);
    const bPayload = (await api.exec(CreateOrder, { input }, b.key)).createOrder;
    expect(bPayload.userErrors).toEqual([]);
    expect(bPayload.order?.id).toBeTruthy();
    expect(bPayload.order?.id).not.toBe(aOrder.id);
    expect(await readOrder(b.key, bPayload.order!.id)).not.toBeNull();
    expect(await readOrder(b.key, aOrder.id)).toBeNull();
    expect(await listIds(a.key)).toEqual([aOrder.id]);
    expect(await listIds(b.key)).toEqual([bPayload.order!.id]);

    // The same key with a different input is not "reused" for B just because A used it.
    const bOther = (await api.exec(CreateOrder, { input: { idempotencyKey, lineItems: [line('Other', 1)] } }, b.key)).createOrder;
    expect(bOther.userErrors.map((e) => e.code)).toEqual(['IDEMPOTENCY_KEY_REUSED']);
    const c = await api.signup();
    const cOther = (await api.exec(CreateOrder, { input: { idempotencyKey, lineItems: [line('Other', 1)] } }, c.key)).createOrder;
    expect(cOther.userErrors).toEqual([]);
  });

  it("B reusing A's idempotency key on an edit of A's order is NOT_FOUND, not A's stored result", async () => {
    const fresh = await world();
    const idempotencyKey = randomUUID();
    const input = { orderId: fresh.aOrder.id, lineItemId: fresh.aOrder.lineIds[0]!, quantity: 4, idempotencyKey };
    const aResult = (await api.exec(UpdateLineItem, { input }, fresh.a.key)).updateLineItem;
    expect(aResult.userErrors).toEqual([]);
    const bResult = (await api.exec(UpdateLineItem, { input }, fresh.b.key)).updateLineItem;
    expectNotFound(bResult);
  });
});
