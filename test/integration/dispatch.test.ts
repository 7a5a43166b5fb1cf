import { Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bullPrefix, dueJobId, QUEUE_NAMES, workerConnection, type DueJob } from '../../src/queues/queues.js';
import { reconcileWakeups } from '../../src/queues/reconciler.js';
import { dispatchDue } from '../../src/services/dispatch.js';
import { ALL_DAY, createTestContext, type TestContext } from '../helpers/harness.js';
import { waitFor } from '../helpers/worker-process.js';

let t: TestContext;
let admin: string;
let agent: string;
let seq = 0;

/** London numbers may be called 09:00–17:00 only: the fixed-clock tests dispatch outside that. */
const LONDON_OFFICE_HOURS = [{ days: [1, 2, 3, 4, 5, 6, 7], start: '09:00', end: '17:00' }];

const caseRef = () => `DISPATCH-${++seq}-${Date.now()}`;

function body(overrides: Record<string, unknown> = {}) {
  return {
    caseRef: caseRef(),
    category: 'billing',
    phone: `+1 212 555 ${String(1000 + seq).slice(-4)}`,
    reason: 'We will explain the December invoice again',
    firstExplanation: { summary: 'Explained the late fee policy' },
    ...overrides,
  };
}

async function create(overrides: Record<string, unknown> = {}) {
  const res = await t.request('POST', '/v1/callbacks', { key: agent, body: body(overrides) });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body as { id: string; version: number; status: string; scheduledFor: string; phone: { e164: string } };
}

const inSeconds = (s: number) => new Date(Date.now() + s * 1000).toISOString();

async function statusOf(id: string): Promise<{ status: string; version: number; scheduledFor: Date | null }> {
  const [row] = await t.sql`select status, version, scheduled_for from callbacks where id = ${id}`;
  // drizzle's postgres.js driver leaves timestamps as text on the shared client.
  return { status: row!.status, version: row!.version, scheduledFor: row!.scheduled_for ? new Date(row!.scheduled_for) : null };
}

const timeline = (id: string) =>
  t.sql`select actor, from_status, to_status, details, at from callback_events where callback_id = ${id} order by id`;

const outboxEvents = async (id: string) =>
  (await t.sql`select event from outbox where payload->>'callbackId' = ${id} order by id`).map((r) => r.event as string);

/** Waits until the wake-up job for (id, version) has run, and returns what dispatchDue answered. */
async function jobOutcome(id: string, version: number): Promise<string> {
  return waitFor(
    async () => {
      const job = await t.runtime.queues.due.getJob(dueJobId(id, version));
      return job && (await job.isCompleted()) ? (job.returnvalue as string) : undefined;
    },
    { timeoutMs: 15_000, what: `wake-up of ${id} v${version}` },
  );
}

beforeAll(async () => {
  t = await createTestContext();
  admin = await t.key('admin');
  agent = await t.key('agent', { id: 'dispatch-agent' });
  expect((await t.request('PUT', '/v1/policies/billing', { key: admin, body: { enabled: true } })).status).toBe(200);
  // The real clock may read any hour: calling is permitted around the clock, except in London.
  const settings = await t.request('PUT', '/v1/settings/calling', {
    key: admin,
    body: {
      legalHours: { default: ALL_DAY, byCountry: { US: ALL_DAY, GB: LONDON_OFFICE_HOURS } },
      center: { timezone: 'UTC', hours: ALL_DAY, closedDates: [] },
      caps: { perDay: 100, perWeek: 500 },
    },
  });
  expect(settings.status, JSON.stringify(settings.body)).toBe(200);
});
afterAll(() => t?.close());

