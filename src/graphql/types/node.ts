import { builder } from '../builder.js';
import { kindOfId } from '../../ids.js';
import { requireScope } from '../context.js';

/** Every object with an id. Ids are prefixed (ord_, li_, mer_, ...) so the type is known from the id. */
export const Node = builder.interfaceRef<{ id: string }>('Node').implement({
  description: 'An object with a globally unique, prefixed id (ord_, li_, act_, mer_, txr_, txrt_, ...). Fetch any of them with `node(id:)`.',
  fields: (t) => ({
    id: t.exposeID('id', { description: 'Opaque prefixed id, sortable by creation time.' }),
  }),
  resolveType: (value) => {
    const kind = kindOfId(value.id);
    if (!kind) throw new Error(`no GraphQL type for id ${value.id}`);
    return kind;
  },
});

builder.queryField('node', (t) =>
  t.field({
    type: Node,
    nullable: true,
    description: "Any object by id. Another merchant's (or the other mode's) id reads as null, exactly like an id that does not exist.",
    args: { id: t.arg.id({ required: true, description: 'A prefixed id such as ord_... or li_...' }) },
    resolve: async (_root, args, ctx) => {
      const scope = requireScope(ctx);
      const id = String(args.id);
      const db = ctx.deps.db;
      const own = { merchantId: scope.merchantId, livemode: scope.livemode };
      switch (kindOfId(id)) {
        case 'Order':
          return db.order.findFirst({ where: { id, ...own } });
        case 'LineItem':
          return db.lineItem.findFirst({ where: { id, merchantId: scope.merchantId, order: { livemode: scope.livemode } } });
        case 'Activity':
          return db.activity.findFirst({ where: { id, ...own } });
        case 'Merchant':
          return id === scope.merchantId ? db.merchant.findUnique({ where: { id } }) : null;
        case 'TaxRegistration':
          return db.taxRegistration.findFirst({ where: { id, ...own } });
        case 'TaxRate':
          return db.taxRate.findFirst({ where: { id, ...own } });
        case 'Coupon':
          return db.coupon.findFirst({ where: { id, ...own } });
        case 'PaymentIntent':
          return db.paymentIntent.findFirst({ where: { id, ...own } });
        case 'CheckoutSession':
          return db.checkoutSession.findFirst({ where: { id, ...own } });
        case 'Refund':
          return db.refund.findFirst({ where: { id, ...own } });
        default:
          return null;
      }
    },
  }),
);
