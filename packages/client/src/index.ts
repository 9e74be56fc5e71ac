// @flint/client: the TypeScript client of the Flint API.
export { Flint } from './client.js';
export type {
  FlintOptions, Order, PaymentIntent, Refund, Coupon, CheckoutSession, Merchant, Activity, OrderStatusChange,
  RefundPreview, AuditVerification, Page, RefundReasonInput, CreateRefundParams,
} from './client.js';
export { FlintError, FlintUserError, FlintGraphQLError, FlintNetworkError } from './errors.js';
export type { UserError, ErrorCode, GraphQLErrorEntry } from './errors.js';
export type * from './generated/graphql.js';
