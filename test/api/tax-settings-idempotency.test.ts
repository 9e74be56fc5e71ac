// Tax settings through the public GraphQL API: idempotency keys on tax mutations, and concurrent tax changes.
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { api, AddRegistration, SetRate, merchant, settings, activities, add, remove, setRate } from '../support/tax-settings.js';

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
