// Shared setup of the subscription tests (test/api/subscriptions-*.test.ts): importing it starts the test
// server for the importing file; typed documents, the
// types of a transport and of a lifecycle step, and helpers (orders, waiting until subscriptions are live).
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { type ExecutionResult } from 'graphql';
import { expect } from 'vitest';
import { graphql } from '../generated/index.js';
import { useTestApi } from './api.js';
import { Collector, eventually } from './realtime.js';

export const api = useTestApi();

export const ActivityRecorded = graphql(`
  subscription SubsActivityRecorded($orderId: ID) {
    activityRecorded(orderId: $orderId) { id type sequence orderId hash previousHash idempotencyKey actor { type name } }
  }
`);

export const CreateOrder = graphql(`
  mutation SubsCreateOrder($input: CreateOrderInput!) {
    createOrder(input: $input) {
      order { id version lineItems { id } }
      userErrors { code message field }
    }
  }
`);

export const CreateApiKey = graphql(`
  mutation SubsCreateApiKey($input: CreateApiKeyInput!) {
    createApiKey(input: $input) {
      apiKey { id }
      secret
      userErrors { code message field }
    }
  }
`);

export const line = (name = 'Tea', amount = 500) => ({ name, quantity: 1, unitPriceMoney: { amount, currency: 'USD' } });

export async function createOrder(key: string) {
  const payload = (await api.exec(CreateOrder, { input: { lineItems: [line()] } }, key)).createOrder;
  expect(payload.userErrors).toEqual([]);
  return payload.order!;
}

export type Order = Awaited<ReturnType<typeof createOrder>>;

// ---------------------------------------------------------------------------------------------
// The lifecycle the subscribers watch. Each step is one mutation, the activity types it records and
// the status transition it makes, if any. Payments and refunds extend it: a pay step (OPEN → PAID,
// "payment.captured" + "order.status_changed") and a partial refund (PAID → PARTIALLY_REFUNDED).

export interface Step {
  name: string;
  run(key: string, order: Order): Promise<{ userErrors: unknown[] }>;
  activity: string[];
  transition?: [from: string, to: string];
}

export const PayOrder = graphql(`
  mutation SubsPayOrder($input: PayOrderInput!) {
    payOrder(input: $input) { paymentIntent { id status } userErrors { code message } }
  }
`);

export const CreateRefund = graphql(`
  mutation SubsCreateRefund($input: CreateRefundInput!) {
    createRefund(input: $input) { refund { id status } userErrors { code message } }
  }
`);

// ---------------------------------------------------------------------------------------------
// Both transports behind one interface

export interface Transport {
  name: string;
  /** Subscribes and resolves once the subscription is live on the server. */
  subscribe<R, V>(document: TypedDocumentNode<R, V>, variables: V, key: string | null): Promise<Subscribed<R>>;
}

export interface Subscribed<R> {
  results: Collector<ExecutionResult<R>>;
  /** How the server refused or ended it: WebSocket close code, or SSE HTTP status. */
  refusal(): Promise<number>;
  close(): Promise<void>;
}

export async function untilLive(before: number, count = 1): Promise<void> {
  await eventually(() => api.hub.size >= before + count, `${count} more live subscription(s)`);
}

export function data<R>(results: ExecutionResult<R>[]): R[] {
  for (const r of results) expect(r.errors).toBeUndefined();
  return results.map((r) => r.data!);
}

export const Signup = graphql(`
  mutation SubsSignup($input: CreateMerchantInput!) {
    createMerchant(input: $input) { testApiKey merchant { id } }
  }
`);
