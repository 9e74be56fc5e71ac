// Properties of the discount part of the engine (pricing.md §4) for any set of coupons: discounts never
// exceed the gross, no line goes below zero, Σ line discounts = Σ AppliedDiscount amounts (per coupon
// too), scopes and caps hold, unqualified coupons take nothing, and the application order is §4's.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { compareCoupons, priceOrder } from './price-order.js';
import { parseDecimal } from './decimal.js';
import { roundHalfEven } from './rounding.js';
import type { PricingCouponInput, PricingInput } from './types.js';

const SKUS = ['A', 'B', 'C', 'D'];

const lineArb = fc.record({
  quantity: fc.integer({ min: 1, max: 1000 }),
  unitPrice: fc.oneof(fc.constant(0n), fc.bigInt({ min: 0n, max: 99n }), fc.bigInt({ min: 0n, max: 10_000_000n })),
  sku: fc.option(fc.constantFrom(...SKUS), { nil: null }),
});

const couponArb = fc.record({
  type: fc.constantFrom('PERCENTAGE' as const, 'FIXED_AMOUNT' as const),
  percentOff: fc.oneof(
    fc.constantFrom('0.01', '1', '10', '12.5', '33.333', '50', '99.999', '100'),
    fc.integer({ min: 1, max: 100 }).map(String),
  ),
  // Small, ordinary and far larger than any order.
  amountOff: fc.oneof(fc.bigInt({ min: 0n, max: 10n }), fc.bigInt({ min: 0n, max: 100_000n }), fc.bigInt({ min: 0n, max: 10n ** 13n })),
  appliesToSkus: fc.subarray(SKUS),
  priority: fc.integer({ min: -5, max: 5 }),
  minimumSubtotal: fc.option(fc.bigInt({ min: 0n, max: 50_000_000n }), { nil: null }),
});

const inputArb: fc.Arbitrary<PricingInput> = fc
  .record({
    currency: fc.constantFrom('USD', 'JPY', 'KWD'),
    lines: fc.array(lineArb, { maxLength: 8 }),
    coupons: fc.array(couponArb, { maxLength: 10 }),
  })
  .map((r) => ({
    currency: r.currency,
    lines: r.lines.map((l, i) => ({ id: `li_${i}`, taxCategory: 'general', ...l })),
    coupons: r.coupons.map(
      (c, i): PricingCouponInput => ({
        id: `cpn_${String(i).padStart(2, '0')}`,
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
    jurisdiction: null,
    registrations: [],
    rates: [],
  }));

const sum = (xs: bigint[]) => xs.reduce((a, x) => a + x, 0n);
const eligible = (c: PricingCouponInput, sku: string | null) => c.appliesToSkus.length === 0 || (sku !== null && c.appliesToSkus.includes(sku));

describe('coupons in the pricing engine (properties)', () => {
  it('discounts never exceed the gross; every line stays >= 0; Σ line discounts = Σ AppliedDiscount amounts', () => {
    fc.assert(
      fc.property(inputArb, (input) => {
        const p = priceOrder(input);
        expect(p.discount >= 0n && p.discount <= p.subtotal).toBe(true);
        for (const l of p.lines) {
          expect(l.discount >= 0n).toBe(true);
          expect(l.discount <= l.gross).toBe(true);
          expect(l.gross - l.discount >= 0n).toBe(true);
          expect(l.total >= 0n).toBe(true);
        }
        const lineSum = sum(p.lines.map((l) => l.discount));
        const appliedSum = sum(p.discounts.map((d) => d.amount));
        expect(lineSum).toBe(appliedSum);
        expect(appliedSum).toBe(p.discount);
        for (const d of p.discounts) {
          expect(d.amount >= 0n).toBe(true);
          expect(sum(p.lines.flatMap((l) => l.discounts.filter((x) => x.couponId === d.couponId).map((x) => x.amount)))).toBe(d.amount);
        }
      }),
      { numRuns: 1000 },
    );
  });

  it('each coupon stays within its cap and its scope; a coupon below its minimum takes nothing', () => {
    fc.assert(
      fc.property(inputArb, (input) => {
        const p = priceOrder(input);
        const byId = new Map(input.coupons.map((c) => [c.id, c]));
        expect(p.discounts.map((d) => d.couponId).sort()).toEqual(input.coupons.map((c) => c.id).sort());
        for (const d of p.discounts) {
          const c = byId.get(d.couponId)!;
          const eligibleGross = sum(input.lines.filter((l) => eligible(c, l.sku)).map((l) => BigInt(l.quantity) * l.unitPrice));
          if (c.type === 'FIXED_AMOUNT') {
            expect(d.amount <= c.amountOff!).toBe(true);
          } else {
            const f = parseDecimal(c.percentOff!)!;
            // The base is what earlier coupons left of the eligible gross, so at most this:
            expect(d.amount <= roundHalfEven(eligibleGross * f.num, f.den * 100n)).toBe(true);
          }
          expect(d.amount <= eligibleGross).toBe(true);
          const belowMinimum = c.minimumSubtotal !== null && p.subtotal < c.minimumSubtotal;
          expect(d.qualified).toBe(!belowMinimum);
          if (belowMinimum) expect(d.amount).toBe(0n);
        }
        // Only eligible lines carry a coupon's share.
        p.lines.forEach((l, i) => {
          for (const share of l.discounts) expect(eligible(byId.get(share.couponId)!, input.lines[i]!.sku)).toBe(true);
        });
      }),
      { numRuns: 1000 },
    );
  });

  it('applies coupons in §4 order: SKU-scoped first, then percentage before fixed, then priority and code', () => {
    fc.assert(
      fc.property(inputArb, (input) => {
        const p = priceOrder(input);
        const byId = new Map(input.coupons.map((c) => [c.id, c]));
        const applied = p.discounts.map((d) => byId.get(d.couponId)!);
        for (let i = 1; i < applied.length; i++) expect(compareCoupons(applied[i - 1]!, applied[i]!) <= 0).toBe(true);
        // Line shares are listed in the same order.
        const rank = new Map(applied.map((c, i) => [c.id, i]));
        for (const l of p.lines) {
          const ranks = l.discounts.map((d) => rank.get(d.couponId)!);
          expect([...ranks].sort((a, b) => a - b)).toEqual(ranks);
        }
      }),
    );
  });

  it('a qualified order-wide 100 % coupon takes every line to zero, whatever else is attached', () => {
    fc.assert(
      fc.property(inputArb, (input) => {
        const all: PricingCouponInput = {
          id: 'cpn_all',
          code: 'ALL',
          name: 'Everything free',
          type: 'PERCENTAGE',
          percentOff: '100',
          amountOff: null,
          appliesToSkus: [],
          priority: 99,
          minimumSubtotal: null,
        };
        const p = priceOrder({ ...input, coupons: [...input.coupons, all] });
        expect(p.discount).toBe(p.subtotal);
        for (const l of p.lines) expect(l.gross - l.discount).toBe(0n);
      }),
    );
  });
});
