// What the payment feature shares with its neighbours (refunds, webhooks, the checkout page, start-up):
// the processor's key memory, the system actor of reconciliation, the scope of a row's merchant, and
// reading payment intents. Paying lives in src/payments/ (pay-order.ts, record-charge.ts, reconcile.ts).
//
// `transaction` is the Prisma interactive transaction the refunds feature still runs its steps in (and
// Stripe refund webhooks through it) until it is on the write path; nothing of the payment feature
// uses it.
import type { Actor, Deps, Scope, Tx } from './context.js';
import type { ActivityRow } from './activity.js';
import { trackActivity } from './audit.js';
import type { PaymentIntent as PaymentIntentRow } from '../generated/prisma/client.js';

export type { PaymentIntentRow };

/** Stripe remembers idempotency keys for 24 hours; after that, replaying could make a new charge. */
export const REPLAY_WINDOW_MS = 23 * 60 * 60 * 1000;

export const SYSTEM_ACTOR: Actor = { type: 'SYSTEM', id: null, name: 'payment reconciliation' };

/** A scope acting on the row's merchant and mode (webhooks, the checkout page, start-up). */
export function scopeFor(deps: Deps, row: { merchantId: string; livemode: boolean }, actor: Actor): Scope {
  return { deps, merchantId: row.merchantId, livemode: row.livemode, actor };
}

/** A Prisma interactive transaction whose activity is published after commit (refunds only; see above). */
export async function transaction<T>(deps: Deps, fn: (tx: Tx, at: Date) => Promise<T>): Promise<T> {
  let recorded: ActivityRow[] = [];
  const result = await deps.db.$transaction(
    async (tx) => {
      recorded = trackActivity(tx);
      return fn(tx, deps.clock.now());
    },
    { maxWait: 10_000, timeout: 30_000 },
  );
  if (deps.events && recorded.length > 0) {
    await deps.events.publishActivity(recorded).catch((error: unknown) => console.error('publishing payment activity failed', error));
  }
  return result;
}

/** What can still be refunded of a payment: captured minus refunded (pending refunds included). */
export function refundableAmount(intent: Pick<PaymentIntentRow, 'status' | 'amount' | 'refundedAmount'>): bigint {
  if (intent.status !== 'SUCCEEDED') return 0n;
  const left = intent.amount - intent.refundedAmount;
  return left > 0n ? left : 0n;
}
