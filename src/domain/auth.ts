// API keys: `sk_test_...` / `sk_live_...`, 32 random bytes, stored only as a sha256 hash.
// Every request looks its key up (one indexed query), so a revoked key stops working at once.
import { createHash, randomBytes } from 'node:crypto';
import type { Db, Principal } from './context.js';
import { sqlPool } from '../db/prisma.js';

interface KeyRow {
  id: string;
  merchantId: string;
  livemode: boolean;
  prefix: string;
  revokedAt: Date | null;
}

/** Runs on every request: plain SQL, prepared once per connection (`name`). */
const KEY_BY_HASH = 'SELECT "id", "merchantId", "livemode", "prefix", "revokedAt" FROM "ApiKey" WHERE "secretHash" = $1';

export const KEY_PREFIX_LENGTH = 12; // "sk_test_" + 4 characters, enough to recognise a key

export function generateSecret(livemode: boolean): string {
  return `sk_${livemode ? 'live' : 'test'}_${randomBytes(24).toString('base64url')}`;
}

export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

export type Authentication = { principal: Principal } | { problem: string } | null;

/** Reads `Authorization: Bearer <key>`. null when no header was sent. */
export async function authenticate(db: Db, header: string | null | undefined): Promise<Authentication> {
  if (!header) return null;
  const match = /^Bearer\s+(\S+)$/i.exec(header.trim());
  if (!match) return { problem: 'The Authorization header must be "Bearer <API key>".' };
  const secret = match[1]!;
  if (!/^sk_(test|live)_[A-Za-z0-9_-]{16,}$/.test(secret)) {
    return { problem: 'That is not a Flint API key (they look like sk_test_... or sk_live_...).' };
  }
  const { rows } = await sqlPool(db).query<KeyRow>({ name: 'flint_api_key_by_hash', text: KEY_BY_HASH, values: [hashSecret(secret)] });
  const key = rows[0];
  if (!key) return { problem: 'Unknown API key. Check the key, or create a new one with createApiKey.' };
  if (key.revokedAt) return { problem: `API key ${key.prefix}... was revoked at ${key.revokedAt.toISOString()}; use another key.` };
  return { principal: { merchantId: key.merchantId, livemode: key.livemode, apiKeyId: key.id, apiKeyPrefix: key.prefix } };
}