describe('a due job on the real clock (SPEC §5, §6)', () => {
  let worker: Worker<DueJob>;
  let connection: Redis;

  beforeAll(() => {
    t.setNow(null);
    connection = workerConnection(t.config.REDIS_URL);
    worker = new Worker<DueJob>(QUEUE_NAMES.due, (job) => dispatchDue(t.runtime.deps, job.data, new Date()), {
      connection,
      prefix: bullPrefix(t.config.QUEUE_PREFIX),
      concurrency: 5,
    });
  });
  afterAll(async () => {
    await worker.close();
    connection.disconnect();
  });

  it('makes the callback ready at its time: one timeline event by the dispatcher, one callback.ready', async () => {
    const cb = await create({ notBefore: inSeconds(2) });
    expect(cb.status).toBe('scheduled');
    expect(await jobOutcome(cb.id, cb.version)).toBe('ready');

    const row = await statusOf(cb.id);
    expect(row).toMatchObject({ status: 'ready', version: cb.version + 1 });
    const events = await timeline(cb.id);
    expect(events.map((e) => [e.from_status, e.to_status])).toEqual([
      [null, 'scheduled'],
      ['scheduled', 'ready'],
    ]);
    const ready = events[1]!;
    expect(ready.actor).toBe('system:dispatcher');
    // Not before its time, and not much after it.
    const lateMs = Date.parse(ready.at) - Date.parse(cb.scheduledFor);
    expect(lateMs).toBeGreaterThanOrEqual(0);
    expect(lateMs).toBeLessThan(2000);
    expect(ready.details.lateMs).toBeGreaterThanOrEqual(0);
    expect(await outboxEvents(cb.id)).toEqual(['callback.scheduled', 'callback.ready']);
  });

  it('suppresses, never readies, a callback whose number opted out after it was scheduled', async () => {
    const cb = await create({ notBefore: inSeconds(2) });
    // The race: the opt-out row exists but the callback was not yet moved (as if the opt-out
    // transaction committed while the callback was being created).
    await t.sql`insert into opt_outs (phone_e164, scope, source, created_by) values (${cb.phone.e164}, 'voice', 'test', 'test')`;
    expect(await statusOf(cb.id)).toMatchObject({ status: 'scheduled' });

    expect(await jobOutcome(cb.id, cb.version)).toBe('suppressed');
    expect(await statusOf(cb.id)).toMatchObject({ status: 'suppressed', scheduledFor: null });
    const events = await timeline(cb.id);
    expect(events.map((e) => e.to_status)).toEqual(['scheduled', 'suppressed']);
    expect(events[1]).toMatchObject({ actor: 'system:dispatcher', details: { reason: 'opt_out' } });
    expect(await outboxEvents(cb.id)).toEqual(['callback.scheduled', 'callback.suppressed']);
  });

  it('lets the wake-up of a callback already suppressed by POST /v1/opt-outs change nothing', async () => {
    // Due in 4 s: the opt-out must land first even on a busy machine.
    const cb = await create({ notBefore: inSeconds(4) });
    const optOut = await t.request('POST', '/v1/opt-outs', { key: agent, body: { phone: cb.phone.e164 } });
    expect(optOut.status).toBe(201);
    expect(optOut.body.suppressedCallbacks).toEqual([cb.id]);
    const before = await timeline(cb.id);

    expect(await jobOutcome(cb.id, cb.version)).toBe('stale');
    expect(await statusOf(cb.id)).toMatchObject({ status: 'suppressed' });
    expect(await timeline(cb.id)).toEqual(before);
    expect(await outboxEvents(cb.id)).not.toContain('callback.ready');
  });

  it('treats the wake-up of an older version as stale: a rescheduled callback waits for its new time', async () => {
    const cb = await create({ notBefore: inSeconds(2) });
    const moved = await t.request('POST', `/v1/callbacks/${cb.id}/reschedule`, { key: agent, body: { notBefore: inSeconds(3600) } });
    expect(moved.status).toBe(200);
    expect(moved.body.version).toBe(cb.version + 1);
    const before = await timeline(cb.id);

    // The old job still fires at the old time and finds another version.
    expect(await jobOutcome(cb.id, cb.version)).toBe('stale');
    expect(await statusOf(cb.id)).toMatchObject({ status: 'scheduled', version: cb.version + 1 });
    expect(await timeline(cb.id)).toEqual(before);
    expect(await t.runtime.queues.due.getJob(dueJobId(cb.id, cb.version + 1))).toBeTruthy();
  });
});

describe('dispatchDue on a fixed clock', () => {
  const NOW = new Date('2027-01-15T10:00:00Z'); // a Friday: 10:00 in London
  const deps = () => t.runtime.deps;

  it('running the same job twice, even at once, changes the callback only once', async () => {
    t.setNow(NOW);
    const cb = await create({ notBefore: NOW.toISOString() });
    const job = { callbackId: cb.id, version: cb.version };
    const outcomes = await Promise.all([dispatchDue(deps(), job, NOW), dispatchDue(deps(), job, NOW)]);
    expect(outcomes.sort()).toEqual(['ready', 'stale']);
    expect(await dispatchDue(deps(), job, NOW)).toBe('stale');

    expect(await statusOf(cb.id)).toMatchObject({ status: 'ready', version: cb.version + 1 });
    expect((await timeline(cb.id)).filter((e) => e.to_status === 'ready')).toHaveLength(1);
    expect(await outboxEvents(cb.id)).toEqual(['callback.scheduled', 'callback.ready']);
  });

  it('a job for a version that never existed changes nothing', async () => {
    t.setNow(NOW);
    const cb = await create({ notBefore: NOW.toISOString() });
    expect(await dispatchDue(deps(), { callbackId: cb.id, version: cb.version + 5 }, NOW)).toBe('stale');
    expect(await dispatchDue(deps(), { callbackId: '00000000-0000-4000-8000-000000000000', version: 1 }, NOW)).toBe('stale');
    expect(await statusOf(cb.id)).toMatchObject({ status: 'scheduled', version: cb.version });
    expect(await timeline(cb.id)).toHaveLength(1);
    // Leave no scheduled callback behind whose wake-up the later tests would see run.
    expect((await t.request('POST', `/v1/callbacks/${cb.id}/cancel`, { key: agent, body: { reason: 'test done' } })).status).toBe(200);
  });

  it('reschedules a due time outside permitted hours to the next permitted time, with a new version and job', async () => {
    t.setNow(NOW);
    const cb = await create({ phone: '+44 20 7946 0123', notBefore: NOW.toISOString() });
    expect(cb.scheduledFor).toBe(NOW.toISOString());

    // The worker only got to it at 18:00 London time (a backlog, a restart): too late today.
    const late = new Date('2027-01-15T18:00:00Z');
    expect(await dispatchDue(deps(), { callbackId: cb.id, version: cb.version }, late)).toBe('rescheduled');

    const row = await statusOf(cb.id);
    expect(row).toMatchObject({ status: 'scheduled', version: cb.version + 1 });
    expect(row.scheduledFor?.toISOString()).toBe('2027-01-16T09:00:00.000Z');
    const events = await timeline(cb.id);
    expect(events.at(-1)).toMatchObject({
      actor: 'system:dispatcher',
      from_status: 'scheduled',
      to_status: 'scheduled',
      details: { reason: 'not_permitted_now', scheduledFor: '2027-01-16T09:00:00.000Z' },
    });
    expect(await outboxEvents(cb.id)).toEqual(['callback.scheduled']);

    const job = await t.runtime.queues.due.getJob(dueJobId(cb.id, cb.version + 1));
    expect(job?.data).toEqual({ callbackId: cb.id, version: cb.version + 1 });
    expect(job?.opts.delay).toBe(15 * 3600_000); // 18:00 → 09:00 next day
    expect(await job?.isDelayed()).toBe(true);
    // The old job is now stale.
    expect(await dispatchDue(deps(), { callbackId: cb.id, version: cb.version }, late)).toBe('stale');
  });
});

