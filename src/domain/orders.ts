// Order use cases: create, edit while OPEN, cancel. Each runs as one transaction: edits and cancel
// (runMutation) lock the order row, check expectedVersion, re-price through the engine, write, append
// activity; createOrder prices first and writes everything in one statement (runSingleStatement), or
// in runMutation when coupons must be redeemed.
import type { Scope, Tx } from './context.js';
import { Activities, activityRows, appendActivity, type ActivityEntry, type ActivityRow } from './activity.js';
import { type Outcome, type UserError, fail, ok, userError, notFound } from './errors.js';
import { runMutation, runSingleStatement } from './mutation.js';
import { sqlPool } from '../db/prisma.js';
import { newId } from '../ids.js';
import { toJson, type Json } from './json.js';
import { amountOverflowError } from './input-guard.js';
import {
  LIMITS,
  checkCurrency,
  checkEmail,
  checkMetadata,
  checkString,
  normalizeAddress,
  type Address,
  type AddressInput,
  type Path,
} from './validation.js';
import { EDIT_ACTIONS, invalidTransitionMessage, priceOrder, type OrderActionType, type PricedOrder, type TaxJurisdiction } from '../pricing/index.js';
import { orderActions, orderFacts, orderNetAmounts, type LineRow, type OrderRow } from './order-model.js';
import type { Prisma } from '../generated/prisma/client.js';
// --- coupons (issue 3) ---
import { annotateDiscounts, customerKeyOf, grossSubtotal, pricingCoupon, resolveCoupons, type CouponRow } from './coupons.js';

export interface LineItemInput {
  name: string;
  sku?: string | null;
  quantity: number;
  unitPriceMoney: { amount: number; currency: string };
  taxCategory?: string | null;
  metadata?: unknown;
}

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

export interface OrderRef extends Record<string, Json> {
  orderId: string;
}

/** Rows written by a mutation, so the response can be served without reading them back. */
export interface WrittenOrder {
  order: OrderRow;
  lineItems: LineRow[];
  /** Present when every entry of the order is known (a new order); otherwise read on demand. */
  activity: ActivityRow[] | null;
}

// ---------------------------------------------------------------------------------------------
// Validation

interface ValidLine {
  name: string;
  sku: string | null;
  quantity: number;
  unitPrice: bigint;
  taxCategory: string;
  metadata: unknown;
}

function validateLines(errors: UserError[], lines: LineItemInput[], path: Path, currency: string | null): ValidLine[] {
  const valid: ValidLine[] = [];
  lines.forEach((line, i) => {
    const at = [...path, i];
    const before = errors.length;
    checkString(errors, line.name, [...at, 'name'], 'name', 1, LIMITS.nameMax);
    if (line.sku !== null && line.sku !== undefined) checkString(errors, line.sku, [...at, 'sku'], 'sku', 1, LIMITS.skuMax);
    if (!Number.isInteger(line.quantity) || line.quantity < 1 || line.quantity > LIMITS.quantityMax) {
      errors.push(userError('INVALID_INPUT', `quantity must be a whole number from 1 to ${LIMITS.quantityMax} (got ${line.quantity}).`, [...at, 'quantity']));
    }
    const amount = line.unitPriceMoney.amount;
    if (!Number.isSafeInteger(amount) || amount < 0 || BigInt(amount) > LIMITS.unitPriceMax) {
      errors.push(
        userError(
          'INVALID_INPUT',
          `unitPriceMoney.amount must be a whole number of minor units from 0 to ${LIMITS.unitPriceMax} (got ${amount}); 1999 means 19.99 in USD.`,
          [...at, 'unitPriceMoney', 'amount'],
        ),
      );
    }
    const lineCurrency = line.unitPriceMoney.currency;
    if (checkCurrency(errors, lineCurrency, [...at, 'unitPriceMoney', 'currency']) && currency !== null && lineCurrency !== currency) {
      errors.push(
        userError(
          'CURRENCY_MISMATCH',
          `Every amount on an order is in the order's currency ${currency}; this line is in ${lineCurrency}. Create a separate order for ${lineCurrency}.`,
          [...at, 'unitPriceMoney', 'currency'],
        ),
      );
    }
    const taxCategory = line.taxCategory?.trim() || 'general';
    if (!/^[a-z0-9_-]{1,64}$/.test(taxCategory)) {
      errors.push(userError('INVALID_INPUT', 'taxCategory must be 1 to 64 of a-z, 0-9, "_" and "-", e.g. "general", "food", "clothing".', [...at, 'taxCategory']));
    }
    checkMetadata(errors, line.metadata, [...at, 'metadata']);
    if (errors.length === before) {
      valid.push({
        name: line.name.trim(),
        sku: line.sku?.trim() || null,
        quantity: line.quantity,
        unitPrice: BigInt(amount),
        taxCategory,
        metadata: line.metadata ?? null,
      });
    }
  });
  return valid;
}

