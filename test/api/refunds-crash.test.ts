// Crash recovery of refunds. The real server runs as a child process (src/main.ts) on a database of its
// own (so its start-up pass touches no other test's refunds); with FLINT_TEST_CRASH_AFTER_REFUND=1 it
// kills itself (SIGKILL) after the sandbox processor refunded and before Flint recorded the answer.
// After a restart the start-up reconciliation asks the processor about the key: the refund ends
// SUCCEEDED once and the processor shows exactly one refund. A refund whose request never reached the
// processor is sent again under the same key by the next call of the order: one refund, not two.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { graphql } from '../generated/index.js';
import { useTestApi } from '../support/api.js';
import { graphqlAt, useMainProcesses } from '../support/main-process.js';
import { freshDatabase, testDatabaseUrl } from '../support/db.js';
import { until } from '../support/until.js';
import { createPrisma } from '../../src/db/prisma.js';
import { SandboxProcessor } from '../../src/payments/sandbox.js';
import type { RefundRequest, RefundResult } from '../../src/kernel/processor.js';
import { DelegatingProcessor } from '../support/delegating-processor.js';
import type { Db } from '../../src/kernel/context.js';


/** A sandbox whose refund requests can be lost before they reach it. */
class LossyProcessor extends DelegatingProcessor {
  loseNextRefundRequest = false;
  refundCalls = 0;
  override async createRefund(request: RefundRequest): Promise<RefundResult> {
    this.refundCalls += 1;
    if (this.loseNextRefundRequest) {
      this.loseNextRefundRequest = false;
      throw new Error('simulated: the request never reached the processor');
    }
    return this.inner.createRefund(request);
  }
}

const lossy = new LossyProcessor(new SandboxProcessor(createPrisma(testDatabaseUrl()), { publicUrl: () => 'http://127.0.0.1' }));
let now = new Date();
const api = useTestApi({ clock: { now: () => now }, deps: { paymentProcessor: lossy } });

const CreateOrder = graphql(`
  mutation RefundsCrashCreateOrder($input: CreateOrderInput!) {
    createOrder(input: $input) { order { id lineItems { id } } userErrors { code } }
  }
`);

const PayOrder = graphql(`
  mutation RefundsCrashPayOrder($input: PayOrderInput!) {
    payOrder(input: $input) { paymentIntent { id } userErrors { code } }
  }
`);

const CreateRefund = graphql(`
  mutation RefundsCrashCreateRefund($input: CreateRefundInput!) {
    createRefund(input: $input) { refund { id status processorReference } order { status } userErrors { code message } }
  }
`);

const GetOrder = graphql(`
  query RefundsCrashGetOrder($id: ID!) {
    order(id: $id) { status netAmounts { refundedMoney { amount } } refunds { id status processorReference } activity { type actor { type } } }
  }
`);

const startChild = useMainProcesses();



const REFUND = 'mutation($input: CreateRefundInput!) { createRefund(input: $input) { refund { id status processorReference } order { status } userErrors { code } } }';

