// Changes to an existing order: line items, shipping address, cancel (and, through editOrder, coupons
// and close). Each is planned on the order as read (tenancy, expectedVersion, the lifecycle guard,
// re-pricing) and written in one guarded write: if the order moved on meanwhile, it is planned again
// on what is current.
import type { Scope } from '../kernel/context.js';
import { Activities, type ActivityEntry } from '../audit/activity.js';
import { type Outcome, type UserError, fail, notFound, ok, userError } from '../kernel/errors.js';
import { LIMITS, checkString, normalizeAddress, type AddressInput, type Path } from '../kernel/validation.js';
import { EDIT_ACTIONS, invalidTransitionMessage, type OrderActionType } from '../pricing/index.js';
import { orderActions, orderFacts, type LineRow, type OrderRow } from './order-model.js';
import type { CouponRow } from '../coupons/rules.js';
import { runWrite } from '../kernel/write-path.js';
import type { Guard, Op } from '../kernel/writer.js';
import { readRows } from '../kernel/rows.js';
import { amountOverflowError } from '../kernel/input-guard.js';
import { orderStatusAfter } from '../kernel/transitions.js';
import { sqlPool } from '../db/prisma.js';
import type { Prisma } from '../generated/prisma/client.js';
import { amountLimitError, applyPricing, currentPricingContext, forgetPricingContext, price } from './pricing-context.js';
import { newLineRow, tooManyLines, validateLines, type LineItemInput } from './lines.js';
import {
  amountsSnapshot,
  finishOrder,
  lineSnapshot,
  linePriceUpdate,
  loadOrderState,
  orderGuard,
  orderUpdate,
  type OrderRef,
  type OrderState,
  type WrittenOrder,
} from './order-state.js';

export interface EditContext {
  at: Date;
  idempotencyKey: string | null;
  order: OrderRow;
  lines: LineRow[];
  /** The attached coupons, in the order they were applied. */
  coupons: OrderState['coupons'];
}

export interface EditResult {
  order: OrderRow;
  lines: LineRow[];
  added?: LineRow[];
  removedIds?: string[];
  reprice: boolean;
  /** The coupons that price the order after the change (default: the attached ones). */
  coupons?: readonly CouponRow[];
  /** Where to point an amount-out-of-range error. */
  amountField?: Path;
  /** Quantities changed (written even without re-pricing). */
  linesChanged?: boolean;
  /** More to check and write with the change (coupon attachments, guards on other rows). */
  guards?: Guard[];
  ops?: Op[];
  /** Coupon redemptions to give back with the change. */
  couponReleases?: string[];
  activity: (before: { order: OrderRow; lines: LineRow[] }, after: { order: OrderRow; lines: LineRow[] }) => ActivityEntry[];
}

function versionConflict(order: OrderRow, expected: number): UserError {
  return userError(
    'VERSION_CONFLICT',
    `The order is at version ${order.version}, not ${expected}: it changed since you read it. Read the order again, check the change still makes sense, and retry with expectedVersion ${order.version}.`,
    ['input', 'expectedVersion'],
  );
}

/** The lifecycle's answer when `action` is not allowed on the order now. */
function refusal(order: OrderRow, lines: LineRow[], action: OrderActionType): UserError | null {
  const guard = orderActions(order, lines).find((g) => g.action === action);
  if (guard?.allowed) return null;
  const facts = orderFacts(order, lines);
  if (EDIT_ACTIONS.includes(action) && order.status !== 'OPEN') {
    return userError(
      'ORDER_NOT_EDITABLE',
      `The order is ${order.status}: line items, coupons and the shipping address change only while it is OPEN. ${invalidTransitionMessage(facts, action)}`,
      ['input', 'orderId'],
    );
  }
  if (EDIT_ACTIONS.includes(action)) return userError('INVALID_INPUT', guard?.reason ?? invalidTransitionMessage(facts, action), ['input']);
  return userError('INVALID_STATE_TRANSITION', invalidTransitionMessage(facts, action), ['input', 'orderId']);
}

/**
 * The shared shape of every change to an existing order: read it (tenancy-checked), check the version
 * and the lifecycle guard, apply the change, re-price, then write it guarded by the version read.
 */
