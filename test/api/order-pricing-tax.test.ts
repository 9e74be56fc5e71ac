// Tax through the public API: by jurisdiction (exclusive US sales tax, inclusive EU VAT, country and regional
// rates together, category exemptions and overrides) and nexus (no registration → no tax, origin address,
// normalized shipping address, re-pricing on setShippingAddress and on the next change).
import { describe, expect, it } from 'vitest';
import { graphql } from '../generated/index.js';
import { api, CreateOrder, taxSettings, lines, createOrder, expectConsistent, lineTaxes, lineTotals, money } from '../support/order-pricing.js';

const AddLines = graphql(`
  mutation PricingAddLines($input: AddLineItemsInput!) {
    addLineItems(input: $input) {
      order { ...PricingOrderFields }
      userErrors { code message field }
    }
  }
`);

const SetShipping = graphql(`
  mutation PricingSetShipping($input: SetShippingAddressInput!) {
    setShippingAddress(input: $input) {
      order { ...PricingOrderFields }
      userErrors { code message field }
    }
  }
`);

// --- two jurisdictions: exclusive sales tax and inclusive VAT ------------------------------------------------

describe('tax by jurisdiction', () => {
  it('adds exclusive US sales tax on top (registration US-CA, shipping US/CA)', async () => {
    const { key } = await api.signup();
    await taxSettings(key, ['US-CA'], [{ jurisdiction: 'US-CA', name: 'California sales tax', rate: '0.0725' }]);
    const order = await createOrder(key, { currency: 'USD', shippingAddress: { country: 'US', region: 'CA' }, lines: [{ amount: 10000 }, { amount: 2999, quantity: 3 }] });
    // 10000 + 8997 = 18997 × 7.25 % = 1377.2825 → 1377; shares 724.87 / 652.13 → [725, 652].
    expect(order.taxes.map((t) => [t.jurisdiction, t.inclusive, t.taxableMoney.amount, t.taxMoney.amount])).toEqual([['US-CA', false, 18997, 1377]]);
    expect(lineTaxes(order)).toEqual([725, 652]);
    expect(lineTotals(order)).toEqual([10725, 9649]);
    expect(order.netAmounts.totalMoney.amount).toBe(20374);
  });

  it('keeps inclusive EU VAT inside the price: 11900 gross → tax 1900, total 11900', async () => {
    const { key } = await api.signup();
    await taxSettings(key, ['DE'], [{ jurisdiction: 'DE', name: 'Umsatzsteuer', rate: '0.19', inclusive: true }]);
    const order = await createOrder(key, { currency: 'EUR', shippingAddress: { country: 'DE' }, lines: [{ amount: 11900 }] });
    expect(order.taxes).toEqual([
      { name: 'Umsatzsteuer', jurisdiction: 'DE', rate: '0.19', inclusive: true, taxableMoney: money(11900, 'EUR'), taxMoney: money(1900, 'EUR') },
    ]);
    expect(order.lineItems[0]!.taxMoney.amount).toBe(1900);
    expect(order.lineItems[0]!.totalMoney.amount).toBe(11900);
    expect(order.netAmounts.subtotalMoney.amount).toBe(11900);
    expect(order.netAmounts.taxMoney.amount).toBe(1900);
    expect(order.netAmounts.totalMoney.amount).toBe(11900);
    expect(order.netAmounts.balanceMoney.amount).toBe(11900);
  });

  it('rounds inclusive VAT once per order and allocates it; a country registration covers its regions', async () => {
    const { key } = await api.signup();
    await taxSettings(key, ['DE'], [{ jurisdiction: 'DE', name: 'Umsatzsteuer', rate: '0.19', inclusive: true }]);
    // Shipping to Bavaria: the DE registration and the DE rate cover it.
    const order = await createOrder(key, { currency: 'EUR', shippingAddress: { country: 'DE', region: 'BY' }, lines: [{ amount: 1000 }, { amount: 999 }, { amount: 11900 }] });
    // 13899 × 0.19 / 1.19 = 2219.21… → 2219; shares 159.65 / 159.49 / 1899.86 → floors 159, 159, 1899 (= 2217),
    // 2 left: .84 (third), then .66 (first).
    expect(order.netAmounts.taxMoney.amount).toBe(2219);
    expect(lineTaxes(order)).toEqual([160, 159, 1900]);
    expect(lineTotals(order)).toEqual([1000, 999, 11900]);
    expect(order.netAmounts.totalMoney.amount).toBe(13899);
  });

  it('applies both a country and a regional rate where both exist (GST + PST)', async () => {
    const { key } = await api.signup();
    await taxSettings(
      key,
      ['CA'],
      [
        { jurisdiction: 'CA', name: 'GST', rate: '0.05' },
        { jurisdiction: 'CA-BC', name: 'PST', rate: '0.07' },
      ],
    );
    const order = await createOrder(key, { currency: 'CAD', shippingAddress: { country: 'CA', region: 'BC' }, lines: [{ amount: 10000 }, { amount: 1550 }] });
    const byName = Object.fromEntries(order.taxes.map((t) => [t.name, [t.jurisdiction, t.taxableMoney.amount, t.taxMoney.amount]]));
    // 11550 × 5 % = 577.5 → 578 (577 is odd); × 7 % = 808.5 → 808.
    expect(byName).toEqual({ GST: ['CA', 11550, 578], PST: ['CA-BC', 11550, 808] });
    expect(order.taxes).toHaveLength(2);
    expect(order.netAmounts.taxMoney.amount).toBe(1386);
    expect(order.netAmounts.totalMoney.amount).toBe(12936);
    // GST 578 over [10000, 1550]: 500.43 / 77.57 → [500, 78]; PST 808: 699.57 / 108.43 → [700, 108].
    expect(order.lineItems.map((l) => Object.fromEntries(l.taxes.map((t) => [t.name, t.taxMoney.amount])))).toEqual([
      { GST: 500, PST: 700 },
      { GST: 78, PST: 108 },
    ]);
    expect(lineTotals(order)).toEqual([11200, 1736]);
  });

  it('exempts a category with a rate of "0": no tax on the food line, tax on the general line', async () => {
    const { key } = await api.signup();
    await taxSettings(
      key,
      ['US-CA'],
      [
        { jurisdiction: 'US-CA', name: 'California sales tax', rate: '0.0725' },
        { jurisdiction: 'US-CA', name: 'California sales tax', rate: '0', taxCategory: 'food' },
      ],
    );
    const order = await createOrder(key, {
      currency: 'USD',
      shippingAddress: { country: 'US', region: 'CA' },
      lines: [{ amount: 1000, name: 'Mug' }, { amount: 500, name: 'Bread', taxCategory: 'food' }],
    });
    expect(order.lineItems.map((l) => l.taxCategory)).toEqual(['general', 'food']);
    // 1000 × 7.25 % = 72.5 → 72; the food line is not part of the base.
    expect(order.lineItems[0]!.taxes.map((t) => [t.rate, t.taxableMoney.amount, t.taxMoney.amount])).toEqual([['0.0725', 1000, 72]]);
    expect(order.lineItems[1]!.taxes).toEqual([]);
    expect(order.lineItems[1]!.taxMoney.amount).toBe(0);
    expect(order.lineItems[1]!.totalMoney.amount).toBe(500);
    expect(order.taxes.map((t) => [t.rate, t.taxableMoney.amount, t.taxMoney.amount])).toEqual([['0.0725', 1000, 72]]);
    expect(order.netAmounts.totalMoney.amount).toBe(1572);
  });

  it('replaces the general rate with a category override rate for that category only', async () => {
    const { key } = await api.signup();
    await taxSettings(
      key,
      ['US-CA'],
      [
        { jurisdiction: 'US-CA', name: 'California sales tax', rate: '0.0725' },
        { jurisdiction: 'US-CA', name: 'California sales tax', rate: '0.05', taxCategory: 'clothing' },
      ],
    );
    const order = await createOrder(key, {
      currency: 'USD',
      shippingAddress: { country: 'US', region: 'CA' },
      lines: [{ amount: 2000, name: 'Lamp' }, { amount: 1500, quantity: 2, name: 'Shirt', taxCategory: 'clothing' }, { amount: 300, name: 'Socks', taxCategory: 'clothing' }],
    });
    // general: 2000 × 7.25 % = 145; clothing: 3300 × 5 % = 165, over [3000, 300] → [150, 15].
    expect(order.lineItems.map((l) => l.taxes.map((t) => [t.rate, t.taxMoney.amount]))).toEqual([[['0.0725', 145]], [['0.05', 150]], [['0.05', 15]]]);
    const byRate = [...order.taxes].sort((x, y) => x.rate.localeCompare(y.rate)).map((t) => [t.rate, t.taxableMoney.amount, t.taxMoney.amount]);
    expect(byRate).toEqual([
      ['0.05', 3300, 165],
      ['0.0725', 2000, 145],
    ]);
    expect(order.netAmounts.taxMoney.amount).toBe(310);
    expect(order.netAmounts.totalMoney.amount).toBe(5610);
  });
});

