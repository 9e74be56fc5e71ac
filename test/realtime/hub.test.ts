// The subscription hub on the in-memory bus, without a server: only the principal's own chain reaches a
// stream, a subscriber that falls too far behind is ended with SUBSCRIBER_TOO_SLOW rather than buffering
// without bound, and closing the hub ends every stream and refuses new ones.
import { describe, expect, it } from 'vitest';
import type { ActivityRow } from '../../src/audit/activity.js';
import type { Principal } from '../../src/kernel/context.js';
import { createMemoryEventBus } from '../../src/realtime/bus.js';
import { MAX_BUFFERED_EVENTS, SubscriptionHub } from '../../src/realtime/hub.js';

const principal: Principal = { merchantId: 'mer_A', livemode: false, apiKeyId: 'key_A', apiKeyPrefix: 'sk_test_aaaa' };

let counter = 0;
function row(merchantId: string, livemode = false): ActivityRow {
  counter += 1;
  return {
    id: `act_${counter}`,
    merchantId,
    livemode,
    orderId: null,
    type: 'test.event',
    occurredAt: new Date('2026-11-27T00:00:00.000Z'),
    actorType: 'SYSTEM',
    actorId: null,
    actorName: null,
    delta: { n: counter },
    idempotencyKey: null,
    sequence: BigInt(counter),
    hash: 'h'.repeat(64),
    previousHash: null,
  };
}

describe('SubscriptionHub', () => {
  it("delivers the principal's own chain only, decoded back to rows", async () => {
    const bus = createMemoryEventBus();
    const hub = new SubscriptionHub(bus);
    const stream = await hub.open({ principal, connection: {}, select: (r) => r });
    const mine = row('mer_A');
    await bus.publishActivity([row('mer_B'), row('mer_A', true), mine]);
    const first = await stream.next();
    expect(first.value).toEqual(mine);
    expect(first.value).not.toBe(mine); // a copy, as it would arrive from Redis
    await stream.return!();
    expect(hub.size).toBe(0);
    await bus.close();
  });

  it('ends a subscriber that falls more than MAX_BUFFERED_EVENTS behind', async () => {
    const bus = createMemoryEventBus();
    const hub = new SubscriptionHub(bus);
    const stream = await hub.open({ principal, connection: {}, select: (r) => r });
    const rows = Array.from({ length: MAX_BUFFERED_EVENTS + 1 }, () => row('mer_A'));
    await bus.publishActivity(rows);
    await expect(stream.next()).rejects.toMatchObject({ extensions: { code: 'SUBSCRIBER_TOO_SLOW' } });
    expect((await stream.next()).done).toBe(true);
    expect(hub.size).toBe(0);
    await bus.close();
  });

  it('close() ends every stream and refuses new ones', async () => {
    const bus = createMemoryEventBus();
    const hub = new SubscriptionHub(bus);
    const a = await hub.open({ principal, connection: {}, select: (r) => r });
    const b = await hub.open({ principal, connection: {}, select: (r) => r });
    const waiting = a.next();
    expect(hub.size).toBe(2);
    hub.close();
    expect(await waiting).toEqual({ value: undefined, done: true });
    expect((await b.next()).done).toBe(true);
    expect(hub.size).toBe(0);
    await expect(hub.open({ principal, connection: {}, select: (r) => r })).rejects.toMatchObject({ extensions: { code: 'SERVER_SHUTTING_DOWN' } });
    await bus.close();
  });
});
