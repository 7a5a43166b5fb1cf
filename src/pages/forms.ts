import type { Context } from 'hono';
import { parsePhone } from '../domain/phone.js';
import type { PagesEnv } from './context.js';

export type Form = Record<string, string>;

/**
 * The posted form as trimmed strings (files and repeated fields ignored), cut to sane lengths. A
 * value with a NUL character, which no one types and PostgreSQL cannot store, counts as missing.
 */
export async function readForm(c: Context<PagesEnv>, maxLengths: Record<string, number>): Promise<Form> {
  const body = await c.req.parseBody();
  const form: Form = {};
  for (const [name, max] of Object.entries(maxLengths)) {
    const value = body[name];
    form[name] = typeof value === 'string' && !value.includes('\u0000') ? value.trim().slice(0, max) : '';
  }
  return form;
}

/** Codes as people type them: full-width digits, spaces and dashes ("482 913", "４８２-９１３"). */
export const normalizeCode = (code: string) => code.normalize('NFKC').replace(/[\s-]/g, '');
export const isSixDigits = (code: string) => /^\d{6}$/.test(normalizeCode(code));

/** The E.164 form when the number parses, for rate limiting per number and for display. */
export function e164Of(c: Context<PagesEnv>, phone: string): string | null {
  const parsed = parsePhone(phone, c.var.deps.config.DEFAULT_REGION);
  return parsed.ok ? parsed.phone.e164 : null;
}
