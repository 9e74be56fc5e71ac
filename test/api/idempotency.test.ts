// Idempotency keys through the public API: replay returns the stored result without a second effect,
// a different input or operation is IDEMPOTENCY_KEY_REUSED with nothing written, concurrent requests
// with one key make exactly one order, keys are scoped per merchant, edits replay too.
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { graphql } from '../generated/index.js';
import { useTestApi } from '../support/api.js';
import type { Clock } from '../../src/kernel/context.js';

/** Real time plus an offset a test can move forward (keys are kept at least 24 hours). */
let offsetMs = 0;
const clock: Clock = { now: () => new Date(Date.now() + offsetMs) };
const api = useTestApi({ clock });

const OrderFields = graphql(`
  fragment IdemOrderFields on Order {
    id
    status
    version
    customerId
    lineItems { id name quantity totalMoney { amount } }
    netAmounts { subtotalMoney { amount } taxMoney { amount } totalMoney { amount currency } }
    activity { id type idempotencyKey }
  }
`);
void OrderFields;

const CreateOrder = graphql(`
  mutation IdemCreate($input: CreateOrderInput!) {
    createOrder(input: $input) {
      order { ...IdemOrderFields }
      userErrors { code message field }
    }
  }
`);

const AddLines = graphql(`
  mutation IdemAddLines($input: AddLineItemsInput!) {
    addLineItems(input: $input) {
      order { ...IdemOrderFields }
      userErrors { code message field }
    }
  }
`);

const UpdateLine = graphql(`
  mutation IdemUpdateLine($input: UpdateLineItemInput!) {
    updateLineItem(input: $input) {
      order { ...IdemOrderFields }
      userErrors { code message field }
    }
  }
`);

const RemoveLine = graphql(`
  mutation IdemRemoveLine($input: RemoveLineItemInput!) {
    removeLineItem(input: $input) {
      order { ...IdemOrderFields }
      userErrors { code message field }
    }
  }
`);

const SetShipping = graphql(`
  mutation IdemSetShipping($input: SetShippingAddressInput!) {
    setShippingAddress(input: $input) {
      order { ...IdemOrderFields }
      userErrors { code message field }
    }
  }
`);

const CancelOrder = graphql(`
  mutation IdemCancel($input: CancelOrderInput!) {
    cancelOrder(input: $input) {
      order { ...IdemOrderFields }
      userErrors { code message field }
    }
  }
`);

const GetOrder = graphql(`
  query IdemGet($id: ID!) {
    order(id: $id) { ...IdemOrderFields }
  }
`);

// --- helpers ---------------------------------------------------------------------------------------

const line = (name: string, amount: number, quantity = 1, currency = 'USD') => ({ name, quantity, unitPriceMoney: { amount, currency } });

const orderInput = (idempotencyKey?: string, extra: Record<string, unknown> = {}) => ({
  customerId: 'cus_idem',
  buyerEmail: 'buyer@example.com',
  lineItems: [line('Beans', 1999, 2), line('Mug', 1450)],
  metadata: { cart: 'c_1' },
  ...(idempotencyKey !== undefined ? { idempotencyKey } : {}),
  ...extra,
});

async function counts(merchantId: string) {
  const db = api.db;
  const [orders, lineItems, activity, keys] = await Promise.all([
    db.order.count({ where: { merchantId } }),
    db.lineItem.count({ where: { merchantId } }),
    db.activity.count({ where: { merchantId } }),
    db.idempotencyKey.count({ where: { merchantId } }),
  ]);
  return { orders, lineItems, activity, keys };
}

async function createOk(key: string, input: Record<string, unknown>) {
  const data = await api.exec(CreateOrder, { input: input as never }, key);
  expect(data.createOrder.userErrors).toEqual([]);
  return data.createOrder.order!;
}