function tooManyLines(count: number, path: Path): UserError {
  return userError('INVALID_INPUT', `An order holds at most ${LIMITS.lineItemsMax} line items (this would make ${count}). Split it into several orders.`, path);
}

// ---------------------------------------------------------------------------------------------
// Pricing

interface PricingContext {
  registrations: string[];
  rates: { jurisdiction: string; name: string; rate: string; taxCategory: string | null; inclusive: boolean }[];
  origin: Address | null;
  /** The order's attached coupons (coupons issue). */
  coupons: CouponRow[];
}

/**
 * The merchant's pricing settings in one statement: its pricingVersion, origin address, tax
 * registrations and tax rates (ordered by id, so the engine sees them in the same order every time).
 */
const PRICING_SETTINGS_SQL = `SELECT m."pricingVersion" AS "version", m."originAddress" AS "origin",
    COALESCE((SELECT json_agg(json_build_object('jurisdiction', r."jurisdiction") ORDER BY r."id") FROM "TaxRegistration" r WHERE r."merchantId" = m."id" AND r."livemode" = $2), '[]') AS "registrations",
    COALESCE((SELECT json_agg(json_build_object('jurisdiction', t."jurisdiction", 'name', t."name", 'rate', t."rate", 'taxCategory', t."taxCategory", 'inclusive', t."inclusive") ORDER BY t."id")
              FROM "TaxRate" t WHERE t."merchantId" = m."id" AND t."livemode" = $2), '[]') AS "rates"
  FROM "Merchant" m WHERE m."id" = $1`;

type PricingSettingsRow = { version: number; origin: unknown; registrations: { jurisdiction: string }[]; rates: RateRow[] };

function versionedContext(scope: Scope, row: PricingSettingsRow | undefined, coupons: CouponRow[]): VersionedContext {
  if (!row) throw new Error(`merchant ${scope.merchantId} not found`);
  return { version: Number(row.version), context: pricingContext(row.registrations, row.rates, row.origin, coupons) };
}

/** Inside a transaction: the pricing settings and (for an existing order) its attached coupons, in two statements. */
async function loadPricingContext(tx: Tx, scope: Scope, orderId: string | null): Promise<PricingContext> {
  const [settings, attached] = await Promise.all([
    tx.$queryRawUnsafe<PricingSettingsRow[]>(PRICING_SETTINGS_SQL, scope.merchantId, scope.livemode),
    orderId === null ? Promise.resolve([]) : tx.orderCoupon.findMany({ where: { orderId }, include: { coupon: true }, orderBy: { position: 'asc' } }),
  ]);
  return versionedContext(scope, settings[0], attached.map((a) => a.coupon)).context;
}

type RateRow = { jurisdiction: string; name: string; rate: string; taxCategory: string; inclusive: boolean };

function pricingContext(registrations: { jurisdiction: string }[], rates: RateRow[], origin: unknown, coupons: CouponRow[]): PricingContext {
  return {
    registrations: registrations.map((r) => r.jurisdiction),
    rates: rates.map((r) => ({ jurisdiction: r.jurisdiction, name: r.name, rate: r.rate, taxCategory: r.taxCategory || null, inclusive: r.inclusive })),
    origin: (origin as Address | null) ?? null,
    coupons,
  };
}

/** Tax settings and origin as of one pricingVersion of the merchant. */
interface VersionedContext {
  version: number;
  context: PricingContext;
}

/**
 * createOrder's copy of each merchant's pricing settings, per pool (database) and mode. It is only a
 * guess: the statement that writes the order checks that Merchant.pricingVersion is still the one the
 * order was priced with (src/domain/chain-writer.ts), and a changed version drops the copy and
 * prices again. So an order is always priced with the settings current when it is written.
 */
