// Paying an order, without ever charging twice.
//
// payOrder derives the amount (the balance due), currency and customer from the order; the caller only
// brings payment source tokens, tried in order until one pays the whole balance. Each try is one
// PaymentIntent and three steps:
//
//   1. tx1: lock the order row (FOR UPDATE), check it can be paid, redeem its coupons (a coupon that
//      became invalid fails here, before any charge), write the PaymentIntent as PROCESSING with its
//      processor idempotency key `flint_pi_<id>_attempt`, append payment.created, COMMIT.
//   2. the processor call, outside any transaction, carrying that key.
//   3. tx2: lock the order again, write the processor's answer (SUCCEEDED: paidAmount, status PAID,
//      payment.captured / order.status_changed, the receipt into the outbox; FAILED: failureCode...),
//      COMMIT. Writing an answer is a no-op when the intent is no longer open, so it happens once.
//
// No double charge:
//   - An open intent (PROCESSING or REQUIRES_ACTION) of the order blocks every new charge: tx1 sees it
//     under the order lock and, instead of charging, settles it first (outside the lock) — asks the
//     processor about its key, or cancels a pending authentication — then starts over. Two racing
//     payOrder calls therefore charge at most once, with or without idempotency keys.
//   - A crash between steps 2 and 3 leaves a PROCESSING intent. It is reconciled at start-up
//     (reconcilePendingPayments) or by the next payOrder of the order: Flint asks the processor what
//     happened to the key (retrievePayment) and writes that answer. If the processor never saw the key
//     (the crash came before step 2), the same request is sent again under the same key — the processor
//     dedupes it, so this too charges at most once.
//   - With an idempotencyKey, runMutation claims the key in tx1 and stores a provisional result; the
//     final result (order, intent, userErrors) replaces it when the call ends. Concurrent or later
//     replays wait for the final result and return it, so identical calls get identical payloads.
import type { Actor, Deps, Scope, Tx } from './context.js';
import { Activities, appendActivity, type ActivityEntry, type ActivityRow } from './activity.js';
import { trackActivity } from './audit.js';
import { type UserError, Rollback, fail, notFound, ok, userError, type Outcome } from './errors.js';
import { runMutation } from './mutation.js';
import type { Json } from './json.js';
import { checkEmail } from './validation.js';
import { orderActions, orderFacts, orderNetAmounts, type LineRow, type OrderRow } from './order-model.js';
import { redeemCoupons, releaseCouponRedemptions } from './coupons.js';
import { queueReceipt, kickOutbox } from './receipts.js';
import { invalidTransitionMessage } from '../pricing/index.js';
import { newId } from '../ids.js';
import { processorOf, publicUrlOf, paymentIdempotencyKey, type ChargeRequest, type ChargeResult, type PaymentProcessor } from '../payments/index.js';
import type { PaymentIntent as PaymentIntentRow, Prisma } from '../generated/prisma/client.js';

export type { PaymentIntentRow };

export interface PayOrderInput {
  orderId: string;
  paymentSourceTokens: string[];
  buyerEmail?: string | null;
  idempotencyKey?: string | null;
}

export interface PayOrderOptions {
  /** Set when the buyer pays on the hosted checkout page. */
  checkoutSessionId?: string | null;
}

/** What payOrder reports: the order and the last payment attempt (both may be set next to userErrors). */
export interface PayOrderResult {
  orderId: string | null;
  paymentIntentId: string | null;
  userErrors: UserError[];
}

/** The result stored under the idempotency key; `pending` until the call has finished. */
interface StoredPayResult extends Record<string, Json> {
  orderId: string | null;
  paymentIntentId: string | null;
  userErrors: Json;
  pending: boolean;
}

const OPEN_STATUSES = ['PROCESSING', 'REQUIRES_ACTION'] as const;
/** Stripe remembers idempotency keys for 24 hours; after that, replaying could make a new charge. */
export const REPLAY_WINDOW_MS = 23 * 60 * 60 * 1000;
/** How long a replay of a payOrder still in progress waits for its result. */
const REPLAY_WAIT_MS = 30_000;
const MAX_TOKENS = 10;
const MAX_SETTLE_ROUNDS = 3;

