export * from './allocate.js';
export * from './currency.js';
export * from './decimal.js';
export * from './lifecycle.js';
export * from './price-order.js';
export * from './refunds.js';
export * from './rounding.js';
export * from './types.js';
