// Live subscriptions with real clients: graphql-ws over a WebSocket and SSE over HTTP, both on /graphql.
// Each transport receives an order's changes in commit order with the activity attached, is refused
// without a valid key or for another merchant's order, loses its subscriptions when its key is
// revoked, and hears nothing of a failed mutation. Then: ordering under concurrency, limits per
// connection and per key, and a clean close on shutdown.
import { randomUUID } from 'node:crypto';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { print, type ExecutionResult } from 'graphql';
import { describe, expect, it } from 'vitest';
import { graphql } from '../generated/index.js';
import { useTestApi } from '../support/api.js';
import { testDatabaseUrl } from '../support/db.js';
import { Collector, eventually, sseSubscribe, wsConnect, type WsConnection } from '../support/realtime.js';
import { createPrisma } from '../../src/db/prisma.js';
import { startServer, type AppServer } from '../../src/server.js';
import { systemClock } from '../../src/kernel/context.js';

const api = useTestApi();

const StatusChanged = graphql(`
  subscription SubsOrderStatusChanged($orderId: ID) {
    orderStatusChanged(orderId: $orderId) {
      previousStatus
      status
      activity { id type sequence hash previousHash orderId delta actor { type id name } }
      order { id status version netAmounts { totalMoney { amount currency } } }
    }
  }
`);

const ActivityRecorded = graphql(`
  subscription SubsActivityRecorded($orderId: ID) {
    activityRecorded(orderId: $orderId) { id type sequence orderId hash previousHash idempotencyKey actor { type name } }
  }
`);

const CreateOrder = graphql(`
  mutation SubsCreateOrder($input: CreateOrderInput!) {
    createOrder(input: $input) {
      order { id version lineItems { id } }
      userErrors { code message field }
    }
  }
`);

const UpdateLineItem = graphql(`
  mutation SubsUpdateLineItem($input: UpdateLineItemInput!) {
    updateLineItem(input: $input) {
      order { id version }
      userErrors { code message field }
    }
  }
`);

const AddLineItems = graphql(`
  mutation SubsAddLineItems($input: AddLineItemsInput!) {
    addLineItems(input: $input) {
      order { id version }
      userErrors { code message field }
    }
  }
`);

const CancelOrder = graphql(`
  mutation SubsCancelOrder($input: CancelOrderInput!) {
    cancelOrder(input: $input) {
      order { id status }
      userErrors { code message field }
    }
  }
`);

const CreateApiKey = graphql(`
  mutation SubsCreateApiKey($input: CreateApiKeyInput!) {
    createApiKey(input: $input) {
      apiKey { id }
      secret
      userErrors { code message field }
    }
  }
`);

const RevokeApiKey = graphql(`
  mutation SubsRevokeApiKey($input: RevokeApiKeyInput!) {
    revokeApiKey(input: $input) {
      userErrors { code message field }
    }
  }
`);

const line = (name = 'Tea', amount = 500) => ({ name, quantity: 1, unitPriceMoney: { amount, currency: 'USD' } });

async function createOrder(key: string) {
  const payload = (await api.exec(CreateOrder, { input: { lineItems: [line()] } }, key)).createOrder;
  expect(payload.userErrors).toEqual([]);
  return payload.order!;
}

type Order = Awaited<ReturnType<typeof createOrder>>;

// ---------------------------------------------------------------------------------------------
// The lifecycle the subscribers watch. Each step is one mutation, the activity types it records and
// the status transition it makes, if any. Payments and refunds extend it: a pay step (OPEN → PAID,
// "payment.captured" + "order.status_changed") and a partial refund (PAID → PARTIALLY_REFUNDED).

interface Step {
  name: string;
  run(key: string, order: Order): Promise<{ userErrors: unknown[] }>;
  activity: string[];
  transition?: [from: string, to: string];
}

