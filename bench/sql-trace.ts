// Counting SQL statements at the driver, for bench/sql-count.ts and bench/sql-count-mutations.ts.
//
// countingPool() makes the pg.Pool the server under count runs on (createPrisma(url, pool)); Prisma
// and the app's plain-SQL paths both use it. Every pg.Client the pool opens has its `query` wrapped,
// so each statement sent to PostgreSQL is recorded while counted() runs: with its connection, whether
// it ran inside an explicit transaction on that connection (after BEGIN, before COMMIT/ROLLBACK), and
// whether it was sent after the counted request had already answered.
import pg from 'pg';
import { createPrisma, poolSize } from '../src/db/prisma.js';
import { startServer } from '../src/server.js';
import { systemClock } from '../src/kernel/context.js';
import { GraphQLClient, openBenchDatabase, type BenchDatabase } from './lib.js';

export interface Recorded {
  text: string;
  /** Values sent with the statement. */
  params: number;
  /** Which pooled connection sent it (1, 2, ... in the order the pool opened them). */
  connection: number;
  /** Sent between BEGIN and COMMIT/ROLLBACK on its connection (BEGIN and COMMIT themselves included). */
  inTransaction: boolean;
  /** Sent after the counted call had returned (work the request left running, e.g. an outbox kick). */
  afterResponse: boolean;
}

let recording: Recorded[] | null = null;
let responded = false;
let connections = 0;

export const connectionsOpened = () => connections;

const BEGIN = /^\s*(BEGIN|START\s+TRANSACTION)\b/i;
const END = /^\s*(COMMIT|END|ROLLBACK)\b(?!\s+TO\b)/i;

export function countingPool(url: string): pg.Pool {
  const pool = new pg.Pool({ connectionString: url, max: poolSize(), application_name: 'flint-sql-count' });
  pool.on('connect', (client) => {
    connections += 1;
    const connection = connections;
    let inTransaction = false;
    const original = client.query.bind(client) as (...args: unknown[]) => unknown;
    (client as unknown as { query: (...args: unknown[]) => unknown }).query = (...args: unknown[]) => {
      const first = args[0] as string | { text: string; values?: unknown[] };
      const text = typeof first === 'string' ? first : first.text;
      const values = typeof first === 'string' ? (args[1] as unknown[] | undefined) : first.values;
      if (BEGIN.test(text)) inTransaction = true;
      recording?.push({ text, params: Array.isArray(values) ? values.length : 0, connection, inTransaction, afterResponse: responded });
      if (END.test(text)) inTransaction = false;
      return original(...args);
    };
  });
  pool.on('error', () => {});
  return pool;
}

/** One line per statement shape: whitespace collapsed, parameter lists of any length folded. */
export function normalize(sql: string): string {
  return sql
    .replace(/\s+/g, ' ')
    .replace(/\$\d+(::[\w"\[\]]+)?(\s*,\s*\$\d+(::[\w"\[\]]+)?)+/g, '$…')
    .replace(/\$\d+/g, '$?')
    .trim();
}

/** For reading: `SELECT <n columns>` instead of a column list longer than 4, no "public". prefix or quotes. */
export function compact(sql: string): string {
  const short = normalize(sql).replace(/"public"\./g, '');
  const many = (m: string, cols: string, sep: string, out: (n: number) => string) => {
    const n = cols.split(sep).length;
    return n > 4 ? out(n) : m;
  };
  return short
    .replace(/SELECT ((?:"\w+"\."\w+"(?:::text)?(?:, )?)+) FROM/g, (m, cols: string) => many(m, cols, ', ', (n) => `SELECT <${n} columns> FROM`))
    .replace(/RETURNING ((?:"\w+"\."\w+"(?:::text)?(?:, )?)+)$/g, (m, cols: string) => many(m, cols, ', ', (n) => `RETURNING <${n} columns>`))
    .replace(/\(((?:"\w+",?){6,})\) VALUES/g, (_m, cols: string) => `(<${cols.split(',').length} columns>) VALUES`)
    .replace(/"(\w+)"\."(\w+)"/g, '$1.$2');
}

export const FULL_SQL = process.env.BENCH_SQL_FULL === '1';
export const show = (sql: string) => (FULL_SQL ? normalize(sql) : compact(sql));

/**
 * Records the statements sent while `fn` runs, and for `settleMs` after it returned (those are marked
 * afterResponse). Nothing else may use the pool meanwhile.
 */
export async function counted<T>(fn: () => Promise<T>, settleMs = 20): Promise<{ value: T; statements: Recorded[]; ms: number }> {
  recording = [];
  responded = false;
  const t0 = performance.now();
  try {
    const value = await fn();
    const ms = performance.now() - t0;
    responded = true;
    await new Promise((r) => setTimeout(r, settleMs));
    return { value, statements: recording, ms };
  } finally {
    recording = null;
    responded = false;
  }
}

export function shapes(statements: Recorded[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const s of statements) m.set(normalize(s.text), (m.get(normalize(s.text)) ?? 0) + 1);
  return m;
}

/**
 * A fresh database (lib.ts openBenchDatabase) and the server (src/server.ts startServer) in this
 * process on a countingPool, for `fn`; everything is stopped and dropped afterwards.
 */
export async function withCountingServer<T>(log: (m: string) => void, fn: (client: GraphQLClient, database: BenchDatabase) => Promise<T>): Promise<T> {
  const database = await openBenchDatabase(log);
  const pool = countingPool(database.url);
  const db = createPrisma(database.url, pool);
  try {
    const app = await startServer({ db, clock: systemClock }, { development: false, port: 0 }, '127.0.0.1');
    const client = new GraphQLClient(app.url);
    try {
      return await fn(client, database);
    } finally {
      client.agent.destroy();
      await app.close().catch(() => {});
    }
  } finally {
    await db.$disconnect().catch(() => {});
    await pool.end().catch(() => {});
    await database.cleanup();
  }
}
