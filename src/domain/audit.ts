// The tamper-evident audit trail. Every activity entry joins a hash chain:
//
//   hash = sha256_hex(previousHash + canonicalJson(entry))      (previousHash is '' for the first entry)
//
// where `entry` is every stored column of the row except hash/previousHash themselves (HASHED_FIELDS),
// serialised by src/domain/json.ts canonicalJson (sorted keys, no whitespace, dates as ISO strings).
//
// One chain per merchant AND mode (merchantId + livemode), like every other piece of data: test and
// live activity are separate ledgers, a test key can verify (and learns about) test entries only, and
// test traffic never waits for live traffic's chain lock. `sequence` numbers a chain's entries 1, 2,
// 3... and is unique per chain, so two entries can never claim the same place.
//
// Appending locks the chain's head row (AuditChainHead) with an UPDATE inside the mutation's
// transaction; the lock is held until commit. The append is the last step of a use case, so the
// lock is taken as late as possible and held for two statements plus the commit. Because the head is
// locked until commit, sequence order is commit order for each chain.
//
// Use cases call appendActivity (src/domain/activity.ts) once, as their last write; it calls
// appendChained here. A second call in the same transaction is correct but holds the lock longer.
// Use cases that only insert new rows (createOrder without coupons) append through
// src/domain/chain-writer.ts instead: the same chain and hash, computed by PostgreSQL inside one
// statement, with concurrent requests of a merchant sharing one statement and one commit.
import { createHash } from 'node:crypto';
import type { Db, Tx } from './context.js';
import { canonicalJson, type Json } from './json.js';
import type { ActivityRow, UnchainedActivityRow } from './activity.js';

/** The stored columns covered by the hash, in canonical (sorted) order. */
export const HASHED_FIELDS = [
  'actorId',
  'actorName',
  'actorType',
  'delta',
  'id',
  'idempotencyKey',
  'livemode',
  'merchantId',
  'occurredAt',
  'orderId',
  'sequence',
  'type',
] as const;

type HashedEntry = Pick<ActivityRow, (typeof HASHED_FIELDS)[number]>;

/** The exact text that is hashed after the previous hash. */
export function canonicalEntry(entry: HashedEntry): string {
  const content: Record<string, unknown> = {};
  for (const field of HASHED_FIELDS) content[field] = entry[field];
  return canonicalJson(content);
}

export function entryHash(previousHash: string | null, entry: HashedEntry): string {
  return createHash('sha256')
    .update(previousHash ?? '', 'utf8')
    .update(canonicalEntry(entry), 'utf8')
    .digest('hex');
}

// ---------------------------------------------------------------------------------------------
// Rows recorded by a transaction, for publishing after it commits

const recorded = new WeakMap<object, ActivityRow[]>();

/**
 * Starts collecting the activity rows appended through `tx`; the returned array fills as they are
 * written. runMutation publishes it after commit. Code that opens its own transaction does the same:
 * `const rows = trackActivity(tx)` inside, `await deps.events?.publishActivity(rows)` after commit.
 */
export function trackActivity(tx: Tx): ActivityRow[] {
  const rows: ActivityRow[] = [];
  recorded.set(tx, rows);
  return rows;
}

// ---------------------------------------------------------------------------------------------
// Appending

/**
 * Places `rows` (all of one merchant and mode) at the end of their chain and inserts them: locks the
 * chain head, numbers and hashes the rows, inserts them and moves the head, in two statements.
 */
