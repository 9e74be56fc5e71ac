// Drift test support (test/db/drift.test.ts), the actual side and the comparison: the catalog of a migrated
// PostgreSQL database reduced to the same shape as drift-expected.ts, and every difference between the two
// phrased as "<thing>: schema.prisma says X, the migrated database has Y".
import pg from 'pg';
import { canonicalJson, canonicalNumber, MIGRATIONS_TABLE, type ForeignKeyDesc, type IndexDesc, type SchemaDesc, type TableDesc } from './drift-expected.js';

// ---------------------------------------------------------------------------------------------
// Actual: from the database catalog.

/** Reduces a pg_get_expr() default to the same canonical form as expectedDefault(). */
export function canonicalDefault(expr: string | null, type: string): string | null {
  if (expr === null) return null;
  if (/^(CURRENT_TIMESTAMP|now\(\))$/i.test(expr)) return 'now()';
  if (expr.startsWith('nextval(')) return 'sequence';
  const literal = /^'((?:[^']|'')*)'(?:::.+)?$/.exec(expr)?.[1]?.replace(/''/g, "'");
  const bare = literal ?? expr.replace(/^\((.*)\)$/, '$1');
  if (/^(integer|bigint|smallint|double precision|real|numeric(\(\d+,\d+\))?)$/.test(type)) {
    return /^-?\d+(\.\d+)?(e[+-]?\d+)?$/i.test(bare) ? canonicalNumber(bare) : `raw:${expr}`;
  }
  if (type === 'boolean') return /^(true|false)$/.test(bare) ? `boolean:${bare}` : `raw:${expr}`;
  if (type === 'json' || type === 'jsonb') return literal !== undefined ? canonicalJson(literal) : `raw:${expr}`;
  if (literal !== undefined && !type.endsWith('[]')) return `string:${literal}`;
  return `raw:${expr}`;
}

