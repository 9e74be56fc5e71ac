import { describe, it, expect } from 'vitest';
import { priceOrder, registrationCovers, sortCoupons } from './price-order.js';
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

describe('priceOrder: tax (§5)', () => {
  it('8.875 % on 1500, 800, 695, 695 → 327 (rounded once per order) allocated [133, 71, 62, 61]', () => {
    const p = priceOrder(
      order({
        lines: [line('a', 1, 1500n), line('b', 1, 800n), line('c', 1, 695n), line('d', 1, 695n)],
        jurisdiction: { country: 'US', region: 'NY' },
        registrations: ['US-NY'],
        rates: [rate('US-NY', 'New York sales tax', '0.08875')],
      }),
    );
    expect(p.tax).toBe(327n);
    expect(p.exclusiveTax).toBe(327n);
    expect(p.lines.map((l) => l.tax)).toEqual([133n, 71n, 62n, 61n]);
    expect(p.taxes).toEqual([
      { name: 'New York sales tax', jurisdiction: 'US-NY', rate: '0.08875', inclusive: false, taxable: 3690n, tax: 327n },
    ]);
    expect(p.lines[2]!.taxes).toEqual([
      { name: 'New York sales tax', jurisdiction: 'US-NY', rate: '0.08875', inclusive: false, taxable: 695n, tax: 62n },
    ]);
    expect(p.total).toBe(3690n + 327n);
    // per-line rounding would have given 133 + 71 + 62 + 62 = 328
  });

  it.each([
    [600n, 70n],
    [3020n, 355n],
  ])("Square's half-even: %s × 11.75 %% → %s", (amount, tax) => {
    const p = priceOrder(
      order({ lines: [line('a', 1, amount)], jurisdiction: { country: 'US', region: 'XX' }, registrations: ['US-XX'], rates: [rate('US-XX', 'T', '0.1175')] }),
    );
    expect(p.tax).toBe(tax);
  });

  it('545 × 10 % → 54 (half to even)', () => {
    const p = priceOrder(order({ lines: [line('a', 1, 545n)], jurisdiction: CA, registrations: ['US-CA'], rates: [rate('US-CA', 'T', '0.1')] }));
    expect(p.tax).toBe(54n);
  });

  it('taxes the discounted amount', () => {
    const p = priceOrder(
      order({
        lines: [line('a', 1, 10000n)],
        coupons: [percentCoupon('TEN', '10')],
        jurisdiction: CA,
        registrations: ['US-CA'],
        rates: [rate('US-CA', 'California sales tax', '0.0725')],
      }),
    );
    // (10000 − 1000) × 7.25 % = 652.5 → 652
    expect(p.taxes[0]).toMatchObject({ taxable: 9000n, tax: 652n });
    expect(p.total).toBe(9000n + 652n);
  });

  it('inclusive VAT: DE 19 % inside 11900 → 1900 of tax, total unchanged', () => {
    const p = priceOrder(
      order({
        currency: 'EUR',
        lines: [line('a', 1, 11900n)],
        jurisdiction: { country: 'DE', region: null },
        registrations: ['DE'],
        rates: [rate('DE', 'MwSt', '0.19', { inclusive: true })],
      }),
    );
    expect(p).toMatchObject({ subtotal: 11900n, tax: 1900n, exclusiveTax: 0n, total: 11900n });
    expect(p.lines[0]).toMatchObject({ tax: 1900n, exclusiveTax: 0n, total: 11900n });
    expect(p.taxes).toEqual([{ name: 'MwSt', jurisdiction: 'DE', rate: '0.19', inclusive: true, taxable: 11900n, tax: 1900n }]);
  });

  it('inclusive VAT rounds once per order and allocates by base', () => {
    // 1000 + 1000 at 19 % inclusive: 2000 × 19/119 = 319.33 → 319, allocated 160 / 159
    const p = priceOrder(
      order({
        currency: 'EUR',
        lines: [line('a', 1, 1000n), line('b', 1, 1000n)],
        jurisdiction: { country: 'DE', region: 'BY' },
        registrations: ['DE'],
        rates: [rate('DE', 'MwSt', '0.19', { inclusive: true })],
      }),
    );
    expect(p.tax).toBe(319n);
    expect(p.lines.map((l) => l.tax)).toEqual([160n, 159n]);
    expect(p.total).toBe(2000n);
  });

  it("Canada: GST (country) and PST (province) both apply", () => {
    const p = priceOrder(
      order({
        currency: 'CAD',
        lines: [line('a', 1, 10000n), line('b', 2, 2550n)],
        jurisdiction: { country: 'CA', region: 'BC' },
        registrations: ['CA', 'CA-BC'],
        rates: [rate('CA-BC', 'PST', '0.07'), rate('CA', 'GST', '0.05'), rate('CA-ON', 'HST', '0.13')],
      }),
    );
    // base 15100: GST 755, PST 1057
    expect(p.taxes.map((t) => [t.jurisdiction, t.name, t.tax])).toEqual([
      ['CA', 'GST', 755n],
      ['CA-BC', 'PST', 1057n],
    ]);
    expect(p.lines[0]!.taxes.map((t) => [t.name, t.tax])).toEqual([
      ['GST', 500n],
      ['PST', 700n],
    ]);
    expect(p.lines[1]!.taxes.map((t) => [t.name, t.tax])).toEqual([
      ['GST', 255n],
      ['PST', 357n],
    ]);
    expect(p.tax).toBe(1812n);
    expect(p.total).toBe(15100n + 1812n);
  });

  it('a category rate of "0" exempts the category: no tax and no tax line', () => {
    const p = priceOrder(
      order({
        lines: [line('food', 1, 1000n, { taxCategory: 'food' }), line('tv', 1, 1000n)],
        jurisdiction: CA,
        registrations: ['US-CA'],
        rates: [rate('US-CA', 'California sales tax', '0.0725'), rate('US-CA', 'California sales tax', '0', { taxCategory: 'food' })],
      }),
    );
    expect(p.lines[0]).toMatchObject({ tax: 0n, taxes: [], total: 1000n });
    expect(p.lines[1]).toMatchObject({ tax: 72n, total: 1072n }); // 72.5 → 72
    expect(p.taxes).toEqual([
      { name: 'California sales tax', jurisdiction: 'US-CA', rate: '0.0725', inclusive: false, taxable: 1000n, tax: 72n },
    ]);
  });

  it('a category rate replaces the category-less rate of the same jurisdiction and name only', () => {
    const p = priceOrder(
      order({
        currency: 'EUR',
        lines: [line('book', 1, 10700n, { taxCategory: 'books' }), line('tv', 1, 11900n), line('pen', 1, 100n, { taxCategory: '' })],
        jurisdiction: { country: 'DE', region: null },
        registrations: ['DE'],
        rates: [
          rate('DE', 'MwSt', '0.19', { inclusive: true }),
          rate('DE', 'MwSt', '0.07', { inclusive: true, taxCategory: 'books' }),
          rate('DE', 'Other', '0.01', { taxCategory: 'general' }),
        ],
      }),
    );
    expect(p.lines[0]!.taxes).toEqual([{ name: 'MwSt', jurisdiction: 'DE', rate: '0.07', inclusive: true, taxable: 10700n, tax: 700n }]);
    // '' taxCategory is "general": gets the 19 % plus the general-only 1 % exclusive
    expect(p.lines[2]!.taxes.map((t) => [t.name, t.rate])).toEqual([
      ['MwSt', '0.19'],
      ['Other', '0.01'],
    ]);
    expect(p.taxes.map((t) => [t.name, t.rate, t.taxable, t.tax])).toEqual([
      ['MwSt', '0.07', 10700n, 700n],
      ['MwSt', '0.19', 12000n, 1916n], // 12000 × 19/119 = 1915.97 → 1916
      ['Other', '0.01', 12000n, 120n],
    ]);
    expect(p.exclusiveTax).toBe(120n);
    expect(p.total).toBe(10700n + 11900n + 100n + 120n);
  });

  it('no nexus → no tax', () => {
    const base = { lines: [line('a', 1, 1000n)], jurisdiction: CA, rates: [rate('US-CA', 'CA', '0.0725')] };
    const none = priceOrder(order({ ...base, registrations: [] }));
    expect(none).toMatchObject({ tax: 0n, taxes: [], total: 1000n });
    expect(none.lines[0]!.taxes).toEqual([]);
    const elsewhere = priceOrder(order({ ...base, registrations: ['US-NY'] }));
    expect(elsewhere).toMatchObject({ tax: 0n, taxes: [] });
  });

  it('no jurisdiction → no tax', () => {
    const p = priceOrder(order({ lines: [line('a', 1, 1000n)], jurisdiction: null, registrations: ['US-CA'], rates: [rate('US-CA', 'CA', '0.0725')] }));
    expect(p).toMatchObject({ tax: 0n, taxes: [], total: 1000n });
  });

  it('the shipping region decides which rates apply, the registrations which are collected', () => {
    const rates = [rate('US-CA', 'California', '0.0725'), rate('US-NY', 'New York', '0.04')];
    const lines = [line('a', 1, 10000n)];
    const toCA = priceOrder(order({ lines, rates, jurisdiction: CA, registrations: ['US-CA'] }));
    expect(toCA.taxes.map((t) => t.name)).toEqual(['California']);
    const toNY = priceOrder(order({ lines, rates, jurisdiction: { country: 'US', region: 'NY' }, registrations: ['US-CA'] }));
    expect(toNY.taxes).toEqual([]);
    const countryReg = priceOrder(order({ lines, rates, jurisdiction: { country: 'US', region: 'NY' }, registrations: ['US'] }));
    expect(countryReg.taxes.map((t) => [t.name, t.tax])).toEqual([['New York', 400n]]);
    const noRegion = priceOrder(order({ lines, rates, jurisdiction: { country: 'US', region: null }, registrations: ['US'] }));
    expect(noRegion.taxes).toEqual([]);
    // lower-case and prefixed region spellings resolve to the same jurisdiction
    const prefixed = priceOrder(order({ lines, rates, jurisdiction: { country: 'us', region: 'US-ca' }, registrations: ['US-CA'] }));
    expect(prefixed.taxes.map((t) => t.name)).toEqual(['California']);
  });

  it('a country-level rate needs a country-level registration', () => {
    const rates = [rate('CA', 'GST', '0.05'), rate('CA-BC', 'PST', '0.07')];
    const lines = [line('a', 1, 10000n)];
    const bc = { country: 'CA', region: 'BC' };
    expect(priceOrder(order({ currency: 'CAD', lines, rates, jurisdiction: bc, registrations: ['CA-BC'] })).taxes.map((t) => t.name)).toEqual(['PST']);
    expect(priceOrder(order({ currency: 'CAD', lines, rates, jurisdiction: bc, registrations: ['CA'] })).taxes.map((t) => t.name)).toEqual(['GST', 'PST']);
    expect(registrationCovers('US-CA', 'US')).toBe(false);
    expect(registrationCovers('US', 'US')).toBe(true);
    expect(registrationCovers('DE', 'DE-BY')).toBe(true);
    expect(registrationCovers('US-CA', 'US-CAX')).toBe(false);
    expect(registrationCovers('US', 'USA-CA')).toBe(false);
  });

  it('fully discounted lines carry a taxable base of 0', () => {
    const p = priceOrder(
      order({
        lines: [line('free', 1, 500n, { sku: 'F' }), line('b', 1, 1000n)],
        coupons: [percentCoupon('F100', '100', { appliesToSkus: ['F'] })],
        jurisdiction: CA,
        registrations: ['US-CA'],
        rates: [rate('US-CA', 'California sales tax', '0.1')],
      }),
    );
    expect(p.lines[0]).toMatchObject({ total: 0n, tax: 0n });
    expect(p.lines[0]!.taxes[0]).toMatchObject({ taxable: 0n, tax: 0n });
    expect(p.lines[1]).toMatchObject({ tax: 100n, total: 1100n });
  });

  it('JPY and KWD amounts are plain minor units', () => {
    const jpy = priceOrder(
      order({ currency: 'JPY', lines: [line('a', 3, 333n)], jurisdiction: { country: 'JP', region: null }, registrations: ['JP'], rates: [rate('JP', '消費税', '0.1')] }),
    );
    expect(jpy).toMatchObject({ subtotal: 999n, tax: 100n, total: 1099n }); // 99.9 → 100
    const kwd = priceOrder(order({ currency: 'KWD', lines: [line('a', 1, 1234n)], coupons: [fixedCoupon('F', 5n, { minimumSubtotal: 2000n })] }));
    expect(kwd.discounts[0]!.reason).toContain('add 0.766 KWD more');
  });
});
