// Tenancy through the public GraphQL API: another merchant's key cannot read an order, its line items or its
// activity (order, node, orders list, filters, cursors): it reads like an id that does not exist.
import { beforeAll, describe, expect, it } from 'vitest';
import type { OrderFilter } from '../generated/graphql.js';
import { api, ReadOrder, NodeById, ListOrders, line, createOrder, readOrder, listIds, type World, world } from '../support/tenancy.js';

describe("another merchant's key cannot read an order", () => {
  let w: World;
  beforeAll(async () => {
    w = await world();
  });

  it('order(id) is null for B and the order for A', async () => {
    expect((await readOrder(w.a.key, w.aOrder.id))?.id).toBe(w.aOrder.id);
    const result = await api.request(ReadOrder, { id: w.aOrder.id }, w.b.key);
    expect(result.status).toBe(200);
    expect(result.errors).toBeUndefined();
    expect(result.data?.order).toBeNull();
  });

  it("node(id) is null for A's order, line items and activity entries", async () => {
    expect(w.aOrder.lineIds).toHaveLength(2);
    expect(w.aOrder.activityIds.length).toBeGreaterThan(0);
    for (const id of [w.aOrder.id, ...w.aOrder.lineIds, ...w.aOrder.activityIds]) {
      expect((await api.exec(NodeById, { id }, w.a.key)).node?.id).toBe(id);
      const result = await api.request(NodeById, { id }, w.b.key);
      expect(result.errors).toBeUndefined();
      expect({ id, node: result.data?.node }).toEqual({ id, node: null });
    }
  });

  it("node(id) is null for A's merchant id", async () => {
    expect((await api.exec(NodeById, { id: w.a.merchantId }, w.b.key)).node).toBeNull();
    expect((await api.exec(NodeById, { id: w.b.merchantId }, w.b.key)).node?.id).toBe(w.b.merchantId);
  });

  it("reads as exactly like an id that does not exist", async () => {
    const missing = await api.request(ReadOrder, { id: 'ord_01JZZZZZZZZZZZZZZZZZZZZZZZ' }, w.b.key);
    const foreign = await api.request(ReadOrder, { id: w.aOrder.id }, w.b.key);
    expect(foreign).toEqual(missing);
  });

  it("the orders list never contains A's orders", async () => {
    const bIds = await listIds(w.b.key);
    expect(bIds).toContain(w.bOrder.id);
    expect(bIds).not.toContain(w.aOrder.id);
    const aIds = await listIds(w.a.key);
    expect(aIds).toContain(w.aOrder.id);
    expect(aIds).not.toContain(w.bOrder.id);
  });

  it("filters matching A's order (buyerEmail, customerId, status) return nothing for B", async () => {
    const filters: OrderFilter[] = [
      { buyerEmail: w.buyerEmail },
      { buyerEmail: w.buyerEmail.toUpperCase() },
      { customerId: w.customerId },
      { customerId: w.customerId, buyerEmail: w.buyerEmail },
      { status: ['OPEN'], buyerEmail: w.buyerEmail },
    ];
    for (const filter of filters) {
      expect({ filter, ids: await listIds(w.b.key, filter) }).toEqual({ filter, ids: [] });
      expect({ filter, ids: await listIds(w.a.key, filter) }).toEqual({ filter, ids: [w.aOrder.id] });
    }
  });

  it("B's own order with the same buyer and customer is listed, never A's", async () => {
    const bSame = await createOrder(w.b.key, { customerId: w.customerId, buyerEmail: w.buyerEmail, lineItems: [line('Cup', 500)] });
    expect(await listIds(w.b.key, { buyerEmail: w.buyerEmail })).toEqual([bSame.id]);
    expect(await listIds(w.b.key, { customerId: w.customerId })).toEqual([bSame.id]);
    expect(await listIds(w.a.key, { customerId: w.customerId })).toEqual([w.aOrder.id]);
  });

  it("a cursor taken from A's list does not reveal A's orders to B", async () => {
    const older = await createOrder(w.a.key, { lineItems: [line('Older', 100)] });
    const newer = await createOrder(w.a.key, { lineItems: [line('Newer', 100)] });
    const aPage = await api.exec(ListOrders, { first: 1 }, w.a.key);
    expect(aPage.orders.edges[0]?.node.id).toBe(newer.id);
    const bPage = await api.exec(ListOrders, { first: 100, after: aPage.orders.pageInfo.endCursor }, w.b.key);
    const ids = bPage.orders.edges.map((e) => e.node.id);
    expect(ids).not.toContain(older.id);
    expect(ids).not.toContain(w.aOrder.id);
  });
});
