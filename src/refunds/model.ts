// What the refund feature plans on: its types, and the state a refund is computed and recorded against,
// read with plain SQL outside any transaction.
//
// Reads go out together (one round trip) and each carries the order version its snapshot saw; they
// are used only when they all saw the same version as the order row (every change to an order's
// refunds, lines or reservations bumps that version), otherwise they are read again. The write's guard
// on the order's version (and the intent's reservation) then refuses a plan made on a state that moved
// on before the write, and the plan is made again.
import type { Actor, Scope } from '../kernel/context.js';
import { type UserError, userError } from '../kernel/errors.js';
import type { Json } from '../kernel/json.js';
import { orderFacts, REFUNDABLE_STATUSES, type LineRow, type OrderRow } from '../orders/order-model.js';
import { readRows } from '../kernel/rows.js';
import { sqlPool } from '../db/prisma.js';
import { invalidTransitionMessage } from '../pricing/index.js';
import type { PaymentIntent as PaymentIntentRow, Refund, RefundLineItem, RefundReason, RefundStatus } from '../generated/prisma/client.js';
import type { PlanState, RefundLineInput } from './refund-plan.js';

export type { PaymentIntentRow };
export type RefundRow = Refund;
export type RefundLineRow = RefundLineItem;
export type RefundWithLines = Refund & { lineItems: RefundLineItem[] };
export type { RefundReason, RefundStatus };

export interface CreateRefundInput {
  paymentIntentId: string;
  amountMoney?: { amount: number; currency: string } | null;
  lineItems?: RefundLineInput[] | null;
  reason: RefundReason;
  idempotencyKey?: string | null;
}

export type RefundPreviewInput = Omit<CreateRefundInput, 'reason' | 'idempotencyKey'>;

/** What createRefund reports: the refund and its order (both may be set next to userErrors). */
export interface CreateRefundResult {
  refundId: string | null;
  orderId: string | null;
  userErrors: UserError[];
  /** The rows as this call wrote them (absent on a replay or a refusal), so the payload needs no read. */
  written?: { refund: RefundWithLines; order: OrderRow; lines: LineRow[] } | null;
}

/** The result stored under createRefund's idempotency key; `pending` until the call has finished. */
export interface StoredRefundResult extends Record<string, Json> {
  refundId: string | null;
  orderId: string | null;
  userErrors: Json;
  pending: boolean;
}

export const CREATE_REFUND = 'createRefund';
/** Processor name of refunds that move no money (amount <= 0, or netted entirely). */
export const NO_PROCESSOR = 'NONE';
/** Resending a refund under its key is safe while the processor remembers the key (Stripe: 24 hours). */
export const REFUND_REPLAY_WINDOW_MS = 23 * 60 * 60 * 1000;
/** Who records what reconciliation learns from the processor. */
export const REFUND_ACTOR: Actor = { type: 'SYSTEM', id: null, name: 'refund reconciliation' };

/** The scope of writes about a refund of another request (reconciliation, webhooks). */
export function scopeOfRow(deps: Scope['deps'], row: { merchantId: string; livemode: boolean }, actor: Actor): Scope {
  return { deps, merchantId: row.merchantId, livemode: row.livemode, actor };
}

export function refundFailedError(refund: Pick<RefundRow, 'id' | 'failureReason' | 'processor'>): UserError {
  return userError(
    'PAYMENT_FAILED',
    `${refund.processor} refused refund ${refund.id} (${refund.failureReason ?? 'no reason given'}): nothing was refunded and its amount and units are refundable again. Check the payment at the processor, or refund another way.`,
    ['input'],
  );
}

/** createRefund's final result once the refund's outcome is what it is. */
export function finalResultOf(refund: RefundRow): StoredRefundResult {
  return { refundId: refund.id, orderId: refund.orderId, userErrors: (refund.status === 'FAILED' ? [refundFailedError(refund)] : []) as unknown as Json, pending: false };
}

// ---------------------------------------------------------------------------------------------
// Consistent parallel reads

type Versioned = { orderVersion: number };

