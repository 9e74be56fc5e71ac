import { builder } from '../builder.js';
import { Node } from './node.js';
import { Money, MoneyInput, money } from './money.js';
import { UserError, IDEMPOTENCY_KEY_DESCRIPTION } from './user-error.js';
import { LineItem, NetAmounts, OrderStatusEnum } from './order.js';
import { OrderPayload, toPayload } from './order-mutations.js';
import { requireScope } from '../context.js';
import { rowsServe } from '../written-rows.js';
import { closeOrder, createRefund, previewRefund, type CreateRefundResult, type RefundPreviewResult, type RefundReason, type RefundStatus } from '../../refunds/index.js';
import type { LineRow } from '../../orders/order-model.js';
import type { OrderStatus } from '../../pricing/index.js';

// --- Enums ----------------------------------------------------------------------------------------

const REASONS: Record<RefundReason, string> = {
  REFUND_REASON_REQUESTED_BY_CUSTOMER: 'The buyer asked for it (a return, a change of mind).',
  REFUND_REASON_DUPLICATE: 'The buyer was charged twice for the same thing.',
  REFUND_REASON_FRAUDULENT: 'The payment was fraudulent (sent to the processor as such).',
  REFUND_REASON_OTHER: 'Any other reason.',
};

export const RefundReasonEnum = builder.enumType('RefundReason', {
  description: 'Why money is given back (Stripe\'s refund reasons).',
  values: Object.fromEntries(Object.entries(REASONS).map(([k, description]) => [k, { value: k, description }])) as Record<
    RefundReason,
    { value: RefundReason; description: string }
  >,
});

const STATUSES: Record<RefundStatus, string> = {
  PENDING:
    'Sent to the processor, outcome not known yet. Its amount and units are already reserved (no longer refundable); the order counts it as refunded once it SUCCEEDS.',
  SUCCEEDED: 'The money is on its way back to the buyer: counted in the order\'s netAmounts.refundedMoney and status.',
  FAILED: 'The processor refused or reversed it: nothing was refunded, and its amount and units are refundable again.',
};

export const RefundStatusEnum = builder.enumType('RefundStatus', {
  description: 'Where a refund is.',
  values: Object.fromEntries(Object.entries(STATUSES).map(([k, description]) => [k, { value: k, description }])) as Record<
    RefundStatus,
    { value: RefundStatus; description: string }
  >,
});

// --- RefundLineItem -------------------------------------------------------------------------------

type LineWithOrder = LineRow & { order: { currency: string; status: OrderStatus } };

interface RefundLineShape {
  line: LineWithOrder;
  quantity: number;
  gross: bigint;
  discount: bigint;
  tax: bigint;
  amount: bigint;
  currency: string;
}

export const RefundLineItem = builder.objectRef<RefundLineShape>('RefundLineItem').implement({
  description: "Units of one line given back by a refund, with each unit's exact share of the line's gross, discount and tax (pricing.md §7).",
  fields: (t) => ({
    lineItem: t.field({ type: LineItem, description: 'The line.', resolve: (r) => r.line }),
    quantity: t.int({ description: 'Units refunded.', resolve: (r) => r.quantity }),
    amountMoney: t.field({ type: Money, description: 'What these units return: gross - discount + exclusive tax.', resolve: (r) => money(r.amount, r.currency) }),
    grossMoney: t.field({ type: Money, description: "These units' share of the line's gross.", resolve: (r) => money(r.gross, r.currency) }),
    discountMoney: t.field({ type: Money, description: "These units' share of the line's discounts.", resolve: (r) => money(r.discount, r.currency) }),
    taxMoney: t.field({ type: Money, description: "These units' share of the line's tax (inclusive and exclusive).", resolve: (r) => money(r.tax, r.currency) }),
  }),
});

// --- Refund ---------------------------------------------------------------------------------------

const lineOrder = { select: { currency: true, status: true } } as const;

