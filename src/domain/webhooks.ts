// Stripe webhook events, applied at most once and in any order.
//
// The event row (WebhookEvent, primary key = Stripe's event id) is inserted first, in the same
// transaction that applies the event: a second delivery of the same event waits for the first, finds
// its row, and changes nothing. Applying is the same state transition payOrder uses
// (applyChargeResultInTx), which only moves an open intent forward, so events arriving out of order
// (requires_action after succeeded, payment_failed after succeeded) cannot undo anything.
import type Stripe from 'stripe';
import type { Actor, Deps } from './context.js';
import { applyChargeResultInTx, transaction } from './payments.js';
import { kickOutbox } from './receipts.js';
import { applyStripeRefundEvent, refreshRefund } from '../refunds/index.js';
import { stripeIntentResult } from '../payments/index.js';
import type { Prisma } from '../generated/prisma/client.js';

export type WebhookOutcome = 'applied' | 'unchanged' | 'recorded' | 'ignored' | 'duplicate';

const PAYMENT_EVENTS = new Set([
  'payment_intent.succeeded',
  'payment_intent.payment_failed',
  'payment_intent.requires_action',
  'payment_intent.canceled',
  'payment_intent.processing',
]);

/** Refund events: applied to our refunds (src/domain/refunds.ts); events about refunds we do not know are recorded. */
export const REFUND_EVENTS = new Set(['charge.refunded', 'refund.updated', 'refund.created', 'refund.failed', 'charge.refund.updated']);

export async function handleStripeEvent(deps: Deps, event: Stripe.Event): Promise<{ outcome: WebhookOutcome; paymentIntentId: string | null }> {
  let receiptQueued = false;
  let refresh: string[] = [];
  const result = await transaction(deps, async (tx, at) => {
    const inserted = await tx.webhookEvent.createMany({
      data: [
        {
          id: event.id,
          processor: 'STRIPE',
          type: event.type,
          livemode: event.livemode,
          payload: event as unknown as Prisma.InputJsonValue,
          outcome: 'received',
          receivedAt: at,
        },
      ],
      skipDuplicates: true,
    });
    if (inserted.count === 0) return { outcome: 'duplicate' as const, paymentIntentId: null };

    let outcome: WebhookOutcome = 'ignored';
    let paymentIntentId: string | null = null;
    if (PAYMENT_EVENTS.has(event.type)) {
      const object = event.data.object as Stripe.PaymentIntent;
      const ours = object.metadata?.flint_payment_intent_id;
      const intent = await tx.paymentIntent.findFirst({
        where: {
          processor: 'STRIPE',
          livemode: event.livemode,
          OR: [...(ours ? [{ id: ours }] : []), { processorReference: object.id }],
        },
      });
      if (intent) {
        paymentIntentId = intent.id;
        const actor: Actor = { type: 'WEBHOOK', id: event.id, name: `stripe ${event.type}` };
        const applied = await applyChargeResultInTx(tx, at, deps, intent.id, stripeIntentResult(object), actor);
        receiptQueued = applied.receiptQueued;
        outcome = applied.changed ? 'applied' : 'unchanged';
      }
    } else if (REFUND_EVENTS.has(event.type)) {
      // Same state machine as createRefund's second step: PENDING → SUCCEEDED/FAILED once, FAILED final.
      const applied = await applyStripeRefundEvent(tx, at, deps, event);
      outcome = applied.outcome;
      paymentIntentId = applied.paymentIntentId;
      refresh = applied.refresh;
    }
    await tx.webhookEvent.update({ where: { id: event.id }, data: { outcome } });
    return { outcome, paymentIntentId };
  });
  if (receiptQueued) kickOutbox(deps);
  // charge.refunded without its refund list: ask Stripe about our refunds of that payment still PENDING.
  for (const refundId of refresh) {
    await refreshRefund(deps, refundId, { type: 'WEBHOOK', id: event.id, name: `stripe ${event.type}` }).catch((error: unknown) => console.error(`refreshing refund ${refundId} failed`, error));
  }
  return result;
}
