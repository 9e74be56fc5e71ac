import { describe, it, expect } from 'vitest';
import { currencyDigits, formatMoney, isCurrency, normalizeCurrency, toDecimalString } from './currency.js';

describe('currency', () => {
  it('knows the digits of real ISO 4217 codes', () => {
    expect(currencyDigits('USD')).toBe(2);
    expect(currencyDigits('EUR')).toBe(2);
    expect(currencyDigits('JPY')).toBe(0);
    expect(currencyDigits('KWD')).toBe(3);
  });

  it('rejects codes Intl would format anyway', () => {
    // Intl.NumberFormat happily formats 'ABC' with 2 digits; Flint does not accept it.
    expect(new Intl.NumberFormat('en', { style: 'currency', currency: 'ABC' }).resolvedOptions().maximumFractionDigits).toBe(2);
    expect(currencyDigits('ABC')).toBeNull();
    expect(isCurrency('ABC')).toBe(false);
    expect(isCurrency('usd')).toBe(false);
    expect(isCurrency('')).toBe(false);
    expect(isCurrency('USDX')).toBe(false);
    expect(isCurrency('USD')).toBe(true);
  });

  it('normalizes case', () => {
    expect(normalizeCurrency('usd')).toBe('USD');
    expect(normalizeCurrency('Jpy')).toBe('JPY');
    expect(normalizeCurrency('abc')).toBeNull();
  });

  it('builds exact decimal strings', () => {
    expect(toDecimalString(6934n, 'USD')).toBe('69.34');
    expect(toDecimalString(5n, 'USD')).toBe('0.05');
    expect(toDecimalString(0n, 'USD')).toBe('0.00');
    expect(toDecimalString(-5n, 'USD')).toBe('-0.05');
    expect(toDecimalString(500n, 'JPY')).toBe('500');
    expect(toDecimalString(1234n, 'KWD')).toBe('1.234');
    expect(toDecimalString(7n, 'KWD')).toBe('0.007');
    expect(toDecimalString(123456789012345678901n, 'USD')).toBe('1234567890123456789.01');
    expect(() => toDecimalString(1n, 'ABC')).toThrow(RangeError);
  });

  it('formats money as "<amount> <CODE>"', () => {
    expect(formatMoney(6934n, 'USD')).toBe('69.34 USD');
    expect(formatMoney(500n, 'JPY')).toBe('500 JPY');
    expect(formatMoney(1234n, 'KWD')).toBe('1.234 KWD');
    expect(formatMoney(123456789n, 'USD')).toBe('1,234,567.89 USD');
    expect(formatMoney(1234567n, 'JPY')).toBe('1,234,567 JPY');
    expect(formatMoney(0n, 'USD')).toBe('0.00 USD');
    expect(formatMoney(-250n, 'USD')).toBe('-2.50 USD');
  });

  it('formats beyond float precision exactly', () => {
    // 2^53 + 1 cents would lose its last digit as a float.
    expect(formatMoney(9007199254740993n, 'USD')).toBe('90,071,992,547,409.93 USD');
  });

  it('uses the locale for separators', () => {
    expect(formatMoney(123456n, 'EUR', 'de-DE')).toBe('1.234,56 EUR');
  });
});

describe('ISO 4217 minor units where ICU differs', () => {
  it('uses ISO 4217 digits, not display digits', () => {
    expect(currencyDigits('HUF')).toBe(2);
    expect(currencyDigits('IDR')).toBe(2);
    expect(currencyDigits('IQD')).toBe(3);
    expect(toDecimalString(12345n, 'HUF')).toBe('123.45');
  });
});
