// Coupons through the public GraphQL API: createCoupon (validation field by field, case-insensitive unique
// codes per merchant and mode, idempotent replays), coupon/coupons/node, and deactivateCoupon.
import { describe, expect, it } from 'vitest';
import { graphql } from '../generated/index.js';
import { api, CreateCoupon, GetCoupon, CreateOrder, GetOrder, coupon, pct, fixed, lineInput, order, apply, applyOk, remove, redeem, type Delta } from '../support/coupons.js';

const DeactivateCoupon = graphql(`
  mutation CouponsDeactivate($input: DeactivateCouponInput!) {
    deactivateCoupon(input: $input) {
      coupon { ...CouponsCouponFields }
      userErrors { code message field }
    }
  }
`);

const ListCoupons = graphql(`
  query CouponsList {
    coupons { id code active }
  }
`);

const NodeCoupon = graphql(`
  query CouponsNode($id: ID!) {
    node(id: $id) { id ... on Coupon { code } }
  }
`);

async function createCouponErrors(key: string, input: Record<string, unknown>) {
  const data = await api.exec(CreateCoupon, { input: { type: 'PERCENTAGE', ...input } as never }, key);
  expect(data.createCoupon.coupon).toBeNull();
  return data.createCoupon.userErrors;
}

// --- createCoupon, coupon, coupons, node ----------------------------------------------------------

