import { builder } from '../builder.js';
import { Node } from './node.js';
import { Money, money } from './money.js';
import { UserError, IDEMPOTENCY_KEY_DESCRIPTION } from './user-error.js';
import { requireScope } from '../context.js';
import { rowsServe } from '../written-rows.js';
import { refundableAmount } from '../../payments/common.js';
import { payOrder, type PayOrderResult } from '../../payments/pay-order.js';

const STATUS_DESCRIPTIONS = {
  REQUIRES_PAYMENT_METHOD: 'Waiting for a payment method (not used by payOrder, which always brings one).',
  REQUIRES_ACTION: 'The buyer must authenticate (3-D Secure) at nextActionUrl; the payment completes or fails there.',
  PROCESSING: 'Sent to the processor; the outcome is not recorded yet. No second charge is ever made for it.',
  SUCCEEDED: 'Captured: the amount counts in the order\'s paidMoney.',
  FAILED: 'Declined or not processable; failureCode and failureMessage say why. Nothing was charged.',
  CANCELED: 'Abandoned before completion (e.g. a pending authentication replaced by a new payOrder). Nothing was charged.',
} as const;

export const PaymentIntentStatusEnum = builder.enumType('PaymentIntentStatus', {
  description: 'Where a payment attempt is.',
  values: Object.fromEntries(Object.entries(STATUS_DESCRIPTIONS).map(([k, description]) => [k, { value: k, description }])) as Record<
    keyof typeof STATUS_DESCRIPTIONS,
    { value: keyof typeof STATUS_DESCRIPTIONS; description: string }
  >,
});

export const PaymentIntent = builder.prismaObject('PaymentIntent', {
  interfaces: [Node],
  description:
    'One attempt to pay an order with one payment source. Its amount, currency and customer come from the order (the balance due when it was made), never from the caller.',
  fields: (t) => ({
    id: t.exposeID('id', { description: 'Payment intent id (pi_...).' }),
    order: t.relation('order', { description: 'The order it pays.' }),
    amountMoney: t.field({ type: Money, description: 'The amount charged (or to be charged): the balance due when the attempt was made.', resolve: (p) => money(p.amount, p.currency) }),
    customerId: t.exposeString('customerId', { nullable: true, description: "The order's customerId." }),
    status: t.field({ type: PaymentIntentStatusEnum, description: 'Where the attempt is.', resolve: (p) => p.status }),
    processor: t.exposeString('processor', { description: 'SANDBOX or STRIPE.' }),
    processorReference: t.exposeString('processorReference', { nullable: true, description: "The processor's own id (e.g. Stripe's pi_...)." }),
    failureCode: t.exposeString('failureCode', {
      nullable: true,
      description: "The processor's error code when FAILED, e.g. card_declined, expired_card, incorrect_cvc, processing_error.",
    }),
    declineCode: t.exposeString('declineCode', {
      nullable: true,
      description: "For declines, the issuer's reason, e.g. generic_decline or insufficient_funds.",
    }),
    failureMessage: t.exposeString('failureMessage', { nullable: true, description: "The processor's message when FAILED, e.g. \"Your card was declined.\"" }),
    nextActionUrl: t.exposeString('nextActionUrl', {
      nullable: true,
      description: 'While REQUIRES_ACTION: where the buyer authenticates the payment (3-D Secure).',
    }),
    receiptEmail: t.exposeString('receiptEmail', { nullable: true, description: 'Where the receipt goes (payOrder buyerEmail, else the order buyerEmail).' }),
    receiptSentAt: t.expose('receiptSentAt', { type: 'DateTime', nullable: true, description: 'When the receipt was accepted by the mail server; null until then.' }),
    refundableMoney: t.field({
      type: Money,
      description: 'What can still be refunded of this payment: captured minus refunded (pending refunds count); 0 unless SUCCEEDED.',
      resolve: (p) => money(refundableAmount(p), p.currency),
    }),
    createdAt: t.expose('createdAt', { type: 'DateTime', description: 'When the attempt was made.' }),
  }),
});

builder.prismaObjectField('Order', 'paymentIntents', (t) =>
  t.relation('paymentIntents', {
    description: 'Every payment attempt of the order, oldest first, failed ones included.',
    query: { orderBy: { id: 'asc' } },
  }),
);

