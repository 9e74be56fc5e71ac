// Pre-created orders for the series of bench/money-flow.ts that consume one order per operation:
// one pool per worker (a worker only touches its own orders), topped up before each run of the
// workers, untimed. Before the warm-up a pool holds 2 orders per worker and the warm-up makes more
// inline when one runs out (the warm-up is not measured). Before each measured slice the pool is
// topped up to 1.5 x the most orders one worker could use + 4: for the first slice, slice length /
// the worker's mean latency of the operation in the warm-up; later, the most one worker used in the
// previous slice. A worker that still runs dry makes the order inline; that is counted ("dry").
import { errorText } from './harness.js';


export class OrderPool<T> {
  private readonly items: T[][];
  private used: number[];
  private opMs: number[];
  private mode: 'none' | 'warmup' | 'slice' = 'none';
  /** Set when a top-up failed: the series cannot run, each of its operations fails with this. */
  broken: Error | null = null;
  dry = 0;
  created = 0;
  topUps = 0;
  topUpMs = 0;

  constructor(
    readonly label: string,
    private readonly workers: number,
    private readonly make: (worker: number) => Promise<T>,
    private readonly log: (m: string) => void,
  ) {
    this.items = Array.from({ length: workers }, () => []);
    this.used = new Array<number>(workers).fill(0);
    this.opMs = new Array<number>(workers).fill(0);
  }

  /** Orders one worker should hold before a run of `ms`: see the header. */
  private need(ms: number): number {
    if (this.mode === 'none') return 2;
    let most = 0;
    for (let w = 0; w < this.workers; w++) {
      const perWorker = this.mode === 'warmup' ? (this.opMs[w]! > 0 ? (this.used[w]! / this.opMs[w]!) * ms : 0) : this.used[w]!;
      most = Math.max(most, perWorker);
    }
    // No operation finished in the warm-up (slower than the warm-up is long): guess generously.
    if (this.mode === 'warmup' && this.used.every((n) => n === 0)) return 16;
    return Math.ceil(most * 1.5) + 4;
  }

  async prepare(phase: 'warmup' | 'slice', ms: number): Promise<void> {
    if (this.broken) return;
    const need = this.need(ms);
    this.used.fill(0);
    this.opMs.fill(0);
    this.mode = phase;
    const t0 = performance.now();
    let failure: unknown = null;
    await Promise.all(
      this.items.map(async (pool, w) => {
        while (pool.length < need && !failure) {
          try {
            pool.push(await this.make(w));
            this.created += 1;
          } catch (err) {
            failure ??= err;
          }
        }
      }),
    );
    this.topUps += 1;
    this.topUpMs += performance.now() - t0;
    if (failure) {
      this.broken = new Error(`pre-creating ${this.label} failed: ${errorText(failure)}`);
      this.log(this.broken.message);
    }
  }

  /** The next order of the worker's pool; made inline when the pool is empty (counted as dry when measured). */
  async take(worker: number): Promise<T> {
    if (this.broken) throw this.broken;
    const item = this.items[worker]!.pop();
    if (item !== undefined) return item;
    if (this.mode === 'slice') this.dry += 1;
    this.created += 1;
    return this.make(worker);
  }

  record(worker: number, ms: number): void {
    this.used[worker]! += 1;
    this.opMs[worker]! += ms;
  }
}
