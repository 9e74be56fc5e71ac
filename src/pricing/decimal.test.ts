import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { isValidPercent, isValidRate, parseDecimal, sameDecimal } from './decimal.js';

describe('parseDecimal', () => {
  it.each([
    ['0', 0n, 1n],
    ['100', 100n, 1n],
    ['0.0725', 29n, 400n],
    ['12.5', 25n, 2n],
    ['0.08875', 71n, 800n],
    ['0.50', 1n, 2n],
    ['007.50', 15n, 2n],
    ['0.000', 0n, 1n],
  ])('parses %j exactly as %s/%s', (s, num, den) => {
    expect(parseDecimal(s)).toEqual({ num, den });
  });

  it.each(['', '-1', '+1', '1e3', '1E3', ' 1', '1 ', '.5', '5.', '.', '1,5', '1_000', 'NaN', 'Infinity', '0x10', '1.2.3', '١', '12.5%'])(
    'rejects %j',
    (s) => {
      expect(parseDecimal(s)).toBeNull();
    },
  );

  it('rejects absurdly long strings', () => {
    expect(parseDecimal('1'.repeat(41))).toBeNull();
    expect(parseDecimal('1'.repeat(40))).not.toBeNull();
  });

  it('property: round-trips any integer/scale pair exactly', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 10n ** 18n }), fc.integer({ min: 0, max: 12 }), (n, scale) => {
        const digits = n.toString().padStart(scale + 1, '0');
        const s = scale === 0 ? digits : `${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
        const f = parseDecimal(s);
        expect(f).not.toBeNull();
        // num/den == n / 10^scale
        expect(f!.num * 10n ** BigInt(scale)).toBe(n * f!.den);
        expect(f!.den > 0n).toBe(true);
      }),
    );
  });
});

describe('isValidRate / isValidPercent', () => {
  it('rates: 0 <= rate < 1', () => {
    expect(isValidRate('0')).toBe(true);
    expect(isValidRate('0.0725')).toBe(true);
    expect(isValidRate('0.99999')).toBe(true);
    expect(isValidRate('1')).toBe(false);
    expect(isValidRate('1.0')).toBe(false);
    expect(isValidRate('7.25')).toBe(false);
    expect(isValidRate('-0.1')).toBe(false);
    expect(isValidRate('abc')).toBe(false);
  });

  it('percents: 0 < p <= 100', () => {
    expect(isValidPercent('12.5')).toBe(true);
    expect(isValidPercent('100')).toBe(true);
    expect(isValidPercent('100.00')).toBe(true);
    expect(isValidPercent('0.01')).toBe(true);
    expect(isValidPercent('0')).toBe(false);
    expect(isValidPercent('0.0')).toBe(false);
    expect(isValidPercent('100.01')).toBe(false);
    expect(isValidPercent('')).toBe(false);
  });

  it('sameDecimal compares values, not spellings', () => {
    expect(sameDecimal('0.07', '0.070')).toBe(true);
    expect(sameDecimal('0.07', '0.7')).toBe(false);
    expect(sameDecimal('x', 'x')).toBe(false);
  });
});
