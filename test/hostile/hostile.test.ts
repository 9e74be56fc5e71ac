// The server on the open internet, tried as an attacker would from outside, class by class: resource
// exhaustion (aliases, depth, tokens, fragments, directives, cost, bodies), malformed encodings and
// parameters, malformed signed webhooks, unsafe redirect URLs, framing and CORS, overflowing amounts,
// and every transport (HTTP, SSE, WebSocket, MCP). Every answer must be a clear 4xx or GraphQL error
// (never a 5xx, never a masked error for bad input), nothing may be written, and the server stays up.
// Latency and memory of the same attacks are measured by bench/hostile.ts (BENCHMARKS.md).
import { createHmac } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createClient } from 'graphql-ws';
import { useTestApi } from '../support/api.js';
import { wsUrlOf } from '../support/realtime.js';
import { codes, get, post, rowsOfMerchant, type RawAnswer } from './support.js';
import { sqlPool } from '../../src/db/prisma.js';

const SECRET = 'whsec_hostile_suite_secret';
const api = useTestApi({ deps: { stripeWebhookSecret: SECRET } });
const answers: { name: string; answer: RawAnswer }[] = [];
let cases = 0;

/** Records an answer of a hostile request: the suite-wide checks below run over all of them. */
function seen(name: string, answer: RawAnswer): RawAnswer {
  cases += 1;
  answers.push({ name, answer });
  return answer;
}

const gql = (body: unknown, key?: string | null, headers?: Record<string, string>) => post(`${api.url}/graphql`, body, key, headers);

function refusedWith(answer: RawAnswer, pattern: RegExp): void {
  expect(answer.status, answer.text.slice(0, 300)).toBeLessThan(500);
  expect(answer.json?.errors?.[0]?.message ?? answer.text, answer.text.slice(0, 300)).toMatch(pattern);
  expect(answer.json?.data ?? null).toBeNull();
}

afterAll(() => {
  // eslint-disable-next-line no-console
  console.log(`hostile suite: ${cases} hostile requests, slowest ${Math.round(Math.max(...answers.map((a) => a.answer.ms)))} ms`);
});

