// The card processor behind one interface: the built-in sandbox (default, offline, deterministic) or
// Stripe (selected by STRIPE_SECRET_KEY). Flint never sends an amount it did not derive from the order.
//
// Every call that moves money carries an idempotency key derived from ours
// (`flint_pi_<paymentIntentId>_attempt`, `flint_re_<refundId>`): sending the same request again with the
// same key returns the first answer and never charges (or refunds) twice. That is what makes recovery
// safe: after a crash, Flint asks the processor what happened to a key (retrievePayment) and, if the
// processor never saw it, sends the very same request again under the same key.

export type ProcessorName = 'SANDBOX' | 'STRIPE';

export interface ChargeRequest {
  /** Our key for this attempt; the processor dedupes on it. */
  idempotencyKey: string;
  /** Our PaymentIntent id (pi_...), recorded as metadata.flint_payment_intent_id. */
  paymentIntentId: string;
  orderId: string;
  merchantId: string;
  livemode: boolean;
  /** Minor units, derived from the order's balance. */
  amount: bigint;
  /** ISO 4217, upper case. */
  currency: string;
  /** tok_... (or pm_... for Stripe). */
  token: string;
  customerId: string | null;
  /** Where the buyer comes back to after authenticating (3-D Secure). */
  returnUrl: string | null;
}

export interface PaymentRef {
  idempotencyKey: string;
  paymentIntentId: string;
  /** The processor's id when known. */
  processorReference: string | null;
  /** When our intent was created (a processor's key memory is finite: Stripe keeps keys 24 hours). */
  createdAt: Date;
}

export type ChargeResult =
  | { status: 'SUCCEEDED'; processorReference: string }
  | { status: 'REQUIRES_ACTION'; processorReference: string; actionUrl: string | null }
  /** Accepted; the outcome arrives later (webhook or the next retrieve). */
  | { status: 'PROCESSING'; processorReference: string | null }
  | {
      status: 'FAILED';
      processorReference: string | null;
      /** DECLINED: the card was refused (PAYMENT_DECLINED); ERROR: it could not be processed (PAYMENT_FAILED). */
      kind: 'DECLINED' | 'ERROR';
      failureCode: string;
      /** The issuer's reason for a decline (generic_decline, insufficient_funds...). */
      declineCode?: string | null;
      failureMessage: string;
    }
  | { status: 'CANCELED'; processorReference: string | null }
  /** The processor could not be reached or answered ambiguously: the charge may or may not exist. */
  | { status: 'UNKNOWN'; message: string };

export interface RefundRequest {
  idempotencyKey: string;
  /** Our Refund id (re_...). */
  refundId: string;
  paymentIntentId: string;
  /** The processor's id of the payment being refunded. */
  processorPaymentReference: string;
  amount: bigint;
  currency: string;
  reason: 'requested_by_customer' | 'duplicate' | 'fraudulent' | null;
}

export interface RefundRef {
  idempotencyKey: string;
  processorReference: string | null;
  /** Our Refund id (re_...) and the processor's id of the refunded payment: let a processor find a refund
   *  whose reference we never recorded (e.g. Stripe lists the payment's refunds by metadata.flint_refund_id). */
  refundId?: string;
  processorPaymentReference?: string | null;
}

export type RefundResult =
  | { status: 'SUCCEEDED' | 'PENDING'; processorReference: string }
  | { status: 'FAILED'; processorReference: string | null; failureReason: string }
  | { status: 'UNKNOWN'; message: string };

export interface PaymentProcessor {
  readonly name: ProcessorName;
  /** Creates and confirms a payment. Idempotent by request.idempotencyKey. Never throws for a business outcome. */
  confirmPayment(request: ChargeRequest): Promise<ChargeResult>;
  /** What the processor knows about a payment; null when it has never seen the key. */
  retrievePayment(ref: PaymentRef): Promise<ChargeResult | null>;
  /** Cancels a payment that waits for authentication; returns its final state (it may have just succeeded). */
  cancelPayment(ref: PaymentRef): Promise<ChargeResult>;
  /** Refunds (part of) a succeeded payment. Idempotent by request.idempotencyKey. */
  createRefund(request: RefundRequest): Promise<RefundResult>;
  /** The refund's current state; null when the processor has never seen it. */
  retrieveRefund(ref: RefundRef): Promise<RefundResult | null>;
}

/** Our idempotency key for the processor call of one PaymentIntent. */
export function paymentIdempotencyKey(paymentIntentId: string): string {
  return `flint_pi_${paymentIntentId}_attempt`;
}

/** Our idempotency key for the processor call of one Refund. */
export function refundIdempotencyKey(refundId: string): string {
  return `flint_re_${refundId}`;
}

/** Stripe's messages for its test tokens' outcomes (https://docs.stripe.com/testing#declined-payments). */
export const DECLINE_MESSAGES: Record<string, string> = {
  generic_decline: 'Your card was declined.',
  insufficient_funds: 'Your card has insufficient funds.',
  expired_card: 'Your card has expired.',
  incorrect_cvc: "Your card's security code is incorrect.",
  processing_error: 'An error occurred while processing your card. Try again in a little bit.',
  authentication_failed: 'We are unable to authenticate your payment method. Please choose a different payment method and try again.',
};
