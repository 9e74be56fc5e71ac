// Shared machinery of the load benchmarks (bench/create-order.ts, bench/money-flow.ts): the server in a
// child process (bench/server.ts) so that its RSS and CPU are its own, CPU accounting from /proc, and
// closed-loop load measured in interleaved slices. Nothing here is used by the app.
import { fork, type ChildProcess } from 'node:child_process';
import { readFile, readdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { percentile, rssOf } from './lib.js';

// ---------------------------------------------------------------------------------------------
// The server child process

export interface ServerProcess {
  child: ChildProcess;
  pid: number;
  url: string;
  /** Asks the server to profile its CPU until the returned function is called (writes `file`). */
  profile(file: string): Promise<() => Promise<void>>;
  stop(): Promise<void>;
}

function awaitMessage(child: ChildProcess, type: string): Promise<void> {
  return new Promise((resolve) => {
    const on = (m: { type?: string }) => {
      if (m?.type === type) {
        child.off('message', on);
        resolve();
      }
    };
    child.on('message', on);
  });
}

/**
 * The server's memory settings, the same as `npm start` (package.json; bench/MEMORY.md): a capped old
 * generation (V8 collects sooner instead of growing the heap to ~250 MiB of mostly garbage) and two
 * glibc malloc arenas instead of many. The young generation keeps Node's default (16 MiB semi-spaces):
 * 8 MiB saved ~11 MiB of RSS but cost ~60 % more GC time. Flags in
 * BENCH_SERVER_NODE_ARGS come after these, so they override them (the last value of a V8 flag wins);
 * MALLOC_ARENA_MAX from the environment wins too.
 */
export const SERVER_NODE_ARGS = ['--max-old-space-size=128'];
export const SERVER_MALLOC_ARENA_MAX = '2';

export async function startServerProcess(databaseUrl: string): Promise<ServerProcess> {
  const entry = fileURLToPath(new URL('./server.ts', import.meta.url));
  const extra = (process.env.BENCH_SERVER_NODE_ARGS ?? '').split(/\s+/).filter(Boolean);
  const child = fork(entry, [], {
    execArgv: [...SERVER_NODE_ARGS, ...extra, '--import', 'tsx'],
    env: { MALLOC_ARENA_MAX: SERVER_MALLOC_ARENA_MAX, ...process.env, BENCH_SERVER_DATABASE_URL: databaseUrl, NODE_ENV: 'production' },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const ready = await new Promise<{ url: string; pid: number }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the server did not start within 60 s')), 60_000);
    child.once('message', (m: { type?: string; url: string; pid: number }) => {
      clearTimeout(timer);
      if (m?.type === 'ready') resolve(m);
      else reject(new Error(`unexpected message from the server: ${JSON.stringify(m)}`));
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`the server exited before it was ready (code ${code}, signal ${signal})`));
    });
  });
  return {
    child,
    pid: ready.pid,
    url: ready.url,
    profile: async (file) => {
      const started = awaitMessage(child, 'profile-started');
      child.send({ type: 'profile-start' });
      await started;
      return async () => {
        const written = awaitMessage(child, 'profile-written');
        child.send({ type: 'profile-stop', file });
        await written;
      };
    },
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timedOut = await Promise.race([
        exited.then(() => false),
        new Promise<boolean>((r) => setTimeout(() => r(true), 15_000).unref()),
      ]);
      if (timedOut) {
        child.kill('SIGKILL');
        await exited;
      }
    },
  };
}

// ---------------------------------------------------------------------------------------------
// CPU accounting (Linux /proc): server process, this process, whole machine.

const CLK_TCK = 100;

export async function processCpuSeconds(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state); utime is field 14, stime field 15.
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
}

/** CPU seconds of every process named `postgres` (both clusters, all backends), by pid. */
export async function postgresCpu(): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = await readFile(`/proc/${entry}/stat`, 'utf8');
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      if (comm !== 'postgres') continue;
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.set(entry, (Number(fields[11]) + Number(fields[12])) / CLK_TCK);
    } catch {
      // the process exited meanwhile
    }
  }
  return out;
}

