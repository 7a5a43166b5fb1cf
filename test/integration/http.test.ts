import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestContext, type TestContext } from '../helpers/harness.js';
import { tableSnapshot } from '../helpers/snapshot.js';

let t: TestContext;
const keys: Record<'agent' | 'ops' | 'admin', string> = { agent: '', ops: '', admin: '' };

beforeAll(async () => {
  t = await createTestContext();
  keys.admin = await t.key('admin');
  keys.ops = await t.key('ops');
  keys.agent = await t.key('agent', { id: 'http-agent' });
  await t.request('PUT', '/v1/policies/billing', { key: keys.admin, body: { enabled: true } });
});
afterAll(() => t.close());

const PUBLIC_PREFIXES = ['/v1/public/', '/v1/webhooks/sms/'];

describe('every staff route enforces its role', () => {
  it('answers 401 without or with a bad key, and 403 for roles not allowed, on every route of the OpenAPI document', async () => {
    const doc = (await t.request('GET', '/openapi.json')).body as {
      paths: Record<string, Record<string, { 'x-roles'?: string[]; security?: unknown[] }>>;
    };
    let checked = 0;
    for (const [template, operations] of Object.entries(doc.paths)) {
      const path = template
        .replace('{id}', '00000000-0000-4000-8000-000000000000')
        .replace('{phone}', '%2B12125550123')
        .replace('{category}', 'auth-matrix');
      for (const [method, op] of Object.entries(operations)) {
        const roles = op['x-roles'];
        // Customer endpoints (SPEC §10) are the only ones without a key; every other route declares its roles.
        if (PUBLIC_PREFIXES.some((prefix) => template.startsWith(prefix))) {
          expect(op.security ?? [], `${method} ${template} is public`).toEqual([]);
          continue;
        }
        expect(roles, `${method} ${template} declares its roles`).toBeDefined();
        expect(op.security).toEqual([{ Bearer: [] }]);
        const body = ['post', 'put', 'patch'].includes(method) ? {} : undefined;
        const none = await t.request(method.toUpperCase(), path, { body });
        expect(none.status, `${method} ${template} without key`).toBe(401);
        expect(none.body.code).toBe('unauthorized');
        const bad = await t.request(method.toUpperCase(), path, { body, key: 'sc_not-a-real-key' });
        expect(bad.status, `${method} ${template} with a bad key`).toBe(401);
        for (const role of ['agent', 'ops', 'admin'] as const) {
          const res = await t.request(method.toUpperCase(), path, { body, key: keys[role] });
          if (roles!.includes(role)) expect(res.status, `${method} ${template} as ${role}`).not.toBe(403);
          else expect(res.status, `${method} ${template} as ${role}`).toBe(403);
        }
        checked++;
      }
    }
    expect(checked).toBeGreaterThanOrEqual(20);
  });

  it('refuses a revoked key', async () => {
    const created = await t.request('POST', '/v1/api-keys', { key: keys.admin, body: { role: 'ops', name: 'temp' } });
    expect(created.status).toBe(201);
    expect(created.body.key).toMatch(/^sc_[A-Za-z0-9_-]{43}$/);
    expect((await t.request('GET', '/v1/policies', { key: created.body.key })).status).toBe(200);
    expect((await t.request('DELETE', `/v1/api-keys/${created.body.id}`, { key: keys.admin })).status).toBe(204);
    expect((await t.request('GET', '/v1/policies', { key: created.body.key })).status).toBe(401);
    const stored = await t.sql`select key_hash from api_keys where id = ${created.body.id}`;
    expect(stored[0]!.key_hash).not.toContain(created.body.key);
  });
});

const validCallback = {
  caseRef: 'HTTP-1',
  category: 'billing',
  phone: '+1 212 555 0123',
  reason: 'Second explanation of the invoice',
  firstExplanation: { summary: 'Explained the fee' },
};

type Case = {
  name: string;
  method?: string;
  path?: string;
  body?: unknown;
  raw?: string;
  headers?: Record<string, string>;
  role?: 'agent' | 'ops' | 'admin';
  status: number;
  code: string;
  errorPath?: string;
};

const cb = (patch: Record<string, unknown>) => ({ ...validCallback, ...patch });
const calling = {
  legalHours: { default: [{ days: [1, 2, 3, 4, 5, 6, 7], start: '08:00', end: '21:00' }], byCountry: {} },
  center: { timezone: 'UTC', hours: [{ days: [1, 2, 3, 4, 5, 6, 7], start: '00:00', end: '24:00' }], closedDates: [] },
  caps: { perDay: 3, perWeek: 7 },
};

