// No double charge under races: many payOrder calls on one order at the same moment, with and without
// idempotency keys, charge exactly once at the processor, mark the order PAID once and record one
// payment.captured. Repeated, since a race that passes once proves little.
import { describe, expect, it } from 'vitest';
import { graphql } from '../generated/index.js';
import { useTestApi } from '../support/api.js';

const api = useTestApi();

const CreateOrder = graphql(`
  mutation PaymentsRaceCreateOrder($input: CreateOrderInput!) {
    createOrder(input: $input) { order { id netAmounts { totalMoney { amount } } } userErrors { code } }
  }
`);

const PayOrder = graphql(`
  mutation PaymentsRacePayOrder($input: PayOrderInput!) {
    payOrder(input: $input) {
      order { id status version netAmounts { paidMoney { amount } balanceMoney { amount } } paymentIntents { id status } }
      paymentIntent { id status amountMoney { amount currency } processorReference }
      userErrors { code message field }
    }
  }
`);

const GetOrder = graphql(`
  query PaymentsRaceGetOrder($id: ID!) {
    order(id: $id) {
      status
      netAmounts { totalMoney { amount } paidMoney { amount } balanceMoney { amount } }
      paymentIntents { id status }
      activity { type delta }
    }
  }
`);

async function setup() {
  const { key } = await api.signup();
  const data = await api.exec(
    CreateOrder,
    { input: { lineItems: [{ name: 'Coffee', quantity: 3, unitPriceMoney: { amount: 1250, currency: 'EUR' } }] } },
    key,
  );
  return { key, orderId: data.createOrder.order!.id, total: data.createOrder.order!.netAmounts.totalMoney.amount };
}

async function chargesOf(orderId: string) {
  const rows = await api.db.sandboxCharge.findMany();
  return rows.filter((r) => (r.metadata as { flint_order_id?: string }).flint_order_id === orderId);
}

async function expectPaidOnce(key: string, orderId: string, total: number) {
  const charges = await chargesOf(orderId);
  expect(charges.filter((c) => c.status === 'SUCCEEDED')).toHaveLength(1);
  expect(charges).toHaveLength(1);
  const order = (await api.exec(GetOrder, { id: orderId }, key)).order!;
  expect(order.status).toBe('PAID');
  expect(order.netAmounts.paidMoney.amount).toBe(total);
  expect(order.netAmounts.balanceMoney.amount).toBe(0);
  expect(order.paymentIntents.filter((p) => p.status === 'SUCCEEDED')).toHaveLength(1);
  expect(order.paymentIntents).toHaveLength(1);
  expect(order.activity.filter((a) => a.type === 'payment.captured')).toHaveLength(1);
  expect(order.activity.filter((a) => a.type === 'order.status_changed')).toHaveLength(1);
}

describe('payOrder races', () => {
  for (let round = 1; round <= 3; round++) {
    it(`50 concurrent payOrder calls without keys on one order charge exactly once (round ${round})`, async () => {
      const { key, orderId, total } = await setup();
      const results = await Promise.all(
        Array.from({ length: 50 }, (_, i) => api.exec(PayOrder, { input: { orderId, paymentSourceTokens: [i % 2 ? 'tok_visa' : 'tok_mastercard'] } }, key)),
      );
      const payloads = results.map((r) => r.payOrder);
      const winners = payloads.filter((p) => p.userErrors.length === 0);
      expect(winners).toHaveLength(1);
      expect(winners[0]!.paymentIntent!.status).toBe('SUCCEEDED');
      expect(winners[0]!.paymentIntent!.amountMoney).toEqual({ amount: total, currency: 'EUR' });
      for (const p of payloads.filter((x) => x.userErrors.length > 0)) {
        // The others learn the order is paid (or, at worst, that a payment is still in progress) — never charged.
        expect(['NOTHING_TO_PAY', 'PAYMENT_FAILED']).toContain(p.userErrors[0]!.code);
        expect(p.paymentIntent).toBeNull();
      }
      await expectPaidOnce(key, orderId, total);
    });
  }

  it('50 concurrent calls with 50 different idempotency keys charge exactly once', async () => {
    const { key, orderId, total } = await setup();
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) => api.exec(PayOrder, { input: { orderId, paymentSourceTokens: ['tok_visa'], idempotencyKey: `race-key-${orderId}-${i}` } }, key)),
    );
    expect(results.filter((r) => r.payOrder.userErrors.length === 0)).toHaveLength(1);
    await expectPaidOnce(key, orderId, total);
  });

  for (let round = 1; round <= 3; round++) {
    it(`20 concurrent identical calls with one idempotency key: one effect, the same payload (round ${round})`, async () => {
      const { key, orderId, total } = await setup();
      const input = { orderId, paymentSourceTokens: ['tok_chargeDeclined', 'tok_visa'], idempotencyKey: `same-key-${orderId}` };
      const results = await Promise.all(Array.from({ length: 20 }, () => api.request(PayOrder, { input }, key)));
      for (const r of results) expect(r.errors).toBeUndefined();
      const first = JSON.stringify(results[0]!.data);
      for (const r of results) expect(JSON.stringify(r.data)).toBe(first);
      const payload = results[0]!.data!.payOrder;
      expect(payload.userErrors).toEqual([]);
      expect(payload.order!.status).toBe('PAID');
      expect(payload.paymentIntent!.status).toBe('SUCCEEDED');
      const charges = await chargesOf(orderId);
      expect(charges.map((c) => c.status).sort()).toEqual(['FAILED', 'SUCCEEDED']);
      const order = (await api.exec(GetOrder, { id: orderId }, key)).order!;
      expect(order.paymentIntents.map((p) => p.status)).toEqual(['FAILED', 'SUCCEEDED']);
      expect(order.netAmounts.paidMoney.amount).toBe(total);
      expect(order.activity.filter((a) => a.type === 'payment.captured')).toHaveLength(1);
    });
  }

  it('keyed and unkeyed calls racing together still charge once', async () => {
    const { key, orderId, total } = await setup();
    const calls = Array.from({ length: 30 }, (_, i) =>
      api.exec(PayOrder, { input: { orderId, paymentSourceTokens: ['tok_visa'], ...(i % 3 === 0 ? { idempotencyKey: `mixed-${orderId}` } : {}) } }, key),
    );
    await Promise.all(calls);
    await expectPaidOnce(key, orderId, total);
  });
});
