// API keys through the public GraphQL API: createApiKey (test and live), revokeApiKey (self, cross-mode,
// another merchant's key NOT_FOUND, parallel revocations, audit), and what a bad Authorization header gets
// (401 UNAUTHENTICATED, nothing written).
import { randomBytes, randomUUID } from 'node:crypto';
import { print } from 'graphql';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { describe, expect, it } from 'vitest';
import { graphql } from '../generated/index.js';
import { api, Viewer, signUp, expectUnauthenticated } from '../support/merchants.js';

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

const CreateOrder = graphql(`
  mutation MerchantsCreateOrder($input: CreateOrderInput!) {
    createOrder(input: $input) {
      order { id }
      userErrors { code message field }
    }
  }
`);

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
