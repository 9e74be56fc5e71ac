// Coupons through the public GraphQL API: startsAt and expiresAt under a test clock, minimum subtotal (refused
// at apply, kept but idle when lines change), usage limits; applyCoupon/removeCoupon as order edits (activity
// with the netAmounts delta, version, expectedVersion, idempotency keys, OPEN only, concurrent applies).
import { describe, expect, it } from 'vitest';
import { graphql } from '../generated/index.js';
import { time, api, GetCoupon, CreateOrder, GetOrder, coupon, pct, fixed, lineInput, order, apply, applyOk, remove, redeem, type Delta } from '../support/coupons.js';

const UpdateLine = graphql(`
  mutation CouponsUpdateLine($input: UpdateLineItemInput!) {
    updateLineItem(input: $input) {
      order { ...CouponsOrderFields }
      userErrors { code message field }
    }
  }
`);

const RemoveLine = graphql(`
  mutation CouponsRemoveLine($input: RemoveLineItemInput!) {
    removeLineItem(input: $input) {
      order { ...CouponsOrderFields }
      userErrors { code message field }
    }
  }
`);

const CancelOrder = graphql(`
  mutation CouponsCancel($input: CancelOrderInput!) {
    cancelOrder(input: $input) {
      order { id status }
      userErrors { code message field }
    }
  }
`);
const net = (side: Record<string, unknown> | null | undefined) => side?.netAmounts as { subtotal: number; discount: number; total: number } | undefined;

// --- time, minimum, usage limits --------------------------------------------------------------------

