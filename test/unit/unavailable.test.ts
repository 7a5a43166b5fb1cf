import { describe, expect, it } from 'vitest';
import { isUnavailable } from '../../src/http/unavailable.js';

const withCode = (code: string, message = 'x') => Object.assign(new Error(message), { code });

describe('isUnavailable: which failures become 503 rather than 500', () => {
  it.each([
    ['a terminated backend (57P01)', withCode('57P01')],
    ['a connection exception, SQLSTATE class 08', withCode('08006')],
    ['postgres.js losing its socket', withCode('CONNECTION_CLOSED')],
    ['a write to a socket destroyed under it', withCode('ERR_STREAM_DESTROYED')],
    ['a reset connection', withCode('ECONNRESET')],
    ['ioredis refusing while offline', new Error("Stream isn't writeable and enableOfflineQueue options is false")],
    ['a driver error wrapped by drizzle', new Error('Failed query: select 1', { cause: withCode('57P01') })],
  ])('%s', (_name, err) => {
    expect(isUnavailable(err)).toBe(true);
  });

  it.each([
    ['a unique violation', withCode('23505')],
    ['a deadlock', withCode('40P01')],
    ['a bug', new TypeError('Cannot read properties of undefined')],
    ['a class-08 look-alike that is not a SQLSTATE', withCode('08')],
  ])('not %s', (_name, err) => {
    expect(isUnavailable(err)).toBe(false);
  });
});
