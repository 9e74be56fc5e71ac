// What the payment feature shares with its neighbours (refunds, webhooks, the checkout page, start-up):
// the processor's key memory, the system actor of reconciliation, the scope of a row's merchant, and
// what can be refunded of a payment. Paying lives in src/payments/ (pay-order.ts, record-charge.ts,
// reconcile.ts).
import type { Actor, Deps, Scope } from '../kernel/context.js';
import type { PaymentIntent as PaymentIntentRow } from '../generated/prisma/client.js';

export type { PaymentIntentRow };

/** Stripe remembers idempotency keys for 24 hours; after that, replaying could make a new charge. */
export const REPLAY_WINDOW_MS = 23 * 60 * 60 * 1000;

export const SYSTEM_ACTOR: Actor = { type: 'SYSTEM', id: null, name: 'payment reconciliation' };

/** A scope acting on the row's merchant and mode (webhooks, the checkout page, start-up). */
export function scopeFor(deps: Deps, row: { merchantId: string; livemode: boolean }, actor: Actor): Scope {
  return { deps, merchantId: row.merchantId, livemode: row.livemode, actor };
}

/** What can still be refunded of a payment: captured minus refunded (pending refunds included). */
export function refundableAmount(intent: Pick<PaymentIntentRow, 'status' | 'amount' | 'refundedAmount'>): bigint {
  if (intent.status !== 'SUCCEEDED') return 0n;
  const left = intent.amount - intent.refundedAmount;
  return left > 0n ? left : 0n;
}
