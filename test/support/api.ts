// Talks to a real Flint server over HTTP, as a storefront or an agent would. Each test file starts one
// server (port 0) on the run's PostgreSQL database; merchants make tests independent of each other.
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { randomUUID } from 'node:crypto';
import { DEFAULT_LIMITS, type Limits } from '../../src/config.js';
import { print, type ExecutionResult } from 'graphql';
import { afterAll, beforeAll } from 'vitest';
import { createPrisma } from '../../src/db/prisma.js';
import { startServer, type AppServer, type ServerOptions } from '../../src/server.js';
import type { SubscriptionHub } from '../../src/realtime/hub.js';
import { systemClock, type Clock, type Db, type Deps } from '../../src/kernel/context.js';
import { testDatabaseUrl } from './db.js';
import { graphql } from '../generated/index.js';

export interface TestApi {
  url: string;
  db: Db;
  /** Runs a typed operation; `key` is sent as the Bearer token. */
  request<R, V>(document: TypedDocumentNode<R, V>, variables: V, key?: string | null): Promise<ExecutionResult<R> & { status: number }>;
  /** Like request, but fails the test on GraphQL errors and returns data. */
  exec<R, V>(document: TypedDocumentNode<R, V>, variables: V, key?: string | null): Promise<R>;
  /** The server's live subscriptions (src/realtime/hub.ts): lets a test wait until a subscription is live. */
  hub: SubscriptionHub;
  /** Signs up a new merchant and returns its test key. */
  signup(options?: { name?: string; originAddress?: { country: string; region?: string | null } | null }): Promise<{ key: string; merchantId: string }>;
}

export const SignupDocument = graphql(`
  mutation Signup($input: CreateMerchantInput!) {
    createMerchant(input: $input) {
      merchant { id }
      testApiKey
      userErrors { code message field }
    }
  }
`);

const plenty = { points: 1_000_000, seconds: 60 };
const MANY_CLIENTS_ONE_ADDRESS: Limits = { ...DEFAULT_LIMITS, signups: plenty, anonymous: plenty, authFailures: plenty };

/** Starts a server for the current test file (in beforeAll) and stops it afterwards. */
export function useTestApi(options: { clock?: Clock; deps?: Partial<Omit<Deps, 'db' | 'clock'>>; server?: ServerOptions } = {}): TestApi {
  let server: AppServer | null = null;
  let db: Db | null = null;
  let counter = 0;
  beforeAll(async () => {
    db = createPrisma(testDatabaseUrl());
    let publicUrl = 'http://127.0.0.1';
    server = await startServer(
      { publicUrl: () => publicUrl, ...options.deps, db, clock: options.clock ?? systemClock },
      { development: false, port: 0 },
      '127.0.0.1',
      // Each test file counts its own rate limits. Every test client comes from 127.0.0.1, which here
      // stands for many clients: the per-IP limits are raised; the per-key ones keep their defaults.
      { rateLimitPrefix: `test-${randomUUID()}`, limits: MANY_CLIENTS_ONE_ADDRESS, ...options.server },
    );
    publicUrl = server.url;
  });
  afterAll(async () => {
    await server?.close();
    await db?.$disconnect();
  });

  const api: TestApi = {
    get url() {
      if (!server) throw new Error('the test API is not started yet (use it inside tests)');
      return server.url;
    },
    get db() {
      if (!db) throw new Error('the test API is not started yet (use it inside tests)');
      return db;
    },
    get hub() {
      if (!server) throw new Error('the test API is not started yet (use it inside tests)');
      return server.hub;
    },
    async request(document, variables, key) {
      const response = await fetch(`${api.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) },
        body: JSON.stringify({ query: print(document), variables }),
      });
      const body = (await response.json()) as ExecutionResult<never>;
      return { ...body, status: response.status } as never;
    },
    async exec(document, variables, key) {
      const result = await api.request(document, variables, key);
      if (result.errors?.length) throw new Error(`GraphQL errors: ${JSON.stringify(result.errors)}`);
      return result.data!;
    },
    async signup(opts = {}) {
      counter += 1;
      const data = await api.exec(SignupDocument, {
        input: {
          name: opts.name ?? `Test Merchant ${counter}`,
          email: `merchant${counter}@example.com`,
          originAddress: opts.originAddress === undefined ? null : opts.originAddress,
        },
      });
      const payload = data.createMerchant;
      if (!payload.testApiKey || !payload.merchant) throw new Error(`signup failed: ${JSON.stringify(payload.userErrors)}`);
      return { key: payload.testApiKey, merchantId: payload.merchant.id };
    },
  };
  return api;
}
