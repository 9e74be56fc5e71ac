// What a refund returns and whether it fits (pricing.md §7), as a pure function of the order's state.
// createRefund plans with planRefund on the state it read (its write is refused if that state moved on
// before it, and it plans again on what is current); refundPreview runs the very
// same function on the state it read without writing anything, so a preview shows exactly what the
// refund would do (or the userErrors it would get). No Prisma, no clock, no I/O: property-tested over
// random orders and refund sequences (refund-plan.property.test.ts).
//
// Reservations: a refund counts against what is refundable from the moment it is written (PENDING)
// until it FAILS. "Taken" below means SUCCEEDED + PENDING.
//
// Line refunds: k more units of a line of q units whose taken units are r and whose taken refunds
// returned S (of gross, discount, tax, exclusive tax) return f(r+k) − S, f(n) = roundHalfEven(X·n/q)
// (src/pricing/refunds.ts lineRefundShare). Without failed refunds S = f(r), so this is §7's
// f(r+k) − f(r): unit by unit equals all at once. After a refund of some units failed (its units came
// back, but not necessarily the last ones taken), subtracting what was really returned keeps the total
// exact: refunding every unit always returns exactly the line.
//
// Tax part: an amount refund's is §7's proportional part of the remaining tax; a line refund's is its
// lines' tax shares. Either is capped at the tax that remains, and the refund that leaves nothing of
// the order's total takes exactly the tax that remains, so the tax refunded in all is exactly the tax
// charged. (Mixing amount and line refunds, or rates differing between lines, could otherwise refund a
// unit or more of tax too much or too little: the lines' shares follow each line's rate, an amount
// refund follows the order's average.) The lines' own shares (RefundLineItem) stay exactly §7's.
//
// One unit's share can be <= 0 (its discount share exceeding its gross share, §7's independent
// rounding). That is allowed; a processor cannot take a negative refund, so a negative share is netted
// against the next refunds of the same payment (processorAmount): what the processor returns in all
// equals the sum of the refunds' amounts.
import { amountRefundTax, formatMoney, lineRefundShare, type LineRefundShare } from '../pricing/index.js';
import { isCurrency } from '../pricing/currency.js';
import { fail, ok, userError, type Outcome, type UserError } from '../kernel/errors.js';

export interface PlanLine {
  id: string;
  name: string;
  /** The line's quantity q and priced amounts over all q units. */
  quantity: number;
  gross: bigint;
  discount: bigint;
  tax: bigint;
  exclusiveTax: bigint;
  /** Units held by SUCCEEDED and PENDING refunds. */
  takenQuantity: number;
  /** What those refunds return (their shares, summed). */
  taken: LineRefundShare;
}

export interface PlanIntent {
  id: string;
  status: string;
  currency: string;
  /** Captured. */
  amount: bigint;
  /** Σ amounts of its SUCCEEDED and PENDING refunds (PaymentIntent.refundedAmount). */
  reserved: bigint;
  /** Negative refund shares of this payment not yet netted against a later refund (>= 0). */
  credit: bigint;
}

export interface PlanState {
  currency: string;
  /** The order's priced total and tax (before refunds). */
  total: bigint;
  tax: bigint;
  lines: PlanLine[];
  /** Σ amounts and Σ tax parts of the order's SUCCEEDED and PENDING refunds (line and amount refunds). */
  taken: { amount: bigint; tax: bigint };
  intent: PlanIntent;
}

export interface RefundLineInput {
  lineItemId: string;
  quantity: number;
}

export interface RefundPlanInput {
  amountMoney?: { amount: number | bigint; currency: string } | null;
  lineItems?: RefundLineInput[] | null;
}

export interface PlannedLine extends LineRefundShare {
  lineItemId: string;
  quantity: number;
}

export interface RefundPlan {
  byLineItems: boolean;
  /** What the buyer gets back, tax included (may be <= 0 for a line refund, see above). */
  amount: bigint;
  /** The tax part of amount (see above: capped at the remaining tax; all of it when it settles the order). */
  tax: bigint;
  /** Line refunds: shares of gross and discount (0 for an amount refund). */
  gross: bigint;
  discount: bigint;
  /** What goes to the processor: amount less the payment's credit; 0 = no processor call. */
  processorAmount: bigint;
  lines: PlannedLine[];
}

