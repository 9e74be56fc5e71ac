import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import {
  ACTIONS,
  ACTION_TYPES,
  ORDER_STATUSES,
  TERMINAL,
  TRANSITIONS,
  availableActions,
  evaluateActions,
  invalidTransitionMessage,
  refundTargetStatus,
  transitionsFrom,
} from './lifecycle.js';
import type { OrderFacts, OrderStatus } from './lifecycle.js';

const facts = (f: Partial<OrderFacts> = {}): OrderFacts => ({
  status: 'OPEN',
  lineItemCount: 1,
  balance: 1000n,
  hasSucceededPayment: false,
  refundable: 0n,
  hasAppliedCoupons: false,
  ...f,
});

const factsArb = fc.record({
  status: fc.constantFrom(...ORDER_STATUSES),
  lineItemCount: fc.nat({ max: 5 }),
  balance: fc.bigInt({ min: -1000n, max: 1000n }),
  hasSucceededPayment: fc.boolean(),
  refundable: fc.bigInt({ min: 0n, max: 1000n }),
  hasAppliedCoupons: fc.boolean(),
});

describe('lifecycle table (§8)', () => {
  it('uses the contract mutation names', () => {
    expect(Object.fromEntries(ACTION_TYPES.map((a) => [a, ACTIONS[a].mutation]))).toEqual({
      ADD_LINE_ITEMS: 'addLineItems',
      UPDATE_LINE_ITEM: 'updateLineItem',
      REMOVE_LINE_ITEM: 'removeLineItem',
      SET_SHIPPING_ADDRESS: 'setShippingAddress',
      APPLY_COUPON: 'applyCoupon',
      REMOVE_COUPON: 'removeCoupon',
      PAY: 'payOrder',
      CREATE_CHECKOUT_SESSION: 'createCheckoutSession',
      CANCEL: 'cancelOrder',
      REFUND: 'createRefund',
      CLOSE: 'closeOrder',
    });
    for (const a of ACTION_TYPES) expect(ACTIONS[a].description.length).toBeGreaterThan(20);
  });

  it('every action appears in the table', () => {
    expect(new Set(TRANSITIONS.map((t) => t.action))).toEqual(new Set(ACTION_TYPES));
  });

  it('matches the §8 rows', () => {
    const to = (action: string) => TRANSITIONS.filter((t) => t.action === action).map((t) => [t.from, t.to]);
    expect(to('PAY')).toEqual([[['OPEN'], ['PAID']]]);
    expect(to('CANCEL')).toEqual([[['OPEN'], ['CANCELED']]]);
    expect(to('REFUND')).toEqual([[['PAID', 'PARTIALLY_REFUNDED'], ['PARTIALLY_REFUNDED', 'REFUNDED']]]);
    expect(to('CLOSE')).toEqual([[['PAID', 'PARTIALLY_REFUNDED', 'REFUNDED'], ['CLOSED']]]);
    for (const a of ['ADD_LINE_ITEMS', 'UPDATE_LINE_ITEM', 'REMOVE_LINE_ITEM', 'SET_SHIPPING_ADDRESS', 'APPLY_COUPON', 'REMOVE_COUPON']) {
      expect(to(a)).toEqual([[['OPEN'], ['OPEN']]]);
    }
  });

  it('every status is reachable from OPEN', () => {
    const seen = new Set<OrderStatus>(['OPEN']);
    const queue: OrderStatus[] = ['OPEN'];
    while (queue.length > 0) {
      const s = queue.shift()!;
      for (const t of TRANSITIONS) {
        if (!t.from.includes(s)) continue;
        for (const n of t.to) {
          if (!seen.has(n)) {
            seen.add(n);
            queue.push(n);
          }
        }
      }
    }
    expect([...seen].sort()).toEqual([...ORDER_STATUSES].sort());
  });

  it('terminal statuses have no way out, and every other status has one', () => {
    expect([...TERMINAL].sort()).toEqual(['CANCELED', 'CLOSED']);
    for (const s of ORDER_STATUSES) {
      const out = TRANSITIONS.filter((t) => t.from.includes(s));
      if (TERMINAL.includes(s)) expect(out).toEqual([]);
      else expect(out.length).toBeGreaterThan(0);
    }
    for (const s of TERMINAL) {
      expect(availableActions(facts({ status: s, refundable: 100n, balance: 100n, hasAppliedCoupons: true }))).toEqual([]);
    }
  });

  it('property: availableActions ⊆ the table from the status, and evaluateActions covers every action without throwing', () => {
    fc.assert(
      fc.property(factsArb, (f) => {
        const allowed = availableActions(f);
        const fromTable = transitionsFrom(f.status);
        for (const a of allowed) expect(fromTable).toContain(a);
        const ev = evaluateActions(f);
        expect(ev.map((g) => g.action)).toEqual(ACTION_TYPES);
        for (const g of ev) expect(g.allowed ? g.reason === null : typeof g.reason === 'string' && g.reason.length > 0).toBe(true);
        expect(allowed).toEqual(ev.filter((g) => g.allowed).map((g) => g.action));
      }),
    );
  });
});

