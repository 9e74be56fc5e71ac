// Recording what a processor said about refunds: createRefund's second write, reconciliation, and Stripe
// refund events all plan the same write here. PENDING → SUCCEEDED or FAILED, SUCCEEDED → FAILED (a
// reversal); FAILED is final, so late or out-of-order answers cannot resurrect a refund; anything else
// changes nothing but the processor's reference.
//
// The write is guarded by each refund's status as read and by the order's version (and the intents'
// reservations): an answer recorded twice, or concurrently with another, moves the refund once — the
// second plan sees the first one's outcome. `finish` stores a call's final result in the same write as
// the outcome, so an idempotency key is never left pending once the outcome is known.
import type { Actor, Deps } from '../kernel/context.js';
import type { LineRow, OrderRow } from '../orders/order-model.js';
import { Activities, activityRows, type ActivityEntry } from '../audit/activity.js';
import { submitWrite } from '../kernel/write-path.js';
import { refundStatusAfter } from '../kernel/transitions.js';
import type { Guard, Op, Write } from '../kernel/writer.js';
import type { RefundResult as ProcessorRefundResult } from '../payments/index.js';
import { bookOps, bucketOf, moveRefund, net, refundableSnapshot, refundSnapshot, type Books } from './bookkeeping.js';
import { loadRecordState, scopeOfRow, type RecordState, type RefundRow, type RefundStatus } from './model.js';
import { oneAtATime } from './one-at-a-time.js';

export interface RefundAnswer {
  refundId: string;
  result: ProcessorRefundResult;
}

export interface RecordPlan {
  /** null: nothing to write. */
  write: Omit<Write, 'at'> | null;
  /** Each answered refund as the write leaves it. */
  after: Map<string, RefundRow>;
  /** Some refund changed status. */
  changed: boolean;
  /** The order and its lines as the write leaves them. */
  order: OrderRow;
  lines: LineRow[];
}

/** Makes the `finish` of the write from the refunds as it leaves them (null: nothing to finish). */
export type FinishOf = (after: Map<string, RefundRow>) => Write['finish'];

/** The write that records `answers` on `state` (answers about refunds not in it are left out). */
export function planRecords(deps: Deps, state: RecordState, answers: RefundAnswer[], at: Date, actor: Actor, idempotencyKey: string | null, finish?: FinishOf): RecordPlan {
  const start: Books = { order: state.order, lines: state.lines, intents: state.intents };
  let books = start;
  const after = new Map<string, RefundRow>();
  const updated = new Map<string, RefundRow>();
  const readStatus = new Map<string, RefundStatus>();
  const entries: ActivityEntry[] = [];
  let moved = false;
  for (const { refundId, result } of answers) {
    const read = state.refunds.find((r) => r.id === refundId);
    if (!read) continue;
    readStatus.set(refundId, read.status);
    const { lineItems: _lines, ...current } = { ...read, ...updated.get(refundId) };
    after.set(refundId, current);
    if (result.status === 'UNKNOWN') continue;
    const reference = result.processorReference ?? current.processorReference;
    const target: RefundStatus = result.status;
    const moves = (current.status === 'PENDING' && (target === 'SUCCEEDED' || target === 'FAILED')) || (current.status === 'SUCCEEDED' && target === 'FAILED');
    if (!moves) {
      if (current.status !== 'FAILED' && reference !== current.processorReference) {
        const next = { ...current, processorReference: reference, updatedAt: at };
        updated.set(refundId, next);
        after.set(refundId, next);
      }
      continue;
    }
    const refund = { ...read, ...current };
    const before = books;
    books = moveRefund(books, refund, bucketOf(current.status), bucketOf(target));
    moved = true;
    const failureReason = result.status === 'FAILED' ? result.failureReason : null;
    const next: RefundRow = { ...current, status: refundStatusAfter(current.status, target), processorReference: reference, failureReason, updatedAt: at };
    updated.set(refundId, next);
    after.set(refundId, next);
    const { order, lines } = before;
    if (target === 'SUCCEEDED') {
      entries.push(
        Activities.refundSucceeded(order.id, { refundId, status: current.status, netAmounts: net(order, lines) }, {
          refundId,
          status: 'SUCCEEDED',
          amount: refund.amount,
          tax: refund.taxAmount,
          processorReference: reference,
          netAmounts: net(books.order, books.lines),
        }),
      );
    } else {
      const intent = books.intents.get(refund.paymentIntentId)!;
      const left = intent.amount - intent.refundedAmount;
      entries.push(
        Activities.refundFailed(order.id, { refundId, status: current.status, netAmounts: net(order, lines) }, {
          ...refundSnapshot({ ...refund, status: 'FAILED' }, lines),
          failureReason,
          processorReference: reference,
          givenBack: { amount: refund.amount, lineItems: refund.lineItems.map((l) => ({ lineItemId: l.lineItemId, quantity: l.quantity })) },
          netAmounts: net(books.order, books.lines),
          ...refundableSnapshot(books.order, books.lines, intent.status === 'SUCCEEDED' && left > 0n ? left : 0n),
        }),
      );
    }
    if (books.order.status !== order.status) entries.push(Activities.orderStatusChanged(order.id, order.status, books.order.status));
  }
  const finished = finish ? finish(after) : null;
  if (updated.size === 0 && !finished) return { write: null, after, changed: false, order: state.order, lines: state.lines };
  const ops: Op[] = [];
  const guards: Guard[] = [];
  let order = state.order;
  if (moved) {
    const written = bookOps(start, books, at);
    ops.push(...written.ops);
    guards.push(...written.guards);
    order = written.order;
  }
  if (updated.size > 0) {
    ops.push({
      kind: 'update',
      table: 'Refund',
      rows: [...updated.values()].map((r) => ({ id: r.id, status: r.status, processorReference: r.processorReference, failureReason: r.failureReason, updatedAt: at })),
    });
  }
  // Every answered refund as read: a finish written for a refund that moved meanwhile would be stale.
  for (const [id, status] of readStatus) guards.push({ table: 'Refund', id, match: { status }, exclusive: updated.has(id) });
  const scope = scopeOfRow(deps, state.order, actor);
  return {
    write: {
      merchantId: state.order.merchantId,
      livemode: state.order.livemode,
      guards,
      ops,
      finish: finished,
      activity: activityRows(scope, actor, at, idempotencyKey, entries),
    },
    after,
    changed: moved,
    order,
    lines: books.lines,
  };
}

