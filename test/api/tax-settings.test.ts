// Tax settings through the public GraphQL API: registrations (nexus), rates, validation, the audit
// trail, idempotency and the separation of test and live settings.
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { graphql } from '../generated/index.js';
import { useTestApi } from '../support/api.js';

const api = useTestApi();

const AddRegistration = graphql(`
  mutation TaxAddRegistration($input: AddTaxRegistrationInput!) {
    addTaxRegistration(input: $input) {
      merchant {
        id
        taxRegistrations { id jurisdiction createdAt }
        taxRates { id jurisdiction name rate taxCategory inclusive }
      }
      userErrors { code message field }
    }
  }
`);

const RemoveRegistration = graphql(`
  mutation TaxRemoveRegistration($input: RemoveTaxRegistrationInput!) {
    removeTaxRegistration(input: $input) {
      merchant {
        id
        taxRegistrations { id jurisdiction createdAt }
        taxRates { id jurisdiction name rate taxCategory inclusive }
      }
      userErrors { code message field }
    }
  }
`);

const SetRate = graphql(`
  mutation TaxSetRate($input: SetTaxRateInput!) {
    setTaxRate(input: $input) {
      merchant {
        id
        taxRegistrations { id jurisdiction createdAt }
        taxRates { id jurisdiction name rate taxCategory inclusive }
      }
      userErrors { code message field }
    }
  }
`);

const Settings = graphql(`
  query TaxSettings {
    viewer {
      id
      taxRegistrations { id jurisdiction createdAt }
      taxRates { id jurisdiction name rate taxCategory inclusive }
    }
  }
`);

const NodeById = graphql(`
  query TaxNode($id: ID!) {
    node(id: $id) {
      __typename
      id
      ... on TaxRegistration { jurisdiction }
      ... on TaxRate { jurisdiction name rate taxCategory inclusive }
    }
  }
`);

const CreateApiKey = graphql(`
  mutation TaxCreateApiKey($input: CreateApiKeyInput!) {
    createApiKey(input: $input) {
      apiKey { id livemode }
      secret
      userErrors { code message field }
    }
  }
`);

const CreateOrder = graphql(`
  mutation TaxCreateOrder($input: CreateOrderInput!) {
    createOrder(input: $input) {
      order {
        id
        taxes { name jurisdiction rate inclusive taxMoney { amount currency } }
        netAmounts { taxMoney { amount } totalMoney { amount } }
      }
      userErrors { code message field }
    }
  }
`);

async function merchant() {
  const { key, merchantId } = await api.signup();
  const viewer = await api.exec(
    graphql(`
      query TaxKeyId {
        viewer { apiKeys { id } }
      }
    `),
    {},
    key,
  );
  return { key, merchantId, keyId: viewer.viewer!.apiKeys[0]!.id };
}

async function liveKey(testKey: string) {
  const payload = (await api.exec(CreateApiKey, { input: { livemode: true } }, testKey)).createApiKey;
  expect(payload.userErrors).toEqual([]);
  return { key: payload.secret!, keyId: payload.apiKey!.id };
}

async function settings(key: string) {
  return (await api.exec(Settings, {}, key)).viewer!;
}

async function activities(merchantId: string, type?: string) {
  return api.db.activity.findMany({ where: { merchantId, ...(type ? { type } : {}) }, orderBy: { id: 'asc' } });
}

const add = async (key: string, jurisdiction: string, idempotencyKey?: string) =>
  (await api.exec(AddRegistration, { input: { jurisdiction, idempotencyKey } }, key)).addTaxRegistration;
const remove = async (key: string, jurisdiction: string, idempotencyKey?: string) =>
  (await api.exec(RemoveRegistration, { input: { jurisdiction, idempotencyKey } }, key)).removeTaxRegistration;
type RateInput = { jurisdiction: string; name: string; rate: string; taxCategory?: string | null; inclusive?: boolean | null; idempotencyKey?: string };
const setRate = async (key: string, input: RateInput) => (await api.exec(SetRate, { input }, key)).setTaxRate;

