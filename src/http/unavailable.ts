/**
 * Errors that mean PostgreSQL or Redis could not be reached: the request failed through no fault
 * of the client and may be retried, so they become 503 rather than 500.
 */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  // A write to a socket that closed under it (a killed backend).
  'ERR_STREAM_DESTROYED',
  'ERR_STREAM_WRITE_AFTER_END',
  'ERR_SOCKET_CLOSED',
  'CONNECT_TIMEOUT',
  'CONNECTION_CLOSED',
  'CONNECTION_ENDED',
  'CONNECTION_DESTROYED',
  '57P01', // admin_shutdown, e.g. pg_terminate_backend
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now
  '57P05', // idle_session_timeout
  '53300', // too_many_connections
]);

/** The errors a driver error is wrapped in (drizzle's DrizzleQueryError keeps the driver's as `cause`). */
export function* causes(err: unknown): Generator<Error> {
  for (let e = err; e instanceof Error; e = e.cause) yield e;
}

export function isUnavailable(err: unknown): boolean {
  return [...causes(err)].some(isUnavailableError);
}

function isUnavailableError(err: Error): boolean {
  const code = (err as { code?: unknown }).code;
  // SQLSTATE class 08: connection exceptions.
  if (typeof code === 'string' && (NETWORK_CODES.has(code) || /^08[0-9A-Z]{3}$/.test(code))) return true;
  // ioredis with enableOfflineQueue: false, or after its retries ran out.
  return (
    err.name === 'MaxRetriesPerRequestError' ||
    /Stream isn't writeable|Connection is closed|enableOfflineQueue/i.test(err.message)
  );
}
