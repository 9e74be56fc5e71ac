// The merchant-wide activity list through the public API: newest first with cursors, filters by type, order,
// actor and time, bad page sizes and cursors refused, a key needed.
import { describe, expect, it } from 'vitest';
import { api, CancelOrder, AddTaxRegistration, Activities, createOrder, listAll } from '../support/audit-trail.js';

describe('activities (merchant-wide list)', () => {
  it('lists newest first with cursors, and filters by type, order, actor and time', async () => {
    const { key } = await api.signup();
    const other = await api.signup();
    await createOrder(other.key);
    await api.exec(AddTaxRegistration, { input: { jurisdiction: 'US-CA' } }, key);
    const o1 = await createOrder(key);
    const o2 = await createOrder(key);
    await api.exec(CancelOrder, { input: { orderId: o1.id } }, key);

    const page1 = (await api.exec(Activities, { first: 3 }, key)).activities;
    expect(page1.edges.map((e) => e.node.type)).toEqual(['order.status_changed', 'order.canceled', 'order.created']);
    expect(page1.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: false });
    const page2 = (await api.exec(Activities, { first: 3, after: page1.pageInfo.endCursor }, key)).activities;
    expect(page2.edges.map((e) => e.node.type)).toEqual(['order.created', 'tax_registration.added', 'api_key.created']);
    expect(page2.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: true });
    const page3 = (await api.exec(Activities, { first: 3, after: page2.pageInfo.endCursor }, key)).activities;
    expect(page3.edges.map((e) => e.node.type)).toEqual(['merchant.created']);
    expect(page3.pageInfo.hasNextPage).toBe(false);

    const all = await listAll(key);
    expect(all.map((e) => e.sequence)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    const otherIds = new Set((await listAll(other.key)).map((e) => e.id));
    expect(all.some((e) => otherIds.has(e.id))).toBe(false);

    const byType = await listAll(key, { types: ['order.canceled', 'order.status_changed'] });
    expect(byType.map((e) => [e.type, e.orderId])).toEqual([
      ['order.canceled', o1.id],
      ['order.status_changed', o1.id],
    ]);
    expect((await listAll(key, { orderId: o2.id })).map((e) => e.type)).toEqual(['order.created']);
    const bySystem = await listAll(key, { actorType: 'SYSTEM' });
    expect(bySystem.map((e) => [e.type, e.actor])).toEqual([
      ['merchant.created', { type: 'SYSTEM', id: null, name: 'signup' }],
      ['api_key.created', { type: 'SYSTEM', id: null, name: 'signup' }],
    ]);
    const byKey = await listAll(key, { actorType: 'API_KEY' });
    expect(byKey).toHaveLength(5);
    expect(new Set(byKey.map((e) => e.actor.name))).toEqual(new Set([key.slice(0, 12)]));

    const cut = all[4]!.occurredAt; // o2's order.created
    const since = await listAll(key, { occurredAfter: cut });
    expect(since.every((e) => e.occurredAt >= cut)).toBe(true);
    expect(since.map((e) => e.id)).toContain(all[4]!.id);
    const before = await listAll(key, { occurredBefore: cut });
    expect(before.every((e) => e.occurredAt < cut)).toBe(true);
    expect(before.length + since.length).toBe(all.length);

    // Another merchant's order filters to nothing.
    const foreign = (await api.exec(Activities, { filter: { orderId: o1.id } }, other.key)).activities;
    expect(foreign.edges).toEqual([]);
  });

  it('refuses a bad page size or cursor, and needs a key', async () => {
    const { key } = await api.signup();
    for (const first of [0, 101]) {
      const r = await api.request(Activities, { first }, key);
      expect(r.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    }
    const badCursor = await api.request(Activities, { after: 'bm90LWEtY3Vyc29y' }, key);
    expect(badCursor.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    const anonymous = await api.request(Activities, {}, null);
    expect(anonymous.status).toBe(401);
  });
});
