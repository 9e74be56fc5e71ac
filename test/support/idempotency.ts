// Shared setup of the idempotency tests (test/api/idempotency-*.test.ts): importing it starts the test server
// for the importing file with a clock a test can move (`time.offsetMs`); typed documents and helpers.
import { expect } from 'vitest';
import { graphql } from '../generated/index.js';
import { useTestApi } from './api.js';
import type { Clock } from '../../src/kernel/context.js';

/** Real time plus an offset a test can move forward (keys are kept at least 24 hours). */
export const time = { offsetMs: 0 };
export const clock: Clock = { now: () => new Date(Date.now() + time.offsetMs) };
export const api = useTestApi({ clock });

export const OrderFields = graphql(`
  fragment IdemOrderFields on Order {
    id
    status
    version
    customerId
    lineItems { id name quantity totalMoney { amount } }
    netAmounts { subtotalMoney { amount } taxMoney { amount } totalMoney { amount currency } }
    activity { id type idempotencyKey }
  }
`);
void OrderFields;

export const CreateOrder = graphql(`
  mutation IdemCreate($input: CreateOrderInput!) {
    createOrder(input: $input) {
      order { ...IdemOrderFields }
      userErrors { code message field }
    }
  }
`);

export const AddLines = graphql(`
  mutation IdemAddLines($input: AddLineItemsInput!) {
    addLineItems(input: $input) {
      order { ...IdemOrderFields }
      userErrors { code message field }
    }
  }
`);

export const CancelOrder = graphql(`
  mutation IdemCancel($input: CancelOrderInput!) {
    cancelOrder(input: $input) {
      order { ...IdemOrderFields }
      userErrors { code message field }
    }
  }
`);

export const GetOrder = graphql(`
  query IdemGet($id: ID!) {
    order(id: $id) { ...IdemOrderFields }
  }
`);

// --- helpers ---------------------------------------------------------------------------------------

export const line = (name: string, amount: number, quantity = 1, currency = 'USD') => ({ name, quantity, unitPriceMoney: { amount, currency } });

export const orderInput = (idempotencyKey?: string, extra: Record<string, unknown> = {}) => ({
  customerId: 'cus_idem',
  buyerEmail: 'buyer@example.com',
  lineItems: [line('Beans', 1999, 2), line('Mug', 1450)],
  metadata: { cart: 'c_1' },
  ...(idempotencyKey !== undefined ? { idempotencyKey } : {}),
  ...extra,
});

export async function counts(merchantId: string) {
  const db = api.db;
  const [orders, lineItems, activity, keys] = await Promise.all([
    db.order.count({ where: { merchantId } }),
    db.lineItem.count({ where: { merchantId } }),
    db.activity.count({ where: { merchantId } }),
    db.idempotencyKey.count({ where: { merchantId } }),
  ]);
  return { orders, lineItems, activity, keys };
}

export async function createOk(key: string, input: Record<string, unknown>) {
  const data = await api.exec(CreateOrder, { input: input as never }, key);
  expect(data.createOrder.userErrors).toEqual([]);
  return data.createOrder.order!;
}

export async function getOrder(key: string, id: string) {
  const data = await api.exec(GetOrder, { id }, key);
  return data.order!;
}
