// GET /SKILL.md and GET /llms.txt for AI agents, rendered once from the live schema.
import type { Route } from './routes.js';
import { schema } from '../graphql/schema.js';
import { renderLlmsTxt, renderSkill } from '../agents/skill.js';
import { handleMcp } from '../agents/mcp.js';
import { clientIp } from './rate-limit.js';
import { requestInfo } from '../ops/request-info.js';

let skill: string | null = null;

export const agentDocsRoute: Route = async (req, res) => {
  if (req.method !== 'GET' && req.method !== 'HEAD') return false;
  const path = (req.url ?? '/').split('?')[0];
  if (path === '/SKILL.md') {
    skill ??= renderSkill(schema);
    res.writeHead(200, { 'content-type': 'text/markdown; charset=utf-8' }).end(req.method === 'HEAD' ? undefined : skill);
    return true;
  }
  if (path === '/llms.txt') {
    const host = req.headers.host ?? 'localhost';
    res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' }).end(req.method === 'HEAD' ? undefined : renderLlmsTxt(`http://${host}`));
    return true;
  }
  return false;
};

export const mcpRoute: Route = async (req, res, deps, app) => {
  const path = (req.url ?? '/').split('?')[0];
  if (path !== '/mcp') return false;
  const ip = clientIp(req);
  const refused = app.rateLimits && (req.headers.authorization ? await app.rateLimits.authBlocked(ip) : await app.rateLimits.consume('anonymous', ip));
  if (refused) {
    const info = requestInfo(req);
    if (info) info.rateLimited = refused.limit;
    res
      .writeHead(429, { 'content-type': 'application/json', 'retry-after': String(refused.retryAfterSeconds) })
      .end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32029, message: refused.message, data: { code: 'RATE_LIMITED', limit: refused.limit } }, id: null }));
    return true;
  }
  await handleMcp(req, res, deps, app.getEnveloped, () => app.rateLimits?.authFailed(ip));
  return true;
};
