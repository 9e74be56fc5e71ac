// Orders through the public GraphQL API: create, read, list (filters + cursor pagination), edit while
// OPEN (re-pricing, version, activity), cancel, availableActions, expectedVersion and row locking.
import { describe, expect, it } from 'vitest';
import { graphql } from '../generated/index.js';
import { useTestApi } from '../support/api.js';
import type { Clock } from '../../src/kernel/context.js';

/** Real time unless a test pins it (createdAt filters need exact instants). */
let pinnedNow: Date | null = null;
const clock: Clock = { now: () => pinnedNow ?? new Date() };
const api = useTestApi({ clock });

const OrderFields = graphql(`
  fragment OrdersOrderFields on Order {
    id
    status
    currency
    customerId
    buyerEmail
    metadata
    version
    createdAt
    updatedAt
    summary
    shippingAddress { country region city postalCode line1 line2 }
    lineItems {
      id
      name
      sku
      quantity
      taxCategory
      metadata
      unitPriceMoney { amount currency }
      grossMoney { amount currency }
      discountMoney { amount }
      taxMoney { amount }
      totalMoney { amount currency }
      taxes { name jurisdiction rate inclusive taxableMoney { amount } taxMoney { amount } }
    }
    taxes { name jurisdiction rate inclusive taxableMoney { amount currency } taxMoney { amount currency } }
    netAmounts {
      subtotalMoney { amount currency }
      discountMoney { amount }
      taxMoney { amount }
      totalMoney { amount currency }
      paidMoney { amount }
      refundedMoney { amount }
      balanceMoney { amount }
    }
    availableActions { action mutation description }
    activity { id type orderId idempotencyKey delta actor { type id name } }
  }
`);
void OrderFields;

const CreateOrder = graphql(`
  mutation OrdersCreate($input: CreateOrderInput!) {
    createOrder(input: $input) {
      order { ...OrdersOrderFields }
      userErrors { code message field }
    }
  }
`);

const GetOrder = graphql(`
  query OrdersGet($id: ID!) {
    order(id: $id) { ...OrdersOrderFields }
  }
`);

const ListOrders = graphql(`
  query OrdersList($filter: OrderFilter, $first: Int, $after: String) {
    orders(filter: $filter, first: $first, after: $after) {
      edges { cursor node { id customerId buyerEmail status createdAt } }
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    }
  }
`);

const AddLines = graphql(`
  mutation OrdersAddLines($input: AddLineItemsInput!) {
    addLineItems(input: $input) {
      order { ...OrdersOrderFields }
      userErrors { code message field }
    }
  }
`);

const UpdateLine = graphql(`
  mutation OrdersUpdateLine($input: UpdateLineItemInput!) {
    updateLineItem(input: $input) {
      order { ...OrdersOrderFields }
      userErrors { code message field }
    }
  }
`);

const RemoveLine = graphql(`
  mutation OrdersRemoveLine($input: RemoveLineItemInput!) {
    removeLineItem(input: $input) {
      order { ...OrdersOrderFields }
      userErrors { code message field }
    }
  }
`);

const SetShipping = graphql(`
  mutation OrdersSetShipping($input: SetShippingAddressInput!) {
    setShippingAddress(input: $input) {
      order { ...OrdersOrderFields }
      userErrors { code message field }
    }
  }
`);

const CancelOrder = graphql(`
  mutation OrdersCancel($input: CancelOrderInput!) {
    cancelOrder(input: $input) {
      order { ...OrdersOrderFields }
      userErrors { code message field }
    }
  }
`);

const Viewer = graphql(`
  query OrdersViewer {
    viewer { id apiKeys { id prefix } }
  }
`);

const MutationNames = graphql(`
  query OrdersMutationNames {
    __schema { mutationType { fields { name } } }
    __type(name: "OrderActionType") { enumValues { name } }
  }
`);

const AddRegistration = graphql(`
  mutation OrdersAddRegistration($input: AddTaxRegistrationInput!) {
    addTaxRegistration(input: $input) { userErrors { code message field } }
  }
`);

const SetRate = graphql(`
  mutation OrdersSetRate($input: SetTaxRateInput!) {
    setTaxRate(input: $input) { userErrors { code message field } }
  }
`);

// --- helpers ---------------------------------------------------------------------------------------

type Line = { name: string; quantity: number; amount: number; currency?: string; taxCategory?: string; sku?: string };

const line = (l: Line) => ({
  name: l.name,
  quantity: l.quantity,
  unitPriceMoney: { amount: l.amount, currency: l.currency ?? 'USD' },
  ...(l.taxCategory ? { taxCategory: l.taxCategory } : {}),
  ...(l.sku ? { sku: l.sku } : {}),
});

async function create(key: string, input: Record<string, unknown>) {
  const data = await api.exec(CreateOrder, { input: input as never }, key);
  expect(data.createOrder.userErrors).toEqual([]);
  const order = data.createOrder.order;
  if (!order) throw new Error('createOrder returned no order');
  return order;
}

async function createSimple(key: string, extra: Record<string, unknown> = {}, lines: ReturnType<typeof line>[] = [line({ name: 'Widget', quantity: 1, amount: 1000 })]) {
  return create(key, { lineItems: lines, ...extra });
}

async function getOrder(key: string, id: string) {
  const data = await api.exec(GetOrder, { id }, key);
  if (!data.order) throw new Error(`order ${id} not readable`);
  return data.order;
}

