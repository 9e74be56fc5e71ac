// The Flint client: `new Flint({ apiKey, baseUrl })`, one namespace per kind of object. Every call
// returns the object it is about (the order, the refund...) and throws FlintUserError for userErrors.
// Mutations get an idempotency key when none is given; retries of one call reuse it.
import { FlintError, FlintUserError, type UserError } from './errors.js';
import { defaultRetryDelay, send, type TransportOptions } from './transport.js';
import { subscribe } from './sse.js';
import * as op from './operations.js';
import type {
  ActivityFieldsFragment, ActivityFilter, AddLineItemsInput, AddTaxRegistrationInput, ApplyCouponInput, CancelOrderInput,
  CheckoutSessionFieldsFragment, CloseOrderInput, CouponFieldsFragment, CreateCheckoutSessionInput, CreateCouponInput,
  CreateMerchantInput, CreateOrderInput, CreateRefundInput, DeactivateCouponInput, FlintGetPaymentIntentQuery,
  FlintPreviewRefundQuery, FlintViewerQuery, FlintWatchActivitySubscription, FlintWatchOrderSubscription, FlintVerifyAuditTrailQuery, MerchantFieldsFragment,
  OrderFieldsFragment, OrderFilter, PayOrderInput, PaymentIntentFieldsFragment, RefundFieldsFragment, RefundPreviewInput,
  RefundReason, RemoveCouponInput, RemoveLineItemInput, RemoveTaxRegistrationInput, SetShippingAddressInput, SetTaxRateInput,
  TypedDocumentString, UpdateLineItemInput,
} from './generated/graphql.js';

export type Order = OrderFieldsFragment;
export type PaymentIntent = PaymentIntentFieldsFragment;
export type Refund = RefundFieldsFragment & { order: Order | null };
export type Coupon = CouponFieldsFragment;
export type CheckoutSession = CheckoutSessionFieldsFragment;
export type Merchant = MerchantFieldsFragment;
export type Activity = ActivityFieldsFragment;
export type OrderStatusChange = FlintWatchOrderSubscription['orderStatusChanged'];
export type RefundPreview = Omit<FlintPreviewRefundQuery['refundPreview'], 'userErrors'>;
export type AuditVerification = FlintVerifyAuditTrailQuery['verifyAuditTrail'];
export interface Page<T> { nodes: T[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } }

/** Stripe-style lower-case reasons are accepted too. */
export type RefundReasonInput = RefundReason | 'duplicate' | 'fraudulent' | 'requested_by_customer' | 'other';
export type CreateRefundParams = Omit<CreateRefundInput, 'reason'> & { reason: RefundReasonInput };

export interface FlintOptions {
  /** sk_test_... or sk_live_...; leave out only for flint.merchants.create (sign-up). */
  apiKey?: string;
  /** Where Flint runs (default http://localhost:4000). */
  baseUrl?: string;
  /** Retries after the first attempt on network errors, 5xx and 429 (default 3). */
  maxRetries?: number;
  /** Milliseconds before retry n when the server sends no Retry-After (default 250 ms doubling, at most 5 s). */
  retryDelay?: (attempt: number) => number;
  /** Longest Retry-After to wait for (default 30 000 ms). */
  maxRetryAfterMs?: number;
  /** Another fetch implementation (default globalThis.fetch). */
  fetch?: typeof fetch;
  /** Extra headers on every request. */
  headers?: Record<string, string>;
  /** Makes idempotency keys (default crypto.randomUUID()). */
  idempotencyKey?: () => string;
}

type WithKey = { idempotencyKey?: string | null };
type Payload = { userErrors: UserError[] } & Record<string, unknown>;

const REASONS: Record<string, RefundReason> = {
  duplicate: 'REFUND_REASON_DUPLICATE',
  fraudulent: 'REFUND_REASON_FRAUDULENT',
  requested_by_customer: 'REFUND_REASON_REQUESTED_BY_CUSTOMER',
  other: 'REFUND_REASON_OTHER',
};

export class Flint {
  private readonly transport: TransportOptions;
  private readonly newKey: () => string;

  constructor(options: FlintOptions = {}) {
    const fetchImpl = options.fetch ?? globalThis.fetch;
    if (!fetchImpl) throw new FlintError('No fetch available: use Node 18 or newer, or pass options.fetch.');
    this.transport = {
      apiKey: options.apiKey,
      baseUrl: options.baseUrl ?? 'http://localhost:4000',
      maxRetries: options.maxRetries ?? 3,
      retryDelay: options.retryDelay ?? defaultRetryDelay,
      maxRetryAfterMs: options.maxRetryAfterMs ?? 30_000,
      fetch: fetchImpl,
      headers: options.headers,
    };
    this.newKey = options.idempotencyKey ?? (() => globalThis.crypto.randomUUID());
  }

