// What every HTTP request goes through before a route or GraphQL sees it (src/server.ts): a request id,
// security headers, the body read within its limit (and checked for UTF-8), malformed GraphQL GET
// parameters refused, and one log line plus metrics when the answer is sent.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../ops/logger.js';
import { newId } from '../ops/logger.js';
import type { Metrics } from '../ops/metrics.js';
import { attachRequestInfo, type RequestInfo } from '../ops/request-info.js';
import { bodyOf, bufferBody, hasBody, malformedGraphQLParams } from './limits.js';
import { clientIp } from './rate-limit.js';

/** Headers on every answer. The hosted pages add their Content-Security-Policy (src/http/checkout.ts). */
export const SECURITY_HEADERS: Record<string, string> = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
};

const ROUTES = ['/graphql', '/mcp', '/webhooks/stripe', '/checkout', '/sandbox/3ds', '/health', '/ready', '/metrics', '/SKILL.md', '/llms.txt'];

/** A bounded label for metrics: the route, never the raw path. */
export function routeLabel(path: string): string {
  return ROUTES.find((r) => path === r || path.startsWith(`${r}/`)) ?? 'other';
}

function sendError(res: ServerResponse, status: number, message: string, code: string, close = false): void {
  res.writeHead(status, { 'content-type': 'application/json', ...(close ? { connection: 'close' } : {}) });
  res.end(JSON.stringify({ errors: [{ message, extensions: { code } }] }));
}

/** A client's X-Request-Id when it is a sane token, else a new one. */
function requestIdOf(req: IncomingMessage): string {
  const given = req.headers['x-request-id'];
  return typeof given === 'string' && /^[A-Za-z0-9._:-]{8,64}$/.test(given) ? given : newId();
}

export interface EdgeOptions {
  maxBodyBytes: number;
  logger: Logger;
  metrics: Metrics;
}

/**
 * Prepares one request. Returns its RequestInfo when it may go on to the routes, or null when the edge
 * already answered it (body too large, not UTF-8, malformed GET parameters).
 */
export async function enterEdge(req: IncomingMessage, res: ServerResponse, options: EdgeOptions, onDone: () => void): Promise<RequestInfo | null> {
  const started = process.hrtime.bigint();
  const reqId = requestIdOf(req);
  const info = attachRequestInfo(req, reqId);
  const path = (req.url ?? '/').split('?')[0] ?? '/';
  res.setHeader('x-request-id', reqId);
  for (const [name, value] of Object.entries(SECURITY_HEADERS)) res.setHeader(name, value);
  let logged = false;
  const done = () => {
    if (logged) return;
    logged = true;
    onDone();
    const durationMs = Number(process.hrtime.bigint() - started) / 1e6;
    const status = res.headersSent ? res.statusCode : 0;
    options.metrics.httpRequests.inc({ route: routeLabel(path), status: String(status) });
    if (info.rateLimited) options.metrics.rateLimited.inc({ limit: info.rateLimited });
    const line = {
      reqId,
      method: req.method,
      path: path.length > 200 ? `${path.slice(0, 200)}...` : path,
      status,
      durationMs: Math.round(durationMs * 10) / 10,
      ip: clientIp(req),
      ...(info.operationName !== undefined ? { operationName: info.operationName } : {}),
      ...(info.operationType ? { operationType: info.operationType } : {}),
      ...(info.merchantId ? { merchantId: info.merchantId, livemode: info.livemode } : {}),
      ...(info.errorCodes.length > 0 ? { errorCodes: info.errorCodes } : {}),
      ...(info.rateLimited ? { rateLimited: info.rateLimited } : {}),
      ...(res.writableFinished ? {} : { aborted: true }),
    };
    if (status >= 500) options.logger.error(line, 'request');
    else options.logger.info(line, 'request');
  };
  res.once('finish', done);
  res.once('close', done);

  if (hasBody(req.method)) {
    const problem = await bufferBody(req, options.maxBodyBytes);
    if (problem) {
      sendError(res, problem.status, problem.message, problem.status === 413 ? 'PAYLOAD_TOO_LARGE' : 'BAD_REQUEST', problem.status === 413);
      return null;
    }
    // GraphQL (yoga) reads a body that was already consumed from `req.body`.
    const body = bodyOf(req);
    if (body.length > 0) (req as IncomingMessage & { body?: Buffer }).body = body;
  }
  if (path === '/graphql' && (req.method === 'GET' || req.method === 'HEAD')) {
    const problem = malformedGraphQLParams(new URL(req.url ?? '/', 'http://localhost'));
    if (problem) {
      sendError(res, 400, problem, 'BAD_REQUEST');
      return null;
    }
  }
  return info;
}
