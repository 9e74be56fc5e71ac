// Recording what a processor said about a payment intent: one write, planned on the intent and the
// order as read, guarded by the intent's status and the order's version. Whoever brings the answer —
// payOrder after its processor call, the settling of an open intent, start-up reconciliation, a Stripe
// webhook, the sandbox's authentication page — records it through planChargeRecord, so the rules are
// written once (guards: the intent's status and the order's version and status, as read):
//
// - An answer moves an open intent (PROCESSING, REQUIRES_ACTION) forward; once settled nothing moves
//   it, except a success reported late on a FAILED or CANCELED intent (the money was captured, so it
//   must be on the order). Every status goes through the tables (paymentStatusAfter, orderStatusAfter).
// - SUCCEEDED: the intent, the order's paidAmount (and PAID when the balance reaches 0, version + 1), the
//   checkout session's completion, the receipt and its outbox message, and the entries — one write.
// - FAILED or CANCELED on an OPEN order: the coupon redemptions the reservation counted are given back
//   in the same write (a redemption counts only when the order is paid, pricing.md §4).
// - The final result of the payOrder call the attempt belongs to is stored in the same write (`finish`),
//   so a key is never pending once its outcome is known.
// - A refused write (the intent or the order moved on meanwhile) is planned again on what is current.
import type { Actor, Deps } from '../kernel/context.js';
import { Activities, activityRows, type ActivityEntry } from '../audit/activity.js';
import { orderNetAmounts, type OrderRow } from '../orders/order-model.js';
import { receiptOps, kickOutbox } from './receipts.js';
import { scopeFor } from './common.js';
import { loadOrderState, orderGuard, orderUpdate, type OrderState } from '../orders/order-state.js';
import { submitWrite } from '../kernel/write-path.js';
import { finishKey } from '../kernel/pending-result.js';
import { orderStatusAfter, paymentStatusAfter } from '../kernel/transitions.js';
import type { PaymentIntentStatus } from '../pricing/index.js';
import type { Guard, Op, Write } from '../kernel/writer.js';
import type { PaymentIntent as PaymentIntentRow } from '../generated/prisma/client.js';
import type { ChargeResult } from '../kernel/processor.js';
import { finalResultOf, isOpen, toStored, type PayOrderResult, type StoredPayResult } from './attempts.js';
import { attemptsOf, merchantName, readCheckoutSession, readIntent, readKey } from './intent-reads.js';

export interface RecordOptions {
  actor: Actor;
  /** The idempotency key the entries carry (the payOrder call that made the attempt), else null. */
  activityKey?: string | null;
  /** The final result of the caller's own payOrder call, given the intent as it will be (null: not final yet). */
  final?: ((after: PaymentIntentRow) => { key: string; result: PayOrderResult } | null) | null;
  /**
   * Finish the payOrder call the intent belongs to (its requestKey), rebuilt from its attempts, when
   * its key is still pending: 'failures' also when the last attempt failed (nobody is running the call).
   */
  orphan?: 'success' | 'failures' | null;
  /** More rows for the same write (a webhook's event row), given whether the intent changes. */
  extraOps?: (changed: boolean) => Op[];
}

/** An order and its lines, as read or as written. */
export type OrderAndLines = Pick<OrderState, 'order' | 'lines'>;

/** What the caller already holds of the order (its reservation's rows), and the merchant's name if read. */
export type KnownOrder = OrderAndLines & { merchantName?: string | null };

export interface RecordPlan {
  /** Null when nothing is to be written. */
  write: Write | null;
  /** The intent as it is after the write. */
  after: PaymentIntentRow;
  /** The order and its lines as they are after the write (null unless the write guards the order). */
  order: OrderAndLines | null;
  changed: boolean;
  receiptQueued: boolean;
}

const INTENT_RESULT_COLUMNS = ['status', 'processorReference', 'nextActionUrl', 'failureCode', 'declineCode', 'failureMessage', 'updatedAt'] as const;

function intentUpdate(intent: PaymentIntentRow): Op {
  const row: Record<string, unknown> = { id: intent.id };
  for (const c of INTENT_RESULT_COLUMNS) row[c] = intent[c];
  return { kind: 'update', table: 'PaymentIntent', rows: [row] };
}

function snapshot(intent: PaymentIntentRow) {
  return { paymentIntentId: intent.id, status: intent.status };
}

/** The `finish` of the call the intent belongs to, rebuilt from its attempts, if its key is still pending. */
async function orphanFinish(deps: Deps, intent: PaymentIntentRow, after: PaymentIntentRow, includeFailures: boolean): Promise<Write['finish']> {
  const key = intent.requestKey;
  if (!key) return null;
  const [row, attempts] = await Promise.all([readKey(deps, intent, key), attemptsOf(deps, intent, intent.orderId, key)]);
  const stored = row?.response as StoredPayResult | null | undefined;
  if (!row || row.operation !== 'payOrder' || !stored?.pending) return null;
  const final = finalResultOf(
    intent.orderId,
    attempts.map((a) => (a.id === after.id ? after : a)),
    includeFailures,
  );
  return final ? finishKey(key, toStored(final)) : null;
}

