// GraphiQL in headless Chromium with every request off this server blocked, as on a machine without
// internet: the editor renders (not "Loading..."), the Authorization header is prefilled with a
// placeholder, the hint says where the key goes, and with a real key in the Headers tab a query runs.
// The screenshot is written to artifacts/graphiql.png (git-ignored).
import { statSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { startServer } from '../../src/server.js';
import { systemClock } from '../../src/kernel/context.js';
import { GRAPHIQL_KEY_PLACEHOLDER } from '../../src/http/graphiql.js';
import { useTestApi } from '../support/api.js';
import { ARTIFACTS, useChromium } from '../support/browser.js';

const api = useTestApi();
const browserOf = useChromium();

describe('GraphiQL', () => {
  it('renders offline with the Authorization placeholder and the hint; a real key runs a query', async () => {
    const { key } = await api.signup({ name: 'GraphiQL Coffee' });
    const context = await browserOf().newContext({ viewport: { width: 1400, height: 900 } });
    const blocked: string[] = [];
    const origin = new URL(api.url).origin;
    await context.route('**/*', (route) => {
      const url = route.request().url();
      if (url.startsWith(origin)) return route.continue();
      blocked.push(url);
      return route.abort('internetdisconnected');
    });
    const page = await context.newPage();
    await page.goto(`${api.url}/graphql`);
    await page.locator('.graphiql-container').first().waitFor({ timeout: 30_000 });
    await page.getByText('Your API key goes in Headers').first().waitFor();
    await page.getByText(GRAPHIQL_KEY_PLACEHOLDER).first().waitFor();
    expect(await page.title()).toBe('Flint GraphiQL');
    expect(await page.locator('body').innerText()).not.toContain('Loading');
    await page.screenshot({ path: `${ARTIFACTS}graphiql.png` });
    expect(statSync(`${ARTIFACTS}graphiql.png`).size).toBeGreaterThan(10_000);

    // Replace the placeholder with the real key, as the hint says, and run the default query.
    const headers = page.locator('.graphiql-editor-tool .graphiql-editor').last();
    await headers.click();
    await page.keyboard.press('ControlOrMeta+a');
    await page.keyboard.press('Delete');
    await page.keyboard.insertText(`{"Authorization": "Bearer ${key}"}`); // as a paste: no auto-closed brackets
    await page.screenshot({ path: `${ARTIFACTS}graphiql-key.png` });
    const answer = page.waitForResponse((r) => r.url() === `${api.url}/graphql` && r.request().method() === 'POST' && (r.request().postData() ?? '').includes('MyLatestOrders'));
    await page.locator('.graphiql-execute-button').click();
    const response = await answer;
    expect(response.status()).toBe(200);
    expect(await response.json()).toEqual({ data: { orders: { edges: [] } } });
    expect(blocked).toEqual([]);
    await context.close();
  }, 90_000);

  it('is served from this process (no external script or stylesheet)', async () => {
    const html = await (await fetch(`${api.url}/graphql`, { headers: { accept: 'text/html' } })).text();
    expect(html).toContain('YogaGraphiQL');
    expect(html).not.toMatch(/<script[^>]+src=["']https?:/);
    expect(html).not.toMatch(/<link[^>]+href=["']https?:/);
  });

  it('GRAPHIQL=false keeps it off', async () => {
    const server = await startServer({ db: api.db, clock: systemClock }, { development: false, port: 0, graphiql: false }, '127.0.0.1');
    try {
      const page = await fetch(`${server.url}/graphql`, { headers: { accept: 'text/html' } });
      expect(await page.text()).not.toContain('graphiql');
    } finally {
      await server.close();
    }
  });
});

describe('the start page', () => {
  it('links GraphiQL, SKILL.md, the dashboard and the docs, which are served', async () => {
    const response = await fetch(`${api.url}/`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/html');
    const html = await response.text();
    for (const href of ['/graphql', '/SKILL.md', '/dashboard', '/llms.txt', '/docs/pricing.md', '/docs/api-guide.md', '/docs/test-tokens.md', '/docs/configuration.md']) {
      expect(html).toContain(`href="${href}"`);
    }
    const pricing = await fetch(`${api.url}/docs/pricing.md`);
    expect(pricing.headers.get('content-type')).toContain('text/markdown');
    expect(await pricing.text()).toContain('half to even');
    expect((await fetch(`${api.url}/docs/../package.json`)).status).toBe(404);
    expect((await fetch(`${api.url}/nothing-here`)).status).toBe(404);
  });
});

describe('SKILL.md', () => {
  it('links the reference docs, and every link is served', async () => {
    const skill = await (await fetch(`${api.url}/SKILL.md`)).text();
    const links = [...skill.matchAll(/\]\((\/docs\/[a-z0-9-]+\.md)\)/g)].map((m) => m[1]!);
    expect(links).toEqual(['/docs/pricing.md', '/docs/api-guide.md', '/docs/test-tokens.md', '/docs/configuration.md']);
    for (const link of links) expect((await fetch(`${api.url}${link}`)).status).toBe(200);
  });
});
