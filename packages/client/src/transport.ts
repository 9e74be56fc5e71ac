// One GraphQL request over HTTP, with retries that never repeat an effect: a mutation is retried only
// when it carries an idempotency key (the same key on every attempt, so the server returns the stored
// result of an attempt whose answer was lost), or when the server refused it before running it (429).
import { FlintGraphQLError, FlintNetworkError, type GraphQLErrorEntry } from './errors.js';

export interface TransportOptions {
  apiKey?: string;
  /** The server, e.g. http://localhost:4000 (the /graphql path is added). */
  baseUrl: string;
  /** Retries after the first attempt (default 3). */
  maxRetries: number;
  /** Delay before retry n (1-based) when the server gives no Retry-After; default 250 ms doubling, at most 5 s. */
  retryDelay: (attempt: number) => number;
  /** Longest Retry-After the client waits for (default 30 s); longer ones fail at once. */
  maxRetryAfterMs: number;
  fetch: typeof fetch;
  headers?: Record<string, string>;
}

export interface GraphQLResponse<T> {
  data?: T | null;
  errors?: GraphQLErrorEntry[];
}

const RETRYABLE_STATUS = new Set([429, 500, 502, 503, 504]);

export function defaultRetryDelay(attempt: number): number {
  return Math.min(5_000, 250 * 2 ** (attempt - 1));
}

/** Retry-After as seconds or an HTTP date, in milliseconds; null when absent or unreadable. */
export function retryAfterMs(header: string | null, now = Date.now()): number | null {
  if (header === null) return null;
  if (/^\d+$/.test(header.trim())) return Number(header.trim()) * 1000;
  const at = Date.parse(header);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export function endpoint(baseUrl: string): string {
  const base = baseUrl.replace(/\/+$/, '');
  return base.endsWith('/graphql') ? base : `${base}/graphql`;
}

export function requestHeaders(options: TransportOptions, accept: string): Record<string, string> {
  return {
    'content-type': 'application/json',
    accept,
    ...(options.apiKey ? { authorization: `Bearer ${options.apiKey}` } : {}),
    ...options.headers,
  };
}

/**
 * Sends one operation. `retrySafe` says whether the operation may run again after a lost answer
 * (queries, and mutations with an idempotency key); a request refused with 429 is always retried.
 */
export async function send<T>(options: TransportOptions, query: string, variables: unknown, retrySafe: boolean): Promise<{ data: T; status: number }> {
  const body = JSON.stringify({ query, variables });
  for (let attempt = 0; ; attempt++) {
    const canRetry = attempt < options.maxRetries;
    let response: Response;
    try {
      response = await options.fetch(endpoint(options.baseUrl), {
        method: 'POST',
        headers: requestHeaders(options, 'application/graphql-response+json, application/json'),
        body,
      });
    } catch (error) {
      // The request may or may not have reached the server: only an idempotent retry is safe.
      if (canRetry && retrySafe) {
        await sleep(options.retryDelay(attempt + 1));
        continue;
      }
      throw new FlintNetworkError(`Flint request failed: ${(error as Error).message}`, null, error);
    }

    if (RETRYABLE_STATUS.has(response.status)) {
      const wait = retryAfterMs(response.headers.get('retry-after'));
      const allowed = response.status === 429 || retrySafe;
      await response.body?.cancel().catch(() => {});
      if (canRetry && allowed && (wait === null || wait <= options.maxRetryAfterMs)) {
        await sleep(wait ?? options.retryDelay(attempt + 1));
        continue;
      }
      throw new FlintNetworkError(`Flint answered HTTP ${response.status}${wait !== null ? ` (retry after ${Math.ceil(wait / 1000)} s)` : ''}`, response.status);
    }

    let result: GraphQLResponse<T>;
    let text = '';
    try {
      text = await response.text();
      result = JSON.parse(text) as GraphQLResponse<T>;
    } catch (error) {
      if (canRetry && retrySafe) {
        await sleep(options.retryDelay(attempt + 1));
        continue;
      }
      throw new FlintNetworkError(`Flint answered HTTP ${response.status} with a body that is not JSON: ${text.slice(0, 200)}`, response.status, error);
    }
    if (result.errors?.length) throw new FlintGraphQLError(result.errors, response.status);
    if (!result.data) throw new FlintGraphQLError([{ message: `HTTP ${response.status} without data` }], response.status);
    return { data: result.data, status: response.status };
  }
}
