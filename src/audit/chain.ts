// The tamper-evident audit trail. Every activity entry joins a hash chain:
//
//   hash = sha256_hex(previousHash + canonicalJson(entry))      (previousHash is '' for the first entry)
//
// where `entry` is every stored column of the row except hash/previousHash themselves (HASHED_FIELDS),
// serialised by src/kernel/json.ts canonicalJson (sorted keys, no whitespace, dates as ISO strings).
//
// One chain per merchant AND mode (merchantId + livemode), like every other piece of data: test and
// live activity are separate ledgers, a test key can verify (and learns about) test entries only, and
// test traffic never waits for live traffic's chain lock. `sequence` numbers a chain's entries 1, 2,
// 3... and is unique per chain, so two entries can never claim the same place.
//
// Entries are appended only by the one write path (src/kernel/writer.ts, flint_write): PostgreSQL
// locks the chain heads of a call last and in merchant order, numbers and hashes the entries with
// sha256() over exactly the text entryHash hashes (canonicalAroundSequence below splits it around the
// sequence number), inserts them and moves the heads, inside the call that writes the change. Heads are
// locked only while PostgreSQL runs that call and commits it, and a call serves many requests, so the
// chain never serializes a merchant's writes in the request path; sequence order is commit order.
import { createHash } from 'node:crypto';
import type { Db, Tx } from '../kernel/context.js';
import { canonicalJson, type Json } from '../kernel/json.js';
import type { ActivityRow } from './activity.js';

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

/** The stored form of a delta: what reading the JSONB column back gives (and what is hashed). */
export function normalizeDelta(delta: Json): Json {
  return JSON.parse(JSON.stringify(delta)) as Json;
}

// ---------------------------------------------------------------------------------------------
// The hashed text around the sequence number (PostgreSQL fills the number in, flint_write)

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