/** CPU used between two snapshots by the processes alive at the end (new ones count in full). */
export function postgresCpuDelta(before: Map<string, number>, after: Map<string, number>): number {
  let total = 0;
  for (const [pid, secs] of after) total += secs - (before.get(pid) ?? 0);
  return total;
}

export async function machineCpu(): Promise<{ busy: number; total: number }> {
  const line = (await readFile('/proc/stat', 'utf8')).split('\n')[0]!;
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal: busy = all but idle, iowait and steal.
  const idle = (v[3] ?? 0) + (v[4] ?? 0) + (v[7] ?? 0);
  const total = v.slice(0, 8).reduce((a, b) => a + b, 0);
  return { busy: (total - idle) / CLK_TCK, total: total / CLK_TCK };
}

// ---------------------------------------------------------------------------------------------
// Load generation

export interface LevelResult {
  series: string;
  concurrency: number;
  count: number;
  errors: number;
  seconds: number;
  rate: number;
  p50: number;
  p99: number;
  max: number;
  serverRssEnd: number | null;
  serverRssPeak: number | null;
  serverCores: number | null;
  benchCores: number;
  postgresCores: number;
  /** Busy cores not explained by the server, this process and PostgreSQL: other load on the machine. */
  otherCores: number;
  machineBusy: number;
  /** CPU seconds the server used during the measured slices (0 when the series does not use it). */
  serverCpuSeconds: number;
  /** The first failure of the series, if any (see `errors`). */
  firstError: unknown;
}

/** More failures than this in one run of the workers stop them: the series is broken, go on with the next. */
const MAX_ERRORS = 100;

export async function runWorkers(concurrency: number, ms: number, op: (worker: number) => Promise<void>, latencies: number[] | null) {
  let errors = 0;
  let firstError: unknown = null;
  const deadline = performance.now() + ms;
  await Promise.all(
    Array.from({ length: concurrency }, async (_, w) => {
      while (performance.now() < deadline && errors <= MAX_ERRORS) {
        const t0 = performance.now();
        try {
          await op(w);
          latencies?.push(performance.now() - t0);
        } catch (err) {
          errors += 1;
          firstError ??= err;
        }
      }
    }),
  );
  return { errors, firstError };
}

export interface Series {
  name: string;
  op: (worker: number) => Promise<void>;
  /** The server pid when the series goes through the server (RSS and CPU are sampled). */
  serverPid: number | null;
  /**
   * Called, untimed, before the warm-up (`ms` = its length) and before each measured slice: e.g. to
   * create the orders the slice will consume. Its time and CPU are outside every measurement.
   */
  prepare?: (phase: 'warmup' | 'slice', ms: number) => Promise<void>;
}

export interface LevelTiming {
  warmupMs: number;
  /** Measured time per series, split into `rounds` interleaved slices. */
  durationMs: number;
  rounds: number;
}

interface Accumulated {
  latencies: number[];
  errors: number;
  firstError: unknown;
  seconds: number;
  serverCpu: number;
  benchCpu: number;
  postgresCpu: number;
  busy: number;
  total: number;
  rssPeak: number;
  rssEnd: number;
}

/** One measured slice of a series; adds what it saw to `acc`. */
export async function measureSlice(series: Series, concurrency: number, ms: number, acc: Accumulated): Promise<void> {
  const pid = series.serverPid;
  let sampling = true;
  const sampler = (async () => {
    while (sampling && pid) {
      acc.rssPeak = Math.max(acc.rssPeak, await rssOf(pid));
      await new Promise((r) => setTimeout(r, 200));
    }
  })();
  const cpu0 = pid ? await processCpuSeconds(pid) : 0;
  const self0 = process.cpuUsage();
  const pg0 = await postgresCpu();
  const m0 = await machineCpu();
  const t0 = performance.now();
  const { errors, firstError } = await runWorkers(concurrency, ms, series.op, acc.latencies);
  acc.seconds += (performance.now() - t0) / 1000;
  const m1 = await machineCpu();
  const self1 = process.cpuUsage(self0);
  const cpu1 = pid ? await processCpuSeconds(pid) : 0;
  const pg1 = await postgresCpu();
  sampling = false;
  await sampler;
  if (pid) acc.rssEnd = await rssOf(pid);
  acc.errors += errors;
  acc.firstError ??= firstError;
  acc.serverCpu += cpu1 - cpu0;
  acc.benchCpu += (self1.user + self1.system) / 1e6;
  acc.postgresCpu += postgresCpuDelta(pg0, pg1);
  acc.busy += m1.busy - m0.busy;
  acc.total += m1.total - m0.total;
}

