// createDashboardLink and signing in with a link, over HTTP: bad input writes nothing; the token is stored only
// hashed; a link signs in once, before it expires, from this origin only; the cookie is HttpOnly,
// SameSite=Strict (Secure behind https).
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { graphql } from '../generated/index.js';
import { createLink, CreateDashboardLink, redeem } from './support.js';
import { time, api } from '../support/dashboard-links.js';

const Activities = graphql(`
  query DashboardLinksActivities {
    activities(first: 100) { edges { node { type actor { type id name } } } }
  }
`);

const linkCount = (merchantId: string) => api.db.dashboardLink.count({ where: { merchantId } });

describe('createDashboardLink', () => {
  it.each([0, 59, 86_401, -5])('refuses expiresInSeconds %s with INVALID_INPUT naming the field, and writes nothing', async (seconds) => {
    const { key, merchantId } = await api.signup();
    const activityBefore = await api.db.activity.count({ where: { merchantId } });
    const payload = (await api.exec(CreateDashboardLink, { input: { expiresInSeconds: seconds } }, key)).createDashboardLink;
    expect(payload.url).toBeNull();
    expect(payload.expiresAt).toBeNull();
    expect(payload.userErrors).toEqual([{ code: 'INVALID_INPUT', field: ['input', 'expiresInSeconds'], message: expect.stringContaining('from 60 to 86400') }]);
    expect(await linkCount(merchantId)).toBe(0);
    expect(await api.db.activity.count({ where: { merchantId } })).toBe(activityBefore);
  });

  it('needs an API key', async () => {
    const result = await api.request(CreateDashboardLink, { input: {} }, null);
    expect(result.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('makes a link valid 15 minutes by default (up to 24 hours), stores only the token hash, and records it in the audit trail', async () => {
    const { key, merchantId } = await api.signup();
    const before = Date.now();
    const link = await createLink(api, key);
    const expires = new Date(link.expiresAt).getTime();
    expect(expires).toBeGreaterThanOrEqual(before + 900_000 - 1000);
    expect(expires).toBeLessThanOrEqual(Date.now() + 900_000 + 1000);
    const match = new RegExp(`^${api.url}/dashboard/sign-in/([A-Za-z0-9_-]{43})$`).exec(link.url);
    expect(match).not.toBeNull();
    const token = match![1]!;
    const row = await api.db.dashboardLink.findFirstOrThrow({ where: { merchantId } });
    expect(row.tokenHash).toBe(createHash('sha256').update(token).digest('hex'));
    expect(JSON.stringify(row)).not.toContain(token);
    expect(row.livemode).toBe(false);
    expect(row.usedAt).toBeNull();

    const day = await createLink(api, key, 86_400);
    expect(new Date(day.expiresAt).getTime() - Date.now()).toBeGreaterThan(86_400_000 - 5000);

    const entries = (await api.exec(Activities, {}, key)).activities.edges.map((e) => e.node);
    const created = entries.filter((e) => e.type === 'dashboard_link.created');
    expect(created).toHaveLength(2);
    expect(created[0]!.actor).toMatchObject({ type: 'API_KEY', id: row.apiKeyId });
  });
});

describe('signing in with a link', () => {
  it('shows the link without spending it, signs in once with an HttpOnly SameSite=Strict cookie, and refuses a second use', async () => {
    const { key, merchantId } = await api.signup({ name: 'Bean There' });
    const { url } = await createLink(api, key);

    const shown = await fetch(url);
    expect(shown.status).toBe(200);
    const page = await shown.text();
    expect(page).toContain('Sign in to Bean There');
    expect(page).toContain('test');
    expect((await api.db.dashboardLink.findFirstOrThrow({ where: { merchantId } })).usedAt).toBeNull();

    const first = await redeem(api, url);
    expect(first.status).toBe(303);
    expect(first.headers.get('location')).toBe('/dashboard');
    const cookie = first.headers.getSetCookie()[0]!;
    expect(cookie).toMatch(/^flint_dashboard=[A-Za-z0-9_-]{43}; /);
    expect(cookie).toContain('HttpOnly');
    expect(cookie).toContain('SameSite=Strict');
    expect(cookie).toContain('Path=/dashboard');
    expect(cookie).not.toContain('Secure'); // plain http here
    expect(cookie).not.toContain(key);

    const second = await redeem(api, url);
    expect(second.status).toBe(410);
    expect(second.headers.getSetCookie()).toEqual([]);
    const text = await second.text();
    expect(text).toContain('already used');
    expect(text).toContain('createDashboardLink');
    expect((await fetch(url)).status).toBe(410);
    expect(await api.db.dashboardSession.count({ where: { merchantId } })).toBe(1);

    const types = (await api.exec(Activities, {}, key)).activities.edges.map((e) => e.node.type);
    expect(types).toContain('dashboard.signed_in');
  });

  it('two browsers racing for one link: exactly one session', async () => {
    const { key, merchantId } = await api.signup();
    const { url } = await createLink(api, key);
    const results = await Promise.all([redeem(api, url), redeem(api, url), redeem(api, url)]);
    expect(results.map((r) => r.status).sort()).toEqual([303, 410, 410]);
    expect(await api.db.dashboardSession.count({ where: { merchantId } })).toBe(1);
  });

  it('sets Secure when served over https (X-Forwarded-Proto from a proxy)', async () => {
    const { key } = await api.signup();
    const { url } = await createLink(api, key);
    const response = await fetch(url, { method: 'POST', redirect: 'manual', headers: { origin: api.url, 'x-forwarded-proto': 'https' } });
    expect(response.status).toBe(303);
    expect(response.headers.getSetCookie()[0]).toContain('Secure');
  });

  it('refuses an expired link with a page that says to create a new one', async () => {
    const { key, merchantId } = await api.signup();
    const { url } = await createLink(api, key, 60);
    time.offsetMs = 61_000;
    try {
      const response = await redeem(api, url);
      expect(response.status).toBe(410);
      expect(await response.text()).toContain('expired');
      expect((await fetch(url)).status).toBe(410);
    } finally {
      time.offsetMs = 0;
    }
    expect(await api.db.dashboardSession.count({ where: { merchantId } })).toBe(0);
  });

  it('refuses a sign-in POST from another origin, and an unknown token', async () => {
    const { key, merchantId } = await api.signup();
    const { url } = await createLink(api, key);
    expect((await redeem(api, url, 'https://evil.example')).status).toBe(403);
    expect((await redeem(api, url, null)).status).toBe(403);
    expect((await api.db.dashboardLink.findFirstOrThrow({ where: { merchantId } })).usedAt).toBeNull();
    expect((await fetch(`${api.url}/dashboard/sign-in/${'x'.repeat(43)}`)).status).toBe(404);
  });
});
