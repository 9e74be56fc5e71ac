import { GraphQLError, Kind, type ValueNode } from 'graphql';
import { builder } from '../builder.js';

function toSafeInt(value: unknown): number {
  if (typeof value === 'bigint') {
    if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER)) {
      throw new GraphQLError(`SafeInt cannot represent ${value}`);
    }
    return Number(value);
  }
  if (typeof value === 'number' && Number.isSafeInteger(value)) return value;
  throw new GraphQLError(`SafeInt must be an integer between -(2^53-1) and 2^53-1; got ${JSON.stringify(value)}`);
}

builder.scalarType('SafeInt', {
  description:
    'Integer between -(2^53-1) and 2^53-1, serialized as a JSON number. Every money amount is a SafeInt count of the currency\'s minor unit (cents for USD, yen for JPY): never a float.',
  serialize: (value) => toSafeInt(value),
  parseValue: (value) => toSafeInt(value),
  parseLiteral: (ast) => {
    if (ast.kind !== Kind.INT) throw new GraphQLError('SafeInt must be an integer literal');
    return toSafeInt(Number(ast.value));
  },
});

/** An ISO 8601 instant from year 1 to 9999, or a GraphQL error saying what is expected. */
function parseDateTime(value: unknown): Date {
  if (typeof value !== 'string') throw new GraphQLError('DateTime must be an ISO 8601 string');
  const date = new Date(value);
  if (Number.isNaN(date.getTime()) || !/^\d{4}-\d{2}-\d{2}(T[\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(value)) {
    throw new GraphQLError(`DateTime must be an ISO 8601 string such as "2026-11-27T09:38:00Z"; got "${value.slice(0, 64)}"`);
  }
  const year = date.getUTCFullYear();
  if (year < 1 || year > 9999) throw new GraphQLError(`DateTime must be between the years 0001 and 9999; got "${value}"`);
  return date;
}

builder.scalarType('DateTime', {
  description: 'An instant in time, as an ISO 8601 string in UTC, e.g. "2026-11-27T09:38:00.000Z".',
  serialize: (value) => (value instanceof Date ? value.toISOString() : new Date(value).toISOString()),
  parseValue: parseDateTime,
  parseLiteral: (ast) => {
    if (ast.kind !== Kind.STRING) throw new GraphQLError('DateTime must be an ISO 8601 string');
    return parseDateTime(ast.value);
  },
});

function literalToJson(ast: ValueNode, variables: Record<string, unknown> | null | undefined): unknown {
  switch (ast.kind) {
    case Kind.STRING:
    case Kind.BOOLEAN:
      return ast.value;
    case Kind.INT:
      return Number(ast.value);
    case Kind.FLOAT:
      return Number(ast.value);
    case Kind.NULL:
      return null;
    case Kind.LIST:
      return ast.values.map((v) => literalToJson(v, variables));
    case Kind.OBJECT:
      return Object.fromEntries(ast.fields.map((f) => [f.name.value, literalToJson(f.value, variables)]));
    case Kind.VARIABLE:
      return variables?.[ast.name.value];
    default:
      throw new GraphQLError('JSON cannot represent this literal');
  }
}

builder.scalarType('JSON', {
  description: 'Any JSON value. Metadata fields take a JSON object of your own keys (at most 50 keys, 16 KB).',
  serialize: (value) => value,
  parseValue: (value) => value,
  parseLiteral: (ast, variables) => literalToJson(ast, variables),
});
