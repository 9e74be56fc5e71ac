// Fails when prisma/schema.prisma and prisma/migrations drift apart.
//
// `prisma migrate diff` needs Prisma's schema-engine binary, which cannot be installed everywhere, so
// this test does the comparison itself:
//   expected: Prisma's own parse of schema.prisma (the DMMF, from the prisma-schema wasm module that
//             ships inside the `prisma` package), turned into the tables/columns/indexes/foreign keys/
//             enums that Prisma's migrations create for it on PostgreSQL;
//   actual:   the catalog of a fresh database migrated by our runner (src/db/migrate.ts).
// Anything in one and not the other, or different, is reported. Triggers, functions and CHECK
// constraints are not part of a Prisma schema and are not compared.
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate } from '../../src/db/migrate.js';
import { freshDatabase } from '../support/db.js';

const SCHEMA_PATH = fileURLToPath(new URL('../../prisma/schema.prisma', import.meta.url));
const MIGRATIONS_TABLE = '_prisma_migrations';
const PG_IDENTIFIER_MAX = 63;

// ---------------------------------------------------------------------------------------------
// The shape both sides are reduced to.

interface ColumnDesc {
  /** format_type() spelling, or `enum:<name>` (with `[]` for lists). */
  type: string;
  notNull: boolean;
  /** Canonical default (see canonicalDefault), `null` for none, `*` for "some default" (expected side only). */
  default: string | null;
}

interface IndexDesc {
  name: string;
  unique: boolean;
  columns: string[]; // `col` or `col DESC`
  method: string;
  /** Partial, expression or INCLUDE index: never created by Prisma. */
  special: boolean;
}

interface ForeignKeyDesc {
  name: string;
  columns: string[];
  refTable: string;
  refColumns: string[];
  onDelete: string;
  onUpdate: string;
}

interface TableDesc {
  columns: Map<string, ColumnDesc>;
  primaryKey: { name: string; columns: string[] } | null;
  indexes: Map<string, IndexDesc>;
  foreignKeys: Map<string, ForeignKeyDesc>;
}

interface SchemaDesc {
  tables: Map<string, TableDesc>;
  enums: Map<string, string[]>;
  /** Views and materialized views: Flint's schema has none. */
  views: string[];
}

// ---------------------------------------------------------------------------------------------
// Expected: from schema.prisma via Prisma's DMMF.

interface DmmfField {
  name: string;
  dbName?: string | null;
  kind: 'scalar' | 'object' | 'enum' | 'unsupported';
  type: string;
  isList: boolean;
  isRequired: boolean;
  hasDefaultValue: boolean;
  default?: unknown;
  nativeType?: [string, string[]] | null;
  relationFromFields?: string[];
  relationToFields?: string[];
  relationOnDelete?: string;
  relationOnUpdate?: string;
}
interface DmmfModel {
  name: string;
  dbName: string | null;
  fields: DmmfField[];
}
interface DmmfIndex {
  model: string;
  type: 'id' | 'unique' | 'normal' | 'fulltext';
  dbName?: string | null;
  algorithm?: string;
  fields: Array<{ name: string; sortOrder?: 'asc' | 'desc' }>;
}
interface Dmmf {
  datamodel: {
    models: DmmfModel[];
    enums: Array<{ name: string; dbName?: string | null; values: Array<{ name: string; dbName?: string | null }> }>;
    indexes: DmmfIndex[];
  };
}

let getDmmfFn: ((params: string) => string) | undefined;

/**
 * Prisma's schema parser (the `@prisma/prisma-schema-wasm` module) is bundled into prisma/build/cli.js
 * together with its wasm-bindgen glue; the glue is a self-contained CommonJS module, so we evaluate
 * that module on its own and call its get_dmmf(), exactly as `prisma generate` does.
 */
