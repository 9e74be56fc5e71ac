// Refund writes of one payment are planned and written one at a time within this process. Every such
// write changes the same order row and is guarded by its version, so of N concurrent ones only one
// could pass per round and the others would plan again — up to N rounds each. Queuing them here
// (without holding anything in the database) lets each plan on what the previous one wrote and pass
// at once; writes from other processes are still judged by the guards. Re-entrant within one call
// (a plan that settles the payment's waiting refunds records them under the same turn).
import { AsyncLocalStorage } from 'node:async_hooks';

const held = new AsyncLocalStorage<ReadonlySet<string>>();
const tails = new Map<string, Promise<void>>();

export async function oneAtATime<T>(key: string, fn: () => Promise<T>): Promise<T> {
  const mine = held.getStore();
  if (mine?.has(key)) return fn();
  const previous = tails.get(key) ?? Promise.resolve();
  let release!: () => void;
  const turn = new Promise<void>((resolve) => (release = resolve));
  const tail = previous.then(() => turn);
  tails.set(key, tail);
  await previous;
  try {
    return await held.run(new Set([...(mine ?? []), key]), fn);
  } finally {
    release();
    if (tails.get(key) === tail) tails.delete(key);
  }
}
