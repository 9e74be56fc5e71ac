// Two API instances sharing events through the machine's Redis (127.0.0.1:6379): two real server
// processes (`src/main.ts`, PORT=0, REDIS_URL set) on the test database. A mutation on one instance
// reaches subscribers (WebSocket and SSE) connected to the other, in commit order, and a key revoked
// on one instance loses its subscriptions on the other.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { print, type ExecutionResult } from 'graphql';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { graphql } from '../generated/index.js';
import { testDatabaseUrl } from '../support/db.js';
import { eventually, sseSubscribe, wsConnect } from '../support/realtime.js';
import { activityTopic, revocationTopic } from '../../src/realtime/bus.js';

const REDIS_URL = 'redis://127.0.0.1:6379';
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

interface Instance {
  url: string;
  process: ChildProcess;
  output: string[];
}

/** Starts `src/main.ts` as its own process and waits for the line that names its port. */
async function startInstance(name: string): Promise<Instance> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: ROOT,
    env: { ...process.env, DATABASE_URL: testDatabaseUrl(), REDIS_URL, PORT: '0', NODE_ENV: 'production' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  createInterface({ input: child.stderr! }).on('line', (line) => output.push(`[${name} stderr] ${line}`));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} did not start in 60 s:\n${output.join('\n')}`)), 60_000);
    createInterface({ input: child.stdout! }).on('line', (line) => {
      output.push(`[${name}] ${line}`);
      const port = /GraphQL API on http:\/\/localhost:(\d+)\/graphql/.exec(line)?.[1];
      if (port) {
        clearTimeout(timer);
        resolve(`http://127.0.0.1:${port}`);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited with ${code} before it was ready:\n${output.join('\n')}`));
    });
  });
  return { url, process: child, output };
}

