// The server under test, alone in its process so that its RSS (/proc/<pid>/status VmRSS) and CPU
// profile are its own. Started by bench/create-order.ts as `node --import tsx bench/server.ts` with
// BENCH_SERVER_DATABASE_URL; reports { type: 'ready', url } over IPC (or prints it when run by hand).
// Stops cleanly on SIGTERM/SIGINT or when the parent goes away, so --cpu-prof can write its profile.
import { writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector';
import { createPrisma } from '../src/db/prisma.js';
import { startServer } from '../src/server.js';
import { systemClock } from '../src/kernel/context.js';
import { DEFAULT_LIMITS, type Limits } from '../src/config.js';
import { Redis } from 'ioredis';

const url = process.env.BENCH_SERVER_DATABASE_URL ?? process.env.DATABASE_URL;
if (!url) {
  console.error('bench/server.ts: set BENCH_SERVER_DATABASE_URL (or DATABASE_URL)');
  process.exit(78);
}

// BENCH_LIMITS (bench/limits.ts): "off" (no query limits, strict arguments or rate limits), "counting"
// (every limit on, rate limits counted but too large to refuse), "small" (reads 1000 per minute per
// key, to see a burst refused), "no-rate-limits" (document limits and strict arguments only),
// "counting-redis" (like "counting", counters in Redis at BENCH_REDIS_URL); unset: the production defaults.
const profile = process.env.BENCH_LIMITS ?? 'default';
const huge = { points: 1_000_000_000, seconds: 60 };
const limits: Limits =
  profile === 'counting' || profile === 'counting-redis'
    ? { ...DEFAULT_LIMITS, reads: huge, writes: huge, money: huge, signups: huge, anonymous: huge, authFailures: huge }
    : profile === 'small'
      ? { ...DEFAULT_LIMITS, reads: { points: 1000, seconds: 60 }, signups: huge, anonymous: huge }
      : profile === 'no-rate-limits'
        ? { ...DEFAULT_LIMITS, rateLimits: false }
        : DEFAULT_LIMITS;
const redis = profile === 'counting-redis' ? new Redis(process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379') : null;
const db = createPrisma(url);
const app = await startServer({ db, clock: systemClock }, { development: false, port: 0 }, '127.0.0.1', {
  limits,
  limitsEnabled: profile !== 'off',
  rateLimitPrefix: `bench-${process.pid}`,
  ...(redis ? { rateLimitStore: { kind: 'redis' as const, client: redis } } : {}),
});

let stopping = false;
async function stop(): Promise<void> {
  if (stopping) return;
  stopping = true;
  await app.close().catch((e: unknown) => console.error(e));
  redis?.disconnect();
  await db.$disconnect().catch((e: unknown) => console.error(e));
  process.exit(0);
}
process.on('SIGTERM', () => void stop());
process.on('SIGINT', () => void stop());
process.on('disconnect', () => void stop());

// CPU profiling of chosen windows only (bench/create-order.ts with BENCH_PROFILE_DIR): the parent
// sends profile-start / profile-stop around a measurement, we write the .cpuprofile it names.
let session: Session | null = null;
process.on('message', (message: { type?: string; file?: string }) => {
  void (async () => {
    if (message?.type === 'profile-start') {
      session ??= new Session();
      session.connect();
      await post(session, 'Profiler.enable');
      await post(session, 'Profiler.setSamplingInterval', { interval: 500 });
      await post(session, 'Profiler.start');
      process.send?.({ type: 'profile-started' });
    } else if (message?.type === 'profile-stop' && session && message.file) {
      const { profile } = (await post(session, 'Profiler.stop')) as { profile: unknown };
      session.disconnect();
      await writeFile(message.file, JSON.stringify(profile));
      process.send?.({ type: 'profile-written', file: message.file });
    }
  })().catch((e: unknown) => console.error('bench server profiling:', e));
});

function post(s: Session, method: string, params?: object): Promise<unknown> {
  return new Promise((resolve, reject) => s.post(method, params ?? {}, (err, result) => (err ? reject(err) : resolve(result))));
}

if (process.send) process.send({ type: 'ready', url: app.url, pid: process.pid });
else console.log(`bench server on ${app.url} (pid ${process.pid})`);
