import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Worker } from 'bullmq';
import { Webhook, WebhookVerificationError } from 'standardwebhooks';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { relayOutbox } from '../../src/notify/outbox-relay.js';
import { WEBHOOK_ATTEMPTS, deliverWebhook, newWebhookSecret, webhookJobId } from '../../src/notify/webhooks.js';
import { QUEUE_NAMES, bullPrefix, workerConnection, type WebhookJob } from '../../src/queues/queues.js';
import { createTestContext, type TestContext } from '../helpers/harness.js';

let t: TestContext;
let admin: string;
let agent: string;
let worker: WebhookWorker;
let seq = 0;

const NOW = new Date('2027-01-15T11:00:00Z');
/** Fast retries for tests; production uses 1 s doubling. */
const FAST = { backoffMs: 50 };

interface Received {
  headers: IncomingHttpHeaders;
  rawBody: string;
  body: { type: string; timestamp: string; data: Record<string, unknown> };
  verified: boolean;
  verifyError: string | null;
}

/** A webhook consumer as a customer would write one: it verifies every request with its secret. */
interface Receiver {
  url: string;
  port: number;
  secret: string;
  received: Received[];
  /** Status to answer for the nth request (1-based). */
  respond: (n: number, req: Received) => { status: number; headers?: Record<string, string> };
  close(): Promise<void>;
}

const receivers: Receiver[] = [];

const stringHeaders = (headers: IncomingHttpHeaders): Record<string, string> =>
  Object.fromEntries(Object.entries(headers).flatMap(([k, v]) => (typeof v === 'string' ? [[k, v]] : [])));

async function startReceiver(port = 0): Promise<Receiver> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const rawBody = Buffer.concat(chunks).toString('utf8');
      let verifyError: string | null = null;
      try {
        new Webhook(receiver.secret).verify(rawBody, stringHeaders(req.headers));
      } catch (err) {
        verifyError = (err as Error).message;
      }
      const entry: Received = { headers: req.headers, rawBody, body: JSON.parse(rawBody || 'null'), verified: verifyError === null, verifyError };
      receiver.received.push(entry);
      const answer = entry.verified ? receiver.respond(receiver.received.length, entry) : { status: 400 };
      res.writeHead(answer.status, answer.headers).end();
    });
  });
  const receiver: Receiver = {
    url: '',
    port: 0,
    secret: '',
    received: [],
    respond: () => ({ status: 200 }),
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  receiver.port = (server.address() as AddressInfo).port;
  receiver.url = `http://127.0.0.1:${receiver.port}/hooks`;
  receivers.push(receiver);
  return receiver;
}

/** A port nothing listens on (for a while): bind one, then let it go. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function createEndpoint(url: string, events?: string[]) {
  const res = await t.request('POST', '/v1/webhooks/endpoints', { key: admin, body: { url, ...(events ? { events } : {}) } });
  expect(res.status).toBe(201);
  return res.body as { id: string; secret: string; url: string; events: string[] | null };
}

/** A receiver with its own endpoint; the receiver learns the secret the API returned. */
async function subscribedReceiver(events?: string[]) {
  const receiver = await startReceiver();
  const endpoint = await createEndpoint(receiver.url, events);
  receiver.secret = endpoint.secret;
  return { receiver, endpoint };
}

async function createCallback(overrides: Record<string, unknown> = {}) {
  const res = await t.request('POST', '/v1/callbacks', {
    key: agent,
    body: {
      caseRef: `WH-${++seq}-${Date.now()}`,
      category: 'billing',
      phone: '+1 212 555 0123',
      reason: 'We will explain the December invoice again',
      firstExplanation: { summary: 'Explained the late fee policy' },
      notBefore: '2027-01-15T12:00:00Z',
      ...overrides,
    },
  });
  expect(res.status).toBe(201);
  return res.body as { id: string };
}

const outboxRowsFor = (callbackId: string) =>
  t.sql`select id, event, to_json(created_at) #>> '{}' as created_at, delivered_at from outbox where payload->>'callbackId' = ${callbackId} order by id`;

const deliveriesOf = (endpointId: string) =>
  t.sql`select id, outbox_id, event, status, attempts, last_status, last_error, delivered_at
        from webhook_deliveries where endpoint_id = ${endpointId} order by id`;

