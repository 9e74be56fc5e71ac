// applyCoupon / removeCoupon (through editOrder: plan on the order as read, ORDER_NOT_EDITABLE,
// re-price, one guarded write) and the redemption step on its own (payOrder carries the same
// couponUses in the write that reserves its payment).
import type { Scope } from '../kernel/context.js';
import { Activities } from '../audit/activity.js';
import { type Outcome, fail, notFound, ok, userError } from '../kernel/errors.js';
import { submitWrite } from '../kernel/write-path.js';
import { loadOrderState } from '../orders/order-state.js';
import { customerKeyOf, grossSubtotal, listCodes, normalizeCode, planRedemptions, resolveCoupons } from './rules.js';
import { amountsSnapshot, type WrittenOrder } from '../orders/order-state.js';
import { editOrder } from '../orders/edit.js';
import { readRows } from '../kernel/rows.js';
import { sqlPool } from '../db/prisma.js';
import type { OrderRow } from '../orders/order-model.js';
// ---------------------------------------------------------------------------------------------
// applyCoupon / removeCoupon (through editOrder: lock, version check, ORDER_NOT_EDITABLE, re-price, activity)

export interface ApplyCouponInput {
  orderId: string;
  code: string;
  expectedVersion?: number | null;
  idempotencyKey?: string | null;
}

function discountOf(order: OrderRow, couponId: string): bigint {
  const found = ((order.discounts as { couponId?: string; amount?: number }[] | null) ?? []).find((d) => d.couponId === couponId);
  return BigInt(found?.amount ?? 0);
}

export async function applyCoupon(scope: Scope, input: ApplyCouponInput): Promise<Outcome<WrittenOrder>> {
  return editOrder(scope, 'applyCoupon', { ...input }, 'APPLY_COUPON', async ({ at, order, lines, coupons }) => {
    const attached = coupons.map((c) => c.coupon);
    const resolved = await resolveCoupons(
      scope,
      [input.code],
      { currency: order.currency, grossSubtotal: grossSubtotal(lines), customerKey: customerKeyOf(order), attached, at },
      () => ['input', 'code'],
    );
    if (!resolved.ok) return resolved;
    const coupon = resolved.value[0]!;
    const position = coupons.reduce((max, c) => Math.max(max, c.position), -1) + 1;
    const attachment = { orderId: order.id, couponId: coupon.id, merchantId: scope.merchantId, livemode: scope.livemode, position, appliedAt: at };
    return ok({
      order,
      lines,
      reprice: true,
      coupons: [...attached, coupon],
      // Deactivated meanwhile: the write is refused and the plan, made again, reports it.
      guards: [{ table: 'Coupon', id: coupon.id, match: { active: true }, exclusive: false }],
      ops: [{ kind: 'insert', table: 'OrderCoupon', rows: [attachment] }],
      activity: (before, after) => [
        Activities.couponApplied(
          order.id,
          { coupons: attached.map((c) => c.code), netAmounts: amountsSnapshot(before.order, before.lines) },
          {
            coupon: { id: coupon.id, code: coupon.code, type: coupon.type, discount: discountOf(after.order, coupon.id) },
            coupons: [...attached, coupon].map((c) => c.code),
            netAmounts: amountsSnapshot(after.order, after.lines),
          },
        ),
      ],
    });
  });
}

export async function removeCoupon(scope: Scope, input: ApplyCouponInput): Promise<Outcome<WrittenOrder>> {
  return editOrder(scope, 'removeCoupon', { ...input }, 'REMOVE_COUPON', async ({ order, lines, coupons }) => {
    const attached = coupons.map((c) => c.coupon);
    const code = normalizeCode(typeof input.code === 'string' ? input.code : '');
    const coupon = attached.find((c) => c.normalizedCode === code);
    if (!coupon) {
      return fail(
        userError(
          'COUPON_NOT_FOUND',
          `Coupon "${input.code}" is not applied to this order${attached.length > 0 ? `; it has ${listCodes(attached)}` : ''}. Order.discounts lists the applied coupons.`,
          ['input', 'code'],
        ),
      );
    }
    const remaining = attached.filter((c) => c.id !== coupon.id);
    return ok({
      order,
      lines,
      reprice: true,
      coupons: remaining,
      ops: [{ kind: 'delete', table: 'OrderCoupon', keys: ['orderId', 'couponId'], rows: [{ orderId: order.id, couponId: coupon.id }] }],
      activity: (before, after) => [
        Activities.couponRemoved(
          order.id,
          {
            coupon: { id: coupon.id, code: coupon.code, type: coupon.type, discount: discountOf(before.order, coupon.id) },
            coupons: attached.map((c) => c.code),
            netAmounts: amountsSnapshot(before.order, before.lines),
          },
          { coupons: remaining.map((c) => c.code), netAmounts: amountsSnapshot(after.order, after.lines) },
        ),
      ],
    });
  });
}

// ---------------------------------------------------------------------------------------------
// Redemption (called by the payments feature inside its payment transaction)

const REDEEMED_SQL = 'SELECT "couponId" FROM "CouponRedemption" WHERE "orderId" = $1';

/**
 * Counts the order's coupons as used, on its own (payOrder puts the same couponUses into the write that
 * reserves its payment): re-checks active, startsAt/expiresAt (at `at`) and both usage limits, then
 * records one CouponRedemption per coupon and increments timesRedeemed, in one write. Exact under
 * concurrency: the write re-checks the limits under the coupon locks, and a refused write is planned
 * again (and then reports the exact userError). Only coupons that take something off the order are
 * checked and counted; calling it again for an order already redeemed changes nothing (the
 * redemption's primary key refuses a concurrent duplicate, whose plan then finds it done).
 */
export async function redeemCoupons(scope: Scope, orderId: string, at: Date, options: { buyerEmail?: string | null } = {}): Promise<Outcome<null>> {
  for (let attempt = 0; attempt < 25; attempt++) {
    const state = await loadOrderState(scope, orderId);
    if (!state) return fail(notFound('order', orderId, ['input', 'orderId']));
    const redeemed = await readRows<{ couponId: string }>(sqlPool(scope.deps.db), 'flint_order_redeemed', REDEEMED_SQL, [orderId]);
    const uses = await planRedemptions(scope, state.order, state.coupons.map((c) => c.coupon), new Set(redeemed.map((r) => r.couponId)), at, options.buyerEmail ?? null);
    if (!uses.ok) return uses;
    if (uses.value.length === 0) return ok(null);
    const written = await submitWrite(scope, { merchantId: scope.merchantId, livemode: scope.livemode, at, couponUses: uses.value, activity: [] });
    if (written.ok) return ok(null);
  }
  throw new Error(`redeemCoupons: the coupons of order ${orderId} kept changing`);
}

/**
 * Why the order's coupons cannot be counted as used now (the userErrors of a payment that must not
 * charge), in the order given: deactivated, outside its window, limited per customer without a
 * customer, or over a limit. Shared by redeemCoupons and planRedemptions.
 */
export async function releaseCouponRedemptions(scope: Scope, orderId: string): Promise<void> {
  const written = await submitWrite(scope, { merchantId: scope.merchantId, livemode: scope.livemode, at: scope.deps.clock.now(), couponReleases: [orderId], activity: [] });
  if (!written.ok) throw new Error(`releaseCouponRedemptions: refused (${written.reason})`);
}