/**
 * One concurrency level of every series: a warm-up of each, then `rounds` rounds in which each series
 * runs duration/rounds in turn. Interleaving spreads a change of background load over all series,
 * so their ratios hold even on a machine that is not quiet.
 */
export async function runLevel(
  concurrency: number,
  series: Series[],
  timing: LevelTiming,
  log: (m: string) => void,
  profile?: () => Promise<() => Promise<void>>,
): Promise<LevelResult[]> {
  const { warmupMs, durationMs, rounds } = timing;
  for (const s of series) {
    await s.prepare?.('warmup', warmupMs);
    const warm = await runWorkers(concurrency, warmupMs, s.op, null);
    if (warm.errors > 0) log(`${s.name} c=${concurrency}: ${warm.errors} errors in the warm-up, first: ${errorText(warm.firstError)}`);
  }
  const accs: Accumulated[] = series.map(() => ({
    latencies: [],
    errors: 0,
    firstError: null,
    seconds: 0,
    serverCpu: 0,
    benchCpu: 0,
    postgresCpu: 0,
    busy: 0,
    total: 0,
    rssPeak: 0,
    rssEnd: 0,
  }));
  const stopProfile = profile ? await profile() : null;
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < series.length; i++) {
      await series[i]!.prepare?.('slice', durationMs / rounds);
      await measureSlice(series[i]!, concurrency, durationMs / rounds, accs[i]!);
    }
  }
  await stopProfile?.();
  return series.map((s, i) => {
    const a = accs[i]!;
    if (a.firstError) log(`${s.name} c=${concurrency}: ${a.errors} errors, first: ${errorText(a.firstError)}`);
    a.latencies.sort((x, y) => x - y);
    const serverCores = s.serverPid ? a.serverCpu / a.seconds : 0;
    const benchCores = a.benchCpu / a.seconds;
    const postgresCores = a.postgresCpu / a.seconds;
    return {
      series: s.name,
      concurrency,
      count: a.latencies.length,
      errors: a.errors,
      seconds: a.seconds,
      rate: a.latencies.length / a.seconds,
      p50: percentile(a.latencies, 50),
      p99: percentile(a.latencies, 99),
      max: a.latencies.at(-1) ?? NaN,
      serverRssEnd: s.serverPid ? a.rssEnd : null,
      serverRssPeak: s.serverPid ? Math.max(a.rssPeak, a.rssEnd) : null,
      serverCores: s.serverPid ? serverCores : null,
      benchCores,
      postgresCores,
      otherCores: Math.max(0, a.busy / a.seconds - serverCores - benchCores - postgresCores),
      machineBusy: a.busy / a.total,
      serverCpuSeconds: s.serverPid ? a.serverCpu : 0,
      firstError: a.firstError,
    };
  });
}


export function errorText(err: unknown): string {
  return String((err as Error)?.message ?? err).slice(0, 500);
}

/** Samples a process's VmRSS every `everyMs` until stopped; returns the peak seen. */
export function rssSampler(pid: number, everyMs = 200): { stop(): Promise<number> } {
  let peak = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      peak = Math.max(peak, await rssOf(pid).catch(() => 0));
      await new Promise((r) => setTimeout(r, everyMs));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return Math.max(peak, await rssOf(pid).catch(() => 0));
    },
  };
}
