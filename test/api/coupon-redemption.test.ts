// The redemption step (src/coupons/coupons.ts redeemCoupons: planRedemptions, then the write's
// couponUses, exactly what payOrder's reserving write carries), called directly: usage limits hold exactly under concurrency (30
// orders at once, several rounds), coupons shared by many orders cannot deadlock, the re-checks at
// payment time (deactivated, expired, limits, unknown customer), idempotence, tenancy, and that
// coupons taking nothing are not counted.
import { describe, expect, it } from 'vitest';
import { graphql } from '../generated/index.js';
import { useTestApi } from '../support/api.js';
import { systemClock, type Scope } from '../../src/kernel/context.js';
import { redeemCoupons, releaseCouponRedemptions } from '../../src/coupons/apply.js';
import type { Outcome } from '../../src/kernel/errors.js';

const api = useTestApi();

const CreateCoupon = graphql(`
  mutation RedemptionCreateCoupon($input: CreateCouponInput!) {
    createCoupon(input: $input) {
      coupon { id code timesRedeemed }
      userErrors { code message field }
    }
  }
`);

const CreateOrder = graphql(`
  mutation RedemptionCreateOrder($input: CreateOrderInput!) {
    createOrder(input: $input) {
      order { id lineItems { id } discounts { code amountMoney { amount } } }
      userErrors { code message field }
    }
  }
`);

const RemoveLine = graphql(`
  mutation RedemptionRemoveLine($input: RemoveLineItemInput!) {
    removeLineItem(input: $input) {
      order { id discounts { code amountMoney { amount } } }
      userErrors { code message field }
    }
  }
`);

const Deactivate = graphql(`
  mutation RedemptionDeactivate($input: DeactivateCouponInput!) {
    deactivateCoupon(input: $input) { userErrors { code message field } }
  }
`);

const GetCoupon = graphql(`
  query RedemptionGetCoupon($code: String!) {
    coupon(code: $code) { id timesRedeemed }
  }
`);

// --- helpers ---------------------------------------------------------------------------------------

let codeCounter = 0;
async function coupon(key: string, extra: Record<string, unknown>, expiresAt?: string) {
  codeCounter += 1;
  const code = `R${codeCounter}_${Math.random().toString(36).slice(2, 8)}`;
  const input = { code, type: 'PERCENTAGE', percentOff: '10', stackable: true, ...extra, ...(expiresAt ? { expiresAt } : {}) };
  const data = await api.exec(CreateCoupon, { input: input as never }, key);
  expect(data.createCoupon.userErrors).toEqual([]);
  return data.createCoupon.coupon!;
}

async function order(key: string, codes: string[], extra: Record<string, unknown> = {}, amounts = [1000, 500]) {
  const lineItems = amounts.map((amount, i) => ({ name: `Item ${i}`, quantity: 1, unitPriceMoney: { amount, currency: 'USD' } }));
  const data = await api.exec(CreateOrder, { input: { lineItems, couponCodes: codes, ...extra } as never }, key);
  expect(data.createOrder.userErrors).toEqual([]);
  return data.createOrder.order!;
}

function scopeOf(merchantId: string): Scope {
  return { deps: { db: api.db, clock: systemClock }, merchantId, livemode: false, actor: { type: 'SYSTEM', id: null, name: 'payments test' } };
}

/** As the payments feature does: redeem in one write; a userError writes nothing. */
async function pay(merchantId: string, orderId: string, at = new Date(), buyerEmail?: string): Promise<Outcome<null>> {
  return redeemCoupons(scopeOf(merchantId), orderId, at, buyerEmail === undefined ? {} : { buyerEmail });
}

async function state(couponId: string) {
  const [row, redemptions] = await Promise.all([
    api.db.coupon.findUniqueOrThrow({ where: { id: couponId } }),
    api.db.couponRedemption.count({ where: { couponId } }),
  ]);
  return { timesRedeemed: row.timesRedeemed, redemptions };
}

const ROUNDS = 5;
const ORDERS = 30;
/** Each round makes 30 orders through the API and pays them at once; generous for a loaded machine. */
const RACE_TIMEOUT_MS = 180_000;

// --- races ------------------------------------------------------------------------------------------

