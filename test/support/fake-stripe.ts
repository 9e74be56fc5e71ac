// A local HTTP server that plays the Stripe API endpoints Flint uses (on 127.0.0.1, no network), records
// every request (method, path, form parameters, headers) and honours Idempotency-Key the way Stripe does:
// a key seen before gets the first response again ("Idempotent-Replayed: true"), never a second charge.
//
// Card tokens decide the outcome, as Stripe's test tokens do; a few extra ones exercise the edges:
// tok_async (stays "processing"), tok_flaky (the first request fails with a 500, the retry succeeds).
// Refunds (refunds issue): refunds of a tok_refundFail payment stay "pending" (a test flips them through
// `refunds`); a refund beyond what the payment has left is refused (amount_too_large); GET /v1/refunds
// lists a payment's refunds.
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { afterAll, beforeAll } from 'vitest';
import { StripeProcessor } from '../../src/payments/stripe.js';
import type { PaymentProcessor, RefundRequest, RefundResult } from '../../src/kernel/processor.js';

export interface RecordedRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  /** Form parameters as sent, e.g. "metadata[flint_order_id]". */
  form: Record<string, string>;
  headers: IncomingMessage['headers'];
}

export interface FakeStripe {
  url: string;
  port: number;
  requests: RecordedRequest[];
  /** Payment intents created, by id. */
  intents: Map<string, Record<string, unknown>>;
  refunds: Map<string, Record<string, unknown>>;
  /** Charges made (one per created succeeded/processing intent). */
  charges(): number;
  close(): Promise<void>;
}

const DECLINES: Record<string, { code: string; decline_code: string; message: string }> = {
  tok_chargeDeclined: { code: 'card_declined', decline_code: 'generic_decline', message: 'Your card was declined.' },
  tok_chargeDeclinedInsufficientFunds: { code: 'card_declined', decline_code: 'insufficient_funds', message: 'Your card has insufficient funds.' },
  tok_chargeDeclinedExpiredCard: { code: 'expired_card', decline_code: 'expired_card', message: 'Your card has expired.' },
};

async function readForm(req: IncomingMessage): Promise<Record<string, string>> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString('utf8')));
}

