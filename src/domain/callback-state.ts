/** The callback state machine of SPEC §5: which status may follow which. */

export const CALLBACK_STATUSES = [
  'awaiting_consent',
  'scheduled',
  'ready',
  'claimed',
  'in_call',
  'completed',
  'cancelled',
  'declined',
  'suppressed',
  'unreachable',
  'exempted',
  'expired',
] as const;

export type CallbackStatus = (typeof CALLBACK_STATUSES)[number];

export const ACTIVE_STATUSES = [
  'awaiting_consent',
  'scheduled',
  'ready',
  'claimed',
  'in_call',
] as const satisfies readonly CallbackStatus[];

export type ActiveStatus = (typeof ACTIVE_STATUSES)[number];

export function isActive(status: CallbackStatus): status is ActiveStatus {
  return (ACTIVE_STATUSES as readonly CallbackStatus[]).includes(status);
}

const TRANSITIONS: Record<CallbackStatus, readonly CallbackStatus[]> = {
  // An approved exemption (SPEC §5.1) ends a callback from any active state.
  awaiting_consent: ['scheduled', 'declined', 'expired', 'cancelled', 'suppressed', 'exempted'],
  scheduled: ['scheduled', 'ready', 'cancelled', 'suppressed', 'exempted'],
  ready: ['claimed', 'scheduled', 'cancelled', 'suppressed', 'exempted'],
  claimed: ['ready', 'in_call', 'scheduled', 'cancelled', 'suppressed', 'exempted'],
  // An abusive call leaves the callback in_call until ops decide on the exemption.
  in_call: ['completed', 'scheduled', 'unreachable', 'exempted', 'suppressed', 'cancelled'],
  completed: [],
  cancelled: [],
  declined: [],
  suppressed: [],
  unreachable: [],
  exempted: [],
  expired: [],
};

export function canTransition(from: CallbackStatus, to: CallbackStatus): boolean {
  return TRANSITIONS[from].includes(to);
}

/** Statuses from which a transition to `to` is allowed: used to build conditional UPDATEs. */
export function statusesLeadingTo(to: CallbackStatus): CallbackStatus[] {
  return CALLBACK_STATUSES.filter((from) => canTransition(from, to));
}