const ZERO: LineRefundShare = { gross: 0n, discount: 0n, tax: 0n, exclusiveTax: 0n, amount: 0n };
export const MAX_REFUND_LINES = 500;

function sub(a: LineRefundShare, b: LineRefundShare): LineRefundShare {
  return { gross: a.gross - b.gross, discount: a.discount - b.discount, tax: a.tax - b.tax, exclusiveTax: a.exclusiveTax - b.exclusiveTax, amount: a.amount - b.amount };
}

export function addShares(a: LineRefundShare, b: LineRefundShare): LineRefundShare {
  return { gross: a.gross + b.gross, discount: a.discount + b.discount, tax: a.tax + b.tax, exclusiveTax: a.exclusiveTax + b.exclusiveTax, amount: a.amount + b.amount };
}

/** f(n) of §7 for every amount of the line: what its first n units return together. */
function cumulative(line: PlanLine, n: number): LineRefundShare {
  if (n === 0) return ZERO;
  return lineRefundShare({ quantity: line.quantity, refundedQuantity: 0, gross: line.gross, discount: line.discount, tax: line.tax, exclusiveTax: line.exclusiveTax }, n);
}

/** What refunding `units` more units of the line returns now. */
export function nextUnitsShare(line: PlanLine, units: number): LineRefundShare {
  return sub(cumulative(line, line.takenQuantity + units), line.taken);
}

/** Units still refundable and what refunding them all returns (exactly the rest of the line). */
export function lineLeft(line: PlanLine): { quantity: number; amount: bigint } {
  const quantity = line.quantity - line.takenQuantity;
  return quantity > 0 ? { quantity, amount: nextUnitsShare(line, quantity).amount } : { quantity: 0, amount: 0n };
}

/** What the payment has left to refund: captured − (succeeded + pending refunds); 0 unless SUCCEEDED. */
export function intentLeft(intent: PlanIntent): bigint {
  if (intent.status !== 'SUCCEEDED') return 0n;
  const left = intent.amount - intent.reserved;
  return left > 0n ? left : 0n;
}

function fmt(amount: bigint, currency: string): string {
  return isCurrency(currency) ? formatMoney(amount, currency) : `${amount} ${currency}`;
}

/** "Still refundable: 42.86 USD in all (payment pi_...); per line: Coffee (li_...) 1 of 2 units, 21.43 USD; ..." */
export function refundableText(state: PlanState): string {
  const c = state.currency;
  const left = intentLeft(state.intent);
  const perLine = state.lines.map((l) => {
    const rest = lineLeft(l);
    return rest.quantity === 0
      ? `${l.name} (${l.id}) nothing left`
      : `${l.name} (${l.id}) ${rest.quantity} of ${l.quantity} unit${l.quantity === 1 ? '' : 's'}, ${fmt(rest.amount, c)}`;
  });
  const intent =
    state.intent.status === 'SUCCEEDED'
      ? `payment ${state.intent.id}: captured ${fmt(state.intent.amount, c)}, refunded or pending ${fmt(state.intent.reserved, c)}`
      : `payment ${state.intent.id} is ${state.intent.status}: nothing was captured by it`;
  return `Still refundable: ${fmt(left, c)} in all (${intent}); per line: ${perLine.length > 0 ? perLine.join('; ') : 'no lines'}.`;
}

/**
 * INVALID_INPUT checks that need no state: exactly one of amountMoney and lineItems; whole positive
 * quantities; each line once; a positive amount in a known currency.
 */