function strip<T extends Versioned>(row: T): Omit<T, 'orderVersion'> {
  const { orderVersion: _v, ...rest } = row;
  return rest;
}

/** Runs `read` until every versioned row it returns saw the version of its order row. */
async function consistent<T>(read: () => Promise<{ version: number | null; seen: number[]; value: T }>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    const { version, seen, value } = await read();
    if (version === null || seen.every((v) => v === version)) return value;
    if (attempt >= 100) throw new Error('the refund state kept changing while it was read');
    if (attempt >= 2) await new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(attempt, 20)));
  }
}

// ---------------------------------------------------------------------------------------------
// The state a new refund is planned on: the intent (tenancy-checked), its order and lines, what
// earlier SUCCEEDED + PENDING refunds took

export interface RefundState {
  order: OrderRow;
  lines: LineRow[];
  intent: PaymentIntentRow;
  state: PlanState;
  /**
   * Its PENDING refunds that wait for the processor: already answered PENDING, or in flight since
   * before `staleBefore` (their call probably died). The next call of the order asks about them first.
   */
  waiting: string[];
}

const BY_INTENT = `JOIN "PaymentIntent" pi ON pi."orderId" = o."id" WHERE pi."id" = $1 AND pi."merchantId" = $2 AND pi."livemode" = $3`;
const INTENT_SQL = `SELECT pi.*, o."version" AS "orderVersion" FROM "Order" o ${BY_INTENT}`;
const ORDER_SQL = `SELECT o.* FROM "Order" o ${BY_INTENT}`;
const LINES_SQL = `SELECT l.*, o."version" AS "orderVersion",
    COALESCE(s."takenQuantity", 0)::integer AS "takenQuantity", COALESCE(s."takenGross", 0)::bigint AS "takenGross",
    COALESCE(s."takenDiscount", 0)::bigint AS "takenDiscount", COALESCE(s."takenTax", 0)::bigint AS "takenTax",
    COALESCE(s."takenExclusiveTax", 0)::bigint AS "takenExclusiveTax", COALESCE(s."takenAmount", 0)::bigint AS "takenAmount"
  FROM "Order" o JOIN "LineItem" l ON l."orderId" = o."id"
  LEFT JOIN LATERAL (
    SELECT SUM(rli."quantity") AS "takenQuantity", SUM(rli."grossAmount") AS "takenGross", SUM(rli."discountAmount") AS "takenDiscount",
           SUM(rli."taxAmount") AS "takenTax", SUM(rli."exclusiveTaxAmount") AS "takenExclusiveTax", SUM(rli."amount") AS "takenAmount"
    FROM "RefundLineItem" rli JOIN "Refund" r ON r."id" = rli."refundId"
    WHERE rli."lineItemId" = l."id" AND r."status" <> 'FAILED') s ON true
  ${BY_INTENT} ORDER BY l."position"`;
const TAKEN_SQL = `SELECT o."version" AS "orderVersion",
    COALESCE(array_agg(r."id" ORDER BY r."id") FILTER (WHERE r."status" = 'PENDING' AND (r."processorReference" IS NOT NULL OR r."createdAt" < $4)), '{}') AS "waiting",
    COALESCE(SUM(r."amount"), 0)::bigint AS "amount", COALESCE(SUM(r."taxAmount"), 0)::bigint AS "tax",
    COALESCE(SUM(CASE WHEN r."paymentIntentId" <> pi."id" THEN 0
                      WHEN r."amount" < 0 THEN -r."amount"
                      WHEN r."amount" > 0 THEN r."processorAmount" - r."amount"
                      ELSE 0 END), 0)::bigint AS "credit"
  FROM "Order" o LEFT JOIN "Refund" r ON r."orderId" = o."id" AND r."status" <> 'FAILED'
  ${BY_INTENT} GROUP BY o."id", o."version"`;

type TakenLine = LineRow &
  Versioned & { takenQuantity: number; takenGross: bigint; takenDiscount: bigint; takenTax: bigint; takenExclusiveTax: bigint; takenAmount: bigint };

