// Guarantees of createRefund on the one write path, through the public API: limits hold exactly when
// line and amount refunds race on one order; a call's final result is stored with its outcome (its
// idempotency key is never left pending once it answered, and settlePendingKeys' recovery finishes one
// a dead process left pending); closeOrder racing createRefund never leaves a CLOSED order with a
// PENDING refund (reserving a refund bumps the order's version).
import { describe, expect, it } from 'vitest';
import { graphql } from '../generated/index.js';
import { useTestApi } from '../support/api.js';
import { testDatabaseUrl } from '../support/db.js';
import { createPrisma } from '../../src/db/prisma.js';
import { SandboxProcessor } from '../../src/payments/sandbox.js';
import type { RefundRequest, RefundResult } from '../../src/kernel/processor.js';
import { recoverCreateRefund } from '../../src/refunds/index.js';
import { DelegatingProcessor } from '../support/delegating-processor.js';
import { systemClock } from '../../src/kernel/context.js';

/** The sandbox, with refunds that take a while (so a refund stays PENDING while other calls run). */
class SlowRefunds extends DelegatingProcessor {
  delayMs = 0;
  override async createRefund(request: RefundRequest): Promise<RefundResult> {
    if (this.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, this.delayMs));
    return this.inner.createRefund(request);
  }
}

const processor = new SlowRefunds(new SandboxProcessor(createPrisma(testDatabaseUrl()), { publicUrl: () => 'http://127.0.0.1' }));
const api = useTestApi({ deps: { paymentProcessor: processor } });

const CreateOrder = graphql(`
  mutation RefundsWritePathCreateOrder($input: CreateOrderInput!) {
    createOrder(input: $input) { order { id lineItems { id } } userErrors { code } }
  }
`);

const PayOrder = graphql(`
  mutation RefundsWritePathPayOrder($input: PayOrderInput!) {
    payOrder(input: $input) { order { netAmounts { paidMoney { amount } } } paymentIntent { id } userErrors { code } }
  }
`);

const CreateRefund = graphql(`
  mutation RefundsWritePathCreateRefund($input: CreateRefundInput!) {
    createRefund(input: $input) { refund { id status amountMoney { amount } } userErrors { code } }
  }
`);

const CloseOrder = graphql(`
  mutation RefundsWritePathCloseOrder($input: CloseOrderInput!) {
    closeOrder(input: $input) { order { status } userErrors { code } }
  }
`);

const GetOrder = graphql(`
  query RefundsWritePathGetOrder($id: ID!) {
    order(id: $id) {
      status
      netAmounts { refundedMoney { amount } }
      refundable { amountMoney { amount } }
      lineItems { refundedQuantity refundableQuantity }
      refunds { id status amountMoney { amount } }
    }
  }
`);

async function paid(key: string, lines: { name: string; quantity: number; unitPriceMoney: { amount: number; currency: string } }[]) {
  const created = (await api.exec(CreateOrder, { input: { lineItems: lines } }, key)).createOrder.order!;
  const result = (await api.exec(PayOrder, { input: { orderId: created.id, paymentSourceTokens: ['tok_visa'] } }, key)).payOrder;
  expect(result.userErrors).toEqual([]);
  return { orderId: created.id, lineIds: created.lineItems.map((l) => l.id), intentId: result.paymentIntent!.id, paid: result.order!.netAmounts.paidMoney.amount };
}

async function ledgerSum(intentId: string): Promise<bigint> {
  const rows = await api.db.sandboxRefund.findMany();
  return rows.filter((r) => (r.metadata as { flint_payment_intent_id?: string }).flint_payment_intent_id === intentId).reduce((s, r) => s + r.amount, 0n);
}

