// The one write path's last step: planned writes, batched, applied by one call of flint_write
// (prisma/migrations/20261204000000_write_path), which PostgreSQL runs as one statement and one
// transaction.
//
// - A use case plans outside any transaction (reads, validates, prices) and submits a Write: the guards
//   its plan depends on (a row still at the version it read, a coupon still active and under its
//   limits, the merchant's pricing settings unchanged), the rows to insert, update and delete, the
//   idempotency key to claim or finish, and its audit entries.
// - Requests that arrive while a call runs go together in the next call (group commit), whatever their
//   merchant: one WAL flush serves many requests, and the audit chain heads are locked only while
//   PostgreSQL runs that call and commits it — no round trip to this process happens while anything
//   is locked, so the chain never serializes a merchant's writes in the request path.
// - Each write is judged on its own inside the call; a write whose guard fails writes nothing and is
//   answered `{ ok: false, reason }` (its use case plans again); the others commit. A call that fails
//   as a whole (a constraint violation) is retried with each write alone, so one request's failure
//   never becomes another's.
// - Two writes that change the same row never share a call (their guards name it), so a guard always
//   judges the row as the previous call left it.
import type pg from 'pg';
import type { ActivityRow, UnchainedActivityRow } from '../audit/activity.js';
import { canonicalAroundSequence, normalizeDelta } from '../audit/chain.js';
import type { Json } from './json.js';
import { rowJson } from '../db/sql.js';
import { INITIAL_STATUSES, checkOrderStatusChange, checkPaymentTransition, checkRefundTransition, type OrderStatus, type PaymentIntentStatus, type RefundStatus } from '../pricing/index.js';
import { TransitionError } from './transitions.js';

/** Tables a write may change, parents first: groups are applied in this order (deletes in reverse). */
export const TABLE_ORDER = [
  'Merchant',
  'ApiKey',
  'DashboardLink',
  'DashboardSession',
  'TaxRegistration',
  'TaxRate',
  'Coupon',
  'Order',
  'LineItem',
  'OrderCoupon',
  'CheckoutSession',
  'PaymentIntent',
  'Refund',
  'RefundLineItem',
  'Receipt',
  'OutboxMessage',
  'WebhookEvent',
] as const;
export type Table = (typeof TABLE_ORDER)[number];

/** Tables whose rows a guard can lock and check (by their `id`). */
export type GuardTable = Table;

export interface Guard {
  table: GuardTable;
  id: string;
  /** Column values the row must still have (JSON numbers and strings; bigints as numbers). */
  match: Record<string, string | number | boolean | null>;
  /** The write changes this row: no other write of the same call may guard it. Default true. */
  exclusive?: boolean;
}

export type Op =
  | { kind: 'insert'; table: Table; rows: object[] }
  | { kind: 'update'; table: Table; rows: object[]; keys?: string[] }
  | { kind: 'delete'; table: Table; rows: object[]; keys?: string[] };

export interface Claim {
  key: string;
  operation: string;
  requestHash: string;
  response: Json;
  createdAt: Date;
  expiresAt: Date;
}

export interface Write {
  merchantId: string;
  livemode: boolean;
  at: Date;
  claim?: Claim | null;
  /** Replaces the stored result of an idempotency key this request claimed earlier. */
  finish?: { key: string; response: Json } | null;
  guards?: Guard[];
  /** The merchant's pricingVersion the rows were priced with. */
  pricingVersion?: number | null;
  /** Coupon redemptions to record (each coupon's active window and limits re-checked under its lock). */
  couponUses?: { couponId: string; orderId: string; customerKey: string | null }[];
  /** Orders whose coupon redemptions are given back. */
  couponReleases?: string[];
  ops?: Op[];
  /** The audit entries of the change (of this write's merchant and mode). */
  activity: UnchainedActivityRow[];
}

export type WriteOutcome =
  | { ok: true; activity: ActivityRow[] }
  | { ok: false; reason: 'guard' | 'pricing' | 'coupon' | 'key'; detail: string | null };

interface Pending {
  write: Write;
  publish: (rows: ActivityRow[]) => Promise<void>;
  resolve: (outcome: WriteOutcome) => void;
  reject: (error: unknown) => void;
}

/** At most this many requests or rows go into one call. */
const MAX_BATCH = 64;
const MAX_ROWS = 5000;

type ResultRow = { ok: true; entries: { sequence: string; hash: string; previousHash: string | null }[] } | { ok: false; reason: string; detail: string | null };

