import { builder } from '../builder.js';
import { Node } from './node.js';
import { Address, AddressInput, asAddress } from './address.js';
import { UserError } from './user-error.js';
import { requireScope, type GraphQLContext } from '../context.js';
import { createApiKey, createMerchant, revokeApiKey } from '../../merchants/merchants.js';
import { addTaxRegistration, removeTaxRegistration, setTaxRate } from '../../merchants/tax-settings.js';
import type { UserError as UserErrorShape } from '../../kernel/errors.js';
import { IDEMPOTENCY_KEY_DESCRIPTION } from './user-error.js';

export const ApiKey = builder.prismaObject('ApiKey', {
  description: 'An API key. The secret is shown once, when the key is created; Flint keeps only its hash.',
  fields: (t) => ({
    id: t.exposeID('id', { description: 'Key id (key_...), used to revoke it.' }),
    prefix: t.exposeString('prefix', { description: 'sk_test_... or sk_live_..., first characters only.' }),
    livemode: t.exposeBoolean('livemode', { description: 'Live keys move real money; test keys see only test data.' }),
    createdAt: t.expose('createdAt', { type: 'DateTime', description: 'When the key was created.' }),
    revokedAt: t.expose('revokedAt', { type: 'DateTime', nullable: true, description: 'When the key was revoked; a revoked key stops working at once.' }),
  }),
});

export const TaxRegistration = builder.prismaObject('TaxRegistration', {
  interfaces: [Node],
  description: 'A jurisdiction where the merchant has nexus and collects tax. No registration, no tax.',
  fields: (t) => ({
    id: t.exposeID('id', { description: 'Registration id (txr_...).' }),
    jurisdiction: t.exposeString('jurisdiction', { description: 'Where the merchant has nexus: "US-CA", "US-NY", "DE"... A country code covers all its regions.' }),
    createdAt: t.expose('createdAt', { type: 'DateTime', description: 'When it was added.' }),
  }),
});

export const TaxRate = builder.prismaObject('TaxRate', {
  interfaces: [Node],
  description: 'A tax rate of one jurisdiction. It applies to orders shipped there only while the merchant is registered there.',
  fields: (t) => ({
    id: t.exposeID('id', { description: 'Rate id (txrt_...).' }),
    jurisdiction: t.exposeString('jurisdiction', { description: 'Jurisdiction code, e.g. "US-CA" or "DE".' }),
    name: t.exposeString('name', { description: 'Human name shown on orders, e.g. "California sales tax".' }),
    rate: t.exposeString('rate', { description: 'Decimal rate as a string, e.g. "0.0725" for 7.25 %.' }),
    taxCategory: t.string({
      nullable: true,
      description: 'Empty: applies to every category not listed by a more specific rate. A rate of "0" exempts its category.',
      resolve: (r) => r.taxCategory || null,
    }),
    inclusive: t.exposeBoolean('inclusive', { description: 'True for VAT-style rates already contained in prices; false for US-style sales tax added on top.' }),
  }),
});

export const Merchant = builder.prismaObject('Merchant', {
  interfaces: [Node],
  description: 'A business selling through Flint. Everything (orders, keys, tax settings) belongs to one merchant.',
  fields: (t) => ({
    id: t.exposeID('id', { description: 'Merchant id (mer_...).' }),
    name: t.exposeString('name', { description: 'Business name.' }),
    email: t.exposeString('email', { description: 'Contact email.' }),
    originAddress: t.field({
      type: Address,
      nullable: true,
      description: 'Where the merchant ships from; used for tax when an order has no shipping address.',
      resolve: (m) => asAddress(m.originAddress),
    }),
    apiKeys: t.relation('apiKeys', { description: 'All API keys, test and live, revoked ones included.', query: { orderBy: { id: 'asc' } } }),
    taxRegistrations: t.relation('taxRegistrations', {
      description: "Where the merchant collects tax, in the API key's mode.",
      query: (_args, ctx: GraphQLContext) => ({ where: { livemode: ctx.principal?.livemode ?? false }, orderBy: { jurisdiction: 'asc' } }),
    }),
    taxRates: t.relation('taxRates', {
      description: "Configured tax rates, in the API key's mode.",
      query: (_args, ctx: GraphQLContext) => ({
        where: { livemode: ctx.principal?.livemode ?? false },
        orderBy: [{ jurisdiction: 'asc' }, { name: 'asc' }, { taxCategory: 'asc' }],
      }),
    }),
    createdAt: t.expose('createdAt', { type: 'DateTime', description: 'When the merchant signed up.' }),
  }),
});

builder.queryField('viewer', (t) =>
  t.prismaField({
    type: 'Merchant',
    nullable: true,
    description: 'The merchant that owns the API key in the request.',
    resolve: (query, _root, _args, ctx) => {
      const scope = requireScope(ctx);
      return ctx.deps.db.merchant.findUnique({ ...query, where: { id: scope.merchantId } });
    },
  }),
);