describe('createCoupon', () => {
  it('creates percentage and fixed-amount coupons with defaults, readable by code (any case), list and node', async () => {
    const { key, merchantId } = await api.signup();
    const p = await coupon(key, pct('Save10', '10'));
    expect(p).toMatchObject({
      code: 'Save10',
      name: 'Save10',
      type: 'PERCENTAGE',
      percentOff: '10',
      amountOffMoney: null,
      stackable: false,
      priority: 0,
      appliesToSkus: [],
      minimumSubtotalMoney: null,
      maxRedemptions: null,
      maxRedemptionsPerCustomer: null,
      timesRedeemed: 0,
      startsAt: null,
      expiresAt: null,
      active: true,
    });
    expect(p.id).toMatch(/^cpn_/);
    const f = await coupon(key, {
      ...fixed('FIVE_OFF', 500),
      name: 'Five off shirts',
      stackable: true,
      priority: 3,
      appliesToSkus: ['SHIRT', ' SHIRT ', 'HAT'],
      minimumSubtotalMoney: { amount: 2000, currency: 'USD' },
      maxRedemptions: 100,
      maxRedemptionsPerCustomer: 1,
      startsAt: '2020-01-01T00:00:00.000Z',
      expiresAt: '2999-01-01T00:00:00.000Z',
    });
    expect(f).toMatchObject({
      code: 'FIVE_OFF',
      name: 'Five off shirts',
      type: 'FIXED_AMOUNT',
      percentOff: null,
      amountOffMoney: { amount: 500, currency: 'USD' },
      stackable: true,
      priority: 3,
      appliesToSkus: ['SHIRT', 'HAT'],
      minimumSubtotalMoney: { amount: 2000, currency: 'USD' },
      maxRedemptions: 100,
      maxRedemptionsPerCustomer: 1,
      startsAt: '2020-01-01T00:00:00.000Z',
      expiresAt: '2999-01-01T00:00:00.000Z',
    });

    expect((await api.exec(GetCoupon, { code: 'sAvE10' }, key)).coupon?.id).toBe(p.id);
    expect((await api.exec(GetCoupon, { code: 'five_off' }, key)).coupon?.id).toBe(f.id);
    expect((await api.exec(GetCoupon, { code: 'NOPE' }, key)).coupon).toBeNull();
    expect((await api.exec(ListCoupons, {}, key)).coupons.map((c) => c.code)).toEqual(['FIVE_OFF', 'Save10']);
    expect((await api.exec(NodeCoupon, { id: p.id }, key)).node).toEqual({ id: p.id, code: 'Save10' });

    const created = await api.db.activity.findMany({ where: { merchantId, type: 'coupon.created' }, orderBy: { id: 'asc' } });
    expect(created.map((a) => (a.delta as Delta).after?.code)).toEqual(['Save10', 'FIVE_OFF']);
    expect(created.every((a) => a.orderId === null && (a.delta as Delta).before === null)).toBe(true);
  });

  it('codes are unique per merchant case-insensitively; another merchant or mode can reuse them and cannot see them', async () => {
    const a = await api.signup();
    const b = await api.signup();
    const mine = await coupon(a.key, pct('WELCOME', '5'));
    const dup = await createCouponErrors(a.key, pct('welcome', '7'));
    expect(dup).toEqual([expect.objectContaining({ code: 'INVALID_INPUT', field: ['input', 'code'] })]);
    expect(dup[0]!.message).toContain('already exists');
    // Another merchant: its own WELCOME, and mine is invisible.
    const theirs = await coupon(b.key, pct('Welcome', '50'));
    expect((await api.exec(GetCoupon, { code: 'welcome' }, b.key)).coupon?.id).toBe(theirs.id);
    expect((await api.exec(NodeCoupon, { id: mine.id }, b.key)).node).toBeNull();
    expect((await api.exec(ListCoupons, {}, b.key)).coupons.map((c) => c.id)).toEqual([theirs.id]);
    const o = await order(b.key, [{ amount: 1000 }]);
    const applied = await applyOk(b.key, o.id, 'WELCOME');
    expect(applied.discounts.map((d) => d.couponId)).toEqual([theirs.id]);
  });

  it('refuses invalid coupons field by field and writes nothing', async () => {
    const { key, merchantId } = await api.signup();
    const cases: [Record<string, unknown>, string, string[]][] = [
      [pct('', '10'), 'INVALID_INPUT', ['input', 'code']],
      [pct('HAS SPACE', '10'), 'INVALID_INPUT', ['input', 'code']],
      [pct('X'.repeat(65), '10'), 'INVALID_INPUT', ['input', 'code']],
      [pct('ÄPFEL', '10'), 'INVALID_INPUT', ['input', 'code']],
      [{ code: 'P1', type: 'PERCENTAGE' }, 'INVALID_INPUT', ['input', 'percentOff']],
      [pct('P2', '0'), 'INVALID_INPUT', ['input', 'percentOff']],
      [pct('P3', '100.01'), 'INVALID_INPUT', ['input', 'percentOff']],
      [pct('P4', '-5'), 'INVALID_INPUT', ['input', 'percentOff']],
      [pct('P5', '1e1'), 'INVALID_INPUT', ['input', 'percentOff']],
      [{ ...pct('P6', '10'), amountOffMoney: { amount: 5, currency: 'USD' } }, 'INVALID_INPUT', ['input', 'amountOffMoney']],
      [{ code: 'F1', type: 'FIXED_AMOUNT' }, 'INVALID_INPUT', ['input', 'amountOffMoney']],
      [fixed('F2', 0), 'INVALID_INPUT', ['input', 'amountOffMoney', 'amount']],
      [fixed('F3', -100), 'INVALID_INPUT', ['input', 'amountOffMoney', 'amount']],
      [fixed('F4', 100, {}, 'XYZ'), 'INVALID_INPUT', ['input', 'amountOffMoney', 'currency']],
      [{ ...fixed('F5', 100), percentOff: '10' }, 'INVALID_INPUT', ['input', 'percentOff']],
      [fixed('F6', 100, { minimumSubtotalMoney: { amount: 1000, currency: 'EUR' } }), 'CURRENCY_MISMATCH', ['input', 'minimumSubtotalMoney', 'currency']],
      [pct('M1', '10', { minimumSubtotalMoney: { amount: -1, currency: 'USD' } }), 'INVALID_INPUT', ['input', 'minimumSubtotalMoney', 'amount']],
      [pct('L1', '10', { maxRedemptions: 0 }), 'INVALID_INPUT', ['input', 'maxRedemptions']],
      [pct('L2', '10', { maxRedemptionsPerCustomer: -1 }), 'INVALID_INPUT', ['input', 'maxRedemptionsPerCustomer']],
      [pct('T1', '10', { expiresAt: '2001-01-01T00:00:00Z' }), 'INVALID_INPUT', ['input', 'expiresAt']],
      [pct('T2', '10', { startsAt: '2999-06-01T00:00:00Z', expiresAt: '2999-01-01T00:00:00Z' }), 'INVALID_INPUT', ['input', 'startsAt']],
      [pct('S1', '10', { appliesToSkus: ['  '] }), 'INVALID_INPUT', ['input', 'appliesToSkus', '0']],
      [pct('N1', '10', { name: 'n'.repeat(201) }), 'INVALID_INPUT', ['input', 'name']],
    ];
    for (const [input, code, field] of cases) {
      const errors = await createCouponErrors(key, input);
      expect(errors, JSON.stringify(input)).toEqual([expect.objectContaining({ code, field })]);
      expect(errors[0]!.message.length).toBeGreaterThan(20);
    }
    expect(await api.db.coupon.count({ where: { merchantId } })).toBe(0);
    expect(await api.db.activity.count({ where: { merchantId, type: 'coupon.created' } })).toBe(0);
  });

  it('replays createCoupon with the same idempotency key without creating a second coupon', async () => {
    const { key, merchantId } = await api.signup();
    const input = { ...pct('ONCE', '10'), idempotencyKey: 'coupon-once' };
    const first = await api.exec(CreateCoupon, { input: input as never }, key);
    const second = await api.exec(CreateCoupon, { input: input as never }, key);
    expect(second.createCoupon.coupon?.id).toBe(first.createCoupon.coupon?.id);
    expect(await api.db.coupon.count({ where: { merchantId } })).toBe(1);
    const reused = await api.exec(CreateCoupon, { input: { ...input, percentOff: '20' } as never }, key);
    expect(reused.createCoupon.userErrors.map((e) => e.code)).toEqual(['IDEMPOTENCY_KEY_REUSED']);
  });
});

