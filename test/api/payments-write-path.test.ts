// payOrder on the write path: a reservation is a change to the order (cancel and pay never both
// happen), coupon limits stay exact when payments race, idempotency keys mixed into a race still charge
// once, the final result is stored in the same write as the outcome (no key left pending), a pending
// key is finished at start-up by settlePendingKeys, and the database refuses a second open intent.
import { describe, expect, it } from 'vitest';
import { graphql } from '../generated/index.js';
import { useTestApi } from '../support/api.js';
import { testDatabaseUrl } from '../support/db.js';
import { createPrisma } from '../../src/db/prisma.js';
import { SandboxProcessor } from '../../src/payments/sandbox.js';
import type { ChargeRequest, ChargeResult } from '../../src/kernel/processor.js';
import { settlePendingKeys } from '../../src/kernel/pending-result.js';
import { systemClock, type Deps } from '../../src/kernel/context.js';
// The payOrder recovery registers itself with settlePendingKeys when the module loads (as at start-up).
import { DelegatingProcessor } from '../support/delegating-processor.js';
import '../../src/payments/reconcile.js';

/** A sandbox whose next answer can be lost after it charged (the process "died" before recording it). */
class LossyProcessor extends DelegatingProcessor {
  loseNextAnswer = false;
  override async confirmPayment(request: ChargeRequest): Promise<ChargeResult> {
    const lose = this.loseNextAnswer;
    this.loseNextAnswer = false;
    const result = await this.inner.confirmPayment(request);
    if (lose) throw new Error('simulated crash after the processor charged');
    return result;
  }
}

const sandboxDb = createPrisma(testDatabaseUrl());
const lossy = new LossyProcessor(new SandboxProcessor(sandboxDb, { publicUrl: () => 'http://127.0.0.1' }));
const api = useTestApi({ deps: { paymentProcessor: lossy } });

const CreateOrder = graphql(`
  mutation WritePathCreateOrder($input: CreateOrderInput!) {
    createOrder(input: $input) { order { id netAmounts { totalMoney { amount } } } userErrors { code message } }
  }
`);
const CreateCoupon = graphql(`
  mutation WritePathCreateCoupon($input: CreateCouponInput!) {
    createCoupon(input: $input) { coupon { id } userErrors { code message } }
  }
`);
const ReadCoupon = graphql(`
  query WritePathReadCoupon($code: String!) { coupon(code: $code) { timesRedeemed } }
`);
const PayOrder = graphql(`
  mutation WritePathPayOrder($input: PayOrderInput!) {
    payOrder(input: $input) {
      order { id status version netAmounts { paidMoney { amount } balanceMoney { amount } } }
      paymentIntent { id status }
      userErrors { code message field }
    }
  }
`);
const CancelOrder = graphql(`
  mutation WritePathCancelOrder($input: CancelOrderInput!) {
    cancelOrder(input: $input) { order { status } userErrors { code message } }
  }
`);
const GetOrder = graphql(`
  query WritePathGetOrder($id: ID!) {
    order(id: $id) {
      status
      version
      netAmounts { paidMoney { amount } balanceMoney { amount } }
      paymentIntents { id status }
      activity { type }
    }
  }
`);

const beans = [{ name: 'Beans', quantity: 2, unitPriceMoney: { amount: 1999, currency: 'USD' } }];

async function newOrder(key: string, extra: Record<string, unknown> = {}) {
  const made = (await api.exec(CreateOrder, { input: { lineItems: beans, ...extra } }, key)).createOrder;
  expect(made.userErrors).toEqual([]);
  return made.order!;
}

async function chargesOf(orderId: string) {
  const rows = await api.db.sandboxCharge.findMany();
  return rows.filter((r) => (r.metadata as { flint_order_id?: string }).flint_order_id === orderId);
}

async function storedKey(merchantId: string, key: string) {
  return api.db.idempotencyKey.findFirst({ where: { merchantId, livemode: false, key } });
}