function prismaGetDmmf(): (params: string) => string {
  if (getDmmfFn) return getDmmfFn;
  const require = createRequire(import.meta.url);
  const buildDir = path.join(path.dirname(require.resolve('prisma/package.json')), 'build');
  const bundle = require('node:fs').readFileSync(path.join(buildDir, 'cli.js'), 'utf8') as string;
  const wasmAt = bundle.indexOf('prisma_schema_build_bg.wasm');
  const start = bundle.lastIndexOf('=P((', wasmAt);
  const header = /^=P\(\(([\w$]+),([\w$]+)\)=>\{/.exec(bundle.slice(start, start + 40));
  const end = bundle.indexOf('});', wasmAt);
  if (wasmAt < 0 || start < 0 || !header || end < 0) {
    throw new Error(
      'Could not find the prisma-schema wasm loader in prisma/build/cli.js (did the prisma package change its bundle?). ' +
        'Update prismaGetDmmf() in test/db/drift.test.ts.',
    );
  }
  const body = bundle.slice(start + header[0].length, end);
  const mod: { exports: Record<string, unknown> } = { exports: {} };
  const globals = globalThis as { PRISMA_WASM_PANIC_REGISTRY?: unknown };
  globals.PRISMA_WASM_PANIC_REGISTRY ??= { message: '', get: () => '', set_message: () => {} };
  new Function(header[1]!, header[2]!, 'require', '__dirname', body)(mod.exports, mod, require, buildDir);
  const getDmmf = mod.exports.get_dmmf;
  if (typeof getDmmf !== 'function') throw new Error('prisma-schema wasm module has no get_dmmf()');
  getDmmfFn = getDmmf as (params: string) => string;
  return getDmmfFn;
}

function parseSchema(schemaText: string): Dmmf {
  try {
    return JSON.parse(prismaGetDmmf()(JSON.stringify({ prismaSchema: [['schema.prisma', schemaText]] }))) as Dmmf;
  } catch (err) {
    // Validation errors come back as JSON with ANSI colours.
    const raw = err instanceof Error ? err.message : String(err);
    let message = raw;
    try {
      message = (JSON.parse(raw) as { message?: string }).message ?? raw;
    } catch {
      /* not JSON */
    }
    throw new Error(`schema.prisma does not validate:\n${message.replace(/\u001b\[[0-9;]*m/g, '')}`);
  }
}

const SCALAR_SQL_TYPES: Record<string, string> = {
  String: 'text',
  Boolean: 'boolean',
  Int: 'integer',
  BigInt: 'bigint',
  Float: 'double precision',
  Decimal: 'numeric(65,30)',
  DateTime: 'timestamp(3) without time zone',
  Json: 'jsonb',
  Bytes: 'bytea',
};

function nativeSqlType([name, args]: [string, string[]]): string {
  const a = args.length ? `(${args.join(',')})` : '';
  const simple: Record<string, string> = {
    Text: 'text',
    Uuid: 'uuid',
    Xml: 'xml',
    Inet: 'inet',
    Citext: 'citext',
    Oid: 'oid',
    Money: 'money',
    Boolean: 'boolean',
    Integer: 'integer',
    SmallInt: 'smallint',
    BigInt: 'bigint',
    Real: 'real',
    DoublePrecision: 'double precision',
    Date: 'date',
    Json: 'json',
    JsonB: 'jsonb',
    ByteA: 'bytea',
  };
  if (name in simple) return simple[name]!;
  switch (name) {
    case 'VarChar':
      return `character varying${a}`;
    case 'Char':
      return `character${a}`;
    case 'Bit':
      return `bit${a}`;
    case 'VarBit':
      return `bit varying${a}`;
    case 'Decimal':
      return `numeric${a}`;
    case 'Timestamp':
      return `timestamp${a} without time zone`;
    case 'Timestamptz':
      return `timestamp${a} with time zone`;
    case 'Time':
      return `time${a} without time zone`;
    case 'Timetz':
      return `time${a} with time zone`;
    default:
      throw new Error(`drift test: native type @db.${name} is not mapped yet; add it to nativeSqlType()`);
  }
}

/** Prisma's default constraint names: `<table>_<columns>_<suffix>`, truncated to PostgreSQL's identifier limit. */
function defaultConstraintName(table: string, columns: string[], suffix: string): string {
  let base = columns.length ? `${table}_${columns.join('_')}` : table;
  if (base.length + suffix.length + 1 > PG_IDENTIFIER_MAX) base = base.slice(0, PG_IDENTIFIER_MAX - suffix.length - 1);
  return `${base}_${suffix}`;
}

const REFERENTIAL_ACTIONS: Record<string, string> = {
  Cascade: 'CASCADE',
  Restrict: 'RESTRICT',
  NoAction: 'NO ACTION',
  SetNull: 'SET NULL',
  SetDefault: 'SET DEFAULT',
};

/** The `map:` argument of a relation field's @relation(...), which the DMMF does not carry. */
function relationMapName(schemaText: string, model: string, field: string): string | undefined {
  const block = new RegExp(`^model\\s+${model}\\s*\\{([^]*?)^\\}`, 'm').exec(schemaText)?.[1] ?? '';
  const line = new RegExp(`^\\s*${field}\\s+\\S+.*@relation\\((.*)\\)`, 'm').exec(block)?.[1] ?? '';
  return /\bmap\s*:\s*"([^"]+)"/.exec(line)?.[1];
}

