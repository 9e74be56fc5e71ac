// Orders through the public GraphQL API: the orders query (filters, createdAfter/createdBefore under a pinned
// clock, cursor pagination newest first, page size and cursor refusals).
import { describe, expect, it } from 'vitest';
import { time, api, ListOrders, CancelOrder, createSimple } from '../support/orders.js';

// --- list -----------------------------------------------------------------------------------------------

describe('orders query', () => {
  it('filters by customerId, buyerEmail (case-insensitive) and status', async () => {
    const { key } = await api.signup();
    const o1 = await createSimple(key, { customerId: 'cus_a', buyerEmail: 'Sarah@Example.com' });
    const o2 = await createSimple(key, { customerId: 'cus_b', buyerEmail: 'sarah@example.com' });
    const o3 = await createSimple(key, { customerId: 'cus_a', buyerEmail: 'tom@example.com' });
    const o4 = await createSimple(key, {});
    const canceled = await api.exec(CancelOrder, { input: { orderId: o3.id } }, key);
    expect(canceled.cancelOrder.userErrors).toEqual([]);

    const ids = async (filter: Record<string, unknown>) =>
      (await api.exec(ListOrders, { filter: filter as never }, key)).orders.edges.map((e) => e.node.id);

    expect(await ids({})).toEqual([o4.id, o3.id, o2.id, o1.id]);
    expect(await ids({ customerId: 'cus_a' })).toEqual([o3.id, o1.id]);
    expect(await ids({ customerId: 'cus_zzz' })).toEqual([]);
    expect(await ids({ buyerEmail: 'SARAH@example.COM' })).toEqual([o2.id, o1.id]);
    expect(await ids({ buyerEmail: 'sarah@example.co' })).toEqual([]);
    expect(await ids({ status: ['CANCELED'] })).toEqual([o3.id]);
    expect(await ids({ status: ['OPEN'] })).toEqual([o4.id, o2.id, o1.id]);
    expect(await ids({ status: ['OPEN', 'CANCELED'] })).toEqual([o4.id, o3.id, o2.id, o1.id]);
    expect(await ids({ status: ['PAID'] })).toEqual([]);
    // All conditions must hold.
    expect(await ids({ customerId: 'cus_a', status: ['OPEN'] })).toEqual([o1.id]);
    expect(await ids({ customerId: 'cus_a', buyerEmail: 'TOM@example.com' })).toEqual([o3.id]);
  });

  it('filters by createdAfter (inclusive) and createdBefore (exclusive)', async () => {
    const { key } = await api.signup();
    const made: { id: string; createdAt: string }[] = [];
    try {
      for (const at of ['2030-01-01T00:00:00.000Z', '2030-01-02T00:00:00.000Z', '2030-01-03T00:00:00.000Z']) {
        time.pinnedNow = new Date(at);
        const o = await createSimple(key);
        made.push({ id: o.id, createdAt: o.createdAt });
      }
    } finally {
      time.pinnedNow = null;
    }
    expect(made.map((m) => m.createdAt)).toEqual(['2030-01-01T00:00:00.000Z', '2030-01-02T00:00:00.000Z', '2030-01-03T00:00:00.000Z']);
    const [a, b, c] = made.map((m) => m.id) as [string, string, string];
    const ids = async (filter: Record<string, unknown>) =>
      (await api.exec(ListOrders, { filter: filter as never }, key)).orders.edges.map((e) => e.node.id);
    expect(await ids({ createdAfter: '2030-01-02T00:00:00.000Z' })).toEqual([c, b]);
    expect(await ids({ createdBefore: '2030-01-02T00:00:00.000Z' })).toEqual([a]);
    expect(await ids({ createdAfter: '2030-01-01T12:00:00.000Z', createdBefore: '2030-01-03T00:00:00.000Z' })).toEqual([b]);
    expect(await ids({ createdAfter: '2030-01-03T00:00:00.001Z' })).toEqual([]);
  });

  it('paginates newest first with cursors: 7 orders, first 3 → 3 + 3 + 1, no duplicates, all seen', async () => {
    const { key } = await api.signup();
    const created: string[] = [];
    for (let i = 0; i < 7; i++) created.push((await createSimple(key, { customerId: `cus_${i}` })).id);
    const newestFirst = [...created].reverse();

    const p1 = (await api.exec(ListOrders, { first: 3 }, key)).orders;
    expect(p1.edges.map((e) => e.node.id)).toEqual(newestFirst.slice(0, 3));
    expect(p1.pageInfo).toEqual({
      hasNextPage: true,
      hasPreviousPage: false,
      startCursor: p1.edges[0]!.cursor,
      endCursor: p1.edges[2]!.cursor,
    });

    const p2 = (await api.exec(ListOrders, { first: 3, after: p1.pageInfo.endCursor }, key)).orders;
    expect(p2.edges.map((e) => e.node.id)).toEqual(newestFirst.slice(3, 6));
    expect(p2.pageInfo).toEqual({ hasNextPage: true, hasPreviousPage: true, startCursor: p2.edges[0]!.cursor, endCursor: p2.edges[2]!.cursor });

    const p3 = (await api.exec(ListOrders, { first: 3, after: p2.pageInfo.endCursor }, key)).orders;
    expect(p3.edges.map((e) => e.node.id)).toEqual(newestFirst.slice(6));
    expect(p3.pageInfo).toEqual({ hasNextPage: false, hasPreviousPage: true, startCursor: p3.edges[0]!.cursor, endCursor: p3.edges[0]!.cursor });

    const seen = [...p1.edges, ...p2.edges, ...p3.edges].map((e) => e.node.id);
    expect(new Set(seen).size).toBe(7);
    expect([...seen].sort()).toEqual([...created].sort());

    // Exactly one page's worth: no next page. Default page size (20) returns everything.
    const exact = (await api.exec(ListOrders, { first: 7 }, key)).orders;
    expect(exact.edges).toHaveLength(7);
    expect(exact.pageInfo.hasNextPage).toBe(false);
    const all = (await api.exec(ListOrders, {}, key)).orders;
    expect(all.edges.map((e) => e.node.id)).toEqual(newestFirst);
    expect(all.pageInfo.hasNextPage).toBe(false);

    // Pagination composes with a filter.
    const filtered = (await api.exec(ListOrders, { filter: { customerId: 'cus_3' }, first: 3 }, key)).orders;
    expect(filtered.edges.map((e) => e.node.id)).toEqual([created[3]]);
  });

  it('refuses a page size out of 1..100 with an error', async () => {
    const { key } = await api.signup();
    await createSimple(key);
    for (const first of [0, -1, 101]) {
      const result = await api.request(ListOrders, { first }, key);
      expect(result.errors?.length, `first: ${first}`).toBeGreaterThan(0);
      expect(result.errors?.[0]?.message).toContain('first must be from 1 to 100');
      expect(result.data?.orders ?? null).toBeNull();
    }
    const ok = await api.request(ListOrders, { first: 100 }, key);
    expect(ok.errors).toBeUndefined();
    expect(ok.data?.orders.edges).toHaveLength(1);
  });
});

describe('orders pagination cursors', () => {
  it('refuses a cursor that is not one of this list instead of restarting at the first page', async () => {
    const { key } = await api.signup();
    for (const after of ['garbage', Buffer.from('order:not-an-id').toString('base64url'), Buffer.from('refund:ord_x').toString('base64url')]) {
      const result = await api.request(ListOrders, { first: 2, after }, key);
      expect(result.data).toBeNull();
      expect(result.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
      expect(result.errors?.[0]?.message).toContain('endCursor');
    }
  });
});
