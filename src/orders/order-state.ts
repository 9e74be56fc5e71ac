// An order as a use case plans on it (read with plain SQL, outside any transaction) and as a mutation
// returns it (the rows it wrote, or read again for a replay); the snapshots its audit entries carry;
// and the write operations that store a changed order.
import type { Scope } from '../kernel/context.js';
import { type Outcome, ok } from '../kernel/errors.js';
import type { Json } from '../kernel/json.js';
import type { ActivityRow } from '../audit/activity.js';
import { orderNetAmounts, type LineRow, type OrderRow } from './order-model.js';
import type { CouponRow } from '../coupons/rules.js';
import { readRows } from '../kernel/rows.js';
import type { Guard, Op } from '../kernel/writer.js';
import { sqlPool } from '../db/prisma.js';

export interface OrderRef extends Record<string, Json> {
  orderId: string;
}

/** Rows written by a mutation, so the response can be served without reading them back. */
export interface WrittenOrder {
  order: OrderRow;
  lineItems: LineRow[];
  /** Present when every entry of the order is known (a new order); otherwise read on demand. */
  activity: ActivityRow[] | null;
}

/** An order as read for planning a change. */
export interface OrderState {
  order: OrderRow;
  lines: LineRow[];
  /** Attached coupons in the order they were applied, with their OrderCoupon position. */
  coupons: { coupon: CouponRow; position: number }[];
}

const ORDER_SQL = 'SELECT * FROM "Order" WHERE "id" = $1 AND "merchantId" = $2 AND "livemode" = $3';
const LINES_SQL = 'SELECT * FROM "LineItem" WHERE "orderId" = $1 ORDER BY "position"';
const COUPONS_SQL =
  'SELECT c.*, oc."position" AS "attachedPosition" FROM "OrderCoupon" oc JOIN "Coupon" c ON c."id" = oc."couponId" WHERE oc."orderId" = $1 ORDER BY oc."position"';

/**
 * The order of `scope` (null for an id of another merchant or mode), then its lines and coupons. The
 * order is read first: every change to the lines or coupons also moves the order's version, so lines
 * newer than the order read make the write's version guard refuse the plan (and it is made again),
 * while lines older than the order read cannot happen.
 */
export async function loadOrderState(scope: Scope, orderId: string): Promise<OrderState | null> {
  if (typeof orderId !== 'string' || orderId.length === 0) return null;
  const pool = sqlPool(scope.deps.db);
  const [order] = await readRows<OrderRow>(pool, 'flint_plan_order', ORDER_SQL, [orderId, scope.merchantId, scope.livemode]);
  if (!order) return null;
  const [lines, coupons] = await Promise.all([
    readRows<LineRow>(pool, 'flint_plan_lines', LINES_SQL, [orderId]),
    readRows<CouponRow & { attachedPosition: number }>(pool, 'flint_plan_coupons', COUPONS_SQL, [orderId]),
  ]);
  return {
    order,
    lines,
    coupons: coupons.map(({ attachedPosition, ...coupon }) => ({ coupon: coupon as CouponRow, position: attachedPosition })),
  };
}

/** The guard of a change planned on `order`: it is still at the version (and status) the plan read. */
export function orderGuard(order: Pick<OrderRow, 'id' | 'version' | 'status'>): Guard {
  return { table: 'Order', id: order.id, match: { version: order.version, status: order.status } };
}

/** Order columns a change may write (everything but identity, creation and the payment/refund sums it leaves alone). */
const ORDER_COLUMNS = [
  'status',
  'version',
  'updatedAt',
  'shippingAddress',
  'cancelReason',
  'subtotalAmount',
  'discountAmount',
  'taxAmount',
  'exclusiveTaxAmount',
  'totalAmount',
  'taxes',
  'discounts',
] as const;

function pick<T extends object, K extends keyof T>(row: T, keys: readonly K[]): Pick<T, K> & { id: unknown } {
  const out: Record<string, unknown> = { id: (row as { id?: unknown }).id };
  for (const k of keys) out[k as string] = row[k];
  return out as Pick<T, K> & { id: unknown };
}

/** Writes the changed columns of the order row. */
export function orderUpdate(order: OrderRow, columns: readonly (keyof OrderRow)[] = ORDER_COLUMNS): Op {
  return { kind: 'update', table: 'Order', rows: [pick(order, columns)] };
}

const LINE_PRICE_COLUMNS = ['quantity', 'grossAmount', 'discountAmount', 'taxAmount', 'exclusiveTaxAmount', 'totalAmount', 'discounts', 'taxes'] as const;

/** Writes the quantity and re-priced amounts of the given lines. */
export function linePriceUpdate(lines: LineRow[]): Op {
  return { kind: 'update', table: 'LineItem', rows: lines.map((l) => pick(l, LINE_PRICE_COLUMNS)) };
}

export function amountsSnapshot(order: OrderRow, lines: LineRow[]) {
  const net = orderNetAmounts(order, lines);
  return {
    subtotal: net.subtotal,
    discount: net.discount,
    tax: net.tax,
    total: net.total,
    paid: net.paid,
    refunded: net.refunded,
    balance: net.balance,
    currency: order.currency,
  };
}

export function lineSnapshot(l: LineRow) {
  return { id: l.id, name: l.name, sku: l.sku, quantity: l.quantity, unitPrice: l.unitPriceAmount, taxCategory: l.taxCategory, total: l.totalAmount };
}

export async function loadOrder(scope: Scope, orderId: string): Promise<WrittenOrder | null> {
  const order = await scope.deps.db.order.findFirst({
    where: { id: orderId, merchantId: scope.merchantId, livemode: scope.livemode },
    include: { lineItems: { orderBy: { position: 'asc' } }, activity: { orderBy: { sequence: 'asc' } } },
  });
  if (!order) return null;
  const { lineItems, activity, ...row } = order;
  return { order: row, lineItems, activity: activity as ActivityRow[] };
}

/** The order a mutation answers with: the rows it wrote, or (a replay) the order read as it is now. */
export async function finishOrder(scope: Scope, outcome: Outcome<OrderRef>, written: WrittenOrder | null): Promise<Outcome<WrittenOrder>> {
  if (!outcome.ok) return outcome;
  if (written) return ok(written);
  const loaded = await loadOrder(scope, outcome.value.orderId);
  if (!loaded) throw new Error(`order ${outcome.value.orderId} of a stored idempotent result is missing`);
  return ok(loaded);
}
