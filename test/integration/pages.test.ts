import { DateTime } from 'luxon';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MESSAGES } from '../../src/i18n/index.js';
import { createTestContext, type TestContext } from '../helpers/harness.js';
import { liveCall, newMobile, OFFICIAL_E164, openOffer, setUpCalling, tokenOf } from '../e2e/fixtures.js';

let t: TestContext;
let admin: string;

const ORIGIN = 'http://localhost';
const CSP = "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";
const { en, ms } = MESSAGES;
const zh = MESSAGES['zh-CN'];

/** The visible text of a page, tags removed and entities decoded, for assertions on words. */
function textOf(html: string): string {
  return html
    .replace(/<[^>]+>/g, ' ')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&')
    .replace(/\s+/g, ' ');
}

interface Page {
  status: number;
  headers: Headers;
  html: string;
  text: string;
}

async function read(res: Response): Promise<Page> {
  const html = await res.text();
  return { status: res.status, headers: res.headers, html, text: textOf(html) };
}

/** A browser without JavaScript: keeps the CSRF cookie, sends the hidden token and its Origin with each form. */
class Visitor {
  cookie = '';
  token = '';

  constructor(private readonly headers: Record<string, string> = {}) {}

  private remember(res: Response, html: string) {
    const set = /sc_csrf=([^;]+)/.exec(res.headers.get('set-cookie') ?? '');
    if (set) this.cookie = set[1]!;
    const field = /name="csrf" value="([^"]+)"/.exec(html);
    if (field) this.token = field[1]!;
  }

  async get(path: string, headers: Record<string, string> = {}): Promise<Page> {
    const res = await t.app.request(path, { headers: { ...this.headers, ...this.cookieHeader(), ...headers } });
    const page = await read(res);
    this.remember(res, page.html);
    return page;
  }

  async post(path: string, fields: Record<string, string>, headers: Record<string, string> = {}): Promise<Page> {
    const res = await t.app.request(path, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: ORIGIN, ...this.headers, ...this.cookieHeader(), ...headers },
      body: new URLSearchParams({ csrf: this.token, ...fields }).toString(),
    });
    const page = await read(res);
    this.remember(res, page.html);
    return page;
  }

  private cookieHeader(): Record<string, string> {
    return this.cookie ? { cookie: `sc_csrf=${this.cookie}` } : {};
  }
}

async function visitor(path = '/verify', headers: Record<string, string> = {}) {
  const v = new Visitor(headers);
  const page = await v.get(path);
  expect(page.status).toBe(200);
  expect(v.cookie).toMatch(/^[A-Za-z0-9_-]{43}$/);
  expect(v.token).toBe(v.cookie);
  return v;
}

const sessionRow = async (callbackId: string) =>
  (await t.sql`select failed_checks, verified_at, locked_at from verification_sessions where callback_id = ${callbackId}`)[0]!;

beforeAll(async () => {
  t = await createTestContext({ SMS_ALLOW_LINKS: 'true', RATE_LIMIT_IP_PER_MINUTE: '1000', RATE_LIMIT_PHONE_PER_HOUR: '5', BRAND_NAME: 'Acme Telco' });
  t.setNow(null);
  admin = await setUpCalling(t);
});
afterAll(() => t?.close());

