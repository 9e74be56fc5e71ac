/**
 * priceOrder: every amount of an order from its lines, coupons and tax settings (pricing.md §3–§6).
 * Pure and synchronous; bigint minor units throughout; roundHalfEven is the only rounding and
 * allocate the only allocation.
 *
 * Where pricing.md is silent (decisions, following Square/Stripe where they have an answer):
 * - Output order: `discounts` lists every attached coupon in application order (§4); a line's
 *   `discounts` lists only coupons that took > 0 from it. Tax lines are sorted by jurisdiction, name,
 *   exclusive before inclusive, then rate.
 * - `qualified` is false only when the minimum subtotal is not met; a coupon that takes nothing for
 *   another reason (no matching SKU, eligible lines already at 0, rounds to 0) stays qualified with a
 *   `reason`. `reason` is non-null exactly when the amount is 0.
 * - Nexus: a registration covers its own jurisdiction, and a country registration ("DE") also covers
 *   every subdivision ("DE-BY"). A regional registration ("US-CA") does not cover a country-level
 *   rate ("US"): as in Stripe Tax, a country-level tax (Canada's GST) is its own registration.
 * - Jurisdiction codes are compared case-insensitively and reported upper case; a region given with
 *   its country prefix ("US-CA" instead of "CA") is accepted.
 * - A rate of exactly 0 (after a category override) exempts: no tax and no TaxLine for that line. A
 *   non-zero rate always yields a TaxLine, even when the line's taxable base is 0.
 * - Tax lines group by the rate's exact value, so "0.07" and "0.070" are one group (shown with the
 *   first spelling met).
 * - Duplicate rates for the same jurisdiction, name and category (the database prevents them): the
 *   first in input order wins. Line taxCategory "" means "general"; rate taxCategory "" means none.
 * - Malformed input throws PricingInputError (see priceOrder); only rates that apply to the order
 *   are validated, so a broken rate elsewhere cannot break unrelated orders.
 */
import { allocate } from './allocate.js';
import { isCurrency, formatMoney } from './currency.js';
import { parseDecimal } from './decimal.js';
import type { Fraction } from './decimal.js';
import { roundHalfEven } from './rounding.js';
import { PricingInputError } from './types.js';
import type {
  AppliedDiscountResult,
  LineDiscountResult,
  PricedLine,
  PricedOrder,
  PricingCouponInput,
  PricingInput,
  PricingTaxRateInput,
  TaxJurisdiction,
  TaxLineResult,
} from './types.js';

export const DEFAULT_TAX_CATEGORY = 'general';

