// Paying an order, without ever charging twice.
//
// payOrder derives the amount (the balance due), currency and customer from the order; the caller only
// brings payment source tokens, tried in order until one pays the whole balance. Each try is one
// PaymentIntent and three steps, none inside a transaction of ours:
//
//   1. reserve: a write planned on the order as read (src/kernel/write-path.ts). The plan checks it can
//      be paid and that its coupons may be counted (same userErrors as ever); the write inserts the
//      PROCESSING intent with its processor idempotency key `flint_pi_<id>_attempt`, counts the coupon
//      uses (their limits re-checked under the coupon locks), bumps the order's version (so a cancel or
//      an edit planned before it is refused and planned again) and appends payment.created. The first
//      attempt's write also claims the call's idempotency key with a provisional `{ pending: true }`.
//   2. the processor call, outside any write, carrying that key.
//   3. record (src/payments/record-charge.ts): the processor's answer, and the call's final result under
//      its key when this attempt ends the call, in one write.
//
// No double charge:
//   - An open intent (PROCESSING or REQUIRES_ACTION) of the order blocks every new charge: the plan sees
//     it and, instead of charging, it is settled first (src/payments/reconcile.ts) — the processor is
//     asked about its key, or a pending authentication is canceled — then the attempt is planned again.
//     The order's version makes two racing reservations exclusive, and the database refuses a second
//     open intent of one order (trigger PaymentIntent_one_open_per_order): a refused write re-plans
//     and sees the open intent.
//   - A crash between steps 2 and 3 leaves a PROCESSING intent, reconciled at start-up or by the next
//     payOrder of the order (ask the processor about the key; if it never saw it, send the same request
//     under the same key: the processor dedupes it).
//   - Replays of a call in progress wait for its final result (awaitFinalResult), so identical calls get
//     identical payloads; after REPLAY_WAIT_MS they answer IDEMPOTENCY_KEY_IN_USE.
import type { Scope } from '../kernel/context.js';
import { Activities, activityRows } from '../audit/activity.js';
import { type Outcome, type UserError, fail, notFound, ok, userError } from '../kernel/errors.js';
import { orderActions, orderFacts, orderNetAmounts, type OrderRow } from '../orders/order-model.js';
import { planRedemptions } from '../coupons/rules.js';
import { invalidTransitionMessage } from '../pricing/index.js';
import { newId } from '../ids.js';
import { loadOrderState, orderGuard, orderUpdate } from '../orders/order-state.js';
import { runWrite, submitWrite, type PlannedWrite } from '../kernel/write-path.js';
import { awaitFinalResult } from '../kernel/pending-result.js';
import { orderStatusAfter } from '../kernel/transitions.js';
import type { PaymentIntent as PaymentIntentRow } from '../generated/prisma/client.js';
import { processorOf, paymentIdempotencyKey, type ChargeResult, type PaymentProcessor } from './index.js';
import {
  attemptError,
  fromStored,
  isOpen,
  keyStillInUse,
  stillProcessingError,
  validatePayOrder,
  type PayOrderInput,
  type PayOrderOptions,
  type PayOrderResult,
  type StoredPayResult,
} from './attempts.js';
import { openIntentsAndRedemptions } from './intent-reads.js';
import { finishCall, recordCharge, type KnownOrder } from './record-charge.js';
import { chargeRequestOf, settleOpenIntent } from './reconcile.js';

export type { PayOrderInput, PayOrderOptions, PayOrderResult } from './attempts.js';

/** How long a replay of a payOrder still in progress waits for its result. */
const REPLAY_WAIT_MS = 30_000;
const MAX_SETTLE_ROUNDS = 3;
const MAX_PLANS = 25;

type ReservePlan =
  | { kind: 'refused'; errors: UserError[] }
  | { kind: 'blocked'; intentId: string }
  | { kind: 'write'; result: StoredPayResult; write: PlannedWrite; intent: PaymentIntentRow | null; order: KnownOrder };

