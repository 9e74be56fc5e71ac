import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { amountRefundTax, lineRefundShare, netAmounts } from './refunds.js';
import type { LineRefundShare, RefundableLine } from './refunds.js';
import { priceOrder } from './price-order.js';
import { fixedCoupon, line, order, percentCoupon, rate } from './test-helpers.js';

const ZERO: LineRefundShare = { gross: 0n, discount: 0n, tax: 0n, exclusiveTax: 0n, amount: 0n };
function add(a: LineRefundShare, b: LineRefundShare): LineRefundShare {
  return {
    gross: a.gross + b.gross,
    discount: a.discount + b.discount,
    tax: a.tax + b.tax,
    exclusiveTax: a.exclusiveTax + b.exclusiveTax,
    amount: a.amount + b.amount,
  };
}

describe('lineRefundShare (§7)', () => {
  const l: RefundableLine = { quantity: 3, refundedQuantity: 0, gross: 1000n, discount: 100n, tax: 73n, exclusiveTax: 73n };

  it('returns f(r+k) − f(r) of each amount, f(n) = roundHalfEven(X·n/q)', () => {
    // gross: 333.33 → 333, 666.67 → 667, 1000; discount: 33.3 → 33, 66.7 → 67, 100; tax: 24.3 → 24, 48.7 → 49, 73
    expect(lineRefundShare(l, 1)).toEqual({ gross: 333n, discount: 33n, tax: 24n, exclusiveTax: 24n, amount: 324n });
    expect(lineRefundShare({ ...l, refundedQuantity: 1 }, 1)).toEqual({ gross: 334n, discount: 34n, tax: 25n, exclusiveTax: 25n, amount: 325n });
    expect(lineRefundShare({ ...l, refundedQuantity: 2 }, 1)).toEqual({ gross: 333n, discount: 33n, tax: 24n, exclusiveTax: 24n, amount: 324n });
    expect(lineRefundShare(l, 3)).toEqual({ gross: 1000n, discount: 100n, tax: 73n, exclusiveTax: 73n, amount: 973n });
  });

  it('rounds half to even: 2 units of 5 → f(1) = 2 (2.5), f(2) = 5', () => {
    const half: RefundableLine = { quantity: 2, refundedQuantity: 0, gross: 5n, discount: 0n, tax: 0n, exclusiveTax: 0n };
    expect(lineRefundShare(half, 1).gross).toBe(2n);
    expect(lineRefundShare({ ...half, refundedQuantity: 1 }, 1).gross).toBe(3n);
  });

  it('inclusive tax is returned as tax but not added to the amount', () => {
    const vat: RefundableLine = { quantity: 2, refundedQuantity: 0, gross: 11900n, discount: 0n, tax: 1900n, exclusiveTax: 0n };
    expect(lineRefundShare(vat, 1)).toEqual({ gross: 5950n, discount: 0n, tax: 950n, exclusiveTax: 0n, amount: 5950n });
  });

  it('apportions each amount independently, as §7 says: one chunk may return 1 more discount than gross', () => {
    // gross 6, discount 5, q 4: f_gross = 2, 3, 4, 6 and f_discount = 1, 2, 4, 5 (1.25, 2.5, 3.75 → half-even)
    const edge: RefundableLine = { quantity: 4, refundedQuantity: 2, gross: 6n, discount: 5n, tax: 0n, exclusiveTax: 0n };
    expect(lineRefundShare(edge, 1)).toEqual({ gross: 1n, discount: 2n, tax: 0n, exclusiveTax: 0n, amount: -1n });
    expect(lineRefundShare({ ...edge, refundedQuantity: 0 }, 4).amount).toBe(1n);
  });

  it('rejects impossible unit counts', () => {
    expect(() => lineRefundShare(l, 0)).toThrow(RangeError);
    expect(() => lineRefundShare(l, 4)).toThrow(RangeError);
    expect(() => lineRefundShare({ ...l, refundedQuantity: 2 }, 2)).toThrow(RangeError);
    expect(() => lineRefundShare(l, 1.5)).toThrow(RangeError);
    expect(() => lineRefundShare({ ...l, refundedQuantity: -1 }, 1)).toThrow(RangeError);
  });

  const refundableLine = fc
    .record({
      quantity: fc.integer({ min: 1, max: 60 }),
      gross: fc.bigInt({ min: 0n, max: 10n ** 12n }),
      discountPart: fc.bigInt({ min: 0n, max: 10n ** 12n }),
      tax: fc.bigInt({ min: 0n, max: 10n ** 11n }),
      exclusivePart: fc.bigInt({ min: 0n, max: 10n ** 11n }),
    })
    .map(({ quantity, gross, discountPart, tax, exclusivePart }) => ({
      quantity,
      refundedQuantity: 0,
      gross,
      discount: gross === 0n ? 0n : discountPart % (gross + 1n),
      tax,
      exclusiveTax: tax === 0n ? 0n : exclusivePart % (tax + 1n),
    }));

  it('property: refunding all units in random chunks returns exactly the line', () => {
    fc.assert(
      fc.property(refundableLine, fc.array(fc.integer({ min: 1, max: 60 }), { minLength: 1, maxLength: 60 }), (ln, chunks) => {
        let r = 0;
        let total = ZERO;
        for (const c of chunks) {
          if (r === ln.quantity) break;
          const k = Math.min(c, ln.quantity - r);
          total = add(total, lineRefundShare({ ...ln, refundedQuantity: r }, k));
          r += k;
        }
        if (r < ln.quantity) {
          total = add(total, lineRefundShare({ ...ln, refundedQuantity: r }, ln.quantity - r));
        }
        expect(total).toEqual({
          gross: ln.gross,
          discount: ln.discount,
          tax: ln.tax,
          exclusiveTax: ln.exclusiveTax,
          amount: ln.gross - ln.discount + ln.exclusiveTax,
        });
      }),
    );
  });

  it('property: units one by one return exactly what refunding them together would', () => {
    fc.assert(
      fc.property(refundableLine, fc.nat(), fc.nat(), (ln, a, b) => {
        const r = a % ln.quantity;
        const k = 1 + (b % (ln.quantity - r));
        let oneByOne = ZERO;
        for (let u = 0; u < k; u++) oneByOne = add(oneByOne, lineRefundShare({ ...ln, refundedQuantity: r + u }, 1));
        expect(oneByOne).toEqual(lineRefundShare({ ...ln, refundedQuantity: r }, k));
      }),
    );
  });
});

