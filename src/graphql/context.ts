// The per-request GraphQL context: dependencies plus the authenticated principal (if any).
import { GraphQLError } from 'graphql';
import type { Deps, Principal, Scope } from '../kernel/context.js';
import { scopeOf } from '../kernel/context.js';

export interface GraphQLContext {
  deps: Deps;
  principal: Principal | null;
  /** Why authentication failed, when an Authorization header was sent but is not valid. */
  authProblem: string | null;
  /** Subscriptions: this instance's hub and the transport connection (src/realtime/). */
  realtime?: import('../realtime/hub.js').RealtimeContext;
}

/** The error of a request without a valid key: code UNAUTHENTICATED (HTTP 401). */
export function unauthenticated(ctx: GraphQLContext): GraphQLError {
  return new GraphQLError(
    ctx.authProblem ??
      'Authentication required: send "Authorization: Bearer sk_test_..." with an API key (createMerchant returns your first test key).',
    { extensions: { code: 'UNAUTHENTICATED', http: { status: 401 } } },
  );
}

/** The caller's scope, or a GraphQL error with code UNAUTHENTICATED (HTTP 401). */
export function requireScope(ctx: GraphQLContext): Scope {
  if (!ctx.principal) throw unauthenticated(ctx);
  return scopeOf(ctx.deps, ctx.principal);
}
