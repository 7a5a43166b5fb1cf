/**
 * SPEC §7: the customer checks that a call is genuine, with their number and the code the agent
 * stated, or with the link of the pre-call SMS. The answer must not tell an attacker whether a
 * number is known: an unknown number and a known number with a wrong code run the same statement
 * (the try-reserving UPDATE, which simply matches no row for an unknown number), compute the same
 * HMAC, compare it in constant time (against a dummy hash when there is no session), and both
 * answer `{ genuine: false }`.
 */
import { timingSafeEqual } from 'node:crypto';
import { and, eq, gt, isNull, lt, lte, sql } from 'drizzle-orm';
import { verificationSessions } from '../db/schema/index.js';
import { countVerification } from '../ops/metrics.js';
import type { AppDeps } from '../http/context.js';
import { parsePhone } from '../domain/phone.js';
import { verificationHash } from '../services/verification-sessions.js';

export type VerifyResult =
  | { genuine: false }
  | { genuine: true; company: string; agentName: string; reason: string; caseRef: string; callerNumber: string | null };

type Deps = Pick<AppDeps, 'db' | 'config' | 'queues'>;

/** SPEC §7: after five failed checks the session is locked for good. */
export const MAX_FAILED_CHECKS = 5;

const NOT_GENUINE: VerifyResult = Object.freeze({ genuine: false });

interface Candidate {
  id: string;
  codeHash: string;
  failedChecks: number;
}

/** Compared against when a number has no live session, so the comparison is always made. */
const DUMMY_CANDIDATE: Candidate = Object.freeze({ id: '', codeHash: '0'.repeat(64), failedChecks: 0 });

