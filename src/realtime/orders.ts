// Orders as subscriptions see them. A status change fans out to every subscriber of the order, so the
// order is read once per event and instance (not once per subscriber) and shared for a few seconds.
import type { ActivityRow } from '../audit/activity.js';
import type { Db } from '../kernel/context.js';

/** Whether the order exists for this merchant and mode (another merchant's order does not). */
export async function orderExists(db: Db, chain: { merchantId: string; livemode: boolean }, orderId: string): Promise<boolean> {
  const found = await db.order.findFirst({ where: { id: orderId, merchantId: chain.merchantId, livemode: chain.livemode }, select: { id: true } });
  return found !== null;
}

const SHARE_MS = 5_000;
const shared = new Map<string, Promise<EventOrder>>();

type EventOrder = Awaited<ReturnType<typeof load>>;

/**
 * The order an event concerns, with its line items (what most Order fields need), read once per event
 * on this instance. Tenancy: read with the event's merchant and mode, which are the subscriber's own.
 */
export function orderForEvent(db: Db, row: ActivityRow): Promise<EventOrder> {
  if (!row.orderId) return Promise.reject(new Error(`activity ${row.id} concerns no order`));
  let promise = shared.get(row.id);
  if (!promise) {
    promise = load(db, row.orderId, row.merchantId, row.livemode);
    shared.set(row.id, promise);
    promise.catch(() => shared.delete(row.id));
    setTimeout(() => shared.delete(row.id), SHARE_MS).unref();
  }
  return promise;
}

async function load(db: Db, orderId: string, merchantId: string, livemode: boolean) {
  const order = await db.order.findFirst({
    where: { id: orderId, merchantId, livemode },
    include: { lineItems: { orderBy: { position: 'asc' }, include: { order: { select: { currency: true, status: true } } } } },
  });
  if (!order) throw new Error(`order ${orderId} of an event is missing`);
  return order;
}
