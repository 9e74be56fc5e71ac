// Coupons (pricing.md §4): create, deactivate, apply to / remove from an OPEN order, and redeem when the
// order is paid. The discount arithmetic is the pricing engine's (priceOrder); this file decides which
// coupons an order may carry and counts their use.
//
// Decisions where the issue, the contract and pricing.md are silent:
// - Codes are 1 to 64 of [A-Za-z0-9_-], shown as written, matched case-insensitively (normalizedCode =
//   upper case). A code stays taken after deactivation: coupon(code) still finds the deactivated one,
//   and createCoupon with that code is INVALID_INPUT.
// - One `currency` column holds the currency of amountOffMoney and of minimumSubtotalMoney; a coupon
//   giving both in different currencies is CURRENCY_MISMATCH at creation. A coupon with a currency
//   applies only to orders in that currency (CURRENCY_MISMATCH); a percentage coupon without a minimum
//   applies to any currency.
// - Checks at apply time, in this order, one userError per code: COUPON_NOT_FOUND (unknown or
//   deactivated), COUPON_ALREADY_APPLIED, COUPON_NOT_YET_ACTIVE / COUPON_EXPIRED (startsAt inclusive,
//   expiresAt exclusive), CURRENCY_MISMATCH, COUPON_USAGE_LIMIT_REACHED (total, then per customer when
//   the order names its customer), COUPON_NOT_STACKABLE, COUPON_MINIMUM_NOT_MET.
// - A coupon whose minimum is not met is refused when applied; one that stops qualifying later (lines
//   removed) stays attached, takes nothing, and the order says how much is missing (summary and
//   availableActions); it applies again as soon as the order qualifies.
// - A SKU-scoped coupon that matches no line may be applied: it takes nothing and Order.discounts
//   keeps it with amount 0 (there is no error code for it; the engine records why).
// - A deactivated coupon can no longer be applied (COUPON_NOT_FOUND). One already attached to an OPEN
//   order stays attached and keeps pricing the order (what the buyer was quoted); like an expired one,
//   it fails the payment in redeemCoupons with a userError telling to remove it (pricing.md §4: a
//   coupon that became invalid in between fails the payment, nothing is charged). removeCoupon always
//   works on attached coupons, deactivated or not.
// - Redemption counts only coupons that take something off the order when it is paid; an attached
//   coupon taking nothing (minimum not met, no matching SKU) is neither re-checked nor counted.
// - The customer of an order is its customerId, else its buyerEmail in lower case. Paying an order
//   that uses a coupon limited per customer needs one of them (INVALID_INPUT otherwise).
// - Deactivating an inactive coupon changes nothing and records nothing (like adding an existing tax
//   registration).
import type { Scope } from '../kernel/context.js';
import { type Outcome, type UserError, fail, ok, userError } from '../kernel/errors.js';
import { LIMITS, type Path } from '../kernel/validation.js';
import { readRows } from '../kernel/rows.js';
import { sqlPool } from '../db/prisma.js';
import type { LineRow, OrderRow } from '../orders/order-model.js';
import { formatMoney, type AppliedDiscountResult, type PricedOrder, type PricingCouponInput } from '../pricing/index.js';
import type { Coupon } from '../generated/prisma/client.js';

export type CouponRow = Coupon;
export type DiscountType = CouponRow['type'];

export const COUPON_CODE_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
export const COUPON_LIMITS = { nameMax: 200, skusMax: 100, amountMax: LIMITS.unitPriceMax * BigInt(LIMITS.quantityMax) } as const;

/** Codes match case-insensitively. */
export function normalizeCode(code: string): string {
  return code.trim().toUpperCase();
}

/** Who "a customer" is for maxRedemptionsPerCustomer: customerId, else buyerEmail in lower case. */
export function customerKeyOf(order: Pick<OrderRow, 'customerId' | 'buyerEmail'>): string | null {
  return order.customerId?.trim() || order.buyerEmail?.trim().toLowerCase() || null;
}

// ---------------------------------------------------------------------------------------------
// Pricing: coupons as the engine sees them

export function pricingCoupon(c: CouponRow): PricingCouponInput {
  return {
    id: c.id,
    code: c.code,
    name: c.name,
    type: c.type,
    percentOff: c.percentOff,
    amountOff: c.amountOff,
    appliesToSkus: c.appliesToSkus,
    priority: c.priority,
    minimumSubtotal: c.minimumSubtotal,
  };
}

