// The HTTP server: GraphQL at /graphql (GraphiQL, offline, unless GRAPHIQL=false) plus the plain routes of src/http/routes.ts.
import { createServer, type Server } from 'node:http';
import pg from 'pg';
import { createYoga } from 'graphql-yoga';
import { DEFAULT_LIMITS, type Config, type Limits } from './config.js';
import type { Deps } from './kernel/context.js';
import { authenticate } from './merchants/auth.js';
import { schema } from './graphql/schema.js';
import type { GraphQLContext } from './graphql/context.js';
import { HTTP_ROUTES, sendJson } from './http/routes.js';
import { GRAPHIQL_OPTIONS, renderGraphiQL } from './http/graphiql.js';
import { createMemoryEventBus } from './realtime/bus.js';
import { SubscriptionHub, type SubscriptionLimits } from './realtime/hub.js';
import { attachWebSockets, type WebSocketContext } from './realtime/websocket.js';
import { useSharedSubscriptionExecution } from './realtime/shared-execution.js';
import { dashboardHandler } from './dashboard/http.js';
import { sqlPool } from './db/prisma.js';
import { documentCaches, queryLimitPlugins } from './graphql/armor.js';
import { rateLimitError, useRateLimits } from './graphql/rate-limits.js';
import { enterEdge } from './http/edge.js';
import type { McpEnvelop } from './agents/mcp.js';
import { clientIp, RateLimits, type RateLimitStore } from './http/rate-limit.js';
import { inRequest, silentLogger, type Logger } from './ops/logger.js';
import { Metrics } from './ops/metrics.js';
import { requestInfo, requestOf, useRequestInfo } from './ops/request-info.js';

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
  /** Body, query and rate limits (default DEFAULT_LIMITS; main.ts passes LIMITS from the environment). */
  limits?: Limits;
  /** false: no query limits, strict arguments or rate limits (the benchmark's "limits off" side). Default true. */
  limitsEnabled?: boolean;
  /** Where rate-limit counters live (default: PostgreSQL, the "RateLimit" table of deps.db). */
  rateLimitStore?: RateLimitStore;
  /** Namespace of this server's rate-limit counters (default "flint"; tests use one per server). */
  rateLimitPrefix?: string;
  /** Origins allowed by CORS (default none). */
  corsOrigins?: string[];
  /** JSON logs (default: none). */
  logger?: Logger;
  /** How long close() lets in-flight requests finish (default 10 s). */
  shutdownTimeoutMs?: number;
}

export interface AppOptions {
  limits: Limits;
  limitsEnabled: boolean;
  rateLimits: RateLimits | null;
  corsOrigins: string[];
  metrics: Metrics | null;
}

/** The initial context of an operation: an HTTP request (yoga adds `request`), or a graphql-ws operation. */
interface ServerContext {
  ws?: WebSocketContext;
}

const NO_LIMITS: AppOptions = { limits: DEFAULT_LIMITS, limitsEnabled: true, rateLimits: null, corsOrigins: [], metrics: null };

