// `npm start` as a user runs it: it builds and runs the compiled JavaScript (no TypeScript loader), and
// every start and stop with the embedded PostgreSQL leaves nothing behind:
//   - Ctrl-C (SIGINT to the foreground process group) stops the server and its PostgreSQL;
//   - kill -9 of the server: its watchdog stops the PostgreSQL within seconds;
//   - a PostgreSQL orphaned anyway (its watchdog killed too) is adopted by the next start, which stops it.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { testDatabaseUrl } from '../support/db.js';
import { until } from '../support/until.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const dataRoot = mkdtempSync(path.join(os.tmpdir(), 'flint-start-test-'));
chmodSync(dataRoot, 0o755); // as root, PostgreSQL runs as the `postgres` user, which must reach its data directory
const started: ChildProcess[] = [];

interface Started {
  child: ChildProcess;
  url: string;
  output: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts `command` in its own process group (as a terminal would), waits until it serves. */
async function start(command: string, args: string[], env: Record<string, string | undefined>): Promise<Started> {
  const { DATABASE_URL: _, ...inherited } = process.env;
  const child = spawn(command, args, {
    cwd: ROOT,
    env: { ...inherited, PORT: '0', NODE_ENV: 'production', SMTP_URL: '', STRIPE_SECRET_KEY: '', REDIS_URL: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  started.push(child);
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  let gone = false;
  void exited.then(() => (gone = true));
  const url = await until('the server to listen', () => {
    if (gone) throw new Error(`exited before listening:\n${output}`);
    return /GraphQL API on (http:\/\/localhost:\d+)\/graphql/.exec(output)?.[1]?.replace('localhost', '127.0.0.1');
  }, 120_000);
  return { child, url, output: () => output, exited };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function postmasterPid(dataDir: string): number {
  return Number.parseInt(readFileSync(path.join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]!, 10);
}

/** Live processes whose parent is `pid` and whose name starts with `name`. */
function childrenNamed(pid: number, name: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc').filter((e) => /^\d+$/.test(e))) {
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const ppid = Number.parseInt(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]!, 10);
      if (ppid === pid && comm.startsWith(name)) found.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

/** Watchdogs of any server for `dataDir` (named in their environment: their title hides argv). */
function watchdogsOf(dataDir: string): number[] {
  return readdirSync('/proc')
    .filter((e) => /^\d+$/.test(e))
    .filter((e) => {
      try {
        return readFileSync(`/proc/${e}/environ`, 'utf8').split('\0').includes(`FLINT_PG_WATCHDOG=${dataDir}`);
      } catch {
        return false;
      }
    })
    .map(Number);
}

beforeAll(() => {
  const build = spawnSync('npm', ['run', '--silent', 'build:server'], { cwd: ROOT, encoding: 'utf8' });
  expect(build.status, build.stdout + build.stderr).toBe(0);
}, 180_000);

afterEach(() => {
  for (const child of started.splice(0)) if (child.exitCode === null && child.signalCode === null) process.kill(-child.pid!, 'SIGKILL');
});

afterAll(() => {
  rmSync(dataRoot, { recursive: true, force: true });
});

describe('npm start', () => {
  it('builds and runs the compiled JavaScript; Ctrl-C stops it cleanly', async () => {
    const server = await start('npm', ['start'], { DATABASE_URL: testDatabaseUrl() });
    // Node runs the compiled entry point (with its memory flags), not TypeScript through a loader.
    expect(server.output()).toMatch(/> (MALLOC_ARENA_MAX=\S+ )?node( --[\w-]+=\S+)* dist\/main\.js/);
    expect(server.output()).not.toMatch(/\btsx\b/);
    expect((await fetch(`${server.url}/health`)).status).toBe(200);
    expect((await fetch(`${server.url}/`)).status).toBe(200);
    process.kill(-server.child.pid!, 'SIGINT'); // Ctrl-C: the whole foreground process group
    await server.exited;
    expect(server.output()).toContain('SIGINT: shutting down');
  }, 180_000);
});

describe('the embedded PostgreSQL never outlives the server', () => {
  it('kill -9 of the server: the watchdog stops PostgreSQL; the next start runs its own, and Ctrl-C stops both', async () => {
    const dataDir = path.join(dataRoot, 'kill9');
    const first = await start(process.execPath, ['dist/main.js'], { FLINT_DATA_DIR: dataDir });
    const pg = postmasterPid(dataDir);
    expect(alive(pg)).toBe(true);
    expect(childrenNamed(first.child.pid!, 'flint-pg-watch')).toHaveLength(1);
    expect(watchdogsOf(dataDir)).toEqual(childrenNamed(first.child.pid!, 'flint-pg-watch'));

    process.kill(first.child.pid!, 'SIGKILL');
    await first.exited;
    await until('the orphaned PostgreSQL to stop', () => !alive(pg), 40_000);
    await until('the watchdog to exit', () => watchdogsOf(dataDir).length === 0, 10_000);
    expect(existsSync(`${dataDir}.owner`)).toBe(false);

    const second = await start(process.execPath, ['dist/main.js'], { FLINT_DATA_DIR: dataDir });
    const pg2 = postmasterPid(dataDir);
    expect(pg2).not.toBe(pg);
    process.kill(-second.child.pid!, 'SIGINT');
    expect((await second.exited).code).toBe(0);
    expect(alive(pg2)).toBe(false);
    expect(existsSync(path.join(dataDir, 'postmaster.pid'))).toBe(false);
    await until('the watchdog to exit', () => watchdogsOf(dataDir).length === 0, 10_000);
  }, 180_000);

  it('a PostgreSQL orphaned with its watchdog is adopted by the next start and stopped with it', async () => {
    const dataDir = path.join(dataRoot, 'orphan');
    const first = await start(process.execPath, ['dist/main.js'], { FLINT_DATA_DIR: dataDir });
    const pg = postmasterPid(dataDir);
    for (const watchdog of childrenNamed(first.child.pid!, 'flint-pg-watch')) process.kill(watchdog, 'SIGKILL');
    process.kill(first.child.pid!, 'SIGKILL');
    await first.exited;
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(alive(pg)).toBe(true); // what an older Flint, without a watchdog, left behind

    const second = await start(process.execPath, ['dist/main.js'], { FLINT_DATA_DIR: dataDir });
    expect(postmasterPid(dataDir)).toBe(pg); // adopted, not a second cluster
    expect((await fetch(`${second.url}/ready`)).status).toBe(200);
    process.kill(-second.child.pid!, 'SIGINT');
    expect((await second.exited).code).toBe(0);
    await until('the adopted PostgreSQL to stop', () => !alive(pg), 40_000);
    await until('the watchdog to exit', () => watchdogsOf(dataDir).length === 0, 10_000);
  }, 180_000);
});