/** An applied discount as stored in Order.discounts: the engine's result, plus what is missing for a minimum. */
export interface StoredDiscount extends AppliedDiscountResult {
  /** Set when the minimum subtotal is not met. */
  minimumSubtotal?: bigint;
  /** How much more the gross subtotal needs to reach the minimum; set when the minimum is not met. */
  shortfall?: bigint;
}

/** Adds the minimum and the shortfall to discounts whose minimum is not met (summary and availableActions say so). */
export function annotateDiscounts(priced: PricedOrder, coupons: readonly CouponRow[]): PricedOrder {
  const byId = new Map(coupons.map((c) => [c.id, c]));
  const discounts = priced.discounts.map((d): StoredDiscount => {
    const minimum = byId.get(d.couponId)?.minimumSubtotal ?? null;
    if (d.qualified || minimum === null) return d;
    return { ...d, minimumSubtotal: minimum, shortfall: minimum - priced.subtotal };
  });
  return { ...priced, discounts };
}

// ---------------------------------------------------------------------------------------------
// Validation: may these coupons be applied to this order?

export interface CouponOrderContext {
  currency: string;
  /** Σ quantity × unitPrice (the minimum compares with the gross subtotal). */
  grossSubtotal: bigint;
  customerKey: string | null;
  /** Coupons already attached to the order. */
  attached: readonly CouponRow[];
  at: Date;
}

export function grossSubtotal(lines: readonly Pick<LineRow, 'quantity' | 'unitPriceAmount'>[]): bigint {
  return lines.reduce((sum, l) => sum + BigInt(l.quantity) * l.unitPriceAmount, 0n);
}

export function listCodes(coupons: readonly CouponRow[]): string {
  return coupons.map((c) => `"${c.code}"`).join(', ');
}

/** Window check shared by apply and redeem: startsAt inclusive, expiresAt exclusive. */
export function windowError(c: CouponRow, at: Date, path: Path, whenPaid: boolean): UserError | null {
  const next = whenPaid ? ` Remove it with removeCoupon(input: {orderId, code: "${c.code}"}) and pay again; nothing was charged.` : '';
  if (c.startsAt && at.getTime() < c.startsAt.getTime()) {
    return userError(
      'COUPON_NOT_YET_ACTIVE',
      `Coupon "${c.code}" is valid from ${c.startsAt.toISOString()}; apply it from then on.${next}`,
      path,
    );
  }
  if (c.expiresAt && at.getTime() >= c.expiresAt.getTime()) {
    return userError('COUPON_EXPIRED', `Coupon "${c.code}" expired at ${c.expiresAt.toISOString()}; it can no longer be used.${next}`, path);
  }
  return null;
}

export function limitError(c: CouponRow, customerUses: number, customerKey: string | null, path: Path, whenPaid: boolean): UserError | null {
  const next = whenPaid ? ` Remove it with removeCoupon(input: {orderId, code: "${c.code}"}) and pay again; nothing was charged.` : ' Use another coupon.';
  if (c.maxRedemptions !== null && c.timesRedeemed >= c.maxRedemptions) {
    return userError('COUPON_USAGE_LIMIT_REACHED', `Coupon "${c.code}" has been used ${c.timesRedeemed} time(s), its limit (maxRedemptions ${c.maxRedemptions}).${next}`, path);
  }
  if (c.maxRedemptionsPerCustomer !== null && customerKey !== null && customerUses >= c.maxRedemptionsPerCustomer) {
    return userError(
      'COUPON_USAGE_LIMIT_REACHED',
      `This customer (${customerKey}) has already used coupon "${c.code}" ${customerUses} time(s), its limit per customer (maxRedemptionsPerCustomer ${c.maxRedemptionsPerCustomer}).${next}`,
      path,
    );
  }
  return null;
}

const COUPONS_BY_CODE_SQL = 'SELECT * FROM "Coupon" WHERE "merchantId" = $1 AND "livemode" = $2 AND "normalizedCode" = ANY($3::text[])';
const CUSTOMER_USES_SQL =
  'SELECT "couponId", count(*)::integer AS "uses" FROM "CouponRedemption" WHERE "couponId" = ANY($1::text[]) AND "customerKey" = $2 GROUP BY "couponId"';

