// Plain HTTP routes served next to /graphql. Each route answers the requests it owns and returns true;
// anything no route takes goes to GraphQL. Features add their routes to HTTP_ROUTES.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Deps } from '../domain/context.js';
import { stripeWebhookRoute } from './webhooks.js';
import { checkoutRoute, sandboxAuthenticationRoute } from './checkout.js';
import { agentDocsRoute, mcpRoute } from './agents.js';
import type { McpEnvelop } from '../agents/mcp.js';
import type { RateLimits } from './rate-limit.js';

/** What the server lends its routes: GraphQL's envelop (for /mcp) and the rate limits. */
export interface RouteApp {
  getEnveloped: McpEnvelop;
  rateLimits: RateLimits | null;
}

export type Route = (req: IncomingMessage, res: ServerResponse, deps: Deps, app: RouteApp) => Promise<boolean>;

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

/** /health: the process is up. /ready: it can reach its database. */
export const healthRoute: Route = async (req, res, deps) => {
  const path = (req.url ?? '/').split('?')[0];
  if (path === '/health') {
    sendJson(res, 200, { status: 'ok' });
    return true;
  }
  if (path === '/ready') {
    try {
      await deps.db.$queryRaw`SELECT 1`;
      sendJson(res, 200, { status: 'ready', database: 'ok' });
    } catch {
      sendJson(res, 503, { status: 'not ready', database: 'unreachable' });
    }
    return true;
  }
  return false;
};

export const HTTP_ROUTES: Route[] = [healthRoute, stripeWebhookRoute, checkoutRoute, sandboxAuthenticationRoute, agentDocsRoute, mcpRoute];