export function validateRefundInput(input: RefundPlanInput): UserError[] {
  const errors: UserError[] = [];
  const hasAmount = input.amountMoney !== null && input.amountMoney !== undefined;
  const hasLines = input.lineItems !== null && input.lineItems !== undefined;
  if (hasAmount === hasLines) {
    errors.push(
      userError(
        'INVALID_INPUT',
        hasAmount
          ? 'Give either amountMoney or lineItems, not both: refund an amount (tax part computed proportionally) or whole units of line items.'
          : 'Give amountMoney (an amount, tax included) or lineItems ([{ lineItemId, quantity }]) to say what to refund. Order.refundable lists what is left.',
        ['input'],
      ),
    );
    return errors;
  }
  if (hasAmount) {
    const m = input.amountMoney!;
    if (!isCurrency(m.currency)) {
      errors.push(userError('INVALID_INPUT', `"${m.currency}" is not an ISO 4217 currency code. Use the order's currency, e.g. "USD".`, ['input', 'amountMoney', 'currency']));
    }
    const amount = typeof m.amount === 'bigint' ? m.amount : Number.isSafeInteger(m.amount) ? BigInt(m.amount) : null;
    if (amount === null || amount <= 0n) {
      errors.push(userError('INVALID_INPUT', `amountMoney.amount must be a positive whole number of minor units (e.g. 1999 for 19.99 USD); got ${String(m.amount)}.`, ['input', 'amountMoney', 'amount']));
    }
    return errors;
  }
  const lines = input.lineItems!;
  if (lines.length === 0) {
    errors.push(userError('INVALID_INPUT', 'lineItems is empty: list at least one { lineItemId, quantity } to refund.', ['input', 'lineItems']));
  }
  if (lines.length > MAX_REFUND_LINES) {
    errors.push(userError('INVALID_INPUT', `A refund covers at most ${MAX_REFUND_LINES} lines (got ${lines.length}).`, ['input', 'lineItems']));
  }
  const seen = new Set<string>();
  lines.forEach((l, i) => {
    if (!Number.isSafeInteger(l.quantity) || l.quantity <= 0) {
      errors.push(userError('INVALID_INPUT', `quantity must be a whole number of units, at least 1 (got ${l.quantity}).`, ['input', 'lineItems', i, 'quantity']));
    }
    if (seen.has(l.lineItemId)) {
      errors.push(userError('INVALID_INPUT', `Line item ${l.lineItemId} is listed twice: list each line once with the total quantity to refund.`, ['input', 'lineItems', i, 'lineItemId']));
    }
    seen.add(l.lineItemId);
  });
  return errors;
}

/**
 * The refund `input` asks for, against `state`: every amount it returns, or the userErrors createRefund
 * gives (REFUND_EXCEEDS_REFUNDABLE stating what is left in all and per line, CURRENCY_MISMATCH,
 * NOT_FOUND for a line of another order). `validateRefundInput` must have passed.
 */
