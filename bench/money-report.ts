// The report of bench/money-flow.ts: targets, the markdown tables of one concurrency level, the machine.
import os from 'node:os';
import type pg from 'pg';
import type { LevelResult } from './harness.js';
import { fmt, mib, table } from './lib.js';

export const TARGET = { mutation: 0.5, createPay: 0.35, createVsFloor: 0.7, createP99Ms: 50, rssBytes: 200 * 1024 * 1024 };

const pct = (x: number) => (Number.isFinite(x) ? `${fmt(x * 100, 0)} %` : '-');
export const verdict = (ok: boolean) => (ok ? 'MET' : 'NOT MET');

export interface ReportRow {
  /** The series id of bench/money-flow.ts (create, create-coupon, pay, ..., floor). */
  id: string;
  r: LevelResult;
  /** Pre-created orders of the series, if it consumes some. */
  pool?: { created: number; topUps: number; topUpMs: number; dry: number };
}

function targetOf(id: string, r: LevelResult, create: LevelResult | undefined, floor: LevelResult | undefined): [string, string] {
  const vsCreate = create ? r.rate / create.rate : NaN;
  const vsFloor = floor ? r.rate / floor.rate : NaN;
  const ratioCheck = (ratio: number, min: number, of: string): [string, string] => [`≥ ${min * 100} % of ${of}`, Number.isFinite(ratio) ? verdict(ratio >= min) : `- (no ${of} series)`];
  switch (id) {
    case 'create': {
      const [t, v] = ratioCheck(vsFloor, TARGET.createVsFloor, 'floor');
      return [`${t}; p99 < ${TARGET.createP99Ms} ms`, `${v}; p99 ${verdict(r.p99 < TARGET.createP99Ms)}`];
    }
    case 'create-coupon':
      return ratioCheck(vsFloor, TARGET.createVsFloor, 'floor');
    case 'create-pay':
      return ratioCheck(vsCreate, TARGET.createPay, 'createOrder');
    case 'floor':
      return ['', ''];
    default:
      return ratioCheck(vsCreate, TARGET.mutation, 'createOrder');
  }
}

export async function machineLine(pool: pg.Pool, database: { label: string }): Promise<string> {
  const { rows } = await pool.query<{ version: string }>('SELECT version() AS version');
  const cpus = os.cpus();
  return [
    `nproc ${os.availableParallelism()}`,
    `CPU ${cpus[0]?.model ?? 'unknown'}${cpus[0]?.speed ? ` @ ${cpus[0].speed} MHz` : ''}`,
    `memory ${fmt(os.totalmem() / 1024 ** 3, 1)} GiB`,
    `Node ${process.version}`,
    `${database.label}: ${rows[0]!.version.split(',')[0]}`,
  ].join('; ');
}

export function printLevel(heading: string, rows: ReportRow[]): void {
  const create = rows.find((x) => x.id === 'create')?.r;
  const floorR = rows.find((x) => x.id === 'floor')?.r;
  console.log('');
  console.log(heading);
  console.log('');
  console.log(
    table(
      ['series', 'ops/s', 'p50 ms', 'p99 ms', 'n', 'err', 'vs createOrder', 'vs floor', 'server CPU ms/op', 'server RSS peak', 'target', 'verdict'],
      rows.map(({ id, r }) => {
        const [target, met] = targetOf(id, r, create, floorR);
        return [
          r.series,
          fmt(r.rate, 0),
          fmt(r.p50, 1),
          fmt(r.p99, 1),
          r.count,
          r.errors,
          create ? pct(r.rate / create.rate) : '-',
          floorR && (id === 'create' || id === 'create-coupon') ? pct(r.rate / floorR.rate) : '-',
          r.serverCpuSeconds > 0 && r.count > 0 ? fmt((r.serverCpuSeconds / r.count) * 1000, 2) : '-',
          r.serverRssPeak === null ? '-' : mib(r.serverRssPeak),
          target,
          r.errors > 0 ? 'ERRORS' : met,
        ];
      }),
    ),
  );
  console.log('');
  console.log('CPU during the measured slices (cores) and pre-created orders:');
  console.log('');
  console.log(
    table(
      ['series', 'max ms', 'server', 'bench', 'postgres', 'other', 'machine busy', 'pre-created (untimed)', 'pool ran dry'],
      rows.map(({ pool, r }) => [
        r.series,
        fmt(r.max, 1),
        r.serverCores === null ? '-' : fmt(r.serverCores, 2),
        fmt(r.benchCores, 2),
        fmt(r.postgresCores, 2),
        fmt(r.otherCores, 2),
        pct(r.machineBusy),
        pool ? `${pool.created} in ${pool.topUps} top-ups, ${fmt(pool.topUpMs / 1000, 1)} s` : '-',
        pool ? String(pool.dry) : '-',
      ]),
    ),
  );
  const noisy = rows.filter(({ r }) => r.otherCores > 0.2);
  if (noisy.length > 0) console.log(`\nWARNING: other processes used up to ${fmt(Math.max(...noisy.map(({ r }) => r.otherCores)), 2)} cores during ${noisy.length} of ${rows.length} series (column "other"): the machine was not quiet.`);
  const dry = rows.filter(({ pool }) => (pool?.dry ?? 0) > 0);
  if (dry.length > 0) console.log(`WARNING: a pool ran dry in ${dry.map(({ r }) => r.series).join(', ')}: those orders were made inside the measured slice, the figures are understated.`);
}
