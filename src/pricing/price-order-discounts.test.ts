// priceOrder (pure): line amounts and order totals (empty orders, malformed input with its path, rates
// that do not apply), and discounts (pricing.md §4): Shopify's 350 → 297, percentage before fixed, SKU-scoped
// first, priority and code order, compounding, a fixed coupon stopping at zero, minimum subtotals, 100 % off.
import { describe, it, expect } from 'vitest';
import { priceOrder, sortCoupons } from './price-order.js';
import { PricingInputError } from './types.js';
import { fixedCoupon, line, order, percentCoupon, rate } from './test-helpers.js';

const CA = { country: 'US', region: 'CA' };

describe('priceOrder: lines and totals', () => {
  it('gross = quantity × unitPrice; totals without discounts or tax', () => {
    const p = priceOrder(order({ lines: [line('a', 3, 1999n), line('b', 1, 0n)] }));
    expect(p.lines.map((l) => l.gross)).toEqual([5997n, 0n]);
    expect(p).toMatchObject({ subtotal: 5997n, discount: 0n, tax: 0n, exclusiveTax: 0n, total: 5997n, currency: 'USD' });
    expect(p.discounts).toEqual([]);
    expect(p.taxes).toEqual([]);
  });

  it('prices an empty order at 0', () => {
    const p = priceOrder(order());
    expect(p).toMatchObject({ lines: [], subtotal: 0n, total: 0n });
  });

  it('rejects malformed input with PricingInputError and a path', () => {
    expect(() => priceOrder(order({ currency: 'ABC' }))).toThrow(PricingInputError);
    expect(() => priceOrder(order({ lines: [line('a', 0, 1n)] }))).toThrow(/quantity/);
    expect(() => priceOrder(order({ lines: [line('a', 1.5, 1n)] }))).toThrow(PricingInputError);
    expect(() => priceOrder(order({ lines: [line('a', 1, -1n)] }))).toThrow(/unitPrice/);
    expect(() => priceOrder(order({ coupons: [percentCoupon('X', '0')] }))).toThrow(/percentOff/);
    expect(() => priceOrder(order({ coupons: [percentCoupon('X', '101')] }))).toThrow(/percentOff/);
    expect(() => priceOrder(order({ coupons: [fixedCoupon('X', -1n)] }))).toThrow(/amountOff/);
    try {
      priceOrder(order({ lines: [line('a', 1, 1n), line('b', -2, 1n)] }));
      expect.unreachable();
    } catch (e) {
      expect((e as PricingInputError).path).toEqual(['lines', '1', 'quantity']);
    }
    expect(() =>
      priceOrder(order({ lines: [line('a', 1, 100n)], jurisdiction: CA, registrations: ['US-CA'], rates: [rate('US-CA', 'CA', '7.25')] })),
    ).toThrow(/rate/);
  });

  it('ignores a malformed rate that does not apply to the order', () => {
    const p = priceOrder(
      order({ lines: [line('a', 1, 100n)], jurisdiction: CA, registrations: ['US-CA'], rates: [rate('US-NY', 'NY', 'bad')] }),
    );
    expect(p.tax).toBe(0n);
  });
});

