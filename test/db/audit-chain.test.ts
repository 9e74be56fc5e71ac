// The audit chain against real PostgreSQL, below the API: a rolled-back mutation writes and publishes
// nothing; any JSON delta survives the JSONB round trip with its hash intact; and the migration
// chains the entries recorded before it exactly as the application chains new ones.
import { cp, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPrisma } from '../../src/db/prisma.js';
import { DEFAULT_MIGRATIONS_DIR, migrate } from '../../src/db/migrate.js';
import { Activities, activityRows, type ActivityRow } from '../../src/audit/activity.js';
import { verifyAuditTrail } from '../../src/audit/chain.js';
import { systemClock, type Db, type Deps, type Scope } from '../../src/kernel/context.js';
import { fail, ok, userError } from '../../src/kernel/errors.js';
import type { Json } from '../../src/kernel/json.js';
import { createMerchant } from '../../src/merchants/merchants.js';
import { runWrite, submitWrite } from '../../src/kernel/write-path.js';
import { Writer } from '../../src/kernel/writer.js';
import { sqlPool } from '../../src/db/prisma.js';
import { createMemoryEventBus, type EventBus } from '../../src/realtime/bus.js';
import { freshDatabase, testDatabaseUrl } from '../support/db.js';

let db: Db;
let events: EventBus;
let deps: Deps;

beforeAll(() => {
  db = createPrisma(testDatabaseUrl());
  events = createMemoryEventBus();
  deps = { db, clock: systemClock, events };
});

afterAll(async () => {
  await events.close();
  await db.$disconnect();
});

async function newMerchant(): Promise<Scope> {
  const created = await createMerchant(deps, { name: 'Chain test', email: 'chain@example.com' });
  if (!created.ok) throw new Error(JSON.stringify(created.errors));
  return { deps, merchantId: created.value.merchantId, livemode: false, actor: { type: 'SYSTEM', id: null, name: 'test' } };
}

async function chainState(scope: Scope) {
  const [count, head] = await Promise.all([
    db.activity.count({ where: { merchantId: scope.merchantId } }),
    db.auditChainHead.findUnique({ where: { merchantId_livemode: { merchantId: scope.merchantId, livemode: false } } }),
  ]);
  return { count, head };
}

describe('publishing after commit only', () => {
  it('a mutation that was refused or failed after planning its entries writes nothing and publishes nothing', async () => {
    const scope = await newMerchant();
    const heard: ActivityRow[] = [];
    const stop = await events.onActivity(scope.merchantId, false, (row) => heard.push(row));
    const before = await chainState(scope);
    const entries = () => [Activities.taxRegistrationAdded({ id: 'txr_test', jurisdiction: 'US-CA' })];

    // A userError after the entries were planned: nothing is submitted.
    const refused = await runWrite({
      scope,
      operation: 'test',
      input: {},
      plan: async () => {
        entries();
        return fail(userError('INVALID_INPUT', 'refused after planning', null));
      },
    });
    expect(refused.outcome.ok).toBe(false);
    // A write whose rows fail in the database (a foreign key to nothing): the whole call is rolled back.
    await expect(
      submitWrite(scope, {
        merchantId: scope.merchantId,
        livemode: false,
        at: new Date(),
        ops: [{ kind: 'insert', table: 'OrderCoupon', rows: [{ orderId: 'ord_none', couponId: 'cpn_none', merchantId: scope.merchantId, livemode: false, position: 0, appliedAt: new Date() }] }],
        activity: activityRows(scope, scope.actor, new Date(), null, entries()),
      }),
    ).rejects.toThrow(/foreign key/);
    // A guard that no longer holds: refused, nothing kept.
    const guarded = await submitWrite(scope, {
      merchantId: scope.merchantId,
      livemode: false,
      at: new Date(),
      guards: [{ table: 'Merchant', id: scope.merchantId, match: { name: 'not its name' } }],
      activity: activityRows(scope, scope.actor, new Date(), null, entries()),
    });
    expect(guarded).toMatchObject({ ok: false, reason: 'guard' });
    await new Promise((r) => setTimeout(r, 50));
    expect(heard).toEqual([]); // never published,
    expect(await chainState(scope)).toEqual(before); // nor kept: the chain head did not move either.

    const committed = await runWrite({
      scope,
      operation: 'test',
      input: {},
      plan: async () => ok({ result: null, write: { entries: entries() } }),
    });
    expect(committed.outcome.ok).toBe(true);
    // Published once committed (the in-memory bus delivers before the write's promise resolves).
    expect(heard.map((r) => [r.type, r.sequence])).toEqual([['tax_registration.added', 3n]]);
    const stored = await db.activity.findUniqueOrThrow({ where: { id: heard[0]!.id } });
    expect(stored.hash).toBe(heard[0]!.hash);
    stop();
  });
});