const refused = (...errors: UserError[]): ReservePlan => ({ kind: 'refused', errors });

/** Step 1's plan for the attempt with token `index`: everything up to and including the PROCESSING intent. */
async function planReserve(scope: Scope, at: Date, key: string | null, input: PayOrderInput, index: number, options: PayOrderOptions, processorName: string): Promise<ReservePlan> {
  const [state, known] = await Promise.all([loadOrderState(scope, input.orderId), openIntentsAndRedemptions(scope.deps, input.orderId, scope.merchantId)]);
  if (!state) return refused(notFound('order', input.orderId, ['input', 'orderId']));
  if (known.open.length > 0) return { kind: 'blocked', intentId: known.open[0]! };
  const { order, lines } = state;
  if (order.status !== 'OPEN') {
    if (order.status === 'PAID') {
      return refused(
        userError(
          'NOTHING_TO_PAY',
          `The order is already PAID: its balance is 0 and nothing was charged. Order.paymentIntents shows the payment that settled it.`,
          ['input', 'orderId'],
        ),
      );
    }
    return refused(userError('INVALID_STATE_TRANSITION', invalidTransitionMessage(orderFacts(order, lines), 'PAY'), ['input', 'orderId']));
  }
  const guard = orderActions(order, lines).find((g) => g.action === 'PAY');
  if (!guard?.allowed) return refused(userError('NOTHING_TO_PAY', guard?.reason ?? 'Nothing to pay.', ['input', 'orderId']));
  const net = orderNetAmounts(order, lines);

  // Coupons are checked now and counted by the write (limits re-checked there), before any charge.
  const uses = await planRedemptions(scope, order, state.coupons.map((c) => c.coupon), new Set(known.redeemed), at, input.buyerEmail ?? null);
  if (!uses.ok) return refused(...uses.errors);

  if (net.balance <= 0n) {
    // An order totalling 0 is settled by asking for it: PAID without a processor call.
    const paid: OrderRow = { ...order, status: orderStatusAfter(order.status, 'PAY', 'PAID'), version: order.version + 1, updatedAt: at };
    return {
      kind: 'write',
      result: { orderId: order.id, paymentIntentId: null, userErrors: [], pending: false },
      intent: null,
      order: { order: paid, lines },
      write: {
        guards: [orderGuard(order)],
        couponUses: uses.value,
        ops: [orderUpdate(paid, ['status', 'version', 'updatedAt'])],
        entries: [Activities.orderStatusChanged(order.id, order.status, paid.status)],
      },
    };
  }

  const id = newId('PaymentIntent');
  const reserved: OrderRow = { ...order, version: order.version + 1, updatedAt: at };
  const intent: PaymentIntentRow = {
    id,
    merchantId: scope.merchantId,
    livemode: scope.livemode,
    orderId: order.id,
    amount: net.balance,
    currency: order.currency,
    customerId: order.customerId,
    status: 'PROCESSING',
    processor: processorName,
    processorIdempotencyKey: paymentIdempotencyKey(id),
    processorReference: null,
    paymentSourceToken: input.paymentSourceTokens[index]!,
    nextActionUrl: null,
    failureCode: null,
    declineCode: null,
    failureMessage: null,
    refundedAmount: 0n,
    receiptEmail: input.buyerEmail?.trim() || order.buyerEmail,
    receiptSentAt: null,
    requestKey: key,
    checkoutSessionId: options.checkoutSessionId ?? null,
    createdAt: at,
    updatedAt: at,
  };
  return {
    kind: 'write',
    result: { orderId: order.id, paymentIntentId: id, userErrors: [], pending: true },
    intent,
    order: { order: reserved, lines, merchantName: known.merchantName },
    write: {
      guards: [orderGuard(order)],
      couponUses: uses.value,
      ops: [
        { kind: 'insert', table: 'PaymentIntent', rows: [intent] },
        orderUpdate(reserved, ['version', 'updatedAt']),
      ],
      entries: [
        Activities.paymentCreated(order.id, {
          paymentIntentId: id,
          status: 'PROCESSING',
          amount: net.balance,
          currency: order.currency,
          processor: processorName,
          balance: net.balance,
        }),
      ],
    },
  };
}

