// Coupons and payments together: a redemption counts only when the order is paid (pricing.md §4), and
// an order cannot be canceled while a charge is still in flight.
import { describe, expect, it } from 'vitest';
import { graphql } from '../generated/index.js';
import { useTestApi } from '../support/api.js';

const api = useTestApi();

const Create = graphql(`
  mutation PayCouponCreateOrder($input: CreateOrderInput!) {
    createOrder(input: $input) { order { id netAmounts { totalMoney { amount } discountMoney { amount } } } userErrors { code message field } }
  }
`);
const Coupon = graphql(`
  mutation PayCouponCreateCoupon($input: CreateCouponInput!) {
    createCoupon(input: $input) { coupon { id } userErrors { code message } }
  }
`);
const ReadCoupon = graphql(`
  query PayCouponRead($code: String!) { coupon(code: $code) { timesRedeemed maxRedemptions } }
`);
const Pay = graphql(`
  mutation PayCouponPay($input: PayOrderInput!) {
    payOrder(input: $input) { order { status } paymentIntent { id status } userErrors { code message field } }
  }
`);
const Cancel = graphql(`
  mutation PayCouponCancel($input: CancelOrderInput!) {
    cancelOrder(input: $input) { order { status } userErrors { code message } }
  }
`);

const coffee = [{ name: 'Organic Coffee Beans', quantity: 2, unitPriceMoney: { amount: 1999, currency: 'USD' } }];

describe('coupon redemptions follow the payment', () => {
  it('a declined payment gives the coupon use back, so another order can redeem the last one', async () => {
    const { key } = await api.signup();
    const made = await api.exec(Coupon, { input: { code: 'ONLYONE', type: 'PERCENTAGE', percentOff: '10', maxRedemptions: 1 } }, key);
    expect(made.createCoupon.userErrors).toEqual([]);
    const a = (await api.exec(Create, { input: { lineItems: coffee, couponCodes: ['ONLYONE'], buyerEmail: 'a@example.com' } }, key)).createOrder.order!;
    const b = (await api.exec(Create, { input: { lineItems: coffee, couponCodes: ['ONLYONE'], buyerEmail: 'b@example.com' } }, key)).createOrder.order!;
    expect(a.netAmounts.discountMoney.amount).toBe(400);

    const declined = (await api.exec(Pay, { input: { orderId: a.id, paymentSourceTokens: ['tok_chargeDeclined'] } }, key)).payOrder;
    expect(declined.userErrors.map((e) => e.code)).toEqual(['PAYMENT_DECLINED']);
    expect(declined.order?.status).toBe('OPEN');
    expect((await api.exec(ReadCoupon, { code: 'ONLYONE' }, key)).coupon?.timesRedeemed).toBe(0);

    const paid = (await api.exec(Pay, { input: { orderId: b.id, paymentSourceTokens: ['tok_visa'] } }, key)).payOrder;
    expect(paid.userErrors).toEqual([]);
    expect(paid.order?.status).toBe('PAID');
    expect((await api.exec(ReadCoupon, { code: 'ONLYONE' }, key)).coupon?.timesRedeemed).toBe(1);

    // Now the single use is taken: order A can no longer pay with it.
    const again = (await api.exec(Pay, { input: { orderId: a.id, paymentSourceTokens: ['tok_visa'] } }, key)).payOrder;
    expect(again.userErrors.map((e) => e.code)).toEqual(['COUPON_USAGE_LIMIT_REACHED']);
    expect((await api.exec(ReadCoupon, { code: 'ONLYONE' }, key)).coupon?.timesRedeemed).toBe(1);
  });

  it('a per-customer limit uses the buyerEmail given to payOrder when the order has none', async () => {
    const { key } = await api.signup();
    await api.exec(Coupon, { input: { code: 'PERBUYER', type: 'PERCENTAGE', percentOff: '10', maxRedemptionsPerCustomer: 1 } }, key);
    const order = (await api.exec(Create, { input: { lineItems: coffee, couponCodes: ['PERBUYER'] } }, key)).createOrder.order!;
    const paid = (await api.exec(Pay, { input: { orderId: order.id, paymentSourceTokens: ['tok_visa'], buyerEmail: 'sam@example.com' } }, key)).payOrder;
    expect(paid.userErrors).toEqual([]);
    expect(paid.order?.status).toBe('PAID');
  });
});

describe('cancel while a charge is in flight', () => {
  it('refuses to cancel an order waiting for 3-D Secure, naming what to do', async () => {
    const { key } = await api.signup();
    const order = (await api.exec(Create, { input: { lineItems: coffee } }, key)).createOrder.order!;
    const pending = (await api.exec(Pay, { input: { orderId: order.id, paymentSourceTokens: ['tok_threeDSecure2Required'] } }, key)).payOrder;
    expect(pending.paymentIntent?.status).toBe('REQUIRES_ACTION');
    const cancel = (await api.exec(Cancel, { input: { orderId: order.id } }, key)).cancelOrder;
    expect(cancel.order).toBeNull();
    expect(cancel.userErrors[0]?.code).toBe('INVALID_STATE_TRANSITION');
    expect(cancel.userErrors[0]?.message).toMatch(/in progress/);
  });
});
