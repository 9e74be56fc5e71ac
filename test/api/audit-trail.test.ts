// The tamper-evident audit trail through the public API: every entry carries hash/previousHash
// (recomputed here from the documented formula, independently of src/), the chain survives 200
// concurrent mutations, verifyAuditTrail names the first broken entry after a superuser edits or
// removes entries behind the append-only trigger's back, and the merchant-wide activity list pages
// and filters by type, order, actor and time without ever showing another merchant's entries.
import { createHash, randomUUID } from 'node:crypto';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { graphql } from '../generated/index.js';
import type { AuditActivitiesQuery } from '../generated/graphql.js';
import { useTestApi } from '../support/api.js';
import { testDatabaseUrl } from '../support/db.js';

const api = useTestApi();

const CreateOrder = graphql(`
  mutation AuditCreateOrder($input: CreateOrderInput!) {
    createOrder(input: $input) {
      order { id lineItems { id } activity { id sequence hash previousHash } }
      userErrors { code message field }
    }
  }
`);

const UpdateLineItem = graphql(`
  mutation AuditUpdateLineItem($input: UpdateLineItemInput!) {
    updateLineItem(input: $input) {
      order { id version }
      userErrors { code message field }
    }
  }
`);

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

const CancelOrder = graphql(`
  mutation AuditCancelOrder($input: CancelOrderInput!) {
    cancelOrder(input: $input) {
      order { id status }
      userErrors { code message field }
    }
  }
`);

