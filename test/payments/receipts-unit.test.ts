// Pure parts of receipts and the outbox: the receipt text, the backoff schedule, and which SMTP errors
// prove that nothing was delivered (only those are retried: at most once per receipt).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildReceipt, certainlyUndelivered, outboxBackoffMs } from '../../src/payments/receipts.js';
import type { LineRow, OrderRow } from '../../src/orders/order-model.js';

const at = new Date('2026-11-27T12:00:00.000Z');

function order(over: Partial<OrderRow> = {}): OrderRow {
  return {
    id: 'ord_01TEST',
    merchantId: 'mer_1',
    livemode: false,
    status: 'PAID',
    currency: 'EUR',
    customerId: null,
    buyerEmail: 'a@example.com',
    shippingAddress: null,
    metadata: null,
    version: 2,
    subtotalAmount: 2500n,
    discountAmount: 250n,
    taxAmount: 359n,
    exclusiveTaxAmount: 0n,
    totalAmount: 2250n,
    taxes: [{ name: 'Umsatzsteuer', jurisdiction: 'DE', rate: '0.19', inclusive: true, taxable: 2250, tax: 359 }],
    discounts: [{ couponId: 'cpn_1', code: 'TEN', name: 'TEN', type: 'PERCENTAGE', amount: 250 }],
    paidAmount: 2250n,
    refundedAmount: 0n,
    cancelReason: null,
    createdAt: at,
    updatedAt: at,
    ...over,
  } as OrderRow;
}

const line = { id: 'li_1', name: 'Kaffee <Bio>', quantity: 2, grossAmount: 2500n, unitPriceAmount: 1250n, refundedQuantity: 0 } as LineRow;

describe('buildReceipt', () => {
  it('lists items, discount, tax (inclusive noted), total, paid and balance, and escapes HTML', () => {
    const r = buildReceipt({ merchantName: 'Café & Co', order: order(), lines: [line], intent: { id: 'pi_1', amount: 2250n, currency: 'EUR', processorReference: 'sbch_1', updatedAt: at } });
    expect(r.subject).toBe('Your receipt from Café & Co: 22.50 EUR paid (order ord_01TEST)');
    expect(r.text).toContain('Kaffee <Bio> × 2');
    expect(r.text).toMatch(/Discount TEN\s+-2\.50 EUR/);
    expect(r.text).toMatch(/Umsatzsteuer 19 % \(included\)\s+3\.59 EUR/);
    expect(r.text).toMatch(/Total\s+22\.50 EUR/);
    expect(r.text).toMatch(/Balance due\s+0\.00 EUR/);
    expect(r.html).toContain('Kaffee &lt;Bio&gt; × 2');
    expect(r.html).toContain('Café &amp; Co');
    expect(r.html).not.toContain('<Bio>');
  });

  it('prints rates exactly, without floats', () => {
    const r = (rate: string) => buildReceipt({ merchantName: 'M', order: order({ taxes: [{ name: 'T', jurisdiction: 'X', rate, inclusive: false, taxable: 0, tax: 0 }] }), lines: [line], intent: { id: 'pi', amount: 0n, currency: 'EUR', processorReference: null, updatedAt: at } }).text;
    expect(r('0.0725')).toContain('T 7.25 %');
    expect(r('0.08875')).toContain('T 8.875 %');
    expect(r('0.1')).toContain('T 10 %');
    expect(r('0')).toContain('T 0 %');
  });
});

describe('outbox retries', () => {
  it('backs off exponentially from the base and caps at five minutes', () => {
    expect([1, 2, 3, 4].map((n) => outboxBackoffMs(n, 1000))).toEqual([1000, 2000, 4000, 8000]);
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 60 }), fc.integer({ min: 1, max: 10_000 }), (attempts, base) => {
        const delay = outboxBackoffMs(attempts, base);
        return delay >= Math.min(base, 300_000) && delay <= 300_000 && outboxBackoffMs(attempts + 1, base) >= delay;
      }),
    );
  });

  it('retries only errors that prove nothing was delivered', () => {
    expect(certainlyUndelivered({ responseCode: 451 })).toBe(true);
    expect(certainlyUndelivered({ responseCode: 421, code: 'EENVELOPE' })).toBe(true);
    expect(certainlyUndelivered({ code: 'ECONNECTION' })).toBe(true);
    expect(certainlyUndelivered({ code: 'ECONNREFUSED' })).toBe(true);
    expect(certainlyUndelivered({ responseCode: 550 })).toBe(false);
    expect(certainlyUndelivered({ code: 'ETIMEDOUT' })).toBe(false);
    expect(certainlyUndelivered({ code: 'ESOCKET' })).toBe(false);
    expect(certainlyUndelivered(new Error('?'))).toBe(false);
  });
});
