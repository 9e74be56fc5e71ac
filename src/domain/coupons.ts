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
import type { Scope } from './context.js';
import { Activities } from './activity.js';
import { type Outcome, type UserError, fail, notFound, ok, userError } from './errors.js';
import { runWrite, submitWrite } from '../kernel/write-path.js';
import { loadOrderState } from '../orders/order-state.js';
import { checkCurrency, LIMITS, type Path } from './validation.js';
import { amountsSnapshot, type WrittenOrder } from '../orders/order-state.js';
import { editOrder } from '../orders/edit.js';
import { readRows } from '../kernel/rows.js';
import { sqlPool } from '../db/prisma.js';
import type { LineRow, OrderRow } from './order-model.js';
import { newId } from '../ids.js';
import { formatMoney, isValidPercent, type AppliedDiscountResult, type PricedOrder, type PricingCouponInput } from '../pricing/index.js';
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

function listCodes(coupons: readonly CouponRow[]): string {
  return coupons.map((c) => `"${c.code}"`).join(', ');
}

/** Window check shared by apply and redeem: startsAt inclusive, expiresAt exclusive. */
function windowError(c: CouponRow, at: Date, path: Path, whenPaid: boolean): UserError | null {
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

function limitError(c: CouponRow, customerUses: number, customerKey: string | null, path: Path, whenPaid: boolean): UserError | null {
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

// ---------------------------------------------------------------------------------------------
// createCoupon / deactivateCoupon

export interface MoneyInputShape {
  amount: number;
  currency: string;
}

export interface CreateCouponInput {
  code: string;
  name?: string | null;
  type: DiscountType;
  percentOff?: string | null;
  amountOffMoney?: MoneyInputShape | null;
  stackable?: boolean | null;
  priority?: number | null;
  appliesToSkus?: string[] | null;
  minimumSubtotalMoney?: MoneyInputShape | null;
  maxRedemptions?: number | null;
  maxRedemptionsPerCustomer?: number | null;
  startsAt?: Date | null;
  expiresAt?: Date | null;
  idempotencyKey?: string | null;
}

function checkAmount(errors: UserError[], value: MoneyInputShape, path: Path, label: string, min: number): boolean {
  const before = errors.length;
  if (!Number.isSafeInteger(value.amount) || value.amount < min || BigInt(value.amount) > COUPON_LIMITS.amountMax) {
    errors.push(
      userError(
        'INVALID_INPUT',
        `${label}.amount must be a whole number of minor units from ${min} to ${COUPON_LIMITS.amountMax} (got ${value.amount}); 1000 means 10.00 in USD.`,
        [...path, 'amount'],
      ),
    );
  }
  checkCurrency(errors, value.currency, [...path, 'currency']);
  return errors.length === before;
}

function checkLimit(errors: UserError[], value: number | null | undefined, name: string): void {
  if (value === null || value === undefined) return;
  if (!Number.isInteger(value) || value < 1) {
    errors.push(userError('INVALID_INPUT', `${name} must be a whole number of at least 1 (got ${value}); leave it out for no limit.`, ['input', name]));
  }
}

interface ValidCoupon {
  code: string;
  normalizedCode: string;
  name: string;
  type: DiscountType;
  percentOff: string | null;
  amountOff: bigint | null;
  currency: string | null;
  stackable: boolean;
  priority: number;
  appliesToSkus: string[];
  minimumSubtotal: bigint | null;
  maxRedemptions: number | null;
  maxRedemptionsPerCustomer: number | null;
  startsAt: Date | null;
  expiresAt: Date | null;
}

function validateCoupon(input: CreateCouponInput, now: Date): Outcome<ValidCoupon> {
  const errors: UserError[] = [];
  const code = typeof input.code === 'string' ? input.code.trim() : '';
  if (!COUPON_CODE_PATTERN.test(code)) {
    errors.push(
      userError('INVALID_INPUT', `code must be 1 to 64 of A-Z, a-z, 0-9, "_" and "-", e.g. "SAVE10" (got "${input.code}").`, ['input', 'code']),
    );
  }
  const name = input.name?.trim() || code;
  if (name.length > COUPON_LIMITS.nameMax) {
    errors.push(userError('INVALID_INPUT', `name must be at most ${COUPON_LIMITS.nameMax} characters (got ${name.length}).`, ['input', 'name']));
  }

  let percentOff: string | null = null;
  let amountOff: bigint | null = null;
  let currency: string | null = null;
  if (input.type === 'PERCENTAGE') {
    const p = input.percentOff?.trim() ?? '';
    if (!isValidPercent(p)) {
      errors.push(
        userError('INVALID_INPUT', `A PERCENTAGE coupon needs percentOff, a decimal string above 0 and at most 100, e.g. "15" or "12.5" (got ${JSON.stringify(input.percentOff ?? null)}).`, [
          'input',
          'percentOff',
        ]),
      );
    }
    percentOff = p;
    if (input.amountOffMoney) {
      errors.push(userError('INVALID_INPUT', 'A PERCENTAGE coupon takes percentOff, not amountOffMoney; leave amountOffMoney out or use type FIXED_AMOUNT.', ['input', 'amountOffMoney']));
    }
  } else if (input.type === 'FIXED_AMOUNT') {
    if (!input.amountOffMoney) {
      errors.push(userError('INVALID_INPUT', 'A FIXED_AMOUNT coupon needs amountOffMoney, e.g. { amount: 500, currency: "USD" } for 5.00 USD off.', ['input', 'amountOffMoney']));
    } else if (checkAmount(errors, input.amountOffMoney, ['input', 'amountOffMoney'], 'amountOffMoney', 1)) {
      amountOff = BigInt(input.amountOffMoney.amount);
      currency = input.amountOffMoney.currency;
    }
    if (input.percentOff !== null && input.percentOff !== undefined) {
      errors.push(userError('INVALID_INPUT', 'A FIXED_AMOUNT coupon takes amountOffMoney, not percentOff; leave percentOff out or use type PERCENTAGE.', ['input', 'percentOff']));
    }
  } else {
    errors.push(userError('INVALID_INPUT', 'type must be PERCENTAGE or FIXED_AMOUNT.', ['input', 'type']));
  }

  let minimumSubtotal: bigint | null = null;
  if (input.minimumSubtotalMoney) {
    const m = input.minimumSubtotalMoney;
    if (checkAmount(errors, m, ['input', 'minimumSubtotalMoney'], 'minimumSubtotalMoney', 0)) {
      if (currency !== null && m.currency !== currency) {
        errors.push(
          userError('CURRENCY_MISMATCH', `minimumSubtotalMoney is in ${m.currency} but amountOffMoney is in ${currency}; give both in the currency of the orders the coupon is for.`, [
            'input',
            'minimumSubtotalMoney',
            'currency',
          ]),
        );
      } else {
        minimumSubtotal = BigInt(m.amount);
        currency = m.currency;
      }
    }
  }

  const priority = input.priority ?? 0;
  if (!Number.isInteger(priority)) errors.push(userError('INVALID_INPUT', 'priority must be a whole number (lower applies first).', ['input', 'priority']));

  const skus: string[] = [];
  (input.appliesToSkus ?? []).forEach((raw, i) => {
    const sku = typeof raw === 'string' ? raw.trim() : '';
    if (sku.length < 1 || sku.length > LIMITS.skuMax) {
      errors.push(userError('INVALID_INPUT', `Each SKU must be 1 to ${LIMITS.skuMax} characters (got "${raw}").`, ['input', 'appliesToSkus', i]));
    } else if (!skus.includes(sku)) {
      skus.push(sku);
    }
  });
  if (skus.length > COUPON_LIMITS.skusMax) {
    errors.push(userError('INVALID_INPUT', `appliesToSkus holds at most ${COUPON_LIMITS.skusMax} SKUs (got ${skus.length}).`, ['input', 'appliesToSkus']));
  }

  checkLimit(errors, input.maxRedemptions, 'maxRedemptions');
  checkLimit(errors, input.maxRedemptionsPerCustomer, 'maxRedemptionsPerCustomer');

  const startsAt = input.startsAt ?? null;
  const expiresAt = input.expiresAt ?? null;
  if (expiresAt && expiresAt.getTime() <= now.getTime()) {
    errors.push(userError('INVALID_INPUT', `expiresAt (${expiresAt.toISOString()}) is not in the future (now ${now.toISOString()}); give a later instant or leave it out.`, ['input', 'expiresAt']));
  }
  if (startsAt && expiresAt && startsAt.getTime() >= expiresAt.getTime()) {
    errors.push(userError('INVALID_INPUT', `startsAt (${startsAt.toISOString()}) must be before expiresAt (${expiresAt.toISOString()}).`, ['input', 'startsAt']));
  }

  if (errors.length > 0) return fail(...errors);
  return ok({
    code,
    normalizedCode: normalizeCode(code),
    name,
    type: input.type,
    percentOff,
    amountOff,
    currency,
    stackable: input.stackable ?? false,
    priority,
    appliesToSkus: skus,
    minimumSubtotal,
    maxRedemptions: input.maxRedemptions ?? null,
    maxRedemptionsPerCustomer: input.maxRedemptionsPerCustomer ?? null,
    startsAt,
    expiresAt,
  });
}

function couponSnapshot(c: CouponRow) {
  return {
    id: c.id,
    code: c.code,
    name: c.name,
    type: c.type,
    percentOff: c.percentOff,
    amountOff: c.amountOff,
    currency: c.currency,
    stackable: c.stackable,
    priority: c.priority,
    appliesToSkus: c.appliesToSkus,
    minimumSubtotal: c.minimumSubtotal,
    maxRedemptions: c.maxRedemptions,
    maxRedemptionsPerCustomer: c.maxRedemptionsPerCustomer,
    startsAt: c.startsAt,
    expiresAt: c.expiresAt,
    active: c.active,
  };
}

interface CouponRef extends Record<string, string> {
  couponId: string;
}

async function finishCoupon(scope: Scope, outcome: Outcome<CouponRef>, written: CouponRow | null): Promise<Outcome<CouponRow>> {
  if (!outcome.ok) return outcome;
  if (written) return ok(written);
  const row = await scope.deps.db.coupon.findFirst({ where: { id: outcome.value.couponId, merchantId: scope.merchantId, livemode: scope.livemode } });
  if (!row) throw new Error(`coupon ${outcome.value.couponId} of a stored idempotent result is missing`);
  return ok(row);
}

const COUPON_BY_CODE_SQL = 'SELECT * FROM "Coupon" WHERE "merchantId" = $1 AND "livemode" = $2 AND "normalizedCode" = $3';

async function couponByCode(scope: Scope, normalizedCode: string): Promise<CouponRow | null> {
  const rows = await readRows<CouponRow>(sqlPool(scope.deps.db), 'flint_coupon_by_code', COUPON_BY_CODE_SQL, [scope.merchantId, scope.livemode, normalizedCode]);
  return rows[0] ?? null;
}

export async function createCoupon(scope: Scope, input: CreateCouponInput): Promise<Outcome<CouponRow>> {
  const valid = validateCoupon(input, scope.deps.clock.now());
  if (!valid.ok) return valid;
  const v = valid.value;
  let written: CouponRow | null = null;
  const { outcome, replayed } = await runWrite<CouponRef>({
    scope,
    operation: 'createCoupon',
    input: input as unknown as Record<string, unknown>,
    plan: async (at) => {
      // Codes are unique per merchant and mode (deactivated ones included): of two concurrent creations
      // of one code the unique index refuses the second write, whose plan then finds the first.
      if (await couponByCode(scope, v.normalizedCode)) {
        return fail(
          userError('INVALID_INPUT', `A coupon with code "${v.code}" already exists (codes are case-insensitive, deactivated ones included). Choose another code.`, [
            'input',
            'code',
          ]),
        );
      }
      const row: CouponRow = { id: newId('Coupon'), merchantId: scope.merchantId, livemode: scope.livemode, ...v, timesRedeemed: 0, active: true, createdAt: at };
      written = row;
      return ok({
        result: { couponId: row.id },
        write: { ops: [{ kind: 'insert', table: 'Coupon', rows: [row] }], entries: [Activities.couponCreated(couponSnapshot(row))] },
      });
    },
  });
  return finishCoupon(scope, outcome, replayed ? null : written);
}

export async function deactivateCoupon(scope: Scope, input: { code: string; idempotencyKey?: string | null }): Promise<Outcome<CouponRow>> {
  const code = normalizeCode(typeof input.code === 'string' ? input.code : '');
  let written: CouponRow | null = null;
  const { outcome, replayed } = await runWrite<CouponRef>({
    scope,
    operation: 'deactivateCoupon',
    input: { ...input },
    plan: async () => {
      const coupon = await couponByCode(scope, code);
      if (!coupon) {
        return fail(userError('COUPON_NOT_FOUND', `No coupon with code "${input.code}" exists for this merchant and mode; the coupons query lists them.`, ['input', 'code']));
      }
      written = { ...coupon, active: false };
      // Already inactive: nothing changes and nothing is recorded (the guard keeps it so).
      if (!coupon.active) return ok({ result: { couponId: coupon.id }, write: { guards: [{ table: 'Coupon', id: coupon.id, match: { active: false } }], entries: [] } });
      return ok({
        result: { couponId: coupon.id },
        write: {
          guards: [{ table: 'Coupon', id: coupon.id, match: { active: true } }],
          ops: [{ kind: 'update', table: 'Coupon', rows: [{ id: coupon.id, active: false }] }],
          entries: [Activities.couponDeactivated({ id: coupon.id, code: coupon.code, active: true }, { id: coupon.id, code: coupon.code, active: false })],
        },
      });
    },
  });
  return finishCoupon(scope, outcome, replayed ? null : written);
}

export async function findCoupon(scope: Scope, code: string): Promise<CouponRow | null> {
  return scope.deps.db.coupon.findUnique({
    where: { merchantId_livemode_normalizedCode: { merchantId: scope.merchantId, livemode: scope.livemode, normalizedCode: normalizeCode(code) } },
  });
}

export async function listCoupons(scope: Scope): Promise<CouponRow[]> {
  return scope.deps.db.coupon.findMany({ where: { merchantId: scope.merchantId, livemode: scope.livemode }, orderBy: { id: 'desc' } });
}

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
export async function releaseCouponRedemptions(scope: Scope, orderId: string): Promise<void> {
  const written = await submitWrite(scope, { merchantId: scope.merchantId, livemode: scope.livemode, at: scope.deps.clock.now(), couponReleases: [orderId], activity: [] });
  if (!written.ok) throw new Error(`releaseCouponRedemptions: refused (${written.reason})`);
}
