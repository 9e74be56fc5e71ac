/**
 * Order lifecycle (pricing.md §8) as data: TRANSITIONS is the table, guards add the conditions that
 * depend on amounts, and availableActions / evaluateActions / invalidTransitionMessage are derived.
 */

export type OrderStatus = 'OPEN' | 'PAID' | 'PARTIALLY_REFUNDED' | 'REFUNDED' | 'CLOSED' | 'CANCELED';

export type OrderActionType =
  | 'ADD_LINE_ITEMS'
  | 'UPDATE_LINE_ITEM'
  | 'REMOVE_LINE_ITEM'
  | 'SET_SHIPPING_ADDRESS'
  | 'APPLY_COUPON'
  | 'REMOVE_COUPON'
  | 'PAY'
  | 'CREATE_CHECKOUT_SESSION'
  | 'CANCEL'
  | 'REFUND'
  | 'CLOSE';

export const ORDER_STATUSES: readonly OrderStatus[] = [
  'OPEN',
  'PAID',
  'PARTIALLY_REFUNDED',
  'REFUNDED',
  'CLOSED',
  'CANCELED',
];

/** The mutation of the public contract that performs each action, and what an agent needs to call it. */
export const ACTIONS: Record<OrderActionType, { mutation: string; description: string }> = {
  ADD_LINE_ITEMS: {
    mutation: 'addLineItems',
    description:
      'Add line items: addLineItems(input: {orderId, lineItems: [{name, quantity, unitPriceMoney: {amount, currency}, sku?, taxCategory?}]}). Amounts are integer minor units in the order currency.',
  },
  UPDATE_LINE_ITEM: {
    mutation: 'updateLineItem',
    description: "Change a line item's quantity: updateLineItem(input: {orderId, lineItemId, quantity}); quantity is a positive integer.",
  },
  REMOVE_LINE_ITEM: {
    mutation: 'removeLineItem',
    description: 'Remove a line item: removeLineItem(input: {orderId, lineItemId}).',
  },
  SET_SHIPPING_ADDRESS: {
    mutation: 'setShippingAddress',
    description:
      'Set where the order ships (its tax follows the address): setShippingAddress(input: {orderId, shippingAddress: {country, region?, postalCode?, city?, line1?}}).',
  },
  APPLY_COUPON: {
    mutation: 'applyCoupon',
    description: 'Apply a coupon by its code: applyCoupon(input: {orderId, code}). Non-stackable coupons cannot be combined with others.',
  },
  REMOVE_COUPON: {
    mutation: 'removeCoupon',
    description: 'Remove an applied coupon: removeCoupon(input: {orderId, code}).',
  },
  PAY: {
    mutation: 'payOrder',
    description:
      'Pay the balance: payOrder(input: {orderId, paymentSourceTokens: ["tok_visa"]}). The order becomes PAID when payments cover the total (an order totalling 0 is marked PAID directly).',
  },
  CREATE_CHECKOUT_SESSION: {
    mutation: 'createCheckoutSession',
    description:
      'Create a hosted checkout page for the buyer to pay: createCheckoutSession(input: {orderId, successUrl?, cancelUrl?}); send the buyer to the returned url.',
  },
  CANCEL: {
    mutation: 'cancelOrder',
    description: 'Cancel the order (only while OPEN and nothing has been paid): cancelOrder(input: {orderId, reason?}). CANCELED is final.',
  },
  REFUND: {
    mutation: 'createRefund',
    description:
      'Refund a payment, by amount or by whole units of line items: createRefund(input: {paymentIntentId, reason, amountMoney} or {paymentIntentId, reason, lineItems: [{lineItemId, quantity}]}). See refundable on the order for what is left.',
  },
  CLOSE: {
    mutation: 'closeOrder',
    description: 'Close the order, ending further refunds: closeOrder(input: {orderId}). CLOSED is final.',
  },
};

export const ACTION_TYPES = Object.keys(ACTIONS) as OrderActionType[];

/**
 * The §8 table. `to` lists every status the action can lead to. Edit actions and creating a checkout
 * session keep the order OPEN. (createOrder → OPEN is the entry point and has no action here.)
 */
export const TRANSITIONS: readonly { from: OrderStatus[]; action: OrderActionType; to: OrderStatus[] }[] = [
  { from: ['OPEN'], action: 'ADD_LINE_ITEMS', to: ['OPEN'] },
  { from: ['OPEN'], action: 'UPDATE_LINE_ITEM', to: ['OPEN'] },
  { from: ['OPEN'], action: 'REMOVE_LINE_ITEM', to: ['OPEN'] },
  { from: ['OPEN'], action: 'SET_SHIPPING_ADDRESS', to: ['OPEN'] },
  { from: ['OPEN'], action: 'APPLY_COUPON', to: ['OPEN'] },
  { from: ['OPEN'], action: 'REMOVE_COUPON', to: ['OPEN'] },
  { from: ['OPEN'], action: 'CREATE_CHECKOUT_SESSION', to: ['OPEN'] },
  { from: ['OPEN'], action: 'PAY', to: ['PAID'] },
  { from: ['OPEN'], action: 'CANCEL', to: ['CANCELED'] },
  { from: ['PAID', 'PARTIALLY_REFUNDED'], action: 'REFUND', to: ['PARTIALLY_REFUNDED', 'REFUNDED'] },
  { from: ['PAID', 'PARTIALLY_REFUNDED', 'REFUNDED'], action: 'CLOSE', to: ['CLOSED'] },
];