// --- deactivateCoupon -------------------------------------------------------------------------------

describe('deactivateCoupon', () => {
  it('deactivates once (activity once), refuses new applications, keeps attached ones priced and removable', async () => {
    const { key, merchantId } = await api.signup();
    await coupon(key, pct('GONE', '10', { stackable: true }));
    const o = await order(key, [{ amount: 1000 }], { couponCodes: ['gone'] });
    expect(o.netAmounts.discountMoney.amount).toBe(100);

    const d = await api.exec(DeactivateCoupon, { input: { code: 'Gone' } }, key);
    expect(d.deactivateCoupon.userErrors).toEqual([]);
    expect(d.deactivateCoupon.coupon).toMatchObject({ code: 'GONE', active: false });
    const again = await api.exec(DeactivateCoupon, { input: { code: 'GONE' } }, key);
    expect(again.deactivateCoupon.coupon?.active).toBe(false);
    const acts = await api.db.activity.findMany({ where: { merchantId, type: 'coupon.deactivated' } });
    expect(acts).toHaveLength(1);
    expect(acts[0]!.delta).toMatchObject({ before: { active: true }, after: { active: false, code: 'GONE' } });
    expect((await api.exec(GetCoupon, { code: 'gone' }, key)).coupon?.active).toBe(false);

    const unknown = await api.exec(DeactivateCoupon, { input: { code: 'NEVER' } }, key);
    expect(unknown.deactivateCoupon.userErrors).toEqual([expect.objectContaining({ code: 'COUPON_NOT_FOUND', field: ['input', 'code'] })]);

    // New orders cannot use it...
    const o2 = await order(key, [{ amount: 1000 }]);
    const refused = await apply(key, o2.id, 'GONE');
    expect(refused.userErrors).toEqual([expect.objectContaining({ code: 'COUPON_NOT_FOUND', field: ['input', 'code'] })]);
    expect(refused.userErrors[0]!.message).toContain('deactivated');
    const created = await api.exec(CreateOrder, { input: { lineItems: [lineInput({ amount: 1000 }, 0)], couponCodes: ['GONE'] } }, key);
    expect(created.createOrder.userErrors).toEqual([expect.objectContaining({ code: 'COUPON_NOT_FOUND', field: ['input', 'couponCodes', '0'] })]);

    // ...the order that has it keeps its price, and the payment step refuses it until removed.
    expect((await api.exec(GetOrder, { id: o.id }, key)).order?.netAmounts.discountMoney.amount).toBe(100);
    const paid = await redeem(merchantId, o.id);
    expect(paid.ok).toBe(false);
    if (!paid.ok) expect(paid.errors.map((e) => e.code)).toEqual(['COUPON_NOT_FOUND']);
    const removed = await remove(key, o.id, 'gone');
    expect(removed.userErrors).toEqual([]);
    expect(removed.order?.discounts).toEqual([]);
    expect(removed.order?.netAmounts.totalMoney.amount).toBe(1000);
  });
});
