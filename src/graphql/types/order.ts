import { GraphQLError } from 'graphql';
import { queryFromInfo } from '@pothos/plugin-prisma';
import { builder } from '../builder.js';
import { Node } from './node.js';
import { kindOfId } from '../../ids.js';
import { Money, money } from './money.js';
import { Address, asAddress } from './address.js';
import { requireScope } from '../context.js';
import { ACTIONS, ORDER_STATUSES, type NetAmounts as NetAmountsShape, type OrderActionType, type OrderStatus } from '../../pricing/index.js';
import {
  couponShortfallNotes,
  lineRefundable,
  orderActions,
  orderNetAmounts,
  orderRefundableAmount,
  orderSummary,
  type LineRow,
  type OrderRow,
} from '../../orders/order-model.js';
import type { Prisma } from '../../generated/prisma/client.js';
import { AppliedDiscount, LineItemDiscount, TaxLine, taxLines, type DiscountJson } from './discount.js';

// --- Enums --------------------------------------------------------------------------------------

const STATUS_DESCRIPTIONS: Record<OrderStatus, string> = {
  OPEN: 'Being built: line items, coupons and the shipping address can change; payOrder settles it; cancelOrder drops it.',
  PAID: 'Payments cover the total. Refundable; closeOrder ends it.',
  PARTIALLY_REFUNDED: 'Some, but not all, of what was paid has been refunded.',
  REFUNDED: 'Everything paid has been refunded.',
  CLOSED: 'Terminal: settled and closed; nothing changes any more, refunds included.',
  CANCELED: 'Terminal: canceled before any payment.',
};

export const OrderStatusEnum = builder.enumType('OrderStatus', {
  description: 'Where an order is in its lifecycle. Allowed next steps are in Order.availableActions.',
  values: Object.fromEntries(ORDER_STATUSES.map((s) => [s, { value: s, description: STATUS_DESCRIPTIONS[s] }])) as Record<
    OrderStatus,
    { value: OrderStatus; description: string }
  >,
});

export const OrderActionTypeEnum = builder.enumType('OrderActionType', {
  description: 'An operation on an order; each maps to one mutation.',
  values: Object.fromEntries(
    (Object.keys(ACTIONS) as OrderActionType[]).map((a) => [a, { value: a, description: `${ACTIONS[a].description} (mutation ${ACTIONS[a].mutation}).` }]),
  ) as Record<OrderActionType, { value: OrderActionType; description: string }>,
});

// --- Small value types ----------------------------------------------------------------------------

export const NetAmounts = builder.objectRef<NetAmountsShape & { currency: string }>('NetAmounts').implement({
  description: 'The order in money, net of refunds: what was bought, paid, refunded and is still due.',
  fields: (t) => ({
    subtotalMoney: t.field({ type: Money, description: 'Gross of all line items, net of refunded quantities.', resolve: (n) => money(n.subtotal, n.currency) }),
    discountMoney: t.field({ type: Money, description: 'All discounts, net of refunded quantities.', resolve: (n) => money(n.discount, n.currency) }),
    taxMoney: t.field({ type: Money, description: 'All tax (inclusive and exclusive), net of refunds.', resolve: (n) => money(n.tax, n.currency) }),
    totalMoney: t.field({
      type: Money,
      description: 'What the buyer owes in all: subtotal - discount + exclusive tax, net of refunds.',
      resolve: (n) => money(n.total, n.currency),
    }),
    paidMoney: t.field({ type: Money, description: 'Captured payments.', resolve: (n) => money(n.paid, n.currency) }),
    refundedMoney: t.field({ type: Money, description: 'Succeeded refunds.', resolve: (n) => money(n.refunded, n.currency) }),
    balanceMoney: t.field({
      type: Money,
      description: 'totalMoney - (paidMoney - refundedMoney): what is still due; 0 when settled.',
      resolve: (n) => money(n.balance, n.currency),
    }),
  }),
});

const OrderAction = builder.objectRef<{ action: OrderActionType; note?: string }>('OrderAction').implement({
  description: 'An operation the order allows right now, for agents and UIs.',
  fields: (t) => ({
    action: t.field({ type: OrderActionTypeEnum, description: 'The action.', resolve: (a) => a.action }),
    mutation: t.string({ description: 'The mutation that performs it, e.g. "payOrder".', resolve: (a) => ACTIONS[a.action].mutation }),
    description: t.string({
      description: 'What it does and what it needs (and, where it matters, what it would change now).',
      resolve: (a) => (a.note ? `${ACTIONS[a.action].description} ${a.note}` : ACTIONS[a.action].description),
    }),
  }),
});

// --- Line items -----------------------------------------------------------------------------------

type LineWithOrder = LineRow & { order: { currency: string; status: OrderStatus } };