describe('addTaxRegistration', () => {
  it('adds a registration, visible on the payload, the viewer and by node(id)', async () => {
    const { key, merchantId } = await merchant();
    const payload = await add(key, 'US-CA');
    expect(payload.userErrors).toEqual([]);
    expect(payload.merchant?.id).toBe(merchantId);
    expect(payload.merchant?.taxRegistrations).toHaveLength(1);
    const reg = payload.merchant!.taxRegistrations[0]!;
    expect(reg.jurisdiction).toBe('US-CA');
    expect(reg.id).toMatch(/^txr_/);
    expect(Number.isNaN(Date.parse(reg.createdAt))).toBe(false);

    expect((await settings(key)).taxRegistrations).toEqual([reg]);
    const node = await api.exec(NodeById, { id: reg.id }, key);
    expect(node.node).toEqual({ __typename: 'TaxRegistration', id: reg.id, jurisdiction: 'US-CA' });
  });

  it('accepts countries and subdivisions, normalizing case and spaces', async () => {
    const { key } = await merchant();
    for (const j of ['DE', 'US-CA', 'ca-bc', ' us-ny ']) expect((await add(key, j)).userErrors).toEqual([]);
    expect((await settings(key)).taxRegistrations.map((r) => r.jurisdiction).sort()).toEqual(['CA-BC', 'DE', 'US-CA', 'US-NY']);
  });

  it('is idempotent: adding an existing registration changes nothing and records nothing', async () => {
    const { key, merchantId } = await merchant();
    const first = await add(key, 'US-CA');
    const second = await add(key, 'US-CA');
    const third = await add(key, 'us-ca');
    expect(second.userErrors).toEqual([]);
    expect(third.userErrors).toEqual([]);
    expect(second.merchant?.taxRegistrations).toEqual(first.merchant?.taxRegistrations);
    expect(third.merchant?.taxRegistrations).toEqual(first.merchant?.taxRegistrations);
    expect(await activities(merchantId, 'tax_registration.added')).toHaveLength(1);
    expect(await api.db.taxRegistration.count({ where: { merchantId } })).toBe(1);
  });

  it('is audited as tax_registration.added, by the calling key', async () => {
    const { key, merchantId, keyId } = await merchant();
    const payload = await add(key, 'DE');
    const entries = await activities(merchantId, 'tax_registration.added');
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ livemode: false, orderId: null, actorType: 'API_KEY', actorId: keyId, idempotencyKey: null });
    expect(entries[0]!.delta).toMatchObject({ before: null, after: { id: payload.merchant!.taxRegistrations[0]!.id, jurisdiction: 'DE' } });
  });

  it('needs a key (401)', async () => {
    const result = await api.request(AddRegistration, { input: { jurisdiction: 'US-CA' } }, null);
    expect(result.status).toBe(401);
    expect(result.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });
});

describe('jurisdiction validation', () => {
  const bad = ['usa', 'US-', 'U', 'US-CALIF', '', '   ', 'XX', 'ZZ', 'US-CA-LA', '-CA', 'US CA', 'US_CA', '12', 'U$', 'US-C@'];
  for (const jurisdiction of bad) {
    it(`rejects ${JSON.stringify(jurisdiction)} with INVALID_INPUT on ["input","jurisdiction"] and writes nothing`, async () => {
      const { key, merchantId } = await merchant();
      const added = await add(key, jurisdiction);
      expect(added.merchant).toBeNull();
      expect(added.userErrors).toHaveLength(1);
      expect(added.userErrors[0]).toMatchObject({ code: 'INVALID_INPUT', field: ['input', 'jurisdiction'] });
      expect(added.userErrors[0]!.message).toMatch(/US-CA|DE/);

      const rate = await setRate(key, { jurisdiction, name: 'Sales tax', rate: '0.05' });
      expect(rate.merchant).toBeNull();
      expect(rate.userErrors).toHaveLength(1);
      expect(rate.userErrors[0]).toMatchObject({ code: 'INVALID_INPUT', field: ['input', 'jurisdiction'] });

      const removed = await remove(key, jurisdiction);
      expect(removed.userErrors[0]).toMatchObject({ code: 'INVALID_INPUT', field: ['input', 'jurisdiction'] });

      expect(await settings(key)).toMatchObject({ taxRegistrations: [], taxRates: [] });
      expect((await activities(merchantId)).filter((a) => a.type.startsWith('tax_'))).toEqual([]);
    });
  }

  // Codes Intl knows as regions but that are not ISO 3166-1 alpha-2 countries: the EU, the UN, a
  // pseudo-locale, a continent grouping, the reserved "UK" (the country code is GB), the old USSR.
  const notCountries = ['EU', 'UN', 'XA', 'QO', 'EZ', 'UK', 'SU'];
  for (const jurisdiction of notCountries) {
    it(`rejects ${jurisdiction}, which is not an ISO 3166-1 country code`, async () => {
      const { key } = await merchant();
      const added = await add(key, jurisdiction);
      expect(added.userErrors).toEqual([expect.objectContaining({ code: 'INVALID_INPUT', field: ['input', 'jurisdiction'] })]);
      expect((await settings(key)).taxRegistrations).toEqual([]);
    });
  }
});