export const Refund = builder.prismaObject('Refund', {
  interfaces: [Node],
  description:
    'Money given back from one payment: whole units of line items (each unit its exact share of gross, discount and tax) or an amount (tax part proportional). Never more than the payment has left.',
  fields: (t) => ({
    id: t.exposeID('id', { description: 'Refund id (re_...).' }),
    paymentIntent: t.relation('paymentIntent', { description: 'The payment refunded.' }),
    order: t.relation('order', { description: 'The order of that payment.' }),
    amountMoney: t.field({
      type: Money,
      description: 'What the buyer gets back, tax included. (A line refund can return 0 when its units\' discount share equals their gross share.)',
      resolve: (r) => money(r.amount, r.currency),
    }),
    taxMoney: t.field({ type: Money, description: 'The part of amountMoney that is tax given back.', resolve: (r) => money(r.taxAmount, r.currency) }),
    reason: t.field({ type: RefundReasonEnum, description: 'Why.', resolve: (r) => r.reason }),
    status: t.field({ type: RefundStatusEnum, description: 'PENDING, SUCCEEDED or FAILED.', resolve: (r) => r.status }),
    lineItems: t.field({
      type: [RefundLineItem],
      description: 'The units refunded, line by line; empty for an amount refund.',
      select: { lineItems: { orderBy: { position: 'asc' }, include: { lineItem: { include: { order: lineOrder } } } } },
      resolve: (r) =>
        r.lineItems.map((l) => ({
          line: l.lineItem,
          quantity: l.quantity,
          gross: l.grossAmount,
          discount: l.discountAmount,
          tax: l.taxAmount,
          amount: l.amount,
          currency: r.currency,
        })),
    }),
    processorReference: t.exposeString('processorReference', { nullable: true, description: "The processor's own id of the refund (Stripe's re_...); null when nothing was sent." }),
    failureReason: t.exposeString('failureReason', { nullable: true, description: "Why the processor refused or reversed it, when FAILED (e.g. expired_or_canceled_card)." }),
    createdAt: t.expose('createdAt', { type: 'DateTime', description: 'When the refund was made.' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime', description: 'When its status last changed.' }),
  }),
});

builder.prismaObjectField('Order', 'refunds', (t) =>
  t.relation('refunds', { description: 'Every refund of the order, oldest first, failed ones included.', query: { orderBy: { id: 'asc' } } }),
);

builder.prismaObjectField('PaymentIntent', 'refunds', (t) =>
  t.relation('refunds', { description: 'Every refund of this payment, oldest first, failed ones included.', query: { orderBy: { id: 'asc' } } }),
);

builder.queryField('refund', (t) =>
  t.prismaField({
    type: 'Refund',
    nullable: true,
    description: 'A refund by id; null when it does not exist or belongs to another merchant or mode.',
    args: { id: t.arg.id({ required: true, description: 'Refund id (re_...).' }) },
    resolve: (query, _root, args, ctx) => {
      const scope = requireScope(ctx);
      return ctx.deps.db.refund.findFirst({ ...query, where: { id: String(args.id), merchantId: scope.merchantId, livemode: scope.livemode } });
    },
  }),
);

// --- Inputs ---------------------------------------------------------------------------------------

const RefundLineItemInput = builder.inputType('RefundLineItemInput', {
  description: 'Whole units of one line to refund.',
  fields: (t) => ({
    lineItemId: t.id({ required: true, description: 'Line item id (li_...) of the payment\'s order.' }),
    quantity: t.int({ required: true, description: 'Units to refund, at least 1 and at most the line\'s refundableQuantity.' }),
  }),
});

const AMOUNT_DESCRIPTION =
  'Refund an amount in the order\'s currency, tax included; its tax part is proportional to the tax remaining (Stripe: 25 of 100 + 25 tax returns 5 tax). At most Order.refundable.amountMoney.';
const LINES_DESCRIPTION =
  'Or refund whole units of line items: each unit returns its exact share of the line\'s gross, discount and tax, so unit by unit equals all at once. Exactly one of amountMoney and lineItems.';

const CreateRefundInput = builder.inputType('CreateRefundInput', {
  description: 'Give money back from a captured payment, by amount or by units of line items (exactly one of the two).',
  fields: (t) => ({
    paymentIntentId: t.id({ required: true, description: 'The SUCCEEDED payment to refund (pi_...), from Order.paymentIntents.' }),
    amountMoney: t.field({ type: MoneyInput, description: AMOUNT_DESCRIPTION }),
    lineItems: t.field({ type: [RefundLineItemInput], description: LINES_DESCRIPTION }),
    reason: t.field({ type: RefundReasonEnum, required: true, description: 'Why the money is given back.' }),
    idempotencyKey: t.string({ description: IDEMPOTENCY_KEY_DESCRIPTION }),
  }),
});

const RefundPreviewInput = builder.inputType('RefundPreviewInput', {
  description: 'The same as CreateRefundInput, to see what createRefund would do.',
  fields: (t) => ({
    paymentIntentId: t.id({ required: true, description: 'The SUCCEEDED payment to refund (pi_...).' }),
    amountMoney: t.field({ type: MoneyInput, description: AMOUNT_DESCRIPTION }),
    lineItems: t.field({ type: [RefundLineItemInput], description: LINES_DESCRIPTION }),
  }),
});

interface InputShape {
  paymentIntentId: string | number;
  amountMoney?: { amount: number; currency: string } | null;
  lineItems?: readonly { lineItemId: string | number; quantity: number }[] | null;
}

function refundInput(input: InputShape) {
  return {
    paymentIntentId: String(input.paymentIntentId),
    amountMoney: input.amountMoney ? { amount: input.amountMoney.amount, currency: input.amountMoney.currency } : null,
    lineItems: input.lineItems ? input.lineItems.map((l) => ({ lineItemId: String(l.lineItemId), quantity: l.quantity })) : null,
  };
}

// --- createRefund -----------------------------------------------------------------------------------

const RefundPayload = builder.objectRef<CreateRefundResult>('RefundPayload').implement({
  description:
    'The refund and its order. On REFUND_EXCEEDS_REFUNDABLE / CURRENCY_MISMATCH / INVALID_INPUT nothing was written (the order is returned to show what is refundable). When the processor refuses the refund at once, the FAILED refund comes back with the userError PAYMENT_FAILED.',
  fields: (t) => ({
    refund: t.prismaField({
      type: 'Refund',
      nullable: true,
      description: 'The refund: SUCCEEDED, PENDING (the processor will say later) or FAILED.',
      // Answered from the rows createRefund wrote; read only when the selection needs more than those.
      resolve: (query, p, _args, ctx) => {
        if (!p.refundId) return null;
        if (p.written && p.written.refund.id === p.refundId && rowsServe(p.written.refund, query)) return p.written.refund;
        const scope = requireScope(ctx);
        return ctx.deps.db.refund.findFirst({ ...query, where: { id: p.refundId, merchantId: scope.merchantId, livemode: scope.livemode } });
      },
    }),
    order: t.prismaField({
      type: 'Order',
      nullable: true,
      description: 'The order as it is now: netAmounts, status, refundable.',
      resolve: (query, p, _args, ctx) => {
        if (!p.orderId) return null;
        if (p.written && p.written.order.id === p.orderId) {
          const { order, lines } = p.written;
          const row = { ...order, lineItems: lines.map((l) => ({ ...l, order: { currency: order.currency, status: order.status } })) };
          if (rowsServe(row, query)) return row;
        }
        const scope = requireScope(ctx);
        return ctx.deps.db.order.findFirst({ ...query, where: { id: p.orderId, merchantId: scope.merchantId, livemode: scope.livemode } });
      },
    }),
    userErrors: t.field({ type: [UserError], description: 'Why nothing was refunded, if so.', resolve: (p) => p.userErrors }),
  }),
});

builder.mutationField('createRefund', (t) =>
  t.field({
    type: RefundPayload,
    description:
      "Refund a captured payment by amount (tax part proportional) or by whole units of line items (exact shares). Never more than the payment has left to refund (pending refunds count) nor more units than a line has left: REFUND_EXCEEDS_REFUNDABLE states the maximum in all and per line. The order's netAmounts, status (PARTIALLY_REFUNDED / REFUNDED) and refundable follow once the processor confirms. Never refunds twice: retries with the same idempotencyKey return the same refund.",
    args: { input: t.arg({ type: CreateRefundInput, required: true, description: 'What to refund and why.' }) },
    resolve: async (_root, { input }, ctx) =>
      createRefund(requireScope(ctx), { ...refundInput(input), reason: input.reason, idempotencyKey: input.idempotencyKey ?? null }),
  }),
);

// --- refundPreview ----------------------------------------------------------------------------------

const RefundPreview = builder.objectRef<RefundPreviewResult>('RefundPreview').implement({
  description:
    'What createRefund would do with the same input, computed the same way, with nothing written: the amount, its tax part, the lines, and the order once that refund has succeeded — or the userErrors createRefund would return.',
  fields: (t) => ({
    amountMoney: t.field({ type: Money, nullable: true, description: 'What the refund would return, tax included.', resolve: (p) => (p.plan && p.currency ? money(p.plan.amount, p.currency) : null) }),
    taxMoney: t.field({ type: Money, nullable: true, description: 'Its tax part.', resolve: (p) => (p.plan && p.currency ? money(p.plan.tax, p.currency) : null) }),
    lineItems: t.field({
      type: [RefundLineItem],
      description: 'The units it would refund, line by line; empty for an amount refund.',
      resolve: (p) =>
        (p.plan?.lines ?? []).map((l) => {
          const line = p.lines.find((x) => x.id === l.lineItemId)!;
          return {
            line,
            quantity: l.quantity,
            gross: l.gross,
            discount: l.discount,
            tax: l.tax,
            amount: l.amount,
            currency: p.currency!,
          };
        }),
    }),
    resultingStatus: t.field({ type: OrderStatusEnum, nullable: true, description: 'The order status once the refund has succeeded.', resolve: (p) => p.resultingStatus }),
    resultingNetAmounts: t.field({
      type: NetAmounts,
      nullable: true,
      description: "The order's netAmounts once the refund has succeeded (other pending refunds left pending).",
      resolve: (p) => (p.resultingNetAmounts && p.currency ? { ...p.resultingNetAmounts, currency: p.currency } : null),
    }),
    userErrors: t.field({ type: [UserError], description: 'The userErrors createRefund would return; empty when it would succeed.', resolve: (p) => p.userErrors }),
  }),
});

builder.queryField('refundPreview', (t) =>
  t.field({
    type: RefundPreview,
    description: 'What createRefund would do with the same input, without doing it: amount, tax part, lines, resulting netAmounts and status, or its userErrors.',
    args: { input: t.arg({ type: RefundPreviewInput, required: true, description: 'The refund to preview.' }) },
    resolve: async (_root, { input }, ctx) => previewRefund(requireScope(ctx), refundInput(input)),
  }),
);

// --- closeOrder -------------------------------------------------------------------------------------

const CloseOrderInput = builder.inputType('CloseOrderInput', {
  description: 'Close a settled order (PAID, PARTIALLY_REFUNDED or REFUNDED). CLOSED is final: nothing changes afterwards, refunds included.',
  fields: (t) => ({
    orderId: t.id({ required: true, description: 'Order id (ord_...).' }),
    idempotencyKey: t.string({ description: IDEMPOTENCY_KEY_DESCRIPTION }),
  }),
});

builder.mutationField('closeOrder', (t) =>
  t.field({
    type: OrderPayload,
    description:
      'Close a settled order (PAID, PARTIALLY_REFUNDED or REFUNDED): CLOSED is final, no more refunds. Refused (INVALID_STATE_TRANSITION) for other statuses and while a refund is still PENDING.',
    args: { input: t.arg({ type: CloseOrderInput, required: true }) },
    resolve: async (_root, { input }, ctx) =>
      toPayload(await closeOrder(requireScope(ctx), { orderId: String(input.orderId), idempotencyKey: input.idempotencyKey ?? null })),
  }),
);
