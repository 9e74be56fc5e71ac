// createRefund through the public GraphQL API, as a property: random orders and refund sequences never refund
// more than was paid, and finishing returns exactly what was paid.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { graphql } from '../generated/index.js';
import { api, CreateCoupon, merchant, paidOrder, refund, readOrder } from '../support/refunds.js';

const SetupVat = graphql(`
  mutation RefundsSetupVat {
    addTaxRegistration(input: { jurisdiction: "DE" }) { userErrors { code message } }
    setTaxRate(input: { jurisdiction: "DE", name: "Umsatzsteuer", rate: "0.19", inclusive: true }) { userErrors { code message } }
    food: setTaxRate(input: { jurisdiction: "DE", name: "Umsatzsteuer", rate: "0.07", inclusive: true, taxCategory: "food" }) { userErrors { code message } }
  }
`);

describe('property through the API (a smaller version of src/domain/refund-plan.property.test.ts)', () => {
  const lineArb = fc.record({ quantity: fc.integer({ min: 1, max: 4 }), price: fc.integer({ min: 1, max: 5000 }), food: fc.boolean() });
  const opArb = fc.oneof(
    fc.record({ kind: fc.constant('units' as const), line: fc.nat(), units: fc.integer({ min: 1, max: 3 }) }),
    fc.record({ kind: fc.constant('amount' as const), amount: fc.integer({ min: 1, max: 4000 }) }),
  );

  it('random orders and refund sequences: never more than paid; finishing returns exactly what was paid, tax exactly, netAmounts at zero', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(lineArb, { minLength: 1, maxLength: 3 }),
        fc.option(fc.constantFrom('10', '12.5', '33'), { nil: null }),
        fc.constantFrom('exclusive', 'inclusive'),
        fc.array(opArb, { maxLength: 6 }),
        async (lines, percentOff, tax, ops) => {
          const currency = tax === 'inclusive' ? 'EUR' : 'USD';
          let key: string;
          if (tax === 'inclusive') {
            key = (await api.signup({ originAddress: { country: 'DE' } })).key;
            const vat = await api.exec(SetupVat, {}, key);
            expect([...vat.addTaxRegistration.userErrors, ...vat.setTaxRate.userErrors, ...vat.food.userErrors]).toEqual([]);
          } else {
            key = (await merchant()).key;
          }
          if (percentOff) await api.exec(CreateCoupon, { input: { code: 'PROP', type: 'PERCENTAGE', percentOff } }, key);
          const { orderId, intentId, total, tax: charged } = await paidOrder(
            key,
            lines.map((l, i) => ({ name: `Line ${i}`, quantity: l.quantity, unitPriceMoney: { amount: l.price, currency }, taxCategory: l.food ? 'food' : 'general' })),
            { extra: percentOff ? { couponCodes: ['PROP'] } : {} },
          );
          const order = await readOrder(key, orderId);
          let refunded = 0;
          let refundedTax = 0;
          const step = async (input: Record<string, unknown>) => {
            const r = await refund(key, { paymentIntentId: intentId, ...input });
            if (r.userErrors.length > 0) {
              // More than is left; or nothing is left at all (REFUNDED orders take no more refunds).
              expect(r.userErrors.map((e) => e.code)).toEqual([refunded === total ? 'INVALID_STATE_TRANSITION' : 'REFUND_EXCEEDS_REFUNDABLE']);
              return null;
            }
            refunded += r.refund!.amountMoney.amount;
            refundedTax += r.refund!.taxMoney.amount;
            expect(refunded).toBeLessThanOrEqual(total);
            expect(r.order!.refundable.amountMoney.amount).toBe(total - refunded);
            expect(r.order!.netAmounts.balanceMoney.amount).toBe(0);
            return r;
          };
          for (const op of ops) {
            if (op.kind === 'units') {
              const line = order.lineItems[op.line % order.lineItems.length]!;
              await step({ lineItems: [{ lineItemId: line.id, quantity: Math.min(op.units, line.quantity) }] });
            } else {
              await step({ amountMoney: { amount: op.amount, currency } });
            }
          }
          // Finish: every unit left (as far as the payment covers it), then whatever amount is left.
          for (const line of (await readOrder(key, orderId)).lineItems) {
            if (line.refundableQuantity > 0) await step({ lineItems: [{ lineItemId: line.id, quantity: line.refundableQuantity }] });
          }
          const left = (await readOrder(key, orderId)).refundable.amountMoney.amount;
          if (left > 0) expect(await step({ amountMoney: { amount: left, currency } })).not.toBeNull();
          const final = await readOrder(key, orderId);
          expect(refunded).toBe(total);
          expect(refundedTax).toBe(charged);
          expect(final.status).toBe('REFUNDED');
          expect(final.netAmounts).toMatchObject({ taxMoney: { amount: 0 }, totalMoney: { amount: 0 }, refundedMoney: { amount: total }, balanceMoney: { amount: 0 } });
          if (ops.every((o) => o.kind === 'units')) expect(final.netAmounts).toMatchObject({ subtotalMoney: { amount: 0 }, discountMoney: { amount: 0 } });
        },
      ),
      { numRuns: 6 },
    );
  }, 120_000);
});
