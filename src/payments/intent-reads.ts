// Plain-SQL reads of the payment feature's planning steps (rows in Prisma's shape, src/kernel/rows.ts):
// no Prisma query on payOrder's path. They need not agree with each other: every write planned on them
// is guarded by the versions and statuses read, and planned again when they moved on.
import type { Deps } from '../kernel/context.js';
import type { Json } from '../kernel/json.js';
import { readRows } from '../kernel/rows.js';
import { sqlPool } from '../db/prisma.js';
import type { CheckoutSession, PaymentIntent as PaymentIntentRow } from '../generated/prisma/client.js';

const INTENT_SQL = 'SELECT * FROM "PaymentIntent" WHERE "id" = $1';
const OPEN_AND_REDEEMED_SQL = `SELECT
  ARRAY(SELECT p."id" FROM "PaymentIntent" p WHERE p."orderId" = $1 AND p."status" IN ('PROCESSING', 'REQUIRES_ACTION') ORDER BY p."id") AS "open",
  ARRAY(SELECT r."couponId" FROM "CouponRedemption" r WHERE r."orderId" = $1) AS "redeemed",
  (SELECT m."name" FROM "Merchant" m WHERE m."id" = $2) AS "merchantName"`;
const ATTEMPTS_SQL = 'SELECT * FROM "PaymentIntent" WHERE "merchantId" = $1 AND "livemode" = $2 AND "orderId" = $3 AND "requestKey" = $4 ORDER BY "id"';
const KEY_SQL = 'SELECT "operation", "response", "createdAt" FROM "IdempotencyKey" WHERE "merchantId" = $1 AND "livemode" = $2 AND "key" = $3';
const MERCHANT_NAME_SQL = 'SELECT "name" FROM "Merchant" WHERE "id" = $1';
const SESSION_SQL = 'SELECT * FROM "CheckoutSession" WHERE "id" = $1';
const PROCESSING_SQL = 'SELECT * FROM "PaymentIntent" WHERE "status" = \'PROCESSING\' AND "processor" = $1 ORDER BY "id"';

export async function readIntent(deps: Deps, id: string): Promise<PaymentIntentRow | null> {
  const rows = await readRows<PaymentIntentRow>(sqlPool(deps.db), 'flint_pay_intent', INTENT_SQL, [id]);
  return rows[0] ?? null;
}

/**
 * The order's open intents (PROCESSING, REQUIRES_ACTION), the coupons already redeemed for it, and the
 * merchant's name (for the receipt the record may write), in one statement.
 */
export async function openIntentsAndRedemptions(deps: Deps, orderId: string, merchantId: string): Promise<{ open: string[]; redeemed: string[]; merchantName: string | null }> {
  const rows = await readRows<{ open: string[]; redeemed: string[]; merchantName: string | null }>(sqlPool(deps.db), 'flint_pay_open_redeemed', OPEN_AND_REDEEMED_SQL, [
    orderId,
    merchantId,
  ]);
  return rows[0] ?? { open: [], redeemed: [], merchantName: null };
}

/** The attempts of one payOrder call (its idempotency key), oldest first. */
export async function attemptsOf(deps: Deps, scope: { merchantId: string; livemode: boolean }, orderId: string, key: string): Promise<PaymentIntentRow[]> {
  return readRows<PaymentIntentRow>(sqlPool(deps.db), 'flint_pay_attempts', ATTEMPTS_SQL, [scope.merchantId, scope.livemode, orderId, key]);
}

export async function readKey(deps: Deps, scope: { merchantId: string; livemode: boolean }, key: string): Promise<{ operation: string; response: Json; createdAt: Date } | null> {
  const rows = await readRows<{ operation: string; response: Json; createdAt: Date }>(sqlPool(deps.db), 'flint_pay_key', KEY_SQL, [scope.merchantId, scope.livemode, key]);
  return rows[0] ?? null;
}

export async function merchantName(deps: Deps, merchantId: string): Promise<string> {
  const rows = await readRows<{ name: string }>(sqlPool(deps.db), 'flint_pay_merchant_name', MERCHANT_NAME_SQL, [merchantId]);
  return rows[0]?.name ?? 'Flint';
}

export async function readCheckoutSession(deps: Deps, id: string): Promise<CheckoutSession | null> {
  const rows = await readRows<CheckoutSession>(sqlPool(deps.db), 'flint_pay_session', SESSION_SQL, [id]);
  return rows[0] ?? null;
}

/** Every PROCESSING intent of one processor (start-up reconciliation). */
export async function processingIntents(deps: Deps, processor: string): Promise<PaymentIntentRow[]> {
  return readRows<PaymentIntentRow>(sqlPool(deps.db), 'flint_pay_processing', PROCESSING_SQL, [processor]);
}
