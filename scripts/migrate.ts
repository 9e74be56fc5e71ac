// `npm run migrate`: applies pending migrations to DATABASE_URL, or to the embedded database in
// .data/postgres when DATABASE_URL is not set.
import { openDatabase } from '../src/db/database.js';
import { MigrationError, migrate } from '../src/db/migrate.js';

const db = await openDatabase({ log: (m) => console.log(m) });
try {
  const { applied } = await migrate(db.url, { log: (m) => console.log(m) });
  if (applied.length === 0) console.log('Database is up to date.');
  else for (const name of applied) console.log(`  applied ${name}`);
} catch (err) {
  process.exitCode = 1;
  if (err instanceof MigrationError) console.error(`\nMigration refused: ${err.message}`);
  else console.error(err);
} finally {
  await db.stop();
}
