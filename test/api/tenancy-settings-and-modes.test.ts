// Tenancy through the public GraphQL API: tax settings and API keys are per merchant, and the test and live
// mode of one merchant are separate (neither reads nor changes the other's orders).
import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { graphql } from '../generated/index.js';
import { api, NodeById, ListOrders, AddLineItems, UpdateLineItem, RemoveLineItem, SetShippingAddress, CancelOrder, CreateApiKey, line, createOrder, readOrder, listIds, expectNotFound } from '../support/tenancy.js';

const AddRegistration = graphql(`
  mutation TenancyAddRegistration($input: AddTaxRegistrationInput!) {
    addTaxRegistration(input: $input) {
      merchant { id taxRegistrations { id jurisdiction } }
      userErrors { code message field }
    }
  }
`);

const RemoveRegistration = graphql(`
  mutation TenancyRemoveRegistration($input: RemoveTaxRegistrationInput!) {
    removeTaxRegistration(input: $input) {
      merchant { id taxRegistrations { id jurisdiction } }
      userErrors { code message field }
    }
  }
`);

const SetRate = graphql(`
  mutation TenancySetRate($input: SetTaxRateInput!) {
    setTaxRate(input: $input) {
      merchant { id taxRates { id jurisdiction name rate } }
      userErrors { code message field }
    }
  }
`);

const Viewer = graphql(`
  query TenancyViewer {
    viewer {
      id
      apiKeys { id }
      taxRegistrations { id jurisdiction }
      taxRates { id jurisdiction name rate }
    }
  }
`);

async function liveKeyOf(testKey: string) {
  const payload = (await api.exec(CreateApiKey, { input: { livemode: true } }, testKey)).createApiKey;
  expect(payload.userErrors).toEqual([]);
  return payload.secret!;
}

describe('tax settings are per merchant', () => {
  it("B sees none of A's registrations and rates, and cannot remove them", async () => {
    const a = await api.signup();
    const b = await api.signup();
    const reg = (await api.exec(AddRegistration, { input: { jurisdiction: 'US-CA' } }, a.key)).addTaxRegistration.merchant!.taxRegistrations[0]!;
    const rate = (await api.exec(SetRate, { input: { jurisdiction: 'US-CA', name: 'California sales tax', rate: '0.0725' } }, a.key)).setTaxRate.merchant!
      .taxRates[0]!;

    const bViewer = (await api.exec(Viewer, {}, b.key)).viewer!;
    expect(bViewer.id).toBe(b.merchantId);
    expect(bViewer.taxRegistrations).toEqual([]);
    expect(bViewer.taxRates).toEqual([]);
    expect((await api.exec(NodeById, { id: reg.id }, b.key)).node).toBeNull();
    expect((await api.exec(NodeById, { id: rate.id }, b.key)).node).toBeNull();

    // Merchant-level activity entries (not tied to an order) are A's too.
    const entry = await api.db.activity.findFirstOrThrow({ where: { merchantId: a.merchantId, type: 'tax_registration.added' } });
    expect((await api.exec(NodeById, { id: entry.id }, a.key)).node).toEqual({ __typename: 'Activity', id: entry.id });
    expect((await api.exec(NodeById, { id: entry.id }, b.key)).node).toBeNull();

    const removed = (await api.exec(RemoveRegistration, { input: { jurisdiction: 'US-CA' } }, b.key)).removeTaxRegistration;
    expect(removed.userErrors[0]).toMatchObject({ code: 'NOT_FOUND', field: ['input', 'jurisdiction'] });

    // B setting "the same" rate makes a rate of B's own; A's stays as it was.
    const bRate = (await api.exec(SetRate, { input: { jurisdiction: 'US-CA', name: 'California sales tax', rate: '0.09' } }, b.key)).setTaxRate;
    expect(bRate.userErrors).toEqual([]);
    expect(bRate.merchant?.id).toBe(b.merchantId);
    expect(bRate.merchant?.taxRates[0]?.id).not.toBe(rate.id);
    const aViewer = (await api.exec(Viewer, {}, a.key)).viewer!;
    expect(aViewer.taxRegistrations).toEqual([reg]);
    expect(aViewer.taxRates).toEqual([rate]);
  });

  it("A's registrations and rates do not tax B's orders", async () => {
    const a = await api.signup();
    const b = await api.signup();
    await api.exec(AddRegistration, { input: { jurisdiction: 'US-CA' } }, a.key);
    await api.exec(SetRate, { input: { jurisdiction: 'US-CA', name: 'California sales tax', rate: '0.0725' } }, a.key);
    const input = { shippingAddress: { country: 'US', region: 'CA' }, lineItems: [line('Lamp', 2000)] };
    const aOrder = await createOrder(a.key, input);
    const bOrder = await createOrder(b.key, input);
    expect((await readOrder(a.key, aOrder.id))?.netAmounts.taxMoney.amount).toBe(145);
    expect((await readOrder(b.key, bOrder.id))?.netAmounts.taxMoney.amount).toBe(0);
  });

  it("viewer.apiKeys lists only the caller's own keys", async () => {
    const a = await api.signup();
    const b = await api.signup();
    const aKeys = (await api.exec(Viewer, {}, a.key)).viewer!.apiKeys.map((k) => k.id);
    const bKeys = (await api.exec(Viewer, {}, b.key)).viewer!.apiKeys.map((k) => k.id);
    expect(aKeys).toHaveLength(1);
    expect(bKeys).toHaveLength(1);
    expect(aKeys).not.toEqual(bKeys);
  });
});

