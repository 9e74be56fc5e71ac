// Shared setup of the order input-validation tests (test/api/order-validation-*.test.ts): importing it starts
// the test server for the importing file; typed documents, row counts (a refusal writes nothing) and input helpers.
import { expect } from 'vitest';
import { graphql } from '../generated/index.js';
import { useTestApi } from './api.js';

export const api = useTestApi();

export const CreateOrder = graphql(`
  mutation ValidationCreate($input: CreateOrderInput!) {
    createOrder(input: $input) {
      order { id currency version lineItems { id quantity } netAmounts { subtotalMoney { amount } totalMoney { amount } } }
      userErrors { code message field }
    }
  }
`);

export const AddLines = graphql(`
  mutation ValidationAddLines($input: AddLineItemsInput!) {
    addLineItems(input: $input) {
      order { id version lineItems { id } }
      userErrors { code message field }
    }
  }
`);

// --- helpers ---------------------------------------------------------------------------------------

export type LineInput = {
  name: string;
  quantity: number;
  unitPriceMoney: { amount: number; currency: string };
  sku?: string;
  taxCategory?: string;
  metadata?: unknown;
};

export const line = (over: Partial<LineInput> = {}): LineInput => ({ name: 'Widget', quantity: 1, unitPriceMoney: { amount: 1000, currency: 'USD' }, ...over });

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

export async function expectCreated(key: string, input: Record<string, unknown>) {
  const data = await api.exec(CreateOrder, { input: input as never }, key);
  expect(data.createOrder.userErrors).toEqual([]);
  expect(data.createOrder.order).not.toBeNull();
  return data.createOrder.order!;
}

export const Q = (i: number, ...rest: string[]) => ['input', 'lineItems', String(i), ...rest];
