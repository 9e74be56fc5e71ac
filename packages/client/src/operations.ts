// Every operation the client sends. GraphQL Code Generator reads this file and writes the typed
// documents and result types to src/generated/ (npm run generate); nothing else is typed by hand.
import { graphql } from './generated/index.js';

export const MoneyFields = graphql(`
  fragment MoneyFields on Money { amount currency }
`);

export const UserErrorFields = graphql(`
  fragment UserErrorFields on UserError { code message field }
`);

export const PaymentIntentFields = graphql(`
  fragment PaymentIntentFields on PaymentIntent {
    id status processor processorReference customerId receiptEmail receiptSentAt createdAt
    failureCode failureMessage declineCode nextActionUrl
    amountMoney { ...MoneyFields }
    refundableMoney { ...MoneyFields }
  }
`);

export const RefundFields = graphql(`
  fragment RefundFields on Refund {
    id status reason failureReason processorReference createdAt updatedAt
    amountMoney { ...MoneyFields }
    taxMoney { ...MoneyFields }
    paymentIntent { id }
    lineItems {
      quantity
      lineItem { id name sku }
      amountMoney { ...MoneyFields } grossMoney { ...MoneyFields } discountMoney { ...MoneyFields } taxMoney { ...MoneyFields }
    }
  }
`);

export const NetAmountsFields = graphql(`
  fragment NetAmountsFields on NetAmounts {
    subtotalMoney { ...MoneyFields } discountMoney { ...MoneyFields } taxMoney { ...MoneyFields }
    totalMoney { ...MoneyFields } paidMoney { ...MoneyFields } refundedMoney { ...MoneyFields } balanceMoney { ...MoneyFields }
  }
`);

export const OrderFields = graphql(`
  fragment OrderFields on Order {
    id status summary version currency customerId buyerEmail metadata createdAt updatedAt
    shippingAddress { country region postalCode city line1 line2 }
    netAmounts { ...NetAmountsFields }
    lineItems {
      id name sku quantity taxCategory metadata refundableQuantity refundedQuantity
      unitPriceMoney { ...MoneyFields } grossMoney { ...MoneyFields } discountMoney { ...MoneyFields }
      taxMoney { ...MoneyFields } totalMoney { ...MoneyFields } refundableMoney { ...MoneyFields }
      discounts { code amountMoney { ...MoneyFields } }
      taxes { jurisdiction name rate inclusive taxMoney { ...MoneyFields } taxableMoney { ...MoneyFields } }
    }
    discounts { name code couponId type amountMoney { ...MoneyFields } }
    taxes { jurisdiction name rate inclusive taxMoney { ...MoneyFields } taxableMoney { ...MoneyFields } }
    paymentIntents { ...PaymentIntentFields }
    refunds { ...RefundFields }
    refundable { amountMoney { ...MoneyFields } lineItems { quantity lineItem { id } amountMoney { ...MoneyFields } } }
    availableActions { action mutation description }
  }
`);

export const CouponFields = graphql(`
  fragment CouponFields on Coupon {
    id code name type active percentOff appliesToSkus priority stackable timesRedeemed
    maxRedemptions maxRedemptionsPerCustomer startsAt expiresAt createdAt
    amountOffMoney { ...MoneyFields } minimumSubtotalMoney { ...MoneyFields }
  }
`);

export const CheckoutSessionFields = graphql(`
  fragment CheckoutSessionFields on CheckoutSession {
    id url status successUrl cancelUrl expiresAt
    order { id status }
  }
`);

export const MerchantFields = graphql(`
  fragment MerchantFields on Merchant {
    id name email createdAt
    originAddress { country region postalCode city line1 line2 }
    taxRegistrations { id jurisdiction createdAt }
    taxRates { id jurisdiction name rate inclusive taxCategory }
    apiKeys { id prefix livemode createdAt revokedAt }
  }
`);

export const ActivityFields = graphql(`
  fragment ActivityFields on Activity {
    id type sequence orderId occurredAt idempotencyKey delta hash previousHash
    actor { type id name }
  }
`);

