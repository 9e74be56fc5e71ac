// `npx tsx bench/limits.ts`: what the hardening costs and what it protects, in one run.
//
//   1. Cost: createOrder (3 taxed lines, bench/lib.ts) at concurrency BENCH_CONCURRENCY (default 32)
//      against two servers side by side, each in its own process (bench/server.ts): limits OFF (no
//      query limits, cost rule, strict arguments or rate limits) and limits ON with every rate limit
//      counted in PostgreSQL but too large to refuse ("counting"). Measured in BENCH_ROUNDS (default 4)
//      interleaved slices of BENCH_SLICE_S (default 4 s) after a warm-up, so background load on the
//      shared machine hits both alike.
//      Two more series split the cost: document limits and strict arguments without rate limits, and
//      every limit with the counters in Redis (BENCH_REDIS_URL, default redis://127.0.0.1:6379).
//   2. Isolation: a server with reads limited to 1000 per minute per key ("small"). Key B reads at
//      c=2 alone (quiet), then again while key A floods at c=32: A gets 429 + Retry-After, B's p99 is
//      compared with the quiet run.
//   3. Hostile load: against the production defaults, BENCH_HOSTILE_ROUNDS (default 10) rounds of the
//      heavy attacks of the hostile suite (5,000 aliases, 10,000-deep braces, 5,000 chained fragments,
//      deep nesting through lists, costly pages, 12 concurrent 20 MB bodies without a key, 900 KB
//      strings, metadata 5,000 deep, invalid UTF-8, wrong keys): slowest answer, any 5xx, and the
//      server's RSS growth (VmRSS before and after, and its peak sampled every 50 ms).
import { fork, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { CREATE_ORDER, GraphQLClient, createOrderInput, envNumber, mib, openBenchDatabase, percentile, rssOf, signupTaxedMerchant, table } from './lib.js';

interface Server {
  child: ChildProcess;
  pid: number;
  url: string;
  stop(): Promise<void>;
}

async function startServer(databaseUrl: string, profile: string): Promise<Server> {
  const child = fork(fileURLToPath(new URL('./server.ts', import.meta.url)), [], {
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, BENCH_SERVER_DATABASE_URL: databaseUrl, BENCH_LIMITS: profile, NODE_ENV: 'production' },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const ready = await new Promise<{ url: string; pid: number }>((resolve, reject) => {
    child.once('message', (m: { type?: string; url: string; pid: number }) => (m?.type === 'ready' ? resolve(m) : reject(new Error(JSON.stringify(m)))));
    child.once('exit', (code) => reject(new Error(`server exited (${code})`)));
  });
  return {
    child,
    pid: ready.pid,
    url: ready.url,
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

interface Run {
  count: number;
  errors: number;
  status429: number;
  retryAfterSeen: boolean;
  latencies: number[];
  seconds: number;
}

/** Closed loop: `concurrency` workers each send one request at a time for `seconds`. */
async function load(url: string, concurrency: number, seconds: number, body: (i: number) => string, key: string): Promise<Run> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const endpoint = new URL('/graphql', url);
  const run: Run = { count: 0, errors: 0, status429: 0, retryAfterSeen: false, latencies: [], seconds };
  const end = performance.now() + seconds * 1000;
  let i = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        const started = performance.now();
        const res = await postWithHeaders(agent, endpoint, body(i++), { authorization: `Bearer ${key}` });
        run.latencies.push(performance.now() - started);
        run.count += 1;
        if (res.status === 429) {
          run.status429 += 1;
          if (Number(res.retryAfter) >= 1) run.retryAfterSeen = true;
        } else if (res.status !== 200 || res.body.includes('"errors"') || /"userErrors":\[\{/.test(res.body)) run.errors += 1;
      }
    }),
  );
  agent.destroy();
  run.latencies.sort((a, b) => a - b);
  return run;
}

function postWithHeaders(agent: http.Agent, url: URL, body: string, headers: Record<string, string>): Promise<{ status: number; body: string; retryAfter: string | undefined }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ agent, hostname: url.hostname, port: url.port, path: url.pathname, method: 'POST', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), retryAfter: res.headers['retry-after'] as string | undefined }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

const fmt = (n: number, digits = 1) => n.toFixed(digits);

