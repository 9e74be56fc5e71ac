// Shared setup of the order tests (test/api/orders-*.test.ts): importing it starts the test server for the
// importing file with a clock a test can pin (`time.pinnedNow`); typed documents and helpers to create and
// read orders, set up California tax and count rows.
import { expect } from 'vitest';
import { graphql } from '../generated/index.js';
import { useTestApi } from './api.js';
import type { Clock } from '../../src/kernel/context.js';

/** Real time unless a test pins it (createdAt filters need exact instants). */
export const time: { pinnedNow: Date | null } = { pinnedNow: null };
export const clock: Clock = { now: () => time.pinnedNow ?? new Date() };
export const api = useTestApi({ clock });

export const OrderFields = graphql(`
  fragment OrdersOrderFields on Order {
    id
    status
    currency
    customerId
    buyerEmail
    metadata
    version
    createdAt
    updatedAt
    summary
    shippingAddress { country region city postalCode line1 line2 }
    lineItems {
      id
      name
      sku
      quantity
      taxCategory
      metadata
      unitPriceMoney { amount currency }
      grossMoney { amount currency }
      discountMoney { amount }
      taxMoney { amount }
      totalMoney { amount currency }
      taxes { name jurisdiction rate inclusive taxableMoney { amount } taxMoney { amount } }
    }
    taxes { name jurisdiction rate inclusive taxableMoney { amount currency } taxMoney { amount currency } }
    netAmounts {
      subtotalMoney { amount currency }
      discountMoney { amount }
      taxMoney { amount }
      totalMoney { amount currency }
      paidMoney { amount }
      refundedMoney { amount }
      balanceMoney { amount }
    }
    availableActions { action mutation description }
    activity { id type orderId idempotencyKey delta actor { type id name } }
  }
`);
void OrderFields;

export const CreateOrder = graphql(`
  mutation OrdersCreate($input: CreateOrderInput!) {
    createOrder(input: $input) {
      order { ...OrdersOrderFields }
      userErrors { code message field }
    }
  }
`);

export const GetOrder = graphql(`
  query OrdersGet($id: ID!) {
    order(id: $id) { ...OrdersOrderFields }
  }
`);

export const ListOrders = graphql(`
  query OrdersList($filter: OrderFilter, $first: Int, $after: String) {
    orders(filter: $filter, first: $first, after: $after) {
      edges { cursor node { id customerId buyerEmail status createdAt } }
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    }
  }
`);

export const AddLines = graphql(`
  mutation OrdersAddLines($input: AddLineItemsInput!) {
    addLineItems(input: $input) {
      order { ...OrdersOrderFields }
      userErrors { code message field }
    }
  }
`);

export const UpdateLine = graphql(`
  mutation OrdersUpdateLine($input: UpdateLineItemInput!) {
    updateLineItem(input: $input) {
      order { ...OrdersOrderFields }
      userErrors { code message field }
    }
  }
`);

export const RemoveLine = graphql(`
  mutation OrdersRemoveLine($input: RemoveLineItemInput!) {
    removeLineItem(input: $input) {
      order { ...OrdersOrderFields }
      userErrors { code message field }
    }
  }
`);

export const SetShipping = graphql(`
  mutation OrdersSetShipping($input: SetShippingAddressInput!) {
    setShippingAddress(input: $input) {
      order { ...OrdersOrderFields }
      userErrors { code message field }
    }
  }
`);

export const CancelOrder = graphql(`
  mutation OrdersCancel($input: CancelOrderInput!) {
    cancelOrder(input: $input) {
      order { ...OrdersOrderFields }
      userErrors { code message field }
    }
  }
`);

export const AddRegistration = graphql(`
  mutation OrdersAddRegistration($input: AddTaxRegistrationInput!) {
    addTaxRegistration(input: $input) { userErrors { code message field } }
  }
`);

export const SetRate = graphql(`
  mutation OrdersSetRate($input: SetTaxRateInput!) {
    setTaxRate(input: $input) { userErrors { code message field } }
  }
`);

// --- helpers ---------------------------------------------------------------------------------------

export type Line = { name: string; quantity: number; amount: number; currency?: string; taxCategory?: string; sku?: string };

export const line = (l: Line) => ({
  name: l.name,
  quantity: l.quantity,
  unitPriceMoney: { amount: l.amount, currency: l.currency ?? 'USD' },
  ...(l.taxCategory ? { taxCategory: l.taxCategory } : {}),
  ...(l.sku ? { sku: l.sku } : {}),
});

export async function create(key: string, input: Record<string, unknown>) {
  const data = await api.exec(CreateOrder, { input: input as never }, key);
  expect(data.createOrder.userErrors).toEqual([]);
  const order = data.createOrder.order;
  if (!order) throw new Error('createOrder returned no order');
  return order;
}

export async function createSimple(key: string, extra: Record<string, unknown> = {}, lines: ReturnType<typeof line>[] = [line({ name: 'Widget', quantity: 1, amount: 1000 })]) {
  return create(key, { lineItems: lines, ...extra });
}

export async function getOrder(key: string, id: string) {
  const data = await api.exec(GetOrder, { id }, key);
  if (!data.order) throw new Error(`order ${id} not readable`);
  return data.order;
}

export async function californiaTax(key: string, rate = '0.0725') {
  const reg = await api.exec(AddRegistration, { input: { jurisdiction: 'US-CA' } }, key);
  expect(reg.addTaxRegistration.userErrors).toEqual([]);
  const r = await api.exec(SetRate, { input: { jurisdiction: 'US-CA', name: 'California sales tax', rate } }, key);
  expect(r.setTaxRate.userErrors).toEqual([]);
}

export async function counts(merchantId: string) {
  const db = api.db;
  const [orders, lineItems, activity] = await Promise.all([
    db.order.count({ where: { merchantId } }),
    db.lineItem.count({ where: { merchantId } }),
    db.activity.count({ where: { merchantId } }),
  ]);
  return { orders, lineItems, activity };
}

export type Delta = { before: Record<string, unknown> | null; after: Record<string, unknown> | null };

export const CA = { country: 'US', region: 'CA' };
