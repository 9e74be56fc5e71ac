// Where the merchant collects tax (registrations = nexus) and at which rates.
// Rates are decimal strings, 0 <= rate < 1; "0" exempts a category in a jurisdiction.
import type { Scope } from '../kernel/context.js';
import { Activities } from '../audit/activity.js';
import { type Outcome, type UserError, fail, ok, userError } from '../kernel/errors.js';
import { runWrite } from '../kernel/write-path.js';
import { readRows } from '../kernel/rows.js';
import { sqlPool } from '../db/prisma.js';
import { newId } from '../ids.js';
import { isJurisdictionCode } from '../kernel/validation.js';
import { isValidRate } from '../pricing/decimal.js';

function jurisdictionError(value: string): UserError {
  return userError(
    'INVALID_INPUT',
    `"${value}" is not a jurisdiction code. Use an ISO 3166-1 country ("DE") or country-subdivision per ISO 3166-2 ("US-CA").`,
    ['input', 'jurisdiction'],
  );
}

const normalizeJurisdiction = (value: string) => value.trim().toUpperCase();

type RegistrationRow = { id: string; jurisdiction: string };
const REGISTRATION_SQL = 'SELECT "id", "jurisdiction" FROM "TaxRegistration" WHERE "merchantId" = $1 AND "livemode" = $2 AND "jurisdiction" = $3';

function registration(scope: Scope, jurisdiction: string): Promise<RegistrationRow | undefined> {
  return readRows<RegistrationRow>(sqlPool(scope.deps.db), 'flint_tax_registration', REGISTRATION_SQL, [scope.merchantId, scope.livemode, jurisdiction]).then((r) => r[0]);
}

export async function addTaxRegistration(scope: Scope, input: { jurisdiction: string; idempotencyKey?: string | null }): Promise<Outcome<null>> {
  const jurisdiction = normalizeJurisdiction(input.jurisdiction);
  if (!isJurisdictionCode(jurisdiction)) return fail(jurisdictionError(input.jurisdiction));
  const { outcome } = await runWrite({
    scope,
    operation: 'addTaxRegistration',
    input: { ...input, jurisdiction },
    plan: async (at) => {
      // Registering twice is harmless: the registration exists either way and nothing is recorded again.
      // (Two concurrent registrations: the unique index refuses the second write, whose plan then finds the first.)
      const existing = await registration(scope, jurisdiction);
      if (existing) return ok({ result: null, write: { guards: [{ table: 'TaxRegistration', id: existing.id, match: {}, exclusive: false }], entries: [] } });
      const id = newId('TaxRegistration');
      return ok({
        result: null,
        write: {
          ops: [{ kind: 'insert', table: 'TaxRegistration', rows: [{ id, merchantId: scope.merchantId, livemode: scope.livemode, jurisdiction, createdAt: at }] }],
          entries: [Activities.taxRegistrationAdded({ id, jurisdiction })],
        },
      });
    },
  });
  return outcome;
}

export async function removeTaxRegistration(scope: Scope, input: { jurisdiction: string; idempotencyKey?: string | null }): Promise<Outcome<null>> {
  const jurisdiction = normalizeJurisdiction(input.jurisdiction);
  if (!isJurisdictionCode(jurisdiction)) return fail(jurisdictionError(input.jurisdiction));
  const { outcome } = await runWrite({
    scope,
    operation: 'removeTaxRegistration',
    input: { ...input, jurisdiction },
    plan: async () => {
      const reg = await registration(scope, jurisdiction);
      if (!reg) {
        return fail(
          userError('NOT_FOUND', `There is no tax registration for ${jurisdiction}. Merchant.taxRegistrations lists the current ones.`, [
            'input',
            'jurisdiction',
          ]),
        );
      }
      // The guard makes a concurrent removal of the same registration plan again (and find none).
      return ok({
        result: null,
        write: {
          guards: [{ table: 'TaxRegistration', id: reg.id, match: { jurisdiction } }],
          ops: [{ kind: 'delete', table: 'TaxRegistration', rows: [{ id: reg.id }] }],
          entries: [Activities.taxRegistrationRemoved({ id: reg.id, jurisdiction })],
        },
      });
    },
  });
  return outcome;
}

type RateRow = { id: string; jurisdiction: string; name: string; rate: string; taxCategory: string; inclusive: boolean };
const RATE_SQL =
  'SELECT "id", "jurisdiction", "name", "rate", "taxCategory", "inclusive" FROM "TaxRate" WHERE "merchantId" = $1 AND "livemode" = $2 AND "jurisdiction" = $3 AND "name" = $4 AND "taxCategory" = $5';

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
  const { outcome } = await runWrite({
    scope,
    operation: 'setTaxRate',
    // Hashed in normalised form: "us-ca" and "US-CA" are the same request.
    input: { ...input, jurisdiction, name, rate, taxCategory },
    plan: async (at) => {
      const [before] = await readRows<RateRow>(sqlPool(scope.deps.db), 'flint_tax_rate', RATE_SQL, [scope.merchantId, scope.livemode, jurisdiction, name, taxCategory]);
      const snapshot = (r: RateRow) => ({ id: r.id, jurisdiction: r.jurisdiction, name: r.name, rate: r.rate, taxCategory: r.taxCategory || null, inclusive: r.inclusive });
      if (before) {
        // Replacing keeps `inclusive` unless it is given again; guarded by the rate as read.
        const after: RateRow = { ...before, rate, inclusive: input.inclusive ?? before.inclusive };
        return ok({
          result: null,
          write: {
            guards: [{ table: 'TaxRate', id: before.id, match: { rate: before.rate, inclusive: before.inclusive } }],
            ops: [{ kind: 'update', table: 'TaxRate', rows: [{ id: before.id, rate: after.rate, inclusive: after.inclusive, updatedAt: at }] }],
            entries: [Activities.taxRateSet(snapshot(before), snapshot(after))],
          },
        });
      }
      const created: RateRow = { id: newId('TaxRate'), jurisdiction, name, rate, taxCategory, inclusive: input.inclusive ?? false };
      return ok({
        result: null,
        write: {
          ops: [{ kind: 'insert', table: 'TaxRate', rows: [{ ...created, merchantId: scope.merchantId, livemode: scope.livemode, createdAt: at, updatedAt: at }] }],
          entries: [Activities.taxRateSet(null, snapshot(created))],
        },
      });
    },
  });
  return outcome;
}
