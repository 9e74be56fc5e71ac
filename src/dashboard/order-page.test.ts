import { describe, expect, it } from 'vitest';
import { percentOf } from './order-page.js';

describe('percentOf', () => {
  it.each([
    ['0.0725', '7.25%'],
    ['0.2', '20%'],
    ['0.19', '19%'],
    ['0', '0%'],
    ['1', '100%'],
    ['0.08875', '8.875%'],
    ['0.005', '0.5%'],
  ])('%s is %s', (rate, percent) => {
    expect(percentOf(rate)).toBe(percent);
  });
});
