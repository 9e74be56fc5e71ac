// GET / : a small start page instead of a bare 404: where GraphiQL, the agent docs, the dashboard and
// the reference docs are, the first call, and the @flint/client snippet (test/sdk/client.test.ts runs
// that snippet verbatim). GET /docs/<name>.md serves the Markdown files of the repository's docs/.
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Route } from './route.js';

const DOCS_DIR = fileURLToPath(new URL('../../docs/', import.meta.url));

/** docs/*.md, read once: name -> text. Only these names are served. */
function loadDocs(): Map<string, string> {
  const docs = new Map<string, string>();
  let names: string[] = [];
  try {
    names = readdirSync(DOCS_DIR).filter((name) => /^[a-z0-9-]+\.md$/.test(name));
  } catch {
    return docs; // an install without docs/
  }
  for (const name of names.sort()) docs.set(name, readFileSync(`${DOCS_DIR}${name}`, 'utf8'));
  return docs;
}

let docs: Map<string, string> | null = null;

export const SDK_SNIPPET = `import { Flint } from "@flint/client";

const flint = new Flint({ apiKey: process.env.FLINT_API_KEY, baseUrl: "http://localhost:4000" });
const order = await flint.orders.create({ customerId: "cus_01HZ4X8", lineItems: [...] });
const result = await flint.orders.pay({ orderId, paymentSourceTokens: ["tok_visa"], buyerEmail: "sarah@example.com" });
const refund = await flint.refunds.create({ paymentIntentId, amountMoney: { amount: 1999, currency: "USD" },
  reason: "REFUND_REASON_REQUESTED_BY_CUSTOMER", idempotencyKey: "ref_sarah_coffee_20250115" });`;

const escapeHtml = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

function docTitle(text: string, name: string): string {
  return /^#\s+(.+)$/m.exec(text)?.[1]?.trim() ?? name;
}

export function renderLandingPage(origin: string, documents: Map<string, string>): string {
  const signup = `curl -s ${origin}/graphql -H 'content-type: application/json' -d '{"query":"mutation { createMerchant(input: {name: \\"Bean There\\", email: \\"owner@beanthere.test\\"}) { testApiKey userErrors { code message } } }"}'`;
  const docLinks = [...documents]
    .map(([name, text]) => `<li><a href="/docs/${name}">${escapeHtml(docTitle(text, name))}</a></li>`)
    .join('\n        ');
  return `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <title>Flint — order-first payment API</title>
    <style>
      body { font: 16px/1.5 system-ui, sans-serif; max-width: 52rem; margin: 2rem auto; padding: 0 1rem; color: #1d1d1f; }
      h1 { margin-bottom: 0; } .tag { color: #555; margin-top: .25rem; }
      pre { background: #f4f4f6; padding: .75rem 1rem; overflow-x: auto; border-radius: 6px; font-size: 13px; }
      a { color: #0b57d0; } li { margin: .2rem 0; }
    </style>
  </head>
  <body>
    <h1>Flint</h1>
    <p class="tag">An order-first payment API: create an order, Flint computes totals, discounts and tax, takes the payment and refunds exactly.</p>
    <ul>
      <li><a href="/graphql">GraphiQL</a> — explore and run the API in the browser (put your key in its Headers tab)</li>
      <li><a href="/dashboard">Dashboard</a> — look at your orders</li>
      <li><a href="/SKILL.md">SKILL.md</a> and <a href="/llms.txt">llms.txt</a> — for AI agents; MCP at <code>POST /mcp</code></li>
      <li><a href="/health">/health</a> · <a href="/ready">/ready</a></li>
    </ul>
    <h2>Sign up</h2>
    <pre>${escapeHtml(signup)}</pre>
    <p>The answer's <code>testApiKey</code> goes in every other request: <code>Authorization: Bearer sk_test_...</code>.</p>
    <h2>With @flint/client</h2>
    <pre id="sdk"><code>${escapeHtml(SDK_SNIPPET)}</code></pre>
    <h2>Reference</h2>
    <ul>
        ${docLinks || '<li>(docs/ is not part of this installation)</li>'}
    </ul>
  </body>
</html>
`;
}

export const landingRoute: Route = async (req, res) => {
  if (req.method !== 'GET' && req.method !== 'HEAD') return false;
  const path = (req.url ?? '/').split('?')[0] ?? '/';
  if (path !== '/' && !path.startsWith('/docs/')) return false;
  docs ??= loadDocs();
  if (path === '/') {
    const origin = `http://${req.headers.host ?? 'localhost:4000'}`;
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(req.method === 'HEAD' ? undefined : renderLandingPage(origin, docs));
    return true;
  }
  const text = docs.get(path.slice('/docs/'.length));
  if (text === undefined) return false;
  res.writeHead(200, { 'content-type': 'text/markdown; charset=utf-8' }).end(req.method === 'HEAD' ? undefined : text);
  return true;
};