async function deliveryOf(endpointId: string, outboxId: number) {
  const [row] = await t.sql`select * from webhook_deliveries where endpoint_id = ${endpointId} and outbox_id = ${outboxId}`;
  return row;
}

interface WebhookWorker {
  worker: Worker<WebhookJob>;
  close(): Promise<void>;
}

/** The production webhook processor on a context's queue, as the worker process runs it. */
function startWebhookWorker(ctx: TestContext): WebhookWorker {
  const connection = workerConnection(ctx.config.REDIS_URL);
  const w = new Worker<WebhookJob>(QUEUE_NAMES.webhooks, (job) => deliverWebhook(ctx.runtime.deps, job.data, job.attemptsMade), {
    connection,
    prefix: bullPrefix(ctx.config.QUEUE_PREFIX),
    concurrency: 20,
  });
  return {
    worker: w,
    close: async () => {
      await w.close();
      connection.disconnect();
    },
  };
}

beforeAll(async () => {
  t = await createTestContext();
  admin = await t.key('admin');
  agent = await t.key('agent', { id: 'alice' });
  expect((await t.request('PUT', '/v1/policies/billing', { key: admin, body: { enabled: true } })).status).toBe(200);
  worker = startWebhookWorker(t);
});

afterAll(async () => {
  await worker.close();
  await t.close();
});

beforeEach(async () => {
  t.setNow(NOW);
  // Each test starts with no subscribers and an empty outbox, so it only sees its own events.
  await t.sql`update webhook_endpoints set active = false`;
  while ((await relayOutbox(t.runtime.deps)) > 0) {
    // relay until the outbox is empty
  }
});

afterEach(async () => {
  await Promise.all(receivers.splice(0).map((r) => r.close()));
});

