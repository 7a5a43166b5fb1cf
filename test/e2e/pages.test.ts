/**
 * The customer pages in a real Chromium (SPEC §7, §8): every page in every language renders, the
 * forms work end to end without JavaScript, and a screenshot per page and language is saved to
 * test/artifacts/screenshots/ for a human to look at.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve, type ServerType } from '@hono/node-server';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LANGUAGES, MESSAGES, type Lang } from '../../src/i18n/index.js';
import { createTestContext, type TestContext } from '../helpers/harness.js';
import { liveCall, newMobile, OFFICIAL_E164, openOffer, setUpCalling, tokenOf } from './fixtures.js';

const CHROMIUM = '/usr/bin/chromium';
const SHOTS = new URL('../artifacts/screenshots/', import.meta.url).pathname;
const BRAND = 'Acme Telco';
const MOBILE = { width: 390, height: 844 };
const DESKTOP = { width: 1280, height: 860 };
/** The browser's own language preference: the pages must pick it up from Accept-Language. */
const BROWSER_LOCALE: Record<Lang, string> = { en: 'en-US', 'zh-CN': 'zh-CN', ms: 'ms-MY' };

let t: TestContext;
let admin: string;
let server: ServerType;
let base: string;
let browser: Browser;

/** CSP violations and failed loads show up as console errors: a page must have none. */
const consoleErrors: string[] = [];

async function newContext(lang: Lang, viewport = MOBILE): Promise<BrowserContext> {
  const context = await browser.newContext({
    viewport,
    locale: BROWSER_LOCALE[lang],
    isMobile: viewport === MOBILE,
    hasTouch: viewport === MOBILE,
    deviceScaleFactor: viewport === MOBILE ? 2 : 1,
    javaScriptEnabled: false,
  });
  context.on('page', (page) => watch(page));
  return context;
}

function watch(page: Page) {
  page.on('console', (msg) => {
    // Error statuses (404 for a lapsed offer, 403 for a refused form) are answers, not faults.
    if (msg.type() === 'error' && !/responded with a status of/.test(msg.text())) consoleErrors.push(`${page.url()}: ${msg.text()}`);
  });
  page.on('requestfailed', (req) => consoleErrors.push(`${req.url()}: ${req.failure()?.errorText}`));
}

const shot = (page: Page, name: string) => page.screenshot({ path: `${SHOTS}${name}.png`, fullPage: true });

/** The computed background colour (the page's own CSS, as the browser applied it). */
function background(page: Page, selector: string): Promise<string> {
  return page.locator(selector).evaluate((e) => {
    const view = e.ownerDocument.defaultView as unknown as { getComputedStyle(el: unknown): { backgroundColor: string } };
    return view.getComputedStyle(e).backgroundColor;
  });
}

async function heading(page: Page): Promise<string> {
  return (await page.locator('h1').first().innerText()).trim();
}

/** Every button and text field is a comfortable tap target on a phone. */
async function expectLargeTapTargets(page: Page) {
  for (const target of await page.locator('main button, main input[type=tel], main input[type=text], main .choice').all()) {
    const box = await target.boundingBox();
    if (box) expect(box.height, await target.evaluate((e) => e.outerHTML.slice(0, 80))).toBeGreaterThanOrEqual(44);
  }
}

const sessionRow = async (callbackId: string) =>
  (await t.sql`select failed_checks, verified_at from verification_sessions where callback_id = ${callbackId}`)[0]!;

const HAVE_CHROMIUM = existsSync(CHROMIUM);

