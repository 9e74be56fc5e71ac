// The processor's side of a refund: the request (always the same for one refund, under its processor
// idempotency key `flint_re_<id>`), sending it outside any write, and asking what became of it.
import type { Deps } from '../kernel/context.js';
import { readRows } from '../kernel/rows.js';
import { askOrResend } from '../kernel/ask-or-resend.js';
import { sqlPool } from '../db/prisma.js';
import type { PaymentProcessor, RefundRequest, RefundResult as ProcessorRefundResult } from '../payments/index.js';
import { REFUND_REPLAY_WINDOW_MS, type PaymentIntentRow, type RefundReason, type RefundRow } from './model.js';

const STRIPE_REASONS: Record<RefundReason, RefundRequest['reason']> = {
  REFUND_REASON_REQUESTED_BY_CUSTOMER: 'requested_by_customer',
  REFUND_REASON_DUPLICATE: 'duplicate',
  REFUND_REASON_FRAUDULENT: 'fraudulent',
  REFUND_REASON_OTHER: null,
};

type IntentRef = Pick<PaymentIntentRow, 'id' | 'processorReference'>;

function refundRequestOf(refund: RefundRow, intent: IntentRef): RefundRequest {
  return {
    idempotencyKey: refund.processorIdempotencyKey,
    refundId: refund.id,
    paymentIntentId: intent.id,
    processorPaymentReference: intent.processorReference ?? '',
    amount: refund.processorAmount,
    currency: refund.currency,
    reason: STRIPE_REASONS[refund.reason],
  };
}

/** Sends the refund; an unreachable processor or a lost answer is UNKNOWN (the key settles it later). */
export async function sendRefund(processor: PaymentProcessor, refund: RefundRow, intent: IntentRef): Promise<ProcessorRefundResult> {
  try {
    return await processor.createRefund(refundRequestOf(refund, intent));
  } catch (error) {
    return { status: 'UNKNOWN', message: error instanceof Error ? error.message : String(error) };
  }
}

const INTENT_REF_SQL = 'SELECT "id", "processorReference" FROM "PaymentIntent" WHERE "id" = $1';

/**
 * What became of a PENDING refund at the processor (askOrResend): its answer about the key; if it never
 * saw the key, the very same request again under the same key (deduped: at most one refund) — unless
 * the processor may have forgotten the key by now; then the refund is given up as interrupted.
 */
export async function askProcessorAboutRefund(deps: Deps, processor: PaymentProcessor, refund: RefundRow): Promise<ProcessorRefundResult> {
  if (refund.processor !== processor.name) {
    return { status: 'UNKNOWN', message: `refund ${refund.id} belongs to ${refund.processor}; this server uses ${processor.name}` };
  }
  const [intent] = await readRows<IntentRef>(sqlPool(deps.db), 'flint_refund_intent_ref', INTENT_REF_SQL, [refund.paymentIntentId]);
  if (!intent) throw new Error(`payment intent ${refund.paymentIntentId} of refund ${refund.id} is missing`);
  return askOrResend<ProcessorRefundResult>({
    ask: () =>
      processor.retrieveRefund({
        idempotencyKey: refund.processorIdempotencyKey,
        processorReference: refund.processorReference,
        refundId: refund.id,
        processorPaymentReference: intent.processorReference,
      }),
    resend: () => sendRefund(processor, refund, intent),
    createdAt: refund.createdAt,
    now: deps.clock.now(),
    replayWindowMs: REFUND_REPLAY_WINDOW_MS,
    interrupted: () => ({ status: 'FAILED', processorReference: null, failureReason: 'processing_interrupted' }),
  });
}