describe('removeTaxRegistration', () => {
  it('removes a registration and audits it as tax_registration.removed', async () => {
    const { key, merchantId } = await merchant();
    await add(key, 'US-CA');
    await add(key, 'DE');
    const payload = await remove(key, 'us-ca');
    expect(payload.userErrors).toEqual([]);
    expect(payload.merchant?.taxRegistrations.map((r) => r.jurisdiction)).toEqual(['DE']);
    expect((await settings(key)).taxRegistrations.map((r) => r.jurisdiction)).toEqual(['DE']);
    const entries = await activities(merchantId, 'tax_registration.removed');
    expect(entries).toHaveLength(1);
    expect(entries[0]!.delta).toMatchObject({ before: { jurisdiction: 'US-CA' }, after: null });
  });

  it('is NOT_FOUND for a jurisdiction that is not registered, and changes nothing', async () => {
    const { key, merchantId } = await merchant();
    await add(key, 'DE');
    const payload = await remove(key, 'US-CA');
    expect(payload.merchant).toBeNull();
    expect(payload.userErrors).toHaveLength(1);
    expect(payload.userErrors[0]).toMatchObject({ code: 'NOT_FOUND', field: ['input', 'jurisdiction'] });
    expect(payload.userErrors[0]!.message).toContain('US-CA');
    expect((await settings(key)).taxRegistrations.map((r) => r.jurisdiction)).toEqual(['DE']);
    expect(await activities(merchantId, 'tax_registration.removed')).toEqual([]);
  });

  it('is NOT_FOUND the second time', async () => {
    const { key } = await merchant();
    await add(key, 'DE');
    expect((await remove(key, 'DE')).userErrors).toEqual([]);
    expect((await remove(key, 'DE')).userErrors[0]?.code).toBe('NOT_FOUND');
  });

  it('a country registration is not removed by removing one of its regions', async () => {
    const { key } = await merchant();
    await add(key, 'US');
    expect((await remove(key, 'US-CA')).userErrors[0]?.code).toBe('NOT_FOUND');
    expect((await settings(key)).taxRegistrations.map((r) => r.jurisdiction)).toEqual(['US']);
  });
});

