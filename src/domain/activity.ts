// The audit trail: one typed constructor per event type, appended in the same transaction as the
// change it records. The table is append-only (a database trigger refuses UPDATE and DELETE).
import type { Actor, Scope, Tx } from './context.js';
import { newId } from '../ids.js';
import { toJson, type Json } from './json.js';
import type { Prisma } from '../generated/prisma/client.js';

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
} as const;

export interface ActivityRow {
  id: string;
  merchantId: string;
  livemode: boolean;
  orderId: string | null;
  type: string;
  occurredAt: Date;
  actorType: string;
  actorId: string | null;
  actorName: string | null;
  delta: Json;
  idempotencyKey: string | null;
}

export function activityRows(scope: Scope, actor: Actor, at: Date, idempotencyKey: string | null, entries: ActivityEntry[]): ActivityRow[] {
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

export async function appendActivity(
  tx: Tx,
  scope: Scope,
  at: Date,
  idempotencyKey: string | null,
  entries: ActivityEntry[],
): Promise<ActivityRow[]> {
  const rows = activityRows(scope, scope.actor, at, idempotencyKey, entries);
  if (rows.length > 0) {
    await tx.activity.createMany({ data: rows.map((r) => ({ ...r, delta: r.delta as Prisma.InputJsonValue })) });
  }
  return rows;
}