type Reserved =
  | { kind: 'replayed'; stored: StoredPayResult }
  | { kind: 'refused'; errors: UserError[] }
  | { kind: 'blocked'; intentId: string }
  | { kind: 'written'; intent: PaymentIntentRow | null; order: KnownOrder };

/** Step 1, first attempt: runWrite claims the call's key with the reservation. */
async function reserveFirst(scope: Scope, input: PayOrderInput, options: PayOrderOptions, processorName: string): Promise<Reserved> {
  let last: ReservePlan | null = null;
  const { idempotencyKey, ...rest } = input;
  const { outcome, replayed } = await runWrite<StoredPayResult>({
    scope,
    operation: 'payOrder',
    input: { ...rest, idempotencyKey: idempotencyKey ?? null },
    plan: async (at, key): Promise<Outcome<{ result: StoredPayResult; write: PlannedWrite }>> => {
      last = await planReserve(scope, at, key, input, 0, options, processorName);
      if (last.kind === 'refused') return fail(...last.errors);
      if (last.kind === 'blocked') return fail(userError('PAYMENT_FAILED', 'blocked', ['input', 'orderId']));
      return ok({ result: last.result, write: last.write });
    },
  });
  if (replayed && outcome.ok) return { kind: 'replayed', stored: outcome.value };
  const plan = last as ReservePlan | null;
  if (plan?.kind === 'blocked') return plan;
  if (!outcome.ok) return { kind: 'refused', errors: outcome.errors };
  if (plan?.kind !== 'write') throw new Error('payOrder: a reservation was written without a plan');
  return { kind: 'written', intent: plan.intent, order: plan.order };
}

/** Step 1, later attempts: the call's key is claimed already; the entries carry it. */
async function reserveNext(scope: Scope, key: string | null, input: PayOrderInput, index: number, options: PayOrderOptions, processorName: string): Promise<Reserved> {
  for (let attempt = 0; attempt < MAX_PLANS; attempt++) {
    const at = scope.deps.clock.now();
    const plan = await planReserve(scope, at, key, input, index, options, processorName);
    if (plan.kind !== 'write') return plan;
    const { entries, ...write } = plan.write;
    const outcome = await submitWrite(scope, { ...write, merchantId: scope.merchantId, livemode: scope.livemode, at, activity: activityRows(scope, scope.actor, at, key, entries) });
    if (outcome.ok) return { kind: 'written', intent: plan.intent, order: plan.order };
    if (attempt >= 2) await new Promise((resolve) => setTimeout(resolve, Math.random() * 2 * attempt));
  }
  return {
    kind: 'refused',
    errors: [userError('VERSION_CONFLICT', 'The order kept changing while this change was being written, so nothing was written. Read the order again and retry.', ['input'])],
  };
}

type Started =
  | { kind: 'replayed'; stored: StoredPayResult }
  | { kind: 'done'; orderId: string | null; errors: UserError[]; order?: KnownOrder }
  | { kind: 'charge'; intent: PaymentIntentRow; order: KnownOrder };

