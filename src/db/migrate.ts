// Applies the SQL migrations in prisma/migrations to a PostgreSQL database.
//
// Prisma's schema engine (which `prisma migrate deploy` needs) is a native binary that cannot be
// installed everywhere, so Flint applies its migrations itself. The bookkeeping is the same as
// Prisma's: the `_prisma_migrations` table has Prisma's DDL, rows are written the way Prisma writes
// them (checksum = sha256 hex of migration.sql), and the same advisory lock key serialises runners.
// A database migrated here can therefore be taken over by `prisma migrate deploy`, and vice versa.
import { createHash, randomUUID } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

/** The key Prisma's schema engine passes to pg_advisory_lock on PostgreSQL. */
export const MIGRATION_ADVISORY_LOCK_KEY = 72707369;

/** How long migrate() waits for another runner holding the advisory lock. */
const LOCK_WAIT_MS = 120_000;

export const DEFAULT_MIGRATIONS_DIR = fileURLToPath(new URL('../../prisma/migrations/', import.meta.url));

/** The migration history and the migration files disagree, or a migration failed. */
export class MigrationError extends Error {
  override name = 'MigrationError';
}

export interface MigrationFile {
  /** Folder name, e.g. `20261127000000_init`; also `_prisma_migrations.migration_name`. */
  name: string;
  /** Content of `<name>/migration.sql`. */
  script: string;
  /** sha256 hex of the script, as Prisma records it. */
  checksum: string;
}

export interface MigrateOptions {
  migrationsDir?: string;
  log?: (msg: string) => void;
}

/** sha256 of the script's UTF-8 bytes, lower-case hex: what Prisma stores in `_prisma_migrations.checksum`. */
export function migrationChecksum(script: string): string {
  return createHash('sha256').update(script, 'utf8').digest('hex');
}

/**
 * Whether a script matches a recorded checksum, with Prisma's tolerance: line endings may have been
 * converted (git autocrlf) and very old Prisma versions recorded hex without zero padding.
 */
export function scriptMatchesChecksum(script: string, recorded: string): boolean {
  const variants = [script, script.replace(/\r\n/g, '\n'), script.replace(/\r\n/g, '\n').replace(/\n/g, '\r\n')];
  return variants.some((variant) => {
    const digest = createHash('sha256').update(variant, 'utf8').digest();
    const hex =
      recorded.length !== 0 && recorded.length !== 64
        ? Array.from(digest, (byte) => byte.toString(16)).join('')
        : digest.toString('hex');
    return hex === recorded;
  });
}

/** Reads the migration folders in `dir`, in the order Prisma applies them (by folder name). */
export async function readMigrations(dir: string = DEFAULT_MIGRATIONS_DIR): Promise<MigrationFile[]> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (err) {
    throw new MigrationError(`Cannot read the migrations directory ${dir}: ${(err as Error).message}`);
  }
  const lock = entries.find((e) => e.isFile() && e.name === 'migration_lock.toml');
  if (lock) {
    const text = await readFile(path.join(dir, lock.name), 'utf8');
    const provider = /^\s*provider\s*=\s*"([^"]*)"/m.exec(text)?.[1];
    if (provider !== undefined && provider !== 'postgresql') {
      throw new MigrationError(
        `${path.join(dir, lock.name)} says the migrations were written for "${provider}", not "postgresql".`,
      );
    }
  }
  const names = entries
    .filter((e) => e.isDirectory() && !e.name.startsWith('.'))
    .map((e) => e.name)
    .sort();
  const migrations: MigrationFile[] = [];
  for (const name of names) {
    const file = path.join(dir, name, 'migration.sql');
    let script: string;
    try {
      script = await readFile(file, 'utf8');
    } catch {
      throw new MigrationError(
        `The migration folder ${path.join(dir, name)} has no migration.sql. ` +
          'Every folder in the migrations directory must contain one; remove the folder or add the file.',
      );
    }
    migrations.push({ name, script, checksum: migrationChecksum(script) });
  }
  return migrations;
}

interface MigrationRow {
  id: string;
  checksum: string;
  finished_at: Date | null;
  migration_name: string;
  logs: string | null;
  rolled_back_at: Date | null;
  started_at: Date;
  applied_steps_count: number;
}

