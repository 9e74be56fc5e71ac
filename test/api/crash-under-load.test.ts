// kill -9 under load. The real server (src/main.ts) runs as a child process on a database of its own
// while 16 clients each loop create → pay → refund, every call with an idempotency key, retrying the
// same request with the same key when the connection breaks (as a real client does). The server is
// killed three times mid-load and restarted. Afterwards every key replays its final result (never
// pending, never IDEMPOTENCY_KEY_IN_USE), no key is stored pending, every order is charged at most once
// and never refunded more than was paid.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useMainProcesses, type MainProcess } from '../support/main-process.js';
import { freshDatabase } from '../support/db.js';
import { createPrisma } from '../../src/db/prisma.js';
import type { Db } from '../../src/kernel/context.js';

const startMain = useMainProcesses();
/** The load test is not about rate limits: one key sends far more than a minute's default quota. */
const startChild = (url: string, env: Record<string, string>) => startMain(url, { RATE_LIMIT_MONEY: '1000000/60', RATE_LIMIT_WRITES: '1000000/60', RATE_LIMIT_READS: '1000000/60', ...env });

const CREATE = 'mutation($input: CreateOrderInput!) { createOrder(input: $input) { order { id lineItems { id } } userErrors { code message } } }';
const PAY = 'mutation($input: PayOrderInput!) { payOrder(input: $input) { order { id status } paymentIntent { id status } userErrors { code message } } }';
const REFUND = 'mutation($input: CreateRefundInput!) { createRefund(input: $input) { refund { id status } order { status } userErrors { code message } } }';

type Sent = { query: string; input: Record<string, unknown>; field: string; answer: unknown };

/** The server of the moment (the port changes at every restart), and whether it is up. */
const server: { current: MainProcess | null } = { current: null };