async function getOrder(key: string, id: string) {
  const data = await api.exec(GetOrder, { id }, key);
  return data.order!;
}

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
      offsetMs = 24 * 60 * 60 * 1000 - 60 * 1000;
      const later = await createOk(key, orderInput(idem));
      expect(later.id).toBe(first.id);
      const changed = await api.exec(CreateOrder, { input: orderInput(idem, { customerId: 'cus_later' }) }, key);
      expect(changed.createOrder.userErrors.map((e) => e.code)).toEqual(['IDEMPOTENCY_KEY_REUSED']);
    } finally {
      offsetMs = 0;
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

// --- edits -----------------------------------------------------------------------------------------------

describe('edits with an idempotencyKey', () => {
  it('addLineItems replays without adding twice (version bumps once)', async () => {
    const { key, merchantId } = await api.signup();
    const order = await createOk(key, orderInput());
    const idem = randomUUID();
    const input = { orderId: order.id, lineItems: [line('Filter', 500)], idempotencyKey: idem };
    const first = await api.exec(AddLines, { input }, key);
    expect(first.addLineItems.userErrors).toEqual([]);
    expect(first.addLineItems.order!.version).toBe(2);
    const afterFirst = await counts(merchantId);
    const second = await api.exec(AddLines, { input }, key);
    expect(second.addLineItems.userErrors).toEqual([]);
    expect(second.addLineItems.order!.id).toBe(order.id);
    expect(second.addLineItems.order!.version).toBe(2);
    expect(second.addLineItems.order!.lineItems).toHaveLength(3);
    expect(await counts(merchantId)).toEqual(afterFirst);
    const read = await getOrder(key, order.id);
    expect(read.version).toBe(2);
    expect(read.lineItems.map((l) => l.name)).toEqual(['Beans', 'Mug', 'Filter']);
    expect(read.netAmounts.totalMoney.amount).toBe(3998 + 1450 + 500);
    expect(read.activity.map((a) => [a.type, a.idempotencyKey])).toEqual([
      ['order.created', null],
      ['order.line_items_added', idem],
    ]);
    // Same key, other lines: refused, nothing added.
    const other = await api.exec(AddLines, { input: { ...input, lineItems: [line('Other', 1)] } }, key);
    expect(other.addLineItems.userErrors.map((e) => e.code)).toEqual(['IDEMPOTENCY_KEY_REUSED']);
    expect(await counts(merchantId)).toEqual(afterFirst);
  });

  it('10 concurrent addLineItems with one key add the line once', async () => {
    const { key } = await api.signup();
    const order = await createOk(key, orderInput());
    const input = { orderId: order.id, lineItems: [line('Once', 250)], idempotencyKey: randomUUID() };
    const results = await Promise.all(Array.from({ length: 10 }, () => api.exec(AddLines, { input }, key)));
    const ok = results.filter((r) => r.addLineItems.userErrors.length === 0);
    expect(ok.length).toBeGreaterThanOrEqual(1);
    for (const r of results) {
      if (r.addLineItems.userErrors.length > 0) expect(r.addLineItems.userErrors.map((e) => e.code)).toEqual(['IDEMPOTENCY_KEY_IN_USE']);
    }
    const read = await getOrder(key, order.id);
    expect(read.version).toBe(2);
    expect(read.lineItems.map((l) => l.name)).toEqual(['Beans', 'Mug', 'Once']);
  });

  it('updateLineItem, removeLineItem and setShippingAddress replay without a second effect', async () => {
    const { key, merchantId } = await api.signup();
    const order = await createOk(key, orderInput());
    const beans = order.lineItems[0]!;
    const mug = order.lineItems[1]!;

    const upd = { orderId: order.id, lineItemId: beans.id, quantity: 5, expectedVersion: 1, idempotencyKey: randomUUID() };
    expect((await api.exec(UpdateLine, { input: upd }, key)).updateLineItem.order!.version).toBe(2);
    // The replay carries expectedVersion 1 although the order is at 2: it is the stored result, not a conflict.
    const updReplay = (await api.exec(UpdateLine, { input: upd }, key)).updateLineItem;
    expect(updReplay.userErrors).toEqual([]);
    expect(updReplay.order!.version).toBe(2);

    const rem = { orderId: order.id, lineItemId: mug.id, idempotencyKey: randomUUID() };
    expect((await api.exec(RemoveLine, { input: rem }, key)).removeLineItem.order!.version).toBe(3);
    const remReplay = (await api.exec(RemoveLine, { input: rem }, key)).removeLineItem;
    // Replaying the removal of a line that is gone is not NOT_FOUND: it is the stored result.
    expect(remReplay.userErrors).toEqual([]);
    expect(remReplay.order!.version).toBe(3);

    const ship = { orderId: order.id, shippingAddress: { country: 'US', region: 'CA' }, idempotencyKey: randomUUID() };
    expect((await api.exec(SetShipping, { input: ship }, key)).setShippingAddress.order!.version).toBe(4);
    const before = await counts(merchantId);
    expect((await api.exec(SetShipping, { input: ship }, key)).setShippingAddress.order!.version).toBe(4);
    expect(await counts(merchantId)).toEqual(before);

    const read = await getOrder(key, order.id);
    expect(read.version).toBe(4);
    expect(read.lineItems.map((l) => [l.name, l.quantity])).toEqual([['Beans', 5]]);
    expect(read.activity.map((a) => a.type)).toEqual(['order.created', 'order.line_item_updated', 'order.line_item_removed', 'order.shipping_address_set']);
  });

  it('cancelOrder replays as success instead of INVALID_STATE_TRANSITION, recording the cancel once', async () => {
    const { key, merchantId } = await api.signup();
    const order = await createOk(key, orderInput());
    const input = { orderId: order.id, reason: 'duplicate', idempotencyKey: randomUUID() };
    const first = (await api.exec(CancelOrder, { input }, key)).cancelOrder;
    expect(first.userErrors).toEqual([]);
    expect(first.order!.status).toBe('CANCELED');
    const before = await counts(merchantId);
    const replay = (await api.exec(CancelOrder, { input }, key)).cancelOrder;
    expect(replay.userErrors).toEqual([]);
    expect(replay.order!.status).toBe('CANCELED');
    expect(replay.order!.version).toBe(2);
    expect(await counts(merchantId)).toEqual(before);
    const read = await getOrder(key, order.id);
    expect(read.activity.map((a) => a.type)).toEqual(['order.created', 'order.canceled', 'order.status_changed']);
    // Without the key (or with a new one) it is a new request, refused by the lifecycle.
    const again = (await api.exec(CancelOrder, { input: { orderId: order.id, reason: 'duplicate', idempotencyKey: randomUUID() } }, key)).cancelOrder;
    expect(again.userErrors.map((e) => e.code)).toEqual(['INVALID_STATE_TRANSITION']);
  });
});

describe('request identity', () => {
  it('treats an optional field sent as null like one left out (same request, replayed)', async () => {
    const { key, merchantId } = await api.signup();
    const idem = randomUUID();
    const first = await createOk(key, orderInput(idem));
    const before = await counts(merchantId);
    const again = await createOk(key, orderInput(idem, { shippingAddress: null, couponCodes: null }));
    expect(again.id).toBe(first.id);
    expect(await counts(merchantId)).toEqual(before);
  });
});
