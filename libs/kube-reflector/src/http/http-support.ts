import type { IncomingMessage } from 'node:http';
import { KubeConfig } from '@kubernetes/client-node';
import { ApiError } from '../errors/api-error.js';
import { ResourceExpiredError } from '../errors/resource-expired-error.js';

/*
 * What every HTTP client of the Kubernetes API in this workspace shares (the
 * reflector's GETs, node-ops' PATCH/POST): the kubeconfig adjustment for plain-HTTP
 * servers, reading a body, and turning a failed answer into a typed error.
 */

/**
 * client-node refuses a plain `http://` server unless the cluster entry says
 * `insecure-skip-tls-verify` (kubectl does not). There is no TLS to verify on plain
 * HTTP, so for such a server we use a copy of the config with that flag set; the
 * caller's object is left alone. Everything else (users, exec plugins) is shared.
 */
export function allowPlainHttp(kc: KubeConfig): KubeConfig {
  const current = kc.getCurrentCluster();
  if (!current || !current.server.startsWith('http:') || current.skipTLSVerify) return kc;
  const copy = new KubeConfig();
  copy.loadFromOptions({
    clusters: kc.clusters.map((c) => (c.name === current.name ? { ...c, skipTLSVerify: true } : c)),
    users: kc.users,
    contexts: kc.contexts,
    currentContext: kc.currentContext,
  });
  return copy;
}

/** Reads a whole response body as UTF-8; rejects when the response errors or is aborted. */
export function readBody(res: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on('data', (c: Buffer) => chunks.push(c));
    res.once('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    res.once('error', reject);
    res.once('aborted', () => reject(new Error('response aborted')));
  });
}

/**
 * Maps a non-2xx answer (and its `Status` body, when there is one) to a typed error:
 * {@link ResourceExpiredError} for 410, else {@link ApiError} with the Status reason and
 * the retry delay (`Retry-After` in seconds or as a date, else `details.retryAfterSeconds`).
 * `what` names the request in the message, e.g. `GET /api/v1/nodes`.
 */
export function toApiError(
  status: number,
  body: string,
  retryAfterHeader: string | string[] | undefined,
  what: string,
): ApiError {
  let message = `${what}: HTTP ${status}`;
  let reason: string | undefined;
  let retryAfter = parseRetryAfter(Array.isArray(retryAfterHeader) ? retryAfterHeader[0] : retryAfterHeader);
  try {
    const parsed = JSON.parse(body) as {
      kind?: string;
      message?: string;
      reason?: string;
      details?: { retryAfterSeconds?: number };
    };
    if (parsed && parsed.kind === 'Status') {
      if (parsed.message) message = `${message}: ${parsed.message}`;
      reason = parsed.reason;
      retryAfter ??= parsed.details?.retryAfterSeconds;
    }
  } catch {
    // Not a Status: keep the generic message.
  }
  if (status === 410) return new ResourceExpiredError(message);
  return new ApiError(status, message, reason, retryAfter);
}

function parseRetryAfter(value: string | undefined): number | undefined {
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, (date - Date.now()) / 1000);
}
