/**
 * Bad input on every endpoint (the issue's "bad-input suite"): one table of malformed and hostile
 * requests covering every operation of the OpenAPI document (the staff API, the customers' JSON
 * API, the inbound SMS webhook) and every customer page that takes input. Each case checks the documented
 * answer (status, problem+json `code` and field path; for the HTML pages, the page and status)
 * and that nothing changed: the contents of every table and the jobs of every queue, so no SMS
 * was queued either. A last test walks the OpenAPI document so that a new endpoint without a
 * case fails here. The depth suite of `POST /v1/callbacks` bodies is in http.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MESSAGES } from '../../src/i18n/index.js';
import { logRequestSignature } from '../../src/http/routes/sms-inbound.js';
import type { Role } from '../../src/services/api-keys.js';
import { liveCall, newMobile, openOffer, setUpCalling, type LiveCall, type OpenOffer } from '../e2e/fixtures.js';
import { createTestContext, type TestContext } from '../helpers/harness.js';
import { queuedJobs, tableSnapshot } from '../helpers/snapshot.js';

const en = MESSAGES.en;
const ORIGIN = 'http://localhost';
const FORM = 'application/x-www-form-urlencoded';
const ZERO_ID = '00000000-0000-4000-8000-000000000000';
/** Well-formed (43 base64url characters, like the real ones) but never issued. */
const UNKNOWN_TOKEN = 'A'.repeat(43);
/** A US number nothing in this file's database knows. */
const STRANGER = '+1 212 555 0199';
const OVER_LIMIT = 70 * 1024;

let t: TestContext;
/** Two requests per minute per client IP: for the cases about the rate limit itself. */
let strict: TestContext;
const keys: Record<Role, string> = { agent: '', ops: '', admin: '' };

interface Fixtures {
  /** An agent on the phone right now: a live verification session. */
  live: LiveCall & { attemptId: string };
  /** A callback waiting for the customer's consent, with its offer token. */
  offer: OpenOffer;
  /** The customer pages' CSRF cookie, which the form must echo. */
  csrf: string;
  /** A scheduled callback, created with Idempotency-Key REPLAY_KEY and this body. */
  scheduled: { id: string; body: Record<string, unknown> };
}
let f: Fixtures;

const REPLAY_KEY = 'bad-input-replay-1';

type Lazy<T> = T | ((f: Fixtures) => T);
const resolve = <T>(value: Lazy<T>): T => (typeof value === 'function' ? (value as (f: Fixtures) => T)(f) : value);

interface Case {
  name: string;
  /** The operation, as "METHOD /template" of the OpenAPI document, or a customer page route. */
  op: string;
  /** The concrete path (default: the template, with a placeholder for each parameter). */
  path?: Lazy<string>;
  /** A JSON body, serialised. */
  body?: Lazy<Record<string, unknown> | unknown[]>;
  /** A body sent as is (string or bytes). */
  raw?: string | Uint8Array;
  /** A form body (pages: with the CSRF token added unless given; SMS webhook: as posted). */
  form?: Lazy<Record<string, string>>;
  /** Headers over the defaults; null removes a default. A list of pairs sends repeated headers. */
  headers?: Lazy<Record<string, string | null> | [string, string][]>;
  /** The staff role whose key is sent (default: the operation's first `x-roles` role); null: none. */
  as?: Role | null;
  /** SMS webhook: sign the body with the log provider's signature. */
  signed?: boolean;
  /** Run against the context with a tiny rate limit; `before` spends it. */
  strict?: boolean;
  /** Runs before the snapshot is taken (e.g. spends a rate limit). */
  before?: (f: Fixtures) => Promise<void>;
  status: number;
  /** The problem's `code` (JSON endpoints). */
  code?: string;
  /** A path expected among the problem's `errors`. */
  errorPath?: string;
  /** HTML pages: a text the page shows. */
  page?: string;
  /** The documented non-error answer to nonsense ("not genuine", "accepted"), matched partially. */
  answer?: Lazy<Record<string, unknown>>;
}

/** Path parameters for cases that do not care about the value, only about the rest of the request. */
function fillTemplate(template: string): string {
  return template
    .replace('{id}', ZERO_ID)
    .replace('{token}', UNKNOWN_TOKEN)
    .replace('{phone}', encodeURIComponent('+12125550199'))
    .replace('{category}', 'billing');
}

const deep = (levels: number) => '['.repeat(levels) + ']'.repeat(levels);
const utf16 = (text: string) => new Uint8Array(Buffer.from(text, 'utf16le'));
/** A body as bytes: unlike a string, it gets no default Content-Type from the Request. */
const bytes = (text: string) => new Uint8Array(Buffer.from(text, 'utf8'));

/** The key with one character less or more: the right alphabet, the wrong length. */
const shorter = (key: string) => key.slice(0, -1);
const longer = (key: string) => `${key}A`;

/** Spends the strict context's per-IP budget of a public JSON endpoint. */
const spendJson = (path: string, body: unknown) => async () => {
  for (let i = 0; i < 2; i++) await strict.request('POST', path, { body });
};

