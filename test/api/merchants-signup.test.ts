// Merchants through the public GraphQL API: sign-up (createMerchant: the key shown once and stored only as a
// hash, origin address normalized, activity, every bad input a userError with nothing written) and viewer.
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { graphql } from '../generated/index.js';
import { api, CreateMerchant, Viewer, uniqueEmail, signUp, expectUnauthenticated } from '../support/merchants.js';

const NodeById = graphql(`
  query MerchantsNode($id: ID!) {
    node(id: $id) {
      __typename
      id
      ... on Merchant { name email }
    }
  }
`);

async function expectNoMerchantWith(email: string) {
  expect(await api.db.merchant.count({ where: { email } })).toBe(0);
}

describe('createMerchant', () => {
  it('creates the merchant and returns its first test key once, which works as a Bearer token', async () => {
    const email = uniqueEmail();
    const data = await api.exec(CreateMerchant, {
      input: { name: 'Acme Widgets', email, originAddress: { country: 'US', region: 'CA', city: 'San Francisco', postalCode: '94107', line1: '1 Main St' } },
    });
    const { merchant, testApiKey, userErrors } = data.createMerchant;
    expect(userErrors).toEqual([]);
    expect(merchant?.id).toMatch(/^mer_[0-9A-HJKMNP-TV-Z]{26}$/);
    expect(merchant?.name).toBe('Acme Widgets');
    expect(merchant?.email).toBe(email);
    expect(Number.isNaN(Date.parse(merchant!.createdAt))).toBe(false);
    expect(merchant?.originAddress).toEqual({ line1: '1 Main St', line2: null, city: 'San Francisco', region: 'CA', postalCode: '94107', country: 'US' });
    expect(testApiKey).toMatch(/^sk_test_[A-Za-z0-9_-]{16,}$/);

    // Exactly one key, a test key, shown only by its prefix.
    expect(merchant?.apiKeys).toHaveLength(1);
    const [keyInfo] = merchant!.apiKeys;
    expect(keyInfo?.livemode).toBe(false);
    expect(keyInfo?.revokedAt).toBeNull();
    expect(keyInfo?.id).toMatch(/^key_/);
    expect(testApiKey!.startsWith(keyInfo!.prefix)).toBe(true);
    expect(keyInfo!.prefix.length).toBeLessThan(testApiKey!.length);

    // The key authenticates as this merchant.
    const viewer = await api.request(Viewer, {}, testApiKey);
    expect(viewer.status).toBe(200);
    expect(viewer.errors).toBeUndefined();
    expect(viewer.data?.viewer?.id).toBe(merchant!.id);
    expect(viewer.data?.viewer?.email).toBe(email);

    // Shown once: nothing read later contains the secret.
    expect(JSON.stringify(viewer.data)).not.toContain(testApiKey!);
    const node = await api.exec(NodeById, { id: merchant!.id }, testApiKey);
    expect(JSON.stringify(node)).not.toContain(testApiKey!);
  });

  it('works without an Authorization header and gives every merchant its own key', async () => {
    const a = await signUp();
    const b = await signUp();
    expect(a.merchant.id).not.toBe(b.merchant.id);
    expect(a.key).not.toBe(b.key);
    expect((await api.exec(Viewer, {}, a.key)).viewer?.id).toBe(a.merchant.id);
    expect((await api.exec(Viewer, {}, b.key)).viewer?.id).toBe(b.merchant.id);
  });

  it('normalizes the origin address (upper-case country and region, trimmed text)', async () => {
    const { merchant } = await signUp({ name: '  Trimmed Co  ', originAddress: { country: 'de', region: 'by', city: '  Munich ' } });
    expect(merchant.name).toBe('Trimmed Co');
    expect(merchant.originAddress).toEqual({ line1: null, line2: null, city: 'Munich', region: 'BY', postalCode: null, country: 'DE' });
  });

  it('accepts a merchant without an origin address', async () => {
    const { merchant, key } = await signUp({ originAddress: null });
    expect(merchant.originAddress).toBeNull();
    expect((await api.exec(Viewer, {}, key)).viewer?.originAddress).toBeNull();
  });

  it('stores the key only as a hash: no row of any table contains the secret', async () => {
    const { merchant, key } = await signUp();
    const rows = await api.db.apiKey.findMany({ where: { merchantId: merchant.id } });
    expect(rows).toHaveLength(1);
    const row = rows[0]!;
    expect(row.secretHash).not.toBe(key);
    expect(row.secretHash).toMatch(/^[0-9a-f]{64}$/);
    expect(row.prefix).toBe(merchant.apiKeys[0]!.prefix);
    for (const value of Object.values(row)) expect(String(value)).not.toContain(key);
    expect(JSON.stringify(row)).not.toContain(key);
    // The part after the prefix is nowhere either (no column keeps the rest of the secret).
    const rest = key.slice(row.prefix.length);
    expect(JSON.stringify(row)).not.toContain(rest);

    // Nor does any other table (merchant, activity, idempotency keys, ...).
    const tables = await api.db.$queryRawUnsafe<{ table_name: string }[]>(
      `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'`,
    );
    expect(tables.map((t) => t.table_name)).toEqual(expect.arrayContaining(['Merchant', 'ApiKey', 'Activity']));
    for (const { table_name } of tables) {
      const hits = await api.db.$queryRawUnsafe<{ n: number }[]>(
        `SELECT count(*)::int AS n FROM "${table_name}" t WHERE position($1 in row_to_json(t)::text) > 0 OR position($2 in row_to_json(t)::text) > 0`,
        key,
        rest,
      );
      expect({ table: table_name, hits: hits[0]!.n }).toEqual({ table: table_name, hits: 0 });
    }
  });

  it('records the sign-up in the activity log', async () => {
    const { merchant } = await signUp();
    const types = (await api.db.activity.findMany({ where: { merchantId: merchant.id }, orderBy: { id: 'asc' } })).map((a) => a.type);
    expect(types).toEqual(['merchant.created', 'api_key.created']);
  });

  describe('rejects invalid input with a userError on the field and writes nothing', () => {
    const cases: { label: string; name?: string; email?: string; originAddress?: { country: string; region?: string }; field: string[] }[] = [
      { label: 'empty name', name: '', field: ['input', 'name'] },
      { label: 'blank name', name: '    ', field: ['input', 'name'] },
      { label: 'name over 200 characters', name: 'x'.repeat(201), field: ['input', 'name'] },
      { label: 'email without @', email: 'not-an-email', field: ['input', 'email'] },
      { label: 'email without domain', email: 'someone@', field: ['input', 'email'] },
      { label: 'empty email', email: '', field: ['input', 'email'] },
      { label: 'unknown country XX', originAddress: { country: 'XX' }, field: ['input', 'originAddress', 'country'] },
      { label: 'alpha-3 country usa', originAddress: { country: 'usa' }, field: ['input', 'originAddress', 'country'] },
      { label: 'empty country', originAddress: { country: '' }, field: ['input', 'originAddress', 'country'] },
      { label: 'region spelled out', originAddress: { country: 'US', region: 'California' }, field: ['input', 'originAddress', 'region'] },
      { label: 'region with symbols', originAddress: { country: 'US', region: 'C@' }, field: ['input', 'originAddress', 'region'] },
    ];
    for (const c of cases) {
      it(c.label, async () => {
        const email = c.email ?? uniqueEmail();
        const result = await api.request(CreateMerchant, {
          input: { name: c.name ?? 'Valid Name', email, originAddress: c.originAddress ?? null },
        });
        expect(result.errors).toBeUndefined();
        const payload = result.data!.createMerchant;
        expect(payload.merchant).toBeNull();
        expect(payload.testApiKey).toBeNull();
        expect(payload.userErrors).toHaveLength(1);
        expect(payload.userErrors[0]).toMatchObject({ code: 'INVALID_INPUT', field: c.field });
        expect(payload.userErrors[0]!.message.length).toBeGreaterThan(10);
        if (c.email === undefined) await expectNoMerchantWith(email);
        else if (c.name === undefined) expect(await api.db.merchant.count({ where: { email: c.email } })).toBe(0);
      });
    }

    // Codes Intl.DisplayNames knows but that are not ISO 3166-1 alpha-2 countries (the UK's code is GB).
    for (const country of ['UK', 'EU']) {
      it(`country ${country}, which is not an ISO 3166-1 alpha-2 code`, async () => {
        const email = uniqueEmail();
        const payload = (await api.exec(CreateMerchant, { input: { name: 'Valid', email, originAddress: { country } } })).createMerchant;
        expect(payload.userErrors).toEqual([expect.objectContaining({ code: 'INVALID_INPUT', field: ['input', 'originAddress', 'country'] })]);
        expect(payload.merchant).toBeNull();
        await expectNoMerchantWith(email);
      });
    }

    it('reports every invalid field at once', async () => {
      const email = `bad-${randomUUID()}`;
      const payload = (
        await api.exec(CreateMerchant, { input: { name: '', email, originAddress: { country: 'XX', region: 'TOOLONG' } } })
      ).createMerchant;
      expect(payload.merchant).toBeNull();
      expect(payload.testApiKey).toBeNull();
      expect(payload.userErrors.map((e) => e.field)).toEqual(
        expect.arrayContaining([
          ['input', 'name'],
          ['input', 'email'],
          ['input', 'originAddress', 'country'],
          ['input', 'originAddress', 'region'],
        ]),
      );
      expect(payload.userErrors.every((e) => e.code === 'INVALID_INPUT')).toBe(true);
      expect(await api.db.merchant.count({ where: { email } })).toBe(0);
    });

    it('writes no merchant, key or activity row for a rejected sign-up', async () => {
      const email = uniqueEmail();
      const payload = (await api.exec(CreateMerchant, { input: { name: 'Valid', email, originAddress: { country: 'XX' } } })).createMerchant;
      expect(payload.userErrors[0]?.code).toBe('INVALID_INPUT');
      await expectNoMerchantWith(email);
      expect(await api.db.apiKey.count({ where: { merchant: { email } } })).toBe(0);
      const entries = await api.db.activity.findMany({ where: { type: 'merchant.created' } });
      expect(entries.filter((e) => JSON.stringify(e.delta).includes(email))).toEqual([]);
    });
  });
});

describe('viewer', () => {
  it('returns the merchant of the key, with its keys (prefix only)', async () => {
    const { merchant, key, email } = await signUp({ name: 'Viewer Co', originAddress: { country: 'US', region: 'NY' } });
    const data = await api.exec(Viewer, {}, key);
    expect(data.viewer).toEqual({
      id: merchant.id,
      name: 'Viewer Co',
      email,
      createdAt: merchant.createdAt,
      originAddress: { line1: null, line2: null, city: null, region: 'NY', postalCode: null, country: 'US' },
      apiKeys: merchant.apiKeys,
    });
  });

  it('node(id) of the own merchant is the merchant', async () => {
    const { merchant, key } = await signUp({ name: 'Node Co' });
    const data = await api.exec(NodeById, { id: merchant.id }, key);
    expect(data.node).toMatchObject({ __typename: 'Merchant', id: merchant.id, name: 'Node Co' });
  });

  it('refuses viewer without a key with 401 UNAUTHENTICATED and tells how to authenticate', async () => {
    const result = await api.request(Viewer, {}, null);
    await expectUnauthenticated(result);
    expect(result.errors?.[0]?.message).toMatch(/Authorization|Bearer/);
  });
});