function rowCount(w: Write): number {
  return (w.ops ?? []).reduce((n, op) => n + op.rows.length, 0) + w.activity.length;
}

function exclusiveKeys(w: Write): string[] {
  return (w.guards ?? []).filter((g) => g.exclusive !== false).map((g) => `${g.table}\u0000${g.id}`);
}

/**
 * Errors that mean "the state moved on since the plan" rather than a fault: a row inserted meanwhile
 * with the same unique key (two coupons with one code), a CHECK constraint that backs a limit, or a
 * deadlock with another process. Nothing was written; the use case plans again and sees why.
 */
const REFUSING_ERRORS = new Set(['23505', '23514', '40P01', '40001']);

function refusalOf(error: unknown): WriteOutcome | null {
  const e = error as { code?: string; constraint?: string } | null;
  if (!e?.code || !REFUSING_ERRORS.has(e.code)) return null;
  return { ok: false, reason: 'guard', detail: e.constraint ?? e.code };
}

const STATUS_CHECKS: Record<string, (from: string, to: string) => string | null> = {
  Order: (from, to) => checkOrderStatusChange(from as OrderStatus, to as OrderStatus),
  PaymentIntent: (from, to) => checkPaymentTransition(from as PaymentIntentStatus, to as PaymentIntentStatus),
  Refund: (from, to) => checkRefundTransition(from as RefundStatus, to as RefundStatus),
};

/**
 * The lifecycle tables are the only authority on status writes, and every write passes here: a new
 * order, payment intent or refund starts in one of its initial statuses; a status update names the
 * status it changes from in a guard (so the database confirms it) and the tables must list the change.
 */
function statusProblem(w: Write): string | null {
  for (const op of w.ops ?? []) {
    const check = STATUS_CHECKS[op.table];
    if (!check) continue;
    for (const row of op.rows as { id?: string; status?: string }[]) {
      if (row.status === undefined) continue;
      if (op.kind === 'insert') {
        const initial = INITIAL_STATUSES[op.table as keyof typeof INITIAL_STATUSES] as readonly string[];
        if (!initial.includes(row.status)) return `a new ${op.table} cannot start ${row.status} (it starts ${initial.join(' or ')})`;
        continue;
      }
      if (op.kind !== 'update') continue;
      const from = (w.guards ?? []).find((g) => g.table === op.table && g.id === row.id)?.match.status;
      if (typeof from !== 'string') return `a status write of ${op.table} ${row.id} must be guarded by the status it changes from`;
      const refused = check(from, row.status);
      if (refused) return refused;
    }
  }
  return null;
}

const SQL = { name: 'flint_write', text: 'SELECT "flint_write"($1::jsonb) AS "result"' };

/** The parameter of one call: the writes' judgements and the groups of rows, parents first. */
function callParameter(writes: Write[]): { param: string; entries: { row: UnchainedActivityRow }[][] } {
  const groups = new Map<string, { t: Table; k: Op['kind']; keys: string[]; cols: Set<string>; rows: object[] }>();
  const entries: { row: UnchainedActivityRow }[][] = [];
  const judged = writes.map((w, index) => {
    for (const op of w.ops ?? []) {
      if (op.rows.length === 0) continue;
      const keys = op.kind === 'insert' ? ['id'] : (op.keys ?? ['id']);
      const cols = new Set<string>();
      for (const row of op.rows) for (const c of Object.keys(row)) cols.add(c);
      const id = `${op.kind}\u0000${op.table}\u0000${keys.join(',')}\u0000${[...cols].sort().join(',')}`;
      let group = groups.get(id);
      if (!group) groups.set(id, (group = { t: op.table, k: op.kind, keys, cols, rows: [] }));
      for (const row of op.rows) group.rows.push({ ...row, _w: index + 1 });
    }
    const rows = w.activity.map((a) => ({ row: { ...a, delta: normalizeDelta(a.delta) } }));
    entries.push(rows);
    return {
      m: w.merchantId,
      l: w.livemode,
      at: w.at,
      claim: w.claim ?? null,
      finish: w.finish ?? null,
      guards: (w.guards ?? []).map((g) => ({ t: g.table, id: g.id, match: g.match })),
      pricing: w.pricingVersion ?? null,
      uses: w.couponUses ?? [],
      releases: w.couponReleases ?? [],
      entries: rows.map(({ row }) => ({ row, ...canonicalAroundSequence(row) })),
    };
  });
  const rank = (g: { t: Table; k: Op['kind'] }) => {
    const table = TABLE_ORDER.indexOf(g.t);
    // Inserts parents first, then updates, then deletes children first.
    return g.k === 'insert' ? table : g.k === 'update' ? 100 + table : 300 - table;
  };
  const apply = [...groups.values()]
    .sort((a, b) => rank(a) - rank(b))
    .map((g) => ({ t: g.t, k: g.k, keys: g.keys, cols: [...g.cols], rows: g.rows }));
  return { param: rowJson({ writes: judged, apply }), entries };
}