const CASES: Case[] = [
  // ---------------------------------------------------------------- POST /v1/public/verify
  { name: 'verify: malformed JSON', op: 'POST /v1/public/verify', raw: '{"phone": "+12125550199", "code":', status: 400, code: 'malformed_json' },
  { name: 'verify: form-encoded body', op: 'POST /v1/public/verify', raw: 'phone=%2B12125550199&code=123456', headers: { 'content-type': FORM }, status: 415, code: 'unsupported_media_type' },
  { name: 'verify: code as a number', op: 'POST /v1/public/verify', body: { phone: STRANGER, code: 482913 }, status: 422, code: 'validation_failed', errorPath: 'code' },
  { name: 'verify: no code', op: 'POST /v1/public/verify', body: { phone: STRANGER }, status: 422, code: 'validation_failed', errorPath: 'code' },
  { name: 'verify: code of 33 characters', op: 'POST /v1/public/verify', body: { phone: STRANGER, code: '1'.repeat(33) }, status: 422, code: 'validation_failed', errorPath: 'code' },
  { name: 'verify: code as a deeply nested array', op: 'POST /v1/public/verify', raw: `{"phone":"+12125550199","code":${deep(20_000)}}`, status: 422, code: 'validation_failed', errorPath: 'code' },
  { name: 'verify: unknown field', op: 'POST /v1/public/verify', body: { phone: STRANGER, code: '123456', debug: true }, status: 422, code: 'validation_failed' },
  { name: 'verify: lowercase region', op: 'POST /v1/public/verify', body: { phone: '212 555 0199', region: 'us', code: '123456' }, status: 422, code: 'validation_failed', errorPath: 'region' },
  { name: 'verify: NUL byte in the code', op: 'POST /v1/public/verify', body: { phone: STRANGER, code: '123\u0000456' }, status: 422, code: 'validation_failed', errorPath: 'code' },
  { name: 'verify: SQL-looking code is just a wrong code', op: 'POST /v1/public/verify', body: { phone: STRANGER, code: "' OR '1'='1" }, status: 200, answer: { genuine: false } },
  {
    name: 'verify: the live number with a zero-width space, and the right code, is not genuine',
    op: 'POST /v1/public/verify',
    body: (x) => ({ phone: x.live.e164.replace(/^(\+\d{4})/, '$1\u200b'), code: x.live.code }),
    status: 200,
    answer: { genuine: false },
  },
  {
    name: 'verify: the live number behind a bidi override, and the right code, is not genuine',
    op: 'POST /v1/public/verify',
    body: (x) => ({ phone: `\u202e${x.live.e164}`, code: x.live.code }),
    status: 200,
    answer: { genuine: false },
  },
  { name: 'verify: body over the limit', op: 'POST /v1/public/verify', body: { phone: STRANGER, code: 'x'.repeat(OVER_LIMIT) }, status: 413, code: 'payload_too_large' },

  // ---------------------------------------------------------------- POST /v1/public/call-status
  { name: 'call-status: phone as an array', op: 'POST /v1/public/call-status', body: { phone: ['+12125550199', '+12125550123'] }, status: 422, code: 'validation_failed', errorPath: 'phone' },
  { name: 'call-status: empty phone', op: 'POST /v1/public/call-status', body: { phone: '' }, status: 422, code: 'validation_failed', errorPath: 'phone' },
  { name: 'call-status: phone of 65 characters', op: 'POST /v1/public/call-status', body: { phone: '1'.repeat(65) }, status: 422, code: 'validation_failed', errorPath: 'phone' },
  { name: 'call-status: unknown field', op: 'POST /v1/public/call-status', body: { phone: STRANGER, to: '+12125550123' }, status: 422, code: 'validation_failed' },
  { name: 'call-status: UTF-16 body labelled charset=utf-16', op: 'POST /v1/public/call-status', raw: utf16('{"phone":"+12125550199"}'), headers: { 'content-type': 'application/json; charset=utf-16' }, status: 400, code: 'malformed_json' },
  { name: 'call-status: zero-width space in the phone: accepted, no SMS', op: 'POST /v1/public/call-status', body: { phone: '+1 212\u200b555 0199' }, status: 202, answer: { accepted: true } },
  { name: 'call-status: letter O for a zero: accepted, no SMS', op: 'POST /v1/public/call-status', body: { phone: '+1 212 555 O199' }, status: 202, answer: { accepted: true } },
  { name: 'call-status: SQL-looking phone: accepted, no SMS', op: 'POST /v1/public/call-status', body: { phone: "'; DELETE FROM sms_messages; --" }, status: 202, answer: { accepted: true } },
  { name: 'call-status: premium-rate number cannot get an SMS', op: 'POST /v1/public/call-status', body: { phone: '+1 900 555 0199' }, status: 202, answer: { accepted: true } },
  { name: 'call-status: unknown region', op: 'POST /v1/public/call-status', body: { phone: '212 555 0199', region: 'ZZ' }, status: 202, answer: { accepted: true } },

  // ---------------------------------------------------------------- POST /v1/public/official-number-check
  { name: 'official check: no number', op: 'POST /v1/public/official-number-check', body: {}, status: 422, code: 'validation_failed', errorPath: 'number' },
  { name: 'official check: number as an object', op: 'POST /v1/public/official-number-check', body: { number: { $ne: null } }, status: 422, code: 'validation_failed', errorPath: 'number' },
  { name: 'official check: SQL-looking number is not official', op: 'POST /v1/public/official-number-check', body: { number: "1' OR '1'='1" }, status: 200, answer: { official: false } },
  { name: 'official check: NUL byte in the number', op: 'POST /v1/public/official-number-check', body: { number: '+60 3\u00002345 6789' }, status: 422, code: 'validation_failed', errorPath: 'number' },
  { name: 'official check: application/jsonp', op: 'POST /v1/public/official-number-check', raw: '{"number":"+60323456789"}', headers: { 'content-type': 'application/jsonp' }, status: 415, code: 'unsupported_media_type' },
  {
    name: 'official check: a spoofed X-Forwarded-For buys no fresh budget (TRUST_PROXY off)',
    op: 'POST /v1/public/official-number-check',
    strict: true,
    before: spendJson('/v1/public/official-number-check', { number: STRANGER }),
    body: { number: STRANGER },
    headers: { 'x-forwarded-for': '198.51.100.7' },
    status: 429,
    code: 'rate_limited',
  },

  // ---------------------------------------------------------------- POST /v1/public/reports
  { name: 'report: blank description', op: 'POST /v1/public/reports', body: { callerNumber: '+12125550100', description: '   ' }, status: 422, code: 'validation_failed', errorPath: 'description' },
  { name: 'report: description over 2000 characters', op: 'POST /v1/public/reports', body: { callerNumber: '+12125550100', description: 'x'.repeat(2001) }, status: 422, code: 'validation_failed', errorPath: 'description' },
  { name: 'report: no caller number', op: 'POST /v1/public/reports', body: { description: 'They asked for my PIN' }, status: 422, code: 'validation_failed', errorPath: 'callerNumber' },
  { name: 'report: own number behind a bidi override', op: 'POST /v1/public/reports', body: { callerNumber: '+12125550100', ownNumber: '\u202e+1 212 555 0199', description: 'They asked for my PIN' }, status: 422, code: 'validation_failed', errorPath: 'ownNumber' },
  { name: 'report: NUL byte in the description', op: 'POST /v1/public/reports', body: { callerNumber: '+12125550100', description: 'They asked\u0000 for my PIN' }, status: 422, code: 'validation_failed', errorPath: 'description' },
  { name: 'report: text/plain with Content-Length 0', op: 'POST /v1/public/reports', raw: 'callerNumber=1', headers: { 'content-type': 'text/plain', 'content-length': '0' }, status: 415, code: 'unsupported_media_type' },
  { name: 'report: text/plain without a body', op: 'POST /v1/public/reports', headers: { 'content-type': 'text/plain' }, status: 415, code: 'unsupported_media_type' },
  { name: 'report: declared Content-Length over the limit', op: 'POST /v1/public/reports', raw: '{}', headers: { 'content-length': String(OVER_LIMIT) }, status: 413, code: 'payload_too_large' },

  // ---------------------------------------------------------------- GET/POST /v1/public/offers/{token}
  { name: 'offer read: token too short', op: 'GET /v1/public/offers/{token}', path: '/v1/public/offers/abc', status: 422, code: 'validation_failed', errorPath: 'token' },
  { name: 'offer read: token of 129 characters', op: 'GET /v1/public/offers/{token}', path: `/v1/public/offers/${'A'.repeat(129)}`, status: 422, code: 'validation_failed', errorPath: 'token' },
  { name: 'offer read: token with a quote and a semicolon', op: 'GET /v1/public/offers/{token}', path: `/v1/public/offers/${encodeURIComponent("AAAAAAAAAAAAAAAA';--")}`, status: 422, code: 'validation_failed', errorPath: 'token' },
  { name: 'offer read: well-formed token never issued', op: 'GET /v1/public/offers/{token}', status: 404, code: 'not_found' },
  { name: 'offer answer: token of 12 characters', op: 'POST /v1/public/offers/{token}', path: '/v1/public/offers/AAAAAAAAAAAA', body: { accept: true }, status: 422, code: 'validation_failed', errorPath: 'token' },
  { name: 'offer answer: accept as a string', op: 'POST /v1/public/offers/{token}', path: (x) => `/v1/public/offers/${x.offer.token}`, body: { accept: 'yes' }, status: 422, code: 'validation_failed', errorPath: 'accept' },
  { name: 'offer answer: slot in words', op: 'POST /v1/public/offers/{token}', path: (x) => `/v1/public/offers/${x.offer.token}`, body: { accept: true, slot: 'tomorrow morning' }, status: 422, code: 'validation_failed', errorPath: 'slot' },
  { name: 'offer answer: slot years ago', op: 'POST /v1/public/offers/{token}', path: (x) => `/v1/public/offers/${x.offer.token}`, body: { accept: true, slot: '2001-01-01T10:00:00Z' }, status: 422, code: 'validation_failed', errorPath: 'slot' },
  { name: 'offer answer: unknown field', op: 'POST /v1/public/offers/{token}', path: (x) => `/v1/public/offers/${x.offer.token}`, body: { accept: true, callbackId: ZERO_ID }, status: 422, code: 'validation_failed' },
  { name: 'offer answer: JSON null', op: 'POST /v1/public/offers/{token}', path: (x) => `/v1/public/offers/${x.offer.token}`, raw: 'null', status: 422, code: 'validation_failed' },
  { name: 'offer answer: well-formed token never issued', op: 'POST /v1/public/offers/{token}', body: { accept: false }, status: 404, code: 'not_found' },

  // ---------------------------------------------------------------- POST /v1/public/opt-outs (+ confirm)
  { name: 'opt-out request: unknown scope', op: 'POST /v1/public/opt-outs', body: { phone: STRANGER, scope: 'everything' }, status: 422, code: 'validation_failed', errorPath: 'scope' },
  { name: 'opt-out request: unknown language', op: 'POST /v1/public/opt-outs', body: { phone: STRANGER, lang: 'xx' }, status: 422, code: 'validation_failed', errorPath: 'lang' },
  { name: 'opt-out request: phone as a number', op: 'POST /v1/public/opt-outs', body: { phone: 12125550199 }, status: 422, code: 'validation_failed', errorPath: 'phone' },
  { name: 'opt-out request: bidi override in the phone: accepted, no SMS', op: 'POST /v1/public/opt-outs', body: { phone: '+1 212\u202e555 0199' }, status: 202, answer: { accepted: true } },
  { name: 'opt-out confirm: no code', op: 'POST /v1/public/opt-outs/confirm', body: { phone: STRANGER }, status: 422, code: 'validation_failed', errorPath: 'code' },
  { name: 'opt-out confirm: code of 33 characters', op: 'POST /v1/public/opt-outs/confirm', body: { phone: STRANGER, code: '9'.repeat(33) }, status: 422, code: 'validation_failed', errorPath: 'code' },
  { name: 'opt-out confirm: a code nobody asked for', op: 'POST /v1/public/opt-outs/confirm', body: { phone: STRANGER, code: '123456' }, status: 422, code: 'validation_failed', errorPath: 'code' },
  { name: 'opt-out confirm: form-encoded body', op: 'POST /v1/public/opt-outs/confirm', raw: 'phone=%2B12125550199&code=123456', headers: { 'content-type': FORM }, status: 415, code: 'unsupported_media_type' },

  // ---------------------------------------------------------------- POST /v1/webhooks/sms/inbound
  { name: 'SMS webhook: no signature', op: 'POST /v1/webhooks/sms/inbound', form: { MessageSid: 'SM1', From: '+12125550199', To: '+12125550100', Body: 'STOP' }, status: 401, code: 'unauthorized' },
  { name: 'SMS webhook: forged signature', op: 'POST /v1/webhooks/sms/inbound', form: { MessageSid: 'SM2', From: '+12125550199', To: '+12125550100', Body: 'STOP' }, headers: { 'x-secondcall-signature': 'f'.repeat(64) }, status: 403, code: 'forbidden' },
  { name: 'SMS webhook: signature of 10 000 characters', op: 'POST /v1/webhooks/sms/inbound', form: { MessageSid: 'SM3', From: '+12125550199', To: '+12125550100', Body: 'STOP' }, headers: { 'x-secondcall-signature': 'a'.repeat(10_000) }, status: 403, code: 'forbidden' },
  { name: "SMS webhook: Twilio's header where the log provider signs", op: 'POST /v1/webhooks/sms/inbound', form: { MessageSid: 'SM4', From: '+12125550199', To: '+12125550100', Body: 'STOP' }, headers: { 'x-twilio-signature': 'bm90IGEgc2lnbmF0dXJl' }, status: 401, code: 'unauthorized' },
  {
    name: 'SMS webhook: a signature of another body (STOP swapped in)',
    op: 'POST /v1/webhooks/sms/inbound',
    form: { MessageSid: 'SM5', From: '+12125550199', To: '+12125550100', Body: 'STOP' },
    headers: () => ({ 'x-secondcall-signature': logRequestSignature(t.config.SECRET_KEY, 'MessageSid=SM5&From=%2B12125550199&To=%2B12125550100&Body=hello') }),
    status: 403,
    code: 'forbidden',
  },
  { name: 'SMS webhook: JSON instead of a form', op: 'POST /v1/webhooks/sms/inbound', body: { MessageSid: 'SM6', From: '+12125550199', To: '+12125550100', Body: 'STOP' }, signed: true, status: 415, code: 'unsupported_media_type' },
  { name: 'SMS webhook: no content type', op: 'POST /v1/webhooks/sms/inbound', raw: bytes('MessageSid=SM7&From=%2B12125550199&To=%2B12125550100&Body=STOP'), headers: { 'content-type': null }, signed: true, status: 415, code: 'unsupported_media_type' },
  { name: 'SMS webhook: signed, without MessageSid', op: 'POST /v1/webhooks/sms/inbound', form: { From: '+12125550199', To: '+12125550100', Body: 'STOP' }, signed: true, status: 422, code: 'validation_failed', errorPath: 'MessageSid' },
  { name: 'SMS webhook: signed, SQL-looking MessageSid', op: 'POST /v1/webhooks/sms/inbound', form: { MessageSid: "SM8'; DROP TABLE opt_outs;--", From: '+12125550199', To: '+12125550100', Body: 'STOP' }, signed: true, status: 422, code: 'validation_failed', errorPath: 'MessageSid' },
  { name: 'SMS webhook: signed, body of 1601 characters', op: 'POST /v1/webhooks/sms/inbound', form: { MessageSid: 'SM9', From: '+12125550199', To: '+12125550100', Body: 'x'.repeat(1601) }, signed: true, status: 422, code: 'validation_failed', errorPath: 'Body' },
  { name: 'SMS webhook: signed, NUL byte in the text', op: 'POST /v1/webhooks/sms/inbound', form: { MessageSid: 'SM10', From: '+12125550199', To: '+12125550100', Body: 'STOP\u0000' }, signed: true, status: 422, code: 'validation_failed', errorPath: 'Body' },
  { name: 'SMS webhook: body over the limit', op: 'POST /v1/webhooks/sms/inbound', form: { MessageSid: 'SM11', From: '+12125550199', To: '+12125550100', Body: 'x'.repeat(OVER_LIMIT) }, signed: true, status: 413, code: 'payload_too_large' },

  // ---------------------------------------------------------------- customer pages: form posts
  { name: 'page /verify: no CSRF cookie nor token', op: 'POST /verify', form: { csrf: '', phone: STRANGER, code: '123456' }, headers: { cookie: null }, status: 403, page: en.forbiddenTitle },
  { name: 'page /verify: token that does not match the cookie', op: 'POST /verify', form: { csrf: 'B'.repeat(43), phone: STRANGER, code: '123456' }, status: 403, page: en.forbiddenTitle },
  { name: 'page /verify: token of the wrong length in both cookie and form', op: 'POST /verify', form: { csrf: 'C'.repeat(42), phone: STRANGER, code: '123456' }, headers: { cookie: `sc_csrf=${'C'.repeat(42)}` }, status: 403, page: en.forbiddenTitle },
  { name: 'page /verify: cross-site Origin with a valid token', op: 'POST /verify', form: { phone: STRANGER, code: '123456' }, headers: { origin: 'https://evil.example' }, status: 403, page: en.forbiddenTitle },
  { name: 'page /verify: JSON body with a valid cookie', op: 'POST /verify', body: (x) => ({ csrf: x.csrf, phone: STRANGER, code: '123456' }), status: 403, page: en.forbiddenTitle },
  { name: 'page /verify: 20 000-character phone and a code in letters', op: 'POST /verify', form: { phone: '1'.repeat(20_000), code: 'abcdef' }, status: 422, page: en.errorCodeFormat },
  { name: 'page /verify: NUL byte in the phone', op: 'POST /verify', form: { phone: '+1 212\u0000555 0199', code: '123456' }, status: 422, page: en.errorPhoneRequired },
  { name: 'page /o/{token}: token of 200 characters', op: 'POST /o/{token}', path: `/o/${'A'.repeat(200)}`, form: { answer: 'accept' }, status: 404, page: en.offerGoneTitle },
  { name: 'page /o/{token}: no CSRF token', op: 'POST /o/{token}', path: (x) => `/o/${x.offer.token}`, form: { csrf: '', answer: 'accept' }, status: 403, page: en.forbiddenTitle },
  { name: 'page /o/{token}: an answer that is neither accept nor decline', op: 'POST /o/{token}', path: (x) => `/o/${x.offer.token}`, form: { answer: "accept' OR 1=1" }, status: 422, page: en.formHasErrors },
  { name: 'page /o/{token}: a slot that is not a time', op: 'POST /o/{token}', path: (x) => `/o/${x.offer.token}`, form: { answer: 'accept', slot: 'x'.repeat(5000) }, status: 422, page: en.errorSlot },
  { name: 'page /opt-out: no CSRF cookie', op: 'POST /opt-out', form: { phone: STRANGER, scope: 'all' }, headers: { cookie: null }, status: 403, page: en.forbiddenTitle },
  { name: 'page /opt-out: 10 000-character phone', op: 'POST /opt-out', form: { phone: '9'.repeat(10_000), scope: 'all' }, status: 422, page: en.errorPhoneInvalid },
  { name: 'page /opt-out: bidi override in the phone', op: 'POST /opt-out', form: { phone: '+1 212\u202e555 0199', scope: 'all' }, status: 422, page: en.errorPhoneInvalid },
  {
    name: 'page /opt-out: a spoofed X-Forwarded-For buys no fresh budget (TRUST_PROXY off)',
    op: 'POST /opt-out',
    strict: true,
    before: spendJson('/v1/public/opt-outs', { phone: '212' }),
    form: { phone: STRANGER, scope: 'all' },
    headers: { 'x-forwarded-for': '203.0.113.50' },
    status: 429,
    page: en.rateLimitedTitle,
  },
  { name: 'page /opt-out/confirm: code in letters', op: 'POST /opt-out/confirm', form: { phone: '+12125550199', code: 'DROP;' }, status: 422, page: en.errorCodeFormat },
  { name: 'page /opt-out/confirm: cookie of another visitor', op: 'POST /opt-out/confirm', form: { phone: '+12125550199', code: '123456' }, headers: { cookie: `sc_csrf=${'D'.repeat(43)}` }, status: 403, page: en.forbiddenTitle },
  { name: 'page /report: no description', op: 'POST /report', form: { callerNumber: '+12125550100', description: '' }, status: 422, page: en.errorRequired },
  { name: 'page /report: own number that is not a number', op: 'POST /report', form: { callerNumber: '+12125550100', reporterPhone: 'call me', description: 'PIN' }, status: 422, page: en.errorPhoneInvalid },
  { name: 'page /report: NUL byte in the description', op: 'POST /report', form: { callerNumber: '+12125550100', description: '\u0000' }, status: 422, page: en.errorRequired },
  { name: 'page /v/{token}: a link token of 5000 characters is not genuine', op: 'GET /v/{token}', path: `/v/${'A'.repeat(5000)}`, status: 200, page: en.notGenuineTitle },
  { name: 'page /v/{token}: a NUL byte in the link token is not genuine', op: 'GET /v/{token}', path: '/v/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA%00', status: 200, page: en.notGenuineTitle },
  { name: 'page /o/{token}: an offer token of 129 characters', op: 'GET /o/{token}', path: `/o/${'A'.repeat(129)}`, status: 404, page: en.offerGoneTitle },
  { name: 'page /report: multipart without a token', op: 'POST /report', raw: '--x\r\nContent-Disposition: form-data; name="description"\r\n\r\nhi\r\n--x--\r\n', headers: { 'content-type': 'multipart/form-data; boundary=x' }, status: 403, page: en.forbiddenTitle },

  // ---------------------------------------------------------------- staff: agents and keys (admin)
  { name: 'agents: blank display name', op: 'POST /v1/agents', body: { displayName: '  ' }, status: 422, code: 'validation_failed', errorPath: 'displayName' },
  { name: 'agents: SQL-looking id', op: 'POST /v1/agents', body: { id: "x'; DROP TABLE agents;--", displayName: 'Mallory' }, status: 422, code: 'validation_failed', errorPath: 'id' },
  { name: 'agents: uppercase skill', op: 'POST /v1/agents', body: { displayName: 'Mallory', skills: ['ADMIN'] }, status: 422, code: 'validation_failed', errorPath: 'skills.0' },
  { name: 'agents: NUL byte in the display name', op: 'POST /v1/agents', body: { displayName: 'Mal\u0000lory' }, status: 422, code: 'validation_failed', errorPath: 'displayName' },
  { name: 'agents: an admin key one character short', op: 'GET /v1/agents', headers: () => ({ authorization: `Bearer ${shorter(keys.admin)}` }), as: null, status: 401, code: 'unauthorized' },
  { name: 'api keys: unknown role', op: 'POST /v1/api-keys', body: { role: 'root', name: 'x' }, status: 422, code: 'validation_failed', errorPath: 'role' },
  { name: 'api keys: NUL byte in the name', op: 'POST /v1/api-keys', body: { role: 'ops', name: 'ops\u0000' }, status: 422, code: 'validation_failed', errorPath: 'name' },
  { name: 'api keys: an admin key one character long', op: 'GET /v1/api-keys', headers: () => ({ authorization: `Bearer ${longer(keys.admin)}` }), as: null, status: 401, code: 'unauthorized' },
  { name: 'api keys: revoke an id that is not a uuid', op: 'DELETE /v1/api-keys/{id}', path: `/v1/api-keys/${encodeURIComponent("1' OR '1'='1")}`, status: 422, code: 'validation_failed', errorPath: 'id' },
  { name: 'api keys: revoke a key that does not exist', op: 'DELETE /v1/api-keys/{id}', status: 404, code: 'not_found' },

  // ---------------------------------------------------------------- staff: policies and settings
  { name: 'policies: non-ASCII bearer key', op: 'GET /v1/policies', headers: { authorization: 'Bearer sc_\u00e9\u00e8\u00ff' + 'a'.repeat(40) }, as: null, status: 401, code: 'unauthorized' },
  { name: 'policies: key sent as UTF-8 bytes read as Latin-1', op: 'GET /v1/policies', headers: { authorization: `Bearer ${Buffer.from('sc_ключ', 'utf8').toString('latin1')}` }, as: null, status: 401, code: 'unauthorized' },
  { name: 'policy: SQL-looking category', op: 'GET /v1/policies/{category}', path: `/v1/policies/${encodeURIComponent("billing' OR '1'='1")}`, status: 422, code: 'validation_failed', errorPath: 'category' },
  { name: 'policy: empty tier list', op: 'PUT /v1/policies/{category}', body: { customerTiers: [] }, status: 422, code: 'validation_failed', errorPath: 'customerTiers' },
  { name: 'policy: NUL byte in a tier', op: 'PUT /v1/policies/{category}', body: { customerTiers: ['gold\u0000'] }, status: 422, code: 'validation_failed', errorPath: 'customerTiers.0' },
  { name: 'calling settings: the admin key twice', op: 'GET /v1/settings/calling', headers: () => [['authorization', `Bearer ${keys.admin}`], ['authorization', `Bearer ${keys.admin}`]], as: null, status: 401, code: 'unauthorized' },
  {
    name: 'calling settings: center zone with a trailing space',
    op: 'PUT /v1/settings/calling',
    body: {
      legalHours: { default: [{ days: [1], start: '08:00', end: '21:00' }], byCountry: {} },
      center: { timezone: 'Asia/Kuala_Lumpur ', hours: [], closedDates: [] },
      caps: { perDay: 3, perWeek: 7 },
    },
    status: 422,
    code: 'validation_failed',
    errorPath: 'center.timezone',
  },
  {
    name: 'calling settings: a path for a zone',
    op: 'PUT /v1/settings/calling',
    body: {
      legalHours: { default: [], byCountry: {} },
      center: { timezone: '../../../../etc/localtime', hours: [], closedDates: [] },
      caps: { perDay: 3, perWeek: 7 },
    },
    status: 422,
    code: 'validation_failed',
    errorPath: 'center.timezone',
  },
  { name: 'official numbers: an agent may not read them', op: 'GET /v1/settings/official-numbers', as: 'agent', status: 403, code: 'forbidden' },
  { name: 'official numbers: NUL byte in a label', op: 'PUT /v1/settings/official-numbers', body: { numbers: [{ number: '+60 3-2345 6789', label: 'Care\u0000' }] }, status: 422, code: 'validation_failed', errorPath: 'numbers.0.label' },
  { name: 'alerts: an ops key may not read them', op: 'GET /v1/settings/alerts', as: 'ops', status: 403, code: 'forbidden' },
  { name: 'alerts: answer rate above 1', op: 'PUT /v1/settings/alerts', body: { answerRateMin: 1.5 }, status: 422, code: 'validation_failed', errorPath: 'answerRateMin' },
  { name: 'alerts: a number as a string', op: 'PUT /v1/settings/alerts', body: { minAttempts: '20' }, status: 422, code: 'validation_failed', errorPath: 'minAttempts' },

  // ---------------------------------------------------------------- staff: preview and callbacks
  { name: 'preview: unknown time zone', op: 'POST /v1/schedule/preview', body: { phone: STRANGER, category: 'billing', timezone: 'Mars/Olympus_Mons' }, status: 422, code: 'validation_failed', errorPath: 'timezone' },
  { name: 'preview: "UTC+8" is no zone', op: 'POST /v1/schedule/preview', body: { phone: STRANGER, category: 'billing', timezone: 'UTC+8' }, status: 422, code: 'validation_failed', errorPath: 'timezone' },
  { name: 'preview: fullwidth plus and a bidi mark in the phone', op: 'POST /v1/schedule/preview', body: { phone: '\uff0b1 212 555\u200f 0199', category: 'billing' }, status: 422, code: 'validation_failed', errorPath: 'phone' },
  { name: 'preview: NUL byte in the category', op: 'POST /v1/schedule/preview', body: { phone: STRANGER, category: 'bill\u0000ing' }, status: 422, code: 'validation_failed', errorPath: 'category' },
  {
    name: 'callbacks: a replayed Idempotency-Key with another body',
    op: 'POST /v1/callbacks',
    headers: { 'idempotency-key': REPLAY_KEY },
    body: (x) => ({ ...x.scheduled.body, caseRef: 'BAD-INPUT-OTHER' }),
    status: 422,
    code: 'idempotency_key_reused',
  },
  {
    name: 'callbacks: a replayed Idempotency-Key with the same body returns the same callback',
    op: 'POST /v1/callbacks',
    headers: { 'idempotency-key': REPLAY_KEY },
    body: (x) => x.scheduled.body,
    status: 201,
    answer: (x) => ({ id: x.scheduled.id }),
  },
  { name: 'callbacks: Idempotency-Key of 201 characters', op: 'POST /v1/callbacks', headers: { 'idempotency-key': 'k'.repeat(201) }, body: (x) => x.scheduled.body, status: 422, code: 'validation_failed', errorPath: 'idempotency-key' },
  { name: 'callbacks: a deadline in year 9999', op: 'POST /v1/callbacks', body: (x) => ({ ...x.scheduled.body, caseRef: 'BAD-INPUT-FAR', deadline: '9999-12-31T00:00:00Z' }), status: 422, code: 'validation_failed', errorPath: 'deadline' },
  { name: 'callbacks: a deadline already past', op: 'POST /v1/callbacks', body: (x) => ({ ...x.scheduled.body, caseRef: 'BAD-INPUT-PAST', deadline: '2001-01-01T00:00:00Z' }), status: 422, code: 'validation_failed', errorPath: 'deadline' },
  { name: 'callbacks: notBefore a year ahead', op: 'POST /v1/callbacks', body: (x) => ({ ...x.scheduled.body, caseRef: 'BAD-INPUT-FAR', notBefore: new Date(Date.now() + 366 * 86_400_000).toISOString() }), status: 422, code: 'validation_failed', errorPath: 'notBefore' },
  { name: 'preview: a deadline in year 9999', op: 'POST /v1/schedule/preview', body: { phone: STRANGER, category: 'billing', deadline: '9999-12-31T00:00:00Z' }, status: 422, code: 'validation_failed', errorPath: 'deadline' },
  { name: 'callbacks: NUL byte in the reason', op: 'POST /v1/callbacks', body: (x) => ({ ...x.scheduled.body, caseRef: 'BAD-INPUT-NUL', reason: 'a\u0000b' }), status: 422, code: 'validation_failed', errorPath: 'reason' },
  { name: 'callbacks: NUL byte in the first explanation', op: 'POST /v1/callbacks', body: (x) => ({ ...x.scheduled.body, caseRef: 'BAD-INPUT-NUL', firstExplanation: { summary: '\u0000' } }), status: 422, code: 'validation_failed', errorPath: 'firstExplanation.summary' },
  { name: 'callbacks list: unknown status', op: 'GET /v1/callbacks', path: '/v1/callbacks?status=scheduled,hacked', status: 422, code: 'validation_failed', errorPath: 'status.1' },
  { name: 'callbacks list: SQL-looking phone', op: 'GET /v1/callbacks', path: `/v1/callbacks?phone=${encodeURIComponent("' OR 1=1 --")}`, status: 422, code: 'validation_failed', errorPath: 'phone' },
  { name: 'callbacks list: dueBefore in words', op: 'GET /v1/callbacks', path: '/v1/callbacks?dueBefore=soon', status: 422, code: 'validation_failed', errorPath: 'dueBefore' },
  { name: 'callback: path traversal for an id', op: 'GET /v1/callbacks/{id}', path: '/v1/callbacks/..%2F..%2Fetc%2Fpasswd', status: 422, code: 'validation_failed', errorPath: 'id' },
  { name: 'cancel: blank reason', op: 'POST /v1/callbacks/{id}/cancel', path: (x) => `/v1/callbacks/${x.scheduled.id}/cancel`, body: { reason: ' ' }, status: 422, code: 'validation_failed', errorPath: 'reason' },
  { name: 'cancel: reason as an array', op: 'POST /v1/callbacks/{id}/cancel', path: (x) => `/v1/callbacks/${x.scheduled.id}/cancel`, body: { reason: ['a'] }, status: 422, code: 'validation_failed', errorPath: 'reason' },
  { name: 'reschedule: neither time nor windows', op: 'POST /v1/callbacks/{id}/reschedule', path: (x) => `/v1/callbacks/${x.scheduled.id}/reschedule`, body: {}, status: 422, code: 'validation_failed' },
  { name: 'reschedule: a time without an offset', op: 'POST /v1/callbacks/{id}/reschedule', path: (x) => `/v1/callbacks/${x.scheduled.id}/reschedule`, body: { notBefore: '2030-01-01T09:00:00' }, status: 422, code: 'validation_failed', errorPath: 'notBefore' },

  // ---------------------------------------------------------------- staff: opt-outs
  { name: 'opt-outs: two Content-Type headers', op: 'POST /v1/opt-outs', body: { phone: STRANGER }, headers: [['content-type', 'application/json'], ['content-type', 'text/plain']], status: 415, code: 'unsupported_media_type' },
  { name: 'opt-outs: zero-width joiner in the phone', op: 'POST /v1/opt-outs', body: { phone: '+1 212 555\u200d0199' }, status: 422, code: 'validation_failed', errorPath: 'phone' },
  { name: 'opt-out read: letters for a phone', op: 'GET /v1/opt-outs/{phone}', path: '/v1/opt-outs/call-me', status: 422, code: 'validation_failed', errorPath: 'phone' },
  { name: 'opt-out read: phone of 65 characters', op: 'GET /v1/opt-outs/{phone}', path: `/v1/opt-outs/${'1'.repeat(65)}`, status: 422, code: 'validation_failed', errorPath: 'phone' },
  { name: 'opt-out lift: SQL-looking phone', op: 'DELETE /v1/opt-outs/{phone}', path: `/v1/opt-outs/${encodeURIComponent("'; DELETE FROM opt_outs; --")}`, as: 'ops', status: 422, code: 'validation_failed', errorPath: 'phone' },
  { name: 'opt-out lift: an agent may not', op: 'DELETE /v1/opt-outs/{phone}', as: 'agent', status: 403, code: 'forbidden' },

  // ---------------------------------------------------------------- staff: webhooks (admin)
  { name: 'webhook endpoint: javascript: URL', op: 'POST /v1/webhooks/endpoints', body: { url: 'javascript:alert(1)' }, status: 422, code: 'validation_failed', errorPath: 'url' },
  { name: 'webhook endpoint: credentials in the URL', op: 'POST /v1/webhooks/endpoints', body: { url: 'https://user:pass@crm.example.com/hook' }, status: 422, code: 'validation_failed', errorPath: 'url' },
  { name: 'webhook endpoint: file: URL', op: 'POST /v1/webhooks/endpoints', body: { url: 'file:///etc/passwd' }, status: 422, code: 'validation_failed', errorPath: 'url' },
  { name: 'webhook endpoint: unknown event', op: 'POST /v1/webhooks/endpoints', body: { url: 'https://crm.example.com/hook', events: ['callback.*'] }, status: 422, code: 'validation_failed', errorPath: 'events.0' },
  { name: 'webhook endpoint: NUL byte in the description', op: 'POST /v1/webhooks/endpoints', body: { url: 'https://crm.example.com/hook', description: 'crm\u0000' }, status: 422, code: 'validation_failed', errorPath: 'description' },
  { name: 'webhook endpoints: Basic auth with a key', op: 'GET /v1/webhooks/endpoints', headers: () => ({ authorization: `Basic ${Buffer.from(`admin:${keys.admin}`).toString('base64')}` }), as: null, status: 401, code: 'unauthorized' },
  { name: 'webhook endpoint: deactivate an id that is not a uuid', op: 'DELETE /v1/webhooks/endpoints/{id}', path: '/v1/webhooks/endpoints/1;DROP', status: 422, code: 'validation_failed', errorPath: 'id' },
  { name: 'webhook deliveries: cursor 0', op: 'GET /v1/webhooks/deliveries', path: '/v1/webhooks/deliveries?cursor=0', status: 422, code: 'validation_failed', errorPath: 'cursor' },
  { name: 'webhook deliveries: limit -1', op: 'GET /v1/webhooks/deliveries', path: '/v1/webhooks/deliveries?limit=-1', status: 422, code: 'validation_failed', errorPath: 'limit' },

  // ---------------------------------------------------------------- staff: agent workflow and exemptions
  { name: 'claim: an ops key is no agent', op: 'POST /v1/agents/me/claim', as: 'ops', status: 403, code: 'forbidden' },
  { name: 'claim: text/plain body', op: 'POST /v1/agents/me/claim', raw: 'claim', headers: { 'content-type': 'text/plain' }, status: 415, code: 'unsupported_media_type' },
  { name: 'claim: malformed JSON', op: 'POST /v1/agents/me/claim', raw: '{"skills": [', status: 400, code: 'malformed_json' },
  { name: 'claim: options it does not take', op: 'POST /v1/agents/me/claim', body: { callbackId: '00000000-0000-4000-8000-000000000000' }, status: 422, code: 'validation_failed', errorPath: '(body)' },
  { name: 'claim: an array for a body', op: 'POST /v1/agents/me/claim', raw: '[]', status: 422, code: 'validation_failed', errorPath: '(body)' },
  { name: 'release: malformed JSON', op: 'POST /v1/callbacks/{id}/release', path: (x) => `/v1/callbacks/${x.scheduled.id}/release`, raw: '{', status: 400, code: 'malformed_json' },
  { name: 'release: id that is not a uuid', op: 'POST /v1/callbacks/{id}/release', path: '/v1/callbacks/42/release', status: 422, code: 'validation_failed', errorPath: 'id' },
  { name: 'attempt: caller number of 65 characters', op: 'POST /v1/callbacks/{id}/attempts', path: (x) => `/v1/callbacks/${x.live.callbackId}/attempts`, body: { callerNumber: '6'.repeat(65) }, status: 422, code: 'validation_failed', errorPath: 'callerNumber' },
  { name: 'attempt: unknown field', op: 'POST /v1/callbacks/{id}/attempts', path: (x) => `/v1/callbacks/${x.live.callbackId}/attempts`, body: { agentId: 'someone-else' }, status: 422, code: 'validation_failed' },
  { name: 'result: connected without an outcome', op: 'POST /v1/attempts/{id}/result', path: (x) => `/v1/attempts/${x.live.attemptId}/result`, body: { result: 'connected' }, status: 422, code: 'validation_failed', errorPath: 'outcome' },
  { name: 'result: an outcome without a connection', op: 'POST /v1/attempts/{id}/result', path: (x) => `/v1/attempts/${x.live.attemptId}/result`, body: { result: 'no_answer', outcome: 'accepted' }, status: 422, code: 'validation_failed', errorPath: 'outcome' },
  { name: 'result: unknown result', op: 'POST /v1/attempts/{id}/result', path: (x) => `/v1/attempts/${x.live.attemptId}/result`, body: { result: 'hung_up_on_scammer' }, status: 422, code: 'validation_failed', errorPath: 'result' },
  { name: 'result: NUL byte in the notes', op: 'POST /v1/attempts/{id}/result', path: (x) => `/v1/attempts/${x.live.attemptId}/result`, body: { result: 'no_answer', notes: 'rang\u0000' }, status: 422, code: 'validation_failed', errorPath: 'notes' },
  { name: 'exemption: blank reason', op: 'POST /v1/callbacks/{id}/exemption', path: (x) => `/v1/callbacks/${x.live.callbackId}/exemption`, body: { reason: '\t' }, status: 422, code: 'validation_failed', errorPath: 'reason' },
  { name: 'exemption: reason of 501 characters', op: 'POST /v1/callbacks/{id}/exemption', path: (x) => `/v1/callbacks/${x.live.callbackId}/exemption`, body: { reason: 'r'.repeat(501) }, status: 422, code: 'validation_failed', errorPath: 'reason' },
  { name: 'decision: approve as a string', op: 'POST /v1/exemptions/{id}/decision', body: { approve: 'yes' }, status: 422, code: 'validation_failed', errorPath: 'approve' },
  { name: 'decision: an agent may not decide', op: 'POST /v1/exemptions/{id}/decision', body: { approve: true }, as: 'agent', status: 403, code: 'forbidden' },
  { name: 'exemptions: unknown query parameter', op: 'GET /v1/exemptions', path: '/v1/exemptions?status=pending&orderBy=1', status: 422, code: 'validation_failed' },
  { name: 'exemptions: unknown status', op: 'GET /v1/exemptions', path: '/v1/exemptions?status=approved%27--', status: 422, code: 'validation_failed', errorPath: 'status' },

  // ---------------------------------------------------------------- staff: ops
  { name: 'overview: 64 KiB of Authorization header', op: 'GET /v1/ops/overview', headers: { authorization: `Bearer ${'x'.repeat(64 * 1024)}` }, as: null, status: 401, code: 'unauthorized' },
  { name: 'overview: an empty bearer', op: 'GET /v1/ops/overview', headers: { authorization: 'Bearer ' }, as: null, status: 401, code: 'unauthorized' },
  { name: 'overview: an agent is not ops', op: 'GET /v1/ops/overview', as: 'agent', status: 403, code: 'forbidden' },
];

