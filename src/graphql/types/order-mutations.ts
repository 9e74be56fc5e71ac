// The order mutations: createOrder, the edits and cancelOrder, and their payload (served from the rows
// the use case wrote when they hold everything the selection asks for).
import { builder } from '../builder.js';
import { MoneyInput } from './money.js';
import { AddressInput } from './address.js';
import { UserError, IDEMPOTENCY_KEY_DESCRIPTION } from './user-error.js';
import { requireScope, type GraphQLContext } from '../context.js';
import { createOrder } from '../../orders/create.js';
import { addLineItems, cancelOrder, removeLineItem, setShippingAddress, updateLineItem } from '../../orders/edit.js';
import type { WrittenOrder } from '../../orders/order-state.js';
import type { Outcome, UserError as UserErrorShape } from '../../kernel/errors.js';
import { rowsServe } from '../written-rows.js';

// --- Mutations --------------------------------------------------------------------------------------

const LineItemInput = builder.inputType('LineItemInput', {
  description: 'A product line. Amounts are integers in minor units; all lines of an order share one currency.',
  fields: (t) => ({
    name: t.string({ required: true, description: 'Product name, 1 to 500 characters.' }),
    sku: t.string({ description: 'Your SKU (coupons can target SKUs).' }),
    quantity: t.int({ required: true, description: 'Units, 1 to 100000.' }),
    unitPriceMoney: t.field({ type: MoneyInput, required: true, description: 'Price of one unit, 0 to 10^12 minor units, in the order currency.' }),
    taxCategory: t.string({ description: 'Tax category, default "general"; e.g. "food", "clothing", "digital".' }),
    metadata: t.field({ type: 'JSON', description: 'Your own key-value data (a JSON object).' }),
  }),
});

const CreateOrderInput = builder.inputType('CreateOrderInput', {
  description: 'A new order. Flint computes discounts, tax and totals from the lines and the merchant tax settings.',
  fields: (t) => ({
    currency: t.string({ description: 'ISO 4217 code. Optional: defaults to the currency of the line items (required when there are none).' }),
    customerId: t.string({ description: 'Your id for the buyer.' }),
    buyerEmail: t.string({ description: "The buyer's email." }),
    shippingAddress: t.field({ type: AddressInput, description: 'Where it ships; decides the tax.' }),
    lineItems: t.field({ type: [LineItemInput], required: true, description: 'The lines, at most 500.' }),
    couponCodes: t.stringList({ description: 'Coupon codes to apply.' }),
    metadata: t.field({ type: 'JSON', description: 'Your own key-value data (a JSON object).' }),
    idempotencyKey: t.string({ description: IDEMPOTENCY_KEY_DESCRIPTION }),
  }),
});

const versionDescription = 'The order version you last read; the change is refused with VERSION_CONFLICT if the order has changed since.';

const AddLineItemsInput = builder.inputType('AddLineItemsInput', {
  description: 'Lines to add to an OPEN order.',
  fields: (t) => ({
    orderId: t.id({ required: true, description: 'Order id (ord_...).' }),
    lineItems: t.field({ type: [LineItemInput], required: true, description: 'Lines to add, in the order currency.' }),
    expectedVersion: t.int({ description: versionDescription }),
    idempotencyKey: t.string({ description: IDEMPOTENCY_KEY_DESCRIPTION }),
  }),
});

const UpdateLineItemInput = builder.inputType('UpdateLineItemInput', {
  description: 'Change the quantity of a line of an OPEN order.',
  fields: (t) => ({
    orderId: t.id({ required: true, description: 'Order id (ord_...).' }),
    lineItemId: t.id({ required: true, description: 'Line item id (li_...).' }),
    quantity: t.int({ required: true, description: 'New quantity, 1 to 100000 (use removeLineItem to drop the line).' }),
    expectedVersion: t.int({ description: versionDescription }),
    idempotencyKey: t.string({ description: IDEMPOTENCY_KEY_DESCRIPTION }),
  }),
});

const RemoveLineItemInput = builder.inputType('RemoveLineItemInput', {
  description: 'Drop a line from an OPEN order.',
  fields: (t) => ({
    orderId: t.id({ required: true, description: 'Order id (ord_...).' }),
    lineItemId: t.id({ required: true, description: 'Line item id (li_...).' }),
    expectedVersion: t.int({ description: versionDescription }),
    idempotencyKey: t.string({ description: IDEMPOTENCY_KEY_DESCRIPTION }),
  }),
});

const SetShippingAddressInput = builder.inputType('SetShippingAddressInput', {
  description: 'Set where an OPEN order ships; its tax is recomputed.',
  fields: (t) => ({
    orderId: t.id({ required: true, description: 'Order id (ord_...).' }),
    shippingAddress: t.field({ type: AddressInput, required: true, description: 'The new address.' }),
    expectedVersion: t.int({ description: versionDescription }),
    idempotencyKey: t.string({ description: IDEMPOTENCY_KEY_DESCRIPTION }),
  }),
});

