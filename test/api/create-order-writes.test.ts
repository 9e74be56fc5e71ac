// createOrder's write (src/orders/create.ts through src/kernel/writer.ts; the Writer itself is tested in
// test/db/writer.test.ts): orders
// are priced from a per-process copy of the merchant's tax settings, checked against
// Merchant.pricingVersion when written; concurrent orders of one merchant are written in batches that
// share one audit-chain lock and commit; a batch that fails is retried request by request.
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { graphql } from '../generated/index.js';
import { useTestApi } from '../support/api.js';
import { newId } from '../../src/ids.js';

const api = useTestApi();

const Register = graphql(`
  mutation WritesRegister($input: AddTaxRegistrationInput!) {
    addTaxRegistration(input: $input) { userErrors { code } }
  }
`);

const SetRate = graphql(`
  mutation WritesSetRate($input: SetTaxRateInput!) {
    setTaxRate(input: $input) { userErrors { code } }
  }
`);

const Create = graphql(`
  mutation WritesCreate($input: CreateOrderInput!) {
    createOrder(input: $input) {
      order {
        id
        version
        netAmounts { subtotalMoney { amount } taxMoney { amount } totalMoney { amount } }
        lineItems { id name quantity taxMoney { amount } totalMoney { amount } }
        activity { type sequence hash previousHash }
      }
      userErrors { code message field }
    }
  }
`);

const Read = graphql(`
  query WritesRead($id: ID!) {
    order(id: $id) {
      id
      version
      netAmounts { subtotalMoney { amount } taxMoney { amount } totalMoney { amount } }
      lineItems { id name quantity taxMoney { amount } totalMoney { amount } }
      activity { type sequence hash previousHash }
    }
  }
`);

const WhoAmI = graphql(`
  query WritesWhoAmI {
    viewer { id }
  }
`);

const CreateKey = graphql(`
  mutation WritesCreateKey($input: CreateApiKeyInput!) {
    createApiKey(input: $input) { secret apiKey { id } userErrors { code } }
  }
`);

const RevokeKey = graphql(`
  mutation WritesRevokeKey($input: RevokeApiKeyInput!) {
    revokeApiKey(input: $input) { apiKey { id revokedAt } userErrors { code } }
  }
`);

const Verify = graphql(`
  query WritesVerify {
    verifyAuditTrail { valid entriesChecked firstBrokenActivityId problem }
  }
`);

async function taxedMerchant(rate: string): Promise<{ key: string; merchantId: string }> {
  const merchant = await api.signup({ originAddress: { country: 'US', region: 'CA' } });
  expect((await api.exec(Register, { input: { jurisdiction: 'US-CA' } }, merchant.key)).addTaxRegistration.userErrors).toEqual([]);
  expect((await api.exec(SetRate, { input: { jurisdiction: 'US-CA', name: 'CA sales tax', rate } }, merchant.key)).setTaxRate.userErrors).toEqual([]);
  return merchant;
}

const line = (name: string, amount: number, quantity = 1) => ({ name, quantity, unitPriceMoney: { amount, currency: 'USD' } });

async function orderTax(key: string, amount = 10000): Promise<number> {
  const result = await api.exec(Create, { input: { lineItems: [line('Widget', amount)] } }, key);
  expect(result.createOrder.userErrors).toEqual([]);
  return Number(result.createOrder.order!.netAmounts.taxMoney.amount);
}

