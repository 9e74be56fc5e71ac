import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.js';

describe('loadConfig', () => {
  it('defaults: port 4000, embedded database, sandbox processor', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({ port: 4000, databaseUrl: null, dataDir: null, redisUrl: null, stripeSecretKey: null, smtpUrl: null, development: false, graphiql: true });
  });

  it('GRAPHIQL turns GraphiQL off or on; FLINT_DATA_DIR moves the embedded database', () => {
    expect(loadConfig({ GRAPHIQL: 'false' }).graphiql).toBe(false);
    expect(loadConfig({ GRAPHIQL: '0' }).graphiql).toBe(false);
    expect(loadConfig({ GRAPHIQL: 'TRUE' }).graphiql).toBe(true);
    expect(() => loadConfig({ GRAPHIQL: 'maybe' })).toThrow(/GRAPHIQL must be true or false \(got "maybe"\)/);
    expect(loadConfig({ FLINT_DATA_DIR: '/var/lib/flint/pg' }).dataDir).toBe('/var/lib/flint/pg');
  });

  it('reads every variable', () => {
    const config = loadConfig({
      PORT: '8080',
      DATABASE_URL: 'postgresql://u@db:5432/flint',
      REDIS_URL: 'redis://127.0.0.1:6379',
      STRIPE_SECRET_KEY: 'sk_test_abc123',
      STRIPE_WEBHOOK_SECRET: 'whsec_abc',
      SMTP_URL: 'smtp://127.0.0.1:2525',
      NODE_ENV: 'development',
    });
    expect(config).toMatchObject({ port: 8080, databaseUrl: 'postgresql://u@db:5432/flint', redisUrl: 'redis://127.0.0.1:6379', development: true });
  });

  it('names every bad setting at once', () => {
    let error: unknown;
    try {
      loadConfig({ PORT: 'eighty', DATABASE_URL: 'mysql://x', REDIS_URL: 'not a url', STRIPE_SECRET_KEY: 'pk_test_123', SMTP_URL: 'http://mail' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as ConfigError).message;
    for (const name of ['PORT', 'DATABASE_URL', 'REDIS_URL', 'STRIPE_SECRET_KEY', 'SMTP_URL']) expect(message).toContain(name);
    expect((error as ConfigError).problems).toHaveLength(5);
  });

  it('refuses a webhook secret without a Stripe key, and a port out of range', () => {
    expect(() => loadConfig({ STRIPE_WEBHOOK_SECRET: 'whsec_1' })).toThrow(/STRIPE_SECRET_KEY is not/);
    expect(() => loadConfig({ PORT: '70000' })).toThrow(/PORT/);
  });
});