export const LineItem = builder.prismaObject('LineItem', {
  interfaces: [Node],
  description: 'One product line of an order, with its computed amounts.',
  select: { id: true, order: { select: { currency: true, status: true } } },
  fields: (t) => {
    const amount = (field: 'grossAmount' | 'discountAmount' | 'taxAmount' | 'totalAmount', description: string) =>
      t.field({ type: Money, description, select: { [field]: true }, resolve: (l) => money((l as unknown as LineRow)[field], l.order.currency) });
    return {
      id: t.exposeID('id', { description: 'Line item id (li_...).' }),
      name: t.exposeString('name', { description: 'Product name as sold.' }),
      sku: t.exposeString('sku', { nullable: true, description: "The merchant's SKU; coupons can target SKUs." }),
      quantity: t.exposeInt('quantity', { description: 'Units sold.' }),
      unitPriceMoney: t.field({ type: Money, description: 'Price of one unit.', select: { unitPriceAmount: true }, resolve: (l) => money(l.unitPriceAmount, l.order.currency) }),
      taxCategory: t.exposeString('taxCategory', { description: 'Tax category used by the tax rules, e.g. "general", "food", "clothing", "digital".' }),
      grossMoney: amount('grossAmount', 'quantity x unitPrice.'),
      discountMoney: amount('discountAmount', "This line's share of every discount."),
      discounts: t.field({
        type: [LineItemDiscount],
        description: "This line's share of each coupon.",
        select: { discounts: true },
        resolve: (l) => ((l.discounts as DiscountJson[] | null) ?? []).map((d) => ({ ...d, currency: l.order.currency })),
      }),
      taxMoney: amount('taxAmount', 'All tax on this line (inclusive and exclusive).'),
      taxes: t.field({
        type: [TaxLine],
        description: 'Tax breakdown of this line; empty where the merchant collects no tax.',
        select: { taxes: true },
        resolve: (l) => taxLines(l.taxes, l.order.currency),
      }),
      totalMoney: amount('totalAmount', 'gross - discount + exclusive tax.'),
      refundedQuantity: t.exposeInt('refundedQuantity', { description: 'Units refunded so far by SUCCEEDED refunds (units of a PENDING refund are no longer refundable, but not counted here until it succeeds).' }),
      refundableQuantity: t.int({
        description: 'Units that can still be refunded: quantity minus refunded and pending units (0 unless the order is PAID or PARTIALLY_REFUNDED).',
        select: { quantity: true, refundedQuantity: true, pendingRefundQuantity: true, reservedRefundAmount: true, grossAmount: true, discountAmount: true, taxAmount: true, exclusiveTaxAmount: true },
        resolve: (l) => lineRefundable(l.order, l as unknown as LineRow).quantity,
      }),
      refundableMoney: t.field({
        type: Money,
        description: 'What refunding every refundable unit of this line would return, tax included.',
        select: { quantity: true, refundedQuantity: true, pendingRefundQuantity: true, reservedRefundAmount: true, grossAmount: true, discountAmount: true, taxAmount: true, exclusiveTaxAmount: true },
        resolve: (l) => money(lineRefundable(l.order, l as unknown as LineRow).amount, l.order.currency),
      }),
      metadata: t.field({ type: 'JSON', nullable: true, description: 'Your own key-value data.', select: { metadata: true }, resolve: (l) => l.metadata }),
    };
  },
});

// --- Order ----------------------------------------------------------------------------------------

const RefundableLineItem = builder.objectRef<{ line: LineWithOrder; quantity: number; amount: bigint }>('RefundableLineItem').implement({
  description: 'How much of one line can still be refunded.',
  fields: (t) => ({
    lineItem: t.field({ type: LineItem, description: 'The line.', resolve: (r) => r.line }),
    quantity: t.int({ description: 'Units still refundable.', resolve: (r) => r.quantity }),
    amountMoney: t.field({ type: Money, description: 'What refunding them all returns, tax included.', resolve: (r) => money(r.amount, r.line.order.currency) }),
  }),
});

const RefundableSummary = builder
  .objectRef<{ amount: bigint; currency: string; lines: { line: LineWithOrder; quantity: number; amount: bigint }[] }>('RefundableSummary')
  .implement({
    description: 'What can still be refunded: in all, and per line.',
    fields: (t) => ({
      amountMoney: t.field({ type: Money, description: 'The most any refund can return now: paid minus refunded minus pending refunds.', resolve: (r) => money(r.amount, r.currency) }),
      lineItems: t.field({ type: [RefundableLineItem], description: 'Lines with units still refundable.', resolve: (r) => r.lines }),
    }),
  });

const linesQuery = { orderBy: { position: 'asc' as const } };

