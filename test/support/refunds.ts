// Shared setup of the refund tests (test/api/refunds-*.test.ts): importing it starts the test server for the
// importing file; typed documents and helpers to set up tax, pay orders, refund and read refunds.
import { expect } from 'vitest';
import { graphql } from '../generated/index.js';
import { useTestApi } from './api.js';

export const api = useTestApi();

export const SetupTax = graphql(`
  mutation RefundsSetupTax($rate: String!) {
    addTaxRegistration(input: { jurisdiction: "US-CA" }) { userErrors { code message } }
    setTaxRate(input: { jurisdiction: "US-CA", name: "California sales tax", rate: $rate }) { userErrors { code message } }
  }
`);

export const CreateOrder = graphql(`
  mutation RefundsCreateOrder($input: CreateOrderInput!) {
    createOrder(input: $input) { order { id netAmounts { totalMoney { amount } taxMoney { amount } } } userErrors { code message } }
  }
`);

export const PayOrder = graphql(`
  mutation RefundsPayOrder($input: PayOrderInput!) {
    payOrder(input: $input) { order { status } paymentIntent { id status amountMoney { amount } } userErrors { code message } }
  }
`);

export const CreateCoupon = graphql(`
  mutation RefundsCreateCoupon($input: CreateCouponInput!) {
    createCoupon(input: $input) { coupon { id } userErrors { code message } }
  }
`);

export const OrderFields = graphql(`
  fragment RefundsOrderFields on Order {
    id
    status
    summary
    netAmounts {
      subtotalMoney { amount currency }
      discountMoney { amount }
      taxMoney { amount }
      totalMoney { amount }
      paidMoney { amount }
      refundedMoney { amount }
      balanceMoney { amount }
    }
    lineItems { id name quantity refundedQuantity refundableQuantity refundableMoney { amount } totalMoney { amount } taxMoney { amount } }
    refundable { amountMoney { amount currency } lineItems { lineItem { id } quantity amountMoney { amount } } }
    paymentIntents { id refundableMoney { amount } refunds { id } }
    refunds { id status amountMoney { amount } }
    availableActions { action }
    activity { type delta idempotencyKey actor { type } }
  }
`);
void OrderFields;

export const RefundFields = graphql(`
  fragment RefundsRefundFields on Refund {
    id
    status
    reason
    processorReference
    failureReason
    amountMoney { amount currency }
    taxMoney { amount currency }
    lineItems { lineItem { id name } quantity amountMoney { amount } grossMoney { amount } discountMoney { amount } taxMoney { amount } }
    paymentIntent { id }
    order { id }
  }
`);
void RefundFields;

export const CreateRefund = graphql(`
  mutation RefundsCreateRefund($input: CreateRefundInput!) {
    createRefund(input: $input) {
      refund { ...RefundsRefundFields }
      order { ...RefundsOrderFields }
      userErrors { code message field }
    }
  }
`);

export const Preview = graphql(`
  query RefundsPreview($input: RefundPreviewInput!) {
    refundPreview(input: $input) {
      amountMoney { amount currency }
      taxMoney { amount currency }
      lineItems { lineItem { id name } quantity amountMoney { amount } grossMoney { amount } discountMoney { amount } taxMoney { amount } }
      resultingStatus
      resultingNetAmounts { subtotalMoney { amount } discountMoney { amount } taxMoney { amount } totalMoney { amount } paidMoney { amount } refundedMoney { amount } balanceMoney { amount } }
      userErrors { code message field }
    }
  }
`);

export const GetOrder = graphql(`
  query RefundsGetOrder($id: ID!) {
    order(id: $id) { ...RefundsOrderFields }
  }
`);

export const GetRefund = graphql(`
  query RefundsGetRefund($id: ID!) {
    refund(id: $id) { ...RefundsRefundFields }
    node(id: $id) { id ... on Refund { status } }
  }
`);

export const CloseOrder = graphql(`
  mutation RefundsCloseOrder($input: CloseOrderInput!) {
    closeOrder(input: $input) { order { id status availableActions { action } } userErrors { code message field } }
  }
`);

export const SARAH_LINES = [
  { name: 'Organic Coffee Beans', sku: 'COFFEE-1KG', quantity: 2, unitPriceMoney: { amount: 1999, currency: 'USD' } },
  { name: 'Ceramic Pour-Over Mug', sku: 'MUG-01', quantity: 1, unitPriceMoney: { amount: 2400, currency: 'USD' } },
];

/** A merchant in California collecting 7.25 % (the seed's setup). */
export async function merchant(rate = '0.0725') {
  const m = await api.signup({ originAddress: { country: 'US', region: 'CA' } });
  const setup = await api.exec(SetupTax, { rate }, m.key);
  expect([...setup.addTaxRegistration.userErrors, ...setup.setTaxRate.userErrors]).toEqual([]);
  return m;
}

export async function paidOrder(key: string, lines: unknown[] = SARAH_LINES, options: { token?: string; extra?: Record<string, unknown> } = {}) {
  const created = await api.exec(CreateOrder, { input: { buyerEmail: 'sarah@example.com', lineItems: lines as never, ...options.extra } }, key);
  expect(created.createOrder.userErrors).toEqual([]);
  const order = created.createOrder.order!;
  const paid = await api.exec(PayOrder, { input: { orderId: order.id, paymentSourceTokens: [options.token ?? 'tok_visa'] } }, key);
  expect(paid.payOrder.userErrors).toEqual([]);
  expect(paid.payOrder.order!.status).toBe('PAID');
  return { orderId: order.id, intentId: paid.payOrder.paymentIntent!.id, total: order.netAmounts.totalMoney.amount, tax: order.netAmounts.taxMoney.amount };
}

export async function refund(key: string, input: Record<string, unknown>) {
  return (await api.exec(CreateRefund, { input: { reason: 'REFUND_REASON_REQUESTED_BY_CUSTOMER', ...input } as never }, key)).createRefund;
}

export async function readOrder(key: string, id: string) {
  return (await api.exec(GetOrder, { id }, key)).order!;
}

export async function sandboxRefundsOf(intentId: string) {
  const rows = await api.db.sandboxRefund.findMany({ orderBy: { id: 'asc' } });
  return rows.filter((r) => (r.metadata as { flint_payment_intent_id?: string }).flint_payment_intent_id === intentId);
}