describe('resource limits on GraphQL documents', () => {
  it('refuses too many aliases, with or without a key', async () => {
    const { key } = await api.signup();
    for (const n of [31, 100, 1_000, 5_000]) {
      const query = `{ ${Array.from({ length: n }, (_, i) => `a${i}: order(id: "ord_${i}") { id }`).join(' ')} }`;
      for (const k of [key, null]) refusedWith(seen(`aliases ${n}`, await gql({ query }, k)), /alias|token/i);
    }
  });

  it('refuses documents nested too deeply, through lists and objects', async () => {
    const { key } = await api.signup();
    for (const depth of [7, 10, 25, 100, 500]) {
      let inner = 'id';
      for (let i = 0; i < depth; i++) inner = `paymentIntents { order { ${inner} } }`;
      refusedWith(seen(`nesting ${depth}`, await gql({ query: `{ order(id: "ord_1") { ${inner} } }` }, key)), /depth|token/i);
    }
  });

  it('refuses braces nested 10,000 deep and 5,000 chained fragments without a key, before parsing them fully', async () => {
    for (const depth of [1_000, 10_000, 50_000]) {
      refusedWith(seen(`braces ${depth}`, await gql({ query: `${'{ viewer '.repeat(depth)}${'}'.repeat(depth)}` })), /token|depth/i);
      refusedWith(seen(`lists ${depth}`, await gql({ query: `{ order(id: ${'['.repeat(depth)}${']'.repeat(depth)}) { id } }` })), /token|depth|cannot represent/i);
    }
    for (const n of [1_000, 5_000]) {
      const fragments = Array.from({ length: n }, (_, i) => `fragment F${i} on Query { ...F${i + 1} }`).join(' ');
      refusedWith(seen(`fragments ${n}`, await gql({ query: `{ ...F0 } ${fragments} fragment F${n} on Query { viewer { id } }` })), /token/i);
    }
  });

  it('refuses floods of fields, directives and tokens', async () => {
    const { key } = await api.signup();
    refusedWith(seen('fields', await gql({ query: `{ viewer { ${'id '.repeat(5_000)} } }` }, key)), /token/i);
    refusedWith(seen('directives', await gql({ query: `{ viewer ${'@include(if: true) '.repeat(100)} { id } }` }, key)), /directive/i);
    // A 900 KB id is just an id that does not exist.
    expect(seen('long string', await gql({ query: `{ order(id: "${'x'.repeat(900_000)}") { id } }` }, key)).json?.data).toEqual({ order: null });
    refusedWith(seen('variables flood', await gql({ query: `query (${Array.from({ length: 2_000 }, (_, i) => `$v${i}: ID`).join(' ')}) { viewer { id } }` }, key)), /token/i);
  });

  it('refuses costly operations (page sizes multiply nested lists) with QUERY_TOO_COMPLEX', async () => {
    const { key } = await api.signup();
    const nested = 'lineItems { id name } paymentIntents { id refunds { id lineItems { quantity lineItem { id } } } } activity { id type }';
    for (const first of [100, 60]) {
      const answer = seen(`cost ${first}`, await gql({ query: `{ orders(first: ${first}) { edges { node { id ${nested} } } } }` }, key));
      refusedWith(answer, /too costly/);
      expect(codes(answer)).toEqual(['QUERY_TOO_COMPLEX']);
    }
    // The same document costs what its variables ask for, each time.
    const paged = `query ($first: Int) { orders(first: $first) { edges { node { id ${nested} } } } }`;
    for (const [first, refused] of [[5, false], [100, true], [5, false], [60, true]] as const) {
      const answer = seen(`cost $first ${first}`, await gql({ query: paged, variables: { first } }, key));
      expect(codes(answer).includes('QUERY_TOO_COMPLEX'), `first ${first}`).toBe(refused);
    }
    // A real dashboard page is well within the limit.
    const page = await gql({ query: `{ orders(first: 20) { edges { node { id lineItems { id name } paymentIntents { id status } } } } }` }, key);
    expect(page.json?.errors).toBeUndefined();
  });

  it('introspection is open without a key (the schema is public, as SKILL.md says) but bounded like any document', async () => {
    const open = await gql({ query: '{ __schema { queryType { name } mutationType { name } } }' });
    expect(open.json?.data).toEqual({ __schema: { queryType: { name: 'Query' }, mutationType: { name: 'Mutation' } } });
    const skill = await (await fetch(`${api.url}/SKILL.md`)).text();
    expect(skill).toContain('Introspection is open to every caller');
    const deep = `{ __type(name: "Order") { ${'fields { type { ofType { '.repeat(60)} name ${'} } } '.repeat(60)} } }`;
    refusedWith(seen('deep introspection', await gql({ query: deep })), /depth/i);
    refusedWith(seen('aliased introspection', await gql({ query: `{ ${Array.from({ length: 200 }, (_, i) => `s${i}: __schema { types { name } }`).join(' ')} }` })), /alias/i);
  });

  it('gives no field suggestions to guess the schema with', async () => {
    const { key } = await api.signup();
    for (const query of ['{ ordr(id: "x") { id } }', '{ viewer { nme } }', '{ orders { edgs { node { id } } } }']) {
      const answer = seen(`suggestion ${query}`, await gql({ query }, key));
      expect(answer.status).toBeLessThan(500);
      expect(answer.text).not.toMatch(/did you mean/i);
    }
  });
});

