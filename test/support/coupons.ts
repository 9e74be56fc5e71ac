// Shared setup of the coupon tests (test/api/coupons-*.test.ts): importing it starts the test server for the
// importing file with a clock a test can pin (`time.pinnedNow`); typed documents and helpers to create
// coupons and orders, apply, remove and redeem coupons.
import { expect } from 'vitest';
import { graphql } from '../generated/index.js';
import { useTestApi } from './api.js';
import { systemClock, type Clock, type Scope } from '../../src/kernel/context.js';
import { redeemCoupons } from '../../src/coupons/apply.js';

/** Real time unless a test pins it. */
export const time: { pinnedNow: Date | null } = { pinnedNow: null };
export const clock: Clock = { now: () => time.pinnedNow ?? new Date() };
export const api = useTestApi({ clock });

export const CouponFields = graphql(`
  fragment CouponsCouponFields on Coupon {
    id
    code
    name
    type
    percentOff
    amountOffMoney { amount currency }
    stackable
    priority
    appliesToSkus
    minimumSubtotalMoney { amount currency }
    maxRedemptions
    maxRedemptionsPerCustomer
    timesRedeemed
    startsAt
    expiresAt
    active
    createdAt
  }
`);
void CouponFields;

export const OrderFields = graphql(`
  fragment CouponsOrderFields on Order {
    id
    status
    version
    currency
    summary
    lineItems {
      id
      sku
      grossMoney { amount currency }
      discountMoney { amount currency }
      discounts { code amountMoney { amount currency } }
      taxMoney { amount }
      totalMoney { amount }
    }
    discounts { couponId code name type amountMoney { amount currency } }
    netAmounts {
      subtotalMoney { amount currency }
      discountMoney { amount currency }
      taxMoney { amount }
      totalMoney { amount currency }
      balanceMoney { amount }
    }
    availableActions { action mutation description }
    activity { type idempotencyKey delta }
  }
`);
void OrderFields;

export const CreateCoupon = graphql(`
  mutation CouponsCreateCoupon($input: CreateCouponInput!) {
    createCoupon(input: $input) {
      coupon { ...CouponsCouponFields }
      userErrors { code message field }
    }
  }
`);

export const GetCoupon = graphql(`
  query CouponsGet($code: String!) {
    coupon(code: $code) { ...CouponsCouponFields }
  }
`);

export const CreateOrder = graphql(`
  mutation CouponsCreateOrder($input: CreateOrderInput!) {
    createOrder(input: $input) {
      order { ...CouponsOrderFields }
      userErrors { code message field }
    }
  }
`);

export const ApplyCoupon = graphql(`
  mutation CouponsApply($input: ApplyCouponInput!) {
    applyCoupon(input: $input) {
      order { ...CouponsOrderFields }
      userErrors { code message field }
    }
  }
`);

export const RemoveCoupon = graphql(`
  mutation CouponsRemove($input: RemoveCouponInput!) {
    removeCoupon(input: $input) {
      order { ...CouponsOrderFields }
      userErrors { code message field }
    }
  }
`);

export const GetOrder = graphql(`
  query CouponsGetOrder($id: ID!) {
    order(id: $id) { ...CouponsOrderFields }
  }
`);

// --- helpers ---------------------------------------------------------------------------------------

export type CouponSpec = Record<string, unknown> & { code: string };

export async function coupon(key: string, spec: CouponSpec) {
  const input = { type: 'PERCENTAGE', ...spec } as Record<string, unknown>;
  const data = await api.exec(CreateCoupon, { input: input as never }, key);
  expect(data.createCoupon.userErrors).toEqual([]);
  return data.createCoupon.coupon!;
}

export const pct = (code: string, percentOff: string, extra: Record<string, unknown> = {}) => ({ code, type: 'PERCENTAGE', percentOff, ...extra });
export const fixed = (code: string, amount: number, extra: Record<string, unknown> = {}, currency = 'USD') => ({
  code,
  type: 'FIXED_AMOUNT',
  amountOffMoney: { amount, currency },
  ...extra,
});

export type LineSpec = { amount: number; quantity?: number; sku?: string; name?: string; currency?: string };
export const lineInput = (l: LineSpec, i: number) => ({
  name: l.name ?? `Line ${i + 1}`,
  quantity: l.quantity ?? 1,
  unitPriceMoney: { amount: l.amount, currency: l.currency ?? 'USD' },
  ...(l.sku ? { sku: l.sku } : {}),
});

export async function order(key: string, lines: LineSpec[], extra: Record<string, unknown> = {}) {
  const data = await api.exec(CreateOrder, { input: { lineItems: lines.map(lineInput), ...extra } as never }, key);
  expect(data.createOrder.userErrors).toEqual([]);
  return data.createOrder.order!;
}

export async function apply(key: string, orderId: string, code: string, extra: Record<string, unknown> = {}) {
  const data = await api.exec(ApplyCoupon, { input: { orderId, code, ...extra } }, key);
  return data.applyCoupon;
}

export async function applyOk(key: string, orderId: string, code: string) {
  const r = await apply(key, orderId, code);
  expect(r.userErrors).toEqual([]);
  return r.order!;
}

export async function remove(key: string, orderId: string, code: string, extra: Record<string, unknown> = {}) {
  const data = await api.exec(RemoveCoupon, { input: { orderId, code, ...extra } }, key);
  return data.removeCoupon;
}

export function scopeOf(merchantId: string): Scope {
  return { deps: { db: api.db, clock: systemClock }, merchantId, livemode: false, actor: { type: 'SYSTEM', id: null, name: 'test' } };
}

/** The redemption step the payments feature runs in the write that reserves its payment. */
export async function redeem(merchantId: string, orderId: string, at = new Date()) {
  return redeemCoupons(scopeOf(merchantId), orderId, at);
}
export type Delta = { before: Record<string, unknown> | null; after: Record<string, unknown> | null };
