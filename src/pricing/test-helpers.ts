/** Builders for pricing tests (not part of the engine's API; not re-exported from index.ts). */
import type { PricingCouponInput, PricingInput, PricingLineInput, PricingTaxRateInput } from './types.js';

export function line(id: string, quantity: number, unitPrice: bigint, extra: Partial<PricingLineInput> = {}): PricingLineInput {
  return { id, quantity, unitPrice, taxCategory: 'general', sku: null, ...extra };
}

export function percentCoupon(code: string, percentOff: string, extra: Partial<PricingCouponInput> = {}): PricingCouponInput {
  return {
    id: `cpn_${code}`,
    code,
    name: `${percentOff} % off`,
    type: 'PERCENTAGE',
    percentOff,
    amountOff: null,
    appliesToSkus: [],
    priority: 0,
    minimumSubtotal: null,
    ...extra,
  };
}

export function fixedCoupon(code: string, amountOff: bigint, extra: Partial<PricingCouponInput> = {}): PricingCouponInput {
  return {
    id: `cpn_${code}`,
    code,
    name: `${amountOff} off`,
    type: 'FIXED_AMOUNT',
    percentOff: null,
    amountOff,
    appliesToSkus: [],
    priority: 0,
    minimumSubtotal: null,
    ...extra,
  };
}

export function rate(
  jurisdiction: string,
  name: string,
  r: string,
  extra: Partial<PricingTaxRateInput> = {},
): PricingTaxRateInput {
  return { jurisdiction, name, rate: r, taxCategory: null, inclusive: false, ...extra };
}

export function order(extra: Partial<PricingInput> = {}): PricingInput {
  return { currency: 'USD', lines: [], coupons: [], jurisdiction: null, registrations: [], rates: [], ...extra };
}
