// Real subscription clients for the tests: graphql-ws over a WebSocket (the `ws` package), and SSE
// over fetch (POST /graphql with Accept: text/event-stream, parsed as the event stream yoga sends).
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { print, type ExecutionResult } from 'graphql';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';

/** Values arriving over time, with waits that fail loudly instead of hanging. */
export class Collector<T> {
  readonly items: T[] = [];
  done = false;
  error: unknown = null;
  private waiters: (() => void)[] = [];

  push(item: T): void {
    this.items.push(item);
    this.wake();
  }

  end(error: unknown = null): void {
    if (this.done) return;
    this.done = true;
    this.error = error;
    this.wake();
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  private async until(check: () => boolean, what: string, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!check()) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; got ${JSON.stringify(this.items)}${this.done ? ' (ended)' : ''}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Resolves with the first `count` items once they are there. */
  async waitFor(count: number, timeoutMs = 10_000): Promise<T[]> {
    await this.until(() => this.items.length >= count, `${count} item(s)`, timeoutMs);
    return this.items.slice(0, count);
  }

  async waitForEnd(timeoutMs = 10_000): Promise<void> {
    await this.until(() => this.done, 'the end', timeoutMs);
  }
}

export function wsUrlOf(httpUrl: string): string {
  return `${httpUrl.replace(/^http/, 'ws')}/graphql`;
}

export interface WsConnection {
  client: Client;
  /** Close events of the socket (code, reason). */
  closes: Collector<{ code: number; reason: string }>;
  subscribe<R, V>(document: TypedDocumentNode<R, V>, variables: V): Collector<ExecutionResult<R>>;
  dispose(): Promise<void>;
}

/** A graphql-ws client; `key` goes to connectionParams.authorization as "Bearer <key>". No retries. */
export function wsConnect(
  httpUrl: string,
  key: string | null,
  options: { connectionParams?: Record<string, unknown>; /** false: connect at once and stay connected without subscriptions. */ lazy?: boolean } = {},
): WsConnection {
  const closes = new Collector<{ code: number; reason: string }>();
  const client = createClient({
    url: wsUrlOf(httpUrl),
    webSocketImpl: WebSocket,
    connectionParams: options.connectionParams ?? (key ? { authorization: `Bearer ${key}` } : {}),
    retryAttempts: 0,
    shouldRetry: () => false,
    lazy: options.lazy ?? true,
    on: {
      closed: (event) => {
        const e = event as { code?: number; reason?: string | Buffer };
        closes.push({ code: e.code ?? 0, reason: String(e.reason ?? '') });
      },
    },
  });
  return {
    client,
    closes,
    subscribe(document, variables) {
      const results = new Collector<ExecutionResult<never>>();
      client.subscribe(
        { query: print(document), variables: variables as Record<string, unknown> },
        {
          next: (value) => results.push(value as ExecutionResult<never>),
          error: (error) => results.end(error ?? new Error('subscription error')),
          complete: () => results.end(),
        },
      );
      return results as never;
    },
    dispose: async () => {
      await client.dispose();
    },
  };
}

export interface SseEvent {
  event: string;
  data: string;
}

export interface SseSubscription<R> {
  status: number;
  contentType: string | null;
  /** The `next` events' payloads. */
  results: Collector<ExecutionResult<R>>;
  /** Every event as sent (next, complete...). */
  events: SseEvent[];
  close(): void;
}

/** Subscribes over SSE: POST /graphql with Accept: text/event-stream; resolves once the response headers arrived. */
export async function sseSubscribe<R, V>(httpUrl: string, document: TypedDocumentNode<R, V>, variables: V, key: string | null): Promise<SseSubscription<R>> {
  const controller = new AbortController();
  const response = await fetch(`${httpUrl}/graphql`, {
    method: 'POST',
    signal: controller.signal,
    headers: {
      accept: 'text/event-stream',
      'content-type': 'application/json',
      ...(key ? { authorization: `Bearer ${key}` } : {}),
    },
    body: JSON.stringify({ query: print(document), variables }),
  });
  const results = new Collector<ExecutionResult<R>>();
  const events: SseEvent[] = [];
  void (async () => {
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(chunk, { stream: true });
        let boundary: number;
        while ((boundary = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, boundary);
          buffer = buffer.slice(boundary + 2);
          let event = 'message';
          const data: string[] = [];
          for (const line of block.split('\n')) {
            if (line.startsWith(':')) continue; // comment (keep-alive)
            const colon = line.indexOf(':');
            const field = colon < 0 ? line : line.slice(0, colon);
            const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
            if (field === 'event') event = value;
            else if (field === 'data') data.push(value);
          }
          if (data.length === 0 && event === 'message') continue;
          const e = { event, data: data.join('\n') };
          events.push(e);
          if (e.event === 'next') results.push(JSON.parse(e.data) as ExecutionResult<R>);
          if (e.event === 'complete') results.end();
        }
      }
      results.end();
    } catch (error) {
      results.end(controller.signal.aborted ? null : error);
    }
  })();
  return {
    status: response.status,
    contentType: response.headers.get('content-type'),
    results,
    events,
    close: () => controller.abort(),
  };
}

/** Waits until `check` holds (polling), e.g. until a subscription is live on the server. */
export async function eventually(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
