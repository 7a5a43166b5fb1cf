import { lookup as dnsLookup } from 'node:dns';
import { isIP, type LookupFunction } from 'node:net';
import ipaddr from 'ipaddr.js';

/**
 * SSRF guard for webhook endpoints: unless WEBHOOK_ALLOW_PRIVATE_URLS is set, webhooks go only to
 * public unicast addresses. Loopback, private, link-local (cloud metadata at 169.254.169.254),
 * unique-local, carrier-grade NAT, unspecified, multicast, reserved and the IPv6 forms that embed
 * an IPv4 address (mapped, NAT64, 6to4, Teredo) are all refused; ipaddr.js names the range.
 */

/** Registration gives DNS this long; a name that does not resolve in time is checked at delivery. */
const REGISTRATION_LOOKUP_TIMEOUT_MS = 3000;

/** A delivery refused because of where it would connect. Its message is the recorded reason. */
export class BlockedAddressError extends Error {
  override readonly name = 'BlockedAddressError';
  readonly code = 'EADDRBLOCKED';
}

/** The ipaddr.js range of an address that is not public unicast ('loopback', 'private', ...), or null. */
function nonPublicRange(ip: string): string | null {
  try {
    // process() turns an IPv4-mapped IPv6 address (::ffff:127.0.0.1) into the IPv4 address it is.
    const range = ipaddr.process(ip).range();
    return range === 'unicast' ? null : range;
  } catch {
    return 'unparsable';
  }
}

/** The URL's host as an IP address when it is a literal one (IPv6 without its brackets), else null. */
function literalAddress(hostname: string): string | null {
  const bare = hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname;
  return isIP(bare) ? bare : null;
}

function literalProblem(ip: string): string | null {
  const range = nonPublicRange(ip);
  return range ? `${ip} is not a public address (${range})` : null;
}

function resolvedProblem(host: string, addresses: readonly string[]): string | null {
  for (const ip of addresses) {
    const range = nonPublicRange(ip);
    if (range) return `${host} resolves to ${ip}, not a public address (${range})`;
  }
  return null;
}

/**
 * Registration check of an endpoint URL: why it is refused, or null. A literal address is judged
 * as it is; a name by every address it resolves to now. A name that does not resolve (yet) is
 * accepted: the delivery-time check decides, since DNS can change after registration anyway.
 */
export async function forbiddenWebhookUrl(url: string): Promise<string | null> {
  const { hostname } = new URL(url);
  const literal = literalAddress(hostname);
  if (literal) return literalProblem(literal);
  const addresses = await new Promise<string[]>((resolve) => {
    const timer = setTimeout(() => resolve([]), REGISTRATION_LOOKUP_TIMEOUT_MS);
    dnsLookup(hostname, { all: true }, (err, found) => {
      clearTimeout(timer);
      resolve(err ? [] : found.map((a) => a.address));
    });
  });
  return resolvedProblem(hostname, addresses);
}

/**
 * Delivery-time check of a literal address, which Node connects to without a lookup. (A name is
 * checked by `guardedLookup` instead.) Throws BlockedAddressError.
 */
export function assertLiteralAllowed(url: URL): void {
  const literal = literalAddress(url.hostname);
  const reason = literal ? literalProblem(literal) : null;
  if (reason) throw new BlockedAddressError(reason);
}

/**
 * A `lookup` for sockets that connect to webhook endpoints: it resolves the name and refuses it if
 * any address is not public, so the socket only ever connects to an address checked here. This is
 * what defeats DNS rebinding: there is no second resolution between the check and the connection.
 */
export const guardedLookup: LookupFunction = (hostname, options, callback) => {
  dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
    if (err) return callback(err, '');
    const reason = resolvedProblem(hostname, addresses.map((a) => a.address));
    if (reason) return callback(new BlockedAddressError(reason), '');
    if (options.all) return callback(null, addresses);
    const [first] = addresses;
    if (!first) return callback(Object.assign(new Error(`${hostname} has no address`), { code: 'ENOTFOUND' }), '');
    return callback(null, first.address, first.family);
  });
};