export function planRefund(state: PlanState, input: RefundPlanInput): Outcome<RefundPlan> {
  const invalid = validateRefundInput(input);
  if (invalid.length > 0) return fail(...invalid);
  const c = state.currency;
  const left = intentLeft(state.intent);
  const exceeds = (what: string, field: (string | number)[]) =>
    userError('REFUND_EXCEEDS_REFUNDABLE', `${what} Nothing was refunded. ${refundableText(state)}`, field);

  if (input.amountMoney) {
    const m = input.amountMoney;
    if (m.currency !== state.intent.currency || m.currency !== c) {
      return fail(
        userError(
          'CURRENCY_MISMATCH',
          `The payment and its order are in ${state.intent.currency}, not ${m.currency}: give amountMoney in ${state.intent.currency} (minor units).`,
          ['input', 'amountMoney', 'currency'],
        ),
      );
    }
    const amount = BigInt(m.amount);
    if (amount > left) {
      return fail(exceeds(`A refund of ${fmt(amount, c)} is more than payment ${state.intent.id} has left to refund (${fmt(left, c)}).`, ['input', 'amountMoney', 'amount']));
    }
    const { total: remainingTotal, tax: remainingTax } = remaining(state);
    const tax = amountRefundTax(amount, remainingTax, remainingTotal);
    return ok({ byLineItems: false, amount, tax, gross: 0n, discount: 0n, processorAmount: netted(amount, state.intent.credit), lines: [] });
  }

  const planned: PlannedLine[] = [];
  const errors: UserError[] = [];
  input.lineItems!.forEach((item, i) => {
    const line = state.lines.find((l) => l.id === item.lineItemId);
    if (!line) {
      errors.push(
        userError(
          'NOT_FOUND',
          `The order paid by ${state.intent.id} has no line item "${item.lineItemId}". Order.lineItems (or Order.refundable) lists its lines and their ids.`,
          ['input', 'lineItems', i, 'lineItemId'],
        ),
      );
      return;
    }
    const rest = line.quantity - line.takenQuantity;
    if (item.quantity > rest) {
      errors.push(
        exceeds(
          `Line ${line.name} (${line.id}) has ${rest} of ${line.quantity} unit${line.quantity === 1 ? '' : 's'} left to refund, not ${item.quantity}.`,
          ['input', 'lineItems', i, 'quantity'],
        ),
      );
      return;
    }
    planned.push({ lineItemId: line.id, quantity: item.quantity, ...nextUnitsShare(line, item.quantity) });
  });
  if (errors.length > 0) return fail(...errors);
  const sum = planned.reduce<LineRefundShare>((s, l) => addShares(s, l), ZERO);
  // A refund returning <= 0 (discount shares above gross shares) takes nothing from the payment.
  if (sum.amount > 0n && sum.amount > left) {
    return fail(exceeds(`These units return ${fmt(sum.amount, c)}, more than payment ${state.intent.id} has left to refund (${fmt(left, c)}).`, ['input', 'lineItems']));
  }
  const rest = remaining(state);
  const tax = sum.amount >= rest.total ? rest.tax : sum.tax < 0n ? 0n : sum.tax > rest.tax ? rest.tax : sum.tax;
  return ok({ byLineItems: true, amount: sum.amount, tax, gross: sum.gross, discount: sum.discount, processorAmount: netted(sum.amount, state.intent.credit), lines: planned });
}

/** The order's total and tax not yet taken by SUCCEEDED or PENDING refunds (tax never below 0). */
export function remaining(state: PlanState): { total: bigint; tax: bigint } {
  const tax = state.tax - state.taken.tax;
  return { total: state.total - state.taken.amount, tax: tax > 0n ? tax : 0n };
}

/** What goes to the processor for a refund of `amount`: its credit (earlier negative shares) netted out. */
function netted(amount: bigint, credit: bigint): bigint {
  if (amount <= 0n) return 0n;
  return amount > credit ? amount - credit : 0n;
}

/** The state after `plan` is written (reserved): what the next planRefund sees. */
export function reserve(state: PlanState, plan: RefundPlan): PlanState {
  const credit = state.intent.credit + (plan.amount < 0n ? -plan.amount : 0n) - (plan.amount > 0n ? plan.amount - plan.processorAmount : 0n);
  return {
    ...state,
    intent: { ...state.intent, reserved: state.intent.reserved + plan.amount, credit },
    taken: { amount: state.taken.amount + plan.amount, tax: state.taken.tax + plan.tax },
    lines: state.lines.map((l) => {
      const p = plan.lines.find((x) => x.lineItemId === l.id);
      return p ? { ...l, takenQuantity: l.takenQuantity + p.quantity, taken: addShares(l.taken, p) } : l;
    }),
  };
}

/** The state after a reserved refund fails: its amount, units and credit use come back. */
export function release(state: PlanState, plan: RefundPlan): PlanState {
  const credit = state.intent.credit - (plan.amount < 0n ? -plan.amount : 0n) + (plan.amount > 0n ? plan.amount - plan.processorAmount : 0n);
  return {
    ...state,
    intent: { ...state.intent, reserved: state.intent.reserved - plan.amount, credit },
    taken: { amount: state.taken.amount - plan.amount, tax: state.taken.tax - plan.tax },
    lines: state.lines.map((l) => {
      const p = plan.lines.find((x) => x.lineItemId === l.id);
      return p ? { ...l, takenQuantity: l.takenQuantity - p.quantity, taken: sub(l.taken, p) } : l;
    }),
  };
}
