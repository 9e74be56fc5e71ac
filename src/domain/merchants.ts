// Merchants and API keys. Signing up is public and returns a test key, shown once.
import type { Deps, Scope } from './context.js';
import { Activities, appendActivity } from './activity.js';
import { type Outcome, type UserError, fail, ok, userError, notFound } from './errors.js';
import { generateSecret, hashSecret, KEY_PREFIX_LENGTH } from './auth.js';
import { runMutation } from './mutation.js';
import { newId } from '../ids.js';
import { checkEmail, checkString, normalizeAddress, type AddressInput } from './validation.js';
import type { Prisma } from '../generated/prisma/client.js';

export interface CreateMerchantInput {
  name: string;
  email: string;
  originAddress?: AddressInput | null;
}

export async function createMerchant(deps: Deps, input: CreateMerchantInput): Promise<Outcome<{ merchantId: string; testApiKey: string }>> {
  const errors: UserError[] = [];
  checkString(errors, input.name, ['input', 'name'], 'name', 1, 200);
  checkEmail(errors, input.email, ['input', 'email']);
  const originAddress = input.originAddress ? normalizeAddress(errors, input.originAddress, ['input', 'originAddress']) : null;
  if (errors.length > 0) return fail(...errors);

  const merchantId = newId('Merchant');
  const secret = generateSecret(false);
  const keyId = newId('ApiKey');
  const prefix = secret.slice(0, KEY_PREFIX_LENGTH);
  const at = deps.clock.now();
  await deps.db.$transaction(async (tx) => {
    await tx.merchant.create({
      data: {
        id: merchantId,
        name: input.name.trim(),
        email: input.email.trim(),
        originAddress: (originAddress ?? undefined) as Prisma.InputJsonValue | undefined,
        createdAt: at,
      },
    });
    await tx.apiKey.create({ data: { id: keyId, merchantId, prefix, secretHash: hashSecret(secret), livemode: false, createdAt: at } });
    const scope: Scope = { deps, merchantId, livemode: false, actor: { type: 'SYSTEM', id: null, name: 'signup' } };
    await appendActivity(tx, scope, at, null, [
      Activities.merchantCreated({ id: merchantId, name: input.name.trim(), email: input.email.trim(), originAddress }),
      Activities.apiKeyCreated({ id: keyId, prefix, livemode: false }),
    ]);
  });
  return ok({ merchantId, testApiKey: secret });
}

export async function createApiKey(scope: Scope, input: { livemode: boolean }): Promise<Outcome<{ apiKeyId: string; secret: string }>> {
  const secret = generateSecret(input.livemode);
  const id = newId('ApiKey');
  const prefix = secret.slice(0, KEY_PREFIX_LENGTH);
  const { outcome } = await runMutation({
    scope,
    operation: 'createApiKey',
    input: {},
    run: async ({ tx, at }) => {
      await tx.apiKey.create({
        data: { id, merchantId: scope.merchantId, prefix, secretHash: hashSecret(secret), livemode: input.livemode, createdAt: at },
      });
      await appendActivity(tx, scope, at, null, [Activities.apiKeyCreated({ id, prefix, livemode: input.livemode })]);
      return ok({ apiKeyId: id });
    },
  });
  if (!outcome.ok) return outcome;
  return ok({ apiKeyId: id, secret });
}

/** Any key of the merchant (test or live) can revoke any other key of that merchant. */
export async function revokeApiKey(scope: Scope, input: { id: string }): Promise<Outcome<{ apiKeyId: string }>> {
  const { outcome } = await runMutation({
    scope,
    operation: 'revokeApiKey',
    input: {},
    run: async ({ tx, at }) => {
      const key = await tx.apiKey.findFirst({ where: { id: input.id, merchantId: scope.merchantId } });
      if (!key) return fail(notFound('API key', input.id, ['input', 'id']));
      // Conditional update: of two concurrent revokes exactly one changes the row (and records it).
      const revoked = await tx.apiKey.updateMany({ where: { id: key.id, revokedAt: null }, data: { revokedAt: at } });
      if (revoked.count === 0) {
        return fail(userError('INVALID_STATE_TRANSITION', `API key ${key.prefix}... is already revoked; nothing to do.`, ['input', 'id']));
      }
      await appendActivity(tx, scope, at, null, [Activities.apiKeyRevoked({ id: key.id, prefix: key.prefix, revokedAt: at })]);
      return ok({ apiKeyId: key.id });
    },
  });
  return outcome;
}
