// Shared setup of the payOrder tests (test/api/payments-sandbox-*.test.ts): importing it starts the test server
// for the importing file; typed documents and helpers to create and pay orders and read sandbox charges.
import { expect } from 'vitest';
import { graphql } from '../generated/index.js';
import { useTestApi } from './api.js';

export const api = useTestApi();

export const CreateOrder = graphql(`
  mutation PaymentsCreateOrder($input: CreateOrderInput!) {
    createOrder(input: $input) {
      order { id status netAmounts { totalMoney { amount currency } balanceMoney { amount } } }
      userErrors { code message field }
    }
  }
`);

export const PaymentFields = graphql(`
  fragment PaymentsIntentFields on PaymentIntent {
    id
    status
    processor
    processorReference
    failureCode
    declineCode
    failureMessage
    nextActionUrl
    receiptEmail
    customerId
    amountMoney { amount currency }
    refundableMoney { amount currency }
    order { id }
  }
`);
void PaymentFields;

export const PayOrder = graphql(`
  mutation PaymentsPayOrder($input: PayOrderInput!) {
    payOrder(input: $input) {
      order {
        id
        status
        version
        netAmounts { totalMoney { amount currency } paidMoney { amount currency } balanceMoney { amount currency } }
        availableActions { action }
      }
      paymentIntent { ...PaymentsIntentFields }
      userErrors { code message field }
    }
  }
`);

export const GetOrder = graphql(`
  query PaymentsGetOrder($id: ID!) {
    order(id: $id) {
      id
      status
      summary
      netAmounts { totalMoney { amount } paidMoney { amount } balanceMoney { amount } }
      paymentIntents { ...PaymentsIntentFields }
      activity { type idempotencyKey actor { type } delta }
    }
  }
`);

export const GetIntent = graphql(`
  query PaymentsGetIntent($id: ID!) {
    paymentIntent(id: $id) { ...PaymentsIntentFields }
    node(id: $id) { id ... on PaymentIntent { status } }
  }
`);

export async function newOrder(key: string, lines = [{ name: 'Organic Coffee Beans', quantity: 2, unitPriceMoney: { amount: 1999, currency: 'USD' } }], extra: Record<string, unknown> = {}) {
  const data = await api.exec(CreateOrder, { input: { lineItems: lines, ...extra } }, key);
  expect(data.createOrder.userErrors).toEqual([]);
  return data.createOrder.order!;
}

export async function pay(key: string, orderId: string, tokens: string[], extra: { buyerEmail?: string; idempotencyKey?: string } = {}) {
  const data = await api.exec(PayOrder, { input: { orderId, paymentSourceTokens: tokens, ...extra } }, key);
  return data.payOrder;
}

export async function chargesOf(orderId: string) {
  const rows = await api.db.sandboxCharge.findMany({ orderBy: { id: 'asc' } });
  return rows.filter((r) => (r.metadata as { flint_order_id?: string }).flint_order_id === orderId);
}
