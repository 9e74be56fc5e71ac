// closeOrder through the API: settled orders (PAID, PARTIALLY_REFUNDED, REFUNDED) close; CLOSED is final
// (no refunds, no second close); every other status is INVALID_STATE_TRANSITION naming what is allowed;
// a PENDING refund holds the close back; replays with an idempotency key close once.
import { describe, expect, it } from 'vitest';
import { graphql } from '../generated/index.js';
import { useTestApi } from '../support/api.js';
import { testDatabaseUrl } from '../support/db.js';
import { createPrisma } from '../../src/db/prisma.js';
import { SandboxProcessor } from '../../src/payments/sandbox.js';
import { DelegatingProcessor } from '../support/delegating-processor.js';
import type { RefundRequest, RefundResult } from '../../src/kernel/processor.js';

/** The sandbox, except that refund requests can be held at the door (a refund "in flight"). */
class HoldingProcessor extends DelegatingProcessor {
  private gate: Promise<void> | null = null;
  private open: (() => void) | null = null;
  arrived = 0;
  hold(): void {
    this.gate = new Promise((resolve) => (this.open = resolve));
  }
  release(): void {
    this.open?.();
    this.gate = null;
  }
  override async createRefund(request: RefundRequest): Promise<RefundResult> {
    this.arrived += 1;
    if (this.gate) await this.gate;
    return this.inner.createRefund(request);
  }
}

const processor = new HoldingProcessor(new SandboxProcessor(createPrisma(testDatabaseUrl()), { publicUrl: () => 'http://127.0.0.1' }));
const api = useTestApi({ deps: { paymentProcessor: processor } });

const CreateOrder = graphql(`
  mutation CloseOrderCreateOrder($input: CreateOrderInput!) {
    createOrder(input: $input) { order { id } userErrors { code } }
  }
`);

const PayOrder = graphql(`
  mutation CloseOrderPayOrder($input: PayOrderInput!) {
    payOrder(input: $input) { order { status } paymentIntent { id } userErrors { code message } }
  }
`);

const CancelOrder = graphql(`
  mutation CloseOrderCancel($input: CancelOrderInput!) {
    cancelOrder(input: $input) { order { status } userErrors { code } }
  }
`);

const CreateRefund = graphql(`
  mutation CloseOrderRefund($input: CreateRefundInput!) {
    createRefund(input: $input) { refund { id status } order { status } userErrors { code message } }
  }
`);

const Close = graphql(`
  mutation CloseOrderClose($input: CloseOrderInput!) {
    closeOrder(input: $input) {
      order { id status version summary availableActions { action } netAmounts { paidMoney { amount } refundedMoney { amount } } refundable { amountMoney { amount } lineItems { quantity } } lineItems { refundableQuantity } }
      userErrors { code message field }
    }
  }
`);

const GetOrder = graphql(`
  query CloseOrderGet($id: ID!) {
    order(id: $id) { status version activity { type delta idempotencyKey } refunds { status } }
  }
`);

const LINES = [
  { name: 'Coffee', quantity: 2, unitPriceMoney: { amount: 1999, currency: 'USD' } },
  { name: 'Mug', quantity: 1, unitPriceMoney: { amount: 2400, currency: 'USD' } },
];

async function order(key: string, pay: string | null = 'tok_visa') {
  const id = (await api.exec(CreateOrder, { input: { lineItems: LINES } }, key)).createOrder.order!.id;
  if (!pay) return { id, intentId: null as string | null };
  const paid = await api.exec(PayOrder, { input: { orderId: id, paymentSourceTokens: [pay] } }, key);
  return { id, intentId: paid.payOrder.paymentIntent!.id };
}

async function close(key: string, orderId: string, idempotencyKey?: string) {
  return (await api.exec(Close, { input: { orderId, ...(idempotencyKey ? { idempotencyKey } : {}) } }, key)).closeOrder;
}

async function refundAmount(key: string, paymentIntentId: string, amount: number) {
  return (await api.exec(CreateRefund, { input: { paymentIntentId, amountMoney: { amount, currency: 'USD' }, reason: 'REFUND_REASON_OTHER' } }, key)).createRefund;
}

