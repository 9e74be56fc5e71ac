// GET /metrics in the Prometheus text format: GraphQL operation latency and errors (yoga's prometheus
// plugin), HTTP requests by route and status, and gauges of the database pool, the receipt outbox,
// live subscriptions and in-flight requests. Each server has its own registry (tests start several).
//
// Operation names are chosen by clients, so they are not used as labels (a client could otherwise grow
// the registry without bound); operation type and phase are.
import type pg from 'pg';
import { Counter, Gauge, Registry } from 'prom-client';
import { usePrometheus } from '@graphql-yoga/plugin-prometheus';
import type { Plugin } from 'graphql-yoga';

export interface MetricsSources {
  pool: pg.Pool;
  subscriptions: () => number;
  inFlight: () => number;
}

export class Metrics {
  readonly registry = new Registry();
  readonly httpRequests: Counter<'route' | 'status'>;
  readonly rateLimited: Counter<'limit'>;

  constructor(sources: MetricsSources) {
    const registers = [this.registry];
    this.httpRequests = new Counter({ name: 'flint_http_requests_total', help: 'HTTP requests answered, by route and status.', labelNames: ['route', 'status'], registers });
    this.rateLimited = new Counter({ name: 'flint_rate_limited_total', help: 'Requests refused by a rate limit, by limit.', labelNames: ['limit'], registers });
    new Gauge({ name: 'flint_http_in_flight', help: 'HTTP requests being answered.', registers, collect() { this.set(sources.inFlight()); } });
    new Gauge({ name: 'flint_subscriptions_live', help: 'Live GraphQL subscriptions on this instance.', registers, collect() { this.set(sources.subscriptions()); } });
    new Gauge({ name: 'flint_db_pool_connections', help: 'Connections of the database pool (total).', registers, collect() { this.set(sources.pool.totalCount); } });
    new Gauge({ name: 'flint_db_pool_idle', help: 'Idle connections of the database pool.', registers, collect() { this.set(sources.pool.idleCount); } });
    new Gauge({ name: 'flint_db_pool_waiting', help: 'Queries waiting for a database connection.', registers, collect() { this.set(sources.pool.waitingCount); } });
    new Gauge({
      name: 'flint_outbox_pending',
      help: 'Outbox messages (receipts) not yet delivered.',
      registers,
      async collect() {
        const { rows } = await sources.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM "OutboxMessage" WHERE "status" IN ('PENDING', 'SENDING')`).catch(() => ({ rows: [{ n: -1 }] }));
        this.set(rows[0]?.n ?? -1);
      },
    });
  }

  /** yoga's prometheus plugin on this registry (served by our /metrics route, not by yoga). */
  graphqlPlugin(): Plugin {
    return usePrometheus({
      registry: this.registry,
      endpoint: false,
      skipIntrospection: true,
      labels: { operationName: false },
      metrics: {
        graphql_envelop_request: true,
        graphql_envelop_request_duration: true,
        graphql_envelop_phase_parse: true,
        graphql_envelop_phase_validate: true,
        graphql_envelop_phase_context: true,
        graphql_envelop_phase_execute: true,
        graphql_envelop_phase_subscribe: true,
        graphql_envelop_error_result: true,
        graphql_yoga_http_duration: true,
        graphql_envelop_request_time_summary: false,
        graphql_envelop_deprecated_field: false,
        graphql_envelop_schema_change: false,
      },
    }) as Plugin;
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }
}
