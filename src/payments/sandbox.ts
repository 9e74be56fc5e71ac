// The sandbox processor: offline, deterministic, and faithful where it matters. It answers Stripe's test
// tokens with Stripe's outcomes and messages, and it behaves like an external processor: its ledger
// (SandboxCharge / SandboxRefund) is written in its own statements, outside Flint's transactions, so a
// charge it made survives a crash of the Flint process that asked for it. A charge is one plain SQL
// statement (it sits on payOrder's path). Each idempotency key maps to
// exactly one charge: replaying a key returns the first result and never charges twice, even when the
// replay races the original (the unique key makes the second insert wait for the first, then find it).
import type pg from 'pg';
import type { Db } from '../kernel/context.js';
import { readRows } from '../kernel/rows.js';
import { sqlPool } from '../db/prisma.js';
import { ulid } from '../ids.js';
import {
  DECLINE_MESSAGES,
  type ChargeRequest,
  type ChargeResult,
  type PaymentProcessor,
  type PaymentRef,
  type RefundRef,
  type RefundRequest,
  type RefundResult,
} from '../kernel/processor.js';
import type { Prisma } from '../generated/prisma/client.js';

type Outcome =
  | { status: 'SUCCEEDED' }
  | { status: 'REQUIRES_ACTION' }
  | { status: 'FAILED'; kind: 'DECLINED' | 'ERROR'; code: string; declineCode: string | null; message: string };

const decline = (code: string, declineCode: string | null): Outcome => ({
  status: 'FAILED',
  kind: 'DECLINED',
  code,
  declineCode,
  message: DECLINE_MESSAGES[declineCode ?? code]!,
});

/** Stripe's test tokens and what Stripe does with them (https://docs.stripe.com/testing). */
export const SANDBOX_TOKENS: Record<string, Outcome> = {
  tok_visa: { status: 'SUCCEEDED' },
  tok_mastercard: { status: 'SUCCEEDED' },
  tok_chargeDeclined: decline('card_declined', 'generic_decline'),
  tok_chargeDeclinedInsufficientFunds: decline('card_declined', 'insufficient_funds'),
  tok_chargeDeclinedExpiredCard: decline('expired_card', 'expired_card'),
  tok_chargeDeclinedIncorrectCvc: decline('incorrect_cvc', 'incorrect_cvc'),
  tok_chargeDeclinedProcessingError: {
    status: 'FAILED',
    kind: 'ERROR',
    code: 'processing_error',
    declineCode: 'processing_error',
    message: DECLINE_MESSAGES.processing_error!,
  },
  tok_threeDSecure2Required: { status: 'REQUIRES_ACTION' },
  /** The charge succeeds; refunds of it start PENDING and fail later. */
  tok_refundFail: { status: 'SUCCEEDED' },
};

export const SANDBOX_TOKEN_NAMES = Object.keys(SANDBOX_TOKENS);

/** Why authentication failed on the sandbox 3-D Secure page (Stripe's code and message). */
const AUTHENTICATION_FAILURE = {
  code: 'payment_intent_authentication_failure',
  message: DECLINE_MESSAGES.authentication_failed!,
};

type ChargeRow = Prisma.SandboxChargeGetPayload<object>;

/** Insert-first: a key's second request inserts nothing and gets nothing back here. */
const CHARGE_SQL = `INSERT INTO "SandboxCharge" ("id", "idempotencyKey", "token", "amount", "currency", "status", "failureCode", "declineCode", "failureMessage", "returnUrl", "metadata")
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11::jsonb)
  ON CONFLICT ("idempotencyKey") DO NOTHING
  RETURNING *`;
const CHARGE_BY_KEY_SQL = 'SELECT * FROM "SandboxCharge" WHERE "idempotencyKey" = $1';
type RefundRow = Prisma.SandboxRefundGetPayload<object>;

export interface SandboxOptions {
  /** Base URL of this server, for the sandbox authentication page (read when a charge needs it). */
  publicUrl: () => string;
}