describe('payOrder and cancelOrder racing on one order', () => {
  it('never both: either CANCELED with no charge, or PAID and cancel refused (20 rounds)', async () => {
    const { key } = await api.signup();
    const seen = { paid: 0, canceled: 0 };
    for (let round = 0; round < 20; round++) {
      const order = await newOrder(key);
      const [pay, cancel] = await Promise.all([
        api.exec(PayOrder, { input: { orderId: order.id, paymentSourceTokens: ['tok_visa'] } }, key),
        api.exec(CancelOrder, { input: { orderId: order.id, reason: 'changed my mind' } }, key),
      ]);
      const read = (await api.exec(GetOrder, { id: order.id }, key)).order!;
      const charges = await chargesOf(order.id);
      if (read.status === 'CANCELED') {
        seen.canceled += 1;
        expect(cancel.cancelOrder.userErrors).toEqual([]);
        expect(pay.payOrder.userErrors.map((e) => e.code)).toEqual(['INVALID_STATE_TRANSITION']);
        expect(charges).toEqual([]);
        expect(read.paymentIntents).toEqual([]);
        expect(read.netAmounts.paidMoney.amount).toBe(0);
      } else {
        seen.paid += 1;
        expect(read.status).toBe('PAID');
        expect(pay.payOrder.userErrors).toEqual([]);
        expect(cancel.cancelOrder.userErrors.map((e) => e.code)).toEqual(['INVALID_STATE_TRANSITION']);
        expect(charges.map((c) => c.status)).toEqual(['SUCCEEDED']);
        expect(read.paymentIntents.map((p) => p.status)).toEqual(['SUCCEEDED']);
        expect(read.activity.filter((a) => a.type === 'order.canceled')).toEqual([]);
      }
    }
    expect(seen.paid + seen.canceled).toBe(20);
  }, 120_000);
});

describe('50 concurrent payOrder calls with idempotency keys mixed in', () => {
  it('charge exactly once; calls sharing a key get one payload', async () => {
    const { key, merchantId } = await api.signup();
    const order = await newOrder(key);
    const keyOf = (i: number) => (i % 2 === 0 ? null : `mixed-${order.id}-${i % 5}`);
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) => api.exec(PayOrder, { input: { orderId: order.id, paymentSourceTokens: ['tok_visa'], idempotencyKey: keyOf(i) } }, key)),
    );
    const charges = await chargesOf(order.id);
    expect(charges.map((c) => c.status)).toEqual(['SUCCEEDED']);
    const read = (await api.exec(GetOrder, { id: order.id }, key)).order!;
    expect(read.status).toBe('PAID');
    expect(read.netAmounts.paidMoney.amount).toBe(3998);
    expect(read.paymentIntents.map((p) => p.status)).toEqual(['SUCCEEDED']);
    expect(read.activity.filter((a) => a.type === 'payment.captured')).toHaveLength(1);
    const winners = results.filter((r) => r.payOrder.userErrors.length === 0);
    expect(winners.length).toBeGreaterThanOrEqual(1);
    for (const w of winners) expect(w.payOrder.paymentIntent).toEqual({ id: read.paymentIntents[0]!.id, status: 'SUCCEEDED' });
    for (const r of results.filter((x) => x.payOrder.userErrors.length > 0)) {
      expect(['NOTHING_TO_PAY', 'PAYMENT_FAILED']).toContain(r.payOrder.userErrors[0]!.code);
    }
    // A key some call claimed is final, and every call with it answered its stored result; a key no call
    // claimed (each was refused before reserving) charged nothing.
    for (let k = 0; k < 5; k++) {
      const name = `mixed-${order.id}-${k}`;
      const calls = results.filter((_, i) => keyOf(i) === name).map((r) => r.payOrder);
      expect(calls.length).toBe(5);
      const row = await storedKey(merchantId, name);
      if (!row) {
        for (const c of calls) expect(c.userErrors.length).toBeGreaterThan(0);
        continue;
      }
      const stored = row.response as { pending: boolean; paymentIntentId: string | null; userErrors: { code: string }[] };
      expect(stored.pending).toBe(false);
      for (const c of calls) {
        expect(c.paymentIntent?.id ?? null).toBe(stored.paymentIntentId);
        expect(c.userErrors.map((e) => e.code)).toEqual(stored.userErrors.map((e) => e.code));
      }
    }
  }, 120_000);
});

