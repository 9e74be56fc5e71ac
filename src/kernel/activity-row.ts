// The shape of an audit entry, before and after it takes its place in its chain (a leaf: the kernel's
// event bus port and the writer name it; src/audit/activity.ts builds entries).
import type { Json } from './json.js';

/** An entry as built, before it takes its place in the audit chain. */
export interface UnchainedActivityRow {
  id: string;
  merchantId: string;
  livemode: boolean;
  orderId: string | null;
  type: string;
  occurredAt: Date;
  actorType: string;
  actorId: string | null;
  actorName: string | null;
  delta: Json;
  idempotencyKey: string | null;
}

/** A stored entry: its place in the merchant's audit chain and its hash (src/audit/chain.ts). */
export interface ActivityRow extends UnchainedActivityRow {
  sequence: bigint;
  hash: string;
  previousHash: string | null;
}