// Orders
export const CreateOrder = graphql(`
  mutation FlintCreateOrder($input: CreateOrderInput!) {
    createOrder(input: $input) { order { ...OrderFields } userErrors { ...UserErrorFields } }
  }
`);
export const GetOrder = graphql(`
  query FlintGetOrder($id: ID!) { order(id: $id) { ...OrderFields } }
`);
export const ListOrders = graphql(`
  query FlintListOrders($first: Int, $after: String, $filter: OrderFilter) {
    orders(first: $first, after: $after, filter: $filter) {
      edges { node { ...OrderFields } }
      pageInfo { hasNextPage endCursor }
    }
  }
`);
export const PayOrder = graphql(`
  mutation FlintPayOrder($input: PayOrderInput!) {
    payOrder(input: $input) {
      order { ...OrderFields } paymentIntent { ...PaymentIntentFields } userErrors { ...UserErrorFields }
    }
  }
`);
export const CancelOrder = graphql(`
  mutation FlintCancelOrder($input: CancelOrderInput!) {
    cancelOrder(input: $input) { order { ...OrderFields } userErrors { ...UserErrorFields } }
  }
`);
export const CloseOrder = graphql(`
  mutation FlintCloseOrder($input: CloseOrderInput!) {
    closeOrder(input: $input) { order { ...OrderFields } userErrors { ...UserErrorFields } }
  }
`);
export const AddLineItems = graphql(`
  mutation FlintAddLineItems($input: AddLineItemsInput!) {
    addLineItems(input: $input) { order { ...OrderFields } userErrors { ...UserErrorFields } }
  }
`);
export const UpdateLineItem = graphql(`
  mutation FlintUpdateLineItem($input: UpdateLineItemInput!) {
    updateLineItem(input: $input) { order { ...OrderFields } userErrors { ...UserErrorFields } }
  }
`);
export const RemoveLineItem = graphql(`
  mutation FlintRemoveLineItem($input: RemoveLineItemInput!) {
    removeLineItem(input: $input) { order { ...OrderFields } userErrors { ...UserErrorFields } }
  }
`);
export const ApplyCoupon = graphql(`
  mutation FlintApplyCoupon($input: ApplyCouponInput!) {
    applyCoupon(input: $input) { order { ...OrderFields } userErrors { ...UserErrorFields } }
  }
`);
export const RemoveCoupon = graphql(`
  mutation FlintRemoveCoupon($input: RemoveCouponInput!) {
    removeCoupon(input: $input) { order { ...OrderFields } userErrors { ...UserErrorFields } }
  }
`);
export const SetShippingAddress = graphql(`
  mutation FlintSetShippingAddress($input: SetShippingAddressInput!) {
    setShippingAddress(input: $input) { order { ...OrderFields } userErrors { ...UserErrorFields } }
  }
`);
export const WatchOrder = graphql(`
  subscription FlintWatchOrder($orderId: ID) {
    orderStatusChanged(orderId: $orderId) {
      status previousStatus
      activity { ...ActivityFields }
      order { ...OrderFields }
    }
  }
`);
export const WatchActivity = graphql(`
  subscription FlintWatchActivity($orderId: ID) {
    activityRecorded(orderId: $orderId) { ...ActivityFields }
  }
`);

// Refunds
export const CreateRefund = graphql(`
  mutation FlintCreateRefund($input: CreateRefundInput!) {
    createRefund(input: $input) { refund { ...RefundFields } order { ...OrderFields } userErrors { ...UserErrorFields } }
  }
`);
export const PreviewRefund = graphql(`
  query FlintPreviewRefund($input: RefundPreviewInput!) {
    refundPreview(input: $input) {
      amountMoney { ...MoneyFields } taxMoney { ...MoneyFields } resultingStatus
      resultingNetAmounts { ...NetAmountsFields }
      lineItems { quantity lineItem { id name } amountMoney { ...MoneyFields } grossMoney { ...MoneyFields } discountMoney { ...MoneyFields } taxMoney { ...MoneyFields } }
      userErrors { ...UserErrorFields }
    }
  }
`);
export const GetRefund = graphql(`
  query FlintGetRefund($id: ID!) { refund(id: $id) { ...RefundFields } }
`);

