// The one write path of every mutation: plan outside any transaction (read, validate, price), then
// write once through the Writer (src/kernel/writer.ts): one guarded, batched call of flint_write. A
// guard that fails (the order's version moved, a coupon was deactivated or used up, the pricing
// settings changed, an intent moved on) means the plan is stale: plan again with what is current.
//
// Idempotency: a key seen before answers without planning (the stored result, or
// IDEMPOTENCY_KEY_REUSED for other input); a new key is claimed by the same call that writes the
// change, together with its result, so a key is never left claimed without a result. A concurrent
// duplicate loses the claim inside the call and then replays the winner's result.
import type { Scope } from './context.js';
import { type Outcome, fail, ok, userError } from './errors.js';
import type { Json } from './json.js';
import { activityRows, type ActivityEntry, type ActivityRow } from '../audit/activity.js';
import { IDEMPOTENCY_TTL_MS, judgeStoredKey, keyReused, requestHash, storedKey, validateKey } from './idempotency.js';
import { writerOf, type Write, type WriteOutcome } from './writer.js';
import { sqlPool } from '../db/prisma.js';

/** What a plan writes (the merchant, mode, time, key claim and entries' rows are added here). */
export type PlannedWrite = Omit<Write, 'merchantId' | 'livemode' | 'at' | 'claim' | 'activity'> & {
  entries: ActivityEntry[];
};

export interface WritePlan<R extends Json> {
  /** The result stored under the idempotency key and returned (references to what was written). */
  result: R;
  write: PlannedWrite;
}

export interface WriteRequest<R extends Json> {
  scope: Scope;
  /** The GraphQL mutation name; a key used for another operation counts as reused. */
  operation: string;
  /** The input as received (idempotencyKey included or not: it is left out of the hash). */
  input: Record<string, unknown>;
  /** Reads what it needs, validates, prices; userErrors → nothing is written. Called again after a refusal. */
  plan(at: Date, idempotencyKey: string | null): Promise<Outcome<WritePlan<R>>>;
  /** The write was refused (its plan was stale): forget cached copies before planning again. */
  onRefused?(reason: Exclude<WriteOutcome, { ok: true }>['reason']): void;
}

export interface WriteResult<R> {
  outcome: Outcome<R>;
  /** True when the stored result of an earlier request with the same key was returned. */
  replayed: boolean;
  /** The entries as recorded (null on replay or failure). */
  activity: ActivityRow[] | null;
}

const MAX_ATTEMPTS = 25;

function busy(): Outcome<never> {
  return fail(
    userError(
      'VERSION_CONFLICT',
      'The order kept changing while this change was being written, so nothing was written. Read the order again and retry.',
      ['input'],
    ),
  );
}

/** Submits a write of `scope` and tells subscribers of its entries once committed. */
export function submitWrite(scope: Scope, write: Write): Promise<WriteOutcome> {
  const events = scope.deps.events;
  return writerOf(sqlPool(scope.deps.db)).submit(write, async (rows) => {
    if (events && rows.length > 0) await events.publishActivity(rows);
  });
}

export async function runWrite<R extends Json>(req: WriteRequest<R>): Promise<WriteResult<R>> {
  const { scope, operation, input } = req;
  const key = (input.idempotencyKey as string | null | undefined) ?? null;
  const keyError = validateKey(key);
  if (keyError) return { outcome: fail(keyError), replayed: false, activity: null };
  const hash = key === null ? '' : requestHash(operation, input);
  const pool = sqlPool(scope.deps.db);

  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const at = scope.deps.clock.now();
    if (key !== null) {
      const known = await storedKey(pool, scope, key);
      if (known) {
        const judged = judgeStoredKey(known, operation, hash, at);
        if (judged.kind === 'expired') {
          await pool.query('DELETE FROM "IdempotencyKey" WHERE "merchantId" = $1 AND "livemode" = $2 AND "key" = $3 AND "expiresAt" <= $4', [
            scope.merchantId,
            scope.livemode,
            key,
            at,
          ]);
          continue;
        }
        if (judged.kind === 'reused') return { outcome: fail(keyReused(judged.operation, operation)), replayed: false, activity: null };
        return { outcome: ok(judged.response as R), replayed: true, activity: null };
      }
    }
    const planned = await req.plan(at, key);
    if (!planned.ok) return { outcome: planned, replayed: false, activity: null };
    const { result, write } = planned.value;
    const { entries, ...rest } = write;
    const outcome = await submitWrite(scope, {
      ...rest,
      merchantId: scope.merchantId,
      livemode: scope.livemode,
      at,
      claim:
        key === null
          ? null
          : { key, operation, requestHash: hash, response: result, createdAt: at, expiresAt: new Date(at.getTime() + IDEMPOTENCY_TTL_MS) },
      activity: activityRows(scope, scope.actor, at, key, entries),
    });
    if (outcome.ok) return { outcome: ok(result), replayed: false, activity: outcome.activity };
    // A concurrent request with the same key got there first: the next round replays it (or reports reuse).
    if (outcome.reason === 'key') continue;
    req.onRefused?.(outcome.reason);
    if (attempt >= 2) await new Promise((resolve) => setTimeout(resolve, Math.random() * 2 * attempt));
  }
  return { outcome: busy(), replayed: false, activity: null };
}
