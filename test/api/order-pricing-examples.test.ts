// Pricing through the public API: the worked examples of docs/pricing.md reproduced through createOrder
// (8.875 % allocated by largest remainder, half-even rounding, a zero-decimal currency).
import { describe, expect, it } from 'vitest';
import { graphql } from '../generated/index.js';
import { api, taxSettings, createOrder, lineTaxes, lineTotals, money } from '../support/order-pricing.js';

const GetOrder = graphql(`
  query PricingGet($id: ID!) {
    order(id: $id) { ...PricingOrderFields }
  }
`);

// --- §5 worked examples -----------------------------------------------------------------------------------

describe('pricing.md worked examples through createOrder', () => {
  it('8.875 % on lines 1500, 800, 695, 695 → 327 (rounded once per order), allocated by largest remainder', async () => {
    const { key } = await api.signup();
    await taxSettings(key, ['US-NY'], [{ jurisdiction: 'US-NY', name: 'New York sales tax', rate: '0.08875' }]);
    const order = await createOrder(key, { currency: 'USD', shippingAddress: { country: 'US', region: 'NY' }, lines: [{ amount: 1500 }, { amount: 800 }, { amount: 695 }, { amount: 695 }] });
    // Σ bases 3690 × 0.08875 = 327.4875 → 327 (per-line rounding would give 133 + 71 + 62 + 62 = 328).
    // Shares 327 × w / 3690: 132.93, 70.89, 61.59, 61.59 → floors 132, 70, 61, 61 (= 324);
    // the 3 left go to the largest remainders .93, .89, then the first .59 (ties: earlier index).
    expect(lineTaxes(order)).toEqual([133, 71, 62, 61]);
    expect(lineTotals(order)).toEqual([1633, 871, 757, 756]);
    expect(order.taxes).toEqual([
      { name: 'New York sales tax', jurisdiction: 'US-NY', rate: '0.08875', inclusive: false, taxableMoney: money(3690, 'USD'), taxMoney: money(327, 'USD') },
    ]);
    expect(order.lineItems.map((l) => l.taxes.map((t) => [t.jurisdiction, t.rate, t.inclusive, t.taxableMoney.amount, t.taxMoney.amount]))).toEqual([
      [['US-NY', '0.08875', false, 1500, 133]],
      [['US-NY', '0.08875', false, 800, 71]],
      [['US-NY', '0.08875', false, 695, 62]],
      [['US-NY', '0.08875', false, 695, 61]],
    ]);
    expect(order.netAmounts).toEqual({
      subtotalMoney: money(3690, 'USD'),
      discountMoney: money(0, 'USD'),
      taxMoney: money(327, 'USD'),
      totalMoney: money(4017, 'USD'),
      paidMoney: money(0, 'USD'),
      refundedMoney: money(0, 'USD'),
      balanceMoney: money(4017, 'USD'),
    });
    // The stored order reads back identically.
    const read = (await api.exec(GetOrder, { id: order.id }, key)).order!;
    expect(read).toEqual(order);
  });

  it('rounds half to even: 600 × 11.75 % → 70, 3020 × 11.75 % → 355, 545 × 10 % → 54', async () => {
    const { key } = await api.signup();
    await taxSettings(
      key,
      ['US-WA', 'US-OR'],
      [
        { jurisdiction: 'US-WA', name: 'Test tax 11.75', rate: '0.1175' },
        { jurisdiction: 'US-OR', name: 'Test tax 10', rate: '0.10' },
      ],
    );
    const wa = { country: 'US', region: 'WA' };
    // 70.5 → 70 (not 71): as a single line of 2 × 300.
    const a = await createOrder(key, { currency: 'USD', shippingAddress: wa, lines: [{ amount: 300, quantity: 2 }] });
    expect(a.lineItems[0]!.grossMoney.amount).toBe(600);
    expect(a.netAmounts.taxMoney.amount).toBe(70);
    expect(a.netAmounts.totalMoney.amount).toBe(670);
    // 354.85 → 355.
    const b = await createOrder(key, { currency: 'USD', shippingAddress: wa, lines: [{ amount: 3020 }] });
    expect(b.netAmounts.taxMoney.amount).toBe(355);
    expect(b.netAmounts.totalMoney.amount).toBe(3375);
    // 54.5 → 54 (not 55).
    const c = await createOrder(key, { currency: 'USD', shippingAddress: { country: 'US', region: 'OR' }, lines: [{ amount: 545 }] });
    expect(c.netAmounts.taxMoney.amount).toBe(54);
    expect(c.netAmounts.totalMoney.amount).toBe(599);
    expect(c.taxes.map((t) => [t.rate, t.taxableMoney.amount, t.taxMoney.amount])).toEqual([['0.10', 545, 54]]);
    // Halves go to the even neighbour in both directions: 1800 × 11.75 % = 211.5 → 212; 1400 × 11.75 % = 164.5 → 164.
    const d = await createOrder(key, { currency: 'USD', shippingAddress: wa, lines: [{ amount: 1800 }] });
    expect(d.netAmounts.taxMoney.amount).toBe(212);
    const e = await createOrder(key, { currency: 'USD', shippingAddress: wa, lines: [{ amount: 1400 }] });
    expect(e.netAmounts.taxMoney.amount).toBe(164);
  });

  it('prices a zero-decimal currency (JPY) in whole yen', async () => {
    const { key } = await api.signup();
    await taxSettings(key, ['JP'], [{ jurisdiction: 'JP', name: 'Consumption tax', rate: '0.1' }]);
    const order = await createOrder(key, { currency: 'JPY', shippingAddress: { country: 'JP' }, lines: [{ amount: 1980 }, { amount: 545 }] });
    expect(order.currency).toBe('JPY');
    // 2525 × 10 % = 252.5 yen → 252 (half even); shares 197.61 / 54.39 → [198, 54].
    expect(order.taxes).toEqual([
      { name: 'Consumption tax', jurisdiction: 'JP', rate: '0.1', inclusive: false, taxableMoney: money(2525, 'JPY'), taxMoney: money(252, 'JPY') },
    ]);
    expect(lineTaxes(order)).toEqual([198, 54]);
    expect(lineTotals(order)).toEqual([2178, 599]);
    expect(order.netAmounts.subtotalMoney).toEqual(money(2525, 'JPY'));
    expect(order.netAmounts.totalMoney).toEqual(money(2777, 'JPY'));
    expect(order.netAmounts.balanceMoney).toEqual(money(2777, 'JPY'));
  });
});
