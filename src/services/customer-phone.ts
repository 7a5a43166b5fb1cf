import { AppError, invalidField } from '../http/errors.js';
import { parsePhone, resolveZones, type Phone } from '../domain/phone.js';

/** Normalizes a request's phone and finds the zones it is called in, or a 422 naming the field. */
export function customerPhone(
  input: { phone: string; region?: string | undefined; timezone?: string | undefined },
  defaultRegion: string,
): { phone: Phone; zones: string[] } {
  const parsed = parsePhone(input.phone, input.region ?? defaultRegion);
  if (!parsed.ok) {
    const message =
      parsed.reason === 'not_callable' ? 'this kind of number cannot receive a callback' : 'not a valid phone number';
    throw invalidField('phone', message);
  }
  const { zones } = resolveZones(parsed.phone, input.timezone ?? null);
  if (zones.length === 0) {
    const message = "the customer's time zone cannot be told from this number; give timezone";
    throw new AppError('validation_failed', message, { errors: [{ path: 'timezone', message }] });
  }
  return { phone: parsed.phone, zones };
}
