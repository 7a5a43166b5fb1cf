/**
 * Rate limits of the public endpoints and pages (SPEC §7): per client IP per minute on every one,
 * and per phone number per hour where a number is given. Counters live in Redis so every API
 * instance shares them. Each endpoint has its own buckets (`scope`), so checking a code does not
 * use up the budget of asking for the call status.
 */
import { isIP } from 'node:net';
import type { Context } from 'hono';
import { createMiddleware } from 'hono/factory';
import { getConnInfo } from '@hono/node-server/conninfo';
import { isSupportedCountry, parsePhoneNumberFromString } from 'libphonenumber-js/max';
import { RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import type { AppDeps, AppEnv } from './context.js';
import { AppError } from './errors.js';

export interface RateLimitOptions {
  /** Bucket name, one per endpoint or page, e.g. 'verify'. */
  scope: string;
  /**
   * JSON routes: the body field holding the customer's number (`region` in the same body applies).
   * The middleware then counts the number as well; both counters are sent together (one round trip).
   */
  phoneField?: string;
  /**
   * When Redis cannot be reached: read-only endpoints may go on unlimited (true); endpoints that
   * change state or send an SMS refuse with 503 (false, the default), because an unlimited code
   * check or SMS sender is worse than a short outage.
   */
  failOpen?: boolean;
}

interface Limiters {
  ip: RateLimiterRedis;
  phone: RateLimiterRedis;
}

/** One pair of limiters per set of dependencies: they are cheap but define a Lua command on the client. */
const limitersByDeps = new WeakMap<AppDeps, Limiters>();

function limitersOf(deps: AppDeps): Limiters {
  let limiters = limitersByDeps.get(deps);
  if (!limiters) {
    const common = { storeClient: deps.redis };
    limiters = {
      ip: new RateLimiterRedis({
        ...common,
        keyPrefix: `${deps.config.QUEUE_PREFIX}:rl:ip`,
        points: deps.config.RATE_LIMIT_IP_PER_MINUTE,
        duration: 60,
      }),
      phone: new RateLimiterRedis({
        ...common,
        keyPrefix: `${deps.config.QUEUE_PREFIX}:rl:phone`,
        points: deps.config.RATE_LIMIT_PHONE_PER_HOUR,
        duration: 3600,
      }),
    };
    limitersByDeps.set(deps, limiters);
  }
  return limiters;
}

/**
 * IPv6 clients usually hold a whole /64, so a limit per address would be a limit per nothing:
 * IPv6 addresses are counted per /64. IPv4-mapped IPv6 addresses count as their IPv4 address.
 */
export function ipBucket(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return mapped[1]!;
  if (isIP(address) !== 6) return address;
  const [head = '', tail = ''] = address.split('::');
  const headGroups = head ? head.split(':') : [];
  const tailGroups = address.includes('::') && tail ? tail.split(':') : [];
  const missing = 8 - headGroups.length - tailGroups.length;
  const groups = address.includes('::') ? [...headGroups, ...Array<string>(missing).fill('0'), ...tailGroups] : headGroups;
  return `${groups
    .slice(0, 4)
    .map((g) => g.toLowerCase().replace(/^0+(?=.)/, ''))
    .join(':')}::/64`;
}

/**
 * The client's address. X-Forwarded-For is believed only with TRUST_PROXY, and then only its last
 * entry, the one our own proxy appended (earlier entries are whatever the client chose to send).
 * Requests without a socket (`app.request()` in tests) share the key 'unknown'.
 */
export function clientIp(c: Context<AppEnv>): string {
  if (c.var.deps.config.TRUST_PROXY) {
    const forwarded = c.req.header('x-forwarded-for');
    const last = forwarded
      ?.split(',')
      .map((s) => s.trim())
      .filter(Boolean)
      .pop();
    if (last && isIP(last)) return ipBucket(last);
  }
  try {
    const address = getConnInfo(c).remote.address;
    return address ? ipBucket(address) : 'unknown';
  } catch {
    return 'unknown';
  }
}

/** How long a request waits for a Redis connection that is being (re)established before giving up. */
const CONNECTING_GRACE_MS = 1000;

/**
 * The producer connection refuses commands while it connects (no offline queue, so an outage
 * fails fast); while a connection attempt is under way, a request waits briefly for it instead.
 */
async function connected(deps: AppDeps): Promise<void> {
  const { redis } = deps;
  if (redis.status !== 'connecting' && redis.status !== 'connect') return;
  await new Promise<void>((resolve) => {
    const done = () => {
      clearTimeout(timer);
      redis.off('ready', done);
      resolve();
    };
    const timer = setTimeout(done, CONNECTING_GRACE_MS);
    redis.once('ready', done);
  });
}

async function consume(limiter: RateLimiterRedis, key: string, failOpen: boolean, deps: AppDeps): Promise<void> {
  try {
    await connected(deps);
    await limiter.consume(key);
  } catch (err) {
    if (err instanceof RateLimiterRes) {
      throw new AppError('rate_limited', 'too many requests; retry later', { retryAfterSeconds: Math.ceil(err.msBeforeNext / 1000) });
    }
    if (failOpen) {
      deps.logger.warn({ err }, 'rate limiter unavailable; allowing a read-only public request');
      return;
    }
    throw new AppError('service_unavailable', 'the rate limiter is unavailable; retry later');
  }
}

/**
 * The key a phone number is counted under: its E.164 form when it parses (so reformatting it buys
 * no fresh budget), else its digits. Parsing only, without the validity and number-type checks of
 * `parsePhone`: this runs on every public request, before validation, and the key needs no more.
 */
export function phoneBucket(phone: string, region: string): string {
  const parsed = parsePhoneNumberFromString(phone.normalize('NFKC'), {
    defaultCountry: isSupportedCountry(region) ? region : undefined,
    extract: false,
  });
  return parsed?.number ?? (phone.replace(/\D/g, '') || phone);
}

/** The number named in a JSON body, if the body parses and has one; validation reports the rest. */
async function phoneInBody(c: Context<AppEnv>, field: string): Promise<string | null> {
  try {
    // Hono caches the parsed body, so the route's validator reads it again for free.
    const body: unknown = await c.req.json();
    if (typeof body !== 'object' || body === null) return null;
    const { [field]: phone, region } = body as Record<string, unknown>;
    if (typeof phone !== 'string' || phone.length === 0 || phone.length > 64) return null;
    return phoneBucket(phone, typeof region === 'string' && /^[A-Z]{2}$/.test(region) ? region : c.var.deps.config.DEFAULT_REGION);
  } catch {
    return null;
  }
}

/**
 * Middleware: counts the request against the client IP's budget for this scope and, with
 * `phoneField`, against the number's, or answers 429. It runs before validation, so malformed
 * requests are counted too.
 */
export const rateLimit = (options: RateLimitOptions) =>
  createMiddleware<AppEnv>(async (c, next) => {
    const deps = c.var.deps;
    const limiters = limitersOf(deps);
    const failOpen = options.failOpen ?? false;
    const phone = options.phoneField ? await phoneInBody(c, options.phoneField) : null;
    // Issued together, the two counters share one round trip to Redis.
    await Promise.all([
      consume(limiters.ip, `${options.scope}:${clientIp(c)}`, failOpen, deps),
      phone === null ? undefined : consume(limiters.phone, `${options.scope}:${phone}`, failOpen, deps),
    ]);
    await next();
  });

/**
 * Counts a request against a phone number's budget for this scope, or throws 429: for routes that
 * read the number themselves (the form pages). Any format is accepted; it is normalized here.
 */
export async function limitPhone(deps: AppDeps, options: RateLimitOptions, phone: string): Promise<void> {
  await consume(limitersOf(deps).phone, `${options.scope}:${phoneBucket(phone, deps.config.DEFAULT_REGION)}`, options.failOpen ?? false, deps);
}
