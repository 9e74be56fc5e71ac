// Live subscriptions on a server of their own: limits per connection and per key, and a clean close of
// every subscription on shutdown.
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { print, type ExecutionResult } from 'graphql';
import { describe, expect, it } from 'vitest';
import { testDatabaseUrl } from '../support/db.js';
import { Collector, eventually, sseSubscribe, wsConnect, type WsConnection } from '../support/realtime.js';
import { createPrisma } from '../../src/db/prisma.js';
import { startServer } from '../../src/server.js';
import { systemClock } from '../../src/kernel/context.js';
import { ActivityRecorded, CreateApiKey, Signup } from '../support/subscriptions.js';

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
