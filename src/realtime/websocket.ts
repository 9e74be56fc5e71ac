// graphql-ws (the graphql-transport-ws protocol) on the HTTP server's port and GraphQL path. Operations
// run through yoga's envelope (the same schema, context, error masking and plugins as HTTP). The API key
// travels in connectionParams.authorization ("Bearer sk_..."): a connection without a valid key is
// refused (closed with 4403), and the key is checked again for every operation, so a revoked key can
// start nothing more; its live subscriptions end when the revocation is published.
import type { Server } from 'node:http';
import { GraphQLError, type DocumentNode, type ExecutionArgs } from 'graphql';
import { WebSocketServer } from 'ws';
import { useServer } from 'graphql-ws/use/ws';
import type { YogaServerInstance } from 'graphql-yoga';
import type { Deps } from '../kernel/context.js';
import { authenticate } from '../merchants/auth.js';
import type { GraphQLContext } from '../graphql/context.js';

/** What a graphql-ws operation brings into yoga's context function. */
export interface WebSocketContext {
  authorization: string | null;
  /** The connection (limits per connection are counted on it). */
  connection: object;
  close: (code: number, reason: string) => void;
}

function authorizationOf(params: unknown): string | null {
  const value = (params as { authorization?: unknown; Authorization?: unknown } | null | undefined) ?? null;
  const header = value?.authorization ?? value?.Authorization;
  return typeof header === 'string' ? header : null;
}

/** WebSocket close reasons are at most 123 bytes. */
function reason(text: string): string {
  const buf = Buffer.from(text, 'utf8');
  return buf.length <= 123 ? text : `${buf.subarray(0, 120).toString('utf8').replace(/\uFFFD+$/, '')}...`;
}

interface Enveloped {
  execute: (args: ExecutionArgs) => unknown;
  subscribe: (args: ExecutionArgs) => unknown;
}

export function attachWebSockets(
  server: Server,
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  yoga: YogaServerInstance<any, GraphQLContext>,
  deps: Deps,
  path: string,
  /** Largest message a client may send (MAX_BODY_BYTES); a larger one closes the connection (1009). */
  maxPayload = 1024 * 1024,
): { close(): Promise<void> } {
  const wss = new WebSocketServer({ noServer: true, maxPayload });
  server.on('upgrade', (request, socket, head) => {
    const pathname = new URL(request.url ?? '/', 'http://localhost').pathname;
    if (pathname !== path) {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    wss.handleUpgrade(request, socket, head, (ws) => wss.emit('connection', ws, request));
  });

  // Open connections, so that shutdown can wait for their subscriptions' "complete" messages to go out.
  const connections = new Set<{ subscriptions: Record<string, unknown> }>();
  const disposable = useServer(
    {
      execute: (args) => (args.rootValue as Enveloped).execute(args) as never,
      subscribe: (args) => (args.rootValue as Enveloped).subscribe(args) as never,
      onConnect: async (ctx) => {
        const auth = await authenticate(deps.db, authorizationOf(ctx.connectionParams));
        if (auth && 'principal' in auth) {
          connections.add(ctx);
          return true;
        }
        const problem = auth
          ? auth.problem
          : 'Authentication required: pass connectionParams { authorization: "Bearer sk_test_..." }.';
        ctx.extra.socket.close(4403, reason(`Forbidden: ${problem}`));
        return false;
      },
      onClose: (ctx) => {
        connections.delete(ctx);
      },
      onSubscribe: async (ctx, _id, payload) => {
        const ws: WebSocketContext = {
          authorization: authorizationOf(ctx.connectionParams),
          connection: ctx,
          close: (code, text) => ctx.extra.socket.close(code, reason(text)),
        };
        const enveloped = yoga.getEnveloped({ ws, params: payload } as never);
        let document: DocumentNode;
        try {
          document = enveloped.parse(payload.query);
        } catch (error) {
          return [error instanceof GraphQLError ? error : new GraphQLError(String(error))];
        }
        let errors: readonly GraphQLError[];
        try {
          errors = enveloped.validate(enveloped.schema, document);
        } catch (error) {
          // The document limits (src/graphql/armor.ts) refuse by throwing from validation.
          return [error instanceof GraphQLError ? error : new GraphQLError(String(error))];
        }
        if (errors.length > 0) return [...errors];
        return {
          schema: enveloped.schema,
          document,
          operationName: payload.operationName,
          variableValues: payload.variables,
          contextValue: await enveloped.contextFactory(),
          rootValue: { execute: enveloped.execute, subscribe: enveloped.subscribe } satisfies Enveloped,
        };
      },
    },
    wss,
  );
  return {
    /** Call after the subscriptions were ended (SubscriptionHub.close): lets their completions flush, then closes every socket with 1001. */
    close: async () => {
      const deadline = Date.now() + 2_000;
      while ([...connections].some((c) => Object.keys(c.subscriptions).length > 0) && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      await disposable.dispose();
    },
  };
}
