import { Worker } from 'bullmq';
import type { AppDeps } from '../http/context.js';
import { dispatchDue } from '../services/dispatch.js';
import { QUEUE_NAMES, bullPrefix, workerConnection, type DueJob } from './queues.js';

export interface Workers {
  close(): Promise<void>;
}

export function startWorkers(deps: AppDeps, options: { concurrency?: number } = {}): Workers {
  const { config, logger } = deps;
  const connection = workerConnection(config.REDIS_URL);
  const due = new Worker<DueJob>(
    QUEUE_NAMES.due,
    async (job) => dispatchDue(deps, job.data, deps.now()),
    { connection, prefix: bullPrefix(config.QUEUE_PREFIX), concurrency: options.concurrency ?? 50 },
  );
  due.on('error', (err) => logger.error({ err }, 'due worker error'));
  due.on('failed', (job, err) => logger.warn({ jobId: job?.id, err: err.message }, 'due job failed'));
  return {
    close: async () => {
      // Worker.close() waits for active jobs to finish before it resolves.
      await due.close();
      connection.disconnect();
    },
  };
}