async function californiaTax(key: string, rate = '0.0725') {
  const reg = await api.exec(AddRegistration, { input: { jurisdiction: 'US-CA' } }, key);
  expect(reg.addTaxRegistration.userErrors).toEqual([]);
  const r = await api.exec(SetRate, { input: { jurisdiction: 'US-CA', name: 'California sales tax', rate } }, key);
  expect(r.setTaxRate.userErrors).toEqual([]);
}

async function counts(merchantId: string) {
  const db = api.db;
  const [orders, lineItems, activity] = await Promise.all([
    db.order.count({ where: { merchantId } }),
    db.lineItem.count({ where: { merchantId } }),
    db.activity.count({ where: { merchantId } }),
  ]);
  return { orders, lineItems, activity };
}

type Delta = { before: Record<string, unknown> | null; after: Record<string, unknown> | null };
const netTotal = (side: Record<string, unknown> | null | undefined) => (side?.netAmounts as { total: number } | undefined)?.total;
const netSubtotal = (side: Record<string, unknown> | null | undefined) => (side?.netAmounts as { subtotal: number } | undefined)?.subtotal;

const CA = { country: 'US', region: 'CA' };

// --- create & read -----------------------------------------------------------------------------------

describe('createOrder and order(id)', () => {
  it('signs up, creates an order and returns every amount exactly (no tax settings → no tax)', async () => {
    const { key } = await api.signup();
    const order = await create(key, {
      customerId: 'cus_42',
      buyerEmail: 'sarah@example.com',
      metadata: { channel: 'web', cart: 7 },
      lineItems: [
        { ...line({ name: 'Organic Coffee Beans', quantity: 2, amount: 1999, sku: 'COF-1' }), metadata: { roast: 'dark' } },
        line({ name: 'Ceramic Mug', quantity: 1, amount: 1450 }),
      ],
    });
    expect(order.id).toMatch(/^ord_/);
    expect(order.status).toBe('OPEN');
    expect(order.currency).toBe('USD');
    expect(order.version).toBe(1);
    expect(order.customerId).toBe('cus_42');
    expect(order.buyerEmail).toBe('sarah@example.com');
    expect(order.metadata).toEqual({ channel: 'web', cart: 7 });
    expect(order.shippingAddress).toBeNull();
    expect(order.taxes).toEqual([]);
    expect(order.lineItems.map((l) => [l.name, l.sku, l.quantity, l.taxCategory, l.unitPriceMoney.amount, l.grossMoney.amount, l.taxMoney.amount, l.totalMoney.amount])).toEqual([
      ['Organic Coffee Beans', 'COF-1', 2, 'general', 1999, 3998, 0, 3998],
      ['Ceramic Mug', null, 1, 'general', 1450, 1450, 0, 1450],
    ]);
    expect(order.lineItems[0]!.metadata).toEqual({ roast: 'dark' });
    expect(order.lineItems[0]!.id).toMatch(/^li_/);
    expect(order.lineItems.every((l) => l.taxes.length === 0)).toBe(true);
    expect(order.netAmounts).toEqual({
      subtotalMoney: { amount: 5448, currency: 'USD' },
      discountMoney: { amount: 0 },
      taxMoney: { amount: 0 },
      totalMoney: { amount: 5448, currency: 'USD' },
      paidMoney: { amount: 0 },
      refundedMoney: { amount: 0 },
      balanceMoney: { amount: 5448 },
    });
    expect(order.activity.map((a) => a.type)).toEqual(['order.created']);
    expect(order.summary).toContain('Organic Coffee Beans ×2');
    expect(order.summary).toContain('Ceramic Mug ×1');
    expect(order.summary).toContain('54.48 USD');

    // Reading it back returns the same state.
    const read = await getOrder(key, order.id);
    expect(read.netAmounts).toEqual(order.netAmounts);
    expect(read.lineItems).toEqual(order.lineItems);
    expect(read.version).toBe(1);
  });

  it('taxes an exclusive US sales tax order with exact line allocation', async () => {
    const { key } = await api.signup();
    await californiaTax(key);
    const order = await create(key, {
      shippingAddress: { ...CA, city: 'San Francisco', postalCode: '94103', line1: '1 Market St' },
      lineItems: [line({ name: 'Beans', quantity: 2, amount: 1999 }), line({ name: 'Filter', quantity: 1, amount: 500 })],
    });
    // 4498 × 0.0725 = 326.105 → 326; allocated [289.76…, 36.24…] → [290, 36].
    expect(order.taxes).toEqual([
      { name: 'California sales tax', jurisdiction: 'US-CA', rate: '0.0725', inclusive: false, taxableMoney: { amount: 4498, currency: 'USD' }, taxMoney: { amount: 326, currency: 'USD' } },
    ]);
    expect(order.lineItems.map((l) => [l.taxMoney.amount, l.totalMoney.amount])).toEqual([
      [290, 4288],
      [36, 536],
    ]);
    expect(order.netAmounts.subtotalMoney.amount).toBe(4498);
    expect(order.netAmounts.taxMoney.amount).toBe(326);
    expect(order.netAmounts.totalMoney.amount).toBe(4824);
    expect(order.netAmounts.balanceMoney.amount).toBe(4824);
    expect(order.shippingAddress).toEqual({ country: 'US', region: 'CA', city: 'San Francisco', postalCode: '94103', line1: '1 Market St', line2: null });
  });

  it('creates an empty order when the currency is given, and prices lines added later', async () => {
    const { key } = await api.signup();
    const order = await create(key, { currency: 'EUR', lineItems: [] });
    expect(order.currency).toBe('EUR');
    expect(order.lineItems).toEqual([]);
    expect(order.netAmounts.totalMoney).toEqual({ amount: 0, currency: 'EUR' });
    const added = await api.exec(AddLines, { input: { orderId: order.id, lineItems: [line({ name: 'Tee', quantity: 3, amount: 2500, currency: 'EUR' })] } }, key);
    expect(added.addLineItems.userErrors).toEqual([]);
    expect(added.addLineItems.order?.netAmounts.totalMoney).toEqual({ amount: 7500, currency: 'EUR' });
  });

  it("hides another merchant's order: order(id) is null and edits are NOT_FOUND without touching it", async () => {
    const a = await api.signup();
    const b = await api.signup();
    const order = await createSimple(a.key);
    const read = await api.exec(GetOrder, { id: order.id }, b.key);
    expect(read.order).toBeNull();
    const before = await counts(a.merchantId);
    const add = await api.exec(AddLines, { input: { orderId: order.id, lineItems: [line({ name: 'X', quantity: 1, amount: 1 })] } }, b.key);
    expect(add.addLineItems.order).toBeNull();
    expect(add.addLineItems.userErrors.map((e) => [e.code, e.field])).toEqual([['NOT_FOUND', ['input', 'orderId']]]);
    const cancel = await api.exec(CancelOrder, { input: { orderId: order.id } }, b.key);
    expect(cancel.cancelOrder.userErrors.map((e) => [e.code, e.field])).toEqual([['NOT_FOUND', ['input', 'orderId']]]);
    expect(await counts(a.merchantId)).toEqual(before);
    const still = await getOrder(a.key, order.id);
    expect(still.status).toBe('OPEN');
    expect(still.version).toBe(1);
    // And B's list does not show it.
    const list = await api.exec(ListOrders, {}, b.key);
    expect(list.orders.edges).toEqual([]);
  });

  it('returns null for an id that does not exist', async () => {
    const { key } = await api.signup();
    const read = await api.exec(GetOrder, { id: 'ord_00000000000000000000000000' }, key);
    expect(read.order).toBeNull();
  });
});

