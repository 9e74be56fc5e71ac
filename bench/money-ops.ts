// The money-flow mutations as the benchmarks send them (bench/money-flow.ts, bench/sql-count-mutations.ts):
// one document per mutation, all selecting the same order fields as createOrder's benchmark
// (lib.ts orderSelection), their inputs, and the check every response goes through.
import { randomUUID } from 'node:crypto';
import { type GraphQLClient, type HttpResult, createOrderInput, orderSelection } from './lib.js';

const ORDER = `order {
      ${orderSelection()}
    }`;
const USER_ERRORS = 'userErrors { code message field }';

/** The coupon of the benchmarks: 10 % off the whole order, no dates, no limits, created at setup. */
export const COUPON_CODE = 'BENCH10';

export const CREATE_COUPON = `mutation BenchCoupon($input: CreateCouponInput!) {
  createCoupon(input: $input) { coupon { id code } ${USER_ERRORS} }
}`;
export const PAY_ORDER = `mutation BenchPay($input: PayOrderInput!) {
  payOrder(input: $input) { ${ORDER} paymentIntent { id status amountMoney { amount } } ${USER_ERRORS} }
}`;
export const CREATE_REFUND = `mutation BenchRefund($input: CreateRefundInput!) {
  createRefund(input: $input) { ${ORDER} refund { id status amountMoney { amount } } ${USER_ERRORS} }
}`;
export const ADD_LINE_ITEMS = `mutation BenchAddLines($input: AddLineItemsInput!) {
  addLineItems(input: $input) { ${ORDER} ${USER_ERRORS} }
}`;
export const APPLY_COUPON = `mutation BenchApplyCoupon($input: ApplyCouponInput!) {
  applyCoupon(input: $input) { ${ORDER} ${USER_ERRORS} }
}`;
export const CANCEL_ORDER = `mutation BenchCancel($input: CancelOrderInput!) {
  cancelOrder(input: $input) { ${ORDER} ${USER_ERRORS} }
}`;
export const CLOSE_ORDER = `mutation BenchClose($input: CloseOrderInput!) {
  closeOrder(input: $input) { ${ORDER} ${USER_ERRORS} }
}`;

export const couponInput = () => ({ code: COUPON_CODE, name: 'Bench 10 % off', type: 'PERCENTAGE', percentOff: '10' });
export const createOrderWithCouponInput = (i = 0) => ({ ...createOrderInput(i), couponCodes: [COUPON_CODE] });
/** payOrder with the sandbox's always-succeeding card and, as a real client would, an idempotency key. */
export const payInput = (orderId: string) => ({ orderId, paymentSourceTokens: ['tok_visa'], idempotencyKey: randomUUID() });
/** One unit of one line, with an idempotency key. */
export const refundInput = (paymentIntentId: string, lineItemId: string) => ({
  paymentIntentId,
  lineItems: [{ lineItemId, quantity: 1 }],
  reason: 'REFUND_REASON_REQUESTED_BY_CUSTOMER',
  idempotencyKey: randomUUID(),
});
export const addLineInput = (orderId: string, expectedVersion: number) => ({
  orderId,
  expectedVersion,
  lineItems: [{ name: 'Gift wrap', sku: 'WRAP-01', quantity: 1, unitPriceMoney: { amount: 350, currency: 'USD' } }],
});
export const applyCouponInput = (orderId: string, expectedVersion: number) => ({ orderId, expectedVersion, code: COUPON_CODE });
export const cancelInput = (orderId: string) => ({ orderId, reason: 'bench' });
export const closeInput = (orderId: string) => ({ orderId });

/** Creates the benchmark coupon for the merchant of `key`. */
export async function createBenchCoupon(client: GraphQLClient, key: string): Promise<void> {
  await client.exec(CREATE_COUPON, { input: couponInput() }, key, 'createCoupon');
}

/**
 * Checks one response: HTTP 200, JSON, no GraphQL errors, `payload` present with empty userErrors.
 * Returns the payload; throws with what was wrong (and the start of the body) otherwise.
 */
export function checked(res: HttpResult, payload: string): any {
  let json: { data?: Record<string, any> | null; errors?: unknown[] };
  try {
    json = JSON.parse(res.body);
  } catch {
    throw new Error(`${payload}: HTTP ${res.status}, not JSON: ${res.body.slice(0, 300)}`);
  }
  if (res.status !== 200 || json.errors?.length) throw new Error(`${payload}: HTTP ${res.status}, errors: ${res.body.slice(0, 500)}`);
  const data = json.data?.[payload];
  if (!data) throw new Error(`${payload}: no payload in ${res.body.slice(0, 300)}`);
  if (!Array.isArray(data.userErrors) || data.userErrors.length > 0) throw new Error(`${payload}: userErrors ${JSON.stringify(data.userErrors)}`);
  return data;
}

/** Throws unless `ok`: a response that has no userErrors but not the expected effect also fails. */
export function expect(ok: boolean, what: string, payload: unknown): void {
  if (!ok) throw new Error(`${what}; got ${JSON.stringify(payload).slice(0, 400)}`);
}
