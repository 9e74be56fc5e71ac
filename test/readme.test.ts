// The README works when pasted: every code block of README.md runs, in order, against a fresh server.
//   - sh blocks run in one bash session (variables carry over, as in one terminal), with FLINT set to
//     the test server (the README's documented way to point them elsewhere); each must exit 0, answer
//     no GraphQL errors and no userErrors other than the ones it demonstrates, and print what the
//     README says it prints.
//   - graphql blocks are sent with the key the sh blocks signed up with.
//   - ts blocks run with tsx, importing @flint/client from packages/client.
// The first block (npm ci && npm start / npm test) is the one CI runs itself (.ci/run) and that
// test/ops/start.test.ts starts; here it is checked to be those two commands.
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { useTestApi } from './support/api.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const README = readFileSync(`${ROOT}README.md`, 'utf8');
const BLOCKS = [...README.matchAll(/^```(\w+)\n([\s\S]*?)^```$/gm)].map((m) => ({ lang: m[1]!, code: m[2]! }));

const api = useTestApi();

function run(command: string, args: string[], env: Record<string, string>, input?: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, output }));
    child.stdin.end(input ?? '');
  });
}

/** What a block must print, keyed by something only that block contains. */
const EXPECTED: Array<{ block: RegExp; prints: Array<string | RegExp>; userErrors?: string[] }> = [
  { block: /createMerchant/, prints: [/"testApiKey":"sk_test_[\w-]+"/] },
  { block: /addTaxRegistration/, prints: ['"addTaxRegistration":{"userErrors":[]}'] },
  { block: /"idempotencyKey": "first-order-1"/, prints: ['"subtotalMoney":{"amount":6398,"currency":"USD"}', '"taxMoney":{"amount":464}', '"totalMoney":{"amount":6862}', '"status":"OPEN"'] },
  {
    block: /tok_chargeDeclined/,
    prints: ['"code":"PAYMENT_DECLINED"', '"failureCode":"card_declined"', '"status":"PAID"', '"paidMoney":{"amount":6862}'],
    userErrors: ['PAYMENT_DECLINED'],
  },
  { block: /refundPreview/, prints: ['"refundPreview":{"amountMoney":{"amount":2144},"taxMoney":{"amount":145},"resultingStatus":"PARTIALLY_REFUNDED"', '"status":"SUCCEEDED","amountMoney":{"amount":2144}', '"status":"PARTIALLY_REFUNDED"'] },
  { block: /createCheckoutSession/, prints: ['checkout page: HTTP 200', '"status":"OPEN"'] },
  { block: /subscription { orderStatusChanged/, prints: ['event: next', '"previousStatus":"OPEN","status":"PAID"'] },
  { block: /example:storefront/, prints: ['subtotal 6398, tax 464, total 6862 USD', /checkout page: http:\/\/\S+\/checkout\/cs_/, 'paid: PAID', 'returns 2144 (tax 145)', /refund re_\w+: SUCCEEDED, 2144 USD/] },
  { block: /"method": "tools\/call"/, prints: ['"result"', 'PARTIALLY_REFUNDED'] },
];

describe('README.md', () => {
  it('starts with the two commands that work on a fresh clone', () => {
    expect(README.startsWith('# Flint\n\n```sh\n')).toBe(true);
    const first = BLOCKS[0]!.code.split('\n').filter(Boolean).map((line) => line.replace(/\s+#.*$/, ''));
    expect(first).toEqual(['npm ci && npm start', 'npm ci && npm test']);
  });

  it('every block runs as pasted against a fresh server', async () => {
    const shell = BLOCKS.slice(1).filter((b) => b.lang === 'sh');
    const others = BLOCKS.slice(1).filter((b) => b.lang !== 'sh');
    expect(shell.length).toBeGreaterThanOrEqual(9);
    expect(others.map((b) => b.lang).sort()).toEqual(['graphql', 'ts']);
    for (const { block } of EXPECTED) expect(shell.filter((b) => block.test(b.code)), String(block)).toHaveLength(1);

    // One bash session, as one terminal; markers split its output by block.
    const script = ['set -e -o pipefail', ...shell.flatMap((b, i) => [`echo "::block ${i}::"`, b.code]), 'echo "::end::"', 'echo "::KEY::$KEY"'].join('\n');
    const env = { FLINT: api.url, KEY: '' };
    const { code, output } = await run('bash', ['-s'], env, script);
    expect(output, output).toContain('::end::');
    expect(code).toBe(0);
    const parts = output.split(/^::block \d+::$/m).slice(1);
    expect(parts).toHaveLength(shell.length);
    parts[parts.length - 1] = parts[parts.length - 1]!.split('::end::')[0]!;

    shell.forEach((block, i) => {
      const printed = parts[i]!;
      const expected = EXPECTED.find((e) => e.block.test(block.code));
      expect(printed, `block ${i + 1}`).not.toContain('"errors"');
      const codes = [...printed.matchAll(/"userErrors":\[(.*?)\]/g)].flatMap((m) => [...m[1]!.matchAll(/"code":"(\w+)"/g)].map((c) => c[1]!));
      expect(codes, `userErrors of block ${i + 1}:\n${printed}`).toEqual(expected?.userErrors ?? []);
      for (const text of expected?.prints ?? []) {
        if (typeof text === 'string') expect(printed, `block ${i + 1}`).toContain(text);
        else expect(printed, `block ${i + 1}`).toMatch(text);
      }
    });

    const key = /::KEY::(sk_test_[\w-]+)/.exec(output)?.[1];
    expect(key).toBeTruthy();

    // The graphql block, with the key the first block signed up with.
    const graphqlBlock = others.find((b) => b.lang === 'graphql')!;
    const answer = await fetch(`${api.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
      body: JSON.stringify({ query: graphqlBlock.code }),
    });
    const body = (await answer.json()) as { errors?: unknown; data: { orders: { edges: Array<{ node: { summary: string } }> } } };
    expect(body.errors).toBeUndefined();
    expect(body.data.orders.edges).toHaveLength(1);

    // The ts block, as a file next to the repository's node_modules.
    const dir = `${ROOT}.data/readme-test`;
    mkdirSync(dir, { recursive: true });
    const file = `${dir}/block-${process.pid}.ts`;
    writeFileSync(file, others.find((b) => b.lang === 'ts')!.code);
    const sdk = await run(process.execPath, ['--conditions=flint-source', '--import', 'tsx', file], { FLINT: api.url, KEY: key! });
    expect(sdk.code, sdk.output).toBe(0);
    expect(sdk.output).toContain('PAID 1 item (Organic Coffee Beans ×1)');
    expect(sdk.output).toMatch(/REFUND_EXCEEDS_REFUNDABLE - /);
  }, 120_000);
});
