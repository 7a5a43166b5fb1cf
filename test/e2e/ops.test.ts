import { existsSync, mkdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { serve, type ServerType } from '@hono/node-server';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestContext, type TestContext } from '../helpers/harness.js';
import { QUEUE_NAMES } from '../../src/queues/queues.js';

/**
 * The ops pages in a real Chromium at laptop size (1366×768): log in through the form, read the
 * dashboard and a callback's timeline, open bull-board, log out. Screenshots go to
 * test/artifacts/screenshots/ for a person to look at.
 */

const CHROMIUM = '/usr/bin/chromium';
const SHOTS = 'test/artifacts/screenshots';
const H = 3600_000;
const MIN = 60_000;
const D = 24 * H;

let t: TestContext;
let server: ServerType;
let base: string;
let browser: Browser;
let opsKey: string;
let adminKey: string;
const cspViolations: string[] = [];
const foreignRequests: string[] = [];

const iso = (d: Date) => d.toISOString();

/** Enough data for every part of the page to show something. */
async function seed(agent: string, now: Date) {
  const at = (offset: number) => new Date(now.getTime() + offset);
  const ids: string[] = [];
  for (let i = 1; i <= 9; i++) {
    const res = await t.request('POST', '/v1/callbacks', {
      key: agent,
      body: {
        caseRef: `CRM-2041${i}`,
        category: 'billing',
        phone: `+1 212 555 01${10 + i}`,
        reason: 'We will explain your December invoice again',
        firstExplanation: { summary: 'Explained the late fee policy' },
      },
    });
    expect(res.status).toBe(201);
    ids.push(res.body.id);
  }
  const place = (i: number, status: string, deadline: Date, breached: Date | null, updatedAt = now) =>
    t.sql`update callbacks set status = ${status}, deadline = ${iso(deadline)}, sla_breached_at = ${breached ? iso(breached) : null},
      updated_at = ${iso(updatedAt)}, outcome = ${status === 'completed' ? 'accepted' : null},
      scheduled_for = ${['completed', 'exempted'].includes(status) ? null : iso(at(-10 * MIN))} where id = ${ids[i]!}`;
  await place(0, 'scheduled', at(70 * MIN), null);
  await place(1, 'ready', at(100 * MIN), null);
  await place(2, 'claimed', at(-40 * MIN), at(-35 * MIN));
  await place(3, 'scheduled', at(-5 * H), at(-5 * H));
  await place(4, 'completed', at(D), null, at(-3 * H));
  await place(5, 'exempted', at(D), null, at(-2 * D));

  const numbers = [
    ['+12125550100', 'Main line', 0.55],
    ['+12125550101', 'Collections', 0.35],
    ['+12125550102', 'Weekend desk', 0.2],
  ] as const;
  expect(
    (await t.request('PUT', '/v1/settings/official-numbers', { key: await t.key('admin'), body: { numbers: numbers.map(([n, l]) => ({ number: n, label: l })) } }))
      .status,
  ).toBe(200);
  // A deterministic spread over 7 days; the weekend desk's number falls through the threshold.
  let number = 0;
  const rows: Record<string, unknown>[] = [];
  for (let hoursAgo = 0; hoursAgo < 7 * 24; hoursAgo++) {
    for (const [k, [caller, , rate]] of numbers.entries()) {
      const calls = (hoursAgo * 7 + k * 3) % 4;
      for (let c = 0; c < calls; c++) {
        const decay = k === 2 ? Math.max(0.05, rate - (7 * 24 - hoursAgo) / 1000) : rate;
        const connected = ((hoursAgo * 13 + c * 7 + k) % 100) / 100 < decay;
        rows.push({
          callback_id: ids[6]!,
          number: ++number,
          phone_e164: '+12125550116',
          caller_number: caller,
          started_at: iso(at(-hoursAgo * H - c * 7 * MIN - 2 * MIN)),
          result: connected ? 'connected' : (c % 2 ? 'busy' : 'no_answer'),
        });
      }
    }
  }
  await t.sql`insert into attempts ${t.sql(rows)}`;
  await t.sql`insert into verification_sessions (attempt_id, callback_id, phone_e164, code_hash, valid_from, expires_at, hard_expires_at, verified_at)
    select id, callback_id, phone_e164, 'h', started_at, started_at + interval '30 min', started_at + interval '30 min',
      case when number % 3 <> 0 then started_at + interval '1 min' end
    from attempts where result = 'connected'`;
  for (const [i, when] of [at(-H), at(-2 * D), at(-4 * D)].entries()) {
    await t.sql`insert into opt_outs (phone_e164, scope, source, created_by, created_at) values (${`+1212555090${i}`}, 'all', 'sms', 'customer', ${iso(when)})`;
  }
  await t.sql`insert into scam_reports (caller_number, caller_e164, description, caller_is_official, created_at)
    values ('+12125550102', '+12125550102', 'asked for my card PIN', true, ${iso(at(-3 * H))})`;
  await t.sql`insert into exemptions (callback_id, case_ref, status, reason, requested_by, created_at)
    values (${ids[7]!}, 'CRM-20418', 'pending', 'Customer was abusive on the call', 'agent:ana', ${iso(at(-25 * MIN))})`;
  return ids;
}