const CASES: Case[] = [
  { name: 'malformed JSON', raw: '{"caseRef": "x",', status: 400, code: 'malformed_json' },
  { name: 'JSON with a trailing comma', raw: '{"caseRef": "x",}', status: 400, code: 'malformed_json' },
  { name: 'text/plain body', raw: 'caseRef=x', headers: { 'content-type': 'text/plain' }, status: 415, code: 'unsupported_media_type' },
  { name: 'form body', raw: 'caseRef=x', headers: { 'content-type': 'application/x-www-form-urlencoded' }, status: 415, code: 'unsupported_media_type' },
  { name: 'body over the limit', body: cb({ reason: 'x'.repeat(70 * 1024) }), status: 413, code: 'payload_too_large' },
  { name: 'declared Content-Length over the limit', raw: '{}', headers: { 'content-length': String(70 * 1024) }, status: 413, code: 'payload_too_large' },
  { name: 'an array instead of an object', body: [validCallback], status: 422, code: 'validation_failed' },
  { name: 'JSON null', raw: 'null', status: 422, code: 'validation_failed' },
  { name: 'empty body that claims to be JSON', raw: '', headers: { 'content-type': 'application/json' }, status: 400, code: 'malformed_json' },
  { name: 'no body at all', headers: { 'content-type': 'application/json' }, status: 400, code: 'malformed_json' },
  { name: 'deeply nested JSON', raw: '{"caseRef":' + '['.repeat(5000) + ']'.repeat(5000) + '}', status: 422, code: 'validation_failed', errorPath: 'caseRef' },
  { name: 'phone as a number', body: cb({ phone: 12125550123 }), status: 422, code: 'validation_failed', errorPath: 'phone' },
  { name: 'impossible phone number', body: cb({ phone: '+1 555 0123' }), status: 422, code: 'validation_failed', errorPath: 'phone' },
  { name: 'letters for a phone', body: cb({ phone: 'call me maybe' }), status: 422, code: 'validation_failed', errorPath: 'phone' },
  { name: 'bidi override in the phone', body: cb({ phone: '+1 212\u202e555 0123' }), status: 422, code: 'validation_failed', errorPath: 'phone' },
  { name: 'zero-width space in the phone', body: cb({ phone: '+1 212\u200b555 0123' }), status: 422, code: 'validation_failed', errorPath: 'phone' },
  { name: 'premium-rate number', body: cb({ phone: '+1 900 555 0123' }), status: 422, code: 'validation_failed', errorPath: 'phone' },
  { name: 'unknown region', body: cb({ phone: '212 555 0123', region: 'ZZ' }), status: 422, code: 'validation_failed', errorPath: 'phone' },
  { name: 'lowercase region', body: cb({ region: 'us' }), status: 422, code: 'validation_failed', errorPath: 'region' },
  { name: 'unknown time zone', body: cb({ timezone: 'Mars/Olympus_Mons' }), status: 422, code: 'validation_failed', errorPath: 'timezone' },
  { name: 'offset instead of a zone', body: cb({ timezone: '+05:00' }), status: 422, code: 'validation_failed', errorPath: 'timezone' },
  { name: 'deadline in the past', body: cb({ deadline: '2020-01-01T00:00:00Z' }), status: 422, code: 'validation_failed', errorPath: 'deadline' },
  { name: 'time without an offset', body: cb({ notBefore: '2027-01-15T12:00:00' }), status: 422, code: 'validation_failed', errorPath: 'notBefore' },
  { name: 'time in words', body: cb({ notBefore: 'tomorrow' }), status: 422, code: 'validation_failed', errorPath: 'notBefore' },
  { name: 'impossible date', body: cb({ notBefore: '2027-02-30T12:00:00Z' }), status: 422, code: 'validation_failed', errorPath: 'notBefore' },
  { name: 'window ending before it starts', body: cb({ preferredWindows: [{ start: '2030-01-02T10:00:00Z', end: '2030-01-02T09:00:00Z' }] }), status: 422, code: 'validation_failed', errorPath: 'preferredWindows.0.end' },
  { name: 'window that never opens before the deadline', body: cb({ preferredWindows: [{ start: '2031-01-02T14:00:00Z', end: '2031-01-02T15:00:00Z' }] }), status: 422, code: 'no_slot_before_deadline' },
  { name: 'window only at night', body: cb({ timezone: 'America/New_York', preferredWindows: [{ start: new Date(Date.now() + 3600_000).toISOString().slice(0, 11) + '07:00:00Z', end: new Date(Date.now() + 3600_000).toISOString().slice(0, 11) + '09:00:00Z' }] }), status: 422, code: 'no_slot_before_deadline' },
  { name: 'empty windows list', body: cb({ preferredWindows: [] }), status: 422, code: 'validation_failed', errorPath: 'preferredWindows' },
  { name: 'reason over 140 characters', body: cb({ reason: 'x'.repeat(141) }), status: 422, code: 'validation_failed', errorPath: 'reason' },
  { name: 'blank reason', body: cb({ reason: '   ' }), status: 422, code: 'validation_failed', errorPath: 'reason' },
  { name: 'priority out of range', body: cb({ priority: 10 }), status: 422, code: 'validation_failed', errorPath: 'priority' },
  { name: 'fractional priority', body: cb({ priority: 1.5 }), status: 422, code: 'validation_failed', errorPath: 'priority' },
  { name: 'round 1 (the first explanation)', body: cb({ round: 1 }), status: 422, code: 'validation_failed', errorPath: 'round' },
  { name: 'caseRef with spaces', body: cb({ caseRef: 'A B' }), status: 422, code: 'validation_failed', errorPath: 'caseRef' },
  { name: 'caseRef too long', body: cb({ caseRef: 'A'.repeat(65) }), status: 422, code: 'validation_failed', errorPath: 'caseRef' },
  { name: 'SQL-looking caseRef is just data', body: cb({ caseRef: "x';DROP", category: "billing'--" }), status: 422, code: 'validation_failed', errorPath: 'category' },
  { name: 'unknown field', body: cb({ isAdmin: true }), status: 422, code: 'validation_failed' },
  { name: 'prototype pollution attempt', raw: JSON.stringify(validCallback).replace(/}$/, ',"__proto__":{"admin":true}}'), status: 422, code: 'validation_failed' },
  { name: 'missing firstExplanation', body: { ...validCallback, firstExplanation: undefined }, status: 422, code: 'validation_failed', errorPath: 'firstExplanation' },
  { name: 'unknown customer language', body: cb({ customer: { language: 'xx' } }), status: 422, code: 'validation_failed', errorPath: 'customer.language' },
  { name: 'idempotency key with spaces', body: cb({}), headers: { 'idempotency-key': 'a b' }, status: 422, code: 'validation_failed' },
  { name: 'unknown route', method: 'GET', path: '/v1/nope', status: 404, code: 'route_not_found' },
  { name: 'callback id that is not a uuid', method: 'GET', path: '/v1/callbacks/1%20OR%201=1', status: 422, code: 'validation_failed', errorPath: 'id' },
  { name: 'cursor that was never issued', method: 'GET', path: '/v1/callbacks?cursor=Zm9vfGJhcg', status: 422, code: 'validation_failed', errorPath: 'cursor' },
  { name: 'limit over 200', method: 'GET', path: '/v1/callbacks?limit=201', status: 422, code: 'validation_failed', errorPath: 'limit' },
  { name: 'lowercase bearer with garbage', method: 'GET', path: '/v1/callbacks', headers: { authorization: 'bearer ' + 'x'.repeat(5000) }, status: 401, code: 'unauthorized' },
  { name: 'settings: hours ending before they start', method: 'PUT', path: '/v1/settings/calling', role: 'admin', body: { ...calling, legalHours: { default: [{ days: [1], start: '21:00', end: '08:00' }], byCountry: {} } }, status: 422, code: 'validation_failed', errorPath: 'legalHours.default.0.end' },
  { name: 'settings: weekday 8', method: 'PUT', path: '/v1/settings/calling', role: 'admin', body: { ...calling, legalHours: { default: [{ days: [8], start: '08:00', end: '21:00' }], byCountry: {} } }, status: 422, code: 'validation_failed', errorPath: 'legalHours.default.0.days.0' },
  { name: 'settings: 25:00', method: 'PUT', path: '/v1/settings/calling', role: 'admin', body: { ...calling, center: { ...calling.center, hours: [{ days: [1], start: '09:00', end: '25:00' }] } }, status: 422, code: 'validation_failed', errorPath: 'center.hours.0.end' },
  { name: 'settings: unknown center zone', method: 'PUT', path: '/v1/settings/calling', role: 'admin', body: { ...calling, center: { ...calling.center, timezone: 'Europe/Atlantis' } }, status: 422, code: 'validation_failed', errorPath: 'center.timezone' },
  { name: 'settings: bad closed date', method: 'PUT', path: '/v1/settings/calling', role: 'admin', body: { ...calling, center: { ...calling.center, closedDates: ['2027-13-01'] } }, status: 422, code: 'validation_failed', errorPath: 'center.closedDates.0' },
  { name: 'settings: country code in lowercase', method: 'PUT', path: '/v1/settings/calling', role: 'admin', body: { ...calling, legalHours: { ...calling.legalHours, byCountry: { us: [] } } }, status: 422, code: 'validation_failed' },
  { name: 'settings: zero caps', method: 'PUT', path: '/v1/settings/calling', role: 'admin', body: { ...calling, caps: { perDay: 0, perWeek: 7 } }, status: 422, code: 'validation_failed', errorPath: 'caps.perDay' },
  { name: 'official number that is not a number', method: 'PUT', path: '/v1/settings/official-numbers', role: 'admin', body: { numbers: [{ number: 'hello', label: 'x' }] }, status: 422, code: 'validation_failed', errorPath: 'numbers.0.number' },
  { name: 'policy: negative retry delay', method: 'PUT', path: '/v1/policies/billing', role: 'admin', body: { retryDelaysMinutes: [-5] }, status: 422, code: 'validation_failed', errorPath: 'retryDelaysMinutes.0' },
  { name: 'policy: category with a slash', method: 'PUT', path: '/v1/policies/a%2Fb', role: 'admin', body: { enabled: true }, status: 422, code: 'validation_failed', errorPath: 'category' },
  { name: 'policy: default cannot enable', method: 'PUT', path: '/v1/policies/default', role: 'admin', body: { enabled: true }, status: 422, code: 'validation_failed', errorPath: 'enabled' },
  { name: 'policy: unknown consent mode', method: 'PUT', path: '/v1/policies/billing', role: 'admin', body: { consent: 'maybe' }, status: 422, code: 'validation_failed', errorPath: 'consent' },
  { name: 'agent key without an agent', method: 'POST', path: '/v1/api-keys', role: 'admin', body: { role: 'agent', name: 'x' }, status: 422, code: 'validation_failed', errorPath: 'agentId' },
  { name: 'agent key for an unknown agent', method: 'POST', path: '/v1/api-keys', role: 'admin', body: { role: 'agent', name: 'x', agentId: 'ghost' }, status: 422, code: 'validation_failed', errorPath: 'agentId' },
  { name: 'opt-out with an impossible number', method: 'POST', path: '/v1/opt-outs', body: { phone: '+999 1234' }, status: 422, code: 'validation_failed', errorPath: 'phone' },
  { name: 'opt-out with an unknown scope', method: 'POST', path: '/v1/opt-outs', body: { phone: '+12125550123', scope: 'everything' }, status: 422, code: 'validation_failed', errorPath: 'scope' },
];