function expectedDefault(field: DmmfField, enumDbValues: Map<string, Map<string, string>>): string | null {
  if (!field.hasDefaultValue || field.default === undefined) return null;
  const value = field.default;
  if (value && typeof value === 'object' && !Array.isArray(value) && 'name' in value) {
    const fn = (value as { name: string }).name;
    if (fn === 'now') return 'now()';
    if (fn === 'autoincrement') return 'sequence';
    if (fn === 'dbgenerated') return '*';
    // uuid(), cuid(), nanoid(), ulid(): generated by Prisma Client, no database default.
    return null;
  }
  if (field.isList) return '*';
  if (field.kind === 'enum') {
    const dbValue = enumDbValues.get(field.type)?.get(String(value)) ?? String(value);
    return `string:${dbValue}`;
  }
  switch (field.type) {
    case 'Int':
    case 'BigInt':
    case 'Float':
    case 'Decimal':
      return canonicalNumber(String(value));
    case 'Boolean':
      return `boolean:${String(value)}`;
    case 'Json':
      return canonicalJson(String(value));
    case 'String':
      return `string:${String(value)}`;
    default:
      return '*'; // DateTime/Bytes literals: presence only
  }
}

function canonicalNumber(text: string): string {
  return `number:${/^-?\d+$/.test(text) ? BigInt(text).toString() : String(Number(text))}`;
}

function canonicalJson(text: string): string {
  try {
    return `json:${JSON.stringify(sortKeys(JSON.parse(text)))}`;
  } catch {
    return `json-text:${text}`;
  }
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>)
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([k, v]) => [k, sortKeys(v)]),
    );
  }
  return value;
}