describe('setTaxRate', () => {
  it('creates a rate, visible on the payload, the viewer and by node(id)', async () => {
    const { key, merchantId } = await merchant();
    const payload = await setRate(key, { jurisdiction: 'US-CA', name: 'California sales tax', rate: '0.0725' });
    expect(payload.userErrors).toEqual([]);
    expect(payload.merchant?.id).toBe(merchantId);
    expect(payload.merchant?.taxRates).toHaveLength(1);
    const rate = payload.merchant!.taxRates[0]!;
    expect(rate).toMatchObject({ jurisdiction: 'US-CA', name: 'California sales tax', rate: '0.0725', taxCategory: null, inclusive: false });
    expect(rate.id).toMatch(/^txrt_/);
    expect((await settings(key)).taxRates).toEqual([rate]);
    const node = await api.exec(NodeById, { id: rate.id }, key);
    expect(node.node).toEqual({ __typename: 'TaxRate', ...rate });
  });

  it('replaces the rate of the same jurisdiction, name and category', async () => {
    const { key, merchantId } = await merchant();
    const first = await setRate(key, { jurisdiction: 'US-CA', name: 'California sales tax', rate: '0.0725' });
    const second = await setRate(key, { jurisdiction: 'us-ca', name: 'California sales tax', rate: '0.08' });
    expect(second.userErrors).toEqual([]);
    expect(second.merchant?.taxRates).toHaveLength(1);
    expect(second.merchant?.taxRates[0]).toMatchObject({ jurisdiction: 'US-CA', name: 'California sales tax', rate: '0.08', taxCategory: null });
    expect((await settings(key)).taxRates).toEqual(second.merchant?.taxRates);
    // The old rate is gone (not kept next to the new one).
    const old = await api.exec(NodeById, { id: first.merchant!.taxRates[0]!.id }, key);
    expect(old.node === null || (old.node as { rate?: string }).rate === '0.08').toBe(true);
    expect(await api.db.taxRate.count({ where: { merchantId } })).toBe(1);

    const entries = await activities(merchantId, 'tax_rate.set');
    expect(entries).toHaveLength(2);
    expect(entries[0]!.delta).toMatchObject({ before: null, after: { rate: '0.0725', jurisdiction: 'US-CA' } });
    expect(entries[1]!.delta).toMatchObject({ before: { rate: '0.0725' }, after: { rate: '0.08' } });
    expect(entries[1]).toMatchObject({ actorType: 'API_KEY', livemode: false, orderId: null });
  });

  it('replacing can switch a rate to inclusive', async () => {
    const { key } = await merchant();
    await setRate(key, { jurisdiction: 'DE', name: 'VAT', rate: '0.19' });
    const payload = await setRate(key, { jurisdiction: 'DE', name: 'VAT', rate: '0.19', inclusive: true });
    expect(payload.merchant?.taxRates).toEqual([expect.objectContaining({ jurisdiction: 'DE', name: 'VAT', rate: '0.19', inclusive: true })]);
  });

  it('keeps separate rates per category, per name and per jurisdiction', async () => {
    const { key } = await merchant();
    await setRate(key, { jurisdiction: 'US-CA', name: 'California sales tax', rate: '0.0725' });
    await setRate(key, { jurisdiction: 'US-CA', name: 'California sales tax', rate: '0', taxCategory: 'food' });
    await setRate(key, { jurisdiction: 'US-CA', name: 'District tax', rate: '0.01' });
    await setRate(key, { jurisdiction: 'US-NY', name: 'California sales tax', rate: '0.04' });
    const rates = (await settings(key)).taxRates.map((r) => [r.jurisdiction, r.name, r.taxCategory, r.rate]);
    expect(rates).toHaveLength(4);
    expect(rates).toEqual(
      expect.arrayContaining([
        ['US-CA', 'California sales tax', null, '0.0725'],
        ['US-CA', 'California sales tax', 'food', '0'],
        ['US-CA', 'District tax', null, '0.01'],
        ['US-NY', 'California sales tax', null, '0.04'],
      ]),
    );
    // Replacing the category rate leaves the general one alone.
    await setRate(key, { jurisdiction: 'US-CA', name: 'California sales tax', rate: '0.02', taxCategory: 'food' });
    const after = (await settings(key)).taxRates.filter((r) => r.jurisdiction === 'US-CA' && r.name === 'California sales tax');
    expect(after.map((r) => [r.taxCategory, r.rate])).toEqual(expect.arrayContaining([[null, '0.0725'], ['food', '0.02']]));
    expect(after).toHaveLength(2);
  });

  describe('rate validation', () => {
    for (const rate of ['0', '0.0725', '0.999', '0.5', '0.19']) {
      it(`accepts ${JSON.stringify(rate)} and shows it back as sent`, async () => {
        const { key } = await merchant();
        const payload = await setRate(key, { jurisdiction: 'DE', name: 'VAT', rate });
        expect(payload.userErrors).toEqual([]);
        expect(payload.merchant?.taxRates.map((r) => r.rate)).toEqual([rate]);
      });
    }
    for (const rate of ['1', '1.0', '1.5', '-0.1', 'abc', '7%', '0,07', '', '1e-2', 'NaN', '0.07.1']) {
      it(`rejects ${JSON.stringify(rate)} with INVALID_INPUT on ["input","rate"] and writes nothing`, async () => {
        const { key, merchantId } = await merchant();
        const payload = await setRate(key, { jurisdiction: 'DE', name: 'VAT', rate });
        expect(payload.merchant).toBeNull();
        expect(payload.userErrors).toHaveLength(1);
        expect(payload.userErrors[0]).toMatchObject({ code: 'INVALID_INPUT', field: ['input', 'rate'] });
        expect(payload.userErrors[0]!.message).toMatch(/0\.0725|decimal/);
        expect((await settings(key)).taxRates).toEqual([]);
        expect(await activities(merchantId, 'tax_rate.set')).toEqual([]);
      });
    }

    it('rejecting a replacement keeps the old rate', async () => {
      const { key } = await merchant();
      await setRate(key, { jurisdiction: 'DE', name: 'VAT', rate: '0.19' });
      const payload = await setRate(key, { jurisdiction: 'DE', name: 'VAT', rate: '1' });
      expect(payload.userErrors[0]?.code).toBe('INVALID_INPUT');
      expect((await settings(key)).taxRates.map((r) => r.rate)).toEqual(['0.19']);
    });
  });

  describe('taxCategory', () => {
    it('is null when left out, empty or blank (applies to every other category)', async () => {
      const { key } = await merchant();
      const a = await setRate(key, { jurisdiction: 'DE', name: 'VAT', rate: '0.19' });
      expect(a.merchant?.taxRates[0]?.taxCategory).toBeNull();
      const b = await setRate(key, { jurisdiction: 'DE', name: 'VAT', rate: '0.2', taxCategory: '' });
      const c = await setRate(key, { jurisdiction: 'DE', name: 'VAT', rate: '0.21', taxCategory: null });
      // All three name the same (category-less) rate: it was replaced, not duplicated.
      expect(b.merchant?.taxRates).toHaveLength(1);
      expect(c.merchant?.taxRates).toEqual([expect.objectContaining({ taxCategory: null, rate: '0.21' })]);
    });

    for (const taxCategory of ['food', 'digital_goods', 'kids-clothing', 'a'.repeat(64)]) {
      it(`accepts ${JSON.stringify(taxCategory.length > 20 ? `${taxCategory.length} characters` : taxCategory)}`, async () => {
        const { key } = await merchant();
        const payload = await setRate(key, { jurisdiction: 'DE', name: 'VAT reduced', rate: '0.07', taxCategory });
        expect(payload.userErrors).toEqual([]);
        expect(payload.merchant?.taxRates[0]?.taxCategory).toBe(taxCategory);
      });
    }

    for (const taxCategory of ['Food', 'food items', 'food!', 'a'.repeat(65), 'café']) {
      it(`rejects ${JSON.stringify(taxCategory.length > 20 ? `${taxCategory.length} characters` : taxCategory)} on ["input","taxCategory"]`, async () => {
        const { key } = await merchant();
        const payload = await setRate(key, { jurisdiction: 'DE', name: 'VAT reduced', rate: '0.07', taxCategory });
        expect(payload.merchant).toBeNull();
        expect(payload.userErrors).toEqual([expect.objectContaining({ code: 'INVALID_INPUT', field: ['input', 'taxCategory'] })]);
        expect((await settings(key)).taxRates).toEqual([]);
      });
    }
  });

  it('rejects a blank or too long name on ["input","name"]', async () => {
    const { key } = await merchant();
    for (const name of ['', '   ', 'n'.repeat(201)]) {
      const payload = await setRate(key, { jurisdiction: 'DE', name, rate: '0.19' });
      expect(payload.merchant).toBeNull();
      expect(payload.userErrors).toEqual([expect.objectContaining({ code: 'INVALID_INPUT', field: ['input', 'name'] })]);
    }
    expect((await settings(key)).taxRates).toEqual([]);
  });

  it('reports every invalid field at once', async () => {
    const { key } = await merchant();
    const payload = await setRate(key, { jurisdiction: 'usa', name: '', rate: '7%', taxCategory: 'Food' });
    expect(payload.merchant).toBeNull();
    expect(payload.userErrors.map((e) => e.field)).toEqual(
      expect.arrayContaining([
        ['input', 'jurisdiction'],
        ['input', 'name'],
        ['input', 'rate'],
        ['input', 'taxCategory'],
      ]),
    );
    expect(payload.userErrors.every((e) => e.code === 'INVALID_INPUT')).toBe(true);
  });
});

