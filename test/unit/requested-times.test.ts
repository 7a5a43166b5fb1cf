import { describe, expect, it } from 'vitest';
import { MAX_DEADLINE_HOURS } from '../../src/domain/policy.js';
import { checkRequestedTimes } from '../../src/services/scheduling.js';

const NOW = new Date('2027-01-15T12:00:00Z');
const ahead = (ms: number) => new Date(NOW.getTime() + ms);
const LIMIT_MS = MAX_DEADLINE_HOURS * 3600_000;

/** The field a refusal names, or null when the times are accepted. */
function refusedField(input: Parameters<typeof checkRequestedTimes>[0]): string | null {
  try {
    checkRequestedTimes(input, NOW);
    return null;
  } catch (err) {
    return (err as { extra: { errors: { path: string }[] } }).extra.errors[0]!.path;
  }
}

describe('checkRequestedTimes', () => {
  it('accepts no times, and times up to the policy limit ahead', () => {
    expect(refusedField({})).toBeNull();
    expect(refusedField({ notBefore: ahead(LIMIT_MS), deadline: ahead(LIMIT_MS) })).toBeNull();
    // notBefore may be in the past: scheduling starts from now.
    expect(refusedField({ notBefore: ahead(-3600_000) })).toBeNull();
  });

  it('refuses a deadline now or past, and either time beyond the limit', () => {
    expect(refusedField({ deadline: NOW })).toBe('deadline');
    expect(refusedField({ deadline: ahead(LIMIT_MS + 1) })).toBe('deadline');
    expect(refusedField({ notBefore: ahead(LIMIT_MS + 1), deadline: ahead(3600_000) })).toBe('notBefore');
  });
});
