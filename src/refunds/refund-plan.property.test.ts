// Property tests of the refund computation (pricing.md §6–§7) over random priced orders — lines, coupons,
// exclusive and inclusive tax — and random sequences of line refunds, amount refunds and processor
// failures, run through planRefund exactly as createRefund runs it:
//   - Σ refunds never exceeds what was paid (nor does what the processor is asked to return);
//   - a rejected refund really exceeded what was left (REFUND_EXCEEDS_REFUNDABLE, nothing else);
//   - finishing with every remaining unit and then the remaining amount returns exactly what was paid,
//     tax exactly what was charged, and netAmounts end at zero (subtotal and discount too when only line
//     refunds were made).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { netAmounts, priceOrder, type LineRefundShare, type PricedOrder } from '../pricing/index.js';
import { fixedCoupon, line, order, percentCoupon, rate } from '../pricing/test-helpers.js';
import { intentLeft, lineLeft, planRefund, release, reserve, type PlanState, type RefundPlan } from './refund-plan.js';

interface Scenario {
  lines: { q: number; p: bigint; food: boolean }[];
  fixedOff: bigint | null;
  percentOff: string | null;
  tax: 'none' | 'exclusive' | 'inclusive';
}

const scenario: fc.Arbitrary<Scenario> = fc.record({
  lines: fc.array(
    fc.record({
      q: fc.integer({ min: 1, max: 9 }),
      // Tiny prices make the §7 corner cases (a unit's discount share above its gross share) frequent.
      p: fc.oneof(fc.bigInt({ min: 0n, max: 12n }), fc.bigInt({ min: 0n, max: 50_000n })),
      food: fc.boolean(),
    }),
    { minLength: 1, maxLength: 4 },
  ),
  fixedOff: fc.option(fc.bigInt({ min: 1n, max: 30_000n }), { nil: null }),
  percentOff: fc.option(fc.constantFrom('10', '12.5', '33', '99', '100'), { nil: null }),
  tax: fc.constantFrom('none', 'exclusive', 'inclusive'),
});

function priced(s: Scenario): PricedOrder {
  const coupons = [
    ...(s.fixedOff !== null ? [fixedCoupon('OFF', s.fixedOff)] : []),
    ...(s.percentOff !== null ? [percentCoupon('PCT', s.percentOff)] : []),
  ];
  const lines = s.lines.map((l, i) => line(`li_${i}`, l.q, l.p, { taxCategory: l.food ? 'food' : 'general' }));
  if (s.tax === 'exclusive') {
    return priceOrder(
      order({
        lines,
        coupons,
        jurisdiction: { country: 'US', region: 'NY' },
        registrations: ['US-NY'],
        rates: [rate('US-NY', 'NY sales tax', '0.08875'), rate('US-NY', 'NY sales tax', '0.04', { taxCategory: 'food' })],
      }),
    );
  }
  if (s.tax === 'inclusive') {
    return priceOrder(
      order({
        currency: 'EUR',
        lines,
        coupons,
        jurisdiction: { country: 'DE', region: null },
        registrations: ['DE'],
        rates: [rate('DE', 'USt', '0.19', { inclusive: true }), rate('DE', 'USt', '0.07', { inclusive: true, taxCategory: 'food' })],
      }),
    );
  }
  return priceOrder(order({ lines, coupons }));
}

function initialState(s: Scenario, p: PricedOrder): PlanState {
  const zero: LineRefundShare = { gross: 0n, discount: 0n, tax: 0n, exclusiveTax: 0n, amount: 0n };
  return {
    currency: p.currency,
    total: p.total,
    tax: p.tax,
    lines: p.lines.map((l, i) => ({
      id: l.id,
      name: `Line ${i}`,
      quantity: s.lines[i]!.q,
      gross: l.gross,
      discount: l.discount,
      tax: l.tax,
      exclusiveTax: l.exclusiveTax,
      takenQuantity: 0,
      taken: zero,
    })),
    taken: { amount: 0n, tax: 0n },
    intent: { id: 'pi_test', status: 'SUCCEEDED', currency: p.currency, amount: p.total, reserved: 0n, credit: 0n },
  };
}

