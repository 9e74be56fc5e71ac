// Idempotency keys: per merchant and mode, kept 24 hours. The same key with the same input returns the
// stored result; with other input (or for another operation) it is IDEMPOTENCY_KEY_REUSED. The request
// hash leaves the key itself out, and an optional field sent as null counts as left out.
import { createHash } from 'node:crypto';
import type pg from 'pg';
import type { Scope } from './context.js';
import { type UserError, userError } from './errors.js';
import { canonicalJson, type Json } from './json.js';

/** How long a stored idempotent result is kept (Stripe keeps 24 hours; so do we, at least). */
export const IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;

/** An optional field sent as null means the same as one left out. */
function withoutNulls(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutNulls);
  if (value !== null && typeof value === 'object' && !(value instanceof Date)) {
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>)
        .filter(([, v]) => v !== null && v !== undefined)
        .map(([k, v]) => [k, withoutNulls(v)]),
    );
  }
  return value;
}

export function requestHash(operation: string, input: Record<string, unknown>): string {
  const { idempotencyKey: _ignored, ...rest } = input;
  return createHash('sha256').update(`${operation}\n${canonicalJson(withoutNulls(rest))}`).digest('hex');
}

export function validateKey(key: unknown): UserError | null {
  if (key === null || key === undefined) return null;
  if (typeof key !== 'string' || key.length < 1 || key.length > 255) {
    return userError('INVALID_INPUT', 'idempotencyKey must be 1 to 255 characters; a UUID per logical operation is ideal.', [
      'input',
      'idempotencyKey',
    ]);
  }
  return null;
}

export type StoredKey = { operation: string; requestHash: string; response: Json; expiresAt: Date };

export type Judged = { kind: 'expired' } | { kind: 'replay'; response: Json } | { kind: 'reused'; operation: string };

/** What a key already stored means for a request: expired (delete it and claim again), replay, or reused. */
export function judgeStoredKey(existing: StoredKey, operation: string, hash: string, at: Date): Judged {
  if (existing.expiresAt.getTime() <= at.getTime()) return { kind: 'expired' };
  if (existing.operation !== operation || existing.requestHash !== hash) return { kind: 'reused', operation: existing.operation };
  return { kind: 'replay', response: existing.response };
}

export function keyReused(usedFor: string, operation: string): UserError {
  return userError(
    'IDEMPOTENCY_KEY_REUSED',
    `This idempotencyKey was already used for a different ${usedFor === operation ? 'input' : `operation (${usedFor})`}. Use a new key for a new operation, or resend exactly the original input to get its result.`,
    ['input', 'idempotencyKey'],
  );
}

export function keyInUse(): UserError {
  return userError(
    'IDEMPOTENCY_KEY_IN_USE',
    'Another request with this idempotencyKey is still being processed. Retry the same request in a moment to get its result.',
    ['input', 'idempotencyKey'],
  );
}

export async function storedKey(pool: pg.Pool, scope: Pick<Scope, 'merchantId' | 'livemode'>, key: string): Promise<StoredKey | null> {
  const { rows } = await pool.query<StoredKey>({
    name: 'flint_idempotency_key',
    text: 'SELECT "operation", "requestHash", "response", "expiresAt" FROM "IdempotencyKey" WHERE "merchantId" = $1 AND "livemode" = $2 AND "key" = $3',
    values: [scope.merchantId, scope.livemode, key],
  });
  return rows[0] ?? null;
}