describe('idempotency of tax mutations', () => {
  it('addTaxRegistration: same key and input returns the same result, one activity row', async () => {
    const { key, merchantId } = await merchant();
    const idem = randomUUID();
    const first = await add(key, 'US-CA', idem);
    const second = await add(key, 'US-CA', idem);
    expect(first.userErrors).toEqual([]);
    expect(second).toEqual(first);
    const entries = await activities(merchantId, 'tax_registration.added');
    expect(entries).toHaveLength(1);
    expect(entries[0]!.idempotencyKey).toBe(idem);
  });

  it('addTaxRegistration: a replay does not repeat the effect', async () => {
    const { key, merchantId } = await merchant();
    const idem = randomUUID();
    expect((await add(key, 'US-CA', idem)).userErrors).toEqual([]);
    expect((await remove(key, 'US-CA')).userErrors).toEqual([]);
    const replay = await add(key, 'US-CA', idem);
    expect(replay.userErrors).toEqual([]);
    expect((await settings(key)).taxRegistrations).toEqual([]);
    expect(await activities(merchantId, 'tax_registration.added')).toHaveLength(1);
  });

  it('addTaxRegistration: same key with a different input is IDEMPOTENCY_KEY_REUSED and writes nothing', async () => {
    const { key, merchantId } = await merchant();
    const idem = randomUUID();
    await add(key, 'US-CA', idem);
    const reused = await add(key, 'US-NY', idem);
    expect(reused.merchant).toBeNull();
    expect(reused.userErrors).toEqual([expect.objectContaining({ code: 'IDEMPOTENCY_KEY_REUSED', field: ['input', 'idempotencyKey'] })]);
    expect((await settings(key)).taxRegistrations.map((r) => r.jurisdiction)).toEqual(['US-CA']);
    expect(await activities(merchantId, 'tax_registration.added')).toHaveLength(1);
  });

  it('setTaxRate: same key and input returns the same result, one activity row', async () => {
    const { key, merchantId } = await merchant();
    const idem = randomUUID();
    const input = { jurisdiction: 'US-CA', name: 'California sales tax', rate: '0.0725', taxCategory: 'food', inclusive: false, idempotencyKey: idem };
    const first = await setRate(key, input);
    const second = await setRate(key, input);
    expect(first.userErrors).toEqual([]);
    expect(second).toEqual(first);
    const entries = await activities(merchantId, 'tax_rate.set');
    expect(entries).toHaveLength(1);
    expect(entries[0]!.idempotencyKey).toBe(idem);
  });

  it('setTaxRate: same key with a different rate is IDEMPOTENCY_KEY_REUSED and keeps the first rate', async () => {
    const { key, merchantId } = await merchant();
    const idem = randomUUID();
    await setRate(key, { jurisdiction: 'US-CA', name: 'California sales tax', rate: '0.0725', idempotencyKey: idem });
    const reused = await setRate(key, { jurisdiction: 'US-CA', name: 'California sales tax', rate: '0.08', idempotencyKey: idem });
    expect(reused.merchant).toBeNull();
    expect(reused.userErrors).toEqual([expect.objectContaining({ code: 'IDEMPOTENCY_KEY_REUSED', field: ['input', 'idempotencyKey'] })]);
    expect(reused.userErrors[0]!.message.length).toBeGreaterThan(20);
    expect((await settings(key)).taxRates.map((r) => r.rate)).toEqual(['0.0725']);
    expect(await activities(merchantId, 'tax_rate.set')).toHaveLength(1);
  });

  it('a key used for one tax mutation is IDEMPOTENCY_KEY_REUSED on another', async () => {
    const { key } = await merchant();
    const idem = randomUUID();
    await add(key, 'DE', idem);
    const rate = await setRate(key, { jurisdiction: 'DE', name: 'VAT', rate: '0.19', idempotencyKey: idem });
    expect(rate.userErrors[0]?.code).toBe('IDEMPOTENCY_KEY_REUSED');
    const removed = await remove(key, 'DE', idem);
    expect(removed.userErrors[0]?.code).toBe('IDEMPOTENCY_KEY_REUSED');
    const s = await settings(key);
    expect(s.taxRates).toEqual([]);
    expect(s.taxRegistrations.map((r) => r.jurisdiction)).toEqual(['DE']);
  });

  it('removeTaxRegistration: a replay returns the stored success instead of NOT_FOUND', async () => {
    const { key, merchantId } = await merchant();
    await add(key, 'DE');
    const idem = randomUUID();
    const first = await remove(key, 'DE', idem);
    const second = await remove(key, 'DE', idem);
    expect(first.userErrors).toEqual([]);
    expect(second).toEqual(first);
    expect(await activities(merchantId, 'tax_registration.removed')).toHaveLength(1);
  });

  it('a failed request does not use up its key', async () => {
    const { key } = await merchant();
    const idem = randomUUID();
    expect((await remove(key, 'DE', idem)).userErrors[0]?.code).toBe('NOT_FOUND');
    await add(key, 'DE');
    expect((await remove(key, 'DE', idem)).userErrors).toEqual([]);
  });
});

