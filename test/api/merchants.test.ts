// Merchants and API keys, through the public GraphQL API: sign-up, the key shown once and stored only
// as a hash, viewer, creating and revoking keys, and what a bad Authorization header gets.
import { randomBytes, randomUUID } from 'node:crypto';
import { print } from 'graphql';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { describe, expect, it } from 'vitest';
import { graphql } from '../generated/index.js';
import { useTestApi } from '../support/api.js';

const api = useTestApi();

const CreateMerchant = graphql(`
  mutation MerchantsCreate($input: CreateMerchantInput!) {
    createMerchant(input: $input) {
      merchant {
        id
        name
        email
        createdAt
        originAddress { line1 line2 city region postalCode country }
        apiKeys { id prefix livemode createdAt revokedAt }
      }
      testApiKey
      userErrors { code message field }
    }
  }
`);

const Viewer = graphql(`
  query MerchantsViewer {
    viewer {
      id
      name
      email
      createdAt
      originAddress { line1 line2 city region postalCode country }
      apiKeys { id prefix livemode createdAt revokedAt }
    }
  }
`);

const CreateApiKey = graphql(`
  mutation MerchantsCreateApiKey($input: CreateApiKeyInput!) {
    createApiKey(input: $input) {
      apiKey { id prefix livemode createdAt revokedAt }
      secret
      userErrors { code message field }
    }
  }
`);

const RevokeApiKey = graphql(`
  mutation MerchantsRevokeApiKey($input: RevokeApiKeyInput!) {
    revokeApiKey(input: $input) {
      apiKey { id prefix livemode revokedAt }
      userErrors { code message field }
    }
  }
`);

const NodeById = graphql(`
  query MerchantsNode($id: ID!) {
    node(id: $id) {
      __typename
      id
      ... on Merchant { name email }
    }
  }
`);

const CreateOrder = graphql(`
  mutation MerchantsCreateOrder($input: CreateOrderInput!) {
    createOrder(input: $input) {
      order { id }
      userErrors { code message field }
    }
  }
`);

const uniqueEmail = () => `m-${randomUUID()}@example.com`;

