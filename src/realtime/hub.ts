// The live subscriptions of one server instance: opening them (limits per connection and per API key),
// feeding them from the event bus, and ending them when their key is revoked, when the client leaves,
// or when the server shuts down.
import { GraphQLError } from 'graphql';
import type { ActivityRow } from '../audit/activity.js';
import type { Principal } from '../kernel/context.js';
import type { EventBus } from './bus.js';

export interface SubscriptionLimits {
  /** Subscriptions one WebSocket connection may hold at once (an SSE request carries one). */
  perConnection: number;
  /** Subscriptions one API key may hold at once on this instance, over every transport. */
  perKey: number;
}

export const DEFAULT_SUBSCRIPTION_LIMITS: SubscriptionLimits = { perConnection: 25, perKey: 500 };

/** Events a subscriber may fall behind by before its subscription is ended (it can catch up with `activities`). */
export const MAX_BUFFERED_EVENTS = 1000;

export interface OpenOptions<T> {
  principal: Principal;
  /** The transport connection (a graphql-ws connection, or the SSE request). */
  connection: object;
  /** Maps an event of the merchant's chain to what the subscriber receives, or null to skip it. */
  select: (row: ActivityRow) => T | null;
  /** Called when the subscription ends because its API key was revoked. */
  onRevoked?: () => void;
}

/** A pull queue fed by events: the async iterator a subscription resolver returns. */
class EventStream<T> implements AsyncIterableIterator<T> {
  private readonly queue: T[] = [];
  private waiting: { resolve: (r: IteratorResult<T>) => void; reject: (e: unknown) => void } | null = null;
  private ended = false;
  private failure: unknown = null;
  private readonly cleanups: (() => void)[] = [];

  get isEnded(): boolean {
    return this.ended;
  }

  onEnd(cleanup: () => void): void {
    if (this.ended) cleanup();
    else this.cleanups.push(cleanup);
  }

  push(value: T): void {
    if (this.ended) return;
    if (this.waiting) {
      const { resolve } = this.waiting;
      this.waiting = null;
      resolve({ value, done: false });
      return;
    }
    if (this.queue.length >= MAX_BUFFERED_EVENTS) {
      this.fail(
        new GraphQLError(
          `This subscriber fell more than ${MAX_BUFFERED_EVENTS} events behind and was ended. Subscribe again, and read what you missed with the activities query.`,
          { extensions: { code: 'SUBSCRIBER_TOO_SLOW' } },
        ),
      );
      return;
    }
    this.queue.push(value);
  }

  /** Ends the stream: pending events are dropped, a waiting consumer sees the end. */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.queue.length = 0;
    for (const cleanup of this.cleanups.splice(0)) {
      try {
        cleanup();
      } catch (error) {
        console.error('[flint] subscription cleanup failed', error);
      }
    }
    if (this.waiting) {
      const w = this.waiting;
      this.waiting = null;
      if (this.failure) w.reject(this.failure);
      else w.resolve({ value: undefined, done: true });
    }
  }

  fail(error: unknown): void {
    this.failure = error;
    this.end();
  }

  next(): Promise<IteratorResult<T>> {
    if (this.queue.length > 0) return Promise.resolve({ value: this.queue.shift()!, done: false });
    if (this.ended) {
      if (this.failure) {
        const error = this.failure;
        this.failure = null;
        return Promise.reject(error);
      }
      return Promise.resolve({ value: undefined, done: true });
    }
    return new Promise((resolve, reject) => {
      this.waiting = { resolve, reject };
    });
  }

  return(): Promise<IteratorResult<T>> {
    this.failure = null;
    this.end();
    return Promise.resolve({ value: undefined, done: true });
  }

  throw(error?: unknown): Promise<IteratorResult<T>> {
    this.end();
    return Promise.reject(error);
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}

function limitError(message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'SUBSCRIPTION_LIMIT_REACHED' } });
}

export class SubscriptionHub {
  private readonly perKey = new Map<string, number>();
  private readonly perConnection = new WeakMap<object, number>();
  private readonly live = new Set<EventStream<unknown>>();
  private closing = false;

  constructor(
    readonly bus: EventBus,
    readonly limits: SubscriptionLimits = DEFAULT_SUBSCRIPTION_LIMITS,
  ) {}

  /** Live subscriptions on this instance. */
  get size(): number {
    return this.live.size;
  }

  /**
   * Opens a subscription to the principal's own chain (merchant + mode). Resolves once it is live:
   * every event published from then on reaches it. Throws a GraphQLError past a limit.
   */
  async open<T>(options: OpenOptions<T>): Promise<AsyncIterableIterator<T>> {
    const { principal, connection } = options;
    if (this.closing) {
      throw new GraphQLError('The server is shutting down; subscribe again in a moment.', { extensions: { code: 'SERVER_SHUTTING_DOWN' } });
    }
    const onConnection = this.perConnection.get(connection) ?? 0;
    if (onConnection >= this.limits.perConnection) {
      throw limitError(
        `This connection already holds ${onConnection} subscriptions, the most one connection may. Complete one, or open another connection.`,
      );
    }
    const onKey = this.perKey.get(principal.apiKeyId) ?? 0;
    if (onKey >= this.limits.perKey) {
      throw limitError(
        `API key ${principal.apiKeyPrefix}... already holds ${onKey} subscriptions, the most one key may. Complete some, or use another API key.`,
      );
    }
    this.perConnection.set(connection, onConnection + 1);
    this.perKey.set(principal.apiKeyId, onKey + 1);

    const stream = new EventStream<T>();
    stream.onEnd(() => {
      this.live.delete(stream as EventStream<unknown>);
      const c = (this.perConnection.get(connection) ?? 1) - 1;
      if (c > 0) this.perConnection.set(connection, c);
      else this.perConnection.delete(connection);
      const k = (this.perKey.get(principal.apiKeyId) ?? 1) - 1;
      if (k > 0) this.perKey.set(principal.apiKeyId, k);
      else this.perKey.delete(principal.apiKeyId);
    });
    try {
      const stopEvents = await this.bus.onActivity(principal.merchantId, principal.livemode, (row) => {
        const value = options.select(row);
        if (value !== null) stream.push(value);
      });
      stream.onEnd(stopEvents);
      const stopRevocations = await this.bus.onKeyRevoked(principal.merchantId, (apiKeyId) => {
        if (apiKeyId !== principal.apiKeyId) return;
        stream.end();
        options.onRevoked?.();
      });
      stream.onEnd(stopRevocations);
    } catch (error) {
      stream.end();
      throw error;
    }
    if (this.closing) {
      stream.end();
      throw new GraphQLError('The server is shutting down; subscribe again in a moment.', { extensions: { code: 'SERVER_SHUTTING_DOWN' } });
    }
    // Live from here on: counted, and ended by close().
    if (!stream.isEnded) this.live.add(stream as EventStream<unknown>);
    return stream;
  }

  /** Ends every subscription (server shutdown): each completes normally for its client. */
  close(): void {
    this.closing = true;
    for (const stream of [...this.live]) stream.end();
  }
}

/** What a subscription resolver needs from its transport (GraphQLContext.realtime). */
export interface RealtimeContext {
  hub: SubscriptionHub;
  /** A graphql-ws connection, or the SSE request. */
  connection: object;
  /** Closes the transport connection (WebSocket); unset for SSE, whose stream simply ends. */
  closeConnection?: (code: number, reason: string) => void;
}
