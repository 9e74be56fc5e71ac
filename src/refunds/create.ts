// createRefund and refundPreview: by whole units of line items or by an amount, never more than what
// is left, never twice.
//
// createRefund follows the pending-result protocol (src/kernel/pending-result.ts):
//   1. reserve (runWrite, claiming the key with `{ refundId, orderId, userErrors: [], pending: true }`):
//      plan on the state read with plain SQL (model.ts) — the refund computed by planRefund, the same
//      function refundPreview runs — and write in one guarded write the PENDING Refund and its lines,
//      the reservation on the payment intent, the lines and the order (order version + 1), and
//      refund.created. The guards are the order's version and status as read and the intent as read:
//      of concurrent refunds of one order one write passes per round, the others plan again and see its
//      reservation, so the limits hold exactly (CHECK constraints back them; a violation is a refused
//      write, planned again).
//   2. the processor call, outside any write, under the processor idempotency key `flint_re_<id>`.
//   3. record (record.ts): the processor's answer and the call's final result in one write.
// A replay of a call in progress waits for its final result (IDEMPOTENCY_KEY_IN_USE after a while). A
// refund that waits for the processor (answered PENDING, or in flight for over a minute) is asked
// about by the next createRefund of its order before it plans (reconcile.ts).
//
// Decisions where pricing.md is silent:
// - A refund returning <= 0 (pricing.md §7 lets one unit's discount share exceed its gross share), or
//   whose amount is entirely netted against such a share (refund-plan.ts), is not sent to a processor:
//   it is SUCCEEDED at once in the reserve write (processor "NONE").
// - A refund the processor refuses at once comes back with the refund (FAILED, failureReason) and the
//   userError PAYMENT_FAILED, like a declined payment; its amount and units are refundable again.
// - The refund that leaves nothing of the order's total takes all remaining tax (refund-plan.ts).
import type { Scope } from '../kernel/context.js';
import { Activities, type ActivityEntry } from '../audit/activity.js';
import { type UserError, fail, notFound, ok, userError } from '../kernel/errors.js';
import type { Json } from '../kernel/json.js';
import { orderNetAmounts, type LineRow, type OrderRow } from '../orders/order-model.js';
import { runWrite, type PlannedWrite } from '../kernel/write-path.js';
import { awaitFinalResult, finishKey } from '../kernel/pending-result.js';
import type { Op } from '../kernel/writer.js';
import type { NetAmounts, OrderStatus } from '../pricing/index.js';
import { newId } from '../ids.js';
import { processorOf, refundIdempotencyKey } from '../payments/index.js';
import { bookOps, bucketOf, moveRefund, net, refundableSnapshot, refundSnapshot, statusAfterRefunds, type Books } from './bookkeeping.js';
import {
  CREATE_REFUND,
  finalResultOf,
  loadRefundState,
  NO_PROCESSOR,
  refundFailedError,
  refundStateError,
  type CreateRefundInput,
  type CreateRefundResult,
  type PaymentIntentRow,
  type RefundPreviewInput,
  type RefundReason,
  type RefundState,
  type RefundWithLines,
  type StoredRefundResult,
} from './model.js';
import { sendRefund } from './processor-calls.js';
import { recordRefundAnswerWithOrder } from './record.js';
import { oneAtATime } from './one-at-a-time.js';
import { IN_FLIGHT_MS, settleRefunds } from './reconcile.js';
import { intentLeft, planRefund, validateRefundInput, type RefundPlan } from './refund-plan.js';

const REPLAY_WAIT_MS = 30_000;
/** A plan's answer (never returned) meaning: settle the waiting refunds, then plan again. */
const SETTLE_FIRST: UserError = userError('INVALID_STATE_TRANSITION', 'settle the waiting refunds first', []);

function staleBefore(at: Date): Date {
  return new Date(at.getTime() - IN_FLIGHT_MS);
}

