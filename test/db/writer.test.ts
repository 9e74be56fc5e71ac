// The Writer (src/kernel/writer.ts) and flint_write, on their own: batches across merchants and modes,
// one bad write never spoils the others, guards, pricing versions, coupon limits and key claims judged
// per write inside one call, and the audit chain numbered and hashed exactly as verifyAuditTrail checks.
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { graphql } from '../generated/index.js';
import { useTestApi } from '../support/api.js';
import { sqlPool } from '../../src/db/prisma.js';
import { Writer, type Write, type WriteOutcome } from '../../src/kernel/writer.js';
import { newId } from '../../src/ids.js';
import type { UnchainedActivityRow } from '../../src/audit/activity.js';

const api = useTestApi();

const Verify = graphql(`
  query WriterVerify {
    verifyAuditTrail { valid entriesChecked firstBrokenActivityId problem }
  }
`);

const entry = (merchantId: string, orderId: string | null, n: number, livemode = false): UnchainedActivityRow => ({
  id: newId('Activity'),
  merchantId,
  livemode,
  orderId,
  type: 'test.entry',
  occurredAt: new Date(),
  actorType: 'SYSTEM',
  actorId: null,
  actorName: null,
  delta: { n, text: 'ünïcödé "quoted" \\ back' },
  idempotencyKey: null,
});
const noPublish = async () => {};

function write(merchantId: string, extra: Partial<Write> = {}, livemode = false, n = 1): Write {
  return { merchantId, livemode, at: new Date(), activity: [entry(merchantId, null, n, livemode)], ...extra };
}

async function couponOf(merchantId: string, maxRedemptions: number | null): Promise<string> {
  const id = newId('Coupon');
  const code = `W${randomUUID().slice(0, 8)}`;
  await api.db.coupon.create({
    data: { id, merchantId, livemode: false, code, normalizedCode: code.toUpperCase(), name: code, type: 'PERCENTAGE', percentOff: '10', maxRedemptions, createdAt: new Date() },
  });
  return id;
}

async function orderOf(key: string): Promise<string> {
  const Create = graphql(`
    mutation WriterCreate($input: CreateOrderInput!) {
      createOrder(input: $input) { order { id } userErrors { code } }
    }
  `);
  const r = await api.exec(Create, { input: { lineItems: [{ name: 'Mug', quantity: 1, unitPriceMoney: { amount: 1000, currency: 'USD' } }] } }, key);
  return r.createOrder.order!.id;
}

