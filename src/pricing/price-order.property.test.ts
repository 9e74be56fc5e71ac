import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { priceOrder } from './price-order.js';
import { parseDecimal } from './decimal.js';
import { roundHalfEven } from './rounding.js';
import type { PricingCouponInput, PricingInput, PricingTaxRateInput } from './types.js';

const SKUS = ['A', 'B', 'C'];
const CATEGORIES = ['general', 'food', 'clothing'];

const lineArb = fc.record({
  quantity: fc.integer({ min: 1, max: 25 }),
  unitPrice: fc.oneof(fc.constant(0n), fc.bigInt({ min: 0n, max: 200_000n })),
  taxCategory: fc.constantFrom(...CATEGORIES),
  sku: fc.option(fc.constantFrom(...SKUS), { nil: null }),
});

const couponArb = fc.record({
  type: fc.constantFrom('PERCENTAGE' as const, 'FIXED_AMOUNT' as const),
  percentOff: fc.constantFrom('5', '10', '12.5', '33.333', '50', '99.99', '100'),
  amountOff: fc.bigInt({ min: 0n, max: 500_000n }),
  appliesToSkus: fc.subarray(SKUS),
  priority: fc.integer({ min: -3, max: 3 }),
  minimumSubtotal: fc.option(fc.bigInt({ min: 0n, max: 1_000_000n }), { nil: null }),
});

const rateArb = fc.record({
  jurisdiction: fc.constantFrom('US', 'US-CA', 'US-NY', 'CA', 'CA-BC', 'DE', 'DE-BY'),
  name: fc.constantFrom('Sales tax', 'VAT', 'Local'),
  rate: fc.constantFrom('0', '0.05', '0.0725', '0.08875', '0.1175', '0.19', '0.07'),
  taxCategory: fc.option(fc.constantFrom(...CATEGORIES), { nil: null }),
  inclusive: fc.boolean(),
});

const inputArb: fc.Arbitrary<PricingInput> = fc
  .record({
    currency: fc.constantFrom('USD', 'JPY', 'KWD', 'EUR'),
    lines: fc.array(lineArb, { maxLength: 7 }),
    coupons: fc.array(couponArb, { maxLength: 5 }),
    jurisdiction: fc.option(
      fc.constantFrom(
        { country: 'US', region: 'CA' },
        { country: 'US', region: 'NY' },
        { country: 'US', region: null },
        { country: 'CA', region: 'BC' },
        { country: 'DE', region: 'BY' },
      ),
      { nil: null },
    ),
    registrations: fc.subarray(['US', 'US-CA', 'CA', 'CA-BC', 'DE']),
    rates: fc.array(rateArb, { maxLength: 8 }),
  })
  .map((r) => ({
    ...r,
    lines: r.lines.map((l, i) => ({ id: `li_${i}`, ...l })),
    coupons: r.coupons.map(
      (c, i): PricingCouponInput => ({
        id: `cpn_${i}`,
        code: `C${i}`,
        name: `Coupon ${i}`,
        type: c.type,
        percentOff: c.type === 'PERCENTAGE' ? c.percentOff : null,
        amountOff: c.type === 'FIXED_AMOUNT' ? c.amountOff : null,
        appliesToSkus: c.appliesToSkus,
        priority: c.priority,
        minimumSubtotal: c.minimumSubtotal,
      }),
    ),
    rates: r.rates as PricingTaxRateInput[],
  }));

const sum = (xs: bigint[]) => xs.reduce((a, x) => a + x, 0n);