export async function startFakeStripe(): Promise<FakeStripe> {
  const requests: RecordedRequest[] = [];
  const intents = new Map<string, Record<string, unknown>>();
  const refunds = new Map<string, Record<string, unknown>>();
  const replies = new Map<string, { status: number; body: unknown }>();
  const flaky = new Set<string>();
  const refundsStayPending = new Set<string>();
  let counter = 0;
  const instance = randomBytes(4).toString('hex');

  function metadataOf(form: Record<string, string>): Record<string, string> {
    const metadata: Record<string, string> = {};
    for (const [k, v] of Object.entries(form)) {
      const m = /^metadata\[(.+)\]$/.exec(k);
      if (m) metadata[m[1]!] = v;
    }
    return metadata;
  }

  function createIntent(form: Record<string, string>, key: string | undefined): { status: number; body: unknown } {
    const token = form['payment_method_data[card][token]'] ?? form.payment_method ?? '';
    if (token === 'tok_flaky' && key && !flaky.has(key)) {
      flaky.add(key);
      return { status: 500, body: { error: { type: 'api_error', message: 'Something went wrong on our end.' } } };
    }
    counter += 1;
    // Unique across fake servers: test files run side by side on one database, and webhooks find
    // payments by Stripe's id as Stripe's ids are unique.
    const id = `pi_fake${instance}${String(counter).padStart(6, '0')}`;
    const intent: Record<string, unknown> = {
      id,
      object: 'payment_intent',
      amount: Number(form.amount),
      currency: form.currency,
      metadata: metadataOf(form),
      status: 'succeeded',
      next_action: null,
      last_payment_error: null,
      latest_charge: `ch_fake${counter}`,
      livemode: false,
    };
    const decline = DECLINES[token];
    if (decline) {
      intent.status = 'requires_payment_method';
      intent.last_payment_error = { type: 'card_error', ...decline };
      intent.latest_charge = null;
      intents.set(id, intent);
      return { status: 402, body: { error: { type: 'card_error', ...decline, payment_intent: intent } } };
    }
    if (token === 'tok_threeDSecure2Required') {
      intent.status = 'requires_action';
      intent.next_action = { type: 'redirect_to_url', redirect_to_url: { url: `https://hooks.stripe.test/3ds/${id}`, return_url: form.return_url ?? null } };
      intent.latest_charge = null;
    } else if (token === 'tok_async') {
      intent.status = 'processing';
    } else if (!['tok_visa', 'tok_mastercard', 'tok_flaky', 'pm_card_visa', 'tok_refundFail'].includes(token)) {
      counter -= 1;
      return {
        status: 400,
        body: { error: { type: 'invalid_request_error', code: 'resource_missing', param: 'payment_method_data[card][token]', message: `No such token: '${token}'` } },
      };
    }
    if (token === 'tok_refundFail') refundsStayPending.add(id);
    intents.set(id, intent);
    return { status: 200, body: intent };
  }

  const server: Server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const form = req.method === 'POST' ? await readForm(req) : {};
    requests.push({ method: req.method ?? '', path: url.pathname, query: url.searchParams, form, headers: req.headers });
    const key = req.headers['idempotency-key'] as string | undefined;
    const send = (reply: { status: number; body: unknown }, replayed = false) => {
      res.writeHead(reply.status, { 'content-type': 'application/json', 'request-id': `req_${requests.length}`, ...(replayed ? { 'idempotent-replayed': 'true' } : {}) });
      res.end(JSON.stringify(reply.body));
    };
    if (req.method === 'POST' && key && replies.has(key)) return send(replies.get(key)!, true);
    let reply: { status: number; body: unknown };
    const path = url.pathname;
    let m: RegExpExecArray | null;
    if (req.method === 'POST' && path === '/v1/payment_intents') {
      reply = createIntent(form, key);
    } else if (req.method === 'GET' && path === '/v1/payment_intents/search') {
      const wanted = /metadata\['flint_payment_intent_id'\]:'([^']+)'/.exec(url.searchParams.get('query') ?? '')?.[1];
      const data = [...intents.values()].filter((i) => (i.metadata as Record<string, string>).flint_payment_intent_id === wanted);
      reply = { status: 200, body: { object: 'search_result', data, has_more: false, url: '/v1/payment_intents/search', next_page: null } };
    } else if (req.method === 'GET' && (m = /^\/v1\/payment_intents\/([^/]+)$/.exec(path))) {
      const intent = intents.get(m[1]!);
      reply = intent ? { status: 200, body: intent } : { status: 404, body: { error: { type: 'invalid_request_error', code: 'resource_missing', message: `No such payment_intent: '${m[1]}'` } } };
    } else if (req.method === 'POST' && (m = /^\/v1\/payment_intents\/([^/]+)\/cancel$/.exec(path))) {
      const intent = intents.get(m[1]!);
      if (intent && intent.status === 'requires_action') {
        intent.status = 'canceled';
        reply = { status: 200, body: intent };
      } else {
        reply = { status: 400, body: { error: { type: 'invalid_request_error', code: 'payment_intent_unexpected_state', message: 'You cannot cancel this PaymentIntent.' } } };
      }
    } else if (req.method === 'POST' && path === '/v1/refunds') {
      const intent = intents.get(form.payment_intent ?? '');
      if (!intent || intent.status !== 'succeeded') {
        reply = { status: 400, body: { error: { type: 'invalid_request_error', code: 'charge_not_refundable', message: 'This payment cannot be refunded.' } } };
      } else {
        const taken = [...refunds.values()]
          .filter((r) => r.payment_intent === intent.id && r.status !== 'failed' && r.status !== 'canceled')
          .reduce((sum, r) => sum + Number(r.amount), 0);
        if (taken + Number(form.amount) > Number(intent.amount)) {
          reply = {
            status: 400,
            body: { error: { type: 'invalid_request_error', code: 'amount_too_large', param: 'amount', message: `Refund amount is greater than unrefunded amount on charge (${Number(intent.amount) - taken}).` } },
          };
        } else {
          const id = `re_fake${refunds.size + 1}`;
          const status = refundsStayPending.has(String(intent.id)) ? 'pending' : 'succeeded';
          const refund = { id, object: 'refund', amount: Number(form.amount), currency: intent.currency, payment_intent: intent.id, reason: form.reason ?? null, status, failure_reason: null, metadata: metadataOf(form) };
          refunds.set(id, refund);
          reply = { status: 200, body: refund };
        }
      }
    } else if (req.method === 'GET' && path === '/v1/refunds') {
      const wanted = url.searchParams.get('payment_intent');
      const data = [...refunds.values()].filter((r) => !wanted || r.payment_intent === wanted).reverse();
      reply = { status: 200, body: { object: 'list', data, has_more: false, url: '/v1/refunds' } };
    } else if (req.method === 'GET' && (m = /^\/v1\/refunds\/([^/]+)$/.exec(path))) {
      const refund = refunds.get(m[1]!);
      reply = refund ? { status: 200, body: refund } : { status: 404, body: { error: { type: 'invalid_request_error', code: 'resource_missing', message: 'No such refund' } } };
    } else {
      reply = { status: 404, body: { error: { type: 'invalid_request_error', message: `Unrecognized request URL (${req.method}: ${path})` } } };
    }
    // Stripe stores the response of a keyed request, except server errors (those may be retried).
    if (req.method === 'POST' && key && reply.status < 500) replies.set(key, reply);
    send(reply);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    intents,
    refunds,
    charges: () => [...intents.values()].filter((i) => i.status === 'succeeded' || i.status === 'processing').length,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * The Stripe processor (src/payments/stripe.ts) pointed at a fake Stripe started for the current test
 * file. The processor exists before the fake listens, so it can go into the server's deps; it can also
 * lose the answer of the next refund, as a network failure after Stripe acted would.
 */
