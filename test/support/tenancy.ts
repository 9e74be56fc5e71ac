// Shared setup of the tenancy tests (test/api/tenancy-*.test.ts): importing it starts the test server for the
// importing file; typed documents, a world of two merchants with orders, and NOT_FOUND checks.
import { randomUUID } from 'node:crypto';
import { expect } from 'vitest';
import { graphql } from '../generated/index.js';
import type { CreateOrderInput, OrderFilter, TenancyOrdersQuery } from '../generated/graphql.js';
import { useTestApi } from './api.js';

export const api = useTestApi();

export const CreateOrder = graphql(`
  mutation TenancyCreateOrder($input: CreateOrderInput!) {
    createOrder(input: $input) {
      order { id version lineItems { id } activity { id } }
      userErrors { code message field }
    }
  }
`);

export const ReadOrder = graphql(`
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

export const NodeById = graphql(`
  query TenancyNode($id: ID!) {
    node(id: $id) {
      __typename
      id
    }
  }
`);

export const ListOrders = graphql(`
  query TenancyOrders($filter: OrderFilter, $first: Int, $after: String) {
    orders(filter: $filter, first: $first, after: $after) {
      edges { cursor node { id customerId buyerEmail } }
      pageInfo { hasNextPage endCursor }
    }
  }
`);

export const AddLineItems = graphql(`
  mutation TenancyAddLineItems($input: AddLineItemsInput!) {
    addLineItems(input: $input) {
      order { id version }
      userErrors { code message field }
    }
  }
`);

export const UpdateLineItem = graphql(`
  mutation TenancyUpdateLineItem($input: UpdateLineItemInput!) {
    updateLineItem(input: $input) {
      order { id version }
      userErrors { code message field }
    }
  }
`);

export const RemoveLineItem = graphql(`
  mutation TenancyRemoveLineItem($input: RemoveLineItemInput!) {
    removeLineItem(input: $input) {
      order { id version }
      userErrors { code message field }
    }
  }
`);

export const SetShippingAddress = graphql(`
  mutation TenancySetShippingAddress($input: SetShippingAddressInput!) {
    setShippingAddress(input: $input) {
      order { id version }
      userErrors { code message field }
    }
  }
`);

export const CancelOrder = graphql(`
  mutation TenancyCancelOrder($input: CancelOrderInput!) {
    cancelOrder(input: $input) {
      order { id version status }
      userErrors { code message field }
    }
  }
`);

export const CreateApiKey = graphql(`
  mutation TenancyCreateApiKey($input: CreateApiKeyInput!) {
    createApiKey(input: $input) {
      secret
      userErrors { code message field }
    }
  }
`);

export const line = (name: string, amount: number, quantity = 1) => ({ name, quantity, unitPriceMoney: { amount, currency: 'USD' } });

export async function createOrder(key: string, input: CreateOrderInput) {
  const payload = (await api.exec(CreateOrder, { input }, key)).createOrder;
  expect(payload.userErrors).toEqual([]);
  return payload.order!;
}

export async function readOrder(key: string, id: string) {
  return (await api.exec(ReadOrder, { id }, key)).order;
}

export async function listIds(key: string, filter: OrderFilter | null = null, first = 100) {
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

export function expectNotFound(payload: { order?: unknown; userErrors: readonly { code: string; field?: readonly string[] | null; message: string }[] }, field = ['input', 'orderId']) {
  expect(payload.order ?? null).toBeNull();
  expect(payload.userErrors).toHaveLength(1);
  expect(payload.userErrors[0]).toMatchObject({ code: 'NOT_FOUND', field });
  expect(payload.userErrors[0]!.message.length).toBeGreaterThan(10);
}

/** Merchant A with an open order of two lines; merchant B with its own order. */
export interface World {
  a: { key: string; merchantId: string };
  b: { key: string; merchantId: string };
  aOrder: { id: string; lineIds: string[]; activityIds: string[] };
  bOrder: { id: string; lineIds: string[] };
  buyerEmail: string;
  customerId: string;
}

export async function world(): Promise<World> {
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
