// Prisma CLI configuration. The app itself connects through @prisma/adapter-pg (src/db/prisma.ts);
// migrations are applied by our own runner (src/db/migrate.ts), compatible with `prisma migrate deploy`.
import { defineConfig } from 'prisma/config';

export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
  datasource: { url: process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/flint' },
});