const pricingCache = new WeakMap<object, Map<string, VersionedContext>>();
const PRICING_CACHE_MAX = 10_000;

function pricingCacheOf(scope: Scope): { map: Map<string, VersionedContext>; key: string } {
  const pool = sqlPool(scope.deps.db);
  let map = pricingCache.get(pool);
  if (!map) pricingCache.set(pool, (map = new Map()));
  return { map, key: `${scope.merchantId}\u0000${scope.livemode}` };
}

/** createOrder's pricing settings: the process's copy, else read (one statement; a new order has no coupons). */
async function currentPricingContext(scope: Scope): Promise<VersionedContext> {
  const { map, key } = pricingCacheOf(scope);
  const cached = map.get(key);
  if (cached) return cached;
  const { rows } = await sqlPool(scope.deps.db).query<PricingSettingsRow>({
    name: 'flint_pricing_settings',
    text: PRICING_SETTINGS_SQL,
    values: [scope.merchantId, scope.livemode],
  });
  const loaded = versionedContext(scope, rows[0], []);
  if (map.size >= PRICING_CACHE_MAX) map.clear();
  map.set(key, loaded);
  return loaded;
}

function forgetPricingContext(scope: Scope): void {
  const { map, key } = pricingCacheOf(scope);
  map.delete(key);
}

/** pricing.md §5: the shipping address, else the merchant's origin address, else no tax. */
function jurisdictionOf(shipping: Address | null, origin: Address | null): TaxJurisdiction | null {
  const address = shipping ?? origin;
  return address ? { country: address.country, region: address.region } : null;
}

function price(order: Pick<OrderRow, 'currency' | 'shippingAddress'>, lines: LineRow[], context: PricingContext): PricedOrder {
  const priced = priceOrder({
    currency: order.currency,
    lines: lines.map((l) => ({ id: l.id, quantity: l.quantity, unitPrice: l.unitPriceAmount, taxCategory: l.taxCategory, sku: l.sku })),
    coupons: context.coupons.map(pricingCoupon),
    jurisdiction: jurisdictionOf(order.shippingAddress as Address | null, context.origin),
    registrations: context.registrations,
    rates: context.rates,
  });
  return annotateDiscounts(priced, context.coupons);
}

/** Copies the engine's result onto the rows (in memory). */
function applyPricing(order: OrderRow, lines: LineRow[], priced: PricedOrder): { order: OrderRow; lines: LineRow[] } {
  const byId = new Map(priced.lines.map((l) => [l.id, l]));
  const pricedLines = lines.map((line) => {
    const p = byId.get(line.id);
    if (!p) throw new Error(`pricing lost line ${line.id}`);
    return {
      ...line,
      grossAmount: p.gross,
      discountAmount: p.discount,
      taxAmount: p.tax,
      exclusiveTaxAmount: p.exclusiveTax,
      totalAmount: p.total,
      discounts: toJson(p.discounts) as Prisma.JsonValue,
      taxes: toJson(p.taxes) as Prisma.JsonValue,
    };
  });
  return {
    order: {
      ...order,
      subtotalAmount: priced.subtotal,
      discountAmount: priced.discount,
      taxAmount: priced.tax,
      exclusiveTaxAmount: priced.exclusiveTax,
      totalAmount: priced.total,
      taxes: toJson(priced.taxes) as Prisma.JsonValue,
      discounts: toJson(priced.discounts) as Prisma.JsonValue,
    },
    lines: pricedLines,
  };
}

/**
 * Amounts are exposed as SafeInt (pricing.md §1). Inputs are bounded per line, but a line or an order can
 * still add up past 2^53 - 1; such an order is refused before anything is written.
 */
function amountLimitError(priced: { order: OrderRow; lines: LineRow[] }, field: Path): UserError | null {
  const max = BigInt(Number.MAX_SAFE_INTEGER);
  const amounts = [
    priced.order.subtotalAmount,
    priced.order.taxAmount,
    priced.order.totalAmount,
    ...priced.lines.flatMap((l) => [l.grossAmount, l.taxAmount, l.totalAmount]),
  ];
  if (amounts.every((a) => a <= max)) return null;
  return userError(
    'INVALID_INPUT',
    `The order's amounts would exceed ${max} minor units, the largest amount Flint can represent exactly. Lower the quantities or prices, or split the order.`,
    field,
  );
}

