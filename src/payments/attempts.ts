// What a payOrder call reports, and how it is rebuilt from its attempts.
//
// A call tries the payment source tokens in order; each try is one PaymentIntent (an attempt). Its
// result names the order and the last attempt, with one userError per failed attempt (PAYMENT_DECLINED
// for a card the issuer refused, PAYMENT_FAILED otherwise) or the reason nothing was charged. The same
// result is stored under the call's idempotency key: `pending` from the reservation of the first
// attempt until the outcome of the last one is recorded (in the same write, src/kernel/pending-result.ts).
// A call whose process died is finished from its attempts as they are recorded (finalResultOf).
import { type UserError, userError } from '../kernel/errors.js';
import type { Json } from '../kernel/json.js';
import { checkEmail } from '../kernel/validation.js';
import type { LineRow, OrderRow } from '../orders/order-model.js';
import type { PaymentIntent as PaymentIntentRow } from '../generated/prisma/client.js';

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
  /** The order and the last attempt as this call last wrote (or read) them, to answer with; absent on replays. */
  written?: { order: OrderRow; lineItems: LineRow[]; intent: PaymentIntentRow | null };
}

/** The result stored under the idempotency key; `pending` until the call has finished. */
export interface StoredPayResult extends Record<string, Json> {
  orderId: string | null;
  paymentIntentId: string | null;
  userErrors: Json;
  pending: boolean;
}

export const OPEN_STATUSES: readonly PaymentIntentRow['status'][] = ['PROCESSING', 'REQUIRES_ACTION'];

export function isOpen(intent: Pick<PaymentIntentRow, 'status'>): boolean {
  return OPEN_STATUSES.includes(intent.status);
}

const MAX_TOKENS = 10;

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

export function validatePayOrder(input: PayOrderInput): UserError[] {
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

export function stillProcessingError(intent: Pick<PaymentIntentRow, 'id' | 'processor'>): UserError {
  return userError(
    'PAYMENT_FAILED',
    `Payment ${intent.id} of this order is still being processed by ${intent.processor}; no new charge was made. Call payOrder again in a few seconds: it returns the outcome and never charges twice.`,
    ['input', 'orderId'],
  );
}

/** The answer to a replay whose call is still running after the wait. */
export function keyStillInUse(orderId: string | null): PayOrderResult {
  return {
    orderId,
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

export function toStored(result: PayOrderResult, pending = false): StoredPayResult {
  return { orderId: result.orderId, paymentIntentId: result.paymentIntentId, userErrors: result.userErrors as unknown as Json, pending };
}

export function fromStored(stored: StoredPayResult): PayOrderResult {
  return { orderId: stored.orderId, paymentIntentId: stored.paymentIntentId, userErrors: (stored.userErrors as unknown as UserError[]) ?? [] };
}

/**
 * The final result of a call rebuilt from its attempts (oldest first), for a call whose process died:
 * null while one is still PROCESSING, or when the last one failed and `includeFailures` is false (a
 * live call may still try its next token).
 */
export function finalResultOf(orderId: string, attempts: readonly PaymentIntentRow[], includeFailures: boolean): PayOrderResult | null {
  if (attempts.length === 0 || attempts.some((a) => a.status === 'PROCESSING')) return null;
  const last = attempts.at(-1)!;
  const settledOk = last.status === 'SUCCEEDED' || last.status === 'REQUIRES_ACTION';
  if (!settledOk && !includeFailures) return null;
  const userErrors = settledOk
    ? []
    : attempts
        .map((a, index) => ({ a, index }))
        .filter(({ a }) => a.status === 'FAILED' || a.status === 'CANCELED')
        .map(({ a, index }) => attemptError(a, index));
  return { orderId, paymentIntentId: last.id, userErrors };
}
