// Idempotency keys on order edits through the public API (addLineItems, updateLineItem, removeLineItem,
// setShippingAddress, cancelOrder replay without a second effect, also concurrently), and the request
// identity: an optional field sent as null is the same request as one left out.
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { graphql } from '../generated/index.js';
import { api, AddLines, CancelOrder, line, orderInput, counts, createOk, getOrder } from '../support/idempotency.js';

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
