// Tax and pricing through the public API: the worked examples of docs/pricing.md reproduced through
// createOrder (no coupons yet), nexus, inclusive VAT, category exemptions and overrides, origin address,
// several jurisdictions at once, a zero-decimal currency, and re-pricing on change.
import { describe, expect, it } from 'vitest';
import { graphql } from '../generated/index.js';
import { useTestApi } from '../support/api.js';

const api = useTestApi();

const OrderFields = graphql(`
  fragment PricingOrderFields on Order {
    id
    currency
    version
    lineItems {
      id
      name
      taxCategory
      grossMoney { amount currency }
      discountMoney { amount currency }
      taxMoney { amount currency }
      totalMoney { amount currency }
      taxes { name jurisdiction rate inclusive taxableMoney { amount currency } taxMoney { amount currency } }
    }
    taxes { name jurisdiction rate inclusive taxableMoney { amount currency } taxMoney { amount currency } }
    netAmounts {
      subtotalMoney { amount currency }
      discountMoney { amount currency }
      taxMoney { amount currency }
      totalMoney { amount currency }
      paidMoney { amount currency }
      refundedMoney { amount currency }
      balanceMoney { amount currency }
    }
  }
`);
void OrderFields;

const CreateOrder = graphql(`
  mutation PricingCreate($input: CreateOrderInput!) {
    createOrder(input: $input) {
      order { ...PricingOrderFields }
      userErrors { code message field }
    }
  }
`);

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

const GetOrder = graphql(`
  query PricingGet($id: ID!) {
    order(id: $id) { ...PricingOrderFields }
  }
`);

const AddRegistration = graphql(`
  mutation PricingAddRegistration($input: AddTaxRegistrationInput!) {
    addTaxRegistration(input: $input) { userErrors { code message field } }
  }
`);

const SetRate = graphql(`
  mutation PricingSetRate($input: SetTaxRateInput!) {
    setTaxRate(input: $input) { userErrors { code message field } }
  }
`);

// --- helpers ---------------------------------------------------------------------------------------

interface RateSpec {
  jurisdiction: string;
  name: string;
  rate: string;
  taxCategory?: string;
  inclusive?: boolean;
}

async function taxSettings(key: string, registrations: string[], rates: RateSpec[]) {
  for (const jurisdiction of registrations) {
    const r = await api.exec(AddRegistration, { input: { jurisdiction } }, key);
    expect(r.addTaxRegistration.userErrors).toEqual([]);
  }
  for (const rate of rates) {
    const r = await api.exec(SetRate, { input: rate }, key);
    expect(r.setTaxRate.userErrors).toEqual([]);
  }
}

type LineSpec = { amount: number; quantity?: number; name?: string; taxCategory?: string };

function lines(currency: string, specs: LineSpec[]) {
  return specs.map((s, i) => ({
    name: s.name ?? `Line ${i + 1}`,
    quantity: s.quantity ?? 1,
    unitPriceMoney: { amount: s.amount, currency },
    ...(s.taxCategory ? { taxCategory: s.taxCategory } : {}),
  }));
}

type PricedOrder = NonNullable<Awaited<ReturnType<typeof createOrder>>>;

async function createOrder(key: string, input: { currency: string; lines: LineSpec[]; shippingAddress?: { country: string; region?: string | null } }) {
  const data = await api.exec(
    CreateOrder,
    { input: { lineItems: lines(input.currency, input.lines), ...(input.shippingAddress ? { shippingAddress: input.shippingAddress } : {}) } },
    key,
  );
  expect(data.createOrder.userErrors).toEqual([]);
  const order = data.createOrder.order;
  if (!order) throw new Error('no order');
  expectConsistent(order);
  return order;
}

/** §6 invariants that hold on every order: Σ line totals = order total, every amount in the order currency. */
function expectConsistent(order: {
  currency: string;
  lineItems: { grossMoney: { amount: number; currency: string }; discountMoney: { amount: number }; taxMoney: { amount: number; currency: string }; totalMoney: { amount: number; currency: string }; taxes: { inclusive: boolean; taxMoney: { amount: number } }[] }[];
  taxes: { taxMoney: { amount: number; currency: string } }[];
  netAmounts: { subtotalMoney: { amount: number; currency: string }; taxMoney: { amount: number; currency: string }; totalMoney: { amount: number; currency: string }; balanceMoney: { amount: number; currency: string } };
}) {
  const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
  expect(sum(order.lineItems.map((l) => l.totalMoney.amount))).toBe(order.netAmounts.totalMoney.amount);
  expect(sum(order.lineItems.map((l) => l.grossMoney.amount))).toBe(order.netAmounts.subtotalMoney.amount);
  expect(sum(order.lineItems.map((l) => l.taxMoney.amount))).toBe(order.netAmounts.taxMoney.amount);
  expect(sum(order.taxes.map((t) => t.taxMoney.amount))).toBe(order.netAmounts.taxMoney.amount);
  for (const l of order.lineItems) {
    expect(sum(l.taxes.map((t) => t.taxMoney.amount))).toBe(l.taxMoney.amount);
    const exclusive = sum(l.taxes.filter((t) => !t.inclusive).map((t) => t.taxMoney.amount));
    expect(l.totalMoney.amount).toBe(l.grossMoney.amount - l.discountMoney.amount + exclusive);
    expect([l.grossMoney.currency, l.taxMoney.currency, l.totalMoney.currency]).toEqual([order.currency, order.currency, order.currency]);
  }
  for (const t of order.taxes) expect(t.taxMoney.currency).toBe(order.currency);
  for (const m of Object.values(order.netAmounts)) {
    expect(m.currency).toBe(order.currency);
    expect(Number.isInteger(m.amount)).toBe(true);
  }
}

const lineTaxes = (o: PricedOrder) => o.lineItems.map((l) => l.taxMoney.amount);
const lineTotals = (o: PricedOrder) => o.lineItems.map((l) => l.totalMoney.amount);
const money = (amount: number, currency: string) => ({ amount, currency });

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
