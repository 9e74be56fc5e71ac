// Wiring of the payment feature into the running server (src/main.ts): the processor chosen by
// STRIPE_SECRET_KEY, receipts by SMTP_URL, the webhook secret, the public URL of the hosted pages, the
// crash tests' switch, and the start-up work — reconciling payments and refunds a previous process left
// open, finishing idempotency keys still pending (settlePendingKeys), and the outbox worker.
import type { Config } from '../config.js';
import type { Db, Deps, TestHooks } from '../kernel/context.js';
import { systemClock } from '../kernel/context.js';
import { reconcilePendingRefunds } from '../refunds/index.js';
import { startOutboxWorker } from './receipts.js';
import { smtpMailer } from '../kernel/mailer.js';
import { settlePendingKeys } from '../kernel/pending-result.js';
import { reconcilePendingPayments } from './reconcile.js';
import { selectProcessor } from './index.js';

export interface PaymentRuntime {
  /** Fields to spread into the server's Deps. */
  deps: Pick<Deps, 'paymentProcessor' | 'mailer' | 'publicUrl' | 'stripeWebhookSecret' | 'testHooks' | 'outboxBackoffMs'>;
  /** Call once the server listens: records its URL (unless PUBLIC_URL is set) and starts the background work. */
  started(serverUrl: string, log: (message: string) => void): () => void;
}

/** The crash test's switch: die (SIGKILL) after the processor charged and before Flint records it. */
const crashAfterCharge: TestHooks = {
  async afterCharge(paymentIntentId) {
    console.error(`[flint] FLINT_TEST_CRASH_AFTER_CHARGE: killing the process after charging ${paymentIntentId}`);
    process.kill(process.pid, 'SIGKILL');
    await new Promise(() => {});
  },
};

export function paymentRuntime(config: Pick<Config, 'stripeSecretKey' | 'stripeWebhookSecret' | 'smtpUrl' | 'testCrashAfterCharge' | 'publicUrl' | 'outboxBackoffMs'>, db: Db): PaymentRuntime {
  const configured = config.publicUrl;
  let publicUrl = configured ?? 'http://localhost:4000';
  const deps: PaymentRuntime['deps'] = {
    publicUrl: () => publicUrl,
    outboxBackoffMs: config.outboxBackoffMs,
    paymentProcessor: selectProcessor({ stripeSecretKey: config.stripeSecretKey, db, publicUrl: () => publicUrl }),
    ...(config.smtpUrl ? { mailer: smtpMailer(config.smtpUrl) } : {}),
    ...(config.stripeWebhookSecret ? { stripeWebhookSecret: config.stripeWebhookSecret } : {}),
    ...(config.testCrashAfterCharge ? { testHooks: crashAfterCharge } : {}),
  };
  return {
    deps,
    started(serverUrl, log) {
      if (!configured) publicUrl = serverUrl.replace('127.0.0.1', 'localhost');
      const full: Deps = { db, clock: systemClock, ...deps };
      log(`payments: ${deps.paymentProcessor!.name} processor${deps.mailer ? ', receipts by SMTP' : ''}`);
      // The first Prisma model query of a process starts Prisma's query compiler (about half a second):
      // pay it here rather than in the first request that reads through Prisma (the payment paths do not).
      void db.order.findFirst({ where: { id: '' }, select: { id: true } }).catch(() => {});
      void reconcilePendingPayments(full, log)
        .then(({ reconciled, stillOpen }) => log(`payments reconciled at start-up: ${reconciled} settled, ${stillOpen} still open`))
        .catch((error: unknown) => console.error('[flint] payment reconciliation failed', error))
        // Refunds a previous process left PENDING: asked about at the processor, once.
        .then(() => reconcilePendingRefunds(full, log))
        .then((r) => log(`refunds reconciled at start-up: ${r.reconciled} settled, ${r.stillPending} still pending`))
        .catch((error: unknown) => console.error('[flint] refund reconciliation failed', error))
        // Keys still pending after that (a call whose outcome was recorded but not its result).
        .then(() => settlePendingKeys(full))
        .then((k) => log(`idempotency keys settled at start-up: ${k.settled} finished, ${k.stillPending} still pending`))
        .catch((error: unknown) => console.error('[flint] settling pending idempotency keys failed', error));
      return startOutboxWorker(full);
    },
  };
}