  /** Any operation of the schema, for what the namespaces do not cover. GraphQL errors throw. */
  async request<R, V>(document: TypedDocumentString<R, V> | string, variables?: V): Promise<R> {
    return (await send<R>(this.transport, String(document), variables ?? {}, !/^\s*mutation\b/.test(String(document)))).data;
  }

  /** A read: retried freely. */
  private async query<R, V>(document: TypedDocumentString<R, V>, variables: V): Promise<R> {
    return (await send<R>(this.transport, String(document), variables, true)).data;
  }

  /**
   * A mutation with an idempotency key (the caller's, or a new one): every retry of this call sends
   * the same key, so the server runs it at most once. IDEMPOTENCY_KEY_IN_USE (the first attempt is
   * still running) is waited out with the same key.
   */
  private async mutate<R, I extends WithKey, K extends keyof R>(document: TypedDocumentString<R, { input: I }>, input: I, field: K): Promise<R[K]> {
    const keyed = { ...input, idempotencyKey: input.idempotencyKey ?? this.newKey() };
    for (let attempt = 0; ; attempt++) {
      const { data } = await send<R>(this.transport, String(document), { input: keyed }, true);
      const payload = data[field] as unknown as Payload;
      const inUse = payload.userErrors.some((e) => e.code === 'IDEMPOTENCY_KEY_IN_USE');
      if (inUse && attempt < this.transport.maxRetries) {
        await new Promise((resolve) => setTimeout(resolve, this.transport.retryDelay(attempt + 1)));
        continue;
      }
      return check(payload) as R[K];
    }
  }

  /** A mutation without an idempotency key: retried only when the server refused it unseen (429). */
  private async mutateOnce<R, V, K extends keyof R>(document: TypedDocumentString<R, V>, variables: V, field: K): Promise<R[K]> {
    const { data } = await send<R>(this.transport, String(document), variables, false);
    return check(data[field] as unknown as Payload) as R[K];
  }

  readonly orders = {
    create: async (input: CreateOrderInput): Promise<Order> => (await this.mutate(op.CreateOrder, input, 'createOrder')).order!,
    get: async (id: string): Promise<Order | null> => (await this.query(op.GetOrder, { id })).order,
    list: async (params: { first?: number; after?: string; filter?: OrderFilter } = {}): Promise<Page<Order>> => {
      const { orders } = await this.query(op.ListOrders, params);
      return { nodes: orders.edges.map((e) => e.node), pageInfo: orders.pageInfo };
    },
    /** Pays the balance; returns the order and the payment attempt. A decline throws PAYMENT_DECLINED (payload has both). */
    pay: async (input: PayOrderInput): Promise<{ order: Order; paymentIntent: PaymentIntent | null }> => {
      const payload = await this.mutate(op.PayOrder, input, 'payOrder');
      return { order: payload.order!, paymentIntent: payload.paymentIntent };
    },
    cancel: async (input: CancelOrderInput): Promise<Order> => (await this.mutate(op.CancelOrder, input, 'cancelOrder')).order!,
    close: async (input: CloseOrderInput): Promise<Order> => (await this.mutate(op.CloseOrder, input, 'closeOrder')).order!,
    addLineItems: async (input: AddLineItemsInput): Promise<Order> => (await this.mutate(op.AddLineItems, input, 'addLineItems')).order!,
    updateLineItem: async (input: UpdateLineItemInput): Promise<Order> => (await this.mutate(op.UpdateLineItem, input, 'updateLineItem')).order!,
    removeLineItem: async (input: RemoveLineItemInput): Promise<Order> => (await this.mutate(op.RemoveLineItem, input, 'removeLineItem')).order!,
    applyCoupon: async (input: ApplyCouponInput): Promise<Order> => (await this.mutate(op.ApplyCoupon, input, 'applyCoupon')).order!,
    removeCoupon: async (input: RemoveCouponInput): Promise<Order> => (await this.mutate(op.RemoveCoupon, input, 'removeCoupon')).order!,
    setShippingAddress: async (input: SetShippingAddressInput): Promise<Order> =>
      (await this.mutate(op.SetShippingAddress, input, 'setShippingAddress')).order!,
    /**
     * The order's status transitions as they commit (PAID, PARTIALLY_REFUNDED...), each with the order
     * as it is then: `for await (const change of flint.orders.watch(orderId)) ...`. Break to stop.
     */
    watch: (orderId: string, options: { signal?: AbortSignal } = {}): AsyncGenerator<OrderStatusChange, void, undefined> =>
      mapEvents(subscribe<FlintWatchOrderSubscription>(this.transport, String(op.WatchOrder), { orderId }, options.signal), (d) => d.orderStatusChanged),
  };

