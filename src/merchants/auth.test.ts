// The batching of API key lookups (src/merchants/auth.ts KeyLookups), with a lookup function we control.
import { describe, expect, it } from 'vitest';
import { KeyLookups, type KeyRow } from './auth.js';

type Row = KeyRow & { secretHash: string };

function controlled() {
  const calls: { hashes: string[]; answer: (rows: Row[]) => void; fail: (e: unknown) => void }[] = [];
  const lookups = new KeyLookups(
    (hashes) =>
      new Promise<Row[]>((answer, fail) => {
        calls.push({ hashes, answer, fail });
      }),
  );
  return { lookups, calls };
}

const row = (hash: string, revokedAt: Date | null = null): Row => ({ id: `key_${hash}`, merchantId: 'mer_1', livemode: false, prefix: 'sk_test_abcd', revokedAt, secretHash: hash });
const tick = () => new Promise((r) => setTimeout(r, 0));

describe('KeyLookups', () => {
  it('starts a lookup at once when none is running', async () => {
    const { lookups, calls } = controlled();
    const found = lookups.find('h1');
    await tick();
    expect(calls.map((c) => c.hashes)).toEqual([['h1']]);
    calls[0]!.answer([row('h1')]);
    expect(await found).toMatchObject({ id: 'key_h1' });
  });

  it('never answers a request with a lookup that was sent before the request arrived', async () => {
    const { lookups, calls } = controlled();
    const early = lookups.find('h1');
    await tick();
    // The key is revoked now; a request for it arrives while the first lookup is still running.
    const late = lookups.find('h1');
    await tick();
    expect(calls).toHaveLength(1);
    calls[0]!.answer([row('h1')]); // what the database said before the revocation
    expect((await early)?.revokedAt).toBeNull();
    await tick();
    expect(calls).toHaveLength(2); // the late request gets a lookup of its own
    calls[1]!.answer([row('h1', new Date('2026-11-27T00:00:00Z'))]);
    expect((await late)?.revokedAt).toEqual(new Date('2026-11-27T00:00:00Z'));
  });

  it('looks up everything that arrived meanwhile in one query, each hash once, and answers each request', async () => {
    const { lookups, calls } = controlled();
    const first = lookups.find('h0');
    await tick();
    const waiting = ['h1', 'h2', 'h1', 'unknown'].map((h) => lookups.find(h));
    calls[0]!.answer([row('h0')]);
    await first;
    await tick();
    expect(calls).toHaveLength(2);
    expect(calls[1]!.hashes.sort()).toEqual(['h1', 'h2', 'unknown']);
    calls[1]!.answer([row('h1'), row('h2')]);
    const answers = await Promise.all(waiting);
    expect(answers.map((a) => a?.id ?? null)).toEqual(['key_h1', 'key_h2', 'key_h1', null]);
  });

  it('a failed lookup fails its requests only; the next ones are looked up again', async () => {
    const { lookups, calls } = controlled();
    const failed = lookups.find('h1');
    await tick();
    const next = lookups.find('h2');
    calls[0]!.fail(new Error('connection lost'));
    await expect(failed).rejects.toThrow('connection lost');
    await tick();
    calls[1]!.answer([row('h2')]);
    expect(await next).toMatchObject({ id: 'key_h2' });
  });
});
