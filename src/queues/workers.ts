import { Worker, type Processor } from 'bullmq';
import type { AppDeps } from '../http/context.js';
import { dispatchDue } from '../services/dispatch.js';
import { runMaintenance } from '../services/maintenance.js';
import { relayOutbox } from '../notify/outbox-relay.js';
import { deliverWebhook } from '../notify/webhooks.js';
import { deliverSms } from '../notify/sms.js';
import { observeJobDuration } from '../ops/metrics.js';
import { QUEUE_NAMES, bullPrefix, workerConnection, type DueJob, type SmsJob, type WebhookJob } from './queues.js';

export interface Workers {
  close(): Promise<void>;
}

/**
 * Periodic work runs as BullMQ job schedulers. Redis may lose them (FLUSHALL, a restart without
 * persistence), so every worker process re-upserts them on a timer: the call is idempotent.
 */
async function ensureSchedulers(deps: AppDeps): Promise<void> {
  const { queues, config } = deps;
  await Promise.all([
    queues.outbox.upsertJobScheduler('relay', { every: config.OUTBOX_INTERVAL_MS }, { name: 'relay' }),
    queues.maintenance.upsertJobScheduler('maintenance', { every: config.MAINTENANCE_INTERVAL_MS }, { name: 'maintenance' }),
  ]);
}

export function startWorkers(deps: AppDeps): Workers {
  const { config, logger } = deps;
  const connection = workerConnection(config.REDIS_URL);
  connection.on('error', (err) => logger.warn({ err: err.message }, 'worker redis connection error'));
  const common = {
    connection,
    prefix: bullPrefix(config.QUEUE_PREFIX),
    lockDuration: config.JOB_LOCK_MS,
    stalledInterval: config.STALLED_INTERVAL_MS,
  };

  const define = <T>(name: string, processor: Processor<T>, concurrency: number) => {
    const worker = new Worker<T>(name, processor, {
      ...common,
      concurrency,
      // Kept for inspection in /ops/queues; older ones are removed.
      removeOnComplete: { count: 1000 },
      removeOnFail: { count: 5000 },
    });
    const observe = (job: { processedOn?: number | undefined; finishedOn?: number | undefined } | undefined) => {
      if (job?.processedOn && job.finishedOn) observeJobDuration(deps, name, (job.finishedOn - job.processedOn) / 1000);
    };
    worker.on('error', (err) => logger.error({ err, queue: name }, 'worker error'));
    worker.on('completed', observe);
    worker.on('failed', (job, err) => {
      observe(job);
      logger.warn({ queue: name, jobId: job?.id, err: err.message }, 'job failed');
    });
    return worker;
  };

  const workers = [
    define<DueJob>(QUEUE_NAMES.due, (job) => dispatchDue(deps, job.data, deps.now()), config.WORKER_CONCURRENCY),
    define(QUEUE_NAMES.outbox, () => relayOutbox(deps), 1),
    define<WebhookJob>(QUEUE_NAMES.webhooks, (job) => deliverWebhook(deps, job.data, job.attemptsMade), 20),
    define(QUEUE_NAMES.maintenance, () => runMaintenance(deps, deps.now()), 1),
    define<SmsJob>(QUEUE_NAMES.sms, (job) => deliverSms(deps, job.data, job.attemptsMade), 10),
  ];

  const keepSchedulers = () =>
    ensureSchedulers(deps).catch((err: unknown) => logger.warn({ err }, 'could not upsert job schedulers'));
  void keepSchedulers();
  const timer = setInterval(keepSchedulers, Math.max(5000, config.MAINTENANCE_INTERVAL_MS));

  return {
    close: async () => {
      clearInterval(timer);
      // Worker.close() waits for active jobs to finish before it resolves.
      await Promise.all(workers.map((w) => w.close()));
      connection.disconnect();
    },
  };
}