export async function appendChained(tx: Tx, rows: UnchainedActivityRow[]): Promise<ActivityRow[]> {
  if (rows.length === 0) return [];
  const { merchantId, livemode } = rows[0]!;
  if (rows.some((r) => r.merchantId !== merchantId || r.livemode !== livemode)) {
    throw new Error('appendChained: all rows of one call must belong to one merchant and mode');
  }
  const head = await lockHead(tx, merchantId, livemode, rows.length);
  let previousHash = head.hash;
  let sequence = head.sequence;
  const chained: ActivityRow[] = rows.map((row) => {
    sequence += 1n;
    const entry = { ...row, delta: normalizeDelta(row.delta), sequence };
    const hash = entryHash(previousHash, entry);
    const out: ActivityRow = { ...entry, previousHash, hash };
    previousHash = hash;
    return out;
  });

  // One statement: insert the rows, move the head's hash (its sequence moved when it was locked).
  const params: unknown[] = [merchantId, livemode, previousHash];
  const tuples = chained.map((r) => {
    const b = params.length;
    params.push(
      r.id,
      r.merchantId,
      r.livemode,
      r.orderId,
      r.type,
      r.occurredAt,
      r.actorType,
      r.actorId,
      r.actorName,
      JSON.stringify(r.delta),
      r.idempotencyKey,
      r.sequence,
      r.hash,
      r.previousHash,
    );
    const p = (i: number) => `$${b + i}`;
    return `(${p(1)}, ${p(2)}, ${p(3)}::boolean, ${p(4)}, ${p(5)}, ${p(6)}::timestamptz, ${p(7)}, ${p(8)}, ${p(9)}, ${p(10)}::jsonb, ${p(11)}, ${p(12)}::bigint, ${p(13)}, ${p(14)})`;
  });
  await tx.$executeRawUnsafe(
    `WITH "inserted" AS (
       INSERT INTO "Activity" ("id", "merchantId", "livemode", "orderId", "type", "occurredAt", "actorType", "actorId", "actorName", "delta", "idempotencyKey", "sequence", "hash", "previousHash")
       VALUES ${tuples.join(', ')}
     )
     UPDATE "AuditChainHead" SET "hash" = $3 WHERE "merchantId" = $1 AND "livemode" = $2::boolean`,
    ...params,
  );
  recorded.get(tx)?.push(...chained);
  return chained;
}

/** The stored form of a delta: what reading the JSONB column back gives (and what is hashed). */
export function normalizeDelta(delta: Json): Json {
  return JSON.parse(JSON.stringify(delta)) as Json;
}

interface Head {
  /** Sequence of the last entry before this append. */
  sequence: bigint;
  hash: string | null;
}

/** Reserves `count` places at the end of the chain; the head row stays locked until commit. */
async function lockHead(tx: Tx, merchantId: string, livemode: boolean, count: number): Promise<Head> {
  for (let attempt = 0; attempt < 2; attempt++) {
    const rows = await tx.$queryRawUnsafe<{ sequence: bigint; hash: string | null }[]>(
      `UPDATE "AuditChainHead" SET "sequence" = "sequence" + $3::bigint
       WHERE "merchantId" = $1 AND "livemode" = $2::boolean
       RETURNING "sequence", "hash"`,
      merchantId,
      livemode,
      BigInt(count),
    );
    if (rows.length === 1) return { sequence: BigInt(rows[0]!.sequence) - BigInt(count), hash: rows[0]!.hash };
    // The chain's first entry: create its head. A concurrent creator makes us wait, then we find its row.
    await tx.$executeRawUnsafe(
      `INSERT INTO "AuditChainHead" ("merchantId", "livemode", "sequence", "hash") VALUES ($1, $2::boolean, 0, NULL) ON CONFLICT DO NOTHING`,
      merchantId,
      livemode,
    );
  }
  throw new Error(`audit chain head of ${merchantId} (${livemode ? 'live' : 'test'}) could not be locked`);
}

// ---------------------------------------------------------------------------------------------
// Appending inside one statement (src/domain/mutation.ts runSingleStatement)
//
// The same chain, computed by PostgreSQL (src/domain/chain-writer.ts): the statement locks the head row
// (SELECT ... FOR UPDATE, which in READ COMMITTED waits for a concurrent appender and then reads its
// committed head), numbers and hashes the entries with sha256() over exactly the text entryHash hashes,
// inserts them and moves the head. The lock is held only while PostgreSQL runs that statement and
// commits it: no round trip to this process happens while it is held.

