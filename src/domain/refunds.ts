// Refunds: by whole units of line items or by an amount, never more than what is left, never twice.
//
// createRefund mirrors payOrder's no-double-effect design (src/domain/payments.ts):
//   1. tx1 (runMutation: claims the idempotency key): lock the order row (FOR UPDATE, tenancy-checked
//      through the payment intent), read what earlier refunds took, compute the refund (planRefund in
//      refund-plan.ts: the same function refundPreview runs), write the Refund as PENDING with its
//      processor idempotency key `flint_re_<id>`, reserve its amount on the payment intent
//      (refundedAmount), its units and amount on the lines and the order, append refund.created, COMMIT.
//      Concurrent refunds queue on the order lock, so each sees the reservations of the others: the
//      limits hold exactly (and CHECK constraints in the database back them up).
//   2. the processor call, outside any transaction, carrying that key.
//   3. tx2: lock the order again and write the processor's answer once (applyRefundResult):
//      SUCCEEDED moves the reservation to refunded (netAmounts, status PARTIALLY_REFUNDED/REFUNDED,
//      refund.succeeded); FAILED gives amount and units back (refund.failed); PENDING keeps the
//      reservation until the processor says more (webhooks, or a later retrieve).
// A crash between 1 and 3 leaves a PENDING refund without an answer. It is reconciled at start-up
// (reconcilePendingRefunds) and by the next createRefund/closeOrder of the order: Flint asks the
// processor about the key and writes the answer; if the processor never saw it, the very same request
// is sent again under the same key (the processor dedupes it), so nothing is ever refunded twice.
//
// Decisions where the issue and pricing.md are silent:
// - The order's status follows SUCCEEDED refunds only (netAmounts.refundedMoney counts succeeded
//   refunds, and the status must agree with it): a PENDING refund reserves (Order.refundable,
//   PaymentIntent.refundableMoney and the lines' refundable units drop at once) but the order becomes
//   PARTIALLY_REFUNDED / REFUNDED only when the processor confirms.
// - A refund returning <= 0 (pricing.md §7 lets one unit's discount share exceed its gross share), or
//   whose amount is entirely netted against such a share (refund-plan.ts), is not sent to a processor:
//   it is SUCCEEDED at once (processor "NONE").
// - A refund the processor refuses at once comes back with the refund (FAILED, failureReason) and the
//   userError PAYMENT_FAILED, like a declined payment; its amount and units are refundable again.
// - A refund the processor reverses later (Stripe: succeeded → failed) is given back the same way;
//   FAILED is final, so late or out-of-order events cannot resurrect it.
// - closeOrder refuses while a refund is PENDING (its outcome would change a CLOSED order).
// - The refund that leaves nothing of the order's total takes all remaining tax (refund-plan.ts).
import type Stripe from 'stripe';
import type { Actor, Deps, Scope, Tx } from './context.js';
import { Activities, appendActivity, type ActivityEntry } from './activity.js';
import { type UserError, fail, notFound, ok, userError, type Outcome } from './errors.js';
import { runMutation } from './mutation.js';
import type { Json } from './json.js';
import { orderActions, orderFacts, orderNetAmounts, orderRefundableAmount, REFUNDABLE_STATUSES, type LineRow, type OrderRow } from './order-model.js';
import { REPLAY_WINDOW_MS, SYSTEM_ACTOR, scopeFor, transaction } from './payments.js';
import { amountsSnapshot, type WrittenOrder } from '../orders/order-state.js';
import { editOrder } from '../orders/edit.js';
import { readRows } from '../kernel/rows.js';
import { orderStatusAfter } from '../kernel/transitions.js';
import { sqlPool } from '../db/prisma.js';
import { intentLeft, planRefund, validateRefundInput, type PlanState, type RefundLineInput, type RefundPlan } from '../refunds/refund-plan.js';
import { ACTIONS, invalidTransitionMessage, refundTargetStatus, type NetAmounts, type OrderStatus } from '../pricing/index.js';
import { newId } from '../ids.js';
import { processorOf, refundIdempotencyKey, stripeRefundResult, type PaymentProcessor, type RefundRequest, type RefundResult as ProcessorRefundResult } from '../payments/index.js';
import type { PaymentIntent as PaymentIntentRow, Prisma, Refund, RefundLineItem, RefundReason, RefundStatus } from '../generated/prisma/client.js';

export type RefundRow = Refund;
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
}

/** The result stored under the idempotency key; `pending` until the call has finished. */
interface StoredRefundResult extends Record<string, Json> {
  refundId: string | null;
  orderId: string | null;
  userErrors: Json;
  pending: boolean;
}

/** Processor name of refunds that move no money (amount <= 0, or netted entirely). */
export const NO_PROCESSOR = 'NONE';
/** How long a PENDING refund without a processor answer may be in flight before a later call asks the processor about it. */
const IN_FLIGHT_MS = 60_000;
const REPLAY_WAIT_MS = 30_000;
const REFUND_ACTOR: Actor = { ...SYSTEM_ACTOR, name: 'refund reconciliation' };

const STRIPE_REASONS: Record<RefundReason, RefundRequest['reason']> = {
  REFUND_REASON_REQUESTED_BY_CUSTOMER: 'requested_by_customer',
  REFUND_REASON_DUPLICATE: 'duplicate',
  REFUND_REASON_FRAUDULENT: 'fraudulent',
  REFUND_REASON_OTHER: null,
};