describe('headers of every page', () => {
  const pages = ['/verify', '/opt-out', '/v/unknown-token', '/o/unknown-token'];

  it.each(pages)('%s: strict CSP, no referrer, no caching, no framing, HTML in the chosen language', async (path) => {
    const page = await new Visitor().get(path);
    expect(page.headers.get('content-type')).toBe('text/html; charset=UTF-8');
    expect(page.headers.get('content-security-policy')).toBe(CSP);
    expect(page.headers.get('referrer-policy')).toBe('no-referrer');
    expect(page.headers.get('cache-control')).toBe('no-store');
    expect(page.headers.get('x-frame-options')).toBe('DENY');
    expect(page.headers.get('x-content-type-options')).toBe('nosniff');
    expect(page.headers.get('vary')).toContain('Accept-Language');
    expect(page.html.startsWith('<!doctype html><html lang="en">')).toBe(true);
  });

  it.each(pages)('%s: no script, no inline style, nothing from another origin', async (path) => {
    const { html } = await new Visitor().get(path);
    expect(html).not.toMatch(/<script|\sstyle=|\son[a-z]+=/i);
    const urls = [...html.matchAll(/\s(?:href|src|action)="([^"]*)"/g)].map((m) => m[1]!);
    expect(urls.length).toBeGreaterThan(0);
    for (const url of urls) expect(url, url).toMatch(/^(\/(?!\/)|tel:|data:,$)/);
  });

  it('serves its own stylesheet, with no imports or remote URLs', async () => {
    const res = await t.app.request('/assets/pages.css');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/css; charset=utf-8');
    const css = await res.text();
    expect(css).toContain('.result.genuine');
    expect(css).not.toMatch(/@import|url\(|https?:/);
  });

  it('does not touch the API: no page headers on /healthz or /v1, and problem+json stays', async () => {
    const health = await t.app.request('/healthz');
    expect(health.headers.get('content-security-policy')).toBeNull();
    const api = await t.request('GET', '/v1/policies');
    expect(api.status).toBe(401);
    expect(api.headers.get('content-type')).toContain('application/problem+json');
    expect(api.headers.get('set-cookie')).toBeNull();
  });
});

describe('language', () => {
  it('defaults to English', async () => {
    const page = await new Visitor().get('/verify');
    expect(page.html).toContain('<html lang="en">');
    expect(page.text).toContain(en.verifyTitle({ brand: 'Acme Telco' }));
    expect(page.headers.get('content-language')).toBe('en');
  });

  it('follows Accept-Language', async () => {
    const page = await new Visitor({ 'accept-language': 'ms-MY,ms;q=0.9,en;q=0.5' }).get('/verify');
    expect(page.html).toContain('<html lang="ms">');
    expect(page.text).toContain(ms.verifyTitle({ brand: 'Acme Telco' }));
  });

  it('lets ?lang= win over Accept-Language, and keeps it in the form action', async () => {
    const page = await new Visitor({ 'accept-language': 'ms' }).get('/verify?lang=zh-CN');
    expect(page.html).toContain('<html lang="zh-CN">');
    expect(page.text).toContain(zh.verifyTitle({ brand: 'Acme Telco' }));
    expect(page.html).toContain('action="/verify?lang=zh-CN"');
    expect(page.headers.get('content-language')).toBe('zh-CN');
  });

  it('offers a switcher with a link per language, the current one marked', async () => {
    const page = await new Visitor().get('/opt-out?lang=ms');
    expect(page.html).toContain('href="/opt-out?lang=en"');
    expect(page.html).toContain('href="/opt-out?lang=zh-CN"');
    expect(page.html).toMatch(/href="\/opt-out\?lang=ms"[^>]*aria-current="true"/);
    expect(page.text).toContain('English');
    expect(page.text).toContain('中文');
    expect(page.text).toContain('Bahasa Melayu');
  });

  it('ignores an unknown ?lang=', async () => {
    const page = await new Visitor().get('/verify?lang=%3Cscript%3E');
    expect(page.html).toContain('<html lang="en">');
    expect(page.html).not.toContain('<script');
  });
});

describe('forms only our own pages can post (CSRF)', () => {
  it('sets an HttpOnly, SameSite=Strict cookie; over https it is a __Host- Secure cookie', async () => {
    const plain = await t.app.request('/verify');
    expect(plain.headers.get('set-cookie')).toMatch(/^sc_csrf=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Strict$/);
    const secure = await t.app.request('https://callbacks.example/verify');
    expect(secure.headers.get('set-cookie')).toMatch(/^__Host-sc_csrf=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; Secure; SameSite=Strict$/);
    // Without TRUST_PROXY a client-sent X-Forwarded-Proto changes nothing.
    const spoofed = await t.app.request('/verify', { headers: { 'x-forwarded-proto': 'https' } });
    expect(spoofed.headers.get('set-cookie')).toMatch(/^sc_csrf=/);
  });

  it('keeps the token the browser already has', async () => {
    const v = await visitor();
    const again = await t.app.request('/verify', { headers: { cookie: `sc_csrf=${v.cookie}` } });
    expect(again.headers.get('set-cookie')).toBeNull();
    expect(await again.text()).toContain(`value="${v.cookie}"`);
  });

  it('accepts a same-origin form with the matching token', async () => {
    const v = await visitor();
    const page = await v.post('/verify', { phone: newMobile(), code: '123456' });
    expect(page.status).toBe(200);
    expect(page.text).toContain(en.notGenuineTitle);
  });

  it('accepts Sec-Fetch-Site: same-origin in place of Origin', async () => {
    const v = await visitor();
    const page = await v.post('/verify', { phone: newMobile(), code: '123456' }, { origin: '', 'sec-fetch-site': 'same-origin' });
    expect(page.status).toBe(200);
  });

  const refusals: [string, (v: Visitor) => [Record<string, string>, Record<string, string>]][] = [
    ['no token at all', () => [{ csrf: '' }, {}]],
    ['a token that does not match the cookie', () => [{ csrf: 'A'.repeat(43) }, {}]],
    ['no cookie', (v) => [{ csrf: v.token }, { cookie: '' }]],
    ['another origin', () => [{}, { origin: 'https://evil.example' }]],
    ['a cross-site fetch without Origin', () => [{}, { origin: '', 'sec-fetch-site': 'cross-site' }]],
    ['the origin "null" of a sandboxed frame', () => [{}, { origin: 'null' }]],
  ];

  it.each(refusals)('refuses %s with a 403 page, and checks nothing', async (_name, build) => {
    const call = await liveCall(t, admin);
    const v = await visitor('/verify?lang=ms');
    const [fields, headers] = build(v);
    const page = await v.post('/verify?lang=ms', { phone: call.phone, code: call.code, ...fields }, headers);
    expect(page.status).toBe(403);
    expect(page.headers.get('content-type')).toBe('text/html; charset=UTF-8');
    expect(page.headers.get('cache-control')).toBe('no-store');
    expect(page.text).toContain(ms.forbiddenTitle);
    expect(page.text).not.toContain(call.agentName);
    expect(await sessionRow(call.callbackId)).toMatchObject({ failed_checks: 0, verified_at: null });
  });

  it('refuses a JSON body even from our own origin: it carries no form token', async () => {
    const v = await visitor();
    const res = await t.app.request('/verify', {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: ORIGIN, cookie: `sc_csrf=${v.cookie}` },
      body: JSON.stringify({ csrf: v.token, phone: newMobile(), code: '123456' }),
    });
    expect(res.status).toBe(403);
  });

  it('accepts the public address as an origin too (behind a proxy the request URL differs)', async () => {
    const v = await visitor();
    const page = await v.post('/verify', { phone: newMobile(), code: '123456' }, { origin: new URL(t.config.PUBLIC_BASE_URL).origin });
    expect(page.status).toBe(200);
  });
});

