import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  CALL_STATUS_KEYWORDS,
  CONSENT_ACCEPT_KEYWORDS,
  CONSENT_DECLINE_KEYWORDS,
  OPT_OUT_KEYWORDS,
  keywordLanguage,
  normalizeSmsText,
  parseSmsCommand,
} from '../../src/domain/sms-keywords.js';

describe('parseSmsCommand: opt-out (SPEC §8)', () => {
  it.each(['STOP', 'stop', 'Stop', ' STOP ', 'STOP.', 'stop!', 'UNSUBSCRIBE', 'unsubscribe', '退订', '退订。', 'TD', 'td', 'BERHENTI', 'Berhenti'])(
    '%j opts out',
    (body) => {
      expect(parseSmsCommand(body)).toEqual({ kind: 'opt_out' });
    },
  );

  it('normalizes full-width letters and ideographic spaces', () => {
    expect(parseSmsCommand('ＳＴＯＰ')).toEqual({ kind: 'opt_out' });
    expect(parseSmsCommand('\u3000ｓｔｏｐ\u3000')).toEqual({ kind: 'opt_out' });
    expect(parseSmsCommand('ＴＤ')).toEqual({ kind: 'opt_out' });
  });

  it('ignores invisible characters a phone keyboard may add', () => {
    expect(parseSmsCommand('\u200bSTOP\u200b')).toEqual({ kind: 'opt_out' });
    expect(parseSmsCommand('STOP\n')).toEqual({ kind: 'opt_out' });
  });

  it('does not read an opt-out into a sentence', () => {
    for (const body of ['STOP calling me at work', 'please stop', 'STOPS', 'TDX', 'unsubscribe me', 'don\'t stop']) {
      expect(parseSmsCommand(body)).toEqual({ kind: 'none' });
    }
  });
});

describe('parseSmsCommand: consent answers', () => {
  it.each(['1', ' 1 ', '１', 'YES', 'yes', 'Yes!', '是', '是！', 'YA', 'ya'])('%j accepts', (body) => {
    expect(parseSmsCommand(body)).toEqual({ kind: 'consent', accept: true });
  });

  it.each(['2', '２', 'NO', 'no', 'No.', '否', 'TIDAK', 'tidak'])('%j declines', (body) => {
    expect(parseSmsCommand(body)).toEqual({ kind: 'consent', accept: false });
  });

  it('other numbers and words are not answers', () => {
    for (const body of ['3', '12', '0', 'YESS', 'NOPE', '是的吗', 'maybe']) {
      expect(parseSmsCommand(body)).toEqual({ kind: 'none' });
    }
  });
});

describe('parseSmsCommand: call status', () => {
  it.each(['CALL', 'CALL?', 'call?', 'STATUS', 'status', '状态', '状态？', '来电', '来电?', 'PANGGILAN', 'panggilan?'])('%j asks for the call status', (body) => {
    expect(parseSmsCommand(body)).toEqual({ kind: 'call_status' });
  });
});

describe('parseSmsCommand over all inputs', () => {
  const keywords = [...OPT_OUT_KEYWORDS, ...CONSENT_ACCEPT_KEYWORDS, ...CONSENT_DECLINE_KEYWORDS, ...CALL_STATUS_KEYWORDS];

  it('no keyword belongs to two commands', () => {
    expect(new Set(keywords).size).toBe(keywords.length);
  });

  it('is a keyword command exactly when the normalized text is a keyword', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 30 }), (body) => {
        const command = parseSmsCommand(body);
        const isKeyword = (keywords as readonly string[]).includes(normalizeSmsText(body));
        expect(command.kind !== 'none').toBe(isKeyword);
      }),
    );
  });

  it('any casing and surrounding whitespace or punctuation keeps the command', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...keywords),
        fc.array(fc.boolean(), { minLength: 12, maxLength: 12 }),
        fc.constantFrom('', ' ', '  ', '\t', '.', '!', '?', '。', '！', '？', ' .'),
        fc.constantFrom('', ' ', '\n', '"'),
        (keyword, upper, suffix, prefix) => {
          const cased = [...keyword].map((ch, i) => (upper[i % upper.length] ? ch.toUpperCase() : ch.toLowerCase())).join('');
          expect(parseSmsCommand(`${prefix}${cased}${suffix}`)).toEqual(parseSmsCommand(keyword));
        },
      ),
    );
  });
});

describe('keywordLanguage', () => {
  it('answers Chinese and Malay keywords in their language', () => {
    expect(keywordLanguage('退订')).toBe('zh-CN');
    expect(keywordLanguage('td')).toBe('zh-CN');
    expect(keywordLanguage('是')).toBe('zh-CN');
    expect(keywordLanguage('Berhenti')).toBe('ms');
    expect(keywordLanguage('tidak')).toBe('ms');
  });

  it('says nothing for English words and digits, which are used in every market', () => {
    for (const body of ['STOP', '1', '2', 'YES', 'CALL?', 'hello']) expect(keywordLanguage(body)).toBeNull();
  });
});
