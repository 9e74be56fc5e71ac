// The Dockerfile and compose.yaml, read as files (no Docker daemon can pull base images here;
// scripts/check-image-without-docker.sh replays the stages and runs the result, docs/self-hosting.md):
// multi-stage, compiled JavaScript, non-root, health checks; every file it copies exists; compose
// runs Flint on PostgreSQL and Redis, each with a health check, Flint only once both are healthy.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const dockerfile = readFileSync(`${ROOT}Dockerfile`, 'utf8');
const instructions = dockerfile
  .replace(/\\\n/g, ' ')
  .split('\n')
  .map((line) => line.trim())
  .filter((line) => line && !line.startsWith('#'));

describe('Dockerfile', () => {
  const stages = instructions.reduce<string[][]>((all, line) => {
    if (/^FROM /i.test(line)) all.push([line]);
    else all.at(-1)?.push(line);
    return all;
  }, []);
  const runtime = stages.at(-1)!;

  it('is multi-stage; the runtime stage runs the compiled server as a non-root user with a health check', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    expect(stages[0]![0]).toMatch(/ AS build$/);
    expect(runtime.some((l) => /^COPY --from=build \/app\/dist /.test(l))).toBe(true);
    expect(runtime.some((l) => /^RUN npm ci --omit=dev /.test(l))).toBe(true);
    const user = runtime.filter((l) => l.startsWith('USER ')).at(-1);
    expect(user).toBeDefined();
    expect(user).not.toMatch(/^USER (root|0)\b/);
    expect(runtime.at(-1)).toBe('CMD ["node", "dist/main.js"]');
    expect(dockerfile).not.toMatch(/\btsx\b.*main/);
    expect(runtime.some((l) => /^HEALTHCHECK .*\/ready/.test(l))).toBe(true);
    // Node 22 LTS, the same major version CI tests.
    expect(dockerfile).toMatch(/^ARG NODE_IMAGE=node:22-/m);
  });

  it('copies only files that exist, and the compiled server finds its migrations and docs where it looks', () => {
    for (const line of instructions.filter((l) => /^COPY /.test(l) && !l.includes('--from='))) {
      const sources = line.split(/\s+/).slice(1, -1);
      for (const source of sources) expect(existsSync(`${ROOT}${source}`), source).toBe(true);
    }
    expect(runtime).toContain('COPY prisma/migrations ./prisma/migrations');
    expect(runtime).toContain('COPY docs ./docs');
  });
});

describe('compose.yaml', () => {
  const compose = parse(readFileSync(`${ROOT}compose.yaml`, 'utf8')) as {
    services: Record<string, { build?: string; image?: string; environment?: Record<string, string>; depends_on?: Record<string, { condition: string }>; healthcheck?: { test: string[] } }>;
  };

  it('runs Flint, PostgreSQL and Redis, each with a health check', () => {
    expect(Object.keys(compose.services).sort()).toEqual(['flint', 'postgres', 'redis']);
    for (const [name, service] of Object.entries(compose.services)) expect(service.healthcheck?.test.length, name).toBeGreaterThan(1);
    expect(compose.services.postgres!.image).toMatch(/^postgres:(1[5-9]|[2-9]\d)/);
    expect(compose.services.redis!.image).toMatch(/^redis:/);
  });

  it('starts Flint from this Dockerfile once the database and Redis are healthy, pointed at both', () => {
    const flint = compose.services.flint!;
    expect(flint.build).toBe('.');
    expect(flint.depends_on).toEqual({ postgres: { condition: 'service_healthy' }, redis: { condition: 'service_healthy' } });
    const env = flint.environment!;
    const pgEnv = compose.services.postgres!.environment!;
    expect(env.DATABASE_URL).toBe(`postgresql://${pgEnv.POSTGRES_USER}:${pgEnv.POSTGRES_PASSWORD}@postgres:5432/${pgEnv.POSTGRES_DB}`);
    expect(env.REDIS_URL).toBe('redis://redis:6379');
    expect(flint.healthcheck!.test.join(' ')).toContain('/ready');
  });
});
