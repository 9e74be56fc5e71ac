import { builder } from '../builder.js';
import { Node } from './node.js';
import { UserError, IDEMPOTENCY_KEY_DESCRIPTION } from './user-error.js';
import { requireScope } from '../context.js';
import { checkoutStatus, createCheckoutSession, type CheckoutSessionRow } from '../../payments/checkout.js';
import type { UserError as UserErrorShape } from '../../kernel/errors.js';
import { publicUrlOf } from '../../payments/index.js';

export const CheckoutSessionStatusEnum = builder.enumType('CheckoutSessionStatus', {
  description: 'Where a hosted checkout page is.',
  values: {
    OPEN: { value: 'OPEN', description: 'The buyer can pay at url.' },
    COMPLETE: { value: 'COMPLETE', description: 'Paid: the order is settled.' },
    EXPIRED: { value: 'EXPIRED', description: 'Not paid within 24 hours; create a new session.' },
  } as const,
});

export const CheckoutSession = builder.prismaObject('CheckoutSession', {
  interfaces: [Node],
  description: 'A hosted page on this server where the buyer pays one order. Valid 24 hours.',
  fields: (t) => ({
    id: t.exposeID('id', { description: 'Checkout session id (cs_...).' }),
    order: t.relation('order', { description: 'The order to pay.' }),
    url: t.string({ description: 'Hosted page where the buyer pays: send the buyer here.', resolve: (s, _args, ctx) => `${publicUrlOf(ctx.deps)}/checkout/${s.id}` }),
    status: t.field({
      type: CheckoutSessionStatusEnum,
      description: 'OPEN, COMPLETE (paid) or EXPIRED (24 hours passed unpaid).',
      resolve: (s, _args, ctx) => checkoutStatus(s, ctx.deps.clock.now()),
    }),
    successUrl: t.exposeString('successUrl', { nullable: true, description: 'Where the buyer goes after paying.' }),
    cancelUrl: t.exposeString('cancelUrl', { nullable: true, description: 'Where the buyer goes when leaving without paying.' }),
    expiresAt: t.expose('expiresAt', { type: 'DateTime', description: 'When the page stops taking payments (24 hours after creation).' }),
  }),
});

builder.queryField('checkoutSession', (t) =>
  t.prismaField({
    type: 'CheckoutSession',
    nullable: true,
    description: 'A checkout session by id; null when it does not exist or belongs to another merchant or mode.',
    args: { id: t.arg.id({ required: true, description: 'Checkout session id (cs_...).' }) },
    resolve: (query, _root, args, ctx) => {
      const scope = requireScope(ctx);
      return ctx.deps.db.checkoutSession.findFirst({ ...query, where: { id: String(args.id), merchantId: scope.merchantId, livemode: scope.livemode } });
    },
  }),
);

const CreateCheckoutSessionInput = builder.inputType('CreateCheckoutSessionInput', {
  description: 'A hosted checkout page for an OPEN order with a balance due.',
  fields: (t) => ({
    orderId: t.id({ required: true, description: 'Order id (ord_...).' }),
    successUrl: t.string({ description: 'Absolute http(s) URL the buyer is sent to after paying.' }),
    cancelUrl: t.string({ description: 'Absolute http(s) URL behind the page\'s "cancel" link.' }),
    idempotencyKey: t.string({ description: IDEMPOTENCY_KEY_DESCRIPTION }),
  }),
});

interface CheckoutPayloadShape {
  session: CheckoutSessionRow | null;
  userErrors: UserErrorShape[];
}

const CheckoutSessionPayload = builder.objectRef<CheckoutPayloadShape>('CheckoutSessionPayload').implement({
  description: 'The new checkout session, or userErrors (then nothing was created).',
  fields: (t) => ({
    checkoutSession: t.field({ type: CheckoutSession, nullable: true, description: 'The session; send the buyer to its url.', resolve: (p) => p.session }),
    userErrors: t.field({ type: [UserError], description: 'Why no session was created, if so.', resolve: (p) => p.userErrors }),
  }),
});

builder.mutationField('createCheckoutSession', (t) =>
  t.field({
    type: CheckoutSessionPayload,
    description: 'Create a hosted checkout page (valid 24 hours) where the buyer pays the order; send the buyer to checkoutSession.url.',
    args: { input: t.arg({ type: CreateCheckoutSessionInput, required: true, description: 'Which order, and where to send the buyer afterwards.' }) },
    resolve: async (_root, { input }, ctx) => {
      const outcome = await createCheckoutSession(requireScope(ctx), {
        orderId: String(input.orderId),
        successUrl: input.successUrl ?? null,
        cancelUrl: input.cancelUrl ?? null,
        idempotencyKey: input.idempotencyKey ?? null,
      });
      return outcome.ok ? { session: outcome.value, userErrors: [] } : { session: null, userErrors: outcome.errors };
    },
  }),
);
