// The audit of the code, as a test: every field of the Mutation type (read from the running server, so a
// new mutation is included the moment it exists) is exercised once, successfully, and must record at
// least one activity entry attributed to its caller, in a chain that still verifies. A mutation without
// an exerciser here fails the test: add one (it documents what the mutation records).
//
// Exercisers follow the public contract (shared/contract/flint.graphql), so mutations that are not on
// this server yet (createRefund, closeOrder) are ready for the day they are.
import { parse, type ExecutionResult } from 'graphql';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { expect, it } from 'vitest';
import { useTestApi } from '../support/api.js';

const api = useTestApi();

// Plain documents (not codegen-typed): the test reads payloads generically.
const doc = (source: string) => parse(source) as TypedDocumentNode<any, any>;

const MutationFields = doc(`query AuditCoverageMutations { __schema { mutationType { fields { name } } } }`);

const Latest = doc(`
  query AuditCoverageLatest($after: String) {
    activities(first: 100, after: $after) {
      edges { node { id type sequence actor { type id name } } }
      pageInfo { hasNextPage endCursor }
    }
    viewer { id }
  }
`);

const Verify = doc(`query AuditCoverageVerify { verifyAuditTrail { valid problem } }`);

interface Entry {
  id: string;
  type: string;
  sequence: number;
  actor: { type: string; id: string | null; name: string | null };
}

interface Tools {
  key: string;
  keyId: string;
  merchantId: string;
  /** Runs a mutation (input only), fails on errors or userErrors, returns its payload. */
  call(field: string, selection: string, input: Record<string, unknown>, key?: string): Promise<any>;
  /** A fresh OPEN order with one line of `amount` (USD). */
  order(amount?: number): Promise<{ id: string; lineItems: { id: string }[] }>;
}

type Exerciser = (t: Tools) => Promise<{ run: () => Promise<unknown>; chainKey?: string; actor?: Entry['actor'] | 'SIGNUP' }>;

const ORDER = 'order { id lineItems { id } }';
const line = (name: string, amount = 1000) => ({ name, sku: name.toUpperCase(), quantity: 2, unitPriceMoney: { amount, currency: 'USD' } });