export function createApp(
  deps: Deps,
  config: Pick<Config, 'development'> & Partial<Pick<Config, 'graphiql'>>,
  hub: SubscriptionHub = new SubscriptionHub(deps.events ?? createMemoryEventBus()),
  options: AppOptions = NO_LIMITS,
) {
  const { rateLimits } = options;
  const yoga = createYoga<ServerContext, GraphQLContext>({
    schema,
    graphqlEndpoint: '/graphql',
    graphiql: config.graphiql === false ? false : GRAPHIQL_OPTIONS,
    renderGraphiQL,
    landingPage: false,
    // Unexpected errors are masked ("Unexpected error."); GraphQLErrors we throw on purpose are not.
    maskedErrors: true,
    // Only short documents are cached: large distinct ones must not fill memory.
    parserAndValidationCache: documentCaches(),
    // Browsers may call the API only from the configured origins, and never with credentials.
    cors: options.corsOrigins.length > 0 ? { origin: options.corsOrigins, credentials: false, methods: ['GET', 'POST'], allowedHeaders: ['authorization', 'content-type', 'x-request-id'] } : false,
    plugins: [
      // Subscribers asking the same thing share each event's execution (src/realtime/shared-execution.ts).
      useSharedSubscriptionExecution(),
      useRequestInfo(),
      ...(options.metrics ? [options.metrics.graphqlPlugin()] : []),
      ...(options.limitsEnabled ? [...queryLimitPlugins(options.limits), useRateLimits(rateLimits)] : []),
    ],
    context: async (initial): Promise<GraphQLContext> => {
      const { request, ws } = initial;
      // WebSocket operations carry the key in connectionParams; it is checked again for every operation.
      const header = ws ? ws.authorization : request.headers.get('authorization');
      const realtime = ws ? { hub, connection: ws.connection, closeConnection: ws.close } : { hub, connection: request };
      const req = requestOf(initial);
      const ip = clientIp(req);
      if (rateLimits && !ws) {
        // Keys are checked only from addresses that are not in backoff after failed attempts.
        const refused = header ? await rateLimits.authBlocked(ip) : await rateLimits.consume('anonymous', ip);
        if (refused) {
          const info = requestInfo(req);
          if (info) info.rateLimited = refused.limit;
          throw rateLimitError(refused);
        }
      }
      const auth = await authenticate(deps.db, header);
      if (rateLimits && !ws && auth && 'problem' in auth) await rateLimits.authFailed(ip);
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
  const limits = options.limits ?? DEFAULT_LIMITS;
  const limitsEnabled = options.limitsEnabled ?? true;
  const logger = options.logger ?? silentLogger;
  const pool = sqlPool(appDeps.db);
  const rateLimited = limitsEnabled && limits.rateLimits;
  // Counters in PostgreSQL get their own few connections, so that counting never waits for (or holds)
  // a connection the requests themselves need.
  const limiterPool = rateLimited && !options.rateLimitStore ? new pg.Pool({ ...(pool as unknown as { options: pg.PoolConfig }).options, max: 4, allowExitOnIdle: true }) : null;
  const rateLimits = rateLimited
    ? new RateLimits(limits, options.rateLimitStore ?? { kind: 'postgres', pool: limiterPool! }, options.rateLimitPrefix ?? 'flint')
    : null;
  let inFlight = 0;
  let draining = false;
  const metrics = new Metrics({ pool, subscriptions: () => hub.size, inFlight: () => inFlight });
  const yoga = createApp(appDeps, config, hub, { limits, limitsEnabled, rateLimits, corsOrigins: options.corsOrigins ?? [], metrics });
  const dashboard = dashboardHandler(appDeps, hub);
  const routeApp = { getEnveloped: yoga.getEnveloped as unknown as McpEnvelop, rateLimits };
  const edge = { maxBodyBytes: limits.maxBodyBytes, logger, metrics };
  const server = createServer((req, res) => {
    inFlight += 1;
    const info = { reqId: '' };
    void enterEdge(req, res, edge, () => (inFlight -= 1))
      .then(async (entered) => {
        if (!entered) return;
        info.reqId = entered.reqId;
        await inRequest(entered.reqId, async () => {
          if (draining) res.setHeader('connection', 'close');
          const path = (req.url ?? '/').split('?')[0];
          if (path === '/ready' && draining) {
            sendJson(res, 503, { status: 'shutting down' });
            return;
          }
          if (path === '/metrics') {
            res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(await metrics.text());
            return;
          }
          if (await dashboard(req, res)) return;
          for (const route of HTTP_ROUTES) {
            if (await route(req, res, appDeps, routeApp)) return;
          }
          await yoga.handle(req, res);
        });
      })
      .catch((error: unknown) => {
        logger.error({ err: error, reqId: info.reqId }, 'unhandled error in HTTP handler');
        if (!res.headersSent) sendJson(res, 500, { error: 'Unexpected error.' });
        else res.end();
      });
  });
  server.keepAliveTimeout = 65_000;
  // graphql-ws on the same port and path: upgrade requests to /graphql become WebSocket connections.
  const webSockets = attachWebSockets(server, yoga, appDeps, '/graphql', limits.maxBodyBytes);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, host, () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const shutdownTimeoutMs = options.shutdownTimeoutMs ?? 10_000;
  let closing: Promise<void> | null = null;
  return {
    server,
    url: `http://127.0.0.1:${port}`,
    hub,
    close: () =>
      (closing ??= (async () => {
        // Stop accepting; /ready answers 503 on connections still open; answers say "connection: close".
        draining = true;
        const closed = new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
        // Subscriptions first, so each client sees its subscription complete (SSE streams end with a
        // "complete" event, WebSocket subscriptions get "complete" and then close 1001 Going away).
        hub.close();
        await webSockets.close();
        // In-flight requests finish (at most shutdownTimeoutMs); idle keep-alive connections are closed.
        const deadline = Date.now() + shutdownTimeoutMs;
        server.closeIdleConnections();
        while (inFlight > 0 && Date.now() < deadline) {
          await new Promise((resolve) => setTimeout(resolve, 10));
          server.closeIdleConnections();
        }
        if (inFlight > 0) logger.warn({ inFlight }, 'shutdown: requests still running after the grace period were cut');
        server.closeAllConnections();
        await closed;
        await ownBus?.close();
        await limiterPool?.end();
      })()),
  };
}
