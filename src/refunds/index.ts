// The refunds feature: createRefund and refundPreview (create.ts), recording processor answers
// (record.ts), reconciliation (reconcile.ts), Stripe refund events (stripe-events.ts), closeOrder
// (close.ts). The pure refund arithmetic is refund-plan.ts; the bookkeeping of reservations is
// bookkeeping.ts; the types and plain-SQL reads are model.ts.
export { createRefund, previewRefund, type RefundPreviewResult } from './create.js';
export { closeOrder, type CloseOrderInput } from './close.js';
export { reconcilePendingRefunds, refreshRefund, recoverCreateRefund } from './reconcile.js';
export { recordRefundAnswer } from './record.js';
export { planStripeRefundEvent, STRIPE_REFUND_EVENTS, type StripeRefundEventPlan } from './stripe-events.js';
export {
  NO_PROCESSOR,
  refundFailedError,
  type CreateRefundInput,
  type CreateRefundResult,
  type RefundPreviewInput,
  type RefundReason,
  type RefundRow,
  type RefundStatus,
  type RefundWithLines,
} from './model.js';