/** A value of `sequence` that no chain reaches (2^53 - 1), to find where the sequence goes in the canonical text. */
const SEQUENCE_MARK = BigInt(Number.MAX_SAFE_INTEGER);

/**
 * The canonical text of an entry split around its sequence number: hashed text = before + sequence + after.
 * The entry's delta must be in its stored form already (normalizeDelta).
 */
export function canonicalAroundSequence(entry: Omit<HashedEntry, 'sequence'>): { before: string; after: string } {
  const text = canonicalEntry({ ...entry, sequence: SEQUENCE_MARK });
  // "sequence" is a top-level key; only "type" (one of our dotted names) sorts after it.
  const at = text.lastIndexOf(`"sequence":${SEQUENCE_MARK}`) + '"sequence":'.length;
  return { before: text.slice(0, at), after: text.slice(at + String(SEQUENCE_MARK).length) };
}


// ---------------------------------------------------------------------------------------------
// Verifying

export interface AuditVerification {
  valid: boolean;
  entriesChecked: number;
  /** The first entry that does not verify, when valid is false (null when entries are missing at the end). */
  firstBrokenActivityId: string | null;
  /** What is wrong, in words; null when valid. */
  problem: string | null;
}

const BATCH = 2000;

type StoredEntry = HashedEntry & { hash: string; previousHash: string | null };

const storedSelect = {
  id: true,
  merchantId: true,
  livemode: true,
  orderId: true,
  type: true,
  occurredAt: true,
  actorType: true,
  actorId: true,
  actorName: true,
  delta: true,
  idempotencyKey: true,
  sequence: true,
  hash: true,
  previousHash: true,
} as const;

/**
 * Recomputes the chain of one merchant and mode: every entry's hash from its stored content and the
 * previous entry's hash, the links between entries, the numbering, and the head. With `orderId`, the
 * chain is checked from the order's first entry to the head: every entry of the order and every
 * entry recorded since, so no entry of the order can have been changed, removed or reordered without
 * it showing. Returns null when the order does not exist for this merchant and mode.
 */
export async function verifyAuditTrail(
  db: Db,
  chain: { merchantId: string; livemode: boolean },
  orderId?: string | null,
): Promise<AuditVerification | null> {
  // One snapshot for the whole check: appends committed meanwhile are not half-seen.
  return db.$transaction(
    async (tx) => {
      const own = { merchantId: chain.merchantId, livemode: chain.livemode };
      let from = 1n;
      if (orderId !== null && orderId !== undefined) {
        const order = await tx.order.findFirst({ where: { id: orderId, ...own }, select: { id: true } });
        if (!order) return null;
        const first = await tx.activity.findFirst({ where: { orderId, ...own }, orderBy: { sequence: 'asc' }, select: { sequence: true } });
        if (!first) {
          // Every order is recorded from its creation on: no entry at all means its entries were removed.
          const whole = await checkFrom(tx, own, 1n);
          if (!whole.valid) return whole;
          return {
            ...whole,
            valid: false,
            problem: `Order ${orderId} has no activity entries, though its creation is always recorded: its entries were removed.`,
          };
        }
        from = first.sequence;
      }
      return checkFrom(tx, own, from);
    },
    { isolationLevel: 'RepeatableRead', maxWait: 10_000, timeout: 120_000 },
  );
}

