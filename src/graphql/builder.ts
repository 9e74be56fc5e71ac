// The schema builder and nothing else: types live in src/graphql/types/, one file per type.
import SchemaBuilder from '@pothos/core';
import PrismaPlugin from '@pothos/plugin-prisma';
import ComplexityPlugin from '@pothos/plugin-complexity';
import ScopeAuthPlugin from '@pothos/plugin-scope-auth';
import type PrismaTypes from '../generated/pothos-types.js';
import { getDatamodel } from '../generated/pothos-types.js';
import { unauthenticated, type GraphQLContext } from './context.js';
import { fieldComplexity } from './armor.js';

export const builder = new SchemaBuilder<{
  PrismaTypes: PrismaTypes;
  Context: GraphQLContext;
  /** `authenticated`: the request carries a valid API key. */
  AuthScopes: { authenticated: boolean };
  DefaultFieldNullability: false;
  DefaultInputFieldRequiredness: false;
  Scalars: {
    DateTime: { Input: Date; Output: Date | string };
    JSON: { Input: unknown; Output: unknown };
    SafeInt: { Input: number; Output: number | bigint };
  };
}>({
  plugins: [ScopeAuthPlugin, PrismaPlugin, ComplexityPlugin],
  // Deny by default: the root types require a key (src/graphql/schema.ts, types/subscription.ts), so a
  // new query, mutation or subscription cannot forget it; a public one opts out with skipTypeScopes.
  scopeAuth: {
    authorizeOnSubscribe: true,
    authScopes: (ctx) => ({ authenticated: ctx.principal !== null }),
    unauthorizedError: (_parent, ctx) => unauthenticated(ctx),
  },
  defaultFieldNullability: false,
  // Field costs for the cost limit (src/graphql/armor.ts checks it before execution, on every transport).
  complexity: { fieldComplexity },
  prisma: {
    client: (ctx) => ctx.deps.db,
    dmmf: getDatamodel(),
    exposeDescriptions: false,
    filterConnectionTotalCount: true,
    onUnusedQuery: null,
  },
});