export class Writer {
  private readonly queue: Pending[] = [];
  private running = false;

  constructor(private readonly pool: pg.Pool) {}

  /** Applies `write` (in a call with whatever else is waiting); resolves once committed, or refused. */
  submit(write: Write, publish: (rows: ActivityRow[]) => Promise<void>): Promise<WriteOutcome> {
    if (write.activity.some((r) => r.merchantId !== write.merchantId || r.livemode !== write.livemode)) {
      return Promise.reject(new Error("Writer: a write's entries belong to its merchant and mode"));
    }
    const badStatus = statusProblem(write);
    if (badStatus) return Promise.reject(new TransitionError(badStatus));
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
        let outcomes: WriteOutcome[];
        try {
          outcomes = await this.execute(batch.map((p) => p.write));
        } catch {
          // One write spoiled the call: nothing was written; run each alone for its own outcome.
          for (const p of batch) await this.runAlone(p);
          continue;
        }
        this.settle(batch, outcomes);
      }
    } finally {
      this.running = false;
    }
  }

  /** The next call's writes: in arrival order, none guarding a row another one of them changes. */
  private take(): Pending[] {
    const batch: Pending[] = [];
    const taken = new Set<string>();
    let rows = 0;
    while (this.queue.length > 0 && batch.length < MAX_BATCH) {
      const next = this.queue[0]!;
      const size = rowCount(next.write);
      const keys = exclusiveKeys(next.write);
      if (batch.length > 0 && (rows + size > MAX_ROWS || keys.some((k) => taken.has(k)))) break;
      rows += size;
      for (const k of keys) taken.add(k);
      batch.push(this.queue.shift()!);
    }
    return batch;
  }

  private async runAlone(p: Pending): Promise<void> {
    let outcomes: WriteOutcome[];
    try {
      outcomes = await this.execute([p.write]);
    } catch (error) {
      const refusal = refusalOf(error);
      if (refusal) outcomes = [refusal];
      else {
        p.reject(error);
        return;
      }
    }
    this.settle([p], outcomes);
  }

  private settle(batch: Pending[], outcomes: WriteOutcome[]): void {
    // Subscribers hear of the call's entries in chain (= commit) order before any request of it answers.
    const byBus = new Map<Pending['publish'], ActivityRow[]>();
    batch.forEach((p, i) => {
      const o = outcomes[i]!;
      if (o.ok && o.activity.length > 0) byBus.set(p.publish, [...(byBus.get(p.publish) ?? []), ...o.activity]);
    });
    void (async () => {
      for (const [publish, rows] of byBus) {
        try {
          await publish(rows);
        } catch (error) {
          console.error('publishing committed activity failed', error);
        }
      }
      batch.forEach((p, i) => p.resolve(outcomes[i]!));
    })();
  }

  private async execute(writes: Write[]): Promise<WriteOutcome[]> {
    const { param, entries } = callParameter(writes);
    const { rows } = await this.pool.query<{ result: ResultRow[] }>({ ...SQL, values: [param] });
    const results = rows[0]!.result;
    if (results.length !== writes.length) throw new Error(`Writer: ${results.length} results for ${writes.length} writes`);
    return results.map((r, i): WriteOutcome => {
      if (!r.ok) return { ok: false, reason: r.reason as 'guard', detail: r.detail ?? null };
      const mine = entries[i]!;
      if (r.entries.length !== mine.length) throw new Error(`Writer: ${r.entries.length} of ${mine.length} entries recorded`);
      return {
        ok: true,
        activity: mine.map(({ row }, k) => ({ ...row, sequence: BigInt(r.entries[k]!.sequence), hash: r.entries[k]!.hash, previousHash: r.entries[k]!.previousHash })),
      };
    });
  }
}

const writers = new WeakMap<pg.Pool, Writer>();

/** The writer of `pool` (one per process and database, whatever the merchant or the mutation). */
export function writerOf(pool: pg.Pool): Writer {
  let writer = writers.get(pool);
  if (!writer) writers.set(pool, (writer = new Writer(pool)));
  return writer;
}