describe('validity over time, minimum subtotal and usage limits', () => {
  it('startsAt and expiresAt with an injected clock: not yet active, active (startsAt inclusive), expired (expiresAt exclusive)', async () => {
    const { key } = await api.signup();
    const t0 = new Date('2031-03-01T12:00:00.000Z');
    const day = 24 * 60 * 60 * 1000;
    time.pinnedNow = t0;
    try {
      await coupon(key, pct('SPRING', '10', { startsAt: new Date(t0.getTime() + day).toISOString(), expiresAt: new Date(t0.getTime() + 2 * day).toISOString() }));
      const o = await order(key, [{ amount: 1000 }]);
      const early = await apply(key, o.id, 'spring');
      expect(early.userErrors).toEqual([expect.objectContaining({ code: 'COUPON_NOT_YET_ACTIVE', field: ['input', 'code'] })]);
      expect(early.userErrors[0]!.message).toContain('2031-03-02T12:00:00.000Z');
      const created = await api.exec(CreateOrder, { input: { lineItems: [lineInput({ amount: 1000 }, 0)], couponCodes: ['SPRING'] } }, key);
      expect(created.createOrder.userErrors).toEqual([expect.objectContaining({ code: 'COUPON_NOT_YET_ACTIVE', field: ['input', 'couponCodes', '0'] })]);

      time.pinnedNow = new Date(t0.getTime() + day);
      expect((await applyOk(key, o.id, 'SPRING')).netAmounts.discountMoney.amount).toBe(100);
      expect((await remove(key, o.id, 'SPRING')).userErrors).toEqual([]);

      time.pinnedNow = new Date(t0.getTime() + 2 * day - 1);
      expect((await applyOk(key, o.id, 'SPRING')).netAmounts.discountMoney.amount).toBe(100);
      expect((await remove(key, o.id, 'SPRING')).userErrors).toEqual([]);

      time.pinnedNow = new Date(t0.getTime() + 2 * day);
      const late = await apply(key, o.id, 'SPRING');
      expect(late.userErrors).toEqual([expect.objectContaining({ code: 'COUPON_EXPIRED', field: ['input', 'code'] })]);
      expect(late.userErrors[0]!.message).toContain('2031-03-03T12:00:00.000Z');
      const createdLate = await api.exec(CreateOrder, { input: { lineItems: [lineInput({ amount: 1000 }, 0)], couponCodes: ['SPRING'] } }, key);
      expect(createdLate.createOrder.userErrors.map((e) => e.code)).toEqual(['COUPON_EXPIRED']);
    } finally {
      time.pinnedNow = null;
    }
  });

  it('minimum subtotal: refused when applied; once attached it stays when lines change, takes nothing and says so, then applies again', async () => {
    const { key } = await api.signup();
    await coupon(key, pct('SAVE10', '10', { minimumSubtotalMoney: { amount: 5000, currency: 'USD' } }));
    const small = await order(key, [{ amount: 3800 }]);
    const refused = await apply(key, small.id, 'save10');
    expect(refused.userErrors).toEqual([expect.objectContaining({ code: 'COUPON_MINIMUM_NOT_MET', field: ['input', 'code'] })]);
    expect(refused.userErrors[0]!.message).toContain('add 12.00 USD more to reach the 50.00 USD minimum');
    const createdSmall = await api.exec(CreateOrder, { input: { lineItems: [lineInput({ amount: 3800 }, 0)], couponCodes: ['SAVE10'] } }, key);
    expect(createdSmall.createOrder.userErrors).toEqual([expect.objectContaining({ code: 'COUPON_MINIMUM_NOT_MET', field: ['input', 'couponCodes', '0'] })]);

    // Exactly the minimum qualifies.
    const o = await order(key, [{ amount: 3000 }, { amount: 2000 }], { couponCodes: ['SAVE10'] });
    expect(o.netAmounts.discountMoney.amount).toBe(500);
    expect(o.summary).not.toContain('needs');

    // Dropping below the minimum: still attached, takes nothing, the order says what is missing.
    const dropped = (await api.exec(RemoveLine, { input: { orderId: o.id, lineItemId: o.lineItems[1]!.id } }, key)).removeLineItem.order!;
    expect(dropped.discounts).toEqual([expect.objectContaining({ code: 'SAVE10', amountMoney: { amount: 0, currency: 'USD' } })]);
    expect(dropped.netAmounts.discountMoney.amount).toBe(0);
    expect(dropped.netAmounts.totalMoney.amount).toBe(3000);
    expect(dropped.summary).toContain('coupon SAVE10 needs 20.00 USD more');
    const add = dropped.availableActions.find((a) => a.action === 'ADD_LINE_ITEMS');
    expect(add?.description).toContain('coupon SAVE10 needs 20.00 USD more');
    expect(dropped.availableActions.map((a) => a.action)).toContain('REMOVE_COUPON');

    // Back above the minimum: it applies again by itself.
    const again = (await api.exec(UpdateLine, { input: { orderId: o.id, lineItemId: o.lineItems[0]!.id, quantity: 2 } }, key)).updateLineItem.order!;
    expect(again.discounts).toEqual([expect.objectContaining({ code: 'SAVE10', amountMoney: { amount: 600, currency: 'USD' } })]);
    expect(again.summary).not.toContain('needs');
    expect(again.availableActions.find((a) => a.action === 'ADD_LINE_ITEMS')?.description).not.toContain('needs');
  });

  it('usage limit: a coupon used up (and one used up by this customer) is COUPON_USAGE_LIMIT_REACHED', async () => {
    const { key, merchantId } = await api.signup();
    const once = await coupon(key, pct('ONCE', '10', { maxRedemptions: 1 }));
    const first = await order(key, [{ amount: 1000 }], { couponCodes: ['ONCE'] });
    // Before the first order is paid, others may still apply it (the count is taken at payment).
    const second = await order(key, [{ amount: 1000 }], { couponCodes: ['ONCE'] });
    expect((await redeem(merchantId, first.id)).ok).toBe(true);
    expect((await api.exec(GetCoupon, { code: 'once' }, key)).coupon?.timesRedeemed).toBe(1);
    const o = await order(key, [{ amount: 1000 }]);
    const r = await apply(key, o.id, 'once');
    expect(r.userErrors).toEqual([expect.objectContaining({ code: 'COUPON_USAGE_LIMIT_REACHED', field: ['input', 'code'] })]);
    // The second order can no longer be paid with it.
    const late = await redeem(merchantId, second.id);
    expect(late.ok).toBe(false);
    if (!late.ok) expect(late.errors.map((e) => e.code)).toEqual(['COUPON_USAGE_LIMIT_REACHED']);
    expect((await api.db.coupon.findUniqueOrThrow({ where: { id: once.id } })).timesRedeemed).toBe(1);

    await coupon(key, pct('PERCUST', '10', { maxRedemptionsPerCustomer: 1 }));
    const sarah = await order(key, [{ amount: 1000 }], { buyerEmail: 'Sarah@Example.com', couponCodes: ['PERCUST'] });
    expect((await redeem(merchantId, sarah.id)).ok).toBe(true);
    const sarahAgain = await order(key, [{ amount: 1000 }], { buyerEmail: 'sarah@example.COM' });
    const refused = await apply(key, sarahAgain.id, 'PERCUST');
    expect(refused.userErrors).toEqual([expect.objectContaining({ code: 'COUPON_USAGE_LIMIT_REACHED' })]);
    expect(refused.userErrors[0]!.message).toContain('per customer');
    const bob = await order(key, [{ amount: 1000 }], { buyerEmail: 'bob@example.com' });
    expect((await apply(key, bob.id, 'PERCUST')).userErrors).toEqual([]);
    const byId = await order(key, [{ amount: 1000 }], { customerId: 'cus_42', buyerEmail: 'sarah@example.com' });
    expect((await apply(key, byId.id, 'PERCUST')).userErrors).toEqual([]); // the customerId is who the customer is
  });
});

// --- the order edit machinery: activity, version, idempotency, lifecycle ----------------------------

