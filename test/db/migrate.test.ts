import { createHash } from 'node:crypto';
import { appendFile, cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_MIGRATIONS_DIR, MigrationError, migrate } from '../../src/db/migrate.js';
import { freshDatabase } from '../support/db.js';

const noLog = () => {};

async function query<T extends pg.QueryResultRow>(url: string, sql: string, params: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(sql, params)).rows;
  } finally {
    await client.end();
  }
}

async function migrationNames(dir = DEFAULT_MIGRATIONS_DIR): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  return entries
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort();
}

interface Row {
  id: string;
  checksum: string;
  finished_at: Date | null;
  migration_name: string;
  logs: string | null;
  rolled_back_at: Date | null;
  started_at: Date;
  applied_steps_count: number;
}

const historyOf = (url: string) =>
  query<Row>(url, 'SELECT * FROM "_prisma_migrations" ORDER BY started_at, migration_name');

/** Copies the real migrations to a temporary directory the test may edit. */
async function copyOfMigrations(): Promise<{ dir: string; remove: () => Promise<void> }> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'flint-migrations-'));
  const dir = path.join(root, 'migrations');
  await cp(DEFAULT_MIGRATIONS_DIR, dir, { recursive: true });
  return { dir, remove: () => rm(root, { recursive: true, force: true }) };
}