// --- nexus and the jurisdiction of an order ------------------------------------------------------------------

describe('nexus and jurisdiction', () => {
  it('collects nothing where the merchant has a rate but no registration', async () => {
    const { key } = await api.signup();
    await taxSettings(key, [], [{ jurisdiction: 'US-NY', name: 'New York sales tax', rate: '0.08875' }]);
    const order = await createOrder(key, { currency: 'USD', shippingAddress: { country: 'US', region: 'NY' }, lines: [{ amount: 1500 }, { amount: 800 }] });
    expect(order.taxes).toEqual([]);
    expect(order.lineItems.map((l) => l.taxes)).toEqual([[], []]);
    expect(lineTaxes(order)).toEqual([0, 0]);
    expect(order.netAmounts.taxMoney.amount).toBe(0);
    expect(order.netAmounts.totalMoney.amount).toBe(2300);
  });

  it('collects nothing when shipping to a state without registration', async () => {
    const { key } = await api.signup();
    await taxSettings(
      key,
      ['US-CA'],
      [
        { jurisdiction: 'US-CA', name: 'California sales tax', rate: '0.0725' },
        { jurisdiction: 'US-NY', name: 'New York sales tax', rate: '0.08875' },
      ],
    );
    const ny = await createOrder(key, { currency: 'USD', shippingAddress: { country: 'US', region: 'NY' }, lines: [{ amount: 1000 }] });
    expect(ny.taxes).toEqual([]);
    expect(ny.lineItems[0]!.taxes).toEqual([]);
    expect(ny.netAmounts.totalMoney.amount).toBe(1000);
    // Same merchant, registered state: taxed.
    const ca = await createOrder(key, { currency: 'USD', shippingAddress: { country: 'US', region: 'CA' }, lines: [{ amount: 1000 }] });
    expect(ca.netAmounts.taxMoney.amount).toBe(72);
    // Registered, but no rate for the state: nothing to collect.
    const { key: key2 } = await api.signup();
    await taxSettings(key2, ['US-TX'], [{ jurisdiction: 'US-NY', name: 'New York sales tax', rate: '0.08875' }]);
    const tx = await createOrder(key2, { currency: 'USD', shippingAddress: { country: 'US', region: 'TX' }, lines: [{ amount: 1000 }] });
    expect(tx.taxes).toEqual([]);
    expect(tx.netAmounts.taxMoney.amount).toBe(0);
  });

  it("uses the merchant's originAddress when the order has no shipping address", async () => {
    const { key } = await api.signup({ originAddress: { country: 'US', region: 'CA' } });
    await taxSettings(key, ['US-CA'], [{ jurisdiction: 'US-CA', name: 'California sales tax', rate: '0.0725' }]);
    const noShipping = await createOrder(key, { currency: 'USD', lines: [{ amount: 2000 }] });
    expect(noShipping.taxes.map((t) => [t.jurisdiction, t.taxMoney.amount])).toEqual([['US-CA', 145]]);
    expect(noShipping.netAmounts.totalMoney.amount).toBe(2145);
    // A shipping address wins over the origin.
    const toOregon = await createOrder(key, { currency: 'USD', shippingAddress: { country: 'US', region: 'OR' }, lines: [{ amount: 2000 }] });
    expect(toOregon.taxes).toEqual([]);
    expect(toOregon.netAmounts.totalMoney.amount).toBe(2000);
    // Without origin and without shipping address: no tax, even with registrations and rates.
    const { key: noOrigin } = await api.signup();
    await taxSettings(noOrigin, ['US-CA'], [{ jurisdiction: 'US-CA', name: 'California sales tax', rate: '0.0725' }]);
    const untaxed = await createOrder(noOrigin, { currency: 'USD', lines: [{ amount: 2000 }] });
    expect(untaxed.taxes).toEqual([]);
    expect(untaxed.netAmounts.totalMoney.amount).toBe(2000);
  });

  it('normalizes the shipping address before choosing the jurisdiction ("us" / "us-ca" → US, CA)', async () => {
    const { key } = await api.signup();
    await taxSettings(key, ['US-CA'], [{ jurisdiction: 'US-CA', name: 'California sales tax', rate: '0.0725' }]);
    const data = await api.exec(
      CreateOrder,
      { input: { shippingAddress: { country: 'us', region: 'us-ca' }, lineItems: lines('USD', [{ amount: 2000 }]) } },
      key,
    );
    expect(data.createOrder.userErrors).toEqual([]);
    const order = data.createOrder.order!;
    expect(order.taxes.map((t) => [t.jurisdiction, t.taxMoney.amount])).toEqual([['US-CA', 145]]);
    expect(order.netAmounts.totalMoney.amount).toBe(2145);
  });

  it('setShippingAddress re-prices: VAT appears for Germany and disappears for a country without nexus', async () => {
    const { key } = await api.signup();
    await taxSettings(key, ['DE'], [{ jurisdiction: 'DE', name: 'Umsatzsteuer', rate: '0.19', inclusive: true }]);
    const order = await createOrder(key, { currency: 'EUR', lines: [{ amount: 11900 }] });
    expect(order.netAmounts.taxMoney.amount).toBe(0);
    const de = await api.exec(SetShipping, { input: { orderId: order.id, shippingAddress: { country: 'DE' } } }, key);
    expect(de.setShippingAddress.userErrors).toEqual([]);
    expectConsistent(de.setShippingAddress.order!);
    expect(de.setShippingAddress.order!.netAmounts.taxMoney.amount).toBe(1900);
    expect(de.setShippingAddress.order!.netAmounts.totalMoney.amount).toBe(11900);
    const fr = await api.exec(SetShipping, { input: { orderId: order.id, shippingAddress: { country: 'FR' } } }, key);
    expect(fr.setShippingAddress.userErrors).toEqual([]);
    expect(fr.setShippingAddress.order!.taxes).toEqual([]);
    expect(fr.setShippingAddress.order!.netAmounts.taxMoney.amount).toBe(0);
    expect(fr.setShippingAddress.order!.netAmounts.totalMoney.amount).toBe(11900);
  });

  it('re-prices an OPEN order with the current rates on its next change', async () => {
    const { key } = await api.signup();
    await taxSettings(key, ['US-CA'], [{ jurisdiction: 'US-CA', name: 'California sales tax', rate: '0.0725' }]);
    const order = await createOrder(key, { currency: 'USD', shippingAddress: { country: 'US', region: 'CA' }, lines: [{ amount: 1000 }] });
    expect(order.netAmounts.taxMoney.amount).toBe(72);
    await taxSettings(key, [], [{ jurisdiction: 'US-CA', name: 'California sales tax', rate: '0.08' }]);
    const added = await api.exec(AddLines, { input: { orderId: order.id, lineItems: lines('USD', [{ amount: 500 }]) } }, key);
    expect(added.addLineItems.userErrors).toEqual([]);
    const o = added.addLineItems.order!;
    expectConsistent(o);
    // 1500 × 8 % = 120 over [1000, 500] → [80, 40].
    expect(o.netAmounts.taxMoney.amount).toBe(120);
    expect(lineTaxes(o)).toEqual([80, 40]);
    expect(o.taxes.map((t) => t.rate)).toEqual(['0.08']);
  });
});
