// Operations: one JSON log line per request (request id, operation, merchant, duration, status, error
// codes) with no secret in the whole output over a full create → pay → refund flow; background work
// with a job id; /metrics in the Prometheus format; graceful shutdown.
import { connect, type Socket } from 'node:net';
import { Writable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { createPrisma } from '../../src/db/prisma.js';
import { systemClock } from '../../src/kernel/context.js';
import { createLogger, inJob, inRequest, routeConsole } from '../../src/ops/logger.js';
import { startServer } from '../../src/server.js';
import { useTestApi } from '../support/api.js';
import { testDatabaseUrl } from '../support/db.js';
import { post } from './support.js';

const lines: string[] = [];
const sink = new Writable({
  write(chunk: Buffer, _encoding, done) {
    lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
    done();
  },
});
const logger = createLogger('info', sink as never);
const WEBHOOK_SECRET = 'whsec_operations_test_secret_value';
const api = useTestApi({ server: { logger }, deps: { stripeWebhookSecret: WEBHOOK_SECRET } });
const parsed = () => lines.map((l) => JSON.parse(l) as Record<string, unknown>);

describe('request logs', () => {
  it('log every request of a full flow as one JSON line, and never a secret', async () => {
    const { key, merchantId } = await api.signup();
    const gql = (query: string, variables: Record<string, unknown> = {}, k: string | null = key) => post(`${api.url}/graphql`, { query, variables }, k, { 'x-request-id': 'client-chosen-id-1' });
    const created = await gql('mutation CreateTea($input: CreateOrderInput!) { createOrder(input: $input) { order { id lineItems { id } } } }', {
      input: { buyerEmail: 'sarah@example.com', lineItems: [{ name: 'Tea', quantity: 2, unitPriceMoney: { amount: 1500, currency: 'USD' } }] },
    });
    expect(created.headers.get('x-request-id')).toBe('client-chosen-id-1');
    const order = (created.json!.data!.createOrder as { order: { id: string } }).order;
    const paid = await gql('mutation PayTea($orderId: ID!) { payOrder(input: { orderId: $orderId, paymentSourceTokens: ["tok_visa"] }) { paymentIntent { id } } }', { orderId: order.id });
    const intent = (paid.json!.data!.payOrder as { paymentIntent: { id: string } }).paymentIntent;
    await gql('mutation RefundTea($pi: ID!) { createRefund(input: { paymentIntentId: $pi, amountMoney: { amount: 500, currency: "USD" }, reason: REFUND_REASON_REQUESTED_BY_CUSTOMER }) { refund { id } userErrors { code } } }', { pi: intent.id });
    await gql('mutation Overpay($orderId: ID!) { payOrder(input: { orderId: $orderId, paymentSourceTokens: ["tok_visa"] }) { userErrors { code } } }', { orderId: order.id });
    const newKey = await gql('mutation { createApiKey(input: { livemode: false }) { secret } }');
    const secret = (newKey.json!.data!.createApiKey as { secret: string }).secret;
    await gql('{ viewer { id } }', {}, `${key}x`);
    await post(`${api.url}/webhooks/stripe`, '{"id":"evt_1"}', null, { 'stripe-signature': `t=1,v1=${'0'.repeat(64)}` });
    await post(`${api.url}/mcp`, { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'get_order', arguments: { orderId: order.id } } }, key, { accept: 'application/json, text/event-stream' });
    await new Promise((resolve) => setTimeout(resolve, 100));

    const output = lines.join('\n');
    for (const forbidden of [key, secret, key.slice(8), WEBHOOK_SECRET, 'sk_test_', 'sk_live_', 'whsec_']) expect(output).not.toContain(forbidden);

    const requests = parsed().filter((l) => l.msg === 'request');
    const byOperation = (name: string) => requests.find((l) => l.operationName === name);
    for (const name of ['CreateTea', 'PayTea', 'RefundTea']) {
      expect(byOperation(name)).toMatchObject({ level: 'info', reqId: 'client-chosen-id-1', method: 'POST', path: '/graphql', status: 200, operationType: 'mutation', merchantId, service: 'flint' });
      expect(typeof byOperation(name)!.durationMs).toBe('number');
    }
    expect(byOperation('Overpay')!.errorCodes).toEqual(expect.arrayContaining([expect.stringMatching(/^[A-Z_]+$/)]));
    expect(requests.find((l) => l.status === 401)).toMatchObject({ errorCodes: ['UNAUTHENTICATED'] });
    expect(requests.find((l) => l.path === '/webhooks/stripe')).toMatchObject({ status: 400 });
    expect(requests.find((l) => l.path === '/mcp')).toMatchObject({ status: 200, merchantId });
    // Requests without a client id get their own.
    expect(new Set(requests.map((l) => l.reqId)).size).toBeGreaterThan(1);
  });

  it('console output and background jobs are JSON lines with their request or job id, secrets scrubbed', () => {
    const restore = routeConsole(logger);
    try {
      inRequest('req-console-1', () => console.error('processor said', new Error('bad key sk_live_abcdefghijklmnop1234')));
      inJob('outbox', () => console.log('delivered %d receipts', 3));
    } finally {
      restore();
    }
    const [failure, job] = parsed().slice(-2);
    expect(failure).toMatchObject({ level: 'error', reqId: 'req-console-1', msg: 'processor said' });
    expect(JSON.stringify(failure)).not.toContain('sk_live_');
    expect(job).toMatchObject({ level: 'info', job: 'outbox', msg: 'delivered 3 receipts' });
    expect(job!.jobId).toMatch(/^[0-9a-f]{16}$/);
  });
});