/** The state createRefund and refundPreview plan on; null for an intent of another merchant or mode. */
export async function loadRefundState(scope: Pick<Scope, 'deps' | 'merchantId' | 'livemode'>, intentId: string, staleBefore: Date): Promise<RefundState | null> {
  if (typeof intentId !== 'string' || intentId.length === 0) return null;
  const pool = sqlPool(scope.deps.db);
  const values = [intentId, scope.merchantId, scope.livemode];
  return consistent(async () => {
    const [intents, orders, lineRows, taken] = await Promise.all([
      readRows<PaymentIntentRow & Versioned>(pool, 'flint_refund_intent', INTENT_SQL, values),
      readRows<OrderRow>(pool, 'flint_refund_order', ORDER_SQL, values),
      readRows<TakenLine>(pool, 'flint_refund_lines', LINES_SQL, values),
      readRows<Versioned & { waiting: string[]; amount: bigint; tax: bigint; credit: bigint }>(pool, 'flint_refund_taken', TAKEN_SQL, [...values, staleBefore]),
    ]);
    const order = orders[0];
    const intentRow = intents[0];
    const totals = taken[0];
    if (!order || !intentRow || !totals) return { version: null, seen: [], value: null };
    const seen = [intentRow.orderVersion, totals.orderVersion, ...lineRows.map((l) => l.orderVersion)];
    if (seen.some((v) => v !== order.version)) return { version: order.version, seen, value: null };
    const lines: LineRow[] = lineRows.map(({ takenQuantity: _q, takenGross: _g, takenDiscount: _d, takenTax: _t, takenExclusiveTax: _x, takenAmount: _a, ...l }) => strip(l) as LineRow);
    const intent = strip(intentRow) as PaymentIntentRow;
    const planLines = lineRows.map((l) => {
      if (l.takenQuantity !== l.refundedQuantity + l.pendingRefundQuantity) {
        throw new Error(`line ${l.id}: refund rows hold ${l.takenQuantity} units, the line says ${l.refundedQuantity} + ${l.pendingRefundQuantity}`);
      }
      return {
        id: l.id,
        name: l.name,
        quantity: l.quantity,
        gross: l.grossAmount,
        discount: l.discountAmount,
        tax: l.taxAmount,
        exclusiveTax: l.exclusiveTaxAmount,
        takenQuantity: l.takenQuantity,
        taken: { gross: l.takenGross, discount: l.takenDiscount, tax: l.takenTax, exclusiveTax: l.takenExclusiveTax, amount: l.takenAmount },
      };
    });
    const state: PlanState = {
      currency: order.currency,
      total: order.totalAmount,
      tax: order.taxAmount,
      lines: planLines,
      taken: { amount: totals.amount, tax: totals.tax },
      intent: { id: intent.id, status: intent.status, currency: intent.currency, amount: intent.amount, reserved: intent.refundedAmount, credit: totals.credit },
    };
    return { version: order.version, seen, value: { order, lines, intent, state, waiting: totals.waiting } };
  });
}

/** INVALID_STATE_TRANSITION unless the order can be refunded (PAID or PARTIALLY_REFUNDED); PAYMENT_FAILED when this server cannot reach the payment's processor. */
export function refundStateError(loaded: Pick<RefundState, 'order' | 'lines' | 'intent'>, processorName: string): UserError | null {
  const { order, lines, intent } = loaded;
  if (!REFUNDABLE_STATUSES.includes(order.status)) {
    return userError('INVALID_STATE_TRANSITION', invalidTransitionMessage(orderFacts(order, lines), 'REFUND'), ['input', 'paymentIntentId']);
  }
  if (intent.status === 'SUCCEEDED' && intent.processor !== processorName) {
    return userError(
      'PAYMENT_FAILED',
      `Payment ${intent.id} was taken by ${intent.processor} and this server refunds through ${processorName}: nothing was refunded. Refund it where the payment was made.`,
      ['input', 'paymentIntentId'],
    );
  }
  return null;
}