/**
 * The write that records `result` for `intent` (as read), or none when it changes nothing and no
 * final result is to be stored. Reads the order (and, as needed, the merchant's name for the receipt,
 * the checkout session, the call's key and attempts) in parallel.
 */
export async function planChargeRecord(
  deps: Deps,
  intent: PaymentIntentRow,
  result: ChargeResult,
  at: Date,
  options: RecordOptions,
  known: KnownOrder | null = null,
): Promise<RecordPlan> {
  const scope = scopeFor(deps, intent, options.actor);
  const lateSuccess = result.status === 'SUCCEEDED' && (intent.status === 'FAILED' || intent.status === 'CANCELED');
  const moves = result.status !== 'UNKNOWN' && (isOpen(intent) || lateSuccess);
  const succeeds = moves && result.status === 'SUCCEEDED';
  const [state, name, session] = await Promise.all([
    moves ? (known ?? loadOrderState(scope, intent.orderId)) : Promise.resolve(null),
    succeeds && intent.receiptEmail ? (known?.merchantName ?? merchantName(deps, intent.merchantId)) : Promise.resolve(''),
    succeeds && intent.checkoutSessionId ? readCheckoutSession(deps, intent.checkoutSessionId) : Promise.resolve(null),
  ]);
  if (moves && !state) throw new Error(`order ${intent.orderId} of payment ${intent.id} is missing`);

  const guards: Guard[] = [];
  const ops: Op[] = [];
  const entries: ActivityEntry[] = [];
  const couponReleases: string[] = [];
  let after = intent;
  // Known current only when the write guards it.
  let orderAfter: OrderAndLines | null = null;
  let changed = false;
  let receiptQueued = false;
  const reference = 'processorReference' in result ? (result.processorReference ?? intent.processorReference) : intent.processorReference;

  if (moves && state) {
    const { order, lines } = state;
    const guardBoth = () => {
      guards.push(orderGuard(order), { table: 'PaymentIntent', id: intent.id, match: { status: intent.status } });
      orderAfter = { order, lines };
    };
    const moveTo = (status: PaymentIntentStatus, fields: Partial<PaymentIntentRow>) => {
      after = { ...intent, ...fields, status: paymentStatusAfter(intent.status as PaymentIntentStatus, status), processorReference: reference, updatedAt: at };
      ops.push(intentUpdate(after));
      changed = true;
    };
    switch (result.status) {
      case 'SUCCEEDED': {
        guardBoth();
        moveTo('SUCCEEDED', { nextActionUrl: null, failureCode: null, declineCode: null, failureMessage: null });
        const paid = order.paidAmount + intent.amount;
        const before = orderNetAmounts(order, lines);
        const afterNet = orderNetAmounts({ ...order, paidAmount: paid }, lines);
        const status = order.status === 'OPEN' && afterNet.balance <= 0n ? orderStatusAfter(order.status, 'PAYMENT_SUCCEEDED', 'PAID') : order.status;
        const nextOrder: OrderRow = { ...order, paidAmount: paid, status, version: order.version + 1, updatedAt: at };
        ops.push(orderUpdate(nextOrder, ['paidAmount', 'status', 'version', 'updatedAt']));
        orderAfter = { order: nextOrder, lines };
        entries.push(
          Activities.paymentCaptured(order.id, { ...snapshot(intent), paid: before.paid, balance: before.balance }, {
            paymentIntentId: intent.id,
            status: 'SUCCEEDED',
            amount: intent.amount,
            currency: intent.currency,
            processor: intent.processor,
            processorReference: reference,
            paid: afterNet.paid,
            balance: afterNet.balance,
          }),
        );
        if (status !== order.status) entries.push(Activities.orderStatusChanged(order.id, order.status, status));
        if (session && session.status === 'OPEN') {
          guards.push({ table: 'CheckoutSession', id: session.id, match: { status: 'OPEN' } });
          ops.push({ kind: 'update', table: 'CheckoutSession', rows: [{ id: session.id, status: 'COMPLETE', completedAt: at }] });
          entries.push(
            Activities.checkoutSessionCompleted(order.id, { checkoutSessionId: session.id, status: 'OPEN' }, { checkoutSessionId: session.id, status: 'COMPLETE', paymentIntentId: intent.id }),
          );
        }
        const receipt = receiptOps({ scope, at, merchantName: name, order: nextOrder, lines, intent: after });
        ops.push(...receipt);
        receiptQueued = receipt.length > 0;
        break;
      }
      case 'FAILED': {
        guardBoth();
        // A redemption counts only when the order is paid (pricing.md §4): give the uses back.
        if (order.status === 'OPEN') couponReleases.push(order.id);
        moveTo('FAILED', { nextActionUrl: null, failureCode: result.failureCode, declineCode: result.declineCode ?? null, failureMessage: result.failureMessage });
        entries.push(
          Activities.paymentFailed(order.id, snapshot(intent), {
            paymentIntentId: intent.id,
            status: 'FAILED',
            failureCode: result.failureCode,
            declineCode: result.declineCode ?? null,
            failureMessage: result.failureMessage,
          }),
        );
        break;
      }
      case 'REQUIRES_ACTION': {
        if (intent.status === 'REQUIRES_ACTION') break;
        guardBoth();
        moveTo('REQUIRES_ACTION', { nextActionUrl: result.actionUrl });
        entries.push(Activities.paymentRequiresAction(order.id, snapshot(intent), { paymentIntentId: intent.id, status: 'REQUIRES_ACTION', nextActionUrl: result.actionUrl }));
        break;
      }
      case 'CANCELED': {
        guardBoth();
        if (order.status === 'OPEN') couponReleases.push(order.id);
        moveTo('CANCELED', { nextActionUrl: null });
        entries.push(Activities.paymentCanceled(order.id, snapshot(intent), { paymentIntentId: intent.id, status: 'CANCELED' }));
        break;
      }
      case 'PROCESSING': {
        if (reference === intent.processorReference) break;
        // Only the processor's id is new: not a change of the payment's state.
        guards.push({ table: 'PaymentIntent', id: intent.id, match: { status: intent.status } });
        after = { ...intent, processorReference: reference, updatedAt: at };
        ops.push(intentUpdate(after));
        break;
      }
    }
  }

  const own = options.final?.(after) ?? null;
  const finish = own ? finishKey(own.key, toStored(own.result)) : options.orphan ? await orphanFinish(deps, intent, after, options.orphan === 'failures') : null;
  ops.push(...(options.extraOps?.(changed) ?? []));
  if (ops.length === 0 && !finish) return { write: null, after, order: orderAfter, changed, receiptQueued };
  return {
    write: {
      merchantId: intent.merchantId,
      livemode: intent.livemode,
      at,
      finish,
      guards,
      couponReleases,
      ops,
      activity: activityRows(scope, options.actor, at, options.activityKey ?? null, entries),
    },
    after,
    order: orderAfter,
    changed,
    receiptQueued,
  };
}

