// Tax settings through the public GraphQL API: test and live settings are separate (reads, removals, audit
// rows, order taxes, idempotency keys).
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { graphql } from '../generated/index.js';
import { api, NodeById, CreateApiKey, merchant, settings, activities, add, remove, setRate } from '../support/tax-settings.js';

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

async function liveKey(testKey: string) {
  const payload = (await api.exec(CreateApiKey, { input: { livemode: true } }, testKey)).createApiKey;
  expect(payload.userErrors).toEqual([]);
  return { key: payload.secret!, keyId: payload.apiKey!.id };
}

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
