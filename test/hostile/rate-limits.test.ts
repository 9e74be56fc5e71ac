// Rate limits on a server started with small limits (the production defaults are far larger, see
// DEFAULT_LIMITS): each limit refuses with 429, Retry-After and a JSON error naming it, counts only its
// own key / IP / order, and writes nothing when it refuses. A second server on the same database, with
// the default limits, sets the data up so that the setup does not count.
import { describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS, type Limits } from '../../src/config.js';
import { useTestApi } from '../support/api.js';
import { codes, post, rowsOfMerchant, type RawAnswer } from './support.js';

const LIMITS: Limits = {
  ...DEFAULT_LIMITS,
  reads: { points: 20, seconds: 60 },
  writes: { points: 10, seconds: 60 },
  money: { points: 4, seconds: 60 },
  payDeclines: { points: 3, seconds: 3600 },
  signups: { points: 5, seconds: 600 },
  anonymous: { points: 30, seconds: 60 },
  authFailures: { points: 3, seconds: 900 },
};

const setup = useTestApi();
const limited = useTestApi({ server: { limits: LIMITS } });

const CREATE_ORDER = 'mutation { createOrder(input: { lineItems: [{ name: "Tea", quantity: 1, unitPriceMoney: { amount: 500, currency: "USD" } }] }) { order { id } userErrors { code } } }';
const PAY = 'mutation ($orderId: ID!, $token: String!) { payOrder(input: { orderId: $orderId, paymentSourceTokens: [$token] }) { paymentIntent { status } userErrors { code } } }';

async function newOrder(key: string): Promise<string> {
  const answer = await post(`${setup.url}/graphql`, { query: CREATE_ORDER }, key);
  return (answer.json!.data!.createOrder as { order: { id: string } }).order.id;
}