/** Customer pages with input (not in the OpenAPI document): each must have a case too. */
const PAGE_ROUTES = ['POST /verify', 'POST /o/{token}', 'POST /opt-out', 'POST /opt-out/confirm', 'POST /report', 'GET /v/{token}', 'GET /o/{token}'];

interface Operation {
  roles: Role[] | null;
}
let operations: Map<string, Operation>;

function requestOf(c: Case): { path: string; init: RequestInit } {
  const [method, template] = c.op.split(' ') as [string, string];
  const path = c.path === undefined ? fillTemplate(template) : resolve(c.path);
  const isPage = !template.startsWith('/v1/');
  const isSms = template === '/v1/webhooks/sms/inbound';
  const defaults: Record<string, string> = {};
  let body: string | Uint8Array | undefined;

  if (c.form !== undefined) {
    const form = resolve(c.form);
    body = new URLSearchParams(isPage ? { csrf: f.csrf, ...form } : form).toString();
    defaults['content-type'] = FORM;
  } else if (c.body !== undefined) {
    body = JSON.stringify(resolve(c.body));
    defaults['content-type'] = 'application/json';
  } else if (c.raw !== undefined) {
    body = c.raw;
    defaults['content-type'] = 'application/json';
  }
  if (isPage) {
    defaults.origin = ORIGIN;
    defaults.cookie = `sc_csrf=${f.csrf}`;
  }
  if (isSms && c.signed && body !== undefined) {
    const text = typeof body === 'string' ? body : Buffer.from(body).toString('utf8');
    defaults['x-secondcall-signature'] = logRequestSignature(t.config.SECRET_KEY, text);
  }
  const role = c.as === undefined ? operations.get(c.op)?.roles?.[0] : c.as;
  if (role) defaults.authorization = `Bearer ${keys[role]}`;

  const extra = c.headers === undefined ? {} : resolve(c.headers);
  let headers: [string, string][];
  if (Array.isArray(extra)) {
    const named = new Set(extra.map(([name]) => name));
    headers = [...Object.entries(defaults).filter(([name]) => !named.has(name)), ...extra];
  } else {
    const merged: Record<string, string | null> = { ...defaults, ...extra };
    headers = Object.entries(merged).filter((e): e is [string, string] => e[1] !== null);
  }
  return { path, init: { method, headers, body } };
}

