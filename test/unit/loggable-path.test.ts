import { describe, expect, it } from 'vitest';
import { loggablePath } from '../../src/http/middleware.js';

describe('request log paths', () => {
  it.each([
    ['/v/AbC_secret-token', '/v/:token'],
    ['/o/AbC_secret-token', '/o/:token'],
    ['/v1/public/offers/AbC_secret-token', '/v1/public/offers/:token'],
    ['/v1/callbacks/123', '/v1/callbacks/123'],
    ['/verify', '/verify'],
  ])('%s is logged as %s', (path, logged) => {
    expect(loggablePath(path)).toBe(logged);
  });
});