// --- list -----------------------------------------------------------------------------------------------

describe('orders query', () => {
  it('filters by customerId, buyerEmail (case-insensitive) and status', async () => {
    const { key } = await api.signup();
    const o1 = await createSimple(key, { customerId: 'cus_a', buyerEmail: 'Sarah@Example.com' });
    const o2 = await createSimple(key, { customerId: 'cus_b', buyerEmail: 'sarah@example.com' });
    const o3 = await createSimple(key, { customerId: 'cus_a', buyerEmail: 'tom@example.com' });
    const o4 = await createSimple(key, {});
    const canceled = await api.exec(CancelOrder, { input: { orderId: o3.id } }, key);
    expect(canceled.cancelOrder.userErrors).toEqual([]);

    const ids = async (filter: Record<string, unknown>) =>
      (await api.exec(ListOrders, { filter: filter as never }, key)).orders.edges.map((e) => e.node.id);

    expect(await ids({})).toEqual([o4.id, o3.id, o2.id, o1.id]);
    expect(await ids({ customerId: 'cus_a' })).toEqual([o3.id, o1.id]);
    expect(await ids({ customerId: 'cus_zzz' })).toEqual([]);
    expect(await ids({ buyerEmail: 'SARAH@example.COM' })).toEqual([o2.id, o1.id]);
    expect(await ids({ buyerEmail: 'sarah@example.co' })).toEqual([]);
    expect(await ids({ status: ['CANCELED'] })).toEqual([o3.id]);
    expect(await ids({ status: ['OPEN'] })).toEqual([o4.id, o2.id, o1.id]);
    expect(await ids({ status: ['OPEN', 'CANCELED'] })).toEqual([o4.id, o3.id, o2.id, o1.id]);
    expect(await ids({ status: ['PAID'] })).toEqual([]);
    // All conditions must hold.
    expect(await ids({ customerId: 'cus_a', status: ['OPEN'] })).toEqual([o1.id]);
    expect(await ids({ customerId: 'cus_a', buyerEmail: 'TOM@example.com' })).toEqual([o3.id]);
  });

  it('filters by createdAfter (inclusive) and createdBefore (exclusive)', async () => {
    const { key } = await api.signup();
    const made: { id: string; createdAt: string }[] = [];
    try {
      for (const at of ['2030-01-01T00:00:00.000Z', '2030-01-02T00:00:00.000Z', '2030-01-03T00:00:00.000Z']) {
        pinnedNow = new Date(at);
        const o = await createSimple(key);
        made.push({ id: o.id, createdAt: o.createdAt });
      }
    } finally {
      pinnedNow = null;
    }
    expect(made.map((m) => m.createdAt)).toEqual(['2030-01-01T00:00:00.000Z', '2030-01-02T00:00:00.000Z', '2030-01-03T00:00:00.000Z']);
    const [a, b, c] = made.map((m) => m.id) as [string, string, string];
    const ids = async (filter: Record<string, unknown>) =>
      (await api.exec(ListOrders, { filter: filter as never }, key)).orders.edges.map((e) => e.node.id);
    expect(await ids({ createdAfter: '2030-01-02T00:00:00.000Z' })).toEqual([c, b]);
    expect(await ids({ createdBefore: '2030-01-02T00:00:00.000Z' })).toEqual([a]);
    expect(await ids({ createdAfter: '2030-01-01T12:00:00.000Z', createdBefore: '2030-01-03T00:00:00.000Z' })).toEqual([b]);
    expect(await ids({ createdAfter: '2030-01-03T00:00:00.001Z' })).toEqual([]);
  });

  it('paginates newest first with cursors: 7 orders, first 3 → 3 + 3 + 1, no duplicates, all seen', async () => {
    const { key } = await api.signup();
    const created: string[] = [];
    for (let i = 0; i < 7; i++) created.push((await createSimple(key, { customerId: `cus_${i}` })).id);
    const newestFirst = [...created].reverse();

    const p1 = (await api.exec(ListOrders, { first: 3 }, key)).orders;
    expect(p1.edges.map((e) => e.node.id)).toEqual(newestFirst.slice(0, 3));
    expect(p1.pageInfo).toEqual({
      hasNextPage: true,
      hasPreviousPage: false,
      startCursor: p1.edges[0]!.cursor,
      endCursor: p1.edges[2]!.cursor,
    });

    const p2 = (await api.exec(ListOrders, { first: 3, after: p1.pageInfo.endCursor }, key)).orders;
    expect(p2.edges.map((e) => e.node.id)).toEqual(newestFirst.slice(3, 6));
    expect(p2.pageInfo).toEqual({ hasNextPage: true, hasPreviousPage: true, startCursor: p2.edges[0]!.cursor, endCursor: p2.edges[2]!.cursor });

    const p3 = (await api.exec(ListOrders, { first: 3, after: p2.pageInfo.endCursor }, key)).orders;
    expect(p3.edges.map((e) => e.node.id)).toEqual(newestFirst.slice(6));
    expect(p3.pageInfo).toEqual({ hasNextPage: false, hasPreviousPage: true, startCursor: p3.edges[0]!.cursor, endCursor: p3.edges[0]!.cursor });

    const seen = [...p1.edges, ...p2.edges, ...p3.edges].map((e) => e.node.id);
    expect(new Set(seen).size).toBe(7);
    expect([...seen].sort()).toEqual([...created].sort());

    // Exactly one page's worth: no next page. Default page size (20) returns everything.
    const exact = (await api.exec(ListOrders, { first: 7 }, key)).orders;
    expect(exact.edges).toHaveLength(7);
    expect(exact.pageInfo.hasNextPage).toBe(false);
    const all = (await api.exec(ListOrders, {}, key)).orders;
    expect(all.edges.map((e) => e.node.id)).toEqual(newestFirst);
    expect(all.pageInfo.hasNextPage).toBe(false);

    // Pagination composes with a filter.
    const filtered = (await api.exec(ListOrders, { filter: { customerId: 'cus_3' }, first: 3 }, key)).orders;
    expect(filtered.edges.map((e) => e.node.id)).toEqual([created[3]]);
  });

  it('refuses a page size out of 1..100 with an error', async () => {
    const { key } = await api.signup();
    await createSimple(key);
    for (const first of [0, -1, 101]) {
      const result = await api.request(ListOrders, { first }, key);
      expect(result.errors?.length, `first: ${first}`).toBeGreaterThan(0);
      expect(result.errors?.[0]?.message).toContain('first must be from 1 to 100');
      expect(result.data?.orders ?? null).toBeNull();
    }
    const ok = await api.request(ListOrders, { first: 100 }, key);
    expect(ok.errors).toBeUndefined();
    expect(ok.data?.orders.edges).toHaveLength(1);
  });
});