export class StripeOnFake implements PaymentProcessor {
  readonly name = 'STRIPE' as const;
  inner: StripeProcessor | null = null;
  loseNextRefundAnswer = false;
  private get p(): StripeProcessor {
    if (!this.inner) throw new Error('fake Stripe not started');
    return this.inner;
  }
  confirmPayment = (...a: Parameters<PaymentProcessor['confirmPayment']>) => this.p.confirmPayment(...a);
  retrievePayment = (...a: Parameters<PaymentProcessor['retrievePayment']>) => this.p.retrievePayment(...a);
  cancelPayment = (...a: Parameters<PaymentProcessor['cancelPayment']>) => this.p.cancelPayment(...a);
  retrieveRefund = (...a: Parameters<PaymentProcessor['retrieveRefund']>) => this.p.retrieveRefund(...a);
  async createRefund(request: RefundRequest): Promise<RefundResult> {
    const result = await this.p.createRefund(request);
    if (this.loseNextRefundAnswer) {
      this.loseNextRefundAnswer = false;
      throw new Error('simulated: the answer was lost on the way back');
    }
    return result;
  }
}

/** Starts a fake Stripe for the current test file (beforeAll/afterAll) with a StripeOnFake pointed at it. */
export function useFakeStripe(): { processor: StripeOnFake; readonly fake: FakeStripe } {
  const processor = new StripeOnFake();
  let fake: FakeStripe | null = null;
  beforeAll(async () => {
    fake = await startFakeStripe();
    processor.inner = new StripeProcessor({ secretKey: 'sk_test_flint', host: '127.0.0.1', port: fake.port, protocol: 'http', maxNetworkRetries: 0 });
  });
  afterAll(() => fake?.close());
  return {
    processor,
    get fake() {
      if (!fake) throw new Error('fake Stripe not started (use it inside tests)');
      return fake;
    },
  };
}