const LIFECYCLE: Step[] = [
  {
    name: 'change a quantity',
    run: async (key, order) => (await api.exec(UpdateLineItem, { input: { orderId: order.id, lineItemId: order.lineItems[0]!.id, quantity: 3 } }, key)).updateLineItem,
    activity: ['order.line_item_updated'],
  },
  {
    name: 'add a line',
    run: async (key, order) => (await api.exec(AddLineItems, { input: { orderId: order.id, lineItems: [line('Cups', 1200)] } }, key)).addLineItems,
    activity: ['order.line_items_added'],
  },
  {
    name: 'cancel',
    run: async (key, order) => (await api.exec(CancelOrder, { input: { orderId: order.id, reason: 'customer changed their mind' } }, key)).cancelOrder,
    activity: ['order.canceled', 'order.status_changed'],
    transition: ['OPEN', 'CANCELED'],
  },
];

const PayOrder = graphql(`
  mutation SubsPayOrder($input: PayOrderInput!) {
    payOrder(input: $input) { paymentIntent { id status } userErrors { code message } }
  }
`);

const CreateRefund = graphql(`
  mutation SubsCreateRefund($input: CreateRefundInput!) {
    createRefund(input: $input) { refund { id status } userErrors { code message } }
  }
`);

/** The money half of the lifecycle: OPEN → PAID (payOrder) → PARTIALLY_REFUNDED (one of two units refunded). */
async function payThenRefundOne(key: string): Promise<{ orderId: string; run: () => Promise<void> }> {
  const payload = (await api.exec(CreateOrder, { input: { lineItems: [{ ...line('Coffee', 1999), quantity: 2 }] } }, key)).createOrder;
  expect(payload.userErrors).toEqual([]);
  const order = payload.order!;
  return {
    orderId: order.id,
    run: async () => {
      const paid = (await api.exec(PayOrder, { input: { orderId: order.id, paymentSourceTokens: ['tok_visa'], idempotencyKey: randomUUID() } }, key)).payOrder;
      expect(paid.userErrors).toEqual([]);
      expect(paid.paymentIntent?.status).toBe('SUCCEEDED');
      const refund = (
        await api.exec(
          CreateRefund,
          {
            input: {
              paymentIntentId: paid.paymentIntent!.id,
              lineItems: [{ lineItemId: order.lineItems[0]!.id, quantity: 1 }],
              reason: 'REFUND_REASON_REQUESTED_BY_CUSTOMER',
              idempotencyKey: randomUUID(),
            },
          },
          key,
        )
      ).createRefund;
      expect(refund.userErrors).toEqual([]);
      expect(refund.refund?.status).toBe('SUCCEEDED');
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Both transports behind one interface

interface Transport {
  name: string;
  /** Subscribes and resolves once the subscription is live on the server. */
  subscribe<R, V>(document: TypedDocumentNode<R, V>, variables: V, key: string | null): Promise<Subscribed<R>>;
}

interface Subscribed<R> {
  results: Collector<ExecutionResult<R>>;
  /** How the server refused or ended it: WebSocket close code, or SSE HTTP status. */
  refusal(): Promise<number>;
  close(): Promise<void>;
}

async function untilLive(before: number, count = 1): Promise<void> {
  await eventually(() => api.hub.size >= before + count, `${count} more live subscription(s)`);
}

const websocket: Transport = {
  name: 'WebSocket (graphql-ws)',
  async subscribe(document, variables, key) {
    const before = api.hub.size;
    const connection = wsConnect(api.url, key);
    const results = connection.subscribe(document, variables);
    await Promise.race([untilLive(before), results.waitForEnd(10_000)]);
    return {
      results,
      refusal: async () => (await connection.closes.waitFor(1))[0]!.code,
      close: () => connection.dispose(),
    };
  },
};

const sse: Transport = {
  name: 'SSE',
  async subscribe(document, variables, key) {
    const before = api.hub.size;
    const s = await sseSubscribe(api.url, document, variables, key);
    if (s.status === 200) await Promise.race([untilLive(before), s.results.waitForEnd(10_000)]);
    return {
      results: s.results,
      refusal: async () => s.status,
      close: async () => s.close(),
    };
  },
};

function data<R>(results: ExecutionResult<R>[]): R[] {
  for (const r of results) expect(r.errors).toBeUndefined();
  return results.map((r) => r.data!);
}

describe.each([websocket, sse])('$name', (transport) => {
  it('receives OPEN → PAID → PARTIALLY_REFUNDED in order, each with its status_changed activity', async () => {
    const { key } = await api.signup();
    const flow = await payThenRefundOne(key);
    const statuses = await transport.subscribe(StatusChanged, { orderId: flow.orderId }, key);
    await flow.run();
    const changes = data(await statuses.results.waitFor(2)).map((d) => d.orderStatusChanged);
    expect(changes.map((c) => [c.previousStatus, c.status])).toEqual([
      ['OPEN', 'PAID'],
      ['PAID', 'PARTIALLY_REFUNDED'],
    ]);
    expect(changes.map((c) => c.order.status)).toEqual(['PAID', 'PARTIALLY_REFUNDED']);
    for (const c of changes) {
      expect(c.activity).toMatchObject({ type: 'order.status_changed', orderId: flow.orderId, delta: { before: { status: c.previousStatus }, after: { status: c.status } } });
    }
    expect(changes[1]!.activity.sequence).toBeGreaterThan(changes[0]!.activity.sequence);
    await statuses.close();
  });

  it('receives the status change and the activity of an order, in commit order, with the activity attached', async () => {
    const { key } = await api.signup();
    const order = await createOrder(key);
    const neighbour = await createOrder(key);
    const statuses = await transport.subscribe(StatusChanged, { orderId: order.id }, key);
    const activity = await transport.subscribe(ActivityRecorded, { orderId: order.id }, key);

    for (const step of LIFECYCLE) {
      expect((await step.run(key, order)).userErrors, step.name).toEqual([]);
      // Another order's changes never reach a subscription to this one.
      if (step === LIFECYCLE[0]) await api.exec(CancelOrder, { input: { orderId: neighbour.id } }, key);
    }

    const expectedActivity = LIFECYCLE.flatMap((s) => s.activity);
    const received = data(await activity.results.waitFor(expectedActivity.length)).map((d) => d.activityRecorded);
    expect(received.map((a) => a.type)).toEqual(expectedActivity);
    expect(received.every((a) => a.orderId === order.id)).toBe(true);
    for (let i = 1; i < received.length; i++) expect(received[i]!.sequence).toBeGreaterThan(received[i - 1]!.sequence);
    expect(received.every((a) => a.actor.type === 'API_KEY' && a.actor.name === key.slice(0, 12))).toBe(true);

    const transitions = LIFECYCLE.filter((s) => s.transition).map((s) => s.transition!);
    const changes = data(await statuses.results.waitFor(transitions.length)).map((d) => d.orderStatusChanged);
    expect(changes.map((c) => [c.previousStatus, c.status])).toEqual(transitions);
    const last = changes.at(-1)!;
    expect(last.order).toMatchObject({ id: order.id, status: 'CANCELED' });
    expect(last.activity).toMatchObject({ type: 'order.status_changed', orderId: order.id, delta: { before: { status: 'OPEN' }, after: { status: 'CANCELED' } } });
    // The attached activity is the stored entry, hash and all.
    const stored = await api.db.activity.findUniqueOrThrow({ where: { id: last.activity.id } });
    expect([stored.hash, stored.previousHash, Number(stored.sequence)]).toEqual([last.activity.hash, last.activity.previousHash, last.activity.sequence]);
    expect(received.find((a) => a.id === last.activity.id)).toBeDefined();

    // Nothing more arrived (the neighbour's cancel included).
    await new Promise((r) => setTimeout(r, 100));
    expect(activity.results.items).toHaveLength(expectedActivity.length);
    expect(statuses.results.items).toHaveLength(transitions.length);
    await statuses.close();
    await activity.close();
  });

  it('without orderId: every order of the merchant, and nothing of another merchant', async () => {
    const mine = await api.signup();
    const theirs = await api.signup();
    const all = await transport.subscribe(ActivityRecorded, {}, mine.key);
    const statuses = await transport.subscribe(StatusChanged, {}, mine.key);
    const theirOrder = await createOrder(theirs.key);
    await api.exec(CancelOrder, { input: { orderId: theirOrder.id } }, theirs.key);
    const a = await createOrder(mine.key);
    const b = await createOrder(mine.key);
    await api.exec(CancelOrder, { input: { orderId: b.id } }, mine.key);

    const got = data(await all.results.waitFor(4)).map((d) => d.activityRecorded);
    expect(got.map((e) => [e.type, e.orderId])).toEqual([
      ['order.created', a.id],
      ['order.created', b.id],
      ['order.canceled', b.id],
      ['order.status_changed', b.id],
    ]);
    const changes = data(await statuses.results.waitFor(1)).map((d) => d.orderStatusChanged);
    expect(changes.map((c) => [c.order.id, c.status])).toEqual([[b.id, 'CANCELED']]);
    await new Promise((r) => setTimeout(r, 100));
    expect(all.results.items).toHaveLength(4);
    expect(statuses.results.items).toHaveLength(1);
    await all.close();
    await statuses.close();
  });

  it("refuses another merchant's orderId with NOT_FOUND and never sends its data", async () => {
    const owner = await api.signup();
    const other = await api.signup();
    const order = await createOrder(owner.key);
    for (const document of [StatusChanged, ActivityRecorded] as TypedDocumentNode<unknown, { orderId: string }>[]) {
      const s = await transport.subscribe(document, { orderId: order.id }, other.key);
      await s.results.waitForEnd();
      expect(s.results.items).toHaveLength(1);
      expect(s.results.items[0]!.data ?? null).toBeNull();
      expect(s.results.items[0]!.errors?.[0]).toMatchObject({ extensions: { code: 'NOT_FOUND' } });
      await s.close();
    }
    // The owner's changes do not leak to the refused subscriber (nothing is left listening).
    const live = api.hub.size;
    await api.exec(CancelOrder, { input: { orderId: order.id } }, owner.key);
    expect(api.hub.size).toBe(live);
  });

  it('refuses a connection without a key, with a malformed or unknown key, or with a revoked key', async () => {
    const { key } = await api.signup();
    const second = (await api.exec(CreateApiKey, { input: { livemode: false } }, key)).createApiKey;
    await api.exec(RevokeApiKey, { input: { id: second.apiKey!.id } }, key);
    const refused = transport === websocket ? 4403 : 401;
    for (const bad of [null, 'not-a-key', `sk_test_${'x'.repeat(32)}`, second.secret!]) {
      const before = api.hub.size;
      const s = await transport.subscribe(ActivityRecorded, {}, bad);
      expect(await s.refusal(), String(bad)).toBe(refused);
      await s.results.waitForEnd();
      expect(s.results.items.every((r) => !r.data)).toBe(true);
      expect(api.hub.size).toBe(before);
      await s.close();
    }
  });

  it('ends the live subscriptions of a key when it is revoked', async () => {
    const { key } = await api.signup();
    const second = (await api.exec(CreateApiKey, { input: { livemode: false } }, key)).createApiKey;
    const watching = await transport.subscribe(ActivityRecorded, {}, second.secret!);
    const survivor = await transport.subscribe(ActivityRecorded, {}, key);
    await api.exec(RevokeApiKey, { input: { id: second.apiKey!.id } }, key);
    await watching.results.waitForEnd();
    if (transport === websocket) expect(await watching.refusal()).toBe(4403);
    // The revoking key's subscription goes on and saw the revocation.
    const seen = data(await survivor.results.waitFor(1)).map((d) => d.activityRecorded.type);
    expect(seen).toEqual(['api_key.revoked']);
    expect(survivor.results.done).toBe(false);
    await watching.close();
    await survivor.close();
  });

  it('hears nothing of a failed mutation or of a replayed one', async () => {
    const { key } = await api.signup();
    const order = await createOrder(key);
    const s = await transport.subscribe(ActivityRecorded, { orderId: order.id }, key);
    const conflict = (
      await api.exec(UpdateLineItem, { input: { orderId: order.id, lineItemId: order.lineItems[0]!.id, quantity: 2, expectedVersion: 99 } }, key)
    ).updateLineItem;
    expect(conflict.userErrors).toMatchObject([{ code: 'VERSION_CONFLICT' }]);
    const idempotencyKey = randomUUID();
    const input = { orderId: order.id, lineItems: [line('Cups')], idempotencyKey };
    expect((await api.exec(AddLineItems, { input }, key)).addLineItems.userErrors).toEqual([]);
    expect((await api.exec(AddLineItems, { input }, key)).addLineItems.userErrors).toEqual([]); // replay
    await api.exec(CancelOrder, { input: { orderId: order.id } }, key);
    await api.exec(CancelOrder, { input: { orderId: order.id } }, key); // refused: already canceled

    const got = data(await s.results.waitFor(3)).map((d) => d.activityRecorded);
    expect(got.map((e) => [e.type, e.idempotencyKey])).toEqual([
      ['order.line_items_added', idempotencyKey],
      ['order.canceled', null],
      ['order.status_changed', null],
    ]);
    await new Promise((r) => setTimeout(r, 100));
    expect(s.results.items).toHaveLength(3);
    await s.close();
  });
});

describe('ordering', () => {
  it('concurrent changes of one order reach every subscriber in commit (chain) order', async () => {
    const { key, merchantId } = await api.signup();
    const order = await createOrder(key);
    const ws = await websocket.subscribe(ActivityRecorded, { orderId: order.id }, key);
    const stream = await sse.subscribe(ActivityRecorded, { orderId: order.id }, key);
    await Promise.all(
      Array.from({ length: 25 }, (_, i) =>
        api.exec(UpdateLineItem, { input: { orderId: order.id, lineItemId: order.lineItems[0]!.id, quantity: i + 1 } }, key),
      ),
    );
    const stored = await api.db.activity.findMany({ where: { merchantId, orderId: order.id, type: 'order.line_item_updated' }, orderBy: { sequence: 'asc' } });
    expect(stored).toHaveLength(25);
    for (const s of [ws, stream]) {
      const got = data(await s.results.waitFor(25)).map((d) => d.activityRecorded);
      expect(got.map((e) => e.id)).toEqual(stored.map((r) => r.id));
      await s.close();
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Servers of our own: small limits, and shutdown.

async function ownServer(limits?: { perConnection: number; perKey: number }) {
  const db = createPrisma(testDatabaseUrl());
  const app = await startServer({ db, clock: systemClock }, { development: false, port: 0 }, '127.0.0.1', limits ? { subscriptionLimits: limits } : {});
  const exec = async <R, V>(document: TypedDocumentNode<R, V>, variables: V, key: string | null): Promise<R> => {
    const response = await fetch(`${app.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) },
      body: JSON.stringify({ query: print(document), variables }),
    });
    const body = (await response.json()) as ExecutionResult<R>;
    if (body.errors) throw new Error(JSON.stringify(body.errors));
    return body.data!;
  };
  return {
    app,
    exec,
    stop: async () => {
      await app.close();
      await db.$disconnect();
    },
  };
}

const Signup = graphql(`
  mutation SubsSignup($input: CreateMerchantInput!) {
    createMerchant(input: $input) { testApiKey merchant { id } }
  }
`);

async function signupOn(exec: Awaited<ReturnType<typeof ownServer>>['exec']): Promise<string> {
  const data = await exec(Signup, { input: { name: 'Own server merchant', email: 'own@example.com' } }, null);
  return data.createMerchant.testApiKey!;
}

function limitCode(results: Collector<ExecutionResult<unknown>>): unknown {
  return results.items[0]?.errors?.[0]?.extensions?.code;
}

describe('limits', () => {
  it('caps subscriptions per connection and per key; completing one frees its place', async () => {
    const server = await ownServer({ perConnection: 2, perKey: 3 });
    const connections: WsConnection[] = [];
    try {
      const key = await signupOn(server.exec);
      const otherKey = (await server.exec(CreateApiKey, { input: { livemode: false } }, key)).createApiKey.secret!;
      const hub = server.app.hub;

      const first = wsConnect(server.app.url, key);
      connections.push(first);
      const a = first.subscribe(ActivityRecorded, {});
      const b = first.subscribe(ActivityRecorded, {});
      await eventually(() => hub.size === 2, 'two live subscriptions');
      const c = first.subscribe(ActivityRecorded, {});
      await c.waitForEnd();
      expect(limitCode(c as never)).toBe('SUBSCRIPTION_LIMIT_REACHED');
      expect(c.items[0]!.errors![0]!.message).toMatch(/this connection already holds 2 subscriptions/i);

      const second = wsConnect(server.app.url, key);
      connections.push(second);
      const d = second.subscribe(ActivityRecorded, {});
      await eventually(() => hub.size === 3, 'three live subscriptions');
      const e = second.subscribe(ActivityRecorded, {});
      await e.waitForEnd();
      expect(limitCode(e as never)).toBe('SUBSCRIPTION_LIMIT_REACHED');
      expect(e.items[0]!.errors![0]!.message).toMatch(/already holds 3 subscriptions, the most one key may/);
      const viaSse = await sseSubscribe(server.app.url, ActivityRecorded, {}, key);
      await viaSse.results.waitForEnd();
      expect(limitCode(viaSse.results as never)).toBe('SUBSCRIPTION_LIMIT_REACHED');

      // Another key of the same merchant has its own allowance.
      const other = wsConnect(server.app.url, otherKey);
      connections.push(other);
      other.subscribe(ActivityRecorded, {});
      await eventually(() => hub.size === 4, 'the other key subscribed');

      // Unsubscribing (closing the connection) gives the places back.
      await first.dispose();
      await eventually(() => hub.size === 2, 'the first connection released');
      const f = second.subscribe(ActivityRecorded, {});
      await eventually(() => hub.size === 3, 'a freed place reused');
      expect(f.done).toBe(false);
      expect([a.done, b.done, d.done]).toEqual([true, true, false]);
    } finally {
      for (const c of connections) await c.dispose();
      await server.stop();
    }
  });
});

describe('shutdown', () => {
  it('completes every subscription and closes WebSockets with 1001 Going away', async () => {
    const server = await ownServer();
    const key = await signupOn(server.exec);
    const ws = wsConnect(server.app.url, key, { lazy: false });
    const wsResults = ws.subscribe(ActivityRecorded, {});
    const stream = await sseSubscribe(server.app.url, ActivityRecorded, {}, key);
    await eventually(() => server.app.hub.size === 2, 'both subscriptions live');

    await server.stop();
    await wsResults.waitForEnd();
    expect(wsResults.error).toBeNull(); // completed, not failed
    expect((await ws.closes.waitFor(1))[0]).toMatchObject({ code: 1001 });
    await stream.results.waitForEnd();
    expect(stream.results.error).toBeNull();
    expect(stream.events.at(-1)?.event).toBe('complete');
    await ws.dispose();
  });
});
