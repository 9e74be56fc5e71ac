// Tenancy through the public GraphQL API: another merchant's key (and the other mode's key of the same
// merchant) can neither read nor change an order, its line items, its activity or the tax settings.
import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { graphql } from '../generated/index.js';
import type { CreateOrderInput, OrderFilter, TenancyOrdersQuery } from '../generated/graphql.js';
import { useTestApi } from '../support/api.js';

const api = useTestApi();

const CreateOrder = graphql(`
  mutation TenancyCreateOrder($input: CreateOrderInput!) {
    createOrder(input: $input) {
      order { id version lineItems { id } activity { id } }
      userErrors { code message field }
    }
  }
`);

const ReadOrder = graphql(`
  query TenancyOrder($id: ID!) {
    order(id: $id) {
      id
      status
      version
      currency
      customerId
      buyerEmail
      updatedAt
      shippingAddress { country region city }
      lineItems { id name sku quantity taxCategory unitPriceMoney { amount currency } totalMoney { amount } }
      netAmounts { subtotalMoney { amount } taxMoney { amount } totalMoney { amount } }
      activity { id type }
    }
  }
`);

const NodeById = graphql(`
  query TenancyNode($id: ID!) {
    node(id: $id) {
      __typename
      id
    }
  }
`);

const ListOrders = graphql(`
  query TenancyOrders($filter: OrderFilter, $first: Int, $after: String) {
    orders(filter: $filter, first: $first, after: $after) {
      edges { cursor node { id customerId buyerEmail } }
      pageInfo { hasNextPage endCursor }
    }
  }
`);

const AddLineItems = graphql(`
  mutation TenancyAddLineItems($input: AddLineItemsInput!) {
    addLineItems(input: $input) {
      order { id version }
      userErrors { code message field }
    }
  }
`);

const UpdateLineItem = graphql(`
  mutation TenancyUpdateLineItem($input: UpdateLineItemInput!) {
    updateLineItem(input: $input) {
      order { id version }
      userErrors { code message field }
    }
  }
`);

const RemoveLineItem = graphql(`
  mutation TenancyRemoveLineItem($input: RemoveLineItemInput!) {
    removeLineItem(input: $input) {
      order { id version }
      userErrors { code message field }
    }
  }
`);

const SetShippingAddress = graphql(`
  mutation TenancySetShippingAddress($input: SetShippingAddressInput!) {
    setShippingAddress(input: $input) {
      order { id version }
      userErrors { code message field }
    }
  }
`);

const CancelOrder = graphql(`
  mutation TenancyCancelOrder($input: CancelOrderInput!) {
    cancelOrder(input: $input) {
      order { id version status }
      userErrors { code message field }
    }
  }
`);

const CreateApiKey = graphql(`
  mutation TenancyCreateApiKey($input: CreateApiKeyInput!) {
    createApiKey(input: $input) {
      secret
      userErrors { code message field }
    }
  }
`);

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

const line = (name: string, amount: number, quantity = 1) => ({ name, quantity, unitPriceMoney: { amount, currency: 'USD' } });

async function createOrder(key: string, input: CreateOrderInput) {
  const payload = (await api.exec(CreateOrder, { input }, key)).createOrder;
  expect(payload.userErrors).toEqual([]);
  return payload.order!;
}

async function readOrder(key: string, id: string) {
  return (await api.exec(ReadOrder, { id }, key)).order;
}

async function listIds(key: string, filter: OrderFilter | null = null, first = 100) {
  const ids: string[] = [];
  let after: string | null = null;
  for (let page = 0; page < 50; page++) {
    const data: TenancyOrdersQuery = await api.exec(ListOrders, { filter, first, after }, key);
    ids.push(...data.orders.edges.map((e) => e.node.id));
    if (!data.orders.pageInfo.hasNextPage) break;
    after = data.orders.pageInfo.endCursor ?? null;
  }
  return ids;
}

async function liveKeyOf(testKey: string) {
  const payload = (await api.exec(CreateApiKey, { input: { livemode: true } }, testKey)).createApiKey;
  expect(payload.userErrors).toEqual([]);
  return payload.secret!;
}

function expectNotFound(payload: { order?: unknown; userErrors: readonly { code: string; field?: readonly string[] | null; message: string }[] }, field = ['input', 'orderId']) {
  expect(payload.order ?? null).toBeNull();
  expect(payload.userErrors).toHaveLength(1);
  expect(payload.userErrors[0]).toMatchObject({ code: 'NOT_FOUND', field });
  expect(payload.userErrors[0]!.message.length).toBeGreaterThan(10);
}