describe('closeOrder', () => {
  it('closes a PAID order: CLOSED, order.closed + order.status_changed, nothing refundable, no actions left', async () => {
    const { key } = await api.signup();
    const { id } = await order(key);
    const result = await close(key, id, `close-${id}`);
    expect(result.userErrors).toEqual([]);
    expect(result.order).toMatchObject({ status: 'CLOSED', availableActions: [], refundable: { amountMoney: { amount: 0 }, lineItems: [] } });
    expect(result.order!.lineItems.map((l) => l.refundableQuantity)).toEqual([0, 0]);
    expect(result.order!.summary).toContain('closed');
    const read = (await api.exec(GetOrder, { id }, key)).order!;
    expect(read.activity.slice(-2).map((a) => a.type)).toEqual(['order.closed', 'order.status_changed']);
    expect(read.activity.at(-2)!.delta).toMatchObject({ before: { status: 'PAID' }, after: { status: 'CLOSED' } });
    expect(read.activity.at(-2)!.idempotencyKey).toBe(`close-${id}`);

    // Replayed with its key: the same result, closed once.
    const replay = await close(key, id, `close-${id}`);
    expect(replay.userErrors).toEqual([]);
    expect(replay.order!.version).toBe(result.order!.version);
    expect((await api.exec(GetOrder, { id }, key)).order!.activity.filter((a) => a.type === 'order.closed')).toHaveLength(1);
  });

  it('closes PARTIALLY_REFUNDED and REFUNDED orders; after CLOSED nothing changes, refunds included', async () => {
    const { key } = await api.signup();
    const partial = await order(key);
    expect((await refundAmount(key, partial.intentId!, 1000)).order!.status).toBe('PARTIALLY_REFUNDED');
    expect((await close(key, partial.id)).order!.status).toBe('CLOSED');

    const full = await order(key);
    expect((await refundAmount(key, full.intentId!, 6398)).order!.status).toBe('REFUNDED');
    const closed = await close(key, full.id);
    expect(closed.order).toMatchObject({ status: 'CLOSED', netAmounts: { paidMoney: { amount: 6398 }, refundedMoney: { amount: 6398 } } });

    const refused = await refundAmount(key, partial.intentId!, 1);
    expect(refused.userErrors.map((e) => e.code)).toEqual(['INVALID_STATE_TRANSITION']);
    expect(refused.userErrors[0]!.message).toBe('Cannot REFUND (createRefund): The order is CLOSED, which is final. No action is available on this order.');
    expect(refused.refund).toBeNull();
    const again = await close(key, partial.id);
    expect(again.userErrors.map((e) => [e.code, e.message])).toEqual([
      ['INVALID_STATE_TRANSITION', 'Cannot CLOSE (closeOrder): The order is CLOSED, which is final. No action is available on this order.'],
    ]);
    const read = (await api.exec(GetOrder, { id: partial.id }, key)).order!;
    expect(read.status).toBe('CLOSED');
    expect(read.refunds).toEqual([{ status: 'SUCCEEDED' }]);
  });

  it('refuses OPEN and CANCELED orders, naming what is allowed', async () => {
    const { key } = await api.signup();
    const open = await order(key, null);
    const r1 = await close(key, open.id);
    expect(r1.userErrors).toHaveLength(1);
    expect(r1.userErrors[0]!.code).toBe('INVALID_STATE_TRANSITION');
    expect(r1.userErrors[0]!.field).toEqual(['input', 'orderId']);
    expect(r1.userErrors[0]!.message).toMatch(/^Cannot CLOSE \(closeOrder\): The order is OPEN; CLOSE is possible only when it is PAID or PARTIALLY_REFUNDED or REFUNDED\. Allowed now: .*PAY \(payOrder\).*CANCEL \(cancelOrder\)/);

    await api.exec(CancelOrder, { input: { orderId: open.id } }, key);
    const r2 = await close(key, open.id);
    expect(r2.userErrors.map((e) => [e.code, e.message])).toEqual([
      ['INVALID_STATE_TRANSITION', 'Cannot CLOSE (closeOrder): The order is CANCELED, which is final. No action is available on this order.'],
    ]);
    expect((await api.exec(GetOrder, { id: open.id }, key)).order!.status).toBe('CANCELED');
  });

  it('waits for a refund still PENDING at the processor, then closes once it has settled', async () => {
    const { key } = await api.signup();
    const { id, intentId } = await order(key, 'tok_refundFail');
    // A refund in flight: written (PENDING, reserved), its processor request not answered yet.
    processor.hold();
    const arrived = processor.arrived;
    const inFlight = refundAmount(key, intentId!, 500);
    while (processor.arrived === arrived) await new Promise((r) => setTimeout(r, 10));
    const refused = await close(key, id);
    expect(refused.userErrors.map((e) => e.code)).toEqual(['INVALID_STATE_TRANSITION']);
    const [pendingRefund] = (await api.exec(GetOrder, { id }, key)).order!.refunds;
    expect(pendingRefund).toEqual({ status: 'PENDING' });
    expect(refused.userErrors[0]!.message).toMatch(/refund re_\w+ of this order is still PENDING at the processor/);
    expect(refused.userErrors[0]!.message).toContain('Allowed now: REFUND (createRefund).');
    expect((await api.exec(GetOrder, { id }, key)).order!.status).toBe('PAID');

    // The processor answers PENDING (tok_refundFail); the next closeOrder asks again: it failed, the order closes.
    processor.release();
    expect((await inFlight).refund!.status).toBe('PENDING');
    const closed = await close(key, id);
    expect(closed.userErrors).toEqual([]);
    const read = (await api.exec(GetOrder, { id }, key)).order!;
    expect(read.status).toBe('CLOSED');
    expect(read.refunds).toEqual([{ status: 'FAILED' }]);
  });
});
