/**
 * Keywords of inbound SMS (SPEC §8). A message is a command only when, once normalized, it is
 * exactly one keyword: "stop calling me at work" is a sentence a person should read, not an
 * opt-out we infer. Pure: no I/O.
 */

export type SmsCommand =
  | { kind: 'opt_out' }
  | { kind: 'consent'; accept: boolean }
  | { kind: 'call_status' }
  | { kind: 'none' };

/** The language a keyword gives away; English words and digits are used everywhere, so say nothing. */
export type KeywordLanguage = 'zh-CN' | 'ms' | null;

/** SPEC §8 opt-out words in English, Chinese (退订 and its pinyin initials TD) and Malay. */
export const OPT_OUT_KEYWORDS = ['STOP', 'UNSUBSCRIBE', '退订', 'TD', 'BERHENTI'] as const;
export const CONSENT_ACCEPT_KEYWORDS = ['1', 'YES', '是', 'YA'] as const;
export const CONSENT_DECLINE_KEYWORDS = ['2', 'NO', '否', 'TIDAK'] as const;
/**
 * "Is the company calling me right now?" by text: CALL (also CALL?), STATUS, 状态 (status),
 * 来电 (incoming call) and PANGGILAN (Malay: call). The answer goes to the sender's own number.
 */
export const CALL_STATUS_KEYWORDS = ['CALL', 'STATUS', '状态', '来电', 'PANGGILAN'] as const;

const COMMANDS = new Map<string, SmsCommand>([
  ...OPT_OUT_KEYWORDS.map((k) => [k, { kind: 'opt_out' }] as const),
  ...CONSENT_ACCEPT_KEYWORDS.map((k) => [k, { kind: 'consent', accept: true }] as const),
  ...CONSENT_DECLINE_KEYWORDS.map((k) => [k, { kind: 'consent', accept: false }] as const),
  ...CALL_STATUS_KEYWORDS.map((k) => [k, { kind: 'call_status' }] as const),
]);

/** Punctuation, symbols, spaces and invisible characters people and phones add around a word. */
const AROUND = /^[\p{P}\p{S}\p{Z}\p{C}\s]+|[\p{P}\p{S}\p{Z}\p{C}\s]+$/gu;

/**
 * The comparable form of a message: NFKC (full-width ＳＴＯＰ and １ become ASCII), surrounding
 * punctuation and whitespace removed ("Stop.", "CALL?", "是！"), inner whitespace collapsed and
 * upper-cased with toUpperCase, which ignores the locale (Turkish rules would turn "i" into "İ").
 */
export function normalizeSmsText(body: string): string {
  return body.normalize('NFKC').replace(AROUND, '').replace(/\s+/gu, ' ').toUpperCase();
}

const CHINESE = new Set(['退订', 'TD', '是', '否', '状态', '来电']);
const MALAY = new Set(['BERHENTI', 'YA', 'TIDAK', 'PANGGILAN']);

/** The command a message body asks for, or `none`. */
export function parseSmsCommand(body: string): SmsCommand {
  return COMMANDS.get(normalizeSmsText(body)) ?? { kind: 'none' };
}

/** The language to answer a keyword in when the number's own language is not known. */
export function keywordLanguage(body: string): KeywordLanguage {
  const word = normalizeSmsText(body);
  if (CHINESE.has(word)) return 'zh-CN';
  if (MALAY.has(word)) return 'ms';
  return null;
}
