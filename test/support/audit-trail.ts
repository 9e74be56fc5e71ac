// Shared setup of the audit-trail tests (test/api/audit-*.test.ts): importing it starts the test server for
// the importing file (useTestApi); typed documents, the hash recomputation the tests compare against (from
// the documented formula), and helpers to create orders, list activities and verify the chain.
import { createHash } from 'node:crypto';
import { expect } from 'vitest';
import { graphql } from '../generated/index.js';
import type { AuditActivitiesQuery } from '../generated/graphql.js';
import { useTestApi } from './api.js';

export const api = useTestApi();

export const CreateOrder = graphql(`
  mutation AuditCreateOrder($input: CreateOrderInput!) {
    createOrder(input: $input) {
      order { id lineItems { id } activity { id sequence hash previousHash } }
      userErrors { code message field }
    }
  }
`);

export const UpdateLineItem = graphql(`
  mutation AuditUpdateLineItem($input: UpdateLineItemInput!) {
    updateLineItem(input: $input) {
      order { id version }
      userErrors { code message field }
    }
  }
`);

export const CancelOrder = graphql(`
  mutation AuditCancelOrder($input: CancelOrderInput!) {
    cancelOrder(input: $input) {
      order { id status }
      userErrors { code message field }
    }
  }
`);

export const AddTaxRegistration = graphql(`
  mutation AuditAddTaxRegistration($input: AddTaxRegistrationInput!) {
    addTaxRegistration(input: $input) {
      userErrors { code message field }
    }
  }
`);

export const Verify = graphql(`
  query AuditVerify($orderId: ID) {
    verifyAuditTrail(orderId: $orderId) { valid entriesChecked firstBrokenActivityId problem }
  }
`);

export const Activities = graphql(`
  query AuditActivities($filter: ActivityFilter, $first: Int, $after: String) {
    activities(filter: $filter, first: $first, after: $after) {
      edges {
        cursor
        node {
          id
          type
          occurredAt
          actor { type id name }
          delta
          orderId
          idempotencyKey
          sequence
          hash
          previousHash
        }
      }
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    }
  }
`);

export type Entry = NonNullable<Awaited<ReturnType<typeof listAll>>>[number];

// ---------------------------------------------------------------------------------------------
// The documented hash, recomputed independently: sha256(previousHash + canonical JSON of the entry).

export function canonical(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  const keys = Object.keys(value as object).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`).join(',')}}`;
}

export function expectedHash(entry: Entry, merchantId: string, livemode: boolean): string {
  const content = {
    actorId: entry.actor.id,
    actorName: entry.actor.name,
    actorType: entry.actor.type,
    delta: entry.delta,
    id: entry.id,
    idempotencyKey: entry.idempotencyKey,
    livemode,
    merchantId,
    occurredAt: entry.occurredAt,
    orderId: entry.orderId,
    sequence: entry.sequence,
    type: entry.type,
  };
  return createHash('sha256')
    .update((entry.previousHash ?? '') + canonical(content))
    .digest('hex');
}

// ---------------------------------------------------------------------------------------------
// Helpers

export const line = (name = 'Tea', amount = 500) => ({ name, quantity: 1, unitPriceMoney: { amount, currency: 'USD' } });

export async function createOrder(key: string, lines = [line()]) {
  const payload = (await api.exec(CreateOrder, { input: { lineItems: lines } }, key)).createOrder;
  expect(payload.userErrors).toEqual([]);
  return payload.order!;
}

/** Every entry of the key's chain, oldest first, through the paginated activities query. */
export async function listAll(key: string, filter: Record<string, unknown> | null = null) {
  const out = [];
  let after: string | null = null;
  for (;;) {
    const page: AuditActivitiesQuery['activities'] = (await api.exec(Activities, { filter, first: 100, after }, key)).activities;
    out.push(...page.edges.map((e) => e.node));
    if (!page.pageInfo.hasNextPage) break;
    after = page.pageInfo.endCursor!;
  }
  return out.reverse();
}

export async function verify(key: string, orderId: string | null = null) {
  return (await api.exec(Verify, { orderId }, key)).verifyAuditTrail;
}
