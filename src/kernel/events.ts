// The event bus port: how committed activity reaches live subscribers (src/realtime/bus.ts implements it
// in memory or on Redis).
import type { ActivityRow } from './activity-row.js';

export type ActivityListener = (row: ActivityRow) => void;
export type RevocationListener = (apiKeyId: string) => void;

export interface EventBus {
  readonly kind: 'memory' | 'redis';
  /**
   * Publishes committed activity rows, in the order given (chain order). Returns once they are handed
   * to the transport; delivery failures are logged, never thrown (the change is committed either way).
   */
  publishActivity(rows: readonly ActivityRow[]): Promise<void>;
  /** Listens to one chain's activity. Resolves when the listener is live everywhere; call the result to stop. */
  onActivity(merchantId: string, livemode: boolean, listener: ActivityListener): Promise<() => void>;
  /** Listens to revocations of the merchant's API keys. */
  onKeyRevoked(merchantId: string, listener: RevocationListener): Promise<() => void>;
  close(): Promise<void>;
}

