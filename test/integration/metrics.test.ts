import { Gauge } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestContext, type TestContext } from '../helpers/harness.js';
import {
  countSms,
  countVerification,
  countWebhookDelivery,
  metricsFor,
  observeDispatchLateness,
  observeJobDuration,
  startMetricsServer,
  type MetricsServer,
} from '../../src/ops/metrics.js';
import { QUEUE_NAMES } from '../../src/queues/queues.js';

let t: TestContext;
let ops: string;
let agent: string;

beforeAll(async () => {
  t = await createTestContext();
  ops = await t.key('ops');
  agent = await t.key('agent', { id: 'mia' });
});
afterAll(() => t.close());

/** Prometheus text exposition format 0.0.4, one line at a time. */
const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
const LABEL = '[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\\\\n]|\\\\.)*"';
const VALUE = '(?:[-+]?(?:\\d+(?:\\.\\d*)?|\\.\\d+)(?:[eE][-+]?\\d+)?|NaN|[-+]Inf)';
const SAMPLE = new RegExp(`^(${NAME})(?:\\{(${LABEL}(?:,${LABEL})*)?,?\\})? (${VALUE})(?: -?\\d+)?$`);
const HELP = new RegExp(`^# HELP (${NAME}) .*$`);
const TYPE = new RegExp(`^# TYPE (${NAME}) (counter|gauge|histogram|summary|untyped)$`);

interface Parsed {
  help: Set<string>;
  types: Map<string, string>;
  samples: { name: string; labels: Record<string, string>; value: number }[];
}

function parse(text: string): Parsed {
  const parsed: Parsed = { help: new Set(), types: new Map(), samples: [] };
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const help = HELP.exec(line);
    const type = TYPE.exec(line);
    const sample = SAMPLE.exec(line);
    expect(help || type || sample, `not Prometheus text: ${line}`).toBeTruthy();
    if (help) parsed.help.add(help[1]!);
    if (type) parsed.types.set(type[1]!, type[2]!);
    if (sample) {
      const labels = Object.fromEntries([...(sample[2] ?? '').matchAll(/([a-zA-Z_]\w*)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1]!, m[2]!]));
      parsed.samples.push({ name: sample[1]!, labels, value: Number(sample[3]) });
    }
  }
  return parsed;
}

const find = (p: Parsed, name: string, labels: Record<string, string>) =>
  p.samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));

async function scrape(): Promise<Parsed> {
  const res = await t.app.request('/metrics', { headers: { authorization: `Bearer ${ops}` } });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
  return parse(await res.text());
}