describe('bodies, encodings and parameters', () => {
  it('refuses bodies over 1 MB on every route while reading them, before the key is looked at', async () => {
    const big = Buffer.alloc(20 * 1024 * 1024, 'a');
    const routes = ['/graphql', '/mcp', '/webhooks/stripe', '/checkout/cs_00000000000000000000000000/pay'];
    const all = await Promise.all(
      Array.from({ length: 12 }, (_, i) => fetch(`${api.url}${routes[i % routes.length]}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: big }).then(async (r) => ({ status: r.status, text: await r.text(), ms: 0, headers: r.headers, json: null }))),
    );
    for (const a of all) {
      seen('20 MB body', a);
      expect(a.status).toBe(413);
    }
    const justOver = seen('1 MB + 1', await post(`${api.url}/graphql`, `{"query":"{ viewer { id } }","x":"${'a'.repeat(1024 * 1024)}"}`));
    expect(justOver.status).toBe(413);
  });

  it('refuses invalid UTF-8 with 400 and writes nothing', async () => {
    const { key, merchantId } = await api.signup();
    const before = await rowsOfMerchant(api.db, merchantId);
    for (const bytes of [[0xc0, 0xaf], [0x80], [0xe2, 0x82], [0xed, 0xa0, 0x80], [0xff], [0xf8, 0x88, 0x80, 0x80, 0x80]]) {
      const body = Buffer.concat([
        Buffer.from('{"query":"mutation { createOrder(input: { lineItems: [{ name: \\"Tea'),
        Buffer.from(bytes),
        Buffer.from('\\", quantity: 1, unitPriceMoney: { amount: 100, currency: \\"USD\\" } }] }) { order { id } } }"}'),
      ]);
      const answer = seen(`utf-8 ${bytes.join(',')}`, await post(`${api.url}/graphql`, new Uint8Array(body), key));
      expect(answer.status).toBe(400);
      expect(answer.text).toMatch(/UTF-8/);
    }
    expect(await rowsOfMerchant(api.db, merchantId)).toEqual(before);
  });

  it('answers GET requests with malformed parameters with 400', async () => {
    const q = encodeURIComponent('{ __typename }');
    for (const params of ['variables=%7B', 'variables=%5B1%5D', 'variables=%22x%22', 'variables=1', 'extensions=%7B', 'extensions=%5B%5D', 'variables=%7B&extensions=%7B', `query=${q}`, 'variables=%7B%22a%22%3A', 'extensions=true']) {
      const answer = seen(`GET ${params}`, await get(`${api.url}/graphql?query=${q}&${params}`, { accept: 'application/json' }));
      expect(answer.status, params).toBe(400);
    }
  });
});

function signed(payload: string, timestamp = Math.floor(Date.now() / 1000)): string {
  const signature = createHmac('sha256', SECRET).update(`${timestamp}.${payload}`).digest('hex');
  return `t=${timestamp},v1=${signature}`;
}

describe('signed but malformed Stripe events', () => {
  const event = (over: Record<string, unknown>) => ({ id: `evt_h${Date.now()}${Math.random().toString(36).slice(2, 8)}`, object: 'event', type: 'payment_intent.succeeded', livemode: false, created: 1, data: { object: { id: 'pi_x', object: 'payment_intent', status: 'succeeded', metadata: {} } }, ...over });

  it('refuses each with 400 and records nothing', async () => {
    const countEvents = async () => (await sqlPool(api.db).query<{ n: number }>('SELECT count(*)::int AS n FROM "WebhookEvent"')).rows[0]!.n;
    const before = await countEvents();
    const bodies = [
      '{',
      '[]',
      '"event"',
      JSON.stringify(event({ id: undefined })),
      JSON.stringify(event({ id: 42 })),
      JSON.stringify(event({ id: 'evt_\u0000' })),
      JSON.stringify(event({ type: undefined })),
      JSON.stringify(event({ type: 7 })),
      JSON.stringify(event({ livemode: 'no' })),
      JSON.stringify(event({ data: undefined })),
      JSON.stringify(event({ data: { object: null } })),
      JSON.stringify(event({ data: { object: { object: 'payment_intent', status: 'succeeded' } } })),
      JSON.stringify(event({ data: { object: { id: 5, status: 'succeeded' } } })),
      JSON.stringify(event({ data: { object: { id: 'pi_x', status: 'succeeded', metadata: { flint_payment_intent_id: 12 } } } })),
      JSON.stringify(event({ data: { object: { id: 'pi_x', status: 'succeeded', metadata: { note: 'a\u0000b' } } } })),
      JSON.stringify(event({ type: 'charge.refunded', data: { object: { id: 'ch_1', refunds: { data: [{ id: 9 }] } } } })),
      JSON.stringify(event({ type: 'refund.updated', data: { object: { id: 're_1', status: 3 } } })),
      JSON.stringify(event({})).replace('"metadata":{}', `"metadata":{"deep":${'{"d":'.repeat(5_000)}1${'}'.repeat(5_000)}}`),
    ];
    for (const body of bodies) {
      const answer = seen(`webhook ${body.slice(0, 40)}`, await post(`${api.url}/webhooks/stripe`, body, null, { 'stripe-signature': signed(body) }));
      expect(answer.status, body.slice(0, 100)).toBe(400);
    }
    expect(await countEvents()).toBe(before);
  });

  it('refuses timestamps more than 300 s away, in the past or the future', async () => {
    const now = Math.floor(Date.now() / 1000);
    for (const skew of [301, 3_600, 86_400 * 365, -301, -3_600]) {
      const body = JSON.stringify(event({}));
      const answer = seen(`webhook skew ${skew}`, await post(`${api.url}/webhooks/stripe`, body, null, { 'stripe-signature': signed(body, now + skew) }));
      expect(answer.status, String(skew)).toBe(400);
    }
    const fine = JSON.stringify(event({}));
    expect((await post(`${api.url}/webhooks/stripe`, fine, null, { 'stripe-signature': signed(fine, now + 200) })).status).toBe(200);
  });
});

const CREATE_ORDER = 'mutation ($input: CreateOrderInput!) { createOrder(input: $input) { order { id } userErrors { code message field } } }';
const line = (amount: number, quantity = 1) => ({ name: 'Thing', quantity, unitPriceMoney: { amount, currency: 'USD' } });

describe('hosted checkout pages', () => {
  const SESSION = 'mutation ($input: CreateCheckoutSessionInput!) { createCheckoutSession(input: $input) { checkoutSession { id url } userErrors { code message field } } }';

  it('refuses redirect URLs a Location header cannot carry or that are not absolute http(s)', async () => {
    const { key, merchantId } = await api.signup();
    const order = (await gql({ query: CREATE_ORDER, variables: { input: { lineItems: [line(500)] } } }, key)).json!.data!.createOrder as { order: { id: string } };
    const before = await rowsOfMerchant(api.db, merchantId);
    const bad = ['https://shop.example.com/\r\nSet-Cookie: a=b', 'https://shop.example.com/\nx', 'https://shop.example.com/\tx', 'https://shop.example.com/a b', 'javascript:alert(1)', '//evil.example.com', '/thanks', 'data:text/html,hi', 'https://shop.example.com/\u0085x', 'ftp://shop.example.com/'];
    for (const url of bad) {
      for (const field of ['successUrl', 'cancelUrl']) {
        const answer = seen(`redirect ${field} ${JSON.stringify(url)}`, await gql({ query: SESSION, variables: { input: { orderId: order.order.id, [field]: url } } }, key));
        const payload = answer.json?.data?.createCheckoutSession as { userErrors: { code: string; field: string[] }[] } | undefined;
        expect(payload?.userErrors[0], url).toMatchObject({ code: 'INVALID_INPUT', field: ['input', field] });
      }
    }
    expect(await rowsOfMerchant(api.db, merchantId)).toEqual(before);
  });

  it('pays and redirects to a non-Latin-1 successUrl with a valid, encoded Location; the page cannot be framed', async () => {
    const { key } = await api.signup();
    const order = (await gql({ query: CREATE_ORDER, variables: { input: { lineItems: [line(500)] } } }, key)).json!.data!.createOrder as { order: { id: string } };
    const created = await gql({ query: SESSION, variables: { input: { orderId: order.order.id, successUrl: 'https://shop.example.com/danke-schön/✓?q=ü' } } }, key);
    const session = (created.json!.data!.createCheckoutSession as { checkoutSession: { id: string; url: string } }).checkoutSession;
    const page = await fetch(session.url);
    expect(page.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(page.headers.get('x-content-type-options')).toBe('nosniff');
    expect(page.headers.get('referrer-policy')).toBe('no-referrer');
    const paid = await fetch(`${session.url}/pay`, { method: 'POST', body: new URLSearchParams({ token: 'tok_visa', nonce: 'abc123' }), redirect: 'manual' });
    seen('non-latin-1 redirect', { status: paid.status, headers: paid.headers, text: '', json: null, ms: 0 });
    expect(paid.status).toBe(303);
    expect(paid.headers.get('location')).toBe('https://shop.example.com/danke-sch%C3%B6n/%E2%9C%93?q=%C3%BC');
  });
});

describe('CORS', () => {
  it('never lets an arbitrary page use a key: no Access-Control-Allow-Origin, no credentials', async () => {
    for (const origin of ['https://evil.example.com', 'null', 'http://localhost:3000']) {
      const preflight = await fetch(`${api.url}/graphql`, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type' } });
      seen(`cors preflight ${origin}`, { status: preflight.status, headers: preflight.headers, text: await preflight.text(), json: null, ms: 0 });
      expect(preflight.headers.get('access-control-allow-origin')).toBeNull();
      expect(preflight.headers.get('access-control-allow-credentials')).toBeNull();
      const answer = seen(`cors post ${origin}`, await gql({ query: '{ __typename }' }, null, { origin }));
      expect(answer.headers.get('access-control-allow-origin')).toBeNull();
    }
  });
});

describe('amounts, metadata, dates and ids', () => {
  it('refuses amounts that overflow SafeInt once tax is added, on every write path, and writes nothing', async () => {
    const { key, merchantId } = await api.signup({ originAddress: { country: 'US', region: 'CA' } });
    await gql({ query: 'mutation { addTaxRegistration(input: { jurisdiction: "US-CA" }) { userErrors { code } } setTaxRate(input: { jurisdiction: "US-CA", name: "CA", rate: "0.0725" }) { userErrors { code } } }' }, key);
    const small = (await gql({ query: CREATE_ORDER, variables: { input: { lineItems: [line(1000)] } } }, key)).json!.data!.createOrder as { order: { id: string } };
    const before = await rowsOfMerchant(api.db, merchantId);
    const attempts: [string, string, unknown][] = [
      ['createOrder', CREATE_ORDER, { input: { lineItems: [line(90_000_000_000, 100_000)] } }],
      ['createOrder many lines', CREATE_ORDER, { input: { lineItems: Array.from({ length: 100 }, () => line(1_000_000_000_000, 100)) } }],
      ['addLineItems', 'mutation ($input: AddLineItemsInput!) { addLineItems(input: $input) { order { id } userErrors { code field } } }', { input: { orderId: small.order.id, lineItems: [line(90_000_000_000, 100_000)] } }],
    ];
    for (const [name, query, variables] of attempts) {
      const answer = seen(`overflow ${name}`, await gql({ query, variables }, key));
      expect(answer.text).not.toContain('Unexpected error');
      const payload = Object.values(answer.json?.data ?? {})[0] as { userErrors: { code: string }[] } | undefined;
      expect(payload?.userErrors[0]?.code ?? codes(answer)[0], answer.text.slice(0, 300)).toMatch(/INVALID_INPUT|BAD_USER_INPUT/);
    }
    expect(await rowsOfMerchant(api.db, merchantId)).toEqual(before);
  });

  it('refuses metadata nested 5,000 deep or too large, year 0 dates and empty ids, naming the field', async () => {
    const { key } = await api.signup();
    const deep = `${'{"d":'.repeat(5_000)}1${'}'.repeat(5_000)}`;
    const body = `{"query":${JSON.stringify(CREATE_ORDER)},"variables":{"input":{"metadata":${deep},"lineItems":[{"name":"Tea","quantity":1,"unitPriceMoney":{"amount":100,"currency":"USD"}}]}}}`;
    const answer = seen('metadata 5000 deep', await post(`${api.url}/graphql`, body, key));
    expect(codes(answer)).toEqual(['INVALID_INPUT']);
    expect(answer.json?.errors?.[0]?.extensions?.field).toEqual(['input', 'metadata']);
    for (const date of ['0000-01-01T00:00:00Z', '10000-01-01T00:00:00Z', '2026-02-30T25:00:00Z', 'yesterday']) {
      const a = seen(`date ${date}`, await gql({ query: 'query ($f: ActivityFilter) { activities(filter: $f) { edges { node { id } } } }', variables: { f: { occurredAfter: date } } }, key));
      expect(a.status).toBeLessThan(500);
      expect(a.json?.errors?.length, a.text).toBeGreaterThan(0);
      expect(a.text).not.toContain('Unexpected error');
    }
    const empty = seen('activities orderId ""', await gql({ query: '{ activities(filter: { orderId: "" }) { edges { node { id } } } }' }, key));
    expect(codes(empty)).toEqual(['INVALID_INPUT']);
  });
});

describe('authentication', () => {
  it('answers malformed and unknown keys with 401, never 5xx', async () => {
    const headers = ['Bearer', 'Bearer ', 'Basic abc', 'Bearer sk_test_', 'Bearer sk_test_\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9', `Bearer sk_test_${'a'.repeat(5_000)}`, 'Bearer sk_live_AAAAAAAAAAAAAAAAAAAAAAAA', 'bearer  sk_test_AAAAAAAAAAAAAAAAAAAAAAAA extra'];
    for (const authorization of headers) {
      const response = await fetch(`${api.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: Buffer.from(authorization, 'utf8').toString('latin1') }, body: JSON.stringify({ query: '{ viewer { id } }' }) });
      const answer = seen(`auth ${authorization.slice(0, 30)}`, { status: response.status, headers: response.headers, text: await response.text(), json: null, ms: 0 });
      expect(answer.status, authorization).toBe(401);
    }
  });
});

