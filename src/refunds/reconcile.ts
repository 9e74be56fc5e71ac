// Reconciliation: asking the processor about refunds that wait for an answer, and recording it through
// the same record write as createRefund (record.ts).
//
// A process that dies between reserving a refund and recording the processor's answer leaves a PENDING
// refund (and createRefund's idempotency key pending). It is reconciled at start-up
// (reconcilePendingRefunds), by the next createRefund/closeOrder of the order (settleWaitingRefunds), and
// by settlePendingKeys through the recovery registered here: the processor is asked about the refund's
// key (askOrResend: if it never saw it, the very same request is sent again under the same key, so
// nothing is ever refunded twice), and the answer is recorded together with the createRefund call's
// final result when its key is still pending.
import type { Actor, Deps, Scope } from '../kernel/context.js';
import { readRows } from '../kernel/rows.js';
import { finishKey, registerRecovery, type PendingKey } from '../kernel/pending-result.js';
import { sqlPool } from '../db/prisma.js';
import { processorOf } from '../payments/index.js';
import { CREATE_REFUND, finalResultOf, readRefund, REFUND_ACTOR, type RefundRow, type StoredRefundResult } from './model.js';
import { askProcessorAboutRefund } from './processor-calls.js';
import { recordRefundAnswer, type FinishOf } from './record.js';

/** How long a PENDING refund without a processor answer may be in flight before a later call asks the processor about it. */
export const IN_FLIGHT_MS = 60_000;

const KEY_SQL = 'SELECT "operation", "response" FROM "IdempotencyKey" WHERE "merchantId" = $1 AND "livemode" = $2 AND "key" = $3';

/** The finish of the createRefund call that made `refund`, if its key is still pending. */
async function pendingCallFinish(deps: Deps, refund: RefundRow): Promise<FinishOf | undefined> {
  const key = refund.requestKey;
  if (!key) return undefined;
  const [row] = await readRows<{ operation: string; response: StoredRefundResult | null }>(sqlPool(deps.db), 'flint_refund_request_key', KEY_SQL, [refund.merchantId, refund.livemode, key]);
  if (!row || row.operation !== CREATE_REFUND || !row.response?.pending || row.response.refundId !== refund.id) return undefined;
  return (after) => {
    const recorded = after.get(refund.id);
    return recorded ? finishKey(key, finalResultOf(recorded)) : null;
  };
}

/** Asks the processor about one PENDING refund and records the answer (and its call's final result). */
export async function refreshRefund(deps: Deps, refundId: string, actor: Actor = REFUND_ACTOR): Promise<RefundRow | null> {
  const refund = await readRefund({ deps }, refundId);
  if (!refund || refund.status !== 'PENDING') return refund;
  const answer = await askProcessorAboutRefund(deps, processorOf(deps), refund);
  const finish = answer.status === 'UNKNOWN' ? undefined : await pendingCallFinish(deps, refund);
  return recordRefundAnswer(deps, refund.id, answer, actor, { finish, paymentIntentId: refund.paymentIntentId });
}

/** Refreshes each refund in turn; never throws (the call that asked goes on with what is recorded). */
export async function settleRefunds(deps: Deps, refundIds: string[]): Promise<void> {
  for (const id of refundIds) {
    try {
      await refreshRefund(deps, id, REFUND_ACTOR);
    } catch (error) {
      console.error(`settling refund ${id} failed`, error);
    }
  }
}

const WAITING_OF_ORDER_SQL = `SELECT "id" FROM "Refund" WHERE "orderId" = $1 AND "merchantId" = $2 AND "livemode" = $3 AND "status" = 'PENDING'
  AND ("processorReference" IS NOT NULL OR "createdAt" < $4) ORDER BY "id"`;

/**
 * The "next call" reconciliation of an order (closeOrder): its PENDING refunds that the processor
 * already answered PENDING, or that have been in flight for over a minute, are asked about again.
 * (createRefund finds them in the state it plans on.) Never throws.
 */
export async function settleWaitingRefundsOfOrder(scope: Scope, orderId: string): Promise<void> {
  try {
    const staleBefore = new Date(scope.deps.clock.now().getTime() - IN_FLIGHT_MS);
    const waiting = await readRows<{ id: string }>(sqlPool(scope.deps.db), 'flint_waiting_refunds_of_order', WAITING_OF_ORDER_SQL, [
      orderId,
      scope.merchantId,
      scope.livemode,
      staleBefore,
    ]);
    await settleRefunds(scope.deps, waiting.map((r) => r.id));
  } catch (error) {
    console.error('settling waiting refunds failed', error);
  }
}

const PENDING_OF_PROCESSOR_SQL = `SELECT "id" FROM "Refund" WHERE "status" = 'PENDING' AND "processor" = $1 ORDER BY "id"`;

/**
 * Start-up pass: every PENDING refund of this server's processor is asked about (a previous process
 * may have died between the processor's answer and our write), and the pending results of their
 * createRefund calls are finished. Safe to run at any time and in several processes at once.
 */
export async function reconcilePendingRefunds(deps: Deps, log: (message: string) => void = () => {}): Promise<{ reconciled: number; stillPending: number }> {
  const processor = processorOf(deps);
  const pending = await readRows<{ id: string }>(sqlPool(deps.db), 'flint_pending_refunds_of_processor', PENDING_OF_PROCESSOR_SQL, [processor.name]);
  let reconciled = 0;
  let stillPending = 0;
  for (const { id } of pending) {
    try {
      const after = await refreshRefund(deps, id, REFUND_ACTOR);
      if (after?.status === 'PENDING') stillPending += 1;
      else reconciled += 1;
      log(`reconciled refund ${id}: ${after?.status ?? 'missing'}`);
    } catch (error) {
      stillPending += 1;
      console.error(`reconciling refund ${id} failed`, error);
    }
  }
  return { reconciled, stillPending };
}

/**
 * settlePendingKeys' recovery of a createRefund key still pending: a PENDING refund is asked about (and
 * recorded with the call's final result); a refund whose outcome was recorded without it (a webhook
 * got there first) gets its final result stored now, guarded by the status it was read with.
 */
export async function recoverCreateRefund(deps: Deps, pending: PendingKey): Promise<void> {
  const stored = pending.response as StoredRefundResult | null;
  if (!stored?.refundId) return;
  const refund = await readRefund({ deps }, stored.refundId);
  if (!refund || refund.merchantId !== pending.merchantId || refund.livemode !== pending.livemode) return;
  if (refund.status === 'PENDING') {
    await refreshRefund(deps, refund.id, REFUND_ACTOR);
    return;
  }
  const finish = await pendingCallFinish(deps, refund);
  if (finish) await recordRefundAnswer(deps, refund.id, { status: 'UNKNOWN', message: 'finishing the call' }, REFUND_ACTOR, { finish });
}

registerRecovery(CREATE_REFUND, recoverCreateRefund);