async function stopInstance(instance: Instance | undefined): Promise<void> {
  if (!instance || instance.process.exitCode !== null) return;
  const exited = once(instance.process, 'exit');
  instance.process.kill('SIGTERM');
  const timer = setTimeout(() => instance.process.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}

async function exec<R, V>(instance: Instance, document: TypedDocumentNode<R, V>, variables: V, key: string | null): Promise<R> {
  const response = await fetch(`${instance.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) },
    body: JSON.stringify({ query: print(document), variables }),
  });
  const body = (await response.json()) as ExecutionResult<R>;
  if (body.errors) throw new Error(JSON.stringify(body.errors));
  return body.data!;
}

const Signup = graphql(`
  mutation RedisSignup($input: CreateMerchantInput!) {
    createMerchant(input: $input) { testApiKey merchant { id } }
  }
`);

const CreateOrder = graphql(`
  mutation RedisCreateOrder($input: CreateOrderInput!) {
    createOrder(input: $input) { order { id lineItems { id } } userErrors { code } }
  }
`);

const UpdateLineItem = graphql(`
  mutation RedisUpdateLineItem($input: UpdateLineItemInput!) {
    updateLineItem(input: $input) { userErrors { code } }
  }
`);

const CancelOrder = graphql(`
  mutation RedisCancelOrder($input: CancelOrderInput!) {
    cancelOrder(input: $input) { userErrors { code } }
  }
`);

const CreateApiKey = graphql(`
  mutation RedisCreateApiKey($input: CreateApiKeyInput!) {
    createApiKey(input: $input) { apiKey { id } secret }
  }
`);

const RevokeApiKey = graphql(`
  mutation RedisRevokeApiKey($input: RevokeApiKeyInput!) {
    revokeApiKey(input: $input) { userErrors { code } }
  }
`);

const StatusChanged = graphql(`
  subscription RedisOrderStatusChanged($orderId: ID) {
    orderStatusChanged(orderId: $orderId) { previousStatus status order { id status } activity { id type sequence hash } }
  }
`);

const ActivityRecorded = graphql(`
  subscription RedisActivityRecorded($orderId: ID) {
    activityRecorded(orderId: $orderId) { id type orderId sequence }
  }
`);

const line = { name: 'Tea', quantity: 1, unitPriceMoney: { amount: 500, currency: 'USD' } };

describe('two instances sharing events through Redis', () => {
  let a: Instance | undefined;
  let b: Instance | undefined;
  let redis: Redis;

  beforeAll(async () => {
    redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
    expect(await redis.ping()).toBe('PONG');
    [a, b] = await Promise.all([startInstance('A'), startInstance('B')]);
  });

  afterAll(async () => {
    await Promise.all([stopInstance(a), stopInstance(b)]);
    await redis?.quit();
  });

  /** Waits until `count` processes listen to the merchant's channels in Redis (its test chain, its key revocations). */
  async function listening(merchantId: string, count = 1): Promise<void> {
    for (const channel of [activityTopic(merchantId, false), revocationTopic(merchantId)]) await listeningTo(channel, count);
  }

  async function listeningTo(channel: string, count: number): Promise<void> {
    await eventually(async () => {
      const reply = (await redis.call('PUBSUB', 'NUMSUB', channel)) as [string, number];
      return Number(reply[1]) >= count;
    }, `${count} instance(s) subscribed to ${channel}`);
  }

  it('a mutation on one instance reaches WebSocket and SSE subscribers of the other, in order', async () => {
    const signup = (await exec(a!, Signup, { input: { name: 'Two instances', email: 'two@example.com' } }, null)).createMerchant;
    const key = signup.testApiKey!;
    const merchantId = signup.merchant!.id;
    const order = (await exec(a!, CreateOrder, { input: { lineItems: [line] } }, key)).createOrder.order!;

    const ws = wsConnect(b!.url, key);
    const statuses = ws.subscribe(StatusChanged, { orderId: order.id });
    const activity = ws.subscribe(ActivityRecorded, { orderId: order.id });
    const stream = await sseSubscribe(b!.url, ActivityRecorded, {}, key);
    expect(stream.status).toBe(200);
    await listening(merchantId);

    await exec(a!, UpdateLineItem, { input: { orderId: order.id, lineItemId: order.lineItems[0]!.id, quantity: 4 } }, key);
    await exec(a!, CancelOrder, { input: { orderId: order.id } }, key);

    const expected = ['order.line_item_updated', 'order.canceled', 'order.status_changed'];
    const viaWs = (await activity.waitFor(3)).map((r) => r.data!.activityRecorded);
    expect(viaWs.map((e) => e.type)).toEqual(expected);
    expect(viaWs.map((e) => e.sequence)).toEqual([4, 5, 6]);
    const viaSse = (await stream.results.waitFor(3)).map((r) => r.data!.activityRecorded);
    expect(viaSse.map((e) => e.id)).toEqual(viaWs.map((e) => e.id));
    const [change] = (await statuses.waitFor(1)).map((r) => r.data!.orderStatusChanged);
    expect(change).toMatchObject({ previousStatus: 'OPEN', status: 'CANCELED', order: { id: order.id, status: 'CANCELED' }, activity: { type: 'order.status_changed' } });

    // And the other way round: a subscriber on A hears a mutation made on B.
    const back = wsConnect(a!.url, key);
    const onA = back.subscribe(ActivityRecorded, {});
    await listening(merchantId, 2);
    const second = (await exec(b!, CreateOrder, { input: { lineItems: [line] } }, key)).createOrder.order!;
    const [created] = (await onA.waitFor(1)).map((r) => r.data!.activityRecorded);
    expect(created).toMatchObject({ type: 'order.created', orderId: second.id, sequence: 7 });

    await ws.dispose();
    await back.dispose();
    stream.close();
  });

  it('a key revoked on one instance loses its subscriptions on the other', async () => {
    const signup = (await exec(b!, Signup, { input: { name: 'Revocation', email: 'revoke@example.com' } }, null)).createMerchant;
    const key = signup.testApiKey!;
    const extra = (await exec(b!, CreateApiKey, { input: { livemode: false } }, key)).createApiKey;
    const ws = wsConnect(b!.url, extra.secret!);
    const results = ws.subscribe(ActivityRecorded, {});
    await listening(signup.merchant!.id);
    await exec(a!, RevokeApiKey, { input: { id: extra.apiKey!.id } }, key);
    await results.waitForEnd();
    expect((await ws.closes.waitFor(1))[0]!.code).toBe(4403);
    await ws.dispose();
  });
});