// --- edits ------------------------------------------------------------------------------------------------

describe('editing an OPEN order', () => {
  it('addLineItems, updateLineItem and removeLineItem re-price, bump the version and append activity', async () => {
    const { key } = await api.signup();
    await californiaTax(key);
    const viewer = (await api.exec(Viewer, {}, key)).viewer!;
    const apiKey = viewer.apiKeys[0]!;

    const created = await create(key, { shippingAddress: CA, lineItems: [line({ name: 'Beans', quantity: 1, amount: 1000 })] });
    // 1000 × 7.25 % = 72.5 → 72 (half even).
    expect(created.netAmounts.taxMoney.amount).toBe(72);
    expect(created.netAmounts.totalMoney.amount).toBe(1072);
    const v1UpdatedAt = created.updatedAt;

    // add: 1000 + 2×600 = 2200 × 7.25 % = 159.5 → 160 (half even, 159 is odd).
    const add = await api.exec(
      AddLines,
      { input: { orderId: created.id, expectedVersion: 1, lineItems: [line({ name: 'Mug', quantity: 2, amount: 600, sku: 'MUG' })] } },
      key,
    );
    expect(add.addLineItems.userErrors).toEqual([]);
    const v2 = add.addLineItems.order!;
    expect(v2.version).toBe(2);
    expect(v2.lineItems.map((l) => [l.name, l.quantity, l.grossMoney.amount])).toEqual([
      ['Beans', 1, 1000],
      ['Mug', 2, 1200],
    ]);
    expect(v2.netAmounts.subtotalMoney.amount).toBe(2200);
    expect(v2.netAmounts.taxMoney.amount).toBe(160);
    // 160 over [1000, 1200]: 72.72… / 87.27… → floors 72 + 87 = 159, leftover to the larger fraction (first).
    expect(v2.lineItems.map((l) => l.taxMoney.amount)).toEqual([73, 87]);
    expect(v2.netAmounts.totalMoney.amount).toBe(2360);
    expect(v2.lineItems.reduce((s, l) => s + l.totalMoney.amount, 0)).toBe(2360);
    expect(Date.parse(v2.updatedAt)).toBeGreaterThanOrEqual(Date.parse(v1UpdatedAt));
    const mugId = v2.lineItems[1]!.id;
    const beansId = v2.lineItems[0]!.id;
    expect(v2.lineItems[0]!.id).toBe(created.lineItems[0]!.id);

    // update: Mug ×5 → 1000 + 3000 = 4000 × 7.25 % = 290.
    const upd = await api.exec(UpdateLine, { input: { orderId: created.id, lineItemId: mugId, quantity: 5, expectedVersion: 2 } }, key);
    expect(upd.updateLineItem.userErrors).toEqual([]);
    const v3 = upd.updateLineItem.order!;
    expect(v3.version).toBe(3);
    expect(v3.lineItems.map((l) => [l.id, l.quantity, l.grossMoney.amount, l.taxMoney.amount, l.totalMoney.amount])).toEqual([
      [beansId, 1, 1000, 73, 1073],
      [mugId, 5, 3000, 217, 3217],
    ]);
    expect(v3.netAmounts.taxMoney.amount).toBe(290);
    expect(v3.netAmounts.totalMoney.amount).toBe(4290);

    // remove Beans: 3000 × 7.25 % = 217.5 → 218 (half even, 217 is odd).
    const rem = await api.exec(RemoveLine, { input: { orderId: created.id, lineItemId: beansId, expectedVersion: 3 } }, key);
    expect(rem.removeLineItem.userErrors).toEqual([]);
    const v4 = rem.removeLineItem.order!;
    expect(v4.version).toBe(4);
    expect(v4.lineItems.map((l) => l.id)).toEqual([mugId]);
    expect(v4.netAmounts.subtotalMoney.amount).toBe(3000);
    expect(v4.netAmounts.taxMoney.amount).toBe(218);
    expect(v4.netAmounts.totalMoney.amount).toBe(3218);
    expect(v4.lineItems[0]!.totalMoney.amount).toBe(3218);

    // The stored state matches the mutation responses.
    const read = await getOrder(key, created.id);
    expect(read.version).toBe(4);
    expect(read.netAmounts).toEqual(v4.netAmounts);
    expect(read.lineItems).toEqual(v4.lineItems);
    expect(await api.db.lineItem.count({ where: { orderId: created.id } })).toBe(1);

    // Activity: one entry per change, in order, by the API key, with before/after net amounts.
    expect(read.activity.map((a) => a.type)).toEqual(['order.created', 'order.line_items_added', 'order.line_item_updated', 'order.line_item_removed']);
    for (const a of read.activity) {
      expect(a.actor).toEqual({ type: 'API_KEY', id: apiKey.id, name: apiKey.prefix });
      expect(a.orderId).toBe(created.id);
      expect(a.id).toMatch(/^act_/);
    }
    const deltas = read.activity.map((a) => a.delta as Delta);
    expect(deltas[0]!.before).toBeNull();
    expect(netTotal(deltas[0]!.after)).toBe(1072);
    expect([netTotal(deltas[1]!.before), netTotal(deltas[1]!.after)]).toEqual([1072, 2360]);
    expect([netSubtotal(deltas[1]!.before), netSubtotal(deltas[1]!.after)]).toEqual([1000, 2200]);
    expect([netTotal(deltas[2]!.before), netTotal(deltas[2]!.after)]).toEqual([2360, 4290]);
    expect([netTotal(deltas[3]!.before), netTotal(deltas[3]!.after)]).toEqual([4290, 3218]);
    expect((deltas[2]!.before!.lineItem as { quantity: number }).quantity).toBe(2);
    expect((deltas[2]!.after!.lineItem as { quantity: number }).quantity).toBe(5);
    expect((deltas[3]!.before!.lineItem as { id: string }).id).toBe(beansId);
    expect(((deltas[1]!.after!.lineItems as { name: string }[]) ?? []).map((l) => l.name)).toEqual(['Mug']);
  });

  it('NOT_FOUND for an unknown line item, with nothing changed', async () => {
    const { key, merchantId } = await api.signup();
    const order = await createSimple(key);
    const before = await counts(merchantId);
    const upd = await api.exec(UpdateLine, { input: { orderId: order.id, lineItemId: 'li_nope', quantity: 2 } }, key);
    expect(upd.updateLineItem.order).toBeNull();
    expect(upd.updateLineItem.userErrors.map((e) => [e.code, e.field])).toEqual([['NOT_FOUND', ['input', 'lineItemId']]]);
    const rem = await api.exec(RemoveLine, { input: { orderId: order.id, lineItemId: 'li_nope' } }, key);
    expect(rem.removeLineItem.userErrors.map((e) => [e.code, e.field])).toEqual([['NOT_FOUND', ['input', 'lineItemId']]]);
    expect(await counts(merchantId)).toEqual(before);
    expect((await getOrder(key, order.id)).version).toBe(1);
  });

  it('setShippingAddress re-prices: tax appears, then disappears for a state without nexus', async () => {
    const { key } = await api.signup();
    await californiaTax(key);
    const order = await createSimple(key, {}, [line({ name: 'Lamp', quantity: 1, amount: 10000 })]);
    expect(order.taxes).toEqual([]);
    expect(order.netAmounts.totalMoney.amount).toBe(10000);

    const toCa = await api.exec(SetShipping, { input: { orderId: order.id, shippingAddress: CA, expectedVersion: 1 } }, key);
    expect(toCa.setShippingAddress.userErrors).toEqual([]);
    const v2 = toCa.setShippingAddress.order!;
    expect(v2.version).toBe(2);
    expect(v2.shippingAddress).toMatchObject({ country: 'US', region: 'CA' });
    expect(v2.netAmounts.taxMoney.amount).toBe(725);
    expect(v2.netAmounts.totalMoney.amount).toBe(10725);
    expect(v2.lineItems[0]!.taxes.map((t) => [t.jurisdiction, t.taxMoney.amount])).toEqual([['US-CA', 725]]);

    const toOr = await api.exec(SetShipping, { input: { orderId: order.id, shippingAddress: { country: 'US', region: 'OR' } } }, key);
    expect(toOr.setShippingAddress.userErrors).toEqual([]);
    const v3 = toOr.setShippingAddress.order!;
    expect(v3.version).toBe(3);
    expect(v3.taxes).toEqual([]);
    expect(v3.lineItems[0]!.taxes).toEqual([]);
    expect(v3.netAmounts.taxMoney.amount).toBe(0);
    expect(v3.netAmounts.totalMoney.amount).toBe(10000);

    const read = await getOrder(key, order.id);
    expect(read.activity.map((a) => a.type)).toEqual(['order.created', 'order.shipping_address_set', 'order.shipping_address_set']);
    const d = read.activity.map((a) => a.delta as Delta);
    expect([netTotal(d[1]!.before), netTotal(d[1]!.after)]).toEqual([10000, 10725]);
    expect([netTotal(d[2]!.before), netTotal(d[2]!.after)]).toEqual([10725, 10000]);
  });
});