describe('crash between the processor refund and our commit', () => {
  let fresh: { url: string; drop: () => Promise<void> };
  let db: Db;
  beforeAll(async () => {
    fresh = await freshDatabase();
    db = createPrisma(fresh.url);
  });
  afterAll(async () => {
    await db?.$disconnect();
    await fresh?.drop();
  });

  it('the killed server refunded once; after a restart the refund is SUCCEEDED exactly once and the processor shows one refund', async () => {
    const crashing = await startChild(fresh.url, { FLINT_TEST_CRASH_AFTER_REFUND: '1' });
    const signup = await graphqlAt<{ createMerchant: { testApiKey: string } }>(
      crashing.url,
      null,
      'mutation { createMerchant(input: { name: "Crash Café", email: "crash@example.com" }) { testApiKey } }',
    );
    const key = signup.createMerchant.testApiKey;
    const order = await graphqlAt<{ createOrder: { order: { id: string; lineItems: { id: string }[] } } }>(
      crashing.url,
      key,
      'mutation { createOrder(input: { lineItems: [{ name: "Coffee", quantity: 2, unitPriceMoney: { amount: 1999, currency: "USD" } }] }) { order { id lineItems { id } } } }',
    );
    const orderId = order.createOrder.order.id;
    const paid = await graphqlAt<{ payOrder: { paymentIntent: { id: string } } }>(
      crashing.url,
      key,
      `mutation { payOrder(input: { orderId: "${orderId}", paymentSourceTokens: ["tok_visa"] }) { paymentIntent { id } } }`,
    );
    const intentId = paid.payOrder.paymentIntent.id;
    const input = { paymentIntentId: intentId, lineItems: [{ lineItemId: order.createOrder.order.lineItems[0]!.id, quantity: 1 }], reason: 'REFUND_REASON_REQUESTED_BY_CUSTOMER', idempotencyKey: `crash-${orderId}` };

    await expect(graphqlAt(crashing.url, key, REFUND, { input })).rejects.toThrow(); // the server died mid-request
    expect((await crashing.exited).signal).toBe('SIGKILL');
    expect(crashing.output()).toContain('FLINT_TEST_CRASH_AFTER_REFUND');

    // The processor refunded; Flint has not recorded its answer.
    expect((await db.sandboxRefund.findMany()).map((r) => [r.status, r.amount])).toEqual([['SUCCEEDED', 1999n]]);
    const before = await db.refund.findMany();
    expect(before.map((r) => [r.status, r.processorReference])).toEqual([['PENDING', null]]);
    expect((await db.order.findUniqueOrThrow({ where: { id: orderId } })).status).toBe('PAID');

    // Restart: the start-up pass asks the processor about the key.
    const restarted = await startChild(fresh.url, {});
    await until('start-up reconciliation', async () => /refunds reconciled at start-up: 1 settled/.test(restarted.output()));
    const read = await graphqlAt<{ order: { status: string; netAmounts: { refundedMoney: { amount: number } }; refunds: { id: string; status: string; processorReference: string }[]; activity: { type: string; actor: { type: string } }[] } }>(
      restarted.url,
      key,
      `{ order(id: "${orderId}") { status netAmounts { refundedMoney { amount } } refunds { id status processorReference } activity { type actor { type } } } }`,
    );
    const sandbox = await db.sandboxRefund.findMany();
    expect(read.order.status).toBe('PARTIALLY_REFUNDED');
    expect(read.order.netAmounts.refundedMoney.amount).toBe(1999);
    expect(read.order.refunds).toEqual([{ id: before[0]!.id, status: 'SUCCEEDED', processorReference: sandbox[0]!.id }]);
    expect(read.order.activity.filter((a) => a.type === 'refund.succeeded')).toEqual([{ type: 'refund.succeeded', actor: { type: 'SYSTEM' } }]);

    // The client retries with the same key: the same refund, nothing refunded again.
    const retried = await graphqlAt<{ createRefund: { refund: { id: string; status: string }; userErrors: unknown[] } }>(restarted.url, key, REFUND, { input });
    expect(retried.createRefund.refund).toMatchObject({ id: before[0]!.id, status: 'SUCCEEDED' });
    expect(retried.createRefund.userErrors).toEqual([]);
    expect(await db.sandboxRefund.count()).toBe(1);
    restarted.process.kill('SIGTERM');
    await restarted.exited;
  }, 120_000);
});

describe('a refund request lost before the processor', () => {
  it('is sent again under the same key by the next call of the order: one refund', async () => {
    const { key } = await api.signup();
    const order = (await api.exec(CreateOrder, { input: { lineItems: [{ name: 'Coffee', quantity: 2, unitPriceMoney: { amount: 1999, currency: 'USD' } }] } }, key)).createOrder.order!;
    const intentId = (await api.exec(PayOrder, { input: { orderId: order.id, paymentSourceTokens: ['tok_visa'] } }, key)).payOrder.paymentIntent!.id;
    const lineId = order.lineItems[0]!.id;

    lossy.loseNextRefundRequest = true;
    const lost = (await api.exec(CreateRefund, { input: { paymentIntentId: intentId, lineItems: [{ lineItemId: lineId, quantity: 1 }], reason: 'REFUND_REASON_OTHER' } }, key)).createRefund;
    expect(lost.userErrors).toEqual([]);
    expect(lost.refund).toMatchObject({ status: 'PENDING', processorReference: null });
    const ledger = async () =>
      (await api.db.sandboxRefund.findMany()).filter((r) => (r.metadata as { flint_payment_intent_id?: string }).flint_payment_intent_id === intentId);
    expect(await ledger()).toHaveLength(0);

    // Within a minute the refund may still be in flight: the next call leaves it alone.
    const calls = lossy.refundCalls;
    const early = (await api.exec(CreateRefund, { input: { paymentIntentId: intentId, lineItems: [{ lineItemId: lineId, quantity: 2 }], reason: 'REFUND_REASON_OTHER' } }, key)).createRefund;
    expect(early.userErrors.map((e) => e.code)).toEqual(['REFUND_EXCEEDS_REFUNDABLE']);
    expect(lossy.refundCalls).toBe(calls);

    now = new Date(Date.now() + 120_000);
    try {
      const next = (await api.exec(CreateRefund, { input: { paymentIntentId: intentId, lineItems: [{ lineItemId: lineId, quantity: 1 }], reason: 'REFUND_REASON_OTHER' } }, key)).createRefund;
      expect(next.userErrors).toEqual([]);
      expect(next.order!.status).toBe('REFUNDED');
    } finally {
      now = new Date();
    }
    const refunds = (await api.exec(GetOrder, { id: order.id }, key)).order!.refunds;
    expect(refunds.map((r) => r.status)).toEqual(['SUCCEEDED', 'SUCCEEDED']);
    const sandbox = await ledger();
    expect(sandbox.map((r) => r.idempotencyKey).sort()).toEqual(refunds.map((r) => `flint_re_${r.id}`).sort());
  });
});
