// GET /SKILL.md and GET /llms.txt for AI agents, rendered once from the live schema.
import type { Route } from './route.js';
import { schema } from '../graphql/schema.js';
import { renderLlmsTxt, renderSkill } from '../agents/skill.js';

// The MCP SDK (with zod, ajv, hono) costs ~25 MiB of RSS; most deployments never see an /mcp request,
// so src/agents/mcp.ts is loaded on the first one (bench/MEMORY.md).
let mcp: Promise<typeof import('../agents/mcp.js')> | null = null;

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

export const mcpRoute: Route = async (req, res, deps) => {
  const path = (req.url ?? '/').split('?')[0];
  if (path !== '/mcp') return false;
  mcp ??= import('../agents/mcp.js');
  const { handleMcp } = await mcp;
  await handleMcp(req, res, deps);
  return true;
};
