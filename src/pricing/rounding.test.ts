import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { roundHalfEven } from './rounding.js';

describe('roundHalfEven', () => {
  it('rounds the Square examples (pricing.md §5)', () => {
    // 600 × 11.75 % = 70.5 → 70; 3020 × 11.75 % = 354.85 → 355; 545 × 10 % = 54.5 → 54
    expect(roundHalfEven(600n * 1175n, 10000n)).toBe(70n);
    expect(roundHalfEven(3020n * 1175n, 10000n)).toBe(355n);
    expect(roundHalfEven(545n * 10n, 100n)).toBe(54n);
  });

  it('sends exact halves to the even neighbour', () => {
    expect(roundHalfEven(1n, 2n)).toBe(0n); // 0.5
    expect(roundHalfEven(3n, 2n)).toBe(2n); // 1.5
    expect(roundHalfEven(5n, 2n)).toBe(2n); // 2.5
    expect(roundHalfEven(7n, 2n)).toBe(4n); // 3.5
    expect(roundHalfEven(25n, 10n)).toBe(2n);
    expect(roundHalfEven(35n, 10n)).toBe(4n);
  });

  it('rounds non-halves to the nearest integer', () => {
    expect(roundHalfEven(7n, 3n)).toBe(2n); // 2.333
    expect(roundHalfEven(8n, 3n)).toBe(3n); // 2.667
    expect(roundHalfEven(251n, 100n)).toBe(3n);
    expect(roundHalfEven(249n, 100n)).toBe(2n);
    expect(roundHalfEven(0n, 7n)).toBe(0n);
    expect(roundHalfEven(42n, 1n)).toBe(42n);
  });

  it('is symmetric for negatives', () => {
    expect(roundHalfEven(-1n, 2n)).toBe(0n); // -0.5 → -0
    expect(roundHalfEven(-3n, 2n)).toBe(-2n); // -1.5
    expect(roundHalfEven(-5n, 2n)).toBe(-2n); // -2.5
    expect(roundHalfEven(-7n, 3n)).toBe(-2n); // -2.333
    expect(roundHalfEven(-8n, 3n)).toBe(-3n); // -2.667
    expect(roundHalfEven(-705n, 10n)).toBe(-70n);
    expect(roundHalfEven(-35485n, 100n)).toBe(-355n);
  });

  it('accepts a negative denominator', () => {
    expect(roundHalfEven(5n, -2n)).toBe(-2n);
    expect(roundHalfEven(-7n, -2n)).toBe(4n);
    expect(roundHalfEven(8n, -3n)).toBe(-3n);
  });

  it('rejects a zero denominator', () => {
    expect(() => roundHalfEven(1n, 0n)).toThrow(RangeError);
  });

  it('property: nearest integer, ties to even, odd symmetric', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: -(10n ** 30n), max: 10n ** 30n }),
        fc.bigInt({ min: 1n, max: 10n ** 15n }),
        (num, den) => {
          const r = roundHalfEven(num, den);
          const twiceError = (r * den - num) * 2n; // 2·(r − num/den)·den
          const abs = twiceError < 0n ? -twiceError : twiceError;
          expect(abs <= den).toBe(true);
          if (abs === den) expect(r % 2n).toBe(0n);
          expect(roundHalfEven(-num, den)).toBe(-r);
          expect(roundHalfEven(num, -den)).toBe(-r);
        },
      ),
    );
  });
});
