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
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, readdir } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { createPrisma, poolSize } from '../src/db/prisma.js';
import { createOrder, type CreateOrderInput } from '../src/orders/create.js';
import { scopeOf, systemClock, type Scope } from '../src/domain/context.js';
import { newId } from '../src/ids.js';
import {
  CREATE_ORDER,
  GraphQLClient,
  createOrderInput,
  envNumber,
  mib,
  openBenchDatabase,
  percentile,
  post,
  rssOf,
  signupTaxedMerchant,
  table,
} from './lib.js';

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
// The server child process

interface ServerProcess {
  child: ChildProcess;
  pid: number;
  url: string;
  /** Asks the server to profile its CPU until the returned function is called (writes `file`). */
  profile(file: string): Promise<() => Promise<void>>;
  stop(): Promise<void>;
}

function awaitMessage(child: ChildProcess, type: string): Promise<void> {
  return new Promise((resolve) => {
    const on = (m: { type?: string }) => {
      if (m?.type === type) {
        child.off('message', on);
        resolve();
      }
    };
    child.on('message', on);
  });
}

async function startServerProcess(databaseUrl: string): Promise<ServerProcess> {
  const entry = fileURLToPath(new URL('./server.ts', import.meta.url));
  const extra = (process.env.BENCH_SERVER_NODE_ARGS ?? '').split(/\s+/).filter(Boolean);
  const child = fork(entry, [], {
    execArgv: [...extra, '--import', 'tsx'],
    env: { ...process.env, BENCH_SERVER_DATABASE_URL: databaseUrl, NODE_ENV: 'production' },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const ready = await new Promise<{ url: string; pid: number }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the server did not start within 60 s')), 60_000);
    child.once('message', (m: { type?: string; url: string; pid: number }) => {
      clearTimeout(timer);
      if (m?.type === 'ready') resolve(m);
      else reject(new Error(`unexpected message from the server: ${JSON.stringify(m)}`));
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`the server exited before it was ready (code ${code}, signal ${signal})`));
    });
  });
  return {
    child,
    pid: ready.pid,
    url: ready.url,
    profile: async (file) => {
      const started = awaitMessage(child, 'profile-started');
      child.send({ type: 'profile-start' });
      await started;
      return async () => {
        const written = awaitMessage(child, 'profile-written');
        child.send({ type: 'profile-stop', file });
        await written;
      };
    },
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timedOut = await Promise.race([
        exited.then(() => false),
        new Promise<boolean>((r) => setTimeout(() => r(true), 15_000).unref()),
      ]);
      if (timedOut) {
        child.kill('SIGKILL');
        await exited;
      }
    },
  };
}

// ---------------------------------------------------------------------------------------------
// CPU accounting (Linux /proc): server process, this process, whole machine.

const CLK_TCK = 100;

async function processCpuSeconds(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state); utime is field 14, stime field 15.
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
}

/** CPU seconds of every process named `postgres` (both clusters, all backends), by pid. */
async function postgresCpu(): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = await readFile(`/proc/${entry}/stat`, 'utf8');
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      if (comm !== 'postgres') continue;
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.set(entry, (Number(fields[11]) + Number(fields[12])) / CLK_TCK);
    } catch {
      // the process exited meanwhile
    }
  }
  return out;
}

/** CPU used between two snapshots by the processes alive at the end (new ones count in full). */
function postgresCpuDelta(before: Map<string, number>, after: Map<string, number>): number {
  let total = 0;
  for (const [pid, secs] of after) total += secs - (before.get(pid) ?? 0);
  return total;
}

async function machineCpu(): Promise<{ busy: number; total: number }> {
  const line = (await readFile('/proc/stat', 'utf8')).split('\n')[0]!;
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal: busy = all but idle, iowait and steal.
  const idle = (v[3] ?? 0) + (v[4] ?? 0) + (v[7] ?? 0);
  const total = v.slice(0, 8).reduce((a, b) => a + b, 0);
  return { busy: (total - idle) / CLK_TCK, total: total / CLK_TCK };
}

// ---------------------------------------------------------------------------------------------
// Load generation

interface LevelResult {
  series: string;
  concurrency: number;
  count: number;
  errors: number;
  seconds: number;
  rate: number;
  p50: number;
  p99: number;
  max: number;
  serverRssEnd: number | null;
  serverRssPeak: number | null;
  serverCores: number | null;
  benchCores: number;
  postgresCores: number;
  /** Busy cores not explained by the server, this process and PostgreSQL: other load on the machine. */
  otherCores: number;
  machineBusy: number;
}

async function runWorkers(concurrency: number, ms: number, op: (worker: number) => Promise<void>, latencies: number[] | null) {
  let errors = 0;
  let firstError: unknown = null;
  const deadline = performance.now() + ms;
  await Promise.all(
    Array.from({ length: concurrency }, async (_, w) => {
      while (performance.now() < deadline) {
        const t0 = performance.now();
        try {
          await op(w);
          latencies?.push(performance.now() - t0);
        } catch (err) {
          errors += 1;
          firstError ??= err;
          if (errors > 100) throw err;
        }
      }
    }),
  );
  return { errors, firstError };
}

