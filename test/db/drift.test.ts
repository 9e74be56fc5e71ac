// Fails when prisma/schema.prisma and prisma/migrations drift apart.
//
// `prisma migrate diff` needs Prisma's schema-engine binary, which cannot be installed everywhere, so
// this test does the comparison itself:
//   expected: Prisma's own parse of schema.prisma (the DMMF, from the prisma-schema wasm module that
//             ships inside the `prisma` package), turned into the tables/columns/indexes/foreign keys/
//             enums that Prisma's migrations create for it on PostgreSQL;
//   actual:   the catalog of a fresh database migrated by our runner (src/db/migrate.ts).
// Anything in one and not the other, or different, is reported. Triggers, functions and CHECK
// constraints are not part of a Prisma schema and are not compared.
// The two sides live in test/support/drift-expected.ts and test/support/drift-actual.ts.
import { readFile } from 'node:fs/promises';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate } from '../../src/db/migrate.js';
import { freshDatabase } from '../support/db.js';
import { compareSchemas, describeDatabase } from '../support/drift-actual.js';
import { expectedSchema, parseSchema, SCHEMA_PATH, type SchemaDesc } from '../support/drift-expected.js';

// ---------------------------------------------------------------------------------------------

async function run(url: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

describe('schema.prisma and prisma/migrations', () => {
  let schemaText: string;
  let expected: SchemaDesc;
  let migratedUrl: string;
  const drops: Array<() => Promise<void>> = [];

  async function migratedDatabase(): Promise<string> {
    const db = await freshDatabase();
    drops.push(db.drop);
    await migrate(db.url);
    return db.url;
  }

  beforeAll(async () => {
    schemaText = await readFile(SCHEMA_PATH, 'utf8');
    expected = expectedSchema(parseSchema(schemaText), schemaText);
    migratedUrl = await migratedDatabase();
  });
  afterAll(async () => {
    for (const drop of drops) await drop();
  });

  it('describe the same database (if this fails: add a migration for your schema change, or fix schema.prisma)', async () => {
    const actual = await describeDatabase(migratedUrl);
    const differences = compareSchemas(expected, actual);
    expect(differences, `schema.prisma and the migrations disagree:\n${differences.join('\n')}`).toEqual([]);
    // Guard against a vacuous pass: the model really was read.
    expect([...expected.tables.keys()].sort()).toEqual([...actual.tables.keys()].sort());
    expect(expected.tables.size).toBeGreaterThanOrEqual(8);
  });

  it('reports a database that was changed behind the schema’s back', async () => {
    const url = await migratedDatabase();
    await run(
      url,
      `ALTER TABLE "Order" ADD COLUMN "giftMessage" TEXT;
       DROP INDEX "Order_merchantId_livemode_customerId_idx";
       ALTER TABLE "LineItem" ALTER COLUMN "sku" SET NOT NULL;
       ALTER TABLE "TaxRate" ALTER COLUMN "inclusive" SET DEFAULT true;
       ALTER TABLE "IdempotencyKey" ALTER COLUMN "expiresAt" TYPE TIMESTAMP(3);
       ALTER TABLE "LineItem" DROP CONSTRAINT "LineItem_orderId_fkey",
         ADD CONSTRAINT "LineItem_orderId_fkey" FOREIGN KEY ("orderId") REFERENCES "Order"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
       ALTER TYPE "OrderStatus" ADD VALUE 'DISPUTED';
       CREATE UNIQUE INDEX "ApiKey_prefix_key" ON "ApiKey"("prefix");
       CREATE TABLE "Stray" ("id" TEXT PRIMARY KEY);`,
    );
    const differences = compareSchemas(expected, await describeDatabase(url));
    const wanted = [
      /column "Order"\."giftMessage": in the migrated database, not in schema\.prisma/,
      /index "Order_merchantId_livemode_customerId_idx" on "Order": \(merchantId, livemode, customerId\) in schema\.prisma, missing/,
      /column "LineItem"\."sku": nullable in schema\.prisma, NOT NULL in the database/,
      /column "TaxRate"\."inclusive": default boolean:false in schema\.prisma, default boolean:true in the database/,
      /column "IdempotencyKey"\."expiresAt": type timestamp\(3\) with time zone in schema\.prisma, timestamp\(3\) without time zone/,
      /foreign key "LineItem_orderId_fkey" on "LineItem": .*ON DELETE CASCADE .* in schema\.prisma, .*ON DELETE RESTRICT/,
      /enum "OrderStatus": \(OPEN, .*CANCELED\) in schema\.prisma, \(OPEN, .*CANCELED, DISPUTED\) in the database/,
      /index "ApiKey_prefix_key" on "ApiKey": UNIQUE \(prefix\) in the migrated database, not in schema\.prisma/,
      /table "Stray": in the migrated database, not in schema\.prisma/,
    ];
    for (const pattern of wanted) {
      expect(differences.some((d) => pattern.test(d)), `no difference matches ${pattern}:\n${differences.join('\n')}`).toBe(true);
    }
    expect(differences).toHaveLength(wanted.length);
  });

  it('reports a schema.prisma change that has no migration', async () => {
    const edited = schemaText
      .replace(/(\n\s*sku\s+String\?)/, '$1\n  giftWrap Boolean @default(false)')
      .replace(/\n\s*@@index\(\[expiresAt\]\)/, '')
      .replace(/(\n\s*cancelReason\s+)String\?/, '$1String');
    expect(edited).not.toBe(schemaText);
    const differences = compareSchemas(expectedSchema(parseSchema(edited), edited), await describeDatabase(migratedUrl));
    const wanted = [
      /index "IdempotencyKey_expiresAt_idx" on "IdempotencyKey": \(expiresAt\) in the migrated database, not in schema\.prisma/,
      /column "LineItem"\."giftWrap": in schema\.prisma, missing from the migrated database/,
      /column "Order"\."cancelReason": NOT NULL in schema\.prisma, nullable in the database/,
    ];
    for (const pattern of wanted) {
      expect(differences.some((d) => pattern.test(d)), `no difference matches ${pattern}:\n${differences.join('\n')}`).toBe(true);
    }
    expect(differences).toHaveLength(wanted.length);
  });
});
