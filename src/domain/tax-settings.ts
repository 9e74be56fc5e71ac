// Where the merchant collects tax (registrations = nexus) and at which rates.
// Rates are decimal strings, 0 <= rate < 1; "0" exempts a category in a jurisdiction.
import type { Scope } from './context.js';
import { Activities, appendActivity } from './activity.js';
import { type Outcome, type UserError, fail, ok, userError } from './errors.js';
import { runMutation } from './mutation.js';
import { newId } from '../ids.js';
import { isJurisdictionCode } from './validation.js';
import { isValidRate } from '../pricing/decimal.js';

function jurisdictionError(value: string): UserError {
  return userError(
    'INVALID_INPUT',
    `"${value}" is not a jurisdiction code. Use an ISO 3166-1 country ("DE") or country-subdivision per ISO 3166-2 ("US-CA").`,
    ['input', 'jurisdiction'],
  );
}

const normalizeJurisdiction = (value: string) => value.trim().toUpperCase();

export async function addTaxRegistration(scope: Scope, input: { jurisdiction: string; idempotencyKey?: string | null }): Promise<Outcome<null>> {
  const jurisdiction = normalizeJurisdiction(input.jurisdiction);
  if (!isJurisdictionCode(jurisdiction)) return fail(jurisdictionError(input.jurisdiction));
  const { outcome } = await runMutation({
    scope,
    operation: 'addTaxRegistration',
    input: { ...input, jurisdiction },
    run: async ({ tx, at, idempotencyKey }) => {
      const id = newId('TaxRegistration');
      const inserted = await tx.$executeRaw`
        INSERT INTO "TaxRegistration" ("id", "merchantId", "livemode", "jurisdiction", "createdAt")
        VALUES (${id}, ${scope.merchantId}, ${scope.livemode}, ${jurisdiction}, ${at})
        ON CONFLICT ("merchantId", "livemode", "jurisdiction") DO NOTHING`;
      // Registering twice is harmless: the registration exists either way and nothing is recorded again.
      if (inserted === 1) {
        await appendActivity(tx, scope, at, idempotencyKey, [Activities.taxRegistrationAdded({ id, jurisdiction })]);
      }
      return ok(null);
    },
  });
  return outcome;
}

export async function removeTaxRegistration(scope: Scope, input: { jurisdiction: string; idempotencyKey?: string | null }): Promise<Outcome<null>> {
  const jurisdiction = normalizeJurisdiction(input.jurisdiction);
  if (!isJurisdictionCode(jurisdiction)) return fail(jurisdictionError(input.jurisdiction));
  const { outcome } = await runMutation({
    scope,
    operation: 'removeTaxRegistration',
    input: { ...input, jurisdiction },
    run: async ({ tx, at, idempotencyKey }) => {
      const reg = await tx.taxRegistration.findUnique({
        where: { merchantId_livemode_jurisdiction: { merchantId: scope.merchantId, livemode: scope.livemode, jurisdiction } },
      });
      if (!reg) {
        return fail(
          userError('NOT_FOUND', `There is no tax registration for ${jurisdiction}. Merchant.taxRegistrations lists the current ones.`, [
            'input',
            'jurisdiction',
          ]),
        );
      }
      await tx.taxRegistration.delete({ where: { id: reg.id } });
      await appendActivity(tx, scope, at, idempotencyKey, [Activities.taxRegistrationRemoved({ id: reg.id, jurisdiction })]);
      return ok(null);
    },
  });
  return outcome;
}

export interface SetTaxRateInput {
  jurisdiction: string;
  name: string;
  rate: string;
  taxCategory?: string | null;
  inclusive?: boolean | null;
  idempotencyKey?: string | null;
}

/** Creates or replaces the rate for (jurisdiction, name, taxCategory). */
export async function setTaxRate(scope: Scope, input: SetTaxRateInput): Promise<Outcome<null>> {
  const errors: UserError[] = [];
  const jurisdiction = normalizeJurisdiction(input.jurisdiction);
  if (!isJurisdictionCode(jurisdiction)) errors.push(jurisdictionError(input.jurisdiction));
  const name = input.name.trim();
  if (name.length < 1 || name.length > 200) {
    errors.push(userError('INVALID_INPUT', 'name must be 1 to 200 characters, e.g. "California sales tax".', ['input', 'name']));
  }
  const rate = input.rate.trim();
  if (!isValidRate(rate)) {
    errors.push(
      userError('INVALID_INPUT', `rate must be a decimal string from 0 up to (not including) 1, e.g. "0.0725" for 7.25 % (got "${input.rate}").`, [
        'input',
        'rate',
      ]),
    );
  }
  const taxCategory = input.taxCategory?.trim() ?? '';
  if (taxCategory !== '' && !/^[a-z0-9_-]{1,64}$/.test(taxCategory)) {
    errors.push(userError('INVALID_INPUT', 'taxCategory must be 1 to 64 of a-z, 0-9, "_" and "-", e.g. "food".', ['input', 'taxCategory']));
  }
  if (errors.length > 0) return fail(...errors);
  const { outcome } = await runMutation({
    scope,
    operation: 'setTaxRate',
    // Hashed in normalised form: "us-ca" and "US-CA" are the same request.
    input: { ...input, jurisdiction, name, rate, taxCategory },
    run: async ({ tx, at, idempotencyKey }) => {
      const where = {
        merchantId_livemode_jurisdiction_name_taxCategory: {
          merchantId: scope.merchantId,
          livemode: scope.livemode,
          jurisdiction,
          name,
          taxCategory,
        },
      };
      const before = await tx.taxRate.findUnique({ where });
      const after = await tx.taxRate.upsert({
        where,
        create: {
          id: newId('TaxRate'),
          merchantId: scope.merchantId,
          livemode: scope.livemode,
          jurisdiction,
          name,
          rate,
          taxCategory,
          inclusive: input.inclusive ?? false,
          createdAt: at,
          updatedAt: at,
        },
        // Replacing keeps `inclusive` unless it is given again.
        update: { rate, ...(input.inclusive === null || input.inclusive === undefined ? {} : { inclusive: input.inclusive }), updatedAt: at },
      });
      const snapshot = (r: typeof after) => ({ id: r.id, jurisdiction: r.jurisdiction, name: r.name, rate: r.rate, taxCategory: r.taxCategory || null, inclusive: r.inclusive });
      await appendActivity(tx, scope, at, idempotencyKey, [Activities.taxRateSet(before ? snapshot(before) : null, snapshot(after))]);
      return ok(null);
    },
  });
  return outcome;
}