describe('amountRefundTax (§7)', () => {
  it("Stripe's example: 25 of 100 + 25 tax → 5", () => {
    expect(amountRefundTax(25n, 25n, 125n)).toBe(5n);
  });

  it('rounds half to even and caps at the remaining tax', () => {
    expect(amountRefundTax(1n, 1n, 2n)).toBe(0n); // 0.5 → 0
    expect(amountRefundTax(3n, 1n, 2n)).toBe(1n); // 1.5 → 2, capped at 1
    expect(amountRefundTax(150n, 25n, 125n)).toBe(25n); // 30 → capped
  });

  it('is 0 when nothing remains', () => {
    expect(amountRefundTax(25n, 25n, 0n)).toBe(0n);
    expect(amountRefundTax(25n, 0n, 100n)).toBe(0n);
    expect(amountRefundTax(0n, 25n, 125n)).toBe(0n);
  });

  it('property: a sequence of amount refunds never takes more tax than remains, and the last takes all of it', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 1n, max: 10n ** 12n }),
        fc.bigInt({ min: 0n, max: 10n ** 12n }),
        fc.array(fc.bigInt({ min: 1n, max: 10n ** 12n }), { maxLength: 20 }),
        (total, taxSeed, amounts) => {
          const tax = taxSeed % (total + 1n);
          let remTotal = total;
          let remTax = tax;
          let taken = 0n;
          const steps = [...amounts.map((a) => 1n + (a % remTotal)), remTotal];
          for (const step of steps) {
            if (remTotal === 0n) break;
            const a = step > remTotal ? remTotal : step;
            const t = amountRefundTax(a, remTax, remTotal);
            expect(t >= 0n && t <= remTax).toBe(true);
            expect(t <= a).toBe(true);
            remTotal -= a;
            remTax -= t;
            taken += t;
          }
          if (remTotal > 0n) {
            const t = amountRefundTax(remTotal, remTax, remTotal);
            expect(t).toBe(remTax);
            taken += t;
          }
          expect(taken).toBe(tax);
        },
      ),
    );
  });
});