// --- cancel & availableActions --------------------------------------------------------------------------

describe('cancelOrder and availableActions', () => {
  /** Mutations this server offers and the OrderActionType values it knows (the schema may grow). */
  async function introspect(key: string): Promise<{ mutations: Set<string>; actions: Set<string> }> {
    const data = await api.exec(MutationNames, {}, key);
    return {
      mutations: new Set((data.__schema.mutationType?.fields ?? []).map((f) => f.name)),
      actions: new Set((data.__type?.enumValues ?? []).map((v) => v.name)),
    };
  }

  /** Actions §8 allows on an OPEN order with no coupon and no payment; `lines` says whether it has lines. */
  function openAllowed(lines: boolean): [string, string][] {
    const all: [string, string, boolean][] = [
      ['ADD_LINE_ITEMS', 'addLineItems', true],
      ['UPDATE_LINE_ITEM', 'updateLineItem', lines],
      ['REMOVE_LINE_ITEM', 'removeLineItem', lines],
      ['SET_SHIPPING_ADDRESS', 'setShippingAddress', true],
      ['APPLY_COUPON', 'applyCoupon', true],
      ['PAY', 'payOrder', lines],
      ['CREATE_CHECKOUT_SESSION', 'createCheckoutSession', lines],
      ['CANCEL', 'cancelOrder', true],
    ];
    return all.filter(([, , ok]) => ok).map(([a, m]) => [a, m]);
  }

  it('lists the actions of an OPEN order (with and without lines), each naming an existing mutation', async () => {
    const { key } = await api.signup();
    const { mutations, actions } = await introspect(key);
    const offered = ([a, m]: [string, string]) => mutations.has(m) && actions.has(a);
    const withLines = await createSimple(key);
    const got = withLines.availableActions.map((a) => [a.action, a.mutation] as [string, string]);
    expect(got.sort()).toEqual(openAllowed(true).filter(offered).sort());
    // The order-editing mutations exist on this server, so they must be offered.
    for (const a of ['ADD_LINE_ITEMS', 'UPDATE_LINE_ITEM', 'REMOVE_LINE_ITEM', 'CANCEL']) {
      expect(withLines.availableActions.map((x) => x.action)).toContain(a);
    }
    for (const a of withLines.availableActions) {
      expect(mutations.has(a.mutation)).toBe(true);
      expect(a.description.length).toBeGreaterThan(0);
    }
    // REMOVE_COUPON (no coupon), REFUND and CLOSE (not paid) are never offered on a fresh OPEN order.
    for (const a of ['REMOVE_COUPON', 'REFUND', 'CLOSE']) expect(withLines.availableActions.map((x) => x.action)).not.toContain(a);

    // Without line items, there is nothing to update, remove or pay.
    const empty = await create(key, { currency: 'USD', lineItems: [] });
    const gotEmpty = empty.availableActions.map((a) => [a.action, a.mutation] as [string, string]);
    expect(gotEmpty.sort()).toEqual(openAllowed(false).filter(offered).sort());
    expect(gotEmpty.map(([a]) => a)).not.toContain('UPDATE_LINE_ITEM');
    expect(gotEmpty.map(([a]) => a)).not.toContain('REMOVE_LINE_ITEM');
  });

  it('cancels an OPEN order: CANCELED, activity, no more edits, no second cancel, no actions', async () => {
    const { key, merchantId } = await api.signup();
    const order = await createSimple(key, {}, [line({ name: 'A', quantity: 1, amount: 500 }), line({ name: 'B', quantity: 2, amount: 250 })]);
    const cancel = await api.exec(CancelOrder, { input: { orderId: order.id, reason: 'customer changed mind' } }, key);
    expect(cancel.cancelOrder.userErrors).toEqual([]);
    const canceled = cancel.cancelOrder.order!;
    expect(canceled.status).toBe('CANCELED');
    expect(canceled.version).toBe(2);
    expect(canceled.availableActions).toEqual([]);
    // Amounts stay as they were; nothing is due on a canceled order... the totals are kept for the record.
    expect(canceled.netAmounts.subtotalMoney.amount).toBe(1000);
    expect(canceled.netAmounts.paidMoney.amount).toBe(0);

    const read = await getOrder(key, order.id);
    expect(read.status).toBe('CANCELED');
    expect(read.availableActions).toEqual([]);
    expect(read.activity.map((a) => a.type)).toEqual(['order.created', 'order.canceled', 'order.status_changed']);
    const statusChange = read.activity[2]!.delta as Delta;
    expect(statusChange).toEqual({ before: { status: 'OPEN' }, after: { status: 'CANCELED' } });
    const canceledDelta = read.activity[1]!.delta as Delta;
    expect(canceledDelta.after).toMatchObject({ status: 'CANCELED', reason: 'customer changed mind' });

    const before = await counts(merchantId);
    const lineId = read.lineItems[0]!.id;
    const attempts = [
      (await api.exec(AddLines, { input: { orderId: order.id, lineItems: [line({ name: 'C', quantity: 1, amount: 1 })] } }, key)).addLineItems,
      (await api.exec(UpdateLine, { input: { orderId: order.id, lineItemId: lineId, quantity: 3 } }, key)).updateLineItem,
      (await api.exec(RemoveLine, { input: { orderId: order.id, lineItemId: lineId } }, key)).removeLineItem,
      (await api.exec(SetShipping, { input: { orderId: order.id, shippingAddress: CA } }, key)).setShippingAddress,
    ];
    for (const payload of attempts) {
      expect(payload.order).toBeNull();
      expect(payload.userErrors.map((e) => [e.code, e.field])).toEqual([['ORDER_NOT_EDITABLE', ['input', 'orderId']]]);
      expect(payload.userErrors[0]!.message).toContain('CANCELED');
    }

    const again = await api.exec(CancelOrder, { input: { orderId: order.id } }, key);
    expect(again.cancelOrder.order).toBeNull();
    expect(again.cancelOrder.userErrors).toHaveLength(1);
    const err = again.cancelOrder.userErrors[0]!;
    expect(err.code).toBe('INVALID_STATE_TRANSITION');
    expect(err.field).toEqual(['input', 'orderId']);
    expect(err.message).toContain('CANCELED');
    // It names what is allowed: on a terminal order, nothing.
    expect(err.message).toMatch(/No action is available/);

    expect(await counts(merchantId)).toEqual(before);
    const after = await getOrder(key, order.id);
    expect(after.version).toBe(2);
    expect(after.lineItems.map((l) => l.quantity)).toEqual([1, 2]);
  });

  it('refuses to update a line of an OPEN order that has no lines, without change', async () => {
    const { key } = await api.signup();
    const order = await create(key, { currency: 'USD', lineItems: [] });
    // No such line on an empty order: refused without change.
    const upd = await api.exec(UpdateLine, { input: { orderId: order.id, lineItemId: 'li_x', quantity: 1 } }, key);
    expect(upd.updateLineItem.order).toBeNull();
    expect(upd.updateLineItem.userErrors).toHaveLength(1);
    expect(['INVALID_INPUT', 'NOT_FOUND']).toContain(upd.updateLineItem.userErrors[0]!.code);
    expect((await getOrder(key, order.id)).version).toBe(1);
  });
});