describe('Writer', () => {
  it('a call one write of which fails: the others are written, the failing one alone gets the error', async () => {
    const { key, merchantId } = await api.signup();
    const writer = new Writer(sqlPool(api.db));
    const submit = (orderId: string | null, n: number) =>
      writer.submit({ merchantId, livemode: false, at: new Date(), activity: [entry(merchantId, orderId, n), entry(merchantId, orderId, n + 100)] }, noPublish);
    // The first runs alone at once; the next three wait for it and go together in one call.
    const settled = await Promise.allSettled([submit(null, 1), submit(null, 2), submit('ord_does_not_exist', 3), submit(null, 4)]);
    expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
    expect(String((settled[2] as PromiseRejectedResult).reason)).toMatch(/foreign key/);
    const written = settled.flatMap((s) => (s.status === 'fulfilled' && s.value.ok ? s.value.activity : []));
    expect(written).toHaveLength(6);
    const stored = await api.db.activity.findMany({ where: { merchantId, type: 'test.entry' }, orderBy: { sequence: 'asc' } });
    expect(stored.map((r) => r.id)).toEqual(written.map((r) => r.id));
    expect(stored.map((r) => r.hash)).toEqual(written.map((r) => r.hash));
    expect(stored.map((r) => r.delta)).toEqual(written.map((r) => r.delta));
    expect((await api.exec(Verify, {}, key)).verifyAuditTrail.valid).toBe(true);
  });

  it('one call across merchants and modes: each chain numbered on its own, a missing head created, a bad write alone refused', async () => {
    const a = await api.signup();
    const b = await api.signup();
    const writer = new Writer(sqlPool(api.db));
    const submit = (merchantId: string, orderId: string | null, n: number, livemode = false) =>
      writer.submit({ merchantId, livemode, at: new Date(), activity: [entry(merchantId, orderId, n, livemode)] }, noPublish);
    const first = submit(a.merchantId, null, 0); // runs alone; the rest queue behind it and go together
    const batch = [
      submit(b.merchantId, null, 1),
      submit(a.merchantId, null, 2),
      submit(a.merchantId, null, 3, true), // a's live chain has no head yet
      submit(b.merchantId, 'ord_does_not_exist', 4),
      submit(b.merchantId, null, 5),
    ];
    const settled = await Promise.allSettled([first, ...batch]);
    expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
    const value = (i: number) => {
      const o = (settled[i] as PromiseFulfilledResult<WriteOutcome>).value;
      if (!o.ok) throw new Error('refused');
      return o.activity[0]!;
    };
    expect(value(2).sequence).toBe(value(0).sequence + 1n); // a (test): consecutive, whatever b did in between
    expect(value(5).sequence).toBe(value(1).sequence + 1n); // b: the failed write took no place
    expect(value(3)).toMatchObject({ livemode: true, sequence: 1n }); // a (live): a new chain
    for (const key of [a.key, b.key]) expect((await api.exec(Verify, {}, key)).verifyAuditTrail.valid).toBe(true);
    const live = await api.db.auditChainHead.findUniqueOrThrow({ where: { merchantId_livemode: { merchantId: a.merchantId, livemode: true } } });
    expect(live.sequence).toBe(1n);
  });

  it('writes nothing and answers "pricing" when the pricing version it was planned with is not current', async () => {
    const { key, merchantId } = await api.signup();
    const writer = new Writer(sqlPool(api.db));
    const claim = { key: randomUUID(), operation: 'test', requestHash: 'h', response: null, createdAt: new Date(), expiresAt: new Date(Date.now() + 60_000) };
    await expect(writer.submit(write(merchantId, { pricingVersion: 12345, claim }), noPublish)).resolves.toEqual({ ok: false, reason: 'pricing', detail: null });
    expect(await api.db.activity.count({ where: { merchantId, type: 'test.entry' } })).toBe(0);
    expect(await api.db.idempotencyKey.count({ where: { merchantId } })).toBe(0);
    const { pricingVersion } = await api.db.merchant.findUniqueOrThrow({ where: { id: merchantId }, select: { pricingVersion: true } });
    const ok = await writer.submit(write(merchantId, { pricingVersion, claim }), noPublish);
    expect(ok.ok && ok.activity).toHaveLength(1);
    expect(await api.db.idempotencyKey.count({ where: { merchantId } })).toBe(1);
    expect((await api.exec(Verify, {}, key)).verifyAuditTrail.valid).toBe(true);
  });

  it('a guard that no longer holds refuses its own write only, in the same call as writes that pass', async () => {
    const { key, merchantId } = await api.signup();
    const orderId = await orderOf(key);
    const other = await orderOf(key);
    const writer = new Writer(sqlPool(api.db));
    const update = (id: string, from: number) =>
      writer.submit(
        write(merchantId, {
          guards: [{ table: 'Order', id, match: { version: from, status: 'OPEN' } }],
          ops: [{ kind: 'update', table: 'Order', rows: [{ id, version: from + 1, cancelReason: `v${from + 1}` }] }],
        }),
        noPublish,
      );
    const blocker = writer.submit(write(merchantId), noPublish); // runs alone; the three below share the next call
    const [stale, fresh, otherFresh] = await Promise.all([update(orderId, 7), update(orderId, 1), update(other, 1)]);
    await blocker;
    expect(stale).toMatchObject({ ok: false, reason: 'guard', detail: `Order ${orderId}` });
    expect(fresh.ok).toBe(true);
    expect(otherFresh.ok).toBe(true);
    const rows = await api.db.order.findMany({ where: { id: { in: [orderId, other] } }, orderBy: { id: 'asc' } });
    expect(rows.map((r) => r.version)).toEqual([2, 2]);
    expect(await api.db.activity.count({ where: { merchantId, type: 'test.entry' } })).toBe(3);
  });

  it('two writes guarding the same row never share a call: the second is judged on what the first wrote', async () => {
    const { key, merchantId } = await api.signup();
    const orderId = await orderOf(key);
    const writer = new Writer(sqlPool(api.db));
    const update = () =>
      writer.submit(
        write(merchantId, {
          guards: [{ table: 'Order', id: orderId, match: { version: 1 } }],
          ops: [{ kind: 'update', table: 'Order', rows: [{ id: orderId, version: 2 }] }],
        }),
        noPublish,
      );
    const outcomes = await Promise.all([writer.submit(write(merchantId), noPublish), update(), update(), update()]);
    expect(outcomes.slice(1).filter((o) => o.ok)).toHaveLength(1);
    expect(outcomes.slice(1).filter((o) => !o.ok && o.reason === 'guard')).toHaveLength(2);
  });

  it('coupon limits are counted across the writes of one call: a coupon limited to 2 uses is used exactly twice', async () => {
    const { key, merchantId } = await api.signup();
    const couponId = await couponOf(merchantId, 2);
    const orders = await Promise.all([1, 2, 3, 4].map(() => orderOf(key)));
    const writer = new Writer(sqlPool(api.db));
    const use = (orderId: string) => writer.submit(write(merchantId, { couponUses: [{ couponId, orderId, customerKey: null }] }), noPublish);
    const outcomes = await Promise.all([writer.submit(write(merchantId), noPublish), ...orders.map(use)]);
    expect(outcomes.slice(1).filter((o) => o.ok)).toHaveLength(2);
    expect(outcomes.slice(1).filter((o) => !o.ok && o.reason === 'coupon')).toHaveLength(2);
    const coupon = await api.db.coupon.findUniqueOrThrow({ where: { id: couponId } });
    expect(coupon.timesRedeemed).toBe(2);
    expect(await api.db.couponRedemption.count({ where: { couponId } })).toBe(2);
    // Releasing an order's redemption gives its use back.
    const redeemed = (await api.db.couponRedemption.findFirstOrThrow({ where: { couponId } })).orderId;
    expect((await writer.submit(write(merchantId, { couponReleases: [redeemed] }), noPublish)).ok).toBe(true);
    expect((await api.db.coupon.findUniqueOrThrow({ where: { id: couponId } })).timesRedeemed).toBe(1);
  });

  it('one idempotency key claimed twice in one call: the first write wins, the second writes nothing and answers "key"', async () => {
    const { merchantId } = await api.signup();
    const writer = new Writer(sqlPool(api.db));
    const k = randomUUID();
    const claim = (response: string) => ({ key: k, operation: 'test', requestHash: 'h', response, createdAt: new Date(), expiresAt: new Date(Date.now() + 60_000) });
    const outcomes = await Promise.all([
      writer.submit(write(merchantId), noPublish),
      writer.submit(write(merchantId, { claim: claim('first') }, false, 1), noPublish),
      writer.submit(write(merchantId, { claim: claim('second') }, false, 2), noPublish),
    ]);
    expect(outcomes.map((o) => (o.ok ? 'ok' : o.reason))).toEqual(['ok', 'ok', 'key']);
    const stored = await api.db.idempotencyKey.findUniqueOrThrow({ where: { merchantId_livemode_key: { merchantId, livemode: false, key: k } } });
    expect(stored.response).toBe('first');
    expect(await api.db.activity.count({ where: { merchantId, type: 'test.entry' } })).toBe(2);
    // `finish` replaces the stored result in the write that records the outcome.
    expect((await writer.submit(write(merchantId, { finish: { key: k, response: { pending: false } } }), noPublish)).ok).toBe(true);
    const finished = await api.db.idempotencyKey.findUniqueOrThrow({ where: { merchantId_livemode_key: { merchantId, livemode: false, key: k } } });
    expect(finished.response).toEqual({ pending: false });
  });

  it('a unique violation is a refusal (plan again), not an error, and writes nothing', async () => {
    const { merchantId } = await api.signup();
    const writer = new Writer(sqlPool(api.db));
    const registration = { merchantId, livemode: false, jurisdiction: 'US-CA', createdAt: new Date() };
    const first = await writer.submit(write(merchantId, { ops: [{ kind: 'insert', table: 'TaxRegistration', rows: [{ id: newId('TaxRegistration'), ...registration }] }] }), noPublish);
    expect(first.ok).toBe(true);
    const second = await writer.submit(write(merchantId, { ops: [{ kind: 'insert', table: 'TaxRegistration', rows: [{ id: newId('TaxRegistration'), ...registration }] }] }), noPublish);
    expect(second).toMatchObject({ ok: false, reason: 'guard' });
    expect(await api.db.taxRegistration.count({ where: { merchantId } })).toBe(1);
    expect(await api.db.activity.count({ where: { merchantId, type: 'test.entry' } })).toBe(1);
  });
});
