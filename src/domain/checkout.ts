// Hosted checkout: a page on this server (/checkout/<id>) where the buyer pays an order. The session
// lives 24 hours (clock from deps); paying goes through payOrder like any other payment, and the session
// becomes COMPLETE in the same transaction that records the successful payment.
import type { Scope } from './context.js';
import { Activities, appendActivity } from './activity.js';
import { type Outcome, fail, notFound, ok, userError, type UserError } from './errors.js';
import { runMutation } from './mutation.js';
import { orderActions, orderFacts } from './order-model.js';
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
  const { outcome } = await runMutation<{ checkoutSessionId: string }>({
    scope,
    operation: 'createCheckoutSession',
    input: input as unknown as Record<string, unknown>,
    run: async ({ tx, at, idempotencyKey }) => {
      const locked = await tx.$queryRaw<{ id: string }[]>`
        SELECT id FROM "Order" WHERE id = ${input.orderId} AND "merchantId" = ${scope.merchantId} AND livemode = ${scope.livemode} FOR UPDATE`;
      if (locked.length === 0) return fail(notFound('order', input.orderId, ['input', 'orderId']));
      const { lineItems: lines, ...order } = await tx.order.findUniqueOrThrow({
        where: { id: input.orderId },
        include: { lineItems: { orderBy: { position: 'asc' } } },
      });
      const guard = orderActions(order, lines).find((g) => g.action === 'CREATE_CHECKOUT_SESSION');
      if (!guard?.allowed) {
        if (order.status === 'OPEN') return fail(userError('NOTHING_TO_PAY', guard?.reason ?? 'Nothing to pay.', ['input', 'orderId']));
        return fail(userError('INVALID_STATE_TRANSITION', invalidTransitionMessage(orderFacts(order, lines), 'CREATE_CHECKOUT_SESSION'), ['input', 'orderId']));
      }
      const id = newId('CheckoutSession');
      created = await tx.checkoutSession.create({
        data: {
          id,
          merchantId: scope.merchantId,
          livemode: scope.livemode,
          orderId: order.id,
          status: 'OPEN',
          successUrl: input.successUrl ?? null,
          cancelUrl: input.cancelUrl ?? null,
          expiresAt: new Date(at.getTime() + CHECKOUT_SESSION_TTL_MS),
          createdAt: at,
        },
      });
      await appendActivity(tx, scope, at, idempotencyKey, [
        Activities.checkoutSessionCreated(order.id, { checkoutSessionId: id, status: 'OPEN', expiresAt: created.expiresAt }),
      ]);
      return ok({ checkoutSessionId: id });
    },
  });
  if (!outcome.ok) return outcome;
  if (created) return ok(created);
  const stored = await loadCheckoutSession(scope, outcome.value.checkoutSessionId);
  if (!stored) throw new Error(`checkout session ${outcome.value.checkoutSessionId} of a stored idempotent result is missing`);
  return ok(stored);
}

export async function loadCheckoutSession(scope: Scope, id: string): Promise<CheckoutSessionRow | null> {
  return scope.deps.db.checkoutSession.findFirst({ where: { id, merchantId: scope.merchantId, livemode: scope.livemode } });
}
