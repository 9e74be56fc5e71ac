// POST /webhooks/stripe: Stripe's events. The signature (Stripe-Signature header) is verified with
// stripe.webhooks.constructEvent over the raw body, 300 seconds of tolerance; a bad one is a 400.
// Each event is applied at most once (src/domain/webhooks.ts); an event seen before is a 200.
import type { ServerResponse } from 'node:http';
import type Stripe from 'stripe';
import { handleStripeEvent } from '../domain/webhooks.js';
import { stripeSdk } from '../payments/stripe-sdk.js';
import { readBody, type Route } from './route.js';

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

export const WEBHOOK_TOLERANCE_SECONDS = 300;

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
  const { outcome, paymentIntentId } = await handleStripeEvent(deps, event);
  sendJson(res, 200, { received: true, id: event.id, outcome, paymentIntentId });
  return true;
};
