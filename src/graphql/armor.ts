// What every GraphQL operation must pass before it runs, on every transport (HTTP, SSE, WebSocket and
// MCP all go through yoga's envelop):
//   - document limits (graphql-armor): tokens (checked while parsing, so a 10,000-deep document never
//     reaches the parser's recursion), depth, aliases, directives, and no field suggestions in errors;
//   - cost (@pothos/plugin-complexity's rule): every field costs 1, a list multiplies what it selects by
//     its page size (`first`) or by 10;
//   - strict arguments: every string, ID and JSON value given to any field (variables and literals
//     alike) is free of NUL characters and unpaired surrogates, IDs are not empty, JSON is at most
//     JSON_LIMITS deep and large. A refusal is a GraphQL error with code INVALID_INPUT and the `field`
//     path, or QUERY_TOO_COMPLEX / the armor's message, before anything is read or written.
import { EnvelopArmor } from '@escape.tech/graphql-armor';
import { createComplexityRule } from '@pothos/plugin-complexity';
import {
  getNullableType,
  GraphQLError,
  isInputObjectType,
  isListType,
  isScalarType,
  Kind,
  TypeInfo,
  validate,
  valueFromAST,
  visit,
  visitWithTypeInfo,
  type DocumentNode,
  type GraphQLField,
  type GraphQLInputType,
  type GraphQLSchema,
  type ValueNode,
} from 'graphql';
import { _createLRUCache, type Plugin } from 'graphql-yoga';
import type { Limits } from '../config.js';
import { badString, findBadText, type TextProblem } from '../http/text-guard.js';

export const JSON_LIMITS = { maxDepth: 16, maxNodes: 2_000 };
/** Raw variables (before they are matched to types): generous, only against pathological payloads. */
const VARIABLE_LIMITS = { maxDepth: 48, maxNodes: 100_000 };

/** The page size a list field is asked for; the pricing of the list in the cost. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyField = GraphQLField<unknown, any>;

export function fieldComplexity(args: Record<string, unknown>, _ctx: unknown, field: AnyField): { field: number; multiplier: number } | number {
  const page = typeof args.first === 'number' ? args.first : typeof args.last === 'number' ? args.last : null;
  // A connection's `edges` repeats what its field's `first` already counted.
  if (field.name === 'edges') return { field: 1, multiplier: 1 };
  if (page !== null) return { field: 1, multiplier: Math.max(1, Math.min(page, 1_000)) };
  return isListType(getNullableType(field.type)) ? { field: 1, multiplier: 10 } : 1;
}

/** Deepest nesting of brackets ({ [ () in a document; beyond it the parser's recursion is never entered. */
export const MAX_NESTING = 100;

/** The deepest bracket nesting of a GraphQL source, outside strings and comments. */
export function nestingOf(source: string): number {
  let depth = 0;
  let max = 0;
  for (let i = 0; i < source.length; i++) {
    const c = source.charCodeAt(i);
    if (c === 0x23 /* # */) {
      while (i < source.length && source.charCodeAt(i) !== 0x0a && source.charCodeAt(i) !== 0x0d) i++;
    } else if (c === 0x22 /* " */) {
      if (source.startsWith('"""', i)) {
        const end = source.indexOf('"""', i + 3);
        i = end < 0 ? source.length : end + 2;
      } else {
        for (i++; i < source.length && source.charCodeAt(i) !== 0x22 && source.charCodeAt(i) !== 0x0a; i++) if (source.charCodeAt(i) === 0x5c) i++;
      }
    } else if (c === 0x7b || c === 0x5b || c === 0x28) {
      depth += 1;
      if (depth > max) max = depth;
    } else if (c === 0x7d || c === 0x5d || c === 0x29) {
      depth -= 1;
    }
  }
  return max;
}

function useMaxNesting(): Plugin {
  return {
    onParse: ({ params }) => {
      const source = typeof params.source === 'string' ? params.source : params.source.body;
      const nesting = nestingOf(source);
      if (nesting > MAX_NESTING) {
        throw new GraphQLError(`Syntax Error: nesting depth of ${nesting} brackets exceeds the limit of ${MAX_NESTING}.`, { extensions: { code: 'GRAPHQL_PARSE_FAILED' } });
      }
    },
  };
}

export function queryLimitPlugins(limits: Pick<Limits, 'maxDepth' | 'maxAliases' | 'maxTokens' | 'maxDirectives' | 'maxCost'>): Plugin[] {
  const armor = new EnvelopArmor({
    maxTokens: { n: limits.maxTokens },
    maxDepth: { n: limits.maxDepth, ignoreIntrospection: true, flattenFragments: true },
    maxAliases: { n: limits.maxAliases },
    maxDirectives: { n: limits.maxDirectives },
    blockFieldSuggestion: { enabled: true },
    // Cost is the complexity rule's below (page sizes from `first`).
    costLimit: { enabled: false },
  });
  return [useMaxNesting(), ...(armor.protect().plugins as Plugin[]), useCostLimit(limits.maxCost), useStrictArguments()];
}