// ---------------------------------------------------------------------------------------------
// Reading the state a refund is computed against

interface Loaded {
  order: OrderRow;
  lines: LineRow[];
  intent: PaymentIntentRow;
  state: PlanState;
}

interface LineSumRow {
  lineItemId: string;
  quantity: number;
  gross: bigint;
  discount: bigint;
  tax: bigint;
  exclusiveTax: bigint;
  amount: bigint;
}

/**
 * The intent (tenancy-checked), its order and lines, and what their SUCCEEDED + PENDING refunds took.
 * With `lock`, the order row is locked first (FOR UPDATE) so nothing changes until commit.
 */
async function loadState(tx: Tx, scope: Pick<Scope, 'merchantId' | 'livemode'>, intentId: string, lock: boolean): Promise<Loaded | null> {
  const found = await tx.paymentIntent.findFirst({ where: { id: intentId, merchantId: scope.merchantId, livemode: scope.livemode } });
  if (!found) return null;
  if (lock) {
    await tx.$queryRaw`SELECT id FROM "Order" WHERE id = ${found.orderId} AND "merchantId" = ${scope.merchantId} AND livemode = ${scope.livemode} FOR UPDATE`;
  }
  const intent = lock ? await tx.paymentIntent.findUniqueOrThrow({ where: { id: intentId } }) : found;
  const { lineItems: lines, ...order } = await tx.order.findUniqueOrThrow({ where: { id: intent.orderId }, include: { lineItems: { orderBy: { position: 'asc' } } } });
  const lineSums = await tx.$queryRaw<LineSumRow[]>`
    SELECT rli."lineItemId", SUM(rli.quantity)::integer AS quantity, SUM(rli."grossAmount")::bigint AS gross,
           SUM(rli."discountAmount")::bigint AS discount, SUM(rli."taxAmount")::bigint AS tax,
           SUM(rli."exclusiveTaxAmount")::bigint AS "exclusiveTax", SUM(rli.amount)::bigint AS amount
    FROM "RefundLineItem" rli JOIN "Refund" r ON r.id = rli."refundId"
    WHERE r."orderId" = ${order.id} AND r.status <> 'FAILED'
    GROUP BY rli."lineItemId"`;
  const [totals] = await tx.$queryRaw<{ amount: bigint; tax: bigint; credit: bigint }[]>`
    SELECT COALESCE(SUM(amount), 0)::bigint AS amount, COALESCE(SUM("taxAmount"), 0)::bigint AS tax,
           COALESCE(SUM(CASE WHEN "paymentIntentId" <> ${intent.id} THEN 0
                             WHEN amount < 0 THEN -amount
                             WHEN amount > 0 THEN "processorAmount" - amount
                             ELSE 0 END), 0)::bigint AS credit
    FROM "Refund" WHERE "orderId" = ${order.id} AND status <> 'FAILED'`;
  const byLine = new Map(lineSums.map((s) => [s.lineItemId, s]));
  const planLines = lines.map((l) => {
    const s = byLine.get(l.id);
    const takenQuantity = s?.quantity ?? 0;
    if (takenQuantity !== l.refundedQuantity + l.pendingRefundQuantity) {
      throw new Error(`line ${l.id}: refund rows hold ${takenQuantity} units, the line says ${l.refundedQuantity} + ${l.pendingRefundQuantity}`);
    }
    return {
      id: l.id,
      name: l.name,
      quantity: l.quantity,
      gross: l.grossAmount,
      discount: l.discountAmount,
      tax: l.taxAmount,
      exclusiveTax: l.exclusiveTaxAmount,
      takenQuantity,
      taken: { gross: s?.gross ?? 0n, discount: s?.discount ?? 0n, tax: s?.tax ?? 0n, exclusiveTax: s?.exclusiveTax ?? 0n, amount: s?.amount ?? 0n },
    };
  });
  const state: PlanState = {
    currency: order.currency,
    total: order.totalAmount,
    tax: order.taxAmount,
    lines: planLines,
    taken: { amount: totals?.amount ?? 0n, tax: totals?.tax ?? 0n },
    intent: { id: intent.id, status: intent.status, currency: intent.currency, amount: intent.amount, reserved: intent.refundedAmount, credit: totals?.credit ?? 0n },
  };
  return { order, lines, intent, state };
}

