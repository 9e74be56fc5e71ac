// The docs say what the code does: every sandbox token is in docs/test-tokens.md, every environment
// variable that src/config.ts reads is in docs/configuration.md, the README's table and .env.example.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SANDBOX_TOKEN_NAMES } from '../../src/payments/sandbox.js';

const read = (path: string) => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');

describe('docs/', () => {
  it('test-tokens.md lists every sandbox token', () => {
    const doc = read('docs/test-tokens.md');
    expect(SANDBOX_TOKEN_NAMES.length).toBeGreaterThan(5);
    for (const token of SANDBOX_TOKEN_NAMES) expect(doc).toContain(`| \`${token}\` |`);
  });

  it('every variable src/config.ts reads is documented in configuration.md, the README and .env.example', () => {
    const source = read('src/config.ts');
    const variables = [...new Set([...source.matchAll(/(?:optional\(env, |env\.)'?([A-Z][A-Z0-9_]+)/g)].map((m) => m[1]!))];
    expect(variables).toEqual(expect.arrayContaining(['PORT', 'DATABASE_URL', 'FLINT_DATA_DIR', 'GRAPHIQL', 'NODE_ENV']));
    const configuration = read('docs/configuration.md');
    const readme = read('README.md');
    const envExample = read('.env.example');
    for (const name of variables) {
      expect(configuration, name).toContain(`| \`${name}\` |`);
      expect(readme, name).toContain(`\`${name}\``);
      expect(envExample, name).toMatch(new RegExp(`^#? ?${name}=`, 'm'));
    }
  });
});