/** Card failures that are declines (PAYMENT_DECLINED); every other failure is PAYMENT_FAILED. */
const DECLINE_CODES = new Set([
  'card_declined',
  'expired_card',
  'incorrect_cvc',
  'invalid_cvc',
  'incorrect_number',
  'invalid_number',
  'invalid_expiry_month',
  'invalid_expiry_year',
  'incorrect_zip',
  'authentication_required',
  'payment_intent_authentication_failure',
]);

// ---------------------------------------------------------------------------------------------
// Transactions of our own (the steps outside runMutation), with activity published after commit.

export async function transaction<T>(deps: Deps, fn: (tx: Tx, at: Date) => Promise<T>): Promise<T> {
  let recorded: ActivityRow[] = [];
  const result = await deps.db.$transaction(
    async (tx) => {
      recorded = trackActivity(tx);
      return fn(tx, deps.clock.now());
    },
    { maxWait: 10_000, timeout: 30_000 },
  );
  if (deps.events && recorded.length > 0) {
    await deps.events.publishActivity(recorded).catch((error: unknown) => console.error('publishing payment activity failed', error));
  }
  return result;
}

/** Like runMutation without an idempotency key: a userError rolls the transaction back. */
async function mutate<R>(deps: Deps, fn: (tx: Tx, at: Date) => Promise<Outcome<R>>): Promise<Outcome<R>> {
  try {
    return await transaction(deps, async (tx, at) => {
      const result = await fn(tx, at);
      if (!result.ok) throw new Rollback(result.errors);
      return result;
    });
  } catch (error) {
    if (error instanceof Rollback) return fail(...error.errors);
    throw error;
  }
}

async function lockOrder(tx: Tx, scope: Pick<Scope, 'merchantId' | 'livemode'>, orderId: string): Promise<{ order: OrderRow; lines: LineRow[] } | null> {
  const locked = await tx.$queryRaw<{ id: string }[]>`
    SELECT id FROM "Order" WHERE id = ${orderId} AND "merchantId" = ${scope.merchantId} AND livemode = ${scope.livemode} FOR UPDATE`;
  if (locked.length === 0) return null;
  const { lineItems, ...order } = await tx.order.findUniqueOrThrow({
    where: { id: orderId },
    include: { lineItems: { orderBy: { position: 'asc' } } },
  });
  return { order, lines: lineItems };
}

/** A scope acting on the intent's merchant and mode (webhooks, the checkout page, start-up). */
export function scopeFor(deps: Deps, row: { merchantId: string; livemode: boolean }, actor: Actor): Scope {
  return { deps, merchantId: row.merchantId, livemode: row.livemode, actor };
}

export const SYSTEM_ACTOR: Actor = { type: 'SYSTEM', id: null, name: 'payment reconciliation' };

// ---------------------------------------------------------------------------------------------
// Validation and messages

function validate(input: PayOrderInput): UserError[] {
  const errors: UserError[] = [];
  const tokens = input.paymentSourceTokens;
  if (tokens.length < 1 || tokens.length > MAX_TOKENS) {
    errors.push(
      userError(
        'INVALID_INPUT',
        `Give 1 to ${MAX_TOKENS} paymentSourceTokens, tried in order (e.g. ["tok_visa"]); got ${tokens.length}.`,
        ['input', 'paymentSourceTokens'],
      ),
    );
  }
  tokens.forEach((token, i) => {
    if (typeof token !== 'string' || token.trim().length === 0 || token.length > 255 || /\s/.test(token)) {
      errors.push(userError('INVALID_INPUT', 'A payment source token is 1 to 255 characters without spaces, e.g. "tok_visa".', ['input', 'paymentSourceTokens', i]));
    }
  });
  checkEmail(errors, input.buyerEmail, ['input', 'buyerEmail']);
  return errors;
}

/** The userError that reports a failed attempt (its details stay on the PaymentIntent). */
export function attemptError(intent: Pick<PaymentIntentRow, 'id' | 'status' | 'failureCode' | 'declineCode' | 'failureMessage' | 'paymentSourceToken'>, index: number): UserError {
  const field = ['input', 'paymentSourceTokens', String(index)];
  if (intent.status === 'CANCELED') {
    return userError('PAYMENT_FAILED', `Payment ${intent.id} with ${intent.paymentSourceToken} was canceled before it completed; nothing was charged. Call payOrder again.`, field);
  }
  const code = intent.failureCode ?? 'unknown';
  const detail = `${intent.failureMessage ?? 'The payment failed.'} (${code}${intent.declineCode && intent.declineCode !== code ? ` / ${intent.declineCode}` : ''})`;
  if (DECLINE_CODES.has(code)) {
    return userError(
      'PAYMENT_DECLINED',
      `${intent.paymentSourceToken} was declined: ${detail}. Nothing was charged (payment ${intent.id}); ask the buyer for another card and call payOrder again.`,
      field,
    );
  }
  return userError(
    'PAYMENT_FAILED',
    `${intent.paymentSourceToken} could not be processed: ${detail}. Nothing was charged (payment ${intent.id}); retry in a moment or use another payment method.`,
    field,
  );
}