// --- versions & locking ------------------------------------------------------------------------------------

describe('expectedVersion and concurrency', () => {
  it('refuses a stale expectedVersion with VERSION_CONFLICT and changes nothing; the right one succeeds', async () => {
    const { key, merchantId } = await api.signup();
    const order = await createSimple(key);
    const bump = await api.exec(AddLines, { input: { orderId: order.id, lineItems: [line({ name: 'Second', quantity: 1, amount: 200 })] } }, key);
    expect(bump.addLineItems.order?.version).toBe(2);

    const before = await counts(merchantId);
    const stale = [
      (await api.exec(AddLines, { input: { orderId: order.id, expectedVersion: 1, lineItems: [line({ name: 'Late', quantity: 1, amount: 1 })] } }, key)).addLineItems,
      (await api.exec(UpdateLine, { input: { orderId: order.id, lineItemId: order.lineItems[0]!.id, quantity: 9, expectedVersion: 1 } }, key)).updateLineItem,
      (await api.exec(RemoveLine, { input: { orderId: order.id, lineItemId: order.lineItems[0]!.id, expectedVersion: 3 } }, key)).removeLineItem,
      (await api.exec(SetShipping, { input: { orderId: order.id, shippingAddress: CA, expectedVersion: 1 } }, key)).setShippingAddress,
    ];
    for (const payload of stale) {
      expect(payload.order).toBeNull();
      expect(payload.userErrors.map((e) => [e.code, e.field])).toEqual([['VERSION_CONFLICT', ['input', 'expectedVersion']]]);
      expect(payload.userErrors[0]!.message).toContain('version 2');
    }
    expect(await counts(merchantId)).toEqual(before);
    const unchanged = await getOrder(key, order.id);
    expect(unchanged.version).toBe(2);
    expect(unchanged.shippingAddress).toBeNull();
    expect(unchanged.lineItems.map((l) => [l.name, l.quantity])).toEqual([
      ['Widget', 1],
      ['Second', 1],
    ]);
    expect(unchanged.netAmounts.totalMoney.amount).toBe(1200);

    const right = await api.exec(UpdateLine, { input: { orderId: order.id, lineItemId: order.lineItems[0]!.id, quantity: 9, expectedVersion: 2 } }, key);
    expect(right.updateLineItem.userErrors).toEqual([]);
    expect(right.updateLineItem.order?.version).toBe(3);
    expect(right.updateLineItem.order?.netAmounts.totalMoney.amount).toBe(9200);
  });

  it('10 parallel addLineItems on one order all succeed without lost updates', async () => {
    const { key } = await api.signup();
    const order = await createSimple(key, {}, [line({ name: 'Base', quantity: 1, amount: 100 })]);
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        api.exec(AddLines, { input: { orderId: order.id, lineItems: [line({ name: `Par ${i}`, quantity: 1, amount: 10 * (i + 1) })] } }, key),
      ),
    );
    for (const r of results) expect(r.addLineItems.userErrors).toEqual([]);
    // Each request saw a distinct version: they were serialized by the row lock.
    expect(results.map((r) => r.addLineItems.order!.version).sort((a, b) => a - b)).toEqual([2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);

    const final = await getOrder(key, order.id);
    expect(final.version).toBe(11);
    expect(final.lineItems).toHaveLength(11);
    expect(final.lineItems.map((l) => l.name).sort()).toEqual(['Base', ...Array.from({ length: 10 }, (_, i) => `Par ${i}`)].sort());
    // 100 + 10 × (1 + … + 10) = 650
    expect(final.netAmounts.subtotalMoney.amount).toBe(650);
    expect(final.netAmounts.totalMoney.amount).toBe(650);
    expect(final.activity.map((a) => a.type)).toEqual(['order.created', ...Array.from({ length: 10 }, () => 'order.line_items_added')]);
    expect(await api.db.lineItem.count({ where: { orderId: order.id } })).toBe(11);
    // Positions stay unique, so the line order is stable.
    const positions = (await api.db.lineItem.findMany({ where: { orderId: order.id }, select: { position: true } })).map((p) => p.position);
    expect(new Set(positions).size).toBe(11);
  });

  it('a cancel racing parallel addLineItems: no line is added after the cancel', async () => {
    const { key } = await api.signup();
    const order = await createSimple(key);
    const adds = Array.from({ length: 8 }, (_, i) =>
      api.exec(AddLines, { input: { orderId: order.id, lineItems: [line({ name: `Race ${i}`, quantity: 1, amount: 5 })] } }, key).then((r) => r.addLineItems),
    );
    const cancel = api.exec(CancelOrder, { input: { orderId: order.id } }, key).then((r) => r.cancelOrder);
    const [addResults, cancelResult] = await Promise.all([Promise.all(adds), cancel]);
    expect(cancelResult.userErrors).toEqual([]);
    const cancelVersion = cancelResult.order!.version;
    const added = addResults.filter((r) => r.userErrors.length === 0);
    for (const r of addResults) {
      if (r.userErrors.length > 0) expect(r.userErrors.map((e) => e.code)).toEqual(['ORDER_NOT_EDITABLE']);
      else expect(r.order!.version).toBeLessThan(cancelVersion);
    }
    const final = await getOrder(key, order.id);
    expect(final.status).toBe('CANCELED');
    expect(final.lineItems).toHaveLength(1 + added.length);
    expect(final.version).toBe(2 + added.length);
    expect(cancelVersion).toBe(final.version);
    const types = final.activity.map((a) => a.type);
    expect(types.lastIndexOf('order.line_items_added')).toBeLessThan(types.indexOf('order.canceled'));
    expect(types.slice(-2)).toEqual(['order.canceled', 'order.status_changed']);
  });

  it('parallel edits with the same expectedVersion: exactly one wins, the rest get VERSION_CONFLICT', async () => {
    const { key } = await api.signup();
    const order = await createSimple(key);
    const results = await Promise.all(
      Array.from({ length: 5 }, (_, i) =>
        api.exec(AddLines, { input: { orderId: order.id, expectedVersion: 1, lineItems: [line({ name: `Race ${i}`, quantity: 1, amount: 1 })] } }, key),
      ),
    );
    const wins = results.filter((r) => r.addLineItems.userErrors.length === 0);
    const conflicts = results.filter((r) => r.addLineItems.userErrors[0]?.code === 'VERSION_CONFLICT');
    expect(wins).toHaveLength(1);
    expect(conflicts).toHaveLength(4);
    const final = await getOrder(key, order.id);
    expect(final.version).toBe(2);
    expect(final.lineItems).toHaveLength(2);
  });
});