/** A record must be written (the processor has answered): it plans again for a long while before giving up. */
const MAX_ATTEMPTS = 200;

export interface RecordOptions {
  /** The createRefund call's key (its entries carry it). */
  idempotencyKey?: string | null;
  finish?: FinishOf;
  /** The refunds' payment, when known: the write takes its turn among this process's refund writes of it. */
  paymentIntentId?: string;
  /** The state as the caller just wrote it: the first plan is made on it without reading (a stale one is refused by the guards). */
  known?: RecordState;
}

/**
 * Records `answers` (about refunds of one order) in one guarded write, planning again on what is
 * current while the write is refused. Returns the refunds as recorded, or null when none exists.
 */
export async function recordRefundAnswers(
  deps: Deps,
  answers: RefundAnswer[],
  actor: Actor,
  options: RecordOptions = {},
): Promise<Omit<RecordPlan, 'write'> | null> {
  if (options.paymentIntentId) {
    const { paymentIntentId, ...rest } = options;
    return oneAtATime(paymentIntentId, () => recordRefundAnswers(deps, answers, actor, rest));
  }
  const ids = [...new Set(answers.map((a) => a.refundId))];
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const state = attempt === 0 && options.known ? options.known : await loadRecordState({ deps }, ids);
    if (!state) return null;
    const at = deps.clock.now();
    const plan = planRecords(deps, state, answers, at, actor, options.idempotencyKey ?? null, options.finish);
    if (!plan.write) return plan;
    const outcome = await submitWrite(scopeOfRow(deps, state.order, actor), { ...plan.write, at });
    if (outcome.ok) return plan;
    if (attempt >= 2) await new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(2 * attempt, 50)));
  }
  throw new Error(`recording the processor's answer about refund ${ids.join(', ')} was refused ${MAX_ATTEMPTS} times`);
}

/** Records one answer; returns the refund as recorded (null when it does not exist). */
export async function recordRefundAnswer(
  deps: Deps,
  refundId: string,
  result: ProcessorRefundResult,
  actor: Actor,
  options: RecordOptions = {},
): Promise<RefundRow | null> {
  return (await recordRefundAnswerWithOrder(deps, refundId, result, actor, options))?.refund ?? null;
}

/** recordRefundAnswer, with the order and lines as recorded. */
export async function recordRefundAnswerWithOrder(
  deps: Deps,
  refundId: string,
  result: ProcessorRefundResult,
  actor: Actor,
  options: RecordOptions = {},
): Promise<{ refund: RefundRow; order: OrderRow; lines: LineRow[] } | null> {
  const recorded = await recordRefundAnswers(deps, [{ refundId, result }], actor, options);
  const refund = recorded?.after.get(refundId);
  return recorded && refund ? { refund, order: recorded.order, lines: recorded.lines } : null;
}