/** The reserve write of a planned refund: the refund and its lines, the reservation, refund.created. */
function reservation(
  scope: Scope,
  at: Date,
  requestKey: string | null,
  loaded: RefundState,
  plan: RefundPlan,
  reason: RefundReason,
  processorName: string,
): { refund: RefundWithLines; write: PlannedWrite; order: OrderRow; lines: LineRow[]; intent: PaymentIntentRow } {
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
    requestKey,
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
  const before: Books = { order, lines, intents: new Map([[intent.id, intent]]) };
  const after = moveRefund(before, refund, 'none', bucketOf(refund.status));
  const books = bookOps(before, after, at);
  // The plan read the intent's status and reservation: it must still have them.
  if (!books.guards.some((g) => g.table === 'PaymentIntent')) {
    books.guards.push({ table: 'PaymentIntent', id: intent.id, match: { status: intent.status, refundedAmount: Number(intent.refundedAmount) }, exclusive: false });
  }
  const { lineItems, ...row } = refund;
  const ops: Op[] = [{ kind: 'insert', table: 'Refund', rows: [row] }];
  if (lineItems.length > 0) ops.push({ kind: 'insert', table: 'RefundLineItem', rows: lineItems });
  ops.push(...books.ops);

  const intentBefore = intentLeft(loaded.state.intent);
  const intentAfter = intentBefore - plan.amount > 0n ? intentBefore - plan.amount : 0n;
  const entries: ActivityEntry[] = [
    Activities.refundCreated(order.id, refundableSnapshot(order, lines, intentBefore), {
      ...refundSnapshot(refund, lines),
      processor: refund.processor,
      ...refundableSnapshot(after.order, after.lines, intentAfter),
    }),
  ];
  if (refund.status === 'SUCCEEDED') {
    entries.push(
      Activities.refundSucceeded(order.id, { refundId: id, status: null, netAmounts: net(order, lines) }, {
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
  const reservedIntent = { ...after.intents.get(intent.id)!, updatedAt: at };
  return { refund, write: { guards: books.guards, ops, entries }, order: books.order, lines: after.lines, intent: reservedIntent };
}

/** The reserve's refund, its payment, and the rows as the reserve wrote them. */
interface Made {
  refund: RefundWithLines;
  intent: PaymentIntentRow;
  written: NonNullable<CreateRefundResult['written']>;
}

function inUse(stored: StoredRefundResult): CreateRefundResult {
  return {
    refundId: stored.refundId,
    orderId: stored.orderId,
    userErrors: [
      userError(
        'IDEMPOTENCY_KEY_IN_USE',
        'The createRefund call with this idempotencyKey is still being processed. Retry the same request in a moment to get its result; it never refunds twice.',
        ['input', 'idempotencyKey'],
      ),
    ],
  };
}

function resultOf(stored: StoredRefundResult): CreateRefundResult {
  return { refundId: stored.refundId, orderId: stored.orderId, userErrors: (stored.userErrors as unknown as UserError[]) ?? [] };
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
  const { idempotencyKey: _key, ...rest } = input;

  let made: Made | null = null;
  let orderId: string | null = null;
  // Its refunds that wait for the processor are settled first, outside the payment's turn (below).
  let settling = true;
  let waiting: string[] = [];
  const reserve = () =>
    oneAtATime(input.paymentIntentId, () =>
      runWrite<StoredRefundResult>({
        scope,
        operation: CREATE_REFUND,
        input: { ...rest, idempotencyKey: key },
        plan: async (at, idempotencyKey) => {
          made = null;
          const loaded = await loadRefundState(scope, input.paymentIntentId, staleBefore(at));
          if (!loaded) return fail(notFound('payment intent', input.paymentIntentId, ['input', 'paymentIntentId']));
          orderId = loaded.order.id;
          if (loaded.waiting.length > 0 && settling) {
            waiting = loaded.waiting;
            return fail(SETTLE_FIRST);
          }
          const stateError = refundStateError(loaded, processor.name);
          if (stateError) return fail(stateError);
          const planned = planRefund(loaded.state, input);
          if (!planned.ok) return planned;
          const reserved = reservation(scope, at, idempotencyKey, loaded, planned.value, input.reason, processor.name);
          made = {
            refund: reserved.refund,
            intent: reserved.intent,
            written: { refund: reserved.refund, order: reserved.order, lines: reserved.lines },
          };
          const result: StoredRefundResult = { refundId: reserved.refund.id, orderId: loaded.order.id, userErrors: [] as Json, pending: reserved.refund.status === 'PENDING' };
          return ok({ result, write: reserved.write });
        },
      }),
    );
  let { outcome, replayed } = await reserve();
  if (!outcome.ok && outcome.errors[0] === SETTLE_FIRST) {
    // The next call of an order first settles its refunds that are waiting for the processor.
    await settleRefunds(scope.deps, waiting);
    settling = false;
    ({ outcome, replayed } = await reserve());
  }
  if (replayed && outcome.ok) {
    const final = await awaitFinalResult(scope, key!, outcome.value, REPLAY_WAIT_MS);
    return final ? resultOf(final) : inUse(outcome.value);
  }
  if (!outcome.ok) return { refundId: null, orderId, userErrors: outcome.errors };
  const m = made as Made | null;
  if (!m) throw new Error('createRefund: no refund was written');
  if (m.refund.status !== 'PENDING') return { refundId: m.refund.id, orderId, userErrors: [], written: m.written };

  const answer = await sendRefund(processor, m.refund, m.intent);
  if (answer.status !== 'UNKNOWN' && answer.status !== 'FAILED') await scope.deps.testHooks?.afterRefundSent?.(m.refund.id);
  const recorded = await recordRefundAnswerWithOrder(scope.deps, m.refund.id, answer, scope.actor, {
    paymentIntentId: m.intent.id,
    // The record is planned on the rows the reserve wrote (refused, and read again, if they moved on).
    known: { order: m.written.order, lines: m.written.lines, intents: new Map([[m.intent.id, m.intent]]), refunds: [m.refund] },
    idempotencyKey: key,
    finish: (recorded) => finishKey(key, finalResultOf(recorded.get(m.refund.id)!)),
  });
  if (!recorded) throw new Error(`createRefund: refund ${m.refund.id} is missing`);
  const after = recorded.refund;
  return {
    refundId: after.id,
    orderId,
    userErrors: after.status === 'FAILED' ? [refundFailedError(after)] : [],
    written: { refund: { ...after, lineItems: m.refund.lineItems }, order: recorded.order, lines: recorded.lines },
  };
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
  const loaded = await loadRefundState(scope, input.paymentIntentId, staleBefore(scope.deps.clock.now()));
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
}