describe.skipIf(!existsSync(CHROMIUM))(`ops pages in Chromium (skipped: ${CHROMIUM} is not installed)`, () => {
  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    t = await createTestContext();
    const admin = await t.key('admin');
    adminKey = admin;
    opsKey = await t.key('ops');
    const agent = await t.key('agent', { id: 'ana', displayName: 'Ana' });
    expect((await t.request('PUT', '/v1/policies/billing', { key: admin, body: { enabled: true } })).status).toBe(200);
    await seed(agent, new Date());
    await t.runtime.queues.due.add('probe', { callbackId: 'probe', version: 1 }, { delay: H, jobId: 'e2e-probe' });

    server = await new Promise<ServerType>((resolve) => {
      const s = serve({ fetch: t.app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s));
    });
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-dev-shm-usage'],
    });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    await t?.close();
  });

  async function newPage(): Promise<Page> {
    const context = await browser.newContext({ viewport: { width: 1366, height: 768 } });
    const page = await context.newPage();
    page.on('console', (msg) => {
      if (/Content[- ]Security[- ]Policy/i.test(msg.text()) && !/fonts\.googleapis\.com/.test(msg.text())) cspViolations.push(msg.text());
    });
    page.on('requestfinished', (req) => {
      if (!req.url().startsWith(base) && !req.url().startsWith('data:')) foreignRequests.push(req.url());
    });
    return page;
  }

  it('logs in through the form and shows the dashboard', async () => {
    const page = await newPage();
    await page.goto(`${base}/ops`);
    expect(new URL(page.url()).pathname).toBe('/ops/login');
    await page.fill('#key', opsKey);
    await Promise.all([page.waitForURL(`${base}/ops`), page.click('button[type=submit]')]);

    await expect.poll(() => page.locator('h1').textContent()).toContain('operations');
    const kpi = (label: string) => page.locator('.kpi', { hasText: label }).locator('.v').textContent();
    expect(await kpi('Active callbacks')).toBe('7');
    expect(await kpi('SLA at risk')).toBe('2');
    expect(await kpi('SLA breached')).toBe('2');
    expect(await kpi('Exemptions pending')).toBe('1');
    expect(await page.locator('svg.chart').count()).toBe(3);
    expect(await page.locator('svg.chart rect.c-connected').count()).toBeGreaterThan(20);
    expect(await page.locator('svg.chart polyline').count()).toBeGreaterThanOrEqual(3);
    expect(await page.locator('meta[http-equiv=refresh]').getAttribute('content')).toBe('30');
    // Nothing is cut off sideways at laptop width.
    expect(Number(await page.evaluate('document.documentElement.scrollWidth'))).toBeLessThanOrEqual(1366);

    await page.screenshot({ path: `${SHOTS}/ops-dashboard.png` });
    await page.screenshot({ path: `${SHOTS}/ops-dashboard-full.png`, fullPage: true });

    await Promise.all([page.waitForURL(/\/ops\/callbacks\//), page.locator('a', { hasText: 'CRM-20413' }).first().click()]);
    expect(await page.locator('h2', { hasText: 'Timeline' }).count()).toBe(1);
    expect(await page.locator('table').last().locator('tbody tr').count()).toBeGreaterThanOrEqual(1);
    await page.screenshot({ path: `${SHOTS}/ops-callback.png` });

    await page.goto(`${base}/ops/queues`);
    await expect.poll(() => page.locator('body').innerText(), { timeout: 20_000 }).toContain(QUEUE_NAMES.due);
    const text = await page.locator('body').innerText();
    for (const name of Object.values(QUEUE_NAMES)) expect(text).toContain(name);
    await expect.poll(() => page.locator('body').innerText(), { timeout: 20_000 }).not.toContain('Loading');
    await page.screenshot({ path: `${SHOTS}/ops-queues.png` });
    await page.goto(`${base}/ops/queues/queue/${QUEUE_NAMES.due}?status=delayed`);
    await expect.poll(() => page.locator('body').innerText(), { timeout: 20_000 }).toContain('e2e-probe');
    // Role ops gets a read-only board: the job is shown without its actions.
    expect(await page.getByRole('button', { name: 'Promote' }).count()).toBe(0);
    await page.screenshot({ path: `${SHOTS}/ops-queues-due.png` });

    await page.goto(`${base}/ops`);
    await Promise.all([page.waitForURL(`${base}/ops/login`), page.click('text=Log out')]);
    await page.goto(`${base}/ops`);
    expect(new URL(page.url()).pathname).toBe('/ops/login');
    await page.screenshot({ path: `${SHOTS}/ops-login.png` });

    expect(cspViolations).toEqual([]);
    expect(foreignRequests).toEqual([]);
  }, 90_000);

  it('shows an admin the queue actions that role ops does not get', async () => {
    const page = await newPage();
    await page.goto(`${base}/ops/login`);
    await page.fill('#key', adminKey);
    await Promise.all([page.waitForURL(`${base}/ops`), page.click('button[type=submit]')]);
    await page.goto(`${base}/ops/queues/queue/${QUEUE_NAMES.due}?status=delayed`);
    await expect.poll(() => page.locator('body').innerText(), { timeout: 20_000 }).toContain('e2e-probe');
    await expect.poll(() => page.getByRole('button', { name: 'Promote' }).count(), { timeout: 20_000 }).toBeGreaterThan(0);
    await page.screenshot({ path: `${SHOTS}/ops-queues-due-admin.png` });
    expect(cspViolations).toEqual([]);
  });

  it('refuses a wrong key on the form', async () => {
    const page = await newPage();
    await page.goto(`${base}/ops/login`);
    await page.fill('#key', 'sc_this-is-not-a-key');
    await page.click('button[type=submit]');
    await expect.poll(() => page.locator('.error').textContent()).toContain('not valid');
    expect(new URL(page.url()).pathname).toBe('/ops/login');
  });
});