export async function describeDatabase(url: string): Promise<SchemaDesc> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const q = async <T extends pg.QueryResultRow>(sql: string) => (await client.query<T>(sql)).rows;
    const inSchema = 'n.nspname = current_schema()';

    const relations = await q<{ name: string; kind: string }>(`
      SELECT c.relname::text AS name, c.relkind::text AS kind
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE ${inSchema} AND c.relkind IN ('r', 'p', 'f', 'v', 'm') AND c.relname <> '${MIGRATIONS_TABLE}'`);
    const tables = new Map<string, TableDesc>();
    for (const r of relations.filter((r) => r.kind === 'r' || r.kind === 'p' || r.kind === 'f')) {
      tables.set(r.name, { columns: new Map(), primaryKey: null, indexes: new Map(), foreignKeys: new Map() });
    }

    const columns = await q<{
      table: string;
      column: string;
      type: string;
      enum_type: string | null;
      not_null: boolean;
      default: string | null;
      special: string;
    }>(`
      SELECT c.relname::text AS "table", a.attname::text AS "column", format_type(a.atttypid, a.atttypmod) AS "type",
             CASE WHEN t.typtype = 'e' THEN t.typname::text
                  WHEN et.typtype = 'e' THEN et.typname::text || '[]' END AS enum_type,
             a.attnotnull AS not_null, pg_get_expr(d.adbin, d.adrelid) AS "default",
             (a.attidentity::text || a.attgenerated::text) AS special
        FROM pg_attribute a
        JOIN pg_class c ON c.oid = a.attrelid
        JOIN pg_namespace n ON n.oid = c.relnamespace
        JOIN pg_type t ON t.oid = a.atttypid
        LEFT JOIN pg_type et ON et.oid = t.typelem AND t.typcategory = 'A'
        LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
       WHERE ${inSchema} AND c.relkind IN ('r', 'p', 'f') AND c.relname <> '${MIGRATIONS_TABLE}'
         AND a.attnum > 0 AND NOT a.attisdropped`);
    for (const c of columns) {
      const type = c.enum_type ? `enum:${c.enum_type}` : c.type;
      tables.get(c.table)!.columns.set(c.column, {
        // Identity and generated columns are never created by Prisma: make them show up as a type difference.
        type: c.special ? `${type} (identity/generated: ${c.special})` : type,
        notNull: c.not_null,
        default: canonicalDefault(c.default, c.type),
      });
    }

    const constraints = await q<{
      table: string;
      name: string;
      kind: string;
      columns: string[];
      ref_table: string | null;
      ref_columns: string[] | null;
      on_delete: string;
      on_update: string;
    }>(`
      SELECT t.relname::text AS "table", con.conname::text AS name, con.contype::text AS kind,
             ARRAY(SELECT a.attname::text FROM unnest(con.conkey) WITH ORDINALITY k(attnum, ord)
                     JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum ORDER BY k.ord) AS columns,
             rt.relname::text AS ref_table,
             ARRAY(SELECT a.attname::text FROM unnest(con.confkey) WITH ORDINALITY k(attnum, ord)
                     JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.attnum ORDER BY k.ord) AS ref_columns,
             con.confdeltype::text AS on_delete, con.confupdtype::text AS on_update
        FROM pg_constraint con
        JOIN pg_class t ON t.oid = con.conrelid
        JOIN pg_namespace n ON n.oid = t.relnamespace
        LEFT JOIN pg_class rt ON rt.oid = con.confrelid
       WHERE ${inSchema} AND con.contype IN ('p', 'f') AND t.relname <> '${MIGRATIONS_TABLE}'`);
    const action: Record<string, string> = {
      a: 'NO ACTION',
      r: 'RESTRICT',
      c: 'CASCADE',
      n: 'SET NULL',
      d: 'SET DEFAULT',
    };
    for (const con of constraints) {
      const table = tables.get(con.table)!;
      if (con.kind === 'p') {
        table.primaryKey = { name: con.name, columns: con.columns };
      } else {
        table.foreignKeys.set(con.name, {
          name: con.name,
          columns: con.columns,
          refTable: con.ref_table ?? '?',
          refColumns: con.ref_columns ?? [],
          onDelete: action[con.on_delete] ?? con.on_delete,
          onUpdate: action[con.on_update] ?? con.on_update,
        });
      }
    }

    const indexes = await q<{
      table: string;
      name: string;
      unique: boolean;
      method: string;
      special: boolean;
      columns: Array<string | null>;
      descending: boolean[];
    }>(`
      SELECT t.relname::text AS "table", i.relname::text AS name, ix.indisunique AS "unique", am.amname::text AS method,
             (ix.indpred IS NOT NULL OR ix.indexprs IS NOT NULL OR ix.indnatts <> ix.indnkeyatts) AS special,
             ARRAY(SELECT a.attname::text FROM unnest(ix.indkey::int2[]) WITH ORDINALITY k(attnum, ord)
                     LEFT JOIN pg_attribute a ON a.attrelid = ix.indrelid AND a.attnum = k.attnum
                    WHERE k.ord <= ix.indnkeyatts ORDER BY k.ord) AS columns,
             ARRAY(SELECT (o.opt & 1) = 1 FROM unnest(ix.indoption::int2[]) WITH ORDINALITY o(opt, ord) ORDER BY o.ord) AS descending
        FROM pg_index ix
        JOIN pg_class i ON i.oid = ix.indexrelid
        JOIN pg_class t ON t.oid = ix.indrelid
        JOIN pg_namespace n ON n.oid = t.relnamespace
        JOIN pg_am am ON am.oid = i.relam
       WHERE ${inSchema} AND NOT ix.indisprimary AND t.relname <> '${MIGRATIONS_TABLE}'`);
    for (const ix of indexes) {
      tables.get(ix.table)?.indexes.set(ix.name, {
        name: ix.name,
        unique: ix.unique,
        columns: ix.columns.map((c, i) => `${c ?? '<expression>'}${ix.descending[i] ? ' DESC' : ''}`),
        method: ix.method,
        special: ix.special,
      });
    }

    const enums = await q<{ name: string; values: string[] }>(`
      SELECT t.typname::text AS name, array_agg(e.enumlabel::text ORDER BY e.enumsortorder) AS "values"
        FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid JOIN pg_namespace n ON n.oid = t.typnamespace
       WHERE ${inSchema} GROUP BY t.typname`);

    return {
      tables,
      enums: new Map(enums.map((e) => [e.name, e.values])),
      views: relations.filter((r) => r.kind === 'v' || r.kind === 'm').map((r) => r.name),
    };
  } finally {
    await client.end();
  }
}

// ---------------------------------------------------------------------------------------------
// Comparison.

export const describeIndex = (i: IndexDesc) =>
  `${i.unique ? 'UNIQUE ' : ''}${i.method === 'btree' ? '' : `USING ${i.method} `}(${i.columns.join(', ')})${i.special ? ' [partial/expression/INCLUDE]' : ''}`;
