// Appending writes in one statement, batched (src/domain/mutation.ts runSingleStatement).
//
// Every write appends to its merchant's audit chain, and a chain's head stays locked until commit, so
// one merchant's writes commit one after another, each waiting for the previous one's commit (its WAL
// flush). A use case that only inserts new rows (createOrder without coupons) therefore goes through
// the ChainWriter of its pool and tables:
//
// - the writes are ONE statement (below), which PostgreSQL runs as one transaction: claim the
//   idempotency keys, lock the chain heads (in merchant order, so two statements never deadlock on
//   them), number and hash the entries of each chain (sha256 over exactly the text src/domain/audit.ts
//   entryHash hashes), insert them, move the heads, insert the use case's rows. No round trip to this
//   process happens while a head is locked.
// - requests that arrive while a statement runs wait for it, then go together in the next statement
//   (group commit), whichever merchants they belong to: at low load a request runs alone at once;
//   under load one statement and one commit serve many requests. A batch is all or nothing; if it
//   fails (a row of one request violates a constraint, a key is taken meanwhile), each request is run
//   again alone, so one request's failure never becomes another's.
// - the text of the statement does not depend on the values or on the batch (every list is one JSON
//   parameter), so it is prepared once per connection.
import type pg from 'pg';
import { createHash } from 'node:crypto';
import type { ActivityRow, UnchainedActivityRow } from './activity.js';
import { canonicalAroundSequence, normalizeDelta } from './audit.js';
import type { Json } from './json.js';
import { rowJson } from '../db/sql.js';

/** Tables a ChainWriter inserts into, parents first (Activity is always written). */
export type InsertTable = 'Order' | 'LineItem';

export interface ChainWrite {
  /** The activity entries of this request (at least one). */
  activity: UnchainedActivityRow[];
  /** Rows to insert, per table of the writer. */
  rows: Partial<Record<InsertTable, object[]>>;
  /** The merchant's pricingVersion the rows were priced with: written only if it is still current. */
  pricingVersion: number | null;
  /** The idempotency key to claim with the write, if the request has one. */
  claim: { key: string; operation: string; requestHash: string; response: Json; createdAt: Date; expiresAt: Date } | null;
}

/** The merchant's pricing settings changed since the rows were priced: nothing was written; price again. */
export class StalePricing extends Error {
  constructor() {
    super("the merchant's pricing settings changed since the order was priced");
  }
}

/** The key was claimed by another request meanwhile: nothing was written; look the key up again. */
export class KeyTaken extends Error {
  constructor() {
    super('idempotency key taken by a concurrent request');
  }
}

interface Pending {
  write: ChainWrite;
  /** Tells subscribers of this request's entries (the event bus of the server it came through). */
  publish: (rows: ActivityRow[]) => Promise<void>;
  resolve: (rows: ActivityRow[]) => void;
  reject: (error: unknown) => void;
}

/** At most this many requests or line rows go into one statement. */
const MAX_BATCH = 64;
const MAX_ROWS = 5000;