function stillProcessingError(intent: Pick<PaymentIntentRow, 'id' | 'processor'>): UserError {
  return userError(
    'PAYMENT_FAILED',
    `Payment ${intent.id} of this order is still being processed by ${intent.processor}; no new charge was made. Call payOrder again in a few seconds: it returns the outcome and never charges twice.`,
    ['input', 'orderId'],
  );
}

// ---------------------------------------------------------------------------------------------
// payOrder

type Prepared =
  | { kind: 'blocked'; intent: PaymentIntentRow }
  | { kind: 'paid'; order: OrderRow }
  | { kind: 'intent'; intent: PaymentIntentRow };

/** tx1 of one attempt: everything up to and including the PROCESSING intent. */
async function prepareAttempt(
  tx: Tx,
  scope: Scope,
  at: Date,
  key: string | null,
  input: PayOrderInput,
  index: number,
  options: PayOrderOptions,
  processorName: string,
): Promise<Outcome<Prepared>> {
  const loaded = await lockOrder(tx, scope, input.orderId);
  if (!loaded) return fail(notFound('order', input.orderId, ['input', 'orderId']));
  const { order, lines } = loaded;
  const open = await tx.paymentIntent.findFirst({ where: { orderId: order.id, status: { in: [...OPEN_STATUSES] } }, orderBy: { id: 'asc' } });
  if (open) return ok({ kind: 'blocked', intent: open });
  if (order.status !== 'OPEN') {
    if (order.status === 'PAID') {
      return fail(
        userError(
          'NOTHING_TO_PAY',
          `The order is already PAID: its balance is 0 and nothing was charged. Order.paymentIntents shows the payment that settled it.`,
          ['input', 'orderId'],
        ),
      );
    }
    return fail(userError('INVALID_STATE_TRANSITION', invalidTransitionMessage(orderFacts(order, lines), 'PAY'), ['input', 'orderId']));
  }
  const guard = orderActions(order, lines).find((g) => g.action === 'PAY');
  if (!guard?.allowed) {
    return fail(userError('NOTHING_TO_PAY', guard?.reason ?? 'Nothing to pay.', ['input', 'orderId']));
  }
  const net = orderNetAmounts(order, lines);

  // Coupons are re-checked and redeemed atomically, before any charge.
  const redeemed = await redeemCoupons(tx, scope, order.id, at, { buyerEmail: input.buyerEmail ?? null });
  if (!redeemed.ok) return redeemed;

  if (net.balance <= 0n) {
    // An order totalling 0 is settled by asking for it: PAID without a processor call.
    const paid: OrderRow = { ...order, status: 'PAID', version: order.version + 1, updatedAt: at };
    await tx.order.update({ where: { id: order.id }, data: { status: 'PAID', version: paid.version, updatedAt: at } });
    await appendActivity(tx, scope, at, key, [Activities.orderStatusChanged(order.id, order.status, 'PAID')]);
    return ok({ kind: 'paid', order: paid });
  }

  const id = newId('PaymentIntent');
  const token = input.paymentSourceTokens[index]!;
  const intent = await tx.paymentIntent.create({
    data: {
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
      paymentSourceToken: token,
      receiptEmail: input.buyerEmail?.trim() || order.buyerEmail,
      requestKey: key,
      checkoutSessionId: options.checkoutSessionId ?? null,
      createdAt: at,
      updatedAt: at,
    },
  });
  await appendActivity(tx, scope, at, key, [
    Activities.paymentCreated(order.id, {
      paymentIntentId: id,
      status: 'PROCESSING',
      amount: net.balance,
      currency: order.currency,
      processor: processorName,
      balance: net.balance,
    }),
  ]);
  return ok({ kind: 'intent', intent });
}