function expectedSchema(dmmf: Dmmf, schemaText: string): SchemaDesc {
  const { models, enums, indexes } = dmmf.datamodel;
  const enumDbName = new Map(enums.map((e) => [e.name, e.dbName ?? e.name]));
  const enumDbValues = new Map(enums.map((e) => [e.name, new Map(e.values.map((v) => [v.name, v.dbName ?? v.name]))]));
  const tableOf = new Map(models.map((m) => [m.name, m.dbName ?? m.name]));
  const columnOf = (model: DmmfModel, fieldName: string) => {
    const field = model.fields.find((f) => f.name === fieldName);
    if (!field) throw new Error(`DMMF: ${model.name}.${fieldName} not found`);
    return field.dbName ?? field.name;
  };

  const tables = new Map<string, TableDesc>();
  for (const model of models) {
    const table = tableOf.get(model.name)!;
    const columns = new Map<string, ColumnDesc>();
    for (const field of model.fields) {
      if (field.kind === 'object') continue;
      if (field.kind === 'unsupported') throw new Error(`drift test: Unsupported("${field.type}") is not handled`);
      const base =
        field.kind === 'enum'
          ? `enum:${enumDbName.get(field.type) ?? field.type}`
          : field.nativeType
            ? nativeSqlType(field.nativeType)
            : SCALAR_SQL_TYPES[field.type];
      if (!base) throw new Error(`drift test: no SQL type for ${model.name}.${field.name}: ${field.type}`);
      columns.set(field.dbName ?? field.name, {
        type: field.isList ? `${base}[]` : base,
        notNull: field.isRequired || field.isList,
        default: expectedDefault(field, enumDbValues),
      });
    }

    let primaryKey: TableDesc['primaryKey'] = null;
    const tableIndexes = new Map<string, IndexDesc>();
    for (const index of indexes.filter((i) => i.model === model.name)) {
      const cols = index.fields.map((f) => columnOf(model, f.name));
      if (index.type === 'id') {
        primaryKey = { name: index.dbName ?? `${table}_pkey`, columns: cols };
        continue;
      }
      if (index.type === 'fulltext') throw new Error('drift test: @@fulltext is not supported on PostgreSQL');
      const name = index.dbName ?? defaultConstraintName(table, cols, index.type === 'unique' ? 'key' : 'idx');
      tableIndexes.set(name, {
        name,
        unique: index.type === 'unique',
        columns: index.fields.map((f, i) => (f.sortOrder === 'desc' ? `${cols[i]} DESC` : cols[i]!)),
        method: (index.algorithm ?? 'BTree').toLowerCase(),
        special: false,
      });
    }

    const foreignKeys = new Map<string, ForeignKeyDesc>();
    for (const field of model.fields) {
      if (field.kind !== 'object' || !field.relationFromFields?.length) continue;
      const target = models.find((m) => m.name === field.type)!;
      const cols = field.relationFromFields.map((f) => columnOf(model, f));
      const name = relationMapName(schemaText, model.name, field.name) ?? defaultConstraintName(table, cols, 'fkey');
      foreignKeys.set(name, {
        name,
        columns: cols,
        refTable: tableOf.get(target.name)!,
        refColumns: (field.relationToFields ?? []).map((f) => columnOf(target, f)),
        // Prisma's defaults: Restrict for a required relation, SetNull for an optional one; Cascade on update.
        onDelete: REFERENTIAL_ACTIONS[field.relationOnDelete ?? (field.isRequired ? 'Restrict' : 'SetNull')]!,
        onUpdate: REFERENTIAL_ACTIONS[field.relationOnUpdate ?? 'Cascade']!,
      });
    }

    tables.set(table, { columns, primaryKey, indexes: tableIndexes, foreignKeys });
  }

  return {
    tables,
    enums: new Map(enums.map((e) => [e.dbName ?? e.name, e.values.map((v) => v.dbName ?? v.name)])),
    views: [],
  };
}

// ---------------------------------------------------------------------------------------------
// Actual: from the database catalog.

