import { Worker } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestContext, type TestContext } from '../helpers/harness.js';
import { QUEUE_NAMES, bullPrefix, workerConnection } from '../../src/queues/queues.js';

/** The ops pages through app.request: login, session cookie, CSRF, CSP, bull-board behind auth. */

let t: TestContext;
let admin: string;
let ops: { id: string; key: string };
let agent: string;
let callbackId: string;

const ORIGIN = 'http://localhost';
const HTML = { accept: 'text/html,application/xhtml+xml' };

async function page(path: string, init: { cookie?: string; headers?: Record<string, string>; method?: string; body?: string } = {}) {
  const headers: Record<string, string> = { ...HTML, ...init.headers };
  if (init.cookie) headers.cookie = init.cookie;
  return t.app.request(path, { method: init.method ?? 'GET', headers, body: init.body });
}

function login(key: string, options: { origin?: string | null; next?: string } = {}) {
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
  if (options.origin !== null) headers.origin = options.origin ?? ORIGIN;
  const form = new URLSearchParams({ key, next: options.next ?? '/ops' });
  return t.app.request('/ops/login', { method: 'POST', headers, body: form.toString() });
}

/** `name=value` of the Set-Cookie header, to send back as a Cookie header. */
const cookieOf = (res: Response) => res.headers.get('set-cookie')!.split(';')[0]!;

beforeAll(async () => {
  t = await createTestContext();
  admin = await t.key('admin');
  agent = await t.key('agent', { id: 'pat' });
  const created = await t.request('POST', '/v1/api-keys', { key: admin, body: { role: 'ops', name: 'night shift' } });
  expect(created.status).toBe(201);
  ops = { id: created.body.id, key: created.body.key };
  expect((await t.request('PUT', '/v1/policies/billing', { key: admin, body: { enabled: true } })).status).toBe(200);
  const cb = await t.request('POST', '/v1/callbacks', {
    key: agent,
    body: {
      caseRef: 'PAGE-1',
      category: 'billing',
      phone: '+1 212 555 0123',
      reason: 'Explain <b>the</b> fee',
      firstExplanation: { summary: 'Late fee' },
    },
  });
  expect(cb.status).toBe(201);
  callbackId = cb.body.id;
});
afterAll(() => t.close());

