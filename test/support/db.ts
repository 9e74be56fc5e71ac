import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';

/** URL of the run's database: created and migrated once by test/support/global-setup.ts. */
export function testDatabaseUrl(): string {
  return inject('databaseUrl');
}

/**
 * Another, empty database on the same server (not migrated), for tests that need their own schema.
 * `drop()` removes it even if connections are still open.
 */
export async function freshDatabase(): Promise<{ url: string; drop: () => Promise<void> }> {
  const server = testDatabaseUrl();
  const url = await createDatabase(server, randomDatabaseName('flint_fresh'));
  return { url, drop: () => dropDatabase(server, url) };
}

export function randomDatabaseName(prefix: string): string {
  return `${prefix}_${randomBytes(6).toString('hex')}`;
}

/** `url` with its database replaced by `name`. */
export function withDatabase(url: string, name: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${name}`;
  return parsed.toString();
}

function databaseName(url: string): string {
  return decodeURIComponent(new URL(url).pathname.replace(/^\//, ''));
}

async function withClient<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  client.on('error', () => {});
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => {});
  }
}

/** Creates database `name` through a connection to `serverUrl`; returns the new database's URL. */
export async function createDatabase(serverUrl: string, name: string): Promise<string> {
  await withClient(serverUrl, (client) => client.query(`CREATE DATABASE ${client.escapeIdentifier(name)}`));
  return withDatabase(serverUrl, name);
}

/** Drops the database `url` names, connecting through `serverUrl` (which must name another database). */
export async function dropDatabase(serverUrl: string, url: string): Promise<void> {
  const name = databaseName(url);
  if (name === databaseName(serverUrl)) throw new Error(`refusing to drop ${name} through a connection to itself`);
  await withClient(serverUrl, (client) =>
    client.query(`DROP DATABASE IF EXISTS ${client.escapeIdentifier(name)} WITH (FORCE)`),
  );
}
