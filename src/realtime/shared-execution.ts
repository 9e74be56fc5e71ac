// One execution per event for subscribers that ask the same thing. A dashboard fleet typically runs the
// same subscription document with the same variables; for one merchant and mode, its result for an event
// is the same for every subscriber (nothing in it depends on which API key asked). So the first
// subscriber of a group executes the selection for the event and the others reuse that result: the
// per-subscriber cost of an event is sending it, not executing it.
//
// Sharing needs the event payload to be one object for all subscribers of the instance: the event bus
// decodes each event once and hands the same row to every local listener, and subscription payloads
// derived from it are memoised per row (src/graphql/types/subscription.ts).
import { createSourceEventStream, execute, print, type DocumentNode, type ExecutionArgs, type ExecutionResult } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { GraphQLContext } from '../graphql/context.js';

type Result = ExecutionResult | Promise<ExecutionResult>;

const printed = new WeakMap<DocumentNode, string>();
const results = new WeakMap<object, Map<string, Result>>();

function groupKey(args: ExecutionArgs): string | null {
  const principal = (args.contextValue as GraphQLContext | undefined)?.principal;
  if (!principal) return null;
  let text = printed.get(args.document);
  if (text === undefined) {
    text = print(args.document);
    printed.set(args.document, text);
  }
  return JSON.stringify([principal.merchantId, principal.livemode, text, args.operationName ?? null, args.variableValues ?? null]);
}

function shared(payload: unknown, key: string, run: () => Result): Result {
  if (payload === null || typeof payload !== 'object') return run();
  let byKey = results.get(payload);
  if (!byKey) {
    byKey = new Map();
    results.set(payload, byKey);
  }
  let result = byKey.get(key);
  if (result === undefined) {
    result = run();
    byKey.set(key, result);
  }
  return result;
}

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return typeof value === 'object' && value !== null && Symbol.asyncIterator in value;
}

/** Maps a source stream through `fn`, passing return() through to the source. */
function mapStream<T, U>(source: AsyncIterable<T>, fn: (value: T) => U | Promise<U>): AsyncIterableIterator<U> {
  const iterator = source[Symbol.asyncIterator]();
  return {
    async next() {
      const step = await iterator.next();
      return step.done ? { value: undefined, done: true } : { value: await fn(step.value), done: false };
    },
    async return() {
      await iterator.return?.();
      return { value: undefined, done: true };
    },
    async throw(error?: unknown) {
      await iterator.return?.();
      throw error;
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}

/** graphql-js subscribe, with each event's execution shared by the subscribers of one group. */
async function sharedSubscribe(args: ExecutionArgs): Promise<AsyncIterableIterator<ExecutionResult> | ExecutionResult> {
  const source = await createSourceEventStream(args);
  if (!isAsyncIterable(source)) return source as ExecutionResult;
  const key = groupKey(args);
  return mapStream(source, (payload) => {
    const run = () => execute({ ...args, rootValue: payload });
    return key === null ? run() : shared(payload, key, run);
  });
}

/** Yoga/envelop plugin: every subscription (SSE and WebSocket) executes through sharedSubscribe. */
export function useSharedSubscriptionExecution(): Plugin {
  return {
    onSubscribe({ setSubscribeFn }) {
      setSubscribeFn(sharedSubscribe as never);
    },
  };
}
