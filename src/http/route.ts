// What a plain HTTP route is (src/http/routes.ts lists them) and reading a request body with a limit.
// A leaf: the routes import it, and it imports none of them.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Deps } from '../domain/context.js';

/** Answers the requests it owns and returns true; false lets the next route (finally GraphQL) try. */
export type Route = (req: IncomingMessage, res: ServerResponse, deps: Deps) => Promise<boolean>;

const MAX_BODY_BYTES = 1024 * 1024;

/** The request body, or null when it is larger than `limit` bytes. */
export async function readBody(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<Buffer | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > limit) return null;
    chunks.push(buffer);
  }
  return Buffer.concat(chunks);
}