/**
 * Finds the coupons named by `codes` and checks each may be applied to the order described by `ctx`
 * (next to the coupons already attached and to the earlier codes of the list). One userError per
 * refused code, at field(i); the coupons in input order otherwise.
 */
export async function resolveCoupons(
  scope: Scope,
  codes: readonly string[],
  ctx: CouponOrderContext,
  field: (i: number) => Path,
): Promise<Outcome<CouponRow[]>> {
  const normalized = codes.map((c) => (typeof c === 'string' ? normalizeCode(c) : ''));
  const wanted = [...new Set(normalized.filter((c) => COUPON_CODE_PATTERN.test(c)))];
  const pool = sqlPool(scope.deps.db);
  const found = wanted.length === 0 ? [] : await readRows<CouponRow>(pool, 'flint_coupons_by_code', COUPONS_BY_CODE_SQL, [scope.merchantId, scope.livemode, wanted]);
  const byCode = new Map(found.map((c) => [c.normalizedCode, c]));
  const limited = found.filter((c) => c.maxRedemptionsPerCustomer !== null).map((c) => c.id);
  const uses = new Map(
    ctx.customerKey === null || limited.length === 0
      ? []
      : (await readRows<{ couponId: string; uses: number }>(pool, 'flint_coupon_customer_uses', CUSTOMER_USES_SQL, [limited, ctx.customerKey])).map((u) => [u.couponId, u.uses]),
  );

  const errors: UserError[] = [];
  const accepted: CouponRow[] = [];
  const current: CouponRow[] = [...ctx.attached];
  normalized.forEach((code, i) => {
    const path = field(i);
    const shown = String(codes[i] ?? '').trim();
    const c = byCode.get(code);
    if (!c || !c.active) {
      errors.push(
        userError(
          'COUPON_NOT_FOUND',
          c
            ? `Coupon "${c.code}" has been deactivated and can no longer be applied.`
            : `No coupon with code "${shown}" exists for this merchant and mode. Check the code (codes are case-insensitive); the coupons query lists them.`,
          path,
        ),
      );
      return;
    }
    if (current.some((a) => a.id === c.id)) {
      errors.push(userError('COUPON_ALREADY_APPLIED', `Coupon "${c.code}" is already applied to this order; Order.discounts shows what it takes off.`, path));
      return;
    }
    const window = windowError(c, ctx.at, path, false);
    if (window) {
      errors.push(window);
      return;
    }
    if (c.currency !== null && c.currency !== ctx.currency) {
      const what = c.amountOff !== null ? `takes ${formatMoney(c.amountOff, c.currency)} off` : `has a minimum subtotal of ${formatMoney(c.minimumSubtotal ?? 0n, c.currency)} and applies only to`;
      errors.push(
        userError(
          'CURRENCY_MISMATCH',
          `Coupon "${c.code}" ${what} orders in ${c.currency}; this order is in ${ctx.currency}. Use a coupon in ${ctx.currency} (or a percentage coupon without a minimum).`,
          path,
        ),
      );
      return;
    }
    const limit = limitError(c, uses.get(c.id) ?? 0, ctx.customerKey, path, false);
    if (limit) {
      errors.push(limit);
      return;
    }
    if (current.length > 0 && !c.stackable) {
      errors.push(
        userError(
          'COUPON_NOT_STACKABLE',
          `Coupon "${c.code}" cannot be combined with other coupons, and the order already has ${listCodes(current)}. Remove ${current.length === 1 ? 'it' : 'them'} with removeCoupon first, or keep ${current.length === 1 ? 'it' : 'them'} instead.`,
          path,
        ),
      );
      return;
    }
    const blocker = current.find((a) => !a.stackable);
    if (blocker) {
      errors.push(
        userError(
          'COUPON_NOT_STACKABLE',
          `The order's coupon "${blocker.code}" cannot be combined with other coupons. Remove it with removeCoupon(input: {orderId, code: "${blocker.code}"}) to apply "${c.code}" instead.`,
          path,
        ),
      );
      return;
    }
    if (c.minimumSubtotal !== null && ctx.grossSubtotal < c.minimumSubtotal) {
      const cur = ctx.currency;
      errors.push(
        userError(
          'COUPON_MINIMUM_NOT_MET',
          `Coupon "${c.code}" needs a subtotal of at least ${formatMoney(c.minimumSubtotal, cur)}; this order's is ${formatMoney(ctx.grossSubtotal, cur)}: add ${formatMoney(c.minimumSubtotal - ctx.grossSubtotal, cur)} more to reach the ${formatMoney(c.minimumSubtotal, cur)} minimum.`,
          path,
        ),
      );
      return;
    }
    accepted.push(c);
    current.push(c);
  });
  return errors.length > 0 ? fail(...errors) : ok(accepted);
}

