/** Second-explanation policies (SPEC §4) and the eligibility rules built on them. Pure. */

export interface Policy {
  category: string;
  enabled: boolean;
  maxRounds: number;
  requiredSkill: string;
  customerTiers: string[] | null;
  consent: 'none' | 'required';
  deadlineHours: number;
  maxAttempts: number;
  retryDelaysMinutes: number[];
}

export type PolicyOverrides = Partial<Omit<Policy, 'category' | 'enabled'>>;

export const DEFAULT_CATEGORY = 'default';

/** The furthest a deadline may lie ahead: a policy's `deadlineHours`, or one given at creation. */
export const MAX_DEADLINE_HOURS = 60 * 24;

/** A category's effective policy: its own fields where set, the default policy's otherwise. */
export function effectivePolicy(
  category: string,
  defaults: Policy,
  own: { enabled: boolean; overrides: PolicyOverrides } | null,
): Policy {
  const overrides = Object.fromEntries(Object.entries(own?.overrides ?? {}).filter(([, v]) => v !== undefined));
  // The default policy only supplies fields; a category without its own row is never enabled.
  return { ...defaults, ...overrides, category, enabled: category !== DEFAULT_CATEGORY && (own?.enabled ?? false) };
}

export type IneligibleCode = 'not_eligible' | 'opted_out' | 'round_limit_reached' | 'exempted';

export interface EligibilityInput {
  round: number;
  tier: string | null;
  optedOut: boolean;
  exempted: boolean;
}

/** Why a callback may not be created, or null if it may. */
export function ineligibility(policy: Policy, input: EligibilityInput): { code: IneligibleCode; detail: string } | null {
  if (!policy.enabled) {
    return { code: 'not_eligible', detail: `second explanations are not enabled for category ${policy.category}` };
  }
  if (policy.customerTiers && !(input.tier !== null && policy.customerTiers.includes(input.tier))) {
    return {
      code: 'not_eligible',
      detail: `customer tier ${input.tier ?? '(none)'} is not among ${policy.customerTiers.join(', ')}`,
    };
  }
  if (input.optedOut) return { code: 'opted_out', detail: 'the customer has opted out of callbacks' };
  // An exemption is the more specific answer: it holds whatever round is asked for.
  if (input.exempted) return { code: 'exempted', detail: 'the customer is exempted from further rounds for this case' };
  if (input.round > policy.maxRounds) {
    return { code: 'round_limit_reached', detail: `round ${input.round} exceeds the policy's maxRounds ${policy.maxRounds}` };
  }
  return null;
}

/** The wait after an unanswered attempt n (1-based): the last delay repeats if the list is short. */
export function retryDelayMinutes(policy: Policy, attemptNumber: number): number {
  const delays = policy.retryDelaysMinutes;
  return delays[Math.min(attemptNumber, delays.length) - 1] ?? 0;
}