function refuse(error: GraphQLError) {
  return { errors: [error] };
}

/**
 * The cost of a document depends only on the page sizes it asks for: the values of its Int variables.
 * Results are kept per parsed document (yoga's parse cache hands out the same object for the same text)
 * and those values.
 */
const costs = new WeakMap<DocumentNode, Map<string, GraphQLError | null>>();

function intVariables(document: DocumentNode, variables: Record<string, unknown> | null | undefined): string {
  const values: unknown[] = [];
  for (const def of document.definitions) {
    if (def.kind !== Kind.OPERATION_DEFINITION) continue;
    for (const v of def.variableDefinitions ?? []) {
      const t = v.type.kind === Kind.NON_NULL_TYPE ? v.type.type : v.type;
      if (t.kind === Kind.NAMED_TYPE && t.name.value === 'Int') values.push(variables?.[v.variable.name.value] ?? null);
    }
  }
  return JSON.stringify(values);
}

function useCostLimit(maxCost: number): Plugin {
  const cached = (schema: GraphQLSchema, document: DocumentNode, variables: Record<string, unknown> | null | undefined, operationName: string | null | undefined, context: object) => {
    let byVariables = costs.get(document);
    if (!byVariables) costs.set(document, (byVariables = new Map()));
    const key = `${operationName ?? ''}|${intVariables(document, variables)}`;
    if (byVariables.has(key)) return byVariables.get(key)!;
    const error = check(schema, document, variables, operationName, context);
    // Only the cost itself is kept: errors about the variables depend on all of them.
    const costOnly = error === null || error.extensions.code === 'QUERY_TOO_COMPLEX';
    if (costOnly && byVariables.size < 64) byVariables.set(key, error);
    return error;
  };
  const check = (schema: GraphQLSchema, document: DocumentNode, variables: Record<string, unknown> | null | undefined, operationName: string | null | undefined, context: object) => {
    let cost = 0;
    const rule = createComplexityRule({
      context,
      variableValues: variables ?? {},
      operationName,
      onResult: (result) => {
        cost = result.complexity;
      },
    });
    const errors = validate(schema, document, [rule]);
    if (errors.length > 0) return errors[0]!;
    if (cost > maxCost) {
      return new GraphQLError(`The operation is too costly: it would cost ${cost}, more than ${maxCost} (GRAPHQL_MAX_COST). Ask for smaller pages (first) or fewer nested lists.`, {
        extensions: { code: 'QUERY_TOO_COMPLEX', cost, maxCost },
      });
    }
    return null;
  };
  return {
    onExecute: ({ args, setResultAndStopExecution }) => {
      const error = cached(args.schema, args.document, args.variableValues, args.operationName, args.contextValue as object);
      if (error) setResultAndStopExecution(refuse(error));
    },
    onSubscribe: ({ args, setResultAndStopExecution }) => {
      const error = cached(args.schema, args.document, args.variableValues, args.operationName, args.contextValue as object);
      if (error) setResultAndStopExecution(refuse(error));
    },
  };
}

function invalid(problem: TextProblem): GraphQLError {
  return new GraphQLError(`${problem.path.join('.')} ${problem.message}.`, { extensions: { code: 'INVALID_INPUT', field: problem.path } });
}

/** Checks one argument value against its input type. */
function inspectValue(value: unknown, type: GraphQLInputType, path: string[]): TextProblem | null {
  if (value === null || value === undefined) return null;
  const nullable = getNullableType(type);
  if (isListType(nullable)) {
    if (!Array.isArray(value)) return inspectValue(value, nullable.ofType, path);
    for (let i = 0; i < value.length; i++) {
      const found = inspectValue(value[i], nullable.ofType, [...path, String(i)]);
      if (found) return found;
    }
    return null;
  }
  if (isInputObjectType(nullable)) {
    const fields = nullable.getFields();
    for (const [name, child] of Object.entries(value as Record<string, unknown>)) {
      const field = fields[name];
      if (!field) continue;
      const found = inspectValue(child, field.type, [...path, name]);
      if (found) return found;
    }
    return null;
  }
  if (isScalarType(nullable)) {
    if (nullable.name === 'JSON') {
      // The field is the JSON argument; where inside it the problem is goes into the message.
      const inner = findBadText(value, [], JSON_LIMITS);
      if (!inner) return null;
      const at = inner.path.length > 0 ? ` (at ${inner.path.slice(0, 6).join('.')}${inner.path.length > 6 ? '...' : ''})` : '';
      return { path, message: `${inner.message}${at}` };
    }
    if (typeof value === 'string') {
      const problem = badString(value);
      if (problem) return { path, message: problem };
      if (nullable.name === 'ID' && value.trim() === '') return { path, message: 'must not be empty: pass the id of an object' };
    }
  }
  return null;
}