describe('test and live mode of the same merchant are separate', () => {
  let testKey: string;
  let liveKey: string;
  let testOrder: { id: string; lineIds: string[]; activityIds: string[] };
  let liveOrder: { id: string; lineIds: string[]; activityIds: string[] };
  const buyerEmail = `mode-${randomUUID()}@example.com`;

  beforeAll(async () => {
    const m = await api.signup();
    testKey = m.key;
    liveKey = await liveKeyOf(testKey);
    const t = await createOrder(testKey, { buyerEmail, customerId: 'cus_mode', lineItems: [line('Test thing', 500, 2)] });
    const l = await createOrder(liveKey, { buyerEmail, customerId: 'cus_mode', lineItems: [line('Live thing', 700)] });
    testOrder = { id: t.id, lineIds: t.lineItems.map((x) => x.id), activityIds: t.activity.map((x) => x.id) };
    liveOrder = { id: l.id, lineIds: l.lineItems.map((x) => x.id), activityIds: l.activity.map((x) => x.id) };
  });

  it('the live key does not see test orders: list empty of them, order(id) null, node(id) null', async () => {
    expect(await listIds(liveKey)).toEqual([liveOrder.id]);
    expect(await listIds(liveKey, { buyerEmail })).toEqual([liveOrder.id]);
    expect(await listIds(liveKey, { customerId: 'cus_mode' })).toEqual([liveOrder.id]);
    expect(await readOrder(liveKey, testOrder.id)).toBeNull();
    for (const id of [testOrder.id, ...testOrder.lineIds, ...testOrder.activityIds]) {
      expect({ id, node: (await api.exec(NodeById, { id }, liveKey)).node }).toEqual({ id, node: null });
    }
  });

  it('the test key does not see live orders', async () => {
    expect(await listIds(testKey)).toEqual([testOrder.id]);
    expect(await listIds(testKey, { buyerEmail })).toEqual([testOrder.id]);
    expect(await readOrder(testKey, liveOrder.id)).toBeNull();
    for (const id of [liveOrder.id, ...liveOrder.lineIds, ...liveOrder.activityIds]) {
      expect({ id, node: (await api.exec(NodeById, { id }, testKey)).node }).toEqual({ id, node: null });
    }
  });

  it('a new merchant with only a live key has an empty order list', async () => {
    const m = await api.signup();
    await createOrder(m.key, { lineItems: [line('Only test', 100)] });
    const live = await liveKeyOf(m.key);
    const data = await api.exec(ListOrders, {}, live);
    expect(data.orders.edges).toEqual([]);
    expect(data.orders.pageInfo.hasNextPage).toBe(false);
  });

  it("the live key cannot change the test order (NOT_FOUND), and vice versa", async () => {
    const before = await readOrder(testKey, testOrder.id);
    expectNotFound((await api.exec(AddLineItems, { input: { orderId: testOrder.id, lineItems: [line('X', 1)] } }, liveKey)).addLineItems);
    expectNotFound(
      (await api.exec(UpdateLineItem, { input: { orderId: testOrder.id, lineItemId: testOrder.lineIds[0]!, quantity: 9 } }, liveKey)).updateLineItem,
    );
    expectNotFound((await api.exec(RemoveLineItem, { input: { orderId: testOrder.id, lineItemId: testOrder.lineIds[0]! } }, liveKey)).removeLineItem);
    expectNotFound((await api.exec(SetShippingAddress, { input: { orderId: testOrder.id, shippingAddress: { country: 'DE' } } }, liveKey)).setShippingAddress);
    expectNotFound((await api.exec(CancelOrder, { input: { orderId: testOrder.id } }, liveKey)).cancelOrder);
    expect(await readOrder(testKey, testOrder.id)).toEqual(before);

    const liveBefore = await readOrder(liveKey, liveOrder.id);
    expectNotFound((await api.exec(CancelOrder, { input: { orderId: liveOrder.id } }, testKey)).cancelOrder);
    expect(await readOrder(liveKey, liveOrder.id)).toEqual(liveBefore);
  });
});