// ---------------------------------------------------------------------------------------------
// Snapshots for activity deltas

export function amountsSnapshot(order: OrderRow, lines: LineRow[]) {
  const net = orderNetAmounts(order, lines);
  return {
    subtotal: net.subtotal,
    discount: net.discount,
    tax: net.tax,
    total: net.total,
    paid: net.paid,
    refunded: net.refunded,
    balance: net.balance,
    currency: order.currency,
  };
}

function lineSnapshot(l: LineRow) {
  return { id: l.id, name: l.name, sku: l.sku, quantity: l.quantity, unitPrice: l.unitPriceAmount, taxCategory: l.taxCategory, total: l.totalAmount };
}

// ---------------------------------------------------------------------------------------------
// Writing

function lineData(l: LineRow): Prisma.LineItemCreateManyInput {
  return {
    ...l,
    metadata: (l.metadata ?? undefined) as Prisma.InputJsonValue | undefined,
    discounts: l.discounts as Prisma.InputJsonValue,
    taxes: l.taxes as Prisma.InputJsonValue,
  };
}

/** Writes the quantity and re-priced amounts of every given line in one statement. */
async function updateLines(tx: Tx, lines: LineRow[]): Promise<void> {
  if (lines.length === 0) return;
  const values: unknown[] = [];
  const tuples = lines.map((l, i) => {
    const b = i * 9;
    values.push(
      l.id,
      l.quantity,
      l.grossAmount,
      l.discountAmount,
      l.taxAmount,
      l.exclusiveTaxAmount,
      l.totalAmount,
      JSON.stringify(l.discounts),
      JSON.stringify(l.taxes),
    );
    return `($${b + 1}, $${b + 2}::integer, $${b + 3}::bigint, $${b + 4}::bigint, $${b + 5}::bigint, $${b + 6}::bigint, $${b + 7}::bigint, $${b + 8}::jsonb, $${b + 9}::jsonb)`;
  });
  await tx.$executeRawUnsafe(
    `UPDATE "LineItem" AS l SET "quantity" = v.q, "grossAmount" = v.g, "discountAmount" = v.d, "taxAmount" = v.t,
       "exclusiveTaxAmount" = v.x, "totalAmount" = v.tot, "discounts" = v.ds, "taxes" = v.ts
     FROM (VALUES ${tuples.join(', ')}) AS v(id, q, g, d, t, x, tot, ds, ts) WHERE l.id = v.id`,
    ...values,
  );
}

async function updateOrderRow(tx: Tx, order: OrderRow): Promise<void> {
  await tx.order.update({
    where: { id: order.id },
    data: {
      status: order.status,
      version: order.version,
      updatedAt: order.updatedAt,
      shippingAddress: (order.shippingAddress ?? undefined) as Prisma.InputJsonValue | undefined,
      cancelReason: order.cancelReason,
      subtotalAmount: order.subtotalAmount,
      discountAmount: order.discountAmount,
      taxAmount: order.taxAmount,
      exclusiveTaxAmount: order.exclusiveTaxAmount,
      totalAmount: order.totalAmount,
      taxes: order.taxes as Prisma.InputJsonValue,
      discounts: order.discounts as Prisma.InputJsonValue,
    },
  });
}