/** Merchant A with an open order of two lines; merchant B with its own order. */
interface World {
  a: { key: string; merchantId: string };
  b: { key: string; merchantId: string };
  aOrder: { id: string; lineIds: string[]; activityIds: string[] };
  bOrder: { id: string; lineIds: string[] };
  buyerEmail: string;
  customerId: string;
}

async function world(): Promise<World> {
  const a = await api.signup({ name: 'Tenant A', originAddress: { country: 'US', region: 'CA' } });
  const b = await api.signup({ name: 'Tenant B' });
  const buyerEmail = `buyer-${randomUUID()}@example.com`;
  const customerId = `cus_${randomUUID()}`;
  const order = await createOrder(a.key, {
    customerId,
    buyerEmail,
    shippingAddress: { country: 'US', region: 'NY', city: 'New York' },
    lineItems: [line('Notebook', 1200, 2), { ...line('Pen', 300, 3), sku: 'PEN-1' }],
  });
  const bOrder = await createOrder(b.key, { lineItems: [line('Mug', 900)] });
  return {
    a,
    b,
    aOrder: { id: order.id, lineIds: order.lineItems.map((l) => l.id), activityIds: order.activity.map((x) => x.id) },
    bOrder: { id: bOrder.id, lineIds: bOrder.lineItems.map((l) => l.id) },
    buyerEmail,
    customerId,
  };
}

describe("another merchant's key cannot read an order", () => {
  let w: World;
  beforeAll(async () => {
    w = await world();
  });

  it('order(id) is null for B and the order for A', async () => {
    expect((await readOrder(w.a.key, w.aOrder.id))?.id).toBe(w.aOrder.id);
    const result = await api.request(ReadOrder, { id: w.aOrder.id }, w.b.key);
    expect(result.status).toBe(200);
    expect(result.errors).toBeUndefined();
    expect(result.data?.order).toBeNull();
  });

  it("node(id) is null for A's order, line items and activity entries", async () => {
    expect(w.aOrder.lineIds).toHaveLength(2);
    expect(w.aOrder.activityIds.length).toBeGreaterThan(0);
    for (const id of [w.aOrder.id, ...w.aOrder.lineIds, ...w.aOrder.activityIds]) {
      expect((await api.exec(NodeById, { id }, w.a.key)).node?.id).toBe(id);
      const result = await api.request(NodeById, { id }, w.b.key);
      expect(result.errors).toBeUndefined();
      expect({ id, node: result.data?.node }).toEqual({ id, node: null });
    }
  });

  it("node(id) is null for A's merchant id", async () => {
    expect((await api.exec(NodeById, { id: w.a.merchantId }, w.b.key)).node).toBeNull();
    expect((await api.exec(NodeById, { id: w.b.merchantId }, w.b.key)).node?.id).toBe(w.b.merchantId);
  });

  it("reads as exactly like an id that does not exist", async () => {
    const missing = await api.request(ReadOrder, { id: 'ord_01JZZZZZZZZZZZZZZZZZZZZZZZ' }, w.b.key);
    const foreign = await api.request(ReadOrder, { id: w.aOrder.id }, w.b.key);
    expect(foreign).toEqual(missing);
  });

  it("the orders list never contains A's orders", async () => {
    const bIds = await listIds(w.b.key);
    expect(bIds).toContain(w.bOrder.id);
    expect(bIds).not.toContain(w.aOrder.id);
    const aIds = await listIds(w.a.key);
    expect(aIds).toContain(w.aOrder.id);
    expect(aIds).not.toContain(w.bOrder.id);
  });

  it("filters matching A's order (buyerEmail, customerId, status) return nothing for B", async () => {
    const filters: OrderFilter[] = [
      { buyerEmail: w.buyerEmail },
      { buyerEmail: w.buyerEmail.toUpperCase() },
      { customerId: w.customerId },
      { customerId: w.customerId, buyerEmail: w.buyerEmail },
      { status: ['OPEN'], buyerEmail: w.buyerEmail },
    ];
    for (const filter of filters) {
      expect({ filter, ids: await listIds(w.b.key, filter) }).toEqual({ filter, ids: [] });
      expect({ filter, ids: await listIds(w.a.key, filter) }).toEqual({ filter, ids: [w.aOrder.id] });
    }
  });

  it("B's own order with the same buyer and customer is listed, never A's", async () => {
    const bSame = await createOrder(w.b.key, { customerId: w.customerId, buyerEmail: w.buyerEmail, lineItems: [line('Cup', 500)] });
    expect(await listIds(w.b.key, { buyerEmail: w.buyerEmail })).toEqual([bSame.id]);
    expect(await listIds(w.b.key, { customerId: w.customerId })).toEqual([bSame.id]);
    expect(await listIds(w.a.key, { customerId: w.customerId })).toEqual([w.aOrder.id]);
  });

  it("a cursor taken from A's list does not reveal A's orders to B", async () => {
    const older = await createOrder(w.a.key, { lineItems: [line('Older', 100)] });
    const newer = await createOrder(w.a.key, { lineItems: [line('Newer', 100)] });
    const aPage = await api.exec(ListOrders, { first: 1 }, w.a.key);
    expect(aPage.orders.edges[0]?.node.id).toBe(newer.id);
    const bPage = await api.exec(ListOrders, { first: 100, after: aPage.orders.pageInfo.endCursor }, w.b.key);
    const ids = bPage.orders.edges.map((e) => e.node.id);
    expect(ids).not.toContain(older.id);
    expect(ids).not.toContain(w.aOrder.id);
  });
});

