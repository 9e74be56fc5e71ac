// GET /SKILL.md and GET /llms.txt for AI agents, rendered once from the live schema.
import type { Route } from './route.js';
import { schema } from '../graphql/schema.js';
import { renderLlmsTxt, renderSkill } from '../agents/skill.js';

// The MCP SDK (with zod, ajv, hono) costs ~25 MiB of RSS; most deployments never see an /mcp request,
// so src/agents/mcp.ts is loaded on the first one (bench/MEMORY.md).
let mcp: Promise<typeof import('../agents/mcp.js')> | null = null;
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
  mcp ??= import('../agents/mcp.js');
  const { handleMcp } = await mcp;
  await handleMcp(req, res, deps, app.getEnveloped, () => app.rateLimits?.authFailed(ip));
  return true;
};
