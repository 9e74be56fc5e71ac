// Idempotency keys on createOrder through the public API: replay returns the stored result without a second
// effect, a different input or operation is IDEMPOTENCY_KEY_REUSED with nothing written, concurrent requests
// with one key make exactly one order, keys are scoped per merchant, kept 24 hours, and validated.
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { time, api, CreateOrder, AddLines, CancelOrder, line, orderInput, counts, createOk, getOrder } from '../support/idempotency.js';

// --- createOrder ----------------------------------------------------------------------------------------

describe('createOrder with an idempotencyKey', () => {
  it('replays the same key + input: same order, one order row, one activity row', async () => {
    const { key, merchantId } = await api.signup();
    const idem = randomUUID();
    const start = await counts(merchantId);
    const first = await createOk(key, orderInput(idem));
    const afterFirst = await counts(merchantId);
    expect(afterFirst.orders).toBe(start.orders + 1);
    expect(afterFirst.activity).toBe(start.activity + 1);
    expect(first.activity.map((a) => [a.type, a.idempotencyKey])).toEqual([['order.created', idem]]);

    const second = await createOk(key, orderInput(idem));
    const third = await createOk(key, orderInput(idem));
    expect(second.id).toBe(first.id);
    expect(third.id).toBe(first.id);
    expect(second).toEqual(first);

    expect(await counts(merchantId)).toEqual(afterFirst);
    expect(await api.db.order.count({ where: { merchantId } })).toBe(1);
    expect(await api.db.activity.count({ where: { orderId: first.id } })).toBe(1);
    expect(await api.db.lineItem.count({ where: { orderId: first.id } })).toBe(2);
  });

  it('treats the same input with its fields in another order as the same request', async () => {
    const { key, merchantId } = await api.signup();
    const idem = randomUUID();
    const first = await createOk(key, orderInput(idem));
    const input = orderInput(idem);
    const reordered = Object.fromEntries(Object.entries(input).reverse());
    const second = await createOk(key, reordered);
    expect(second.id).toBe(first.id);
    expect(await api.db.order.count({ where: { merchantId } })).toBe(1);
  });

  it('refuses the same key with a different input (IDEMPOTENCY_KEY_REUSED) and writes nothing', async () => {
    const { key, merchantId } = await api.signup();
    const idem = randomUUID();
    const first = await createOk(key, orderInput(idem));
    const before = await counts(merchantId);
    for (const changed of [
      orderInput(idem, { customerId: 'cus_other' }),
      orderInput(idem, { lineItems: [line('Beans', 1999, 3), line('Mug', 1450)] }),
      orderInput(idem, { metadata: { cart: 'c_2' } }),
    ]) {
      const data = await api.exec(CreateOrder, { input: changed as never }, key);
      expect(data.createOrder.order).toBeNull();
      expect(data.createOrder.userErrors.map((e) => [e.code, e.field])).toEqual([['IDEMPOTENCY_KEY_REUSED', ['input', 'idempotencyKey']]]);
    }
    expect(await counts(merchantId)).toEqual(before);
    // The original is untouched and still replays.
    const replay = await createOk(key, orderInput(idem));
    expect(replay.id).toBe(first.id);
    expect(replay.customerId).toBe('cus_idem');
    expect(replay.lineItems.map((l) => l.quantity)).toEqual([2, 1]);
  });

  it('refuses a key used for another operation (IDEMPOTENCY_KEY_REUSED) and changes nothing', async () => {
    const { key, merchantId } = await api.signup();
    const idem = randomUUID();
    const order = await createOk(key, orderInput(idem));
    const before = await counts(merchantId);
    const add = await api.exec(AddLines, { input: { orderId: order.id, lineItems: [line('Extra', 100)], idempotencyKey: idem } }, key);
    expect(add.addLineItems.order).toBeNull();
    expect(add.addLineItems.userErrors.map((e) => [e.code, e.field])).toEqual([['IDEMPOTENCY_KEY_REUSED', ['input', 'idempotencyKey']]]);
    expect(add.addLineItems.userErrors[0]!.message).toContain('createOrder');
    const cancel = await api.exec(CancelOrder, { input: { orderId: order.id, idempotencyKey: idem } }, key);
    expect(cancel.cancelOrder.userErrors.map((e) => e.code)).toEqual(['IDEMPOTENCY_KEY_REUSED']);
    expect(await counts(merchantId)).toEqual(before);
    const read = await getOrder(key, order.id);
    expect(read.status).toBe('OPEN');
    expect(read.version).toBe(1);
    expect(read.lineItems).toHaveLength(2);
  });

  it('20 concurrent identical requests with one key make exactly one order', async () => {
    const { key, merchantId } = await api.signup();
    const idem = randomUUID();
    const results = await Promise.all(Array.from({ length: 20 }, () => api.exec(CreateOrder, { input: orderInput(idem) }, key)));
    const successes = results.filter((r) => r.createOrder.userErrors.length === 0).map((r) => r.createOrder.order);
    const failures = results.filter((r) => r.createOrder.userErrors.length > 0);
    expect(successes.length).toBeGreaterThanOrEqual(1);
    for (const s of successes) expect(s).not.toBeNull();
    const ids = new Set(successes.map((s) => s!.id));
    expect(ids.size).toBe(1);
    // The only acceptable refusal is "still running, retry".
    for (const f of failures) {
      expect(f.createOrder.order).toBeNull();
      expect(f.createOrder.userErrors.map((e) => [e.code, e.field])).toEqual([['IDEMPOTENCY_KEY_IN_USE', ['input', 'idempotencyKey']]]);
    }
    expect(await api.db.order.count({ where: { merchantId } })).toBe(1);
    const [orderId] = [...ids];
    expect(await api.db.lineItem.count({ where: { merchantId } })).toBe(2);
    expect(await api.db.activity.count({ where: { orderId } })).toBe(1);
    // A retry after the dust settles replays the one order.
    const retry = await createOk(key, orderInput(idem));
    expect(retry.id).toBe(orderId);
  });

  it('concurrent requests with one key but different inputs: one order, the rest refused', async () => {
    const { key, merchantId } = await api.signup();
    const idem = randomUUID();
    const results = await Promise.all(
      Array.from({ length: 6 }, (_, i) => api.exec(CreateOrder, { input: orderInput(idem, { customerId: `cus_${i}` }) }, key)),
    );
    const successes = results.filter((r) => r.createOrder.userErrors.length === 0);
    expect(successes).toHaveLength(1);
    for (const r of results) {
      if (r.createOrder.userErrors.length > 0) {
        expect(r.createOrder.order).toBeNull();
        expect(['IDEMPOTENCY_KEY_REUSED', 'IDEMPOTENCY_KEY_IN_USE']).toContain(r.createOrder.userErrors[0]!.code);
      }
    }
    expect(await api.db.order.count({ where: { merchantId } })).toBe(1);
    expect(await api.db.activity.count({ where: { merchantId, type: 'order.created' } })).toBe(1);
  });

  it('scopes keys per merchant: merchant B can use A’s key string freely', async () => {
    const a = await api.signup();
    const b = await api.signup();
    const idem = `shared-key-${randomUUID()}`;
    const orderA = await createOk(a.key, orderInput(idem));
    // B: same key, different input — not REUSED, B gets its own order.
    const orderB = await createOk(b.key, orderInput(idem, { customerId: 'cus_b', lineItems: [line('Tea', 700)] }));
    expect(orderB.id).not.toBe(orderA.id);
    expect(orderB.customerId).toBe('cus_b');
    // B: same key, same input as A — still B's own order, not A's.
    const c = await api.signup();
    const orderC = await createOk(c.key, orderInput(idem));
    expect(orderC.id).not.toBe(orderA.id);
    expect(await api.db.order.count({ where: { merchantId: a.merchantId } })).toBe(1);
    expect(await api.db.order.count({ where: { merchantId: b.merchantId } })).toBe(1);
    expect(await api.db.order.count({ where: { merchantId: c.merchantId } })).toBe(1);
    // A's replay still returns A's order.
    expect((await createOk(a.key, orderInput(idem))).id).toBe(orderA.id);
    expect((await createOk(b.key, orderInput(idem, { customerId: 'cus_b', lineItems: [line('Tea', 700)] }))).id).toBe(orderB.id);
  });

  it('keeps a key for at least 24 hours: a replay 23h59m later still returns the same order', async () => {
    const { key, merchantId } = await api.signup();
    const idem = randomUUID();
    const first = await createOk(key, orderInput(idem));
    try {
      time.offsetMs = 24 * 60 * 60 * 1000 - 60 * 1000;
      const later = await createOk(key, orderInput(idem));
      expect(later.id).toBe(first.id);
      const changed = await api.exec(CreateOrder, { input: orderInput(idem, { customerId: 'cus_later' }) }, key);
      expect(changed.createOrder.userErrors.map((e) => e.code)).toEqual(['IDEMPOTENCY_KEY_REUSED']);
    } finally {
      time.offsetMs = 0;
    }
    expect(await api.db.order.count({ where: { merchantId } })).toBe(1);
  });

  it('does not store a key for a request refused by validation: it can be used again', async () => {
    const { key, merchantId } = await api.signup();
    const idem = randomUUID();
    const bad = await api.exec(CreateOrder, { input: orderInput(idem, { lineItems: [line('Beans', 1999, 0)] }) }, key);
    expect(bad.createOrder.userErrors.map((e) => [e.code, e.field])).toEqual([['INVALID_INPUT', ['input', 'lineItems', '0', 'quantity']]]);
    expect(await counts(merchantId)).toMatchObject({ orders: 0, keys: 0 });
    const good = await createOk(key, orderInput(idem));
    expect(good.id).toMatch(/^ord_/);
    expect(await api.db.order.count({ where: { merchantId } })).toBe(1);
  });

  it('validates the key itself: 1 to 255 characters', async () => {
    const { key, merchantId } = await api.signup();
    for (const bad of ['', 'k'.repeat(256)]) {
      const data = await api.exec(CreateOrder, { input: orderInput(bad) }, key);
      expect(data.createOrder.order).toBeNull();
      expect(data.createOrder.userErrors.map((e) => [e.code, e.field])).toEqual([['INVALID_INPUT', ['input', 'idempotencyKey']]]);
    }
    expect((await counts(merchantId)).orders).toBe(0);
    const ok = await createOk(key, orderInput('k'.repeat(255)));
    expect(ok.activity[0]!.idempotencyKey).toBe('k'.repeat(255));
  });
});
