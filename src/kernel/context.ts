// What every use case gets: the database, the clock, and who is calling.
import type { PrismaClient } from '../generated/prisma/client.js';

export type Db = PrismaClient;
/** The client handed to callbacks of db.$transaction. */
export type Tx = Parameters<Parameters<PrismaClient['$transaction']>[0]>[0];

export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

/** The authenticated caller: an API key of one merchant in one mode. */
export interface Principal {
  merchantId: string;
  livemode: boolean;
  apiKeyId: string;
  apiKeyPrefix: string;
}

export type ActorType = 'API_KEY' | 'CUSTOMER' | 'WEBHOOK' | 'SYSTEM';

export interface Actor {
  type: ActorType;
  id: string | null;
  name: string | null;
}

export function actorOf(principal: Principal): Actor {
  return { type: 'API_KEY', id: principal.apiKeyId, name: principal.apiKeyPrefix };
}

export interface Deps {
  db: Db;
  clock: Clock;
  /** Card processor (payments): the sandbox unless STRIPE_SECRET_KEY selects Stripe. Unset: the sandbox. */
  paymentProcessor?: import('./processor.js').PaymentProcessor;
  /** Receipt delivery (SMTP_URL); unset: receipts are written to the outbox and not sent. */
  mailer?: import('./mailer.js').Mailer;
  /** Base URL of this server as buyers reach it (hosted checkout, sandbox authentication pages); read when needed. */
  publicUrl?: () => string;
  /** Stripe webhook signing secret (whsec_...); unset: POST /webhooks/stripe answers 404. */
  stripeWebhookSecret?: string;
  /** Live events for subscriptions (src/realtime/bus.ts): in memory, or Redis when REDIS_URL is set. startServer adds one if unset. */
  events?: import('./events.js').EventBus;
  /** Crash switches of the crash tests (set by src/payments/runtime.ts from src/config.ts); unset everywhere else. */
  testHooks?: TestHooks;
  /** First retry delay of the outbox (receipts) after a failed send, doubling per attempt (OUTBOX_BACKOFF_MS; default 1 s). */
  outboxBackoffMs?: number;
}

export interface TestHooks {
  /** Runs after the processor charged an intent and before Flint records it (the crash test kills the process here). */
  afterCharge?(paymentIntentId: string): Promise<void>;
  /** Runs after the processor refunded (or accepted) a refund and before Flint records it (the refund crash test kills the process here). */
  afterRefundSent?(refundId: string): Promise<void>;
}

/** A use case runs for one merchant and mode, on behalf of one actor. */
export interface Scope {
  deps: Deps;
  merchantId: string;
  livemode: boolean;
  actor: Actor;
}

export function scopeOf(deps: Deps, principal: Principal): Scope {
  return { deps, merchantId: principal.merchantId, livemode: principal.livemode, actor: actorOf(principal) };
}