interface Series {
  name: string;
  op: (worker: number) => Promise<void>;
  /** The server pid when the series goes through the server (RSS and CPU are sampled). */
  serverPid: number | null;
}

interface Accumulated {
  latencies: number[];
  errors: number;
  firstError: unknown;
  seconds: number;
  serverCpu: number;
  benchCpu: number;
  postgresCpu: number;
  busy: number;
  total: number;
  rssPeak: number;
  rssEnd: number;
}

/** One measured slice of a series; adds what it saw to `acc`. */
async function measureSlice(series: Series, concurrency: number, ms: number, acc: Accumulated): Promise<void> {
  const pid = series.serverPid;
  let sampling = true;
  const sampler = (async () => {
    while (sampling && pid) {
      acc.rssPeak = Math.max(acc.rssPeak, await rssOf(pid));
      await new Promise((r) => setTimeout(r, 200));
    }
  })();
  const cpu0 = pid ? await processCpuSeconds(pid) : 0;
  const self0 = process.cpuUsage();
  const pg0 = await postgresCpu();
  const m0 = await machineCpu();
  const t0 = performance.now();
  const { errors, firstError } = await runWorkers(concurrency, ms, series.op, acc.latencies);
  acc.seconds += (performance.now() - t0) / 1000;
  const m1 = await machineCpu();
  const self1 = process.cpuUsage(self0);
  const cpu1 = pid ? await processCpuSeconds(pid) : 0;
  const pg1 = await postgresCpu();
  sampling = false;
  await sampler;
  if (pid) acc.rssEnd = await rssOf(pid);
  acc.errors += errors;
  acc.firstError ??= firstError;
  acc.serverCpu += cpu1 - cpu0;
  acc.benchCpu += (self1.user + self1.system) / 1e6;
  acc.postgresCpu += postgresCpuDelta(pg0, pg1);
  acc.busy += m1.busy - m0.busy;
  acc.total += m1.total - m0.total;
}

/**
 * One concurrency level of every series: a warm-up of each, then ROUNDS rounds in which each series
 * runs DURATION/ROUNDS in turn. Interleaving spreads a change of background load over all series,
 * so their ratios hold even on a machine that is not quiet.
 */
async function runLevel(concurrency: number, series: Series[], profile?: () => Promise<() => Promise<void>>): Promise<LevelResult[]> {
  for (const s of series) await runWorkers(concurrency, WARMUP_MS, s.op, null);
  const accs: Accumulated[] = series.map(() => ({
    latencies: [],
    errors: 0,
    firstError: null,
    seconds: 0,
    serverCpu: 0,
    benchCpu: 0,
    postgresCpu: 0,
    busy: 0,
    total: 0,
    rssPeak: 0,
    rssEnd: 0,
  }));
  const stopProfile = profile ? await profile() : null;
  for (let r = 0; r < ROUNDS; r++) {
    for (let i = 0; i < series.length; i++) await measureSlice(series[i]!, concurrency, DURATION_MS / ROUNDS, accs[i]!);
  }
  await stopProfile?.();
  return series.map((s, i) => {
    const a = accs[i]!;
    if (a.firstError) log(`${s.name} c=${concurrency}: ${a.errors} errors, first: ${String((a.firstError as Error).message ?? a.firstError).slice(0, 500)}`);
    a.latencies.sort((x, y) => x - y);
    const serverCores = s.serverPid ? a.serverCpu / a.seconds : 0;
    const benchCores = a.benchCpu / a.seconds;
    const postgresCores = a.postgresCpu / a.seconds;
    return {
      series: s.name,
      concurrency,
      count: a.latencies.length,
      errors: a.errors,
      seconds: a.seconds,
      rate: a.latencies.length / a.seconds,
      p50: percentile(a.latencies, 50),
      p99: percentile(a.latencies, 99),
      max: a.latencies.at(-1) ?? NaN,
      serverRssEnd: s.serverPid ? a.rssEnd : null,
      serverRssPeak: s.serverPid ? Math.max(a.rssPeak, a.rssEnd) : null,
      serverCores: s.serverPid ? serverCores : null,
      benchCores,
      postgresCores,
      otherCores: Math.max(0, a.busy / a.seconds - serverCores - benchCores - postgresCores),
      machineBusy: a.busy / a.total,
    };
  });
}

// ---------------------------------------------------------------------------------------------
// The floor: the same rows with plain pg

type Row = Record<string, unknown>;

interface TableTemplate {
  table: string;
  columns: string[];
  /** Builds the values of one row; jsonb values are pre-serialised strings (cast in SQL). */
  values: (ids: { orderId: string; lineId: () => string; activityId: string }, at: Date, row: Row, chain?: Chain) => unknown[];
  rows: Row[];
  casts: string[];
}

/** Audit-chain columns of an Activity row (present since the audit chain migration). */
interface Chain {
  sequence: bigint;
  hash: string;
  previousHash: string | null;
}