describe('/metrics', () => {
  it('serves GraphQL latency and errors, HTTP requests, pool, outbox and subscription gauges', async () => {
    await post(`${api.url}/graphql`, { query: '{ viewer { id } }' });
    const response = await fetch(`${api.url}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/plain');
    const text = await response.text();
    for (const metric of ['graphql_envelop_phase_execute', 'graphql_envelop_request_duration', 'graphql_envelop_error_result', 'flint_http_requests_total{route="/graphql",status="200"}', 'flint_db_pool_connections', 'flint_db_pool_waiting', 'flint_outbox_pending', 'flint_subscriptions_live', 'flint_http_in_flight']) {
      expect(text).toContain(metric);
    }
    expect(text).not.toContain('operationName');
  });
});

describe('graceful shutdown', () => {
  const db = createPrisma(testDatabaseUrl());
  afterAll(() => db.$disconnect());

  function slowRequest(port: number, path: string, body: string): { socket: Socket; rest: () => void; answer: Promise<string> } {
    const socket = connect(port, '127.0.0.1');
    socket.write(`POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body.slice(0, 5)}`);
    let received = '';
    const answer = new Promise<string>((resolve) => {
      socket.on('data', (d) => (received += d.toString()));
      socket.on('close', () => resolve(received));
      socket.on('error', () => resolve(received));
    });
    return { socket, rest: () => socket.write(body.slice(5)), answer };
  }

  it('stops accepting, answers /ready with 503, lets in-flight requests finish, then closes', async () => {
    const app = await startServer({ db, clock: systemClock }, { development: false, port: 0 }, '127.0.0.1', { rateLimitPrefix: `shutdown-${Date.now()}` });
    const port = Number(new URL(app.url).port);
    const inFlight = slowRequest(port, '/graphql', JSON.stringify({ query: '{ __typename }' }));
    const readyProbe = slowRequest(port, '/ready', '{"probe":true}');
    await new Promise((resolve) => setTimeout(resolve, 100));
    let closed = false;
    const closing = app.close().then(() => (closed = true));
    await new Promise((resolve) => setTimeout(resolve, 100));
    await expect(fetch(`${app.url}/health`)).rejects.toThrow();
    expect(closed).toBe(false);
    inFlight.rest();
    readyProbe.rest();
    const [answer, ready] = await Promise.all([inFlight.answer, readyProbe.answer]);
    expect(answer).toMatch(/^HTTP\/1.1 200/);
    expect(answer).toContain('"__typename":"Query"');
    expect(ready).toMatch(/^HTTP\/1.1 503/);
    await closing;
    expect(closed).toBe(true);
  });

  it('cuts requests still running after the grace period', async () => {
    const app = await startServer({ db, clock: systemClock }, { development: false, port: 0 }, '127.0.0.1', { rateLimitPrefix: `shutdown2-${Date.now()}`, shutdownTimeoutMs: 300 });
    const port = Number(new URL(app.url).port);
    const stuck = slowRequest(port, '/graphql', JSON.stringify({ query: '{ __typename }' }));
    await new Promise((resolve) => setTimeout(resolve, 100));
    const started = Date.now();
    await app.close();
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    expect(await stuck.answer).toBe('');
  });
});