/** One exerciser per mutation: its setup, then the call to audit. */
const EXERCISERS: Record<string, Exerciser> = {
  createMerchant: async (t) => ({
    run: () => t.call('createMerchant', 'merchant { id } testApiKey', { name: 'Audited', email: 'audited@example.com' }),
    actor: 'SIGNUP',
  }),
  createApiKey: async (t) => ({ run: () => t.call('createApiKey', 'apiKey { id }', { livemode: true }) }),
  revokeApiKey: async (t) => {
    const extra = await t.call('createApiKey', 'apiKey { id }', { livemode: false });
    return { run: () => t.call('revokeApiKey', 'apiKey { id }', { id: extra.apiKey.id }) };
  },
  addTaxRegistration: async (t) => ({ run: () => t.call('addTaxRegistration', 'merchant { id }', { jurisdiction: 'US-CA' }) }),
  removeTaxRegistration: async (t) => {
    await t.call('addTaxRegistration', 'merchant { id }', { jurisdiction: 'US-NY' });
    return { run: () => t.call('removeTaxRegistration', 'merchant { id }', { jurisdiction: 'US-NY' }) };
  },
  setTaxRate: async (t) => ({ run: () => t.call('setTaxRate', 'merchant { id }', { jurisdiction: 'US-CA', name: 'CA sales tax', rate: '0.0725' }) }),
  createOrder: async (t) => ({ run: () => t.call('createOrder', ORDER, { lineItems: [line('tea')] }) }),
  addLineItems: async (t) => {
    const order = await t.order();
    return { run: () => t.call('addLineItems', ORDER, { orderId: order.id, lineItems: [line('cups')] }) };
  },
  updateLineItem: async (t) => {
    const order = await t.order();
    return { run: () => t.call('updateLineItem', ORDER, { orderId: order.id, lineItemId: order.lineItems[0]!.id, quantity: 5 }) };
  },
  removeLineItem: async (t) => {
    const order = await t.order();
    await t.call('addLineItems', ORDER, { orderId: order.id, lineItems: [line('cups')] });
    return { run: () => t.call('removeLineItem', ORDER, { orderId: order.id, lineItemId: order.lineItems[0]!.id }) };
  },
  setShippingAddress: async (t) => {
    const order = await t.order();
    return { run: () => t.call('setShippingAddress', ORDER, { orderId: order.id, shippingAddress: { country: 'US', region: 'CA', postalCode: '94105' } }) };
  },
  cancelOrder: async (t) => {
    const order = await t.order();
    return { run: () => t.call('cancelOrder', ORDER, { orderId: order.id, reason: 'audit' }) };
  },
  createCoupon: async (t) => ({ run: () => t.call('createCoupon', 'coupon { id }', { code: 'AUDIT10', type: 'PERCENTAGE', percentOff: '10' }) }),
  deactivateCoupon: async (t) => {
    await t.call('createCoupon', 'coupon { id }', { code: 'AUDIT5', type: 'PERCENTAGE', percentOff: '5' });
    return { run: () => t.call('deactivateCoupon', 'coupon { id }', { code: 'AUDIT5' }) };
  },
  applyCoupon: async (t) => {
    await t.call('createCoupon', 'coupon { id }', { code: 'APPLY10', type: 'PERCENTAGE', percentOff: '10' });
    const order = await t.order();
    return { run: () => t.call('applyCoupon', ORDER, { orderId: order.id, code: 'APPLY10' }) };
  },
  removeCoupon: async (t) => {
    await t.call('createCoupon', 'coupon { id }', { code: 'REMOVE10', type: 'PERCENTAGE', percentOff: '10' });
    const order = await t.order();
    await t.call('applyCoupon', ORDER, { orderId: order.id, code: 'REMOVE10' });
    return { run: () => t.call('removeCoupon', ORDER, { orderId: order.id, code: 'REMOVE10' }) };
  },
  payOrder: async (t) => {
    const order = await t.order();
    return { run: () => t.call('payOrder', 'order { id status } paymentIntent { id status }', { orderId: order.id, paymentSourceTokens: ['tok_visa'] }) };
  },
  createCheckoutSession: async (t) => {
    const order = await t.order();
    return { run: () => t.call('createCheckoutSession', 'checkoutSession { id }', { orderId: order.id }) };
  },
  createRefund: async (t) => {
    const order = await t.order(5000);
    const paid = await t.call('payOrder', 'paymentIntent { id }', { orderId: order.id, paymentSourceTokens: ['tok_visa'] });
    return {
      run: () =>
        t.call('createRefund', 'refund { id }', {
          paymentIntentId: paid.paymentIntent.id,
          amountMoney: { amount: 1000, currency: 'USD' },
          reason: 'REFUND_REASON_REQUESTED_BY_CUSTOMER',
        }),
    };
  },
  closeOrder: async (t) => {
    const order = await t.order();
    await t.call('payOrder', 'paymentIntent { id }', { orderId: order.id, paymentSourceTokens: ['tok_visa'] });
    return { run: () => t.call('closeOrder', ORDER, { orderId: order.id }) };
  },
  createDashboardLink: async (t) => ({ run: () => t.call('createDashboardLink', 'url expiresAt', {}) }),
};