/** Jobs in every queue, waiting or done: an SMS, a wake-up or a webhook queued shows here. */
async function snapshot(ctx: TestContext) {
  return { tables: await tableSnapshot(ctx.sql), jobs: await queuedJobs(ctx) };
}

beforeAll(async () => {
  [t, strict] = await Promise.all([
    createTestContext({ SMS_ALLOW_LINKS: 'true', RATE_LIMIT_IP_PER_MINUTE: '100000', RATE_LIMIT_PHONE_PER_HOUR: '100000' }),
    createTestContext({ RATE_LIMIT_IP_PER_MINUTE: '2', RATE_LIMIT_PHONE_PER_HOUR: '100000' }),
  ]);
  keys.admin = await setUpCalling(t);
  keys.ops = await t.key('ops');
  keys.agent = await t.key('agent', { id: 'bad-input-agent' });
  expect((await t.request('PUT', '/v1/policies/billing', { key: keys.admin, body: { enabled: true } })).status).toBe(200);

  const doc = (await t.request('GET', '/openapi.json')).body as { paths: Record<string, Record<string, { 'x-roles'?: Role[] }>> };
  operations = new Map();
  for (const [path, ops] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(ops)) operations.set(`${method.toUpperCase()} ${path}`, { roles: op['x-roles'] ?? null });
  }

  const live = await liveCall(t, keys.admin);
  const [attempt] = await t.sql`select id from attempts where callback_id = ${live.callbackId}`;
  const offer = await openOffer(t, keys.admin);
  const page = await t.app.request('/verify');
  const csrf = /sc_csrf=([A-Za-z0-9_-]{43})/.exec(page.headers.get('set-cookie') ?? '')?.[1];
  expect(csrf).toBeDefined();
  const body = {
    caseRef: 'BAD-INPUT-1',
    category: 'billing',
    phone: newMobile(),
    reason: 'Second explanation of the invoice',
    firstExplanation: { summary: 'Explained the fee' },
  };
  const created = await t.request('POST', '/v1/callbacks', { key: keys.agent, body, headers: { 'idempotency-key': REPLAY_KEY } });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  f = { live: { ...live, attemptId: attempt!.id as string }, offer, csrf: csrf!, scheduled: { id: created.body.id as string, body } };
});
afterAll(async () => {
  await Promise.all([t?.close(), strict?.close()]);
});

