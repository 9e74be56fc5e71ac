// Merchants and API keys. Signing up is public and returns a test key, shown once.
import type { Deps, Scope } from '../kernel/context.js';
import { Activities, activityRows } from '../audit/activity.js';
import { type Outcome, type UserError, fail, ok, userError, notFound } from '../kernel/errors.js';
import { generateSecret, hashSecret, KEY_PREFIX_LENGTH } from './auth.js';
import { newId } from '../ids.js';
import { checkEmail, checkString, normalizeAddress, type AddressInput } from '../kernel/validation.js';
import { runWrite, submitWrite } from '../kernel/write-path.js';
import { readRows } from '../kernel/rows.js';
import { sqlPool } from '../db/prisma.js';

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
  const scope: Scope = { deps, merchantId, livemode: false, actor: { type: 'SYSTEM', id: null, name: 'signup' } };
  const written = await submitWrite(scope, {
    merchantId,
    livemode: false,
    at,
    ops: [
      { kind: 'insert', table: 'Merchant', rows: [{ id: merchantId, name: input.name.trim(), email: input.email.trim(), originAddress, createdAt: at }] },
      { kind: 'insert', table: 'ApiKey', rows: [{ id: keyId, merchantId, prefix, secretHash: hashSecret(secret), livemode: false, createdAt: at }] },
    ],
    activity: activityRows(scope, scope.actor, at, null, [
      Activities.merchantCreated({ id: merchantId, name: input.name.trim(), email: input.email.trim(), originAddress }),
      Activities.apiKeyCreated({ id: keyId, prefix, livemode: false }),
    ]),
  });
  if (!written.ok) throw new Error(`createMerchant: the write was refused (${written.reason})`);
  return ok({ merchantId, testApiKey: secret });
}

export async function createApiKey(scope: Scope, input: { livemode: boolean }): Promise<Outcome<{ apiKeyId: string; secret: string }>> {
  const secret = generateSecret(input.livemode);
  const id = newId('ApiKey');
  const prefix = secret.slice(0, KEY_PREFIX_LENGTH);
  const { outcome } = await runWrite({
    scope,
    operation: 'createApiKey',
    input: {},
    plan: async (at) =>
      ok({
        result: { apiKeyId: id },
        write: {
          ops: [{ kind: 'insert', table: 'ApiKey', rows: [{ id, merchantId: scope.merchantId, prefix, secretHash: hashSecret(secret), livemode: input.livemode, createdAt: at }] }],
          entries: [Activities.apiKeyCreated({ id, prefix, livemode: input.livemode })],
        },
      }),
  });
  if (!outcome.ok) return outcome;
  return ok({ apiKeyId: id, secret });
}

type KeyRow = { id: string; prefix: string; revokedAt: Date | null };

/** Any key of the merchant (test or live) can revoke any other key of that merchant. */
export async function revokeApiKey(scope: Scope, input: { id: string }): Promise<Outcome<{ apiKeyId: string }>> {
  const { outcome } = await runWrite({
    scope,
    operation: 'revokeApiKey',
    input: {},
    plan: async (at) => {
      const [key] = await readRows<KeyRow>(sqlPool(scope.deps.db), 'flint_api_key', 'SELECT "id", "prefix", "revokedAt" FROM "ApiKey" WHERE "id" = $1 AND "merchantId" = $2', [
        input.id,
        scope.merchantId,
      ]);
      if (!key) return fail(notFound('API key', input.id, ['input', 'id']));
      if (key.revokedAt !== null) {
        return fail(userError('INVALID_STATE_TRANSITION', `API key ${key.prefix}... is already revoked; nothing to do.`, ['input', 'id']));
      }
      // Of two concurrent revokes the guard lets one write; the other plans again and is told it is revoked.
      return ok({
        result: { apiKeyId: key.id },
        write: {
          guards: [{ table: 'ApiKey', id: key.id, match: { revokedAt: null } }],
          ops: [{ kind: 'update', table: 'ApiKey', rows: [{ id: key.id, revokedAt: at }] }],
          entries: [Activities.apiKeyRevoked({ id: key.id, prefix: key.prefix, revokedAt: at })],
        },
      });
    },
  });
  return outcome;
}
