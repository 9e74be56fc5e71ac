import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { useTestApi } from '../support/api.js';

const api = useTestApi();

describe('HTTP endpoints', () => {
  it('/health answers without a database round trip, /ready checks the database', async () => {
    const health = await fetch(`${api.url}/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok' });
    const ready = await fetch(`${api.url}/ready`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready', database: 'ok' });
  });

});

describe('npm start with a bad setting', () => {
  it('stops at once with a message naming the variable', async () => {
    const child = spawn('npx', ['tsx', 'src/main.ts'], {
      env: { ...process.env, PORT: 'not-a-port', STRIPE_SECRET_KEY: 'nope' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d) => (output += String(d)));
    child.stderr.on('data', (d) => (output += String(d)));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code).toBe(78);
    expect(output).toContain('PORT must be an integer');
    expect(output).toContain('STRIPE_SECRET_KEY must look like');
  }, 60_000);
});
