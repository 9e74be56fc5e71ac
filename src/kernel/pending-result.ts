// The pending-result protocol of every money-moving call (payOrder, createRefund, and the captures,
// voids and settlements to come). Such a call has three steps: reserve (a write that claims the
// idempotency key with a provisional result `{ ..., pending: true }`), the processor call outside any
// transaction, and record (a write that stores the processor's outcome AND the call's final result —
// `finishKey` — in the same transaction, so a key is never left pending once its outcome is known).
//
// - A replay of a call still in progress waits for its final result (awaitFinalResult), so identical
//   calls get identical payloads; it gives up with IDEMPOTENCY_KEY_IN_USE after a while.
// - A process that dies between reserve and record leaves the reservation open; start-up
//   reconciliation (and the next call on the same order) asks the processor and records the outcome
//   with the final result. settlePendingKeys finishes any key that is still pending after that, through
//   the recovery its operation registered, so no key stays pending forever.
import type { Deps, Scope } from './context.js';
import type { Json } from './json.js';
import { sqlPool } from '../db/prisma.js';
import type { Write } from './writer.js';

/** A stored result that may still be provisional. */
export interface PendingAware {
  pending: boolean;
}

/** The `finish` of a record write: the call's final result, stored with its outcome. */
export function finishKey(key: string | null, result: PendingAware & Record<string, Json>): Write['finish'] {
  return key === null ? null : { key, response: { ...result, pending: false } };
}

const KEY_SQL = 'SELECT "response" FROM "IdempotencyKey" WHERE "merchantId" = $1 AND "livemode" = $2 AND "key" = $3';

/**
 * Waits until the stored result of `key` is final (polling), for at most `waitMs`. Returns it, or null
 * if it is still pending then (the caller answers IDEMPOTENCY_KEY_IN_USE).
 */
export async function awaitFinalResult<S extends PendingAware>(scope: Pick<Scope, 'deps' | 'merchantId' | 'livemode'>, key: string, stored: S, waitMs = 30_000): Promise<S | null> {
  const deadline = Date.now() + waitMs;
  let current = stored;
  const pool = sqlPool(scope.deps.db);
  while (current.pending) {
    if (Date.now() > deadline) return null;
    await new Promise((resolve) => setTimeout(resolve, 20));
    const { rows } = await pool.query<{ response: S }>({ name: 'flint_key_response', text: KEY_SQL, values: [scope.merchantId, scope.livemode, key] });
    if (rows[0]) current = rows[0].response;
  }
  return current;
}

/** A key still pending, as start-up finds it. */
export interface PendingKey {
  merchantId: string;
  livemode: boolean;
  key: string;
  operation: string;
  response: Json;
  createdAt: Date;
}

/** Brings the call of a pending key to its final result (asking the processor if needed) and stores it. */
export type Recovery = (deps: Deps, pending: PendingKey) => Promise<void>;

const recoveries = new Map<string, Recovery>();

/** The recovery of one operation's pending keys (each money-moving feature registers its own). */
export function registerRecovery(operation: string, recovery: Recovery): void {
  recoveries.set(operation, recovery);
}

const PENDING_SQL = `SELECT "merchantId", "livemode", "key", "operation", "response", "createdAt" FROM "IdempotencyKey"
  WHERE "response" @> '{"pending": true}' AND "createdAt" <= $1 AND "expiresAt" > $2 ORDER BY "createdAt"`;

/**
 * Finishes every key left pending by a call older than `olderThanMs` (a live call finishes its own).
 * Returns how many were settled and how many are still pending (their processor has not answered).
 */
export async function settlePendingKeys(deps: Deps, olderThanMs = 30_000): Promise<{ settled: number; stillPending: number }> {
  const now = deps.clock.now();
  const pool = sqlPool(deps.db);
  const { rows } = await pool.query<PendingKey>(PENDING_SQL, [new Date(now.getTime() - olderThanMs), now]);
  let settled = 0;
  let stillPending = 0;
  for (const row of rows) {
    const recovery = recoveries.get(row.operation);
    if (!recovery) {
      stillPending += 1;
      continue;
    }
    try {
      await recovery(deps, row);
    } catch (error) {
      console.error(`settling the pending ${row.operation} key ${row.key} failed`, error);
    }
    const after = await pool.query<{ response: PendingAware }>(KEY_SQL, [row.merchantId, row.livemode, row.key]);
    if (after.rows[0]?.response?.pending) stillPending += 1;
    else settled += 1;
  }
  return { settled, stillPending };
}