async function post(query: string, variables: Record<string, unknown>, key: string | null): Promise<{ data?: Record<string, unknown>; errors?: unknown[] }> {
  const target = server.current;
  if (!target) throw new Error('down');
  const response = await fetch(`${target.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) },
    body: JSON.stringify({ query, variables }),
    signal: AbortSignal.timeout(20_000),
  });
  return (await response.json()) as { data?: Record<string, unknown>; errors?: unknown[] };
}

/** Sends until an answer arrives: a broken connection means "send the same request again". */
async function send(sent: Sent[], key: string, query: string, field: string, input: Record<string, unknown>, deadline: number): Promise<Record<string, unknown> | null> {
  for (;;) {
    try {
      const body = await post(query, { input }, key);
      if (body.errors) throw new Error(JSON.stringify(body.errors));
      const answer = body.data![field] as Record<string, unknown>;
      sent.push({ query, input, field, answer });
      return answer;
    } catch (error) {
      if (String(error).includes('"errors"') || String(error).startsWith('Error: [')) throw error;
      if (Date.now() > deadline) {
        sent.push({ query, input, field, answer: null });
        return null;
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

describe('kill -9 under a mixed create/pay/refund load', () => {
  let fresh: { url: string; drop: () => Promise<void> };
  let db: Db;
  beforeAll(async () => {
    fresh = await freshDatabase();
    db = createPrisma(fresh.url);
  });
  afterAll(async () => {
    await db?.$disconnect();
    await fresh?.drop();
  });

  it('three kills: afterwards every key replays its final result, none is pending, nothing is charged or refunded twice', async () => {
    server.current = await startChild(fresh.url, {});
    const signup = await post('mutation { createMerchant(input: { name: "Kill Café", email: "kill@example.com" }) { testApiKey } }', {}, null);
    const key = (signup.data!.createMerchant as { testApiKey: string }).testApiKey;

    const sent: Sent[] = [];
    let stop = false;
    const worker = async (w: number) => {
      while (!stop) {
        const deadline = Date.now() + 60_000;
        const order = await send(sent, key, CREATE, 'createOrder', {
          idempotencyKey: `create-${w}-${randomUUID()}`,
          buyerEmail: `buyer${w}@example.com`,
          lineItems: [{ name: 'Coffee', quantity: 2, unitPriceMoney: { amount: 1999, currency: 'USD' } }],
        }, deadline);
        const created = order?.order as { id: string; lineItems: { id: string }[] } | undefined;
        if (!created) continue;
        const paid = await send(sent, key, PAY, 'payOrder', { orderId: created.id, paymentSourceTokens: ['tok_visa'], idempotencyKey: `pay-${created.id}` }, deadline);
        const intent = paid?.paymentIntent as { id: string; status: string } | undefined;
        if (!intent || intent.status !== 'SUCCEEDED') continue;
        await send(sent, key, REFUND, 'createRefund', {
          paymentIntentId: intent.id,
          lineItems: [{ lineItemId: created.lineItems[0]!.id, quantity: 1 }],
          reason: 'REFUND_REASON_REQUESTED_BY_CUSTOMER',
          idempotencyKey: `refund-${created.id}`,
        }, deadline);
      }
    };
    const workers = Array.from({ length: 16 }, (_, w) => worker(w));

    for (let kill = 0; kill < 3; kill++) {
      await new Promise((resolve) => setTimeout(resolve, 1500 + Math.random() * 1500));
      const victim = server.current!;
      server.current = null;
      victim.process.kill('SIGKILL');
      await victim.exited;
      server.current = await startChild(fresh.url, {});
    }
    await new Promise((resolve) => setTimeout(resolve, 1500));
    stop = true;
    await Promise.all(workers);

    // One more restart with the load stopped: its start-up pass settles whatever the last kill left.
    const last = server.current!;
    last.process.kill('SIGKILL');
    await last.exited;
    server.current = await startChild(fresh.url, {});

    expect(sent.filter((s) => s.field === 'payOrder').length).toBeGreaterThan(10);
    // Every key replays a final result: the same answer as the first one received, never IN_USE.
    for (const s of sent) {
      const replay = await send([], key, s.query, s.field, s.input, Date.now() + 30_000);
      expect(replay, `${s.field} ${String(s.input.idempotencyKey)}`).not.toBeNull();
      const codes = ((replay!.userErrors as { code: string }[]) ?? []).map((e) => e.code);
      expect(codes, `${s.field} ${String(s.input.idempotencyKey)}`).not.toContain('IDEMPOTENCY_KEY_IN_USE');
      if (s.answer !== null && s.field !== 'createOrder') {
        // The order may have moved on since (a refund after the payment): compare what the call did.
        const what = (a: Record<string, unknown>) => ({ intent: (a.paymentIntent as { id?: string } | null)?.id, refund: (a.refund as { id?: string } | null)?.id, errors: a.userErrors });
        expect(what(replay!), `${s.field} ${String(s.input.idempotencyKey)}`).toEqual(what(s.answer as Record<string, unknown>));
      }
    }
    const pending = await db.$queryRaw<{ key: string }[]>`SELECT "key" FROM "IdempotencyKey" WHERE "response" @> '{"pending": true}'`;
    expect(pending).toEqual([]);

    // Money: at most one succeeded charge per order, and the processor charged exactly what Flint recorded.
    const intents = await db.paymentIntent.findMany({ where: { status: 'SUCCEEDED' } });
    const perOrder = new Map<string, number>();
    for (const i of intents) perOrder.set(i.orderId, (perOrder.get(i.orderId) ?? 0) + 1);
    expect([...perOrder.values()].every((n) => n === 1)).toBe(true);
    const charges = await db.sandboxCharge.findMany({ where: { status: 'SUCCEEDED' } });
    expect(charges.length).toBe(intents.length);
    const orders = await db.order.findMany({ where: { merchantId: { not: '' } } });
    for (const o of orders) expect(o.refundedAmount + o.pendingRefundAmount).toBeLessThanOrEqual(o.paidAmount);
    const refunds = await db.refund.findMany({ where: { status: 'SUCCEEDED' } });
    const sandboxRefunds = await db.sandboxRefund.findMany({ where: { status: 'SUCCEEDED' } });
    expect(sandboxRefunds.length).toBe(refunds.length);
    server.current.process.kill('SIGTERM');
    await server.current.exited;
  }, 240_000);
});