async function main(): Promise<void> {
  const log = (m: string) => console.error(`[bench] ${m}`);
  const database = await openBenchDatabase(log);
  const servers: Server[] = [];
  try {
    const concurrency = envNumber('BENCH_CONCURRENCY', 32);
    const rounds = envNumber('BENCH_ROUNDS', 4);
    const slice = envNumber('BENCH_SLICE_S', 4);

    // 1. Cost of the limits on createOrder.
    const profiles = [
      ['limits off', 'off'],
      ['limits on (counters in PostgreSQL)', 'counting'],
      ['document limits only (no rate limits)', 'no-rate-limits'],
      ['limits on (counters in Redis)', 'counting-redis'],
    ] as const;
    const sides = [];
    for (const [name, profile] of profiles) {
      const server = await startServer(database.url, profile);
      servers.push(server);
      sides.push({ name, server, key: (await signupTaxedMerchant(new GraphQLClient(server.url), `Bench ${profile}`)).key });
    }
    const body = (i: number) => JSON.stringify({ query: CREATE_ORDER, variables: { input: createOrderInput(i) } });
    log('warm-up');
    for (const side of sides) await load(side.server.url, concurrency, 2, body, side.key);
    const totals = new Map(sides.map((s) => [s.name, { count: 0, errors: 0, seconds: 0, latencies: [] as number[] }]));
    for (let r = 0; r < rounds; r++) {
      for (const side of r % 2 === 0 ? sides : [...sides].reverse()) {
        log(`round ${r + 1}/${rounds}: ${side.name}`);
        const run = await load(side.server.url, concurrency, slice, body, side.key);
        const t = totals.get(side.name)!;
        t.count += run.count;
        t.errors += run.errors;
        t.seconds += run.seconds;
        t.latencies.push(...run.latencies);
      }
    }
    const rows = sides.map((s) => {
      const t = totals.get(s.name)!;
      t.latencies.sort((a, b) => a - b);
      return { name: s.name, rate: t.count / t.seconds, p50: percentile(t.latencies, 50), p99: percentile(t.latencies, 99), errors: t.errors };
    });
    const cost = 1 - rows[1]!.rate / rows[0]!.rate;
    console.log(`\n### createOrder at c=${concurrency}, limits off vs on (${rounds} interleaved slices of ${slice} s each)\n`);
    console.log(table(['series', 'orders/s', 'p50 ms', 'p99 ms', 'errors'], rows.map((r) => [r.name, fmt(r.rate), fmt(r.p50), fmt(r.p99), r.errors])));
    console.log(`\nthroughput cost of the limits (PostgreSQL counters): ${fmt(cost * 100)} %; document limits only: ${fmt((1 - rows[2]!.rate / rows[0]!.rate) * 100)} %; Redis counters: ${fmt((1 - rows[3]!.rate / rows[0]!.rate) * 100)} %`);
    for (const side of sides) await side.server.stop();

    // 2. A burst on one key does not slow another key.
    const small = await startServer(database.url, 'small');
    servers.push(small);
    const client = new GraphQLClient(small.url);
    const a = await signupTaxedMerchant(client, 'Flooder');
    const b = await signupTaxedMerchant(client, 'Neighbour');
    const read = () => JSON.stringify({ query: '{ viewer { id name } }' });
    const quiet = await load(small.url, 2, 2, read, b.key);
    // B stays within its own 1000 per minute; A floods far beyond its own.
    // A starts first, so that B's run falls in the flood, after A's limit is used up.
    const flooding = load(small.url, concurrency, 5, read, a.key);
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const [flood, during] = await Promise.all([flooding, load(small.url, 2, 2, read, b.key)]);
    console.log(`\n### One key floods (c=${concurrency}, reads limited to 1000/min per key), another reads at c=2\n`);
    console.log(
      table(
        ['series', 'requests', '429', 'Retry-After', 'p50 ms', 'p99 ms'],
        [
          ['key B alone (quiet)', quiet.count, quiet.status429, '-', fmt(percentile(quiet.latencies, 50)), fmt(percentile(quiet.latencies, 99))],
          ['key A flooding', flood.count, flood.status429, flood.retryAfterSeen ? 'yes' : 'no', fmt(percentile(flood.latencies, 50)), fmt(percentile(flood.latencies, 99))],
          ['key B during the flood', during.count, during.status429, '-', fmt(percentile(during.latencies, 50)), fmt(percentile(during.latencies, 99))],
        ],
      ),
    );
    console.log(`\nkey B p99 during the flood / quiet: ${fmt(percentile(during.latencies, 99) / percentile(quiet.latencies, 99), 2)}×`);
    await small.stop();

    // 3. Hostile load against the production defaults.
    const prod = await startServer(database.url, 'default');
    servers.push(prod);
    const prodClient = new GraphQLClient(prod.url);
    const victim = await signupTaxedMerchant(prodClient, 'Victim');
    const rssBefore = await rssOf(prod.pid);
    let peak = rssBefore;
    const sampler = setInterval(() => void rssOf(prod.pid).then((r) => (peak = Math.max(peak, r))).catch(() => {}), 50);
    const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
    const endpoint = new URL('/graphql', prod.url);
    const attacks: [string, () => string | Buffer, string | null][] = [
      ['5,000 aliases', () => JSON.stringify({ query: `{ ${Array.from({ length: 5_000 }, (_, i) => `a${i}: order(id: "ord_${i}") { id }`).join(' ')} }` }), victim.key],
      ['braces 10,000 deep, no key', () => JSON.stringify({ query: `${'{ viewer '.repeat(10_000)}${'}'.repeat(10_000)}` }), null],
      ['5,000 chained fragments, no key', () => JSON.stringify({ query: `{ ...F0 } ${Array.from({ length: 5_000 }, (_, i) => `fragment F${i} on Query { ...F${i + 1} }`).join(' ')} fragment F5000 on Query { viewer { id } }` }), null],
      ['nesting through lists ×20', () => JSON.stringify({ query: `{ order(id: "x") { ${'paymentIntents { order { '.repeat(20)} id ${'} } '.repeat(20)} } }` }), victim.key],
      ['orders(first: 100) with nested lists', () => JSON.stringify({ query: '{ orders(first: 100) { edges { node { id lineItems { id } paymentIntents { refunds { lineItems { quantity } } } activity { id } } } } }' }), victim.key],
      ['900 KB string', () => JSON.stringify({ query: `{ order(id: "${'x'.repeat(900_000)}") { id } }` }), victim.key],
      ['metadata 5,000 deep', () => `{"query":"mutation ($i: CreateOrderInput!) { createOrder(input: $i) { order { id } } }","variables":{"i":{"metadata":${'{"d":'.repeat(5_000)}1${'}'.repeat(5_000)},"lineItems":[]}}}`, victim.key],
      ['invalid UTF-8', () => Buffer.concat([Buffer.from('{"query":"{ viewer { name } }","x":"'), Buffer.from([0xc0, 0xaf, 0xff]), Buffer.from('"}')]), victim.key],
      ['wrong key', () => JSON.stringify({ query: '{ viewer { id } }' }), 'sk_test_wrongwrongwrongwrongwrong'],
    ];
    const hostileRounds = envNumber('BENCH_HOSTILE_ROUNDS', 10);
    const worst = new Map<string, { max: number; status: Set<number> }>();
    let count = 0;
    let serverErrors = 0;
    const big = Buffer.alloc(20 * 1024 * 1024, 'a');
    for (let r = 0; r < hostileRounds; r++) {
      for (const [name, make, key] of attacks) {
        const started = performance.now();
        const res = await postWithHeaders(agent, endpoint, make() as string, key ? { authorization: `Bearer ${key}` } : {});
        const ms = performance.now() - started;
        const w = worst.get(name) ?? { max: 0, status: new Set<number>() };
        w.max = Math.max(w.max, ms);
        w.status.add(res.status);
        worst.set(name, w);
        count += 1;
        if (res.status >= 500) serverErrors += 1;
      }
      // 12 concurrent 20 MB bodies without a key.
      const started = performance.now();
      const results = await Promise.all(
        Array.from({ length: 12 }, () => postWithHeaders(new http.Agent(), endpoint, big as unknown as string, {}).catch(() => ({ status: 0, body: '', retryAfter: undefined }))),
      );
      const w = worst.get('12 × 20 MB bodies, no key') ?? { max: 0, status: new Set<number>() };
      w.max = Math.max(w.max, performance.now() - started);
      for (const res of results) {
        w.status.add(res.status);
        if (res.status >= 500) serverErrors += 1;
      }
      worst.set('12 × 20 MB bodies, no key', w);
      count += 12;
    }
    clearInterval(sampler);
    agent.destroy();
    await new Promise((resolve) => setTimeout(resolve, 500));
    const rssAfter = await rssOf(prod.pid);
    console.log(`\n### Hostile load on the production defaults: ${count} requests in ${hostileRounds} rounds\n`);
    console.log(table(['attack', 'status', 'slowest ms'], [...worst].map(([name, w]) => [name, [...w.status].join(', '), fmt(w.max)])));
    console.log(`\n5xx: ${serverErrors}; server RSS ${mib(rssBefore)} before, ${mib(peak)} peak, ${mib(rssAfter)} after (growth ${mib(Math.max(0, peak - rssBefore))} at peak)`);
    console.log(`machine: ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${mib(os.totalmem())} RAM, Node ${process.version}, ${database.label}`);
  } finally {
    for (const s of servers) await s.stop().catch(() => {});
    await database.cleanup();
  }
}


main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