// ---------------------------------------------------------------------------------------------
// Use cases

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
  const couponCodes = input.couponCodes ?? [];
  if (errors.length > 0 || currency === null) return fail(...errors);

  const fields: NewOrderFields = { currency, lines, shipping, input };
  if (couponCodes.length === 0) return createInOneStatement(scope, fields);

  // With coupons: an interactive transaction, because redeeming locks and checks the coupon rows.
  let written: WrittenOrder | null = null;
  const { outcome } = await runMutation<OrderRef>({
    scope,
    operation: 'createOrder',
    input: input as unknown as Record<string, unknown>,
    run: async ({ tx, at, idempotencyKey }) => {
      const context = await loadPricingContext(tx, scope, null);
      const { draft, draftLines } = draftOrder(scope, fields, at);
      // --- coupons (issue 3): couponCodes get the checks of applyCoupon, errors at ["input", "couponCodes", i].
      const resolved = await resolveCoupons(
        tx,
        scope,
        couponCodes,
        { currency, grossSubtotal: grossSubtotal(draftLines), customerKey: customerKeyOf(draft), attached: [], at },
        (i) => ['input', 'couponCodes', i],
      );
      if (!resolved.ok) return resolved;
      context.coupons = resolved.value;
      // --- end coupons
      const built = priceNewOrder(draft, draftLines, context, shipping);
      if (!built.ok) return built;
      const { priced, entry } = built.value;
      await tx.order.create({
        data: {
          ...priced.order,
          shippingAddress: (shipping ?? undefined) as Prisma.InputJsonValue | undefined,
          metadata: (input.metadata ?? undefined) as Prisma.InputJsonValue | undefined,
          taxes: priced.order.taxes as Prisma.InputJsonValue,
          discounts: priced.order.discounts as Prisma.InputJsonValue,
        },
      });
      if (priced.lines.length > 0) await tx.lineItem.createMany({ data: priced.lines.map(lineData) });
      await tx.orderCoupon.createMany({
        data: context.coupons.map((c, position) => ({ orderId: draft.id, couponId: c.id, merchantId: scope.merchantId, livemode: scope.livemode, position, appliedAt: at })),
      });
      const activity = await appendActivity(tx, scope, at, idempotencyKey, [entry]);
      written = { order: priced.order, lineItems: priced.lines, activity };
      return ok({ orderId: draft.id });
    },
  });
  return finish(scope, outcome, written);
}

/**
 * createOrder without coupons, the common case: priced from the merchant's pricing settings (a copy
 * kept per process and checked at write time), then written in one statement that claims the key,
 * appends the activity and inserts the order and its lines (runSingleStatement). The response is
 * served from these rows; nothing is read back.
 */
async function createInOneStatement(scope: Scope, fields: NewOrderFields): Promise<Outcome<WrittenOrder>> {
  let planned: { order: OrderRow; lineItems: LineRow[] } | null = null;
  const { outcome, replayed, activity } = await runSingleStatement<OrderRef>({
    scope,
    operation: 'createOrder',
    input: fields.input as unknown as Record<string, unknown>,
    tables: ['Order', 'LineItem'],
    plan: async (at, idempotencyKey) => {
      const { version, context } = await currentPricingContext(scope);
      const { draft, draftLines } = draftOrder(scope, fields, at);
      // coupons stay empty here: the engine gets a fresh list, the cached context is never changed.
      const built = priceNewOrder(draft, draftLines, context, fields.shipping);
      if (!built.ok) return built;
      const { priced, entry } = built.value;
      planned = { order: priced.order, lineItems: priced.lines };
      return ok({
        result: { orderId: draft.id },
        activity: activityRows(scope, scope.actor, at, idempotencyKey, [entry]),
        rows: { Order: [priced.order], LineItem: priced.lines },
        pricingVersion: version,
      });
    },
    onStalePricing: () => forgetPricingContext(scope),
  });
  const written: WrittenOrder | null = planned && !replayed && activity ? { ...(planned as { order: OrderRow; lineItems: LineRow[] }), activity } : null;
  return finish(scope, outcome, written);
}