function redemptionErrors(coupons: readonly CouponRow[], uses: Map<string, number>, customerKey: string | null, at: Date): UserError[] {
  const path = ['input', 'orderId'];
  const errors: UserError[] = [];
  for (const c of coupons) {
    if (!c.active) {
      errors.push(
        userError(
          'COUPON_NOT_FOUND',
          `Coupon "${c.code}" has been deactivated since it was applied. Remove it with removeCoupon(input: {orderId, code: "${c.code}"}) and pay again; nothing was charged.`,
          path,
        ),
      );
      continue;
    }
    const window = windowError(c, at, path, true);
    if (window) {
      errors.push(window);
      continue;
    }
    if (c.maxRedemptionsPerCustomer !== null && customerKey === null) {
      errors.push(
        userError(
          'INVALID_INPUT',
          `Coupon "${c.code}" is limited to ${c.maxRedemptionsPerCustomer} use(s) per customer, and this order names no customer: give the buyer's email (buyerEmail) or create the order with a customerId.`,
          ['input', 'buyerEmail'],
        ),
      );
      continue;
    }
    const limit = limitError(c, uses.get(c.id) ?? 0, customerKey, path, true);
    if (limit) errors.push(limit);
  }
  return errors;
}

export interface CouponUse {
  couponId: string;
  orderId: string;
  customerKey: string | null;
}

/**
 * The redemptions a payment of the order records (the couponUses of its write), planned outside any
 * transaction on the coupons as read: the same coupons and userErrors as redeemCoupons. The write
 * re-checks active, window and both limits under the coupon locks; a refused write is planned again,
 * and this then reports the exact userError.
 */
export async function planRedemptions(
  scope: Scope,
  order: Pick<OrderRow, 'id' | 'customerId' | 'buyerEmail' | 'discounts'>,
  attached: readonly CouponRow[],
  redeemed: ReadonlySet<string>,
  at: Date,
  buyerEmail: string | null,
): Promise<Outcome<CouponUse[]>> {
  const taking = new Set(
    ((order.discounts as { couponId?: string; amount?: number }[] | null) ?? []).filter((d) => (d.amount ?? 0) > 0 && d.couponId).map((d) => d.couponId!),
  );
  const coupons = attached.filter((c) => taking.has(c.id) && !redeemed.has(c.id)).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  if (coupons.length === 0) return ok([]);
  const customerKey = customerKeyOf(order) ?? (buyerEmail?.trim().toLowerCase() || null);
  const limited = coupons.filter((c) => c.maxRedemptionsPerCustomer !== null).map((c) => c.id);
  const uses = new Map(
    customerKey === null || limited.length === 0
      ? []
      : (await readRows<{ couponId: string; uses: number }>(sqlPool(scope.deps.db), 'flint_coupon_customer_uses', CUSTOMER_USES_SQL, [limited, customerKey])).map((u) => [
          u.couponId,
          u.uses,
        ]),
  );
  const errors = redemptionErrors(coupons, uses, customerKey, at);
  if (errors.length > 0) return fail(...errors);
  return ok(coupons.map((c) => ({ couponId: c.id, orderId: order.id, customerKey })));
}

/**
 * Gives back the uses counted for an order whose payment did not go through (the charge failed and the
 * order stays OPEN), so a declined or abandoned attempt does not consume a limited coupon. Not for
 * refunds: a redemption of a paid order stays counted (pricing.md §4, as Stripe). payOrder puts the
 * same couponReleases into the write that records the failed charge; the write deletes the order's
 * redemptions under the coupon locks, so two concurrent releases give each use back once.
 */
