// The event bus behind subscriptions. Activity entries are published after their transaction commits
// (by the Writer, src/kernel/writer.ts, once the call that wrote them committed), one topic per audit chain (merchant + mode), so a subscriber only ever
// listens to its own merchant's topic. Revoked API keys are announced on a per-merchant topic so
// that their live subscriptions end at once.
//
// In memory by default (one process). With REDIS_URL, Redis pub/sub carries the events between any
// number of API instances: @graphql-yoga/redis-event-target on a dedicated subscriber connection
// receives them, and a second connection publishes (directly, so a publish is awaited, its errors
// are logged instead of surfacing as unhandled rejections, and commands keep their order).
//
// Each process listens to a topic once, decodes each event once, and fans it out to its local
// listeners, however many subscriptions share the topic.
//
// ioredis and the Redis event target are loaded only when a Redis bus is made (REDIS_URL): ~12 MiB of
// RSS that in-memory deployments do not pay (bench/MEMORY.md). Both are CommonJS, required synchronously.
import { createRequire } from 'node:module';
import type { createRedisEventTarget as CreateRedisEventTarget } from '@graphql-yoga/redis-event-target';
import type { Redis as RedisClient } from 'ioredis';
import type { ActivityRow } from '../audit/activity.js';
import type { Json } from '../kernel/json.js';

export type { ActivityListener, EventBus, RevocationListener } from '../kernel/events.js';
import type { EventBus } from '../kernel/events.js';

/** The JSON form of an activity row on the wire (dates as ISO strings, sequence as a string). */
export interface ActivityWire {
  id: string;
  merchantId: string;
  livemode: boolean;
  orderId: string | null;
  type: string;
  occurredAt: string;
  actorType: string;
  actorId: string | null;
  actorName: string | null;
  delta: Json;
  idempotencyKey: string | null;
  sequence: string;
  hash: string;
  previousHash: string | null;
}

export function toWire(row: ActivityRow): ActivityWire {
  return {
    id: row.id,
    merchantId: row.merchantId,
    livemode: row.livemode,
    orderId: row.orderId,
    type: row.type,
    occurredAt: row.occurredAt.toISOString(),
    actorType: row.actorType,
    actorId: row.actorId,
    actorName: row.actorName,
    delta: row.delta,
    idempotencyKey: row.idempotencyKey,
    sequence: row.sequence.toString(),
    hash: row.hash,
    previousHash: row.previousHash,
  };
}

export function fromWire(wire: ActivityWire): ActivityRow {
  return { ...wire, occurredAt: new Date(wire.occurredAt), sequence: BigInt(wire.sequence) };
}

export function activityTopic(merchantId: string, livemode: boolean): string {
  return `flint:activity:${merchantId}:${livemode ? 'live' : 'test'}`;
}

export function revocationTopic(merchantId: string): string {
  return `flint:api-key-revoked:${merchantId}`;
}

/** The key id an `api_key.revoked` entry revokes. */
function revokedKeyId(row: ActivityRow): string | null {
  if (row.type !== 'api_key.revoked') return null;
  const after = (row.delta as { after?: { id?: unknown } } | null)?.after;
  return typeof after?.id === 'string' ? after.id : null;
}

/** The minimal event target both transports provide (EventTarget, redis-event-target). */
interface Target {
  addEventListener(type: string, listener: (event: Event) => void): void;
  removeEventListener(type: string, listener: (event: Event) => void): void;
}

type Decoder = (detail: unknown) => unknown;

/**
 * Local fan-out over a target: one target listener per topic, decoding each event once. A listener
 * that throws is logged and does not stop the others (EventTarget would turn it into an uncaught error).
 */
class Topics {
  private readonly topics = new Map<string, { listeners: Set<(value: unknown) => void>; handler: (event: Event) => void }>();

  constructor(
    private readonly target: Target,
    private readonly activate: (topic: string) => Promise<void>,
  ) {}

  async listen(topic: string, decode: Decoder, listener: (value: unknown) => void): Promise<() => void> {
    let entry = this.topics.get(topic);
    if (!entry) {
      const listeners = new Set<(value: unknown) => void>();
      const handler = (event: Event) => {
        let value: unknown;
        try {
          value = decode((event as CustomEvent).detail);
        } catch (error) {
          console.error(`[flint] undecodable event on ${topic}`, error);
          return;
        }
        for (const l of [...listeners]) {
          try {
            l(value);
          } catch (error) {
            console.error(`[flint] subscription listener on ${topic} failed`, error);
          }
        }
      };
      entry = { listeners, handler };
      this.topics.set(topic, entry);
      this.target.addEventListener(topic, handler);
    }
    entry.listeners.add(listener);
    await this.activate(topic);
    const current = entry;
    return () => {
      if (!current.listeners.delete(listener)) return;
      if (current.listeners.size === 0 && this.topics.get(topic) === current) {
        this.topics.delete(topic);
        this.target.removeEventListener(topic, current.handler);
      }
    };
  }

