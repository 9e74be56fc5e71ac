/**
 * Every status change as data (pricing.md §8): the order's transitions caused by the merchant's own
 * actions (TRANSITIONS in lifecycle.ts) and by what a processor reports (ORDER_EVENTS below), and the
 * state machines of payment intents and refunds. Every status write checks its change here first
 * (checkOrderTransition / checkPaymentTransition / checkRefundTransition); a change the tables do not
 * list is a bug, reported as a reason (the writer refuses to write it), never taken silently.
 */
import { TRANSITIONS, type OrderActionType, type OrderStatus } from './lifecycle.js';

/** Things processors report that move an order, whoever asked for them. */
export type OrderEventType = 'PAYMENT_SUCCEEDED' | 'REFUND_SUCCEEDED' | 'REFUND_REVERSED';

export const ORDER_EVENTS: readonly { from: OrderStatus[]; event: OrderEventType; to: OrderStatus[] }[] = [
  // Captured payments cover the total.
  { from: ['OPEN'], event: 'PAYMENT_SUCCEEDED', to: ['PAID'] },
  // A refund the processor confirmed: PARTIALLY_REFUNDED while 0 < refunded < paid, REFUNDED at paid.
  { from: ['PAID', 'PARTIALLY_REFUNDED'], event: 'REFUND_SUCCEEDED', to: ['PARTIALLY_REFUNDED', 'REFUNDED'] },
  // A processor reversed a succeeded refund: the status follows the amounts again.
  { from: ['PARTIALLY_REFUNDED', 'REFUNDED'], event: 'REFUND_REVERSED', to: ['PARTIALLY_REFUNDED', 'PAID'] },
];

export type OrderCause = OrderActionType | OrderEventType;

/** Why the order may not go from `from` to `to` because of `cause`, or null when the tables list it. Staying put is always allowed. */
export function checkOrderTransition(from: OrderStatus, cause: OrderCause, to: OrderStatus): string | null {
  if (from === to) return null;
  const rows = [...TRANSITIONS.map((t) => ({ from: t.from, cause: t.action as OrderCause, to: t.to })), ...ORDER_EVENTS.map((e) => ({ from: e.from, cause: e.event as OrderCause, to: e.to }))];
  if (rows.some((r) => r.cause === cause && r.from.includes(from) && r.to.includes(to))) return null;
  return `the lifecycle has no transition ${from} → ${to} on ${cause}`;
}

/** Why no cause at all moves an order from `from` to `to`, or null when some row of the tables does. */
export function checkOrderStatusChange(from: OrderStatus, to: OrderStatus): string | null {
  if (from === to) return null;
  const causes = [...TRANSITIONS.map((t) => ({ from: t.from, to: t.to })), ...ORDER_EVENTS];
  return causes.some((r) => r.from.includes(from) && r.to.includes(to)) ? null : `the lifecycle has no transition ${from} → ${to}`;
}

/** The statuses a new row starts in (an order is created OPEN; a refund to no processor succeeds at once). */
export const INITIAL_STATUSES = {
  Order: ['OPEN'],
  PaymentIntent: ['PROCESSING'],
  Refund: ['PENDING', 'SUCCEEDED'],
} as const;

export type PaymentIntentStatus = 'PROCESSING' | 'REQUIRES_ACTION' | 'SUCCEEDED' | 'FAILED' | 'CANCELED';

/** A payment intent's states. A success reported late still wins (the money was captured). */
export const PAYMENT_TRANSITIONS: readonly { from: PaymentIntentStatus; to: PaymentIntentStatus[] }[] = [
  { from: 'PROCESSING', to: ['REQUIRES_ACTION', 'SUCCEEDED', 'FAILED', 'CANCELED'] },
  { from: 'REQUIRES_ACTION', to: ['SUCCEEDED', 'FAILED', 'CANCELED'] },
  { from: 'FAILED', to: ['SUCCEEDED'] },
  { from: 'CANCELED', to: ['SUCCEEDED'] },
  { from: 'SUCCEEDED', to: [] },
];

export type RefundStatus = 'PENDING' | 'SUCCEEDED' | 'FAILED';

/** A refund's states. FAILED is final; a processor may reverse a success (SUCCEEDED → FAILED). */
export const REFUND_TRANSITIONS: readonly { from: RefundStatus; to: RefundStatus[] }[] = [
  { from: 'PENDING', to: ['SUCCEEDED', 'FAILED'] },
  { from: 'SUCCEEDED', to: ['FAILED'] },
  { from: 'FAILED', to: [] },
];

function check<S extends string>(table: readonly { from: S; to: S[] }[], kind: string, from: S, to: S): string | null {
  if (from === to) return null;
  return table.some((t) => t.from === from && t.to.includes(to)) ? null : `a ${kind} cannot go from ${from} to ${to}`;
}

export function checkPaymentTransition(from: PaymentIntentStatus, to: PaymentIntentStatus): string | null {
  return check(PAYMENT_TRANSITIONS, 'payment intent', from, to);
}

export function checkRefundTransition(from: RefundStatus, to: RefundStatus): string | null {
  return check(REFUND_TRANSITIONS, 'refund', from, to);
}