describe('line and amount refunds racing on one order', () => {
  // Every unit and every amount refund is 250: whatever wins, what succeeds is exactly min(requested, refundable).
  for (const calls of [12, 40]) {
    it(`${calls} concurrent calls, half 1-unit line refunds and half amount refunds of one unit's worth`, async () => {
      const { key } = await api.signup();
      const { orderId, lineIds, intentId, paid: total } = await paid(key, [{ name: 'Filter papers', quantity: 20, unitPriceMoney: { amount: 250, currency: 'USD' } }]);
      expect(total).toBe(5000);
      const inputs = Array.from({ length: calls }, (_, i) =>
        i % 2 === 0
          ? { paymentIntentId: intentId, lineItems: [{ lineItemId: lineIds[0]!, quantity: 1 }], reason: 'REFUND_REASON_OTHER' as const }
          : { paymentIntentId: intentId, amountMoney: { amount: 250, currency: 'USD' }, reason: 'REFUND_REASON_DUPLICATE' as const },
      );
      const results = await Promise.all(inputs.map((input) => api.exec(CreateRefund, { input }, key).then((d) => d.createRefund)));
      const ok = results.filter((r) => r.userErrors.length === 0);
      const sum = ok.reduce((s, r) => s + r.refund!.amountMoney.amount, 0);
      expect(sum).toBe(Math.min(calls * 250, total));
      expect(ok.every((r) => r.refund!.status === 'SUCCEEDED')).toBe(true);
      for (const r of results.filter((x) => x.userErrors.length > 0)) expect(r.userErrors.map((e) => e.code)).toEqual(['REFUND_EXCEEDS_REFUNDABLE']);

      const order = (await api.exec(GetOrder, { id: orderId }, key)).order!;
      const unitRefunds = results.filter((r, i) => i % 2 === 0 && r.userErrors.length === 0).length;
      expect(order.refunds).toHaveLength(ok.length);
      expect(order.netAmounts.refundedMoney.amount).toBe(sum);
      expect(order.refundable.amountMoney.amount).toBe(total - sum);
      expect(order.lineItems[0]!.refundedQuantity).toBe(unitRefunds);
      expect(order.status).toBe(sum === total ? 'REFUNDED' : 'PARTIALLY_REFUNDED');
      expect(await ledgerSum(intentId)).toBe(BigInt(sum));
      const row = await api.db.paymentIntent.findUniqueOrThrow({ where: { id: intentId } });
      expect(row.refundedAmount).toBe(BigInt(sum));
      const orderRow = await api.db.order.findUniqueOrThrow({ where: { id: orderId } });
      expect(orderRow.pendingRefundAmount).toBe(0n);
    });
  }
});

describe("createRefund's final result is stored with its outcome", () => {
  it('once createRefund answers, its idempotency key holds the final result, not a pending one', async () => {
    const { key } = await api.signup();
    const { orderId, lineIds, intentId } = await paid(key, [
      { name: 'Coffee', quantity: 2, unitPriceMoney: { amount: 1999, currency: 'USD' } },
      { name: 'Sample', quantity: 1, unitPriceMoney: { amount: 0, currency: 'USD' } },
    ]);
    const merchant = await api.db.order.findUniqueOrThrow({ where: { id: orderId }, select: { merchantId: true } });
    const stored = async (idempotencyKey: string) =>
      (await api.db.idempotencyKey.findUniqueOrThrow({ where: { merchantId_livemode_key: { merchantId: merchant.merchantId, livemode: false, key: idempotencyKey } } })).response as {
        refundId: string;
        pending: boolean;
        userErrors: unknown[];
      };

    // Sent to the processor (reserve, processor call, record).
    const sent = (await api.exec(CreateRefund, { input: { paymentIntentId: intentId, amountMoney: { amount: 999, currency: 'USD' }, reason: 'REFUND_REASON_OTHER', idempotencyKey: `final-${orderId}-1` } }, key)).createRefund;
    expect(sent.refund!.status).toBe('SUCCEEDED');
    expect(await stored(`final-${orderId}-1`)).toMatchObject({ refundId: sent.refund!.id, pending: false, userErrors: [] });

    // Refunded for nothing: SUCCEEDED at once in the reserve write.
    const free = (await api.exec(CreateRefund, { input: { paymentIntentId: intentId, lineItems: [{ lineItemId: lineIds[1]!, quantity: 1 }], reason: 'REFUND_REASON_OTHER', idempotencyKey: `final-${orderId}-2` } }, key)).createRefund;
    expect(free.refund).toMatchObject({ status: 'SUCCEEDED', amountMoney: { amount: 0 } });
    expect(await stored(`final-${orderId}-2`)).toMatchObject({ refundId: free.refund!.id, pending: false });

    // Concurrent calls with one key: every one answers the same refund, and the key is final.
    const input = { paymentIntentId: intentId, lineItems: [{ lineItemId: lineIds[0]!, quantity: 1 }], reason: 'REFUND_REASON_OTHER' as const, idempotencyKey: `final-${orderId}-3` };
    processor.delayMs = 30;
    try {
      const results = await Promise.all(Array.from({ length: 8 }, () => api.exec(CreateRefund, { input }, key).then((d) => d.createRefund)));
      expect(new Set(results.map((r) => r.refund?.id)).size).toBe(1);
      expect(results.every((r) => r.userErrors.length === 0 && r.refund!.status === 'SUCCEEDED')).toBe(true);
      expect(await stored(`final-${orderId}-3`)).toMatchObject({ refundId: results[0]!.refund!.id, pending: false });
    } finally {
      processor.delayMs = 0;
    }
    const pendingKeys = await api.db.idempotencyKey.findMany({ where: { merchantId: merchant.merchantId, response: { path: ['pending'], equals: true } } });
    expect(pendingKeys).toEqual([]);
  });
});