describe('createOrder prices with the settings current when it writes', () => {
  it('sees a rate changed through the API by the next order', async () => {
    const { key } = await taxedMerchant('0.0725');
    expect(await orderTax(key)).toBe(725);
    await api.exec(SetRate, { input: { jurisdiction: 'US-CA', name: 'CA sales tax', rate: '0.1' } }, key);
    expect(await orderTax(key)).toBe(1000);
  });

  it('sees settings changed behind its back (another instance, a manual fix) through Merchant.pricingVersion', async () => {
    const { key, merchantId } = await taxedMerchant('0.0725');
    expect(await orderTax(key)).toBe(725); // this process now holds a copy of the settings
    const before = await api.db.merchant.findUniqueOrThrow({ where: { id: merchantId }, select: { pricingVersion: true } });

    await api.db.$executeRaw`UPDATE "TaxRate" SET "rate" = '0.05' WHERE "merchantId" = ${merchantId}`;
    const after = await api.db.merchant.findUniqueOrThrow({ where: { id: merchantId }, select: { pricingVersion: true } });
    expect(after.pricingVersion).toBeGreaterThan(before.pricingVersion);
    expect(await orderTax(key)).toBe(500);

    await api.db.$executeRaw`DELETE FROM "TaxRegistration" WHERE "merchantId" = ${merchantId}`;
    expect(await orderTax(key)).toBe(0); // no nexus any more

    await api.db.$executeRaw`INSERT INTO "TaxRegistration" ("id", "merchantId", "livemode", "jurisdiction") VALUES (${newId('TaxRegistration')}, ${merchantId}, false, 'US-CA')`;
    expect(await orderTax(key)).toBe(500);

    // The origin address decides the jurisdiction of orders without a shipping address.
    await api.db.$executeRaw`UPDATE "Merchant" SET "originAddress" = '{"country":"US","region":"NY"}'::jsonb WHERE "id" = ${merchantId}`;
    expect(await orderTax(key)).toBe(0);
  });
});

describe('concurrent createOrders of one merchant', () => {
  it('64 at once: each written once, answered with its own rows, and the audit chain verifies', async () => {
    const { key, merchantId } = await taxedMerchant('0.0725');
    const results = await Promise.all(
      Array.from({ length: 64 }, (_, i) =>
        api.exec(Create, { input: { customerId: `c${i}`, lineItems: [line(`Item ${i}`, 1000 + i, 1 + (i % 3)), line('Mug', 1500)] } }, key),
      ),
    );
    const orders = results.map((r) => {
      expect(r.createOrder.userErrors).toEqual([]);
      return r.createOrder.order!;
    });
    expect(new Set(orders.map((o) => o.id)).size).toBe(64);
    orders.forEach((o, i) => {
      expect(o.lineItems.map((l) => [l.name, l.quantity])).toEqual([
        [`Item ${i}`, 1 + (i % 3)],
        ['Mug', 1],
      ]);
      const subtotal = (1000 + i) * (1 + (i % 3)) + 1500;
      expect(Number(o.netAmounts.subtotalMoney.amount)).toBe(subtotal);
      expect(o.activity).toHaveLength(1);
      expect(o.activity[0]!.type).toBe('order.created');
    });
    // What each response said is what was stored.
    for (const o of orders.slice(0, 8)) expect((await api.exec(Read, { id: o.id }, key)).order).toEqual(o);
    const sequences = orders.map((o) => Number(o.activity[0]!.sequence)).sort((a, b) => a - b);
    expect(new Set(sequences).size).toBe(64);
    expect(sequences.at(-1)! - sequences[0]!).toBe(63); // contiguous: nothing else was appended meanwhile
    expect(await api.db.order.count({ where: { merchantId } })).toBe(64);
    const verified = (await api.exec(Verify, {}, key)).verifyAuditTrail;
    expect(verified).toMatchObject({ valid: true, firstBrokenActivityId: null, problem: null });
  });

  it('8 merchants × 8 orders at once: batches mix merchants, yet each chain holds exactly its own orders and verifies', async () => {
    const merchants = await Promise.all(Array.from({ length: 8 }, (_, i) => taxedMerchant(i % 2 === 0 ? '0.0725' : '0.1')));
    const results = await Promise.all(
      Array.from({ length: 64 }, (_, i) => {
        const m = merchants[i % 8]!;
        return api.exec(Create, { input: { customerId: `m${i % 8}-${i}`, lineItems: [line(`Item ${i}`, 10000)] } }, m.key).then((r) => ({ m, r }));
      }),
    );
    for (const { m, r } of results) {
      expect(r.createOrder.userErrors).toEqual([]);
      expect(Number(r.createOrder.order!.netAmounts.taxMoney.amount)).toBe(merchants.indexOf(m) % 2 === 0 ? 725 : 1000);
    }
    for (const m of merchants) {
      const mine = results.filter((x) => x.m === m).map((x) => x.r.createOrder.order!.id);
      const stored = await api.db.order.findMany({ where: { merchantId: m.merchantId }, select: { id: true } });
      expect(stored.map((o) => o.id).sort()).toEqual([...mine].sort());
      const activity = await api.db.activity.findMany({ where: { merchantId: m.merchantId, type: 'order.created' }, select: { orderId: true } });
      expect(activity.map((a) => a.orderId).sort()).toEqual([...mine].sort());
      expect((await api.exec(Verify, {}, m.key)).verifyAuditTrail).toMatchObject({ valid: true, problem: null });
    }
  });

  it('requests sharing one idempotency key with different inputs: one order, the others IDEMPOTENCY_KEY_REUSED', async () => {
    const { key, merchantId } = await taxedMerchant('0.0725');
    const idempotencyKey = randomUUID();
    const results = await Promise.all(
      Array.from({ length: 12 }, (_, i) => api.exec(Create, { input: { idempotencyKey, lineItems: [line(`Thing ${i}`, 100 + i)] } }, key)),
    );
    const created = results.filter((r) => r.createOrder.userErrors.length === 0);
    expect(created).toHaveLength(1);
    for (const r of results.filter((x) => x.createOrder.userErrors.length > 0)) {
      expect(r.createOrder.userErrors.map((e) => e.code)).toEqual(['IDEMPOTENCY_KEY_REUSED']);
    }
    expect(await api.db.order.count({ where: { merchantId } })).toBe(1);
    expect((await api.exec(Verify, {}, key)).verifyAuditTrail.valid).toBe(true);
  });
});

