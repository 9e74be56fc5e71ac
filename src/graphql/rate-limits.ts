// The rate limits of src/http/rate-limit.ts applied to GraphQL operations (HTTP, SSE, WebSocket, MCP):
// after the context is built (the caller is known) and before anything executes.
import { GraphQLError, Kind, valueFromAST, type DocumentNode, type GraphQLSchema, type OperationDefinitionNode } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { GraphQLContext } from './context.js';
import { clientIp, type RateLimits, type Refusal } from '../http/rate-limit.js';
import { sqlPool } from '../db/prisma.js';
import { requestInfo, requestOf } from '../ops/request-info.js';

/** Mutations that move money: counted against the `money` limit as well as `writes`. */
export const MONEY_MUTATIONS = new Set(['payOrder', 'createRefund']);

export function rateLimitError(refusal: Refusal): GraphQLError {
  return new GraphQLError(refusal.message, {
    extensions: {
      code: 'RATE_LIMITED',
      limit: refusal.limit,
      retryAfterSeconds: refusal.retryAfterSeconds,
      http: { status: 429, headers: { 'retry-after': String(refusal.retryAfterSeconds) } },
    },
  });
}

function operationOf(document: DocumentNode, operationName: string | null | undefined): OperationDefinitionNode | undefined {
  return document.definitions.find(
    (d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION && (!operationName || d.name?.value === operationName),
  );
}

/** The `input.orderId` of every payOrder field of the operation. */
function payOrderIds(schema: GraphQLSchema, operation: OperationDefinitionNode, variables: Record<string, unknown> | null | undefined): string[] {
  const ids: string[] = [];
  const field = schema.getMutationType()?.getFields().payOrder;
  const inputType = field?.args.find((a) => a.name === 'input')?.type;
  if (!inputType) return ids;
  for (const selection of operation.selectionSet.selections) {
    if (selection.kind !== Kind.FIELD || selection.name.value !== 'payOrder') continue;
    const arg = selection.arguments?.find((a) => a.name.value === 'input');
    if (!arg) continue;
    const value = arg.value.kind === Kind.VARIABLE ? variables?.[arg.value.name.value] : valueFromAST(arg.value, inputType, variables ?? undefined);
    const orderId = (value as { orderId?: unknown } | null | undefined)?.orderId;
    if (typeof orderId === 'string') ids.push(orderId);
  }
  return ids;
}

/** Which limits one operation counts against, and the refusal if one is used up. */
async function check(limits: RateLimits, schema: GraphQLSchema, document: DocumentNode, operationName: string | null | undefined, variables: Record<string, unknown> | null | undefined, ctx: GraphQLContext): Promise<Refusal | null> {
  const operation = operationOf(document, operationName);
  if (!operation) return null;
  const fields = operation.selectionSet.selections.flatMap((s) => (s.kind === Kind.FIELD ? [s.name.value] : []));
  const principal = ctx.principal;
  if (!principal) {
    if (operation.operation === 'mutation' && fields.includes('createMerchant')) {
      return limits.consume('signups', clientIp(requestOf(ctx)), fields.filter((f) => f === 'createMerchant').length);
    }
    return null;
  }
  const key = principal.apiKeyId;
  if (operation.operation !== 'mutation') return limits.consume('reads', key);
  const refused = await limits.consume('writes', key, Math.max(1, fields.length));
  if (refused) return refused;
  const money = fields.filter((f) => MONEY_MUTATIONS.has(f)).length;
  if (money > 0) {
    const tooMany = await limits.consume('money', key, money);
    if (tooMany) return tooMany;
  }
  for (const orderId of payOrderIds(schema, operation, variables)) {
    const declined = await limits.payDeclined(sqlPool(ctx.deps.db), principal.merchantId, orderId);
    if (declined) return declined;
  }
  return null;
}

export function useRateLimits(limits: RateLimits | null): Plugin<GraphQLContext> {
  if (!limits) return {};
  const guard = async (
    args: { schema: GraphQLSchema; document: DocumentNode; operationName?: string | null; variableValues?: Record<string, unknown> | null; contextValue: unknown },
    stop: (result: { errors: GraphQLError[] }) => void,
  ) => {
    const ctx = args.contextValue as GraphQLContext;
    const refusal = await check(limits, args.schema, args.document, args.operationName, args.variableValues, ctx);
    if (!refusal) return;
    const info = requestInfo(requestOf(ctx));
    if (info) info.rateLimited = refusal.limit;
    stop({ errors: [rateLimitError(refusal)] });
  };
  return {
    onExecute: ({ args, setResultAndStopExecution }) => guard(args, setResultAndStopExecution),
    onSubscribe: ({ args, setResultAndStopExecution }) => guard(args, setResultAndStopExecution),
  };
}