  /** Whether anyone in this process listens to `topic`. */
  has(topic: string): boolean {
    return this.topics.has(topic);
  }

  clear(): void {
    for (const [topic, entry] of this.topics) this.target.removeEventListener(topic, entry.handler);
    this.topics.clear();
  }
}

const decodeActivity: Decoder = (detail) => fromWire(detail as ActivityWire);
const decodeRevocation: Decoder = (detail) => {
  const id = (detail as { apiKeyId?: unknown } | null)?.apiKeyId;
  if (typeof id !== 'string') throw new TypeError('revocation event without apiKeyId');
  return id;
};

/** The messages of committed rows; payloads are built only when sent (a local bus skips topics nobody listens to). */
function messages(rows: readonly ActivityRow[]): { topic: string; payload: () => unknown }[] {
  const out: { topic: string; payload: () => unknown }[] = [];
  for (const row of rows) {
    out.push({ topic: activityTopic(row.merchantId, row.livemode), payload: () => toWire(row) });
    const keyId = revokedKeyId(row);
    if (keyId) out.push({ topic: revocationTopic(row.merchantId), payload: () => ({ apiKeyId: keyId }) });
  }
  return out;
}

function busOver(kind: EventBus['kind'], topics: Topics, send: (topic: string, payload: () => unknown) => Promise<void>, close: () => Promise<void>): EventBus {
  return {
    kind,
    async publishActivity(rows) {
      for (const { topic, payload } of messages(rows)) await send(topic, payload);
    },
    onActivity: (merchantId, livemode, listener) => topics.listen(activityTopic(merchantId, livemode), decodeActivity, listener as (v: unknown) => void),
    onKeyRevoked: (merchantId, listener) => topics.listen(revocationTopic(merchantId), decodeRevocation, listener as (v: unknown) => void),
    async close() {
      topics.clear();
      await close();
    },
  };
}

/** One process: events go straight from the committing request to the local subscribers. */
export function createMemoryEventBus(): EventBus {
  const target = new EventTarget();
  const topics = new Topics(target, async () => {});
  return busOver(
    'memory',
    topics,
    async (topic, payload) => {
      if (!topics.has(topic)) return;
      // The same JSON round trip as Redis, so both transports deliver identical, unshared values.
      target.dispatchEvent(new CustomEvent(topic, { detail: JSON.parse(JSON.stringify(payload())) }));
    },
    async () => {},
  );
}

/** Any number of processes sharing one Redis. */
export function createRedisEventBus(redisUrl: string, log: (message: string) => void = (m) => console.error(m)): EventBus {
  const require = createRequire(import.meta.url);
  const { Redis } = require('ioredis') as { Redis: typeof RedisClient };
  const { createRedisEventTarget } = require('@graphql-yoga/redis-event-target') as { createRedisEventTarget: typeof CreateRedisEventTarget };
  const options = { connectionName: 'flint-events', maxRetriesPerRequest: 3 };
  const publishClient = new Redis(redisUrl, options);
  const subscribeClient = new Redis(redisUrl, options);
  const reported = new Set<string>();
  for (const [name, client] of [
    ['publisher', publishClient],
    ['subscriber', subscribeClient],
  ] as const) {
    client.on('error', (error: Error) => {
      // ioredis reconnects by itself; say so once per distinct problem rather than on every retry.
      const text = `[flint] Redis ${name}: ${error.message}`;
      if (!reported.has(text)) {
        reported.add(text);
        log(text);
      }
    });
    client.on('ready', () => reported.clear());
  }
  const target = createRedisEventTarget<CustomEvent>({ publishClient, subscribeClient });
  // The target subscribes to a channel without waiting; subscribing again (harmless in Redis) tells
  // us when the channel is live, so a subscription only starts once it can receive events.
  const topics = new Topics(target as unknown as Target, async (topic) => {
    await subscribeClient.subscribe(topic);
  });
  return busOver(
    'redis',
    topics,
    async (topic, payload) => {
      publishClient.publish(topic, JSON.stringify(payload())).catch((error: unknown) => {
        log(`[flint] Redis publish to ${topic} failed: ${error instanceof Error ? error.message : String(error)}`);
      });
    },
    async () => {
      await Promise.allSettled([publishClient.quit(), subscribeClient.quit()]);
    },
  );
}

export function createEventBus(redisUrl: string | null | undefined): EventBus {
  return redisUrl ? createRedisEventBus(redisUrl) : createMemoryEventBus();
}
