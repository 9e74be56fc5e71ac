// Assembles the schema: every type file registers itself on the builder when imported.
import { lexicographicSortSchema } from 'graphql';
import { builder } from './builder.js';
import './types/scalars.js';
import './types/money.js';
import './types/user-error.js';
import './types/node.js';
import './types/address.js';
import './types/merchant.js';
import './types/activity.js';
import './types/order.js';

builder.queryType({ description: 'Read the merchant\'s orders, settings and objects. Every query needs "Authorization: Bearer <API key>".' });
builder.mutationType({
  description:
    'Every mutation returns a payload with userErrors (expected failures with a stable code; then nothing was written) and takes an optional idempotencyKey.',
});

export const schema = lexicographicSortSchema(builder.toSchema());
