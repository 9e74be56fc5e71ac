// Stripe webhook events, applied at most once and in any order.
//
// Each event is planned outside any transaction and written in ONE write together with its event row
// (WebhookEvent, primary key = Stripe's event id): an event already recorded is a duplicate and changes
// nothing; two deliveries racing each other both plan, the second write fails on the event's key, is
// refused, and its plan again finds the event recorded. Payment events apply through the record
// planner payOrder itself uses (src/payments/record-charge.ts), which only moves an open intent
// forward (a late success aside), so events arriving out of order (requires_action after succeeded,
// payment_failed after succeeded) cannot undo anything. Refund events are planned by the refunds
// feature (planStripeRefundEvent) and their event row joins that write.
import type Stripe from 'stripe';
import type { Actor, Deps } from '../kernel/context.js';
import { kickOutbox } from './receipts.js';
import { scopeFor } from './common.js';
import { planStripeRefundEvent, refreshRefund } from '../refunds/index.js';
import { readRows } from '../kernel/rows.js';
import { submitWrite } from '../kernel/write-path.js';
import type { Op, Write } from '../kernel/writer.js';
import { sqlPool } from '../db/prisma.js';
import type { PaymentIntent as PaymentIntentRow } from '../generated/prisma/client.js';
import { stripeIntentResult } from './index.js';
import { planChargeRecord } from './record-charge.js';

export type WebhookOutcome = 'applied' | 'unchanged' | 'recorded' | 'ignored' | 'duplicate';

const PAYMENT_EVENTS = new Set([
  'payment_intent.succeeded',
  'payment_intent.payment_failed',
  'payment_intent.requires_action',
  'payment_intent.canceled',
  'payment_intent.processing',
]);

/** Refund events: applied to our refunds (src/refunds/); events about refunds we do not know are recorded. */
export const REFUND_EVENTS = new Set(['charge.refunded', 'refund.updated', 'refund.created', 'refund.failed', 'charge.refund.updated']);

const EVENT_SQL = 'SELECT "id" FROM "WebhookEvent" WHERE "id" = $1';
const INTENT_SQL = `SELECT * FROM "PaymentIntent" WHERE "processor" = 'STRIPE' AND "livemode" = $1 AND ("id" = $2 OR "processorReference" = $3) ORDER BY "id" LIMIT 1`;
const MAX_PLANS = 25;

function eventRow(event: Stripe.Event, outcome: WebhookOutcome, at: Date): Op {
  return {
    kind: 'insert',
    table: 'WebhookEvent',
    rows: [{ id: event.id, processor: 'STRIPE', type: event.type, livemode: event.livemode, payload: event, outcome, receivedAt: at }],
  };
}

interface EventPlan {
  outcome: WebhookOutcome;
  paymentIntentId: string | null;
  write: Write;
  receiptQueued: boolean;
  refresh: string[];
}

/** A write holding only the event row (an event that changes nothing of ours). */
function eventOnly(event: Stripe.Event, outcome: WebhookOutcome, at: Date, paymentIntentId: string | null, refresh: string[] = []): EventPlan {
  return {
    outcome,
    paymentIntentId,
    receiptQueued: false,
    refresh,
    write: { merchantId: '', livemode: event.livemode, at, ops: [eventRow(event, outcome, at)], activity: [] },
  };
}

async function planEvent(deps: Deps, event: Stripe.Event, at: Date, actor: Actor): Promise<EventPlan> {
  if (PAYMENT_EVENTS.has(event.type)) {
    const object = event.data.object as Stripe.PaymentIntent;
    const ours = object.metadata?.flint_payment_intent_id ?? null;
    const [intent] = await readRows<PaymentIntentRow>(sqlPool(deps.db), 'flint_webhook_intent', INTENT_SQL, [event.livemode, ours, object.id]);
    if (!intent) return eventOnly(event, 'ignored', at, null);
    const plan = await planChargeRecord(deps, intent, stripeIntentResult(object), at, {
      actor,
      extraOps: (changed) => [eventRow(event, changed ? 'applied' : 'unchanged', at)],
    });
    return { outcome: plan.changed ? 'applied' : 'unchanged', paymentIntentId: intent.id, write: plan.write!, receiptQueued: plan.receiptQueued, refresh: [] };
  }
  if (REFUND_EVENTS.has(event.type)) {
    // Same state machine as createRefund's second step: PENDING → SUCCEEDED/FAILED once, FAILED final.
    const planned = await planStripeRefundEvent(deps, event, at);
    if (!planned.write) return eventOnly(event, planned.outcome, at, planned.paymentIntentId, planned.refresh);
    return {
      outcome: planned.outcome,
      paymentIntentId: planned.paymentIntentId,
      receiptQueued: false,
      refresh: planned.refresh,
      write: { ...planned.write, at, ops: [...(planned.write.ops ?? []), eventRow(event, planned.outcome, at)] },
    };
  }
  return eventOnly(event, 'ignored', at, null);
}

export async function handleStripeEvent(deps: Deps, event: Stripe.Event): Promise<{ outcome: WebhookOutcome; paymentIntentId: string | null }> {
  const actor: Actor = { type: 'WEBHOOK', id: event.id, name: `stripe ${event.type}` };
  for (let attempt = 0; attempt < MAX_PLANS; attempt++) {
    const seen = await readRows<{ id: string }>(sqlPool(deps.db), 'flint_webhook_event', EVENT_SQL, [event.id]);
    if (seen.length > 0) return { outcome: 'duplicate', paymentIntentId: null };
    const plan = await planEvent(deps, event, deps.clock.now(), actor);
    const written = await submitWrite(scopeFor(deps, plan.write, actor), plan.write);
    if (!written.ok) {
      // The event was recorded meanwhile, or what it changes moved on: plan it again.
      if (attempt >= 2) await new Promise((resolve) => setTimeout(resolve, Math.random() * 2 * attempt));
      continue;
    }
    if (plan.receiptQueued) kickOutbox(deps);
    // charge.refunded without its refund list: ask Stripe about our refunds of that payment still PENDING.
    for (const refundId of plan.refresh) {
      await refreshRefund(deps, refundId, actor).catch((error: unknown) => console.error(`refreshing refund ${refundId} failed`, error));
    }
    return { outcome: plan.outcome, paymentIntentId: plan.paymentIntentId };
  }
  throw new Error(`Stripe event ${event.id} kept being refused`);
}
