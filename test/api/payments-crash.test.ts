// Crash recovery. The real server runs as a child process (src/main.ts) on the test database; with
// FLINT_TEST_CRASH_AFTER_CHARGE=1 it kills itself (SIGKILL) after the sandbox processor charged and
// before Flint committed the result. After a restart the start-up reconciliation asks the processor
// about the key: the order ends PAID exactly once and the processor shows exactly one charge.
// A lost answer inside a running server is recovered by the next payOrder of the order the same way.
import { describe, expect, it } from 'vitest';
import { graphql } from '../generated/index.js';
import { useTestApi } from '../support/api.js';
import { useMainProcesses } from '../support/main-process.js';
import { testDatabaseUrl } from '../support/db.js';
import { until } from '../support/until.js';
import { SandboxProcessor } from '../../src/payments/sandbox.js';
import type { ChargeRequest, ChargeResult } from '../../src/kernel/processor.js';
import { DelegatingProcessor } from '../support/delegating-processor.js';
import { createPrisma } from '../../src/db/prisma.js';


/** A sandbox whose answers can get lost on the way back (the charge happened; we never hear of it). */
class LossyProcessor extends DelegatingProcessor {
  loseNextAnswer: 'after-charge' | 'before-charge' | null = null;
  confirmCalls = 0;
  override async confirmPayment(request: ChargeRequest): Promise<ChargeResult> {
    this.confirmCalls += 1;
    const lose = this.loseNextAnswer;
    this.loseNextAnswer = null;
    if (lose === 'before-charge') throw new Error('simulated crash before the processor call');
    const result = await this.inner.confirmPayment(request);
    if (lose === 'after-charge') throw new Error('simulated crash after the processor charged');
    return result;
  }
}

const sandboxDb = createPrisma(testDatabaseUrl());
const lossy = new LossyProcessor(new SandboxProcessor(sandboxDb, { publicUrl: () => 'http://127.0.0.1' }));
const api = useTestApi({ deps: { paymentProcessor: lossy } });

const CreateOrder = graphql(`
  mutation PaymentsCrashCreateOrder($input: CreateOrderInput!) {
    createOrder(input: $input) { order { id netAmounts { totalMoney { amount } } } userErrors { code } }
  }
`);

const PayOrder = graphql(`
  mutation PaymentsCrashPayOrder($input: PayOrderInput!) {
    payOrder(input: $input) {
      order { id status netAmounts { paidMoney { amount } balanceMoney { amount } } }
      paymentIntent { id status }
      userErrors { code message }
    }
  }
`);

const GetOrder = graphql(`
  query PaymentsCrashGetOrder($id: ID!) {
    order(id: $id) {
      status
      netAmounts { paidMoney { amount } balanceMoney { amount } }
      paymentIntents { id status processorReference }
      activity { type actor { type } }
    }
  }
`);

const startMain = useMainProcesses();
/** Starts `src/main.ts` on the test database and waits until it listens. */
const startChild = (env: Record<string, string>) => startMain(testDatabaseUrl(), env);


async function chargesOf(orderId: string) {
  const rows = await api.db.sandboxCharge.findMany();
  return rows.filter((r) => (r.metadata as { flint_order_id?: string }).flint_order_id === orderId);
}

async function newOrder(key: string) {
  const data = await api.exec(CreateOrder, { input: { lineItems: [{ name: 'Beans', quantity: 2, unitPriceMoney: { amount: 1999, currency: 'USD' } }] } }, key);
  return data.createOrder.order!;
}