describe('priceOrder: discounts (§4)', () => {
  it("Shopify's example: 20 off pants, then 10 % off the order → 297", () => {
    const p = priceOrder(
      order({
        lines: [line('pants', 1, 100n, { sku: 'PANTS' }), line('shirt', 1, 50n, { sku: 'SHIRT' }), line('coat', 1, 200n)],
        coupons: [percentCoupon('TENOFF', '10'), fixedCoupon('PANTS20', 20n, { appliesToSkus: ['PANTS'] })],
      }),
    );
    expect(p.discounts.map((d) => [d.code, d.amount])).toEqual([
      ['PANTS20', 20n],
      ['TENOFF', 33n],
    ]);
    expect(p.subtotal - p.discount).toBe(297n);
    expect(p.total).toBe(297n);
    // 33 over remaining [80, 50, 200] (of 330) → exactly 8, 5, 20
    expect(p.lines.map((l) => l.discount)).toEqual([28n, 5n, 20n]);
    expect(p.lines[0]!.discounts).toEqual([
      { couponId: 'cpn_PANTS20', code: 'PANTS20', amount: 20n },
      { couponId: 'cpn_TENOFF', code: 'TENOFF', amount: 8n },
    ]);
  });

  it('an order-level fixed 299 over 4300/1400/2300 allocates [161, 52, 86]', () => {
    const p = priceOrder(
      order({ lines: [line('a', 1, 4300n), line('b', 1, 1400n), line('c', 1, 2300n)], coupons: [fixedCoupon('OFF299', 299n)] }),
    );
    expect(p.lines.map((l) => l.discount)).toEqual([161n, 52n, 86n]);
    expect(p.discount).toBe(299n);
    expect(p.total).toBe(8000n - 299n);
  });

  it('percentage rounds half-even on the eligible base', () => {
    // 545 × 10 % = 54.5 → 54
    const p = priceOrder(order({ lines: [line('a', 1, 545n)], coupons: [percentCoupon('TEN', '10')] }));
    expect(p.discount).toBe(54n);
    // 12.5 % of 1020 = 127.5 → 128
    const q = priceOrder(order({ lines: [line('a', 1, 1020n)], coupons: [percentCoupon('X', '12.5')] }));
    expect(q.discount).toBe(128n);
  });

  it('applies PERCENTAGE before FIXED_AMOUNT whatever their priority', () => {
    const p = priceOrder(
      order({
        lines: [line('a', 1, 10000n)],
        coupons: [fixedCoupon('FIX', 1000n, { priority: 0 }), percentCoupon('PCT', '10', { priority: 5 })],
      }),
    );
    // 10000 − 10 % = 9000, − 1000 = 8000 (fixed first would give 8100)
    expect(p.discounts.map((d) => [d.code, d.amount])).toEqual([
      ['PCT', 1000n],
      ['FIX', 1000n],
    ]);
    expect(p.total).toBe(8000n);
  });

  it('applies SKU-scoped coupons before order-wide ones whatever their type and priority', () => {
    const p = priceOrder(
      order({
        lines: [line('a', 1, 1000n, { sku: 'A' }), line('b', 1, 1000n, { sku: 'B' })],
        coupons: [percentCoupon('ALL50', '50', { priority: 0 }), fixedCoupon('A500', 500n, { appliesToSkus: ['A'], priority: 99 })],
      }),
    );
    // A500 first: remaining [500, 1000]; then 50 % of 1500 = 750 → [250, 500]
    expect(p.discounts.map((d) => [d.code, d.amount])).toEqual([
      ['A500', 500n],
      ['ALL50', 750n],
    ]);
    expect(p.lines.map((l) => l.discount)).toEqual([750n, 500n]);
    expect(p.total).toBe(750n);
  });

  it('orders by priority, then code, within the same scope and type', () => {
    const sorted = sortCoupons([
      percentCoupon('B', '1', { priority: 1 }),
      percentCoupon('C', '1', { priority: 0 }),
      percentCoupon('A', '1', { priority: 1 }),
      fixedCoupon('Z', 1n, { priority: -5 }),
      fixedCoupon('S', 1n, { priority: 7, appliesToSkus: ['x'] }),
    ]);
    expect(sorted.map((c) => c.code)).toEqual(['S', 'C', 'A', 'B', 'Z']);
  });

  it('compounds: each coupon works on what the earlier ones left', () => {
    const p = priceOrder(
      order({ lines: [line('a', 1, 10000n)], coupons: [percentCoupon('P10', '10', { priority: 1 }), percentCoupon('P20', '20', { priority: 2 })] }),
    );
    // 10 % of 10000 = 1000; 20 % of 9000 = 1800
    expect(p.discounts.map((d) => d.amount)).toEqual([1000n, 1800n]);
    expect(p.total).toBe(7200n);
  });

  it('a fixed coupon larger than its base stops at zero', () => {
    const p = priceOrder(
      order({
        lines: [line('a', 2, 1500n), line('b', 1, 2000n)],
        coupons: [fixedCoupon('BIG', 10000n), fixedCoupon('MORE', 100n, { priority: 1 })],
        jurisdiction: CA,
        registrations: ['US-CA'],
        rates: [rate('US-CA', 'California sales tax', '0.0725')],
      }),
    );
    expect(p.discounts.map((d) => d.amount)).toEqual([5000n, 0n]);
    expect(p.discounts[1]).toMatchObject({ qualified: true, reason: expect.stringMatching(/Nothing left/) });
    expect(p.lines.map((l) => [l.discount, l.total])).toEqual([
      [3000n, 0n],
      [2000n, 0n],
    ]);
    expect(p).toMatchObject({ subtotal: 5000n, discount: 5000n, tax: 0n, total: 0n });
  });

  it('keeps a coupon below its minimum subtotal, unqualified, with what to add', () => {
    const p = priceOrder(
      order({
        lines: [line('a', 1, 3000n)],
        coupons: [percentCoupon('BIG', '10', { minimumSubtotal: 5000n }), fixedCoupon('OK', 100n, { minimumSubtotal: 3000n })],
      }),
    );
    expect(p.discounts).toEqual([
      {
        couponId: 'cpn_BIG',
        code: 'BIG',
        name: '10 % off',
        type: 'PERCENTAGE',
        amount: 0n,
        qualified: false,
        reason: "Minimum subtotal not met: the order's subtotal is 30.00 USD; add 20.00 USD more to reach 50.00 USD.",
      },
      { couponId: 'cpn_OK', code: 'OK', name: '100 off', type: 'FIXED_AMOUNT', amount: 100n, qualified: true, reason: null },
    ]);
    expect(p.total).toBe(2900n);
  });

  it('compares the minimum with the gross subtotal, not the discounted one', () => {
    const p = priceOrder(
      order({
        lines: [line('a', 1, 5000n)],
        coupons: [fixedCoupon('FIRST', 1000n, { priority: 0 }), fixedCoupon('MIN5000', 500n, { priority: 1, minimumSubtotal: 5000n })],
      }),
    );
    expect(p.discounts.map((d) => [d.amount, d.qualified])).toEqual([
      [1000n, true],
      [500n, true],
    ]);
  });

  it('a SKU coupon matching no line takes nothing and says why', () => {
    const p = priceOrder(order({ lines: [line('a', 1, 1000n, { sku: 'A' }), line('b', 1, 1000n)], coupons: [percentCoupon('HATS', '50', { appliesToSkus: ['HAT'] })] }));
    expect(p.discounts[0]).toMatchObject({ amount: 0n, qualified: true, reason: expect.stringContaining('HAT') });
    expect(p.discount).toBe(0n);
  });

  it('a SKU coupon touches only matching lines', () => {
    const p = priceOrder(
      order({
        lines: [line('a', 1, 1000n, { sku: 'A' }), line('b', 1, 1000n, { sku: 'B' }), line('c', 1, 3000n, { sku: 'A' })],
        coupons: [percentCoupon('A10', '10', { appliesToSkus: ['A'] })],
      }),
    );
    expect(p.lines.map((l) => l.discount)).toEqual([100n, 0n, 300n]);
    expect(p.lines[1]!.discounts).toEqual([]);
  });

  it('a 100 % coupon takes every line to exactly zero', () => {
    const p = priceOrder(order({ lines: [line('a', 3, 333n), line('b', 1, 1n)], coupons: [percentCoupon('FREE', '100')] }));
    expect(p.lines.map((l) => l.total)).toEqual([0n, 0n]);
    expect(p.total).toBe(0n);
  });
});
