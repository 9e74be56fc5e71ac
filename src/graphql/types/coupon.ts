// Coupons: the Coupon type and DiscountType enum, the coupon/coupons queries, and the createCoupon,
// deactivateCoupon, applyCoupon and removeCoupon mutations. Resolvers parse, authorise, call the use
// case (src/coupons/coupons.ts) and map; the rules live there.
import { builder } from '../builder.js';
import { Node } from './node.js';
import { Money, MoneyInput, money } from './money.js';
import { UserError, IDEMPOTENCY_KEY_DESCRIPTION } from './user-error.js';
import { OrderPayload, toPayload } from './order-mutations.js';
import { DiscountTypeEnum } from './discount.js';
import { requireScope } from '../context.js';
import { applyCoupon, removeCoupon } from '../../coupons/apply.js';
import { createCoupon, deactivateCoupon, findCoupon, listCoupons, type CreateCouponInput as CreateCouponInputShape } from '../../coupons/admin.js';
import { type CouponRow } from '../../coupons/rules.js';
import type { Outcome, UserError as UserErrorShape } from '../../kernel/errors.js';

export const Coupon = builder.prismaObject('Coupon', {
  interfaces: [Node],
  description:
    'A discount buyers apply by code. Rules (pricing.md §4): SKU-scoped coupons apply before order-wide ones, percentages before fixed amounts, then by priority and code; each works on what the earlier ones left.',
  fields: (t) => ({
    id: t.exposeID('id', { description: 'Coupon id (cpn_...).' }),
    code: t.exposeString('code', { description: 'The code buyers enter, as created; matched case-insensitively.' }),
    name: t.exposeString('name', { description: 'Human name shown on orders (defaults to the code).' }),
    type: t.field({ type: DiscountTypeEnum, description: 'PERCENTAGE or FIXED_AMOUNT.', resolve: (c) => c.type }),
    percentOff: t.exposeString('percentOff', { nullable: true, description: 'Decimal percent as a string, e.g. "15" or "12.5"; set when type is PERCENTAGE.' }),
    amountOffMoney: t.field({
      type: Money,
      nullable: true,
      description: 'Set when type is FIXED_AMOUNT. Applies only to orders in its currency.',
      resolve: (c) => (c.amountOff !== null && c.currency !== null ? money(c.amountOff, c.currency) : null),
    }),
    stackable: t.exposeBoolean('stackable', { description: 'Stackable coupons combine with each other; a non-stackable one stands alone.' }),
    priority: t.exposeInt('priority', { description: 'Lower applies first when several stack.' }),
    appliesToSkus: t.exposeStringList('appliesToSkus', { description: 'Only lines with these SKUs are discounted; empty means the whole order.' }),
    minimumSubtotalMoney: t.field({
      type: Money,
      nullable: true,
      description: "The order's gross subtotal must reach this for the coupon to take anything off.",
      resolve: (c) => (c.minimumSubtotal !== null && c.currency !== null ? money(c.minimumSubtotal, c.currency) : null),
    }),
    maxRedemptions: t.exposeInt('maxRedemptions', { nullable: true, description: 'How many paid orders may use the coupon in all; null for no limit.' }),
    maxRedemptionsPerCustomer: t.exposeInt('maxRedemptionsPerCustomer', {
      nullable: true,
      description: 'How many paid orders of one customer (customerId, else buyerEmail) may use it; null for no limit.',
    }),
    timesRedeemed: t.exposeInt('timesRedeemed', { description: 'Paid orders that used the coupon (refunds do not give a use back).' }),
    startsAt: t.expose('startsAt', { type: 'DateTime', nullable: true, description: 'Usable from this instant on; null for at once.' }),
    expiresAt: t.expose('expiresAt', { type: 'DateTime', nullable: true, description: 'Usable until just before this instant; null for never.' }),
    active: t.exposeBoolean('active', { description: 'False once deactivated: it can no longer be applied.' }),
    createdAt: t.expose('createdAt', { type: 'DateTime', description: 'When the coupon was created.' }),
  }),
});

