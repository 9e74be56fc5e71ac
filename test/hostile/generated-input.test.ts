// Every string, ID, amount, date and JSON argument of every query and mutation (generated from the
// schema by ./schema-cases.ts) sent with hostile values by a merchant with real data: each answer is a
// clear refusal (HTTP below 500, no masked "Unexpected error.", INVALID_INPUT naming the field for bad
// text, empty ids and oversized JSON), and nothing at all is written.
import { describe, expect, it } from 'vitest';
import { schema } from '../../src/graphql/schema.js';
import { useTestApi } from '../support/api.js';
import { argumentScalars, HOSTILE_SCALARS, plainCalls, requestBody, schemaCases, type BadKind, type SchemaCase } from './schema-cases.js';
import { post, rowsOfMerchant } from './support.js';

const api = useTestApi();
const cases = schemaCases(schema);

/** Kinds the edge refuses with INVALID_INPUT and the path of the bad value. */
const STRICT: BadKind[] = ['nul', 'surrogate', 'empty-id', 'json-deep', 'json-wide'];

/** INVALID_INPUT naming the field; a lone surrogate written into the document itself is a syntax error. */
function strictRefusal(c: SchemaCase, e: { extensions?: { code?: string; field?: string[] } }): boolean {
  if (e.extensions?.code === 'INVALID_INPUT') return e.extensions.field?.join('.') === c.path.join('.');
  return c.literal && c.kind === 'surrogate' && e.extensions?.code === 'GRAPHQL_PARSE_FAILED';
}

describe('generated hostile input', () => {
  it('covers every query and mutation argument of the schema', () => {
    const fields = new Set(cases.map((c) => c.field));
    for (const root of [schema.getQueryType()!, schema.getMutationType()!]) {
      for (const field of Object.values(root.getFields())) {
        const hostile = [...argumentScalars(field as never)].some((s) => HOSTILE_SCALARS.includes(s));
        if (hostile) expect(fields, field.name).toContain(field.name);
      }
    }
    expect(cases.length).toBeGreaterThan(400);
  });

  it('deny by default: every query, mutation and subscription but createMerchant refuses a call without a key', async () => {
    const open: string[] = [];
    for (const call of plainCalls(schema)) {
      const headers: Record<string, string> = call.operation === 'subscription' ? { accept: 'text/event-stream' } : {};
      const answer = await post(`${api.url}/graphql`, { query: call.query, variables: call.variables }, null, headers);
      if (!answer.text.includes('UNAUTHENTICATED')) open.push(`${call.field}: ${answer.status} ${answer.text.slice(0, 160)}`);
    }
    expect(open).toEqual([expect.stringMatching(/^createMerchant: /)]);
  });

  it('refuses every case clearly, without a 5xx or a masked error, and writes nothing', async () => {
    const { key, merchantId } = await api.signup();
    // Real data the hostile calls could damage.
    const created = await post(`${api.url}/graphql`, { query: 'mutation { createOrder(input: { lineItems: [{ name: "Tea", quantity: 2, unitPriceMoney: { amount: 1500, currency: "USD" } }] }) { order { id } userErrors { code } } }' }, key);
    expect(created.status).toBe(200);
    const before = await rowsOfMerchant(api.db, merchantId);
    const failures: string[] = [];
    for (const c of cases) {
      const response = await fetch(`${api.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
        body: requestBody(c),
      });
      const text = await response.text();
      const body = JSON.parse(text) as { errors?: { message: string; extensions?: { code?: string; field?: string[] } }[]; data?: unknown };
      const problem =
        response.status >= 500
          ? `HTTP ${response.status}`
          : text.includes('Unexpected error.')
            ? 'masked error'
            : STRICT.includes(c.kind) && !body.errors?.some((e) => strictRefusal(c, e))
              ? `no INVALID_INPUT for ${c.path.join('.')}: ${text.slice(0, 300)}`
              : !STRICT.includes(c.kind) && !body.errors?.length
                ? `accepted: ${text.slice(0, 300)}`
                : null;
      if (problem) failures.push(`${c.name}: ${problem}`);
    }
    expect(failures).toEqual([]);
    expect(await rowsOfMerchant(api.db, merchantId)).toEqual(before);
  }, 180_000);
});