interface ArgumentPlan {
  /** A problem in the document's own literals (the same on every request). */
  literal: TextProblem | null;
  /** Arguments given as a whole by a variable: checked against their type on each request. */
  variables: { name: string; type: GraphQLInputType; path: string[] }[];
  /** Literal arguments with variables inside them: coerced and checked on each request. */
  mixed: { node: ValueNode; type: GraphQLInputType; path: string[] }[];
}

const plans = new WeakMap<DocumentNode, ArgumentPlan>();

function containsVariable(node: ValueNode): boolean {
  if (node.kind === Kind.VARIABLE) return true;
  if (node.kind === Kind.LIST) return node.values.some(containsVariable);
  if (node.kind === Kind.OBJECT) return node.fields.some((f) => containsVariable(f.value));
  return false;
}

/** Where a document takes arguments, worked out once per parsed document. */
function planOf(schema: GraphQLSchema, document: DocumentNode): ArgumentPlan {
  const known = plans.get(document);
  if (known) return known;
  const plan: ArgumentPlan = { literal: null, variables: [], mixed: [] };
  const typeInfo = new TypeInfo(schema);
  visit(
    document,
    visitWithTypeInfo(typeInfo, {
      Field(node) {
        const def = typeInfo.getFieldDef();
        if (!def || !node.arguments?.length) return undefined;
        for (const argNode of node.arguments) {
          const arg = def.args.find((a) => a.name === argNode.name.value);
          if (!arg) continue;
          const path = [argNode.name.value];
          if (argNode.value.kind === Kind.VARIABLE) plan.variables.push({ name: argNode.value.name.value, type: arg.type, path });
          else if (containsVariable(argNode.value)) plan.mixed.push({ node: argNode.value, type: arg.type, path });
          else plan.literal ??= inspectValue(valueFromAST(argNode.value, arg.type), arg.type, path);
        }
        return undefined;
      },
    }),
  );
  plans.set(document, plan);
  return plan;
}

/** The first bad argument anywhere in the operation, or null. */
export function inspectArguments(schema: GraphQLSchema, document: DocumentNode, variables: Record<string, unknown> | null | undefined): TextProblem | null {
  const plan = planOf(schema, document);
  if (plan.literal) return plan.literal;
  const vars = variables ?? {};
  const used = new Set<string>();
  for (const v of plan.variables) {
    used.add(v.name);
    const found = inspectValue(vars[v.name], v.type, v.path);
    if (found) return found;
  }
  for (const m of plan.mixed) {
    const found = inspectValue(valueFromAST(m.node, m.type, vars), m.type, m.path);
    if (found) return found;
  }
  // Variables the arguments do not take as a whole (unused, or inside literals) are still bounded.
  for (const [name, value] of Object.entries(vars)) {
    if (used.has(name)) continue;
    const raw = findBadText(value, [`$${name}`], VARIABLE_LIMITS);
    if (raw) return raw;
  }
  return null;
}

function useStrictArguments(): Plugin {
  const check = (schema: GraphQLSchema, document: DocumentNode, variables: Record<string, unknown> | null | undefined) => {
    const problem = inspectArguments(schema, document, variables);
    return problem ? invalid(problem) : null;
  };
  return {
    onExecute: ({ args, setResultAndStopExecution }) => {
      const error = check(args.schema, args.document, args.variableValues);
      if (error) setResultAndStopExecution(refuse(error));
    },
    onSubscribe: ({ args, setResultAndStopExecution }) => {
      const error = check(args.schema, args.document, args.variableValues);
      if (error) setResultAndStopExecution(refuse(error));
    },
  };
}

/** Documents longer than this are parsed every time instead of being kept in yoga's parse cache. */
export const MAX_CACHED_DOCUMENT = 16 * 1024;

/**
 * yoga's parse caches, keyed by the document text, keeping only short documents: otherwise distinct
 * large documents (up to the body limit each) would fill the cache with hundreds of megabytes.
 */
export function documentCaches(): { documentCache: { get(key: string): DocumentNode | undefined; set(key: string, value: DocumentNode): void }; errorCache: { get(key: string): unknown; set(key: string, value: unknown): void } } {
  const bounded = <T extends {}>() => {
    const lru = _createLRUCache<T>({ max: 1024 });
    return {
      get: (key: string) => lru.get(key),
      set: (key: string, value: T) => {
        if (key.length <= MAX_CACHED_DOCUMENT) lru.set(key, value);
      },
    };
  };
  return { documentCache: bounded<DocumentNode>(), errorCache: bounded<object>() as never };
}
