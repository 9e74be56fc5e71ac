// Shared setup of the tax-settings tests (test/api/tax-settings-*.test.ts): importing it starts the test server
// for the importing file; typed documents and helpers for registrations, rates, settings and activities.
import { graphql } from '../generated/index.js';
import { useTestApi } from './api.js';

export const api = useTestApi();

export const AddRegistration = graphql(`
  mutation TaxAddRegistration($input: AddTaxRegistrationInput!) {
    addTaxRegistration(input: $input) {
      merchant {
        id
        taxRegistrations { id jurisdiction createdAt }
        taxRates { id jurisdiction name rate taxCategory inclusive }
      }
      userErrors { code message field }
    }
  }
`);

export const RemoveRegistration = graphql(`
  mutation TaxRemoveRegistration($input: RemoveTaxRegistrationInput!) {
    removeTaxRegistration(input: $input) {
      merchant {
        id
        taxRegistrations { id jurisdiction createdAt }
        taxRates { id jurisdiction name rate taxCategory inclusive }
      }
      userErrors { code message field }
    }
  }
`);

export const SetRate = graphql(`
  mutation TaxSetRate($input: SetTaxRateInput!) {
    setTaxRate(input: $input) {
      merchant {
        id
        taxRegistrations { id jurisdiction createdAt }
        taxRates { id jurisdiction name rate taxCategory inclusive }
      }
      userErrors { code message field }
    }
  }
`);

export const Settings = graphql(`
  query TaxSettings {
    viewer {
      id
      taxRegistrations { id jurisdiction createdAt }
      taxRates { id jurisdiction name rate taxCategory inclusive }
    }
  }
`);

export const NodeById = graphql(`
  query TaxNode($id: ID!) {
    node(id: $id) {
      __typename
      id
      ... on TaxRegistration { jurisdiction }
      ... on TaxRate { jurisdiction name rate taxCategory inclusive }
    }
  }
`);

export const CreateApiKey = graphql(`
  mutation TaxCreateApiKey($input: CreateApiKeyInput!) {
    createApiKey(input: $input) {
      apiKey { id livemode }
      secret
      userErrors { code message field }
    }
  }
`);

export async function merchant() {
  const { key, merchantId } = await api.signup();
  const viewer = await api.exec(
    graphql(`
      query TaxKeyId {
        viewer { apiKeys { id } }
      }
    `),
    {},
    key,
  );
  return { key, merchantId, keyId: viewer.viewer!.apiKeys[0]!.id };
}

export async function settings(key: string) {
  return (await api.exec(Settings, {}, key)).viewer!;
}

export async function activities(merchantId: string, type?: string) {
  return api.db.activity.findMany({ where: { merchantId, ...(type ? { type } : {}) }, orderBy: { id: 'asc' } });
}

export const add = async (key: string, jurisdiction: string, idempotencyKey?: string) =>
  (await api.exec(AddRegistration, { input: { jurisdiction, idempotencyKey } }, key)).addTaxRegistration;
export const remove = async (key: string, jurisdiction: string, idempotencyKey?: string) =>
  (await api.exec(RemoveRegistration, { input: { jurisdiction, idempotencyKey } }, key)).removeTaxRegistration;
export type RateInput = { jurisdiction: string; name: string; rate: string; taxCategory?: string | null; inclusive?: boolean | null; idempotencyKey?: string };
export const setRate = async (key: string, input: RateInput) => (await api.exec(SetRate, { input }, key)).setTaxRate;