describe('migrate()', () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });
  async function fresh(): Promise<string> {
    const db = await freshDatabase();
    cleanups.push(db.drop);
    return db.url;
  }
  async function editableMigrations(): Promise<string> {
    const copy = await copyOfMigrations();
    cleanups.push(copy.remove);
    return copy.dir;
  }

  describe('on an empty database', () => {
    let url: string;
    let applied: string[];
    beforeAll(async () => {
      url = await fresh();
      ({ applied } = await migrate(url, { log: noLog }));
    });

    it('applies every migration, in folder-name order', async () => {
      const names = await migrationNames();
      expect(names.length).toBeGreaterThanOrEqual(2);
      expect(applied).toEqual(names);
    });

    it('records each one the way Prisma does', async () => {
      const rows = await historyOf(url);
      expect(rows.map((r) => r.migration_name)).toEqual(applied);
      for (const row of rows) {
        const script = await readFile(path.join(DEFAULT_MIGRATIONS_DIR, row.migration_name, 'migration.sql'));
        expect(row.checksum).toBe(createHash('sha256').update(script).digest('hex'));
        expect(row.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
        expect(row.finished_at).toBeInstanceOf(Date);
        expect(row.finished_at!.getTime()).toBeGreaterThanOrEqual(row.started_at.getTime());
        expect(row.rolled_back_at).toBeNull();
        expect(row.logs).toBeNull();
        expect(row.applied_steps_count).toBe(1);
      }
    });

    it("creates _prisma_migrations with Prisma's DDL", async () => {
      const columns = await query<{ column_name: string; type: string; not_null: boolean; default: string | null }>(
        url,
        `SELECT a.attname AS column_name, format_type(a.atttypid, a.atttypmod) AS type, a.attnotnull AS not_null,
                pg_get_expr(d.adbin, d.adrelid) AS "default"
           FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
          WHERE a.attrelid = '"_prisma_migrations"'::regclass AND a.attnum > 0 AND NOT a.attisdropped
          ORDER BY a.attnum`,
      );
      expect(columns).toEqual([
        { column_name: 'id', type: 'character varying(36)', not_null: true, default: null },
        { column_name: 'checksum', type: 'character varying(64)', not_null: true, default: null },
        { column_name: 'finished_at', type: 'timestamp with time zone', not_null: false, default: null },
        { column_name: 'migration_name', type: 'character varying(255)', not_null: true, default: null },
        { column_name: 'logs', type: 'text', not_null: false, default: null },
        { column_name: 'rolled_back_at', type: 'timestamp with time zone', not_null: false, default: null },
        { column_name: 'started_at', type: 'timestamp with time zone', not_null: true, default: 'now()' },
        { column_name: 'applied_steps_count', type: 'integer', not_null: true, default: '0' },
      ]);
      const pk = await query<{ def: string }>(
        url,
        `SELECT pg_get_constraintdef(oid) AS def FROM pg_constraint
          WHERE conrelid = '"_prisma_migrations"'::regclass AND contype = 'p'`,
      );
      expect(pk).toEqual([{ def: 'PRIMARY KEY (id)' }]);
    });

    it('applies nothing when run again', async () => {
      const before = await historyOf(url);
      const logs: string[] = [];
      expect(await migrate(url, { log: (m) => logs.push(m) })).toEqual({ applied: [] });
      expect(await historyOf(url)).toEqual(before);
      expect(logs.join('\n')).toMatch(/no pending migrations/i);
    });

    it('makes "Activity" append-only: INSERT works, UPDATE, DELETE and TRUNCATE are refused', async () => {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        await client.query(
          `INSERT INTO "Activity" ("id", "merchantId", "livemode", "type", "actorType", "delta", "sequence", "hash")
           VALUES ('act_1', 'mer_1', false, 'order.created', 'api_key', '{}', 1, 'hash')`,
        );
        await expect(client.query(`UPDATE "Activity" SET "type" = 'tampered' WHERE "id" = 'act_1'`)).rejects.toThrow(
          /append-only: UPDATE is not allowed/,
        );
        await expect(client.query(`DELETE FROM "Activity" WHERE "id" = 'act_1'`)).rejects.toThrow(
          /append-only: DELETE is not allowed/,
        );
        await expect(client.query(`TRUNCATE "Activity"`)).rejects.toThrow(/append-only: TRUNCATE is not allowed/);
        const rows = await client.query(`SELECT "type" FROM "Activity" WHERE "id" = 'act_1'`);
        expect(rows.rows).toEqual([{ type: 'order.created' }]);
      } finally {
        await client.end();
      }
    });
  });

  it('applies each migration exactly once when two runners start together', async () => {
    const url = await fresh();
    const names = await migrationNames();
    const [a, b] = await Promise.all([migrate(url, { log: noLog }), migrate(url, { log: noLog })]);
    const appliedByBoth = [...a.applied, ...b.applied];
    expect(appliedByBoth.sort()).toEqual(names);
    // The lock is held for the whole run, so one runner does everything and the other finds nothing.
    expect([a.applied.length, b.applied.length].sort()).toEqual([0, names.length]);
    const rows = await historyOf(url);
    expect(rows.map((r) => r.migration_name).sort()).toEqual(names);
    expect(rows.every((r) => r.finished_at !== null && r.rolled_back_at === null)).toBe(true);
  });

  it('refuses to run when an applied migration was edited, naming it and saying what to do', async () => {
    const url = await fresh();
    const dir = await editableMigrations();
    await migrate(url, { migrationsDir: dir, log: noLog });
    const [first] = await migrationNames(dir);
    await appendFile(path.join(dir, first!, 'migration.sql'), '\n-- an innocent-looking edit\n');

    const attempt = migrate(url, { migrationsDir: dir, log: noLog });
    await expect(attempt).rejects.toBeInstanceOf(MigrationError);
    await expect(attempt).rejects.toThrow(new RegExp(`Migration ${first} was modified after it was applied`));
    await expect(attempt).rejects.toThrow(/new migration instead/);
  });

  it('accepts an applied migration whose line endings were converted (as Prisma does)', async () => {
    const url = await fresh();
    const dir = await editableMigrations();
    await migrate(url, { migrationsDir: dir, log: noLog });
    const [first] = await migrationNames(dir);
    const file = path.join(dir, first!, 'migration.sql');
    await writeFile(file, (await readFile(file, 'utf8')).replace(/\n/g, '\r\n'));
    expect(await migrate(url, { migrationsDir: dir, log: noLog })).toEqual({ applied: [] });
  });

  it('refuses to run when an applied migration folder is missing', async () => {
    const url = await fresh();
    const dir = await editableMigrations();
    await migrate(url, { migrationsDir: dir, log: noLog });
    const names = await migrationNames(dir);
    const last = names[names.length - 1]!;
    await rm(path.join(dir, last), { recursive: true });

    const attempt = migrate(url, { migrationsDir: dir, log: noLog });
    await expect(attempt).rejects.toBeInstanceOf(MigrationError);
    await expect(attempt).rejects.toThrow(new RegExp(`Migration ${last} is recorded as applied .* is missing`));
  });

  it('refuses to run after a failed attempt that was not resolved (finished_at and rolled_back_at null)', async () => {
    const url = await fresh();
    const dir = await editableMigrations();
    await migrate(url, { migrationsDir: dir, log: noLog });
    // What Prisma's own engine leaves behind when a script fails half-way.
    await query(
      url,
      `INSERT INTO "_prisma_migrations" (id, checksum, migration_name, logs, started_at, applied_steps_count)
       VALUES ('00000000-0000-4000-8000-000000000001', repeat('0', 64), '20991231000000_broken', 'ERROR: boom', now(), 0)`,
    );
    await mkdir(path.join(dir, '20991231000000_broken'));
    await writeFile(path.join(dir, '20991231000000_broken', 'migration.sql'), 'SELECT 1;\n');

    const attempt = migrate(url, { migrationsDir: dir, log: noLog });
    await expect(attempt).rejects.toBeInstanceOf(MigrationError);
    await expect(attempt).rejects.toThrow(/20991231000000_broken .*: ERROR: boom/);
    await expect(attempt).rejects.toThrow(/migrate resolve --rolled-back/);

    // Once resolved as rolled back, the migration is applied again.
    await query(url, `UPDATE "_prisma_migrations" SET rolled_back_at = now() WHERE finished_at IS NULL`);
    expect(await migrate(url, { migrationsDir: dir, log: noLog })).toEqual({ applied: ['20991231000000_broken'] });
  });

  it('rolls a failing migration back completely, records the error, and retries it once fixed', async () => {
    const url = await fresh();
    const dir = await editableMigrations();
    await migrate(url, { migrationsDir: dir, log: noLog });
    const name = '20991231000000_add_note';
    await mkdir(path.join(dir, name));
    const file = path.join(dir, name, 'migration.sql');
    await writeFile(file, 'ALTER TABLE "Order" ADD COLUMN "note" TEXT;\nALTER TABLE "Nope" ADD COLUMN "x" TEXT;\n');

    const attempt = migrate(url, { migrationsDir: dir, log: noLog });
    await expect(attempt).rejects.toBeInstanceOf(MigrationError);
    await expect(attempt).rejects.toThrow(new RegExp(`Migration ${name} failed and was rolled back[^]*"Nope"`));
    // The first statement did not survive: the whole script ran in one transaction.
    const note = await query(url, `SELECT 1 FROM information_schema.columns WHERE table_name = 'Order' AND column_name = 'note'`);
    expect(note).toEqual([]);
    const failed = (await historyOf(url)).filter((r) => r.migration_name === name);
    expect(failed.length).toBeGreaterThan(0);
    for (const row of failed) {
      expect(row.finished_at).toBeNull();
      expect(row.rolled_back_at).toBeInstanceOf(Date);
      expect(row.logs).toMatch(/"Nope"/);
    }

    await writeFile(file, 'ALTER TABLE "Order" ADD COLUMN "note" TEXT;\n');
    expect(await migrate(url, { migrationsDir: dir, log: noLog })).toEqual({ applied: [name] });
  });

  it('refuses a non-empty database that has no migration history', async () => {
    const url = await fresh();
    await query(url, 'CREATE TABLE "Unrelated" (id int)');
    const attempt = migrate(url, { log: noLog });
    await expect(attempt).rejects.toBeInstanceOf(MigrationError);
    await expect(attempt).rejects.toThrow(/not empty .*"Unrelated"/);
  });
});
