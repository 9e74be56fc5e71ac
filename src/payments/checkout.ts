// Hosted checkout: a page on this server (/checkout/<id>) where the buyer pays an order. The session
// lives 24 hours (clock from deps). Creating one is planned on the order as read and written in one
// guarded write (src/kernel/write-path.ts); paying goes through payOrder like any other payment, and the
// session becomes COMPLETE in the same write that records the successful payment.
import type { Scope } from '../kernel/context.js';
import { Activities } from '../audit/activity.js';
import { type Outcome, fail, notFound, ok, userError, type UserError } from '../kernel/errors.js';
import { orderActions, orderFacts } from '../orders/order-model.js';
import { loadOrderState, orderGuard } from '../orders/order-state.js';
import { runWrite } from '../kernel/write-path.js';
import { invalidTransitionMessage } from '../pricing/index.js';
import { newId } from '../ids.js';
import type { CheckoutSession as CheckoutSessionRow } from '../generated/prisma/client.js';

export type { CheckoutSessionRow };

export const CHECKOUT_SESSION_TTL_MS = 24 * 60 * 60 * 1000;

export interface CreateCheckoutSessionInput {
  orderId: string;
  successUrl?: string | null;
  cancelUrl?: string | null;
  idempotencyKey?: string | null;
}

export type CheckoutStatus = 'OPEN' | 'COMPLETE' | 'EXPIRED';

/** OPEN until paid; an OPEN session past its expiry reads as EXPIRED. */
export function checkoutStatus(session: Pick<CheckoutSessionRow, 'status' | 'expiresAt'>, now: Date): CheckoutStatus {
  if (session.status === 'OPEN' && session.expiresAt.getTime() <= now.getTime()) return 'EXPIRED';
  return session.status;
}

function checkRedirectUrl(errors: UserError[], value: string | null | undefined, field: string): void {
  if (value === null || value === undefined) return;
  let url: URL | null = null;
  try {
    url = new URL(value);
  } catch {
    url = null;
  }
  // The URL parser drops tabs and line breaks silently: refuse control characters and spaces outright.
  if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:') || value.length > 2048 || /[\u0000-\u0020\u007F-\u009F]/.test(value)) {
    errors.push(userError('INVALID_INPUT', `${field} must be an absolute http(s) URL of at most 2048 characters, without spaces or control characters, e.g. "https://shop.example.com/thanks".`, ['input', field]));
  }
}

export async function createCheckoutSession(scope: Scope, input: CreateCheckoutSessionInput): Promise<Outcome<CheckoutSessionRow>> {
  const errors: UserError[] = [];
  checkRedirectUrl(errors, input.successUrl, 'successUrl');
  checkRedirectUrl(errors, input.cancelUrl, 'cancelUrl');
  if (errors.length > 0) return fail(...errors);
  let created: CheckoutSessionRow | null = null;
  const { outcome, replayed } = await runWrite<{ checkoutSessionId: string }>({
    scope,
    operation: 'createCheckoutSession',
    input: input as unknown as Record<string, unknown>,
    plan: async (at) => {
      const state = await loadOrderState(scope, input.orderId);
      if (!state) return fail(notFound('order', input.orderId, ['input', 'orderId']));
      const { order, lines } = state;
      const guard = orderActions(order, lines).find((g) => g.action === 'CREATE_CHECKOUT_SESSION');
      if (!guard?.allowed) {
        if (order.status === 'OPEN') return fail(userError('NOTHING_TO_PAY', guard?.reason ?? 'Nothing to pay.', ['input', 'orderId']));
        return fail(userError('INVALID_STATE_TRANSITION', invalidTransitionMessage(orderFacts(order, lines), 'CREATE_CHECKOUT_SESSION'), ['input', 'orderId']));
      }
      const session: CheckoutSessionRow = {
        id: newId('CheckoutSession'),
        merchantId: scope.merchantId,
        livemode: scope.livemode,
        orderId: order.id,
        status: 'OPEN',
        successUrl: input.successUrl ?? null,
        cancelUrl: input.cancelUrl ?? null,
        expiresAt: new Date(at.getTime() + CHECKOUT_SESSION_TTL_MS),
        completedAt: null,
        createdAt: at,
      };
      created = session;
      return ok({
        result: { checkoutSessionId: session.id },
        write: {
          // The order must still be as judged (a session does not change the order row itself).
          guards: [orderGuard(order)],
          ops: [{ kind: 'insert', table: 'CheckoutSession', rows: [session] }],
          entries: [Activities.checkoutSessionCreated(order.id, { checkoutSessionId: session.id, status: 'OPEN', expiresAt: session.expiresAt })],
        },
      });
    },
  });
  if (!outcome.ok) return outcome;
  if (created && !replayed) return ok(created);
  const stored = await loadCheckoutSession(scope, outcome.value.checkoutSessionId);
  if (!stored) throw new Error(`checkout session ${outcome.value.checkoutSessionId} of a stored idempotent result is missing`);
  return ok(stored);
}

export async function loadCheckoutSession(scope: Scope, id: string): Promise<CheckoutSessionRow | null> {
  return scope.deps.db.checkoutSession.findFirst({ where: { id, merchantId: scope.merchantId, livemode: scope.livemode } });
}