export class SandboxProcessor implements PaymentProcessor {
  readonly name = 'SANDBOX' as const;

  constructor(
    private readonly db: Db,
    private readonly options: SandboxOptions,
  ) {}

  /** URL of the authentication page of a charge that requires action. */
  authenticationUrl(chargeId: string): string {
    return `${this.options.publicUrl()}/sandbox/3ds/${chargeId}`;
  }

  private result(row: ChargeRow): ChargeResult {
    switch (row.status) {
      case 'SUCCEEDED':
        return { status: 'SUCCEEDED', processorReference: row.id };
      case 'REQUIRES_ACTION':
        return { status: 'REQUIRES_ACTION', processorReference: row.id, actionUrl: this.authenticationUrl(row.id) };
      case 'CANCELED':
        return { status: 'CANCELED', processorReference: row.id };
      default:
        return {
          status: 'FAILED',
          processorReference: row.id,
          kind: row.failureCode === 'processing_error' || row.failureCode === 'resource_missing' ? 'ERROR' : 'DECLINED',
          failureCode: row.failureCode ?? 'card_declined',
          declineCode: row.declineCode,
          failureMessage: row.failureMessage ?? DECLINE_MESSAGES.generic_decline!,
        };
    }
  }

  private get pool(): pg.Pool {
    return sqlPool(this.db);
  }

  /**
   * The charge of the request's key: inserted by this call, or the one an earlier request with the key
   * made. One statement; a concurrent request with the same key waits on the key's unique index for the
   * first one, and (its row not being in this statement's snapshot) reads it right after.
   */
  private async recordCharge(request: ChargeRequest, outcome: Outcome): Promise<ChargeRow> {
    const metadata = {
      flint_payment_intent_id: request.paymentIntentId,
      flint_order_id: request.orderId,
      flint_merchant_id: request.merchantId,
      ...(request.customerId ? { flint_customer_id: request.customerId } : {}),
    };
    const failed = outcome.status === 'FAILED' ? outcome : null;
    const inserted = await readRows<ChargeRow>(this.pool, 'flint_sandbox_charge', CHARGE_SQL, [
      `sbch_${ulid()}`,
      request.idempotencyKey,
      request.token,
      request.amount,
      request.currency,
      outcome.status,
      failed?.code ?? null,
      failed?.declineCode ?? null,
      failed?.message ?? null,
      request.returnUrl,
      JSON.stringify(metadata),
    ]);
    if (inserted[0]) return inserted[0];
    const [existing] = await readRows<ChargeRow>(this.pool, 'flint_sandbox_charge_by_key', CHARGE_BY_KEY_SQL, [request.idempotencyKey]);
    if (!existing) throw new Error(`sandbox charge of key ${request.idempotencyKey} is missing`);
    return existing;
  }

  async confirmPayment(request: ChargeRequest): Promise<ChargeResult> {
    if (request.livemode) {
      return {
        status: 'FAILED',
        processorReference: null,
        kind: 'ERROR',
        failureCode: 'livemode_not_supported',
        failureMessage: 'The sandbox processor takes test payments only. Live payments need Stripe: set STRIPE_SECRET_KEY.',
      };
    }
    const outcome: Outcome = SANDBOX_TOKENS[request.token] ?? {
      status: 'FAILED',
      kind: 'ERROR',
      code: 'resource_missing',
      declineCode: null,
      message: `No such token: '${request.token}'. The sandbox accepts Stripe's test tokens: ${SANDBOX_TOKEN_NAMES.join(', ')}.`,
    };
    const row = await this.recordCharge(request, outcome);
    if (row.amount !== request.amount || row.currency !== request.currency || row.token !== request.token) {
      // Stripe answers the same: a key belongs to one request.
      return {
        status: 'FAILED',
        processorReference: null,
        kind: 'ERROR',
        failureCode: 'idempotency_error',
        failureMessage: 'Keys for idempotent requests can only be used with the same parameters they were first used with.',
      };
    }
    return this.result(row);
  }