describe('concurrent tax changes', () => {
  it('the same registration added by parallel requests exists once, recorded once', async () => {
    const { key, merchantId } = await merchant();
    const results = await Promise.all(Array.from({ length: 6 }, () => api.request(AddRegistration, { input: { jurisdiction: 'US-TX' } }, key)));
    for (const r of results) {
      expect(r.errors).toBeUndefined();
      expect(r.data?.addTaxRegistration.userErrors).toEqual([]);
    }
    expect((await settings(key)).taxRegistrations.map((r) => r.jurisdiction)).toEqual(['US-TX']);
    expect(await activities(merchantId, 'tax_registration.added')).toHaveLength(1);
  });

  it('the same new rate set by parallel requests succeeds for every request and exists once', async () => {
    const { key } = await merchant();
    const results = await Promise.all(
      Array.from({ length: 6 }, () => api.request(SetRate, { input: { jurisdiction: 'US-TX', name: 'Texas sales tax', rate: '0.0625' } }, key)),
    );
    for (const r of results) {
      expect(r.errors).toBeUndefined();
      expect(r.data?.setTaxRate.userErrors).toEqual([]);
    }
    expect((await settings(key)).taxRates.map((r) => [r.jurisdiction, r.name, r.rate])).toEqual([['US-TX', 'Texas sales tax', '0.0625']]);
  });

  it('parallel requests with one idempotency key have one effect and one result', async () => {
    const { key, merchantId } = await merchant();
    const idem = randomUUID();
    const results = await Promise.all(
      Array.from({ length: 6 }, () => api.request(SetRate, { input: { jurisdiction: 'DE', name: 'VAT', rate: '0.19', idempotencyKey: idem } }, key)),
    );
    for (const r of results) {
      expect(r.errors).toBeUndefined();
      expect(r.data?.setTaxRate).toEqual(results[0]!.data?.setTaxRate);
    }
    expect(results[0]!.data?.setTaxRate.userErrors).toEqual([]);
    expect(await activities(merchantId, 'tax_rate.set')).toHaveLength(1);
  });
});

