// Summarises a V8 .cpuprofile (node --cpu-prof): top functions by self time, and self time grouped
// by package / source area. Usage: npx tsx bench/profile-top.ts <file.cpuprofile> [topN]
import { readFileSync } from 'node:fs';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  hitCount?: number;
  children?: number[];
}
interface Profile {
  nodes: Node[];
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

const file = process.argv[2];
if (!file) {
  console.error('usage: tsx bench/profile-top.ts <file.cpuprofile> [topN]');
  process.exit(2);
}
const topN = Number(process.argv[3] ?? 30);
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;

// Self time per node from samples and timeDeltas (more exact than hitCount x interval).
const selfUs = new Map<number, number>();
const samples = profile.samples ?? [];
const deltas = profile.timeDeltas ?? [];
for (let i = 0; i < samples.length; i++) {
  const dt = deltas[i + 1] ?? 0;
  selfUs.set(samples[i]!, (selfUs.get(samples[i]!) ?? 0) + dt);
}
const sampled = [...selfUs.values()].reduce((a, b) => a + b, 0);
const idleIds = new Set(profile.nodes.filter((n) => n.callFrame.functionName === '(idle)').map((n) => n.id));
const idle = [...selfUs].filter(([id]) => idleIds.has(id)).reduce((a, [, us]) => a + us, 0);
/** Percentages are of the busy (non-idle) time: the thread's CPU, not the wall clock. */
const total = sampled - idle;

function area(url: string, name: string): string {
  if (!url) return name.startsWith('(') ? name : '(native/builtin)';
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + 'node_modules/'.length).split('/');
    return rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]!;
  }
  if (url.startsWith('node:')) return url;
  const src = url.indexOf('/src/');
  if (src >= 0) return `app ${url.slice(src + 1).split('/').slice(0, 2).join('/')}`;
  const bench = url.indexOf('/bench/');
  if (bench >= 0) return 'bench';
  return url;
}

const byFunction = new Map<string, number>();
const byArea = new Map<string, number>();
for (const node of profile.nodes) {
  const us = selfUs.get(node.id) ?? 0;
  if (!us) continue;
  const { functionName, url, lineNumber } = node.callFrame;
  const short = url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*\/main\//, '');
  const key = `${functionName || '(anonymous)'}  ${short ? `${short}:${lineNumber + 1}` : ''}`;
  byFunction.set(key, (byFunction.get(key) ?? 0) + us);
  const a = area(url, functionName);
  byArea.set(a, (byArea.get(a) ?? 0) + us);
}

// Inclusive time: each sample counts once for every distinct function on its stack.
const parent = new Map<number, number>();
for (const node of profile.nodes) for (const c of node.children ?? []) parent.set(c, node.id);
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const keyOf = (n: Node) => {
  const { functionName, url, lineNumber } = n.callFrame;
  const short = url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*\/main\//, '');
  return `${functionName || '(anonymous)'}  ${short ? `${short}:${lineNumber + 1}` : ''}`;
};
const inclusive = new Map<string, number>();
for (let i = 0; i < samples.length; i++) {
  const dt = deltas[i + 1] ?? 0;
  const seen = new Set<string>();
  for (let id: number | undefined = samples[i]; id !== undefined; id = parent.get(id)) {
    const k = keyOf(byId.get(id)!);
    if (!seen.has(k)) {
      seen.add(k);
      inclusive.set(k, (inclusive.get(k) ?? 0) + dt);
    }
  }
}

const pct = (us: number) => `${((us / total) * 100).toFixed(1).padStart(5)} %`;
const ms = (us: number) => `${(us / 1000).toFixed(0).padStart(7)} ms`;
console.log(
  `profile ${file}: ${(sampled / 1e6).toFixed(1)} s sampled, ${(idle / 1e6).toFixed(1)} s idle, ${(total / 1e6).toFixed(1)} s busy; percentages are of busy time`,
);
console.log('\nself time by area:');
for (const [k, v] of [...byArea].filter(([k]) => k !== '(idle)').sort((a, b) => b[1] - a[1]).slice(0, 20)) console.log(`${pct(v)} ${ms(v)}  ${k}`);
const inclusiveFilter = process.env.PROFILE_INCLUSIVE_FILTER ? new RegExp(process.env.PROFILE_INCLUSIVE_FILTER) : /src\/|@prisma|pothos|graphql|yoga|pg\//;
console.log(`\ntop ${topN} functions by inclusive time (app and library frames matching ${inclusiveFilter}):`);
for (const [k, v] of [...inclusive].filter(([k]) => inclusiveFilter.test(k)).sort((a, b) => b[1] - a[1]).slice(0, topN)) console.log(`${pct(v)} ${ms(v)}  ${k}`);
console.log(`\ntop ${topN} functions by self time:`);
for (const [k, v] of [...byFunction].filter(([k]) => !k.startsWith('(idle)')).sort((a, b) => b[1] - a[1]).slice(0, topN)) console.log(`${pct(v)} ${ms(v)}  ${k}`);
