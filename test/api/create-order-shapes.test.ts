// createOrder with and without coupon codes takes the one write path: the rows it writes (Order,
// LineItem, Activity) have the same shape either way — the same columns, the same kinds of values —
// and differ only where the coupon does (discount amounts, the discounts JSON, the OrderCoupon rows).
import { describe, expect, it } from 'vitest';
import { graphql } from '../generated/index.js';
import { useTestApi } from '../support/api.js';

const api = useTestApi();

const Create = graphql(`
  mutation ShapesCreate($input: CreateOrderInput!) {
    createOrder(input: $input) { order { id } userErrors { code message } }
  }
`);

const CreateCoupon = graphql(`
  mutation ShapesCreateCoupon($input: CreateCouponInput!) {
    createCoupon(input: $input) { coupon { id } userErrors { code message } }
  }
`);

/** Each column's kind of value: null, or its JS type (Date, bigint, number, string, object, ...). */
function shape(row: Record<string, unknown>): Record<string, string> {
  return Object.fromEntries(Object.entries(row).map(([k, v]) => [k, v === null ? 'null' : v instanceof Date ? 'Date' : Array.isArray(v) ? 'array' : typeof v]));
}

function without<T extends Record<string, unknown>>(row: T, keys: string[]): Record<string, unknown> {
  return Object.fromEntries(Object.entries(row).filter(([k]) => !keys.includes(k)));
}

describe('createOrder with and without coupons', () => {
  it('writes rows and activity of the same shape; only the discount columns and OrderCoupon rows differ', async () => {
    const { key } = await api.signup({ originAddress: { country: 'US', region: 'CA' } });
    const coupon = await api.exec(CreateCoupon, { input: { code: 'SHAPE10', type: 'PERCENTAGE', percentOff: '10' } }, key);
    expect(coupon.createCoupon.userErrors).toEqual([]);
    const input = {
      buyerEmail: 'shape@example.com',
      customerId: 'cus_shape',
      shippingAddress: { country: 'US', region: 'CA', postalCode: '94103' },
      metadata: { channel: 'web' },
      lineItems: [
        { name: 'Coffee', sku: 'COFFEE-1', quantity: 2, unitPriceMoney: { amount: 1999, currency: 'USD' }, metadata: { roast: 'dark' } },
        { name: 'Mug', quantity: 1, unitPriceMoney: { amount: 2400, currency: 'USD' } },
      ],
    };
    const plain = (await api.exec(Create, { input }, key)).createOrder.order!.id;
    const discounted = (await api.exec(Create, { input: { ...input, couponCodes: ['shape10'] } }, key)).createOrder.order!.id;

    const read = async (id: string) => {
      const order = await api.db.order.findUniqueOrThrow({ where: { id } });
      const lines = await api.db.lineItem.findMany({ where: { orderId: id }, orderBy: { position: 'asc' } });
      const activity = await api.db.activity.findMany({ where: { orderId: id }, orderBy: { sequence: 'asc' } });
      const coupons = await api.db.orderCoupon.findMany({ where: { orderId: id } });
      return { order, lines, activity, coupons };
    };
    const a = await read(plain);
    const b = await read(discounted);

    expect(shape(b.order)).toEqual(shape(a.order));
    const unaffected = ['id', 'createdAt', 'updatedAt', 'discountAmount', 'taxAmount', 'exclusiveTaxAmount', 'totalAmount', 'taxes', 'discounts'];
    expect(without(b.order, unaffected)).toEqual(without(a.order, unaffected));
    expect(a.order.discountAmount).toBe(0n);
    expect(b.order.discountAmount).toBeGreaterThan(0n);
    expect(b.lines.map(shape)).toEqual(a.lines.map(shape));
    const lineUnaffected = ['id', 'orderId', 'createdAt', 'discountAmount', 'taxAmount', 'exclusiveTaxAmount', 'totalAmount', 'discounts', 'taxes'];
    expect(b.lines.map((l) => without(l, lineUnaffected))).toEqual(a.lines.map((l) => without(l, lineUnaffected)));

    // One order.created entry each, of the same shape; only the coupons and the amounts differ.
    expect(a.activity.map((r) => r.type)).toEqual(['order.created']);
    expect(b.activity.map((r) => r.type)).toEqual(['order.created']);
    expect(shape(b.activity[0]!)).toEqual(shape(a.activity[0]!));
    const after = (r: { delta: unknown }) => (r.delta as { after: Record<string, unknown> }).after;
    expect(Object.keys(after(b.activity[0]!)).sort()).toEqual(Object.keys(after(a.activity[0]!)).sort());
    expect(after(a.activity[0]!).coupons).toEqual([]);
    expect(after(b.activity[0]!).coupons).toEqual(['SHAPE10']);
    expect(a.coupons).toEqual([]);
    expect(b.coupons.map((c) => [c.couponId, c.position])).toEqual([[coupon.createCoupon.coupon!.id, 0]]);
  });
});
