import { Queue, type ConnectionOptions, type JobsOptions } from 'bullmq';
import { Redis, type RedisOptions } from 'ioredis';

export const QUEUE_NAMES = {
  /** Delayed wake-ups, one per scheduled callback version. */
  due: 'callbacks-due',
  /** Ticks of the outbox relay. */
  outbox: 'outbox-relay',
  /** One job per (outbox event, webhook endpoint). */
  webhooks: 'webhook-deliveries',
  /** Ticks of periodic maintenance: lost wake-ups, leases, SLA. */
  maintenance: 'maintenance',
  /** One job per outbound SMS (the sms_messages row is written first). */
  sms: 'sms-outbound',
} as const;

export interface DueJob {
  callbackId: string;
  version: number;
}

export interface WebhookJob {
  deliveryId: number;
}

export interface SmsJob {
  messageId: string;
}

/** Deterministic, so re-adding the wake-up for the same version is a no-op; BullMQ ids must not contain ':'. */
export const dueJobId = (callbackId: string, version: number) => `due-${callbackId}-v${version}`;

/**
 * The job options of a wake-up due at `scheduledFor`. BullMQ counts a delay from the job's
 * timestamp, which defaults to the moment of the add: the timestamp is set to the instant the delay
 * was computed from, so a wake-up added late (deep in an addBulk of thousands, or by a reconciler
 * tick that took a while) is still due on time instead of late by the time spent before its add.
 */
export const wakeupJobOptions = (wakeup: { id: string; version: number; scheduledFor: Date }, now: Date): JobsOptions => ({
  jobId: dueJobId(wakeup.id, wakeup.version),
  timestamp: now.getTime(),
  delay: Math.max(0, wakeup.scheduledFor.getTime() - now.getTime()),
});

/** `{prefix}` is a Redis Cluster hash tag: all of a deployment's queue keys land in one slot. */
export const bullPrefix = (queuePrefix: string) => `{${queuePrefix}}`;

/** Producers on the HTTP path fail fast: a Redis outage must become a 503, not a hung request. */
export function producerConnection(url: string, options: RedisOptions = {}): Redis {
  return new Redis(url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 2000,
    ...options,
  });
}

/** Workers block on Redis and must retry forever (BullMQ requires maxRetriesPerRequest: null). */
export function workerConnection(url: string): Redis {
  return new Redis(url, { maxRetriesPerRequest: null });
}

export interface Queues {
  due: Queue<DueJob>;
  outbox: Queue;
  webhooks: Queue<WebhookJob>;
  maintenance: Queue;
  sms: Queue<SmsJob>;
  all(): Queue[];
  close(): Promise<void>;
}

export function createQueues(connection: ConnectionOptions, queuePrefix: string): Queues {
  const prefix = bullPrefix(queuePrefix);
  // Retention (removeOnComplete/removeOnFail) is set on the workers, not per job: it would be stored
  // in every job's options, and a scheduled callback's wake-up should cost as little Redis as possible.
  const make = <T>(name: string) => new Queue<T>(name, { connection, prefix });
  const due = make<DueJob>(QUEUE_NAMES.due);
  const outbox = make<unknown>(QUEUE_NAMES.outbox);
  const webhooks = make<WebhookJob>(QUEUE_NAMES.webhooks);
  const maintenance = make<unknown>(QUEUE_NAMES.maintenance);
  const sms = make<SmsJob>(QUEUE_NAMES.sms);
  const all = () => [due, outbox, webhooks, maintenance, sms] as Queue[];
  return {
    due,
    outbox,
    webhooks,
    maintenance,
    sms,
    all,
    close: async () => {
      await Promise.all(all().map((q) => q.close()));
    },
  };
}