describe('bad input gets the documented problem and changes nothing', () => {
  it.each(CASES)('$name → $status $code', async (c) => {
    const before = await tableSnapshot(t.sql);
    const headers: Record<string, string> = { authorization: `Bearer ${keys[c.role ?? 'agent']}`, ...c.headers };
    let payload: string | undefined = c.raw;
    if (payload === undefined && c.body !== undefined) payload = JSON.stringify(c.body);
    if (payload !== undefined) headers['content-type'] ??= 'application/json';
    const res = await t.app.request(c.path ?? '/v1/callbacks', { method: c.method ?? 'POST', headers, body: payload });
    const body = (await res.json()) as { code: string; status: number; type: string; title: string; detail: string; errors: { path: string }[] };
    expect(res.status).toBe(c.status);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    expect(body).toMatchObject({ status: c.status, code: c.code });
    expect(body.type).toMatch(/^https:\/\//);
    expect(body.title).toBeTruthy();
    expect(body.detail).toBeTruthy();
    expect(Array.isArray(body.errors)).toBe(true);
    if (c.errorPath) expect(body.errors.map((e) => e.path)).toContain(c.errorPath);
    expect(await tableSnapshot(t.sql)).toEqual(before);
  });

  it('covers at least 50 hostile requests', () => {
    expect(CASES.length).toBeGreaterThanOrEqual(50);
  });
});

describe('service endpoints', () => {
  it('serves health, readiness, the OpenAPI document and rendered docs', async () => {
    expect(await t.request('GET', '/healthz')).toMatchObject({ status: 200, body: { status: 'ok' } });
    expect(await t.request('GET', '/readyz')).toMatchObject({ status: 200, body: { checks: { postgres: 'ok', redis: 'ok' } } });
    const doc = await t.request('GET', '/openapi.json');
    expect(doc.body.openapi).toBe('3.1.0');
    expect(doc.body.paths['/v1/callbacks'].post.requestBody.required).toBe(true);
    const docs = await t.request('GET', '/docs');
    expect(docs.status).toBe(200);
    expect(docs.body).toContain('swagger-ui-bundle.js');
    const asset = await t.app.request('/docs/assets/swagger-ui-bundle.js');
    expect(asset.status).toBe(200);
    expect((await asset.text()).length).toBeGreaterThan(100_000);
  });

  it('echoes a request id', async () => {
    const res = await t.app.request('/healthz', { headers: { 'x-request-id': 'req-123' } });
    expect(res.headers.get('x-request-id')).toBe('req-123');
    const problem = await t.request('GET', '/nope');
    expect(problem.body.instance).toMatch(/^urn:request:/);
  });
});