function expectLimited(answer: RawAnswer, limit: string): void {
  expect(answer.status, answer.text.slice(0, 300)).toBe(429);
  expect(Number(answer.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
  expect(codes(answer)).toEqual(['RATE_LIMITED']);
  expect(answer.json?.errors?.[0]?.extensions).toMatchObject({ code: 'RATE_LIMITED', limit });
  expect(answer.json?.errors?.[0]?.message).toContain(`Rate limit "${limit}"`);
}

const gql = (body: unknown, key?: string | null) => post(`${limited.url}/graphql`, body, key);

describe('rate limits per API key', () => {
  it('reads: the 21st query of a key is refused; another key is not affected', async () => {
    const a = await setup.signup();
    const b = await setup.signup();
    for (let i = 0; i < 20; i++) expect((await gql({ query: '{ viewer { id } }' }, a.key)).status).toBe(200);
    expectLimited(await gql({ query: '{ viewer { id } }' }, a.key), 'reads');
    const other = await gql({ query: '{ viewer { id } }' }, b.key);
    expect(other.status).toBe(200);
    expect(other.json?.errors).toBeUndefined();
  });

  it('writes: the 11th mutation is refused and writes nothing; reads of the same key still work', async () => {
    const { key, merchantId } = await setup.signup();
    for (let i = 0; i < 10; i++) expect((await gql({ query: CREATE_ORDER }, key)).json?.errors).toBeUndefined();
    const before = await rowsOfMerchant(setup.db, merchantId);
    expectLimited(await gql({ query: CREATE_ORDER }, key), 'writes');
    expect(await rowsOfMerchant(setup.db, merchantId)).toEqual(before);
    expect((await gql({ query: '{ viewer { id } }' }, key)).status).toBe(200);
  });

  it('money: payOrder and createRefund are limited more tightly than other mutations', async () => {
    const { key, merchantId } = await setup.signup();
    const orders = await Promise.all(Array.from({ length: 5 }, () => newOrder(key)));
    for (const orderId of orders.slice(0, 4)) {
      const paid = await gql({ query: PAY, variables: { orderId, token: 'tok_visa' } }, key);
      expect((paid.json!.data!.payOrder as { paymentIntent: { status: string } }).paymentIntent.status).toBe('SUCCEEDED');
    }
    const before = await rowsOfMerchant(setup.db, merchantId);
    expectLimited(await gql({ query: PAY, variables: { orderId: orders[4], token: 'tok_visa' } }, key), 'money');
    expect(await rowsOfMerchant(setup.db, merchantId)).toEqual(before);
  });
});

describe('card testing', () => {
  it('after 3 declines an order takes no more payment attempts, on the API and on the hosted page; other orders can pay', async () => {
    const { key, merchantId } = await setup.signup();
    const orderId = await newOrder(key);
    for (const token of ['tok_chargeDeclined', 'tok_chargeDeclinedInsufficientFunds', 'tok_chargeDeclinedExpiredCard']) {
      const answer = await gql({ query: PAY, variables: { orderId, token } }, key);
      expect((answer.json!.data!.payOrder as { paymentIntent: { status: string } }).paymentIntent.status).toBe('FAILED');
    }
    const before = await rowsOfMerchant(setup.db, merchantId);
    expectLimited(await gql({ query: PAY, variables: { orderId, token: 'tok_visa' } }, key), 'payDeclines');
    expect(await rowsOfMerchant(setup.db, merchantId)).toEqual(before);

    const session = await post(`${setup.url}/graphql`, { query: `mutation { createCheckoutSession(input: { orderId: "${orderId}" }) { checkoutSession { id } } }` }, key);
    const sessionId = (session.json!.data!.createCheckoutSession as { checkoutSession: { id: string } }).checkoutSession.id;
    const withSession = await rowsOfMerchant(setup.db, merchantId);
    const page = await fetch(`${limited.url}/checkout/${sessionId}/pay`, { method: 'POST', body: new URLSearchParams({ token: 'tok_chargeDeclined', nonce: 'aa11' }) });
    expect(page.status).toBe(429);
    expect(Number(page.headers.get('retry-after'))).toBeGreaterThan(60);
    expect(await page.text()).toContain('Too many declined attempts');
    expect(await rowsOfMerchant(setup.db, merchantId)).toEqual(withSession);

    // Another order pays (with a second key of the merchant: the first one used up its money limit).
    const created = await post(`${setup.url}/graphql`, { query: 'mutation { createApiKey(input: { livemode: false }) { secret } }' }, key);
    const second = (created.json!.data!.createApiKey as { secret: string }).secret;
    const other = await newOrder(key);
    const paid = await gql({ query: PAY, variables: { orderId: other, token: 'tok_visa' } }, second);
    expect((paid.json!.data!.payOrder as { paymentIntent: { status: string } }).paymentIntent.status).toBe('SUCCEEDED');
  });
});

describe('rate limits per IP address', () => {
  it('MCP counts against the same per-key limits', async () => {
    const { key } = await setup.signup();
    const call = () =>
      post(`${limited.url}/mcp`, { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'find_orders', arguments: {} } }, key, { accept: 'application/json, text/event-stream' });
    for (let i = 0; i < 20; i++) expect((await call()).text).not.toContain('RATE_LIMITED');
    const refused = await call();
    expect(refused.text).toContain('RATE_LIMITED');
    expect(refused.text).toContain('Rate limit \\"reads\\"');
  });

  it('sign-ups: the 6th createMerchant from one address is refused, and no merchant is made', async () => {
    const signup = (i: number) => gql({ query: `mutation { createMerchant(input: { name: "Rate ${i}", email: "rate${i}@example.com" }) { merchant { id } testApiKey } }` });
    for (let i = 0; i < 5; i++) expect((await signup(i)).json?.errors).toBeUndefined();
    const count = await setup.db.merchant.count();
    expectLimited(await signup(6), 'signups');
    expect(await setup.db.merchant.count()).toBe(count);
  });

  it('requests without a key: refused past the anonymous limit', async () => {
    let last: RawAnswer | null = null;
    for (let i = 0; i < 40 && last?.status !== 429; i++) last = await gql({ query: '{ __typename }' });
    expectLimited(last!, 'anonymous');
  });

  it('wrong keys: after 3 free failures the address waits 2, then 4 seconds, even with a good key', async () => {
    const { key } = await setup.signup();
    const wrong = () => gql({ query: '{ viewer { id } }' }, 'sk_test_wrongwrongwrongwrongwrong');
    for (let i = 0; i < 4; i++) expect((await wrong()).status).toBe(401);
    const blocked = await wrong();
    expectLimited(blocked, 'authFailures');
    expect(Number(blocked.headers.get('retry-after'))).toBe(2);
    expectLimited(await gql({ query: '{ viewer { id } }' }, key), 'authFailures');
    await new Promise((resolve) => setTimeout(resolve, 2_100));
    expect((await wrong()).status).toBe(401);
    const longer = await wrong();
    expectLimited(longer, 'authFailures');
    expect(Number(longer.headers.get('retry-after'))).toBe(4);
  });
});