const AddTaxRegistration = graphql(`
  mutation AuditAddTaxRegistration($input: AddTaxRegistrationInput!) {
    addTaxRegistration(input: $input) {
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

const Verify = graphql(`
  query AuditVerify($orderId: ID) {
    verifyAuditTrail(orderId: $orderId) { valid entriesChecked firstBrokenActivityId problem }
  }
`);

const Activities = graphql(`
  query AuditActivities($filter: ActivityFilter, $first: Int, $after: String) {
    activities(filter: $filter, first: $first, after: $after) {
      edges {
        cursor
        node {
          id
          type
          occurredAt
          actor { type id name }
          delta
          orderId
          idempotencyKey
          sequence
          hash
          previousHash
        }
      }
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    }
  }
`);

const OrderActivity = graphql(`
  query AuditOrderActivity($id: ID!) {
    order(id: $id) { id activity { id type sequence hash previousHash } }
  }
`);

type Entry = NonNullable<Awaited<ReturnType<typeof listAll>>>[number];

// ---------------------------------------------------------------------------------------------
// The documented hash, recomputed independently: sha256(previousHash + canonical JSON of the entry).

function canonical(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  const keys = Object.keys(value as object).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`).join(',')}}`;
}

function expectedHash(entry: Entry, merchantId: string, livemode: boolean): string {
  const content = {
    actorId: entry.actor.id,
    actorName: entry.actor.name,
    actorType: entry.actor.type,
    delta: entry.delta,
    id: entry.id,
    idempotencyKey: entry.idempotencyKey,
    livemode,
    merchantId,
    occurredAt: entry.occurredAt,
    orderId: entry.orderId,
    sequence: entry.sequence,
    type: entry.type,
  };
  return createHash('sha256')
    .update((entry.previousHash ?? '') + canonical(content))
    .digest('hex');
}

// ---------------------------------------------------------------------------------------------
// Helpers

const line = (name = 'Tea', amount = 500) => ({ name, quantity: 1, unitPriceMoney: { amount, currency: 'USD' } });

async function createOrder(key: string, lines = [line()]) {
  const payload = (await api.exec(CreateOrder, { input: { lineItems: lines } }, key)).createOrder;
  expect(payload.userErrors).toEqual([]);
  return payload.order!;
}

/** Every entry of the key's chain, oldest first, through the paginated activities query. */
async function listAll(key: string, filter: Record<string, unknown> | null = null) {
  const out = [];
  let after: string | null = null;
  for (;;) {
    const page: AuditActivitiesQuery['activities'] = (await api.exec(Activities, { filter, first: 100, after }, key)).activities;
    out.push(...page.edges.map((e) => e.node));
    if (!page.pageInfo.hasNextPage) break;
    after = page.pageInfo.endCursor!;
  }
  return out.reverse();
}

async function verify(key: string, orderId: string | null = null) {
  return (await api.exec(Verify, { orderId }, key)).verifyAuditTrail;
}

/** What a database superuser can do: switch the append-only trigger off, rewrite history, switch it on. */
async function tamper(sql: string, params: unknown[]): Promise<number> {
  const client = new pg.Client({ connectionString: testDatabaseUrl() });
  await client.connect();
  try {
    const { rows } = await client.query<{ rolsuper: boolean }>('SELECT rolsuper FROM pg_roles WHERE rolname = current_user');
    expect(rows[0]?.rolsuper).toBe(true);
    await client.query('BEGIN');
    await client.query('ALTER TABLE "Activity" DISABLE TRIGGER "Activity_append_only"');
    const result = await client.query(sql, params);
    await client.query('ALTER TABLE "Activity" ENABLE TRIGGER "Activity_append_only"');
    await client.query('COMMIT');
    return result.rowCount ?? 0;
  } finally {
    await client.end();
  }
}

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

describe('tampering behind the trigger', () => {
  it('the database itself refuses UPDATE and DELETE of an entry', async () => {
    const { merchantId } = await api.signup();
    const entry = await api.db.activity.findFirstOrThrow({ where: { merchantId } });
    await expect(api.db.$executeRaw`UPDATE "Activity" SET "type" = 'x' WHERE "id" = ${entry.id}`).rejects.toThrow(/append-only/);
    await expect(api.db.$executeRaw`DELETE FROM "Activity" WHERE "id" = ${entry.id}`).rejects.toThrow(/append-only/);
  });

  /** A merchant with three orders and a few edits each; returns the entries oldest first. */
  async function history() {
    const { key, merchantId } = await api.signup();
    const orders = [];
    for (let i = 0; i < 3; i++) {
      const order = await createOrder(key, [line(`Item ${i}`, 1000 + i)]);
      await api.exec(UpdateLineItem, { input: { orderId: order.id, lineItemId: order.lineItems[0]!.id, quantity: 2 } }, key);
      orders.push(order);
    }
    expect(await verify(key)).toMatchObject({ valid: true, entriesChecked: 8 });
    return { key, merchantId, orders, entries: await listAll(key) };
  }

  it('an edited entry is named as the first broken one, for the merchant and for its order', async () => {
    const { key, orders, entries } = await history();
    // Entry #5: orders[1]'s order.created. Make its total look smaller.
    const target = entries[4]!;
    expect(target).toMatchObject({ type: 'order.created', orderId: orders[1]!.id });
    const changed = await tamper(
      `UPDATE "Activity" SET "delta" = jsonb_set("delta", '{after,netAmounts,total}', '1') WHERE "id" = $1`,
      [target.id],
    );
    expect(changed).toBe(1);

    const whole = await verify(key);
    expect(whole).toMatchObject({ valid: false, firstBrokenActivityId: target.id, entriesChecked: 5 });
    expect(whole.problem).toMatch(/changed after it was recorded/);
    expect(await verify(key, orders[1]!.id)).toMatchObject({ valid: false, firstBrokenActivityId: target.id });
    // orders[0]'s check runs from its first entry to the head, so it passes the edited entry too.
    expect(await verify(key, orders[0]!.id)).toMatchObject({ valid: false, firstBrokenActivityId: target.id });
    // orders[2] was created after it: its part of the chain is intact.
    expect(await verify(key, orders[2]!.id)).toMatchObject({ valid: true, entriesChecked: 2 });

    // The chain goes on; the break stays visible.
    await createOrder(key);
    expect(await verify(key)).toMatchObject({ valid: false, firstBrokenActivityId: target.id });
  });

  it('an edit that also recomputes the entry hash breaks the link to the next entry', async () => {
    const { key, merchantId, entries } = await history();
    const target = entries[3]!; // orders[0]'s line_item_updated
    const forged = { ...target, delta: { ...(target.delta as object), forged: true } };
    const forgedHash = expectedHash(forged, merchantId, false);
    await tamper(`UPDATE "Activity" SET "delta" = $2::jsonb, "hash" = $3 WHERE "id" = $1`, [target.id, JSON.stringify(forged.delta), forgedHash]);

    const result = await verify(key);
    expect(result).toMatchObject({ valid: false, firstBrokenActivityId: entries[4]!.id });
    expect(result.problem).toMatch(/does not link to the entry before it/);
  });

  it('a removed entry in the middle is named by the entry after the gap', async () => {
    const { key, entries } = await history();
    await tamper(`DELETE FROM "Activity" WHERE "id" = $1`, [entries[5]!.id]);
    const result = await verify(key);
    expect(result).toMatchObject({ valid: false, firstBrokenActivityId: entries[6]!.id });
    expect(result.problem).toMatch(/missing/);
  });

  it('removed newest entries are caught by the chain head', async () => {
    const { key, entries, orders } = await history();
    await tamper(`DELETE FROM "Activity" WHERE "id" = ANY($1)`, [[entries[6]!.id, entries[7]!.id]]);
    const result = await verify(key);
    expect(result).toMatchObject({ valid: false, firstBrokenActivityId: null, entriesChecked: 6 });
    expect(result.problem).toMatch(/records 8 entries/);
    expect((await verify(key, orders[2]!.id)).valid).toBe(false);
  });

  it("another merchant's order cannot be verified (NOT_FOUND), and their tampering does not show in ours", async () => {
    const a = await history();
    const b = await api.signup();
    const other = await api.request(Verify, { orderId: a.orders[0]!.id }, b.key);
    expect(other.data).toBeNull();
    expect(other.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    await tamper(`UPDATE "Activity" SET "type" = 'x' WHERE "id" = $1`, [a.entries[2]!.id]);
    expect(await verify(b.key)).toMatchObject({ valid: true, entriesChecked: 2 });
  });
});

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