describe('bad input on every endpoint gets the documented answer and changes nothing', () => {
  it.each(CASES)('$op: $name → $status', async (c) => {
    const ctx = c.strict ? strict : t;
    await c.before?.(f);
    const before = await snapshot(ctx);
    const { path, init } = requestOf(c);
    const res = await ctx.app.request(path, init);
    const text = await res.text();
    const type = res.headers.get('content-type') ?? '';

    expect(res.status, text.slice(0, 500)).toBe(c.status);
    if (c.code !== undefined) {
      expect(type).toBe('application/problem+json');
      const problem = JSON.parse(text) as { code: string; status: number; title: string; detail: string; errors: { path: string }[] };
      expect(problem).toMatchObject({ status: c.status, code: c.code });
      expect(problem.title).toBeTruthy();
      expect(problem.detail).toBeTruthy();
      if (c.errorPath !== undefined) expect(problem.errors.map((e) => e.path)).toContain(c.errorPath);
    }
    if (c.page !== undefined) {
      expect(type).toBe('text/html; charset=UTF-8');
      expect(res.headers.get('cache-control')).toBe('no-store');
      expect(text.replace(/&#39;/g, "'").replace(/&quot;/g, '"')).toContain(c.page);
    }
    if (c.answer !== undefined) expect(JSON.parse(text)).toMatchObject(resolve(c.answer));
    if (c.status === 429) expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);

    expect(await snapshot(ctx)).toEqual(before);
  });

  it('has at least 50 cases, each naming a real operation or form', () => {
    expect(CASES.length).toBeGreaterThanOrEqual(50);
    for (const c of CASES) {
      expect(operations.has(c.op) || PAGE_ROUTES.includes(c.op), `${c.name}: unknown operation ${c.op}`).toBe(true);
      expect(c.code !== undefined || c.page !== undefined || c.answer !== undefined, `${c.name}: says what it expects`).toBe(true);
    }
  });

  it('covers every operation of the OpenAPI document and every customer page that takes input', () => {
    const covered = new Set(CASES.map((c) => c.op));
    const missing = [...operations.keys(), ...PAGE_ROUTES].filter((op) => !covered.has(op));
    expect(missing, 'operations without a bad-input case').toEqual([]);
    expect(operations.size).toBeGreaterThanOrEqual(40);
  });
});
