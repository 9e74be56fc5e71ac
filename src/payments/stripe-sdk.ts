// The official Stripe SDK, loaded on first use. It costs ~20 MiB of RSS at start (bench/MEMORY.md)
// and only servers with STRIPE_SECRET_KEY (the processor) or STRIPE_WEBHOOK_SECRET (the webhook
// route) ever use it. One loader for both, so they share one copy of the SDK (its CommonJS build,
// loaded synchronously: the processor's constructor is synchronous).
import { createRequire } from 'node:module';
import type Stripe from 'stripe';

let sdk: typeof Stripe | null = null;

export function stripeSdk(): typeof Stripe {
  return (sdk ??= createRequire(import.meta.url)('stripe') as typeof Stripe);
}
