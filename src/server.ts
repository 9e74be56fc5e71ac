// The HTTP server: GraphQL at /graphql (GraphiQL, offline, unless GRAPHIQL=false) plus the plain routes of src/http/routes.ts.
import { createServer, type Server } from 'node:http';
import { createYoga } from 'graphql-yoga';
import type { Config } from './config.js';
import type { Deps } from './domain/context.js';
import { authenticate } from './domain/auth.js';
import { schema } from './graphql/schema.js';
import type { GraphQLContext } from './graphql/context.js';
import { HTTP_ROUTES, sendJson } from './http/routes.js';
import { GRAPHIQL_OPTIONS, renderGraphiQL } from './http/graphiql.js';
import { createMemoryEventBus } from './realtime/bus.js';
import { SubscriptionHub, type SubscriptionLimits } from './realtime/hub.js';
import { attachWebSockets, type WebSocketContext } from './realtime/websocket.js';
import { useSharedSubscriptionExecution } from './realtime/shared-execution.js';
import { dashboardHandler } from './dashboard/http.js';

export interface AppServer {
  server: Server;
  url: string;
  /** This instance's live subscriptions. */
  hub: SubscriptionHub;
  /** Ends subscriptions cleanly, closes WebSockets and the HTTP server. */
  close(): Promise<void>;
}

export interface ServerOptions {
  /** Subscription limits of this instance (default DEFAULT_SUBSCRIPTION_LIMITS). */
  subscriptionLimits?: SubscriptionLimits;
}

/** The initial context of an operation: an HTTP request (yoga adds `request`), or a graphql-ws operation. */
interface ServerContext {
  ws?: WebSocketContext;
}

export function createApp(deps: Deps, config: Pick<Config, 'development'> & Partial<Pick<Config, 'graphiql'>>, hub: SubscriptionHub = new SubscriptionHub(deps.events ?? createMemoryEventBus())) {
  const yoga = createYoga<ServerContext, GraphQLContext>({
    schema,
    graphqlEndpoint: '/graphql',
    graphiql: config.graphiql === false ? false : GRAPHIQL_OPTIONS,
    renderGraphiQL,
    landingPage: false,
    // Unexpected errors are masked ("Unexpected error."); GraphQLErrors we throw on purpose are not.
    maskedErrors: true,
    // Subscribers asking the same thing share each event's execution (src/realtime/shared-execution.ts).
    plugins: [useSharedSubscriptionExecution()],
    context: async ({ request, ws }): Promise<GraphQLContext> => {
      // WebSocket operations carry the key in connectionParams; it is checked again for every operation.
      const header = ws ? ws.authorization : request.headers.get('authorization');
      const realtime = ws ? { hub, connection: ws.connection, closeConnection: ws.close } : { hub, connection: request };
      const auth = await authenticate(deps.db, header);
      if (auth && 'principal' in auth) return { deps, principal: auth.principal, authProblem: null, realtime };
      return { deps, principal: null, authProblem: auth ? auth.problem : null, realtime };
    },
  });
  return yoga;
}

export async function startServer(
  deps: Deps,
  config: Pick<Config, 'development' | 'port'> & Partial<Pick<Config, 'graphiql'>>,
  host = '0.0.0.0',
  options: ServerOptions = {},
): Promise<AppServer> {
  // Without an event bus from the caller (REDIS_URL), events stay in this process.
  const ownBus = deps.events ? null : createMemoryEventBus();
  const appDeps: Deps = ownBus ? { ...deps, events: ownBus } : deps;
  const hub = new SubscriptionHub(appDeps.events!, options.subscriptionLimits);
  const yoga = createApp(appDeps, config, hub);
  const dashboard = dashboardHandler(appDeps, hub);
  const server = createServer(async (req, res) => {
    try {
      if (await dashboard(req, res)) return;
      for (const route of HTTP_ROUTES) {
        if (await route(req, res, appDeps)) return;
      }
      await yoga.handle(req, res);
    } catch (error) {
      console.error('unhandled error in HTTP handler', error);
      if (!res.headersSent) sendJson(res, 500, { error: 'Unexpected error.' });
      else res.end();
    }
  });
  server.keepAliveTimeout = 65_000;
  // graphql-ws on the same port and path: upgrade requests to /graphql become WebSocket connections.
  const webSockets = attachWebSockets(server, yoga, appDeps, '/graphql');
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, host, () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  let closing: Promise<void> | null = null;
  return {
    server,
    url: `http://127.0.0.1:${port}`,
    hub,
    close: () =>
      (closing ??= (async () => {
        // Subscriptions first, so each client sees its subscription complete (SSE streams end with a
        // "complete" event, WebSocket subscriptions get "complete" and then close 1001 Going away).
        hub.close();
        await webSockets.close();
        await new Promise<void>((resolve, reject) => {
          server.close((err) => (err ? reject(err) : resolve()));
          // Give the ended SSE responses a moment to flush, then drop what is left (idle keep-alives).
          setTimeout(() => server.closeAllConnections(), 100).unref();
        });
        await ownBus?.close();
      })()),
  };
}
