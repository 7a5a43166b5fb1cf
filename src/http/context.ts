import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { Database } from '../db/client.js';
import type { Queues } from '../queues/queues.js';
import type { Principal } from '../services/api-keys.js';

/** Everything a request handler may use, handed in by the entry point (or a test). */
export interface AppDeps {
  config: Config;
  db: Database;
  redis: Redis;
  queues: Queues;
  logger: Logger;
  now: () => Date;
}

export interface AppEnv {
  Variables: {
    deps: AppDeps;
    requestId: string;
    logger: Logger;
    principal: Principal;
  };
}
