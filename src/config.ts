// Configuration comes from the environment and is validated once, at start-up.
// A bad setting stops the process with a message that names the variable and what it expects.

export interface Config {
  port: number;
  /** Unset: the app starts an embedded PostgreSQL under .data/postgres. */
  databaseUrl: string | null;
  /** Where the embedded PostgreSQL keeps its data when DATABASE_URL is unset (FLINT_DATA_DIR; null: .data/postgres). */
  dataDir: string | null;
  redisUrl: string | null;
  stripeSecretKey: string | null;
  stripeWebhookSecret: string | null;
  smtpUrl: string | null;
  /** NODE_ENV=development. */
  development: boolean;
  /** Crash test only (FLINT_TEST_CRASH_AFTER_CHARGE=1 with NODE_ENV=test): the process kills itself after a charge, before recording it. */
  testCrashAfterCharge: boolean;
  /** Crash test only (FLINT_TEST_CRASH_AFTER_REFUND=1 with NODE_ENV=test): the process kills itself after a refund was sent, before recording it. */
  testCrashAfterRefund: boolean;
  /** Base URL buyers reach this server at (PUBLIC_URL; null: the address it listens on). */
  publicUrl: string | null;
  /** Connections of the PostgreSQL pool (FLINT_DB_POOL_MAX, default 10). */
  dbPoolMax: number;
  /** First outbox retry delay in ms (OUTBOX_BACKOFF_MS, default 1000). */
  outboxBackoffMs: number;
  /** Echo the embedded PostgreSQL's output (FLINT_DEBUG_PG). */
  debugPostgres: boolean;
  /** GraphiQL at GET /graphql (GRAPHIQL, default true; "false" turns it off). */
  graphiql: boolean;
  /** pino level of the JSON logs on stdout (LOG_LEVEL). */
  logLevel: LogLevel;
  /** Origins allowed to call the API from a browser (CORS_ORIGINS); empty: none. Never with credentials. */
  corsOrigins: string[];
  limits: Limits;
}

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** `points` requests per `seconds`. */
export interface RateLimit {
  points: number;
  seconds: number;
}

/** Every limit of the public edge (README, "Limits"). */
export interface Limits {
  /** Largest request body on any route, checked while reading (MAX_BODY_BYTES). */
  maxBodyBytes: number;
  /** GraphQL document limits (GRAPHQL_MAX_*). */
  maxDepth: number;
  maxAliases: number;
  maxTokens: number;
  maxDirectives: number;
  /** Cost of one operation: every field 1, list fields times their page size (GRAPHQL_MAX_COST). */
  maxCost: number;
  /** false: no rate limits at all (RATE_LIMITS=off). */
  rateLimits: boolean;
  /** Queries and subscriptions per API key (RATE_LIMIT_READS). */
  reads: RateLimit;
  /** Mutations per API key (RATE_LIMIT_WRITES). */
  writes: RateLimit;
  /** Money-moving mutations (payOrder, createRefund) per API key (RATE_LIMIT_MONEY). */
  money: RateLimit;
  /** Declined payOrder attempts per order: card testing (RATE_LIMIT_PAY_DECLINES). */
  payDeclines: RateLimit;
  /** createMerchant per client IP (RATE_LIMIT_SIGNUPS). */
  signups: RateLimit;
  /** Requests without an API key per client IP (RATE_LIMIT_ANONYMOUS). */
  anonymous: RateLimit;
  /** Wrong API keys per client IP before exponential backoff starts (RATE_LIMIT_AUTH_FAILURES). */
  authFailures: RateLimit;
}

export const DEFAULT_LIMITS: Limits = {
  maxBodyBytes: 1024 * 1024,
  maxDepth: 12,
  maxAliases: 30,
  maxTokens: 4000,
  maxDirectives: 20,
  maxCost: 20000,
  rateLimits: true,
  reads: { points: 6000, seconds: 60 },
  writes: { points: 3000, seconds: 60 },
  money: { points: 600, seconds: 60 },
  payDeclines: { points: 10, seconds: 3600 },
  signups: { points: 60, seconds: 600 },
  anonymous: { points: 600, seconds: 60 },
  authFailures: { points: 20, seconds: 900 },
};

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

function optional(env: NodeJS.ProcessEnv, name: string): string | null {
  const value = env[name]?.trim();
  return value ? value : null;
}

