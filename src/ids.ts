// Prefixed, time-sortable ids: `<prefix>_<26 chars>` where the 26 chars are a ULID (48-bit ms timestamp +
// 80 random bits, Crockford base32). Ids made in the same millisecond by one process stay in order
// (monotonic: the random part is incremented), so sorting by id sorts by creation time.
import { randomBytes } from 'node:crypto';

export const ID_PREFIXES = {
  Merchant: 'mer',
  ApiKey: 'key',
  Order: 'ord',
  LineItem: 'li',
  Activity: 'act',
  TaxRegistration: 'txr',
  TaxRate: 'txrt',
  PaymentIntent: 'pi',
  Refund: 're',
  Coupon: 'cpn',
  CheckoutSession: 'cs',
  Receipt: 'rcpt',
  OutboxMessage: 'obx',
} as const;

export type IdKind = keyof typeof ID_PREFIXES;

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
let lastTime = -1;
let lastRandom: Uint8Array = new Uint8Array(10);

function encode(time: number, random: Uint8Array): string {
  let out = '';
  let t = time;
  for (let i = 0; i < 10; i++) {
    out = ALPHABET[t % 32]! + out;
    t = Math.floor(t / 32);
  }
  // 80 random bits → 16 base32 chars.
  let bits = 0n;
  for (const byte of random) bits = (bits << 8n) | BigInt(byte);
  let rand = '';
  for (let i = 0; i < 16; i++) {
    rand = ALPHABET[Number(bits & 31n)]! + rand;
    bits >>= 5n;
  }
  return out + rand;
}

function increment(bytes: Uint8Array): Uint8Array {
  const next = new Uint8Array(bytes);
  for (let i = next.length - 1; i >= 0; i--) {
    if (next[i]! < 255) {
      next[i]! += 1;
      return next;
    }
    next[i] = 0;
  }
  return next;
}

export function ulid(now: number = Date.now()): string {
  if (now <= lastTime) {
    lastRandom = increment(lastRandom);
    return encode(lastTime, lastRandom);
  }
  lastTime = now;
  lastRandom = new Uint8Array(randomBytes(10));
  return encode(now, lastRandom);
}

export function newId(kind: IdKind): string {
  return `${ID_PREFIXES[kind]}_${ulid()}`;
}

const BY_PREFIX = new Map<string, IdKind>(
  Object.entries(ID_PREFIXES).map(([kind, prefix]) => [prefix, kind as IdKind]),
);

/** The kind of object an id names, from its prefix; null for anything that is not one of ours. */
export function kindOfId(id: string): IdKind | null {
  const match = /^([a-z]+)_[0-9A-HJKMNP-TV-Z]{26}$/.exec(id);
  if (!match) return null;
  return BY_PREFIX.get(match[1]!) ?? null;
}
