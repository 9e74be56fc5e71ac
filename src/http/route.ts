// What a plain HTTP route is (src/http/routes.ts lists them) and reading a request body with a limit.
// A leaf: the routes import it, and it imports none of them.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Deps } from '../kernel/context.js';
import type { McpEnvelop } from '../agents/mcp.js';
import type { RateLimits } from './rate-limit.js';
import { bodyOf } from './limits.js';

/** What the server lends its routes: GraphQL's envelop (for /mcp) and the rate limits. */
export interface RouteApp {
  getEnveloped: McpEnvelop;
  rateLimits: RateLimits | null;
}

/** Answers the requests it owns and returns true; false lets the next route (finally GraphQL) try. */
export type Route = (req: IncomingMessage, res: ServerResponse, deps: Deps, app: RouteApp) => Promise<boolean>;

const MAX_BODY_BYTES = 1024 * 1024;

/** The request body the edge buffered (src/http/limits.ts); null when it is larger than `limit`. */
export async function readBody(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<Buffer | null> {
  const body = bodyOf(req);
  return body.length > limit ? null : body;
}