describe('/verify (SPEC §7)', () => {
  it('shows the form in each language with a phone field, a 6-digit code field and the token', async () => {
    for (const [lang, m] of [['en', en], ['zh-CN', zh], ['ms', ms]] as const) {
      const page = await new Visitor().get(`/verify?lang=${lang}`);
      expect(page.status).toBe(200);
      expect(page.text).toContain(m.verifyTitle({ brand: 'Acme Telco' }));
      expect(page.text).toContain(m.verifyNeverReadCode);
      expect(page.html).toMatch(/<input id="f-phone" name="phone" type="tel"/);
      expect(page.html).toMatch(/name="code"[^>]*inputmode="numeric"[^>]*autocomplete="one-time-code"/);
      expect(page.html).toMatch(/<input type="hidden" name="csrf" value="[A-Za-z0-9_-]{43}"\/>/);
    }
  });

  it('a genuine call: company, agent, reason, masked case reference and the official number; the session is verified', async () => {
    const call = await liveCall(t, admin, { agentName: 'Aisha Rahman' });
    const v = await visitor();
    const page = await v.post('/verify', { phone: call.phone, code: call.code.replace(/(\d{3})/, '$1 ') });
    expect(page.status).toBe(200);
    expect(page.headers.get('cache-control')).toBe('no-store');
    expect(page.html).toContain('class="tone-genuine"');
    expect(page.text).toContain(en.genuineTitle({ company: 'Acme Telco' }));
    expect(page.text).toContain('Aisha Rahman');
    expect(page.text).toContain('Your December bill');
    expect(page.text).toContain(`PA****${call.caseRef.slice(-2)}`);
    expect(page.text).not.toContain(call.caseRef);
    expect(page.text).toContain('+60 3 2345 6789');
    expect(page.text).not.toContain(en.notGenuineTitle);
    const row = await sessionRow(call.callbackId);
    expect(row.verified_at).not.toBeNull();
    expect(row.failed_checks).toBe(0);
    const [event] = await t.sql`select payload from outbox where event = 'verification.verified' and payload->>'callbackId' = ${call.callbackId}`;
    expect(event).toBeDefined();
  });

  it('a wrong code: the loud not-genuine page with advice, official numbers and a report form; the failure counts', async () => {
    const call = await liveCall(t, admin);
    const wrong = call.code === '000000' ? '111111' : '000000';
    const v = await visitor('/verify?lang=zh-CN');
    const page = await v.post('/verify?lang=zh-CN', { phone: call.phone, code: wrong });
    expect(page.status).toBe(200);
    expect(page.html).toContain('<html lang="zh-CN">');
    expect(page.html).toContain('class="tone-danger"');
    expect(page.text).toContain(zh.notGenuineTitle);
    expect(page.text).toContain(zh.notGenuineHangUp);
    expect(page.html).toContain(`href="tel:${OFFICIAL_E164}"`);
    expect(page.text).toContain('Customer care');
    expect(page.html).toContain('action="/report?lang=zh-CN"');
    expect(page.text).not.toContain(call.agentName);
    expect(await sessionRow(call.callbackId)).toMatchObject({ failed_checks: 1, verified_at: null });
  });

  it('answers an unknown number and a known number with a wrong code the same way', async () => {
    const call = await liveCall(t, admin);
    const wrong = call.code === '999999' ? '888888' : '999999';
    const v = await visitor();
    const known = await v.post('/verify', { phone: call.phone, code: wrong });
    const unknown = await v.post('/verify', { phone: newMobile(), code: wrong });
    const shape = (p: Page) => ({
      status: p.status,
      headers: [...p.headers.keys()].filter((k) => !['date', 'x-request-id', 'set-cookie'].includes(k)).sort(),
      // The own number is echoed into the report form; everything else must be identical.
      html: p.html.replace(/name="reporterPhone"[^>]*value="[^"]*"/, '').replace(/f-reporterPhone[^>]*/g, ''),
    });
    const a = shape(known);
    const b = shape(unknown);
    expect(a.status).toBe(b.status);
    expect(a.headers).toEqual(b.headers);
    expect(a.html.replace(/value="[^"]*"/g, '')).toBe(b.html.replace(/value="[^"]*"/g, ''));
  });

  it('asks again, in the page language, for a code that is not 6 digits; nothing is checked', async () => {
    const call = await liveCall(t, admin);
    const v = await visitor('/verify?lang=ms');
    const page = await v.post('/verify?lang=ms', { phone: call.phone, code: '12' });
    expect(page.status).toBe(422);
    expect(page.text).toContain(ms.errorCodeFormat);
    expect(page.html).toMatch(/name="code"[^>]*aria-invalid="true"/);
    expect(page.html).toContain(`value="${call.phone}"`);
    const empty = await v.post('/verify?lang=ms', { phone: '', code: '123456' });
    expect(empty.status).toBe(422);
    expect(empty.text).toContain(ms.errorPhoneRequired);
    expect(await sessionRow(call.callbackId)).toMatchObject({ failed_checks: 0 });
  });

  it('escapes what the customer typed', async () => {
    const v = await visitor();
    const page = await v.post('/verify', { phone: '"><script>alert(1)</script>', code: '1' });
    expect(page.status).toBe(422);
    expect(page.html).not.toContain('<script>');
    expect(page.html).toContain('&quot;&gt;&lt;script&gt;');
  });
});

