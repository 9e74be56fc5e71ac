// Every mutation is one database transaction: claim the idempotency key, run the use case (which locks
// or version-checks what it changes, re-prices, writes and appends activity), store the result under
// the key, commit. A use case that returns userErrors rolls the whole transaction back: nothing is
// half-written. Work that must happen only after commit (publishing events, delivering email) is
// queued with `afterCommit` and runs once the transaction has committed.
import { Prisma } from '../generated/prisma/client.js';
import type { Scope, Tx } from './context.js';
import { type Outcome, type UserError, Rollback, fail, ok, userError } from './errors.js';
import type { Json } from './json.js';
import { IDEMPOTENCY_TTL_MS, judgeStoredKey, keyInUse, keyReused, requestHash, storedKey, validateKey, type StoredKey } from '../kernel/idempotency.js';
export { IDEMPOTENCY_TTL_MS, requestHash };
import { trackActivity } from './audit.js';
import type { ActivityRow, UnchainedActivityRow } from './activity.js';

/** How long a request waits for another request holding the same key before IDEMPOTENCY_KEY_IN_USE. */
const KEY_WAIT = '5s';

export interface MutationContext {
  tx: Tx;
  at: Date;
  idempotencyKey: string | null;
  afterCommit(fn: () => void | Promise<void>): void;
}

export interface MutationRequest<R extends Json> {
  scope: Scope;
  /** The GraphQL mutation name; a key used for another operation counts as reused. */
  operation: string;
  /** The input as received (idempotencyKey included or not: it is left out of the hash). */
  input: Record<string, unknown>;
  run(ctx: MutationContext): Promise<Outcome<R>>;
}

type Claim = { kind: 'claimed' } | { kind: 'replay'; response: Json } | { kind: 'reused'; operation: string };

async function claimKey(tx: Tx, scope: Scope, key: string, operation: string, hash: string, at: Date): Promise<Claim> {
  const expiresAt = new Date(at.getTime() + IDEMPOTENCY_TTL_MS);
  await tx.$executeRawUnsafe(`SET LOCAL lock_timeout = '${KEY_WAIT}'`);
  for (;;) {
    // Inserting waits for a concurrent transaction holding the same key; once it commits, ON CONFLICT
    // finds its row and we read its stored result; if it rolled back, our insert wins.
    const inserted = await tx.$executeRaw`
      INSERT INTO "IdempotencyKey" ("merchantId", "livemode", "key", "operation", "requestHash", "response", "createdAt", "expiresAt")
      VALUES (${scope.merchantId}, ${scope.livemode}, ${key}, ${operation}, ${hash}, 'null'::jsonb, ${at}, ${expiresAt})
      ON CONFLICT DO NOTHING`;
    if (inserted === 1) {
      await tx.$executeRawUnsafe(`SET LOCAL lock_timeout = 0`);
      return { kind: 'claimed' };
    }
    const existing = await tx.idempotencyKey.findUnique({
      where: { merchantId_livemode_key: { merchantId: scope.merchantId, livemode: scope.livemode, key } },
    });
    if (!existing) continue; // deleted meanwhile: try again
    const judged = judgeStoredKey(existing as StoredKey, operation, hash, at);
    if (judged.kind === 'expired') {
      await tx.idempotencyKey.delete({
        where: { merchantId_livemode_key: { merchantId: scope.merchantId, livemode: scope.livemode, key } },
      });
      continue;
    }
    await tx.$executeRawUnsafe(`SET LOCAL lock_timeout = 0`);
    return judged;
  }
}

function isLockTimeout(error: unknown): boolean {
  const text = String((error as { message?: unknown })?.message ?? '') + JSON.stringify(error ?? {});
  return text.includes('55P03') || text.includes('lock timeout') || text.includes('canceling statement due to lock timeout');
}

export interface MutationResult<R> {
  outcome: Outcome<R>;
  /** True when the stored result of an earlier request with the same key was returned. */
  replayed: boolean;
}

export async function runMutation<R extends Json>(req: MutationRequest<R>): Promise<MutationResult<R>> {
  const { scope, operation, input } = req;
  const key = (input.idempotencyKey as string | null | undefined) ?? null;
  const keyError = validateKey(key);
  if (keyError) return { outcome: fail(keyError), replayed: false };
  const hash = key === null ? '' : requestHash(operation, input);
  const queued: (() => void | Promise<void>)[] = [];
  let recorded: ActivityRow[] = [];
  let replayed = false;
  let outcome: Outcome<R>;
  try {
    outcome = await scope.deps.db.$transaction(
      async (tx) => {
        const at = scope.deps.clock.now();
        recorded = trackActivity(tx);
        if (key !== null) {
          const claim = await claimKey(tx, scope, key, operation, hash, at);
          if (claim.kind === 'replay') {
            replayed = true;
            return ok(claim.response as R);
          }
          if (claim.kind === 'reused') {
            throw new Rollback([keyReused(claim.operation, operation)]);
          }
        }
        const result = await req.run({ tx, at, idempotencyKey: key, afterCommit: (fn) => queued.push(fn) });
        if (!result.ok) throw new Rollback(result.errors);
        if (key !== null) {
          await tx.idempotencyKey.update({
            where: { merchantId_livemode_key: { merchantId: scope.merchantId, livemode: scope.livemode, key } },
            data: { response: result.value === null ? Prisma.JsonNull : (result.value as Prisma.InputJsonValue) },
          });
        }
        return result;
      },
      { maxWait: 10_000, timeout: 30_000 },
    );
  } catch (error) {
    if (error instanceof Rollback) return { outcome: fail(...error.errors), replayed: false };
    if (key !== null && isLockTimeout(error)) return { outcome: fail(keyInUse()), replayed: false };
    throw error;
  }
  // Committed: subscribers hear of the recorded activity now, in chain (= commit) order, before other steps.
  const events = scope.deps.events;
  if (events && recorded.length > 0) queued.unshift(() => events.publishActivity(recorded));
  for (const fn of queued) {
    try {
      await fn();
    } catch (error) {
      // The transaction is committed; a failed after-commit step must not turn success into an error.
      console.error(`after-commit step of ${operation} failed`, error);
    }
  }
  return { outcome, replayed };
}