describe('coupon limits under racing payments', () => {
  it("a payOrder whose coupon's last use is taken by a concurrent payment of another order gets COUPON_USAGE_LIMIT_REACHED, nothing charged", async () => {
    for (let round = 0; round < 3; round++) {
      const { key } = await api.signup();
      const code = `LAST${round}`;
      expect((await api.exec(CreateCoupon, { input: { code, type: 'PERCENTAGE', percentOff: '10', maxRedemptions: 1 } }, key)).createCoupon.userErrors).toEqual([]);
      const a = await newOrder(key, { couponCodes: [code] });
      const b = await newOrder(key, { couponCodes: [code] });
      const [pa, pb] = await Promise.all(
        [a, b].map((o) => api.exec(PayOrder, { input: { orderId: o.id, paymentSourceTokens: ['tok_visa'] } }, key).then((r) => r.payOrder)),
      );
      const outcomes = [pa!, pb!];
      const paid = outcomes.filter((p) => p.userErrors.length === 0);
      const refused = outcomes.filter((p) => p.userErrors.length > 0);
      expect(paid).toHaveLength(1);
      expect(paid[0]!.order!.status).toBe('PAID');
      expect(refused).toHaveLength(1);
      expect(refused[0]!.userErrors.map((e) => e.code)).toEqual(['COUPON_USAGE_LIMIT_REACHED']);
      expect(refused[0]!.userErrors[0]!.message).toContain(`Coupon "${code}" has been used 1 time(s), its limit (maxRedemptions 1)`);
      expect(refused[0]!.order!.status).toBe('OPEN');
      expect(refused[0]!.paymentIntent).toBeNull();
      const loser = refused[0]!.order!.id;
      expect(await chargesOf(loser)).toEqual([]);
      expect((await api.exec(GetOrder, { id: loser }, key)).order!.paymentIntents).toEqual([]);
      expect((await api.exec(ReadCoupon, { code }, key)).coupon!.timesRedeemed).toBe(1);
    }
  }, 120_000);
});

describe('the final result is stored with the outcome', () => {
  it('after payOrder with a key returns, its key is not pending (success, and every token failing)', async () => {
    const { key, merchantId } = await api.signup();
    const paid = await newOrder(key);
    const ok = (await api.exec(PayOrder, { input: { orderId: paid.id, paymentSourceTokens: ['tok_visa'], idempotencyKey: `final-${paid.id}` } }, key)).payOrder;
    expect(ok.userErrors).toEqual([]);
    expect((await storedKey(merchantId, `final-${paid.id}`))?.response).toEqual({ orderId: paid.id, paymentIntentId: ok.paymentIntent!.id, userErrors: [], pending: false });

    const declined = await newOrder(key);
    const failed = (
      await api.exec(PayOrder, { input: { orderId: declined.id, paymentSourceTokens: ['tok_chargeDeclined', 'tok_chargeDeclinedExpiredCard'], idempotencyKey: `final-${declined.id}` } }, key)
    ).payOrder;
    expect(failed.userErrors.map((e) => e.code)).toEqual(['PAYMENT_DECLINED', 'PAYMENT_DECLINED']);
    const stored = (await storedKey(merchantId, `final-${declined.id}`))?.response as { pending: boolean; userErrors: { code: string; message: string }[]; paymentIntentId: string };
    expect(stored.pending).toBe(false);
    expect(stored.paymentIntentId).toBe(failed.paymentIntent!.id);
    expect(stored.userErrors.map((e) => e.message)).toEqual(failed.userErrors.map((e) => e.message));
  });

  it('settlePendingKeys finishes a pending payOrder key: one whose intent is settled, and one whose answer was lost', async () => {
    const { key, merchantId } = await api.signup();
    const deps: Deps = { db: api.db, clock: systemClock, paymentProcessor: lossy };
    const old = new Date(Date.now() - 2 * 60 * 60 * 1000);

    // A key left pending while its intent is settled (a call of an older version, say).
    const settled = await newOrder(key);
    const paid = (await api.exec(PayOrder, { input: { orderId: settled.id, paymentSourceTokens: ['tok_visa'], idempotencyKey: `pending-${settled.id}` } }, key)).payOrder;
    await api.db.idempotencyKey.updateMany({
      where: { merchantId, key: `pending-${settled.id}` },
      data: { response: { orderId: settled.id, paymentIntentId: paid.paymentIntent!.id, userErrors: [], pending: true }, createdAt: old },
    });

    // A key whose call died after the processor charged: the intent is still PROCESSING.
    const lost = await newOrder(key);
    lossy.loseNextAnswer = true;
    const died = await api.request(PayOrder, { input: { orderId: lost.id, paymentSourceTokens: ['tok_visa'], idempotencyKey: `pending-${lost.id}` } }, key);
    expect(died.errors?.[0]?.message).toBe('Unexpected error.');
    expect((await api.exec(GetOrder, { id: lost.id }, key)).order!.paymentIntents.map((p) => p.status)).toEqual(['PROCESSING']);
    expect(((await storedKey(merchantId, `pending-${lost.id}`))?.response as { pending: boolean }).pending).toBe(true);
    await api.db.idempotencyKey.updateMany({ where: { merchantId, key: `pending-${lost.id}` }, data: { createdAt: old } });

    const result = await settlePendingKeys(deps, 60 * 60 * 1000);
    expect(result.settled).toBeGreaterThanOrEqual(2);

    expect((await storedKey(merchantId, `pending-${settled.id}`))?.response).toEqual({ orderId: settled.id, paymentIntentId: paid.paymentIntent!.id, userErrors: [], pending: false });
    const recovered = (await api.exec(GetOrder, { id: lost.id }, key)).order!;
    expect(recovered.status).toBe('PAID');
    expect(recovered.paymentIntents.map((p) => p.status)).toEqual(['SUCCEEDED']);
    expect((await storedKey(merchantId, `pending-${lost.id}`))?.response).toEqual({ orderId: lost.id, paymentIntentId: recovered.paymentIntents[0]!.id, userErrors: [], pending: false });
    expect(await chargesOf(lost.id)).toHaveLength(1);

    // The client's retry with the key now gets the final result, and nothing is charged again.
    const retried = (await api.exec(PayOrder, { input: { orderId: lost.id, paymentSourceTokens: ['tok_visa'], idempotencyKey: `pending-${lost.id}` } }, key)).payOrder;
    expect(retried.userErrors).toEqual([]);
    expect(retried.paymentIntent).toEqual({ id: recovered.paymentIntents[0]!.id, status: 'SUCCEEDED' });
    expect(await chargesOf(lost.id)).toHaveLength(1);
  });
});

