// Dashboard test helpers: make a sign-in link through the API, redeem it as a browser would (a POST from
// the sign-in page's origin), and send requests with the session cookie.
import { expect } from 'vitest';
import { graphql } from '../generated/index.js';
import type { TestApi } from '../support/api.js';

export const CreateDashboardLink = graphql(`
  mutation DashboardCreateLink($input: CreateDashboardLinkInput!) {
    createDashboardLink(input: $input) { url expiresAt userErrors { code message field } }
  }
`);

export async function createLink(api: TestApi, key: string, expiresInSeconds?: number): Promise<{ url: string; expiresAt: string }> {
  const payload = (await api.exec(CreateDashboardLink, { input: expiresInSeconds === undefined ? {} : { expiresInSeconds } }, key)).createDashboardLink;
  expect(payload.userErrors).toEqual([]);
  return { url: payload.url!, expiresAt: payload.expiresAt! };
}

/** POSTs the link's sign-in form; returns the response (303 with the cookie when it worked). */
export function redeem(api: TestApi, url: string, origin: string | null = api.url): Promise<Response> {
  return fetch(url, { method: 'POST', redirect: 'manual', headers: origin ? { origin } : {} });
}

/** Signs in with a fresh link of `key`; returns the cookie header value ("flint_dashboard=..."). */
export async function signIn(api: TestApi, key: string): Promise<string> {
  const { url } = await createLink(api, key);
  const response = await redeem(api, url);
  expect(response.status).toBe(303);
  const cookie = response.headers.getSetCookie()[0]!;
  return cookie.split(';')[0]!;
}

export function dashboardGet(api: TestApi, path: string, cookie: string | null): Promise<Response> {
  return fetch(`${api.url}${path}`, { redirect: 'manual', headers: cookie ? { cookie } : {} });
}

export function dashboardPost(api: TestApi, path: string, cookie: string | null, form: Record<string, string>, origin: string | null = api.url): Promise<Response> {
  return fetch(`${api.url}${path}`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...(cookie ? { cookie } : {}), ...(origin ? { origin } : {}) },
    body: new URLSearchParams(form).toString(),
  });
}

export function dashboardGraphql(api: TestApi, cookie: string | null, query: string, headers: Record<string, string> = { origin: api.url }): Promise<Response> {
  return fetch(`${api.url}/dashboard/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(cookie ? { cookie } : {}), ...headers },
    body: JSON.stringify({ query }),
  });
}

/** The session's CSRF token, read from a dashboard page (the sign-out form carries it). */
export async function csrfOf(api: TestApi, cookie: string): Promise<string> {
  const page = await (await dashboardGet(api, '/dashboard', cookie)).text();
  const match = /name="csrf" value="([^"]+)"/.exec(page);
  if (!match) throw new Error('no CSRF token on the dashboard page');
  return match[1]!;
}
