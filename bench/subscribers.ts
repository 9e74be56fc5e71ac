// `npx tsx bench/subscribers.ts`: 1,000 concurrent WebSocket subscribers on one instance receive a
// status change. Reports delivery latency (p50/p90/p99/max) and the server's RSS.
//
//   - Database: DATABASE_URL if set, else an embedded PostgreSQL; a fresh database per run (bench/lib.ts).
//   - Server: src/server.ts startServer in a child process (this file with BENCH_SUBSCRIBERS_ROLE=server),
//     so its RSS (/proc/<pid>/status VmRSS) is its own. Its event bus is wrapped to stamp the instant
//     each activity entry is published (right after its transaction committed).
//   - Subscribers: BENCH_SUBSCRIBERS (default 1000) graphql-ws clients in this process, one WebSocket
//     connection and one subscription each:
//       subscription { orderStatusChanged { previousStatus status order { id status } activity { id sequence hash } } }
//     (merchant-wide, so every round reaches all of them), spread over 4 API keys of one merchant
//     (the default limit is 500 subscriptions per key). The run waits until the server counts them all live.
//   - Rounds: BENCH_ROUNDS (default 20; plus 2 warm-up rounds): create an order (untimed), then cancel
//     it (OPEN -> CANCELED) and wait until every subscriber received that order's status change.
//     Latency "publish -> received" = receipt instant in the subscriber process minus the publish stamp
//     in the server process (both performance.timeOrigin + performance.now(), i.e. the machine's clock);
//     "request -> received" also counts the cancelOrder transaction itself.
//   - RSS: process.memoryUsage().rss of the server after a full GC (--expose-gc) when idle and with the
//     subscribers connected; VmRSS sampled after every round for the peak.
//   - BENCH_PROFILE_FILE=<file.cpuprofile> writes a CPU profile of the server during the rounds.
//   - BENCH_SERVER_NODE_ARGS passes node flags to the server (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof").
//   - Floor: afterwards, the same number of bare `ws` clients connect to a bare `ws` server inside the
//     server process, which sends a message of the same shape and size to all of them per round (no
//     GraphQL, no graphql-ws, no event bus): what delivering to that many sockets costs on this machine.
//   - BENCH_REDIS_URL=redis://127.0.0.1:6379 runs the instance with the Redis event bus instead of the
//     in-memory one (events make the round trip through Redis even though there is one instance).
import { fork, type ChildProcess } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector';
import { fileURLToPath } from 'node:url';
import { createClient, type Client } from 'graphql-ws';
import WebSocket, { WebSocketServer } from 'ws';
import { GraphQLClient, envNumber, mib, openBenchDatabase, percentile, rssOf, table } from './lib.js';

const ROLE = process.env.BENCH_SUBSCRIBERS_ROLE;
const now = () => performance.timeOrigin + performance.now();

// ---------------------------------------------------------------------------------------------
// Server process

async function serve(): Promise<void> {
  const { createPrisma } = await import('../src/db/prisma.js');
  const { startServer } = await import('../src/server.js');
  const { systemClock } = await import('../src/kernel/context.js');
  const { createEventBus } = await import('../src/realtime/bus.js');
  const url = process.env.BENCH_SERVER_DATABASE_URL!;
  const db = createPrisma(url);
  const bus = createEventBus(process.env.BENCH_REDIS_URL || null);
  const stamps = new Map<string, number>();
  const events: typeof bus = {
    ...bus,
    kind: bus.kind,
    publishActivity: async (rows) => {
      const at = now();
      for (const row of rows) stamps.set(row.id, at);
      await bus.publishActivity(rows);
    },
  };
  const app = await startServer({ db, clock: systemClock, events }, { development: false, port: 0 }, '127.0.0.1');
  const stop = async () => {
    await app.close().catch((e: unknown) => console.error(e));
    await bus.close();
    await db.$disconnect();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop());
  process.on('disconnect', () => void stop());
  let session: Session | null = null;
  const post = (method: string, params?: object) =>
    new Promise<unknown>((resolve, reject) => session!.post(method, params ?? {}, (err, result) => (err ? reject(err) : resolve(result))));
  process.on('message', async (m: { type?: string; ids?: string[]; file?: string }) => {
    if (m?.type === 'hub') process.send?.({ type: 'hub', size: app.hub.size });
    if (m?.type === 'rss') {
      // After a full collection, so that garbage of earlier steps does not blur the comparison.
      (globalThis as { gc?: () => void }).gc?.();
      const usage = process.memoryUsage();
      process.send?.({ type: 'rss', rss: usage.rss, heap: usage.heapUsed + usage.external });
    }
    if (m?.type === 'profile-start') {
      session = new Session();
      session.connect();
      await post('Profiler.enable');
      await post('Profiler.start');
      process.send?.({ type: 'profile-started' });
    }
    if (m?.type === 'profile-stop' && session && m.file) {
      const { profile } = (await post('Profiler.stop')) as { profile: unknown };
      await writeFile(m.file, JSON.stringify(profile));
      session.disconnect();
      process.send?.({ type: 'profile-written' });
    }
    if (m?.type === 'stamps') process.send?.({ type: 'stamps', stamps: Object.fromEntries((m.ids ?? []).map((id) => [id, stamps.get(id) ?? null])) });
  });
  // The floor: a bare `ws` server in the same process that sends one pre-serialised message of the same
  // shape to every connected socket (no GraphQL, no graphql-ws, no event bus).
  const raw = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  await new Promise<void>((resolve) => raw.once('listening', () => resolve()));
  process.on('message', (m: { type?: string; payload?: string }) => {
    if (m?.type === 'raw-count') process.send?.({ type: 'raw-count', size: raw.clients.size });
    if (m?.type === 'raw-broadcast') {
      const at = now();
      for (const socket of raw.clients) socket.send(m.payload!);
      process.send?.({ type: 'raw-sent', at });
    }
  });
  const rawPort = (raw.address() as { port: number }).port;
  process.send?.({ type: 'ready', url: app.url, pid: process.pid, bus: bus.kind, rawUrl: `ws://127.0.0.1:${rawPort}` });
}

