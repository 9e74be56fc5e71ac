// Vitest globalSetup: one PostgreSQL database for the whole test run, migrated by our runner.
//   - DATABASE_URL set: a fresh `flint_test_<random>` database on that server, dropped afterwards.
//   - otherwise: an embedded PostgreSQL in a temporary directory, stopped and removed afterwards.
// Tests get the URL with `testDatabaseUrl()` from test/support/db.ts.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { startEmbeddedPostgres } from '../../src/db/embedded.js';
import { migrate } from '../../src/db/migrate.js';
import { createDatabase, dropDatabase, randomDatabaseName } from './db.js';

declare module 'vitest' {
  export interface ProvidedContext {
    databaseUrl: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const cleanups: Array<() => Promise<void>> = [];
  const teardown = async () => {
    for (const cleanup of cleanups.reverse()) {
      await cleanup().catch((err: unknown) => console.error('test database teardown:', err));
    }
  };

  try {
    let serverUrl = process.env.DATABASE_URL;
    if (!serverUrl) {
      const dataDir = await mkdtemp(path.join(os.tmpdir(), 'flint-test-pg-'));
      cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
      const server = await startEmbeddedPostgres({ dataDir });
      cleanups.push(server.stop);
      serverUrl = server.url;
    }

    const url = await createDatabase(serverUrl, randomDatabaseName('flint_test'));
    cleanups.push(() => dropDatabase(serverUrl, url));

    await migrate(url);
    project.provide('databaseUrl', url);
  } catch (err) {
    await teardown();
    throw err;
  }
  return teardown;
}
