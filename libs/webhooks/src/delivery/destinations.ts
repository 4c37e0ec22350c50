import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';

/** A webhook URL the policy refuses, or an address it resolved to. */
export class DestinationRefused extends Error {
  readonly code = 'EDESTINATION';
  constructor(message: string) {
    super(message);
    this.name = 'DestinationRefused';
  }
}

export interface DestinationSettings {
  /** WEBHOOK_ALLOW_PRIVATE: any address, and http in production. */
  allowPrivate: boolean;
  /** Production without WEBHOOK_ALLOW_PRIVATE: https only. */
  requireHttps: boolean;
}

/** A webhook's creation waits no longer than this for its host to resolve. */
const RESOLVE_TIMEOUT_MS = 5_000;

type LookupCallback = (
  error: NodeJS.ErrnoException | null,
  address: string | LookupAddress[],
  family?: number,
) => void;

/**
 * Where webhooks may post: not to the service's own network. A receiver's
 * URL is checked when the webhook is created, and every address its host
 * resolves to is checked again on each connection (`lookup`), since DNS can
 * change between the two; the connection then goes to the address that
 * passed, so a second resolution cannot swap it (DNS rebinding).
 *
 * Only addresses ipaddr.js classes as public `unicast` pass: loopback,
 * private (RFC 1918, unique local), link-local (169.254.0.0/16 holds the
 * clouds' metadata service), carrier-grade NAT (100.64.0.0/10, Alibaba's
 * metadata), multicast, reserved and the IPv6 transition ranges that can
 * embed any IPv4 address (NAT64, 6to4, Teredo) are refused. An IPv4-mapped
 * IPv6 address is judged as the IPv4 address it maps.
 */
export class DestinationPolicy {
  constructor(private readonly settings: DestinationSettings) {}

  /** Why `url` cannot be a webhook's, or undefined. Resolves its host unless private ones are allowed. */
  async problemWith(url: string): Promise<string | undefined> {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      return 'must be an absolute http(s) URL';
    }
    if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
      return 'must be an http(s) URL';
    }
    if (parsed.protocol === 'http:' && this.settings.requireHttps) {
      return 'must be an https URL in production';
    }
    // The list of webhooks shows URLs: credentials do not belong in them (receivers check signatures).
    if (parsed.username || parsed.password) return 'must not contain a user name or password';
    if (parsed.hash) return 'must not contain a fragment';
    try {
      await withTimeout(this.resolve(parsed.hostname), RESOLVE_TIMEOUT_MS);
    } catch (error) {
      return error instanceof DestinationRefused
        ? error.message
        : `has a host that does not resolve (${(error as NodeJS.ErrnoException).code ?? 'error'})`;
    }
    return undefined;
  }

  /** Every address of `hostname` (a name or an IP literal, IPv6 in brackets or not), each checked. */
  async resolve(hostname: string): Promise<LookupAddress[]> {
    const host = hostname.replace(/^\[(.*)\]$/, '$1');
    const family = isIP(host);
    const addresses: LookupAddress[] = family
      ? [{ address: host, family }]
      : await new Promise((resolve, reject) =>
          dnsLookup(host, { all: true, verbatim: true }, (error, found) =>
            error ? reject(error) : resolve(found),
          ),
        );
    if (!this.settings.allowPrivate) {
      for (const { address } of addresses) this.check(address, hostname);
    }
    return addresses;
  }

  /**
   * A `lookup` for http(s).request: resolves like dns.lookup, refusing the
   * connection when any address of the host is not public.
   */
  readonly lookup = (
    hostname: string,
    options: { all?: boolean; family?: number | string },
    callback: LookupCallback,
  ): void => {
    this.resolve(hostname).then(
      (addresses) => {
        const wanted = addresses.filter(
          (entry) => !options.family || String(entry.family) === String(options.family).slice(-1),
        );
        if (wanted.length === 0) {
          callback(
            Object.assign(new Error(`${hostname} has no address`), { code: 'ENOTFOUND' }),
            [],
          );
        } else if (options.all) callback(null, wanted);
        else callback(null, wanted[0].address, wanted[0].family);
      },
      (error: NodeJS.ErrnoException) => callback(error, []),
    );
  };

  private check(address: string, hostname: string): void {
    const parsed = ipaddr.process(address);
    const range = parsed.range();
    if (range !== 'unicast') {
      throw new DestinationRefused(
        `resolves to a ${describeRange(range)} address (${hostname} → ${address}); set WEBHOOK_ALLOW_PRIVATE=true to allow it`,
      );
    }
  }
}

function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(Object.assign(new Error(`no answer within ${ms} ms`), { code: 'ETIMEOUT' })),
      ms,
    );
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

function describeRange(range: string): string {
  return range.replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase();
}