const MAX_ATTEMPTS = 25;

export interface Recorded {
  intent: PaymentIntentRow;
  /** The order as written or read by the record (null when the answer moved nothing). */
  order: OrderAndLines | null;
  changed: boolean;
}

/**
 * Records `result` for the intent. The first plan uses the rows the caller holds (the intent it just
 * wrote, and the order as its reservation left it), the next ones what is current after a refusal.
 */
export async function recordCharge(
  deps: Deps,
  known: PaymentIntentRow | string,
  result: ChargeResult,
  options: RecordOptions,
  knownOrder: KnownOrder | null = null,
): Promise<Recorded> {
  let intent = typeof known === 'string' ? await readIntent(deps, known) : known;
  let order = knownOrder;
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    if (!intent) throw new Error(`payment intent ${String(typeof known === 'string' ? known : known.id)} is missing`);
    const plan = await planChargeRecord(deps, intent, result, deps.clock.now(), options, order);
    order = null;
    if (!plan.write) return { intent: plan.after, order: plan.order, changed: false };
    const outcome = await submitWrite(scopeFor(deps, intent, options.actor), plan.write);
    if (outcome.ok) {
      if (plan.receiptQueued) kickOutbox(deps);
      return { intent: plan.after, order: plan.order, changed: plan.changed };
    }
    if (attempt >= 2) await new Promise((resolve) => setTimeout(resolve, Math.random() * 2 * attempt));
    intent = await readIntent(deps, intent.id);
  }
  throw new Error(`recording the processor's answer for payment ${typeof known === 'string' ? known : known.id} kept being refused`);
}

/** Stores the final result of a payOrder call that ended without an outcome to record (a refused later attempt). */
export async function finishCall(deps: Deps, scope: { merchantId: string; livemode: boolean; actor: Actor }, key: string, result: PayOrderResult): Promise<void> {
  const outcome = await submitWrite(scopeFor(deps, scope, scope.actor), {
    merchantId: scope.merchantId,
    livemode: scope.livemode,
    at: deps.clock.now(),
    finish: finishKey(key, toStored(result)),
    activity: [],
  });
  if (!outcome.ok) throw new Error(`storing the final result of payOrder key ${key} was refused (${outcome.reason})`);
}
