// Expected business failures: a stable code plus a message that tells the caller what to do next.
// Use cases return them; they never throw them. Anything thrown is unexpected and is masked.

export const ERROR_CODES = [
  'INVALID_INPUT',
  'NOT_FOUND',
  'CURRENCY_MISMATCH',
  'INVALID_STATE_TRANSITION',
  'ORDER_NOT_EDITABLE',
  'COUPON_NOT_FOUND',
  'COUPON_EXPIRED',
  'COUPON_NOT_YET_ACTIVE',
  'COUPON_USAGE_LIMIT_REACHED',
  'COUPON_NOT_STACKABLE',
  'COUPON_MINIMUM_NOT_MET',
  'COUPON_ALREADY_APPLIED',
  'NOTHING_TO_PAY',
  'PAYMENT_DECLINED',
  'PAYMENT_FAILED',
  'REFUND_EXCEEDS_REFUNDABLE',
  'IDEMPOTENCY_KEY_REUSED',
  'IDEMPOTENCY_KEY_IN_USE',
  'VERSION_CONFLICT',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export interface UserError {
  code: ErrorCode;
  message: string;
  field: string[] | null;
}

export function userError(code: ErrorCode, message: string, field: (string | number)[] | null = null): UserError {
  return { code, message, field: field ? field.map(String) : null };
}

export type Outcome<T> = { ok: true; value: T } | { ok: false; errors: UserError[] };

export const ok = <T>(value: T): Outcome<T> => ({ ok: true, value });
export const fail = <T = never>(...errors: UserError[]): Outcome<T> => ({ ok: false, errors });

export function notFound(kind: string, id: string, field: string[] = ['id']): UserError {
  return userError(
    'NOT_FOUND',
    `No ${kind} with id "${id}" exists for this API key's merchant and mode. Check the id (list them with the matching query) and that you use the right test or live key.`,
    field,
  );
}

/** Thrown inside a transaction to roll it back and return the errors as userErrors. */
export class Rollback extends Error {
  constructor(readonly errors: UserError[]) {
    super(errors.map((e) => `${e.code}: ${e.message}`).join('; '));
    this.name = 'Rollback';
  }
}