export const TERMINAL: OrderStatus[] = ['CLOSED', 'CANCELED'];

/** Changes to the order itself, allowed only while OPEN (ORDER_NOT_EDITABLE otherwise). */
export const EDIT_ACTIONS: readonly OrderActionType[] = [
  'ADD_LINE_ITEMS',
  'UPDATE_LINE_ITEM',
  'REMOVE_LINE_ITEM',
  'SET_SHIPPING_ADDRESS',
  'APPLY_COUPON',
  'REMOVE_COUPON',
];

export interface OrderFacts {
  status: OrderStatus;
  lineItemCount: number;
  /** total − (paid − refunded). */
  balance: bigint;
  hasSucceededPayment: boolean;
  /** What can still be refunded (captured − refunded, counting pending refunds). */
  refundable: bigint;
  hasAppliedCoupons: boolean;
}

export interface Guarded {
  action: OrderActionType;
  allowed: boolean;
  reason: string | null;
}

/** Statuses the table allows `action` from. */
export function transitionsFrom(status: OrderStatus): OrderActionType[] {
  return TRANSITIONS.filter((t) => t.from.includes(status)).map((t) => t.action);
}

/**
 * Guards beyond the status: a reason why the action is not possible right now, or null.
 *
 * PAY: while OPEN, balance == 0 can only mean the total is 0 (payments covering the total move the
 * order to PAID, and refunds need PAID), so "balance > 0 or total is 0" is "balance >= 0" here. An
 * order without line items cannot be paid either (nothing to pay).
 */
function guard(action: OrderActionType, f: OrderFacts): string | null {
  switch (action) {
    case 'UPDATE_LINE_ITEM':
    case 'REMOVE_LINE_ITEM':
      return f.lineItemCount >= 1 ? null : 'The order has no line items; add some with addLineItems.';
    case 'REMOVE_COUPON':
      return f.hasAppliedCoupons ? null : 'No coupon is applied to the order.';
    case 'PAY':
      if (f.lineItemCount < 1) return 'Nothing to pay: the order has no line items; add some with addLineItems.';
      if (f.balance < 0n) return 'Nothing to pay: payments already exceed the total.';
      return null;
    case 'CREATE_CHECKOUT_SESSION':
      if (f.lineItemCount < 1) return 'Nothing to pay: the order has no line items; add some with addLineItems.';
      if (f.balance <= 0n) return 'Nothing to pay by card: the balance is 0; call payOrder to complete the order.';
      return null;
    case 'CANCEL':
      return f.hasSucceededPayment
        ? 'A payment has already succeeded on this order; it can no longer be canceled.'
        : null;
    case 'REFUND':
      return f.refundable > 0n ? null : 'Nothing is left to refund.';
    case 'ADD_LINE_ITEMS':
    case 'SET_SHIPPING_ADDRESS':
    case 'APPLY_COUPON':
    case 'CLOSE':
      return null;
  }
}

function statusReason(action: OrderActionType, status: OrderStatus): string {
  const from = TRANSITIONS.filter((t) => t.action === action).flatMap((t) => t.from);
  if (TERMINAL.includes(status)) return `The order is ${status}, which is final.`;
  if (EDIT_ACTIONS.includes(action)) {
    return `The order is ${status}; line items, coupons and the shipping address change only while it is OPEN.`;
  }
  return `The order is ${status}; ${action} is possible only when it is ${from.join(' or ')}.`;
}

/** Every action with whether it is allowed now and, if not, why. Never throws. */
export function evaluateActions(f: OrderFacts): Guarded[] {
  const fromStatus = new Set(transitionsFrom(f.status));
  return ACTION_TYPES.map((action) => {
    if (!fromStatus.has(action)) return { action, allowed: false, reason: statusReason(action, f.status) };
    const reason = guard(action, f);
    return { action, allowed: reason === null, reason };
  });
}

export function availableActions(f: OrderFacts): OrderActionType[] {
  return evaluateActions(f)
    .filter((g) => g.allowed)
    .map((g) => g.action);
}

/**
 * Status after a refund: REFUNDED when everything paid has been refunded, else PARTIALLY_REFUNDED.
 * Throws RangeError when refundedAfter is not in (0, paid] (a refund of nothing or more than paid is
 * rejected upstream).
 */
export function refundTargetStatus(paid: bigint, refundedAfter: bigint): OrderStatus {
  if (refundedAfter <= 0n || refundedAfter > paid) {
    throw new RangeError(`refundTargetStatus: refunded ${refundedAfter} must be in (0, paid ${paid}]`);
  }
  return refundedAfter === paid ? 'REFUNDED' : 'PARTIALLY_REFUNDED';
}

/**
 * Message of INVALID_STATE_TRANSITION: why `attempted` is not possible and what is, with mutations.
 */
export function invalidTransitionMessage(f: OrderFacts, attempted: OrderActionType): string {
  const evaluated = evaluateActions(f);
  const own = evaluated.find((g) => g.action === attempted);
  const why = own?.reason ?? `The order is ${f.status}.`;
  const allowed = evaluated.filter((g) => g.allowed);
  const next =
    allowed.length === 0
      ? 'No action is available on this order.'
      : `Allowed now: ${allowed.map((g) => `${g.action} (${ACTIONS[g.action].mutation})`).join(', ')}.`;
  return `Cannot ${attempted} (${ACTIONS[attempted].mutation}): ${why} ${next}`;
}