describe('the database backstop', () => {
  it('refuses a second open payment intent of one order, and allows it once the first is settled', async () => {
    const { key, merchantId } = await api.signup();
    const order = await newOrder(key);
    const insert = (id: string, status: string) =>
      api.db.$executeRawUnsafe(
        `INSERT INTO "PaymentIntent" ("id", "merchantId", "livemode", "orderId", "amount", "currency", "status", "processor", "processorIdempotencyKey", "paymentSourceToken")
         VALUES ($1, $2, false, $3, 3998, 'USD', $4::"PaymentIntentStatus", 'SANDBOX', $5, 'tok_visa')`,
        id,
        merchantId,
        order.id,
        status,
        `flint_pi_${id}_attempt`,
      );
    const first = `pi_backstop_${order.id}_1`;
    await insert(first, 'PROCESSING');
    await expect(insert(`pi_backstop_${order.id}_2`, 'PROCESSING')).rejects.toThrow(/already has an open payment intent/);
    await expect(insert(`pi_backstop_${order.id}_3`, 'REQUIRES_ACTION')).rejects.toThrow(/already has an open payment intent/);
    // A settled attempt next to it is fine; so is a new open one once the first is settled.
    await insert(`pi_backstop_${order.id}_4`, 'FAILED');
    await api.db.$executeRawUnsafe(`UPDATE "PaymentIntent" SET "status" = 'FAILED' WHERE "id" = $1`, first);
    await insert(`pi_backstop_${order.id}_5`, 'PROCESSING');
    await expect(api.db.$executeRawUnsafe(`UPDATE "PaymentIntent" SET "status" = 'PROCESSING' WHERE "id" = $1`, first)).rejects.toThrow(/already has an open payment intent/);
    // Leave nothing open for start-up reconciliation in other tests to find.
    await api.db.$executeRawUnsafe(`UPDATE "PaymentIntent" SET "status" = 'FAILED' WHERE "orderId" = $1`, order.id);
  });
});
