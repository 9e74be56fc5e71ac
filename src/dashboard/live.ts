// A dashboard subscription lives no longer than its session: it ends when the session expires, and
// after a sign-out (from any tab or instance: the session row is read again) before it delivers another
// event (checked at most once per EVENT_CHECK_MS), or within SESSION_CHECK_MS when no event comes.
// Revoking the session's API key already ends it at once (src/realtime/hub.ts).
import { isAsyncIterable, type Plugin } from 'graphql-yoga';
import type { ExecutionResult } from 'graphql';
import type { Deps } from '../kernel/context.js';
import type { GraphQLContext } from '../graphql/context.js';
import { findSession } from './sessions.js';

export const SESSION_CHECK_MS = 15_000;
export const EVENT_CHECK_MS = 1_000;

/** What the dashboard endpoint adds to the GraphQL context: the cookie secret and when the session ends. */
export interface DashboardContext extends GraphQLContext {
  dashboard?: { cookieSecret: string; expiresAt: Date };
}

function endingWith<T>(source: AsyncIterator<T>, deps: Deps, session: { cookieSecret: string; expiresAt: Date }): AsyncIterableIterator<T> {
  let stopped = false;
  let checkedAt = Date.now();
  const stop = () => {
    if (stopped) return;
    stopped = true;
    clearInterval(check);
    clearTimeout(expiry);
    void source.return?.();
  };
  const check = setInterval(() => {
    findSession(deps, session.cookieSecret).then(
      (found) => found === null && stop(),
      () => {},
    );
  }, SESSION_CHECK_MS);
  check.unref();
  const expiry = setTimeout(stop, Math.max(0, session.expiresAt.getTime() - deps.clock.now().getTime()));
  expiry.unref();
  return {
    next: async () => {
      const result = await source.next();
      if (result.done) {
        stop();
        return result;
      }
      if (Date.now() - checkedAt >= EVENT_CHECK_MS) {
        checkedAt = Date.now();
        if ((await findSession(deps, session.cookieSecret)) === null) {
          stop();
          return { done: true, value: undefined };
        }
      }
      return result;
    },
    return: async (value?: unknown) => {
      stop();
      return { done: true, value: value as T };
    },
    throw: async (error?: unknown) => {
      stop();
      throw error;
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}

export function useSessionBoundSubscriptions(deps: Deps): Plugin {
  return {
    onSubscribe({ args }) {
      const session = (args.contextValue as unknown as DashboardContext).dashboard;
      if (!session) return;
      return {
        onSubscribeResult({ result, setResult }) {
          if (isAsyncIterable(result)) {
            setResult(endingWith((result as AsyncIterable<ExecutionResult>)[Symbol.asyncIterator](), deps, session));
          }
        },
      };
    },
  };
}
