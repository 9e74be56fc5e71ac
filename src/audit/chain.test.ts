// The pure part of the audit chain: what is hashed and how.
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HASHED_FIELDS, canonicalEntry, entryHash } from './chain.js';
import type { Json } from '../kernel/json.js';

const json: fc.Arbitrary<Json> = fc.jsonValue({ maxDepth: 3 }) as fc.Arbitrary<Json>;

const entry = fc.record({
  id: fc.string({ minLength: 1 }),
  merchantId: fc.string({ minLength: 1 }),
  livemode: fc.boolean(),
  sequence: fc.bigInt({ min: 1n, max: BigInt(Number.MAX_SAFE_INTEGER) }),
  orderId: fc.option(fc.string({ minLength: 1 }), { nil: null }),
  type: fc.string({ minLength: 1 }),
  occurredAt: fc.date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2100-01-01T00:00:00Z'), noInvalidDate: true }),
  actorType: fc.constantFrom('API_KEY', 'CUSTOMER', 'WEBHOOK', 'SYSTEM'),
  actorId: fc.option(fc.string(), { nil: null }),
  actorName: fc.option(fc.string(), { nil: null }),
  delta: json,
  idempotencyKey: fc.option(fc.string({ minLength: 1 }), { nil: null }),
});

const previousHash = fc.option(fc.stringMatching(/^[0-9a-f]{64}$/), { nil: null });

describe('entryHash', () => {
  it('is sha256 of previousHash followed by the canonical JSON of exactly the hashed fields', () => {
    const e = {
      id: 'act_1',
      merchantId: 'mer_1',
      livemode: false,
      sequence: 2n,
      orderId: null,
      type: 'order.created',
      occurredAt: new Date('2026-11-27T09:38:00.123Z'),
      actorType: 'API_KEY',
      actorId: 'key_1',
      actorName: 'sk_test_abcd',
      delta: { b: 1, a: [true, null, 'x'] },
      idempotencyKey: null,
    };
    const text =
      '{"actorId":"key_1","actorName":"sk_test_abcd","actorType":"API_KEY","delta":{"a":[true,null,"x"],"b":1},"id":"act_1","idempotencyKey":null,' +
      '"livemode":false,"merchantId":"mer_1","occurredAt":"2026-11-27T09:38:00.123Z","orderId":null,"sequence":2,"type":"order.created"}';
    expect(canonicalEntry(e)).toBe(text);
    expect(entryHash('ab'.repeat(32), e)).toBe(createHash('sha256').update('ab'.repeat(32) + text).digest('hex'));
    expect(entryHash(null, e)).toBe(createHash('sha256').update(text).digest('hex'));
    expect([...HASHED_FIELDS]).toEqual([...HASHED_FIELDS].sort());
  });

  it('changes when any hashed field or the previous hash changes', () => {
    fc.assert(
      fc.property(entry, entry, previousHash, fc.constantFrom(...HASHED_FIELDS), (a, b, prev, field) => {
        const changed = { ...a, [field]: b[field] };
        fc.pre(canonicalEntry(changed) !== canonicalEntry(a));
        expect(entryHash(prev, changed)).not.toBe(entryHash(prev, a));
      }),
    );
    fc.assert(
      fc.property(entry, previousHash, previousHash, (a, p1, p2) => {
        fc.pre(p1 !== p2);
        expect(entryHash(p1, a)).not.toBe(entryHash(p2, a));
      }),
    );
  });

  it('does not depend on the order of keys in the delta, nor on fields outside the hashed set', () => {
    fc.assert(
      fc.property(entry, previousHash, fc.dictionary(fc.string(), json, { maxKeys: 6 }), (a, prev, obj) => {
        const reversed = Object.fromEntries(Object.entries(obj).reverse());
        expect(entryHash(prev, { ...a, delta: obj })).toBe(entryHash(prev, { ...a, delta: reversed }));
        expect(entryHash(prev, { ...a, hash: 'x', previousHash: 'y' } as typeof a)).toBe(entryHash(prev, a));
      }),
    );
  });
});