function checkUrl(problems: string[], name: string, value: string | null, protocols: string[]): void {
  if (value === null) return;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    problems.push(`${name} is not a URL (expected ${protocols.map((p) => `${p}//...`).join(' or ')})`);
    return;
  }
  if (!protocols.includes(url.protocol)) {
    problems.push(`${name} must start with ${protocols.join(' or ')} (got ${url.protocol})`);
  }
}

function positiveInt(problems: string[], env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = optional(env, name);
  if (raw === null) return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < 1 || !Number.isSafeInteger(Number(raw))) {
    problems.push(`${name} must be a positive integer (got "${raw}")`);
    return fallback;
  }
  return Number(raw);
}

function rateLimit(problems: string[], env: NodeJS.ProcessEnv, name: string, fallback: RateLimit): RateLimit {
  const raw = optional(env, name);
  if (raw === null) return fallback;
  const match = /^(\d+)\/(\d+)$/.exec(raw);
  if (!match || Number(match[1]) < 1 || Number(match[2]) < 1) {
    problems.push(`${name} must be "<requests>/<seconds>", e.g. "600/60" (got "${raw}")`);
    return fallback;
  }
  return { points: Number(match[1]), seconds: Number(match[2]) };
}

function loadLimits(problems: string[], env: NodeJS.ProcessEnv): Limits {
  const d = DEFAULT_LIMITS;
  const switchValue = optional(env, 'RATE_LIMITS');
  if (switchValue !== null && switchValue !== 'on' && switchValue !== 'off') problems.push(`RATE_LIMITS must be "on" or "off" (got "${switchValue}")`);
  return {
    maxBodyBytes: positiveInt(problems, env, 'MAX_BODY_BYTES', d.maxBodyBytes),
    maxDepth: positiveInt(problems, env, 'GRAPHQL_MAX_DEPTH', d.maxDepth),
    maxAliases: positiveInt(problems, env, 'GRAPHQL_MAX_ALIASES', d.maxAliases),
    maxTokens: positiveInt(problems, env, 'GRAPHQL_MAX_TOKENS', d.maxTokens),
    maxDirectives: positiveInt(problems, env, 'GRAPHQL_MAX_DIRECTIVES', d.maxDirectives),
    maxCost: positiveInt(problems, env, 'GRAPHQL_MAX_COST', d.maxCost),
    rateLimits: switchValue !== 'off',
    reads: rateLimit(problems, env, 'RATE_LIMIT_READS', d.reads),
    writes: rateLimit(problems, env, 'RATE_LIMIT_WRITES', d.writes),
    money: rateLimit(problems, env, 'RATE_LIMIT_MONEY', d.money),
    payDeclines: rateLimit(problems, env, 'RATE_LIMIT_PAY_DECLINES', d.payDeclines),
    signups: rateLimit(problems, env, 'RATE_LIMIT_SIGNUPS', d.signups),
    anonymous: rateLimit(problems, env, 'RATE_LIMIT_ANONYMOUS', d.anonymous),
    authFailures: rateLimit(problems, env, 'RATE_LIMIT_AUTH_FAILURES', d.authFailures),
  };
}

