// Drift test support (test/db/drift.test.ts), the expected side: Prisma's own parse of prisma/schema.prisma
// (the DMMF, from the prisma-schema wasm module inside the `prisma` package) turned into the tables, columns,
// indexes, foreign keys and enums that Prisma's migrations create for it on PostgreSQL; and the shape both
// sides are reduced to.
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const SCHEMA_PATH = fileURLToPath(new URL('../../prisma/schema.prisma', import.meta.url));
export const MIGRATIONS_TABLE = '_prisma_migrations';
export const PG_IDENTIFIER_MAX = 63;

// ---------------------------------------------------------------------------------------------
// The shape both sides are reduced to.

export interface ColumnDesc {
  /** format_type() spelling, or `enum:<name>` (with `[]` for lists). */
  type: string;
  notNull: boolean;
  /** Canonical default (see canonicalDefault), `null` for none, `*` for "some default" (expected side only). */
  default: string | null;
}

export interface IndexDesc {
  name: string;
  unique: boolean;
  columns: string[]; // `col` or `col DESC`
  method: string;
  /** Partial, expression or INCLUDE index: never created by Prisma. */
  special: boolean;
}

export interface ForeignKeyDesc {
  name: string;
  columns: string[];
  refTable: string;
  refColumns: string[];
  onDelete: string;
  onUpdate: string;
}

export interface TableDesc {
  columns: Map<string, ColumnDesc>;
  primaryKey: { name: string; columns: string[] } | null;
  indexes: Map<string, IndexDesc>;
  foreignKeys: Map<string, ForeignKeyDesc>;
}

export interface SchemaDesc {
  tables: Map<string, TableDesc>;
  enums: Map<string, string[]>;
  /** Views and materialized views: Flint's schema has none. */
  views: string[];
}

// ---------------------------------------------------------------------------------------------
// Expected: from schema.prisma via Prisma's DMMF.

export interface DmmfField {
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
export interface DmmfModel {
  name: string;
  dbName: string | null;
  fields: DmmfField[];
}
export interface DmmfIndex {
  model: string;
  type: 'id' | 'unique' | 'normal' | 'fulltext';
  dbName?: string | null;
  algorithm?: string;
  fields: Array<{ name: string; sortOrder?: 'asc' | 'desc' }>;
}
export interface Dmmf {
  datamodel: {
    models: DmmfModel[];
    enums: Array<{ name: string; dbName?: string | null; values: Array<{ name: string; dbName?: string | null }> }>;
    indexes: DmmfIndex[];
  };
}

export let getDmmfFn: ((params: string) => string) | undefined;

/**
 * Prisma's schema parser (the `@prisma/prisma-schema-wasm` module) is bundled into prisma/build/cli.js
 * together with its wasm-bindgen glue; the glue is a self-contained CommonJS module, so we evaluate
 * that module on its own and call its get_dmmf(), exactly as `prisma generate` does.
 */
export function prismaGetDmmf(): (params: string) => string {
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

export function parseSchema(schemaText: string): Dmmf {
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

export const SCALAR_SQL_TYPES: Record<string, string> = {
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

export function nativeSqlType([name, args]: [string, string[]]): string {
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
export function defaultConstraintName(table: string, columns: string[], suffix: string): string {
  let base = columns.length ? `${table}_${columns.join('_')}` : table;
  if (base.length + suffix.length + 1 > PG_IDENTIFIER_MAX) base = base.slice(0, PG_IDENTIFIER_MAX - suffix.length - 1);
  return `${base}_${suffix}`;
}

export const REFERENTIAL_ACTIONS: Record<string, string> = {
  Cascade: 'CASCADE',
  Restrict: 'RESTRICT',
  NoAction: 'NO ACTION',
  SetNull: 'SET NULL',
  SetDefault: 'SET DEFAULT',
};

/** The `map:` argument of a relation field's @relation(...), which the DMMF does not carry. */
export function relationMapName(schemaText: string, model: string, field: string): string | undefined {
  const block = new RegExp(`^model\\s+${model}\\s*\\{([^]*?)^\\}`, 'm').exec(schemaText)?.[1] ?? '';
  const line = new RegExp(`^\\s*${field}\\s+\\S+.*@relation\\((.*)\\)`, 'm').exec(block)?.[1] ?? '';
  return /\bmap\s*:\s*"([^"]+)"/.exec(line)?.[1];
}

export function expectedDefault(field: DmmfField, enumDbValues: Map<string, Map<string, string>>): string | null {
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

export function canonicalNumber(text: string): string {
  return `number:${/^-?\d+$/.test(text) ? BigInt(text).toString() : String(Number(text))}`;
}

export function canonicalJson(text: string): string {
  try {
    return `json:${JSON.stringify(sortKeys(JSON.parse(text)))}`;
  } catch {
    return `json-text:${text}`;
  }
}

export function sortKeys(value: unknown): unknown {
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

export function expectedSchema(dmmf: Dmmf, schemaText: string): SchemaDesc {
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