describe('access to /ops', () => {
  it('sends a browser without a session to the login form', async () => {
    const res = await page('/ops/callbacks/x');
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/ops/login?next=%2Fops%2Fcallbacks%2Fx');
    const form = await page('/ops/login?next=%2Fops%2Fcallbacks%2Fx');
    expect(form.status).toBe(200);
    const html = await form.text();
    expect(html).toContain('<form class="login" method="post" action="/ops/login">');
    expect(html).toContain('name="next" value="/ops/callbacks/x"');
  });

  it('answers 401/403 problems to non-browser clients', async () => {
    const none = await t.request('GET', '/ops');
    expect(none.status).toBe(401);
    expect(none.body.code).toBe('unauthorized');
    expect((await t.request('GET', '/ops', { key: agent })).status).toBe(403);
    expect((await t.request('GET', '/ops', { key: 'sc_bad' })).status).toBe(401);
  });

  it('serves the dashboard to a Bearer ops key, with a strict CSP and a 30 s refresh', async () => {
    const res = await page('/ops', { headers: { authorization: `Bearer ${ops.key}` } });
    expect(res.status).toBe(200);
    const csp = res.headers.get('content-security-policy')!;
    expect(csp).toMatch(/^default-src 'none'; style-src 'sha256-[A-Za-z0-9+/]+=*'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'$/);
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    expect(res.headers.get('cache-control')).toBe('no-store');
    const html = await res.text();
    expect(html).toContain('<meta http-equiv="refresh" content="30"/>');
    expect(html).not.toMatch(/<script|https?:\/\/(?!www\.w3\.org)/);
    expect(html).toContain('Active callbacks');
    expect(html).toContain('<svg class="chart"');
  });
});

describe('login form', () => {
  it('refuses a cross-site or origin-less form post (CSRF)', async () => {
    expect((await login(ops.key, { origin: 'https://evil.example' })).status).toBe(403);
    expect((await login(ops.key, { origin: null })).status).toBe(403);
  });

  it('refuses a bad key and a key of the wrong role, without setting a cookie', async () => {
    const bad = await login('sc_not-a-key');
    expect(bad.status).toBe(401);
    expect(bad.headers.get('set-cookie')).toBeNull();
    expect(await bad.text()).toContain('This key is not valid');
    const wrongRole = await login(agent);
    expect(wrongRole.status).toBe(403);
    expect(wrongRole.headers.get('set-cookie')).toBeNull();
  });

  it('sets an HttpOnly SameSite=Strict session cookie that names the key id, not the key', async () => {
    const res = await login(ops.key);
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/ops');
    const setCookie = res.headers.get('set-cookie')!;
    expect(setCookie).toMatch(/^sc_ops_session=[^;]+; Max-Age=43200; Path=\/; HttpOnly; SameSite=Strict$/);
    expect(setCookie).not.toContain(ops.key);
    expect(decodeURIComponent(cookieOf(res))).toContain(`${ops.id}.`);

    const dash = await page('/ops', { cookie: cookieOf(res) });
    expect(dash.status).toBe(200);
    expect(await dash.text()).toContain('signed in as ops');
  });

  it('goes back to the page asked for, but never off the ops pages', async () => {
    expect((await login(ops.key, { next: '/ops/queues' })).headers.get('location')).toBe('/ops/queues');
    expect((await login(ops.key, { next: 'https://evil.example/ops' })).headers.get('location')).toBe('/ops');
    expect((await login(ops.key, { next: '//evil.example/ops' })).headers.get('location')).toBe('/ops');
  });

  it('rejects a tampered or expired session', async () => {
    const cookie = cookieOf(await login(ops.key));
    const [name, value] = cookie.split('=');
    const tampered = `${name}=${value!.replace(/^[0-9a-f]/, (c) => (c === 'a' ? 'b' : 'a'))}`;
    expect((await page('/ops', { cookie: tampered })).status).toBe(303);
    t.setNow(new Date(Date.now() + 13 * 3600_000));
    try {
      expect((await page('/ops', { cookie })).status).toBe(303);
    } finally {
      t.setNow(null);
    }
    expect((await page('/ops', { cookie })).status).toBe(200);
  });

  it('logs out through a CSRF-protected form', async () => {
    const cookie = cookieOf(await login(ops.key));
    const forged = await page('/ops/logout', { method: 'POST', cookie, headers: { origin: 'https://evil.example', 'content-type': 'application/x-www-form-urlencoded' } });
    expect(forged.status).toBe(403);
    const res = await page('/ops/logout', { method: 'POST', cookie, headers: { origin: ORIGIN, 'content-type': 'application/x-www-form-urlencoded' } });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/ops/login');
    expect(res.headers.get('set-cookie')).toMatch(/^sc_ops_session=; Max-Age=0; Path=\//);
  });

  it('ends every session of a key when the key is revoked', async () => {
    const created = await t.request('POST', '/v1/api-keys', { key: admin, body: { role: 'admin', name: 'temp' } });
    const cookie = cookieOf(await login(created.body.key));
    expect((await page('/ops', { cookie })).status).toBe(200);
    expect((await t.request('DELETE', `/v1/api-keys/${created.body.id}`, { key: admin })).status).toBe(204);
    expect((await page('/ops', { cookie })).status).toBe(303);
  });
});

describe('over https', () => {
  let secure: TestContext;
  beforeAll(async () => {
    secure = await createTestContext({ PUBLIC_BASE_URL: 'https://ops.example.com' });
  });
  afterAll(() => secure.close());

  it('uses a Secure __Host- cookie and accepts forms from the public origin', async () => {
    const key = await secure.key('ops');
    const res = await secure.app.request('/ops/login', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'https://ops.example.com' },
      body: new URLSearchParams({ key, next: '/ops' }).toString(),
    });
    expect(res.status).toBe(303);
    expect(res.headers.get('set-cookie')).toMatch(/^__Host-sc_ops_session=[^;]+; Max-Age=43200; Path=\/; HttpOnly; Secure; SameSite=Strict$/);
    const dash = await secure.app.request('/ops', { headers: { cookie: cookieOf(res) } });
    expect(dash.status).toBe(200);
  });
});

