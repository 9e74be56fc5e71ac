import { describe, expect, it } from 'vitest';
import { isCountryCode, isJurisdictionCode } from './validation.js';

describe('ISO 3166 codes', () => {
  it('knows the 249 assigned alpha-2 codes, each a region Intl can name', () => {
    const names = new Intl.DisplayNames(['en'], { type: 'region', fallback: 'code' });
    const letters = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
    const all: string[] = [];
    for (const a of letters) for (const b of letters) if (isCountryCode(a + b)) all.push(a + b);
    expect(all).toHaveLength(249);
    for (const code of all) expect(names.of(code)).not.toBe(code);
  });

  it('refuses reserved and user-assigned codes', () => {
    for (const code of ['EU', 'UK', 'UN', 'XK', 'XA', 'QO', 'EZ', 'SU', 'us', 'USA']) expect(isCountryCode(code)).toBe(false);
  });

  it('accepts country and country-subdivision jurisdictions', () => {
    expect(isJurisdictionCode('US-CA')).toBe(true);
    expect(isJurisdictionCode('DE')).toBe(true);
    expect(isJurisdictionCode('CA-BC')).toBe(true);
    expect(isJurisdictionCode('US-')).toBe(false);
    expect(isJurisdictionCode('US-CALIF')).toBe(false);
    expect(isJurisdictionCode('EU')).toBe(false);
  });
});
