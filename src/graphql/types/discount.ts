// Discounts and tax lines as the API shows them: the DiscountType enum, a line's share of a coupon, a
// coupon applied to an order, and one jurisdiction's tax on a line or an order.
import { builder } from '../builder.js';
import { Money, money } from './money.js';
import { storedTaxLines, type StoredTaxLine } from '../../orders/order-model.js';
import type { Prisma } from '../../generated/prisma/client.js';

export const DiscountTypeEnum = builder.enumType('DiscountType', {
  description: 'How a coupon takes money off.',
  values: {
    PERCENTAGE: { value: 'PERCENTAGE', description: 'A percentage of the eligible amount (percentOff).' },
    FIXED_AMOUNT: { value: 'FIXED_AMOUNT', description: 'A fixed amount (amountOffMoney), never more than the eligible amount.' },
  } as const,
});

export type TaxLineShape = StoredTaxLine & { currency: string };

export const TaxLine = builder.objectRef<TaxLineShape>('TaxLine').implement({
  description: 'Tax of one jurisdiction and rate, on a line item or on the whole order.',
  fields: (t) => ({
    name: t.exposeString('name', { description: 'Human name, e.g. "California sales tax".' }),
    jurisdiction: t.exposeString('jurisdiction', { description: 'Jurisdiction code, e.g. "US-CA" or "DE".' }),
    rate: t.exposeString('rate', { description: 'Decimal rate as a string, e.g. "0.0725".' }),
    inclusive: t.exposeBoolean('inclusive', { description: 'True when the tax is contained in the prices (VAT) rather than added on top.' }),
    taxableMoney: t.field({ type: Money, description: 'The amount taxed (gross minus discounts).', resolve: (x) => money(BigInt(x.taxable), x.currency) }),
    taxMoney: t.field({ type: Money, description: 'The tax.', resolve: (x) => money(BigInt(x.tax), x.currency) }),
  }),
});

export function taxLines(json: Prisma.JsonValue, currency: string): TaxLineShape[] {
  return storedTaxLines(json).map((x) => ({ ...x, currency }));
}

export interface DiscountJson {
  couponId: string;
  code: string;
  name?: string;
  type?: 'PERCENTAGE' | 'FIXED_AMOUNT';
  amount: number;
}

export const LineItemDiscount = builder.objectRef<DiscountJson & { currency: string }>('LineItemDiscount').implement({
  description: "This line's share of one coupon.",
  fields: (t) => ({
    code: t.string({ nullable: true, description: 'The coupon code.', resolve: (d) => d.code }),
    amountMoney: t.field({ type: Money, description: 'What the coupon took off this line.', resolve: (d) => money(BigInt(d.amount), d.currency) }),
  }),
});

export const AppliedDiscount = builder.objectRef<DiscountJson & { currency: string }>('AppliedDiscount').implement({
  description: 'A coupon applied to the order and what it took off.',
  fields: (t) => ({
    couponId: t.id({ nullable: true, description: 'The coupon (cpn_...).', resolve: (d) => d.couponId }),
    code: t.string({ nullable: true, description: 'The coupon code.', resolve: (d) => d.code }),
    name: t.string({ description: 'The coupon name.', resolve: (d) => d.name ?? d.code }),
    type: t.field({ type: DiscountTypeEnum, description: 'PERCENTAGE or FIXED_AMOUNT.', resolve: (d) => d.type ?? 'FIXED_AMOUNT' }),
    amountMoney: t.field({ type: Money, description: 'What this discount took off the order, net of refunds.', resolve: (d) => money(BigInt(d.amount), d.currency) }),
  }),
});