  async retrievePayment(ref: PaymentRef): Promise<ChargeResult | null> {
    const [row] = await readRows<ChargeRow>(this.pool, 'flint_sandbox_charge_by_key', CHARGE_BY_KEY_SQL, [ref.idempotencyKey]);
    return row ? this.result(row) : null;
  }

  async cancelPayment(ref: PaymentRef): Promise<ChargeResult> {
    await this.db.sandboxCharge.updateMany({
      where: { idempotencyKey: ref.idempotencyKey, status: 'REQUIRES_ACTION' },
      data: { status: 'CANCELED', updatedAt: new Date() },
    });
    const row = await this.db.sandboxCharge.findUnique({ where: { idempotencyKey: ref.idempotencyKey } });
    return row ? this.result(row) : { status: 'CANCELED', processorReference: null };
  }

  /** The sandbox authentication page: the buyer completes or fails 3-D Secure. Atomic; first answer wins. */
  async authenticate(chargeId: string, outcome: 'complete' | 'fail'): Promise<{ charge: ChargeRow; changed: boolean } | null> {
    const changed = await this.db.sandboxCharge.updateMany({
      where: { id: chargeId, status: 'REQUIRES_ACTION' },
      data:
        outcome === 'complete'
          ? { status: 'SUCCEEDED', updatedAt: new Date() }
          : { status: 'FAILED', failureCode: AUTHENTICATION_FAILURE.code, failureMessage: AUTHENTICATION_FAILURE.message, updatedAt: new Date() },
    });
    const charge = await this.db.sandboxCharge.findUnique({ where: { id: chargeId } });
    return charge ? { charge, changed: changed.count === 1 } : null;
  }

  async findCharge(chargeId: string): Promise<ChargeRow | null> {
    return this.db.sandboxCharge.findUnique({ where: { id: chargeId } });
  }

  private refundResult(row: RefundRow): RefundResult {
    if (row.status === 'FAILED') return { status: 'FAILED', processorReference: row.id, failureReason: row.failureReason ?? 'unknown' };
    return { status: row.status === 'PENDING' ? 'PENDING' : 'SUCCEEDED', processorReference: row.id };
  }

  async createRefund(request: RefundRequest): Promise<RefundResult> {
    // One call (sandbox_create_refund): the charge row is the lock, so refunds of one charge are
    // decided one at a time and never exceed it; the same key returns the same refund.
    const { rows } = await this.pool.query<{ result: { failure?: string; id: string; status: string; failureReason: string | null } }>({
      name: 'flint_sandbox_refund',
      text: 'SELECT "sandbox_create_refund"($1, $2, $3, $4, $5::jsonb) AS "result"',
      values: [
        `sbre_${ulid()}`,
        request.idempotencyKey,
        request.processorPaymentReference,
        request.amount.toString(),
        JSON.stringify({ flint_refund_id: request.refundId, flint_payment_intent_id: request.paymentIntentId }),
      ],
    });
    const result = rows[0]!.result;
    if (result.failure) return { status: 'FAILED', processorReference: null, failureReason: result.failure } as const;
    return this.refundResult(result as unknown as RefundRow);
  }

  async retrieveRefund(ref: RefundRef): Promise<RefundResult | null> {
    const row = await this.db.sandboxRefund.findUnique({ where: { idempotencyKey: ref.idempotencyKey } });
    if (!row) return null;
    if (row.status === 'PENDING') {
      // "Later" has come: a pending refund of a tok_refundFail charge fails (as Stripe's test card does).
      await this.db.sandboxRefund.updateMany({
        where: { id: row.id, status: 'PENDING' },
        data: { status: 'FAILED', failureReason: 'expired_or_canceled_card', updatedAt: new Date() },
      });
      return this.refundResult(await this.db.sandboxRefund.findUniqueOrThrow({ where: { id: row.id } }));
    }
    return this.refundResult(row);
  }
}
