import type { Logger } from 'pino';
import type { Config } from './config.js';
import { connectDatabase, type DatabaseHandle } from './db/client.js';
import { runMigrations } from './db/migrate.js';
import type { AppDeps } from './http/context.js';
import { createQueues, producerConnection, type Queues } from './queues/queues.js';
import type { Redis } from 'ioredis';

export interface Runtime {
  deps: AppDeps;
  database: DatabaseHandle;
  redis: Redis;
  queues: Queues;
  close(): Promise<void>;
}

/** Connects everything the API needs, after applying migrations. Shared by main, CLI and tests. */
export async function startRuntime(config: Config, logger: Logger, options: { migrate?: boolean } = {}): Promise<Runtime> {
  if (options.migrate !== false) await runMigrations(config.DATABASE_URL);
  const database = connectDatabase(config.DATABASE_URL, { max: config.DATABASE_POOL_SIZE });
  const redis = producerConnection(config.REDIS_URL);
  redis.on('error', (err) => logger.warn({ err: err.message }, 'redis connection error'));
  // Producers fail fast when Redis is away; wait briefly for the first connection so a fresh
  // process does not answer 503 to its first requests. If Redis stays down, /readyz says so.
  await Promise.race([
    new Promise((resolve) => redis.once('ready', resolve)),
    new Promise((resolve) => setTimeout(resolve, 5000).unref()),
  ]);
  const queues = createQueues(redis, config.QUEUE_PREFIX);
  for (const queue of queues.all()) {
    queue.on('error', (err) => logger.warn({ err: err.message, queue: queue.name }, 'queue redis error'));
  }
  const deps: AppDeps = { config, db: database.db, redis, queues, logger, now: () => new Date() };
  return {
    deps,
    database,
    redis,
    queues,
    close: async () => {
      await queues.close();
      redis.disconnect();
      await database.close();
    },
  };
}
