import type { Queues } from '../queues/queues.js';
import { wakeupJobOptions } from '../queues/queues.js';
import type { CallbackRow } from './transitions.js';

/**
 * Enqueues the delayed wake-up for a scheduled callback at its permitted time. The job id carries
 * the version, so a repeat is a no-op and a job made for an older version is recognised as stale.
 */
export async function enqueueWakeup(queues: Queues, row: CallbackRow, now: Date): Promise<void> {
  if (row.status !== 'scheduled' || !row.scheduledFor) return;
  await queues.due.add('due', { callbackId: row.id, version: row.version }, wakeupJobOptions({ ...row, scheduledFor: row.scheduledFor }, now));
}