describe("settlePendingKeys' recovery of createRefund", () => {
  it('finishes a key left pending: from the recorded outcome, or by asking the processor about a PENDING refund', async () => {
    const { key } = await api.signup();
    const created = (await api.exec(CreateOrder, { input: { lineItems: [{ name: 'Tea', quantity: 2, unitPriceMoney: { amount: 1500, currency: 'USD' } }] } }, key)).createOrder.order!;
    const intentId = (await api.exec(PayOrder, { input: { orderId: created.id, paymentSourceTokens: ['tok_refundFail'] } }, key)).payOrder.paymentIntent!.id;
    const deps = { db: api.db, clock: systemClock, paymentProcessor: processor };
    const { merchantId } = await api.db.order.findUniqueOrThrow({ where: { id: created.id }, select: { merchantId: true } });
    const where = (k: string) => ({ merchantId_livemode_key: { merchantId, livemode: false, key: k } });
    // A process that died after the outcome was recorded but before its result was: the key says pending.
    const leavePending = async (k: string) => {
      const row = await api.db.idempotencyKey.findUniqueOrThrow({ where: where(k) });
      const response = { ...(row.response as Record<string, unknown>), userErrors: [], pending: true };
      await api.db.idempotencyKey.update({ where: where(k), data: { response } });
      return { merchantId, livemode: false, key: k, operation: row.operation, response, createdAt: row.createdAt };
    };

    // tok_refundFail: the refund stays PENDING; the processor says FAILED when asked later.
    const input = { paymentIntentId: intentId, lineItems: [{ lineItemId: created.lineItems[0]!.id, quantity: 1 }], reason: 'REFUND_REASON_OTHER' as const, idempotencyKey: `recover-${created.id}-1` };
    const pendingRefund = (await api.exec(CreateRefund, { input }, key)).createRefund;
    expect(pendingRefund.refund!.status).toBe('PENDING');
    await recoverCreateRefund(deps, await leavePending(input.idempotencyKey));
    const asked = (await api.db.idempotencyKey.findUniqueOrThrow({ where: where(input.idempotencyKey) })).response as { pending: boolean; userErrors: { code: string }[] };
    expect(asked.pending).toBe(false);
    expect(asked.userErrors.map((e) => e.code)).toEqual(['PAYMENT_FAILED']);
    expect((await api.db.refund.findUniqueOrThrow({ where: { id: pendingRefund.refund!.id } })).status).toBe('FAILED');
    // The replay answers the final result.
    const replay = (await api.exec(CreateRefund, { input }, key)).createRefund;
    expect(replay.refund).toMatchObject({ id: pendingRefund.refund!.id, status: 'FAILED' });
    expect(replay.userErrors.map((e) => e.code)).toEqual(['PAYMENT_FAILED']);

    // A refund whose outcome is recorded (SUCCEEDED): its final result is stored as it is, no processor call.
    const visa = await paid(key, [{ name: 'Cup', quantity: 1, unitPriceMoney: { amount: 900, currency: 'USD' } }]);
    const done = { paymentIntentId: visa.intentId, amountMoney: { amount: 700, currency: 'USD' }, reason: 'REFUND_REASON_OTHER' as const, idempotencyKey: `recover-${created.id}-2` };
    const succeeded = (await api.exec(CreateRefund, { input: done }, key)).createRefund;
    expect(succeeded.refund!.status).toBe('SUCCEEDED');
    const ledger = await api.db.sandboxRefund.count();
    await recoverCreateRefund(deps, await leavePending(done.idempotencyKey));
    const finished = (await api.db.idempotencyKey.findUniqueOrThrow({ where: where(done.idempotencyKey) })).response as { refundId: string; pending: boolean; userErrors: unknown[] };
    expect(finished).toMatchObject({ refundId: succeeded.refund!.id, pending: false, userErrors: [] });
    expect(await api.db.sandboxRefund.count()).toBe(ledger);
  });
});

