// Orders through the public GraphQL API: cancelOrder and the availableActions of OPEN and CANCELED orders.
import { describe, expect, it } from 'vitest';
import { graphql } from '../generated/index.js';
import { api, AddLines, UpdateLine, RemoveLine, SetShipping, CancelOrder, line, create, createSimple, getOrder, counts, type Delta, CA } from '../support/orders.js';

const MutationNames = graphql(`
  query OrdersMutationNames {
    __schema { mutationType { fields { name } } }
    __type(name: "OrderActionType") { enumValues { name } }
  }
`);

// --- cancel & availableActions --------------------------------------------------------------------------

describe('cancelOrder and availableActions', () => {
  /** Mutations this server offers and the OrderActionType values it knows (the schema may grow). */
  async function introspect(key: string): Promise<{ mutations: Set<string>; actions: Set<string> }> {
    const data = await api.exec(MutationNames, {}, key);
    return {
      mutations: new Set((data.__schema.mutationType?.fields ?? []).map((f) => f.name)),
      actions: new Set((data.__type?.enumValues ?? []).map((v) => v.name)),
    };
  }

  /** Actions §8 allows on an OPEN order with no coupon and no payment; `lines` says whether it has lines. */
  function openAllowed(lines: boolean): [string, string][] {
    const all: [string, string, boolean][] = [
      ['ADD_LINE_ITEMS', 'addLineItems', true],
      ['UPDATE_LINE_ITEM', 'updateLineItem', lines],
      ['REMOVE_LINE_ITEM', 'removeLineItem', lines],
      ['SET_SHIPPING_ADDRESS', 'setShippingAddress', true],
      ['APPLY_COUPON', 'applyCoupon', true],
      ['PAY', 'payOrder', lines],
      ['CREATE_CHECKOUT_SESSION', 'createCheckoutSession', lines],
      ['CANCEL', 'cancelOrder', true],
    ];
    return all.filter(([, , ok]) => ok).map(([a, m]) => [a, m]);
  }

  it('lists the actions of an OPEN order (with and without lines), each naming an existing mutation', async () => {
    const { key } = await api.signup();
    const { mutations, actions } = await introspect(key);
    const offered = ([a, m]: [string, string]) => mutations.has(m) && actions.has(a);
    const withLines = await createSimple(key);
    const got = withLines.availableActions.map((a) => [a.action, a.mutation] as [string, string]);
    expect(got.sort()).toEqual(openAllowed(true).filter(offered).sort());
    // The order-editing mutations exist on this server, so they must be offered.
    for (const a of ['ADD_LINE_ITEMS', 'UPDATE_LINE_ITEM', 'REMOVE_LINE_ITEM', 'CANCEL']) {
      expect(withLines.availableActions.map((x) => x.action)).toContain(a);
    }
    for (const a of withLines.availableActions) {
      expect(mutations.has(a.mutation)).toBe(true);
      expect(a.description.length).toBeGreaterThan(0);
    }
    // REMOVE_COUPON (no coupon), REFUND and CLOSE (not paid) are never offered on a fresh OPEN order.
    for (const a of ['REMOVE_COUPON', 'REFUND', 'CLOSE']) expect(withLines.availableActions.map((x) => x.action)).not.toContain(a);

    // Without line items, there is nothing to update, remove or pay.
    const empty = await create(key, { currency: 'USD', lineItems: [] });
    const gotEmpty = empty.availableActions.map((a) => [a.action, a.mutation] as [string, string]);
    expect(gotEmpty.sort()).toEqual(openAllowed(false).filter(offered).sort());
    expect(gotEmpty.map(([a]) => a)).not.toContain('UPDATE_LINE_ITEM');
    expect(gotEmpty.map(([a]) => a)).not.toContain('REMOVE_LINE_ITEM');
  });

  it('cancels an OPEN order: CANCELED, activity, no more edits, no second cancel, no actions', async () => {
    const { key, merchantId } = await api.signup();
    const order = await createSimple(key, {}, [line({ name: 'A', quantity: 1, amount: 500 }), line({ name: 'B', quantity: 2, amount: 250 })]);
    const cancel = await api.exec(CancelOrder, { input: { orderId: order.id, reason: 'customer changed mind' } }, key);
    expect(cancel.cancelOrder.userErrors).toEqual([]);
    const canceled = cancel.cancelOrder.order!;
    expect(canceled.status).toBe('CANCELED');
    expect(canceled.version).toBe(2);
    expect(canceled.availableActions).toEqual([]);
    // Amounts stay as they were; nothing is due on a canceled order... the totals are kept for the record.
    expect(canceled.netAmounts.subtotalMoney.amount).toBe(1000);
    expect(canceled.netAmounts.paidMoney.amount).toBe(0);

    const read = await getOrder(key, order.id);
    expect(read.status).toBe('CANCELED');
    expect(read.availableActions).toEqual([]);
    expect(read.activity.map((a) => a.type)).toEqual(['order.created', 'order.canceled', 'order.status_changed']);
    const statusChange = read.activity[2]!.delta as Delta;
    expect(statusChange).toEqual({ before: { status: 'OPEN' }, after: { status: 'CANCELED' } });
    const canceledDelta = read.activity[1]!.delta as Delta;
    expect(canceledDelta.after).toMatchObject({ status: 'CANCELED', reason: 'customer changed mind' });

    const before = await counts(merchantId);
    const lineId = read.lineItems[0]!.id;
    const attempts = [
      (await api.exec(AddLines, { input: { orderId: order.id, lineItems: [line({ name: 'C', quantity: 1, amount: 1 })] } }, key)).addLineItems,
      (await api.exec(UpdateLine, { input: { orderId: order.id, lineItemId: lineId, quantity: 3 } }, key)).updateLineItem,
      (await api.exec(RemoveLine, { input: { orderId: order.id, lineItemId: lineId } }, key)).removeLineItem,
      (await api.exec(SetShipping, { input: { orderId: order.id, shippingAddress: CA } }, key)).setShippingAddress,
    ];
    for (const payload of attempts) {
      expect(payload.order).toBeNull();
      expect(payload.userErrors.map((e) => [e.code, e.field])).toEqual([['ORDER_NOT_EDITABLE', ['input', 'orderId']]]);
      expect(payload.userErrors[0]!.message).toContain('CANCELED');
    }

    const again = await api.exec(CancelOrder, { input: { orderId: order.id } }, key);
    expect(again.cancelOrder.order).toBeNull();
    expect(again.cancelOrder.userErrors).toHaveLength(1);
    const err = again.cancelOrder.userErrors[0]!;
    expect(err.code).toBe('INVALID_STATE_TRANSITION');
    expect(err.field).toEqual(['input', 'orderId']);
    expect(err.message).toContain('CANCELED');
    // It names what is allowed: on a terminal order, nothing.
    expect(err.message).toMatch(/No action is available/);

    expect(await counts(merchantId)).toEqual(before);
    const after = await getOrder(key, order.id);
    expect(after.version).toBe(2);
    expect(after.lineItems.map((l) => l.quantity)).toEqual([1, 2]);
  });

  it('refuses to update a line of an OPEN order that has no lines, without change', async () => {
    const { key } = await api.signup();
    const order = await create(key, { currency: 'USD', lineItems: [] });
    // No such line on an empty order: refused without change.
    const upd = await api.exec(UpdateLine, { input: { orderId: order.id, lineItemId: 'li_x', quantity: 1 } }, key);
    expect(upd.updateLineItem.order).toBeNull();
    expect(upd.updateLineItem.userErrors).toHaveLength(1);
    expect(['INVALID_INPUT', 'NOT_FOUND']).toContain(upd.updateLineItem.userErrors[0]!.code);
    expect((await getOrder(key, order.id)).version).toBe(1);
  });
});
