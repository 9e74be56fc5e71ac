// API keys: `sk_test_...` / `sk_live_...`, 32 random bytes, stored only as a sha256 hash.
// Every request looks its key up in the database, so a revoked key stops working at once.
import { createHash, randomBytes } from 'node:crypto';
import type pg from 'pg';
import type { Db, Principal } from '../kernel/context.js';
import { sqlPool } from '../db/prisma.js';

export interface KeyRow {
  id: string;
  merchantId: string;
  livemode: boolean;
  prefix: string;
  revokedAt: Date | null;
}

interface KeyLookup {
  hash: string;
  resolve: (row: KeyRow | null) => void;
  reject: (error: unknown) => void;
}

/**
 * The key lookups of one pool, batched: a lookup starts at once when none is running; requests that
 * arrive while one runs wait for it and are looked up together in the next query (one statement,
 * prepared once per connection). Every request's lookup is sent after the request arrived, never
 * shared with an earlier one, so a key revoked before a request arrives is always seen as revoked.
 */
export class KeyLookups {
  private queue: KeyLookup[] = [];
  private running = false;

  constructor(private readonly lookUp: (hashes: string[]) => Promise<(KeyRow & { secretHash: string })[]>) {}

  find(hash: string): Promise<KeyRow | null> {
    return new Promise((resolve, reject) => {
      this.queue.push({ hash, resolve, reject });
      if (!this.running) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.running = true;
    try {
      while (this.queue.length > 0) {
        const batch = this.queue;
        this.queue = [];
        try {
          const rows = await this.lookUp([...new Set(batch.map((l) => l.hash))]);
          const byHash = new Map(rows.map((r) => [r.secretHash, r]));
          for (const l of batch) l.resolve(byHash.get(l.hash) ?? null);
        } catch (error) {
          for (const l of batch) l.reject(error);
        }
      }
    } finally {
      this.running = false;
    }
  }
}

const lookups = new WeakMap<pg.Pool, KeyLookups>();

function findKey(db: Db, hash: string): Promise<KeyRow | null> {
  const pool = sqlPool(db);
  let batcher = lookups.get(pool);
  if (!batcher) {
    batcher = new KeyLookups(async (hashes) => {
      const { rows } = await pool.query<KeyRow & { secretHash: string }>({
        name: 'flint_api_keys_by_hash',
        text: 'SELECT "id", "merchantId", "livemode", "prefix", "revokedAt", "secretHash" FROM "ApiKey" WHERE "secretHash" = ANY($1::text[])',
        values: [hashes],
      });
      return rows;
    });
    lookups.set(pool, batcher);
  }
  return batcher.find(hash);
}

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
  const key = await findKey(db, hashSecret(secret));
  if (!key) return { problem: 'Unknown API key. Check the key, or create a new one with createApiKey.' };
  if (key.revokedAt) return { problem: `API key ${key.prefix}... was revoked at ${key.revokedAt.toISOString()}; use another key.` };
  return { principal: { merchantId: key.merchantId, livemode: key.livemode, apiKeyId: key.id, apiKeyPrefix: key.prefix } };
}