describe('crash between the processor charge and our commit', () => {
  it('the killed server charged once; after a restart the order is PAID exactly once and the processor shows one charge', async () => {
    const { key } = await api.signup();
    const order = await newOrder(key);

    const crashing = await startChild({ FLINT_TEST_CRASH_AFTER_CHARGE: '1' });
    const request = fetch(`${crashing.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
      body: JSON.stringify({
        query: 'mutation($input: PayOrderInput!) { payOrder(input: $input) { userErrors { code } } }',
        variables: { input: { orderId: order.id, paymentSourceTokens: ['tok_visa'], idempotencyKey: `crash-${order.id}` } },
      }),
    });
    await expect(request).rejects.toThrow(); // the server died mid-request
    const exit = await crashing.exited;
    expect(exit.signal).toBe('SIGKILL');
    expect(crashing.output()).toContain('FLINT_TEST_CRASH_AFTER_CHARGE');

    // The processor charged; Flint has not recorded it.
    const charges = await chargesOf(order.id);
    expect(charges.map((c) => c.status)).toEqual(['SUCCEEDED']);
    const before = (await api.exec(GetOrder, { id: order.id }, key)).order!;
    expect(before.status).toBe('OPEN');
    expect(before.netAmounts.paidMoney.amount).toBe(0);
    expect(before.paymentIntents.map((p) => p.status)).toEqual(['PROCESSING']);

    // Restart: start-up reconciliation asks the processor about the key.
    const restarted = await startChild({});
    await until('start-up reconciliation', async () => /payments reconciled at start-up: [1-9]/.test(restarted.output()));
    const after = (await api.exec(GetOrder, { id: order.id }, key)).order!;
    expect(after.status).toBe('PAID');
    expect(after.netAmounts.paidMoney.amount).toBe(3998);
    expect(after.netAmounts.balanceMoney.amount).toBe(0);
    expect(after.paymentIntents).toEqual([{ id: before.paymentIntents[0]!.id, status: 'SUCCEEDED', processorReference: charges[0]!.id }]);
    expect(after.activity.filter((a) => a.type === 'payment.captured')).toEqual([{ type: 'payment.captured', actor: { type: 'SYSTEM' } }]);
    expect(after.activity.filter((a) => a.type === 'order.status_changed')).toHaveLength(1);
    expect(await chargesOf(order.id)).toHaveLength(1);

    // The client retries its request with the same key (against the restarted server): the final result, no charge.
    const retried = await fetch(`${restarted.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
      body: JSON.stringify({
        query: 'mutation($input: PayOrderInput!) { payOrder(input: $input) { order { status } paymentIntent { id status } userErrors { code } } }',
        variables: { input: { orderId: order.id, paymentSourceTokens: ['tok_visa'], idempotencyKey: `crash-${order.id}` } },
      }),
    });
    const body = (await retried.json()) as { data: { payOrder: { order: { status: string }; paymentIntent: { id: string; status: string }; userErrors: unknown[] } } };
    expect(body.data.payOrder).toEqual({ order: { status: 'PAID' }, paymentIntent: { id: before.paymentIntents[0]!.id, status: 'SUCCEEDED' }, userErrors: [] });

    // And a fresh payOrder is refused: nothing is due.
    const again = await api.exec(PayOrder, { input: { orderId: order.id, paymentSourceTokens: ['tok_visa'] } }, key);
    expect(again.payOrder.userErrors.map((e) => e.code)).toEqual(['NOTHING_TO_PAY']);
    expect(await chargesOf(order.id)).toHaveLength(1);
    restarted.process.kill('SIGTERM');
    await restarted.exited;
  }, 120_000);

  it('an answer lost after the charge is reconciled by the next payOrder of the order, not charged again', async () => {
    const { key } = await api.signup();
    const order = await newOrder(key);
    lossy.loseNextAnswer = 'after-charge';
    const lost = await api.request(PayOrder, { input: { orderId: order.id, paymentSourceTokens: ['tok_visa'] } }, key);
    expect(lost.errors?.[0]?.message).toBe('Unexpected error.');
    expect((await chargesOf(order.id)).map((c) => c.status)).toEqual(['SUCCEEDED']);
    expect((await api.exec(GetOrder, { id: order.id }, key)).order!.paymentIntents.map((p) => p.status)).toEqual(['PROCESSING']);

    const calls = lossy.confirmCalls;
    const next = await api.exec(PayOrder, { input: { orderId: order.id, paymentSourceTokens: ['tok_mastercard'] } }, key);
    expect(next.payOrder.userErrors.map((e) => e.code)).toEqual(['NOTHING_TO_PAY']);
    expect(lossy.confirmCalls).toBe(calls); // found by its key: no new request to the processor
    const read = (await api.exec(GetOrder, { id: order.id }, key)).order!;
    expect(read.status).toBe('PAID');
    expect(read.netAmounts.paidMoney.amount).toBe(3998);
    expect(read.paymentIntents.map((p) => p.status)).toEqual(['SUCCEEDED']);
    expect(await chargesOf(order.id)).toHaveLength(1);
  });

  it('a crash before the processor call is recovered by replaying the same request under the same key: one charge', async () => {
    const { key } = await api.signup();
    const order = await newOrder(key);
    lossy.loseNextAnswer = 'before-charge';
    await api.request(PayOrder, { input: { orderId: order.id, paymentSourceTokens: ['tok_visa'] } }, key);
    expect(await chargesOf(order.id)).toHaveLength(0);
    const intent = (await api.exec(GetOrder, { id: order.id }, key)).order!.paymentIntents[0]!;
    expect(intent.status).toBe('PROCESSING');

    const next = await api.exec(PayOrder, { input: { orderId: order.id, paymentSourceTokens: ['tok_mastercard'] } }, key);
    expect(next.payOrder.userErrors.map((e) => e.code)).toEqual(['NOTHING_TO_PAY']);
    const charges = await chargesOf(order.id);
    expect(charges).toHaveLength(1);
    expect(charges[0]).toMatchObject({ token: 'tok_visa', status: 'SUCCEEDED', idempotencyKey: `flint_pi_${intent.id}_attempt` });
    const read = (await api.exec(GetOrder, { id: order.id }, key)).order!;
    expect(read.status).toBe('PAID');
    expect(read.paymentIntents).toEqual([{ id: intent.id, status: 'SUCCEEDED', processorReference: charges[0]!.id }]);
  });
});