describe('webhook endpoints (admin)', () => {
  it('creates an endpoint with a Standard Webhooks secret shown only once', async () => {
    const res = await t.request('POST', '/v1/webhooks/endpoints', {
      key: admin,
      body: { url: 'https://crm.example.com/hooks', events: ['callback.ready', 'callback.ready'], description: 'CRM' },
    });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ url: 'https://crm.example.com/hooks', events: ['callback.ready'], description: 'CRM', active: true });
    expect(res.body.secret).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
    expect(Buffer.from(res.body.secret.slice('whsec_'.length), 'base64')).toHaveLength(32);
    const [stored] = await t.sql`select secret, to_json(events) as events from webhook_endpoints where id = ${res.body.id}`;
    expect(stored).toEqual({ secret: res.body.secret, events: ['callback.ready'] });

    const list = await t.request('GET', '/v1/webhooks/endpoints', { key: admin });
    expect(list.status).toBe(200);
    const listed = list.body.items.find((e: { id: string }) => e.id === res.body.id);
    expect(listed).toMatchObject({ url: 'https://crm.example.com/hooks', active: true });
    expect(JSON.stringify(list.body)).not.toContain('whsec_');
  });

  it('accepts only http(s) URLs without credentials, up to 2000 characters, and known events', async () => {
    const bad = [
      { url: 'ftp://crm.example.com/hooks' },
      { url: 'javascript:alert(1)' },
      { url: 'not a url' },
      { url: 'https://user:pass@crm.example.com/hooks' },
      { url: `https://crm.example.com/${'a'.repeat(2000)}` },
      { url: 'https://crm.example.com/hooks', events: ['callback.exploded'] },
      { url: 'https://crm.example.com/hooks', events: [] },
      { url: 'https://crm.example.com/hooks', secret: 'whsec_mine' },
    ];
    for (const body of bad) {
      const res = await t.request('POST', '/v1/webhooks/endpoints', { key: admin, body });
      expect(res, JSON.stringify(body).slice(0, 80)).toMatchObject({ status: 422, body: { code: 'validation_failed' } });
    }
    expect(Number((await t.sql`select count(*)::int as n from webhook_endpoints where url like 'ftp%' or url like '%user:pass%'`)[0]!.n)).toBe(0);
  });

  it('is for admins only', async () => {
    const ops = await t.key('ops');
    const body = { url: 'https://crm.example.com/hooks' };
    expect((await t.request('POST', '/v1/webhooks/endpoints', { body })).status).toBe(401);
    expect((await t.request('POST', '/v1/webhooks/endpoints', { key: agent, body })).status).toBe(403);
    expect((await t.request('POST', '/v1/webhooks/endpoints', { key: ops, body })).status).toBe(403);
    expect((await t.request('GET', '/v1/webhooks/endpoints', { key: ops })).status).toBe(403);
    expect((await t.request('GET', '/v1/webhooks/deliveries', { key: agent })).status).toBe(403);
    const doc = await t.request('GET', '/openapi.json');
    for (const path of ['/v1/webhooks/endpoints', '/v1/webhooks/endpoints/{id}', '/v1/webhooks/deliveries']) {
      for (const operation of Object.values(doc.body.paths[path] as Record<string, { 'x-roles': string[] }>)) {
        expect(operation['x-roles']).toEqual(['admin']);
      }
    }
  });

  it('deactivates an endpoint: 204, then 404; its pending deliveries are cancelled and not retried', async () => {
    const port = await freePort();
    const endpoint = await createEndpoint(`http://127.0.0.1:${port}/down`);
    const callback = await createCallback();
    await relayOutbox(t.runtime.deps, { backoffMs: 200 });
    const [event] = await outboxRowsFor(callback.id);
    await vi.waitFor(async () => expect((await deliveryOf(endpoint.id, event!.id))?.attempts).toBeGreaterThanOrEqual(1), { timeout: 5000 });

    expect((await t.request('DELETE', `/v1/webhooks/endpoints/${endpoint.id}`, { key: admin })).status).toBe(204);
    expect((await t.request('DELETE', `/v1/webhooks/endpoints/${endpoint.id}`, { key: admin })).status).toBe(404);
    const cancelled = await deliveryOf(endpoint.id, event!.id);
    expect(cancelled).toMatchObject({ status: 'cancelled', last_error: 'endpoint deactivated' });

    // A receiver appears on that port: the retry still in the queue must not reach it.
    const late = await startReceiver(port);
    await new Promise((r) => setTimeout(r, 1500));
    expect(late.received).toHaveLength(0);
    expect(await deliveryOf(endpoint.id, event!.id)).toMatchObject({ status: 'cancelled', attempts: cancelled!.attempts });
    const list = await t.request('GET', '/v1/webhooks/endpoints', { key: admin });
    expect(list.body.items.find((e: { id: string }) => e.id === endpoint.id).active).toBe(false);
  });
});