type Started =
  | { kind: 'replayed'; stored: StoredPayResult }
  | { kind: 'done'; orderId: string | null; errors: UserError[] }
  | { kind: 'charge'; intent: PaymentIntentRow };

async function startAttempt(
  scope: Scope,
  processor: PaymentProcessor,
  input: PayOrderInput,
  index: number,
  options: PayOrderOptions,
): Promise<Started> {
  const key = input.idempotencyKey ?? null;
  for (let round = 0; ; round++) {
    let prepared: Prepared | null = null;
    const run = async (tx: Tx, at: Date): Promise<Outcome<StoredPayResult>> => {
      const result = await prepareAttempt(tx, scope, at, key, input, index, options, processor.name);
      if (!result.ok) return result;
      prepared = result.value;
      if (prepared.kind === 'blocked') return fail(stillProcessingError(prepared.intent)); // rolls back
      if (prepared.kind === 'paid') return ok({ orderId: input.orderId, paymentIntentId: null, userErrors: [], pending: false });
      return ok({ orderId: input.orderId, paymentIntentId: prepared.intent.id, userErrors: [], pending: true });
    };
    let outcome: Outcome<StoredPayResult>;
    if (index === 0) {
      // The first attempt claims the idempotency key (and its provisional result commits with the intent).
      const { idempotencyKey: _key, ...rest } = input;
      const mutation = await runMutation<StoredPayResult>({
        scope,
        operation: 'payOrder',
        input: { ...rest, idempotencyKey: key },
        run: ({ tx, at }) => run(tx, at),
      });
      if (mutation.replayed && mutation.outcome.ok) return { kind: 'replayed', stored: mutation.outcome.value };
      outcome = mutation.outcome;
    } else {
      outcome = await mutate(scope.deps, run);
    }
    const p = prepared as Prepared | null;
    if (p?.kind === 'blocked') {
      const settled = await settleOpenIntent(scope.deps, p.intent, scope.actor);
      if (round + 1 < MAX_SETTLE_ROUNDS && !OPEN_STATUSES.includes(settled.status as (typeof OPEN_STATUSES)[number])) continue;
      return { kind: 'done', orderId: input.orderId, errors: [stillProcessingError(settled)] };
    }
    if (!outcome.ok) return { kind: 'done', orderId: outcome.errors.some((e) => e.code === 'NOT_FOUND') ? null : input.orderId, errors: outcome.errors };
    if (p?.kind === 'intent') return { kind: 'charge', intent: p.intent };
    return { kind: 'done', orderId: input.orderId, errors: [] };
  }
}

export function chargeRequestOf(deps: Deps, intent: PaymentIntentRow): ChargeRequest {
  return {
    idempotencyKey: intent.processorIdempotencyKey,
    paymentIntentId: intent.id,
    orderId: intent.orderId,
    merchantId: intent.merchantId,
    livemode: intent.livemode,
    amount: intent.amount,
    currency: intent.currency,
    token: intent.paymentSourceToken,
    customerId: intent.customerId,
    returnUrl: intent.checkoutSessionId ? `${publicUrlOf(deps)}/checkout/${intent.checkoutSessionId}` : null,
  };
}

async function charge(deps: Deps, processor: PaymentProcessor, intent: PaymentIntentRow): Promise<ChargeResult> {
  const result = await processor.confirmPayment(chargeRequestOf(deps, intent));
  if (result.status === 'SUCCEEDED' && process.env.FLINT_TEST_CRASH_AFTER_CHARGE === '1') {
    // Test hook (crash test only): die after the processor charged and before our commit.
    console.error(`[flint] FLINT_TEST_CRASH_AFTER_CHARGE: killing the process after charging ${intent.id}`);
    process.kill(process.pid, 'SIGKILL');
    await new Promise(() => {});
  }
  return result;
}

async function finalize(scope: Scope, key: string | null, result: PayOrderResult): Promise<PayOrderResult> {
  if (key !== null) await storeFinalResult(scope.deps.db, scope, key, result);
  return result;
}

