// @flint/client against a real server: the landing page's snippet verbatim, userErrors as typed
// exceptions, automatic idempotency keys that make retries safe, and orders.watch.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { Flint, FlintGraphQLError, FlintNetworkError, FlintUserError } from '@flint/client';
import { useTestApi } from '../support/api.js';
import { startFlakyProxy, type FlakyProxy } from '../support/flaky-proxy.js';
import { until } from '../support/until.js';

const api = useTestApi();
const proxies: FlakyProxy[] = [];
afterEach(async () => {
  for (const proxy of proxies.splice(0)) await proxy.close();
});

async function merchantClient(options: { baseUrl?: string } = {}): Promise<{ flint: Flint; apiKey: string }> {
  const { key } = await api.signup();
  return { flint: new Flint({ apiKey: key, baseUrl: options.baseUrl ?? api.url, retryDelay: () => 10 }), apiKey: key };
}

const coffee = { name: 'Organic Coffee Beans', sku: 'COFFEE-1', quantity: 2, unitPriceMoney: { amount: 1999, currency: 'USD' } };

function inputOf(body: string): Record<string, unknown> {
  return (JSON.parse(body) as { variables: { input: Record<string, unknown> } }).variables.input;
}

describe('the landing page snippet', () => {
  it('runs verbatim through @flint/client', async () => {
    const { flint } = await merchantClient();

    // ---- the landing page's three calls, as printed there (lineItems filled in, ids from the previous results)
    const order = await flint.orders.create({ customerId: "cus_01HZ4X8", lineItems: [{ name: "Organic Coffee Beans", quantity: 1, unitPriceMoney: { amount: 1999, currency: "USD" } }] });
    const orderId = order.id;
    const result = await flint.orders.pay({ orderId, paymentSourceTokens: ["tok_visa"], buyerEmail: "sarah@example.com" });
    const paymentIntentId = result.paymentIntent!.id;
    const refund = await flint.refunds.create({ paymentIntentId, amountMoney: { amount: 1999, currency: "USD" },
      reason: "REFUND_REASON_REQUESTED_BY_CUSTOMER", idempotencyKey: "ref_sarah_coffee_20250115" });
    // ----

    expect(order).toMatchObject({ status: 'OPEN', customerId: 'cus_01HZ4X8', netAmounts: { totalMoney: { amount: 1999, currency: 'USD' } } });
    expect(result.order.status).toBe('PAID');
    expect(result.paymentIntent).toMatchObject({ status: 'SUCCEEDED', amountMoney: { amount: 1999, currency: 'USD' }, receiptEmail: 'sarah@example.com' });
    expect(refund).toMatchObject({ status: 'SUCCEEDED', reason: 'REFUND_REASON_REQUESTED_BY_CUSTOMER', amountMoney: { amount: 1999, currency: 'USD' } });
    expect(refund.order).toMatchObject({ id: orderId, status: 'REFUNDED', netAmounts: { refundedMoney: { amount: 1999 } } });
    // The same call again is the same refund (its idempotency key), not a second one.
    const again = await flint.refunds.create({ paymentIntentId, amountMoney: { amount: 1999, currency: "USD" },
      reason: "REFUND_REASON_REQUESTED_BY_CUSTOMER", idempotencyKey: "ref_sarah_coffee_20250115" });
    expect(again.id).toBe(refund.id);
  });

  it('is the code the landing page shows', async () => {
    const page = await (await fetch(`${api.url}/`)).text();
    const snippet = /<pre id="sdk"><code>([\s\S]*?)<\/code><\/pre>/.exec(page)?.[1];
    expect(snippet).toBeTruthy();
    const decode = (s: string) => s.replace(/&quot;/g, '"').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
    const source = readFileSync(fileURLToPath(import.meta.url), 'utf8');
    const calls = decode(snippet!).split('\n').filter((line) => /flint\.|reason:/.test(line));
    expect(calls).toHaveLength(4);
    // Each line appears literally above; `lineItems: [...]` is filled in there with real items.
    for (const line of calls) expect(source).toContain(line.trim().split('[...]')[0]);
    expect(calls[0]).toContain('lineItems: [...] });');
  });
});

