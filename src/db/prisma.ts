import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import { PrismaClient } from '../generated/prisma/client.js';

/**
 * Connections per PrismaClient by default. Each Node process talks to PostgreSQL through one client, and a
 * request holds a connection only for its queries: 10 (node-postgres' default) keeps several processes
 * well inside PostgreSQL's default max_connections of 100. FLINT_DB_POOL_MAX (src/config.ts) overrides.
 */
export function poolSize(): number {
  return 10;
}

const pools = new WeakMap<object, pg.Pool>();

/**
 * A PrismaClient on a `pg.Pool` that the hot paths can also use directly (`sqlPool`): the API key
 * lookup and createOrder's single-statement write run as plain SQL on the same connections, without
 * Prisma's per-query planning and interpretation. `$disconnect` ends the pool.
 */
export function createPrisma(url: string, pool?: pg.Pool | { max: number }): PrismaClient {
  const ownPool = pool instanceof pg.Pool ? pool : new pg.Pool({ connectionString: url, max: pool?.max ?? poolSize(), allowExitOnIdle: true });
  const client = new PrismaClient({ adapter: new PrismaPg(ownPool, { disposeExternalPool: true }) });
  pools.set(client, ownPool);
  return client;
}

/** The pg.Pool under a client made by createPrisma. */
export function sqlPool(db: PrismaClient): pg.Pool {
  const pool = pools.get(db);
  if (!pool) throw new Error('This PrismaClient was not made by createPrisma (src/db/prisma.ts): it has no pg.Pool for plain SQL.');
  return pool;
}
