import { builder } from '../builder.js';
import { ERROR_CODES, type ErrorCode, type UserError as UserErrorShape } from '../../kernel/errors.js';

const ERROR_CODE_DESCRIPTIONS: Record<ErrorCode, string> = {
  INVALID_INPUT: 'An input value is missing, malformed or out of range; `field` points at it. Fix the value and retry.',
  NOT_FOUND: 'No such object for this API key\'s merchant and mode (another merchant\'s ids read as not found). Check the id.',
  CURRENCY_MISMATCH: 'An amount is in a different currency than the order. Send amounts in the order\'s currency.',
  INVALID_STATE_TRANSITION: 'The order\'s status does not allow this action. The message and Order.availableActions list what is allowed.',
  ORDER_NOT_EDITABLE: 'Line items, coupons and the shipping address change only while the order is OPEN.',
  COUPON_NOT_FOUND: 'No active coupon with this code. Check the code (codes are case-insensitive).',
  COUPON_EXPIRED: 'The coupon\'s expiresAt has passed.',
  COUPON_NOT_YET_ACTIVE: 'The coupon\'s startsAt is still in the future.',
  COUPON_USAGE_LIMIT_REACHED: 'The coupon reached maxRedemptions or maxRedemptionsPerCustomer.',
  COUPON_NOT_STACKABLE: 'A non-stackable coupon cannot be combined with another coupon. Remove one first.',
  COUPON_MINIMUM_NOT_MET: 'The order\'s subtotal is below the coupon\'s minimum. The message says how much more to add.',
  COUPON_ALREADY_APPLIED: 'This coupon is already applied to the order.',
  NOTHING_TO_PAY: 'The order\'s balance is zero: nothing to charge.',
  PAYMENT_DECLINED: 'The card was declined; the PaymentIntent holds failureCode and failureMessage. Ask for another payment method.',
  PAYMENT_FAILED: 'The payment could not be processed (unknown token, processor error). Retry or use another payment method.',
  REFUND_EXCEEDS_REFUNDABLE: 'The refund is larger than what is still refundable; the message states the maximum (in all and per line).',
  IDEMPOTENCY_KEY_REUSED: 'The idempotencyKey was used before with a different input or operation. Use a new key.',
  IDEMPOTENCY_KEY_IN_USE: 'Another request with the same idempotencyKey is still running. Retry shortly to get its result.',
  VERSION_CONFLICT: 'The order changed since the version you read (expectedVersion). Read the order again and retry.',
};

export const ErrorCodeEnum = builder.enumType('ErrorCode', {
  description: 'Stable machine-readable codes of expected business failures (userErrors). Never a thrown error.',
  values: Object.fromEntries(ERROR_CODES.map((code) => [code, { value: code, description: ERROR_CODE_DESCRIPTIONS[code] }])) as Record<
    ErrorCode,
    { value: ErrorCode; description: string }
  >,
});

export const UserError = builder.objectRef<UserErrorShape>('UserError').implement({
  description: 'An expected business failure: nothing was written. `code` is stable; `message` says what to do next.',
  fields: (t) => ({
    code: t.field({ type: ErrorCodeEnum, description: 'Stable machine-readable code.', resolve: (e) => e.code }),
    message: t.exposeString('message', { description: 'What went wrong and what the caller can do next.' }),
    field: t.exposeStringList('field', {
      nullable: true,
      description: 'Path to the offending input field, e.g. ["input", "lineItems", "0", "quantity"].',
    }),
  }),
});

export const IDEMPOTENCY_KEY_DESCRIPTION =
  'Optional but recommended: a unique key (e.g. a UUID) per logical operation. Retrying with the same key and input returns the stored result without repeating the effect; the same key with a different input is IDEMPOTENCY_KEY_REUSED. Kept at least 24 hours.';