describe('/v/{token} (SPEC §7)', () => {
  it('a live link shows the genuine page and verifies the session', async () => {
    const call = await liveCall(t, admin, { agentName: 'Lim Wei' });
    expect(call.link).toMatch(/\/v\/[A-Za-z0-9_-]{43}$/);
    const page = await new Visitor().get(`/v/${tokenOf(call.link!)}?lang=ms`);
    expect(page.status).toBe(200);
    expect(page.text).toContain(ms.genuineTitle({ company: 'Acme Telco' }));
    expect(page.text).toContain('Lim Wei');
    expect(page.headers.get('referrer-policy')).toBe('no-referrer');
    expect(page.headers.get('cache-control')).toBe('no-store');
    expect((await sessionRow(call.callbackId)).verified_at).not.toBeNull();
  });

  it('an unknown, overlong or expired link shows the not-genuine page', async () => {
    const call = await liveCall(t, admin);
    await t.sql`update verification_sessions set expires_at = now() - interval '1 second' where callback_id = ${call.callbackId}`;
    for (const token of [tokenOf(call.link!), 'x'.repeat(43), 'y'.repeat(500)]) {
      const page = await new Visitor().get(`/v/${token}`);
      expect(page.status, token).toBe(200);
      expect(page.text).toContain(en.notGenuineTitle);
      expect(page.text).not.toContain(call.agentName);
    }
    expect((await sessionRow(call.callbackId)).verified_at).toBeNull();
  });
});

