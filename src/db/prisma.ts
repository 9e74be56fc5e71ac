import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from '../generated/prisma/client.js';

/**
 * Connections per PrismaClient. Each Node process talks to PostgreSQL through one client, and a
 * request holds a connection only for its queries/transaction: 10 (node-postgres' default) keeps
 * several processes well inside PostgreSQL's default max_connections of 100. FLINT_DB_POOL_MAX overrides.
 */
export function poolSize(): number {
  const configured = Number.parseInt(process.env.FLINT_DB_POOL_MAX ?? '', 10);
  return Number.isInteger(configured) && configured > 0 ? configured : 10;
}

export function createPrisma(url: string): PrismaClient {
  const adapter = new PrismaPg({ connectionString: url, max: poolSize() });
  return new PrismaClient({ adapter });
}