interface NewOrderFields {
  currency: string;
  lines: ValidLine[];
  shipping: Address | null;
  input: CreateOrderInput;
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

function newLineRow(scope: Scope, orderId: string, position: number, l: ValidLine, at: Date): LineRow {
  return {
    id: newId('LineItem'),
    orderId,
    merchantId: scope.merchantId,
    position,
    name: l.name,
    sku: l.sku,
    quantity: l.quantity,
    unitPriceAmount: l.unitPrice,
    taxCategory: l.taxCategory,
    metadata: (l.metadata ?? null) as Prisma.JsonValue,
    grossAmount: 0n,
    discountAmount: 0n,
    taxAmount: 0n,
    exclusiveTaxAmount: 0n,
    totalAmount: 0n,
    discounts: [],
    taxes: [],
    refundedQuantity: 0,
    pendingRefundQuantity: 0,
    reservedRefundAmount: 0n,
    createdAt: at,
  };
}

/** A replayed request returns the stored reference; the order is then read fresh by the caller. */
async function finish(scope: Scope, outcome: Outcome<OrderRef>, written: WrittenOrder | null): Promise<Outcome<WrittenOrder>> {
  if (!outcome.ok) return outcome;
  if (written) return ok(written);
  const loaded = await loadOrder(scope, outcome.value.orderId);
  if (!loaded) throw new Error(`order ${outcome.value.orderId} of a stored idempotent result is missing`);
  return ok(loaded);
}

export async function loadOrder(scope: Scope, orderId: string): Promise<WrittenOrder | null> {
  const order = await scope.deps.db.order.findFirst({
    where: { id: orderId, merchantId: scope.merchantId, livemode: scope.livemode },
    include: { lineItems: { orderBy: { position: 'asc' } }, activity: { orderBy: { sequence: 'asc' } } },
  });
  if (!order) return null;
  const { lineItems, activity, ...row } = order;
  return { order: row, lineItems, activity: activity as ActivityRow[] };
}

export interface EditContext {
  tx: Tx;
  at: Date;
  idempotencyKey: string | null;
  order: OrderRow;
  lines: LineRow[];
}

export interface EditResult {
  order: OrderRow;
  lines: LineRow[];
  added?: LineRow[];
  removedIds?: string[];
  reprice: boolean;
  /** Where to point an amount-out-of-range error. */
  amountField?: Path;
  /** Quantities changed (written even without re-pricing). */
  linesChanged?: boolean;
  activity: (before: { order: OrderRow; lines: LineRow[] }, after: { order: OrderRow; lines: LineRow[] }) => ActivityEntry[];
}


/**
 * The shared shape of every change to an existing order: lock it (tenancy-checked), check the version
 * and the lifecycle guard, apply the change, re-price, write, record activity, bump the version.
 */
export async function editOrder(
  scope: Scope,
  operation: string,
  input: { orderId: string; expectedVersion?: number | null; idempotencyKey?: string | null } & Record<string, unknown>,
  action: OrderActionType,
  change: (ctx: EditContext) => Promise<Outcome<EditResult>>,
): Promise<Outcome<WrittenOrder>> {
  let written: WrittenOrder | null = null;
  const { outcome } = await runMutation<OrderRef>({
    scope,
    operation,
    input,
    run: async ({ tx, at, idempotencyKey }) => {
      const locked = await tx.$queryRaw<{ id: string }[]>`
        SELECT id FROM "Order" WHERE id = ${input.orderId} AND "merchantId" = ${scope.merchantId} AND livemode = ${scope.livemode} FOR UPDATE`;
      if (locked.length === 0) return fail(notFound('order', input.orderId, ['input', 'orderId']));
      const loaded = await tx.order.findUniqueOrThrow({ where: { id: input.orderId }, include: { lineItems: { orderBy: { position: 'asc' } } } });
      const { lineItems: lines, ...order } = loaded;
      if (input.expectedVersion !== null && input.expectedVersion !== undefined && input.expectedVersion !== order.version) {
        return fail(
          userError(
            'VERSION_CONFLICT',
            `The order is at version ${order.version}, not ${input.expectedVersion}: it changed since you read it. Read the order again, check the change still makes sense, and retry with expectedVersion ${order.version}.`,
            ['input', 'expectedVersion'],
          ),
        );
      }
      const facts = orderFacts(order, lines);
      const guard = orderActions(order, lines).find((g) => g.action === action);
      if (!guard?.allowed) {
        if (EDIT_ACTIONS.includes(action) && order.status !== 'OPEN') {
          return fail(
            userError(
              'ORDER_NOT_EDITABLE',
              `The order is ${order.status}: line items, coupons and the shipping address change only while it is OPEN. ${invalidTransitionMessage(facts, action)}`,
              ['input', 'orderId'],
            ),
          );
        }
        if (EDIT_ACTIONS.includes(action)) {
          return fail(userError('INVALID_INPUT', guard?.reason ?? invalidTransitionMessage(facts, action), ['input']));
        }
        return fail(userError('INVALID_STATE_TRANSITION', invalidTransitionMessage(facts, action), ['input', 'orderId']));
      }
      const result = await change({ tx, at, idempotencyKey, order, lines });
      if (!result.ok) return result;
      let next = { order: { ...result.value.order, version: order.version + 1, updatedAt: at }, lines: result.value.lines };
      if (result.value.reprice) {
        const context = await loadPricingContext(tx, scope, order.id);
        const engine = price(next.order, next.lines, context);
        const overflow = amountOverflowError(engine, result.value.amountField ?? ['input']);
        if (overflow) return fail(overflow);
        next = applyPricing(next.order, next.lines, engine);
        const tooLarge = amountLimitError(next, result.value.amountField ?? ['input']);
        if (tooLarge) return fail(tooLarge);
      }
      if (result.value.removedIds && result.value.removedIds.length > 0) {
        await tx.lineItem.deleteMany({ where: { id: { in: result.value.removedIds }, orderId: order.id } });
      }
      const addedIds = new Set((result.value.added ?? []).map((l) => l.id));
      const added = next.lines.filter((l) => addedIds.has(l.id));
      if (added.length > 0) await tx.lineItem.createMany({ data: added.map(lineData) });
      const changed = next.lines.filter((l) => !addedIds.has(l.id));
      if (result.value.reprice || result.value.linesChanged) await updateLines(tx, changed);
      await updateOrderRow(tx, next.order);
      await appendActivity(tx, scope, at, idempotencyKey, result.value.activity({ order, lines }, next));
      written = { order: next.order, lineItems: next.lines, activity: null };
      return ok({ orderId: order.id });
    },
  });
  return finish(scope, outcome, written);
}

export interface AddLineItemsInput {
  orderId: string;
  lineItems: LineItemInput[];
  expectedVersion?: number | null;
  idempotencyKey?: string | null;
}

export async function addLineItems(scope: Scope, input: AddLineItemsInput): Promise<Outcome<WrittenOrder>> {
  if (input.lineItems.length === 0) {
    return fail(userError('INVALID_INPUT', 'Give at least one line item to add.', ['input', 'lineItems']));
  }
  return editOrder(scope, 'addLineItems', { ...input }, 'ADD_LINE_ITEMS', async ({ at, order, lines }) => {
    const errors: UserError[] = [];
    const valid = validateLines(errors, input.lineItems, ['input', 'lineItems'], order.currency);
    if (lines.length + input.lineItems.length > LIMITS.lineItemsMax) errors.push(tooManyLines(lines.length + input.lineItems.length, ['input', 'lineItems']));
    if (errors.length > 0) return fail(...errors);
    const start = lines.reduce((max, l) => Math.max(max, l.position + 1), 0);
    const added = valid.map((l, i) => newLineRow(scope, order.id, start + i, l, at));
    return ok({
      order,
      lines: [...lines, ...added],
      added,
      reprice: true,
      amountField: ['input', 'lineItems'],
      activity: (before, after) => [
        Activities.lineItemsAdded(
          order.id,
          { netAmounts: amountsSnapshot(before.order, before.lines) },
          {
            lineItems: after.lines.filter((l) => added.some((a) => a.id === l.id)).map(lineSnapshot),
            netAmounts: amountsSnapshot(after.order, after.lines),
          },
        ),
      ],
    });
  });
}

function findLine(lines: LineRow[], lineItemId: string): LineRow | UserError {
  const line = lines.find((l) => l.id === lineItemId);
  return (
    line ??
    userError('NOT_FOUND', `The order has no line item "${lineItemId}". Order.lineItems lists its line items and their ids.`, ['input', 'lineItemId'])
  );
}

export interface UpdateLineItemInput {
  orderId: string;
  lineItemId: string;
  quantity: number;
  expectedVersion?: number | null;
  idempotencyKey?: string | null;
}

export async function updateLineItem(scope: Scope, input: UpdateLineItemInput): Promise<Outcome<WrittenOrder>> {
  if (!Number.isInteger(input.quantity) || input.quantity < 1 || input.quantity > LIMITS.quantityMax) {
    return fail(
      userError(
        'INVALID_INPUT',
        `quantity must be a whole number from 1 to ${LIMITS.quantityMax} (got ${input.quantity}); to drop the line use removeLineItem.`,
        ['input', 'quantity'],
      ),
    );
  }
  return editOrder(scope, 'updateLineItem', { ...input }, 'UPDATE_LINE_ITEM', async ({ order, lines }) => {
    const line = findLine(lines, input.lineItemId);
    if ('code' in line) return fail(line);
    return ok({
      order,
      lines: lines.map((l) => (l.id === line.id ? { ...l, quantity: input.quantity } : l)),
      reprice: true,
      amountField: ['input', 'quantity'],
      linesChanged: true,
      activity: (before, after) => [
        Activities.lineItemUpdated(
          order.id,
          { lineItem: lineSnapshot(line), netAmounts: amountsSnapshot(before.order, before.lines) },
          { lineItem: lineSnapshot(after.lines.find((l) => l.id === line.id)!), netAmounts: amountsSnapshot(after.order, after.lines) },
        ),
      ],
    });
  });
}

export interface RemoveLineItemInput {
  orderId: string;
  lineItemId: string;
  expectedVersion?: number | null;
  idempotencyKey?: string | null;
}

export async function removeLineItem(scope: Scope, input: RemoveLineItemInput): Promise<Outcome<WrittenOrder>> {
  return editOrder(scope, 'removeLineItem', { ...input }, 'REMOVE_LINE_ITEM', async ({ order, lines }) => {
    const line = findLine(lines, input.lineItemId);
    if ('code' in line) return fail(line);
    return ok({
      order,
      lines: lines.filter((l) => l.id !== line.id),
      removedIds: [line.id],
      reprice: true,
      activity: (before, after) => [
        Activities.lineItemRemoved(
          order.id,
          { lineItem: lineSnapshot(line), netAmounts: amountsSnapshot(before.order, before.lines) },
          { lineItem: null, netAmounts: amountsSnapshot(after.order, after.lines) },
        ),
      ],
    });
  });
}

export interface SetShippingAddressInput {
  orderId: string;
  shippingAddress: AddressInput;
  expectedVersion?: number | null;
  idempotencyKey?: string | null;
}

export async function setShippingAddress(scope: Scope, input: SetShippingAddressInput): Promise<Outcome<WrittenOrder>> {
  const errors: UserError[] = [];
  const address = normalizeAddress(errors, input.shippingAddress, ['input', 'shippingAddress']);
  if (!address) return fail(...errors);
  return editOrder(scope, 'setShippingAddress', { ...input }, 'SET_SHIPPING_ADDRESS', async ({ order, lines }) =>
    ok({
      order: { ...order, shippingAddress: address as unknown as Prisma.JsonValue },
      lines,
      reprice: true,
      activity: (before, after) => [
        Activities.shippingAddressSet(
          order.id,
          { shippingAddress: before.order.shippingAddress, netAmounts: amountsSnapshot(before.order, before.lines) },
          { shippingAddress: address, netAmounts: amountsSnapshot(after.order, after.lines) },
        ),
      ],
    }),
  );
}

export interface CancelOrderInput {
  orderId: string;
  reason?: string | null;
  idempotencyKey?: string | null;
}

export async function cancelOrder(scope: Scope, input: CancelOrderInput): Promise<Outcome<WrittenOrder>> {
  const errors: UserError[] = [];
  checkString(errors, input.reason, ['input', 'reason'], 'reason', 1, 500);
  if (errors.length > 0) return fail(...errors);
  return editOrder(scope, 'cancelOrder', { ...input }, 'CANCEL', async ({ tx, order, lines }) => {
    // A charge in flight (PROCESSING, or waiting for 3-D Secure) may still capture money: settle it first.
    const inFlight = await tx.paymentIntent.count({ where: { orderId: order.id, status: { in: ['PROCESSING', 'REQUIRES_ACTION'] } } });
    if (inFlight > 0) {
      return fail(
        userError(
          'INVALID_STATE_TRANSITION',
          'A payment of this order is still in progress (PROCESSING or REQUIRES_ACTION). Wait for it to finish (read Order.paymentIntents), then cancel if nothing was captured.',
          ['input', 'orderId'],
        ),
      );
    }
    return ok({
      order: { ...order, status: 'CANCELED' as const, cancelReason: input.reason?.trim() || null },
      lines,
      reprice: false,
      activity: (before, after) => [
        Activities.orderCanceled(order.id, { status: before.order.status }, { status: after.order.status, reason: after.order.cancelReason }),
        Activities.orderStatusChanged(order.id, before.order.status, after.order.status),
      ],
    });
  });
}
