// The audit trail behind the append-only trigger's back: the database refuses UPDATE and DELETE, and after a
// superuser edits or removes entries verifyAuditTrail names the first broken entry; tenancy of verification.
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { testDatabaseUrl } from '../support/db.js';
import { api, UpdateLineItem, Verify, expectedHash, line, createOrder, listAll, verify } from '../support/audit-trail.js';

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
