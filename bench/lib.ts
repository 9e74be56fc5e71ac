// Shared helpers of the benchmarks: a fresh database for the run, a small keep-alive GraphQL client,
// merchant setup, latency statistics and table printing. Nothing here is used by the app.
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { openDatabase } from '../src/db/database.js';
import { migrate } from '../src/db/migrate.js';

// ---------------------------------------------------------------------------------------------
// Database

export interface BenchDatabase {
  /** URL of the fresh, migrated database of this run. */
  url: string;
  /** "embedded PostgreSQL 18.x" or "DATABASE_URL (PostgreSQL 15.x)". */
  label: string;
  serverVersion: string;
  /** Drops the database and stops/removes the embedded server if one was started. */
  cleanup(): Promise<void>;
}

function withDatabase(url: string, name: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${name}`;
  return parsed.toString();
}

async function withClient<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url, application_name: 'flint-bench-admin' });
  client.on('error', () => {});
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => {});
  }
}

/**
 * DATABASE_URL when set, else an embedded PostgreSQL (src/db/database.ts openDatabase) whose cluster
 * lives in a temporary directory (BENCH_EMBEDDED_DATA_DIR to use another one, e.g. .data/postgres).
 * Either way a new database `flint_bench_<random>` is created on that server, migrated with
 * src/db/migrate.ts, and dropped by cleanup().
 */
export async function openBenchDatabase(log: (m: string) => void): Promise<BenchDatabase> {
  const cleanups: (() => Promise<void>)[] = [];
  const cleanup = async () => {
    for (const fn of cleanups.reverse()) await fn().catch((e: unknown) => console.error('bench cleanup:', e));
  };
  try {
    let embedded = false;
    let serverUrl = process.env.DATABASE_URL;
    if (!serverUrl) {
      let dataDir = process.env.BENCH_EMBEDDED_DATA_DIR;
      if (!dataDir) {
        const tmp = await mkdtemp(path.join(os.tmpdir(), 'flint-bench-pg-'));
        cleanups.push(() => rm(tmp, { recursive: true, force: true }));
        dataDir = tmp;
      }
      const started = Date.now();
      const database = await openDatabase({ databaseUrl: undefined, dataDir });
      cleanups.push(database.stop);
      embedded = true;
      serverUrl = database.url;
      log(`embedded PostgreSQL up in ${((Date.now() - started) / 1000).toFixed(1)} s (data in ${dataDir})`);
    }
    const name = `flint_bench_${randomBytes(5).toString('hex')}`;
    const adminUrl = serverUrl;
    const serverVersion = await withClient(adminUrl, async (c) => {
      await c.query(`CREATE DATABASE ${c.escapeIdentifier(name)}`);
      const { rows } = await c.query<{ server_version: string }>('SHOW server_version');
      return rows[0]!.server_version.split(' ')[0]!;
    });
    cleanups.push(() =>
      withClient(adminUrl, (c) => c.query(`DROP DATABASE IF EXISTS ${c.escapeIdentifier(name)} WITH (FORCE)`)).then(() => undefined),
    );
    const url = withDatabase(serverUrl, name);
    const { applied } = await migrate(url);
    log(`fresh database ${name} on PostgreSQL ${serverVersion}, migrations applied: ${applied.join(', ')}`);
    return {
      url,
      serverVersion,
      label: embedded ? `embedded PostgreSQL ${serverVersion}` : `DATABASE_URL, PostgreSQL ${serverVersion}`,
      cleanup,
    };
  } catch (err) {
    await cleanup();
    throw err;
  }
}

// ---------------------------------------------------------------------------------------------
// HTTP / GraphQL

export interface HttpResult {
  status: number;
  body: string;
}

/** POST with node:http over a keep-alive agent (lighter on the client CPU than fetch/undici). */
export function post(agent: http.Agent, url: URL, body: string, headers: Record<string, string>): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        agent,
        hostname: url.hostname,
        port: url.port,
        path: url.pathname,
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...headers },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

export class GraphQLClient {
  readonly endpoint: URL;
  constructor(
    baseUrl: string,
    readonly agent: http.Agent = new http.Agent({ keepAlive: true, maxSockets: 4 }),
  ) {
    this.endpoint = new URL('/graphql', baseUrl);
  }

  body(query: string, variables: Record<string, unknown>): string {
    return JSON.stringify({ query, variables });
  }

  async raw(body: string, key: string | null): Promise<HttpResult> {
    return post(this.agent, this.endpoint, body, key ? { authorization: `Bearer ${key}` } : {});
  }

  /** Runs an operation; throws on HTTP or GraphQL errors and on non-empty userErrors of `payload`. */
  async exec<T = any>(query: string, variables: Record<string, unknown>, key: string | null, payload?: string): Promise<T> {
    const res = await this.raw(this.body(query, variables), key);
    const json = JSON.parse(res.body) as { data?: any; errors?: unknown[] };
    if (res.status !== 200 || json.errors?.length) throw new Error(`GraphQL request failed (${res.status}): ${res.body.slice(0, 2000)}`);
    if (payload) {
      const errors = json.data?.[payload]?.userErrors;
      if (Array.isArray(errors) && errors.length > 0) throw new Error(`${payload}: userErrors ${JSON.stringify(errors)}`);
    }
    return json.data as T;
  }
}

const SIGNUP = `mutation Signup($input: CreateMerchantInput!) {
  createMerchant(input: $input) { merchant { id } testApiKey userErrors { code message field } }
}`;
const ADD_REGISTRATION = `mutation AddReg($input: AddTaxRegistrationInput!) {
  addTaxRegistration(input: $input) { merchant { id } userErrors { code message field } }
}`;
const SET_RATE = `mutation SetRate($input: SetTaxRateInput!) {
  setTaxRate(input: $input) { merchant { id taxRates { jurisdiction rate } } userErrors { code message field } }
}`;

/** Signs up a merchant shipping from California and collecting 7.25 % California sales tax. */
export async function signupTaxedMerchant(client: GraphQLClient, name: string): Promise<{ key: string; merchantId: string }> {
  const data = await client.exec(
    SIGNUP,
    {
      input: {
        name,
        email: `${name.toLowerCase().replace(/[^a-z0-9]+/g, '.')}@example.com`,
        originAddress: { country: 'US', region: 'CA', city: 'San Francisco', line1: '1 Market St', postalCode: '94105' },
      },
    },
    null,
    'createMerchant',
  );
  const key = data.createMerchant.testApiKey as string;
  const merchantId = data.createMerchant.merchant.id as string;
  await client.exec(ADD_REGISTRATION, { input: { jurisdiction: 'US-CA' } }, key, 'addTaxRegistration');
  await client.exec(SET_RATE, { input: { jurisdiction: 'US-CA', name: 'California sales tax', rate: '0.0725' } }, key, 'setTaxRate');
  return { key, merchantId };
}

/** Fields selected on createOrder's order (and on its line items), by name, so they can be left out. */
export const CREATE_ORDER_FIELDS: Record<string, string> = {
  id: 'id',
  status: 'status',
  version: 'version',
  netAmounts: 'netAmounts { subtotalMoney { amount currency } taxMoney { amount } totalMoney { amount } balanceMoney { amount } }',
  taxes: 'taxes { name jurisdiction rate taxMoney { amount } }',
  lineItems: '',
};
export const CREATE_ORDER_LINE_FIELDS: Record<string, string> = {
  id: 'id',
  name: 'name',
  quantity: 'quantity',
  unitPriceMoney: 'unitPriceMoney { amount }',
  taxMoney: 'taxMoney { amount }',
  totalMoney: 'totalMoney { amount }',
};

/** The order fields createOrder's benchmark asks for (CREATE_ORDER_FIELDS), optionally without one. */
export function orderSelection(omitOrderField?: string, omitLineField?: string): string {
  const lines = Object.entries(CREATE_ORDER_LINE_FIELDS)
    .filter(([k]) => k !== omitLineField)
    .map(([, v]) => v)
    .join(' ');
  return Object.entries(CREATE_ORDER_FIELDS)
    .filter(([k]) => k !== omitOrderField)
    .map(([k, v]) => (k === 'lineItems' ? `lineItems { ${lines} }` : v))
    .join('\n      ');
}

export function createOrderMutation(omitOrderField?: string, omitLineField?: string): string {
  return `mutation CreateOrder($input: CreateOrderInput!) {
  createOrder(input: $input) {
    order {
      ${orderSelection(omitOrderField, omitLineField)}
    }
    userErrors { code message field }
  }
}`;
}

/** The createOrder of the benchmarks: 3 lines, taxed through the merchant's origin address (US-CA). */
export const CREATE_ORDER = createOrderMutation();

export function createOrderInput(i = 0): Record<string, unknown> {
  return {
    currency: 'USD',
    customerId: `cus_${i % 100}`,
    buyerEmail: `buyer${i % 100}@example.com`,
    lineItems: [
      { name: 'Espresso beans 1kg', sku: 'BEAN-1KG', quantity: 2, unitPriceMoney: { amount: 2490, currency: 'USD' } },
      { name: 'Ceramic mug', sku: 'MUG-01', quantity: 1, unitPriceMoney: { amount: 1800, currency: 'USD' } },
      { name: 'Paper filters (100)', sku: 'FLT-100', quantity: 3, unitPriceMoney: { amount: 650, currency: 'USD' } },
    ],
  };
}

// ---------------------------------------------------------------------------------------------
// Measurement

export function percentile(sorted: Float64Array | number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const idx = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[idx]!;
}

/** VmRSS of a process in bytes (Linux). */
export async function rssOf(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = /^VmRSS:\s+(\d+)\s+kB/m.exec(status)?.[1];
  if (!kb) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(kb) * 1024;
}

export function fmt(n: number, digits = 1): string {
  return Number.isFinite(n) ? n.toFixed(digits) : '-';
}

export const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MiB`;

export function table(headers: string[], rows: (string | number)[][]): string {
  const cells = rows.map((r) => r.map(String));
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((r) => r[i]!.length)));
  const line = (r: string[]) => `| ${r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ')} |`;
  return [line(headers), `|${widths.map((w, i) => (i === 0 ? '-'.repeat(w + 2) : `${'-'.repeat(w + 1)}:`)).join('|')}|`, ...cells.map(line)].join('\n');
}

/** Runs one step (of a setup, usually); a failure says which step failed: "<what> failed: <why>". */
export async function step<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw new Error(`${what} failed: ${String((err as Error)?.message ?? err).slice(0, 600)}`, { cause: err });
  }
}

export function envNumber(name: string, fallback: number): number {
  const v = Number(process.env[name]);
  return Number.isFinite(v) && v > 0 ? v : fallback;
}
