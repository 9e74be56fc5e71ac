import { builder } from '../builder.js';

export interface MoneyShape {
  amount: bigint;
  currency: string;
}

export const money = (amount: bigint, currency: string): MoneyShape => ({ amount, currency });

export const Money = builder.objectRef<MoneyShape>('Money').implement({
  description:
    'An amount of money: an integer count of the currency\'s minor unit plus its ISO 4217 code. 1999 USD is $19.99; 500 JPY is ¥500; 1234 KWD is 1.234 KD.',
  fields: (t) => ({
    amount: t.field({ type: 'SafeInt', description: 'Integer count of the minor unit (never a float).', resolve: (m) => m.amount }),
    currency: t.exposeString('currency', { description: 'ISO 4217 currency code, upper case, e.g. "USD".' }),
  }),
});

export const MoneyInput = builder.inputType('MoneyInput', {
  description: 'An amount in minor units plus its ISO 4217 currency code, e.g. { amount: 1999, currency: "USD" } for $19.99.',
  fields: (t) => ({
    amount: t.field({ type: 'SafeInt', required: true, description: 'Integer count of the minor unit, e.g. 1999 for $19.99.' }),
    currency: t.string({ required: true, description: 'ISO 4217 code, e.g. "USD", "EUR", "JPY".' }),
  }),
});