describe('tax settings are per mode (test and live)', () => {
  it('a live key sees none of the test settings, and the test key none of the live ones', async () => {
    const { key } = await merchant();
    const live = await liveKey(key);
    const reg = (await add(key, 'US-CA')).merchant!.taxRegistrations[0]!;
    const rate = (await setRate(key, { jurisdiction: 'US-CA', name: 'California sales tax', rate: '0.0725' })).merchant!.taxRates[0]!;

    const liveSettings = await settings(live.key);
    expect(liveSettings).toMatchObject({ taxRegistrations: [], taxRates: [] });
    expect((await api.exec(NodeById, { id: reg.id }, live.key)).node).toBeNull();
    expect((await api.exec(NodeById, { id: rate.id }, live.key)).node).toBeNull();

    // Live settings of its own, on the payload too.
    const liveAdd = await add(live.key, 'DE');
    expect(liveAdd.merchant?.taxRegistrations.map((r) => r.jurisdiction)).toEqual(['DE']);
    expect(liveAdd.merchant?.taxRates).toEqual([]);
    const liveRate = await setRate(live.key, { jurisdiction: 'US-CA', name: 'California sales tax', rate: '0.09' });
    expect(liveRate.merchant?.taxRates.map((r) => r.rate)).toEqual(['0.09']);

    const testSettings = await settings(key);
    expect(testSettings.taxRegistrations.map((r) => r.jurisdiction)).toEqual(['US-CA']);
    expect(testSettings.taxRates.map((r) => r.rate)).toEqual(['0.0725']);
  });

  it('removing in one mode does not touch the other', async () => {
    const { key } = await merchant();
    const live = await liveKey(key);
    await add(key, 'US-CA');
    const notThere = await remove(live.key, 'US-CA');
    expect(notThere.userErrors[0]).toMatchObject({ code: 'NOT_FOUND', field: ['input', 'jurisdiction'] });
    await add(live.key, 'US-CA');
    expect((await remove(live.key, 'US-CA')).userErrors).toEqual([]);
    expect((await settings(key)).taxRegistrations.map((r) => r.jurisdiction)).toEqual(['US-CA']);
  });

  it('audit rows carry the mode of the key', async () => {
    const { key, merchantId } = await merchant();
    const live = await liveKey(key);
    await add(live.key, 'DE');
    const entries = await activities(merchantId, 'tax_registration.added');
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ livemode: true, actorId: live.keyId });
  });

  it('orders are taxed with the settings of their own mode', async () => {
    const { key } = await merchant();
    const live = await liveKey(key);
    await add(key, 'US-CA');
    await setRate(key, { jurisdiction: 'US-CA', name: 'California sales tax', rate: '0.0725' });
    const input = {
      shippingAddress: { country: 'US', region: 'CA' },
      lineItems: [{ name: 'Lamp', quantity: 1, unitPriceMoney: { amount: 2000, currency: 'USD' } }],
    };
    const testOrder = (await api.exec(CreateOrder, { input }, key)).createOrder;
    expect(testOrder.userErrors).toEqual([]);
    expect(testOrder.order?.netAmounts.taxMoney.amount).toBe(145);
    expect(testOrder.order?.netAmounts.totalMoney.amount).toBe(2145);
    expect(testOrder.order?.taxes).toEqual([
      { name: 'California sales tax', jurisdiction: 'US-CA', rate: '0.0725', inclusive: false, taxMoney: { amount: 145, currency: 'USD' } },
    ]);

    const liveOrder = (await api.exec(CreateOrder, { input }, live.key)).createOrder;
    expect(liveOrder.userErrors).toEqual([]);
    expect(liveOrder.order?.netAmounts.taxMoney.amount).toBe(0);
    expect(liveOrder.order?.netAmounts.totalMoney.amount).toBe(2000);
    expect(liveOrder.order?.taxes).toEqual([]);
  });

  it('idempotency keys of one mode do not collide with the other', async () => {
    const { key } = await merchant();
    const live = await liveKey(key);
    const idem = randomUUID();
    expect((await add(key, 'US-CA', idem)).userErrors).toEqual([]);
    const liveAdd = await add(live.key, 'DE', idem);
    expect(liveAdd.userErrors).toEqual([]);
    expect((await settings(live.key)).taxRegistrations.map((r) => r.jurisdiction)).toEqual(['DE']);
  });
});
