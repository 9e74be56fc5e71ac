import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { allocate } from './allocate.js';

describe('allocate (largest remainder)', () => {
  it.each([
    [299n, [4300n, 1400n, 2300n], [161n, 52n, 86n]],
    [299n, [1000n, 1000n, 1000n], [100n, 100n, 99n]],
    [300n, [4000n, 2000n, 2000n], [150n, 75n, 75n]],
    [40n, [10n, 0n], [40n, 0n]],
    [10n, [0n, 0n], [5n, 5n]],
  ])('reference case (Vendure): %s over %s → %s', (total, weights, expected) => {
    expect(allocate(total, weights)).toEqual(expected);
  });

  it('splits equally over all-zero weights with ties to earlier indexes', () => {
    expect(allocate(11n, [0n, 0n, 0n])).toEqual([4n, 4n, 3n]);
    expect(allocate(2n, [0n, 0n, 0n])).toEqual([1n, 1n, 0n]);
  });

  it('gives leftover units to the largest fractional parts, not to the first index', () => {
    // 10 over [1,1,3]: exact 2, 2, 6 → exact; 7 over [1,2,4]: 1, 2, 4 exact; 5 over [1,1,4]: .833, .833, 3.333
    expect(allocate(5n, [1n, 1n, 4n])).toEqual([1n, 1n, 3n]);
    // 10 over [1, 3]: 2.5 / 7.5 → tie, earlier index wins
    expect(allocate(10n, [1n, 3n])).toEqual([3n, 7n]);
    // 1 over [1, 2]: .333 / .667 → the larger fraction wins
    expect(allocate(1n, [1n, 2n])).toEqual([0n, 1n]);
  });

  it('handles zero and negative totals and a single weight', () => {
    expect(allocate(0n, [3n, 5n])).toEqual([0n, 0n]);
    expect(allocate(-299n, [4300n, 1400n, 2300n])).toEqual([-161n, -52n, -86n]);
    expect(allocate(17n, [9n])).toEqual([17n]);
    expect(allocate(0n, [])).toEqual([]);
  });

  it('rejects negative weights and a non-zero total over nothing', () => {
    expect(() => allocate(10n, [1n, -1n])).toThrow(RangeError);
    expect(() => allocate(10n, [])).toThrow(RangeError);
  });

  it('property: parts sum exactly, stay within floor/ceil, and follow largest remainder', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: -(10n ** 12n), max: 10n ** 12n }),
        fc.array(fc.oneof(fc.constant(0n), fc.bigInt({ min: 0n, max: 10n ** 9n })), { minLength: 1, maxLength: 12 }),
        (total, weights) => {
          const parts = allocate(total, weights);
          expect(parts).toHaveLength(weights.length);
          expect(parts.reduce((a, p) => a + p, 0n)).toBe(total);

          const abs = total < 0n ? -total : total;
          const sign = total < 0n ? -1n : 1n;
          const allZero = weights.every((w) => w === 0n);
          const eff = allZero ? weights.map(() => 1n) : weights;
          const W = eff.reduce((a, w) => a + w, 0n);
          const floors = eff.map((w) => (abs * w) / W);
          const rems = eff.map((w) => (abs * w) % W);
          parts.forEach((p, i) => {
            const mag = p * sign;
            const fl = floors[i]!;
            const ceil = rems[i] === 0n ? fl : fl + 1n;
            expect(mag >= fl && mag <= ceil).toBe(true);
            if (!allZero && weights[i] === 0n) expect(p).toBe(0n);
          });
          // Largest remainder: whoever got an extra unit has a remainder >= anyone who did not
          // (strictly greater, or equal with an earlier index).
          for (let i = 0; i < parts.length; i++) {
            for (let j = 0; j < parts.length; j++) {
              const gotI = parts[i]! * sign > floors[i]!;
              const gotJ = parts[j]! * sign > floors[j]!;
              if (gotI && !gotJ) {
                expect(rems[i]! > rems[j]! || (rems[i] === rems[j] && i < j)).toBe(true);
              }
            }
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});
