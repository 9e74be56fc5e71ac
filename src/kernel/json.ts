// Canonical JSON (sorted keys) for hashing, and bigint-safe conversion for JSON columns.

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** bigint minor units → a JSON number. Every amount Flint accepts stays far inside 2^53. */
export function toSafeNumber(value: bigint): number {
  if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER)) {
    throw new RangeError(`amount ${value} is outside the SafeInt range`);
  }
  return Number(value);
}

/** Deterministic JSON: object keys sorted, undefined dropped, bigint as a number. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(normalize(value));
}

function normalize(value: unknown): Json {
  if (value === null || value === undefined) return null;
  if (typeof value === 'bigint') return toSafeNumber(value);
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map((v) => (v === undefined ? null : normalize(v)));
  if (typeof value === 'object') {
    const out: { [key: string]: Json } = {};
    for (const key of Object.keys(value as object).sort()) {
      const v = (value as Record<string, unknown>)[key];
      if (v !== undefined) out[key] = normalize(v);
    }
    return out;
  }
  if (typeof value === 'number' || typeof value === 'string' || typeof value === 'boolean') return value;
  throw new TypeError(`cannot serialise ${typeof value} to JSON`);
}

/** A JSON-ready copy (bigints → numbers, dates → ISO strings). */
export function toJson(value: unknown): Json {
  return normalize(value);
}