describe('closeOrder racing createRefund', () => {
  for (let round = 1; round <= 3; round++) {
    it(`round ${round}: never a CLOSED order with a PENDING refund`, async () => {
      const { key } = await api.signup();
      const { orderId, lineIds, intentId } = await paid(key, [{ name: 'Mug', quantity: 2, unitPriceMoney: { amount: 1000 + round, currency: 'USD' } }]);
      processor.delayMs = 40;
      const samples: { status: string; refunds: string[] }[] = [];
      let running = true;
      const sampler = (async () => {
        while (running) {
          const o = (await api.exec(GetOrder, { id: orderId }, key)).order!;
          samples.push({ status: o.status, refunds: o.refunds.map((r) => r.status) });
          await new Promise((resolve) => setTimeout(resolve, 3));
        }
      })();
      try {
        const refund = api.exec(CreateRefund, { input: { paymentIntentId: intentId, lineItems: [{ lineItemId: lineIds[0]!, quantity: 1 }], reason: 'REFUND_REASON_OTHER' } }, key);
        const closes = [0, 2, 5, 10, 20, 35, 60, 90].map((ms) =>
          new Promise((resolve) => setTimeout(resolve, ms + round)).then(() => api.exec(CloseOrder, { input: { orderId } }, key).then((d) => d.closeOrder)),
        );
        const [refunded, ...closed] = await Promise.all([refund.then((d) => d.createRefund), ...closes]);
        const closedOk = closed.filter((c) => c.userErrors.length === 0);
        for (const c of closed.filter((x) => x.userErrors.length > 0)) expect(c.userErrors.map((e) => e.code)).toEqual(['INVALID_STATE_TRANSITION']);

        const order = (await api.exec(GetOrder, { id: orderId }, key)).order!;
        if (closedOk.length > 0) expect(order.status).toBe('CLOSED');
        if (refunded.userErrors.length === 0) {
          expect(refunded.refund!.status).toBe('SUCCEEDED');
          expect(order.netAmounts.refundedMoney.amount).toBe(1000 + round);
        } else {
          // Planned after the close: the order was no longer refundable.
          expect(refunded.userErrors.map((e) => e.code)).toEqual(['INVALID_STATE_TRANSITION']);
          expect(order.refunds).toEqual([]);
        }
        expect(order.refunds.filter((r) => r.status === 'PENDING')).toEqual([]);
      } finally {
        running = false;
        processor.delayMs = 0;
        await sampler;
      }
      expect(samples.length).toBeGreaterThan(0);
      expect(samples.filter((s) => s.status === 'CLOSED' && s.refunds.includes('PENDING'))).toEqual([]);
      const row = await api.db.order.findUniqueOrThrow({ where: { id: orderId } });
      if (row.status === 'CLOSED') expect(row.pendingRefundAmount).toBe(0n);
    });
  }
});