// ---------------------------------------------------------------------------------------------
// The state a processor's answer about existing refunds is recorded against

export interface RecordState {
  order: OrderRow;
  lines: LineRow[];
  intents: Map<string, PaymentIntentRow>;
  /** The refunds asked about (those of the order of the first one found), with their lines. */
  refunds: RefundWithLines[];
}

const REFUNDS_OF = `(SELECT "orderId" FROM "Refund" WHERE "id" = ANY($1::text[]))`;
const RECORD_REFUNDS_SQL = `SELECT r.*, o."version" AS "orderVersion" FROM "Refund" r JOIN "Order" o ON o."id" = r."orderId" WHERE r."id" = ANY($1::text[]) ORDER BY r."id"`;
const RECORD_REFUND_LINES_SQL = `SELECT * FROM "RefundLineItem" WHERE "refundId" = ANY($1::text[]) ORDER BY "refundId", "position"`;
const RECORD_ORDERS_SQL = `SELECT * FROM "Order" WHERE "id" IN ${REFUNDS_OF}`;
const RECORD_LINES_SQL = `SELECT l.*, o."version" AS "orderVersion" FROM "LineItem" l JOIN "Order" o ON o."id" = l."orderId" WHERE o."id" IN ${REFUNDS_OF} ORDER BY l."position"`;
const RECORD_INTENTS_SQL = `SELECT pi.*, o."version" AS "orderVersion" FROM "PaymentIntent" pi JOIN "Order" o ON o."id" = pi."orderId" WHERE pi."id" IN (SELECT "paymentIntentId" FROM "Refund" WHERE "id" = ANY($1::text[]))`;

/** The refunds (of one order: the first one's), their order, its lines and their intents; null when none exists. */
export async function loadRecordState(scope: Pick<Scope, 'deps'>, refundIds: string[]): Promise<RecordState | null> {
  if (refundIds.length === 0) return null;
  const pool = sqlPool(scope.deps.db);
  const values = [refundIds];
  return consistent(async () => {
    const [refunds, refundLines, orders, lineRows, intentRows] = await Promise.all([
      readRows<RefundRow & Versioned>(pool, 'flint_record_refunds', RECORD_REFUNDS_SQL, values),
      readRows<RefundLineItem>(pool, 'flint_record_refund_lines', RECORD_REFUND_LINES_SQL, values),
      readRows<OrderRow>(pool, 'flint_record_orders', RECORD_ORDERS_SQL, values),
      readRows<LineRow & Versioned>(pool, 'flint_record_lines', RECORD_LINES_SQL, values),
      readRows<PaymentIntentRow & Versioned>(pool, 'flint_record_intents', RECORD_INTENTS_SQL, values),
    ]);
    const first = refunds.find((r) => r.id === refundIds[0]) ?? refunds[0];
    const order = first ? orders.find((o) => o.id === first.orderId) : undefined;
    if (!first || !order) return { version: null, seen: [], value: null };
    const mine = refunds.filter((r) => r.orderId === order.id);
    const lines = lineRows.filter((l) => l.orderId === order.id);
    const intents = intentRows.filter((i) => i.orderId === order.id);
    const seen = [...mine, ...lines, ...intents].map((r) => r.orderVersion);
    const value: RecordState = {
      order,
      lines: lines.map((l) => strip(l) as LineRow),
      intents: new Map(intents.map((i) => [i.id, strip(i) as PaymentIntentRow])),
      refunds: mine.map((r) => ({ ...(strip(r) as RefundRow), lineItems: refundLines.filter((l) => l.refundId === r.id) })),
    };
    return { version: order.version, seen, value };
  });
}

const REFUND_SQL = 'SELECT * FROM "Refund" WHERE "id" = $1';

export async function readRefund(scope: Pick<Scope, 'deps'>, refundId: string): Promise<RefundRow | null> {
  const rows = await readRows<RefundRow>(sqlPool(scope.deps.db), 'flint_refund_by_id', REFUND_SQL, [refundId]);
  return rows[0] ?? null;
}