describe('GET /metrics on the main port', () => {
  it('needs an ops or admin key', async () => {
    expect((await t.request('GET', '/metrics')).status).toBe(401);
    expect((await t.request('GET', '/metrics', { key: agent })).status).toBe(403);
    expect((await t.request('GET', '/metrics', { key: await t.key('admin') })).status).toBe(200);
  });

  it('is valid Prometheus text with HELP and TYPE for every metric we own', async () => {
    observeJobDuration(t.runtime.deps, QUEUE_NAMES.due, 0.2);
    observeDispatchLateness(t.runtime.deps, 1.5);
    countVerification(t.runtime.deps, 'genuine');
    countSms(t.runtime.deps, 'sent');
    countWebhookDelivery(t.runtime.deps, 'delivered');
    const p = await scrape();
    const expected = {
      http_request_duration_seconds: 'histogram',
      queue_jobs: 'gauge',
      job_duration_seconds: 'histogram',
      dispatch_lateness_seconds: 'histogram',
      verification_checks_total: 'counter',
      sms_messages_total: 'counter',
      webhook_deliveries_total: 'counter',
      process_cpu_seconds_total: 'counter',
    };
    for (const [name, type] of Object.entries(expected)) {
      expect(p.help.has(name), `HELP ${name}`).toBe(true);
      expect(p.types.get(name), `TYPE ${name}`).toBe(type);
    }
    expect(find(p, 'job_duration_seconds_count', { queue: QUEUE_NAMES.due })?.value).toBe(1);
    expect(find(p, 'job_duration_seconds_sum', { queue: QUEUE_NAMES.due })?.value).toBe(0.2);
    expect(find(p, 'dispatch_lateness_seconds_bucket', { le: '1' })?.value).toBe(0);
    expect(find(p, 'dispatch_lateness_seconds_bucket', { le: '2' })?.value).toBe(1);
    expect(find(p, 'verification_checks_total', { outcome: 'genuine' })?.value).toBe(1);
    expect(find(p, 'sms_messages_total', { outcome: 'sent' })?.value).toBe(1);
    expect(find(p, 'webhook_deliveries_total', { outcome: 'delivered' })?.value).toBe(1);
  });

  it('writes NaN the way the format spells it (prom-client writes `Nan`)', async () => {
    new Gauge({ name: 'test_not_a_number', help: 'A gauge without a value yet', registers: [metricsFor(t.runtime.deps).registry] }).set(NaN);
    const res = await t.app.request('/metrics', { headers: { authorization: `Bearer ${ops}` } });
    const text = await res.text();
    expect(text).toContain('\ntest_not_a_number NaN\n');
    expect(text).not.toMatch(/ Nan$/m);
    expect(Number.isNaN(find(parse(text), 'test_not_a_number', {})?.value)).toBe(true);
  });

  it('labels HTTP latency with the route pattern, never the raw path', async () => {
    const ids = ['00000000-0000-4000-8000-000000000001', '00000000-0000-4000-8000-000000000002'];
    for (const id of ids) expect((await t.request('GET', `/v1/callbacks/${id}`, { key: agent })).status).toBe(404);
    expect((await t.request('GET', '/no/such/thing')).status).toBe(404);
    expect((await t.request('GET', '/healthz')).status).toBe(200);
    const p = await scrape();
    expect(find(p, 'http_request_duration_seconds_count', { method: 'GET', route: '/v1/callbacks/:id', status: '404' })?.value).toBe(2);
    expect(find(p, 'http_request_duration_seconds_count', { method: 'GET', route: 'unmatched', status: '404' })?.value).toBe(1);
    expect(find(p, 'http_request_duration_seconds_count', { method: 'GET', route: '/healthz', status: '200' })?.value).toBe(1);
    const routes = new Set(p.samples.filter((s) => s.name.startsWith('http_request_duration_seconds')).map((s) => s.labels.route));
    for (const route of routes) expect(route).not.toMatch(/[0-9a-f]{8}-|\/no\/such/);
  });

  it('reads queue depths from Redis at scrape time, per queue and state', async () => {
    await t.runtime.queues.due.add('probe', { callbackId: 'x', version: 1 }, { delay: 3600_000, jobId: 'metrics-probe-1' });
    await t.runtime.queues.sms.add('probe', { messageId: 'y' }, { jobId: 'metrics-probe-2' });
    const p = await scrape();
    expect(find(p, 'queue_jobs', { queue: QUEUE_NAMES.due, state: 'delayed' })?.value).toBe(1);
    expect(find(p, 'queue_jobs', { queue: QUEUE_NAMES.sms, state: 'waiting' })?.value).toBe(1);
    for (const queue of t.runtime.queues.all()) {
      expect(find(p, 'queue_jobs', { queue: queue.name, state: 'failed' })?.value, queue.name).toBe(0);
    }
  });
});

describe('METRICS_PORT', () => {
  let other: TestContext;
  let server: MetricsServer;

  beforeAll(async () => {
    other = await createTestContext({ METRICS_PORT: '0', HOST: '127.0.0.1' });
    server = await startMetricsServer(other.runtime.deps);
  });
  afterAll(async () => {
    await server.close();
    await other.close();
  });

  it('serves /metrics only on its own port, and not on the main one', async () => {
    const main = await other.request('GET', '/metrics', { key: await other.key('admin') });
    expect(main.status).toBe(404);
    countVerification(other.runtime.deps, 'locked');
    const res = await fetch(`http://127.0.0.1:${server.port}/metrics`);
    expect(res.status).toBe(200);
    const p = parse(await res.text());
    expect(find(p, 'verification_checks_total', { outcome: 'locked' })?.value).toBe(1);
    expect(find(p, 'http_request_duration_seconds_count', { route: 'unmatched', status: '404' })?.value).toBe(1);
  });

  it('keeps one registry per app instance', async () => {
    expect(metricsFor(other.runtime.deps).registry).not.toBe(metricsFor(t.runtime.deps).registry);
    const p = parse(await (await fetch(`http://127.0.0.1:${server.port}/metrics`)).text());
    // The other app counted `genuine` once; this one never did.
    expect(find(p, 'verification_checks_total', { outcome: 'genuine' })).toBeUndefined();
    expect(find(p, 'job_duration_seconds_count', { queue: QUEUE_NAMES.due })).toBeUndefined();
  });
});