describe('guards', () => {
  it('an open order with lines, a balance and a coupon', () => {
    expect(availableActions(facts({ hasAppliedCoupons: true }))).toEqual([
      'ADD_LINE_ITEMS',
      'UPDATE_LINE_ITEM',
      'REMOVE_LINE_ITEM',
      'SET_SHIPPING_ADDRESS',
      'APPLY_COUPON',
      'REMOVE_COUPON',
      'PAY',
      'CREATE_CHECKOUT_SESSION',
      'CANCEL',
    ]);
  });

  it('an empty open order can only get line items, an address, coupons, or be canceled', () => {
    expect(availableActions(facts({ lineItemCount: 0, balance: 0n }))).toEqual(['ADD_LINE_ITEMS', 'SET_SHIPPING_ADDRESS', 'APPLY_COUPON', 'CANCEL']);
    const pay = evaluateActions(facts({ lineItemCount: 0, balance: 0n })).find((g) => g.action === 'PAY');
    expect(pay?.reason).toMatch(/no line items/);
  });

  it('an open order totalling 0 can be paid with payOrder but not through a checkout page', () => {
    const a = availableActions(facts({ balance: 0n }));
    expect(a).toContain('PAY');
    expect(a).not.toContain('CREATE_CHECKOUT_SESSION');
  });

  it('cancel needs no succeeded payment', () => {
    const g = evaluateActions(facts({ hasSucceededPayment: true, balance: 500n })).find((x) => x.action === 'CANCEL');
    expect(g).toMatchObject({ allowed: false, reason: expect.stringMatching(/payment has already succeeded/) });
  });

  it('refund needs something refundable; close is always possible once paid', () => {
    expect(availableActions(facts({ status: 'PAID', balance: 0n, hasSucceededPayment: true, refundable: 100n }))).toEqual(['REFUND', 'CLOSE']);
    expect(availableActions(facts({ status: 'PAID', balance: 0n, hasSucceededPayment: true, refundable: 0n }))).toEqual(['CLOSE']);
    expect(availableActions(facts({ status: 'PARTIALLY_REFUNDED', balance: 0n, refundable: 1n }))).toEqual(['REFUND', 'CLOSE']);
    expect(availableActions(facts({ status: 'REFUNDED', balance: 0n, refundable: 0n }))).toEqual(['CLOSE']);
  });

  it('edits after payment are refused with ORDER_NOT_EDITABLE-style reasons', () => {
    const g = evaluateActions(facts({ status: 'PAID' })).find((x) => x.action === 'ADD_LINE_ITEMS');
    expect(g).toMatchObject({ allowed: false, reason: 'The order is PAID; line items, coupons and the shipping address change only while it is OPEN.' });
  });

  it('remove coupon needs an applied coupon', () => {
    expect(availableActions(facts({ hasAppliedCoupons: false }))).not.toContain('REMOVE_COUPON');
  });
});

describe('refundTargetStatus', () => {
  it('is REFUNDED when everything paid is refunded, else PARTIALLY_REFUNDED', () => {
    expect(refundTargetStatus(1000n, 1000n)).toBe('REFUNDED');
    expect(refundTargetStatus(1000n, 1n)).toBe('PARTIALLY_REFUNDED');
    expect(refundTargetStatus(1000n, 999n)).toBe('PARTIALLY_REFUNDED');
  });

  it('rejects impossible refund totals', () => {
    expect(() => refundTargetStatus(1000n, 0n)).toThrow(RangeError);
    expect(() => refundTargetStatus(1000n, 1001n)).toThrow(RangeError);
  });
});

describe('invalidTransitionMessage', () => {
  it('names the allowed actions and their mutations', () => {
    const m = invalidTransitionMessage(facts({ status: 'PAID', balance: 0n, refundable: 100n, hasSucceededPayment: true }), 'CANCEL');
    expect(m).toBe(
      'Cannot CANCEL (cancelOrder): The order is PAID; CANCEL is possible only when it is OPEN. Allowed now: REFUND (createRefund), CLOSE (closeOrder).',
    );
  });

  it('includes the guard reason when the status allows the action', () => {
    const m = invalidTransitionMessage(facts({ status: 'PAID', balance: 0n, refundable: 0n }), 'REFUND');
    expect(m).toBe('Cannot REFUND (createRefund): Nothing is left to refund. Allowed now: CLOSE (closeOrder).');
  });

  it('says when nothing is possible', () => {
    expect(invalidTransitionMessage(facts({ status: 'CLOSED' }), 'REFUND')).toBe(
      'Cannot REFUND (createRefund): The order is CLOSED, which is final. No action is available on this order.',
    );
  });
});