function upperFirst(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

async function tools(): Promise<Tools> {
  const { key, merchantId } = await api.signup();
  const keyId = (await api.db.apiKey.findFirstOrThrow({ where: { merchantId } })).id;
  const call: Tools['call'] = async (field, selection, input, as = key) => {
    const document = doc(`mutation AuditCoverage${upperFirst(field)}($input: ${upperFirst(field)}Input!) { ${field}(input: $input) { ${selection} userErrors { code message field } } }`);
    const result = (await api.request(document, { input }, as)) as ExecutionResult<Record<string, any>>;
    if (result.errors?.length) throw new Error(`${field}: ${JSON.stringify(result.errors)}`);
    const payload = result.data![field];
    if (payload.userErrors.length > 0) throw new Error(`${field}: userErrors ${JSON.stringify(payload.userErrors)}`);
    return payload;
  };
  return {
    key,
    keyId,
    merchantId,
    call,
    order: async (amount = 1000) => (await call('createOrder', ORDER, { lineItems: [line('tea', amount)] })).order,
  };
}

/** The entries of the key's chain after sequence `mark`, oldest first. */
async function entriesAfter(key: string, mark: number): Promise<Entry[]> {
  const out: Entry[] = [];
  let after: string | null = null;
  for (;;) {
    const data = (await api.exec(Latest, { after }, key)) as { activities: { edges: { node: Entry }[]; pageInfo: { hasNextPage: boolean; endCursor: string } } };
    const page = data.activities.edges.map((e) => e.node);
    out.push(...page.filter((e) => e.sequence > mark));
    if (!data.activities.pageInfo.hasNextPage || page.some((e) => e.sequence <= mark)) break;
    after = data.activities.pageInfo.endCursor;
  }
  return out.reverse();
}

async function latestSequence(key: string): Promise<number> {
  const data = (await api.exec(Latest, { after: null }, key)) as { activities: { edges: { node: Entry }[] } };
  return data.activities.edges[0]?.node.sequence ?? 0;
}

it('every mutation records activity attributed to its caller, and the chain still verifies', async () => {
  const fields = ((await api.exec(MutationFields, {}, null)) as { __schema: { mutationType: { fields: { name: string }[] } } }).__schema.mutationType.fields.map(
    (f) => f.name,
  );
  expect(fields.length).toBeGreaterThan(10);
  const problems: string[] = [];
  const recorded: Record<string, string[]> = {};
  for (const name of fields) {
    const exercise = EXERCISERS[name];
    if (!exercise) {
      problems.push(`${name}: no exerciser in test/api/audit-coverage.test.ts; add one`);
      continue;
    }
    try {
      const t = await tools();
      const { run, actor } = await exercise(t);
      if (actor === 'SIGNUP') {
        const payload = (await run()) as { merchant: { id: string }; testApiKey: string };
        const entries = await entriesAfter(payload.testApiKey, 0);
        recorded[name] = entries.map((e) => e.type);
        if (entries.length === 0) problems.push(`${name}: recorded nothing`);
        for (const e of entries) if (e.actor.type !== 'SYSTEM' || e.actor.name !== 'signup') problems.push(`${name}: ${e.type} by ${JSON.stringify(e.actor)}`);
        continue;
      }
      const mark = await latestSequence(t.key);
      await run();
      const entries = await entriesAfter(t.key, mark);
      recorded[name] = entries.map((e) => e.type);
      if (entries.length === 0) problems.push(`${name}: recorded nothing`);
      const byCaller = entries.filter((e) => e.actor.type === 'API_KEY' && e.actor.id === t.keyId && e.actor.name === t.key.slice(0, 12));
      if (byCaller.length === 0) problems.push(`${name}: no entry attributed to the calling key (${JSON.stringify(entries.map((e) => e.actor))})`);
      for (const e of entries) {
        if (!['API_KEY', 'CUSTOMER', 'WEBHOOK', 'SYSTEM'].includes(e.actor.type)) problems.push(`${name}: ${e.type} has actor ${JSON.stringify(e.actor)}`);
      }
      const verified = (await api.exec(Verify, {}, t.key)) as { verifyAuditTrail: { valid: boolean; problem: string | null } };
      if (!verified.verifyAuditTrail.valid) problems.push(`${name}: chain does not verify: ${verified.verifyAuditTrail.problem}`);
    } catch (error) {
      problems.push(`${name}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  expect(problems).toEqual([]);
  // What each mutation records (a readable audit of the code).
  expect(Object.keys(recorded).sort()).toEqual([...fields].sort());
});
