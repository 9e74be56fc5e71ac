// The Stripe processor, through the official `stripe` SDK. A payment is one PaymentIntent created and
// confirmed in a single request (confirm=true) with the buyer's token, our metadata and our
// Idempotency-Key, so the request can be replayed safely: Stripe answers a replay with the first
// response for 24 hours and never charges twice.
import type Stripe from 'stripe';
import { stripeSdk } from './stripe-sdk.js';
import type {
  ChargeRequest,
  ChargeResult,
  PaymentProcessor,
  PaymentRef,
  RefundRef,
  RefundRequest,
  RefundResult,
} from '../kernel/processor.js';

export interface StripeProcessorOptions {
  secretKey: string;
  /** Only for tests: a local server that plays Stripe's endpoints. */
  host?: string;
  port?: number;
  protocol?: 'http' | 'https';
  /** The SDK retries network failures itself, with the same Idempotency-Key. */
  maxNetworkRetries?: number;
  timeoutMs?: number;
}

type StripeIntent = Stripe.PaymentIntent;
type StripeRefund = Stripe.Refund;

/** Form parameters of the create-and-confirm request. Deterministic: a replay sends exactly the same. */
export function paymentIntentParams(request: ChargeRequest): Stripe.PaymentIntentCreateParams {
  const metadata: Record<string, string> = {
    flint_order_id: request.orderId,
    flint_payment_intent_id: request.paymentIntentId,
    flint_merchant_id: request.merchantId,
  };
  if (request.customerId) metadata.flint_customer_id = request.customerId;
  const params: Record<string, unknown> = {
    amount: Number(request.amount),
    currency: request.currency.toLowerCase(),
    confirm: true,
    // Cards only: no redirect-based methods, so no return_url is needed unless 3-D Secure asks for one.
    payment_method_types: ['card'],
    description: `Flint order ${request.orderId}`,
    metadata,
  };
  if (request.token.startsWith('pm_')) {
    params.payment_method = request.token;
  } else {
    // A card token (tok_...) becomes the PaymentMethod of this payment (Stripe's documented way to use
    // legacy tokens with PaymentIntents); the SDK's types list no `card` here, hence the cast.
    params.payment_method_data = { type: 'card', card: { token: request.token } };
  }
  if (request.returnUrl) params.return_url = request.returnUrl;
  return params as unknown as Stripe.PaymentIntentCreateParams;
}

/** What a Stripe PaymentIntent object (API answer or webhook payload) means for our intent. */
export function fromIntent(intent: StripeIntent): ChargeResult {
  switch (intent.status) {
    case 'succeeded':
      return { status: 'SUCCEEDED', processorReference: intent.id };
    case 'requires_action': {
      const next = intent.next_action as { redirect_to_url?: { url?: string | null } | null } | null;
      return { status: 'REQUIRES_ACTION', processorReference: intent.id, actionUrl: next?.redirect_to_url?.url ?? null };
    }
    case 'canceled':
      return { status: 'CANCELED', processorReference: intent.id };
    case 'requires_payment_method': {
      const error = intent.last_payment_error;
      return {
        status: 'FAILED',
        processorReference: intent.id,
        kind: error?.code === 'processing_error' ? 'ERROR' : 'DECLINED',
        failureCode: error?.code ?? 'card_declined',
        declineCode: error?.decline_code ?? null,
        failureMessage: error?.message ?? 'Your card was declined.',
      };
    }
    default:
      // processing, requires_capture, requires_confirmation: not final yet; a webhook or a later retrieve tells.
      return { status: 'PROCESSING', processorReference: intent.id };
  }
}

function fromError(error: unknown): ChargeResult {
  const { errors } = stripeSdk(); // loaded: only the processor's calls (after its constructor) get here
  if (error instanceof errors.StripeCardError) {
    return {
      status: 'FAILED',
      processorReference: error.payment_intent?.id ?? null,
      kind: error.code === 'processing_error' ? 'ERROR' : 'DECLINED',
      failureCode: error.code ?? 'card_declined',
      declineCode: error.decline_code ?? null,
      failureMessage: error.message,
    };
  }
  if (error instanceof errors.StripeError) {
    const status = error.statusCode ?? 0;
    // 409: another request with this key is in flight. 5xx and connection errors: the outcome is unknown.
    const ambiguous =
      error instanceof errors.StripeConnectionError || error instanceof errors.StripeAPIError || status === 409 || status >= 500 || status === 0;
    if (ambiguous) return { status: 'UNKNOWN', message: error.message };
    return {
      status: 'FAILED',
      processorReference: error.payment_intent?.id ?? null,
      kind: 'ERROR',
      failureCode: error.code ?? error.type ?? 'stripe_error',
      failureMessage: error.message,
    };
  }
  return { status: 'UNKNOWN', message: error instanceof Error ? error.message : String(error) };
}