const CancelOrderInput = builder.inputType('CancelOrderInput', {
  description: 'Cancel an OPEN order that has no succeeded payment.',
  fields: (t) => ({
    orderId: t.id({ required: true, description: 'Order id (ord_...).' }),
    reason: t.string({ description: 'Why, for the audit trail.' }),
    idempotencyKey: t.string({ description: IDEMPOTENCY_KEY_DESCRIPTION }),
  }),
});

interface OrderPayloadShape {
  written: WrittenOrder | null;
  userErrors: UserErrorShape[];
}

export const OrderPayload = builder.objectRef<OrderPayloadShape>('OrderPayload').implement({
  description: 'The order after the mutation, or userErrors (then nothing was changed).',
  fields: (t) => ({
    order: t.prismaField({
      type: 'Order',
      nullable: true,
      description: 'The order as it is now.',
      // Answered from the rows the mutation wrote; read only when the selection needs more than those.
      resolve: async (query, p, _args, ctx) => {
        if (!p.written) return null;
        const { order, lineItems, activity } = p.written;
        const lines = lineItems.map((l) => ({ ...l, order: { currency: order.currency, status: order.status } }));
        const row = activity ? { ...order, lineItems: lines, activity } : { ...order, lineItems: lines };
        if (rowsServe(row, query)) return row;
        return ctx.deps.db.order.findUnique({ ...query, where: { id: order.id } });
      },
    }),
    userErrors: t.field({ type: [UserError], description: 'Why nothing changed, if so.', resolve: (p) => p.userErrors }),
  }),
});

export function toPayload(outcome: Outcome<WrittenOrder>): OrderPayloadShape {
  return outcome.ok ? { written: outcome.value, userErrors: [] } : { written: null, userErrors: outcome.errors };
}

function plain<T>(input: T): T {
  // GraphQL input objects have a null prototype; hash and store them as plain data.
  return JSON.parse(JSON.stringify(input)) as T;
}

type Ctx = GraphQLContext;

builder.mutationField('createOrder', (t) =>
  t.field({
    type: OrderPayload,
    description: 'Create an OPEN order from line items. Totals, discounts and tax are computed and returned at once.',
    args: { input: t.arg({ type: CreateOrderInput, required: true }) },
    resolve: async (_root, { input }, ctx: Ctx) => toPayload(await createOrder(requireScope(ctx), plain(input))),
  }),
);

builder.mutationField('addLineItems', (t) =>
  t.field({
    type: OrderPayload,
    description: 'Add lines to an OPEN order; it is re-priced.',
    args: { input: t.arg({ type: AddLineItemsInput, required: true }) },
    resolve: async (_root, { input }, ctx: Ctx) => toPayload(await addLineItems(requireScope(ctx), plain({ ...input, orderId: String(input.orderId) }))),
  }),
);

builder.mutationField('updateLineItem', (t) =>
  t.field({
    type: OrderPayload,
    description: 'Change the quantity of a line of an OPEN order; it is re-priced.',
    args: { input: t.arg({ type: UpdateLineItemInput, required: true }) },
    resolve: async (_root, { input }, ctx: Ctx) =>
      toPayload(await updateLineItem(requireScope(ctx), plain({ ...input, orderId: String(input.orderId), lineItemId: String(input.lineItemId) }))),
  }),
);

builder.mutationField('removeLineItem', (t) =>
  t.field({
    type: OrderPayload,
    description: 'Remove a line from an OPEN order; it is re-priced.',
    args: { input: t.arg({ type: RemoveLineItemInput, required: true }) },
    resolve: async (_root, { input }, ctx: Ctx) =>
      toPayload(await removeLineItem(requireScope(ctx), plain({ ...input, orderId: String(input.orderId), lineItemId: String(input.lineItemId) }))),
  }),
);

builder.mutationField('setShippingAddress', (t) =>
  t.field({
    type: OrderPayload,
    description: "Set an OPEN order's shipping address; its tax is recomputed for the new jurisdiction.",
    args: { input: t.arg({ type: SetShippingAddressInput, required: true }) },
    resolve: async (_root, { input }, ctx: Ctx) => toPayload(await setShippingAddress(requireScope(ctx), plain({ ...input, orderId: String(input.orderId) }))),
  }),
);

builder.mutationField('cancelOrder', (t) =>
  t.field({
    type: OrderPayload,
    description: 'Cancel an OPEN order with no succeeded payment. CANCELED is terminal.',
    args: { input: t.arg({ type: CancelOrderInput, required: true }) },
    resolve: async (_root, { input }, ctx: Ctx) => toPayload(await cancelOrder(requireScope(ctx), plain({ ...input, orderId: String(input.orderId) }))),
  }),
);
