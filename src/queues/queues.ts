import { Queue, type ConnectionOptions } from 'bullmq';
import { Redis, type RedisOptions } from 'ioredis';

export const QUEUE_NAMES = {
  due: 'callbacks-due',
} as const;

export interface DueJob {
  callbackId: string;
  version: number;
}

/** Deterministic, so re-adding the wake-up for the same version is a no-op; BullMQ ids must not contain ':'. */
export const dueJobId = (callbackId: string, version: number) => `due-${callbackId}-v${version}`;

/** `{prefix}` is a Redis Cluster hash tag: all of a deployment's queue keys land in one slot. */
export const bullPrefix = (queuePrefix: string) => `{${queuePrefix}}`;

/** Producers on the HTTP path fail fast: a Redis outage must become a 503, not a hung request. */
export function producerConnection(url: string, options: RedisOptions = {}): Redis {
  return new Redis(url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 2000,
    lazyConnect: false,
    ...options,
  });
}

/** Workers block on Redis and must retry forever (BullMQ requires maxRetriesPerRequest: null). */
export function workerConnection(url: string): Redis {
  return new Redis(url, { maxRetriesPerRequest: null });
}

export interface Queues {
  due: Queue<DueJob>;
  close(): Promise<void>;
}

export function createQueues(connection: ConnectionOptions, queuePrefix: string): Queues {
  const prefix = bullPrefix(queuePrefix);
  const due = new Queue<DueJob>(QUEUE_NAMES.due, {
    connection,
    prefix,
    defaultJobOptions: { removeOnComplete: { count: 1000 }, removeOnFail: { count: 5000 } },
  });
  return {
    due,
    close: async () => {
      await due.close();
    },
  };
}