export async function editOrder(
  scope: Scope,
  operation: string,
  input: { orderId: string; expectedVersion?: number | null; idempotencyKey?: string | null } & Record<string, unknown>,
  action: OrderActionType,
  change: (ctx: EditContext) => Promise<Outcome<EditResult>>,
): Promise<Outcome<WrittenOrder>> {
  let written: WrittenOrder | null = null;
  const { outcome, replayed } = await runWrite<OrderRef>({
    scope,
    operation,
    input,
    plan: async (at, idempotencyKey) => {
      written = null;
      const state = await loadOrderState(scope, input.orderId);
      if (!state) return fail(notFound('order', String(input.orderId), ['input', 'orderId']));
      const { order, lines } = state;
      if (input.expectedVersion !== null && input.expectedVersion !== undefined && input.expectedVersion !== order.version) {
        return fail(versionConflict(order, input.expectedVersion));
      }
      const refused = refusal(order, lines, action);
      if (refused) return fail(refused);
      const result = await change({ at, idempotencyKey, order, lines, coupons: state.coupons });
      if (!result.ok) return result;
      const r = result.value;
      let next = { order: { ...r.order, version: order.version + 1, updatedAt: at }, lines: r.lines };
      let pricingVersion: number | null = null;
      if (r.reprice) {
        const { version, context } = await currentPricingContext(scope);
        pricingVersion = version;
        const coupons = r.coupons ?? state.coupons.map((c) => c.coupon);
        const engine = price(next.order, next.lines, { ...context, coupons });
        const overflow = amountOverflowError(engine, r.amountField ?? ['input']);
        if (overflow) return fail(overflow);
        next = applyPricing(next.order, next.lines, engine);
        const tooLarge = amountLimitError(next, r.amountField ?? ['input']);
        if (tooLarge) return fail(tooLarge);
      }
      const addedIds = new Set((r.added ?? []).map((l) => l.id));
      const ops: Op[] = [orderUpdate(next.order)];
      if (r.removedIds && r.removedIds.length > 0) ops.push({ kind: 'delete', table: 'LineItem', rows: r.removedIds.map((id) => ({ id })) });
      const added = next.lines.filter((l) => addedIds.has(l.id));
      if (added.length > 0) ops.push({ kind: 'insert', table: 'LineItem', rows: added });
      if (r.reprice || r.linesChanged) ops.push(linePriceUpdate(next.lines.filter((l) => !addedIds.has(l.id))));
      ops.push(...(r.ops ?? []));
      written = { order: next.order, lineItems: next.lines, activity: null };
      return ok({
        result: { orderId: order.id },
        write: {
          guards: [orderGuard(order), ...(r.guards ?? [])],
          pricingVersion,
          ops,
          couponReleases: r.couponReleases,
          entries: r.activity({ order, lines }, next),
        },
      });
    },
    onRefused: (reason) => {
      if (reason === 'pricing') forgetPricingContext(scope);
    },
  });
  return finishOrder(scope, outcome, replayed ? null : written);
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

const OPEN_INTENTS_SQL = `SELECT "id" FROM "PaymentIntent" WHERE "orderId" = $1 AND "status" IN ('PROCESSING', 'REQUIRES_ACTION')`;

export interface CancelOrderInput {
  orderId: string;
  reason?: string | null;
  idempotencyKey?: string | null;
}

export async function cancelOrder(scope: Scope, input: CancelOrderInput): Promise<Outcome<WrittenOrder>> {
  const errors: UserError[] = [];
  checkString(errors, input.reason, ['input', 'reason'], 'reason', 1, 500);
  if (errors.length > 0) return fail(...errors);
  return editOrder(scope, 'cancelOrder', { ...input }, 'CANCEL', async ({ order, lines }) => {
    // A charge in flight (PROCESSING, or waiting for 3-D Secure) may still capture money: settle it first.
    // (Starting a payment changes the order's version, so one starting after this read refuses this write.)
    const inFlight = await readRows<{ id: string }>(sqlPool(scope.deps.db), 'flint_open_intents', OPEN_INTENTS_SQL, [order.id]);
    if (inFlight.length > 0) {
      return fail(
        userError(
          'INVALID_STATE_TRANSITION',
          'A payment of this order is still in progress (PROCESSING or REQUIRES_ACTION). Wait for it to finish (read Order.paymentIntents), then cancel if nothing was captured.',
          ['input', 'orderId'],
        ),
      );
    }
    return ok({
      order: { ...order, status: orderStatusAfter(order.status, 'CANCEL', 'CANCELED'), cancelReason: input.reason?.trim() || null },
      lines,
      reprice: false,
      activity: (before, after) => [
        Activities.orderCanceled(order.id, { status: before.order.status }, { status: after.order.status, reason: after.order.cancelReason }),
        Activities.orderStatusChanged(order.id, before.order.status, after.order.status),
      ],
    });
  });
}