// Exactly the table Prisma's schema engine creates on PostgreSQL.
const CREATE_MIGRATIONS_TABLE = `CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
    "id"                    VARCHAR(36) PRIMARY KEY NOT NULL,
    "checksum"              VARCHAR(64) NOT NULL,
    "finished_at"           TIMESTAMPTZ,
    "migration_name"        VARCHAR(255) NOT NULL,
    "logs"                  TEXT,
    "rolled_back_at"        TIMESTAMPTZ,
    "started_at"            TIMESTAMPTZ NOT NULL DEFAULT now(),
    "applied_steps_count"   INTEGER NOT NULL DEFAULT 0
)`;

/**
 * Applies every pending migration in `migrationsDir` (default: the repository's prisma/migrations)
 * to the database at `databaseUrl`, each in its own transaction. Safe to call from several processes
 * at once: a session-level advisory lock serialises them, and the later ones find nothing to do.
 *
 * Throws MigrationError, before applying anything, when the history cannot be trusted: an applied
 * migration's file was edited or removed, or an earlier attempt failed and was not resolved.
 */
export async function migrate(databaseUrl: string, opts: MigrateOptions = {}): Promise<{ applied: string[] }> {
  const migrationsDir = opts.migrationsDir ?? DEFAULT_MIGRATIONS_DIR;
  const log = opts.log ?? (() => {});
  const migrations = await readMigrations(migrationsDir);

  const client = new pg.Client({ connectionString: databaseUrl, application_name: 'flint-migrate' });
  // A dropped connection surfaces as a failed query; don't let the 'error' event crash the process.
  client.on('error', () => {});
  await client.connect();
  let locked = false;
  try {
    await acquireLock(client, log);
    locked = true;

    const { rows: existing } = await client.query<{ exists: boolean }>(
      `SELECT to_regclass('"_prisma_migrations"') IS NOT NULL AS "exists"`,
    );
    if (!existing[0]?.exists) {
      await refuseNonEmptySchema(client);
      await client.query(CREATE_MIGRATIONS_TABLE);
    }

    const { rows } = await client.query<MigrationRow>(
      `SELECT "id", "checksum", "finished_at", "migration_name", "logs", "rolled_back_at", "started_at", "applied_steps_count"
         FROM "_prisma_migrations" ORDER BY "started_at" ASC`,
    );
    checkHistory(rows, migrations, migrationsDir);

    const appliedNames = new Set(rows.filter((r) => r.rolled_back_at === null).map((r) => r.migration_name));
    const pending = migrations.filter((m) => !appliedNames.has(m.name));
    if (pending.length === 0) {
      log('No pending migrations.');
      return { applied: [] };
    }

    const applied: string[] = [];
    for (const migration of pending) {
      log(`Applying migration ${migration.name}`);
      await applyOne(client, migration);
      applied.push(migration.name);
    }
    log(`Applied ${applied.length} migration${applied.length === 1 ? '' : 's'}.`);
    return { applied };
  } finally {
    if (locked) {
      await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_ADVISORY_LOCK_KEY]).catch(() => {});
    }
    await client.end().catch(() => {});
  }
}

