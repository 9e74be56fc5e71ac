// Wiring of the payment feature into the running server (src/main.ts): the processor chosen by
// STRIPE_SECRET_KEY, receipts by SMTP_URL, the webhook secret, the public URL of the hosted pages, and
// the start-up work — reconciling payments a previous process left PROCESSING, and the outbox worker.
import type { Config } from '../config.js';
import type { Db, Deps } from '../domain/context.js';
import { systemClock } from '../domain/context.js';
import { reconcilePendingPayments } from '../domain/payments.js';
import { reconcilePendingRefunds } from '../refunds/index.js';
import { smtpMailer, startOutboxWorker } from '../domain/receipts.js';
import { selectProcessor } from './index.js';

export interface PaymentRuntime {
  /** Fields to spread into the server's Deps. */
  deps: Pick<Deps, 'paymentProcessor' | 'mailer' | 'publicUrl' | 'stripeWebhookSecret'>;
  /** Call once the server listens: records its URL (unless PUBLIC_URL is set) and starts the background work. */
  started(serverUrl: string, log: (message: string) => void): () => void;
}

export function paymentRuntime(config: Pick<Config, 'stripeSecretKey' | 'stripeWebhookSecret' | 'smtpUrl'>, db: Db): PaymentRuntime {
  const configured = process.env.PUBLIC_URL?.trim() || null;
  let publicUrl = configured ?? 'http://localhost:4000';
  const deps: PaymentRuntime['deps'] = {
    publicUrl: () => publicUrl,
    paymentProcessor: selectProcessor({ stripeSecretKey: config.stripeSecretKey, db, publicUrl: () => publicUrl }),
    ...(config.smtpUrl ? { mailer: smtpMailer(config.smtpUrl) } : {}),
    ...(config.stripeWebhookSecret ? { stripeWebhookSecret: config.stripeWebhookSecret } : {}),
  };
  return {
    deps,
    started(serverUrl, log) {
      if (!configured) publicUrl = serverUrl.replace('127.0.0.1', 'localhost');
      const full: Deps = { db, clock: systemClock, ...deps };
      log(`payments: ${deps.paymentProcessor!.name} processor${deps.mailer ? ', receipts by SMTP' : ''}`);
      void reconcilePendingPayments(full, log)
        .then(({ reconciled, stillOpen }) => log(`payments reconciled at start-up: ${reconciled} settled, ${stillOpen} still open`))
        .catch((error: unknown) => console.error('[flint] payment reconciliation failed', error))
        // Refunds a previous process left PENDING (refunds issue): asked about at the processor, once.
        .then(() => reconcilePendingRefunds(full, log))
        .then((r) => log(`refunds reconciled at start-up: ${r.reconciled} settled, ${r.stillPending} still pending`))
        .catch((error: unknown) => console.error('[flint] refund reconciliation failed', error));
      return startOutboxWorker(full);
    },
  };
}