const JSONB_OID = 3802;
const JSON_OID = 114;

async function tableTemplate(client: pg.PoolClient, tableName: string, where: string, orderId: string): Promise<TableTemplate> {
  const res = await client.query(`SELECT * FROM "${tableName}" WHERE ${where} = $1 ORDER BY id`, [orderId]);
  if (res.rows.length === 0) throw new Error(`no ${tableName} rows for ${orderId}`);
  const fields = res.fields;
  const columns = fields.map((f) => f.name);
  // Keep the value of every column the app filled (NULLs included), so both write the same data.
  const casts = fields.map((f) => (f.dataTypeID === JSONB_OID || f.dataTypeID === JSON_OID ? '::jsonb' : tableName === 'Order' && f.name === 'status' ? '::"OrderStatus"' : ''));
  const rows: Row[] = res.rows.map((r: Row) => {
    const out: Row = {};
    for (const f of fields) {
      const v = r[f.name];
      out[f.name] = (f.dataTypeID === JSONB_OID || f.dataTypeID === JSON_OID) && v !== null ? JSON.stringify(v) : v;
    }
    return out;
  });
  const values: TableTemplate['values'] = (ids, at, row, chain) =>
    columns.map((c) => {
      if (c === 'id') return tableName === 'Order' ? ids.orderId : tableName === 'LineItem' ? ids.lineId() : ids.activityId;
      if (c === 'orderId') return ids.orderId;
      if (c === 'createdAt' || c === 'updatedAt' || c === 'occurredAt') return at;
      if (chain && (c === 'sequence' || c === 'hash' || c === 'previousHash')) return c === 'sequence' ? String(chain[c]) : chain[c];
      return row[c];
    });
  return { table: tableName, columns, values, rows, casts };
}

function insertSql(t: TableTemplate, rowCount: number): string {
  const n = t.columns.length;
  const tuples = Array.from({ length: rowCount }, (_, r) => `(${t.columns.map((_, i) => `$${r * n + i + 1}${t.casts[i]}`).join(', ')})`);
  return `INSERT INTO "${t.table}" (${t.columns.map((c) => `"${c}"`).join(', ')}) VALUES ${tuples.join(', ')}`;
}

interface Floor {
  create(): Promise<void>;
}

async function buildFloor(pool: pg.Pool, orderId: string): Promise<Floor> {
  const client = await pool.connect();
  let order: TableTemplate, lines: TableTemplate, activity: TableTemplate;
  try {
    order = await tableTemplate(client, 'Order', 'id', orderId);
    lines = await tableTemplate(client, 'LineItem', '"orderId"', orderId);
    activity = await tableTemplate(client, 'Activity', '"orderId"', orderId);
  } finally {
    client.release();
  }
  if (lines.rows.length !== 3 || activity.rows.length !== 1) throw new Error(`unexpected template: ${lines.rows.length} lines, ${activity.rows.length} activities`);
  const orderSql = insertSql(order, 1);
  const linesSql = insertSql(lines, lines.rows.length);
  const activitySql = insertSql(activity, 1);
  // Audit chain (Activity.sequence/hash/previousHash): the floor fills the columns with values of its
  // own (negative sequences, which never collide with the app's) and does not lock the chain head.
  let floorSequence = 0n;
  let floorHash: string | null = null;
  const nextFloorChain = (): Chain => {
    const hash = randomBytes(32).toString('hex');
    const chain = { sequence: --floorSequence, hash, previousHash: floorHash };
    floorHash = hash;
    return chain;
  };
  return {
    async create() {
      const ids = { orderId: newId('Order'), lineId: () => newId('LineItem'), activityId: newId('Activity') };
      const at = new Date();
      const c = await pool.connect();
      try {
        await c.query('BEGIN');
        await c.query(orderSql, order.values(ids, at, order.rows[0]!));
        await c.query(linesSql, lines.rows.flatMap((r) => lines.values(ids, at, r)));
        await c.query(activitySql, activity.values(ids, at, activity.rows[0]!, nextFloorChain()));
        await c.query('COMMIT');
      } catch (err) {
        await c.query('ROLLBACK').catch(() => {});
        throw err;
      } finally {
        c.release();
      }
    },
  };
}

// ---------------------------------------------------------------------------------------------

function fmt(n: number, digits = 1): string {
  return Number.isFinite(n) ? n.toFixed(digits) : '-';
}

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
      domainDb = createPrisma(database.url);
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
      const level = await runLevel(c, series, PROFILE_DIR ? () => srv.profile(path.join(PROFILE_DIR, `server-createOrder-c${c}.cpuprofile`)) : undefined);
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
  } finally {
    await pool?.end().catch(() => {});
    await domainDb?.$disconnect().catch(() => {});
    await server?.stop().catch((e: unknown) => console.error(e));
    await database.cleanup();
  }
}

main().catch((err) => {
  console.error('[bench] failed:', err);
  process.exitCode = 1;
});
