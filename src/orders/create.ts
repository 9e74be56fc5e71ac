// createOrder: validate, price with the merchant's pricing settings (a per-process copy checked when
// written) and the coupons named by couponCodes (each checked as applyCoupon checks it), then write the
// order, its lines, its coupons and its order.created entry in one guarded write (src/kernel/write-path.ts).
// The response is served from these rows; nothing is read back.
import type { Scope } from '../kernel/context.js';
import { Activities, type ActivityEntry } from '../audit/activity.js';
import { type Outcome, type UserError, fail, ok, userError } from '../kernel/errors.js';
import { LIMITS, checkCurrency, checkEmail, checkMetadata, checkString, normalizeAddress, type Address, type AddressInput } from '../kernel/validation.js';
import type { LineRow, OrderRow } from './order-model.js';
import { customerKeyOf, grossSubtotal, resolveCoupons, type CouponRow } from '../coupons/rules.js';
import { newId } from '../ids.js';
import { amountOverflowError } from '../kernel/input-guard.js';
import { runWrite } from '../kernel/write-path.js';
import type { Guard } from '../kernel/writer.js';
import type { Prisma } from '../generated/prisma/client.js';
import { amountLimitError, applyPricing, currentPricingContext, forgetPricingContext, price, type PricingContext } from './pricing-context.js';
import { newLineRow, tooManyLines, validateLines, type LineItemInput, type ValidLine } from './lines.js';
import { amountsSnapshot, finishOrder, lineSnapshot, type OrderRef, type WrittenOrder } from './order-state.js';

export interface CreateOrderInput {
  currency?: string | null;
  customerId?: string | null;
  buyerEmail?: string | null;
  shippingAddress?: AddressInput | null;
  lineItems: LineItemInput[];
  couponCodes?: string[] | null;
  metadata?: unknown;
  idempotencyKey?: string | null;
}

interface NewOrderFields {
  currency: string;
  lines: ValidLine[];
  shipping: Address | null;
  input: CreateOrderInput;
}

export async function createOrder(scope: Scope, input: CreateOrderInput): Promise<Outcome<WrittenOrder>> {
  const errors: UserError[] = [];
  const firstCurrency = input.lineItems[0]?.unitPriceMoney.currency ?? null;
  let currency = input.currency ?? firstCurrency;
  if (input.currency !== null && input.currency !== undefined) {
    if (!checkCurrency(errors, input.currency, ['input', 'currency'])) currency = null;
  }
  if (currency === null && errors.length === 0) {
    errors.push(userError('INVALID_INPUT', 'Give the order at least one line item, or its currency (e.g. "USD").', ['input', 'lineItems']));
  }
  if (input.lineItems.length > LIMITS.lineItemsMax) errors.push(tooManyLines(input.lineItems.length, ['input', 'lineItems']));
  const lines = validateLines(errors, input.lineItems, ['input', 'lineItems'], currency);
  checkString(errors, input.customerId, ['input', 'customerId'], 'customerId', 1, LIMITS.customerIdMax);
  checkEmail(errors, input.buyerEmail, ['input', 'buyerEmail']);
  checkMetadata(errors, input.metadata, ['input', 'metadata']);
  const shipping = input.shippingAddress ? normalizeAddress(errors, input.shippingAddress, ['input', 'shippingAddress']) : null;
  if (errors.length > 0 || currency === null) return fail(...errors);

  const fields: NewOrderFields = { currency, lines, shipping, input };
  const couponCodes = input.couponCodes ?? [];
  let planned: { order: OrderRow; lineItems: LineRow[] } | null = null;
  const { outcome, replayed, activity } = await runWrite<OrderRef>({
    scope,
    operation: 'createOrder',
    input: input as unknown as Record<string, unknown>,
    plan: async (at) => {
      const { version, context } = await currentPricingContext(scope);
      const { draft, draftLines } = draftOrder(scope, fields, at);
      let coupons: CouponRow[] = [];
      if (couponCodes.length > 0) {
        // couponCodes get the checks of applyCoupon, errors at ["input", "couponCodes", i].
        const resolved = await resolveCoupons(
          scope,
          couponCodes,
          { currency: fields.currency, grossSubtotal: grossSubtotal(draftLines), customerKey: customerKeyOf(draft), attached: [], at },
          (i) => ['input', 'couponCodes', i],
        );
        if (!resolved.ok) return resolved;
        coupons = resolved.value;
      }
      // The cached context is never changed: the engine gets it with this order's coupons.
      const built = priceNewOrder(draft, draftLines, { ...context, coupons }, fields.shipping);
      if (!built.ok) return built;
      const { priced, entry } = built.value;
      planned = { order: priced.order, lineItems: priced.lines };
      // A coupon deactivated meanwhile refuses the write; the plan then reports it.
      const guards: Guard[] = coupons.map((c) => ({ table: 'Coupon', id: c.id, match: { active: true }, exclusive: false }));
      const attachments = coupons.map((c, position) => ({
        orderId: draft.id,
        couponId: c.id,
        merchantId: scope.merchantId,
        livemode: scope.livemode,
        position,
        appliedAt: at,
      }));
      return ok({
        result: { orderId: draft.id },
        write: {
          guards,
          pricingVersion: version,
          ops: [
            { kind: 'insert', table: 'Order', rows: [priced.order] },
            { kind: 'insert', table: 'LineItem', rows: priced.lines },
            { kind: 'insert', table: 'OrderCoupon', rows: attachments },
          ],
          entries: [entry],
        },
      });
    },
    onRefused: (reason) => {
      if (reason === 'pricing') forgetPricingContext(scope);
    },
  });
  const rows = planned as { order: OrderRow; lineItems: LineRow[] } | null;
  const written: WrittenOrder | null = rows && !replayed && activity ? { ...rows, activity } : null;
  return finishOrder(scope, outcome, written);
}

