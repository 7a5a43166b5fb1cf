import type { Executor } from '../db/client.js';
import type { Interval } from '../domain/intervals.js';
import type { Phone } from '../domain/phone.js';
import { customerPhone } from './customer-phone.js';
import { loadPolicy } from './policies.js';
import { callingRulesFor, checkRequestedTimes, findSlot } from './scheduling.js';

export interface PreviewInput {
  phone: string;
  region?: string | undefined;
  timezone?: string | undefined;
  category: string;
  notBefore?: Date | undefined;
  deadline?: Date | undefined;
  preferredWindows?: Interval[] | undefined;
}

export interface Preview {
  phone: Phone;
  timezones: string[];
  earliest: Date | null;
  intervals: Interval[];
  deadline: Date;
  withinDeadline: boolean;
}

/**
 * When could this number be called back, without scheduling anything: the category's deadline (or
 * the one asked for), the earliest permitted time and the next ten permitted intervals.
 */
export async function previewSchedule(db: Executor, input: PreviewInput, defaultRegion: string, now: Date): Promise<Preview> {
  const { phone, zones } = customerPhone(input, defaultRegion);
  checkRequestedTimes(input, now);
  const calling = { phone, zones, notBefore: input.notBefore ?? now, preferredWindows: input.preferredWindows ?? null };
  const [policy, rules] = await Promise.all([loadPolicy(db, input.category), callingRulesFor(db, calling, now)]);
  const deadline = input.deadline ?? new Date(now.getTime() + policy.deadlineHours * 3600_000);
  const { earliest, intervals, withinDeadline } = findSlot(rules, now, deadline, { intervals: 10 });
  return { phone, timezones: zones, earliest, intervals, deadline, withinDeadline };
}
