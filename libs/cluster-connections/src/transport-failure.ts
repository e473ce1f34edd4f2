import type { ConnectionFailureKind } from '@knm/contracts';

/** Node's TLS verification codes (OpenSSL's) that are not prefixed ERR_TLS / ERR_SSL. */
const TLS_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_REVOKED',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'CERT_SIGNATURE_FAILURE',
  'HOSTNAME_MISMATCH',
  'EPROTO',
]);

/** What the answer of a request that got no HTTP answer says to an administrator. */
export interface TransportFailure {
  kind: Extract<ConnectionFailureKind, 'unreachable' | 'tls'>;
  message: string;
}

/**
 * Classifies a request's error (a Node system or TLS error, or a timeout) as
 * `unreachable` or `tls`, with a message naming the server and the cause. Node's
 * messages for these carry the address and the OpenSSL reason, never request headers,
 * so no credential can appear in them.
 */
export function classifyTransportError(err: unknown, server: string): TransportFailure {
  const code = errorCode(err);
  const reason = err instanceof Error ? err.message : String(err);
  if (
    code !== undefined &&
    (TLS_CODES.has(code) || code.startsWith('ERR_TLS') || code.startsWith('ERR_SSL'))
  ) {
    return { kind: 'tls', message: `TLS with ${server} failed: ${reason} (${code})` };
  }
  switch (code) {
    case 'ECONNREFUSED':
      return { kind: 'unreachable', message: `${server} refused the connection (nothing listens there)` };
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return { kind: 'unreachable', message: `the host of ${server} cannot be resolved (DNS: ${code})` };
    case 'ETIMEDOUT':
    case 'ABORT_ERR':
    case 'ERR_PROBE_TIMEOUT':
      return { kind: 'unreachable', message: `${server} did not answer in time` };
    default:
      return {
        kind: 'unreachable',
        message: `${server} cannot be reached: ${reason}${code ? ` (${code})` : ''}`,
      };
  }
}

function errorCode(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string') return code;
  const cause = (err as { cause?: unknown }).cause;
  return cause === undefined ? undefined : errorCode(cause);
}