/** Constant-time comparison of two hex HMAC-SHA256 digests. */
function sameHash(expectedHex: string, actual: Buffer): boolean {
  const expected = Buffer.from(expectedHex, 'hex');
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

/**
 * "CA****11": enough for the customer to recognise their case, not enough to learn it. The number
 * of stars is fixed so the mask does not tell the length either; short references are hidden.
 */
export function maskCaseRef(caseRef: string): string {
  const chars = [...caseRef];
  if (chars.length < 6) return '****';
  return `${chars.slice(0, 2).join('')}****${chars.slice(-2).join('')}`;
}

/** Codes as people type them: full-width digits, spaces and dashes ("482 913", "４８２-９１３"). */
export const normalizeCode = (code: string) => code.normalize('NFKC').replace(/[\s-]/g, '');

const live = (at: string) => sql`locked_at is null and valid_from <= ${at}::timestamptz and expires_at > ${at}::timestamptz`;

interface GenuineRow extends Record<string, unknown> {
  reason: string;
  case_ref: string;
  caller_number: string | null;
  agent_name: string | null;
}

/**
 * Marks the session verified (outbox `verification.verified` the first time only), gives back the
 * try a successful code check reserved, and reads what the genuine page shows, in one statement.
 * The session is re-checked under a row lock, so a check racing the lock or the expiry fails.
 */
async function confirmGenuine(deps: Deps, sessionId: string, refundTry: boolean, now: Date): Promise<VerifyResult> {
  const at = now.toISOString();
  const rows = await deps.db.execute<GenuineRow>(sql`
    with s as (
      select id, attempt_id, callback_id, verified_at from verification_sessions
      where id = ${sessionId} and ${live(at)}
      for update
    ), confirmed as (
      update verification_sessions v
      set verified_at = coalesce(v.verified_at, ${at}::timestamptz),
          failed_checks = greatest(v.failed_checks - ${refundTry ? 1 : 0}::int, 0)
      from s where v.id = s.id
    ), event as (
      insert into outbox (event, payload)
      select 'verification.verified',
        jsonb_build_object('sessionId', id, 'attemptId', attempt_id, 'callbackId', callback_id, 'verifiedAt', ${at}::text)
      from s where s.verified_at is null
    )
    select c.reason, c.case_ref, a.caller_number, ag.display_name as agent_name
    from s
    join attempts a on a.id = s.attempt_id
    join callbacks c on c.id = s.callback_id
    left join agents ag on ag.id = a.agent_id`);
  const row = rows[0];
  if (!row) return NOT_GENUINE;
  return {
    genuine: true,
    company: deps.config.BRAND_NAME,
    agentName: row.agent_name ?? deps.config.BRAND_NAME,
    reason: row.reason,
    caseRef: maskCaseRef(row.case_ref),
    callerNumber: row.caller_number,
  };
}

/**
 * Takes one try from every live session of the number before any code is compared: an atomic
 * UPDATE that skips sessions whose tries are used up, so parallel guesses cannot get more than
 * MAX_FAILED_CHECKS comparisons between them.
 *
 * Its commit does not wait for the WAL flush (synchronous_commit off for this statement's own
 * transaction). Otherwise a known number (a row changed: a WAL flush) would answer measurably
 * slower than an unknown one (nothing changed: no flush), which is exactly what must not show.
 * The cost: a database crash may forget the tries counted in its last few hundred milliseconds.
 */
function reserveTriesStatement(db: Deps['db']) {
  const v = verificationSessions;
  return db
    .update(v)
    .set({ failedChecks: sql`${v.failedChecks} + 1` })
    .from(sql`(select set_config('synchronous_commit', 'off', true)) as no_flush_wait`)
    .where(
      and(
        eq(v.phoneE164, sql.placeholder('phone')),
        lt(v.failedChecks, MAX_FAILED_CHECKS),
        isNull(v.lockedAt),
        lte(v.validFrom, sql.placeholder('at')),
        gt(v.expiresAt, sql.placeholder('at')),
      ),
    )
    .returning({ id: v.id, codeHash: v.codeHash, failedChecks: v.failedChecks })
    .prepare('verification_reserve_tries');
}

/** The hot statement of every check, prepared once per database handle (it halves PostgreSQL's work per check). */
const reserveStatements = new WeakMap<Deps['db'], ReturnType<typeof reserveTriesStatement>>();

function reserveTries(deps: Deps, e164: string, now: Date): Promise<Candidate[]> {
  let statement = reserveStatements.get(deps.db);
  if (!statement) {
    statement = reserveTriesStatement(deps.db);
    reserveStatements.set(deps.db, statement);
  }
  return statement.execute({ phone: e164, at: now.toISOString() });
}

/** Locks sessions whose last try failed, with outbox `verification.locked` (once: only rows not yet locked). */
async function lockSessions(deps: Deps, ids: string[], now: Date): Promise<void> {
  const at = now.toISOString();
  await deps.db.execute(sql`
    with locked as (
      update verification_sessions set locked_at = ${at}::timestamptz
      where id = any(${`{${ids.join(',')}}`}::uuid[]) and locked_at is null
      returning id, attempt_id, callback_id, failed_checks
    )
    insert into outbox (event, payload)
    select 'verification.locked',
      jsonb_build_object('sessionId', id, 'attemptId', attempt_id, 'callbackId', callback_id, 'failedChecks', failed_checks, 'lockedAt', ${at}::text)
    from locked`);
}

/** POST /v1/public/verify and the /verify page: is the call the customer got (or is getting) from us? */
export async function checkCode(
  deps: Deps,
  input: { phone: string; code: string; region?: string | undefined },
  now: Date,
): Promise<VerifyResult> {
  const parsed = parsePhone(input.phone, input.region ?? deps.config.DEFAULT_REGION);
  // An unparseable number is looked up too (as '', which matches nothing), so it costs the same.
  const e164 = parsed.ok ? parsed.phone.e164 : '';
  const actual = Buffer.from(verificationHash(deps.config.SECRET_KEY, normalizeCode(input.code)), 'hex');
  const reserved = await reserveTries(deps, e164, now);

  let matched: string | null = null;
  for (const candidate of reserved.length > 0 ? reserved : [DUMMY_CANDIDATE]) {
    // Every candidate is compared, even after a match, so the time does not depend on the position.
    if (sameHash(candidate.codeHash, actual) && matched === null && candidate.id) matched = candidate.id;
  }
  const exhausted = reserved.filter((r) => r.id !== matched && r.failedChecks >= MAX_FAILED_CHECKS).map((r) => r.id);
  if (exhausted.length > 0) await lockSessions(deps, exhausted, now);
  countVerification(deps, matched !== null ? 'genuine' : exhausted.length > 0 ? 'locked' : 'not_genuine');
  return matched === null ? NOT_GENUINE : confirmGenuine(deps, matched, true, now);
}

/** GET /v/{token}: the link of the pre-call SMS (when links are allowed). Tokens have 256 bits: no tries are counted. */
export async function checkLink(deps: Deps, token: string, now: Date): Promise<VerifyResult> {
  const actual = Buffer.from(verificationHash(deps.config.SECRET_KEY, token), 'hex');
  const at = now.toISOString();
  const [row] = await deps.db
    .select({ id: verificationSessions.id, tokenHash: verificationSessions.tokenHash })
    .from(verificationSessions)
    .where(and(eq(verificationSessions.tokenHash, actual.toString('hex')), live(at)));
  const genuine = row?.tokenHash !== undefined && row.tokenHash !== null && sameHash(row.tokenHash, actual);
  countVerification(deps, genuine ? 'genuine' : 'not_genuine');
  return genuine ? confirmGenuine(deps, row.id, false, now) : NOT_GENUINE;
}