/** What a Stripe Refund object (API answer or webhook payload) means for our refund. */
export function fromRefund(refund: StripeRefund): RefundResult {
  switch (refund.status) {
    case 'succeeded':
      return { status: 'SUCCEEDED', processorReference: refund.id };
    case 'failed':
    case 'canceled':
      return { status: 'FAILED', processorReference: refund.id, failureReason: refund.failure_reason ?? refund.status };
    default:
      return { status: 'PENDING', processorReference: refund.id };
  }
}

function fromRefundError(error: unknown): RefundResult {
  const { errors } = stripeSdk();
  if (error instanceof errors.StripeError) {
    const status = error.statusCode ?? 0;
    const ambiguous =
      error instanceof errors.StripeConnectionError || error instanceof errors.StripeAPIError || status === 409 || status >= 500 || status === 0;
    if (!ambiguous) return { status: 'FAILED', processorReference: null, failureReason: error.code ?? error.message };
  }
  return { status: 'UNKNOWN', message: error instanceof Error ? error.message : String(error) };
}

export class StripeProcessor implements PaymentProcessor {
  readonly name = 'STRIPE' as const;
  readonly client: Stripe;

  constructor(options: StripeProcessorOptions) {
    const StripeClient = stripeSdk();
    this.client = new StripeClient(options.secretKey, {
      ...(options.host ? { host: options.host } : {}),
      ...(options.port ? { port: options.port } : {}),
      ...(options.protocol ? { protocol: options.protocol } : {}),
      maxNetworkRetries: options.maxNetworkRetries ?? 2,
      timeout: options.timeoutMs ?? 30_000,
      telemetry: false,
    });
  }

  async confirmPayment(request: ChargeRequest): Promise<ChargeResult> {
    try {
      const intent = await this.client.paymentIntents.create(paymentIntentParams(request), { idempotencyKey: request.idempotencyKey });
      return fromIntent(intent);
    } catch (error) {
      return fromError(error);
    }
  }

  /** By Stripe's id when we have it, else by our metadata (Stripe's search). Null: Stripe has no such payment. */
  async retrievePayment(ref: PaymentRef): Promise<ChargeResult | null> {
    try {
      if (ref.processorReference) return fromIntent(await this.client.paymentIntents.retrieve(ref.processorReference));
      const found = await this.client.paymentIntents.search({
        query: `metadata['flint_payment_intent_id']:'${ref.paymentIntentId}'`,
        limit: 1,
      });
      const intent = found.data[0];
      return intent ? fromIntent(intent) : null;
    } catch (error) {
      const result = fromError(error);
      return result.status === 'UNKNOWN' ? result : null;
    }
  }

  async cancelPayment(ref: PaymentRef): Promise<ChargeResult> {
    const current = await this.retrievePayment(ref);
    if (!current || current.status !== 'REQUIRES_ACTION') return current ?? { status: 'CANCELED', processorReference: null };
    try {
      return fromIntent(await this.client.paymentIntents.cancel(current.processorReference));
    } catch (error) {
      // It may have been completed meanwhile: what Stripe says now is the answer.
      return (await this.retrievePayment({ ...ref, processorReference: current.processorReference })) ?? fromError(error);
    }
  }

  async createRefund(request: RefundRequest): Promise<RefundResult> {
    try {
      const refund = await this.client.refunds.create(
        {
          payment_intent: request.processorPaymentReference,
          amount: Number(request.amount),
          ...(request.reason ? { reason: request.reason } : {}),
          metadata: { flint_refund_id: request.refundId, flint_payment_intent_id: request.paymentIntentId },
        },
        { idempotencyKey: request.idempotencyKey },
      );
      return fromRefund(refund);
    } catch (error) {
      return fromRefundError(error);
    }
  }

  /** By Stripe's id when we have it, else among the payment's refunds by our metadata. Null: Stripe has no such refund. */
  async retrieveRefund(ref: RefundRef): Promise<RefundResult | null> {
    try {
      if (!ref.processorReference) {
        if (!ref.refundId || !ref.processorPaymentReference) return null;
        for await (const refund of this.client.refunds.list({ payment_intent: ref.processorPaymentReference, limit: 100 })) {
          if (refund.metadata?.flint_refund_id === ref.refundId) return fromRefund(refund);
        }
        return null;
      }
      return fromRefund(await this.client.refunds.retrieve(ref.processorReference));
    } catch (error) {
      const result = fromRefundError(error);
      return result.status === 'UNKNOWN' ? result : null;
    }
  }
}
