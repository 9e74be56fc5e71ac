// Tax registrations (nexus) through the public GraphQL API: addTaxRegistration, jurisdiction validation,
// removeTaxRegistration, and their audit trail.
import { describe, expect, it } from 'vitest';
import { api, AddRegistration, NodeById, merchant, settings, activities, add, remove, setRate } from '../support/tax-settings.js';

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
