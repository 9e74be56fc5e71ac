// The audit trail: one typed constructor per event type, written by the same write as the change it
// records (src/kernel/writer.ts). The table is append-only (a database trigger refuses UPDATE and DELETE).
import type { Actor, Scope } from '../kernel/context.js';
import { newId } from '../ids.js';
import { toJson, type Json } from '../kernel/json.js';

export interface ActivityEntry {
  type: string;
  orderId: string | null;
  delta: Json;
}

type Snapshot = Record<string, unknown>;

function change(before: Snapshot | null, after: Snapshot | null): Json {
  return toJson({ before, after });
}

/** The event types Flint records. Each builds the entry for one kind of change. */
export const Activities = {
  merchantCreated: (merchant: Snapshot): ActivityEntry => ({ type: 'merchant.created', orderId: null, delta: change(null, merchant) }),
  apiKeyCreated: (key: Snapshot): ActivityEntry => ({ type: 'api_key.created', orderId: null, delta: change(null, key) }),
  apiKeyRevoked: (key: Snapshot): ActivityEntry => ({ type: 'api_key.revoked', orderId: null, delta: change({ revokedAt: null }, key) }),
  taxRegistrationAdded: (reg: Snapshot): ActivityEntry => ({ type: 'tax_registration.added', orderId: null, delta: change(null, reg) }),
  taxRegistrationRemoved: (reg: Snapshot): ActivityEntry => ({ type: 'tax_registration.removed', orderId: null, delta: change(reg, null) }),
  taxRateSet: (before: Snapshot | null, after: Snapshot): ActivityEntry => ({ type: 'tax_rate.set', orderId: null, delta: change(before, after) }),

  orderCreated: (orderId: string, after: Snapshot): ActivityEntry => ({ type: 'order.created', orderId, delta: change(null, after) }),
  lineItemsAdded: (orderId: string, before: Snapshot, after: Snapshot): ActivityEntry => ({
    type: 'order.line_items_added',
    orderId,
    delta: change(before, after),
  }),
  lineItemUpdated: (orderId: string, before: Snapshot, after: Snapshot): ActivityEntry => ({
    type: 'order.line_item_updated',
    orderId,
    delta: change(before, after),
  }),
  lineItemRemoved: (orderId: string, before: Snapshot, after: Snapshot): ActivityEntry => ({
    type: 'order.line_item_removed',
    orderId,
    delta: change(before, after),
  }),
  shippingAddressSet: (orderId: string, before: Snapshot, after: Snapshot): ActivityEntry => ({
    type: 'order.shipping_address_set',
    orderId,
    delta: change(before, after),
  }),
  orderCanceled: (orderId: string, before: Snapshot, after: Snapshot): ActivityEntry => ({
    type: 'order.canceled',
    orderId,
    delta: change(before, after),
  }),
  orderStatusChanged: (orderId: string, from: string | null, to: string): ActivityEntry => ({
    type: 'order.status_changed',
    orderId,
    delta: change({ status: from }, { status: to }),
  }),

  couponCreated: (coupon: Snapshot): ActivityEntry => ({ type: 'coupon.created', orderId: null, delta: change(null, coupon) }),
  couponDeactivated: (before: Snapshot, after: Snapshot): ActivityEntry => ({ type: 'coupon.deactivated', orderId: null, delta: change(before, after) }),
  couponApplied: (orderId: string, before: Snapshot, after: Snapshot): ActivityEntry => ({ type: 'coupon.applied', orderId, delta: change(before, after) }),
  couponRemoved: (orderId: string, before: Snapshot, after: Snapshot): ActivityEntry => ({ type: 'coupon.removed', orderId, delta: change(before, after) }),
  // --- payments (issue 4) ---
  paymentCreated: (orderId: string, payment: Snapshot): ActivityEntry => ({ type: 'payment.created', orderId, delta: change(null, payment) }),
  paymentCaptured: (orderId: string, before: Snapshot, after: Snapshot): ActivityEntry => ({ type: 'payment.captured', orderId, delta: change(before, after) }),
  paymentFailed: (orderId: string, before: Snapshot, after: Snapshot): ActivityEntry => ({ type: 'payment.failed', orderId, delta: change(before, after) }),
  paymentRequiresAction: (orderId: string, before: Snapshot, after: Snapshot): ActivityEntry => ({
    type: 'payment.requires_action',
    orderId,
    delta: change(before, after),
  }),
  paymentCanceled: (orderId: string, before: Snapshot, after: Snapshot): ActivityEntry => ({ type: 'payment.canceled', orderId, delta: change(before, after) }),
  checkoutSessionCreated: (orderId: string, session: Snapshot): ActivityEntry => ({ type: 'checkout_session.created', orderId, delta: change(null, session) }),
  checkoutSessionCompleted: (orderId: string, before: Snapshot, after: Snapshot): ActivityEntry => ({
    type: 'checkout_session.completed',
    orderId,
    delta: change(before, after),
  }),
  // --- end payments
  // --- refunds (issue 5) ---
  /** A refund was recorded: which lines and units, how much, how much of it tax, and the order's refundable before/after. */
  refundCreated: (orderId: string, before: Snapshot, after: Snapshot): ActivityEntry => ({ type: 'refund.created', orderId, delta: change(before, after) }),
  refundSucceeded: (orderId: string, before: Snapshot, after: Snapshot): ActivityEntry => ({ type: 'refund.succeeded', orderId, delta: change(before, after) }),
  /** The processor refused or reversed a refund: its amount and units are refundable again. */
  refundFailed: (orderId: string, before: Snapshot, after: Snapshot): ActivityEntry => ({ type: 'refund.failed', orderId, delta: change(before, after) }),
  orderClosed: (orderId: string, before: Snapshot, after: Snapshot): ActivityEntry => ({ type: 'order.closed', orderId, delta: change(before, after) }),
  // --- end refunds
} as const;

export type { ActivityRow, UnchainedActivityRow } from '../kernel/activity-row.js';
import type { UnchainedActivityRow } from '../kernel/activity-row.js';

export function activityRows(scope: Scope, actor: Actor, at: Date, idempotencyKey: string | null, entries: ActivityEntry[]): UnchainedActivityRow[] {
  return entries.map((e) => ({
    id: newId('Activity'),
    merchantId: scope.merchantId,
    livemode: scope.livemode,
    orderId: e.orderId,
    type: e.type,
    occurredAt: at,
    actorType: actor.type,
    actorId: actor.id,
    actorName: actor.name,
    delta: e.delta,
    idempotencyKey,
  }));
}
