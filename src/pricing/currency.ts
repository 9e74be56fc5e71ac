/**
 * Currencies (pricing.md §1). Digits come from Node's Intl (ICU/CLDR data), restricted to the codes
 * Intl really knows: Intl.NumberFormat accepts any well-formed 3-letter code ("ABC" → 2 digits), so a
 * code counts only when it is in Intl.supportedValuesOf('currency').
 *
 * Codes are case-sensitive upper case, as ISO 4217 writes them ("usd" is not a currency here; callers
 * may normalise with normalizeCurrency first).
 *
 * ICU's digits differ from the ISO 4217 table for some currencies (CLDR records the digits used in
 * display, e.g. HUF, IDR, COP, PKR are 0 in ICU but 2 in ISO 4217; IQD is 0 vs 3). Money is exchanged
 * with processors in ISO 4217 minor units (Stripe charges 100 HUF as amount 10000), so ISO_OVERRIDES
 * restores the ISO 4217 value wherever ICU differs.
 */

/** ISO 4217 minor units where ICU/CLDR reports display digits instead (checked against Node 20's ICU). */
const ISO_OVERRIDES: Readonly<Record<string, number>> = {
  AFN: 2, ALL: 2, COP: 2, HUF: 2, IDR: 2, IRR: 2, KPW: 2, LAK: 2, LBP: 2, MGA: 2, MMK: 2, PKR: 2,
  SLL: 2, SOS: 2, SYP: 2, YER: 2, IQD: 3,
};

let supported: ReadonlySet<string> | undefined;
function supportedCurrencies(): ReadonlySet<string> {
  supported ??= new Set(Intl.supportedValuesOf('currency'));
  return supported;
}

const digitsCache = new Map<string, number>();

export function isCurrency(code: string): boolean {
  return typeof code === 'string' && supportedCurrencies().has(code);
}

/** Upper-cases and validates a code: "usd" → "USD"; unknown → null. */
export function normalizeCurrency(code: string): string | null {
  if (typeof code !== 'string') return null;
  const upper = code.toUpperCase();
  return isCurrency(upper) ? upper : null;
}

/** Minor-unit digits of a currency (USD 2, JPY 0, KWD 3), or null for an unknown code. */
export function currencyDigits(code: string): number | null {
  if (!isCurrency(code)) return null;
  let d = digitsCache.get(code);
  if (d === undefined) {
    d = ISO_OVERRIDES[code] ?? new Intl.NumberFormat('en', { style: 'currency', currency: code }).resolvedOptions()
      .maximumFractionDigits;
    if (d === undefined) throw new Error(`Intl reported no fraction digits for ${code}`);
    digitsCache.set(code, d);
  }
  return d;
}

function requireDigits(currency: string): number {
  const d = currencyDigits(currency);
  if (d === null) throw new RangeError(`Unknown currency code: ${JSON.stringify(currency)}`);
  return d;
}

/**
 * Exact decimal string of an amount in minor units: 6934n USD → "69.34", 500n JPY → "500",
 * 1234n KWD → "1.234", -5n USD → "-0.05". Throws RangeError for an unknown currency.
 */
export function toDecimalString(amount: bigint, currency: string): string {
  const digits = requireDigits(currency);
  const negative = amount < 0n;
  const abs = (negative ? -amount : amount).toString();
  let out: string;
  if (digits === 0) {
    out = abs;
  } else {
    const padded = abs.padStart(digits + 1, '0');
    out = `${padded.slice(0, -digits)}.${padded.slice(-digits)}`;
  }
  return negative ? `-${out}` : out;
}

/**
 * Human format "69.34 USD" / "1,234.56 USD" / "500 JPY" / "1.234 KWD": the exact decimal string is
 * handed to Intl.NumberFormat as a string (Node 20 formats decimal strings exactly, no float), with
 * the locale's grouping and decimal separator, followed by a space and the ISO code.
 */
/** Building an Intl.NumberFormat is costly (it showed up at 18 % of an orders(first: 100) request): keep one per shape. */
const formatters = new Map<string, Intl.NumberFormat>();

export function formatMoney(amount: bigint, currency: string, locale = 'en-US'): string {
  const digits = requireDigits(currency);
  const cacheKey = `${locale}:${digits}`;
  let nf = formatters.get(cacheKey);
  if (!nf) {
    nf = new Intl.NumberFormat(locale, { minimumFractionDigits: digits, maximumFractionDigits: digits });
    formatters.set(cacheKey, nf);
  }
  // Intl.NumberFormat v3 accepts exact decimal strings; the lib typing of `format` varies with the
  // TypeScript lib level, hence the cast. `format` is a bound getter, so detaching it is safe.
  const format = nf.format as unknown as (value: string) => string;
  return `${format(toDecimalString(amount, currency))} ${currency}`;
}