async function startAttempt(scope: Scope, processor: PaymentProcessor, input: PayOrderInput, index: number, options: PayOrderOptions): Promise<Started> {
  const key = input.idempotencyKey ?? null;
  for (let round = 0; ; round++) {
    const reserved = index === 0 ? await reserveFirst(scope, input, options, processor.name) : await reserveNext(scope, key, input, index, options, processor.name);
    if (reserved.kind === 'replayed') return reserved;
    if (reserved.kind === 'blocked') {
      // Settled outside any write, then planned again.
      const settled = await settleOpenIntent(scope.deps, reserved.intentId, scope.actor);
      if (round + 1 < MAX_SETTLE_ROUNDS && (!settled || !isOpen(settled))) continue;
      return { kind: 'done', orderId: input.orderId, errors: settled ? [stillProcessingError(settled)] : [] };
    }
    if (reserved.kind === 'refused') return { kind: 'done', orderId: reserved.errors.some((e) => e.code === 'NOT_FOUND') ? null : input.orderId, errors: reserved.errors };
    if (reserved.intent) return { kind: 'charge', intent: reserved.intent, order: reserved.order };
    return { kind: 'done', orderId: input.orderId, errors: [], order: reserved.order };
  }
}

/** Step 2: the processor call (and the crash test's switch, after a charge). */
async function charge(scope: Scope, processor: PaymentProcessor, intent: PaymentIntentRow): Promise<ChargeResult> {
  const result = await processor.confirmPayment(chargeRequestOf(scope.deps, intent));
  if (result.status === 'SUCCEEDED') await scope.deps.testHooks?.afterCharge?.(intent.id);
  return result;
}

/**
 * Pays the order's balance with the first of `paymentSourceTokens` that succeeds. Never throws for a
 * business outcome: declines and failures are userErrors next to the order and the last attempt.
 */
export async function payOrder(scope: Scope, input: PayOrderInput, options: PayOrderOptions = {}): Promise<PayOrderResult> {
  const invalid = validatePayOrder(input);
  if (invalid.length > 0) return { orderId: null, paymentIntentId: null, userErrors: invalid };
  const processor = processorOf(scope.deps);
  const key = input.idempotencyKey ?? null;
  const failures: UserError[] = [];
  const tokens = input.paymentSourceTokens.length;
  let lastIntentId: string | null = null;

  for (let index = 0; index < tokens; index++) {
    const started = await startAttempt(scope, processor, input, index, options);
    if (started.kind === 'replayed') {
      const final = await awaitFinalResult(scope, key!, started.stored, REPLAY_WAIT_MS);
      return final ? fromStored(final) : keyStillInUse(started.stored.orderId);
    }
    if (started.kind === 'done') {
      const result: PayOrderResult = { orderId: started.orderId, paymentIntentId: lastIntentId, userErrors: [...failures, ...started.errors] };
      // The first attempt's refusal claimed no key; a later one ends the call the first one claimed.
      if (index > 0 && key !== null) await finishCall(scope.deps, scope, key, result);
      return started.order && lastIntentId === null ? { ...result, written: { order: started.order.order, lineItems: started.order.lines, intent: null } } : result;
    }
    const intent = started.intent;
    lastIntentId = intent.id;
    const answer = await charge(scope, processor, intent);
    /** The call's result once this attempt is recorded as `after` (null: the next token is tried). */
    const resultAfter = (after: PaymentIntentRow): PayOrderResult | null => {
      if (after.status === 'FAILED' || after.status === 'CANCELED') {
        return index + 1 < tokens ? null : { orderId: input.orderId, paymentIntentId: after.id, userErrors: [...failures, attemptError(after, index)] };
      }
      return { orderId: input.orderId, paymentIntentId: after.id, userErrors: after.status === 'PROCESSING' ? [stillProcessingError(after)] : [] };
    };
    const recorded = await recordCharge(scope.deps, intent, answer, {
      actor: scope.actor,
      activityKey: key,
      final: (a) => {
        const result = key === null ? null : resultAfter(a);
        return result ? { key: key!, result } : null;
      },
    }, started.order);
    const after = recorded.intent;
    const result = resultAfter(after);
    if (result) return recorded.order ? { ...result, written: { order: recorded.order.order, lineItems: recorded.order.lines, intent: after } } : result;
    failures.push(attemptError(after, index));
  }
  return { orderId: input.orderId, paymentIntentId: lastIntentId, userErrors: failures };
}
