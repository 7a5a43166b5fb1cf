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
  /** First webhook retry delay; it doubles per attempt (12 attempts span about 11 hours at 10 s). */
  WEBHOOK_BACKOFF_MS: z.coerce.number().int().min(10).default(10_000),
  /**
   * Let webhook endpoints be loopback, private, link-local (cloud metadata) and other non-public
   * addresses. Off, such URLs are refused at registration and every delivery checks the address
   * it connects to (DNS rebinding). Only for tests and closed networks.
   */
  WEBHOOK_ALLOW_PRIVATE_URLS: bool.default(false),
  CLAIM_LEASE_SECONDS: z.coerce.number().int().min(10).max(24 * 3600).default(600),
  /** A call without a recorded result after this long counts as failed (and is retried or ends). */
  IN_CALL_TIMEOUT_MINUTES: z.coerce.number().int().min(5).max(24 * 60).default(120),
  /** Twilio (SMS_PROVIDER=twilio): API base is overridable so tests can point it at a local fake. */
  TWILIO_ACCOUNT_SID: z.string().regex(/^AC[0-9a-fA-F]{32}$/, 'must look like AC followed by 32 hex digits').optional(),
  TWILIO_AUTH_TOKEN: z.string().min(16).optional(),
  TWILIO_FROM: z.string().min(2).optional(),
  TWILIO_API_BASE: url(['http:', 'https:']).default('https://api.twilio.com'),
  /** Public endpoints: requests per client IP per minute, and per phone number per hour. */
  RATE_LIMIT_IP_PER_MINUTE: z.coerce.number().int().min(1).default(30),
  RATE_LIMIT_PHONE_PER_HOUR: z.coerce.number().int().min(1).default(10),
  /** Trust X-Forwarded-For for the client IP (only behind a proxy that sets it). */
  TRUST_PROXY: bool.default(false),
  /** Serve /metrics on the main port (protected by an ops key) or on its own private port. */
  METRICS_PORT: z.coerce.number().int().min(0).max(65535).optional(),
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
  if (config.SMS_PROVIDER === 'twilio') {
    const missing = (['TWILIO_ACCOUNT_SID', 'TWILIO_AUTH_TOKEN', 'TWILIO_FROM'] as const).filter((k) => !config[k]);
    if (missing.length > 0) throw new ConfigError(missing.map((k) => `${k}: required when SMS_PROVIDER=twilio`));
  }
  if (config.SECRET_KEY === undefined) {
    // A development default keeps `npm start` one command; production must set its own.
    if (config.NODE_ENV === 'production') throw new ConfigError(['SECRET_KEY: required in production']);
    return { ...config, SECRET_KEY: 'development-only-secret-key-change-me!' };
  }
  return { ...config, SECRET_KEY: config.SECRET_KEY };
}