// --- createMerchant (public) ------------------------------------------------------------------

const CreateMerchantInput = builder.inputType('CreateMerchantInput', {
  description: 'Sign-up details.',
  fields: (t) => ({
    name: t.string({ required: true, description: 'Business name, 1 to 200 characters.' }),
    email: t.string({ required: true, description: 'Contact email.' }),
    originAddress: t.field({ type: AddressInput, description: 'Ship-from address; taxes orders that have no shipping address.' }),
  }),
});

interface CreateMerchantResult {
  merchantId: string | null;
  testApiKey: string | null;
  userErrors: UserErrorShape[];
}

const CreateMerchantPayload = builder.objectRef<CreateMerchantResult>('CreateMerchantPayload').implement({
  description: 'The new merchant and its first test API key.',
  fields: (t) => ({
    merchant: t.prismaField({
      type: 'Merchant',
      nullable: true,
      description: 'The new merchant.',
      resolve: (query, p, _args, ctx) => (p.merchantId ? ctx.deps.db.merchant.findUnique({ ...query, where: { id: p.merchantId } }) : null),
    }),
    testApiKey: t.exposeString('testApiKey', {
      nullable: true,
      description: 'The full test key (sk_test_...), shown once: store it now. Send it as "Authorization: Bearer <key>".',
    }),
    userErrors: t.field({ type: [UserError], description: 'Why nothing was created, if so.', resolve: (p) => p.userErrors }),
  }),
});