/** Recomputes one chain from entry #from to its head. */
async function checkFrom(tx: Tx, own: { merchantId: string; livemode: boolean }, from: bigint): Promise<AuditVerification> {
  const head = await tx.auditChainHead.findUnique({ where: { merchantId_livemode: own }, select: { sequence: true, hash: true } });

  let previous: StoredEntry | null = null;
  if (from > 1n) {
    previous = (await tx.activity.findUnique({
      where: { merchantId_livemode_sequence: { ...own, sequence: from - 1n } },
      select: storedSelect,
    })) as StoredEntry | null;
  }
  let checked = 0;
  let expected = from;
  const broken = (entry: StoredEntry | null, problem: string): AuditVerification => ({
    valid: false,
    entriesChecked: checked,
    firstBrokenActivityId: entry?.id ?? null,
    problem,
  });
  for (;;) {
    const batch = (await tx.activity.findMany({
      where: { ...own, sequence: { gte: expected } },
      orderBy: { sequence: 'asc' },
      take: BATCH,
      select: storedSelect,
    })) as StoredEntry[];
    for (const entry of batch) {
      checked += 1;
      if (entryHash(entry.previousHash, entry) !== entry.hash) {
        return broken(entry, `Entry ${entry.id} (#${entry.sequence}, ${entry.type}) does not match its hash: it was changed after it was recorded.`);
      }
      if (entry.sequence !== expected) {
        return broken(entry, `Entry ${entry.id} is #${entry.sequence} but #${expected} was expected: entries #${expected} to #${entry.sequence - 1n} are missing.`);
      }
      const expectedPrevious = expected === 1n ? null : (previous?.hash ?? undefined);
      if (expectedPrevious === undefined) {
        return broken(entry, `Entry ${entry.id} (#${entry.sequence}) follows entry #${expected - 1n}, which is missing.`);
      }
      if (entry.previousHash !== expectedPrevious) {
        return broken(
          entry,
          `Entry ${entry.id} (#${entry.sequence}) does not link to the entry before it (${previous?.id ?? 'none'}): an entry was changed, removed or inserted there.`,
        );
      }
      previous = entry;
      expected += 1n;
    }
    if (batch.length < BATCH) break;
  }
  const lastSequence = expected - 1n;
  const headSequence = head?.sequence ?? 0n;
  const headHash = head?.hash ?? null;
  if (headSequence !== lastSequence || headHash !== (lastSequence === 0n ? null : (previous?.hash ?? null))) {
    return broken(
      null,
      `The chain head records ${headSequence} entries ending in hash ${headHash ?? 'none'}, but the chain ends at #${lastSequence}: entries were removed from its end or the head was changed.`,
    );
  }
  return { valid: true, entriesChecked: checked, firstBrokenActivityId: null, problem: null };
}

// ---------------------------------------------------------------------------------------------
// Listing

export interface ActivityFilter {
  /** Exact dotted types, e.g. ["order.canceled", "order.status_changed"]. */
  types?: string[] | null;
  orderId?: string | null;
  actorType?: string | null;
  /** At or after this instant. */
  occurredAfter?: Date | null;
  /** Before this instant. */
  occurredBefore?: Date | null;
}

/** A page of one chain's entries, newest first, strictly before `beforeSequence` when given. */
export async function listActivity(
  db: Db,
  chain: { merchantId: string; livemode: boolean },
  filter: ActivityFilter,
  first: number,
  beforeSequence: bigint | null,
): Promise<{ rows: ActivityRow[]; hasNextPage: boolean }> {
  const occurredAt =
    filter.occurredAfter || filter.occurredBefore
      ? { ...(filter.occurredAfter ? { gte: filter.occurredAfter } : {}), ...(filter.occurredBefore ? { lt: filter.occurredBefore } : {}) }
      : undefined;
  const rows = await db.activity.findMany({
    where: {
      merchantId: chain.merchantId,
      livemode: chain.livemode,
      ...(filter.types && filter.types.length > 0 ? { type: { in: filter.types } } : {}),
      ...(filter.orderId ? { orderId: filter.orderId } : {}),
      ...(filter.actorType ? { actorType: filter.actorType } : {}),
      ...(occurredAt ? { occurredAt } : {}),
      ...(beforeSequence !== null ? { sequence: { lt: beforeSequence } } : {}),
    },
    orderBy: { sequence: 'desc' },
    take: first + 1,
  });
  return { rows: rows.slice(0, first) as ActivityRow[], hasNextPage: rows.length > first };
}
