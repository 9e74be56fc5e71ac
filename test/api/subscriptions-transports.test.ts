// Live subscriptions with real clients: graphql-ws over a WebSocket and SSE over HTTP, both on /graphql.
// Each transport receives an order's changes in commit order with the activity attached, is refused
// without a valid key or for another merchant's order, loses its subscriptions when its key is
// revoked, and hears nothing of a failed mutation. Then: ordering under concurrency.
import { randomUUID } from 'node:crypto';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { describe, expect, it } from 'vitest';
import { graphql } from '../generated/index.js';
import { sseSubscribe, wsConnect } from '../support/realtime.js';
import { api, ActivityRecorded, CreateOrder, CreateApiKey, line, createOrder, type Step, PayOrder, CreateRefund, type Transport, untilLive, data } from '../support/subscriptions.js';

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

const RevokeApiKey = graphql(`
  mutation SubsRevokeApiKey($input: RevokeApiKeyInput!) {
    revokeApiKey(input: $input) {
      userErrors { code message field }
    }
  }
`);

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
