import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { Hono, type Context } from 'hono';
import { createMiddleware } from 'hono/factory';
import { matchedRoutes } from 'hono/route';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { AppDeps, AppEnv } from '../http/context.js';

/**
 * Prometheus metrics (SPEC §9). One Registry per deps object rather than prom-client's global
 * one: the API and the workers of one process share it (main.ts hands them the same deps), while
 * test apps running side by side never see each other's counts.
 */
export type VerificationOutcome = 'genuine' | 'not_genuine' | 'locked' | 'rate_limited';
export type SmsOutcome = 'sent' | 'failed' | 'retrying' | 'skipped';
export type WebhookOutcome = 'delivered' | 'retrying' | 'failed' | 'cancelled';

/** What the metrics need from the deps: the queues to measure, and a logger for scrape errors. */
export type MetricsOwner = Pick<AppDeps, 'queues'> & Partial<Pick<AppDeps, 'logger'>>;

const JOB_STATES = ['waiting', 'active', 'delayed', 'prioritized', 'waiting-children', 'failed', 'completed'] as const;

export interface Metrics {
  registry: Registry;
  httpDuration: Histogram<'method' | 'route' | 'status'>;
  jobDuration: Histogram<'queue'>;
  dispatchLateness: Histogram;
  verificationChecks: Counter<'outcome'>;
  smsMessages: Counter<'outcome'>;
  webhookDeliveries: Counter<'outcome'>;
}

function createMetrics(owner: MetricsOwner): Metrics {
  const registry = new Registry();
  const registers = [registry];
  collectDefaultMetrics({ register: registry });
  new Gauge({
    name: 'queue_jobs',
    help: 'Jobs in each BullMQ queue by state, read from Redis at scrape time',
    labelNames: ['queue', 'state'],
    registers,
    async collect() {
      try {
        for (const queue of owner.queues.all()) {
          const counts = await queue.getJobCounts(...JOB_STATES);
          for (const state of JOB_STATES) this.set({ queue: queue.name, state }, counts[state] ?? 0);
        }
      } catch (err) {
        // A Redis outage must not break the scrape: the other metrics still matter then.
        this.reset();
        owner.logger?.warn({ err }, 'could not read queue depths for /metrics');
      }
    },
  });
  return {
    registry,
    httpDuration: new Histogram({
      name: 'http_request_duration_seconds',
      help: 'HTTP request duration by method, route pattern and status',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    jobDuration: new Histogram({
      name: 'job_duration_seconds',
      help: 'Time a worker spent processing one job, by queue',
      labelNames: ['queue'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers,
    }),
    dispatchLateness: new Histogram({
      name: 'dispatch_lateness_seconds',
      help: 'How long after its scheduled time a callback was dispatched (made ready)',
      buckets: [0.1, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 900, 3600],
      registers,
    }),
    verificationChecks: new Counter({
      name: 'verification_checks_total',
      help: 'Customer verification checks by outcome',
      labelNames: ['outcome'],
      registers,
    }),
    smsMessages: new Counter({
      name: 'sms_messages_total',
      help: 'Outbound SMS send attempts by outcome',
      labelNames: ['outcome'],
      registers,
    }),
    webhookDeliveries: new Counter({
      name: 'webhook_deliveries_total',
      help: 'Webhook delivery attempts by outcome',
      labelNames: ['outcome'],
      registers,
    }),
  };
}

const byOwner = new WeakMap<object, Metrics>();

/** The metrics of this deps object, created on first use. */
export function metricsFor(owner: MetricsOwner): Metrics {
  let metrics = byOwner.get(owner);
  if (!metrics) {
    metrics = createMetrics(owner);
    byOwner.set(owner, metrics);
  }
  return metrics;
}

export function observeJobDuration(owner: MetricsOwner, queue: string, seconds: number): void {
  metricsFor(owner).jobDuration.observe({ queue }, seconds);
}

export function observeDispatchLateness(owner: MetricsOwner, seconds: number): void {
  metricsFor(owner).dispatchLateness.observe(Math.max(0, seconds));
}

export function countVerification(owner: MetricsOwner, outcome: VerificationOutcome): void {
  metricsFor(owner).verificationChecks.inc({ outcome });
}

export function countSms(owner: MetricsOwner, outcome: SmsOutcome): void {
  metricsFor(owner).smsMessages.inc({ outcome });
}

export function countWebhookDelivery(owner: MetricsOwner, outcome: WebhookOutcome): void {
  metricsFor(owner).webhookDeliveries.inc({ outcome });
}

/**
 * The route pattern that answered (e.g. `/v1/callbacks/:id`), never the raw path, so label
 * cardinality stays bounded. Middleware is registered for method ALL; a request that matched no
 * route at all is `unmatched`.
 */
export function routeLabel(c: Context): string {
  const routes = matchedRoutes(c);
  for (let i = routes.length - 1; i >= 0; i--) {
    const route = routes[i]!;
    if (route.method !== 'ALL') return route.path;
  }
  return 'unmatched';
}

/** Times every request; mounted right after the request logger so it sees the final status. */
export const httpMetrics = createMiddleware<AppEnv>(async (c, next) => {
  const started = performance.now();
  await next();
  metricsFor(c.var.deps)
    .httpDuration.labels({ method: c.req.method, route: routeLabel(c), status: String(c.res.status) })
    .observe((performance.now() - started) / 1000);
});

export async function metricsResponse(c: Context, owner: MetricsOwner): Promise<Response> {
  const { registry } = metricsFor(owner);
  // prom-client writes NaN as `Nan` (e.g. event-loop lag before its first sample); Prometheus reads
  // that, but the exposition format says `NaN` and stricter parsers refuse anything else.
  const text = (await registry.metrics()).replace(/ Nan$/gm, ' NaN');
  return c.body(text, 200, { 'content-type': registry.contentType, 'cache-control': 'no-store' });
}

export interface MetricsServer {
  port: number;
  close(): Promise<void>;
}

/**
 * With METRICS_PORT set, /metrics is served only here, on a port meant to be reachable by the
 * scraper alone (the main port answers 404 for it). Resolves once the port is listening.
 */
export function startMetricsServer(deps: Pick<AppDeps, 'config' | 'queues' | 'logger'>): Promise<MetricsServer> {
  const port = deps.config.METRICS_PORT;
  if (port === undefined) throw new Error('METRICS_PORT is not set');
  const app = new Hono().get('/metrics', (c) => metricsResponse(c, deps));
  return new Promise((resolve) => {
    const server = serve({ fetch: app.fetch, port, hostname: deps.config.HOST }, (info: AddressInfo) => {
      deps.logger.info({ port: info.port }, 'metrics listening');
      resolve({
        port: info.port,
        close: () => new Promise<void>((done) => server.close(() => done())),
      });
    });
  });
}
