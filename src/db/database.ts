// Where Flint's PostgreSQL comes from: DATABASE_URL when it is set (production, CI with a service,
// a developer's own server), otherwise an embedded server whose data lives in <repo>/.data/postgres.
import { fileURLToPath } from 'node:url';
import { startEmbeddedPostgres } from './embedded.js';

export const DEFAULT_EMBEDDED_DATA_DIR = fileURLToPath(new URL('../../.data/postgres', import.meta.url));

export interface OpenDatabaseOptions {
  /** The database to use (DATABASE_URL, read by src/config.ts); unset: the embedded server. */
  databaseUrl?: string;
  /** Data directory of the embedded server, used only without a URL. */
  dataDir?: string;
  log?: (m: string) => void;
  /** Echo the embedded server's output (FLINT_DEBUG_PG). */
  echo?: boolean;
}

export interface OpenedDatabase {
  url: string;
  embedded: boolean;
  /** Stops the embedded server (no-op for DATABASE_URL). */
  stop: () => Promise<void>;
}

export async function openDatabase(opts: OpenDatabaseOptions = {}): Promise<OpenedDatabase> {
  const log = opts.log ?? (() => {});
  const url = opts.databaseUrl;
  if (url) {
    log(`Using the database at ${redactUrl(url)}`);
    return { url, embedded: false, stop: async () => {} };
  }
  const dataDir = opts.dataDir ?? DEFAULT_EMBEDDED_DATA_DIR;
  const server = await startEmbeddedPostgres({ dataDir, echo: opts.echo });
  log(`Started embedded PostgreSQL at ${redactUrl(server.url)} (data in ${dataDir})`);
  return { url: server.url, embedded: true, stop: server.stop };
}

/** The URL without its password, for logs. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '<unparseable database URL>';
  }
}
