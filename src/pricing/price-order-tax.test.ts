// priceOrder (pure): tax (pricing.md §5): one half-even rounding per order allocated to lines, tax on
// discounted amounts, inclusive VAT, GST + PST, category exemptions and overrides, nexus and jurisdiction
// (shipping region, country-level registrations), zero bases, JPY and KWD minor units.
import { describe, it, expect } from 'vitest';
import { priceOrder, registrationCovers } from './price-order.js';
import { fixedCoupon, line, order, percentCoupon, rate } from './test-helpers.js';

const CA = { country: 'US', region: 'CA' };

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
