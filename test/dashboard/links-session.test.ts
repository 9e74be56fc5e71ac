// The dashboard's session, over HTTP: a session sees its merchant and mode only (charts, order search); the
// dashboard's GraphQL endpoint takes the cookie (never a key), same-origin only, and runs no mutations; its live
// subscription; sign-out, a new sign-in, key revocation and 12 hours end the session; refund forms need the
// session's CSRF token.
import { describe, expect, it } from 'vitest';
import { graphql } from '../generated/index.js';
import { until } from '../support/until.js';
import { createLink, csrfOf, dashboardGet, dashboardGraphql, dashboardPost, signIn } from './support.js';
import { time, api } from '../support/dashboard-links.js';

const CreateOrder = graphql(`
  mutation DashboardLinksCreateOrder($input: CreateOrderInput!) {
    createOrder(input: $input) { order { id lineItems { id } } userErrors { code message } }
  }
`);

const CreateApiKey = graphql(`
  mutation DashboardLinksCreateApiKey($input: CreateApiKeyInput!) {
    createApiKey(input: $input) { apiKey { id } secret userErrors { code } }
  }
`);

const RevokeApiKey = graphql(`
  mutation DashboardLinksRevokeApiKey($input: RevokeApiKeyInput!) {
    revokeApiKey(input: $input) { userErrors { code } }
  }
`);

const PayOrder = graphql(`
  mutation DashboardLinksPayOrder($input: PayOrderInput!) {
    payOrder(input: $input) { paymentIntent { id status } userErrors { code } }
  }
`);

const SetupTax = graphql(`
  mutation DashboardLinksSetupTax {
    addTaxRegistration(input: { jurisdiction: "US-CA" }) { userErrors { code } }
    setTaxRate(input: { jurisdiction: "US-CA", name: "California sales tax", rate: "0.0725" }) { userErrors { code } }
  }
`);

const Refund = graphql(`
  mutation DashboardLinksRefund($input: CreateRefundInput!) {
    createRefund(input: $input) { refund { id status } userErrors { code message } }
  }
`);

async function order(key: string, email = 'sarah@example.com') {
  const created = await api.exec(
    CreateOrder,
    { input: { buyerEmail: email, customerId: 'cus_42', lineItems: [{ name: 'Tea', quantity: 2, unitPriceMoney: { amount: 1500, currency: 'USD' } }] } },
    key,
  );
  expect(created.createOrder.userErrors).toEqual([]);
  return created.createOrder.order!;
}