function corsOrigins(problems: string[], env: NodeJS.ProcessEnv): string[] {
  const raw = optional(env, 'CORS_ORIGINS');
  if (raw === null) return [];
  const origins: string[] = [];
  for (const item of raw.split(',').map((o) => o.trim()).filter(Boolean)) {
    let url: URL | null = null;
    try {
      url = new URL(item);
    } catch {
      url = null;
    }
    if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:') || url.origin !== item.replace(/\/$/, '')) {
      problems.push(`CORS_ORIGINS must be a comma-separated list of origins like https://shop.example.com (got "${item}")`);
    } else {
      origins.push(url.origin);
    }
  }
  return origins;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const problems: string[] = [];

  let port = 4000;
  const rawPort = optional(env, 'PORT');
  if (rawPort !== null) {
    if (!/^\d+$/.test(rawPort) || Number(rawPort) < 0 || Number(rawPort) > 65535) {
      problems.push(`PORT must be an integer from 0 to 65535 (got "${rawPort}")`);
    } else {
      port = Number(rawPort);
    }
  }

  const databaseUrl = optional(env, 'DATABASE_URL');
  checkUrl(problems, 'DATABASE_URL', databaseUrl, ['postgresql:', 'postgres:']);
  const redisUrl = optional(env, 'REDIS_URL');
  checkUrl(problems, 'REDIS_URL', redisUrl, ['redis:', 'rediss:']);
  const smtpUrl = optional(env, 'SMTP_URL');
  checkUrl(problems, 'SMTP_URL', smtpUrl, ['smtp:', 'smtps:']);

  const stripeSecretKey = optional(env, 'STRIPE_SECRET_KEY');
  if (stripeSecretKey !== null && !/^(sk|rk)_(test|live)_[A-Za-z0-9_]+$/.test(stripeSecretKey)) {
    problems.push('STRIPE_SECRET_KEY must look like sk_test_... or sk_live_... (a Stripe secret or restricted key)');
  }
  const stripeWebhookSecret = optional(env, 'STRIPE_WEBHOOK_SECRET');
  if (stripeWebhookSecret !== null && !stripeWebhookSecret.startsWith('whsec_')) {
    problems.push('STRIPE_WEBHOOK_SECRET must start with whsec_ (the signing secret of your Stripe webhook endpoint)');
  }
  if (stripeWebhookSecret !== null && stripeSecretKey === null) {
    problems.push('STRIPE_WEBHOOK_SECRET is set but STRIPE_SECRET_KEY is not: set both to use Stripe, or neither for the sandbox');
  }

  const testCrashAfterCharge = optional(env, 'FLINT_TEST_CRASH_AFTER_CHARGE') === '1';
  if (testCrashAfterCharge && env.NODE_ENV !== 'test') {
    problems.push('FLINT_TEST_CRASH_AFTER_CHARGE is a switch of the crash tests: it is accepted only with NODE_ENV=test');
  }

  const testCrashAfterRefund = optional(env, 'FLINT_TEST_CRASH_AFTER_REFUND') === '1';
  if (testCrashAfterRefund && env.NODE_ENV !== 'test') {
    problems.push('FLINT_TEST_CRASH_AFTER_REFUND is a switch of the crash tests: it is accepted only with NODE_ENV=test');
  }
  const rawGraphiql = optional(env, 'GRAPHIQL')?.toLowerCase() ?? 'true';
  if (!['true', 'false', '1', '0'].includes(rawGraphiql)) problems.push(`GRAPHIQL must be true or false (got "${env.GRAPHIQL}")`);

  const publicUrl = optional(env, 'PUBLIC_URL');
  checkUrl(problems, 'PUBLIC_URL', publicUrl, ['http:', 'https:']);
  const positive = (name: string, fallback: number, max: number): number => {
    const raw = optional(env, name);
    if (raw === null) return fallback;
    if (!/^\d+$/.test(raw) || Number(raw) < 1 || Number(raw) > max) {
      problems.push(`${name} must be a whole number from 1 to ${max} (got "${raw}")`);
      return fallback;
    }
    return Number(raw);
  };
  const dbPoolMax = positive('FLINT_DB_POOL_MAX', 10, 1000);
  const outboxBackoffMs = positive('OUTBOX_BACKOFF_MS', 1000, 3_600_000);
  const logLevel = (optional(env, 'LOG_LEVEL') ?? 'info').toLowerCase();
  if (!(LOG_LEVELS as readonly string[]).includes(logLevel)) problems.push(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')} (got "${logLevel}")`);
  const limits = loadLimits(problems, env);
  const origins = corsOrigins(problems, env);

  if (problems.length > 0) throw new ConfigError(problems);
  return {
    port,
    databaseUrl,
    dataDir: optional(env, 'FLINT_DATA_DIR'),
    redisUrl,
    stripeSecretKey,
    stripeWebhookSecret,
    smtpUrl,
    development: env.NODE_ENV === 'development',
    testCrashAfterCharge,
    testCrashAfterRefund,
    publicUrl: publicUrl === null ? null : publicUrl.replace(/\/+$/, ''),
    dbPoolMax,
    outboxBackoffMs,
    debugPostgres: optional(env, 'FLINT_DEBUG_PG') !== null,
    graphiql: rawGraphiql === 'true' || rawGraphiql === '1',
    logLevel: logLevel as LogLevel,
    corsOrigins: origins,
    limits,
  };
}
