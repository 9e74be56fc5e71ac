// What a call can throw. userErrors become FlintUserError; GraphQL errors (authentication, bad
// queries, masked server errors) become FlintGraphQLError; a request that never got an answer after
// its retries is FlintNetworkError.
import type { UserErrorFieldsFragment } from './generated/graphql.js';

export type UserError = UserErrorFieldsFragment;
export type ErrorCode = UserError['code'];

export class FlintError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'FlintError';
  }
}

/**
 * An expected business failure returned as userErrors: nothing was written (except where the API says
 * so, e.g. a declined payment's FAILED PaymentIntent, which `payload` carries).
 */
export class FlintUserError extends FlintError {
  /** The first userError's stable code, e.g. REFUND_EXCEEDS_REFUNDABLE. */
  readonly code: ErrorCode;
  /** Path to the offending input field, e.g. ["input", "lineItems", "0", "quantity"]; null when none. */
  readonly field: string[] | null;
  /** Every userError of the response. */
  readonly userErrors: UserError[];
  /** The rest of the payload (e.g. the order and the failed paymentIntent of a declined payOrder). */
  readonly payload: Record<string, unknown>;

  constructor(userErrors: UserError[], payload: Record<string, unknown>) {
    const first = userErrors[0]!;
    super(`${first.code}: ${first.message}`);
    this.name = 'FlintUserError';
    this.code = first.code;
    this.field = first.field ?? null;
    this.userErrors = userErrors;
    this.payload = payload;
  }
}

export interface GraphQLErrorEntry {
  message: string;
  path?: Array<string | number>;
  extensions?: Record<string, unknown>;
}

/** The API answered with GraphQL errors, e.g. code UNAUTHENTICATED (HTTP 401) for a missing or revoked key. */
export class FlintGraphQLError extends FlintError {
  /** extensions.code of the first error, when there is one (e.g. UNAUTHENTICATED). */
  readonly code: string | null;
  readonly status: number;
  readonly errors: GraphQLErrorEntry[];

  constructor(errors: GraphQLErrorEntry[], status: number) {
    super(errors.map((e) => e.message).join('; ') || `HTTP ${status}`);
    this.name = 'FlintGraphQLError';
    const code = errors[0]?.extensions?.code;
    this.code = typeof code === 'string' ? code : null;
    this.status = status;
    this.errors = errors;
  }
}

/** No usable answer: the connection failed, or the server kept answering 5xx/429 past the retries. */
export class FlintNetworkError extends FlintError {
  readonly status: number | null;
  constructor(message: string, status: number | null, cause?: unknown) {
    super(message, { cause });
    this.name = 'FlintNetworkError';
    this.status = status;
  }
}