describe('delivery (SPEC §6)', () => {
  it('delivers callback.scheduled, signed, with a webhook-id derived from the outbox row', async () => {
    const { receiver, endpoint } = await subscribedReceiver();
    const callback = await createCallback();
    const [event] = await outboxRowsFor(callback.id);
    expect(event).toMatchObject({ event: 'callback.scheduled', delivered_at: null });

    expect(await relayOutbox(t.runtime.deps)).toBe(1);
    await vi.waitFor(() => expect(receiver.received).toHaveLength(1), { timeout: 5000 });

    const got = receiver.received[0]!;
    expect(got.verified).toBe(true);
    expect(got.headers).toMatchObject({
      'webhook-id': `msg_${event!.id}`,
      'content-type': 'application/json',
      'user-agent': 'secondcall-webhooks',
    });
    expect(got.headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    expect(Math.abs(Number(got.headers['webhook-timestamp']) - Date.now() / 1000)).toBeLessThan(30);
    expect(got.body).toEqual({
      type: 'callback.scheduled',
      timestamp: new Date(event!.created_at as string).toISOString(),
      data: expect.objectContaining({ callbackId: callback.id, status: 'scheduled', category: 'billing', round: 2 }),
    });

    await vi.waitFor(async () => expect((await deliveryOf(endpoint.id, event!.id))?.status).toBe('delivered'));
    const delivery = await deliveryOf(endpoint.id, event!.id);
    expect(delivery).toMatchObject({ event: 'callback.scheduled', attempts: 1, last_status: 200, last_error: null });
    expect(delivery!.delivered_at).not.toBeNull();
    expect((await outboxRowsFor(callback.id))[0]!.delivered_at).not.toBeNull();

    const listed = await t.request('GET', `/v1/webhooks/deliveries?endpointId=${endpoint.id}&status=delivered`, { key: admin });
    expect(listed.status).toBe(200);
    expect(listed.body).toMatchObject({
      items: [{ id: Number(delivery!.id), outboxId: Number(event!.id), webhookId: `msg_${event!.id}`, status: 'delivered', attempts: 1, lastStatus: 200 }],
      nextCursor: null,
    });
  });

  it('retries a failing receiver with the same webhook-id until it answers 2xx', async () => {
    const { receiver, endpoint } = await subscribedReceiver();
    receiver.respond = (n) => ({ status: n <= 2 ? 500 : 200 });
    const callback = await createCallback();
    await relayOutbox(t.runtime.deps, FAST);
    const [event] = await outboxRowsFor(callback.id);

    await vi.waitFor(async () => expect((await deliveryOf(endpoint.id, event!.id))?.status).toBe('delivered'), { timeout: 10_000 });
    expect(receiver.received).toHaveLength(3);
    expect(receiver.received.map((r) => r.headers['webhook-id'])).toEqual(Array(3).fill(`msg_${event!.id}`));
    expect(receiver.received.every((r) => r.verified)).toBe(true);
    expect(new Set(receiver.received.map((r) => r.rawBody)).size).toBe(1);
    expect(await deliveryOf(endpoint.id, event!.id)).toMatchObject({ status: 'delivered', attempts: 3, last_status: 200, last_error: null });
  });

  it('reaches a receiver that was down for a while once it comes up', async () => {
    const port = await freePort();
    const endpoint = await createEndpoint(`http://127.0.0.1:${port}/hooks`);
    const callback = await createCallback();
    await relayOutbox(t.runtime.deps, { backoffMs: 100 });
    const [event] = await outboxRowsFor(callback.id);

    await vi.waitFor(async () => expect((await deliveryOf(endpoint.id, event!.id))?.attempts).toBeGreaterThanOrEqual(2), { timeout: 5000 });
    const down = await deliveryOf(endpoint.id, event!.id);
    expect(down).toMatchObject({ status: 'pending', last_status: null });
    expect(down!.last_error).toMatch(/ECONNREFUSED/);

    const receiver = await startReceiver(port);
    receiver.secret = endpoint.secret;
    await vi.waitFor(async () => expect((await deliveryOf(endpoint.id, event!.id))?.status).toBe('delivered'), { timeout: 10_000 });
    expect(receiver.received).toHaveLength(1);
    expect(receiver.received[0]).toMatchObject({ verified: true, body: { type: 'callback.scheduled', data: { callbackId: callback.id } } });
    expect((await deliveryOf(endpoint.id, event!.id))!.attempts).toBe(down!.attempts + 1);
  });

  it('treats a redirect as a failure, never follows it, and gives up after the last attempt', async () => {
    const elsewhere = await startReceiver();
    const { receiver, endpoint } = await subscribedReceiver();
    receiver.respond = () => ({ status: 302, headers: { location: elsewhere.url } });
    const callback = await createCallback();
    await relayOutbox(t.runtime.deps, { backoffMs: 2 });
    const [event] = await outboxRowsFor(callback.id);

    await vi.waitFor(async () => expect((await deliveryOf(endpoint.id, event!.id))?.status).toBe('failed'), { timeout: 15_000, interval: 100 });
    expect(await deliveryOf(endpoint.id, event!.id)).toMatchObject({ attempts: WEBHOOK_ATTEMPTS, last_status: 302, last_error: 'HTTP 302 Found', delivered_at: null });
    expect(receiver.received).toHaveLength(WEBHOOK_ATTEMPTS);
    expect(elsewhere.received).toHaveLength(0);
    const job = await t.runtime.queues.webhooks.getJob(webhookJobId(Number((await deliveryOf(endpoint.id, event!.id))!.id)));
    expect(await job?.getState()).toBe('failed');
  });

  it('delivers only the events an endpoint subscribed to', async () => {
    const readyOnly = await subscribedReceiver(['callback.ready']);
    const everything = await subscribedReceiver();
    const callback = await createCallback();
    await relayOutbox(t.runtime.deps);

    await vi.waitFor(() => expect(everything.receiver.received).toHaveLength(1), { timeout: 5000 });
    expect(everything.receiver.received[0]!.body.data.callbackId).toBe(callback.id);
    await new Promise((r) => setTimeout(r, 300));
    expect(readyOnly.receiver.received).toHaveLength(0);
    expect(await deliveriesOf(readyOnly.endpoint.id)).toHaveLength(0);
    expect((await outboxRowsFor(callback.id))[0]!.delivered_at).not.toBeNull();
  });

  it('announces an opt-out with opt_out.created and callback.suppressed', async () => {
    const { receiver, endpoint } = await subscribedReceiver();
    const phone = '+1 212 555 0166';
    const callback = await createCallback({ phone });
    const optOut = await t.request('POST', '/v1/opt-outs', { key: agent, body: { phone } });
    expect(optOut.status).toBe(201);

    expect(await relayOutbox(t.runtime.deps)).toBe(3);
    await vi.waitFor(() => expect(receiver.received).toHaveLength(3), { timeout: 5000 });
    expect(receiver.received.every((r) => r.verified)).toBe(true);
    const byType = Object.fromEntries(receiver.received.map((r) => [r.body.type, r.body.data]));
    expect(Object.keys(byType).sort()).toEqual(['callback.scheduled', 'callback.suppressed', 'opt_out.created']);
    expect(byType['callback.suppressed']).toMatchObject({ callbackId: callback.id, status: 'suppressed' });
    expect(byType['opt_out.created']).toMatchObject({ phone: '+12125550166', scope: 'all', suppressedCallbacks: [callback.id] });

    await vi.waitFor(async () => expect((await deliveriesOf(endpoint.id)).every((d) => d.status === 'delivered')).toBe(true));
    expect((await deliveriesOf(endpoint.id)).map((d) => d.event).sort()).toEqual(['callback.scheduled', 'callback.suppressed', 'opt_out.created']);
    const undelivered = await t.sql`select count(*)::int as n from outbox where delivered_at is null`;
    expect(undelivered[0]!.n).toBe(0);
  });

  it('delivers each event exactly once per endpoint when relays run concurrently', async () => {
    const a = await subscribedReceiver();
    const b = await subscribedReceiver();
    const callbacks = [];
    for (let i = 0; i < 12; i++) callbacks.push(await createCallback());
    const outboxIds = (await t.sql`select id from outbox where delivered_at is null order by id`).map((r) => Number(r.id));
    expect(outboxIds).toHaveLength(12);

    // Small batches so the three relays interleave over several transactions.
    const relayed = await Promise.all([1, 2, 3].map(() => relayOutbox(t.runtime.deps, { batchSize: 2 })));
    expect(relayed.reduce((x, y) => x + y, 0)).toBe(12);

    for (const { receiver, endpoint } of [a, b]) {
      await vi.waitFor(() => expect(receiver.received.length).toBeGreaterThanOrEqual(12), { timeout: 10_000 });
      const rows = await deliveriesOf(endpoint.id);
      expect(rows.map((r) => Number(r.outbox_id)).sort((x, y) => x - y)).toEqual(outboxIds);
    }
    // Relaying again, and a later stale sweep, must not deliver anything twice.
    expect(await relayOutbox(t.runtime.deps)).toBe(0);
    await new Promise((r) => setTimeout(r, 500));
    for (const { receiver, endpoint } of [a, b]) {
      const ids = receiver.received.map((r) => r.headers['webhook-id']);
      expect(ids).toHaveLength(12);
      expect(new Set(ids)).toEqual(new Set(outboxIds.map((id) => `msg_${id}`)));
      expect(receiver.received.every((r) => r.verified)).toBe(true);
      const rows = await deliveriesOf(endpoint.id);
      expect(rows.every((r) => r.status === 'delivered' && r.attempts === 1)).toBe(true);
    }
    expect((await t.sql`select count(*)::int as n from outbox where delivered_at is null`)[0]!.n).toBe(0);
  });

  it('re-enqueues a delivery whose job Redis lost, once it is stale, and delivers it once', async () => {
    const { receiver, endpoint } = await subscribedReceiver();
    await worker.worker.pause();
    try {
      const callback = await createCallback();
      await relayOutbox(t.runtime.deps);
      const [event] = await outboxRowsFor(callback.id);
      const delivery = await deliveryOf(endpoint.id, event!.id);
      const jobId = webhookJobId(Number(delivery!.id));
      const job = await t.runtime.queues.webhooks.getJob(jobId);
      expect(job?.opts).toMatchObject({ attempts: WEBHOOK_ATTEMPTS, backoff: { type: 'exponential', delay: t.config.WEBHOOK_BACKOFF_MS } });
      await job!.remove(); // what a FLUSHALL or a Redis restart without persistence does to it

      // Fresh pending deliveries are left alone: their job is presumably still on its way.
      await relayOutbox(t.runtime.deps);
      expect(await t.runtime.queues.webhooks.getJob(jobId)).toBeUndefined();

      await t.sql`update webhook_deliveries set created_at = now() - interval '2 minutes' where id = ${delivery!.id}`;
      await relayOutbox(t.runtime.deps);
      expect(await t.runtime.queues.webhooks.getJob(jobId)).toBeDefined();
    } finally {
      worker.worker.resume();
    }
    await vi.waitFor(() => expect(receiver.received).toHaveLength(1), { timeout: 5000 });
    await vi.waitFor(async () => expect((await deliveriesOf(endpoint.id))[0]).toMatchObject({ status: 'delivered', attempts: 1 }));
    // The delivered row is no longer pending, so further sweeps leave it alone.
    await t.sql`update webhook_deliveries set created_at = now() - interval '2 minutes' where endpoint_id = ${endpoint.id}`;
    await relayOutbox(t.runtime.deps);
    await new Promise((r) => setTimeout(r, 300));
    expect(receiver.received).toHaveLength(1);
  });
});

describe('SSRF guard (WEBHOOK_ALLOW_PRIVATE_URLS=false, the production default)', () => {
  let g: TestContext;
  let gAdmin: string;
  let gWorker: WebhookWorker;

  beforeAll(async () => {
    g = await createTestContext({ WEBHOOK_ALLOW_PRIVATE_URLS: 'false' });
    gAdmin = await g.key('admin');
    gWorker = startWebhookWorker(g);
  });

  afterAll(async () => {
    await gWorker.close();
    await g.close();
  });

  const register = (url: string) => g.request('POST', '/v1/webhooks/endpoints', { key: gAdmin, body: { url } });

  it('refuses loopback, private, link-local and metadata addresses, literal or resolved: 422 on url, nothing stored', async () => {
    expect(g.config.WEBHOOK_ALLOW_PRIVATE_URLS).toBe(false);
    const refused = [
      'http://127.0.0.1:8080/hooks',
      'http://[::1]/',
      'http://169.254.169.254/latest/meta-data/',
      'http://10.1.2.3/',
      'http://172.16.5.4/',
      'http://192.168.1.10/hooks',
      'http://0.0.0.0/',
      'http://100.64.0.1/',
      'http://[::ffff:127.0.0.1]/',
      'http://[::ffff:169.254.169.254]/',
      'http://[fd12:3456::1]/',
      'http://[fe80::1]/',
      'http://2130706433/', // 127.0.0.1 written as one number
      'http://localhost:8080/hooks', // a name that resolves to a loopback address
    ];
    for (const url of refused) {
      const res = await register(url);
      expect(res, url).toMatchObject({
        status: 422,
        body: { code: 'validation_failed', errors: [{ path: 'url', message: expect.stringContaining('not a public address') }] },
      });
      expect(res.headers.get('content-type')).toBe('application/problem+json');
    }
    const localhost = await register('http://localhost:8080/hooks');
    expect(localhost.body.errors[0].message).toMatch(/localhost resolves to (127\.0\.0\.1|::1), not a public address \(loopback\)/);
    expect((await register('http://169.254.169.254/')).body.errors[0].message).toContain('169.254.169.254 is not a public address (linkLocal)');
    expect((await g.sql`select count(*)::int as n from webhook_endpoints`)[0]!.n).toBe(0);
  });

  it('accepts public addresses, and a name that does not resolve yet (delivery checks it again)', async () => {
    for (const url of ['https://93.184.215.14/hooks', 'https://[2606:4700::6810:84e5]/hooks', 'https://crm.example.com/hooks']) {
      const res = await register(url);
      expect(res.status, url).toBe(201);
      expect(res.body.url).toBe(url);
      // Deactivated at once: nothing in these tests may send traffic off this machine.
      expect((await g.request('DELETE', `/v1/webhooks/endpoints/${res.body.id}`, { key: gAdmin })).status).toBe(204);
    }
  });

  it('never delivers to an endpoint stored while private URLs were allowed: each attempt fails with the reason', async () => {
    await g.sql`update webhook_endpoints set active = false`;
    const receiver = await startReceiver();
    receiver.secret = newWebhookSecret();
    // Stored before the guard was on: registration would refuse both now. The name stands for DNS
    // that pointed somewhere public at registration and at a private address later (rebinding).
    const [literal, named] = await g.sql`
      insert into webhook_endpoints (url, secret)
      values (${receiver.url}, ${receiver.secret}), (${`http://localhost:${receiver.port}/hooks`}, ${receiver.secret})
      returning id`;
    const optOut = await g.request('POST', '/v1/opt-outs', { key: await g.key('agent'), body: { phone: '+1 212 555 0177' } });
    expect(optOut.status).toBe(201);
    expect(await relayOutbox(g.runtime.deps, { backoffMs: 1 })).toBe(1);

    const deliveryTo = async (endpointId: string) =>
      (await g.sql`select status, attempts, last_status, last_error, delivered_at from webhook_deliveries where endpoint_id = ${endpointId}`)[0];
    for (const endpoint of [literal!, named!]) {
      await vi.waitFor(async () => expect((await deliveryTo(endpoint.id))?.status).toBe('failed'), { timeout: 15_000, interval: 100 });
    }
    expect(await deliveryTo(literal!.id)).toMatchObject({
      attempts: WEBHOOK_ATTEMPTS,
      last_status: null,
      last_error: 'blocked: 127.0.0.1 is not a public address (loopback); WEBHOOK_ALLOW_PRIVATE_URLS is off',
      delivered_at: null,
    });
    const viaName = await deliveryTo(named!.id);
    expect(viaName).toMatchObject({ attempts: WEBHOOK_ATTEMPTS, last_status: null, delivered_at: null });
    expect(viaName!.last_error).toMatch(/^blocked: localhost resolves to (127\.0\.0\.1|::1), not a public address \(loopback\)/);
    expect(receiver.received).toHaveLength(0);

    const listed = await g.request('GET', '/v1/webhooks/deliveries?status=failed', { key: gAdmin });
    expect(listed.body.items).toHaveLength(2);
    expect(listed.body.items.every((d: { lastError: string }) => d.lastError.startsWith('blocked: '))).toBe(true);
  });
});

describe('the test receiver', () => {
  it('rejects a tampered body, a wrong secret and a missing signature', async () => {
    const { receiver } = await subscribedReceiver();
    await createCallback();
    await relayOutbox(t.runtime.deps);
    await vi.waitFor(() => expect(receiver.received).toHaveLength(1), { timeout: 5000 });
    const { rawBody, headers } = receiver.received[0]!;
    const signed = stringHeaders(headers);
    expect(() => new Webhook(receiver.secret).verify(rawBody, signed)).not.toThrow();
    expect(() => new Webhook(receiver.secret).verify(rawBody.replace('scheduled', 'completed'), signed)).toThrow(WebhookVerificationError);
    const otherSecret = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;
    expect(() => new Webhook(otherSecret).verify(rawBody, signed)).toThrow(WebhookVerificationError);

    // Over HTTP too: a forged request is answered 400 and recorded as unverified.
    const forged = await fetch(receiver.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'webhook-id': signed['webhook-id']!,
        'webhook-timestamp': signed['webhook-timestamp']!,
        'webhook-signature': signed['webhook-signature']!,
      },
      body: rawBody.replace('scheduled', 'completed'),
    });
    expect(forged.status).toBe(400);
    expect(receiver.received.at(-1)).toMatchObject({ verified: false, verifyError: 'No matching signature found' });
  });
});
