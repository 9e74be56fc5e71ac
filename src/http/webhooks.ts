// POST /webhooks/stripe: Stripe's events. The signature (Stripe-Signature header) is verified with
// stripe.webhooks.constructEvent over the raw body; a bad one is a 400, and so is a timestamp more than
// 300 seconds from our clock either way (Stripe's check only refuses old ones) and a correctly signed
// event Flint cannot apply (malformed shape, NUL characters, nesting): nothing is recorded then.
// Each event is applied at most once (src/payments/stripe-webhooks.ts); an event seen before is a 200.
import type { ServerResponse } from 'node:http';
import type Stripe from 'stripe';
import { z } from 'zod';
import { handleStripeEvent, REFUND_EVENTS } from '../payments/stripe-webhooks.js';
import { stripeSdk } from '../payments/stripe-sdk.js';
import { findBadText } from './text-guard.js';
import { readBody, type Route } from './route.js';

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

export const WEBHOOK_TOLERANCE_SECONDS = 300;
const stripeObject = z.looseObject({ id: z.string().min(1).max(255), metadata: z.record(z.string(), z.string().max(500)).nullish() });
const eventShape = z.looseObject({
  id: z.string().regex(/^evt_[A-Za-z0-9_]{1,250}$/),
  type: z.string().regex(/^[a-z_.]{1,100}$/),
  livemode: z.boolean(),
  data: z.looseObject({ object: stripeObject }),
});
const paymentIntentShape = stripeObject.extend({ status: z.string().max(100), last_payment_error: z.looseObject({}).nullish(), next_action: z.looseObject({}).nullish() });
const refundShape = stripeObject.extend({ status: z.string().max(100).nullish(), failure_reason: z.string().max(500).nullish() });
const chargeShape = stripeObject.extend({ payment_intent: z.string().max(255).nullish(), refunds: z.looseObject({ data: z.array(refundShape).max(1000).optional() }).nullish() });

/** What is wrong with a correctly signed event that Flint cannot apply, or null. */
export function malformedEvent(event: unknown): string | null {
  const text = findBadText(event, ['event'], { maxDepth: 32, maxNodes: 50_000 });
  if (text) return `${text.path.join('.')} ${text.message}`;
  const envelope = eventShape.safeParse(event);
  if (!envelope.success) return describe(envelope.error);
  const { type, data } = envelope.data;
  const object = type.startsWith('payment_intent.')
    ? paymentIntentShape.safeParse(data.object)
    : type === 'charge.refunded'
      ? chargeShape.safeParse(data.object)
      : REFUND_EVENTS.has(type)
        ? refundShape.safeParse(data.object)
        : null;
  if (object && !object.success) return describe(object.error, 'data.object.');
  return null;
}

function describe(error: z.ZodError, prefix = ''): string {
  const issue = error.issues[0]!;
  return `${prefix}${issue.path.join('.') || '(the event)'}: ${issue.message}`;
}

export const stripeWebhookRoute: Route = async (req, res, deps) => {
  const path = (req.url ?? '/').split('?')[0];
  if (path !== '/webhooks/stripe') return false;
  if (req.method !== 'POST') {
    res.setHeader('allow', 'POST');
    sendJson(res, 405, { error: 'Use POST.' });
    return true;
  }
  const secret = deps.stripeWebhookSecret;
  if (!secret) {
    sendJson(res, 404, { error: 'Stripe webhooks are not enabled on this server: set STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET.' });
    return true;
  }
  const body = await readBody(req);
  if (!body) {
    sendJson(res, 413, { error: 'The event is larger than 1 MiB.' });
    return true;
  }
  const signature = req.headers['stripe-signature'];
  let event: Stripe.Event;
  try {
    event = stripeSdk().webhooks.constructEvent(
      body,
      typeof signature === 'string' ? signature : '',
      secret,
      WEBHOOK_TOLERANCE_SECONDS,
      undefined,
      deps.clock.now().getTime(),
    );
  } catch (error) {
    sendJson(res, 400, { error: `Webhook signature verification failed: ${error instanceof Error ? error.message : String(error)}` });
    return true;
  }
  const timestamp = /(?:^|,)\s*t=(\d{1,12})(?:,|$)/.exec(typeof signature === 'string' ? signature : '')?.[1];
  const skew = timestamp ? Math.abs(deps.clock.now().getTime() / 1000 - Number(timestamp)) : Infinity;
  if (skew > WEBHOOK_TOLERANCE_SECONDS) {
    sendJson(res, 400, { error: `Webhook timestamp is more than ${WEBHOOK_TOLERANCE_SECONDS} seconds from this server's clock (in the past or the future).` });
    return true;
  }
  const problem = malformedEvent(event);
  if (problem) {
    sendJson(res, 400, { error: `Malformed event: ${problem}. Nothing was recorded.` });
    return true;
  }
  const { outcome, paymentIntentId } = await handleStripeEvent(deps, event);
  sendJson(res, 200, { received: true, id: event.id, outcome, paymentIntentId });
  return true;
};