// ---------------------------------------------------------------------------------------------
// Bench process

interface Server {
  child: ChildProcess;
  url: string;
  rawUrl: string;
  pid: number;
  bus: string;
  ask<T>(message: object, type: string): Promise<T>;
  stop(): Promise<void>;
}

async function startServerProcess(databaseUrl: string): Promise<Server> {
  const child = fork(fileURLToPath(import.meta.url), [], {
    execArgv: ['--expose-gc', ...(process.env.BENCH_SERVER_NODE_ARGS ?? '').split(/\s+/).filter(Boolean), '--import', 'tsx'],
    env: { ...process.env, BENCH_SUBSCRIBERS_ROLE: 'server', BENCH_SERVER_DATABASE_URL: databaseUrl, NODE_ENV: 'production' },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const ready = await new Promise<{ url: string; pid: number; bus: string; rawUrl: string }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the server did not start within 60 s')), 60_000);
    child.once('message', (m: { type?: string; url: string; pid: number; bus: string; rawUrl: string }) => {
      clearTimeout(timer);
      if (m?.type === 'ready') resolve(m);
      else reject(new Error(`unexpected message ${JSON.stringify(m)}`));
    });
  });
  return {
    child,
    ...ready,
    ask: (message, type) =>
      new Promise((resolve) => {
        const on = (m: { type?: string }) => {
          if (m?.type !== type) return;
          child.off('message', on);
          resolve(m as never);
        };
        child.on('message', on);
        child.send(message);
      }),
    stop: async () => {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

const SUBSCRIPTION = `subscription BenchStatus {
  orderStatusChanged { previousStatus status order { id status } activity { id sequence hash } }
}`;
const CREATE_ORDER = `mutation BenchSubsCreate($input: CreateOrderInput!) { createOrder(input: $input) { order { id } userErrors { code message } } }`;
const CANCEL = `mutation BenchSubsCancel($input: CancelOrderInput!) { cancelOrder(input: $input) { order { id status } userErrors { code message } } }`;
const SIGNUP = `mutation BenchSubsSignup($input: CreateMerchantInput!) { createMerchant(input: $input) { testApiKey userErrors { code message } } }`;
const CREATE_KEY = `mutation BenchSubsKey($input: CreateApiKeyInput!) { createApiKey(input: $input) { secret userErrors { code message } } }`;

interface Subscriber {
  client: Client;
  /** orderId → receipt instant */
  received: Map<string, number>;
}

type Round = { orderId: string; sent: number; committed: number; receipts: number[] };

async function main(): Promise<void> {
  const log = (m: string) => console.error(`[bench] ${m}`);
  const count = envNumber('BENCH_SUBSCRIBERS', 1000);
  const rounds = envNumber('BENCH_ROUNDS', 20);
  const warmup = 2;
  const database = await openBenchDatabase(log);
  let server: Server | null = null;
  const subscribers: Subscriber[] = [];
  try {
    server = await startServerProcess(database.url);
    log(`server pid ${server.pid} on ${server.url} (${server.bus} event bus)`);
    const gql = new GraphQLClient(server.url);
    const key = (await gql.exec(SIGNUP, { input: { name: 'Bench dashboards', email: 'bench@example.com' } }, null, 'createMerchant')).createMerchant.testApiKey as string;
    const keys = [key];
    for (let i = 0; i < 3; i++) keys.push((await gql.exec(CREATE_KEY, { input: { livemode: false } }, key, 'createApiKey')).createApiKey.secret as string);
    const line = { name: 'Espresso beans 1kg', quantity: 1, unitPriceMoney: { amount: 2490, currency: 'USD' } };
    // Warm the server's code paths before measuring its idle size.
    for (let i = 0; i < 3; i++) {
      const id = (await gql.exec(CREATE_ORDER, { input: { lineItems: [line] } }, key, 'createOrder')).createOrder.order.id as string;
      await gql.exec(CANCEL, { input: { orderId: id } }, key, 'cancelOrder');
    }
    const memory = () => server!.ask<{ rss: number; heap: number }>({ type: 'rss' }, 'rss');
    const idle = await memory();
    const rssIdle = idle.rss;

    const wsUrl = `${server.url.replace(/^http/, 'ws')}/graphql`;
    let sample: string | undefined;
    const connectStarted = now();
    for (let i = 0; i < count; i++) {
      const subscriber: Subscriber = {
        received: new Map(),
        client: createClient({
          url: wsUrl,
          webSocketImpl: WebSocket,
          connectionParams: { authorization: `Bearer ${keys[i % keys.length]}` },
          retryAttempts: 0,
          lazy: true,
        }),
      };
      subscriber.client.subscribe(
        { query: SUBSCRIPTION },
        {
          next: (result) => {
            const at = now();
            sample ??= JSON.stringify({ id: 'ffffffff-ffff-4fff-8fff-ffffffffffff', type: 'next', payload: result });
            const orderId = (result.data as { orderStatusChanged?: { order: { id: string } } } | undefined)?.orderStatusChanged?.order.id;
            if (orderId) subscriber.received.set(orderId, at);
            else console.error('[bench] unexpected result', JSON.stringify(result));
          },
          error: (error) => console.error('[bench] subscription error', error),
          complete: () => {},
        },
      );
      subscribers.push(subscriber);
      if (i % 100 === 99) await new Promise((r) => setTimeout(r, 20)); // no connect storm
    }
    for (;;) {
      const { size } = await server.ask<{ size: number }>({ type: 'hub' }, 'hub');
      if (size >= count) break;
      if (now() - connectStarted > 120_000) throw new Error(`only ${size} of ${count} subscriptions live after 120 s`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const connectSeconds = (now() - connectStarted) / 1000;
    const subscribed = await memory();
    const rssSubscribed = subscribed.rss;
    const profileFile = process.env.BENCH_PROFILE_FILE;
    if (profileFile) await server.ask({ type: 'profile-start' }, 'profile-started');
    log(`${count} subscribers live in ${connectSeconds.toFixed(1)} s`);

    const done: Round[] = [];
    let rssPeak = rssSubscribed;
    for (let r = 0; r < warmup + rounds; r++) {
      const orderId = (await gql.exec(CREATE_ORDER, { input: { lineItems: [line] } }, key, 'createOrder')).createOrder.order.id as string;
      const sent = now();
      await gql.exec(CANCEL, { input: { orderId } }, key, 'cancelOrder');
      const committed = now();
      const deadline = now() + 15_000;
      while (subscribers.some((s) => !s.received.has(orderId))) {
        if (now() > deadline) throw new Error(`round ${r}: ${subscribers.filter((s) => !s.received.has(orderId)).length} subscribers did not receive the change`);
        await new Promise((res) => setTimeout(res, 2));
      }
      rssPeak = Math.max(rssPeak, await rssOf(server.pid));
      if (r >= warmup) done.push({ orderId, sent, committed, receipts: subscribers.map((s) => s.received.get(orderId)!) });
      await new Promise((res) => setTimeout(res, 100));
    }
    if (profileFile) {
      await server.ask({ type: 'profile-stop', file: profileFile }, 'profile-written');
      log(`server CPU profile of the rounds: ${profileFile} (npx tsx bench/profile-top.ts ${profileFile})`);
    }
    // The publish instants, stamped by the server per activity entry (the order.status_changed entry).
    const ids = await statusEntryIds(database.url, done.map((d) => d.orderId));
    const { stamps } = await server.ask<{ stamps: Record<string, number | null> }>({ type: 'stamps', ids: Object.values(ids) }, 'stamps');

    const fromPublish: number[] = [];
    const fromRequest: number[] = [];
    const lastPerRound: number[] = [];
    for (const round of done) {
      const published = stamps[ids[round.orderId]!];
      if (published == null) throw new Error(`no publish stamp for ${round.orderId}`);
      for (const at of round.receipts) {
        fromPublish.push(at - published);
        fromRequest.push(at - round.sent);
      }
      lastPerRound.push(Math.max(...round.receipts) - published);
    }
    // The floor, with the GraphQL subscribers gone: a bare ws broadcast of a message like theirs.
    await Promise.allSettled(subscribers.splice(0).map((s) => s.client.dispose()));
    const floor = await rawFloor(server, count, rounds, sample!);

    const sort = (a: number[]) => Float64Array.from(a).sort();
    const p = sort(fromPublish);
    const q = sort(fromRequest);
    const last = sort(lastPerRound);
    const ms = (v: number) => v.toFixed(1);
    const cancels = sort(done.map((d) => d.committed - d.sent));

    console.log(`\n${count} WebSocket subscribers, ${rounds} status changes (${count * rounds} deliveries), ${server.bus} event bus, ${database.label}, Node ${process.version}\n`);
    console.log(
      table(
        ['latency (ms)', 'p50', 'p90', 'p99', 'max'],
        [
          ['publish -> received', ms(percentile(p, 50)), ms(percentile(p, 90)), ms(percentile(p, 99)), ms(p[p.length - 1]!)],
          ['cancelOrder request -> received', ms(percentile(q, 50)), ms(percentile(q, 90)), ms(percentile(q, 99)), ms(q[q.length - 1]!)],
          ['publish -> last subscriber of a round', ms(percentile(last, 50)), ms(percentile(last, 90)), ms(percentile(last, 99)), ms(last[last.length - 1]!)],
          ['cancelOrder response (for reference)', ms(percentile(cancels, 50)), ms(percentile(cancels, 90)), ms(percentile(cancels, 99)), ms(cancels[cancels.length - 1]!)],
          ['floor: bare ws broadcast -> received', ms(percentile(floor, 50)), ms(percentile(floor, 90)), ms(percentile(floor, 99)), ms(floor[floor.length - 1]!)],
        ],
      ),
    );
    console.log();
    console.log(
      table(
        ['server memory', ''],
        [
          ['idle (after warm-up, after GC)', mib(rssIdle)],
          [`${count} subscribers connected (after GC)`, mib(rssSubscribed)],
          ['peak during the rounds (VmRSS)', mib(rssPeak)],
          ['JS heap + external: idle -> subscribed (after GC)', `${mib(idle.heap)} -> ${mib(subscribed.heap)}`],
          ['per subscriber (heap + external)', `${((subscribed.heap - idle.heap) / count / 1024).toFixed(1)} KiB`],
        ],
      ),
    );
    console.log(`\nconnecting ${count} subscribers took ${connectSeconds.toFixed(1)} s; target p99 publish -> received < 100 ms: ${percentile(p, 99) < 100 ? 'met' : 'NOT met'}`);
  } finally {
    await Promise.allSettled(subscribers.map((s) => s.client.dispose()));
    await server?.stop();
    await database.cleanup();
  }
}

/** Latencies of `rounds` broadcasts of `payload` from the server's bare ws server to `count` bare ws clients. */
async function rawFloor(server: Server, count: number, rounds: number, payload: string): Promise<Float64Array> {
  const received: number[][] = [];
  const sockets: WebSocket[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const socket = new WebSocket(server.rawUrl);
      socket.on('message', (data) => {
        const at = now();
        JSON.parse(String(data)); // what a client does with a message, as graphql-ws does
        received.at(-1)?.push(at);
      });
      socket.on('error', (error) => console.error('[bench] raw socket', error));
      sockets.push(socket);
      if (i % 100 === 99) await new Promise((r) => setTimeout(r, 20));
    }
    for (;;) {
      const { size } = await server.ask<{ size: number }>({ type: 'raw-count' }, 'raw-count');
      if (size >= count) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const latencies: number[] = [];
    for (let r = 0; r < rounds + 2; r++) {
      const round: number[] = [];
      received.push(round);
      const { at } = await server.ask<{ at: number }>({ type: 'raw-broadcast', payload }, 'raw-sent');
      const deadline = now() + 15_000;
      while (round.length < count) {
        if (now() > deadline) throw new Error(`floor round ${r}: ${count - round.length} sockets did not receive`);
        await new Promise((res) => setTimeout(res, 2));
      }
      if (r >= 2) latencies.push(...round.map((t) => t - at));
      await new Promise((res) => setTimeout(res, 100));
    }
    return Float64Array.from(latencies).sort();
  } finally {
    for (const socket of sockets) socket.terminate();
  }
}

/** The id of each order's order.status_changed entry (what orderStatusChanged attaches). */
async function statusEntryIds(url: string, orderIds: string[]): Promise<Record<string, string>> {
  const pg = (await import('pg')).default;
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ id: string; orderId: string }>(
      `SELECT "id", "orderId" FROM "Activity" WHERE "type" = 'order.status_changed' AND "orderId" = ANY($1)`,
      [orderIds],
    );
    return Object.fromEntries(rows.map((r) => [r.orderId, r.id]));
  } finally {
    await client.end();
  }
}

if (ROLE === 'server') {
  await serve();
} else {
  await main();
}
