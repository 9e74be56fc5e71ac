/** Input and output shapes of the pricing engine (see price-order.ts and pricing.md). */

export type DiscountType = 'PERCENTAGE' | 'FIXED_AMOUNT';

export interface PricingLineInput {
  id: string;
  /** Positive safe integer. */
  quantity: number;
  /** Minor units, >= 0. */
  unitPrice: bigint;
  /** "general" when empty (pricing.md §3). */
  taxCategory: string;
  sku: string | null;
}

export interface PricingCouponInput {
  id: string;
  code: string;
  name: string;
  type: DiscountType;
  /** Decimal percent, 0 < p <= 100; required when type is PERCENTAGE. */
  percentOff: string | null;
  /** Minor units in the order's currency, >= 0; required when type is FIXED_AMOUNT. */
  amountOff: bigint | null;
  /** Empty: the whole order. */
  appliesToSkus: string[];
  /** Lower applies first. */
  priority: number;
  /** Compared with the order's gross subtotal. */
  minimumSubtotal: bigint | null;
}

export interface PricingTaxRateInput {
  /** "US-CA", "DE", ... */
  jurisdiction: string;
  name: string;
  /** Decimal, 0 <= rate < 1; "0" exempts the category. */
  rate: string;
  /** null or "": applies to every category not named by a more specific rate. */
  taxCategory: string | null;
  inclusive: boolean;
}

/** ISO 3166-1 alpha-2 country + ISO 3166-2 subdivision without the country prefix ("US" + "CA"). */
export interface TaxJurisdiction {
  country: string;
  region: string | null;
}

export interface PricingInput {
  /** ISO 4217 code known to Intl (see currency.ts). */
  currency: string;
  /** In display order. */
  lines: PricingLineInput[];
  /** Attached coupons, any order; the engine sorts them per pricing.md §4. */
  coupons: PricingCouponInput[];
  /** Already resolved: shipping address, else merchant origin, else null. */
  jurisdiction: TaxJurisdiction | null;
  /** The merchant's nexus: "US-CA", "DE", ... */
  registrations: string[];
  /** All the merchant's tax rates; the engine picks the applicable ones. */
  rates: PricingTaxRateInput[];
}

export interface TaxLineResult {
  name: string;
  /** Upper case: "US-CA", "DE". */
  jurisdiction: string;
  /** The rate string as configured, e.g. "0.0725". */
  rate: string;
  inclusive: boolean;
  taxable: bigint;
  tax: bigint;
}

export interface LineDiscountResult {
  couponId: string;
  code: string;
  amount: bigint;
}

export interface PricedLine {
  id: string;
  /** quantity × unitPrice. */
  gross: bigint;
  /** Σ discounts[].amount. */
  discount: bigint;
  /** Only coupons that took something from this line, in application order. */
  discounts: LineDiscountResult[];
  /** Inclusive + exclusive. */
  tax: bigint;
  exclusiveTax: bigint;
  taxes: TaxLineResult[];
  /** gross − discount + exclusiveTax. */
  total: bigint;
}

export interface AppliedDiscountResult {
  couponId: string;
  code: string;
  name: string;
  type: DiscountType;
  amount: bigint;
  /** False when the order's gross subtotal is below the coupon's minimum. */
  qualified: boolean;
  /** Why the coupon takes nothing (minimum not met: says how much more to add); null when amount > 0. */
  reason: string | null;
}

export interface PricedOrder {
  currency: string;
  lines: PricedLine[];
  /** Every attached coupon, in application order (pricing.md §4). */
  discounts: AppliedDiscountResult[];
  /** Order-level: one per (jurisdiction, name, rate, inclusive). */
  taxes: TaxLineResult[];
  subtotal: bigint;
  discount: bigint;
  /** Inclusive + exclusive. */
  tax: bigint;
  exclusiveTax: bigint;
  /** subtotal − discount + exclusiveTax. */
  total: bigint;
}

/**
 * Malformed engine input (a programming/validation error upstream, never a business outcome): the API
 * layer validates first and may map this to INVALID_INPUT. `path` points at the offending input field.
 */
export class PricingInputError extends RangeError {
  readonly path: string[];
  constructor(message: string, path: string[]) {
    super(message);
    this.name = 'PricingInputError';
    this.path = path;
  }
}
