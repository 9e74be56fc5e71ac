// Hostile inputs generated from the schema, not written by hand: for every argument of every query and
// mutation, each string, ID, amount, date and JSON leaf (however deep inside input objects and lists)
// gets the values an attacker sends, with every other required field filled with a plain value.
import {
  astFromValue,
  print,
  getNamedType,
  getNullableType,
  isEnumType,
  isInputObjectType,
  isListType,
  isNonNullType,
  isScalarType,
  type GraphQLArgument,
  type GraphQLField,
  type GraphQLInputType,
  type GraphQLSchema,
} from 'graphql';

export type BadKind = 'nul' | 'surrogate' | 'empty-id' | 'json-deep' | 'json-wide' | 'date-year-0' | 'date-garbage' | 'safeint-overflow' | 'int-overflow';

export interface SchemaCase {
  name: string;
  operation: 'query' | 'mutation';
  field: string;
  kind: BadKind;
  /** Dotted path of the bad leaf, from the argument name. */
  path: string[];
  /** The arguments are written into the document instead of variables. */
  literal: boolean;
  query: string;
  variables: Record<string, unknown>;
}

/** Stands for JSON nested 5,000 deep, which JSON.stringify cannot write: see requestBody(). */
export const DEEP_JSON = '__DEEP_JSON__';

/** The request body of a case (the deep-JSON marker written out as text). */
export function requestBody(c: SchemaCase): string {
  const depth = 5_000;
  return JSON.stringify({ query: c.query, variables: c.variables }).replace(`"${DEEP_JSON}"`, `${'{"d":'.repeat(depth)}"leaf"${'}'.repeat(depth)}`);
}

/** The scalar types of every leaf of a field's arguments. */
export function argumentScalars(field: GraphQLField<unknown, unknown>): Set<string> {
  return new Set(field.args.flatMap((a) => leaves(a.type, a.name).map((l) => l.scalar)));
}

export const HOSTILE_SCALARS = ['String', 'ID', 'JSON', 'DateTime', 'SafeInt', 'Int'];

/** The bad values for one scalar leaf. */
function badValues(scalar: string): { kind: BadKind; value: unknown }[] {
  const deep = DEEP_JSON;
  switch (scalar) {
    case 'String':
      return [
        { kind: 'nul', value: 'abc\u0000def' },
        { kind: 'surrogate', value: 'abc\uD800def' },
      ];
    case 'ID':
      return [
        { kind: 'nul', value: 'ord_\u0000' },
        { kind: 'surrogate', value: 'ord_\uDC00' },
        { kind: 'empty-id', value: '' },
      ];
    case 'JSON':
      return [
        { kind: 'json-deep', value: deep },
        { kind: 'json-wide', value: Object.fromEntries(Array.from({ length: 5_000 }, (_, i) => [`k${i}`, [i, `v${i}`]])) },
        { kind: 'nul', value: { note: 'a\u0000b' } },
        { kind: 'surrogate', value: { ['key\uD83D']: 'x' } },
      ];
    case 'DateTime':
      return [
        { kind: 'date-year-0', value: '0000-01-01T00:00:00Z' },
        { kind: 'date-garbage', value: '2026-13-45T99:99:99Z\u0000' },
      ];
    case 'SafeInt':
      return [
        { kind: 'safeint-overflow', value: 2 ** 53 },
        { kind: 'safeint-overflow', value: -(2 ** 60) },
      ];
    case 'Int':
      return [{ kind: 'int-overflow', value: 2 ** 31 }];
    default:
      return [];
  }
}

/** A plain value of `type` (required fields only). */
function plain(type: GraphQLInputType, name: string, depth = 0): unknown {
  const nullable = getNullableType(type);
  if (isListType(nullable)) return [plain(nullable.ofType, name, depth + 1)];
  if (isEnumType(nullable)) return nullable.getValues()[0]!.value;
  if (isInputObjectType(nullable)) {
    const out: Record<string, unknown> = {};
    for (const field of Object.values(nullable.getFields())) {
      if (isNonNullType(field.type) && depth < 6) out[field.name] = plain(field.type, field.name, depth + 1);
    }
    return out;
  }
  if (isScalarType(nullable)) {
    switch (nullable.name) {
      case 'String':
        if (/currency/i.test(name)) return 'USD';
        if (/country/i.test(name)) return 'US';
        if (/email/i.test(name)) return 'buyer@example.com';
        if (/url/i.test(name)) return 'https://shop.example.com/';
        if (/rate/i.test(name)) return '0.05';
        return 'plain';
      case 'ID':
        return 'ord_00000000000000000000000000';
      case 'Int':
      case 'SafeInt':
        return 1;
      case 'Boolean':
        return false;
      case 'DateTime':
        return '2026-01-01T00:00:00Z';
      case 'JSON':
        return {};
      default:
        return 'plain';
    }
  }
  return null;
}

