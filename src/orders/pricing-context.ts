// What prices an order besides its lines: the merchant's tax registrations, tax rates and origin
// address (one statement, cached per process and checked when the order is written), and the coupons
// attached to the order. Pricing itself is the pure engine's (src/pricing/).
import type { Scope } from '../kernel/context.js';
import { type UserError, userError } from '../kernel/errors.js';
import { toJson } from '../kernel/json.js';
import type { Address, Path } from '../kernel/validation.js';
import { priceOrder, type PricedOrder, type TaxJurisdiction } from '../pricing/index.js';
import type { LineRow, OrderRow } from './order-model.js';
import { annotateDiscounts, pricingCoupon, type CouponRow } from '../coupons/rules.js';
import { sqlPool } from '../db/prisma.js';
import type { Prisma } from '../generated/prisma/client.js';

export interface PricingContext {
  registrations: string[];
  rates: { jurisdiction: string; name: string; rate: string; taxCategory: string | null; inclusive: boolean }[];
  origin: Address | null;
  /** The order's attached coupons, in the order they were applied. */
  coupons: readonly CouponRow[];
}

/** Tax settings and origin as of one pricingVersion of the merchant. */
export interface VersionedContext {
  version: number;
  context: PricingContext;
}

/**
 * The merchant's pricing settings in one statement: its pricingVersion, origin address, tax
 * registrations and tax rates (ordered by id, so the engine sees them in the same order every time).
 */
const PRICING_SETTINGS_SQL = `SELECT m."pricingVersion" AS "version", m."originAddress" AS "origin",
    COALESCE((SELECT json_agg(json_build_object('jurisdiction', r."jurisdiction") ORDER BY r."id") FROM "TaxRegistration" r WHERE r."merchantId" = m."id" AND r."livemode" = $2), '[]') AS "registrations",
    COALESCE((SELECT json_agg(json_build_object('jurisdiction', t."jurisdiction", 'name', t."name", 'rate', t."rate", 'taxCategory', t."taxCategory", 'inclusive', t."inclusive") ORDER BY t."id")
              FROM "TaxRate" t WHERE t."merchantId" = m."id" AND t."livemode" = $2), '[]') AS "rates"
  FROM "Merchant" m WHERE m."id" = $1`;

type RateRow = { jurisdiction: string; name: string; rate: string; taxCategory: string; inclusive: boolean };
type PricingSettingsRow = { version: number; origin: unknown; registrations: { jurisdiction: string }[]; rates: RateRow[] };

/**
 * Each merchant's pricing settings, per pool (database) and mode. Only a guess: every write priced
 * with them checks that Merchant.pricingVersion is still the one it was priced with (the write's
 * `pricingVersion` guard); a refused write drops the copy (forgetPricingContext) and prices again. So
 * an order is always priced with the settings current when it is written.
 */
const pricingCache = new WeakMap<object, Map<string, VersionedContext>>();
const PRICING_CACHE_MAX = 10_000;

function pricingCacheOf(scope: Scope): { map: Map<string, VersionedContext>; key: string } {
  const pool = sqlPool(scope.deps.db);
  let map = pricingCache.get(pool);
  if (!map) pricingCache.set(pool, (map = new Map()));
  return { map, key: `${scope.merchantId}\u0000${scope.livemode}` };
}

/** The merchant's pricing settings (no coupons): the process's copy, else read in one statement. */
export async function currentPricingContext(scope: Scope): Promise<VersionedContext> {
  const { map, key } = pricingCacheOf(scope);
  const cached = map.get(key);
  if (cached) return cached;
  const { rows } = await sqlPool(scope.deps.db).query<PricingSettingsRow>({
    name: 'flint_pricing_settings',
    text: PRICING_SETTINGS_SQL,
    values: [scope.merchantId, scope.livemode],
  });
  const row = rows[0];
  if (!row) throw new Error(`merchant ${scope.merchantId} not found`);
  const loaded: VersionedContext = {
    version: Number(row.version),
    context: {
      registrations: row.registrations.map((r) => r.jurisdiction),
      rates: row.rates.map((r) => ({ jurisdiction: r.jurisdiction, name: r.name, rate: r.rate, taxCategory: r.taxCategory || null, inclusive: r.inclusive })),
      origin: (row.origin as Address | null) ?? null,
      coupons: [],
    },
  };
  if (map.size >= PRICING_CACHE_MAX) map.clear();
  map.set(key, loaded);
  return loaded;
}

export function forgetPricingContext(scope: Scope): void {
  const { map, key } = pricingCacheOf(scope);
  map.delete(key);
}

/** pricing.md §5: the shipping address, else the merchant's origin address, else no tax. */
function jurisdictionOf(shipping: Address | null, origin: Address | null): TaxJurisdiction | null {
  const address = shipping ?? origin;
  return address ? { country: address.country, region: address.region } : null;
}

export function price(order: Pick<OrderRow, 'currency' | 'shippingAddress'>, lines: LineRow[], context: PricingContext): PricedOrder {
  const priced = priceOrder({
    currency: order.currency,
    lines: lines.map((l) => ({ id: l.id, quantity: l.quantity, unitPrice: l.unitPriceAmount, taxCategory: l.taxCategory, sku: l.sku })),
    coupons: context.coupons.map(pricingCoupon),
    jurisdiction: jurisdictionOf(order.shippingAddress as Address | null, context.origin),
    registrations: context.registrations,
    rates: context.rates,
  });
  return annotateDiscounts(priced, context.coupons);
}

/** Copies the engine's result onto the rows (in memory). */
export function applyPricing(order: OrderRow, lines: LineRow[], priced: PricedOrder): { order: OrderRow; lines: LineRow[] } {
  const byId = new Map(priced.lines.map((l) => [l.id, l]));
  const pricedLines = lines.map((line) => {
    const p = byId.get(line.id);
    if (!p) throw new Error(`pricing lost line ${line.id}`);
    return {
      ...line,
      grossAmount: p.gross,
      discountAmount: p.discount,
      taxAmount: p.tax,
      exclusiveTaxAmount: p.exclusiveTax,
      totalAmount: p.total,
      discounts: toJson(p.discounts) as Prisma.JsonValue,
      taxes: toJson(p.taxes) as Prisma.JsonValue,
    };
  });
  return {
    order: {
      ...order,
      subtotalAmount: priced.subtotal,
      discountAmount: priced.discount,
      taxAmount: priced.tax,
      exclusiveTaxAmount: priced.exclusiveTax,
      totalAmount: priced.total,
      taxes: toJson(priced.taxes) as Prisma.JsonValue,
      discounts: toJson(priced.discounts) as Prisma.JsonValue,
    },
    lines: pricedLines,
  };
}

/**
 * Amounts are exposed as SafeInt (pricing.md §1). Inputs are bounded per line, but a line or an order can
 * still add up past 2^53 - 1; such an order is refused before anything is written.
 */
export function amountLimitError(priced: { order: OrderRow; lines: LineRow[] }, field: Path): UserError | null {
  const max = BigInt(Number.MAX_SAFE_INTEGER);
  const amounts = [
    priced.order.subtotalAmount,
    priced.order.taxAmount,
    priced.order.totalAmount,
    ...priced.lines.flatMap((l) => [l.grossAmount, l.taxAmount, l.totalAmount]),
  ];
  if (amounts.every((a) => a <= max)) return null;
  return userError(
    'INVALID_INPUT',
    `The order's amounts would exceed ${max} minor units, the largest amount Flint can represent exactly. Lower the quantities or prices, or split the order.`,
    field,
  );
}
