// What the request log line says about a request beyond HTTP: filled in by the GraphQL plugin below
// (operation, merchant, error codes) and by the rate limits (which limit refused it).
import type { IncomingMessage } from 'node:http';
import type { DefinitionNode, ExecutionResult } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { GraphQLContext } from '../graphql/context.js';

export interface RequestInfo {
  reqId: string;
  operationName?: string | null;
  operationType?: string;
  merchantId?: string | null;
  livemode?: boolean;
  /** GraphQL error codes and userError codes of the answer (unique, in order of appearance). */
  errorCodes: string[];
  rateLimited?: string;
}

const infos = new WeakMap<object, RequestInfo>();

export function attachRequestInfo(req: IncomingMessage, reqId: string): RequestInfo {
  const info: RequestInfo = { reqId, errorCodes: [] };
  infos.set(req, info);
  return info;
}

export function requestInfo(req: object | undefined | null): RequestInfo | undefined {
  return req ? infos.get(req) : undefined;
}

export function addErrorCode(info: RequestInfo | undefined, code: unknown): void {
  if (info && typeof code === 'string' && !info.errorCodes.includes(code) && info.errorCodes.length < 20) info.errorCodes.push(code);
}

/** userErrors codes of the payloads at the top of `data`. */
export function collectCodes(info: RequestInfo, result: ExecutionResult): void {
  for (const error of result.errors ?? []) addErrorCode(info, error.extensions?.code ?? 'GRAPHQL_ERROR');
  for (const payload of Object.values(result.data ?? {})) {
    const userErrors = (payload as { userErrors?: { code?: unknown }[] } | null)?.userErrors;
    if (Array.isArray(userErrors)) for (const e of userErrors) addErrorCode(info, e?.code);
  }
}

/** The HTTP request a GraphQL operation belongs to (HTTP, SSE and MCP; not graphql-ws). */
export function requestOf(context: unknown): IncomingMessage | undefined {
  return (context as { req?: IncomingMessage } | null)?.req;
}

export function useRequestInfo(): Plugin<GraphQLContext> {
  return {
    onExecute({ args }) {
      const info = requestInfo(requestOf(args.contextValue));
      if (!info) return undefined;
      const operation = args.document.definitions.find(
        (d: DefinitionNode) => d.kind === 'OperationDefinition' && (!args.operationName || d.name?.value === args.operationName),
      ) as { operation?: string; name?: { value: string } } | undefined;
      info.operationName = args.operationName ?? operation?.name?.value ?? null;
      info.operationType = operation?.operation;
      const principal = (args.contextValue as GraphQLContext).principal;
      info.merchantId = principal?.merchantId ?? null;
      if (principal) info.livemode = principal.livemode;
      return undefined;
    },
    // Every answer, including documents refused before execution (parse, validation, limits).
    onResultProcess({ result, serverContext }) {
      const info = requestInfo(requestOf(serverContext));
      if (!info) return;
      for (const one of Array.isArray(result) ? result : [result]) {
        if (one && typeof one === 'object' && ('errors' in one || 'data' in one)) collectCodes(info, one as ExecutionResult);
      }
    },
  };
}
