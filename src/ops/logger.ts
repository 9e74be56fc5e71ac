// Structured logs: one JSON object per line on stdout (pino), at LOG_LEVEL.
//
// Every line written while a request or a background job runs carries its id (`reqId` / `jobId`, from
// AsyncLocalStorage), so the request line, the errors it logged and the work it started can be joined.
// Secrets never reach the output: API keys (sk_test_/sk_live_/rk_...), webhook secrets (whsec_...) and
// Authorization headers are replaced by "[redacted]" in messages and in every logged value.
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomBytes } from 'node:crypto';
import { format } from 'node:util';
import pino, { type DestinationStream, type Logger } from 'pino';
import type { LogLevel } from '../config.js';

export type { Logger };

interface LogScope {
  reqId?: string;
  jobId?: string;
  job?: string;
}

const scopes = new AsyncLocalStorage<LogScope>();

const SECRET = /\b(?:sk|rk)_(?:test|live)_[A-Za-z0-9_-]+|\bwhsec_[A-Za-z0-9_+/=-]+|\bBearer\s+\S+/g;

/** The text with every secret-looking token replaced. */
export function scrub(text: string): string {
  return text.replace(SECRET, '[redacted]');
}

const SECRET_KEYS = /^(authorization|cookie|password|secret|apikey|testapikey|livemode?apikey|token|stripesecretkey|stripewebhooksecret|webhooksecret|paymentsourcetokens?)$/i;

function scrubValue(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return scrub(value);
  if (depth > 8 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => scrubValue(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) out[key] = SECRET_KEYS.test(key) ? '[redacted]' : scrubValue(v, depth + 1);
  return out;
}

/** A new request or job id: 16 hex characters. */
export function newId(): string {
  return randomBytes(8).toString('hex');
}

export function createLogger(level: LogLevel, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'flint' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: {
        level: (label) => ({ level: label }),
        log: (object) => scrubValue(object) as Record<string, unknown>,
      },
      mixin: () => ({ ...scopes.getStore() }),
      hooks: {
        logMethod(args, method) {
          const scrubbed = args.map((a) => (typeof a === 'string' ? scrub(a) : a)) as Parameters<typeof method>;
          method.apply(this, scrubbed);
        },
      },
    },
    // Synchronous writes: a line written just before the process dies (a crash, SIGKILL) is not lost.
    destination ?? pino.destination({ dest: 1, sync: true }),
  );
}

/** A logger that writes nothing (tests and library use without a configured logger). */
export const silentLogger: Logger = pino({ level: 'silent' });

/** Runs `fn` as one request: its log lines carry `reqId`. */
export function inRequest<T>(reqId: string, fn: () => T): T {
  return scopes.run({ reqId }, fn);
}

/** Runs `fn` as a background job: its log lines (and those of the work it schedules) carry `job` and `jobId`. */
export function inJob<T>(job: string, fn: () => T): T {
  return scopes.run({ job, jobId: newId() }, fn);
}

/**
 * Sends console.log/info/warn/error/debug to the logger, so that every line the process writes is one
 * JSON object with the request or job it belongs to (some modules report background failures with
 * console.error). Returns a function that puts the console back.
 */
export function routeConsole(logger: Logger): () => void {
  const original = { log: console.log, info: console.info, warn: console.warn, error: console.error, debug: console.debug };
  const to = (level: 'info' | 'warn' | 'error' | 'debug') => (...args: unknown[]) => {
    const err = args.find((a): a is Error => a instanceof Error);
    const text = format(...args.filter((a) => a !== err));
    if (err) logger[level]({ err }, text);
    else logger[level](text);
  };
  console.log = to('info');
  console.info = to('info');
  console.warn = to('warn');
  console.error = to('error');
  console.debug = to('debug');
  return () => Object.assign(console, original);
}
