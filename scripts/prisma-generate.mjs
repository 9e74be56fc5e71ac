#!/usr/bin/env node
// Runs `prisma generate` without network access. Prisma's CLI insists on a schema-engine binary even
// though generating the client does not use it; that binary cannot be downloaded here, so we point
// PRISMA_SCHEMA_ENGINE_BINARY at an existing file when the caller has not set it.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const env = { ...process.env, PRISMA_HIDE_UPDATE_MESSAGE: '1', CHECKPOINT_DISABLE: '1' };
if (!env.PRISMA_SCHEMA_ENGINE_BINARY || !existsSync(env.PRISMA_SCHEMA_ENGINE_BINARY)) {
  env.PRISMA_SCHEMA_ENGINE_BINARY = process.execPath;
}
const r = spawnSync('npx', ['prisma', 'generate'], { cwd: root, env, stdio: 'inherit' });
process.exit(r.status ?? 1);