describe('applyCoupon and removeCoupon as order edits', () => {
  it('record coupon.applied and coupon.removed with the netAmounts delta, bump the version, offer REMOVE_COUPON', async () => {
    const { key } = await api.signup();
    const c = await coupon(key, fixed('TAKE5', 500, { stackable: true }));
    const o = await order(key, [{ amount: 2000 }]);
    expect(o.availableActions.map((a) => a.action)).toContain('APPLY_COUPON');
    expect(o.availableActions.map((a) => a.action)).not.toContain('REMOVE_COUPON');
    const x = await applyOk(key, o.id, 'take5');
    expect(x.version).toBe(o.version + 1);
    expect(x.availableActions.map((a) => a.action)).toEqual(expect.arrayContaining(['APPLY_COUPON', 'REMOVE_COUPON']));
    const applied = x.activity.filter((a) => a.type === 'coupon.applied');
    expect(applied).toHaveLength(1);
    const d = applied[0]!.delta as Delta;
    expect(net(d.before)).toMatchObject({ subtotal: 2000, discount: 0, total: 2000 });
    expect(net(d.after)).toMatchObject({ subtotal: 2000, discount: 500, total: 1500 });
    expect(d.after?.coupon).toMatchObject({ id: c.id, code: 'TAKE5', discount: 500 });

    const y = (await remove(key, o.id, 'TAKE5')).order!;
    expect(y.version).toBe(x.version + 1);
    const removed = y.activity.filter((a) => a.type === 'coupon.removed');
    expect(removed).toHaveLength(1);
    const rd = removed[0]!.delta as Delta;
    expect(net(rd.before)).toMatchObject({ discount: 500, total: 1500 });
    expect(net(rd.after)).toMatchObject({ discount: 0, total: 2000 });
    expect(rd.before?.coupon).toMatchObject({ code: 'TAKE5', discount: 500 });
    expect(y.availableActions.map((a) => a.action)).not.toContain('REMOVE_COUPON');

    // createOrder(couponCodes) records the coupons on order.created.
    const z = await order(key, [{ amount: 2000 }], { couponCodes: ['TAKE5'] });
    expect((z.activity.find((a) => a.type === 'order.created')!.delta as Delta).after?.coupons).toEqual(['TAKE5']);
  });

  it('honour expectedVersion and idempotency keys, and only while the order is OPEN', async () => {
    const { key } = await api.signup();
    await coupon(key, pct('V1', '10', { stackable: true }));
    await coupon(key, pct('V2', '20', { stackable: true }));
    const o = await order(key, [{ amount: 1000 }]);
    const stale = await apply(key, o.id, 'V1', { expectedVersion: o.version + 5 });
    expect(stale.userErrors).toEqual([expect.objectContaining({ code: 'VERSION_CONFLICT' })]);

    const once = await apply(key, o.id, 'V1', { expectedVersion: o.version, idempotencyKey: 'apply-v1' });
    expect(once.userErrors).toEqual([]);
    const replay = await apply(key, o.id, 'V1', { expectedVersion: o.version, idempotencyKey: 'apply-v1' });
    expect(replay.userErrors).toEqual([]);
    expect(replay.order?.version).toBe(once.order?.version);
    expect(replay.order?.activity.filter((a) => a.type === 'coupon.applied')).toHaveLength(1);

    const canceled = await api.exec(CancelOrder, { input: { orderId: o.id } }, key);
    expect(canceled.cancelOrder.userErrors).toEqual([]);
    expect((await apply(key, o.id, 'V2')).userErrors).toEqual([expect.objectContaining({ code: 'ORDER_NOT_EDITABLE' })]);
    expect((await remove(key, o.id, 'V1')).userErrors).toEqual([expect.objectContaining({ code: 'ORDER_NOT_EDITABLE' })]);

    // Another merchant's order reads as not found.
    const other = await api.signup();
    expect((await apply(other.key, o.id, 'V1')).userErrors).toEqual([expect.objectContaining({ code: 'NOT_FOUND', field: ['input', 'orderId'] })]);
  });

  it('applying the same coupon concurrently to one order attaches it once', async () => {
    const { key } = await api.signup();
    await coupon(key, pct('RACE', '10', { stackable: true }));
    const o = await order(key, [{ amount: 1000 }]);
    const results = await Promise.all(Array.from({ length: 8 }, () => apply(key, o.id, 'RACE')));
    expect(results.filter((r) => r.userErrors.length === 0)).toHaveLength(1);
    expect(results.filter((r) => r.userErrors[0]?.code === 'COUPON_ALREADY_APPLIED')).toHaveLength(7);
    const final = (await api.exec(GetOrder, { id: o.id }, key)).order!;
    expect(final.discounts).toHaveLength(1);
    expect(final.netAmounts.discountMoney.amount).toBe(100);
  });
});
