// Assembles the schema: every type file registers itself on the builder when imported.
import { getNamedType, lexicographicSortSchema, type GraphQLSchema } from 'graphql';
import { builder } from './builder.js';
import './types/scalars.js';
import './types/money.js';
import './types/user-error.js';
import './types/node.js';
import './types/address.js';
import './types/merchant.js';
import './types/activity.js';
import './types/discount.js';
import './types/order.js';
import './types/order-mutations.js';
import './types/payment.js';
import './types/checkout.js';
import './types/coupon.js';
import './types/refund.js';
import './types/subscription.js';
import './types/dashboard.js';

builder.queryType({ authScopes: { authenticated: true }, description: 'Read the merchant\'s orders, settings and objects. Every query needs "Authorization: Bearer <API key>".' });
builder.mutationType({
  authScopes: { authenticated: true },
  description:
    'Every mutation returns a payload with userErrors (expected failures with a stable code; then nothing was written) and takes an optional idempotencyKey.',
});

/** Every mutation takes one `input` argument; it is documented by its input type. */
function describeInputArguments(built: GraphQLSchema): GraphQLSchema {
  for (const field of Object.values(built.getMutationType()?.getFields() ?? {})) {
    for (const arg of field.args) {
      if (arg.name === 'input' && !arg.description) {
        const type = getNamedType(arg.type);
        arg.description = `${type.name}: ${type.description ?? 'the fields of this mutation'}`;
      }
    }
  }
  return built;
}

export const schema = lexicographicSortSchema(describeInputArguments(builder.toSchema()));
