// Plain-SQL reads for planning a write: rows come back in Prisma's shape (column names as keys,
// BigInt columns as bigint, timestamps as Date, JSON parsed), without Prisma's per-query cost.
import pg from 'pg';

const INT8 = 20;
const INT8_ARRAY = 1016;

const types = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === INT8) return (value: string) => BigInt(value);
    if (oid === INT8_ARRAY) return (value: string) => (pg.types.getTypeParser(INT8_ARRAY as never, "text")(value) as string[]).map((v) => BigInt(v));
    return pg.types.getTypeParser(oid, format ?? 'text');
  },
} as pg.CustomTypesConfig;

/** Runs a prepared read (`name` identifies the text) and returns its rows in Prisma's shape. */
export async function readRows<T>(pool: pg.Pool, name: string, text: string, values: unknown[]): Promise<T[]> {
  const { rows } = await pool.query({ name, text, values, types });
  return rows as T[];
}