describe('priceOrder properties', () => {
  it('totals add up, discounts stay within gross, nothing is negative', () => {
    fc.assert(
      fc.property(inputArb, (input) => {
        const p = priceOrder(input);
        expect(p.lines.map((l) => l.id)).toEqual(input.lines.map((l) => l.id));

        // Σ line totals = order total; order totals are the sums of the lines
        expect(sum(p.lines.map((l) => l.total))).toBe(p.total);
        expect(sum(p.lines.map((l) => l.gross))).toBe(p.subtotal);
        expect(sum(p.lines.map((l) => l.discount))).toBe(p.discount);
        expect(sum(p.lines.map((l) => l.tax))).toBe(p.tax);
        expect(sum(p.lines.map((l) => l.exclusiveTax))).toBe(p.exclusiveTax);
        expect(p.total).toBe(p.subtotal - p.discount + p.exclusiveTax);

        // Σ line discounts = Σ applied discount amounts, per coupon too
        expect(sum(p.discounts.map((d) => d.amount))).toBe(p.discount);
        for (const d of p.discounts) {
          const perLine = sum(p.lines.flatMap((l) => l.discounts.filter((x) => x.couponId === d.couponId).map((x) => x.amount)));
          expect(perLine).toBe(d.amount);
          if (!d.qualified) expect(d.amount).toBe(0n);
          expect(d.amount > 0n ? d.reason === null : typeof d.reason === 'string').toBe(true);
        }
        expect(p.discounts).toHaveLength(input.coupons.length);

        // order tax lines = Σ line tax lines; each rounded once from its taxable sum
        expect(sum(p.taxes.map((t) => t.tax))).toBe(p.tax);
        for (const t of p.taxes) {
          const f = parseDecimal(t.rate)!;
          expect(f.num > 0n).toBe(true);
          const expected = t.inclusive ? roundHalfEven(t.taxable * f.num, f.den + f.num) : roundHalfEven(t.taxable * f.num, f.den);
          expect(t.tax).toBe(expected);
          const parts = p.lines.flatMap((l) =>
            l.taxes.filter((x) => x.jurisdiction === t.jurisdiction && x.name === t.name && x.rate === t.rate && x.inclusive === t.inclusive),
          );
          expect(sum(parts.map((x) => x.tax))).toBe(t.tax);
          expect(sum(parts.map((x) => x.taxable))).toBe(t.taxable);
        }

        for (const [i, l] of p.lines.entries()) {
          const li = input.lines[i]!;
          expect(l.gross).toBe(BigInt(li.quantity) * li.unitPrice);
          expect(l.discount >= 0n && l.discount <= l.gross).toBe(true);
          expect(sum(l.discounts.map((d) => d.amount))).toBe(l.discount);
          for (const d of l.discounts) expect(d.amount > 0n).toBe(true);
          expect(l.tax >= 0n && l.exclusiveTax >= 0n && l.exclusiveTax <= l.tax).toBe(true);
          expect(sum(l.taxes.map((t) => t.tax))).toBe(l.tax);
          expect(sum(l.taxes.filter((t) => !t.inclusive).map((t) => t.tax))).toBe(l.exclusiveTax);
          for (const t of l.taxes) {
            expect(t.taxable).toBe(l.gross - l.discount);
            expect(t.tax >= 0n).toBe(true);
          }
          expect(l.total).toBe(l.gross - l.discount + l.exclusiveTax);
          expect(l.total >= 0n).toBe(true);
        }
      }),
      { numRuns: 400 },
    );
  });

  it('no jurisdiction or no registration means no tax at all', () => {
    fc.assert(
      fc.property(inputArb, fc.boolean(), (input, dropJurisdiction) => {
        const p = priceOrder(dropJurisdiction ? { ...input, jurisdiction: null } : { ...input, registrations: [] });
        expect(p.tax).toBe(0n);
        expect(p.taxes).toEqual([]);
        for (const l of p.lines) expect(l.taxes).toEqual([]);
      }),
    );
  });

  it('the order of attached coupons and of tax rates in the input does not matter', () => {
    fc.assert(
      fc.property(
        inputArb.filter((i) => new Set(i.rates.map((r) => `${r.jurisdiction}|${r.name}|${r.taxCategory}`)).size === i.rates.length),
        (input) => {
          const reversed = { ...input, coupons: [...input.coupons].reverse(), rates: [...input.rates].reverse() };
          expect(priceOrder(reversed)).toEqual(priceOrder(input));
        },
      ),
    );
  });
});