interface Leaf {
  path: string[];
  scalar: string;
  /** Builds the argument value with `bad` at this leaf. */
  build: (bad: unknown) => unknown;
}

/** Every scalar leaf reachable in an argument of `type` (input objects at most 4 levels deep). */
function leaves(type: GraphQLInputType, name: string, depth = 0): Leaf[] {
  const nullable = getNullableType(type);
  if (isListType(nullable)) {
    return leaves(nullable.ofType, name, depth).map((l) => ({ path: ['0', ...l.path], scalar: l.scalar, build: (bad) => [l.build(bad)] }));
  }
  if (isInputObjectType(nullable)) {
    if (depth > 4) return [];
    const base = plain(nullable, name, depth) as Record<string, unknown>;
    return Object.values(nullable.getFields()).flatMap((field) =>
      leaves(field.type, field.name, depth + 1).map((l) => ({
        path: [field.name, ...l.path],
        scalar: l.scalar,
        build: (bad: unknown) => ({ ...base, [field.name]: l.build(bad) }),
      })),
    );
  }
  if (isScalarType(nullable)) return [{ path: [], scalar: nullable.name, build: (bad) => bad }];
  return [];
}

function typeString(arg: GraphQLArgument): string {
  return String(arg.type);
}

function selection(field: GraphQLField<unknown, unknown>): string {
  const named = getNamedType(field.type);
  return isScalarType(named) || isEnumType(named) ? '' : ' { __typename }';
}

/** One plain call of every query, mutation and subscription (required arguments filled with plain values). */
export function plainCalls(schema: GraphQLSchema): { operation: string; field: string; query: string; variables: Record<string, unknown> }[] {
  const calls = [];
  for (const [operation, root] of [
    ['query', schema.getQueryType()],
    ['mutation', schema.getMutationType()],
    ['subscription', schema.getSubscriptionType()],
  ] as const) {
    for (const field of Object.values(root?.getFields() ?? {})) {
      const required = field.args.filter((a) => isNonNullType(a.type));
      const defs = required.length ? `(${required.map((a) => `$${a.name}: ${typeString(a)}`).join(', ')})` : '';
      const args = required.length ? `(${required.map((a) => `${a.name}: $${a.name}`).join(', ')})` : '';
      calls.push({
        operation,
        field: field.name,
        query: `${operation} Plain_${field.name}${defs} { ${field.name}${args}${selection(field as GraphQLField<unknown, unknown>)} }`,
        variables: Object.fromEntries(required.map((a) => [a.name, plain(a.type, a.name)])),
      });
    }
  }
  return calls;
}

/** Every generated case of the schema's queries and mutations. */
export function schemaCases(schema: GraphQLSchema): SchemaCase[] {
  const cases: SchemaCase[] = [];
  for (const [operation, root] of [
    ['query', schema.getQueryType()],
    ['mutation', schema.getMutationType()],
  ] as const) {
    for (const field of Object.values(root?.getFields() ?? {})) {
      if (field.args.length === 0) continue;
      const variableDefs = field.args.map((a) => `$${a.name}: ${typeString(a)}`).join(', ');
      const args = field.args.map((a) => `${a.name}: $${a.name}`).join(', ');
      const query = `${operation} Hostile_${field.name}(${variableDefs}) { ${field.name}(${args})${selection(field as GraphQLField<unknown, unknown>)} }`;
      const defaults = Object.fromEntries(field.args.filter((a) => isNonNullType(a.type)).map((a) => [a.name, plain(a.type, a.name)]));
      for (const arg of field.args) {
        for (const leaf of leaves(arg.type, arg.name)) {
          for (const { kind, value } of badValues(leaf.scalar)) {
            const path = [arg.name, ...leaf.path];
            const variables = { ...defaults, [arg.name]: leaf.build(value) };
            cases.push({ name: `${field.name}(${path.join('.')}) ${kind}`, operation, field: field.name, kind, path, literal: false, query, variables });
            if (leaf.scalar !== 'JSON' && (kind === 'nul' || kind === 'surrogate' || kind === 'empty-id')) {
              // The same values as literals in the document.
              const inline = field.args
                .filter((a) => variables[a.name] !== undefined)
                .map((a) => `${a.name}: ${print(astFromValue(variables[a.name], a.type)!)}`)
                .join(', ');
              const literalQuery = `${operation} Hostile_${field.name}_literal { ${field.name}(${inline})${selection(field as GraphQLField<unknown, unknown>)} }`;
              cases.push({ name: `${field.name}(${path.join('.')}) ${kind} (literal)`, operation, field: field.name, kind, path, literal: true, query: literalQuery, variables: {} });
            }
          }
        }
      }
    }
  }
  return cases;
}