/** INVALID_STATE_TRANSITION unless the order can be refunded (PAID or PARTIALLY_REFUNDED), or the processor cannot be reached for this payment. */
function refundStateError(loaded: Loaded, processorName: string): UserError | null {
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
// Moving a refund between "nothing", "pending" (reserved) and "succeeded" (reserved and refunded)

type Bucket = 'none' | 'pending' | 'succeeded';

function bucketOf(status: RefundStatus): Bucket {
  return status === 'PENDING' ? 'pending' : status === 'SUCCEEDED' ? 'succeeded' : 'none';
}

/** PAID / PARTIALLY_REFUNDED / REFUNDED from the succeeded refunds (§8); other statuses stay. */
function statusAfterRefunds(order: OrderRow, lines: LineRow[]): OrderStatus {
  if (!['PAID', 'PARTIALLY_REFUNDED', 'REFUNDED'].includes(order.status)) return order.status;
  if (order.refundedAmount > 0n && order.refundedAmount <= order.paidAmount) return refundTargetStatus(order.paidAmount, order.refundedAmount);
  // Units refunded for nothing (a §7 share of 0 or less) still make the order partially refunded.
  if (order.refundedAmount !== 0n || lines.some((l) => l.refundedQuantity > 0)) return 'PARTIALLY_REFUNDED';
  return 'PAID';
}

/**
 * Writes the effects of moving `refund` from one bucket to another on the payment intent, the lines
 * and the order (the order row must be locked by the caller). Returns the order and lines afterwards.
 */
async function moveRefund(tx: Tx, at: Date, order: OrderRow, lines: LineRow[], refund: RefundWithLines, from: Bucket, to: Bucket): Promise<{ order: OrderRow; lines: LineRow[] }> {
  const one = (b: Bucket, which: Bucket): bigint => (b === which ? 1n : 0n);
  const dPending = one(to, 'pending') - one(from, 'pending');
  const dSucceeded = one(to, 'succeeded') - one(from, 'succeeded');
  const dReserved = (to === 'none' ? 0n : 1n) - (from === 'none' ? 0n : 1n);
  const gross = refund.lineItems.reduce((s, l) => s + l.grossAmount, 0n);
  const discount = refund.lineItems.reduce((s, l) => s + l.discountAmount, 0n);

  if (dReserved !== 0n) {
    await tx.paymentIntent.update({ where: { id: refund.paymentIntentId }, data: { refundedAmount: { increment: dReserved * refund.amount }, updatedAt: at } });
  }
  const nextLines = lines.map((l) => {
    const r = refund.lineItems.find((x) => x.lineItemId === l.id);
    if (!r) return l;
    return {
      ...l,
      pendingRefundQuantity: l.pendingRefundQuantity + Number(dPending) * r.quantity,
      refundedQuantity: l.refundedQuantity + Number(dSucceeded) * r.quantity,
      reservedRefundAmount: l.reservedRefundAmount + dReserved * r.amount,
    };
  });
  for (const l of nextLines) {
    if (!refund.lineItems.some((x) => x.lineItemId === l.id)) continue;
    await tx.lineItem.update({
      where: { id: l.id },
      data: { pendingRefundQuantity: l.pendingRefundQuantity, refundedQuantity: l.refundedQuantity, reservedRefundAmount: l.reservedRefundAmount },
    });
  }
  const money = {
    pendingRefundAmount: order.pendingRefundAmount + dPending * refund.amount,
    refundedAmount: order.refundedAmount + dSucceeded * refund.amount,
    refundedSubtotalAmount: order.refundedSubtotalAmount + dSucceeded * gross,
    refundedDiscountAmount: order.refundedDiscountAmount + dSucceeded * discount,
    refundedTaxAmount: order.refundedTaxAmount + dSucceeded * refund.taxAmount,
  };
  const moved: OrderRow = { ...order, ...money };
  const next: OrderRow = { ...moved, status: statusAfterRefunds(moved, nextLines), version: order.version + 1, updatedAt: at };
  await tx.order.update({ where: { id: order.id }, data: { ...money, status: next.status, version: next.version, updatedAt: at } });
  return { order: next, lines: nextLines };
}

// ---------------------------------------------------------------------------------------------
// Snapshots for activity deltas

function net(order: OrderRow, lines: LineRow[]) {
  return amountsSnapshot(order, lines);
}

function refundSnapshot(refund: RefundWithLines, lines: LineRow[]) {
  return {
    refundId: refund.id,
    paymentIntentId: refund.paymentIntentId,
    status: refund.status,
    reason: refund.reason,
    byLineItems: refund.byLineItems,
    amount: refund.amount,
    tax: refund.taxAmount,
    currency: refund.currency,
    lineItems: refund.lineItems.map((r) => ({
      lineItemId: r.lineItemId,
      name: lines.find((l) => l.id === r.lineItemId)?.name ?? null,
      quantity: r.quantity,
      gross: r.grossAmount,
      discount: r.discountAmount,
      tax: r.taxAmount,
      amount: r.amount,
    })),
  };
}

function refundableSnapshot(order: OrderRow, lines: LineRow[], intentRefundable: bigint) {
  return {
    refundable: orderRefundableAmount(order),
    paymentIntentRefundable: intentRefundable,
    refundableQuantities: Object.fromEntries(lines.map((l) => [l.id, l.quantity - l.refundedQuantity - l.pendingRefundQuantity])),
  };
}

// ---------------------------------------------------------------------------------------------
// tx1: writing the refund

async function writeRefund(tx: Tx, scope: Scope, at: Date, idempotencyKey: string | null, loaded: Loaded, plan: RefundPlan, reason: RefundReason, processorName: string): Promise<RefundWithLines> {
  const { order, lines, intent } = loaded;
  const id = newId('Refund');
  const sends = plan.processorAmount > 0n;
  const refund: RefundWithLines = {
    id,
    merchantId: scope.merchantId,
    livemode: scope.livemode,
    orderId: order.id,
    paymentIntentId: intent.id,
    amount: plan.amount,
    taxAmount: plan.tax,
    processorAmount: plan.processorAmount,
    currency: order.currency,
    byLineItems: plan.byLineItems,
    reason,
    status: sends ? 'PENDING' : 'SUCCEEDED',
    processor: sends ? processorName : NO_PROCESSOR,
    processorIdempotencyKey: refundIdempotencyKey(id),
    processorReference: null,
    failureReason: null,
    requestKey: idempotencyKey,
    createdAt: at,
    updatedAt: at,
    lineItems: plan.lines.map((l, position) => ({
      refundId: id,
      lineItemId: l.lineItemId,
      merchantId: scope.merchantId,
      livemode: scope.livemode,
      position,
      quantity: l.quantity,
      grossAmount: l.gross,
      discountAmount: l.discount,
      taxAmount: l.tax,
      exclusiveTaxAmount: l.exclusiveTax,
      amount: l.amount,
    })),
  };
  const { lineItems, ...row } = refund;
  await tx.refund.create({ data: row });
  if (lineItems.length > 0) await tx.refundLineItem.createMany({ data: lineItems });
  const before = { order, lines };
  const after = await moveRefund(tx, at, order, lines, refund, 'none', bucketOf(refund.status));
  const intentBefore = intentLeft(loaded.state.intent);
  const intentAfter = intentBefore - plan.amount > 0n ? intentBefore - plan.amount : 0n;
  const entries: ActivityEntry[] = [
    Activities.refundCreated(order.id, refundableSnapshot(before.order, before.lines, intentBefore), {
      ...refundSnapshot(refund, lines),
      processor: refund.processor,
      ...refundableSnapshot(after.order, after.lines, intentAfter),
    }),
  ];
  if (refund.status === 'SUCCEEDED') {
    entries.push(
      Activities.refundSucceeded(order.id, { refundId: id, status: null, netAmounts: net(before.order, before.lines) }, {
        refundId: id,
        status: 'SUCCEEDED',
        amount: refund.amount,
        tax: refund.taxAmount,
        processorReference: null,
        netAmounts: net(after.order, after.lines),
      }),
    );
    if (after.order.status !== order.status) entries.push(Activities.orderStatusChanged(order.id, order.status, after.order.status));
  }
  await appendActivity(tx, scope, at, idempotencyKey, entries);
  return refund;
}

// ---------------------------------------------------------------------------------------------
// createRefund

export function refundFailedError(refund: Pick<RefundRow, 'id' | 'failureReason' | 'processor'>): UserError {
  return userError(
    'PAYMENT_FAILED',
    `${refund.processor} refused refund ${refund.id} (${refund.failureReason ?? 'no reason given'}): nothing was refunded and its amount and units are refundable again. Check the payment at the processor, or refund another way.`,
    ['input'],
  );
}

async function storeFinalResult(db: Deps['db'], scope: Pick<Scope, 'merchantId' | 'livemode'>, key: string, result: CreateRefundResult): Promise<void> {
  const stored: StoredRefundResult = { refundId: result.refundId, orderId: result.orderId, userErrors: result.userErrors as unknown as Json, pending: false };
  await db.idempotencyKey.updateMany({
    where: { merchantId: scope.merchantId, livemode: scope.livemode, key, operation: 'createRefund' },
    data: { response: stored as Prisma.InputJsonValue },
  });
}

async function finalize(scope: Scope, key: string | null, result: CreateRefundResult): Promise<CreateRefundResult> {
  if (key !== null) await storeFinalResult(scope.deps.db, scope, key, result);
  return result;
}

/** A replay of a call still in progress waits for its final result (identical calls, identical payloads). */
async function awaitFinalResult(scope: Scope, key: string, stored: StoredRefundResult): Promise<CreateRefundResult> {
  const deadline = Date.now() + REPLAY_WAIT_MS;
  let current = stored;
  while (current.pending) {
    if (Date.now() > deadline) {
      return {
        refundId: current.refundId,
        orderId: current.orderId,
        userErrors: [
          userError(
            'IDEMPOTENCY_KEY_IN_USE',
            'The createRefund call with this idempotencyKey is still being processed. Retry the same request in a moment to get its result; it never refunds twice.',
            ['input', 'idempotencyKey'],
          ),
        ],
      };
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
    const row = await scope.deps.db.idempotencyKey.findUnique({ where: { merchantId_livemode_key: { merchantId: scope.merchantId, livemode: scope.livemode, key } } });
    if (row) current = row.response as unknown as StoredRefundResult;
  }
  return { refundId: current.refundId, orderId: current.orderId, userErrors: (current.userErrors as unknown as UserError[]) ?? [] };
}

/**
 * Refunds part or all of a captured payment: an amount (tax part proportional) or whole units of line
 * items (each unit's exact share of gross, discount and tax). Never throws for a business outcome.
 */
export async function createRefund(scope: Scope, input: CreateRefundInput): Promise<CreateRefundResult> {
  const invalid = validateRefundInput(input);
  if (invalid.length > 0) return { refundId: null, orderId: null, userErrors: invalid };
  const processor = processorOf(scope.deps);
  const key = input.idempotencyKey ?? null;

  // The next call of an order settles its refunds that are waiting for the processor.
  await settleWaitingRefunds(scope, { paymentIntentId: input.paymentIntentId });

  let created: { refund: RefundWithLines; intent: PaymentIntentRow } | null = null;
  let orderId: string | null = null;
  const { idempotencyKey: _key, ...rest } = input;
  const mutation = await runMutation<StoredRefundResult>({
    scope,
    operation: 'createRefund',
    input: { ...rest, idempotencyKey: key },
    run: async ({ tx, at, idempotencyKey }) => {
      const loaded = await loadState(tx, scope, input.paymentIntentId, true);
      if (!loaded) return fail(notFound('payment intent', input.paymentIntentId, ['input', 'paymentIntentId']));
      orderId = loaded.order.id;
      const stateError = refundStateError(loaded, processor.name);
      if (stateError) return fail(stateError);
      const planned = planRefund(loaded.state, input);
      if (!planned.ok) return planned;
      const refund = await writeRefund(tx, scope, at, idempotencyKey, loaded, planned.value, input.reason, processor.name);
      created = { refund, intent: loaded.intent };
      return ok({ refundId: refund.id, orderId: loaded.order.id, userErrors: [], pending: refund.status === 'PENDING' });
    },
  });
  if (mutation.replayed && mutation.outcome.ok) return awaitFinalResult(scope, key!, mutation.outcome.value);
  if (!mutation.outcome.ok) return { refundId: null, orderId, userErrors: mutation.outcome.errors };
  const made = created as { refund: RefundWithLines; intent: PaymentIntentRow } | null;
  if (!made) throw new Error('createRefund: no refund was written');
  if (made.refund.status !== 'PENDING') return { refundId: made.refund.id, orderId, userErrors: [] };
  const answer = await sendRefund(processor, made.refund, made.intent);
  const after = await applyRefundResult(scope.deps, made.refund.id, answer, scope.actor, key);
  return finalize(scope, key, { refundId: made.refund.id, orderId, userErrors: after.status === 'FAILED' ? [refundFailedError(after)] : [] });
}

function refundRequestOf(refund: RefundRow, intent: Pick<PaymentIntentRow, 'id' | 'processorReference'>): RefundRequest {
  return {
    idempotencyKey: refund.processorIdempotencyKey,
    refundId: refund.id,
    paymentIntentId: intent.id,
    processorPaymentReference: intent.processorReference ?? '',
    amount: refund.processorAmount,
    currency: refund.currency,
    reason: STRIPE_REASONS[refund.reason],
  };
}

async function sendRefund(processor: PaymentProcessor, refund: RefundRow, intent: Pick<PaymentIntentRow, 'id' | 'processorReference'>): Promise<ProcessorRefundResult> {
  let result: ProcessorRefundResult;
  try {
    result = await processor.createRefund(refundRequestOf(refund, intent));
  } catch (error) {
    // Unreachable processor, lost answer: the refund may or may not exist; the key settles it later.
    return { status: 'UNKNOWN', message: error instanceof Error ? error.message : String(error) };
  }
  if (result.status !== 'UNKNOWN' && result.status !== 'FAILED' && process.env.FLINT_TEST_CRASH_AFTER_REFUND === '1') {
    // Test hook (crash test only): die after the processor refunded and before our commit.
    console.error(`[flint] FLINT_TEST_CRASH_AFTER_REFUND: killing the process after refunding ${refund.id}`);
    process.kill(process.pid, 'SIGKILL');
    await new Promise(() => {});
  }
  return result;
}

// ---------------------------------------------------------------------------------------------
// tx2: writing the processor's answer (also webhooks and reconciliation)

/** Writes what the processor said about a refund, at most once per state change. Returns the refund afterwards. */
export async function applyRefundResult(deps: Deps, refundId: string, result: ProcessorRefundResult, actor: Actor, idempotencyKey: string | null = null): Promise<RefundRow> {
  if (result.status === 'UNKNOWN') return deps.db.refund.findUniqueOrThrow({ where: { id: refundId } });
  const applied = await transaction(deps, (tx, at) => applyRefundResultInTx(tx, at, deps, refundId, result, actor, idempotencyKey));
  return applied.refund;
}

/**
 * applyRefundResult inside the caller's transaction (webhooks record the event in the same one).
 * PENDING → SUCCEEDED or FAILED; SUCCEEDED → FAILED (a reversal); FAILED is final; anything else
 * changes nothing (except recording the processor's reference).
 */
export async function applyRefundResultInTx(
  tx: Tx,
  at: Date,
  deps: Deps,
  refundId: string,
  result: ProcessorRefundResult,
  actor: Actor,
  idempotencyKey: string | null = null,
): Promise<{ refund: RefundRow; changed: boolean }> {
  const first = await tx.refund.findUniqueOrThrow({ where: { id: refundId } });
  if (result.status === 'UNKNOWN') return { refund: first, changed: false };
  const scope = scopeFor(deps, first, actor);
  const locked = await tx.$queryRaw<{ id: string }[]>`
    SELECT id FROM "Order" WHERE id = ${first.orderId} AND "merchantId" = ${first.merchantId} AND livemode = ${first.livemode} FOR UPDATE`;
  if (locked.length === 0) throw new Error(`order ${first.orderId} of refund ${refundId} is missing`);
  const refund = await tx.refund.findUniqueOrThrow({ where: { id: refundId }, include: { lineItems: { orderBy: { position: 'asc' } } } });
  const reference = result.processorReference ?? refund.processorReference;
  const target: RefundStatus = result.status;
  const moves =
    (refund.status === 'PENDING' && (target === 'SUCCEEDED' || target === 'FAILED')) || (refund.status === 'SUCCEEDED' && target === 'FAILED');
  if (!moves) {
    if (refund.status !== 'FAILED' && reference !== refund.processorReference) {
      const updated = await tx.refund.update({ where: { id: refundId }, data: { processorReference: reference, updatedAt: at } });
      return { refund: updated, changed: false };
    }
    return { refund, changed: false };
  }
  const { lineItems: lines, ...order } = await tx.order.findUniqueOrThrow({ where: { id: refund.orderId }, include: { lineItems: { orderBy: { position: 'asc' } } } });
  const intent = await tx.paymentIntent.findUniqueOrThrow({ where: { id: refund.paymentIntentId } });
  const after = await moveRefund(tx, at, order, lines, refund, bucketOf(refund.status), bucketOf(target));
  const failureReason = result.status === 'FAILED' ? result.failureReason : null;
  const updated = await tx.refund.update({ where: { id: refundId }, data: { status: target, processorReference: reference, failureReason, updatedAt: at } });
  const entries: ActivityEntry[] = [];
  if (target === 'SUCCEEDED') {
    entries.push(
      Activities.refundSucceeded(order.id, { refundId, status: refund.status, netAmounts: net(order, lines) }, {
        refundId,
        status: 'SUCCEEDED',
        amount: refund.amount,
        tax: refund.taxAmount,
        processorReference: reference,
        netAmounts: net(after.order, after.lines),
      }),
    );
  } else {
    const left = intent.amount - intent.refundedAmount + refund.amount;
    entries.push(
      Activities.refundFailed(order.id, { refundId, status: refund.status, netAmounts: net(order, lines) }, {
        ...refundSnapshot({ ...refund, status: 'FAILED' }, lines),
        failureReason,
        processorReference: reference,
        givenBack: { amount: refund.amount, lineItems: refund.lineItems.map((l) => ({ lineItemId: l.lineItemId, quantity: l.quantity })) },
        netAmounts: net(after.order, after.lines),
        ...refundableSnapshot(after.order, after.lines, intent.status === 'SUCCEEDED' && left > 0n ? left : 0n),
      }),
    );
  }
  if (after.order.status !== order.status) entries.push(Activities.orderStatusChanged(order.id, order.status, after.order.status));
  await appendActivity(tx, scope, at, idempotencyKey, entries);
  return { refund: updated, changed: true };
}

// ---------------------------------------------------------------------------------------------
// Reconciliation: asking the processor about refunds that wait for an answer

/**
 * What became of a PENDING refund at the processor. When the processor never saw its key, the very
 * same request is sent again under the same key (deduped: at most one refund) — unless the processor
 * may have forgotten the key by now; then the refund is given up as interrupted (nothing was refunded).
 */
export async function askProcessorAboutRefund(deps: Deps, processor: PaymentProcessor, refund: RefundRow): Promise<ProcessorRefundResult> {
  if (refund.processor !== processor.name) {
    return { status: 'UNKNOWN', message: `refund ${refund.id} belongs to ${refund.processor}; this server uses ${processor.name}` };
  }
  const intent = await deps.db.paymentIntent.findUniqueOrThrow({ where: { id: refund.paymentIntentId } });
  const known = await processor.retrieveRefund({
    idempotencyKey: refund.processorIdempotencyKey,
    processorReference: refund.processorReference,
    refundId: refund.id,
    processorPaymentReference: intent.processorReference,
  });
  if (known) return known;
  if (deps.clock.now().getTime() - refund.createdAt.getTime() > REPLAY_WINDOW_MS) {
    return { status: 'FAILED', processorReference: null, failureReason: 'processing_interrupted' };
  }
  return sendRefund(processor, refund, intent);
}

/** Completes the stored result of a createRefund call whose process died before it could. */
async function finalizeOrphanedKey(deps: Deps, refund: RefundRow): Promise<void> {
  const key = refund.requestKey;
  if (!key) return;
  const row = await deps.db.idempotencyKey.findUnique({ where: { merchantId_livemode_key: { merchantId: refund.merchantId, livemode: refund.livemode, key } } });
  const stored = row?.response as unknown as StoredRefundResult | undefined;
  if (!row || row.operation !== 'createRefund' || !stored?.pending || stored.refundId !== refund.id) return;
  await storeFinalResult(deps.db, refund, key, { refundId: refund.id, orderId: refund.orderId, userErrors: refund.status === 'FAILED' ? [refundFailedError(refund)] : [] });
}

/** Asks the processor about one PENDING refund and writes the answer. */
export async function refreshRefund(deps: Deps, refundId: string, actor: Actor = REFUND_ACTOR): Promise<RefundRow | null> {
  const refund = await deps.db.refund.findUnique({ where: { id: refundId } });
  if (!refund || refund.status !== 'PENDING') return refund;
  const answer = await askProcessorAboutRefund(deps, processorOf(deps), refund);
  const after = await applyRefundResult(deps, refund.id, answer, actor);
  if (answer.status !== 'UNKNOWN') await finalizeOrphanedKey(deps, after);
  return after;
}

/**
 * The "next call" reconciliation: PENDING refunds of the order (found by the intent or the order, in
 * the caller's merchant and mode) that the processor already answered PENDING, or that have been in
 * flight for over a minute (their call probably died), are asked about again. Never throws.
 */
async function settleWaitingRefunds(scope: Scope, where: { paymentIntentId: string } | { orderId: string }): Promise<void> {
  try {
    const own = { merchantId: scope.merchantId, livemode: scope.livemode };
    let orderId: string | null = null;
    if ('orderId' in where) orderId = where.orderId;
    else orderId = (await scope.deps.db.paymentIntent.findFirst({ where: { id: where.paymentIntentId, ...own }, select: { orderId: true } }))?.orderId ?? null;
    if (!orderId) return;
    const staleBefore = new Date(scope.deps.clock.now().getTime() - IN_FLIGHT_MS);
    const waiting = await scope.deps.db.refund.findMany({
      where: { orderId, ...own, status: 'PENDING', OR: [{ processorReference: { not: null } }, { createdAt: { lt: staleBefore } }] },
      orderBy: { id: 'asc' },
      select: { id: true },
    });
    for (const { id } of waiting) await refreshRefund(scope.deps, id, REFUND_ACTOR);
  } catch (error) {
    console.error('settling waiting refunds failed', error);
  }
}

/**
 * Start-up pass: every PENDING refund of this server's processor is asked about (a previous process
 * may have died between the processor's answer and our commit), and orphaned createRefund results are
 * completed. Safe to run at any time and in several processes at once.
 */
export async function reconcilePendingRefunds(deps: Deps, log: (message: string) => void = () => {}): Promise<{ reconciled: number; stillPending: number }> {
  const processor = processorOf(deps);
  const pending = await deps.db.refund.findMany({ where: { status: 'PENDING', processor: processor.name }, orderBy: { id: 'asc' } });
  let reconciled = 0;
  let stillPending = 0;
  for (const refund of pending) {
    try {
      const after = await refreshRefund(deps, refund.id, REFUND_ACTOR);
      if (after?.status === 'PENDING') stillPending += 1;
      else reconciled += 1;
      log(`reconciled refund ${refund.id}: ${after?.status ?? 'missing'}`);
    } catch (error) {
      stillPending += 1;
      console.error(`reconciling refund ${refund.id} failed`, error);
    }
  }
  return { reconciled, stillPending };
}

// ---------------------------------------------------------------------------------------------
// Stripe webhooks: refund.created / refund.updated / refund.failed / charge.refund.updated carry a
// Refund; charge.refunded carries the Charge (with its refunds when Stripe includes them).

export interface RefundEventOutcome {
  outcome: 'applied' | 'unchanged' | 'recorded';
  paymentIntentId: string | null;
  /** Our PENDING refunds to ask Stripe about after commit (charge.refunded without its refund list). */
  refresh: string[];
}

/** Our refund behind a Stripe Refund: by our metadata (flint_refund_id), else by Stripe's id. */
async function findStripeRefund(tx: Tx, livemode: boolean, object: Stripe.Refund): Promise<RefundRow | null> {
  const ours = object.metadata?.flint_refund_id;
  const byMetadata = ours ? await tx.refund.findFirst({ where: { id: ours, processor: 'STRIPE', livemode } }) : null;
  return byMetadata ?? tx.refund.findFirst({ where: { processor: 'STRIPE', livemode, processorReference: object.id } });
}

/** Applies a Stripe refund event inside the webhook's transaction; each state change happens once. */
export async function applyStripeRefundEvent(tx: Tx, at: Date, deps: Deps, event: Stripe.Event): Promise<RefundEventOutcome> {
  const actor: Actor = { type: 'WEBHOOK', id: event.id, name: `stripe ${event.type}` };
  const objects: Stripe.Refund[] = [];
  const refresh: string[] = [];
  let paymentIntentId: string | null = null;
  if (event.type === 'charge.refunded') {
    const charge = event.data.object as Stripe.Charge;
    const listed = (charge.refunds as { data?: Stripe.Refund[] } | null | undefined)?.data;
    if (listed && listed.length > 0) objects.push(...listed);
    else if (typeof charge.payment_intent === 'string') {
      const intent = await tx.paymentIntent.findFirst({ where: { processor: 'STRIPE', livemode: event.livemode, processorReference: charge.payment_intent } });
      if (intent) {
        paymentIntentId = intent.id;
        const waiting = await tx.refund.findMany({ where: { paymentIntentId: intent.id, status: 'PENDING' }, select: { id: true } });
        refresh.push(...waiting.map((r) => r.id));
      }
    }
  } else {
    objects.push(event.data.object as Stripe.Refund);
  }
  let matched = false;
  let changed = false;
  for (const object of objects) {
    const refund = await findStripeRefund(tx, event.livemode, object);
    if (!refund) continue;
    matched = true;
    paymentIntentId = refund.paymentIntentId;
    const applied = await applyRefundResultInTx(tx, at, deps, refund.id, stripeRefundResult(object), actor);
    changed ||= applied.changed;
  }
  return { outcome: changed ? 'applied' : matched ? 'unchanged' : 'recorded', paymentIntentId, refresh };
}

// ---------------------------------------------------------------------------------------------
// refundPreview: the same computation, nothing written

export interface RefundPreviewResult {
  plan: RefundPlan | null;
  currency: string | null;
  /** The refunded lines (with their order's currency and status, for the GraphQL LineItem type). */
  lines: (LineRow & { order: { currency: string; status: OrderStatus } })[];
  resultingStatus: OrderStatus | null;
  resultingNetAmounts: NetAmounts | null;
  userErrors: UserError[];
}

/**
 * What createRefund would do with the same input, as the order is now: amount, tax part, lines, and the
 * order's netAmounts and status once that refund has succeeded (other PENDING refunds left as they
 * are). Or the userErrors createRefund would return. Reads only.
 */
export async function previewRefund(scope: Scope, input: RefundPreviewInput): Promise<RefundPreviewResult> {
  const none = (userErrors: UserError[]): RefundPreviewResult => ({ plan: null, currency: null, lines: [], resultingStatus: null, resultingNetAmounts: null, userErrors });
  const invalid = validateRefundInput(input);
  if (invalid.length > 0) return none(invalid);
  const processor = processorOf(scope.deps);
  return scope.deps.db.$transaction(
    async (tx) => {
      const loaded = await loadState(tx, scope, input.paymentIntentId, false);
      if (!loaded) return none([notFound('payment intent', input.paymentIntentId, ['input', 'paymentIntentId'])]);
      const stateError = refundStateError(loaded, processor.name);
      if (stateError) return none([stateError]);
      const planned = planRefund(loaded.state, input);
      if (!planned.ok) return none(planned.errors);
      const plan = planned.value;
      const { order, lines } = loaded;
      const succeeded: OrderRow = {
        ...order,
        refundedAmount: order.refundedAmount + plan.amount,
        refundedSubtotalAmount: order.refundedSubtotalAmount + plan.gross,
        refundedDiscountAmount: order.refundedDiscountAmount + plan.discount,
        refundedTaxAmount: order.refundedTaxAmount + plan.tax,
      };
      const afterLines = lines.map((l) => ({ ...l, refundedQuantity: l.refundedQuantity + (plan.lines.find((p) => p.lineItemId === l.id)?.quantity ?? 0) }));
      return {
        plan,
        currency: order.currency,
        lines: lines.filter((l) => plan.lines.some((p) => p.lineItemId === l.id)).map((l) => ({ ...l, order: { currency: order.currency, status: order.status } })),
        resultingStatus: statusAfterRefunds(succeeded, afterLines),
        resultingNetAmounts: orderNetAmounts(succeeded, afterLines),
        userErrors: [],
      };
    },
    { maxWait: 10_000, timeout: 30_000, isolationLevel: 'RepeatableRead' },
  );
}

// ---------------------------------------------------------------------------------------------
// closeOrder

export interface CloseOrderInput {
  orderId: string;
  idempotencyKey?: string | null;
}

function allowedNow(order: OrderRow, lines: LineRow[], except: string): string {
  const allowed = orderActions(order, lines).filter((g) => g.allowed && g.action !== except);
  return allowed.length === 0 ? 'No other action is available now.' : `Allowed now: ${allowed.map((g) => `${g.action} (${ACTIONS[g.action].mutation})`).join(', ')}.`;
}

/**
 * Closes a settled order (PAID, PARTIALLY_REFUNDED or REFUNDED): CLOSED is final, nothing changes
 * afterwards, refunds included. Refused while a refund is still PENDING at the processor.
 */
const PENDING_REFUNDS_SQL = `SELECT "id" FROM "Refund" WHERE "orderId" = $1 AND "status" = 'PENDING' ORDER BY "id"`;

export async function closeOrder(scope: Scope, input: CloseOrderInput): Promise<Outcome<WrittenOrder>> {
  await settleWaitingRefunds(scope, { orderId: input.orderId });
  return editOrder(scope, 'closeOrder', { ...input }, 'CLOSE', async ({ order, lines }) => {
    // (Reserving a refund changes the order's version, so one reserved after this read refuses this write.)
    const pending = await readRows<{ id: string }>(sqlPool(scope.deps.db), 'flint_pending_refunds', PENDING_REFUNDS_SQL, [order.id]);
    if (pending.length > 0) {
      return fail(
        userError(
          'INVALID_STATE_TRANSITION',
          `Cannot CLOSE (closeOrder): refund ${pending.map((r) => r.id).join(', ')} of this order is still PENDING at the processor, and a CLOSED order never changes again. Call closeOrder again once Order.refunds shows none PENDING. ${allowedNow(order, lines, 'CLOSE')}`,
          ['input', 'orderId'],
        ),
      );
    }
    return ok({
      order: { ...order, status: orderStatusAfter(order.status, 'CLOSE', 'CLOSED') },
      lines,
      reprice: false,
      activity: (before, after) => [
        Activities.orderClosed(order.id, { status: before.order.status, netAmounts: net(before.order, before.lines) }, { status: after.order.status, netAmounts: net(after.order, after.lines) }),
        Activities.orderStatusChanged(order.id, before.order.status, after.order.status),
      ],
    });
  });
}

export { planStripeRefundEvent, type StripeRefundEventPlan } from '../refunds/stripe-events.js';