describe('scam reports from the not-genuine page', () => {
  const reports = (description: string) => t.sql`select * from scam_reports where description = ${description}`;

  it('stores the report and thanks the customer', async () => {
    const v = await visitor();
    const own = newMobile();
    const description = `Said he was from the bank and asked for my PIN ${Date.now()}`;
    const page = await v.post('/report', { callerNumber: '+1 415 555 0100', reporterPhone: own, description });
    expect(page.status).toBe(200);
    expect(page.text).toContain(en.reportThanksTitle);
    expect(page.text).not.toContain(en.reportCallerIsOfficial);
    const [row] = await reports(description);
    expect(row).toMatchObject({ caller_number: '+1 415 555 0100', caller_e164: '+14155550100', caller_is_official: false });
    expect(row!.reporter_e164).toMatch(/^\+6012/);
  });

  it('warns that caller numbers can be faked when the reported number is one of ours', async () => {
    const v = await visitor('/verify?lang=zh-CN');
    const description = `Spoofed official number ${Date.now()}`;
    const page = await v.post('/report?lang=zh-CN', { callerNumber: '03-2345 6789', reporterPhone: '', description }, {});
    // 03-… is a Malaysian number only with region MY; the default region is US, so give it in full.
    expect(page.status).toBe(200);
    const spoof = await v.post('/report?lang=zh-CN', { callerNumber: '+60 3 2345 6789', reporterPhone: '', description: `${description} 2` });
    expect(spoof.text).toContain(zh.reportCallerIsOfficial);
    expect((await reports(`${description} 2`))[0]).toMatchObject({ caller_is_official: true, reporter_e164: null });
  });

  it('asks again for missing fields or an invalid own number, storing nothing', async () => {
    const v = await visitor();
    const description = `incomplete ${Date.now()}`;
    const missing = await v.post('/report', { callerNumber: '', reporterPhone: '', description });
    expect(missing.status).toBe(422);
    expect(missing.text).toContain(en.errorRequired);
    const badOwn = await v.post('/report', { callerNumber: '+1 415 555 0100', reporterPhone: 'not a number', description });
    expect(badOwn.status).toBe(422);
    expect(badOwn.text).toContain(en.errorPhoneInvalid);
    expect(badOwn.html).toContain(description);
    expect(await reports(description)).toHaveLength(0);
  });
});

describe('/opt-out (SPEC §8)', () => {
  const codeSms = async (e164: string) => {
    const rows = await t.sql`select body from sms_messages where to_e164 = ${e164} and purpose = 'opt_out_code' order by created_at desc limit 1`;
    return rows[0] ? /\b(\d{6})\b/.exec(rows[0].body as string)![1]! : null;
  };
  const optOutOf = async (e164: string) => (await t.sql`select scope, source from opt_outs where phone_e164 = ${e164}`)[0];

  it('texts a code, and registers the opt-out only with that code', async () => {
    const phone = newMobile();
    const v = await visitor('/opt-out?lang=ms');
    const asked = await v.post('/opt-out?lang=ms', { phone, scope: 'voice' });
    expect(asked.status).toBe(200);
    expect(asked.text).toContain(ms.optOutCodeTitle);
    expect(asked.html).toContain('action="/opt-out/confirm?lang=ms"');
    const e164 = /name="phone" value="(\+\d+)"/.exec(asked.html)![1]!;
    const code = await codeSms(e164);
    expect(code).toMatch(/^\d{6}$/);

    const wrong = await v.post('/opt-out/confirm?lang=ms', { phone: e164, code: code === '000000' ? '111111' : '000000' });
    expect(wrong.status).toBe(422);
    expect(wrong.text).toContain(ms.optOutWrongCode);
    expect(await optOutOf(e164)).toBeUndefined();

    const done = await v.post('/opt-out/confirm?lang=ms', { phone: e164, code: code! });
    expect(done.status).toBe(200);
    expect(done.text).toContain(ms.optOutDoneVoice({ brand: 'Acme Telco' }));
    expect(await optOutOf(e164)).toEqual({ scope: 'voice', source: 'web' });
  });

  it('says the same for a number that cannot receive texts, and texts nothing', async () => {
    const v = await visitor();
    const page = await v.post('/opt-out', { phone: '+1 800 555 0199', scope: 'all' });
    expect(page.status).toBe(200);
    expect(page.text).toContain(en.optOutCodeTitle);
    expect(await codeSms('+18005550199')).toBeNull();
  });

  it('asks again for a missing or impossible number', async () => {
    const v = await visitor();
    const missing = await v.post('/opt-out', { phone: '', scope: 'all' });
    expect(missing.status).toBe(422);
    expect(missing.text).toContain(en.errorPhoneRequired);
    const invalid = await v.post('/opt-out', { phone: '12', scope: 'sms' });
    expect(invalid.status).toBe(422);
    expect(invalid.text).toContain(en.errorPhoneInvalid);
    expect(invalid.html).toMatch(/value="sms" checked=""/);
  });
});

