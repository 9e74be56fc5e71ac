// Rate limits (rate-limiter-flexible), shared by every instance: on Redis when REDIS_URL is set,
// otherwise in PostgreSQL (the "RateLimit" table). If the store fails, an in-memory limiter of the same
// size takes over for this instance, so a store outage never turns into errors.
//
//   reads / writes / money  per API key: queries and subscriptions, mutations, and the mutations that
//                           move money (payOrder, createRefund) counted a second time, tighter
//   anonymous / signups     per client IP: requests without a key, createMerchant
//   authFailures            per client IP: wrong, malformed or revoked keys. After the free ones every
//                           further failure blocks the IP for 2, 4, 8 ... seconds (at most 15 minutes)
//   payDeclines             per order: declined payOrder attempts (card testing), counted from the
//                           order's own payment attempts, on the API and the hosted checkout alike
//
// A refusal is HTTP 429 with Retry-After and a JSON error naming the limit (code RATE_LIMITED).
import type { Redis } from 'ioredis';
import type pg from 'pg';
import { RateLimiterMemory, RateLimiterPostgres, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { Limits, RateLimit } from '../config.js';

export type LimitName = 'reads' | 'writes' | 'money' | 'signups' | 'anonymous' | 'authFailures' | 'payDeclines';

export interface Refusal {
  limit: LimitName;
  retryAfterSeconds: number;
  message: string;
}

export type RateLimitStore = { kind: 'redis'; client: Redis } | { kind: 'postgres'; pool: pg.Pool } | { kind: 'memory' };

const MAX_BLOCK_SECONDS = 900;

const DESCRIPTIONS: Record<LimitName, string> = {
  reads: 'queries per API key',
  writes: 'mutations per API key',
  money: 'money-moving mutations (payOrder, createRefund) per API key',
  signups: 'sign-ups (createMerchant) per IP address',
  anonymous: 'requests without an API key per IP address',
  authFailures: 'failed authentications per IP address',
  payDeclines: 'declined payment attempts per order',
};

function describe(limit: LimitName, rate: RateLimit): string {
  return `${rate.points} ${DESCRIPTIONS[limit]} per ${rate.seconds} s`;
}

export class RateLimits {
  private readonly limiters = new Map<LimitName, RateLimiterAbstract>();
  private readonly blocks: RateLimiterAbstract;

  constructor(
    readonly limits: Limits,
    store: RateLimitStore,
    keyPrefix = 'flint',
  ) {
    const make = (name: string, rate: RateLimit, blockInMemory = true): RateLimiterAbstract => {
      const options = { keyPrefix: `${keyPrefix}:${name}`, points: rate.points, duration: rate.seconds };
      const memory = new RateLimiterMemory(options);
      if (store.kind === 'memory') return memory;
      const shared = { ...options, insuranceLimiter: memory, ...(blockInMemory ? { inMemoryBlockOnConsumed: rate.points + 1 } : {}) };
      if (store.kind === 'redis') return new RateLimiterRedis({ ...shared, storeClient: store.client });
      return new RateLimiterPostgres({ ...shared, storeClient: store.pool, storeType: 'pool', tableName: 'RateLimit', tableCreated: true });
    };
    for (const name of ['reads', 'writes', 'money', 'signups', 'anonymous', 'authFailures'] as const) {
      this.limiters.set(name, make(name, limits[name], name !== 'authFailures'));
    }
    this.blocks = make('authBlocks', { points: 1, seconds: MAX_BLOCK_SECONDS }, false);
  }

  /** Counts one request against `limit` for `key`; a refusal once it is used up. */
  async consume(limit: Exclude<LimitName, 'authFailures' | 'payDeclines'>, key: string, points = 1): Promise<Refusal | null> {
    try {
      await this.limiters.get(limit)!.consume(key, points);
      return null;
    } catch (rejection) {
      if (!(rejection instanceof RateLimiterRes)) throw rejection;
      return this.refusal(limit, rejection.msBeforeNext);
    }
  }

  /** The IP is in backoff after failed authentications. */
  async authBlocked(ip: string): Promise<Refusal | null> {
    const state = await this.blocks.get(ip).catch(() => null);
    if (!state || state.consumedPoints < 1 || state.msBeforeNext <= 0) return null;
    return this.refusal('authFailures', state.msBeforeNext);
  }

  /** Records one failed authentication from `ip`; past the free ones, blocks the IP for 2^n seconds. */
  async authFailed(ip: string): Promise<void> {
    const free = this.limits.authFailures.points;
    let consumed = 0;
    try {
      consumed = (await this.limiters.get('authFailures')!.consume(ip)).consumedPoints;
    } catch (rejection) {
      if (!(rejection instanceof RateLimiterRes)) return;
      consumed = rejection.consumedPoints;
    }
    if (consumed <= free) return;
    const seconds = Math.min(MAX_BLOCK_SECONDS, 2 ** Math.min(consumed - free, 20));
    await this.blocks.block(ip, seconds).catch(() => undefined);
  }

  refusal(limit: LimitName, msBeforeNext: number): Refusal {
    const retryAfterSeconds = Math.max(1, Math.ceil(msBeforeNext / 1000));
    const rate = limit === 'authFailures' ? this.limits.authFailures : this.limits[limit];
    const what = limit === 'authFailures' ? `more than ${describe(limit, rate)}; further failures double the wait` : describe(limit, rate);
    return { limit, retryAfterSeconds, message: `Rate limit "${limit}" reached (${what}). Retry after ${retryAfterSeconds} s.` };
  }

  /** Card testing: too many declined attempts on this order of this merchant within the window. */
  async payDeclined(pool: pg.Pool, merchantId: string, orderId: string): Promise<Refusal | null> {
    const rate = this.limits.payDeclines;
    const { rows } = await pool.query<{ declined: number; oldest: Date | null }>({
      name: 'flint_pay_declines',
      text: `SELECT count(*)::int AS declined, min("createdAt") AS oldest FROM (
               SELECT "createdAt" FROM "PaymentIntent"
               WHERE "orderId" = $1 AND "merchantId" = $2 AND "status" = 'FAILED' AND "createdAt" > now() - make_interval(secs => $3)
               ORDER BY "createdAt" DESC LIMIT $4) recent`,
      values: [orderId, merchantId, rate.seconds, rate.points],
    });
    const row = rows[0];
    if (!row || row.declined < rate.points || !row.oldest) return null;
    const msBeforeNext = row.oldest.getTime() + rate.seconds * 1000 - Date.now();
    return this.refusal('payDeclines', Math.max(1000, msBeforeNext));
  }
}

/** The client's address as this server sees it (the socket's peer). */
export function clientIp(req: { socket?: { remoteAddress?: string | undefined } } | undefined): string {
  return req?.socket?.remoteAddress ?? 'unknown';
}