export const Order = builder.prismaObject('Order', {
  interfaces: [Node],
  description:
    'The single source of truth of a sale: what was bought, the computed discounts, tax and totals, what was paid and refunded, and what is allowed next.',
  fields: (t) => ({
    id: t.exposeID('id', { description: 'Order id (ord_...), sortable by creation time.' }),
    status: t.field({ type: OrderStatusEnum, description: 'Lifecycle status.', resolve: (o) => o.status }),
    currency: t.exposeString('currency', { description: 'ISO 4217 code; every amount on the order is in it.' }),
    customerId: t.exposeString('customerId', { nullable: true, description: 'Your id for the buyer.' }),
    buyerEmail: t.exposeString('buyerEmail', { nullable: true, description: "The buyer's email (receipts go there)." }),
    shippingAddress: t.field({
      type: Address,
      nullable: true,
      description: 'Where the order ships; decides its tax (else the merchant origin address).',
      resolve: (o) => asAddress(o.shippingAddress),
    }),
    lineItems: t.relation('lineItems', { description: 'The lines, in the order they were added.', query: linesQuery }),
    discounts: t.field({
      type: [AppliedDiscount],
      description: 'Coupons applied and what each took off.',
      resolve: (o) => ((o.discounts as DiscountJson[] | null) ?? []).map((d) => ({ ...d, currency: o.currency })),
    }),
    taxes: t.field({ type: [TaxLine], description: 'Order-level tax breakdown: one line per jurisdiction and rate.', resolve: (o) => taxLines(o.taxes, o.currency) }),
    netAmounts: t.field({
      type: NetAmounts,
      description: 'Totals net of refunds, with paid and balance.',
      select: { lineItems: linesQuery },
      resolve: (o) => ({ ...orderNetAmounts(o, o.lineItems), currency: o.currency }),
    }),
    activity: t.relation('activity', { description: 'Every recorded change of this order, oldest first.', query: { orderBy: { sequence: 'asc' } } }),
    availableActions: t.field({
      type: [OrderAction],
      description: 'What can be done with the order right now; each names its mutation. Derived from the lifecycle table.',
      select: { lineItems: linesQuery },
      resolve: (o, _args, _ctx, info) => {
        // Only actions whose mutation this server offers: an agent can call every one it is told about.
        const offered = info.schema.getMutationType()?.getFields() ?? {};
        // Coupons whose minimum is not met say so on the actions that can fix it (coupons issue).
        const shortfalls = couponShortfallNotes(o);
        const note = shortfalls.length > 0 ? `Now: ${shortfalls.join('; ')}.` : undefined;
        return orderActions(o, o.lineItems)
          .filter((g) => g.allowed && ACTIONS[g.action].mutation in offered)
          .map((g) => ({ action: g.action, ...(note && (g.action === 'ADD_LINE_ITEMS' || g.action === 'REMOVE_COUPON') ? { note } : {}) }));
      },
    }),
    refundable: t.field({
      type: RefundableSummary,
      description: 'What can still be refunded, in all and per line (zero until the order is paid).',
      select: { lineItems: { ...linesQuery, include: { order: { select: { currency: true, status: true } } } } },
      resolve: (o) => {
        const lines = o.lineItems.map((l) => ({ line: l, ...lineRefundable(o, l) })).filter((r) => r.quantity > 0);
        return { amount: orderRefundableAmount(o), currency: o.currency, lines };
      },
    }),
    summary: t.string({
      description: 'One plain-language sentence: what was bought, what was paid, what is refundable.',
      select: { lineItems: linesQuery },
      resolve: (o) => orderSummary(o, o.lineItems),
    }),
    metadata: t.field({ type: 'JSON', nullable: true, description: 'Your own key-value data.', resolve: (o) => o.metadata }),
    version: t.exposeInt('version', { description: 'Increments on every change; pass it back as expectedVersion to guard against lost updates.' }),
    createdAt: t.expose('createdAt', { type: 'DateTime', description: 'When the order was created.' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime', description: 'When the order last changed.' }),
  }),
});

// --- Queries ----------------------------------------------------------------------------------------

builder.queryField('order', (t) =>
  t.prismaField({
    type: 'Order',
    nullable: true,
    description: "An order by id; null when it does not exist or belongs to another merchant or mode.",
    args: { id: t.arg.id({ required: true, description: 'Order id (ord_...).' }) },
    resolve: (query, _root, args, ctx) => {
      const scope = requireScope(ctx);
      return ctx.deps.db.order.findFirst({ ...query, where: { id: String(args.id), merchantId: scope.merchantId, livemode: scope.livemode } });
    },
  }),
);

const OrderFilter = builder.inputType('OrderFilter', {
  description: 'Narrow the order list; all given conditions must hold.',
  fields: (t) => ({
    customerId: t.string({ description: 'Only orders of this customerId.' }),
    buyerEmail: t.string({ description: 'Only orders of this buyer email (case-insensitive).' }),
    status: t.field({ type: [OrderStatusEnum], description: 'Only orders in one of these statuses.' }),
    createdAfter: t.field({ type: 'DateTime', description: 'Only orders created at or after this instant.' }),
    createdBefore: t.field({ type: 'DateTime', description: 'Only orders created before this instant.' }),
  }),
});

interface OrderPage {
  edges: { cursor: string; node: OrderRow }[];
  hasNextPage: boolean;
  hasPreviousPage: boolean;
}

export const PageInfo = builder.objectRef<OrderPage>('PageInfo').implement({
  description: 'Cursor pagination state.',
  fields: (t) => ({
    hasNextPage: t.boolean({ description: 'More items after endCursor.', resolve: (p) => p.hasNextPage }),
    hasPreviousPage: t.boolean({ description: 'Items before startCursor.', resolve: (p) => p.hasPreviousPage }),
    startCursor: t.string({ nullable: true, description: 'Cursor of the first edge.', resolve: (p) => p.edges[0]?.cursor ?? null }),
    endCursor: t.string({ nullable: true, description: 'Cursor of the last edge; pass it as `after` for the next page.', resolve: (p) => p.edges.at(-1)?.cursor ?? null }),
  }),
});

const OrderEdge = builder.objectRef<{ cursor: string; node: OrderRow }>('OrderEdge').implement({
  description: 'An order in a list.',
  fields: (t) => ({
    cursor: t.exposeString('cursor', { description: 'Opaque position; pass it as `after`.' }),
    node: t.field({ type: Order, description: 'The order.', resolve: (e) => e.node }),
  }),
});

const OrderConnection = builder.objectRef<OrderPage>('OrderConnection').implement({
  description: 'A page of orders, newest first.',
  fields: (t) => ({
    edges: t.field({ type: [OrderEdge], description: 'The orders of this page.', resolve: (p) => p.edges }),
    pageInfo: t.field({ type: PageInfo, description: 'Whether there is more, and the cursors.', resolve: (p) => p }),
  }),
});

const encodeCursor = (id: string) => Buffer.from(`order:${id}`).toString('base64url');
function decodeCursor(cursor: string): string | null {
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  const id = text.startsWith('order:') ? text.slice('order:'.length) : '';
  return kindOfId(id) === 'Order' ? id : null;
}

export const MAX_PAGE_SIZE = 100;

builder.queryField('orders', (t) =>
  t.field({
    type: OrderConnection,
    description: `Orders of the merchant, newest first, ${MAX_PAGE_SIZE} at most per page. Find "Sarah's last order" with filter: { buyerEmail: "sarah@example.com" }, first: 1.`,
    args: {
      filter: t.arg({ type: OrderFilter, description: 'Conditions all returned orders meet.' }),
      first: t.arg.int({ description: `Page size, 1 to ${MAX_PAGE_SIZE} (default 20).` }),
      after: t.arg.string({ description: 'endCursor of the previous page.' }),
    },
    resolve: async (_root, args, ctx, info) => {
      const scope = requireScope(ctx);
      const first = args.first ?? 20;
      if (!Number.isInteger(first) || first < 1 || first > MAX_PAGE_SIZE) {
        throw new GraphQLError(`first must be from 1 to ${MAX_PAGE_SIZE} (got ${first}).`, {
          extensions: { code: 'BAD_USER_INPUT' },
        });
      }
      const afterId = args.after ? decodeCursor(args.after) : null;
      if (args.after && !afterId) {
        throw new GraphQLError('`after` is not a cursor of this list: pass pageInfo.endCursor of the previous page, or leave it out for the first page.', {
          extensions: { code: 'BAD_USER_INPUT' },
        });
      }
      const f = args.filter;
      const where: Prisma.OrderWhereInput = {
        merchantId: scope.merchantId,
        livemode: scope.livemode,
        ...(f?.customerId ? { customerId: f.customerId } : {}),
        ...(f?.buyerEmail ? { buyerEmail: { equals: f.buyerEmail, mode: 'insensitive' } } : {}),
        ...(f?.status && f.status.length > 0 ? { status: { in: f.status } } : {}),
        ...(f?.createdAfter || f?.createdBefore
          ? { createdAt: { ...(f.createdAfter ? { gte: f.createdAfter } : {}), ...(f.createdBefore ? { lt: f.createdBefore } : {}) } }
          : {}),
        ...(afterId ? { id: { lt: afterId } } : {}),
      };
      const query = queryFromInfo({ context: ctx, info, path: ['edges', 'node'], typeName: 'Order' });
      const rows = (await ctx.deps.db.order.findMany({ ...query, where, orderBy: { id: 'desc' }, take: first + 1 })) as OrderRow[];
      const page = rows.slice(0, first);
      return { edges: page.map((node) => ({ cursor: encodeCursor(node.id), node })), hasNextPage: rows.length > first, hasPreviousPage: afterId !== null };
    },
  }),
);

