// The tamper-evident audit trail through the public API: every entry carries hash/previousHash (recomputed
// here from the documented formula, independently of src/), test and live keep separate chains, replays record
// nothing, and the chain survives 200 concurrent mutations.
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { graphql } from '../generated/index.js';
import { api, CreateOrder, UpdateLineItem, CancelOrder, AddTaxRegistration, Verify, expectedHash, line, createOrder, listAll, verify } from '../support/audit-trail.js';

const AddLineItems = graphql(`
  mutation AuditAddLineItems($input: AddLineItemsInput!) {
    addLineItems(input: $input) {
      order { id version }
      userErrors { code message field }
    }
  }
`);

const SetShippingAddress = graphql(`
  mutation AuditSetShippingAddress($input: SetShippingAddressInput!) {
    setShippingAddress(input: $input) {
      order { id version }
      userErrors { code message field }
    }
  }
`);

const CreateApiKey = graphql(`
  mutation AuditCreateApiKey($input: CreateApiKeyInput!) {
    createApiKey(input: $input) {
      apiKey { id prefix }
      secret
      userErrors { code message field }
    }
  }
`);

const OrderActivity = graphql(`
  query AuditOrderActivity($id: ID!) {
    order(id: $id) { id activity { id type sequence hash previousHash } }
  }
`);

// ---------------------------------------------------------------------------------------------

describe('activity hashes', () => {
  it('chains every entry of the merchant: sequence 1, 2, 3..., previousHash = the hash before, hash as documented', async () => {
    const { key, merchantId } = await api.signup();
    await api.exec(AddTaxRegistration, { input: { jurisdiction: 'US-CA' } }, key);
    const order = await createOrder(key, [line('Tea'), line('Cups', 1200)]);
    await api.exec(UpdateLineItem, { input: { orderId: order.id, lineItemId: order.lineItems[0]!.id, quantity: 3 } }, key);
    await api.exec(CancelOrder, { input: { orderId: order.id, reason: 'test' } }, key);

    const entries = await listAll(key);
    expect(entries.map((e) => e.type)).toEqual([
      'merchant.created',
      'api_key.created',
      'tax_registration.added',
      'order.created',
      'order.line_item_updated',
      'order.canceled',
      'order.status_changed',
    ]);
    entries.forEach((entry, i) => {
      expect(entry.sequence).toBe(i + 1);
      expect(entry.previousHash).toBe(i === 0 ? null : entries[i - 1]!.hash);
      expect(entry.hash).toMatch(/^[0-9a-f]{64}$/);
      expect(entry.hash).toBe(expectedHash(entry, merchantId, false));
    });
    // The entries createOrder returned (served from memory) are the stored ones.
    expect(order.activity).toEqual([{ id: entries[3]!.id, sequence: 4, hash: entries[3]!.hash, previousHash: entries[2]!.hash }]);
    const read = (await api.exec(OrderActivity, { id: order.id }, key)).order!;
    expect(read.activity.map((a) => a.hash)).toEqual(entries.slice(3).map((e) => e.hash));

    expect(await verify(key)).toEqual({ valid: true, entriesChecked: 7, firstBrokenActivityId: null, problem: null });
    expect(await verify(key, order.id)).toEqual({ valid: true, entriesChecked: 4, firstBrokenActivityId: null, problem: null });
  });

  it('keeps test and live activity in separate chains', async () => {
    const { key, merchantId } = await api.signup();
    const live = (await api.exec(CreateApiKey, { input: { livemode: true } }, key)).createApiKey;
    const liveKey = live.secret!;
    const liveOrder = await createOrder(liveKey);
    const testOrder = await createOrder(key);

    const liveEntries = await listAll(liveKey);
    expect(liveEntries.map((e) => [e.type, e.sequence, e.orderId])).toEqual([['order.created', 1, liveOrder.id]]);
    expect(liveEntries[0]!.previousHash).toBeNull();
    expect(liveEntries[0]!.hash).toBe(expectedHash(liveEntries[0]!, merchantId, true));
    const testEntries = await listAll(key);
    expect(testEntries.map((e) => e.type)).toEqual(['merchant.created', 'api_key.created', 'api_key.created', 'order.created']);
    expect(testEntries.map((e) => e.sequence)).toEqual([1, 2, 3, 4]);

    expect(await verify(liveKey)).toMatchObject({ valid: true, entriesChecked: 1 });
    expect(await verify(key)).toMatchObject({ valid: true, entriesChecked: 4 });
    // The other mode's order reads as missing.
    const crossMode = await api.request(Verify, { orderId: testOrder.id }, liveKey);
    expect(crossMode.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
  });

  it('a replayed idempotent request records nothing more and the chain stays valid', async () => {
    const { key } = await api.signup();
    const idempotencyKey = randomUUID();
    const input = { lineItems: [line()], idempotencyKey };
    const first = (await api.exec(CreateOrder, { input }, key)).createOrder.order!;
    const again = (await api.exec(CreateOrder, { input }, key)).createOrder.order!;
    expect(again.id).toBe(first.id);
    expect(again.activity).toEqual(first.activity);
    expect(await verify(key)).toMatchObject({ valid: true, entriesChecked: 3 });
  });

  it('verifies after 200 concurrent mutations across 20 orders: no fork, no gap, every mutation recorded once', async () => {
    const { key, merchantId } = await api.signup();
    const orders = await Promise.all(Array.from({ length: 20 }, () => createOrder(key)));
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) => {
        const order = orders[i % 20]!;
        switch (i % 3) {
          case 0:
            return api.exec(UpdateLineItem, { input: { orderId: order.id, lineItemId: order.lineItems[0]!.id, quantity: (i % 7) + 1 } }, key).then((d) => d.updateLineItem);
          case 1:
            return api.exec(AddLineItems, { input: { orderId: order.id, lineItems: [line(`Extra ${i}`, 100 + i)] } }, key).then((d) => d.addLineItems);
          default:
            return api
              .exec(SetShippingAddress, { input: { orderId: order.id, shippingAddress: { country: 'US', region: i % 2 ? 'CA' : 'NY', postalCode: '10001' } } }, key)
              .then((d) => d.setShippingAddress);
        }
      }),
    );
    expect(results.filter((r) => r.userErrors.length > 0)).toEqual([]);

    const total = 2 + 20 + 200;
    const rows = await api.db.activity.findMany({ where: { merchantId, livemode: false }, orderBy: { sequence: 'asc' } });
    expect(rows).toHaveLength(total);
    expect(rows.map((r) => Number(r.sequence))).toEqual(Array.from({ length: total }, (_, i) => i + 1));
    rows.forEach((row, i) => expect(row.previousHash).toBe(i === 0 ? null : rows[i - 1]!.hash));
    expect(new Set(rows.map((r) => r.hash)).size).toBe(total);
    const head = await api.db.auditChainHead.findUniqueOrThrow({ where: { merchantId_livemode: { merchantId, livemode: false } } });
    expect(head).toMatchObject({ sequence: BigInt(total), hash: rows.at(-1)!.hash });

    expect(await verify(key)).toEqual({ valid: true, entriesChecked: total, firstBrokenActivityId: null, problem: null });
    for (const order of orders) {
      expect((await verify(key, order.id)).valid).toBe(true);
      expect(rows.filter((r) => r.orderId === order.id)).toHaveLength(11);
    }
  });
});
