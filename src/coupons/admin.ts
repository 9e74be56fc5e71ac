// createCoupon, deactivateCoupon and the coupon reads (validation of a new coupon's fields, codes unique
// per merchant and mode, deactivation recorded once).
import type { Scope } from '../kernel/context.js';
import { Activities } from '../audit/activity.js';
import { type Outcome, type UserError, fail, ok, userError } from '../kernel/errors.js';
import { runWrite } from '../kernel/write-path.js';
import { checkCurrency, LIMITS, type Path } from '../kernel/validation.js';
import { COUPON_CODE_PATTERN, COUPON_LIMITS, normalizeCode, type CouponRow, type DiscountType } from './rules.js';
import { readRows } from '../kernel/rows.js';
import { sqlPool } from '../db/prisma.js';
import { newId } from '../ids.js';
import { isValidPercent } from '../pricing/index.js';
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