builder.mutationField('createMerchant', (t) =>
  t.field({
    // The one public operation: no key yet.
    skipTypeScopes: true,
    type: CreateMerchantPayload,
    description: 'Public: sign up and receive a test API key at once. No Authorization header needed.',
    args: { input: t.arg({ type: CreateMerchantInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      const outcome = await createMerchant(ctx.deps, input);
      return outcome.ok
        ? { merchantId: outcome.value.merchantId, testApiKey: outcome.value.testApiKey, userErrors: [] }
        : { merchantId: null, testApiKey: null, userErrors: outcome.errors };
    },
  }),
);

// --- API keys -----------------------------------------------------------------------------------

const CreateApiKeyInput = builder.inputType('CreateApiKeyInput', {
  description: 'Which kind of key to create.',
  fields: (t) => ({ livemode: t.boolean({ required: true, description: 'true for a live key (sk_live_...), false for a test key.' }) }),
});

interface ApiKeyResult {
  apiKeyId: string | null;
  secret?: string | null;
  userErrors: UserErrorShape[];
}

const CreateApiKeyPayload = builder.objectRef<ApiKeyResult>('CreateApiKeyPayload').implement({
  description: 'The new key and its secret.',
  fields: (t) => ({
    apiKey: t.prismaField({
      type: 'ApiKey',
      nullable: true,
      description: 'The new key.',
      resolve: (query, p, _args, ctx) => (p.apiKeyId ? ctx.deps.db.apiKey.findUnique({ ...query, where: { id: p.apiKeyId } }) : null),
    }),
    secret: t.string({ nullable: true, description: 'The full secret, shown once: store it now.', resolve: (p) => p.secret ?? null }),
    userErrors: t.field({ type: [UserError], description: 'Why nothing was created, if so.', resolve: (p) => p.userErrors }),
  }),
});

builder.mutationField('createApiKey', (t) =>
  t.field({
    type: CreateApiKeyPayload,
    description: 'Create another API key for the merchant (test or live). The secret is returned once.',
    args: { input: t.arg({ type: CreateApiKeyInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      const outcome = await createApiKey(requireScope(ctx), { livemode: input.livemode });
      return outcome.ok ? { apiKeyId: outcome.value.apiKeyId, secret: outcome.value.secret, userErrors: [] } : { apiKeyId: null, userErrors: outcome.errors };
    },
  }),
);

const RevokeApiKeyInput = builder.inputType('RevokeApiKeyInput', {
  description: 'The key to revoke.',
  fields: (t) => ({ id: t.id({ required: true, description: 'The key id (key_...), from Merchant.apiKeys.' }) }),
});

const RevokeApiKeyPayload = builder.objectRef<ApiKeyResult>('RevokeApiKeyPayload').implement({
  description: 'The revoked key.',
  fields: (t) => ({
    apiKey: t.prismaField({
      type: 'ApiKey',
      nullable: true,
      description: 'The key, now with revokedAt set.',
      resolve: (query, p, _args, ctx) => (p.apiKeyId ? ctx.deps.db.apiKey.findUnique({ ...query, where: { id: p.apiKeyId } }) : null),
    }),
    userErrors: t.field({ type: [UserError], description: 'Why nothing was revoked, if so.', resolve: (p) => p.userErrors }),
  }),
});

builder.mutationField('revokeApiKey', (t) =>
  t.field({
    type: RevokeApiKeyPayload,
    description: 'Revoke an API key of this merchant. It stops working at once, for every request after this one.',
    args: { input: t.arg({ type: RevokeApiKeyInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      const outcome = await revokeApiKey(requireScope(ctx), { id: String(input.id) });
      return outcome.ok ? { apiKeyId: outcome.value.apiKeyId, userErrors: [] } : { apiKeyId: null, userErrors: outcome.errors };
    },
  }),
);

// --- Tax settings -------------------------------------------------------------------------------

interface TaxSettingsResult {
  merchantId: string | null;
  userErrors: UserErrorShape[];
}

const TaxSettingsPayload = builder.objectRef<TaxSettingsResult>('TaxSettingsPayload').implement({
  description: "The merchant with its tax settings after the change. Existing OPEN orders are re-priced on their next change.",
  fields: (t) => ({
    merchant: t.prismaField({
      type: 'Merchant',
      nullable: true,
      description: 'The merchant, with taxRegistrations and taxRates as they are now.',
      resolve: (query, p, _args, ctx) => (p.merchantId ? ctx.deps.db.merchant.findUnique({ ...query, where: { id: p.merchantId } }) : null),
    }),
    userErrors: t.field({ type: [UserError], description: 'Why nothing changed, if so.', resolve: (p) => p.userErrors }),
  }),
});


const AddTaxRegistrationInput = builder.inputType('AddTaxRegistrationInput', {
  description: 'Where the merchant now has nexus.',
  fields: (t) => ({
    jurisdiction: t.string({ required: true, description: 'ISO 3166-1 country ("DE") or ISO 3166-2 subdivision ("US-CA").' }),
    idempotencyKey: t.string({ description: IDEMPOTENCY_KEY_DESCRIPTION }),
  }),
});
const RemoveTaxRegistrationInput = builder.inputType('RemoveTaxRegistrationInput', {
  description: 'Where the merchant no longer collects tax.',
  fields: (t) => ({
    jurisdiction: t.string({ required: true, description: 'The registered jurisdiction code.' }),
    idempotencyKey: t.string({ description: IDEMPOTENCY_KEY_DESCRIPTION }),
  }),
});
const SetTaxRateInput = builder.inputType('SetTaxRateInput', {
  description: 'Create or replace the rate for (jurisdiction, name, taxCategory).',
  fields: (t) => ({
    jurisdiction: t.string({ required: true, description: '"US-CA", "DE", "CA-BC"...' }),
    name: t.string({ required: true, description: 'Human name, e.g. "California sales tax" or "GST".' }),
    rate: t.string({ required: true, description: 'Decimal string, 0 <= rate < 1, e.g. "0.0725". "0" exempts the category.' }),
    taxCategory: t.string({ description: 'Only for line items of this category (e.g. "food"); empty for all others.' }),
    inclusive: t.boolean({
      description: 'true when prices already include this tax (VAT); false for sales tax added on top. Default false for a new rate; a replaced rate keeps its value unless given.',
    }),
    idempotencyKey: t.string({ description: IDEMPOTENCY_KEY_DESCRIPTION }),
  }),
});

function taxPayload(ctx: GraphQLContext, outcome: { ok: true } | { ok: false; errors: UserErrorShape[] }): TaxSettingsResult {
  return outcome.ok ? { merchantId: ctx.principal!.merchantId, userErrors: [] } : { merchantId: null, userErrors: outcome.errors };
}

builder.mutationField('addTaxRegistration', (t) =>
  t.field({
    type: TaxSettingsPayload,
    description: 'Start collecting tax in a jurisdiction (nexus). Adding one that exists changes nothing.',
    args: { input: t.arg({ type: AddTaxRegistrationInput, required: true }) },
    resolve: async (_root, { input }, ctx) => taxPayload(ctx, await addTaxRegistration(requireScope(ctx), input)),
  }),
);
builder.mutationField('removeTaxRegistration', (t) =>
  t.field({
    type: TaxSettingsPayload,
    description: 'Stop collecting tax in a jurisdiction.',
    args: { input: t.arg({ type: RemoveTaxRegistrationInput, required: true }) },
    resolve: async (_root, { input }, ctx) => taxPayload(ctx, await removeTaxRegistration(requireScope(ctx), input)),
  }),
);
builder.mutationField('setTaxRate', (t) =>
  t.field({
    type: TaxSettingsPayload,
    description: 'Create or replace a tax rate. It applies to orders shipped to the jurisdiction while the merchant is registered there.',
    args: { input: t.arg({ type: SetTaxRateInput, required: true }) },
    resolve: async (_root, { input }, ctx) => taxPayload(ctx, await setTaxRate(requireScope(ctx), input)),
  }),
);