// --- Queries ----------------------------------------------------------------------------------------

builder.queryField('coupon', (t) =>
  t.field({
    type: Coupon,
    nullable: true,
    description: 'A coupon by code (case-insensitive), deactivated ones included; null when there is none for this merchant and mode.',
    args: { code: t.arg.string({ required: true, description: 'The coupon code, e.g. "SAVE10".' }) },
    resolve: (_root, args, ctx) => findCoupon(requireScope(ctx), args.code),
  }),
);

builder.queryField('coupons', (t) =>
  t.field({
    type: [Coupon],
    description: "Every coupon of the merchant in the API key's mode, newest first, deactivated ones included.",
    resolve: (_root, _args, ctx) => listCoupons(requireScope(ctx)),
  }),
);

// --- Mutations --------------------------------------------------------------------------------------

const CreateCouponInput = builder.inputType('CreateCouponInput', {
  description: 'A new coupon. PERCENTAGE needs percentOff; FIXED_AMOUNT needs amountOffMoney.',
  fields: (t) => ({
    code: t.string({ required: true, description: 'The code buyers enter: 1 to 64 of A-Z, a-z, 0-9, "_" and "-"; unique per merchant, case-insensitively.' }),
    name: t.string({ description: 'Human name shown on orders; defaults to the code.' }),
    type: t.field({ type: DiscountTypeEnum, required: true, description: 'PERCENTAGE or FIXED_AMOUNT.' }),
    percentOff: t.string({ description: 'PERCENTAGE only: a decimal string above 0 and at most 100, e.g. "15" or "12.5".' }),
    amountOffMoney: t.field({ type: MoneyInput, description: 'FIXED_AMOUNT only: the amount off, in the currency of the orders it is for.' }),
    stackable: t.boolean({ description: 'Whether it combines with other coupons (default false: it stands alone).' }),
    priority: t.int({ description: 'Lower applies first among coupons of the same scope and type (default 0).' }),
    appliesToSkus: t.stringList({ description: 'Only discount lines with these SKUs; leave out for the whole order.' }),
    minimumSubtotalMoney: t.field({ type: MoneyInput, description: "The order's gross subtotal must reach this; same currency as amountOffMoney." }),
    maxRedemptions: t.int({ description: 'Paid orders that may use it in all (at least 1); leave out for no limit.' }),
    maxRedemptionsPerCustomer: t.int({ description: 'Paid orders of one customer that may use it (at least 1); leave out for no limit.' }),
    startsAt: t.field({ type: 'DateTime', description: 'Usable from this instant on; leave out for at once.' }),
    expiresAt: t.field({ type: 'DateTime', description: 'Usable until just before this instant (must be in the future); leave out for never.' }),
    idempotencyKey: t.string({ description: IDEMPOTENCY_KEY_DESCRIPTION }),
  }),
});

const DeactivateCouponInput = builder.inputType('DeactivateCouponInput', {
  description: 'The coupon to deactivate.',
  fields: (t) => ({
    code: t.string({ required: true, description: 'The coupon code (case-insensitive).' }),
    idempotencyKey: t.string({ description: IDEMPOTENCY_KEY_DESCRIPTION }),
  }),
});

const versionDescription = 'The order version you last read; the change is refused with VERSION_CONFLICT if the order has changed since.';

const ApplyCouponInput = builder.inputType('ApplyCouponInput', {
  description: 'Apply a coupon to an OPEN order by its code.',
  fields: (t) => ({
    orderId: t.id({ required: true, description: 'Order id (ord_...).' }),
    code: t.string({ required: true, description: 'The coupon code (case-insensitive).' }),
    expectedVersion: t.int({ description: versionDescription }),
    idempotencyKey: t.string({ description: IDEMPOTENCY_KEY_DESCRIPTION }),
  }),
});

