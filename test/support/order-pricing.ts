// Shared setup of the order-pricing tests (test/api/order-pricing-*.test.ts): importing it starts the test
// server for the importing file; typed documents, tax-settings and order helpers, consistency checks.
import { expect } from 'vitest';
import { graphql } from '../generated/index.js';
import { useTestApi } from './api.js';

export const api = useTestApi();

export const OrderFields = graphql(`
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

export const CreateOrder = graphql(`
  mutation PricingCreate($input: CreateOrderInput!) {
    createOrder(input: $input) {
      order { ...PricingOrderFields }
      userErrors { code message field }
    }
  }
`);

export const AddRegistration = graphql(`
  mutation PricingAddRegistration($input: AddTaxRegistrationInput!) {
    addTaxRegistration(input: $input) { userErrors { code message field } }
  }
`);

export const SetRate = graphql(`
  mutation PricingSetRate($input: SetTaxRateInput!) {
    setTaxRate(input: $input) { userErrors { code message field } }
  }
`);

// --- helpers ---------------------------------------------------------------------------------------

export interface RateSpec {
  jurisdiction: string;
  name: string;
  rate: string;
  taxCategory?: string;
  inclusive?: boolean;
}

export async function taxSettings(key: string, registrations: string[], rates: RateSpec[]) {
  for (const jurisdiction of registrations) {
    const r = await api.exec(AddRegistration, { input: { jurisdiction } }, key);
    expect(r.addTaxRegistration.userErrors).toEqual([]);
  }
  for (const rate of rates) {
    const r = await api.exec(SetRate, { input: rate }, key);
    expect(r.setTaxRate.userErrors).toEqual([]);
  }
}

export type LineSpec = { amount: number; quantity?: number; name?: string; taxCategory?: string };

export function lines(currency: string, specs: LineSpec[]) {
  return specs.map((s, i) => ({
    name: s.name ?? `Line ${i + 1}`,
    quantity: s.quantity ?? 1,
    unitPriceMoney: { amount: s.amount, currency },
    ...(s.taxCategory ? { taxCategory: s.taxCategory } : {}),
  }));
}

export type PricedOrder = NonNullable<Awaited<ReturnType<typeof createOrder>>>;

export async function createOrder(key: string, input: { currency: string; lines: LineSpec[]; shippingAddress?: { country: string; region?: string | null } }) {
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
export function expectConsistent(order: {
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

export const lineTaxes = (o: PricedOrder) => o.lineItems.map((l) => l.taxMoney.amount);
export const lineTotals = (o: PricedOrder) => o.lineItems.map((l) => l.totalMoney.amount);
export const money = (amount: number, currency: string) => ({ amount, currency });
