/**
 * SPEC §8 consent offers on the web: /o/{token} lists the next permitted slots, the customer picks
 * one (or "as soon as possible") and accepts, or declines. Unknown, lapsed or answered → one clear page.
 */
import type { Context } from 'hono';
import { Hono } from 'hono';
import { AppError } from '../http/errors.js';
import { rateLimit } from '../http/rate-limit.js';
import { DATE_LOCALES, type Lang } from '../i18n/index.js';
import { answerOfferByToken, loadOffer, type OfferAnswer, type OfferView } from '../services/consent.js';
import { withLang, type PagesEnv } from './context.js';
import { readForm } from './forms.js';
import { daySlots, describeSlot, withinSlots } from './slots.js';
import { CsrfField, ErrorSummary, renderPage } from './layout.js';

/** Shared with GET and POST /v1/public/offers/{token}. */
const READ_LIMIT = { scope: 'offers', failOpen: true } as const;
const ANSWER_LIMIT = { scope: 'offers' } as const;
const MAX_TOKEN_LENGTH = 128;
const MAX_CHOICES = 6;

/** Times in the customer's own zone (the first zone of the number), 24-hour, in the page language. */
function dateFormat(lang: Lang, timeZone: string) {
  return new Intl.DateTimeFormat(DATE_LOCALES[lang], {
    timeZone,
    weekday: 'long',
    day: 'numeric',
    month: 'long',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  });
}

const zoneOf = (offer: OfferView) => offer.timezones[0] ?? 'UTC';
const choicesOf = (offer: OfferView) => daySlots(offer.slots, zoneOf(offer), MAX_CHOICES);

function OfferForm(props: { c: Context<PagesEnv>; token: string; offer: OfferView; error?: string | undefined }) {
  const { c, offer } = props;
  const m = c.var.m;
  const zone = zoneOf(offer);
  const format = dateFormat(c.var.lang, zone);
  return (
    <>
      <h1>{m.offerTitle({ brand: offer.brand })}</h1>
      <section class="card">
        <dl class="facts">
          <div>
            <dt>{m.offerAbout}</dt>
            <dd>{offer.reason}</dd>
          </div>
        </dl>
      </section>
      <p>{m.offerIntro}</p>
      <ErrorSummary message={props.error ?? null} />
      <form method="post" action={withLang(`/o/${props.token}`, c.var.lang)} novalidate>
        <CsrfField c={c} />
        <fieldset>
          <legend>{m.offerSlotsLegend}</legend>
          <label class="choice">
            <input type="radio" name="slot" value="" checked />
            <span>{m.offerSlotEarliest}</span>
          </label>
          {choicesOf(offer).map((slot) => {
            const { day, hours } = describeSlot(slot, zone, DATE_LOCALES[c.var.lang]);
            return (
              <label class="choice">
                <input type="radio" name="slot" value={slot.start} />
                <span>
                  <strong>{day}</strong>
                  <br />
                  {hours}
                </span>
              </label>
            );
          })}
          <p class="hint">{m.offerTimesIn({ zone })}</p>
        </fieldset>
        <p>{m.offerAnswerBy({ time: format.format(new Date(offer.expiresAt)) })}</p>
        <button type="submit" name="answer" value="accept" class="button">
          {m.offerAccept}
        </button>
        <button type="submit" name="answer" value="decline" class="button secondary">
          {m.offerDecline}
        </button>
      </form>
    </>
  );
}

function Answered(props: { c: Context<PagesEnv>; answer: OfferAnswer; zone: string }) {
  const m = props.c.var.m;
  if (props.answer.status === 'declined') {
    return (
      <>
        <h1>{m.offerDeclinedTitle}</h1>
        <p class="card">{m.offerDeclinedBody}</p>
      </>
    );
  }
  const at = props.answer.scheduledFor;
  return (
    <>
      <h1>{m.offerAcceptedTitle}</h1>
      <p class="card">
        {at ? m.offerAcceptedAt({ time: dateFormat(props.c.var.lang, props.zone).format(new Date(at)) }) : m.offerAcceptedEarliest}
      </p>
    </>
  );
}

