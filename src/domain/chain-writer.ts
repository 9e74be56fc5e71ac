// Appending writes in one statement, batched per audit chain (src/domain/mutation.ts runSingleStatement).
//
// Every write appends to its merchant's audit chain, and the chain head stays locked until commit,
// so one merchant's writes commit one after another: each waits for the previous one's commit
// (its WAL flush). A use case that only inserts new rows (createOrder without coupons) therefore
// goes through a ChainWriter, one per (pool, merchant, mode, tables):
//
// - the writes are ONE statement (below), which PostgreSQL runs as one transaction: claim the
//   idempotency keys, lock the chain head, number and hash the entries (sha256 over exactly the text
//   src/domain/audit.ts entryHash hashes), insert them, move the head, insert the use case's rows.
//   No round trip to this process happens while the head is locked.
// - requests that arrive while a statement is running wait for it, then go together in the next
//   statement (group commit): at low load a request runs alone at once; under load one lock and one
//   commit serve many requests. A batch is all or nothing; if it fails (a row of one request violates
//   a constraint, a key is taken meanwhile), each request is run again alone, so one request's failure
//   never becomes another's.
// - the text of the statement does not depend on the values or on the batch size (every list is one
//   JSON parameter), so it is prepared once per connection.
import type pg from 'pg';
import { createHash } from 'node:crypto';
import type { ActivityRow, UnchainedActivityRow } from './activity.js';
import { canonicalAroundSequence, CREATE_HEAD_SQL, normalizeDelta } from './audit.js';
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
    (table, i) => `"insert_${i + 1}" AS (INSERT INTO "${table}" SELECT r.* FROM "head", jsonb_populate_recordset(NULL::"${table}", $${6 + i}::jsonb) AS r)`,
  );
  return `WITH RECURSIVE
"fresh" AS MATERIALIZED (
  SELECT NOT EXISTS (
    SELECT 1 FROM jsonb_array_elements_text($5::jsonb) AS v("version") JOIN "Merchant" AS m ON m."id" = $1
    WHERE m."pricingVersion" <> v."version"::integer) AS "ok"),
"claims" AS (
  INSERT INTO "IdempotencyKey" ("merchantId", "livemode", "key", "operation", "requestHash", "response", "createdAt", "expiresAt")
  SELECT $1, $2, k."key", k."operation", k."requestHash", COALESCE(k."response", 'null'::jsonb), k."createdAt", k."expiresAt"
  FROM jsonb_to_recordset($3::jsonb) AS k("key" text, "operation" text, "requestHash" text, "response" jsonb, "createdAt" timestamptz, "expiresAt" timestamptz)
  WHERE EXISTS (SELECT 1 FROM "AuditChainHead" WHERE "merchantId" = $1 AND "livemode" = $2) AND (SELECT "ok" FROM "fresh")
  RETURNING 1),
"head" AS MATERIALIZED (
  SELECT "sequence", "hash" FROM "AuditChainHead"
  WHERE "merchantId" = $1 AND "livemode" = $2 AND (SELECT count(*) FROM "claims") >= 0 AND (SELECT "ok" FROM "fresh")
  FOR UPDATE),
"entries" AS MATERIALIZED (
  SELECT x."n", x."value"->>'before' AS "before", x."value"->>'after' AS "after", x."value"->'row' AS "row"
  FROM jsonb_array_elements($4::jsonb) WITH ORDINALITY AS x("value", "n")),
"chain" AS (
  SELECT 0::bigint AS "n", "sequence", "hash", NULL::text AS "previousHash" FROM "head"
  UNION ALL
  SELECT c."n" + 1, c."sequence" + 1,
    encode(sha256(convert_to(COALESCE(c."hash", '') || e."before" || (c."sequence" + 1)::text || e."after", 'UTF8')), 'hex'),
    c."hash"
  FROM "chain" c JOIN "entries" e ON e."n" = c."n" + 1),
"moved" AS (
  UPDATE "AuditChainHead" AS h SET "sequence" = l."sequence", "hash" = l."hash"
  FROM (SELECT "sequence", "hash" FROM "chain" ORDER BY "n" DESC LIMIT 1) AS l
  WHERE h."merchantId" = $1 AND h."livemode" = $2),
"recorded" AS (
  INSERT INTO "Activity"
  SELECT r.* FROM "chain" c JOIN "entries" e ON e."n" = c."n",
    jsonb_populate_record(NULL::"Activity", e."row" || jsonb_build_object('sequence', c."sequence", 'hash', c."hash", 'previousHash', c."previousHash")) AS r)${inserts.map((cte) => `,\n${cte}`).join('')}
SELECT "n", "sequence"::text AS "sequence", "hash", "previousHash" FROM "chain" WHERE "n" > 0
UNION ALL SELECT -1, NULL, NULL, NULL FROM "fresh" WHERE NOT "ok"
ORDER BY "n"`;
}

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
    private readonly merchantId: string,
    private readonly livemode: boolean,
    private readonly tables: readonly InsertTable[],
  ) {
    this.text = statementText(tables);
    this.name = `flint_chain_${createHash('sha256').update(this.text).digest('hex').slice(0, 16)}`;
  }

  /** Writes `write` (in a batch with whatever else is waiting); resolves with its entries once committed. */
  submit(write: ChainWrite, publish: (rows: ActivityRow[]) => Promise<void>): Promise<ActivityRow[]> {
    if (write.activity.length === 0) return Promise.reject(new Error('ChainWriter: a write records at least one entry'));
    return new Promise((resolve, reject) => {
      this.queue.push({ write, publish, resolve, reject });
      if (!this.running) void this.drain();
    });
  }

  get idle(): boolean {
    return !this.running && this.queue.length === 0;
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

  /** Runs the statement for `writes`; creates the chain head first if the merchant's mode has none yet. */
  private async execute(writes: ChainWrite[]): Promise<ActivityRow[][]> {
    // Each entry as it will be stored (and hashed): its delta as the JSONB column gives it back.
    const entries = writes.flatMap((w) => w.activity).map((row) => ({ ...row, delta: normalizeDelta(row.delta) }));
    const values = [
      this.merchantId,
      this.livemode,
      rowJson(writes.flatMap((w) => (w.claim ? [w.claim] : []))),
      rowJson(entries.map((row) => ({ ...canonicalAroundSequence(row), row }))),
      JSON.stringify(writes.flatMap((w) => (w.pricingVersion === null ? [] : [w.pricingVersion]))),
      ...this.tables.map((table) => rowJson(writes.flatMap((w) => w.rows[table] ?? []))),
    ];
    for (let attempt = 0; attempt < 2; attempt++) {
      const { rows } = await this.pool.query<{ n: string; sequence: string; hash: string; previousHash: string | null }>({ name: this.name, text: this.text, values });
      if (rows[0] && Number(rows[0].n) === -1) throw new StalePricing();
      if (rows.length === entries.length) {
        const chained: ActivityRow[] = entries.map((row, i) => ({
          ...row,
          sequence: BigInt(rows[i]!.sequence),
          hash: rows[i]!.hash,
          previousHash: rows[i]!.previousHash,
        }));
        const out: ActivityRow[][] = [];
        let at = 0;
        for (const w of writes) {
          out.push(chained.slice(at, at + w.activity.length));
          at += w.activity.length;
        }
        return out;
      }
      if (rows.length !== 0) throw new Error(`ChainWriter: the statement recorded ${rows.length} of ${entries.length} entries`);
      // No chain head yet: nothing was written. Create it and write.
      await this.pool.query(CREATE_HEAD_SQL, [this.merchantId, this.livemode]);
    }
    throw new Error(`ChainWriter: the audit chain head of ${this.merchantId} could not be created`);
  }
}

const writers = new WeakMap<pg.Pool, Map<string, ChainWriter>>();

/** The writer of one chain and set of tables on `pool`; idle writers are dropped when the map grows. */
export function chainWriter(
  pool: pg.Pool,
  merchantId: string,
  livemode: boolean,
  tables: readonly InsertTable[],
): ChainWriter {
  let byChain = writers.get(pool);
  if (!byChain) writers.set(pool, (byChain = new Map()));
  const id = `${merchantId}\u0000${livemode}\u0000${tables.join(',')}`;
  let writer = byChain.get(id);
  if (!writer) {
    if (byChain.size >= 10_000) for (const [k, w] of byChain) if (w.idle) byChain.delete(k);
    writer = new ChainWriter(pool, merchantId, livemode, tables);
    byChain.set(id, writer);
  }
  return writer;
}