async function storeFinalResult(db: Deps['db'], scope: Pick<Scope, 'merchantId' | 'livemode'>, key: string, result: PayOrderResult): Promise<void> {
  const stored: StoredPayResult = {
    orderId: result.orderId,
    paymentIntentId: result.paymentIntentId,
    userErrors: result.userErrors as unknown as Json,
    pending: false,
  };
  await db.idempotencyKey.updateMany({
    where: { merchantId: scope.merchantId, livemode: scope.livemode, key, operation: 'payOrder' },
    data: { response: stored as Prisma.InputJsonValue },
  });
}

function fromStored(stored: StoredPayResult): PayOrderResult {
  return { orderId: stored.orderId, paymentIntentId: stored.paymentIntentId, userErrors: (stored.userErrors as unknown as UserError[]) ?? [] };
}

/** A replay of a call still in progress waits for its final result (identical calls, identical payloads). */
async function awaitFinalResult(scope: Scope, key: string, stored: StoredPayResult): Promise<PayOrderResult> {
  const deadline = Date.now() + REPLAY_WAIT_MS;
  let current = stored;
  while (current.pending) {
    if (Date.now() > deadline) {
      return {
        orderId: current.orderId,
        paymentIntentId: null,
        userErrors: [
          userError(
            'IDEMPOTENCY_KEY_IN_USE',
            'The payOrder call with this idempotencyKey is still being processed. Retry the same request in a moment to get its result; it never charges twice.',
            ['input', 'idempotencyKey'],
          ),
        ],
      };
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
    const row = await scope.deps.db.idempotencyKey.findUnique({
      where: { merchantId_livemode_key: { merchantId: scope.merchantId, livemode: scope.livemode, key } },
    });
    if (row) current = row.response as unknown as StoredPayResult;
  }
  return fromStored(current);
}

/**
 * Pays the order's balance with the first of `paymentSourceTokens` that succeeds. Never throws for a
 * business outcome: declines and failures are userErrors next to the order and the last attempt.
 */
export async function payOrder(scope: Scope, input: PayOrderInput, options: PayOrderOptions = {}): Promise<PayOrderResult> {
  const invalid = validate(input);
  if (invalid.length > 0) return { orderId: null, paymentIntentId: null, userErrors: invalid };
  const processor = processorOf(scope.deps);
  const key = input.idempotencyKey ?? null;
  const failures: UserError[] = [];
  let lastIntentId: string | null = null;

  for (let index = 0; index < input.paymentSourceTokens.length; index++) {
    const started = await startAttempt(scope, processor, input, index, options);
    if (started.kind === 'replayed') return awaitFinalResult(scope, key!, started.stored);
    if (started.kind === 'done') {
      const result = { orderId: started.orderId, paymentIntentId: lastIntentId, userErrors: [...failures, ...started.errors] };
      // The first attempt's errors roll its key claim back; later attempts' end the claimed call.
      return index === 0 ? result : finalize(scope, key, result);
    }
    const intent = started.intent;
    lastIntentId = intent.id;
    const answer = await charge(scope.deps, processor, intent);
    const after = await applyChargeResult(scope.deps, intent.id, answer, scope.actor, key);
    if (after.status === 'FAILED' || after.status === 'CANCELED') {
      failures.push(attemptError(after, index));
      continue;
    }
    const errors = after.status === 'PROCESSING' ? [stillProcessingError(after)] : [];
    return finalize(scope, key, { orderId: input.orderId, paymentIntentId: intent.id, userErrors: errors });
  }
  return finalize(scope, key, { orderId: input.orderId, paymentIntentId: lastIntentId, userErrors: failures });
}

// ---------------------------------------------------------------------------------------------
// Writing the processor's answer (tx2), reconciliation

function snapshot(intent: PaymentIntentRow) {
  return { paymentIntentId: intent.id, status: intent.status };
}

/**
 * Writes what the processor said about an intent, once: nothing happens unless the intent is still
 * open (PROCESSING or REQUIRES_ACTION) — except that a success always wins, because money the processor
 * captured must be on the order. Returns the intent as it is afterwards.
 */
export async function applyChargeResult(
  deps: Deps,
  intentId: string,
  result: ChargeResult,
  actor: Actor,
  idempotencyKey: string | null = null,
): Promise<PaymentIntentRow> {
  if (result.status === 'UNKNOWN') return deps.db.paymentIntent.findUniqueOrThrow({ where: { id: intentId } });
  const applied = await transaction(deps, (tx, at) => applyChargeResultInTx(tx, at, deps, intentId, result, actor, idempotencyKey));
  if (applied.receiptQueued) kickOutbox(deps);
  return applied.intent;
}

/** applyChargeResult inside the caller's transaction (webhooks record the event in the same one). */
export async function applyChargeResultInTx(
  tx: Tx,
  at: Date,
  deps: Deps,
  intentId: string,
  result: ChargeResult,
  actor: Actor,
  idempotencyKey: string | null = null,
): Promise<{ intent: PaymentIntentRow; changed: boolean; receiptQueued: boolean }> {
  const unchanged = (intent: PaymentIntentRow) => ({ intent, changed: false, receiptQueued: false });
  const first = await tx.paymentIntent.findUniqueOrThrow({ where: { id: intentId } });
  if (result.status === 'UNKNOWN') return unchanged(first);
  const scope = scopeFor(deps, first, actor);
  const loaded = await lockOrder(tx, scope, first.orderId);
  if (!loaded) throw new Error(`order ${first.orderId} of payment ${intentId} is missing`);
  const { order, lines } = loaded;
  const current = await tx.paymentIntent.findUniqueOrThrow({ where: { id: intentId } });
  const isOpen = current.status === 'PROCESSING' || current.status === 'REQUIRES_ACTION';
  const lateSuccess = result.status === 'SUCCEEDED' && (current.status === 'FAILED' || current.status === 'CANCELED');
  if (!isOpen && !lateSuccess) return unchanged(current);
  const reference = 'processorReference' in result ? (result.processorReference ?? current.processorReference) : current.processorReference;
  const entries: ActivityEntry[] = [];

  switch (result.status) {
    case 'SUCCEEDED': {
      const paid = order.paidAmount + current.amount;
      const before = orderNetAmounts(order, lines);
      const afterNet = orderNetAmounts({ ...order, paidAmount: paid }, lines);
      const status = order.status === 'OPEN' && afterNet.balance <= 0n ? 'PAID' : order.status;
      const nextOrder: OrderRow = { ...order, paidAmount: paid, status, version: order.version + 1, updatedAt: at };
      await tx.order.update({ where: { id: order.id }, data: { paidAmount: paid, status, version: nextOrder.version, updatedAt: at } });
      const updated = await tx.paymentIntent.update({
        where: { id: intentId },
        data: { status: 'SUCCEEDED', processorReference: reference, nextActionUrl: null, failureCode: null, declineCode: null, failureMessage: null, updatedAt: at },
      });
      entries.push(
        Activities.paymentCaptured(order.id, { ...snapshot(current), paid: before.paid, balance: before.balance }, {
          paymentIntentId: intentId,
          status: 'SUCCEEDED',
          amount: current.amount,
          currency: current.currency,
          processor: current.processor,
          processorReference: reference,
          paid: afterNet.paid,
          balance: afterNet.balance,
        }),
      );
      if (status !== order.status) entries.push(Activities.orderStatusChanged(order.id, order.status, status));
      if (current.checkoutSessionId) {
        const completed = await tx.checkoutSession.updateMany({
          where: { id: current.checkoutSessionId, status: 'OPEN' },
          data: { status: 'COMPLETE', completedAt: at },
        });
        if (completed.count === 1) {
          entries.push(
            Activities.checkoutSessionCompleted(order.id, { checkoutSessionId: current.checkoutSessionId, status: 'OPEN' }, {
              checkoutSessionId: current.checkoutSessionId,
              status: 'COMPLETE',
              paymentIntentId: intentId,
            }),
          );
        }
      }
      let receiptQueued = false;
      if (updated.receiptEmail) {
        await queueReceipt(tx, { scope, at, order: nextOrder, lines, intent: updated });
        receiptQueued = true;
      }
      await appendActivity(tx, scope, at, idempotencyKey, entries);
      return { intent: updated, changed: true, receiptQueued };
    }
    case 'FAILED': {
      // A redemption counts only when the order is paid (pricing.md §4): give the uses back.
      if (order.status === 'OPEN') await releaseCouponRedemptions(tx, scope, order.id);
      const updated = await tx.paymentIntent.update({
        where: { id: intentId },
        data: {
          status: 'FAILED',
          processorReference: reference,
          nextActionUrl: null,
          failureCode: result.failureCode,
          declineCode: result.declineCode ?? null,
          failureMessage: result.failureMessage,
          updatedAt: at,
        },
      });
      await appendActivity(tx, scope, at, idempotencyKey, [
        Activities.paymentFailed(order.id, snapshot(current), {
          paymentIntentId: intentId,
          status: 'FAILED',
          failureCode: result.failureCode,
          declineCode: result.declineCode ?? null,
          failureMessage: result.failureMessage,
        }),
      ]);
      return { intent: updated, changed: true, receiptQueued: false };
    }
    case 'REQUIRES_ACTION': {
      if (current.status === 'REQUIRES_ACTION') return unchanged(current);
      const updated = await tx.paymentIntent.update({
        where: { id: intentId },
        data: { status: 'REQUIRES_ACTION', processorReference: reference, nextActionUrl: result.actionUrl, updatedAt: at },
      });
      await appendActivity(tx, scope, at, idempotencyKey, [
        Activities.paymentRequiresAction(order.id, snapshot(current), { paymentIntentId: intentId, status: 'REQUIRES_ACTION', nextActionUrl: result.actionUrl }),
      ]);
      return { intent: updated, changed: true, receiptQueued: false };
    }
    case 'CANCELED': {
      if (order.status === 'OPEN') await releaseCouponRedemptions(tx, scope, order.id);
      const updated = await tx.paymentIntent.update({
        where: { id: intentId },
        data: { status: 'CANCELED', processorReference: reference, nextActionUrl: null, updatedAt: at },
      });
      await appendActivity(tx, scope, at, idempotencyKey, [Activities.paymentCanceled(order.id, snapshot(current), { paymentIntentId: intentId, status: 'CANCELED' })]);
      return { intent: updated, changed: true, receiptQueued: false };
    }
    case 'PROCESSING': {
      if (reference === current.processorReference) return unchanged(current);
      const updated = await tx.paymentIntent.update({ where: { id: intentId }, data: { processorReference: reference, updatedAt: at } });
      return { intent: updated, changed: false, receiptQueued: false };
    }
  }
}

/**
 * Asks the processor what became of a PROCESSING intent. When the processor never saw its key, the very
 * same request is sent again under the same key (the processor dedupes: at most one charge) — unless the
 * processor may have forgotten the key by now, in which case the attempt is given up as interrupted.
 */
export async function askProcessor(deps: Deps, processor: PaymentProcessor, intent: PaymentIntentRow): Promise<ChargeResult> {
  if (intent.processor !== processor.name) {
    // Only the processor that holds the payment can say what became of it (e.g. a STRIPE payment while
    // this server runs the sandbox): leave it open rather than guess.
    return { status: 'UNKNOWN', message: `payment ${intent.id} belongs to ${intent.processor}; this server uses ${processor.name}` };
  }
  const known = await processor.retrievePayment({
    idempotencyKey: intent.processorIdempotencyKey,
    paymentIntentId: intent.id,
    processorReference: intent.processorReference,
    createdAt: intent.createdAt,
  });
  if (known) return known;
  if (deps.clock.now().getTime() - intent.createdAt.getTime() > REPLAY_WINDOW_MS) {
    return {
      status: 'FAILED',
      processorReference: null,
      kind: 'ERROR',
      failureCode: 'processing_interrupted',
      failureMessage: 'The payment was interrupted before the processor received it; nothing was charged.',
    };
  }
  return processor.confirmPayment(chargeRequestOf(deps, intent));
}

/**
 * Brings an open intent to a settled state before a new charge: PROCESSING → reconciled with the
 * processor; REQUIRES_ACTION → the pending authentication is canceled (or found completed).
 */
async function settleOpenIntent(deps: Deps, intent: PaymentIntentRow, actor: Actor): Promise<PaymentIntentRow> {
  const processor = processorOf(deps);
  if (intent.processor !== processor.name) return intent;
  const result =
    intent.status === 'REQUIRES_ACTION'
      ? await processor.cancelPayment({
          idempotencyKey: intent.processorIdempotencyKey,
          paymentIntentId: intent.id,
          processorReference: intent.processorReference,
          createdAt: intent.createdAt,
        })
      : await askProcessor(deps, processor, intent);
  return applyChargeResult(deps, intent.id, result, actor);
}

/**
 * Re-reads one intent's state from the processor and writes it (the sandbox authentication page and
 * webhooks call this). Does not cancel anything.
 */
export async function refreshPaymentIntent(deps: Deps, intentId: string, actor: Actor): Promise<PaymentIntentRow | null> {
  const intent = await deps.db.paymentIntent.findUnique({ where: { id: intentId } });
  if (!intent) return null;
  if (intent.status !== 'PROCESSING' && intent.status !== 'REQUIRES_ACTION') return intent;
  const processor = processorOf(deps);
  if (intent.processor !== processor.name) return intent;
  const result =
    intent.status === 'PROCESSING'
      ? await askProcessor(deps, processor, intent)
      : ((await processor.retrievePayment({
          idempotencyKey: intent.processorIdempotencyKey,
          paymentIntentId: intent.id,
          processorReference: intent.processorReference,
          createdAt: intent.createdAt,
        })) ?? ({ status: 'UNKNOWN', message: 'not found' } as const));
  const after = await applyChargeResult(deps, intent.id, result, actor);
  if (after.requestKey) await finalizeOrphanedKey(deps, after, false);
  return after;
}

/** The final result of a payOrder call, rebuilt from its attempts (for calls whose process died). */
async function finalizeOrphanedKey(deps: Deps, intent: PaymentIntentRow, includeFailures: boolean): Promise<void> {
  const key = intent.requestKey;
  if (!key) return;
  const row = await deps.db.idempotencyKey.findUnique({
    where: { merchantId_livemode_key: { merchantId: intent.merchantId, livemode: intent.livemode, key } },
  });
  const stored = row?.response as unknown as StoredPayResult | undefined;
  if (!row || row.operation !== 'payOrder' || !stored?.pending) return;
  const attempts = await deps.db.paymentIntent.findMany({
    where: { merchantId: intent.merchantId, livemode: intent.livemode, orderId: intent.orderId, requestKey: key },
    orderBy: { id: 'asc' },
  });
  if (attempts.some((a) => a.status === 'PROCESSING')) return;
  const last = attempts.at(-1);
  if (!last) return;
  const settledOk = last.status === 'SUCCEEDED' || last.status === 'REQUIRES_ACTION';
  if (!settledOk && !includeFailures) return;
  const userErrors = attempts
    .map((a, index) => ({ a, index }))
    .filter(({ a }) => a.status === 'FAILED' || a.status === 'CANCELED')
    .map(({ a, index }) => attemptError(a, index));
  await storeFinalResult(deps.db, intent, key, {
    orderId: intent.orderId,
    paymentIntentId: last.id,
    userErrors: settledOk ? [] : userErrors,
  });
}

/**
 * Start-up pass: every PROCESSING intent (left by a process that died between the processor's answer and
 * our commit) is reconciled with the processor, and the results of the payOrder calls they belonged to
 * are completed. Safe to run at any time and in several processes at once.
 */
export async function reconcilePendingPayments(deps: Deps, log: (message: string) => void = () => {}): Promise<{ reconciled: number; stillOpen: number }> {
  const processor = processorOf(deps);
  const pending = await deps.db.paymentIntent.findMany({ where: { status: 'PROCESSING', processor: processor.name }, orderBy: { id: 'asc' } });
  let reconciled = 0;
  let stillOpen = 0;
  for (const intent of pending) {
    try {
      const result = await askProcessor(deps, processor, intent);
      const after = await applyChargeResult(deps, intent.id, result, SYSTEM_ACTOR);
      if (after.status === 'PROCESSING') stillOpen += 1;
      else reconciled += 1;
      await finalizeOrphanedKey(deps, after, true);
      log(`reconciled payment ${intent.id}: ${after.status}`);
    } catch (error) {
      stillOpen += 1;
      console.error(`reconciling payment ${intent.id} failed`, error);
    }
  }
  return { reconciled, stillOpen };
}

// ---------------------------------------------------------------------------------------------
// Reading

export async function loadPaymentIntent(scope: Scope, id: string): Promise<PaymentIntentRow | null> {
  return scope.deps.db.paymentIntent.findFirst({ where: { id, merchantId: scope.merchantId, livemode: scope.livemode } });
}

/** What can still be refunded of a payment: captured minus refunded (pending refunds included). */
export function refundableAmount(intent: Pick<PaymentIntentRow, 'status' | 'amount' | 'refundedAmount'>): bigint {
  if (intent.status !== 'SUCCEEDED') return 0n;
  const left = intent.amount - intent.refundedAmount;
  return left > 0n ? left : 0n;
}