function draftOrder(scope: Scope, fields: NewOrderFields, at: Date): { draft: OrderRow; draftLines: LineRow[] } {
  const { input, currency, shipping } = fields;
  const orderId = newId('Order');
  const draft: OrderRow = {
    id: orderId,
    merchantId: scope.merchantId,
    livemode: scope.livemode,
    status: 'OPEN',
    currency,
    customerId: input.customerId?.trim() || null,
    buyerEmail: input.buyerEmail?.trim() || null,
    shippingAddress: shipping as Prisma.JsonValue,
    metadata: (input.metadata ?? null) as Prisma.JsonValue,
    version: 1,
    subtotalAmount: 0n,
    discountAmount: 0n,
    taxAmount: 0n,
    exclusiveTaxAmount: 0n,
    totalAmount: 0n,
    taxes: [],
    discounts: [],
    paidAmount: 0n,
    refundedAmount: 0n,
    refundedSubtotalAmount: 0n,
    refundedDiscountAmount: 0n,
    refundedTaxAmount: 0n,
    pendingRefundAmount: 0n,
    cancelReason: null,
    createdAt: at,
    updatedAt: at,
  };
  return { draft, draftLines: fields.lines.map((l, position) => newLineRow(scope, orderId, position, l, at)) };
}

/** Prices a new order and builds its order.created entry; refuses amounts past SafeInt. */
function priceNewOrder(
  draft: OrderRow,
  draftLines: LineRow[],
  context: PricingContext,
  shipping: Address | null,
): Outcome<{ priced: { order: OrderRow; lines: LineRow[] }; entry: ActivityEntry }> {
  const engine = price(draft, draftLines, context);
  const overflow = amountOverflowError(engine, ['input', 'lineItems']);
  if (overflow) return fail(overflow);
  const priced = applyPricing(draft, draftLines, engine);
  const tooLarge = amountLimitError(priced, ['input', 'lineItems']);
  if (tooLarge) return fail(tooLarge);
  const entry = Activities.orderCreated(draft.id, {
    status: 'OPEN',
    currency: draft.currency,
    customerId: draft.customerId,
    buyerEmail: draft.buyerEmail,
    shippingAddress: shipping,
    lineItems: priced.lines.map(lineSnapshot),
    coupons: context.coupons.map((c) => c.code),
    netAmounts: amountsSnapshot(priced.order, priced.lines),
  });
  return ok({ priced, entry });
}