// Payment intents, checkout sessions
export const GetPaymentIntent = graphql(`
  query FlintGetPaymentIntent($id: ID!) { paymentIntent(id: $id) { ...PaymentIntentFields order { id status } } }
`);
export const CreateCheckoutSession = graphql(`
  mutation FlintCreateCheckoutSession($input: CreateCheckoutSessionInput!) {
    createCheckoutSession(input: $input) { checkoutSession { ...CheckoutSessionFields } userErrors { ...UserErrorFields } }
  }
`);
export const GetCheckoutSession = graphql(`
  query FlintGetCheckoutSession($id: ID!) { checkoutSession(id: $id) { ...CheckoutSessionFields } }
`);

// Coupons
export const CreateCoupon = graphql(`
  mutation FlintCreateCoupon($input: CreateCouponInput!) {
    createCoupon(input: $input) { coupon { ...CouponFields } userErrors { ...UserErrorFields } }
  }
`);
export const DeactivateCoupon = graphql(`
  mutation FlintDeactivateCoupon($input: DeactivateCouponInput!) {
    deactivateCoupon(input: $input) { coupon { ...CouponFields } userErrors { ...UserErrorFields } }
  }
`);
export const GetCoupon = graphql(`
  query FlintGetCoupon($code: String!) { coupon(code: $code) { ...CouponFields } }
`);
export const ListCoupons = graphql(`
  query FlintListCoupons { coupons { ...CouponFields } }
`);

// Merchant, keys, tax settings
export const CreateMerchant = graphql(`
  mutation FlintCreateMerchant($input: CreateMerchantInput!) {
    createMerchant(input: $input) { merchant { ...MerchantFields } testApiKey userErrors { ...UserErrorFields } }
  }
`);
export const Viewer = graphql(`
  query FlintViewer { viewer { ...MerchantFields } }
`);
export const CreateApiKey = graphql(`
  mutation FlintCreateApiKey($input: CreateApiKeyInput!) {
    createApiKey(input: $input) { apiKey { id prefix livemode createdAt revokedAt } secret userErrors { ...UserErrorFields } }
  }
`);
export const RevokeApiKey = graphql(`
  mutation FlintRevokeApiKey($input: RevokeApiKeyInput!) {
    revokeApiKey(input: $input) { apiKey { id prefix livemode createdAt revokedAt } userErrors { ...UserErrorFields } }
  }
`);
export const AddTaxRegistration = graphql(`
  mutation FlintAddTaxRegistration($input: AddTaxRegistrationInput!) {
    addTaxRegistration(input: $input) { merchant { ...MerchantFields } userErrors { ...UserErrorFields } }
  }
`);
export const RemoveTaxRegistration = graphql(`
  mutation FlintRemoveTaxRegistration($input: RemoveTaxRegistrationInput!) {
    removeTaxRegistration(input: $input) { merchant { ...MerchantFields } userErrors { ...UserErrorFields } }
  }
`);
export const SetTaxRate = graphql(`
  mutation FlintSetTaxRate($input: SetTaxRateInput!) {
    setTaxRate(input: $input) { merchant { ...MerchantFields } userErrors { ...UserErrorFields } }
  }
`);

// Audit trail
export const ListActivities = graphql(`
  query FlintListActivities($first: Int, $after: String, $filter: ActivityFilter) {
    activities(first: $first, after: $after, filter: $filter) {
      edges { node { ...ActivityFields } }
      pageInfo { hasNextPage endCursor }
    }
  }
`);
export const VerifyAuditTrail = graphql(`
  query FlintVerifyAuditTrail($orderId: ID) {
    verifyAuditTrail(orderId: $orderId) { valid entriesChecked firstBrokenActivityId problem }
  }
`);