describe.skipIf(!HAVE_CHROMIUM)(HAVE_CHROMIUM ? 'customer pages in Chromium' : `customer pages in Chromium: SKIPPED, ${CHROMIUM} is not installed`, () => {
  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    t = await createTestContext({
      SMS_ALLOW_LINKS: 'true',
      BRAND_NAME: BRAND,
      RATE_LIMIT_IP_PER_MINUTE: '10000',
      RATE_LIMIT_PHONE_PER_HOUR: '100',
    });
    t.setNow(null);
    admin = await setUpCalling(t);
    const port = await new Promise<number>((resolve) => {
      server = serve({ fetch: t.app.fetch, port: 0, hostname: '127.0.0.1' }, (info: AddressInfo) => resolve(info.port));
    });
    base = `http://127.0.0.1:${port}`;
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-dev-shm-usage'],
    });
  });

  afterAll(async () => {
    await browser?.close();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    await t?.close();
    expect(consoleErrors, consoleErrors.join("\n")).toEqual([]);
  });

  describe.each(LANGUAGES)('in %s (language from the browser)', (lang) => {
    const m = MESSAGES[lang];
    let context: BrowserContext;
    let page: Page;

    beforeAll(async () => {
      context = await newContext(lang);
      page = await context.newPage();
    });
    afterAll(() => context?.close());

    it('the verify form renders in the language, styled, with large tap targets', async () => {
      await page.goto(`${base}/verify`);
      expect(await page.getAttribute('html', 'lang')).toBe(lang);
      expect(await heading(page)).toBe(m.verifyTitle({ brand: BRAND }));
      await expectLargeTapTargets(page);
      // The stylesheet loaded under the CSP: the submit button is the full width of the form on a phone.
      const button = await page.locator('main button[type=submit]').boundingBox();
      expect(button!.width).toBeGreaterThan(300);
      await shot(page, `verify-form-${lang}`);
    });

    it('a wrong code gives the red "we are not calling you" page with the official numbers', async () => {
      const call = await liveCall(t, admin);
      await page.goto(`${base}/verify`);
      await page.fill('#f-phone', call.phone);
      await page.fill('#f-code', call.code === '000000' ? '111111' : '000000');
      await page.click('main button[type=submit]');
      expect(await heading(page)).toBe(m.notGenuineTitle);
      expect(await background(page, '.result.danger')).toBe('rgb(176, 0, 32)');
      expect(await page.locator('.result.danger .badge').textContent()).toContain(m.notGenuineBadge);
      expect(await page.locator(`a[href="tel:${OFFICIAL_E164}"]`).count()).toBe(1);
      await shot(page, `not-genuine-${lang}`);
      expect(await sessionRow(call.callbackId)).toMatchObject({ failed_checks: 1, verified_at: null });
    });

    it('the report form on that page stores a report and thanks the customer', async () => {
      const description = `Asked for my bank PIN (${lang}, ${Date.now()})`;
      await page.fill('#f-callerNumber', '+1 415 555 0100');
      await page.fill('#f-description', description);
      await page.click('#report button[type=submit]');
      expect(await heading(page)).toBe(m.reportThanksTitle);
      await shot(page, `report-thanks-${lang}`);
      const [row] = await t.sql`select caller_e164, caller_is_official from scam_reports where description = ${description}`;
      expect(row).toEqual({ caller_e164: '+14155550100', caller_is_official: false });
    });

    it('the right code gives the green genuine page with the agent, the reason and the official number', async () => {
      const call = await liveCall(t, admin, { agentName: 'Nurul Aisyah' });
      await page.goto(`${base}/verify`);
      await page.fill('#f-phone', call.phone);
      await page.fill('#f-code', call.code);
      await page.click('main button[type=submit]');
      expect(await heading(page)).toBe(m.genuineTitle({ company: BRAND }));
      expect(await background(page, '.result.genuine')).toBe('rgb(13, 107, 50)');
      const facts = await page.locator('dl.facts').innerText();
      expect(facts).toContain('Nurul Aisyah');
      expect(facts).toContain('Your December bill');
      expect(facts).toContain('+60 3 2345 6789');
      await shot(page, `genuine-${lang}`);
      expect((await sessionRow(call.callbackId)).verified_at).not.toBeNull();
    });

    it('the SMS link opens the genuine page; an unknown link the not-genuine one', async () => {
      const call = await liveCall(t, admin);
      await page.goto(`${base}/v/${tokenOf(call.link!)}`);
      expect(await heading(page)).toBe(m.genuineTitle({ company: BRAND }));
      await page.goto(`${base}/v/${'A'.repeat(43)}`);
      expect(await heading(page)).toBe(m.notGenuineTitle);
      await shot(page, `link-unknown-${lang}`);
    });

    it('opt-out: number and scope, then the texted code, then done', async () => {
      const phone = newMobile();
      await page.goto(`${base}/opt-out`);
      expect(await heading(page)).toBe(m.optOutTitle({ brand: BRAND }));
      await expectLargeTapTargets(page);
      await shot(page, `opt-out-form-${lang}`);
      await page.fill('#f-phone', phone);
      await page.getByText(m.scopeSms, { exact: true }).click();
      await page.click('main button[type=submit]');
      expect(await heading(page)).toBe(m.optOutCodeTitle);
      await shot(page, `opt-out-code-${lang}`);

      const e164 = await page.inputValue('input[name=phone]');
      const [sms] = await t.sql`select body from sms_messages where to_e164 = ${e164} and purpose = 'opt_out_code' order by created_at desc limit 1`;
      const code = /\b(\d{6})\b/.exec(sms!.body as string)![1]!;
      await page.fill('#f-code', code);
      await page.click('main button[type=submit]');
      expect(await heading(page)).toBe(m.optOutDoneTitle);
      expect(await page.locator('main').innerText()).toContain(m.optOutDoneSms({ brand: BRAND }));
      await shot(page, `opt-out-done-${lang}`);
      const [row] = await t.sql`select scope, source from opt_outs where phone_e164 = ${e164}`;
      expect(row).toEqual({ scope: 'sms', source: 'web' });
    });

    it('consent offer: pick a day and accept; the callback is scheduled then', async () => {
      const offer = await openOffer(t, admin, { reason: 'Your roaming charges' });
      await page.goto(`${base}/o/${offer.token}`);
      expect(await heading(page)).toBe(m.offerTitle({ brand: BRAND }));
      expect(await page.locator('input[name=slot]').count()).toBeGreaterThan(2);
      await expectLargeTapTargets(page);
      await shot(page, `offer-${lang}`);
      const choice = page.locator('input[name=slot]').nth(2);
      const slot = await choice.getAttribute('value');
      await choice.click();
      await page.click('button[value=accept]');
      expect(await heading(page)).toBe(m.offerAcceptedTitle);
      await shot(page, `offer-accepted-${lang}`);
      const [row] = await t.sql`select status, scheduled_for from callbacks where id = ${offer.callbackId}`;
      expect(row!.status).toBe('scheduled');
      expect(new Date(row!.scheduled_for as string).toISOString()).toBe(slot);

      await page.goto(`${base}/o/${offer.token}`);
      expect(await heading(page)).toBe(m.offerGoneTitle);
      await shot(page, `offer-gone-${lang}`);
    });

    it('consent offer: decline', async () => {
      const offer = await openOffer(t, admin);
      await page.goto(`${base}/o/${offer.token}`);
      await page.click('button[value=decline]');
      expect(await heading(page)).toBe(m.offerDeclinedTitle);
      const [row] = await t.sql`select status from callbacks where id = ${offer.callbackId}`;
      expect(row!.status).toBe('declined');
    });
  });

  describe('on a desktop screen', () => {
    let context: BrowserContext;
    let page: Page;
    beforeAll(async () => {
      context = await newContext('en', DESKTOP);
      page = await context.newPage();
    });
    afterAll(() => context?.close());

    it('the language switcher changes the page language, and the form keeps it', async () => {
      await page.goto(`${base}/verify`);
      await shot(page, 'desktop-verify-form-en');
      await page.click('nav.langs a[hreflang=ms]');
      expect(await page.getAttribute('html', 'lang')).toBe('ms');
      await page.click('nav.langs a[hreflang=zh-CN]');
      expect(await page.getAttribute('html', 'lang')).toBe('zh-CN');
      await page.fill('#f-phone', newMobile());
      await page.fill('#f-code', '123456');
      await page.click('main button[type=submit]');
      expect(await page.getAttribute('html', 'lang')).toBe('zh-CN');
      expect(await heading(page)).toBe(MESSAGES['zh-CN'].notGenuineTitle);
      await shot(page, 'desktop-not-genuine-zh-CN');
    });

    it('a form posted from another site is refused, even with the victim\'s token guessed', async () => {
      await page.goto(`${base}/verify`);
      const token = await page.inputValue('input[name=csrf]');
      const call = await liveCall(t, admin);
      // An attacker's page on another site auto-submits to /verify; it even knows the token.
      const attacker = createServer((_req, res) => {
        res.writeHead(200, { 'content-type': 'text/html' });
        res.end(
          `<!doctype html><form method="post" action="${base}/verify"><input name="phone" value="${call.phone}">` +
            `<input name="code" value="${call.code}"><input name="csrf" value="${token}"><button>win a prize</button></form>`,
        );
      });
      await new Promise<void>((resolve) => attacker.listen(0, '127.0.0.1', resolve));
      try {
        await page.goto(`http://localhost:${(attacker.address() as AddressInfo).port}/`);
        await page.click('button');
        expect(await heading(page)).toBe(MESSAGES.en.forbiddenTitle);
        await shot(page, 'desktop-forbidden-en');
      } finally {
        attacker.close();
      }
      expect(await sessionRow(call.callbackId)).toMatchObject({ failed_checks: 0, verified_at: null });
    });
  });
});
