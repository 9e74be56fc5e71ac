// Stripe refund events: refund.created / refund.updated / refund.failed / charge.refund.updated carry a
// Refund; charge.refunded carries the Charge (with its refunds when Stripe includes them). Each is
// planned into the same record write createRefund's second step uses (record.ts), so every state
// change happens once whatever the order of delivery: the webhook handler adds its WebhookEvent row to
// the write and submits it; a refused write means the refunds moved meanwhile — plan the event again.
import type Stripe from 'stripe';
import type { Actor, Deps } from '../kernel/context.js';
import { readRows } from '../kernel/rows.js';
import type { Write } from '../kernel/writer.js';
import { sqlPool } from '../db/prisma.js';
import { stripeRefundResult } from '../payments/index.js';
import { loadRecordState } from './model.js';
import { planRecords, type RefundAnswer } from './record.js';

export const STRIPE_REFUND_EVENTS = new Set(['charge.refunded', 'refund.updated', 'refund.created', 'refund.failed', 'charge.refund.updated']);

export interface StripeRefundEventPlan {
  outcome: 'applied' | 'unchanged' | 'recorded' | 'ignored';
  paymentIntentId: string | null;
  /** Our PENDING refunds to ask Stripe about after commit (charge.refunded without its refund list). */
  refresh: string[];
  /** null when nothing changes. */
  write: Omit<Write, 'at'> | null;
}

const INTENT_SQL = `SELECT "id" FROM "PaymentIntent" WHERE "processor" = 'STRIPE' AND "livemode" = $1 AND "processorReference" = $2 LIMIT 1`;
const WAITING_SQL = `SELECT "id" FROM "Refund" WHERE "paymentIntentId" = $1 AND "status" = 'PENDING' ORDER BY "id"`;
const MATCH_SQL = `SELECT "id", "processorReference", "paymentIntentId" FROM "Refund"
  WHERE "processor" = 'STRIPE' AND "livemode" = $1 AND ("id" = ANY($2::text[]) OR "processorReference" = ANY($3::text[]))`;

/** Plans a Stripe refund event at `at`: what it changes, as one write (merchant and mode set). */
export async function planStripeRefundEvent(deps: Deps, event: Stripe.Event, at: Date): Promise<StripeRefundEventPlan> {
  if (!STRIPE_REFUND_EVENTS.has(event.type)) return { outcome: 'ignored', paymentIntentId: null, refresh: [], write: null };
  const pool = sqlPool(deps.db);
  const actor: Actor = { type: 'WEBHOOK', id: event.id, name: `stripe ${event.type}` };
  const objects: Stripe.Refund[] = [];
  const refresh: string[] = [];
  let paymentIntentId: string | null = null;
  if (event.type === 'charge.refunded') {
    const charge = event.data.object as Stripe.Charge;
    const listed = (charge.refunds as { data?: Stripe.Refund[] } | null | undefined)?.data;
    if (listed && listed.length > 0) objects.push(...listed);
    else if (typeof charge.payment_intent === 'string') {
      const [intent] = await readRows<{ id: string }>(pool, 'flint_stripe_refund_intent', INTENT_SQL, [event.livemode, charge.payment_intent]);
      if (intent) {
        paymentIntentId = intent.id;
        const waiting = await readRows<{ id: string }>(pool, 'flint_stripe_waiting_refunds', WAITING_SQL, [intent.id]);
        refresh.push(...waiting.map((r) => r.id));
      }
    }
  } else {
    objects.push(event.data.object as Stripe.Refund);
  }
  if (objects.length === 0) return { outcome: 'recorded', paymentIntentId, refresh, write: null };

  // Our refund behind each Stripe Refund: by our metadata (flint_refund_id), else by Stripe's id.
  const ours = objects.map((o) => o.metadata?.flint_refund_id).filter((id): id is string => typeof id === 'string' && id.length > 0);
  const candidates = await readRows<{ id: string; processorReference: string | null; paymentIntentId: string }>(pool, 'flint_stripe_refund_match', MATCH_SQL, [
    event.livemode,
    ours,
    objects.map((o) => o.id),
  ]);
  const answers: RefundAnswer[] = [];
  for (const object of objects) {
    const wanted = object.metadata?.flint_refund_id;
    const match = (wanted ? candidates.find((c) => c.id === wanted) : undefined) ?? candidates.find((c) => c.processorReference === object.id);
    if (!match) continue;
    paymentIntentId = match.paymentIntentId;
    answers.push({ refundId: match.id, result: stripeRefundResult(object) });
  }
  if (answers.length === 0) return { outcome: 'recorded', paymentIntentId, refresh, write: null };
  const state = await loadRecordState({ deps }, answers.map((a) => a.refundId));
  if (!state) return { outcome: 'recorded', paymentIntentId, refresh, write: null };
  const plan = planRecords(deps, state, answers, at, actor, null);
  return { outcome: plan.changed ? 'applied' : 'unchanged', paymentIntentId, refresh, write: plan.write };
}