describe('other transports', () => {
  it('SSE: deep and aliased subscriptions are refused', async () => {
    const deep = `subscription { ${'orderStatusChanged { order { '.repeat(200)} id ${'} } '.repeat(200)} }`;
    const { key } = await api.signup();
    for (const query of [deep, `subscription { ${Array.from({ length: 200 }, (_, i) => `a${i}: orderStatusChanged { order { id } }`).join(' ')} }`]) {
      const a = seen('sse', await get(`${api.url}/graphql?query=${encodeURIComponent(query)}`, { accept: 'text/event-stream', authorization: `Bearer ${key}` }));
      expect(a.status).toBeLessThan(500);
      expect(a.text).toMatch(/token|depth|alias/i);
    }
  });

  it('WebSocket: the same limits; a message over 1 MB closes the socket (1009); the server stays up', async () => {
    const { key } = await api.signup();
    const client = createClient({ url: wsUrlOf(api.url), webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${key}` }, retryAttempts: 0, lazy: false });
    try {
      const run = (query: string) =>
        new Promise<string>((resolve) => {
          const out: string[] = [];
          client.subscribe({ query }, { next: (v) => out.push(JSON.stringify(v)), error: (e) => resolve(e instanceof Error ? e.message : JSON.stringify(e)), complete: () => resolve(out.join('\n')) });
        });
      for (const query of [`{ ${'viewer { '.repeat(10_000)}${'} '.repeat(10_000)} }`, `{ ${Array.from({ length: 500 }, (_, i) => `a${i}: viewer { id }`).join(' ')} }`, `query { viewer { id ${'@include(if: true) '.repeat(100)} } }`]) {
        const text = await run(query);
        cases += 1;
        expect(text).toMatch(/token|alias|directive|depth/i);
        expect(text).not.toContain('Unexpected error');
      }
    } finally {
      await client.dispose();
    }
    const raw = new WebSocket(wsUrlOf(api.url), 'graphql-transport-ws');
    const closed = new Promise<number>((resolve) => raw.on('close', (code) => resolve(code)));
    await new Promise((resolve) => raw.on('open', resolve));
    raw.send('x'.repeat(2 * 1024 * 1024));
    cases += 1;
    expect(await closed).toBe(1009);
  });

  it('MCP: bad text and oversized bodies are refused clearly; raw error text never reaches the agent', async () => {
    const { key } = await api.signup();
    const call = async (args: Record<string, unknown>) =>
      post(`${api.url}/mcp`, { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'get_order', arguments: args } }, key, { accept: 'application/json, text/event-stream' });
    for (const orderId of ['ord_\u0000', 'ord_\uD800', '']) {
      const answer = seen(`mcp ${JSON.stringify(orderId)}`, await call({ orderId }));
      expect(answer.status).toBeLessThan(500);
      expect(answer.text).toContain('INVALID_INPUT');
      expect(answer.text).not.toMatch(/prisma|postgres|stack|Unexpected error/i);
    }
  });
});

describe('after the attack', () => {
  it('never answered with a 5xx or a masked error, and still serves', async () => {
    const bad = answers.filter((a) => a.answer.status >= 500 || a.answer.text.includes('Unexpected error.'));
    expect(bad.map((a) => `${a.name}: ${a.answer.status} ${a.answer.text.slice(0, 120)}`)).toEqual([]);
    expect(cases).toBeGreaterThan(120);
    expect((await fetch(`${api.url}/health`)).status).toBe(200);
    const { key } = await api.signup();
    const order = await gql({ query: CREATE_ORDER, variables: { input: { lineItems: [line(1999, 2)] } } }, key);
    expect(order.json?.errors).toBeUndefined();
  });
});
