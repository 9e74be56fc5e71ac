// Input rules shared by the use cases. Each check returns userErrors with `field` set; none throws.
import { isCurrency } from '../pricing/currency.js';
import { type UserError, userError } from './errors.js';

export type Path = (string | number)[];

export const LIMITS = {
  quantityMax: 100_000,
  unitPriceMax: 1_000_000_000_000n,
  lineItemsMax: 500,
  nameMax: 500,
  skuMax: 255,
  taxCategoryMax: 64,
  metadataKeysMax: 50,
  metadataBytesMax: 16_384,
  emailMax: 320,
  customerIdMax: 255,
} as const;

export function checkString(errors: UserError[], value: string | null | undefined, path: Path, label: string, min: number, max: number): void {
  if (value === null || value === undefined) return;
  // Characters are Unicode code points: a 500-emoji name is 500 characters.
  const length = [...value].length;
  if ([...value.trim()].length < min || length > max) {
    errors.push(userError('INVALID_INPUT', `${label} must be ${min} to ${max} characters (got ${length}).`, path));
  }
}

export function checkEmail(errors: UserError[], value: string | null | undefined, path: Path): void {
  if (value === null || value === undefined) return;
  if (value.length > LIMITS.emailMax || !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(value)) {
    errors.push(userError('INVALID_INPUT', `"${value}" is not an email address (expected name@example.com).`, path));
  }
}

export function checkCurrency(errors: UserError[], value: string, path: Path): boolean {
  if (!isCurrency(value)) {
    errors.push(
      userError('INVALID_INPUT', `"${value}" is not an ISO 4217 currency code. Use an upper-case code such as "USD", "EUR" or "JPY".`, path),
    );
    return false;
  }
  return true;
}

export function checkMetadata(errors: UserError[], value: unknown, path: Path): void {
  if (value === null || value === undefined) return;
  if (typeof value !== 'object' || Array.isArray(value)) {
    errors.push(userError('INVALID_INPUT', 'metadata must be a JSON object of your own keys, e.g. {"sku_vendor": "acme"}.', path));
    return;
  }
  const keys = Object.keys(value);
  const bytes = Buffer.byteLength(JSON.stringify(value));
  if (keys.length > LIMITS.metadataKeysMax || bytes > LIMITS.metadataBytesMax) {
    errors.push(
      userError(
        'INVALID_INPUT',
        `metadata may hold at most ${LIMITS.metadataKeysMax} keys and ${LIMITS.metadataBytesMax} bytes (got ${keys.length} keys, ${bytes} bytes).`,
        path,
      ),
    );
  }
}

export interface AddressInput {
  line1?: string | null;
  line2?: string | null;
  city?: string | null;
  region?: string | null;
  postalCode?: string | null;
  country: string;
}

export interface Address {
  line1: string | null;
  line2: string | null;
  city: string | null;
  region: string | null;
  postalCode: string | null;
  country: string;
}

/** The 249 officially assigned ISO 3166-1 alpha-2 codes (no user-assigned or reserved codes such as EU, UK, XK). */
const COUNTRY_CODES: ReadonlySet<string> = new Set(
  [
  'AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI',
  'BJ BL BM BN BO BQ BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN',
  'CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK',
  'FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM',
  'HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN',
  'KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK',
  'ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP',
  'NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW',
  'SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF',
  'TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI',
  'VN VU WF WS YE YT ZA ZM ZW',
  ]
    .join(' ')
    .split(' '),
);

/** ISO 3166-1 alpha-2: an officially assigned country or territory code, upper case. */
export function isCountryCode(code: string): boolean {
  return COUNTRY_CODES.has(code);
}

/** ISO 3166-2 subdivision part (without the country), e.g. "CA", "BY", "ON", "75C". */
export function isSubdivisionCode(code: string): boolean {
  return /^[A-Z0-9]{1,3}$/.test(code);
}

/** "US" or "US-CA": an ISO 3166-1 country, optionally with an ISO 3166-2 subdivision. */
export function isJurisdictionCode(code: string): boolean {
  const [country, region, ...rest] = code.split('-');
  if (rest.length > 0 || !country || !isCountryCode(country)) return false;
  return region === undefined || isSubdivisionCode(region);
}

export function normalizeAddress(errors: UserError[], input: AddressInput, path: Path): Address | null {
  const before = errors.length;
  const country = input.country?.trim().toUpperCase() ?? '';
  if (!isCountryCode(country)) {
    errors.push(userError('INVALID_INPUT', `country must be an ISO 3166-1 alpha-2 code such as "US" or "DE" (got "${input.country}").`, [...path, 'country']));
  }
  let region = input.region?.trim().toUpperCase() || null;
  if (region !== null && region.startsWith(`${country}-`)) region = region.slice(country.length + 1);
  if (region !== null && !isSubdivisionCode(region)) {
    errors.push(
      userError('INVALID_INPUT', `region must be an ISO 3166-2 subdivision code without the country prefix, such as "CA" (got "${input.region}").`, [
        ...path,
        'region',
      ]),
    );
  }
  for (const key of ['line1', 'line2', 'city', 'postalCode'] as const) {
    checkString(errors, input[key], [...path, key], key, 0, 200);
  }
  if (errors.length > before) return null;
  return {
    line1: input.line1?.trim() || null,
    line2: input.line2?.trim() || null,
    city: input.city?.trim() || null,
    region,
    postalCode: input.postalCode?.trim() || null,
    country,
  };
}
