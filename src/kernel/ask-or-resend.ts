// Recovering a money-moving call whose outcome we did not record (the process died, or the processor's
// answer was lost): ask the processor what became of its idempotency key; if it never saw the key,
// send the very same request again under the same key (the processor dedupes it, so this never moves
// money twice) — unless the processor may have forgotten the key by now (Stripe keeps keys 24 hours),
// in which case the call is given up as interrupted rather than risk a second effect.
export interface AskOrResend<R> {
  /** The processor's answer about the key, or null when it never saw it. */
  ask(): Promise<R | null>;
  /** The original request, sent again under the same key. */
  resend(): Promise<R>;
  /** When the call was reserved, and how long the processor remembers its keys. */
  createdAt: Date;
  now: Date;
  replayWindowMs: number;
  /** The outcome to record when resending is no longer safe. */
  interrupted(): R;
}

export async function askOrResend<R>(call: AskOrResend<R>): Promise<R> {
  const known = await call.ask();
  if (known) return known;
  if (call.now.getTime() - call.createdAt.getTime() > call.replayWindowMs) return call.interrupted();
  return call.resend();
}
