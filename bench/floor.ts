// The "raw floor" of createOrder: the rows the app writes for one order (1 Order, 3 LineItem in one
// multi-row INSERT, 1 Activity) written with plain `pg` in one transaction, every column filled as the
// app filled it for a sample order (copied from the database), with new ids and timestamps.
// Used by bench/create-order.ts and bench/money-flow.ts.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { newId } from '../src/ids.js';

type Row = Record<string, unknown>;

interface TableTemplate {
  table: string;
  columns: string[];
  /** Builds the values of one row; jsonb values are pre-serialised strings (cast in SQL). */
  values: (ids: { orderId: string; lineId: () => string; activityId: string }, at: Date, row: Row, chain?: Chain) => unknown[];
  rows: Row[];
  casts: string[];
}

/** Audit-chain columns of an Activity row (present since the audit chain migration). */
interface Chain {
  sequence: bigint;
  hash: string;
  previousHash: string | null;
}

const JSONB_OID = 3802;
const JSON_OID = 114;

async function tableTemplate(client: pg.PoolClient, tableName: string, where: string, orderId: string): Promise<TableTemplate> {
  const res = await client.query(`SELECT * FROM "${tableName}" WHERE ${where} = $1 ORDER BY id`, [orderId]);
  if (res.rows.length === 0) throw new Error(`no ${tableName} rows for ${orderId}`);
  const fields = res.fields;
  const columns = fields.map((f) => f.name);
  // Keep the value of every column the app filled (NULLs included), so both write the same data.
  const casts = fields.map((f) => (f.dataTypeID === JSONB_OID || f.dataTypeID === JSON_OID ? '::jsonb' : tableName === 'Order' && f.name === 'status' ? '::"OrderStatus"' : ''));
  const rows: Row[] = res.rows.map((r: Row) => {
    const out: Row = {};
    for (const f of fields) {
      const v = r[f.name];
      out[f.name] = (f.dataTypeID === JSONB_OID || f.dataTypeID === JSON_OID) && v !== null ? JSON.stringify(v) : v;
    }
    return out;
  });
  const values: TableTemplate['values'] = (ids, at, row, chain) =>
    columns.map((c) => {
      if (c === 'id') return tableName === 'Order' ? ids.orderId : tableName === 'LineItem' ? ids.lineId() : ids.activityId;
      if (c === 'orderId') return ids.orderId;
      if (c === 'createdAt' || c === 'updatedAt' || c === 'occurredAt') return at;
      if (chain && (c === 'sequence' || c === 'hash' || c === 'previousHash')) return c === 'sequence' ? String(chain[c]) : chain[c];
      return row[c];
    });
  return { table: tableName, columns, values, rows, casts };
}

function insertSql(t: TableTemplate, rowCount: number): string {
  const n = t.columns.length;
  const tuples = Array.from({ length: rowCount }, (_, r) => `(${t.columns.map((_, i) => `$${r * n + i + 1}${t.casts[i]}`).join(', ')})`);
  return `INSERT INTO "${t.table}" (${t.columns.map((c) => `"${c}"`).join(', ')}) VALUES ${tuples.join(', ')}`;
}

export interface Floor {
  create(): Promise<void>;
}

export async function buildFloor(pool: pg.Pool, orderId: string): Promise<Floor> {
  const client = await pool.connect();
  let order: TableTemplate, lines: TableTemplate, activity: TableTemplate;
  try {
    order = await tableTemplate(client, 'Order', 'id', orderId);
    lines = await tableTemplate(client, 'LineItem', '"orderId"', orderId);
    activity = await tableTemplate(client, 'Activity', '"orderId"', orderId);
  } finally {
    client.release();
  }
  if (lines.rows.length !== 3 || activity.rows.length !== 1) throw new Error(`unexpected template: ${lines.rows.length} lines, ${activity.rows.length} activities`);
  const orderSql = insertSql(order, 1);
  const linesSql = insertSql(lines, lines.rows.length);
  const activitySql = insertSql(activity, 1);
  // Audit chain (Activity.sequence/hash/previousHash): the floor fills the columns with values of its
  // own (negative sequences, which never collide with the app's) and does not lock the chain head.
  let floorSequence = 0n;
  let floorHash: string | null = null;
  const nextFloorChain = (): Chain => {
    const hash = randomBytes(32).toString('hex');
    const chain = { sequence: --floorSequence, hash, previousHash: floorHash };
    floorHash = hash;
    return chain;
  };
  return {
    async create() {
      const ids = { orderId: newId('Order'), lineId: () => newId('LineItem'), activityId: newId('Activity') };
      const at = new Date();
      const c = await pool.connect();
      try {
        await c.query('BEGIN');
        await c.query(orderSql, order.values(ids, at, order.rows[0]!));
        await c.query(linesSql, lines.rows.flatMap((r) => lines.values(ids, at, r)));
        await c.query(activitySql, activity.values(ids, at, activity.rows[0]!, nextFloorChain()));
        await c.query('COMMIT');
      } catch (err) {
        await c.query('ROLLBACK').catch(() => {});
        throw err;
      } finally {
        c.release();
      }
    },
  };
}