describe('redeemCoupons under concurrency', () => {
  it(`maxRedemptions 1: of ${ORDERS} orders paid at the same moment exactly one redeems, in each of ${ROUNDS} rounds`, async () => {
    const { key, merchantId } = await api.signup();
    for (let round = 0; round < ROUNDS; round++) {
      const c = await coupon(key, { maxRedemptions: 1 });
      const orders = await Promise.all(Array.from({ length: ORDERS }, (_, i) => order(key, [c.code], { customerId: `cus_${round}_${i}` })));
      const results = await Promise.all(orders.map((o) => pay(merchantId, o.id)));
      const won = results.filter((r) => r.ok);
      expect(won, `round ${round}`).toHaveLength(1);
      for (const r of results) if (!r.ok) expect(r.errors.map((e) => e.code)).toEqual(['COUPON_USAGE_LIMIT_REACHED']);
      expect(await state(c.id)).toEqual({ timesRedeemed: 1, redemptions: 1 });
      expect((await api.exec(GetCoupon, { code: c.code }, key)).coupon?.timesRedeemed).toBe(1);
    }
  }, RACE_TIMEOUT_MS);

  it(`maxRedemptionsPerCustomer 1: of ${ORDERS} orders of one customer exactly one redeems, in each of ${ROUNDS} rounds; other customers are not affected`, async () => {
    const { key, merchantId } = await api.signup();
    for (let round = 0; round < ROUNDS; round++) {
      const c = await coupon(key, { maxRedemptionsPerCustomer: 1 });
      const same = await Promise.all(Array.from({ length: ORDERS }, () => order(key, [c.code], { buyerEmail: `Buyer${round}@Example.com` })));
      const results = await Promise.all(same.map((o) => pay(merchantId, o.id)));
      expect(results.filter((r) => r.ok), `round ${round}`).toHaveLength(1);
      for (const r of results) if (!r.ok) expect(r.errors.map((e) => e.code)).toEqual(['COUPON_USAGE_LIMIT_REACHED']);
      expect(await state(c.id)).toEqual({ timesRedeemed: 1, redemptions: 1 });
    }
    // The limit is per customer: as many different customers at once all redeem.
    const c = await coupon(key, { maxRedemptionsPerCustomer: 1 });
    const distinct = await Promise.all(Array.from({ length: ORDERS }, (_, i) => order(key, [c.code], { customerId: `cus_distinct_${i}` })));
    const results = await Promise.all(distinct.map((o) => pay(merchantId, o.id)));
    expect(results.filter((r) => r.ok)).toHaveLength(ORDERS);
    expect(await state(c.id)).toEqual({ timesRedeemed: ORDERS, redemptions: ORDERS });
  }, RACE_TIMEOUT_MS);

  it('orders sharing two limited coupons, attached in opposite orders, never deadlock and never exceed either limit', async () => {
    const { key, merchantId } = await api.signup();
    for (let round = 0; round < 3; round++) {
      const a = await coupon(key, { maxRedemptions: 7 });
      const b = await coupon(key, { maxRedemptions: 7, type: 'FIXED_AMOUNT', percentOff: null, amountOffMoney: { amount: 50, currency: 'USD' } });
      const orders = await Promise.all(
        Array.from({ length: ORDERS }, (_, i) => order(key, i % 2 === 0 ? [a.code, b.code] : [b.code, a.code], { customerId: `cus_${i}` })),
      );
      const results = await Promise.all(orders.map((o) => pay(merchantId, o.id)));
      expect(results.filter((r) => r.ok), `round ${round}`).toHaveLength(7);
      // All or nothing per order: both coupons counted exactly for the orders that were paid.
      expect(await state(a.id)).toEqual({ timesRedeemed: 7, redemptions: 7 });
      expect(await state(b.id)).toEqual({ timesRedeemed: 7, redemptions: 7 });
    }
  }, RACE_TIMEOUT_MS);
});

// --- re-checks at payment time ---------------------------------------------------------------------