describe('reconcileWakeups (SPEC §6: Redis may lose its data)', () => {
  const NOW = new Date('2027-02-01T12:00:00Z');
  const deps = () => t.runtime.deps;

  it('re-adds a missing wake-up and leaves an existing one alone', async () => {
    t.setNow(NOW);
    const lost = await create({ notBefore: new Date(NOW.getTime() + 30_000).toISOString() });
    const kept = await create({ notBefore: new Date(NOW.getTime() + 30_000).toISOString() });
    const later = await create({ notBefore: new Date(NOW.getTime() + 3600_000).toISOString() });
    const queue = t.runtime.queues.due;
    await queue.remove(dueJobId(lost.id, lost.version));
    await queue.remove(dueJobId(later.id, later.version));
    const keptJob = await queue.getJob(dueJobId(kept.id, kept.version));

    expect(await reconcileWakeups(deps(), NOW)).toBe(1);

    const restored = await queue.getJob(dueJobId(lost.id, lost.version));
    expect(restored?.data).toEqual({ callbackId: lost.id, version: lost.version });
    expect(restored?.opts.delay).toBe(30_000);
    // Due when the callback is, however long after `now` the job reached Redis.
    expect(restored!.timestamp + restored!.opts.delay!).toBe(NOW.getTime() + 30_000);
    expect(await restored?.isDelayed()).toBe(true);
    // The existing job is the same job (not replaced, not doubled).
    const keptAfter = await queue.getJob(dueJobId(kept.id, kept.version));
    expect(keptAfter?.timestamp).toBe(keptJob?.timestamp);
    const ids = (await queue.getDelayed(0, -1)).map((j) => j.id).filter((id) => id?.startsWith(`due-${kept.id}-`));
    expect(ids).toEqual([dueJobId(kept.id, kept.version)]);
    // Beyond the horizon: left for a later tick.
    expect(await queue.getJob(dueJobId(later.id, later.version))).toBeUndefined();

    // A second pass finds nothing to do.
    expect(await reconcileWakeups(deps(), NOW)).toBe(0);
    // A wider horizon picks up the later one.
    expect(await reconcileWakeups(deps(), NOW, { horizonMs: 2 * 3600_000, batchSize: 2 })).toBe(1);
    expect(await queue.getJob(dueJobId(later.id, later.version))).toBeTruthy();
  });

  it('replaces a failed wake-up of a callback that is still scheduled', async () => {
    const at = new Date('2027-02-02T12:00:00Z');
    t.setNow(at);
    const cb = await create({ notBefore: at.toISOString() });
    const jobId = dueJobId(cb.id, cb.version);
    // A worker whose database call fails: the job ends failed and its id would block a re-add.
    const connection = workerConnection(t.config.REDIS_URL);
    const failing = new Worker<DueJob>(
      QUEUE_NAMES.due,
      async (job) => {
        if (job.id === jobId) throw new Error('database unavailable');
        return 'ignored';
      },
      { connection, prefix: bullPrefix(t.config.QUEUE_PREFIX) },
    );
    try {
      await waitFor(async () => (await t.runtime.queues.due.getJobState(jobId)) === 'failed', {
        timeoutMs: 10_000,
        what: 'the wake-up to fail',
      });
    } finally {
      await failing.close();
      connection.disconnect();
    }

    expect(await reconcileWakeups(deps(), new Date(at.getTime() + 10_000))).toBe(1);
    expect(await t.runtime.queues.due.getJobState(jobId)).toBe('waiting');
    expect(await dispatchDue(deps(), { callbackId: cb.id, version: cb.version }, at)).toBe('ready');
  });
});