/** A request with exactly the given headers (the harness only ever sends "Bearer <key>"). */
async function rawRequest<R, V>(document: TypedDocumentNode<R, V>, variables: V, headers: Record<string, string>) {
  const response = await fetch(`${api.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ query: print(document), variables }),
  });
  const body = (await response.json()) as { data?: R | null; errors?: { message: string; extensions?: Record<string, unknown> }[] };
  return { status: response.status, ...body };
}

async function signUp(input: { name?: string; email?: string; originAddress?: { country: string; region?: string | null; city?: string | null; line1?: string | null; postalCode?: string | null } | null } = {}) {
  const email = input.email ?? uniqueEmail();
  const data = await api.exec(CreateMerchant, {
    input: { name: input.name ?? 'Acme Widgets', email, originAddress: input.originAddress ?? null },
  });
  const payload = data.createMerchant;
  expect(payload.userErrors).toEqual([]);
  expect(payload.merchant).not.toBeNull();
  expect(payload.testApiKey).toBeTruthy();
  return { merchant: payload.merchant!, key: payload.testApiKey!, email };
}

async function expectNoMerchantWith(email: string) {
  expect(await api.db.merchant.count({ where: { email } })).toBe(0);
}

async function expectUnauthenticated(result: { status: number; errors?: readonly { message: string; extensions?: Record<string, unknown> }[] | undefined }) {
  expect(result.status).toBe(401);
  expect(result.errors?.length).toBeGreaterThan(0);
  expect(result.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  expect(result.errors?.[0]?.message.length).toBeGreaterThan(20);
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

describe('createApiKey', () => {
  it('creates a test key: secret returned once, prefix sk_test_, and it works', async () => {
    const { merchant, key } = await signUp();
    const payload = (await api.exec(CreateApiKey, { input: { livemode: false } }, key)).createApiKey;
    expect(payload.userErrors).toEqual([]);
    expect(payload.secret).toMatch(/^sk_test_[A-Za-z0-9_-]{16,}$/);
    expect(payload.secret).not.toBe(key);
    expect(payload.apiKey).toMatchObject({ livemode: false, revokedAt: null });
    expect(payload.apiKey!.id).toMatch(/^key_/);
    expect(payload.secret!.startsWith(payload.apiKey!.prefix)).toBe(true);
    expect(payload.apiKey!.prefix).toMatch(/^sk_test_/);

    const viewer = await api.request(Viewer, {}, payload.secret);
    expect(viewer.status).toBe(200);
    expect(viewer.data?.viewer?.id).toBe(merchant.id);
    expect(viewer.data?.viewer?.apiKeys.map((k) => k.id)).toEqual([merchant.apiKeys[0]!.id, payload.apiKey!.id]);
    expect(JSON.stringify(viewer.data)).not.toContain(payload.secret!);

    const row = await api.db.apiKey.findUniqueOrThrow({ where: { id: payload.apiKey!.id } });
    expect(row.secretHash).not.toBe(payload.secret);
    expect(JSON.stringify(row)).not.toContain(payload.secret!);
    expect(row.merchantId).toBe(merchant.id);
  });

  it('creates a live key: prefix sk_live_, livemode true, same merchant', async () => {
    const { merchant, key } = await signUp();
    const payload = (await api.exec(CreateApiKey, { input: { livemode: true } }, key)).createApiKey;
    expect(payload.userErrors).toEqual([]);
    expect(payload.secret).toMatch(/^sk_live_[A-Za-z0-9_-]{16,}$/);
    expect(payload.apiKey).toMatchObject({ livemode: true, revokedAt: null });
    expect(payload.apiKey!.prefix).toMatch(/^sk_live_/);
    expect(payload.secret!.startsWith(payload.apiKey!.prefix)).toBe(true);

    const viewer = await api.exec(Viewer, {}, payload.secret);
    expect(viewer.viewer?.id).toBe(merchant.id);
    expect(viewer.viewer?.apiKeys.map((k) => k.livemode).sort()).toEqual([false, true]);

    const row = await api.db.apiKey.findUniqueOrThrow({ where: { id: payload.apiKey!.id } });
    expect(row.livemode).toBe(true);
    expect(JSON.stringify(row)).not.toContain(payload.secret!);
  });

  it('records api_key.created by the calling key', async () => {
    const { merchant, key } = await signUp();
    const payload = (await api.exec(CreateApiKey, { input: { livemode: true } }, key)).createApiKey;
    const entries = await api.db.activity.findMany({ where: { merchantId: merchant.id, type: 'api_key.created' }, orderBy: { id: 'asc' } });
    expect(entries).toHaveLength(2);
    expect(entries[1]).toMatchObject({ actorType: 'API_KEY', actorId: merchant.apiKeys[0]!.id });
    expect(JSON.stringify(entries[1]!.delta)).toContain(payload.apiKey!.id);
    expect(JSON.stringify(entries, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))).not.toContain(payload.secret!);
  });

  it('needs a key: 401 without one, and no secret is handed out', async () => {
    const result = await api.request(CreateApiKey, { input: { livemode: true } }, null);
    await expectUnauthenticated(result);
    expect(result.data?.createApiKey ?? null).toBeNull();
    expect(JSON.stringify(result)).not.toMatch(/sk_(live|test)_[A-Za-z0-9_-]{16,}/);
  });
});

describe('revokeApiKey', () => {
  it('revokes a key: the next request with it is 401 UNAUTHENTICATED saying it was revoked', async () => {
    const { merchant, key } = await signUp();
    const second = (await api.exec(CreateApiKey, { input: { livemode: false } }, key)).createApiKey;
    expect((await api.request(Viewer, {}, second.secret)).status).toBe(200);

    const payload = (await api.exec(RevokeApiKey, { input: { id: second.apiKey!.id } }, key)).revokeApiKey;
    expect(payload.userErrors).toEqual([]);
    expect(payload.apiKey?.id).toBe(second.apiKey!.id);
    expect(payload.apiKey?.revokedAt).toBeTruthy();

    const refused = await api.request(Viewer, {}, second.secret);
    await expectUnauthenticated(refused);
    expect(refused.errors?.[0]?.message).toMatch(/revoked/i);
    expect(refused.data?.viewer ?? null).toBeNull();

    // Mutations are refused too, and nothing is written.
    const mutation = await api.request(
      CreateOrder,
      { input: { lineItems: [{ name: 'Pen', quantity: 1, unitPriceMoney: { amount: 100, currency: 'USD' } }] } },
      second.secret,
    );
    await expectUnauthenticated(mutation);
    expect(await api.db.order.count({ where: { merchantId: merchant.id } })).toBe(0);

    // The other key still works and lists the revoked one with revokedAt.
    const viewer = await api.exec(Viewer, {}, key);
    const revoked = viewer.viewer?.apiKeys.find((k) => k.id === second.apiKey!.id);
    expect(revoked?.revokedAt).toBe(payload.apiKey?.revokedAt);
    expect(viewer.viewer?.apiKeys.find((k) => k.id === merchant.apiKeys[0]!.id)?.revokedAt).toBeNull();
  });

  it('a key can revoke itself; it stops working for the very next request', async () => {
    const { merchant, key } = await signUp();
    const payload = (await api.exec(RevokeApiKey, { input: { id: merchant.apiKeys[0]!.id } }, key)).revokeApiKey;
    expect(payload.userErrors).toEqual([]);
    expect(payload.apiKey?.revokedAt).toBeTruthy();
    const refused = await api.request(Viewer, {}, key);
    await expectUnauthenticated(refused);
    expect(refused.errors?.[0]?.message).toMatch(/revoked/i);
  });

  it('a live key can revoke a test key of the same merchant', async () => {
    const { merchant, key } = await signUp();
    const live = (await api.exec(CreateApiKey, { input: { livemode: true } }, key)).createApiKey;
    const payload = (await api.exec(RevokeApiKey, { input: { id: merchant.apiKeys[0]!.id } }, live.secret)).revokeApiKey;
    expect(payload.userErrors).toEqual([]);
    await expectUnauthenticated(await api.request(Viewer, {}, key));
    expect((await api.request(Viewer, {}, live.secret)).status).toBe(200);
  });

  it("records api_key.revoked", async () => {
    const { merchant, key } = await signUp();
    const second = (await api.exec(CreateApiKey, { input: { livemode: false } }, key)).createApiKey;
    await api.exec(RevokeApiKey, { input: { id: second.apiKey!.id } }, key);
    const entries = await api.db.activity.findMany({ where: { merchantId: merchant.id, type: 'api_key.revoked' } });
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ actorType: 'API_KEY', actorId: merchant.apiKeys[0]!.id });
    expect(JSON.stringify(entries[0]!.delta)).toContain(second.apiKey!.id);
  });

  it("revoking another merchant's key is NOT_FOUND and leaves that key working", async () => {
    const a = await signUp();
    const b = await signUp();
    const payload = (await api.exec(RevokeApiKey, { input: { id: a.merchant.apiKeys[0]!.id } }, b.key)).revokeApiKey;
    expect(payload.apiKey).toBeNull();
    expect(payload.userErrors).toHaveLength(1);
    expect(payload.userErrors[0]).toMatchObject({ code: 'NOT_FOUND', field: ['input', 'id'] });
    // The message must not reveal anything about A's key beyond the id B sent.
    expect(payload.userErrors[0]!.message).not.toContain(a.merchant.apiKeys[0]!.prefix);

    expect((await api.request(Viewer, {}, a.key)).status).toBe(200);
    const row = await api.db.apiKey.findUniqueOrThrow({ where: { id: a.merchant.apiKeys[0]!.id } });
    expect(row.revokedAt).toBeNull();
    expect(await api.db.activity.count({ where: { type: 'api_key.revoked', merchantId: { in: [a.merchant.id, b.merchant.id] } } })).toBe(0);
  });

  it('a key revoked by parallel requests is revoked once: one success, one audit entry', async () => {
    const { merchant, key } = await signUp();
    const second = (await api.exec(CreateApiKey, { input: { livemode: false } }, key)).createApiKey;
    const results = await Promise.all(Array.from({ length: 8 }, () => api.exec(RevokeApiKey, { input: { id: second.apiKey!.id } }, key)));
    const succeeded = results.filter((r) => r.revokeApiKey.userErrors.length === 0);
    expect(succeeded).toHaveLength(1);
    expect(await api.db.activity.count({ where: { merchantId: merchant.id, type: 'api_key.revoked' } })).toBe(1);
  });

  it('revoking an unknown key id is NOT_FOUND', async () => {
    const { key } = await signUp();
    const payload = (await api.exec(RevokeApiKey, { input: { id: 'key_01JZZZZZZZZZZZZZZZZZZZZZZZ' } }, key)).revokeApiKey;
    expect(payload.apiKey).toBeNull();
    expect(payload.userErrors[0]).toMatchObject({ code: 'NOT_FOUND', field: ['input', 'id'] });
    expect((await api.request(Viewer, {}, key)).status).toBe(200);
  });
});

describe('a bad Authorization header is 401 UNAUTHENTICATED', () => {
  const unknownKey = `sk_test_${randomBytes(24).toString('base64url')}`;
  const cases: [string, string][] = [
    ['scheme only', 'Bearer'],
    ['Basic credentials', `Basic ${Buffer.from('user:pass').toString('base64')}`],
    ['the key without a scheme', unknownKey],
    ['not a Flint key', 'Bearer not-a-key'],
    ['a key with an unknown mode', `Bearer sk_prod_${randomBytes(24).toString('base64url')}`],
    ['a well-formed but unknown key', `Bearer ${unknownKey}`],
    ['a well-formed unknown live key', `Bearer sk_live_${randomBytes(24).toString('base64url')}`],
    ['a truncated key', 'Bearer sk_test_abc'],
    ['two tokens', `Bearer ${unknownKey} ${unknownKey}`],
    ['punctuation instead of a key', 'Bearer %%%'],
  ];
  for (const [label, header] of cases) {
    it(label, async () => {
      const result = await rawRequest(Viewer, {}, { authorization: header });
      await expectUnauthenticated(result);
      expect(result.data?.viewer ?? null).toBeNull();
    });
  }

  it('an unknown key is told apart from a malformed header in the message', async () => {
    const unknown = await rawRequest(Viewer, {}, { authorization: `Bearer ${unknownKey}` });
    const malformed = await rawRequest(Viewer, {}, { authorization: 'Token abc' });
    await expectUnauthenticated(unknown);
    await expectUnauthenticated(malformed);
    expect(unknown.errors?.[0]?.message).not.toBe(malformed.errors?.[0]?.message);
  });

  it('a mutation with a bad key is refused and writes nothing', async () => {
    const customerId = `cus-${randomUUID()}`;
    const result = await rawRequest(
      CreateOrder,
      { input: { customerId, lineItems: [{ name: 'Pen', quantity: 1, unitPriceMoney: { amount: 100, currency: 'USD' } }] } },
      { authorization: `Bearer ${unknownKey}` },
    );
    await expectUnauthenticated(result);
    expect(await api.db.order.count({ where: { customerId } })).toBe(0);
  });
});
