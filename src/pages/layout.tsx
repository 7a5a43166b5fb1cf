/** The frame and the small building blocks every customer page shares. */
import type { Context } from 'hono';
import { html } from 'hono/html';
import type { Child, PropsWithChildren } from 'hono/jsx';
import { parsePhoneNumberFromString } from 'libphonenumber-js/max';
import { LANGUAGES, LANGUAGE_NAMES, type Lang, type Messages } from '../i18n/index.js';
import { withLang, type PagesEnv } from './context.js';
import { CSRF_FIELD, csrfToken } from './security.js';

export const STYLESHEET_PATH = '/assets/pages.css';

/** Neutral forms, a green genuine result, a red "not genuine" warning. */
export type Tone = 'neutral' | 'genuine' | 'danger';

interface LayoutProps {
  lang: Lang;
  m: Messages;
  brand: string;
  title: string;
  tone: Tone;
  /** Where the language links point: a page that can be fetched again with GET. */
  switchPath: string;
}

function Layout(props: PropsWithChildren<LayoutProps>) {
  const { lang, m, brand } = props;
  return (
    <html lang={lang}>
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="robots" content="noindex, nofollow" />
        <title>{m.htmlTitle({ page: props.title, brand })}</title>
        {/* An empty icon: no request for /favicon.ico, nothing from another origin. */}
        <link rel="icon" href="data:," />
        <link rel="stylesheet" href={STYLESHEET_PATH} />
      </head>
      <body class={`tone-${props.tone}`}>
        <header class="top">
          <span class="brand">{brand}</span>
          <nav class="langs" aria-label={m.languageLabel}>
            {LANGUAGES.map((l) => (
              <a href={withLang(props.switchPath, l)} hreflang={l} lang={l} aria-current={l === lang ? 'true' : undefined}>
                {LANGUAGE_NAMES[l]}
              </a>
            ))}
          </nav>
        </header>
        <main>{props.children}</main>
        <footer>
          <p>{m.footerNeverAsk({ brand })}</p>
          <nav aria-label={m.footerLinks}>
            <a href={withLang('/verify', lang)}>{m.navVerify}</a>
            <a href={withLang('/opt-out', lang)}>{m.navOptOut}</a>
          </nav>
        </footer>
      </body>
    </html>
  );
}

export interface PageView {
  title: string;
  body: Child;
  tone?: Tone;
  status?: 200 | 403 | 404 | 409 | 422 | 429 | 500 | 503;
  switchPath?: string;
}

/** Renders a full page in the request's language; every page carries a fresh or kept CSRF cookie. */
export function renderPage(c: Context<PagesEnv>, view: PageView) {
  csrfToken(c);
  const node = (
    <Layout
      lang={c.var.lang}
      m={c.var.m}
      brand={c.var.deps.config.BRAND_NAME}
      title={view.title}
      tone={view.tone ?? 'neutral'}
      switchPath={view.switchPath ?? c.req.path}
    >
      {view.body}
    </Layout>
  );
  return c.html(html`<!doctype html>${node}`, view.status ?? 200);
}

/** The hidden double-submit field; pair it with the cookie `renderPage` sets. */
export const CsrfField = (props: { c: Context<PagesEnv> }) => <input type="hidden" name={CSRF_FIELD} value={csrfToken(props.c)} />;

interface FieldProps {
  name: string;
  label: string;
  hint?: string;
  error?: string | undefined;
  value?: string | undefined;
  type?: 'text' | 'tel';
  inputmode?: 'tel' | 'numeric' | 'text';
  autocomplete?: string;
  maxlength?: number;
  pattern?: string;
  required?: boolean;
  className?: string;
}

/** A labelled input with its hint and error tied to it for screen readers. */
export function Field(props: FieldProps) {
  const id = `f-${props.name}`;
  const described = [props.hint ? `${id}-hint` : '', props.error ? `${id}-error` : ''].filter(Boolean).join(' ');
  return (
    <div class="field">
      <label for={id}>{props.label}</label>
      {props.hint ? <span class="hint" id={`${id}-hint`}>{props.hint}</span> : null}
      {props.error ? <span class="error" id={`${id}-error`}>{props.error}</span> : null}
      <input
        id={id}
        name={props.name}
        type={props.type ?? 'text'}
        value={props.value ?? ''}
        inputmode={props.inputmode}
        autocomplete={props.autocomplete}
        maxlength={props.maxlength}
        pattern={props.pattern}
        required={props.required ?? false}
        class={props.className}
        aria-invalid={props.error ? 'true' : undefined}
        aria-describedby={described || undefined}
      />
    </div>
  );
}

export function TextArea(props: { name: string; label: string; error?: string | undefined; value?: string; maxlength: number; required?: boolean }) {
  const id = `f-${props.name}`;
  return (
    <div class="field">
      <label for={id}>{props.label}</label>
      {props.error ? <span class="error" id={`${id}-error`}>{props.error}</span> : null}
      <textarea
        id={id}
        name={props.name}
        maxlength={props.maxlength}
        required={props.required ?? false}
        aria-invalid={props.error ? 'true' : undefined}
        aria-describedby={props.error ? `${id}-error` : undefined}
      >
        {props.value ?? ''}
      </textarea>
    </div>
  );
}

export const ErrorSummary = (props: { message: string | null }) =>
  props.message ? <div class="error-summary" role="alert">{props.message}</div> : null;

/** The big coloured banner of a result: colour, icon and words together, never colour alone. */
export function ResultBanner(props: { kind: 'genuine' | 'danger'; badge: string; title: string; lead: string }) {
  return (
    <section class={`result ${props.kind}`} role={props.kind === 'danger' ? 'alert' : 'status'}>
      <p class="badge">
        <span class="icon" aria-hidden="true">{props.kind === 'genuine' ? '✓' : '✕'}</span>
        {props.badge}
      </p>
      <h1>{props.title}</h1>
      <p>{props.lead}</p>
    </section>
  );
}

/** `+60312345678` → `+60 3-1234 5678`; anything unparseable is shown as given. */
export function displayPhone(e164: string): string {
  return parsePhoneNumberFromString(e164)?.formatInternational() ?? e164;
}

/** The numbers the company calls from, each a tap-to-call button: the channel the customer can trust. */
export function OfficialNumbers(props: { m: Messages; numbers: { number: string; label: string }[] }) {
  const { m } = props;
  return (
    <section class="card">
      <h2>{m.officialNumbersTitle}</h2>
      {props.numbers.length === 0 ? (
        <p>{m.officialNumbersNone}</p>
      ) : (
        <ul class="numbers">
          {props.numbers.map((n) => (
            <li>
              <span class="label">{n.label}</span>
              <a class="button secondary" href={`tel:${n.number}`}>
                {m.callNumber({ number: displayPhone(n.number) })}
              </a>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