type Op = { kind: 'line'; line: number; units: number } | { kind: 'amount'; amount: bigint } | { kind: 'fail'; which: number };

const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('line' as const), line: fc.nat(), units: fc.integer({ min: 1, max: 10 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('amount' as const), amount: fc.bigInt({ min: 1n, max: 60_000n }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('fail' as const), which: fc.nat() }) },
);

/** Runs a refund sequence and checks the invariants after every step; returns the live refunds. */
function run(s: Scenario, ops: Op[], withFailures: boolean) {
  const p = priced(s);
  const paid = p.total;
  let state = initialState(s, p);
  const live: RefundPlan[] = [];

  const check = () => {
    const sumAmount = live.reduce((sum, r) => sum + r.amount, 0n);
    const sumProcessor = live.reduce((sum, r) => sum + r.processorAmount, 0n);
    expect(state.intent.reserved).toBe(sumAmount);
    expect(sumAmount <= paid).toBe(true);
    expect(sumProcessor <= paid).toBe(true);
    expect(state.intent.credit >= 0n).toBe(true);
    expect(state.taken.tax >= 0n && state.taken.tax <= p.tax).toBe(true);
    for (const r of live) expect(r.tax >= 0n).toBe(true);
    for (const r of live) expect(r.processorAmount >= 0n && r.processorAmount <= (r.amount > 0n ? r.amount : 0n)).toBe(true);
  };
  const attempt = (input: Parameters<typeof planRefund>[1], expectedOk: boolean | null) => {
    const before = intentLeft(state.intent);
    const planned = planRefund(state, input);
    if (expectedOk !== null) expect(planned.ok).toBe(expectedOk);
    if (!planned.ok) {
      expect(planned.errors.map((e) => e.code)).toEqual(planned.errors.map(() => 'REFUND_EXCEEDS_REFUNDABLE'));
      return null;
    }
    if (planned.value.amount > 0n) expect(planned.value.amount <= before).toBe(true);
    state = reserve(state, planned.value);
    live.push(planned.value);
    check();
    return planned.value;
  };

  for (const o of ops) {
    if (o.kind === 'line') {
      const l = state.lines[o.line % state.lines.length]!;
      const units = Math.min(o.units, Math.max(1, l.quantity));
      const share = lineLeft(l);
      const fits = units <= share.quantity;
      const plan = attempt({ lineItems: [{ lineItemId: l.id, quantity: units }] }, fits ? null : false);
      if (fits && !plan) {
        // Rejected although the units exist: only because the payment has too little left.
        expect(intentLeft(state.intent) < share.amount || units < share.quantity).toBe(true);
      }
    } else if (o.kind === 'amount') {
      const amount = 1n + (o.amount % (paid + paid / 5n + 1n));
      attempt({ amountMoney: { amount, currency: p.currency } }, amount <= intentLeft(state.intent));
    } else if (withFailures) {
      const failable = live.filter((r) => r.processorAmount > 0n);
      if (failable.length > 0) {
        const victim = failable[o.which % failable.length]!;
        live.splice(live.indexOf(victim), 1);
        state = release(state, victim);
        check();
      }
    }
  }

  // Finish: every remaining unit (if the payment still covers it), then the remaining amount.
  for (const l of state.lines) {
    const rest = lineLeft(l);
    if (rest.quantity > 0) attempt({ lineItems: [{ lineItemId: l.id, quantity: rest.quantity }] }, rest.amount <= intentLeft(state.intent) || rest.amount <= 0n);
  }
  const left = intentLeft(state.intent);
  if (left > 0n) attempt({ amountMoney: { amount: left, currency: p.currency } }, true);

  const lineRefunds = live.filter((r) => r.byLineItems);
  const amountRefunds = live.filter((r) => !r.byLineItems);
  const net = netAmounts({
    subtotal: p.subtotal,
    discount: p.discount,
    tax: p.tax,
    total: p.total,
    // A refund's tax part is its own (capped, see refund-plan.ts); its lines give gross and discount.
    refundedLineShares: lineRefunds.map((r) => ({ gross: r.gross, discount: r.discount, tax: r.tax, exclusiveTax: 0n, amount: r.amount })),
    amountRefunds: amountRefunds.map((r) => ({ amount: r.amount, tax: r.tax })),
    paid,
    refunded: live.reduce((sum, r) => sum + r.amount, 0n),
  });
  expect(live.reduce((sum, r) => sum + r.amount, 0n)).toBe(paid);
  expect(live.reduce((sum, r) => sum + r.processorAmount, 0n)).toBe(paid);
  expect(live.reduce((sum, r) => sum + r.tax, 0n)).toBe(p.tax);
  expect(net.total).toBe(0n);
  expect(net.tax).toBe(0n);
  expect(net.balance).toBe(0n);
  expect(net.refunded).toBe(paid);
  if (amountRefunds.length === 0) {
    expect(net.subtotal).toBe(0n);
    expect(net.discount).toBe(0n);
    for (const l of state.lines) expect(l.takenQuantity).toBe(l.quantity);
  }
  return { p, live };
}

