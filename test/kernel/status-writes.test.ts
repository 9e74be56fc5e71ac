// Every status write goes through the transition tables (src/pricing/states.ts via
// src/kernel/transitions.ts): the tables themselves (every state reachable, terminal states without a
// way out), the helpers refusing a change the tables do not list, and the Writer refusing any status
// write the tables do not list: every write passes the Writer, which checks each status
// change against the tables before anything is sent to the database.
import { describe, expect, it } from 'vitest';
import {
  ORDER_EVENTS,
  ORDER_STATUSES,
  PAYMENT_TRANSITIONS,
  REFUND_TRANSITIONS,
  TERMINAL,
  TRANSITIONS,
  checkOrderTransition,
  checkPaymentTransition,
  checkRefundTransition,
} from '../../src/pricing/index.js';
import { TransitionError, orderStatusAfter, paymentStatusAfter, refundStatusAfter } from '../../src/kernel/transitions.js';
import { Writer, type Write } from '../../src/kernel/writer.js';
import { sqlPool } from '../../src/db/prisma.js';
import { newId } from '../../src/ids.js';
import { graphql } from '../generated/index.js';
import { useTestApi } from '../support/api.js';

describe('the transition tables', () => {
  it('reach every order status from OPEN, and the terminal ones have no way out by the merchant', () => {
    const rows = [...TRANSITIONS.map((t) => ({ from: t.from, to: t.to })), ...ORDER_EVENTS.map((e) => ({ from: e.from, to: e.to }))];
    const reached = new Set(['OPEN']);
    for (let changed = true; changed; ) {
      changed = false;
      for (const r of rows) {
        if (!r.from.some((f) => reached.has(f))) continue;
        for (const to of r.to) if (!reached.has(to)) (reached.add(to), (changed = true));
      }
    }
    expect([...reached].sort()).toEqual([...ORDER_STATUSES].sort());
    for (const terminal of TERMINAL) expect(rows.filter((r) => r.from.includes(terminal))).toEqual([]);
  });

  it('payment intents and refunds: every state reachable from the first, FAILED refunds final', () => {
    for (const [table, start] of [[PAYMENT_TRANSITIONS, 'PROCESSING'], [REFUND_TRANSITIONS, 'PENDING']] as const) {
      const reached = new Set<string>([start]);
      for (let changed = true; changed; ) {
        changed = false;
        for (const t of table as readonly { from: string; to: readonly string[] }[]) {
          if (!reached.has(t.from)) continue;
          for (const to of t.to) if (!reached.has(to)) (reached.add(to), (changed = true));
        }
      }
      expect([...reached].sort()).toEqual((table as readonly { from: string }[]).map((t) => t.from).sort());
    }
    expect(REFUND_TRANSITIONS.find((t) => t.from === 'FAILED')!.to).toEqual([]);
  });

  it('list refund reversals, which move a refunded order back by the amounts', () => {
    expect(checkOrderTransition('REFUNDED', 'REFUND_REVERSED', 'PAID')).toBeNull();
    expect(checkOrderTransition('REFUNDED', 'REFUND_REVERSED', 'PARTIALLY_REFUNDED')).toBeNull();
    expect(checkOrderTransition('PARTIALLY_REFUNDED', 'REFUND_REVERSED', 'PAID')).toBeNull();
    expect(checkOrderTransition('CLOSED', 'REFUND_REVERSED', 'PAID')).toMatch(/no transition CLOSED → PAID/);
  });

  it('answer reasons, and the status helpers refuse what the tables do not list', () => {
    expect(checkOrderTransition('OPEN', 'CANCEL', 'CANCELED')).toBeNull();
    expect(checkOrderTransition('PAID', 'CANCEL', 'CANCELED')).toMatch(/PAID → CANCELED/);
    expect(checkOrderTransition('OPEN', 'REFUND_SUCCEEDED', 'REFUNDED')).toMatch(/OPEN → REFUNDED/);
    expect(checkPaymentTransition('SUCCEEDED', 'FAILED')).toMatch(/SUCCEEDED to FAILED/);
    expect(checkPaymentTransition('FAILED', 'SUCCEEDED')).toBeNull();
    expect(checkRefundTransition('FAILED', 'SUCCEEDED')).toMatch(/FAILED to SUCCEEDED/);
    expect(() => orderStatusAfter('CANCELED', 'PAY', 'PAID')).toThrow(TransitionError);
    expect(() => paymentStatusAfter('SUCCEEDED', 'CANCELED')).toThrow(TransitionError);
    expect(() => refundStatusAfter('FAILED', 'PENDING')).toThrow(TransitionError);
    expect(orderStatusAfter('PAID', 'CLOSE', 'CLOSED')).toBe('CLOSED');
  });
});

describe('status writes through the one write path', () => {
  const api = useTestApi();
  const Create = graphql(`
    mutation StatusWritesCreate($input: CreateOrderInput!) {
      createOrder(input: $input) { order { id version } userErrors { code } }
    }
  `);
  const write = (merchantId: string, extra: Partial<Write>): Write => ({ merchantId, livemode: false, at: new Date(), activity: [], ...extra });

  it('the Writer refuses a status change the tables do not list, an unguarded one and a new row in a non-initial status, writing nothing', async () => {
    const { key, merchantId } = await api.signup();
    const order = (await api.exec(Create, { input: { lineItems: [{ name: 'Mug', quantity: 1, unitPriceMoney: { amount: 1000, currency: 'USD' } }] } }, key)).createOrder.order!;
    const writer = new Writer(sqlPool(api.db));
    const noPublish = async () => {};
    const guarded = (status: string) => [{ table: 'Order' as const, id: order.id, match: { version: order.version, status } }];
    // OPEN → REFUNDED: no cause in the tables leads there.
    await expect(
      writer.submit(write(merchantId, { guards: guarded('OPEN'), ops: [{ kind: 'update', table: 'Order', rows: [{ id: order.id, status: 'REFUNDED' }] }] }), noPublish),
    ).rejects.toThrow(/no transition OPEN → REFUNDED/);
    // A status write must name the status it changes from.
    await expect(
      writer.submit(write(merchantId, { guards: [{ table: 'Order', id: order.id, match: { version: order.version } }], ops: [{ kind: 'update', table: 'Order', rows: [{ id: order.id, status: 'CANCELED' }] }] }), noPublish),
    ).rejects.toThrow(/guarded by the status it changes from/);
    // A new order starts OPEN.
    const row = await api.db.order.findUniqueOrThrow({ where: { id: order.id } });
    await expect(
      writer.submit(write(merchantId, { ops: [{ kind: 'insert', table: 'Order', rows: [{ ...row, id: newId('Order'), status: 'PAID' }] }] }), noPublish),
    ).rejects.toThrow(TransitionError);
    expect((await api.db.order.findUniqueOrThrow({ where: { id: order.id } })).status).toBe('OPEN');
    expect(await api.db.order.count({ where: { merchantId } })).toBe(1);
    // What the tables list is written: OPEN → CANCELED.
    const ok = await writer.submit(write(merchantId, { guards: guarded('OPEN'), ops: [{ kind: 'update', table: 'Order', rows: [{ id: order.id, status: 'CANCELED' }] }] }), noPublish);
    expect(ok.ok).toBe(true);
    expect((await api.db.order.findUniqueOrThrow({ where: { id: order.id } })).status).toBe('CANCELED');
  });
});