builder.queryField('paymentIntent', (t) =>
  t.prismaField({
    type: 'PaymentIntent',
    nullable: true,
    description: 'A payment attempt by id; null when it does not exist or belongs to another merchant or mode.',
    args: { id: t.arg.id({ required: true, description: 'Payment intent id (pi_...).' }) },
    resolve: (query, _root, args, ctx) => {
      const scope = requireScope(ctx);
      return ctx.deps.db.paymentIntent.findFirst({ ...query, where: { id: String(args.id), merchantId: scope.merchantId, livemode: scope.livemode } });
    },
  }),
);

const PayOrderInput = builder.inputType('PayOrderInput', {
  description: "Pay an order's balance. The amount, currency and customer come from the order.",
  fields: (t) => ({
    orderId: t.id({ required: true, description: 'Order id (ord_...).' }),
    paymentSourceTokens: t.stringList({
      required: true,
      description:
        'Processor tokens, tried in order until one pays the whole balance (1 to 10). Sandbox tokens mirror Stripe\'s test tokens: tok_visa, tok_mastercard, tok_chargeDeclined, tok_chargeDeclinedInsufficientFunds, tok_chargeDeclinedExpiredCard, tok_chargeDeclinedIncorrectCvc, tok_chargeDeclinedProcessingError, tok_threeDSecure2Required, tok_refundFail.',
    }),
    buyerEmail: t.string({ description: 'Where to send the receipt (defaults to the order buyerEmail).' }),
    idempotencyKey: t.string({ description: IDEMPOTENCY_KEY_DESCRIPTION }),
  }),
});

const PayOrderPayload = builder.objectRef<PayOrderResult>('PayOrderPayload').implement({
  description:
    'The order and the last payment attempt. On PAYMENT_DECLINED / PAYMENT_FAILED both are returned next to the userErrors: each failed attempt stays on its PaymentIntent (FAILED, failureCode, failureMessage).',
  fields: (t) => ({
    order: t.prismaField({
      type: 'Order',
      nullable: true,
      description: 'The order as it is now.',
      // Answered from the rows payOrder wrote; read only when the selection needs more than those.
      resolve: (query, p, _args, ctx) => {
        if (!p.orderId) return null;
        if (p.written && p.written.order.id === p.orderId) {
          const { order, lineItems } = p.written;
          const row = { ...order, lineItems: lineItems.map((l) => ({ ...l, order: { currency: order.currency, status: order.status } })) };
          if (rowsServe(row, query)) return row;
        }
        const scope = requireScope(ctx);
        return ctx.deps.db.order.findFirst({ ...query, where: { id: p.orderId, merchantId: scope.merchantId, livemode: scope.livemode } });
      },
    }),
    paymentIntent: t.prismaField({
      type: 'PaymentIntent',
      nullable: true,
      description: 'The last attempt: SUCCEEDED when paid, REQUIRES_ACTION when the buyer must authenticate, FAILED when every token failed.',
      resolve: (query, p, _args, ctx) => {
        if (!p.paymentIntentId) return null;
        const written = p.written?.intent;
        if (written && written.id === p.paymentIntentId && rowsServe(written, query)) return written;
        const scope = requireScope(ctx);
        return ctx.deps.db.paymentIntent.findFirst({ ...query, where: { id: p.paymentIntentId, merchantId: scope.merchantId, livemode: scope.livemode } });
      },
    }),
    userErrors: t.field({ type: [UserError], description: 'Why the order was not paid, if so (one per failed token).', resolve: (p) => p.userErrors }),
  }),
});

builder.mutationField('payOrder', (t) =>
  t.field({
    type: PayOrderPayload,
    description:
      "Pay the order's balance with the first payment source token that succeeds; the order becomes PAID when payments cover its total (an order totalling 0 is marked PAID without a charge). Never charges twice: racing calls and retries with the same idempotencyKey make at most one charge.",
    args: { input: t.arg({ type: PayOrderInput, required: true, description: 'What to pay and with what.' }) },
    resolve: async (_root, { input }, ctx) =>
      payOrder(requireScope(ctx), {
        orderId: String(input.orderId),
        paymentSourceTokens: [...input.paymentSourceTokens],
        buyerEmail: input.buyerEmail ?? null,
        idempotencyKey: input.idempotencyKey ?? null,
      }),
  }),
);
