// Shared setup of the merchant tests (test/api/merchants-*.test.ts): importing it starts the test server for
// the importing file; typed documents and helpers for sign-up and 401 checks.
import { randomUUID } from 'node:crypto';
import { expect } from 'vitest';
import { graphql } from '../generated/index.js';
import { useTestApi } from './api.js';

export const api = useTestApi();

export const CreateMerchant = graphql(`
  mutation MerchantsCreate($input: CreateMerchantInput!) {
    createMerchant(input: $input) {
      merchant {
        id
        name
        email
        createdAt
        originAddress { line1 line2 city region postalCode country }
        apiKeys { id prefix livemode createdAt revokedAt }
      }
      testApiKey
      userErrors { code message field }
    }
  }
`);

export const Viewer = graphql(`
  query MerchantsViewer {
    viewer {
      id
      name
      email
      createdAt
      originAddress { line1 line2 city region postalCode country }
      apiKeys { id prefix livemode createdAt revokedAt }
    }
  }
`);

export const uniqueEmail = () => `m-${randomUUID()}@example.com`;

export async function signUp(input: { name?: string; email?: string; originAddress?: { country: string; region?: string | null; city?: string | null; line1?: string | null; postalCode?: string | null } | null } = {}) {
  const email = input.email ?? uniqueEmail();
  const data = await api.exec(CreateMerchant, {
    input: { name: input.name ?? 'Acme Widgets', email, originAddress: input.originAddress ?? null },
  });
  const payload = data.createMerchant;
  expect(payload.userErrors).toEqual([]);
  expect(payload.merchant).not.toBeNull();
  expect(payload.testApiKey).toBeTruthy();
  return { merchant: payload.merchant!, key: payload.testApiKey!, email };
}

export async function expectUnauthenticated(result: { status: number; errors?: readonly { message: string; extensions?: Record<string, unknown> }[] | undefined }) {
  expect(result.status).toBe(401);
  expect(result.errors?.length).toBeGreaterThan(0);
  expect(result.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  expect(result.errors?.[0]?.message.length).toBeGreaterThan(20);
}
