import { describe, expect, it } from 'vitest';
import { SMS_LANGUAGES, smsLanguage, smsText, type SmsKind, type SmsLanguage, type SmsTemplateVars } from '../../src/notify/sms-templates.js';

const brand = 'Acme Telco';
const LINK = 'https://verify.example.com/v/abcdefabcdefabcdefabcdef';

/** One representative set of variables per kind, with a link offered wherever a kind can carry one. */
const SAMPLES: { [K in SmsKind]: SmsTemplateVars[K] } = {
  pre_call: { brand, code: '482913', link: LINK },
  call_status_yes: { brand, agentName: 'Mei Lin', reason: 'Your December invoice' },
  call_status_no: { brand },
  consent_offer: { brand, reason: 'Your December invoice', link: LINK },
  opt_out_confirmation: { brand },
  opt_out_code: { brand, code: '120934' },
  consent_confirmation: { brand, accepted: true, at: new Date('2027-01-15T13:00:00Z'), timeZone: 'America/New_York' },
};
const KINDS = Object.keys(SAMPLES) as SmsKind[];

const text = <K extends SmsKind>(kind: K, lang: SmsLanguage, vars: SmsTemplateVars[K] = SAMPLES[kind]) => smsText(kind, lang, vars);

const URLISH = /https?:|www\.|\/\/|\.com\b/i;
/** Seven or more digits in a row (spaces and dashes allowed): a phone number, not a 6-digit code. */
const PHONEISH = /(?:\+?\d[\s-]?){7,}/;
/** What scam texts ask for and ours never do. */
const PERSONAL_DATA = /password|passcode|PIN\b|bank|card number|ID number|身份证|密码|银行|kata laluan|nombor kad/i;

describe('smsText: every kind in every language', () => {
  for (const kind of KINDS) {
    for (const lang of SMS_LANGUAGES) {
      it(`${kind} / ${lang}: starts with the brand and holds no link, phone number or request for personal data`, () => {
        const body = text(kind, lang);
        expect(body.startsWith(lang === 'zh-CN' ? `【${brand}】` : `[${brand}]`)).toBe(true);
        expect(body).not.toMatch(URLISH);
        expect(body).not.toMatch(PHONEISH);
        expect(body).not.toMatch(PERSONAL_DATA);
        expect(body.length).toBeLessThanOrEqual(320);
      });
    }
  }

  it('the three languages differ', () => {
    for (const kind of KINDS) expect(new Set(SMS_LANGUAGES.map((lang) => text(kind, lang))).size).toBe(3);
  });
});

describe('pre_call (SPEC §7)', () => {
  it('carries the brand and the code and tells the customer not to give codes away', () => {
    expect(text('pre_call', 'en')).toBe(
      '[Acme Telco] We will call you about your complaint within 10 minutes. Our agent will tell you the code 482913. Never tell a caller any code.',
    );
    expect(text('pre_call', 'zh-CN')).toContain('482913');
    expect(text('pre_call', 'ms')).toContain('482913');
  });

  it('fits one SMS segment in English with a short brand', () => {
    expect(text('pre_call', 'en', { brand: 'secondcall', code: '482913' }).length).toBeLessThanOrEqual(160);
  });

  it('adds the link only when links are allowed and a link is given', () => {
    for (const lang of SMS_LANGUAGES) {
      expect(text('pre_call', lang, { brand, code: '482913', link: LINK, allowLinks: true })).toContain(LINK);
      expect(text('pre_call', lang, { brand, code: '482913', link: LINK, allowLinks: false })).not.toContain(LINK);
      expect(text('pre_call', lang, { brand, code: '482913', link: null, allowLinks: true })).not.toMatch(URLISH);
    }
  });
});

describe('call status', () => {
  it('yes names the agent and the reason; the code only when given', () => {
    const yes = text('call_status_yes', 'en');
    expect(yes).toContain('Mei Lin');
    expect(yes).toContain('Your December invoice');
    expect(yes).not.toMatch(/\d{6}/);
    expect(text('call_status_yes', 'en', { ...SAMPLES.call_status_yes, code: '554433' })).toContain('554433');
    expect(text('call_status_yes', 'zh-CN', { ...SAMPLES.call_status_yes, code: '554433' })).toContain('554433');
  });

  it('no is loud and says to hang up', () => {
    expect(text('call_status_no', 'en')).toBe('[Acme Telco] We are NOT calling you right now. Hang up.');
    expect(text('call_status_no', 'zh-CN')).toContain('挂断');
    expect(text('call_status_no', 'ms')).toContain('TIDAK');
  });

  it('staff text cannot add lines to the message', () => {
    const body = text('call_status_yes', 'en', { brand, agentName: 'Mei\nLin', reason: 'Invoice\n\n[Other] Call 555 now' });
    expect(body).not.toContain('\n');
  });
});

describe('consent', () => {
  it('the offer says how to answer in each language', () => {
    expect(text('consent_offer', 'en')).toMatch(/Reply 1 or YES.*2 or NO/);
    expect(text('consent_offer', 'zh-CN')).toMatch(/1.*是.*2.*否/);
    expect(text('consent_offer', 'ms')).toMatch(/1 atau YA.*2 atau TIDAK/);
  });

  it('the offer carries the link only when allowed', () => {
    expect(text('consent_offer', 'en', { brand, link: LINK, allowLinks: true })).toContain(LINK);
    expect(text('consent_offer', 'en', { brand, link: LINK })).not.toContain(LINK);
  });

  it('the confirmation shows the time in the customer zone, or that no call will come', () => {
    expect(text('consent_confirmation', 'en')).toContain('8:00');
    expect(text('consent_confirmation', 'en')).toContain('EST');
    expect(text('consent_confirmation', 'en', { brand, accepted: false })).toBe('[Acme Telco] Thank you. We will not call you back about this complaint.');
    expect(text('consent_confirmation', 'ms', { brand, accepted: true })).not.toMatch(/\d/);
  });
});

describe('opt-out', () => {
  it('the confirmation names what was refused', () => {
    expect(text('opt_out_confirmation', 'en')).toContain('call or text');
    expect(text('opt_out_confirmation', 'en', { brand, scope: 'voice' })).toContain('not call you');
    expect(text('opt_out_confirmation', 'en', { brand, scope: 'sms' })).toContain('not text you');
  });

  it('the code text carries the code and its lifetime', () => {
    expect(text('opt_out_code', 'en')).toContain('120934');
    expect(text('opt_out_code', 'en')).toContain('15 minutes');
    expect(text('opt_out_code', 'zh-CN', { brand, code: '000001', minutes: 10 })).toContain('10分钟');
  });
});

describe('smsLanguage', () => {
  it.each([
    ['zh', 'zh-CN'],
    ['zh-CN', 'zh-CN'],
    ['zh-Hans-SG', 'zh-CN'],
    ['ZH_cn', 'zh-CN'],
    ['ms', 'ms'],
    ['ms-MY', 'ms'],
    ['en-US', 'en'],
    ['fr', 'en'],
    ['', 'en'],
    [null, 'en'],
    [undefined, 'en'],
  ])('%j → %s', (tag, expected) => {
    expect(smsLanguage(tag)).toBe(expected);
  });
});
