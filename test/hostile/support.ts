// Helpers of the hostile suites: raw GraphQL over HTTP (hostile documents cannot be typed documents) and
// the number of rows a merchant owns, to show that refused requests wrote nothing.
import type { Db } from '../../src/kernel/context.js';
import { sqlPool } from '../../src/db/prisma.js';

const OWNED = ['Order', 'LineItem', 'Activity', 'Coupon', 'TaxRate', 'TaxRegistration', 'PaymentIntent', 'Refund', 'CheckoutSession', 'ApiKey', 'IdempotencyKey'];

/** Rows per table owned by one merchant. */
export async function rowsOfMerchant(db: Db, merchantId: string): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const table of OWNED) {
    const { rows } = await sqlPool(db).query<{ n: number }>(`SELECT count(*)::int AS n FROM "${table}" WHERE "merchantId" = $1`, [merchantId]);
    counts[table] = rows[0]!.n;
  }
  return counts;
}

export interface RawAnswer {
  status: number;
  headers: Headers;
  text: string;
  json: { data?: Record<string, unknown> | null; errors?: { message: string; extensions?: Record<string, unknown> }[] } | null;
  ms: number;
}

/** POSTs a GraphQL document (or any body) and reads the answer as text, then as JSON when it is. */
export async function post(url: string, body: unknown, key?: string | null, headers: Record<string, string> = {}): Promise<RawAnswer> {
  const started = performance.now();
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}), ...headers },
    body: typeof body === 'string' || body instanceof Uint8Array ? (body as string) : JSON.stringify(body),
  });
  return answer(response, started);
}

export async function get(url: string, headers: Record<string, string> = {}): Promise<RawAnswer> {
  const started = performance.now();
  return answer(await fetch(url, { headers }), started);
}

async function answer(response: Response, started: number): Promise<RawAnswer> {
  const text = await response.text();
  let json: RawAnswer['json'] = null;
  try {
    json = JSON.parse(text) as RawAnswer['json'];
  } catch {
    json = null;
  }
  return { status: response.status, headers: response.headers, text, json, ms: performance.now() - started };
}

export function codes(a: RawAnswer): string[] {
  return (a.json?.errors ?? []).map((e) => String(e.extensions?.code ?? ''));
}