describe('refund sequences (property)', () => {
  it('line refunds only, unit chunks in any order: exact to the minor unit, netAmounts all zero at the end', () => {
    fc.assert(
      fc.property(scenario, fc.array(op.filter((o) => o.kind === 'line'), { maxLength: 40 }), (s, ops) => {
        run(s, ops, false);
      }),
      { numRuns: 400 },
    );
  });

  it('mixed line and amount refunds, with processor failures giving reservations back', () => {
    fc.assert(
      fc.property(scenario, fc.array(op, { maxLength: 40 }), (s, ops) => {
        run(s, ops, true);
      }),
      { numRuns: 400 },
    );
  });

  it("Stripe's proportional example: 25 of 100 + 25 tax → 5 tax", () => {
    const state: PlanState = {
      currency: 'USD',
      total: 125n,
      tax: 25n,
      lines: [],
      taken: { amount: 0n, tax: 0n },
      intent: { id: 'pi_x', status: 'SUCCEEDED', currency: 'USD', amount: 125n, reserved: 0n, credit: 0n },
    };
    const planned = planRefund(state, { amountMoney: { amount: 25, currency: 'USD' } });
    expect(planned.ok && { amount: planned.value.amount, tax: planned.value.tax }).toEqual({ amount: 25n, tax: 5n });
  });

  it('a unit whose discount share exceeds its gross share refunds a negative amount, netted against the next refund', () => {
    // gross 6, discount 5, 4 units: f_gross 2,3,4,6 and f_discount 1,2,4,5 → unit shares 1, 0, −1, 1 (§7).
    const state: PlanState = {
      currency: 'USD',
      total: 1n,
      tax: 0n,
      lines: [{ id: 'li_a', name: 'A', quantity: 4, gross: 6n, discount: 5n, tax: 0n, exclusiveTax: 0n, takenQuantity: 0, taken: { gross: 0n, discount: 0n, tax: 0n, exclusiveTax: 0n, amount: 0n } }],
      taken: { amount: 0n, tax: 0n },
      intent: { id: 'pi_x', status: 'SUCCEEDED', currency: 'USD', amount: 1n, reserved: 0n, credit: 0n },
    };
    let s = state;
    const amounts: bigint[] = [];
    const sent: bigint[] = [];
    for (let u = 0; u < 4; u++) {
      const planned = planRefund(s, { lineItems: [{ lineItemId: 'li_a', quantity: 1 }] });
      expect(planned.ok).toBe(true);
      if (!planned.ok) return;
      amounts.push(planned.value.amount);
      sent.push(planned.value.processorAmount);
      s = reserve(s, planned.value);
    }
    expect(amounts).toEqual([1n, 0n, -1n, 1n]);
    expect(sent).toEqual([1n, 0n, 0n, 0n]); // the last unit's 1 nets the third unit's −1
    expect(s.intent.reserved).toBe(1n);
  });
});