describe('/o/{token} consent offers (SPEC §8)', () => {
  const callback = async (id: string) => (await t.sql`select status, scheduled_for from callbacks where id = ${id}`)[0]!;
  const offerRow = async (id: string) => (await t.sql`select answer, answered_via, chosen_slot from consent_offers where callback_id = ${id}`)[0]!;
  const slotValues = (html: string) => [...html.matchAll(/name="slot" value="([^"]*)"/g)].map((m) => m[1]!);

  it('lists the next permitted slots in the customer zone, "as soon as possible" first and chosen', async () => {
    // Noon in Malaysia (UTC+8), the zone of the test's mobiles: near local midnight the rest of
    // today is covered by "as soon as possible" alone and the day count below would not hold.
    const noon = new Date(Math.floor((Date.now() - 4 * 3600_000) / 86_400_000) * 86_400_000 + 4 * 3600_000);
    t.setNow(noon);
    try {
      const offer = await openOffer(t, admin, { reason: 'Your roaming charges' });
      const page = await new Visitor().get(`/o/${offer.token}?lang=zh-CN`);
      expect(page.status).toBe(200);
      expect(page.text).toContain(zh.offerTitle({ brand: 'Acme Telco' }));
      expect(page.text).toContain('Your roaming charges');
      const [{ timezones }] = (await t.sql`select to_json(timezones) as timezones from callbacks where id = ${offer.callbackId}`) as unknown as [{ timezones: string[] }];
      expect(page.text).toContain(zh.offerTimesIn({ zone: timezones[0]! }));
      const values = slotValues(page.html);
      expect(values[0]).toBe('');
      expect(page.html).toMatch(/name="slot" value="" checked=""/);
      // Calling is permitted around the clock here: the choices are the days up to the deadline
      // (48 h: the rest of today, tomorrow, part of the day after), cut at local midnight.
      const [{ deadline }] = (await t.sql`select deadline from callbacks where id = ${offer.callbackId}`) as unknown as [{ deadline: Date }];
      expect(values.length).toBeGreaterThanOrEqual(3);
      for (const v of values.slice(1)) expect(Date.parse(v)).toBeLessThan(new Date(deadline).getTime());
      const starts = values.slice(1).map((v) => DateTime.fromISO(v, { zone: timezones[0]! }));
      for (const start of starts.slice(1)) expect(start.toFormat('HH:mm')).toBe('00:00');
      expect(starts[2]!.diff(starts[1]!, 'days').days).toBe(1);
      expect(page.text).toContain('00:00–24:00'); // a whole day reads as one day, not "until tomorrow 00:00"
      expect(page.html).toMatch(/<button type="submit" name="answer" value="accept"/);
      expect(page.html).toMatch(/<button type="submit" name="answer" value="decline"/);
    } finally {
      t.setNow(null);
    }
  });

  it('accepting a chosen slot schedules the callback at that time', async () => {
    const offer = await openOffer(t, admin);
    const v = new Visitor();
    const page = await v.get(`/o/${offer.token}`);
    const slot = slotValues(page.html)[2]!; // the second choice: tomorrow from midnight, in the future
    const answered = await v.post(`/o/${offer.token}`, { slot, answer: 'accept' });
    expect(answered.status).toBe(200);
    expect(answered.text).toContain(en.offerAcceptedTitle);
    expect(await callback(offer.callbackId)).toMatchObject({ status: 'scheduled' });
    expect(new Date((await callback(offer.callbackId)).scheduled_for).toISOString()).toBe(slot);
    expect(await offerRow(offer.callbackId)).toMatchObject({ answer: 'accepted', answered_via: 'web' });
  });

  it('accepting "as soon as possible" schedules at the earliest permitted time', async () => {
    const offer = await openOffer(t, admin);
    const v = new Visitor();
    await v.get(`/o/${offer.token}?lang=ms`);
    const answered = await v.post(`/o/${offer.token}?lang=ms`, { slot: '', answer: 'accept' });
    expect(answered.status).toBe(200);
    expect(answered.text).toContain(ms.offerAcceptedTitle);
    const row = await callback(offer.callbackId);
    expect(row.status).toBe('scheduled');
    expect(Math.abs(Date.parse(row.scheduled_for) - Date.now())).toBeLessThan(60_000);
  });

  it('declining ends the callback; the link then shows the clear "no longer works" page', async () => {
    const offer = await openOffer(t, admin);
    const v = new Visitor();
    await v.get(`/o/${offer.token}`);
    const declined = await v.post(`/o/${offer.token}`, { slot: '', answer: 'decline' });
    expect(declined.status).toBe(200);
    expect(declined.text).toContain(en.offerDeclinedTitle);
    expect(await callback(offer.callbackId)).toMatchObject({ status: 'declined' });
    const again = await v.get(`/o/${offer.token}`);
    expect(again.status).toBe(404);
    expect(again.text).toContain(en.offerGoneTitle);
    const twice = await v.post(`/o/${offer.token}`, { slot: '', answer: 'accept' });
    expect(twice.status).toBe(409);
    expect(twice.text).toContain(en.offerGoneTitle);
    expect(await callback(offer.callbackId)).toMatchObject({ status: 'declined' });
  });

  it('refuses a slot that is not permitted and shows the choices again', async () => {
    const offer = await openOffer(t, admin);
    const v = new Visitor();
    await v.get(`/o/${offer.token}`);
    const far = new Date(Date.now() + 400 * 24 * 3600_000).toISOString();
    for (const slot of [far, 'tomorrow']) {
      const page = await v.post(`/o/${offer.token}`, { slot, answer: 'accept' });
      expect(page.status).toBe(422);
      expect(page.text).toContain(en.errorSlot);
      expect(slotValues(page.html).length).toBeGreaterThan(1);
    }
    expect(await callback(offer.callbackId)).toMatchObject({ status: 'awaiting_consent' });
  });

  it('an unknown or expired token shows the clear page', async () => {
    const offer = await openOffer(t, admin);
    await t.sql`update consent_offers set expires_at = now() - interval '1 second' where callback_id = ${offer.callbackId}`;
    for (const token of [offer.token, 'nope', 'z'.repeat(300)]) {
      const page = await new Visitor().get(`/o/${token}?lang=ms`);
      expect(page.status).toBe(404);
      expect(page.text).toContain(ms.offerGoneTitle);
    }
  });
});