describe('redeemCoupons re-checks and bookkeeping', () => {
  it('refuses, writing nothing, a coupon that expired or was deactivated since it was applied', async () => {
    const { key, merchantId } = await api.signup();
    const expiresAt = new Date(Date.now() + 60 * 60 * 1000);
    const expiring = await coupon(key, {}, expiresAt.toISOString());
    const o = await order(key, [expiring.code]);
    const late = await pay(merchantId, o.id, new Date(expiresAt.getTime()));
    expect(late.ok).toBe(false);
    if (!late.ok) {
      expect(late.errors.map((e) => e.code)).toEqual(['COUPON_EXPIRED']);
      expect(late.errors[0]!.message).toContain('removeCoupon');
    }
    expect(await state(expiring.id)).toEqual({ timesRedeemed: 0, redemptions: 0 });
    expect((await pay(merchantId, o.id, new Date(expiresAt.getTime() - 1))).ok).toBe(true);
    expect(await state(expiring.id)).toEqual({ timesRedeemed: 1, redemptions: 1 });

    const dropped = await coupon(key, {});
    const o2 = await order(key, [dropped.code]);
    expect((await api.exec(Deactivate, { input: { code: dropped.code } }, key)).deactivateCoupon.userErrors).toEqual([]);
    const refused = await pay(merchantId, o2.id);
    expect(refused.ok).toBe(false);
    if (!refused.ok) expect(refused.errors.map((e) => e.code)).toEqual(['COUPON_NOT_FOUND']);
    expect(await state(dropped.id)).toEqual({ timesRedeemed: 0, redemptions: 0 });
  });

  it('one failing coupon fails the whole redemption: the other coupons of the order are not counted either', async () => {
    const { key, merchantId } = await api.signup();
    const fine = await coupon(key, {});
    const full = await coupon(key, { maxRedemptions: 1 });
    const first = await order(key, [full.code]);
    const both = await order(key, [fine.code, full.code]);
    expect((await pay(merchantId, first.id)).ok).toBe(true);
    const r = await pay(merchantId, both.id);
    expect(r.ok).toBe(false);
    expect(await state(fine.id)).toEqual({ timesRedeemed: 0, redemptions: 0 });
    expect(await state(full.id)).toEqual({ timesRedeemed: 1, redemptions: 1 });
  });

  it('a per-customer coupon needs the order (or the payment) to name its customer', async () => {
    const { key, merchantId } = await api.signup();
    const c = await coupon(key, { maxRedemptionsPerCustomer: 2 });
    const anonymous = await order(key, [c.code]);
    const r = await pay(merchantId, anonymous.id);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors).toEqual([expect.objectContaining({ code: 'INVALID_INPUT', field: ['input', 'buyerEmail'] })]);
    // The email given with the payment names the customer.
    const once = await coupon(key, { maxRedemptionsPerCustomer: 1 });
    const anon1 = await order(key, [once.code]);
    const anon2 = await order(key, [once.code]);
    expect((await pay(merchantId, anon1.id, new Date(), 'Pat@Example.com')).ok).toBe(true);
    const again = await pay(merchantId, anon2.id, new Date(), 'pat@example.com');
    expect(again.ok).toBe(false);
    if (!again.ok) expect(again.errors.map((e) => e.code)).toEqual(['COUPON_USAGE_LIMIT_REACHED']);
    // The customer is the customerId when given, else the email in lower case.
    const a = await order(key, [c.code], { customerId: 'cus_1', buyerEmail: 'x@example.com' });
    const b = await order(key, [c.code], { buyerEmail: 'CUS_1@example.com' });
    const c2 = await order(key, [c.code], { customerId: 'cus_1' });
    const c3 = await order(key, [c.code], { customerId: 'cus_1' });
    expect((await pay(merchantId, a.id)).ok).toBe(true);
    expect((await pay(merchantId, b.id)).ok).toBe(true);
    expect((await pay(merchantId, c2.id)).ok).toBe(true);
    const third = await pay(merchantId, c3.id);
    expect(third.ok).toBe(false);
    if (!third.ok) expect(third.errors.map((e) => e.code)).toEqual(['COUPON_USAGE_LIMIT_REACHED']);
  });

  it('is idempotent per order, skips coupons that take nothing, and respects tenancy', async () => {
    const { key, merchantId } = await api.signup();
    const c = await coupon(key, {});
    const o = await order(key, [c.code]);
    expect((await pay(merchantId, o.id)).ok).toBe(true);
    expect((await pay(merchantId, o.id)).ok).toBe(true);
    expect(await state(c.id)).toEqual({ timesRedeemed: 1, redemptions: 1 });

    // Attached but below its minimum after a line was removed: takes nothing, not counted, not checked.
    const min = await coupon(key, { minimumSubtotalMoney: { amount: 1500, currency: 'USD' }, maxRedemptions: 1 });
    const m = await order(key, [min.code]);
    const removed = await api.exec(RemoveLine, { input: { orderId: m.id, lineItemId: m.lineItems[1]!.id } }, key);
    expect(removed.removeLineItem.order?.discounts).toEqual([{ code: min.code, amountMoney: { amount: 0 } }]);
    expect((await pay(merchantId, m.id)).ok).toBe(true);
    expect(await state(min.id)).toEqual({ timesRedeemed: 0, redemptions: 0 });

    // No coupon at all: nothing to do.
    const plain = await order(key, []);
    expect((await pay(merchantId, plain.id)).ok).toBe(true);

    // Another merchant cannot redeem this merchant's order.
    const other = await api.signup();
    const foreign = await order(key, [c.code]);
    const r = await pay(other.merchantId, foreign.id);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors.map((e) => e.code)).toEqual(['NOT_FOUND']);
    expect(await state(c.id)).toEqual({ timesRedeemed: 1, redemptions: 1 });
  });

  it('releaseCouponRedemptions gives the uses of an unpaid order back, once', async () => {
    const { key, merchantId } = await api.signup();
    const c = await coupon(key, { maxRedemptions: 1 });
    const declined = await order(key, [c.code]);
    const next = await order(key, [c.code]);
    expect((await pay(merchantId, declined.id)).ok).toBe(true);
    expect((await pay(merchantId, next.id)).ok).toBe(false);
    // The charge of `declined` failed: its uses are released (concurrently twice: given back once).
    await Promise.all([0, 1].map(() => releaseCouponRedemptions(scopeOf(merchantId), declined.id)));
    // Given back once: a second release would have taken timesRedeemed below 0.
    expect(await state(c.id)).toEqual({ timesRedeemed: 0, redemptions: 0 });
    expect((await pay(merchantId, next.id)).ok).toBe(true);
    expect(await state(c.id)).toEqual({ timesRedeemed: 1, redemptions: 1 });
  });
});