describe('userErrors', () => {
  it('throw FlintUserError with code, message and field, and nothing is written', async () => {
    const { flint } = await merchantClient();
    const error = await flint.orders.create({ buyerEmail: 'bad-qty@example.com', lineItems: [{ ...coffee, quantity: 0 }] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FlintUserError);
    const userError = error as FlintUserError;
    expect(userError.code).toBe('INVALID_INPUT');
    expect(userError.field).toEqual(['input', 'lineItems', '0', 'quantity']);
    expect(userError.message).toMatch(/quantity/i);
    expect((await flint.orders.list({ filter: { buyerEmail: 'bad-qty@example.com' } })).nodes).toHaveLength(0);
  });

  it('carry the payload: a declined payment throws PAYMENT_DECLINED with the FAILED attempt', async () => {
    const { flint } = await merchantClient();
    const order = await flint.orders.create({ lineItems: [coffee] });
    const error = (await flint.orders.pay({ orderId: order.id, paymentSourceTokens: ['tok_chargeDeclined'] }).catch((e: unknown) => e)) as FlintUserError;
    expect(error).toBeInstanceOf(FlintUserError);
    expect(error.code).toBe('PAYMENT_DECLINED');
    expect(error.payload.paymentIntent).toMatchObject({ status: 'FAILED', failureCode: 'card_declined' });
  });

  it('refunds beyond what is refundable throw REFUND_EXCEEDS_REFUNDABLE; preview says the same without writing', async () => {
    const { flint } = await merchantClient();
    const order = await flint.orders.create({ lineItems: [coffee] });
    const { paymentIntent } = await flint.orders.pay({ orderId: order.id, paymentSourceTokens: ['tok_visa'] });
    const input = { paymentIntentId: paymentIntent!.id, amountMoney: { amount: 99_999, currency: 'USD' } };
    const previewError = (await flint.refunds.preview(input).catch((e: unknown) => e)) as FlintUserError;
    expect(previewError).toBeInstanceOf(FlintUserError);
    expect(previewError.code).toBe('REFUND_EXCEEDS_REFUNDABLE');
    const createError = (await flint.refunds.create({ ...input, reason: 'requested_by_customer' }).catch((e: unknown) => e)) as FlintUserError;
    expect(createError.code).toBe('REFUND_EXCEEDS_REFUNDABLE');
    expect((await flint.orders.get(order.id))!.refunds).toHaveLength(0);
    const preview = await flint.refunds.preview({ paymentIntentId: paymentIntent!.id, amountMoney: { amount: 1000, currency: 'USD' } });
    expect(preview).toMatchObject({ amountMoney: { amount: 1000 }, resultingStatus: 'PARTIALLY_REFUNDED' });
  });

  it('a missing or wrong key throws FlintGraphQLError UNAUTHENTICATED (401)', async () => {
    const flint = new Flint({ apiKey: 'sk_test_not_a_key', baseUrl: api.url });
    const error = (await flint.orders.list().catch((e: unknown) => e)) as FlintGraphQLError;
    expect(error).toBeInstanceOf(FlintGraphQLError);
    expect(error.code).toBe('UNAUTHENTICATED');
    expect(error.status).toBe(401);
  });
});

describe('automatic idempotency', () => {
  it('a lost answer is retried with the same generated key: one order, one charge', async () => {
    const { key } = await api.signup();
    // Request 0 (createOrder) and request 2 (payOrder) reach the server, but their answers never arrive.
    const proxy = await startFlakyProxy(api.url, (n) => (n === 0 || n === 2 ? { kind: 'drop-response' } : { kind: 'forward' }));
    proxies.push(proxy);
    const flint = new Flint({ apiKey: key, baseUrl: proxy.url, retryDelay: () => 10 });

    const order = await flint.orders.create({ buyerEmail: 'retry@example.com', lineItems: [coffee] });
    const paid = await flint.orders.pay({ orderId: order.id, paymentSourceTokens: ['tok_visa'] });

    expect(proxy.bodies).toHaveLength(4);
    const [create1, create2, pay1, pay2] = proxy.bodies.map(inputOf);
    expect(create1!.idempotencyKey).toEqual(expect.any(String));
    expect(create2!.idempotencyKey).toBe(create1!.idempotencyKey);
    expect(pay2!.idempotencyKey).toBe(pay1!.idempotencyKey);
    expect(pay1!.idempotencyKey).not.toBe(create1!.idempotencyKey);

    const direct = new Flint({ apiKey: key, baseUrl: api.url });
    expect((await direct.orders.list({ filter: { buyerEmail: 'retry@example.com' } })).nodes).toHaveLength(1);
    const stored = await direct.orders.get(order.id);
    expect(stored!.paymentIntents).toHaveLength(1);
    expect(stored!.netAmounts.paidMoney.amount).toBe(order.netAmounts.totalMoney.amount);
    expect(paid.paymentIntent!.id).toBe(stored!.paymentIntents[0]!.id);
  });

  it('429 with Retry-After is waited out; 503 is retried; both with the same key', async () => {
    const { key } = await api.signup();
    const proxy = await startFlakyProxy(api.url, (n) =>
      n === 0 ? { kind: 'answer', status: 429, headers: { 'retry-after': '1' } } : n === 1 ? { kind: 'answer', status: 503 } : { kind: 'forward' },
    );
    proxies.push(proxy);
    const flint = new Flint({ apiKey: key, baseUrl: proxy.url, retryDelay: () => 10 });
    const started = Date.now();
    const order = await flint.orders.create({ buyerEmail: 'busy@example.com', lineItems: [coffee] });
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
    expect(order.status).toBe('OPEN');
    const keys = proxy.bodies.map((b) => inputOf(b).idempotencyKey);
    expect(keys).toHaveLength(3);
    expect(new Set(keys).size).toBe(1);
  });

  it('a caller-given key is sent as is; a mutation without a key (sign-up) is not retried after a lost answer', async () => {
    const { key } = await api.signup();
    const proxy = await startFlakyProxy(api.url, (n) => (n === 1 ? { kind: 'drop-response' } : { kind: 'forward' }));
    proxies.push(proxy);
    const flint = new Flint({ apiKey: key, baseUrl: proxy.url, retryDelay: () => 10 });
    await flint.orders.create({ lineItems: [coffee], idempotencyKey: 'my-key-1' });
    expect(inputOf(proxy.bodies[0]!).idempotencyKey).toBe('my-key-1');

    const signup = new Flint({ baseUrl: proxy.url, retryDelay: () => 10 });
    const error = await signup.merchants.create({ name: 'Lost Answer Ltd', email: 'lost@example.com' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FlintNetworkError);
    expect(proxy.bodies).toHaveLength(2); // not sent again: it could have created a second merchant
  });

  it('gives up after maxRetries with FlintNetworkError', async () => {
    const { key } = await api.signup();
    const proxy = await startFlakyProxy(api.url, () => ({ kind: 'answer', status: 502 }));
    proxies.push(proxy);
    const flint = new Flint({ apiKey: key, baseUrl: proxy.url, maxRetries: 2, retryDelay: () => 10 });
    const error = (await flint.orders.create({ lineItems: [coffee] }).catch((e: unknown) => e)) as FlintNetworkError;
    expect(error).toBeInstanceOf(FlintNetworkError);
    expect(error.status).toBe(502);
    expect(proxy.bodies).toHaveLength(3);
  });
});

describe('orders.watch', () => {
  it('yields the status transitions of one order until the caller stops', async () => {
    const { flint } = await merchantClient();
    const order = await flint.orders.create({ lineItems: [coffee] });
    const other = await flint.orders.create({ lineItems: [coffee] });
    const before = api.hub.size;
    const events = flint.orders.watch(order.id);
    const first = events.next(); // opens the subscription
    await until('the subscription is live', () => api.hub.size > before);

    await flint.orders.pay({ orderId: other.id, paymentSourceTokens: ['tok_visa'] }); // another order: not seen
    const { paymentIntent } = await flint.orders.pay({ orderId: order.id, paymentSourceTokens: ['tok_visa'] });
    const paid = await first;
    expect(paid.done).toBe(false);
    expect(paid.value).toMatchObject({ previousStatus: 'OPEN', status: 'PAID', order: { id: order.id }, activity: { type: 'order.status_changed' } });

    await flint.refunds.create({ paymentIntentId: paymentIntent!.id, reason: 'REFUND_REASON_OTHER', lineItems: [{ lineItemId: order.lineItems[0]!.id, quantity: 1 }] });
    const refunded = await events.next();
    expect(refunded.value).toMatchObject({ previousStatus: 'PAID', status: 'PARTIALLY_REFUNDED', order: { id: order.id } });

    await events.return();
    await until('the subscription has ended on the server', () => api.hub.size === before);
  });

  it('another merchant\'s order is refused', async () => {
    const { flint } = await merchantClient();
    const order = await flint.orders.create({ lineItems: [coffee] });
    const { flint: stranger } = await merchantClient();
    const error = await stranger.orders.watch(order.id).next().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FlintGraphQLError);
    expect((error as FlintGraphQLError).message).toMatch(/There is no order/);
  });
});