describe('callback page', () => {
  it('shows a callback with its timeline, escaping what agents typed', async () => {
    const res = await page(`/ops/callbacks/${callbackId}`, { headers: { authorization: `Bearer ${ops.key}` } });
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain('Callback PAGE-1');
    expect(html).toContain('Explain &lt;b&gt;the&lt;/b&gt; fee');
    expect(html).toContain('<h2>Timeline</h2>');
    expect(html).toMatch(/<td>agent:pat<\/td><td>–<\/td><td>scheduled<\/td>/);
  });

  it('answers 404 for an unknown or malformed id', async () => {
    const auth = { authorization: `Bearer ${ops.key}` };
    expect((await page('/ops/callbacks/00000000-0000-4000-8000-000000000000', { headers: auth })).status).toBe(404);
    expect((await page('/ops/callbacks/not-a-uuid', { headers: auth })).status).toBe(404);
  });
});

describe('/ops/queues (bull-board)', () => {
  it('is behind the same auth', async () => {
    expect((await page('/ops/queues')).status).toBe(303);
    expect((await t.request('GET', '/ops/queues/api/queues')).status).toBe(401);
    expect((await t.request('GET', '/ops/queues/api/queues', { key: agent })).status).toBe(403);
  });

  it('serves the board, its assets and its API for every queue', async () => {
    const cookie = cookieOf(await login(ops.key));
    const res = await page('/ops/queues', { cookie });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
    const html = await res.text();
    expect(html).toContain('<base href="/ops/queues/"');
    const script = /src="(static\/js\/main\.[^"]+\.js)"/.exec(html)![1]!;
    const asset = await page(`/ops/queues/${script}`, { cookie });
    expect(asset.status).toBe(200);
    expect(asset.headers.get('content-type')).toContain('javascript');

    const api = await t.request('GET', '/ops/queues/api/queues?activeQueue=&status=latest&page=1', { key: ops.key });
    expect(api.status).toBe(200);
    expect(api.body.queues.map((q: { name: string }) => q.name).sort()).toEqual(Object.values(QUEUE_NAMES).sort());
    const unknown = await t.request('GET', '/ops/queues/api/nothing-here', { key: ops.key });
    expect(unknown.status).toBe(404);
    expect(unknown.body.code).toBe('route_not_found');
  });

  it('refuses a cross-site action with the cookie, and performs a same-origin one', async () => {
    const cookie = cookieOf(await login(admin));
    const path = `/ops/queues/api/queues/${QUEUE_NAMES.sms}/pause`;
    const forged = await page(path, { method: 'PUT', cookie, headers: { 'sec-fetch-site': 'cross-site' } });
    expect(forged.status).toBe(403);
    expect(await t.runtime.queues.sms.isPaused()).toBe(false);
    const own = await page(path, { method: 'PUT', cookie, headers: { 'sec-fetch-site': 'same-origin' } });
    expect(own.status).toBeLessThan(300);
    expect(await t.runtime.queues.sms.isPaused()).toBe(true);
    await t.runtime.queues.sms.resume();
  });
});