function gonePage(c: Context<PagesEnv>, status: 404 | 409) {
  const m = c.var.m;
  return renderPage(c, {
    title: m.offerGoneTitle,
    status,
    body: (
      <>
        <h1>{m.offerGoneTitle}</h1>
        <p>{m.offerGoneBody}</p>
      </>
    ),
  });
}

type Choice = { ok: true; slot: string | undefined } | { ok: false };

/**
 * The slot as the service wants it: none means "the earliest permitted time", and so does a slot
 * that has already begun (the first choice often starts now, and now has passed by the time the
 * form comes back). Anything but the start of a choice the page offered is refused.
 */
function chosenSlot(value: string, offer: OfferView, now: Date): Choice {
  if (!value) return { ok: true, slot: undefined };
  const at = Date.parse(value);
  if (!Number.isFinite(at)) return { ok: false };
  if (at <= now.getTime()) return { ok: true, slot: undefined };
  return withinSlots(choicesOf(offer), at) ? { ok: true, slot: new Date(at).toISOString() } : { ok: false };
}

/** Hands the answer to the consent service; its refusals become the matching page. */
async function submitAnswer(
  c: Context<PagesEnv>,
  token: string,
  input: { accept: boolean; slot: string | undefined },
  zone: string,
  retry?: (error: string) => Response | Promise<Response>,
) {
  const m = c.var.m;
  const deps = c.var.deps;
  try {
    const answered = await answerOfferByToken(deps, token, input, deps.now());
    return renderPage(c, {
      title: answered.status === 'declined' ? m.offerDeclinedTitle : m.offerAcceptedTitle,
      body: <Answered c={c} answer={answered} zone={zone} />,
    });
  } catch (err) {
    if (!(err instanceof AppError)) throw err;
    if (err.code === 'validation_failed' && retry) return retry(m.errorSlot);
    if (err.code === 'not_found') return gonePage(c, 404);
    if (err.code === 'invalid_state') return gonePage(c, 409);
    throw err;
  }
}

export function offerPages() {
  const app = new Hono<PagesEnv>();

  app.get('/o/:token', rateLimit(READ_LIMIT), async (c) => {
    const token = c.req.param('token');
    const deps = c.var.deps;
    const offer = token.length <= MAX_TOKEN_LENGTH ? await loadOffer(deps, token, deps.now()) : null;
    if (!offer) return gonePage(c, 404);
    return renderPage(c, { title: c.var.m.offerTitle({ brand: offer.brand }), body: <OfferForm c={c} token={token} offer={offer} /> });
  });

  app.post('/o/:token', rateLimit(ANSWER_LIMIT), async (c) => {
    const token = c.req.param('token');
    const deps = c.var.deps;
    const m = c.var.m;
    if (token.length > MAX_TOKEN_LENGTH) return gonePage(c, 404);
    const form = await readForm(c, { answer: 10, slot: 40 });
    const now = deps.now();
    const offer = await loadOffer(deps, token, now);
    // Unknown, lapsed or already answered: the service tells which, and the page says so.
    if (!offer) return submitAnswer(c, token, { accept: form.answer === 'accept', slot: undefined }, 'UTC');
    const retry = (error: string) =>
      renderPage(c, { title: m.offerTitle({ brand: offer.brand }), status: 422, body: <OfferForm c={c} token={token} offer={offer} error={error} /> });
    if (form.answer !== 'accept' && form.answer !== 'decline') return retry(m.formHasErrors);
    const choice = form.answer === 'accept' ? chosenSlot(form.slot!, offer, now) : ({ ok: true, slot: undefined } as const);
    if (!choice.ok) return retry(m.errorSlot);
    return submitAnswer(c, token, { accept: form.answer === 'accept', slot: choice.slot }, zoneOf(offer), retry);
  });

  return app;
}