async function acquireLock(client: pg.Client, log: (msg: string) => void): Promise<void> {
  const deadline = Date.now() + LOCK_WAIT_MS;
  let told = false;
  for (;;) {
    const { rows } = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1) AS "locked"', [
      MIGRATION_ADVISORY_LOCK_KEY,
    ]);
    if (rows[0]?.locked) return;
    if (Date.now() > deadline) {
      throw new MigrationError(
        `Timed out after ${LOCK_WAIT_MS / 1000}s waiting for the migration lock (pg_advisory_lock(${MIGRATION_ADVISORY_LOCK_KEY})). ` +
          'Another process is migrating this database; find it with ' +
          `SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND objid = ${MIGRATION_ADVISORY_LOCK_KEY}.`,
      );
    }
    if (!told) {
      log('Waiting for another process to finish migrating this database...');
      told = true;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Like Prisma: without a migration history, only an empty schema may be migrated. */
async function refuseNonEmptySchema(client: pg.Client): Promise<void> {
  const { rows } = await client.query<{ name: string }>(
    `SELECT c.relname AS "name"
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
     UNION ALL
     SELECT t.typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
      WHERE n.nspname = current_schema() AND t.typtype = 'e'
      LIMIT 5`,
  );
  if (rows.length > 0) {
    throw new MigrationError(
      `The database schema is not empty (it has ${rows.map((r) => `"${r.name}"`).join(', ')}) but has no ` +
        '_prisma_migrations table, so it was not created by these migrations. Point DATABASE_URL at an empty ' +
        'database, or baseline it: record the migrations it already contains with ' +
        '`npx prisma migrate resolve --applied <migration>`.',
    );
  }
}

function checkHistory(rows: MigrationRow[], migrations: MigrationFile[], migrationsDir: string): void {
  const failed = rows.filter((r) => r.finished_at === null && r.rolled_back_at === null);
  if (failed.length > 0) {
    const details = failed
      .map((r) => {
        const logs = r.logs?.trim();
        return `  - ${r.migration_name} (started ${r.started_at.toISOString()})${logs ? `: ${logs}` : ''}`;
      })
      .join('\n');
    throw new MigrationError(
      `A previous attempt to apply a migration failed, so no migration will be applied:\n${details}\n` +
        'Check what that attempt left in the database and repair it by hand. Then mark the migration as ' +
        'rolled back to retry it (`npx prisma migrate resolve --rolled-back <name>`, or ' +
        `UPDATE "_prisma_migrations" SET rolled_back_at = now() WHERE migration_name = '<name>' AND finished_at IS NULL), ` +
        'or as applied if you completed it by hand (`npx prisma migrate resolve --applied <name>`).',
    );
  }

  const byName = new Map(migrations.map((m) => [m.name, m]));
  for (const row of rows) {
    if (row.rolled_back_at !== null || row.finished_at === null) continue;
    const file = byName.get(row.migration_name);
    if (!file) {
      throw new MigrationError(
        `Migration ${row.migration_name} is recorded as applied in this database, but its folder ` +
          `${path.join(migrationsDir, row.migration_name)} is missing. Restore it from version control ` +
          '(applied migrations must never be deleted or renamed), or point DATABASE_URL at the database ' +
          'that belongs to this checkout.',
      );
    }
    if (!scriptMatchesChecksum(file.script, row.checksum)) {
      throw new MigrationError(
        `Migration ${row.migration_name} was modified after it was applied to this database ` +
          `(recorded checksum ${row.checksum}, ${path.join(migrationsDir, row.migration_name, 'migration.sql')} ` +
          `now has ${file.checksum}). Applied migrations are immutable: restore the file as it was ` +
          `(e.g. \`git checkout -- prisma/migrations/${row.migration_name}/migration.sql\`) and put the change ` +
          'in a new migration instead.',
      );
    }
  }
}

async function applyOne(client: pg.Client, migration: MigrationFile): Promise<void> {
  const id = randomUUID();
  try {
    await client.query('BEGIN');
    await client.query(
      `INSERT INTO "_prisma_migrations" ("id", "checksum", "migration_name", "started_at", "applied_steps_count")
       VALUES ($1, $2, $3, now(), 0)`,
      [id, migration.checksum, migration.name],
    );
    // One simple-protocol query, so a multi-statement script runs as written.
    await client.query(migration.script);
    await client.query(
      `UPDATE "_prisma_migrations" SET "finished_at" = now(), "applied_steps_count" = 1 WHERE "id" = $1`,
      [id],
    );
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {});
    const message = describePgError(err);
    // The transaction rolled everything back, so the attempt is recorded as failed *and* rolled back:
    // the history keeps the error, and the next run retries once the script is fixed.
    await client
      .query(
        `INSERT INTO "_prisma_migrations" ("id", "checksum", "migration_name", "logs", "started_at", "rolled_back_at", "applied_steps_count")
         VALUES ($1, $2, $3, $4, now(), now(), 0)`,
        [id, migration.checksum, migration.name, message],
      )
      .catch(() => {});
    throw new MigrationError(
      `Migration ${migration.name} failed and was rolled back; the database is unchanged by it.\n${message}\n` +
        `Fix prisma/migrations/${migration.name}/migration.sql (it was never applied, so it may still be edited) and run the migrations again.`,
      { cause: err },
    );
  }
}

function describePgError(err: unknown): string {
  if (err && typeof err === 'object') {
    const e = err as { message?: string; code?: string; position?: string; detail?: string; hint?: string };
    const parts = [`${e.code ? `${e.code}: ` : ''}${e.message ?? String(err)}`];
    if (e.detail) parts.push(`DETAIL: ${e.detail}`);
    if (e.hint) parts.push(`HINT: ${e.hint}`);
    if (e.position) parts.push(`at character ${e.position} of the script`);
    return parts.join('\n');
  }
  return String(err);
}