describe('orders pagination cursors', () => {
  it('refuses a cursor that is not one of this list instead of restarting at the first page', async () => {
    const { key } = await api.signup();
    for (const after of ['garbage', Buffer.from('order:not-an-id').toString('base64url'), Buffer.from('refund:ord_x').toString('base64url')]) {
      const result = await api.request(ListOrders, { first: 2, after }, key);
      expect(result.data).toBeNull();
      expect(result.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
      expect(result.errors?.[0]?.message).toContain('endCursor');
    }
  });
});

describe('summary sentence', () => {
  it('is one deterministic sentence naming each line with its quantity', async () => {
    const { key } = await api.signup();
    const input = {
      lineItems: [
        { name: 'Organic Coffee Beans', quantity: 2, unitPriceMoney: { amount: 1999, currency: 'USD' } },
        { name: 'Ceramic Pour-Over Mug', quantity: 1, unitPriceMoney: { amount: 2400, currency: 'USD' } },
      ],
    };
    const first = (await api.exec(CreateOrder, { input }, key)).createOrder.order!;
    const second = (await api.exec(CreateOrder, { input }, key)).createOrder.order!;
    expect(first.summary).toBe('2 items (Organic Coffee Beans ×2, Ceramic Pour-Over Mug ×1), total 63.98 USD, 63.98 USD due, open for changes.');
    expect(second.summary).toBe(first.summary);
  });
});