describe('netAmounts (§6)', () => {
  const priced = priceOrder(
    order({
      lines: [line('a', 3, 1000n), line('b', 1, 2000n)],
      coupons: [percentCoupon('TEN', '10')],
      jurisdiction: { country: 'US', region: 'CA' },
      registrations: ['US-CA'],
      rates: [rate('US-CA', 'California sales tax', '0.0725')],
    }),
  );

  it('before refunds: the priced amounts and the balance', () => {
    const n = netAmounts({ ...priced, refundedLineShares: [], amountRefunds: [], paid: 0n, refunded: 0n });
    expect(n).toEqual({ subtotal: 5000n, discount: 500n, tax: 326n, total: 4826n, paid: 0n, refunded: 0n, balance: 4826n });
    expect(netAmounts({ ...priced, refundedLineShares: [], amountRefunds: [], paid: 4826n, refunded: 0n }).balance).toBe(0n);
  });

  it('a line refund nets out subtotal, discount, tax and total, and the balance stays 0', () => {
    const a = priced.lines[0]!;
    const share = lineRefundShare({ quantity: 3, refundedQuantity: 0, ...a }, 1);
    const n = netAmounts({ ...priced, refundedLineShares: [share], amountRefunds: [], paid: priced.total, refunded: share.amount });
    expect(n.subtotal).toBe(5000n - share.gross);
    expect(n.discount).toBe(500n - share.discount);
    expect(n.tax).toBe(326n - share.tax);
    expect(n.total).toBe(priced.total - share.amount);
    expect(n.balance).toBe(0n);
  });

  it('an amount refund reduces total and tax only', () => {
    const t = amountRefundTax(1000n, priced.tax, priced.total);
    const n = netAmounts({ ...priced, refundedLineShares: [], amountRefunds: [{ amount: 1000n, tax: t }], paid: priced.total, refunded: 1000n });
    expect(t).toBe(68n); // 1000 × 326 / 4826 = 67.55 → 68
    expect(n).toEqual({ subtotal: 5000n, discount: 500n, tax: 326n - 68n, total: 3826n, paid: 4826n, refunded: 1000n, balance: 0n });
  });

  it('property: refunding every unit of a paid order, in any chunks, leaves zeros and balance 0 throughout', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ q: fc.integer({ min: 1, max: 12 }), p: fc.bigInt({ min: 0n, max: 100000n }) }), { minLength: 1, maxLength: 5 }),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 12 })), { maxLength: 30 }),
        fc.bigInt({ min: 0n, max: 5000n }),
        (lines, chunks, off) => {
          const p = priceOrder(
            order({
              lines: lines.map((l, i) => line(`l${i}`, l.q, l.p)),
              coupons: [fixedCoupon('OFF', off), percentCoupon('P', '12.5')],
              jurisdiction: { country: 'US', region: 'NY' },
              registrations: ['US-NY'],
              rates: [rate('US-NY', 'NY', '0.08875')],
            }),
          );
          const refunded = lines.map(() => 0);
          const shares: LineRefundShare[] = [];
          let refundedMoney = 0n;
          const check = () => {
            const n = netAmounts({ ...p, refundedLineShares: shares, amountRefunds: [], paid: p.total, refunded: refundedMoney });
            expect(n.balance).toBe(0n);
            return n;
          };
          const refund = (i: number, k: number) => {
            const s = lineRefundShare({ ...p.lines[i]!, quantity: lines[i]!.q, refundedQuantity: refunded[i]! }, k);
            refunded[i]! += k;
            shares.push(s);
            refundedMoney += s.amount;
            check();
          };
          for (const [li, k] of chunks) {
            const i = li % lines.length;
            const left = lines[i]!.q - refunded[i]!;
            if (left > 0) refund(i, Math.min(k, left));
          }
          lines.forEach((l, i) => {
            if (l.q > refunded[i]!) refund(i, l.q - refunded[i]!);
          });
          expect(check()).toEqual({ subtotal: 0n, discount: 0n, tax: 0n, total: 0n, paid: p.total, refunded: p.total, balance: 0n });
        },
      ),
      { numRuns: 200 },
    );
  });
});
