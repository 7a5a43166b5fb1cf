import { z } from 'zod';

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

const url = (protocols: string[]) =>
  z.string().refine((v) => {
    try {
      return protocols.includes(new URL(v).protocol);
    } catch {
      return false;
    }
  }, `must be a URL (${protocols.join(' or ')})`);

const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: z.string().min(1).default('0.0.0.0'),
  DATABASE_URL: url(['postgres:', 'postgresql:']).default('postgres://postgres@127.0.0.1:5432/secondcall'),
  DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(200).default(10),
  REDIS_URL: url(['redis:', 'rediss:']).default('redis://127.0.0.1:6379'),
  QUEUE_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{1,40}$/, 'letters, digits, _ . - only (it becomes a Redis hash tag)')
    .default('secondcall'),
  DEFAULT_REGION: z
    .string()
    .regex(/^[A-Z]{2}$/, 'must be an ISO 3166-1 alpha-2 code such as US')
    .default('US'),
  SECRET_KEY: z.string().min(32, 'must be at least 32 characters').optional(),
  PUBLIC_BASE_URL: url(['http:', 'https:']).default('http://localhost:3000'),
  BRAND_NAME: z.string().min(1).max(40).default('secondcall'),
  SMS_PROVIDER: z.enum(['log', 'twilio']).default('log'),
  SMS_ALLOW_LINKS: bool.default(false),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  BODY_LIMIT_BYTES: z.coerce.number().int().min(1024).max(10 * 1024 * 1024).default(64 * 1024),
  SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().min(0).default(10_000),
  /** Due-callback jobs processed at once by one worker process. */
  WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(1000).default(50),
  /** How long a worker holds a job before BullMQ may consider it stalled (and hand it to another worker). */
  JOB_LOCK_MS: z.coerce.number().int().min(1000).default(30_000),
  STALLED_INTERVAL_MS: z.coerce.number().int().min(1000).default(30_000),
  /** Maintenance tick: restores lost wake-ups, expires leases, raises SLA events. */
  MAINTENANCE_INTERVAL_MS: z.coerce.number().int().min(200).default(10_000),
  OUTBOX_INTERVAL_MS: z.coerce.number().int().min(100).default(1000),
  CLAIM_LEASE_SECONDS: z.coerce.number().int().min(10).max(24 * 3600).default(600),
});

export type Config = z.output<typeof envSchema> & { SECRET_KEY: string };

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

/** Parses the environment once. A bad value names the variable and the reason. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`));
  }
  const config = parsed.data;
  if (config.SECRET_KEY === undefined) {
    // A development default keeps `npm start` one command; production must set its own.
    if (config.NODE_ENV === 'production') throw new ConfigError(['SECRET_KEY: required in production']);
    return { ...config, SECRET_KEY: 'development-only-secret-key-change-me!' };
  }
  return { ...config, SECRET_KEY: config.SECRET_KEY };
}
