// The sandbox processor at the adapter level, on the real database: one charge per idempotency key
// (replays and concurrent duplicates included), a key reused with other parameters refused, test mode
// only, and refunds through the same interface — immediate for ordinary cards, PENDING then FAILED for
// tok_refundFail, never more than the charge.
import { afterAll, describe, expect, it } from 'vitest';
import { createPrisma } from '../../src/db/prisma.js';
import { SandboxProcessor } from '../../src/payments/sandbox.js';
import type { ChargeRequest, RefundRequest } from '../../src/kernel/processor.js';
import { testDatabaseUrl } from '../support/db.js';
import { ulid } from '../../src/ids.js';

const db = createPrisma(testDatabaseUrl());
const sandbox = new SandboxProcessor(db, { publicUrl: () => 'http://flint.test' });
afterAll(() => db.$disconnect());

function charge(token: string, extra: Partial<ChargeRequest> = {}): ChargeRequest {
  const paymentIntentId = `pi_${ulid()}`;
  return {
    idempotencyKey: `flint_pi_${paymentIntentId}_attempt`,
    paymentIntentId,
    orderId: `ord_${ulid()}`,
    merchantId: `mer_${ulid()}`,
    livemode: false,
    amount: 5000n,
    currency: 'USD',
    token,
    customerId: null,
    returnUrl: null,
    ...extra,
  };
}

function refund(reference: string, amount: bigint, key = `flint_re_re_${ulid()}`): RefundRequest {
  return { idempotencyKey: key, refundId: key.replace('flint_re_', ''), paymentIntentId: 'pi_x', processorPaymentReference: reference, amount, currency: 'USD', reason: null };
}

async function paid(token = 'tok_visa'): Promise<string> {
  const result = await sandbox.confirmPayment(charge(token));
  if (result.status !== 'SUCCEEDED') throw new Error(`expected success, got ${result.status}`);
  return result.processorReference;
}

describe('SandboxProcessor payments', () => {
  it('one charge per key: a replay returns the first result; 20 concurrent duplicates make one charge', async () => {
    const req = charge('tok_visa');
    const first = await sandbox.confirmPayment(req);
    expect(await sandbox.confirmPayment(req)).toEqual(first);
    expect(await db.sandboxCharge.count({ where: { idempotencyKey: req.idempotencyKey } })).toBe(1);

    const racing = charge('tok_mastercard');
    const results = await Promise.all(Array.from({ length: 20 }, () => sandbox.confirmPayment(racing)));
    expect(new Set(results.map((r) => JSON.stringify(r))).size).toBe(1);
    expect(await db.sandboxCharge.count({ where: { idempotencyKey: racing.idempotencyKey } })).toBe(1);
  });

  it('refuses a key reused with different parameters, as Stripe does', async () => {
    const req = charge('tok_visa');
    await sandbox.confirmPayment(req);
    const reused = await sandbox.confirmPayment({ ...req, amount: 9999n });
    expect(reused).toMatchObject({ status: 'FAILED', failureCode: 'idempotency_error', kind: 'ERROR' });
  });

  it('takes test payments only', async () => {
    expect(await sandbox.confirmPayment(charge('tok_visa', { livemode: true }))).toMatchObject({ status: 'FAILED', failureCode: 'livemode_not_supported' });
  });

  it('retrieves by key (null when never seen) and cancels only a pending authentication', async () => {
    const req = charge('tok_threeDSecure2Required');
    const ref = { idempotencyKey: req.idempotencyKey, paymentIntentId: req.paymentIntentId, processorReference: null, createdAt: new Date() };
    expect(await sandbox.retrievePayment(ref)).toBeNull();
    const pending = await sandbox.confirmPayment(req);
    expect(pending).toMatchObject({ status: 'REQUIRES_ACTION', actionUrl: expect.stringMatching(/^http:\/\/flint\.test\/sandbox\/3ds\/sbch_/) });
    expect(await sandbox.retrievePayment(ref)).toEqual(pending);
    expect(await sandbox.cancelPayment(ref)).toMatchObject({ status: 'CANCELED' });
    // Completing the authentication after the cancel changes nothing.
    const id = (pending as { processorReference: string }).processorReference;
    expect((await sandbox.authenticate(id, 'complete'))!.changed).toBe(false);
    expect(await sandbox.retrievePayment(ref)).toMatchObject({ status: 'CANCELED' });
    // Canceling a succeeded payment returns it as it is.
    const done = charge('tok_visa');
    await sandbox.confirmPayment(done);
    expect(await sandbox.cancelPayment({ ...ref, idempotencyKey: done.idempotencyKey })).toMatchObject({ status: 'SUCCEEDED' });
  });
});

describe('SandboxProcessor refunds', () => {
  it('refunds an ordinary card at once; a replayed key returns the same refund', async () => {
    const reference = await paid();
    const req = refund(reference, 1500n);
    const result = await sandbox.createRefund(req);
    expect(result).toEqual({ status: 'SUCCEEDED', processorReference: expect.stringMatching(/^sbre_/) });
    expect(await sandbox.createRefund(req)).toEqual(result);
    expect(await sandbox.retrieveRefund({ idempotencyKey: req.idempotencyKey, processorReference: null })).toEqual(result);
    expect(await db.sandboxRefund.count({ where: { chargeId: reference } })).toBe(1);
  });

  it('tok_refundFail: the refund starts PENDING and fails later', async () => {
    const reference = await paid('tok_refundFail');
    const req = refund(reference, 5000n);
    const created = await sandbox.createRefund(req);
    expect(created).toEqual({ status: 'PENDING', processorReference: expect.stringMatching(/^sbre_/) });
    const later = await sandbox.retrieveRefund({ idempotencyKey: req.idempotencyKey, processorReference: null });
    expect(later).toEqual({ status: 'FAILED', processorReference: (created as { processorReference: string }).processorReference, failureReason: 'expired_or_canceled_card' });
    // A failed refund gives its amount back: the whole charge can be refunded again (and fails again).
    expect((await sandbox.createRefund(refund(reference, 5000n))).status).toBe('PENDING');
  });

  it('never refunds more than the charge, even when refunds race', async () => {
    const reference = await paid();
    const results = await Promise.all(Array.from({ length: 12 }, () => sandbox.createRefund(refund(reference, 1000n))));
    expect(results.filter((r) => r.status === 'SUCCEEDED')).toHaveLength(5);
    expect(results.filter((r) => r.status === 'FAILED')).toHaveLength(7);
    expect(results.find((r) => r.status === 'FAILED')).toMatchObject({ failureReason: 'amount_too_large' });
    const total = await db.sandboxRefund.aggregate({ where: { chargeId: reference, status: 'SUCCEEDED' }, _sum: { amount: true } });
    expect(total._sum.amount).toBe(5000n);
  });

  it('refuses to refund a payment that did not succeed, or an unknown one', async () => {
    const declined = await sandbox.confirmPayment(charge('tok_chargeDeclined'));
    const reference = (declined as { processorReference: string }).processorReference;
    expect(await sandbox.createRefund(refund(reference, 100n))).toEqual({ status: 'FAILED', processorReference: null, failureReason: 'charge_not_refundable' });
    expect(await sandbox.createRefund(refund('sbch_missing', 100n))).toMatchObject({ status: 'FAILED', failureReason: 'charge_not_refundable' });
    expect(await sandbox.retrieveRefund({ idempotencyKey: 'never-seen', processorReference: null })).toBeNull();
  });
});