  readonly refunds = {
    /** Refunds an amount or whole units of lines. Returns the refund (SUCCEEDED or PENDING) with its order. */
    create: async (input: CreateRefundParams): Promise<Refund> => {
      const payload = await this.mutate(op.CreateRefund, { ...input, reason: REASONS[input.reason] ?? (input.reason as RefundReason) }, 'createRefund');
      return { ...payload.refund!, order: payload.order };
    },
    /** What create would do with the same input, without doing it; its userErrors throw like create's. */
    preview: async (input: RefundPreviewInput): Promise<RefundPreview> => {
      const { refundPreview } = await this.query(op.PreviewRefund, { input });
      const { userErrors: _, ...preview } = check(refundPreview as unknown as Payload) as typeof refundPreview;
      return preview;
    },
    get: async (id: string): Promise<RefundFieldsFragment | null> => (await this.query(op.GetRefund, { id })).refund,
  };

  readonly paymentIntents = {
    get: async (id: string): Promise<FlintGetPaymentIntentQuery['paymentIntent']> => (await this.query(op.GetPaymentIntent, { id })).paymentIntent,
  };

  readonly checkoutSessions = {
    /** A hosted page where the buyer pays the order: send the buyer to `url`. */
    create: async (input: CreateCheckoutSessionInput): Promise<CheckoutSession> =>
      (await this.mutate(op.CreateCheckoutSession, input, 'createCheckoutSession')).checkoutSession!,
    get: async (id: string): Promise<CheckoutSession | null> => (await this.query(op.GetCheckoutSession, { id })).checkoutSession,
  };

  readonly coupons = {
    create: async (input: CreateCouponInput): Promise<Coupon> => (await this.mutate(op.CreateCoupon, input, 'createCoupon')).coupon!,
    deactivate: async (input: DeactivateCouponInput): Promise<Coupon> => (await this.mutate(op.DeactivateCoupon, input, 'deactivateCoupon')).coupon!,
    get: async (code: string): Promise<Coupon | null> => (await this.query(op.GetCoupon, { code })).coupon,
    list: async (): Promise<Coupon[]> => (await this.query(op.ListCoupons, {})).coupons,
  };

  readonly merchants = {
    /** Sign-up (no API key needed): the merchant and its first test key, shown once. */
    create: async (input: CreateMerchantInput): Promise<{ merchant: Merchant; testApiKey: string }> => {
      const payload = await this.mutateOnce(op.CreateMerchant, { input }, 'createMerchant');
      return { merchant: payload.merchant!, testApiKey: payload.testApiKey! };
    },
    /** The merchant of the API key. */
    me: async (): Promise<FlintViewerQuery['viewer']> => (await this.query(op.Viewer, {})).viewer,
  };

  readonly apiKeys = {
    create: async (input: { livemode: boolean }) => {
      const payload = await this.mutateOnce(op.CreateApiKey, { input }, 'createApiKey');
      return { apiKey: payload.apiKey!, secret: payload.secret! };
    },
    revoke: async (id: string) => (await this.mutateOnce(op.RevokeApiKey, { input: { id } }, 'revokeApiKey')).apiKey!,
  };

  readonly taxSettings = {
    addRegistration: async (input: AddTaxRegistrationInput): Promise<Merchant> =>
      (await this.mutate(op.AddTaxRegistration, input, 'addTaxRegistration')).merchant!,
    removeRegistration: async (input: RemoveTaxRegistrationInput): Promise<Merchant> =>
      (await this.mutate(op.RemoveTaxRegistration, input, 'removeTaxRegistration')).merchant!,
    setRate: async (input: SetTaxRateInput): Promise<Merchant> => (await this.mutate(op.SetTaxRate, input, 'setTaxRate')).merchant!,
  };

  readonly activities = {
    list: async (params: { first?: number; after?: string; filter?: ActivityFilter } = {}): Promise<Page<Activity>> => {
      const { activities } = await this.query(op.ListActivities, params);
      return { nodes: activities.edges.map((e) => e.node), pageInfo: activities.pageInfo };
    },
    /** Every activity entry as it is recorded (of one order when orderId is given). */
    watch: (options: { orderId?: string; signal?: AbortSignal } = {}): AsyncGenerator<Activity, void, undefined> =>
      mapEvents(subscribe<FlintWatchActivitySubscription>(this.transport, String(op.WatchActivity), { orderId: options.orderId ?? null }, options.signal), (d) => d.activityRecorded),
    verify: async (orderId?: string): Promise<AuditVerification> => (await this.query(op.VerifyAuditTrail, { orderId: orderId ?? null })).verifyAuditTrail,
  };
}

/** Throws FlintUserError when the payload has userErrors; returns it otherwise. */
function check<P extends Payload>(payload: P): P {
  if (payload.userErrors.length > 0) {
    const { userErrors, ...rest } = payload;
    throw new FlintUserError(userErrors, rest);
  }
  return payload;
}

async function* mapEvents<D, T>(events: AsyncGenerator<D, void, undefined>, pick: (data: D) => T): AsyncGenerator<T, void, undefined> {
  for await (const data of events) yield pick(data);
}
