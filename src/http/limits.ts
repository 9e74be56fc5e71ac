// Request bodies are read once, at the edge, before anything parses them or looks at the API key: at
// most `maxBodyBytes` (a larger body is refused as soon as it passes the limit, without reading the
// rest), and JSON, form and text bodies must be valid UTF-8 (invalid bytes are a 400, never silently
// replaced). Routes and GraphQL then read the buffered body with bodyOf().
import type { IncomingMessage } from 'node:http';

export type BodyProblem = { status: 413 | 400; message: string };

const bodies = new WeakMap<IncomingMessage, Buffer>();
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Reads the body of `req` up to `limit` bytes; a problem when it is larger or not valid UTF-8 text. */
export async function bufferBody(req: IncomingMessage, limit: number): Promise<BodyProblem | null> {
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (Number.isFinite(declared) && declared > limit) return tooLarge(limit);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > limit) {
      // Stop reading: the rest of the upload is discarded with the connection.
      req.pause();
      return tooLarge(limit);
    }
    chunks.push(buffer);
  }
  const body = Buffer.concat(chunks);
  if (isText(req.headers['content-type']) && body.length > 0) {
    try {
      utf8.decode(body);
    } catch {
      return { status: 400, message: 'The request body is not valid UTF-8: send text encoded as UTF-8.' };
    }
  }
  bodies.set(req, body);
  return null;
}

function tooLarge(limit: number): BodyProblem {
  return { status: 413, message: `The request body is larger than ${limit} bytes (MAX_BODY_BYTES).` };
}

function isText(contentType: string | undefined): boolean {
  // No content type is treated as JSON (GraphQL clients that forget the header).
  if (!contentType) return true;
  return /json|text\/|x-www-form-urlencoded|graphql/i.test(contentType);
}

/** The body buffered by bufferBody (empty when none was read). */
export function bodyOf(req: IncomingMessage): Buffer {
  return bodies.get(req) ?? Buffer.alloc(0);
}

/** Whether requests with this method carry a body that the edge buffers. */
export function hasBody(method: string | undefined): boolean {
  return method !== 'GET' && method !== 'HEAD' && method !== 'OPTIONS';
}

/**
 * GET /graphql?query=...&variables=...&extensions=...: `variables` and `extensions` must be JSON
 * objects. Returns the problem, or null.
 */
export function malformedGraphQLParams(url: URL): string | null {
  for (const name of ['variables', 'extensions']) {
    const raw = url.searchParams.get(name);
    if (raw === null || raw === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch {
      return `The "${name}" parameter is not valid JSON: send a JSON object, URL-encoded.`;
    }
    if (value !== null && (typeof value !== 'object' || Array.isArray(value))) return `The "${name}" parameter must be a JSON object.`;
  }
  if (url.searchParams.getAll('query').length > 1) return 'Send one "query" parameter.';
  return null;
}