function statementText(tables: readonly InsertTable[]): string {
  const inserts = tables.map(
    (table, i) =>
      `"insert_${i + 1}" AS (INSERT INTO "${table}" SELECT r.* FROM "ready", jsonb_populate_recordset(NULL::"${table}", $${5 + i}::jsonb) AS r WHERE "ready"."ok")`,
  );
  // $1 chains [{merchantId, livemode}], $2 claims, $3 entries [{merchantId, livemode, n, before, after, row}]
  // (n numbers a chain's entries 1, 2, ... in request order), $4 pricing versions [{merchantId, version}].
  return `WITH RECURSIVE
"chains" AS MATERIALIZED (
  SELECT c."merchantId", c."livemode" FROM jsonb_to_recordset($1::jsonb) AS c("merchantId" text, "livemode" boolean)),
"fresh" AS MATERIALIZED (
  SELECT NOT EXISTS (
    SELECT 1 FROM jsonb_to_recordset($4::jsonb) AS v("merchantId" text, "version" integer) JOIN "Merchant" AS m ON m."id" = v."merchantId"
    WHERE m."pricingVersion" <> v."version") AS "ok"),
"ready" AS MATERIALIZED (
  SELECT (SELECT "ok" FROM "fresh")
    AND (SELECT count(*) FROM "AuditChainHead" AS h JOIN "chains" AS c ON h."merchantId" = c."merchantId" AND h."livemode" = c."livemode") = (SELECT count(*) FROM "chains") AS "ok"),
"claims" AS (
  INSERT INTO "IdempotencyKey" ("merchantId", "livemode", "key", "operation", "requestHash", "response", "createdAt", "expiresAt")
  SELECT k."merchantId", k."livemode", k."key", k."operation", k."requestHash", COALESCE(k."response", 'null'::jsonb), k."createdAt", k."expiresAt"
  FROM jsonb_to_recordset($2::jsonb) AS k("merchantId" text, "livemode" boolean, "key" text, "operation" text, "requestHash" text, "response" jsonb, "createdAt" timestamptz, "expiresAt" timestamptz)
  WHERE (SELECT "ok" FROM "ready")
  RETURNING 1),
"heads" AS MATERIALIZED (
  SELECT h."merchantId", h."livemode", h."sequence", h."hash" FROM "AuditChainHead" AS h
  WHERE (h."merchantId", h."livemode") IN (SELECT "merchantId", "livemode" FROM "chains")
    AND (SELECT count(*) FROM "claims") >= 0 AND (SELECT "ok" FROM "ready")
  ORDER BY h."merchantId", h."livemode"
  FOR UPDATE),
"entries" AS MATERIALIZED (
  SELECT x."merchantId", x."livemode", x."n", x."before", x."after", x."row"
  FROM jsonb_to_recordset($3::jsonb) AS x("merchantId" text, "livemode" boolean, "n" bigint, "before" text, "after" text, "row" jsonb)),
"chain" AS (
  SELECT "merchantId", "livemode", 0::bigint AS "n", "sequence", "hash", NULL::text AS "previousHash" FROM "heads"
  UNION ALL
  SELECT c."merchantId", c."livemode", c."n" + 1, c."sequence" + 1,
    encode(sha256(convert_to(COALESCE(c."hash", '') || e."before" || (c."sequence" + 1)::text || e."after", 'UTF8')), 'hex'),
    c."hash"
  FROM "chain" AS c JOIN "entries" AS e ON e."merchantId" = c."merchantId" AND e."livemode" = c."livemode" AND e."n" = c."n" + 1),
"moved" AS (
  UPDATE "AuditChainHead" AS h SET "sequence" = l."sequence", "hash" = l."hash"
  FROM (SELECT DISTINCT ON ("merchantId", "livemode") "merchantId", "livemode", "sequence", "hash" FROM "chain" WHERE "n" > 0 ORDER BY "merchantId", "livemode", "n" DESC) AS l
  WHERE h."merchantId" = l."merchantId" AND h."livemode" = l."livemode"),
"recorded" AS (
  INSERT INTO "Activity"
  SELECT r.* FROM "chain" AS c JOIN "entries" AS e ON e."merchantId" = c."merchantId" AND e."livemode" = c."livemode" AND e."n" = c."n",
    jsonb_populate_record(NULL::"Activity", e."row" || jsonb_build_object('sequence', c."sequence", 'hash', c."hash", 'previousHash', c."previousHash")) AS r)${inserts.map((cte) => `,\n${cte}`).join('')}
SELECT "merchantId", "livemode", "n", "sequence"::text AS "sequence", "hash", "previousHash" FROM "chain" WHERE "n" > 0
UNION ALL SELECT NULL, NULL, -1, NULL, NULL, NULL FROM "fresh" WHERE NOT "ok"`;
}

/** Heads for chains that have no entry yet (created once per merchant and mode, never removed). */
const CREATE_HEADS_SQL = `INSERT INTO "AuditChainHead" ("merchantId", "livemode", "sequence", "hash")
  SELECT c."merchantId", c."livemode", 0, NULL FROM jsonb_to_recordset($1::jsonb) AS c("merchantId" text, "livemode" boolean)
  ON CONFLICT DO NOTHING`;

function isKeyViolation(error: unknown): boolean {
  const e = error as { code?: string; table?: string; constraint?: string } | null;
  return e?.code === '23505' && (e.table === 'IdempotencyKey' || (e.constraint ?? '').startsWith('IdempotencyKey'));
}

export class ChainWriter {
  private readonly queue: Pending[] = [];
  private running = false;
  private readonly text: string;
  private readonly name: string;

  constructor(
    private readonly pool: pg.Pool,
    private readonly tables: readonly InsertTable[],
  ) {
    this.text = statementText(tables);
    this.name = `flint_chain_${createHash('sha256').update(this.text).digest('hex').slice(0, 16)}`;
  }