const RemoveCouponInput = builder.inputType('RemoveCouponInput', {
  description: 'Remove an applied coupon from an OPEN order.',
  fields: (t) => ({
    orderId: t.id({ required: true, description: 'Order id (ord_...).' }),
    code: t.string({ required: true, description: 'The code of the applied coupon (case-insensitive).' }),
    expectedVersion: t.int({ description: versionDescription }),
    idempotencyKey: t.string({ description: IDEMPOTENCY_KEY_DESCRIPTION }),
  }),
});

interface CouponPayloadShape {
  coupon: CouponRow | null;
  userErrors: UserErrorShape[];
}

const CouponPayload = builder.objectRef<CouponPayloadShape>('CouponPayload').implement({
  description: 'The coupon after the mutation, or userErrors (then nothing was changed).',
  fields: (t) => ({
    coupon: t.field({ type: Coupon, nullable: true, description: 'The coupon as it is now.', resolve: (p) => p.coupon }),
    userErrors: t.field({ type: [UserError], description: 'Why nothing changed, if so.', resolve: (p) => p.userErrors }),
  }),
});

function couponPayload(outcome: Outcome<CouponRow>): CouponPayloadShape {
  return outcome.ok ? { coupon: outcome.value, userErrors: [] } : { coupon: null, userErrors: outcome.errors };
}

/** GraphQL input objects have a null prototype: copy into plain data (Dates kept) for hashing and storage. */
function plain<T extends object>(input: T): T {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(input)) {
    out[k] = v !== null && typeof v === 'object' && !(v instanceof Date) && !Array.isArray(v) ? { ...v } : Array.isArray(v) ? [...v] : v;
  }
  return out as T;
}

builder.mutationField('createCoupon', (t) =>
  t.field({
    type: CouponPayload,
    description: 'Create a percentage or fixed-amount coupon. Buyers apply it by code with applyCoupon or createOrder(couponCodes).',
    args: { input: t.arg({ type: CreateCouponInput, required: true }) },
    resolve: async (_root, { input }, ctx) => couponPayload(await createCoupon(requireScope(ctx), plain(input) as CreateCouponInputShape)),
  }),
);

builder.mutationField('deactivateCoupon', (t) =>
  t.field({
    type: CouponPayload,
    description:
      'Deactivate a coupon: it can no longer be applied. Orders that already carry it keep it until paid, when the payment is refused until the coupon is removed. Deactivating twice changes nothing.',
    args: { input: t.arg({ type: DeactivateCouponInput, required: true }) },
    resolve: async (_root, { input }, ctx) => couponPayload(await deactivateCoupon(requireScope(ctx), plain(input))),
  }),
);

builder.mutationField('applyCoupon', (t) =>
  t.field({
    type: OrderPayload,
    description:
      'Apply a coupon to an OPEN order by code; discounts, tax and totals are recomputed at once. Each reason for refusal has its own code (COUPON_NOT_FOUND, COUPON_EXPIRED, COUPON_NOT_YET_ACTIVE, COUPON_USAGE_LIMIT_REACHED, COUPON_NOT_STACKABLE, COUPON_MINIMUM_NOT_MET, COUPON_ALREADY_APPLIED, CURRENCY_MISMATCH).',
    args: { input: t.arg({ type: ApplyCouponInput, required: true }) },
    resolve: async (_root, { input }, ctx) => toPayload(await applyCoupon(requireScope(ctx), plain({ ...input, orderId: String(input.orderId) }))),
  }),
);

builder.mutationField('removeCoupon', (t) =>
  t.field({
    type: OrderPayload,
    description: 'Remove an applied coupon from an OPEN order; it is re-priced.',
    args: { input: t.arg({ type: RemoveCouponInput, required: true }) },
    resolve: async (_root, { input }, ctx) => toPayload(await removeCoupon(requireScope(ctx), plain({ ...input, orderId: String(input.orderId) }))),
  }),
);
