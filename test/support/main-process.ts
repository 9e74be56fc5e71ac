// `src/main.ts` as a real child process (what `npm start` runs), for tests that kill and restart the
// server: crash recovery of payments and refunds.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface MainProcess {
  process: ChildProcess;
  /** http://127.0.0.1:<port> */
  url: string;
  /** Everything it printed so far (stdout and stderr). */
  output: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts main processes for the current test file; any still running after a test is stopped. */
export function useMainProcesses(): (databaseUrl: string, env: Record<string, string>) => Promise<MainProcess> {
  const children: ChildProcess[] = [];
  afterEach(() => {
    for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  });
  return async (databaseUrl, env) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      cwd: ROOT,
      env: { ...process.env, DATABASE_URL: databaseUrl, PORT: '0', NODE_ENV: 'test', SMTP_URL: '', STRIPE_SECRET_KEY: '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    let output = '';
    child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`server did not start:\n${output}`)), 60_000);
      child.stdout!.on('data', () => {
        const match = /GraphQL API on (http:\/\/localhost:\d+)\/graphql/.exec(output);
        if (match) {
          clearTimeout(timer);
          resolve(match[1]!.replace('localhost', '127.0.0.1'));
        }
      });
      void exited.then(() => {
        clearTimeout(timer);
        reject(new Error(`server exited before listening:\n${output}`));
      });
    });
    return { process: child, url, output: () => output, exited };
  };
}

/** A GraphQL request to a main process (`key`: an API key, or null); throws on GraphQL errors. */
export async function graphqlAt<T>(url: string, key: string | null, query: string, variables: Record<string, unknown> = {}): Promise<T> {
  const response = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as { data?: T; errors?: unknown[] };
  if (body.errors) throw new Error(JSON.stringify(body.errors));
  return body.data!;
}