  /** Writes `write` (in a batch with whatever else is waiting); resolves with its entries once committed. */
  submit(write: ChainWrite, publish: (rows: ActivityRow[]) => Promise<void>): Promise<ActivityRow[]> {
    if (write.activity.length === 0) return Promise.reject(new Error('ChainWriter: a write records at least one entry'));
    const { merchantId, livemode } = write.activity[0]!;
    if (write.activity.some((r) => r.merchantId !== merchantId || r.livemode !== livemode)) {
      return Promise.reject(new Error("ChainWriter: a write's entries belong to one merchant and mode"));
    }
    return new Promise((resolve, reject) => {
      this.queue.push({ write, publish, resolve, reject });
      if (!this.running) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.running = true;
    try {
      while (this.queue.length > 0) {
        const batch = this.take();
        if (batch.length === 1) {
          await this.runAlone(batch[0]!);
          continue;
        }
        try {
          const recorded = await this.execute(batch.map((p) => p.write));
          this.settle(batch, recorded);
        } catch {
          // One request spoiled the batch (or a key was taken meanwhile): nothing was written; run
          // each alone, so every request gets its own outcome.
          for (const p of batch) await this.runAlone(p);
        }
      }
    } finally {
      this.running = false;
    }
  }

  private take(): Pending[] {
    const batch: Pending[] = [];
    let rows = 0;
    while (this.queue.length > 0 && batch.length < MAX_BATCH) {
      const next = this.queue[0]!;
      const size = Object.values(next.write.rows).reduce((n, list) => n + (list?.length ?? 0), 0);
      if (batch.length > 0 && rows + size > MAX_ROWS) break;
      rows += size;
      batch.push(this.queue.shift()!);
    }
    return batch;
  }

  private async runAlone(p: Pending): Promise<void> {
    try {
      this.settle([p], await this.execute([p.write]));
    } catch (error) {
      p.reject(isKeyViolation(error) ? new KeyTaken() : error);
    }
  }

  private settle(batch: Pending[], recorded: ActivityRow[][]): void {
    // Subscribers hear of the batch in chain (= commit) order before any request of it answers.
    const byBus = new Map<Pending['publish'], ActivityRow[]>();
    batch.forEach((p, i) => byBus.set(p.publish, [...(byBus.get(p.publish) ?? []), ...recorded[i]!]));
    void (async () => {
      for (const [publish, rows] of byBus) {
        try {
          await publish(rows);
        } catch (error) {
          console.error('publishing committed activity failed', error);
        }
      }
      batch.forEach((p, i) => p.resolve(recorded[i]!));
    })();
  }

  /** Runs the statement for `writes`; creates the chain heads first for chains that have none yet. */
  private async execute(writes: ChainWrite[]): Promise<ActivityRow[][]> {
    const chainOf = (r: { merchantId: string; livemode: boolean }) => `${r.merchantId}\u0000${r.livemode}`;
    const chains = new Map<string, { merchantId: string; livemode: boolean; count: number }>();
    // Each entry as it will be stored (and hashed), numbered within its chain in request order.
    const entries = writes.flatMap((w) => w.activity).map((activity) => {
      const row = { ...activity, delta: normalizeDelta(activity.delta) };
      const chain = chains.get(chainOf(row)) ?? { merchantId: row.merchantId, livemode: row.livemode, count: 0 };
      chain.count += 1;
      chains.set(chainOf(row), chain);
      return { row, n: chain.count };
    });
    const chainList = rowJson([...chains.values()].map(({ merchantId, livemode }) => ({ merchantId, livemode })));
    const values = [
      chainList,
      rowJson(writes.flatMap((w) => (w.claim ? [{ ...w.claim, merchantId: w.activity[0]!.merchantId, livemode: w.activity[0]!.livemode }] : []))),
      rowJson(entries.map(({ row, n }) => ({ merchantId: row.merchantId, livemode: row.livemode, n, ...canonicalAroundSequence(row), row }))),
      JSON.stringify(writes.flatMap((w) => (w.pricingVersion === null ? [] : [{ merchantId: w.activity[0]!.merchantId, version: w.pricingVersion }]))),
      ...this.tables.map((table) => rowJson(writes.flatMap((w) => w.rows[table] ?? []))),
    ];
    for (let attempt = 0; attempt < 2; attempt++) {
      const { rows } = await this.pool.query<{ merchantId: string; livemode: boolean; n: string; sequence: string; hash: string; previousHash: string | null }>({
        name: this.name,
        text: this.text,
        values,
      });
      if (rows.some((r) => Number(r.n) === -1)) throw new StalePricing();
      if (rows.length === entries.length) {
        const byPlace = new Map(rows.map((r) => [`${chainOf(r)}\u0000${r.n}`, r]));
        const chained: ActivityRow[] = entries.map(({ row, n }) => {
          const r = byPlace.get(`${chainOf(row)}\u0000${n}`);
          if (!r) throw new Error(`ChainWriter: entry ${row.id} was not recorded`);
          return { ...row, sequence: BigInt(r.sequence), hash: r.hash, previousHash: r.previousHash };
        });
        const out: ActivityRow[][] = [];
        let at = 0;
        for (const w of writes) {
          out.push(chained.slice(at, at + w.activity.length));
          at += w.activity.length;
        }
        return out;
      }
      if (rows.length !== 0) throw new Error(`ChainWriter: the statement recorded ${rows.length} of ${entries.length} entries`);
      // A chain without a head yet: nothing was written. Create the missing heads and write.
      await this.pool.query(CREATE_HEADS_SQL, [chainList]);
    }
    throw new Error('ChainWriter: the audit chain heads could not be created');
  }
}

const writers = new WeakMap<pg.Pool, Map<string, ChainWriter>>();

/** The writer of `pool` for one set of tables (one per process and database, whatever the merchant). */
export function chainWriter(pool: pg.Pool, tables: readonly InsertTable[]): ChainWriter {
  let byTables = writers.get(pool);
  if (!byTables) writers.set(pool, (byTables = new Map()));
  const id = tables.join(',');
  let writer = byTables.get(id);
  if (!writer) {
    writer = new ChainWriter(pool, tables);
    byTables.set(id, writer);
  }
  return writer;
}
