// `npx tsx bench/sql-count.ts`: how many SQL statements one HTTP request to `orders(first: K)` causes,
// for K = 1, 10, 50, 100. The target is a constant count whatever K (no per-row queries).
//
// Method: the server (src/server.ts startServer, in this process) runs on a PrismaClient made by
// src/db/prisma.ts createPrisma(url, pool) with a pg.Pool we own; Prisma and the app's plain-SQL paths
// both use it. Every pg.Client the pool opens has its `query` wrapped, so each statement
// sent to PostgreSQL is recorded: the API key lookup, BEGIN/COMMIT, everything. The counter is reset
// before a request and read when its response has arrived; nothing else runs meanwhile.
//
// Data: a fresh database (DATABASE_URL, else embedded; see bench/lib.ts), one taxed merchant,
// BENCH_SQL_ORDERS (default 150) orders of 3 lines each, each edited twice (updateLineItem,
// setShippingAddress) so it has 3 activities; every 10th is then canceled (2 more activities).
//
// When the count grows with K, each selected field is removed in turn to name the one that causes
// the per-row queries. BENCH_PROFILE_DIR=<dir> also writes a CPU profile of 20 orders(first: 100)
// requests (orders-first-100.cpuprofile; summarise with `npx tsx bench/profile-top.ts <file>`).
import { mkdir, writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector';
import path from 'node:path';
import { CREATE_ORDER, CREATE_ORDER_FIELDS, CREATE_ORDER_LINE_FIELDS, createOrderMutation, createOrderInput, envNumber, percentile, signupTaxedMerchant, table } from './lib.js';
import { FULL_SQL, compact, connectionsOpened, counted, shapes, show, withCountingServer, type Recorded } from './sql-trace.js';

const ORDERS = envNumber('BENCH_SQL_ORDERS', 150);
const PROFILE_DIR = process.env.BENCH_PROFILE_DIR ? path.resolve(process.env.BENCH_PROFILE_DIR) : null;
const KS = [1, 10, 50, 100];
const REPEAT = 3;
const log = (m: string) => console.log(`[sql-count] ${m}`);

// ---------------------------------------------------------------------------------------------
// The query

const LINE_FIELDS: Record<string, string> = {
  id: 'id',
  name: 'name',
  taxes: 'taxes { name jurisdiction rate taxMoney { amount } }',
  totalMoney: 'totalMoney { amount }',
  refundableQuantity: 'refundableQuantity',
};

const ORDER_FIELDS: Record<string, string> = {
  id: 'id',
  status: 'status',
  netAmounts:
    'netAmounts { subtotalMoney { amount currency } discountMoney { amount } taxMoney { amount } totalMoney { amount } paidMoney { amount } refundedMoney { amount } balanceMoney { amount } }',
  taxes: 'taxes { name jurisdiction rate inclusive taxableMoney { amount } taxMoney { amount } }',
  summary: 'summary',
  availableActions: 'availableActions { action }',
  refundable: 'refundable { amountMoney { amount } }',
  lineItems: '', // built from LINE_FIELDS
  activity: 'activity { id type }',
};

function ordersQuery(omitOrderField?: string, omitLineField?: string): string {
  const lineSel = Object.entries(LINE_FIELDS)
    .filter(([k]) => k !== omitLineField)
    .map(([, v]) => v)
    .join(' ');
  const sel = Object.entries(ORDER_FIELDS)
    .filter(([k]) => k !== omitOrderField)
    .map(([k, v]) => (k === 'lineItems' ? `lineItems { ${lineSel} }` : v))
    .join('\n        ');
  return `query Orders($first: Int!) {
  orders(first: $first) {
    edges {
      node {
        ${sel}
      }
    }
    pageInfo { hasNextPage endCursor }
  }
}`;
}

// ---------------------------------------------------------------------------------------------

const UPDATE_LINE = `mutation U($input: UpdateLineItemInput!) { updateLineItem(input: $input) { order { id version } userErrors { code message field } } }`;
const SET_SHIPPING = `mutation S($input: SetShippingAddressInput!) { setShippingAddress(input: $input) { order { id version } userErrors { code message field } } }`;
const CANCEL = `mutation C($input: CancelOrderInput!) { cancelOrder(input: $input) { order { id status } userErrors { code message field } } }`;

async function main(): Promise<void> {
  await withCountingServer(log, async (client, database) => {
    const { key } = await signupTaxedMerchant(client, 'Count Co');

    // createOrder, counted (after one warm-up), and with each selected field left out in turn: the
    // statements after COMMIT are the response being read back.
    await client.exec(CREATE_ORDER, { input: createOrderInput(0) }, key, 'createOrder');
    const created = await counted(() => client.exec(CREATE_ORDER, { input: createOrderInput(0) }, key, 'createOrder'));
    const createStatements = created.statements;
    const createAblation: string[][] = [];
    const ablateCreate = async (label: string, mutation: string) => {
      await client.exec(mutation, { input: createOrderInput(0) }, key, 'createOrder');
      const n = (await counted(() => client.exec(mutation, { input: createOrderInput(0) }, key, 'createOrder'))).statements.length;
      createAblation.push([label, String(n), n < createStatements.length ? `-${createStatements.length - n}` : '']);
    };
    for (const f of Object.keys(CREATE_ORDER_FIELDS)) await ablateCreate(`without order.${f}`, createOrderMutation(f));
    for (const f of Object.keys(CREATE_ORDER_LINE_FIELDS)) await ablateCreate(`without order.lineItems.${f}`, createOrderMutation(undefined, f));
    const only = (sel: string) => `mutation C($input: CreateOrderInput!) { createOrder(input: $input) { order { ${sel} } userErrors { code } } }`;
    await ablateCreate('only order { id status version taxes {...} } (no field with a Prisma select)', only('id status version taxes { name rate taxMoney { amount } }'));
    await ablateCreate('only order { id netAmounts {...} }', only('id netAmounts { totalMoney { amount } }'));
    await ablateCreate('only order { id lineItems { id } }', only('id lineItems { id }'));
    await ablateCreate('only order { id }', only('id'));

    // Seed.
    const t0 = Date.now();
    let next = 1;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        for (;;) {
          const i = next++;
          if (i >= ORDERS) return;
          const data = await client.exec(CREATE_ORDER, { input: createOrderInput(i) }, key, 'createOrder');
          const order = data.createOrder.order;
          await client.exec(UPDATE_LINE, { input: { orderId: order.id, lineItemId: order.lineItems[0].id, quantity: 3 + (i % 4), expectedVersion: 1 } }, key, 'updateLineItem');
          await client.exec(
            SET_SHIPPING,
            { input: { orderId: order.id, shippingAddress: { country: 'US', region: 'CA', city: 'Oakland', line1: `${i} Broadway`, postalCode: '94607' }, expectedVersion: 2 } },
            key,
            'setShippingAddress',
          );
          if (i % 10 === 0) await client.exec(CANCEL, { input: { orderId: order.id, reason: 'bench' } }, key, 'cancelOrder');
        }
      }),
    );
    log(`seeded ${ORDERS} orders (3 lines, 3-5 activities each) in ${((Date.now() - t0) / 1000).toFixed(1)} s; pool connections opened so far: ${connectionsOpened()}`);

    const run = async (query: string, k: number) => {
      const body = client.body(query, { first: k });
      return counted(async () => {
        const res = await client.raw(body, key);
        const json = JSON.parse(res.body) as { data?: any; errors?: unknown[] };
        if (res.status !== 200 || json.errors?.length) throw new Error(`orders(first: ${k}) failed: ${res.body.slice(0, 1000)}`);
        return json.data.orders.edges as { node: { lineItems: unknown[]; activity?: unknown[] } }[];
      });
    };

    const full = ordersQuery();
    if (PROFILE_DIR) {
      // CPU profile of this process (server and client) over 20 orders(first: 100) requests.
      for (let i = 0; i < 5; i++) await run(full, 100);
      await mkdir(PROFILE_DIR, { recursive: true });
      const session = new Session();
      session.connect();
      const post = (method: string, params: object = {}) =>
        new Promise<any>((resolve, reject) => session.post(method, params, (err, result) => (err ? reject(err) : resolve(result))));
      await post('Profiler.enable');
      await post('Profiler.setSamplingInterval', { interval: 500 });
      await post('Profiler.start');
      const t = performance.now();
      for (let i = 0; i < 20; i++) await run(full, 100);
      const { profile } = await post('Profiler.stop');
      session.disconnect();
      const file = path.join(PROFILE_DIR, 'orders-first-100.cpuprofile');
      await writeFile(file, JSON.stringify(profile));
      log(`profiled 20 x orders(first: 100) in ${((performance.now() - t) / 20).toFixed(1)} ms each: ${file}`);
    }
    // Warm up every shape once (prepared plans, Prisma's query cache) before counting.
    for (const k of KS) await run(full, k);
    const results: { k: number; counts: number[]; edges: number; lines: number; acts: number; ms: number; statements: Recorded[] }[] = [];
    for (const k of KS) {
      const counts: number[] = [];
      const times: number[] = [];
      let last: Awaited<ReturnType<typeof run>> | null = null;
      for (let r = 0; r < REPEAT; r++) {
        last = await run(full, k);
        counts.push(last.statements.length);
        times.push(last.ms);
      }
      const edges = last!.value;
      times.sort((a, b) => a - b);
      results.push({
        k,
        counts,
        edges: edges.length,
        lines: edges.reduce((n, e) => n + e.node.lineItems.length, 0),
        acts: edges.reduce((n, e) => n + (e.node.activity?.length ?? 0), 0),
        ms: percentile(times, 50),
        statements: last!.statements,
      });
    }

    console.log('');
    console.log(`## SQL statements per request, ${database.label}`);
    console.log('');
    console.log(`createOrder (3 lines, no idempotencyKey): ${createStatements.length} statements (params = values sent)`);
    console.log('');
    createStatements.forEach((s, i) => console.log(`${i + 1}. [${s.params} params] \`${show(s.text)}\``));
    console.log('');
    console.log('createOrder with one selected field left out:');
    console.log('');
    console.log(table(['selection', 'statements', 'saved'], createAblation));
    console.log('');
    console.log(
      table(
        ['orders(first: K)', 'statements (3 runs)', 'orders', 'line items', 'activities', 'median ms'],
        results.map((r) => [`K = ${r.k}`, r.counts.join(' / '), r.edges, r.lines, r.acts, r.ms.toFixed(1)]),
      ),
    );
    const constant = results.every((r) => r.counts.every((c) => c === results[0]!.counts[0]));
    console.log('');
    console.log(constant ? `Constant: ${results[0]!.counts[0]} statements whatever K.` : 'NOT constant: the statement count grows with K.');
    const k100 = results.find((r) => r.k === 100)!;
    console.log('');
    console.log(
      `Statements of one orders(first: 100) request, in order (normalized: "$…" = a parameter list, $? = one parameter; ` +
        `${FULL_SQL ? 'full text' : 'column lists shortened, BENCH_SQL_FULL=1 for the full text'}; params = values sent):`,
    );
    console.log('');
    k100.statements.forEach((s, i) => console.log(`${i + 1}. [${s.params} params] \`${show(s.text)}\``));

    if (!constant) {
      const small = shapes(results[0]!.statements);
      console.log('');
      console.log('Shapes whose count grows with K (K=1 -> K=100):');
      for (const [shape, n] of shapes(k100.statements)) {
        if (n !== (small.get(shape) ?? 0)) console.log(`- ${small.get(shape) ?? 0} -> ${n}: \`${FULL_SQL ? shape : compact(shape)}\``);
      }
      console.log('');
      console.log('Ablation: statements at K=1 and K=100 with one field left out (constant => that field causes the per-row queries):');
      const rows: string[][] = [];
      const ablate = async (label: string, q: string) => {
        await run(q, 1);
        await run(q, 100);
        const a = (await run(q, 1)).statements.length;
        const b = (await run(q, 100)).statements.length;
        rows.push([label, String(a), String(b), a === b ? 'constant' : `+${b - a}`]);
      };
      for (const f of Object.keys(ORDER_FIELDS)) await ablate(`without Order.${f}`, ordersQuery(f));
      for (const f of Object.keys(LINE_FIELDS)) await ablate(`without LineItem.${f}`, ordersQuery(undefined, f));
      console.log('');
      console.log(table(['selection', 'K=1', 'K=100', 'growth'], rows));
    }
  });
}

main().catch((err) => {
  console.error('[sql-count] failed:', err);
  process.exitCode = 1;
});