describe('API key lookups, batched across concurrent requests', () => {
  it('every request gets the answer for its own key: merchants, modes, revoked and unknown keys mixed', async () => {
    const a = await api.signup();
    const b = await api.signup();
    const live = (await api.exec(CreateKey, { input: { livemode: true } }, a.key)).createApiKey;
    const doomed = (await api.exec(CreateKey, { input: { livemode: false } }, b.key)).createApiKey;
    expect((await api.exec(RevokeKey, { input: { id: doomed.apiKey!.id } }, b.key)).revokeApiKey.userErrors).toEqual([]);
    const unknown = `sk_test_${'x'.repeat(32)}`;
    const keys = [a.key, b.key, live.secret!, doomed.secret!, unknown];
    const results = await Promise.all(Array.from({ length: 100 }, (_, i) => api.request(WhoAmI, {}, keys[i % keys.length])));
    results.forEach((r, i) => {
      const key = keys[i % keys.length];
      if (key === a.key || key === live.secret) expect(r.data?.viewer?.id).toBe(a.merchantId);
      else if (key === b.key) expect(r.data?.viewer?.id).toBe(b.merchantId);
      else {
        expect(r.status).toBe(401);
        expect(r.errors?.[0]?.message).toMatch(key === unknown ? /Unknown API key/ : /revoked/);
      }
    });
  });

  it('a key revoked while lookups of it are in flight is refused by every request sent after the revocation', async () => {
    const { key } = await api.signup();
    const second = (await api.exec(CreateKey, { input: { livemode: false } }, key)).createApiKey;
    // Keep lookups of the key in flight all the time, before, during and after its revocation.
    let stop = false;
    let streamed = 0;
    const stream = Promise.all(
      Array.from({ length: 8 }, async () => {
        while (!stop) {
          await api.request(WhoAmI, {}, second.secret!);
          streamed += 1;
        }
      }),
    );
    while (streamed < 20) await new Promise((r) => setTimeout(r, 5));
    expect((await api.exec(RevokeKey, { input: { id: second.apiKey!.id } }, key)).revokeApiKey.userErrors).toEqual([]);
    const after = await Promise.all(Array.from({ length: 30 }, () => api.request(WhoAmI, {}, second.secret!)));
    stop = true;
    await stream;
    for (const r of after) {
      expect(r.status).toBe(401);
      expect(r.errors?.[0]?.message).toMatch(/revoked/);
    }
  });
});
