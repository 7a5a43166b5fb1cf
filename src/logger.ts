import { pino, type Logger } from 'pino';

export function createLogger(level: string): Logger {
  return pino({
    level,
    base: { service: 'secondcall' },
    // Defence in depth: nothing we log should carry secrets, but if a header or body slips in, hide it.
    redact: ['authorization', '*.authorization', 'key', '*.key', 'code', '*.code', 'token', '*.token'],
  });
}