describe('rate limits (like the public API)', () => {
  it('limits checks per phone number with a 429 page and Retry-After; other numbers go on', async () => {
    const phone = newMobile();
    const v = await visitor('/verify?lang=zh-CN');
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await v.post('/verify?lang=zh-CN', { phone, code: '123456' })).status);
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429]);
    const limited = await v.post('/verify?lang=zh-CN', { phone, code: '123456' });
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(limited.text).toContain(zh.rateLimitedTitle);
    expect(limited.headers.get('content-security-policy')).toBe(CSP);
    expect((await v.post('/verify', { phone: newMobile(), code: '123456' })).status).toBe(200);
  });
});

describe('rate limits per client address', () => {
  let small: TestContext;
  beforeAll(async () => {
    small = await createTestContext({ RATE_LIMIT_IP_PER_MINUTE: '3' });
    // The runtime does not wait for Redis: until it connects, read-only pages are not limited.
    while (small.runtime.deps.redis.status !== 'ready') await new Promise((r) => setTimeout(r, 20));
  });
  afterAll(() => small?.close());

  it('limits page views per client address per minute', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await small.app.request('/opt-out?lang=ms')).status);
    expect(statuses).toEqual([200, 200, 200, 429]);
    const res = await small.app.request('/opt-out?lang=ms');
    expect(res.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(textOf(await res.text())).toContain(ms.rateLimitedTitle);
  });
});
