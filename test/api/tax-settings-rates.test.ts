// Tax rates through the public GraphQL API: setTaxRate (create, replace, per category, name and jurisdiction;
// rate, taxCategory and name validation with nothing written).
import { describe, expect, it } from 'vitest';
import { api, NodeById, merchant, settings, activities, setRate } from '../support/tax-settings.js';

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
