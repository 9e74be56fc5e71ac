// Which processor takes the payments: Stripe when STRIPE_SECRET_KEY is set, else the sandbox.
import type { Db, Deps } from '../kernel/context.js';
import type { PaymentProcessor } from '../kernel/processor.js';
import { SandboxProcessor } from './sandbox.js';
import { StripeProcessor } from './stripe.js';

export * from '../kernel/processor.js';
export { SandboxProcessor, SANDBOX_TOKENS, SANDBOX_TOKEN_NAMES } from './sandbox.js';
export { StripeProcessor, paymentIntentParams, fromIntent as stripeIntentResult, fromRefund as stripeRefundResult } from './stripe.js';

const DEFAULT_PUBLIC_URL = 'http://localhost:4000';

export function selectProcessor(options: { stripeSecretKey: string | null; db: Db; publicUrl: () => string }): PaymentProcessor {
  if (options.stripeSecretKey) return new StripeProcessor({ secretKey: options.stripeSecretKey });
  return new SandboxProcessor(options.db, { publicUrl: options.publicUrl });
}

const sandboxes = new WeakMap<Deps, SandboxProcessor>();

/** The processor of these dependencies; a sandbox on the same database when none was configured. */
export function processorOf(deps: Deps): PaymentProcessor {
  if (deps.paymentProcessor) return deps.paymentProcessor;
  let sandbox = sandboxes.get(deps);
  if (!sandbox) {
    sandbox = new SandboxProcessor(deps.db, { publicUrl: () => publicUrlOf(deps) });
    sandboxes.set(deps, sandbox);
  }
  return sandbox;
}

export function publicUrlOf(deps: Deps): string {
  return (deps.publicUrl?.() ?? DEFAULT_PUBLIC_URL).replace(/\/+$/, '');
}