/** Reduces a pg_get_expr() default to the same canonical form as expectedDefault(). */
function canonicalDefault(expr: string | null, type: string): string | null {
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

async function describeDatabase(url: string): Promise<SchemaDesc> {
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

const describeIndex = (i: IndexDesc) =>
  `${i.unique ? 'UNIQUE ' : ''}${i.method === 'btree' ? '' : `USING ${i.method} `}(${i.columns.join(', ')})${i.special ? ' [partial/expression/INCLUDE]' : ''}`;
const describeFk = (fk: ForeignKeyDesc) =>
  `(${fk.columns.join(', ')}) REFERENCES "${fk.refTable}"(${fk.refColumns.join(', ')}) ON DELETE ${fk.onDelete} ON UPDATE ${fk.onUpdate}`;
const describeDefault = (d: string | null) => (d === null ? 'no default' : d === '*' ? 'a default' : `default ${d}`);

/** Every difference, phrased as "<thing>: schema.prisma says X, the migrated database has Y". */
function compareSchemas(expected: SchemaDesc, actual: SchemaDesc): string[] {
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

// ---------------------------------------------------------------------------------------------

async function run(url: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

describe('schema.prisma and prisma/migrations', () => {
  let schemaText: string;
  let expected: SchemaDesc;
  let migratedUrl: string;
  const drops: Array<() => Promise<void>> = [];

  async function migratedDatabase(): Promise<string> {
    const db = await freshDatabase();
    drops.push(db.drop);
    await migrate(db.url);
    return db.url;
  }

  beforeAll(async () => {
    schemaText = await readFile(SCHEMA_PATH, 'utf8');
    expected = expectedSchema(parseSchema(schemaText), schemaText);
    migratedUrl = await migratedDatabase();
  });
  afterAll(async () => {
    for (const drop of drops) await drop();
  });

  it('describe the same database (if this fails: add a migration for your schema change, or fix schema.prisma)', async () => {
    const actual = await describeDatabase(migratedUrl);
    const differences = compareSchemas(expected, actual);
    expect(differences, `schema.prisma and the migrations disagree:\n${differences.join('\n')}`).toEqual([]);
    // Guard against a vacuous pass: the model really was read.
    expect([...expected.tables.keys()].sort()).toEqual([...actual.tables.keys()].sort());
    expect(expected.tables.size).toBeGreaterThanOrEqual(8);
  });

  it('reports a database that was changed behind the schema’s back', async () => {
    const url = await migratedDatabase();
    await run(
      url,
      `ALTER TABLE "Order" ADD COLUMN "giftMessage" TEXT;
       DROP INDEX "Order_merchantId_livemode_customerId_idx";
       ALTER TABLE "LineItem" ALTER COLUMN "sku" SET NOT NULL;
       ALTER TABLE "TaxRate" ALTER COLUMN "inclusive" SET DEFAULT true;
       ALTER TABLE "IdempotencyKey" ALTER COLUMN "expiresAt" TYPE TIMESTAMP(3);
       ALTER TABLE "LineItem" DROP CONSTRAINT "LineItem_orderId_fkey",
         ADD CONSTRAINT "LineItem_orderId_fkey" FOREIGN KEY ("orderId") REFERENCES "Order"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
       ALTER TYPE "OrderStatus" ADD VALUE 'DISPUTED';
       CREATE UNIQUE INDEX "ApiKey_prefix_key" ON "ApiKey"("prefix");
       CREATE TABLE "Stray" ("id" TEXT PRIMARY KEY);`,
    );
    const differences = compareSchemas(expected, await describeDatabase(url));
    const wanted = [
      /column "Order"\."giftMessage": in the migrated database, not in schema\.prisma/,
      /index "Order_merchantId_livemode_customerId_idx" on "Order": \(merchantId, livemode, customerId\) in schema\.prisma, missing/,
      /column "LineItem"\."sku": nullable in schema\.prisma, NOT NULL in the database/,
      /column "TaxRate"\."inclusive": default boolean:false in schema\.prisma, default boolean:true in the database/,
      /column "IdempotencyKey"\."expiresAt": type timestamp\(3\) with time zone in schema\.prisma, timestamp\(3\) without time zone/,
      /foreign key "LineItem_orderId_fkey" on "LineItem": .*ON DELETE CASCADE .* in schema\.prisma, .*ON DELETE RESTRICT/,
      /enum "OrderStatus": \(OPEN, .*CANCELED\) in schema\.prisma, \(OPEN, .*CANCELED, DISPUTED\) in the database/,
      /index "ApiKey_prefix_key" on "ApiKey": UNIQUE \(prefix\) in the migrated database, not in schema\.prisma/,
      /table "Stray": in the migrated database, not in schema\.prisma/,
    ];
    for (const pattern of wanted) {
      expect(differences.some((d) => pattern.test(d)), `no difference matches ${pattern}:\n${differences.join('\n')}`).toBe(true);
    }
    expect(differences).toHaveLength(wanted.length);
  });

  it('reports a schema.prisma change that has no migration', async () => {
    const edited = schemaText
      .replace(/(\n\s*sku\s+String\?)/, '$1\n  giftWrap Boolean @default(false)')
      .replace(/\n\s*@@index\(\[expiresAt\]\)/, '')
      .replace(/(\n\s*cancelReason\s+)String\?/, '$1String');
    expect(edited).not.toBe(schemaText);
    const differences = compareSchemas(expectedSchema(parseSchema(edited), edited), await describeDatabase(migratedUrl));
    const wanted = [
      /index "IdempotencyKey_expiresAt_idx" on "IdempotencyKey": \(expiresAt\) in the migrated database, not in schema\.prisma/,
      /column "LineItem"\."giftWrap": in schema\.prisma, missing from the migrated database/,
      /column "Order"\."cancelReason": NOT NULL in schema\.prisma, nullable in the database/,
    ];
    for (const pattern of wanted) {
      expect(differences.some((d) => pattern.test(d)), `no difference matches ${pattern}:\n${differences.join('\n')}`).toBe(true);
    }
    expect(differences).toHaveLength(wanted.length);
  });
});
