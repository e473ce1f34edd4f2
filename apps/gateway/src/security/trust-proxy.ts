import { BlockList, isIP } from 'node:net';

/** Named address ranges accepted in `KNM_TRUST_PROXY` (as in Express and Fastify). */
const NAMED_RANGES: Readonly<Record<string, readonly string[]>> = {
  loopback: ['127.0.0.0/8', '::1/128'],
  linklocal: ['169.254.0.0/16', 'fe80::/10'],
  uniquelocal: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fc00::/7'],
};

/** A `KNM_TRUST_PROXY` value that cannot be used, with what to fix. */
export class TrustProxyError extends Error {
  override readonly name = 'TrustProxyError';
}

/**
 * Which peers may tell the gateway the client's address through `X-Forwarded-For`.
 * Built from `KNM_TRUST_PROXY`:
 * - `none` (or `false`): trust nobody; the client is the TCP peer;
 * - a hop count `N`: trust the N nearest proxies, whatever their address;
 * - a comma list of addresses, CIDR ranges and the names `loopback`, `linklocal`,
 *   `uniquelocal`: trust a peer (and each further hop) while its address is in the list.
 *
 * The client address is the first untrusted address walking from the TCP peer back
 * through `X-Forwarded-For` (proxy-addr's rule, so Fastify's `request.ip` and the
 * Socket.IO handshake agree). A forged `X-Forwarded-For` sent straight by an untrusted
 * client is therefore ignored.
 */
export class TrustProxy {
  private readonly hops: number | undefined;
  private readonly list: BlockList | undefined;

  private constructor(
    /** The spec as given (for logs). */
    readonly spec: string,
    hops: number | undefined,
    list: BlockList | undefined,
  ) {
    this.hops = hops;
    this.list = list;
  }

  /** Parses a `KNM_TRUST_PROXY` value; throws {@link TrustProxyError} saying what is wrong. */
  static parse(spec: string): TrustProxy {
    const text = spec.trim();
    if (text === 'none' || text === 'false' || text === '') return new TrustProxy('none', 0, undefined);
    if (/^\d+$/.test(text)) return new TrustProxy(text, Number(text), undefined);
    const list = new BlockList();
    for (const raw of text.split(',')) {
      const item = raw.trim();
      const named = NAMED_RANGES[item];
      for (const range of named ?? [item]) addRange(list, range, item);
    }
    return new TrustProxy(text, undefined, list);
  }

  /**
   * Whether the proxy at `address`, `hop` hops from the gateway (0 = the TCP peer), is
   * trusted. `address` is undefined when the socket closed before the request was read
   * (a malformed request): such a peer is never trusted.
   */
  trusts(address: string | undefined, hop: number): boolean {
    if (typeof address !== 'string') return false;
    if (this.hops !== undefined) return hop < this.hops;
    const ip = unmapIpv4(address);
    const family = isIP(ip);
    if (!this.list || family === 0) return false;
    return this.list.check(ip, family === 4 ? 'ipv4' : 'ipv6');
  }

  /** The client's address from the TCP peer's and the `X-Forwarded-For` header. */
  clientAddress(peer: string | undefined, forwardedFor: string | readonly string[] | undefined): string {
    const header = Array.isArray(forwardedFor) ? forwardedFor.join(',') : (forwardedFor ?? '');
    const chain = [
      peer ?? 'unknown',
      ...String(header)
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)
        .reverse(),
    ];
    let i = 0;
    while (i < chain.length - 1 && this.trusts(chain[i] as string, i)) i++;
    return unmapIpv4(chain[i] as string);
  }
}

function addRange(list: BlockList, range: string, item: string): void {
  const [address = '', bits] = range.split('/');
  const family = isIP(address);
  if (family === 0) {
    throw new TrustProxyError(
      `KNM_TRUST_PROXY: "${item}" is not an address, a CIDR range, a hop count or one of none, ${Object.keys(NAMED_RANGES).join(', ')}`,
    );
  }
  const type = family === 4 ? 'ipv4' : 'ipv6';
  if (bits === undefined) {
    list.addAddress(address, type);
    return;
  }
  const prefix = Number(bits);
  if (!/^\d+$/.test(bits) || prefix > (family === 4 ? 32 : 128)) {
    throw new TrustProxyError(`KNM_TRUST_PROXY: "${item}" has a bad prefix length`);
  }
  list.addSubnet(address, prefix, type);
}

/** `::ffff:10.0.0.1` -> `10.0.0.1` (a dual-stack socket's view of an IPv4 peer). */
function unmapIpv4(address: string): string {
  return address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
}