describe('/ops/queues by role: ops reads, admin acts', () => {
  const queue = () => t.runtime.queues.webhooks;
  const api = `/ops/queues/api/queues/${QUEUE_NAMES.webhooks}`;

  /** A job in the webhooks queue that a worker took and failed (no worker runs in these tests). */
  async function failedJob(id: string) {
    await queue().drain(); // the worker below takes the oldest waiting job: let it be this one
    await queue().add('deliver', { deliveryId: 0 }, { jobId: id });
    const connection = workerConnection(t.config.REDIS_URL);
    const worker = new Worker(QUEUE_NAMES.webhooks, null, { connection, prefix: bullPrefix(t.config.QUEUE_PREFIX), autorun: false });
    try {
      const job = await worker.getNextJob('test-token');
      expect(job?.id).toBe(id);
      await job!.moveToFailed(new Error('endpoint answered 500'), 'test-token');
    } finally {
      await worker.close();
      connection.disconnect();
    }
    expect(await queue().getJobState(id)).toBe('failed');
  }

  /** A same-origin board API call with the session of `key`, as the board's own page makes it. */
  async function boardCall(key: string, method: string, path: string) {
    const cookie = cookieOf(await login(key));
    return page(path, { method, cookie, headers: { 'sec-fetch-site': 'same-origin' } });
  }

  /** What the board tells its UI each queue allows, for the session of `key`. */
  async function queueModes(key: string) {
    const res = await boardCall(key, 'GET', '/ops/queues/api/queues?activeQueue=&status=latest&page=1');
    expect(res.status).toBe(200);
    const body = (await res.json()) as { queues: { name: string; readOnlyMode: boolean; allowRetries: boolean }[] };
    expect(body.queues.map((q) => q.name).sort()).toEqual(Object.values(QUEUE_NAMES).sort());
    return body.queues.map((q) => ({ readOnlyMode: q.readOnlyMode, allowRetries: q.allowRetries }));
  }

  it('shows an ops session every queue read-only, and an admin session with its actions', async () => {
    const every = (mode: { readOnlyMode: boolean; allowRetries: boolean }) => Object.values(QUEUE_NAMES).map(() => mode);
    expect(await queueModes(ops.key)).toEqual(every({ readOnlyMode: true, allowRetries: false }));
    expect(await queueModes(admin)).toEqual(every({ readOnlyMode: false, allowRetries: true }));
  });

  it('refuses an ops session to retry, clean or pause, and changes nothing', async () => {
    await failedJob('ops-cannot-touch');
    for (const [path, what] of [
      [`${api}/ops-cannot-touch/retry`, 'retry'],
      [`${api}/ops-cannot-touch/clean`, 'clean'],
      [`${api}/retry/failed`, 'retry all'],
      [`${api}/clean/failed`, 'clean all'],
      [`${api}/pause`, 'pause'],
      [`${api}/empty`, 'empty'],
    ] as const) {
      const res = await boardCall(ops.key, 'PUT', path);
      expect({ what, status: res.status }).toEqual({ what, status: 405 });
      expect(await res.json()).toMatchObject({ error: { key: 'ERRORS.QUEUE_READ_ONLY' } });
    }
    // The board-wide pause skips read-only queues.
    await boardCall(ops.key, 'PUT', '/ops/queues/api/queues/pause');
    // A Bearer ops key gets the same read-only board as a session.
    expect((await t.request('PUT', `${api}/ops-cannot-touch/retry`, { key: ops.key })).status).toBe(405);

    expect(await queue().getJobState('ops-cannot-touch')).toBe('failed');
    for (const q of t.runtime.queues.all()) expect(await q.isPaused()).toBe(false);
  });

  it('lets an admin session retry, clean and pause', async () => {
    await failedJob('admin-retries');
    await failedJob('admin-cleans');
    expect((await boardCall(admin, 'PUT', `${api}/admin-retries/retry`)).status).toBe(204);
    expect(await queue().getJobState('admin-retries')).toBe('waiting');

    expect((await boardCall(admin, 'PUT', `${api}/admin-cleans/clean`)).status).toBe(204);
    expect(await queue().getJob('admin-cleans')).toBeUndefined();

    try {
      expect((await boardCall(admin, 'PUT', `${api}/pause`)).status).toBe(200);
      expect(await queue().isPaused()).toBe(true);
    } finally {
      await queue().resume();
    }
  });
});
