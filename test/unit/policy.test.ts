import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_CATEGORY,
  effectivePolicy,
  ineligibility,
  retryDelayMinutes,
  type EligibilityInput,
  type Policy,
} from '../../src/domain/policy.js';

const DEFAULTS: Policy = {
  category: DEFAULT_CATEGORY,
  enabled: false,
  maxRounds: 2,
  requiredSkill: 'second_explanation',
  customerTiers: null,
  consent: 'none',
  deadlineHours: 48,
  maxAttempts: 3,
  retryDelaysMinutes: [30, 120, 1440],
};

const policy = (overrides: Partial<Policy> = {}): Policy => ({ ...DEFAULTS, category: 'billing', enabled: true, ...overrides });
const eligible: EligibilityInput = { round: 2, tier: null, optedOut: false, exempted: false };

describe('effectivePolicy', () => {
  it('takes the default fields for a category without its own row, and keeps it disabled', () => {
    expect(effectivePolicy('billing', DEFAULTS, null)).toEqual({ ...DEFAULTS, category: 'billing', enabled: false });
  });

  it('lets the category override fields and leaves the others to the default', () => {
    const own = { enabled: true, overrides: { maxAttempts: 5, requiredSkill: 'billing_expert' } };
    expect(effectivePolicy('billing', DEFAULTS, own)).toEqual({
      ...DEFAULTS,
      category: 'billing',
      enabled: true,
      maxAttempts: 5,
      requiredSkill: 'billing_expert',
    });
  });

  it('treats an undefined override as not set, but a null customerTiers as "all tiers"', () => {
    const withTiers = { ...DEFAULTS, customerTiers: ['gold'] };
    const unset = effectivePolicy('vip', withTiers, { enabled: true, overrides: { customerTiers: undefined, maxRounds: undefined } });
    expect(unset).toMatchObject({ customerTiers: ['gold'], maxRounds: 2 });
    const all = effectivePolicy('vip', withTiers, { enabled: true, overrides: { customerTiers: null } });
    expect(all.customerTiers).toBeNull();
  });

  it('never enables the default policy itself', () => {
    expect(effectivePolicy(DEFAULT_CATEGORY, DEFAULTS, { enabled: true, overrides: {} }).enabled).toBe(false);
  });
});

describe('ineligibility', () => {
  it('allows an enabled category, any tier, round within maxRounds', () => {
    expect(ineligibility(policy(), eligible)).toBeNull();
    expect(ineligibility(policy(), { ...eligible, tier: 'bronze' })).toBeNull();
  });

  it('refuses a disabled category with not_eligible', () => {
    expect(ineligibility(policy({ enabled: false }), eligible)?.code).toBe('not_eligible');
  });

  it('refuses a tier outside customerTiers, and a missing tier when tiers are listed', () => {
    const p = policy({ customerTiers: ['gold', 'platinum'] });
    expect(ineligibility(p, { ...eligible, tier: 'gold' })).toBeNull();
    expect(ineligibility(p, { ...eligible, tier: 'silver' })).toMatchObject({ code: 'not_eligible', detail: expect.stringContaining('silver') });
    expect(ineligibility(p, eligible)).toMatchObject({ code: 'not_eligible', detail: expect.stringContaining('(none)') });
  });

  it('refuses an opted-out number with opted_out', () => {
    expect(ineligibility(policy(), { ...eligible, optedOut: true })?.code).toBe('opted_out');
  });

  it('refuses rounds above maxRounds, not at it', () => {
    expect(ineligibility(policy({ maxRounds: 3 }), { ...eligible, round: 3 })).toBeNull();
    expect(ineligibility(policy({ maxRounds: 3 }), { ...eligible, round: 4 })?.code).toBe('round_limit_reached');
  });

  it('answers exempted before round_limit_reached: the exemption holds whatever round is asked for', () => {
    expect(ineligibility(policy(), { ...eligible, round: 9, exempted: true })?.code).toBe('exempted');
  });

  it('gives the first reason in the order: not enabled, tier, opted out, exempted, round', () => {
    const everything = { round: 9, tier: 'silver', optedOut: true, exempted: true };
    expect(ineligibility(policy({ enabled: false, customerTiers: ['gold'] }), everything)?.code).toBe('not_eligible');
    expect(ineligibility(policy({ customerTiers: ['gold'] }), everything)?.detail).toContain('tier');
    expect(ineligibility(policy(), everything)?.code).toBe('opted_out');
    expect(ineligibility(policy(), { ...everything, optedOut: false })?.code).toBe('exempted');
  });
});

describe('retryDelayMinutes', () => {
  it('takes the delay of the attempt just made, 1-based', () => {
    const p = policy();
    expect([1, 2, 3].map((n) => retryDelayMinutes(p, n))).toEqual([30, 120, 1440]);
  });

  it('repeats the last delay when there are more attempts than delays', () => {
    expect(retryDelayMinutes(policy({ retryDelaysMinutes: [15, 60] }), 5)).toBe(60);
  });

  it('is 0 with no delays configured or for a nonsensical attempt number', () => {
    expect(retryDelayMinutes(policy({ retryDelaysMinutes: [] }), 1)).toBe(0);
    expect(retryDelayMinutes(policy(), 0)).toBe(0);
  });

  it('always answers the delay of that attempt, or the last one past the list (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 10_080 }), { minLength: 1, maxLength: 20 }),
        fc.integer({ min: 1, max: 100 }),
        (delays, n) => {
          const d = retryDelayMinutes(policy({ retryDelaysMinutes: delays }), n);
          expect(d).toBe(delays[Math.min(n, delays.length) - 1]);
        },
      ),
    );
  });
});
