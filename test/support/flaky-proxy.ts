// An HTTP proxy in front of a test server that misbehaves on purpose, one request at a time: it can
// forward a request and then cut the connection before the answer reaches the client (the effect
// happened, the client never hears of it), or answer 429/503 itself without forwarding.
import { createServer, type IncomingMessage } from 'node:http';

export type ProxyAction =
  | { kind: 'forward' }
  | { kind: 'drop-response' }
  | { kind: 'answer'; status: number; headers?: Record<string, string> };

export interface FlakyProxy {
  url: string;
  /** Request bodies in arrival order (forwarded or not). */
  bodies: string[];
  close(): Promise<void>;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** `plan(n)` decides what happens to request n (0-based). */
export async function startFlakyProxy(target: string, plan: (n: number) => ProxyAction): Promise<FlakyProxy> {
  const bodies: string[] = [];
  const server = createServer(async (req, res) => {
    const body = await readBody(req);
    const action = plan(bodies.length);
    bodies.push(body);
    if (action.kind === 'answer') {
      res.writeHead(action.status, { 'content-type': 'application/json', ...action.headers }).end(JSON.stringify({ errors: [{ message: 'try again' }] }));
      return;
    }
    const headers: Record<string, string> = {};
    for (const name of ['content-type', 'authorization', 'accept']) {
      const value = req.headers[name];
      if (typeof value === 'string') headers[name] = value;
    }
    const upstream = await fetch(`${target}${req.url}`, { method: req.method, headers, body: req.method === 'GET' ? undefined : body });
    const text = await upstream.text(); // the server has finished the request: its effect is committed
    if (action.kind === 'drop-response') {
      req.socket.destroy();
      return;
    }
    res.writeHead(upstream.status, { 'content-type': upstream.headers.get('content-type') ?? 'application/json' }).end(text);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    bodies,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
