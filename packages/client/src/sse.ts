// GraphQL subscriptions over Server-Sent Events (the "distinct connections" mode of GraphQL over
// SSE that Flint serves on /graphql): one HTTP request per subscription, events "next" and "complete".
import { FlintGraphQLError, FlintNetworkError } from './errors.js';
import { endpoint, requestHeaders, type GraphQLResponse, type TransportOptions } from './transport.js';

/**
 * Yields `data` of every event until the server completes the subscription or the caller stops
 * (break out of for await, or signal). The request is open once the first `await` of the iterator
 * has started it.
 */
export async function* subscribe<T>(options: TransportOptions, query: string, variables: unknown, signal?: AbortSignal): AsyncGenerator<T, void, undefined> {
  const controller = new AbortController();
  const abort = () => controller.abort();
  signal?.addEventListener('abort', abort);
  try {
    let response: Response;
    try {
      response = await options.fetch(endpoint(options.baseUrl), {
        method: 'POST',
        headers: requestHeaders(options, 'text/event-stream'),
        body: JSON.stringify({ query, variables }),
        signal: controller.signal,
      });
    } catch (error) {
      if (controller.signal.aborted) return;
      throw new FlintNetworkError(`Flint subscription failed: ${(error as Error).message}`, null, error);
    }
    const type = response.headers.get('content-type') ?? '';
    if (!type.includes('text/event-stream')) {
      // Refused before it started (e.g. 401): the answer is a plain GraphQL response.
      const body = (await response.json().catch(() => ({}))) as GraphQLResponse<T>;
      throw new FlintGraphQLError(body.errors ?? [{ message: `HTTP ${response.status}` }], response.status);
    }
    const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = '';
    try {
      for (;;) {
        let chunk: ReadableStreamReadResult<string>;
        try {
          chunk = await reader.read();
        } catch (error) {
          if (controller.signal.aborted) return;
          throw new FlintNetworkError(`Flint subscription interrupted: ${(error as Error).message}`, null, error);
        }
        if (chunk.done) return;
        buffer += chunk.value.replace(/\r\n/g, '\n');
        let end: number;
        while ((end = buffer.indexOf('\n\n')) !== -1) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          let event = 'message';
          const data: string[] = [];
          for (const line of block.split('\n')) {
            if (line.startsWith(':')) continue; // keep-alive comment
            const colon = line.indexOf(':');
            const field = colon === -1 ? line : line.slice(0, colon);
            const value = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '');
            if (field === 'event') event = value;
            else if (field === 'data') data.push(value);
          }
          if (event === 'complete') return;
          if (data.length === 0) continue;
          const result = JSON.parse(data.join('\n')) as GraphQLResponse<T>;
          if (result.errors?.length) throw new FlintGraphQLError(result.errors, response.status);
          if (result.data) yield result.data;
        }
      }
    } finally {
      await reader.cancel().catch(() => {});
    }
  } finally {
    signal?.removeEventListener('abort', abort);
    controller.abort();
  }
}