/** Plain code-unit comparison: deterministic and locale-independent (unlike localeCompare). */
function cmpStr(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

// ---------------------------------------------------------------------------------------------
// Discounts (§4)
// ---------------------------------------------------------------------------------------------

/**
 * Application order (§4): SKU-scoped before order-wide; PERCENTAGE before FIXED_AMOUNT; ascending
 * priority; then code. Final tie-break on id keeps the order total even for duplicate codes.
 */
export function compareCoupons(a: PricingCouponInput, b: PricingCouponInput): number {
  const scopeA = a.appliesToSkus.length > 0 ? 0 : 1;
  const scopeB = b.appliesToSkus.length > 0 ? 0 : 1;
  if (scopeA !== scopeB) return scopeA - scopeB;
  const typeA = a.type === 'PERCENTAGE' ? 0 : 1;
  const typeB = b.type === 'PERCENTAGE' ? 0 : 1;
  if (typeA !== typeB) return typeA - typeB;
  if (a.priority !== b.priority) return a.priority < b.priority ? -1 : 1;
  return cmpStr(a.code, b.code) || cmpStr(a.id, b.id);
}

export function sortCoupons(coupons: readonly PricingCouponInput[]): PricingCouponInput[] {
  return [...coupons].sort(compareCoupons);
}

function money(amount: bigint, currency: string): string {
  return formatMoney(amount, currency);
}

function validateCoupon(c: PricingCouponInput, i: number): Fraction | null {
  const path = ['coupons', String(i)];
  if (c.type === 'PERCENTAGE') {
    const p = c.percentOff === null ? null : parseDecimal(c.percentOff);
    if (p === null || p.num <= 0n || p.num > 100n * p.den) {
      throw new PricingInputError(
        `Coupon ${c.code}: percentOff must be a decimal string with 0 < percent <= 100, got ${JSON.stringify(c.percentOff)}`,
        [...path, 'percentOff'],
      );
    }
    return p;
  }
  if (c.type === 'FIXED_AMOUNT') {
    if (c.amountOff === null || c.amountOff < 0n) {
      throw new PricingInputError(`Coupon ${c.code}: amountOff must be >= 0`, [...path, 'amountOff']);
    }
    return null;
  }
  throw new PricingInputError(`Coupon ${String((c as { code?: unknown }).code)}: unknown type`, [...path, 'type']);
}

// ---------------------------------------------------------------------------------------------
// Tax (§5)
// ---------------------------------------------------------------------------------------------

/** "US" + "CA" → ["US", "US-CA"]; "DE" + null → ["DE"]. A region already prefixed ("US-CA") is accepted. */
export function orderJurisdictions(j: TaxJurisdiction): string[] {
  const country = j.country.trim().toUpperCase();
  if (country === '') return [];
  let region = (j.region ?? '').trim().toUpperCase();
  if (region.startsWith(`${country}-`)) region = region.slice(country.length + 1);
  return region === '' ? [country] : [country, `${country}-${region}`];
}

/**
 * Nexus coverage (§5). A registration covers its own jurisdiction; a country-level registration ("DE")
 * also covers every subdivision of it ("DE-BY"). A regional registration ("US-CA") does NOT cover the
 * country-level rate ("US"): country-level taxes (e.g. Canada's GST) have their own registration, as
 * in Stripe Tax, so a merchant registered only for "CA-BC" (PST) collects no "CA" (GST) rate.
 */
export function registrationCovers(registration: string, rateJurisdiction: string): boolean {
  const reg = registration.trim().toUpperCase();
  const j = rateJurisdiction.trim().toUpperCase();
  if (reg === '') return false;
  if (reg === j) return true;
  return !reg.includes('-') && j.startsWith(`${reg}-`);
}

interface ParsedRate {
  input: PricingTaxRateInput;
  jurisdiction: string;
  category: string | null;
  fraction: Fraction;
}

/** The rates that apply to an order at all: jurisdiction matches the order's, and nexus covers it. */
export function applicableRates(
  jurisdiction: TaxJurisdiction | null,
  registrations: readonly string[],
  rates: readonly PricingTaxRateInput[],
): PricingTaxRateInput[] {
  if (jurisdiction === null || registrations.length === 0) return [];
  const orderJ = orderJurisdictions(jurisdiction);
  return rates.filter((r) => {
    const j = r.jurisdiction.trim().toUpperCase();
    return orderJ.includes(j) && registrations.some((reg) => registrationCovers(reg, j));
  });
}

function parseRates(rates: readonly PricingTaxRateInput[], all: readonly PricingTaxRateInput[]): ParsedRate[] {
  return rates.map((r) => {
    const f = parseDecimal(r.rate);
    if (f === null || f.num >= f.den) {
      throw new PricingInputError(
        `Tax rate ${r.jurisdiction} ${r.name}: rate must be a decimal string with 0 <= rate < 1, got ${JSON.stringify(r.rate)}`,
        ['rates', String(all.indexOf(r)), 'rate'],
      );
    }
    const category = r.taxCategory === null || r.taxCategory === '' ? null : r.taxCategory;
    return { input: r, jurisdiction: r.jurisdiction.trim().toUpperCase(), category, fraction: f };
  });
}

/**
 * For one tax category: per (jurisdiction, name), the rate naming that category replaces the
 * category-less one. Duplicates (should not exist; the database is unique on jurisdiction, name and
 * category) resolve to the first in input order. Zero rates are returned too (caller drops them).
 */
function ratesForCategory(parsed: readonly ParsedRate[], category: string): ParsedRate[] {
  const chosen = new Map<string, ParsedRate>();
  const specific = new Set<string>();
  for (const r of parsed) {
    const key = `${r.jurisdiction}\u0000${r.input.name}`;
    if (r.category === category) {
      if (!specific.has(key)) {
        chosen.set(key, r);
        specific.add(key);
      }
    } else if (r.category === null && !specific.has(key) && !chosen.has(key)) {
      chosen.set(key, r);
    }
  }
  return [...chosen.values()];
}

interface TaxBucket {
  key: string;
  jurisdiction: string;
  name: string;
  rate: string;
  inclusive: boolean;
  fraction: Fraction;
  lineIndexes: number[];
  bases: bigint[];
}

function compareFractions(a: Fraction, b: Fraction): number {
  const l = a.num * b.den;
  const r = b.num * a.den;
  return l < r ? -1 : l > r ? 1 : 0;
}

/** Stable display order of tax lines: jurisdiction, name, exclusive before inclusive, rate. */
function compareTaxKeys(
  a: { jurisdiction: string; name: string; inclusive: boolean; fraction: Fraction },
  b: { jurisdiction: string; name: string; inclusive: boolean; fraction: Fraction },
): number {
  return (
    cmpStr(a.jurisdiction, b.jurisdiction) ||
    cmpStr(a.name, b.name) ||
    Number(a.inclusive) - Number(b.inclusive) ||
    compareFractions(a.fraction, b.fraction)
  );
}

function stripFraction(t: TaxLineResult & { fraction: Fraction }): TaxLineResult {
  return { name: t.name, jurisdiction: t.jurisdiction, rate: t.rate, inclusive: t.inclusive, taxable: t.taxable, tax: t.tax };
}

// ---------------------------------------------------------------------------------------------
// priceOrder
// ---------------------------------------------------------------------------------------------

/**
 * Prices an order. Malformed input (unknown currency, quantity not a positive safe integer, negative
 * unit price, bad percentOff/amountOff/rate) throws PricingInputError; business outcomes (a coupon whose
 * minimum is not met, no nexus) are part of the result.
 */
export function priceOrder(input: PricingInput): PricedOrder {
  const { currency } = input;
  if (!isCurrency(currency)) {
    throw new PricingInputError(`Unknown currency code ${JSON.stringify(currency)}`, ['currency']);
  }

  // §3 Lines
  const gross = input.lines.map((l, i) => {
    if (!Number.isSafeInteger(l.quantity) || l.quantity <= 0) {
      throw new PricingInputError(`Line ${l.id}: quantity must be a positive integer`, ['lines', String(i), 'quantity']);
    }
    if (l.unitPrice < 0n) {
      throw new PricingInputError(`Line ${l.id}: unitPrice must be >= 0`, ['lines', String(i), 'unitPrice']);
    }
    return BigInt(l.quantity) * l.unitPrice;
  });
  const subtotal = gross.reduce((a, g) => a + g, 0n);

  // §4 Discounts, compounding on what earlier coupons left.
  const fractions = new Map<PricingCouponInput, Fraction | null>();
  input.coupons.forEach((c, i) => fractions.set(c, validateCoupon(c, i)));
  const remaining = [...gross];
  const lineDiscounts: LineDiscountResult[][] = input.lines.map(() => []);
  const discounts: AppliedDiscountResult[] = [];

  for (const c of sortCoupons(input.coupons)) {
    const base: AppliedDiscountResult = {
      couponId: c.id,
      code: c.code,
      name: c.name,
      type: c.type,
      amount: 0n,
      qualified: true,
      reason: null,
    };
    if (c.minimumSubtotal !== null && subtotal < c.minimumSubtotal) {
      discounts.push({
        ...base,
        qualified: false,
        reason:
          `Minimum subtotal not met: the order's subtotal is ${money(subtotal, currency)}; ` +
          `add ${money(c.minimumSubtotal - subtotal, currency)} more to reach ${money(c.minimumSubtotal, currency)}.`,
      });
      continue;
    }
    const skus = c.appliesToSkus;
    const eligible: number[] = [];
    input.lines.forEach((l, i) => {
      if (skus.length === 0 || (l.sku !== null && skus.includes(l.sku))) eligible.push(i);
    });
    const weights = eligible.map((i) => remaining[i] ?? 0n);
    const eligibleBase = weights.reduce((a, w) => a + w, 0n);

    let amount: bigint;
    const pct = fractions.get(c) ?? null;
    if (c.type === 'PERCENTAGE' && pct !== null) {
      amount = roundHalfEven(eligibleBase * pct.num, pct.den * 100n);
    } else {
      const off = c.amountOff ?? 0n;
      amount = off < eligibleBase ? off : eligibleBase;
    }

    if (amount > 0n) {
      const parts = allocate(amount, weights);
      eligible.forEach((lineIndex, k) => {
        const part = parts[k] ?? 0n;
        if (part === 0n) return;
        remaining[lineIndex] = (remaining[lineIndex] ?? 0n) - part;
        lineDiscounts[lineIndex]?.push({ couponId: c.id, code: c.code, amount: part });
      });
      discounts.push({ ...base, amount });
    } else {
      let reason: string;
      if (eligible.length === 0) {
        reason =
          skus.length > 0
            ? `No line item has one of the SKUs this coupon applies to (${skus.join(', ')}).`
            : 'The order has no line items to discount.';
      } else if (eligibleBase === 0n) {
        reason = 'Nothing left to discount: the eligible line items are already at 0.';
      } else if (c.type === 'FIXED_AMOUNT') {
        reason = 'The coupon is for an amount of 0.';
      } else {
        reason = `The percentage rounds to 0 on an eligible amount of ${money(eligibleBase, currency)}.`;
      }
      discounts.push({ ...base, reason });
    }
  }

  const discountOf = lineDiscounts.map((ds) => ds.reduce((a, d) => a + d.amount, 0n));
  const taxableBase = gross.map((g, i) => g - (discountOf[i] ?? 0n));

  // §5 Tax
  const applicable = parseRates(applicableRates(input.jurisdiction, input.registrations, input.rates), input.rates);
  const buckets = new Map<string, TaxBucket>();
  if (applicable.length > 0) {
    input.lines.forEach((line, i) => {
      const category = line.taxCategory === '' ? DEFAULT_TAX_CATEGORY : line.taxCategory;
      for (const r of ratesForCategory(applicable, category)) {
        // A zero rate exempts the category in that jurisdiction: no tax and no TaxLine at all.
        if (r.fraction.num === 0n) continue;
        const key = [r.jurisdiction, r.input.name, `${r.fraction.num}/${r.fraction.den}`, String(r.input.inclusive)].join('\u0000');
        let b = buckets.get(key);
        if (b === undefined) {
          b = {
            key,
            jurisdiction: r.jurisdiction,
            name: r.input.name,
            rate: r.input.rate,
            inclusive: r.input.inclusive,
            fraction: r.fraction,
            lineIndexes: [],
            bases: [],
          };
          buckets.set(key, b);
        }
        b.lineIndexes.push(i);
        b.bases.push(taxableBase[i] ?? 0n);
      }
    });
  }

  type KeyedTaxLine = TaxLineResult & { fraction: Fraction };
  const lineTaxes: KeyedTaxLine[][] = input.lines.map(() => []);
  const orderTaxes: KeyedTaxLine[] = [];
  for (const b of buckets.values()) {
    const taxable = b.bases.reduce((a, x) => a + x, 0n);
    const { num, den } = b.fraction;
    // Rounded once per order (Square); inclusive: the price contains the tax, tax = base × r / (1 + r).
    const tax = b.inclusive ? roundHalfEven(taxable * num, den + num) : roundHalfEven(taxable * num, den);
    const parts = allocate(tax, b.bases);
    const common = { name: b.name, jurisdiction: b.jurisdiction, rate: b.rate, inclusive: b.inclusive, fraction: b.fraction };
    orderTaxes.push({ ...common, taxable, tax });
    b.lineIndexes.forEach((lineIndex, k) => {
      lineTaxes[lineIndex]?.push({ ...common, taxable: b.bases[k] ?? 0n, tax: parts[k] ?? 0n });
    });
  }
  orderTaxes.sort(compareTaxKeys);

  // §6 Totals
  const lines: PricedLine[] = input.lines.map((l, i) => {
    const taxes = (lineTaxes[i] ?? []).sort(compareTaxKeys).map(stripFraction);
    const tax = taxes.reduce((a, t) => a + t.tax, 0n);
    const exclusiveTax = taxes.reduce((a, t) => (t.inclusive ? a : a + t.tax), 0n);
    const g = gross[i] ?? 0n;
    const discount = discountOf[i] ?? 0n;
    return {
      id: l.id,
      gross: g,
      discount,
      discounts: lineDiscounts[i] ?? [],
      tax,
      exclusiveTax,
      taxes,
      total: g - discount + exclusiveTax,
    };
  });

  const sum = (f: (l: PricedLine) => bigint): bigint => lines.reduce((a, l) => a + f(l), 0n);
  const discount = sum((l) => l.discount);
  const tax = sum((l) => l.tax);
  const exclusiveTax = sum((l) => l.exclusiveTax);
  return {
    currency,
    lines,
    discounts,
    taxes: orderTaxes.map(stripFraction),
    subtotal,
    discount,
    tax,
    exclusiveTax,
    total: subtotal - discount + exclusiveTax,
  };
}