export const describeFk = (fk: ForeignKeyDesc) =>
  `(${fk.columns.join(', ')}) REFERENCES "${fk.refTable}"(${fk.refColumns.join(', ')}) ON DELETE ${fk.onDelete} ON UPDATE ${fk.onUpdate}`;
export const describeDefault = (d: string | null) => (d === null ? 'no default' : d === '*' ? 'a default' : `default ${d}`);

/** Every difference, phrased as "<thing>: schema.prisma says X, the migrated database has Y". */
export function compareSchemas(expected: SchemaDesc, actual: SchemaDesc): string[] {
  const out: string[] = [];
  const names = (a: Iterable<string>, b: Iterable<string>) => [...new Set([...a, ...b])].sort();

  for (const tableName of names(expected.tables.keys(), actual.tables.keys())) {
    const exp = expected.tables.get(tableName);
    const act = actual.tables.get(tableName);
    if (!act) {
      out.push(`table "${tableName}": in schema.prisma, missing from the migrated database`);
      continue;
    }
    if (!exp) {
      out.push(`table "${tableName}": in the migrated database, not in schema.prisma`);
      continue;
    }

    for (const col of names(exp.columns.keys(), act.columns.keys())) {
      const e = exp.columns.get(col);
      const a = act.columns.get(col);
      const where = `column "${tableName}"."${col}"`;
      if (!a) out.push(`${where}: in schema.prisma, missing from the migrated database`);
      else if (!e) out.push(`${where}: in the migrated database, not in schema.prisma`);
      else {
        if (e.type !== a.type) out.push(`${where}: type ${e.type} in schema.prisma, ${a.type} in the database`);
        if (e.notNull !== a.notNull) {
          out.push(`${where}: ${e.notNull ? 'NOT NULL' : 'nullable'} in schema.prisma, ${a.notNull ? 'NOT NULL' : 'nullable'} in the database`);
        }
        const defaultsMatch = e.default === '*' ? a.default !== null : e.default === a.default;
        if (!defaultsMatch) {
          out.push(`${where}: ${describeDefault(e.default)} in schema.prisma, ${describeDefault(a.default)} in the database`);
        }
      }
    }

    const pkE = exp.primaryKey;
    const pkA = act.primaryKey;
    const pkText = (pk: TableDesc['primaryKey']) => (pk ? `"${pk.name}" (${pk.columns.join(', ')})` : 'none');
    if (pkText(pkE) !== pkText(pkA)) {
      out.push(`primary key of "${tableName}": ${pkText(pkE)} in schema.prisma, ${pkText(pkA)} in the database`);
    }

    for (const name of names(exp.indexes.keys(), act.indexes.keys())) {
      const e = exp.indexes.get(name);
      const a = act.indexes.get(name);
      const where = `index "${name}" on "${tableName}"`;
      if (!a) out.push(`${where}: ${describeIndex(e!)} in schema.prisma, missing from the migrated database`);
      else if (!e) out.push(`${where}: ${describeIndex(a)} in the migrated database, not in schema.prisma`);
      else if (describeIndex(e) !== describeIndex(a)) {
        out.push(`${where}: ${describeIndex(e)} in schema.prisma, ${describeIndex(a)} in the database`);
      }
    }

    for (const name of names(exp.foreignKeys.keys(), act.foreignKeys.keys())) {
      const e = exp.foreignKeys.get(name);
      const a = act.foreignKeys.get(name);
      const where = `foreign key "${name}" on "${tableName}"`;
      if (!a) out.push(`${where}: ${describeFk(e!)} in schema.prisma, missing from the migrated database`);
      else if (!e) out.push(`${where}: ${describeFk(a)} in the migrated database, not in schema.prisma`);
      else if (describeFk(e) !== describeFk(a)) {
        out.push(`${where}: ${describeFk(e)} in schema.prisma, ${describeFk(a)} in the database`);
      }
    }
  }

  for (const name of names(expected.enums.keys(), actual.enums.keys())) {
    const e = expected.enums.get(name);
    const a = actual.enums.get(name);
    if (!a) out.push(`enum "${name}": in schema.prisma, missing from the migrated database`);
    else if (!e) out.push(`enum "${name}": in the migrated database, not in schema.prisma`);
    else if (e.join(',') !== a.join(',')) {
      out.push(`enum "${name}": (${e.join(', ')}) in schema.prisma, (${a.join(', ')}) in the database`);
    }
  }

  for (const view of actual.views) out.push(`view "${view}": in the migrated database, not in schema.prisma`);
  return out;
}
