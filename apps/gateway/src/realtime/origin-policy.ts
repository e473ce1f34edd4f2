import type { IncomingMessage } from 'node:http';

/**
 * Decides whether a Socket.IO handshake's `Origin` may connect. Allowed are: no
 * `Origin` at all (not a browser), an origin listed in `KNM_CORS_ORIGINS`, and the
 * page's own origin: an `Origin` whose host equals the request's `Host` (or the
 * balancer's `X-Forwarded-Host`), which is how a browser opens the socket of the
 * dashboard the gateway itself serves. That is safe against cross-site WebSocket
 * hijacking because a page cannot choose the `Host` or `X-Forwarded-Host` headers its
 * browser sends with a WebSocket handshake; only the `Origin` can differ.
 */
export function originAllowed(req: Pick<IncomingMessage, 'headers'>, allowed: ReadonlySet<string>): boolean {
  const origin = req.headers.origin;
  if (origin === undefined) return true;
  if (allowed.has(origin)) return true;
  let originHost: string;
  try {
    originHost = new URL(origin).host.toLowerCase();
  } catch {
    return false;
  }
  const hosts = [req.headers.host, ...String(req.headers['x-forwarded-host'] ?? '').split(',')]
    .map((h) => h?.trim().toLowerCase())
    .filter((h): h is string => Boolean(h));
  return hosts.includes(originHost);
}