describe('the dashboard session', () => {
  it('is refused without a cookie, and sees only its merchant and mode', async () => {
    const a = await api.signup();
    const b = await api.signup();
    const mine = await order(a.key, 'mine@example.com');
    const theirs = await order(b.key, 'theirs@example.com');
    const live = (await api.exec(CreateApiKey, { input: { livemode: true } }, a.key)).createApiKey;
    const liveOrder = await order(live.secret!, 'live@example.com');

    expect((await dashboardGet(api, '/dashboard', null)).status).toBe(401);
    const cookie = await signIn(api, a.key);
    const home = await dashboardGet(api, '/dashboard', cookie);
    expect(home.status).toBe(200);
    expect(home.headers.get('content-security-policy')).toContain("script-src 'self'");
    const list = await home.text();
    expect(list).toContain(mine.id);
    expect(list).not.toContain(theirs.id);
    expect(list).not.toContain(liveOrder.id);
    expect(list).toContain('Test mode');

    expect((await dashboardGet(api, `/dashboard/orders/${mine.id}`, cookie)).status).toBe(200);
    const other = await dashboardGet(api, `/dashboard/orders/${theirs.id}`, cookie);
    expect(other.status).toBe(404);
    expect(await other.text()).toContain('no order');
    expect((await dashboardGet(api, `/dashboard/orders/${liveOrder.id}`, cookie)).status).toBe(404);
    // Posting a refund of another merchant's order finds no order either, and refunds nothing.
    const paidTheirs = (await api.exec(PayOrder, { input: { orderId: theirs.id, paymentSourceTokens: ['tok_visa'] } }, b.key)).payOrder;
    const theirForm = { csrf: await csrfOf(api, cookie), nonce: 'b'.repeat(32), paymentIntentId: paidTheirs.paymentIntent!.id, reason: 'REFUND_REASON_OTHER', [`qty:${theirs.lineItems[0]!.id}`]: '1' };
    expect((await dashboardPost(api, `/dashboard/orders/${theirs.id}/refunds`, cookie, theirForm)).status).toBe(404);
    expect((await dashboardPost(api, `/dashboard/orders/${mine.id}/refunds`, cookie, theirForm)).status).toBe(422);
    expect(await api.db.refund.count({ where: { orderId: theirs.id } })).toBe(0);

    const liveCookie = await signIn(api, live.secret!);
    const liveList = await (await dashboardGet(api, '/dashboard', liveCookie)).text();
    expect(liveList).toContain(liveOrder.id);
    expect(liveList).not.toContain(mine.id);
    expect(liveList).toContain('Live mode');
  });

  it('charts revenue (paid − refunded) and tax per day and currency, as integer sums', async () => {
    const { key, merchantId } = await api.signup({ originAddress: { country: 'US', region: 'CA' } });
    await api.exec(SetupTax, {}, key);
    const day = 86_400_000;
    const paidOrder = async (currency: string, amount: number) => {
      const o = await api.exec(CreateOrder, { input: { lineItems: [{ name: 'Tea', quantity: 3, unitPriceMoney: { amount, currency } }], shippingAddress: { country: 'US', region: 'CA' } } }, key);
      const paid = (await api.exec(PayOrder, { input: { orderId: o.createOrder.order!.id, paymentSourceTokens: ['tok_visa'] } }, key)).payOrder;
      expect(paid.paymentIntent?.status).toBe('SUCCEEDED');
      return { order: o.createOrder.order!, paymentIntentId: paid.paymentIntent!.id };
    };
    time.offsetMs = -2 * day;
    let twoDaysAgo: { order: { id: string; lineItems: { id: string }[] }; paymentIntentId: string };
    try {
      twoDaysAgo = await paidOrder('USD', 1000);
      await paidOrder('USD', 333);
      await paidOrder('EUR', 500);
    } finally {
      time.offsetMs = 0;
    }
    await paidOrder('USD', 2000);
    await order(key); // OPEN: not counted
    await api.exec(Refund, { input: { paymentIntentId: twoDaysAgo.paymentIntentId, lineItems: [{ lineItemId: twoDaysAgo.order.lineItems[0]!.id, quantity: 1 }], reason: 'REFUND_REASON_OTHER' } }, key);

    const rows = await api.db.order.findMany({ where: { merchantId, status: { not: 'OPEN' } } });
    const expected = new Map<string, { revenue: bigint; tax: bigint }>();
    for (const r of rows) {
      const k = `${r.currency} ${r.createdAt.toISOString().slice(0, 10)}`;
      const e = expected.get(k) ?? { revenue: 0n, tax: 0n };
      expected.set(k, { revenue: e.revenue + r.paidAmount - r.refundedAmount, tax: e.tax + r.taxAmount - r.refundedTaxAmount });
    }
    expect(expected.size).toBe(3);
    expect([...expected.values()].every((e) => e.tax > 0n)).toBe(true);

    const page = await (await dashboardGet(api, '/dashboard', await signIn(api, key))).text();
    const bars = [...page.matchAll(/<figure class="chart" data-currency="([A-Z]{3})">([\s\S]*?)<\/figure>/g)].flatMap(([, currency, body]) =>
      [...body!.matchAll(/data-day="([\d-]+)" data-revenue="(-?\d+)" data-tax="(-?\d+)"/g)].map(([, d, revenue, tax]) => ({ key: `${currency} ${d}`, revenue: BigInt(revenue!), tax: BigInt(tax!) })),
    );
    expect(bars).toHaveLength(2 * 30);
    for (const bar of bars) {
      const e = expected.get(bar.key) ?? { revenue: 0n, tax: 0n };
      expect({ key: bar.key, revenue: bar.revenue, tax: bar.tax }).toEqual({ key: bar.key, ...e });
    }
  });

  it('searches orders by email, customer and status', async () => {
    const { key } = await api.signup();
    const sarah = await order(key, 'sarah@example.com');
    const tom = await order(key, 'tom@example.com');
    await api.exec(PayOrder, { input: { orderId: tom.id, paymentSourceTokens: ['tok_visa'] } }, key);
    const cookie = await signIn(api, key);
    const search = async (query: string) => (await (await dashboardGet(api, `/dashboard?${query}`, cookie)).text());
    const bySarah = await search('q=SARAH%40example');
    expect(bySarah).toContain(sarah.id);
    expect(bySarah).not.toContain(tom.id);
    const paid = await search('status=PAID');
    expect(paid).toContain(tom.id);
    expect(paid).not.toContain(sarah.id);
    const byCustomer = await search('q=cus_42&status=OPEN');
    expect(byCustomer).toContain(sarah.id);
    expect(byCustomer).not.toContain(tom.id);
    expect(await search('q=nobody')).toContain('No orders match this search');
  });

  it('its GraphQL endpoint takes the cookie from this origin only, never a key, and runs no mutations', async () => {
    const { key, merchantId } = await api.signup();
    const cookie = await signIn(api, key);
    const viewer = await dashboardGraphql(api, cookie, '{ viewer { id } }');
    expect(viewer.status).toBe(200);
    expect(((await viewer.json()) as { data: { viewer: { id: string } } }).data.viewer.id).toBe(merchantId);

    expect((await dashboardGraphql(api, cookie, '{ viewer { id } }', { origin: 'https://evil.example' })).status).toBe(403);
    expect((await dashboardGraphql(api, cookie, '{ viewer { id } }', {})).status).toBe(403);
    expect((await dashboardGraphql(api, cookie, '{ viewer { id } }', { origin: api.url, 'sec-fetch-site': 'cross-site' })).status).toBe(403);

    const withKey = (await (await dashboardGraphql(api, null, '{ viewer { id } }', { origin: api.url, authorization: `Bearer ${key}` })).json()) as {
      errors: { extensions: { code: string } }[];
    };
    expect(withKey.errors[0]!.extensions.code).toBe('UNAUTHENTICATED');

    const mutation = (await (await dashboardGraphql(api, cookie, 'mutation { createApiKey(input: { livemode: true }) { secret } }')).json()) as {
      data: unknown;
      errors: { extensions: { code: string } }[];
    };
    expect(mutation.errors[0]!.extensions.code).toBe('FORBIDDEN');
    expect(await api.db.apiKey.count({ where: { merchantId } })).toBe(1);

    // The public endpoint never takes the cookie.
    const publicEndpoint = await fetch(`${api.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', cookie, origin: api.url },
      body: JSON.stringify({ query: '{ viewer { id } }' }),
    });
    expect(((await publicEndpoint.json()) as { errors: { extensions: { code: string } }[] }).errors[0]!.extensions.code).toBe('UNAUTHENTICATED');
  });

  it('ends on sign-out (with the CSRF token) and when its API key is revoked', async () => {
    const { key, merchantId } = await api.signup();
    const cookie = await signIn(api, key);
    expect((await dashboardPost(api, '/dashboard/sign-out', cookie, { csrf: 'wrong' })).status).toBe(403);
    expect((await dashboardGet(api, '/dashboard', cookie)).status).toBe(200);
    const out = await dashboardPost(api, '/dashboard/sign-out', cookie, { csrf: await csrfOf(api, cookie) });
    expect(out.status).toBe(303);
    expect(out.headers.getSetCookie()[0]).toContain('Max-Age=0');
    expect((await dashboardGet(api, '/dashboard', cookie)).status).toBe(401);
    expect((await api.db.dashboardSession.findFirstOrThrow({ where: { merchantId } })).endedAt).not.toBeNull();

    const extra = (await api.exec(CreateApiKey, { input: { livemode: false } }, key)).createApiKey;
    const second = await signIn(api, extra.secret!);
    expect((await dashboardGet(api, '/dashboard', second)).status).toBe(200);
    await api.exec(RevokeApiKey, { input: { id: extra.apiKey!.id } }, key);
    expect((await dashboardGet(api, '/dashboard', second)).status).toBe(401);
  });

  it('its live subscription (SSE, cookie only) delivers events, and ends after sign-out instead of delivering more', async () => {
    const { key } = await api.signup();
    const cookie = await signIn(api, key);
    const csrf = await csrfOf(api, cookie);
    const before = api.hub.size;
    const query = encodeURIComponent('subscription DashboardLinksLive { activityRecorded { type orderId } }');
    const response = await fetch(`${api.url}/dashboard/graphql?query=${query}`, { headers: { cookie, accept: 'text/event-stream' } });
    expect(response.status).toBe(200);
    await until('the subscription', () => api.hub.size > before, 5_000);
    const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
    let text = '';
    const readUntil = async (what: string, done: () => boolean) => {
      const deadline = Date.now() + 5_000;
      while (!done()) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; got ${text}`);
        const chunk = await reader.read();
        if (chunk.done) break;
        text += chunk.value;
      }
    };
    const first = await order(key);
    await readUntil('the first event', () => text.includes(first.id));
    await dashboardPost(api, '/dashboard/sign-out', cookie, { csrf });
    await new Promise((r) => setTimeout(r, 1_100));
    const second = await order(key);
    await readUntil('the end of the stream', () => text.includes('event: complete'));
    expect(text).not.toContain(second.id);
    await until('the subscription to end', () => api.hub.size === before, 5_000);
  });

  it('signing in again in the same browser ends the session it had', async () => {
    const { key } = await api.signup();
    const first = await signIn(api, key);
    const { url } = await createLink(api, key);
    const response = await fetch(url, { method: 'POST', redirect: 'manual', headers: { origin: api.url, cookie: first } });
    expect(response.status).toBe(303);
    const second = response.headers.getSetCookie()[0]!.split(';')[0]!;
    expect(second).not.toBe(first);
    expect((await dashboardGet(api, '/dashboard', first)).status).toBe(401);
    expect((await dashboardGet(api, '/dashboard', second)).status).toBe(200);
  });

  it('expires 12 hours after sign-in', async () => {
    const { key } = await api.signup();
    const cookie = await signIn(api, key);
    time.offsetMs = 12 * 60 * 60 * 1000 + 1000;
    try {
      expect((await dashboardGet(api, '/dashboard', cookie)).status).toBe(401);
    } finally {
      time.offsetMs = 0;
    }
  });

  it('refuses refund forms without the CSRF token or from another origin, refunding nothing', async () => {
    const { key } = await api.signup();
    const o = await order(key);
    const paid = (await api.exec(PayOrder, { input: { orderId: o.id, paymentSourceTokens: ['tok_visa'] } }, key)).payOrder;
    const cookie = await signIn(api, key);
    const form = { paymentIntentId: paid.paymentIntent!.id, reason: 'REFUND_REASON_OTHER', [`qty:${o.lineItems[0]!.id}`]: '1', nonce: 'a'.repeat(32) };
    expect((await dashboardPost(api, `/dashboard/orders/${o.id}/refunds`, cookie, form)).status).toBe(403);
    const csrf = await csrfOf(api, cookie);
    expect((await dashboardPost(api, `/dashboard/orders/${o.id}/refunds`, cookie, { ...form, csrf }, 'https://evil.example')).status).toBe(403);
    expect(await api.db.refund.count({ where: { orderId: o.id } })).toBe(0);

    const qty = `qty:${o.lineItems[0]!.id}`;
    const bad = await dashboardPost(api, `/dashboard/orders/${o.id}/refund-preview`, cookie, { ...form, csrf, [qty]: '9' });
    expect(bad.status).toBe(422);
    expect(await bad.text()).toContain('REFUND_EXCEEDS_REFUNDABLE');
    for (const [change, message] of [
      [{ [qty]: '-1' }, 'whole numbers of 0 or more'],
      [{ [qty]: '1.5' }, 'whole numbers of 0 or more'],
      [{ [qty]: '0' }, 'at least one line'],
      [{ reason: 'BECAUSE' }, 'Choose a reason'],
      [{ paymentIntentId: 'pi_01ARZ3NDEKTSV4RRFFQ69G5FAV' }, 'is not a payment of this order'],
    ] as const) {
      const refused = await dashboardPost(api, `/dashboard/orders/${o.id}/refunds`, cookie, { ...form, csrf, ...change });
      expect(refused.status).toBe(422);
      expect(await refused.text()).toContain(message);
    }
    expect(await api.db.refund.count({ where: { orderId: o.id } })).toBe(0);
    const done = await dashboardPost(api, `/dashboard/orders/${o.id}/refunds`, cookie, { ...form, csrf });
    expect(done.status).toBe(303);
    const again = await dashboardPost(api, `/dashboard/orders/${o.id}/refunds`, cookie, { ...form, csrf });
    expect(again.status).toBe(303);
    expect(again.headers.get('location')).toBe(done.headers.get('location'));
    expect(await api.db.refund.count({ where: { orderId: o.id } })).toBe(1);
  });
});
