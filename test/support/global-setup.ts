// Vitest globalSetup: one PostgreSQL database for the whole test run, migrated by our runner.
//   - DATABASE_URL set: a fresh `flint_test_<random>` database on that server, dropped afterwards.
//   - otherwise: an embedded PostgreSQL in a temporary directory, stopped and removed afterwards.
// Tests get the URL with `testDatabaseUrl()` from test/support/db.ts.
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { startEmbeddedPostgres, stopAbandonedPostgres } from '../../src/db/embedded.js';
import { migrate } from '../../src/db/migrate.js';
import { createDatabase, dropDatabase, randomDatabaseName } from './db.js';

declare module 'vitest' {
  export interface ProvidedContext {
    databaseUrl: string;
  }
}

const TEMP_PREFIX = 'flint-test-pg-';

/**
 * A run that was killed (SIGKILL, CI timeout) never reaches teardown: its server keeps running and
 * its temporary cluster stays on disk. Stop and remove those, leaving clusters of live runs alone.
 */
async function removeAbandonedClusters(): Promise<void> {
  const tmp = os.tmpdir();
  const entries = await readdir(tmp).catch(() => [] as string[]);
  for (const entry of entries.filter((e) => e.startsWith(TEMP_PREFIX) && !e.endsWith('.lock'))) {
    const dir = path.join(tmp, entry);
    try {
      // Young directories may belong to a run that is still initialising its cluster.
      if (Date.now() - (await stat(dir)).mtimeMs < 10 * 60_000) continue;
      if ((await stopAbandonedPostgres(dir)) === 'in use') continue;
      await rm(dir, { recursive: true, force: true });
      await rm(`${dir}.lock`, { recursive: true, force: true });
    } catch {
      // Not ours to worry about.
    }
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
      await removeAbandonedClusters();
      const dataDir = await mkdtemp(path.join(os.tmpdir(), TEMP_PREFIX));
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
