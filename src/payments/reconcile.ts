// Bringing open payment intents to a settled state when their outcome was not recorded: the process
// died between the processor call and the record, the answer was lost, or a buyer's authentication is
// still pending. The processor is asked about the intent's idempotency key (askOrResend: if it never
// saw the key, the very same request is sent again under it — the processor dedupes, so this never
// charges twice — unless it may have forgotten the key by now), and the answer is recorded through the
// same planner as payOrder's own record (src/payments/record-charge.ts), together with the final result
// of the payOrder call the intent belongs to when its key is still pending.
//
// - Before a new charge, an open intent of the order is settled (settleOpenIntent); a pending
//   authentication is canceled, or found completed.
// - At start-up every PROCESSING intent is reconciled (reconcilePendingPayments), then the recovery
//   registered here finishes any payOrder key still pending whose attempts are all settled
//   (settlePendingKeys, src/kernel/pending-result.ts).
import type { Actor, Deps } from '../kernel/context.js';
import { REPLAY_WINDOW_MS, SYSTEM_ACTOR } from './common.js';
import { askOrResend } from '../kernel/ask-or-resend.js';
import { registerRecovery, type PendingKey } from '../kernel/pending-result.js';
import type { PaymentIntent as PaymentIntentRow } from '../generated/prisma/client.js';
import { processorOf, publicUrlOf, type ChargeRequest, type ChargeResult, type PaymentProcessor, type PaymentRef } from './index.js';
import { finalResultOf, type StoredPayResult } from './attempts.js';
import { attemptsOf, processingIntents, readIntent } from './intent-reads.js';
import { finishCall, recordCharge } from './record-charge.js';

export function chargeRequestOf(deps: Deps, intent: PaymentIntentRow): ChargeRequest {
  return {
    idempotencyKey: intent.processorIdempotencyKey,
    paymentIntentId: intent.id,
    orderId: intent.orderId,
    merchantId: intent.merchantId,
    livemode: intent.livemode,
    amount: intent.amount,
    currency: intent.currency,
    token: intent.paymentSourceToken,
    customerId: intent.customerId,
    returnUrl: intent.checkoutSessionId ? `${publicUrlOf(deps)}/checkout/${intent.checkoutSessionId}` : null,
  };
}

function refOf(intent: PaymentIntentRow): PaymentRef {
  return { idempotencyKey: intent.processorIdempotencyKey, paymentIntentId: intent.id, processorReference: intent.processorReference, createdAt: intent.createdAt };
}

/** What became of a PROCESSING intent at its processor (asked, or the same request sent again). */
export async function askProcessor(deps: Deps, processor: PaymentProcessor, intent: PaymentIntentRow): Promise<ChargeResult> {
  if (intent.processor !== processor.name) {
    // Only the processor that holds the payment can say what became of it (e.g. a STRIPE payment while
    // this server runs the sandbox): leave it open rather than guess.
    return { status: 'UNKNOWN', message: `payment ${intent.id} belongs to ${intent.processor}; this server uses ${processor.name}` };
  }
  return askOrResend<ChargeResult>({
    ask: () => processor.retrievePayment(refOf(intent)),
    resend: () => processor.confirmPayment(chargeRequestOf(deps, intent)),
    createdAt: intent.createdAt,
    now: deps.clock.now(),
    replayWindowMs: REPLAY_WINDOW_MS,
    interrupted: () => ({
      status: 'FAILED',
      processorReference: null,
      kind: 'ERROR',
      failureCode: 'processing_interrupted',
      failureMessage: 'The payment was interrupted before the processor received it; nothing was charged.',
    }),
  });
}

/**
 * Brings an open intent to a settled state before a new charge: PROCESSING → reconciled with the
 * processor; REQUIRES_ACTION → the pending authentication is canceled (or found completed). Returns the
 * intent as it is afterwards (null if it does not exist).
 */
export async function settleOpenIntent(deps: Deps, intentId: string, actor: Actor): Promise<PaymentIntentRow | null> {
  const intent = await readIntent(deps, intentId);
  if (!intent || (intent.status !== 'PROCESSING' && intent.status !== 'REQUIRES_ACTION')) return intent;
  const processor = processorOf(deps);
  if (intent.processor !== processor.name) return intent;
  const result = intent.status === 'REQUIRES_ACTION' ? await processor.cancelPayment(refOf(intent)) : await askProcessor(deps, processor, intent);
  return (await recordCharge(deps, intent, result, { actor, orphan: 'success' })).intent;
}

/**
 * Re-reads one intent's state from the processor and records it (the sandbox authentication page and
 * webhooks call this). Cancels nothing.
 */
export async function refreshPaymentIntent(deps: Deps, intentId: string, actor: Actor): Promise<PaymentIntentRow | null> {
  const intent = await readIntent(deps, intentId);
  if (!intent) return null;
  if (intent.status !== 'PROCESSING' && intent.status !== 'REQUIRES_ACTION') return intent;
  const processor = processorOf(deps);
  if (intent.processor !== processor.name) return intent;
  const result =
    intent.status === 'PROCESSING'
      ? await askProcessor(deps, processor, intent)
      : ((await processor.retrievePayment(refOf(intent))) ?? ({ status: 'UNKNOWN', message: 'not found' } as const));
  return (await recordCharge(deps, intent, result, { actor, orphan: 'success' })).intent;
}

/**
 * Start-up pass: every PROCESSING intent (left by a process that died between the processor's answer and
 * our record) is reconciled with the processor, and the results of the payOrder calls they belonged to
 * are completed. Safe to run at any time and in several processes at once.
 */
export async function reconcilePendingPayments(deps: Deps, log: (message: string) => void = () => {}): Promise<{ reconciled: number; stillOpen: number }> {
  const processor = processorOf(deps);
  const pending = await processingIntents(deps, processor.name);
  let reconciled = 0;
  let stillOpen = 0;
  for (const intent of pending) {
    try {
      const result = await askProcessor(deps, processor, intent);
      const { intent: after } = await recordCharge(deps, intent, result, { actor: SYSTEM_ACTOR, orphan: 'failures' });
      if (after.status === 'PROCESSING') stillOpen += 1;
      else reconciled += 1;
      log(`reconciled payment ${intent.id}: ${after.status}`);
    } catch (error) {
      stillOpen += 1;
      console.error(`reconciling payment ${intent.id} failed`, error);
    }
  }
  return { reconciled, stillOpen };
}

/**
 * The recovery of a payOrder key left pending: its PROCESSING attempts are reconciled (which finishes
 * the key when the last one settles); a key whose attempts were all settled already gets the final
 * result rebuilt from them.
 */
async function recoverPayOrder(deps: Deps, pending: PendingKey): Promise<void> {
  const stored = pending.response as StoredPayResult;
  if (!stored?.orderId) return;
  const attempts = await attemptsOf(deps, pending, stored.orderId, pending.key);
  const processor = processorOf(deps);
  for (const attempt of attempts.filter((a) => a.status === 'PROCESSING' && a.processor === processor.name)) {
    const result = await askProcessor(deps, processor, attempt);
    await recordCharge(deps, attempt, result, { actor: SYSTEM_ACTOR, orphan: 'failures' });
  }
  const settled = await attemptsOf(deps, pending, stored.orderId, pending.key);
  const final = finalResultOf(stored.orderId, settled, true);
  if (final) await finishCall(deps, { merchantId: pending.merchantId, livemode: pending.livemode, actor: SYSTEM_ACTOR }, pending.key, final);
}

registerRecovery('payOrder', recoverPayOrder);
