// Status writes: every change of an order's, a payment intent's or a refund's status goes through the
// tables of src/pricing/states.ts. The use case decides the next status; these helpers check it and
// refuse loudly a change the tables do not list (a bug, never a business outcome).
import { checkOrderTransition, checkPaymentTransition, checkRefundTransition, type OrderCause, type OrderStatus, type PaymentIntentStatus, type RefundStatus } from '../pricing/index.js';

export class TransitionError extends Error {
  override name = 'TransitionError';
}

/** The order's next status, checked against the lifecycle table. */
export function orderStatusAfter(from: OrderStatus, cause: OrderCause, to: OrderStatus): OrderStatus {
  const refused = checkOrderTransition(from, cause, to);
  if (refused) throw new TransitionError(refused);
  return to;
}

export function paymentStatusAfter(from: PaymentIntentStatus, to: PaymentIntentStatus): PaymentIntentStatus {
  const refused = checkPaymentTransition(from, to);
  if (refused) throw new TransitionError(refused);
  return to;
}

export function refundStatusAfter(from: RefundStatus, to: RefundStatus): RefundStatus {
  const refused = checkRefundTransition(from, to);
  if (refused) throw new TransitionError(refused);
  return to;
}