describe("another merchant's key cannot change an order", () => {
  let w: World;
  beforeAll(async () => {
    w = await world();
  });

  async function expectUnchanged(before: Awaited<ReturnType<typeof readOrder>>) {
    const after = await readOrder(w.a.key, w.aOrder.id);
    expect(after).toEqual(before);
    const rows = await api.db.order.findUniqueOrThrow({ where: { id: w.aOrder.id }, include: { lineItems: true } });
    expect(rows.version).toBe(before!.version);
    expect(rows.merchantId).toBe(w.a.merchantId);
    expect(rows.lineItems.map((l) => [l.id, l.quantity]).sort()).toEqual(before!.lineItems.map((l) => [l.id, l.quantity]).sort());
  }

  it('addLineItems is NOT_FOUND and changes nothing', async () => {
    const before = await readOrder(w.a.key, w.aOrder.id);
    const payload = (await api.exec(AddLineItems, { input: { orderId: w.aOrder.id, lineItems: [line('Intruder', 1)] } }, w.b.key)).addLineItems;
    expectNotFound(payload);
    await expectUnchanged(before);
  });

  it('addLineItems with the right expectedVersion is still NOT_FOUND', async () => {
    const before = await readOrder(w.a.key, w.aOrder.id);
    const payload = (
      await api.exec(AddLineItems, { input: { orderId: w.aOrder.id, lineItems: [line('Intruder', 1)], expectedVersion: before!.version } }, w.b.key)
    ).addLineItems;
    expectNotFound(payload);
    await expectUnchanged(before);
  });

  it('updateLineItem is NOT_FOUND and changes nothing', async () => {
    const before = await readOrder(w.a.key, w.aOrder.id);
    const payload = (await api.exec(UpdateLineItem, { input: { orderId: w.aOrder.id, lineItemId: w.aOrder.lineIds[0]!, quantity: 99 } }, w.b.key))
      .updateLineItem;
    expectNotFound(payload);
    await expectUnchanged(before);
  });

  it('removeLineItem is NOT_FOUND and changes nothing', async () => {
    const before = await readOrder(w.a.key, w.aOrder.id);
    const payload = (await api.exec(RemoveLineItem, { input: { orderId: w.aOrder.id, lineItemId: w.aOrder.lineIds[1]! } }, w.b.key)).removeLineItem;
    expectNotFound(payload);
    await expectUnchanged(before);
  });

  it('setShippingAddress is NOT_FOUND and changes nothing', async () => {
    const before = await readOrder(w.a.key, w.aOrder.id);
    const payload = (
      await api.exec(SetShippingAddress, { input: { orderId: w.aOrder.id, shippingAddress: { country: 'DE', city: 'Berlin' } } }, w.b.key)
    ).setShippingAddress;
    expectNotFound(payload);
    await expectUnchanged(before);
    expect(before?.shippingAddress).toEqual({ country: 'US', region: 'NY', city: 'New York' });
  });

  it('cancelOrder is NOT_FOUND and the order stays OPEN', async () => {
    const before = await readOrder(w.a.key, w.aOrder.id);
    const payload = (await api.exec(CancelOrder, { input: { orderId: w.aOrder.id, reason: 'not yours' } }, w.b.key)).cancelOrder;
    expectNotFound(payload);
    await expectUnchanged(before);
    expect(before?.status).toBe('OPEN');
  });

  it("B cannot reach A's line items through B's own order", async () => {
    const aBefore = await readOrder(w.a.key, w.aOrder.id);
    const bBefore = await readOrder(w.b.key, w.bOrder.id);
    const update = (await api.exec(UpdateLineItem, { input: { orderId: w.bOrder.id, lineItemId: w.aOrder.lineIds[0]!, quantity: 7 } }, w.b.key))
      .updateLineItem;
    expectNotFound(update, ['input', 'lineItemId']);
    const remove = (await api.exec(RemoveLineItem, { input: { orderId: w.bOrder.id, lineItemId: w.aOrder.lineIds[0]! } }, w.b.key)).removeLineItem;
    expectNotFound(remove, ['input', 'lineItemId']);
    await expectUnchanged(aBefore);
    expect(await readOrder(w.b.key, w.bOrder.id)).toEqual(bBefore);
  });

  it("A cannot reach B's order either, and A's own edits still work", async () => {
    const bBefore = await readOrder(w.b.key, w.bOrder.id);
    expectNotFound((await api.exec(CancelOrder, { input: { orderId: w.bOrder.id } }, w.a.key)).cancelOrder);
    expect(await readOrder(w.b.key, w.bOrder.id)).toEqual(bBefore);

    const aBefore = await readOrder(w.a.key, w.aOrder.id);
    const own = (await api.exec(UpdateLineItem, { input: { orderId: w.aOrder.id, lineItemId: w.aOrder.lineIds[0]!, quantity: 3 } }, w.a.key))
      .updateLineItem;
    expect(own.userErrors).toEqual([]);
    expect(own.order?.version).toBe(aBefore!.version + 1);
  });

  it('the failed attempts left no activity on the order and none under B', async () => {
    const fresh = await world();
    const before = await api.db.activity.findMany({ where: { orderId: fresh.aOrder.id } });
    const bBefore = await api.db.activity.count({ where: { merchantId: fresh.b.merchantId } });
    const k = fresh.b.key;
    const id = fresh.aOrder.id;
    await api.exec(AddLineItems, { input: { orderId: id, lineItems: [line('X', 1)] } }, k);
    await api.exec(UpdateLineItem, { input: { orderId: id, lineItemId: fresh.aOrder.lineIds[0]!, quantity: 5 } }, k);
    await api.exec(RemoveLineItem, { input: { orderId: id, lineItemId: fresh.aOrder.lineIds[0]! } }, k);
    await api.exec(SetShippingAddress, { input: { orderId: id, shippingAddress: { country: 'DE' } } }, k);
    await api.exec(CancelOrder, { input: { orderId: id } }, k);
    expect(await api.db.activity.findMany({ where: { orderId: id } })).toEqual(before);
    expect(await api.db.activity.count({ where: { merchantId: fresh.b.merchantId } })).toBe(bBefore);
  });

  it("B reusing A's idempotency key gets its own result, never A's order", async () => {
    const a = await api.signup();
    const b = await api.signup();
    const idempotencyKey = randomUUID();
    const input = { idempotencyKey, lineItems: [line('Shared key', 1000)] };
    const aOrder = await createOrder(a.key, input);
    const bPayload = (await api.exec(CreateOrder, { input }, b.key)).createOrder;
    expect(bPayload.userErrors).toEqual([]);
    expect(bPayload.order?.id).toBeTruthy();
    expect(bPayload.order?.id).not.toBe(aOrder.id);
    expect(await readOrder(b.key, bPayload.order!.id)).not.toBeNull();
    expect(await readOrder(b.key, aOrder.id)).toBeNull();
    expect(await listIds(a.key)).toEqual([aOrder.id]);
    expect(await listIds(b.key)).toEqual([bPayload.order!.id]);

    // The same key with a different input is not "reused" for B just because A used it.
    const bOther = (await api.exec(CreateOrder, { input: { idempotencyKey, lineItems: [line('Other', 1)] } }, b.key)).createOrder;
    expect(bOther.userErrors.map((e) => e.code)).toEqual(['IDEMPOTENCY_KEY_REUSED']);
    const c = await api.signup();
    const cOther = (await api.exec(CreateOrder, { input: { idempotencyKey, lineItems: [line('Other', 1)] } }, c.key)).createOrder;
    expect(cOther.userErrors).toEqual([]);
  });

  it("B reusing A's idempotency key on an edit of A's order is NOT_FOUND, not A's stored result", async () => {
    const fresh = await world();
    const idempotencyKey = randomUUID();
    const input = { orderId: fresh.aOrder.id, lineItemId: fresh.aOrder.lineIds[0]!, quantity: 4, idempotencyKey };
    const aResult = (await api.exec(UpdateLineItem, { input }, fresh.a.key)).updateLineItem;
    expect(aResult.userErrors).toEqual([]);
    const bResult = (await api.exec(UpdateLineItem, { input }, fresh.b.key)).updateLineItem;
    expectNotFound(bResult);
  });
});

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