describe('hashes survive the JSONB round trip', () => {
  // Strings PostgreSQL accepts in JSONB (no NUL), any numbers, nesting.
  const jsonb = fc
    .jsonValue({ maxDepth: 4, stringUnit: 'grapheme' })
    .filter((v) => !JSON.stringify(v).includes('\\u0000')) as fc.Arbitrary<Json>;

  it('whatever the delta, the stored entry recomputes to its hash and the chain verifies', async () => {
    const scope = await newMerchant();
    let appended = 2;
    await fc.assert(
      fc.asyncProperty(fc.array(jsonb, { minLength: 1, maxLength: 3 }), async (deltas) => {
        const at = new Date();
        const written = await submitWrite(scope, {
          merchantId: scope.merchantId,
          livemode: false,
          at,
          activity: activityRows(scope, scope.actor, at, null, deltas.map((delta) => ({ type: 'test.round_trip', orderId: null, delta }))),
        });
        expect(written.ok).toBe(true);
        appended += deltas.length;
      }),
      { numRuns: 40 },
    );
    expect(await verifyAuditTrail(db, scope)).toEqual({ valid: true, entriesChecked: appended, firstBrokenActivityId: null, problem: null });
  });
});

describe('the migration chains entries recorded before it', () => {
  let root: string;
  let fresh: { url: string; drop: () => Promise<void> };

  beforeAll(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'flint-audit-migration-'));
    fresh = await freshDatabase();
  });

  afterAll(async () => {
    await fresh?.drop();
    await rm(root, { recursive: true, force: true });
  });

  it('numbers and hashes legacy entries per merchant and mode, oldest first, as the application would', async () => {
    // The migrations before the audit chain only.
    const before = path.join(root, 'migrations');
    await cp(DEFAULT_MIGRATIONS_DIR, before, {
      recursive: true,
      filter: (source) => {
        const name = path.relative(DEFAULT_MIGRATIONS_DIR, source).split(path.sep)[0] ?? '';
        return !/^\d{14}_/.test(name) || name < '20261127020000_audit_chain';
      },
    });
    await migrate(fresh.url, { migrationsDir: before });

    const client = new pg.Client({ connectionString: fresh.url });
    await client.connect();
    const deltas: Json[] = [
      { before: null, after: { name: 'Café "Zoë" \\ 中文 😀', note: 'line\nbreak\ttab\u0001', empty: {}, list: [] } },
      { B: 1, a: 2, _x: [3, [4, { z: null, Z: true }]], Z1: false, 'k-2': -12, big: 9007199254740991 },
      { half: 0.5, amount: 12.25, zero: 0, negative: -7 },
      [],
      'just a string',
      null,
    ];
    try {
      for (const m of ['mer_01LEGACYA00000000000000000', 'mer_01LEGACYB00000000000000000']) {
        await client.query(`INSERT INTO "Merchant" ("id", "name", "email") VALUES ($1, 'Legacy', 'legacy@example.com')`, [m]);
      }
      await client.query(`INSERT INTO "Order" ("id", "merchantId", "livemode", "currency") VALUES ('ord_01LEGACY000000000000000000', 'mer_01LEGACYA00000000000000000', false, 'USD')`);
      let n = 0;
      const insert = async (merchantId: string, livemode: boolean, delta: Json, orderId: string | null = null, idempotencyKey: string | null = null) => {
        n += 1;
        // Ids sort by time; insert them out of order to show the chain follows ids, not insertion.
        const id = `act_01LEGACY${String(100 - n).padStart(18, '0')}`;
        await client.query(
          `INSERT INTO "Activity" ("id", "merchantId", "livemode", "orderId", "type", "occurredAt", "actorType", "actorId", "actorName", "delta", "idempotencyKey")
           VALUES ($1, $2, $3, $4, 'legacy.entry', $5, 'API_KEY', 'key_1', 'sk_test_abcd', $6::jsonb, $7)`,
          [id, merchantId, livemode, orderId, new Date(Date.UTC(2026, 0, 2, 3, 4, 5, 600 + n)), JSON.stringify(delta), idempotencyKey],
        );
      };
      for (const [i, delta] of deltas.entries()) await insert('mer_01LEGACYA00000000000000000', false, delta, i === 0 ? 'ord_01LEGACY000000000000000000' : null, i === 1 ? 'idem-1' : null);
      await insert('mer_01LEGACYA00000000000000000', true, { live: true });
      await insert('mer_01LEGACYB00000000000000000', false, { other: 'merchant' });
    } finally {
      await client.end();
    }

    // Now the rest, this migration included.
    const { applied } = await migrate(fresh.url);
    expect(applied).toContain('20261127020000_audit_chain');

    const migrated = createPrisma(fresh.url);
    try {
      const chains = [
        { merchantId: 'mer_01LEGACYA00000000000000000', livemode: false, entries: deltas.length },
        { merchantId: 'mer_01LEGACYA00000000000000000', livemode: true, entries: 1 },
        { merchantId: 'mer_01LEGACYB00000000000000000', livemode: false, entries: 1 },
      ];
      for (const chain of chains) {
        const rows = await migrated.activity.findMany({ where: { merchantId: chain.merchantId, livemode: chain.livemode }, orderBy: { sequence: 'asc' } });
        expect(rows.map((r) => Number(r.sequence))).toEqual(Array.from({ length: chain.entries }, (_, i) => i + 1));
        expect(rows.map((r) => r.id)).toEqual([...rows.map((r) => r.id)].sort());
        expect(await verifyAuditTrail(migrated, chain)).toEqual({ valid: true, entriesChecked: chain.entries, firstBrokenActivityId: null, problem: null });
      }
      // The order's entry was inserted first but has the latest id: it is #6, the last of its chain.
      const orderEntry = await migrated.activity.findFirstOrThrow({ where: { orderId: 'ord_01LEGACY000000000000000000' } });
      expect(Number(orderEntry.sequence)).toBe(deltas.length);
      expect(await verifyAuditTrail(migrated, chains[0]!, 'ord_01LEGACY000000000000000000')).toMatchObject({ valid: true, entriesChecked: 1 });

      // New entries continue the migrated chain.
      const scope: Scope = { deps: { db: migrated, clock: systemClock }, merchantId: chains[0]!.merchantId, livemode: false, actor: { type: 'SYSTEM', id: null, name: 'test' } };
      const at = new Date();
      const appended = await new Writer(sqlPool(migrated)).submit(
        { merchantId: scope.merchantId, livemode: false, at, activity: activityRows(scope, scope.actor, at, null, [Activities.taxRegistrationAdded({ id: 'txr_x', jurisdiction: 'DE' })]) },
        async () => {},
      );
      expect(appended.ok).toBe(true);
      expect(await verifyAuditTrail(migrated, chains[0]!)).toMatchObject({ valid: true, entriesChecked: deltas.length + 1 });

      // The trigger is back in force after the backfill.
      await expect(migrated.$executeRaw`UPDATE "Activity" SET "type" = 'x' WHERE "merchantId" = ${chains[2]!.merchantId}`).rejects.toThrow(/append-only/);
    } finally {
      await migrated.$disconnect();
    }
  });
});
