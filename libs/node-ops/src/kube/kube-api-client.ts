import http, { type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import https from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';
import {
  allowPlainHttp,
  ApiUnreachableError,
  KubeConfigError,
  readBody,
  toApiError,
} from '@knm/kube-reflector';
import type { Impersonation } from './impersonation.js';

/** Options of {@link KubeApiClient}. */
export interface KubeApiClientOptions {
  /** Whole-request timeout. Default 30,000 ms. */
  requestTimeoutMs?: number;
  /** `User-Agent` header. Default `knm-node-ops`. */
  userAgent?: string;
  /** Calls made inside its `run` act as that person (the cluster impersonates operators). Default none. */
  impersonation?: Impersonation;
}

/** The content types of the three PATCH flavours the API server accepts for JSON. */
export const PATCH_CONTENT_TYPES = {
  merge: 'application/merge-patch+json',
  strategic: 'application/strategic-merge-patch+json',
  json: 'application/json-patch+json',
} as const;
export type PatchKind = keyof typeof PATCH_CONTENT_TYPES;

/**
 * Writes and reads against the API server of a client-node `KubeConfig`'s current
 * context, with its credentials and TLS applied to every request
 * (`applyToHTTPSOptions`: tokens, client certificates, exec plugins). Answers are
 * parsed JSON; failures are typed like kube-reflector's GETs: {@link ApiError} for
 * any non-2xx (with the Status `reason` and `Retry-After`), {@link ApiUnreachableError}
 * when no answer came, {@link KubeConfigError} when credentials cannot be applied.
 * It never logs (credentials stay in the request options).
 */
export class KubeApiClient {
  private readonly kubeConfig: KubeConfig;
  private readonly requestTimeoutMs: number;
  private readonly userAgent: string;
  private readonly impersonation: Impersonation | undefined;

  constructor(kubeConfig: KubeConfig, options: KubeApiClientOptions = {}) {
    if (!kubeConfig.getCurrentCluster()) {
      throw new KubeConfigError(
        `the kubeconfig has no cluster for its current context "${kubeConfig.getCurrentContext()}"`,
      );
    }
    this.kubeConfig = allowPlainHttp(kubeConfig);
    this.requestTimeoutMs = options.requestTimeoutMs ?? 30_000;
    this.userAgent = options.userAgent ?? 'knm-node-ops';
    this.impersonation = options.impersonation;
  }

  /** The API server URL of the current context. */
  get server(): string {
    return this.kubeConfig.getCurrentCluster()?.server ?? '';
  }

  /** GET `path` -> parsed JSON. */
  get(path: string, signal?: AbortSignal): Promise<unknown> {
    return this.request('GET', path, undefined, undefined, signal);
  }

  /** PATCH `path` with `body` as a merge, strategic-merge or JSON patch. */
  patch(path: string, body: unknown, kind: PatchKind, signal?: AbortSignal): Promise<unknown> {
    return this.request('PATCH', path, body, PATCH_CONTENT_TYPES[kind], signal);
  }

  /** POST `path` with a JSON body. */
  post(path: string, body: unknown, signal?: AbortSignal): Promise<unknown> {
    return this.request('POST', path, body, 'application/json', signal);
  }

  /** One request; resolves with the parsed body (or `null` when it is empty). */
  async request(
    method: string,
    path: string,
    body: unknown,
    contentType: string | undefined,
    signal?: AbortSignal,
  ): Promise<unknown> {
    const url = new URL(this.server.replace(/\/+$/, '') + path);
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body), 'utf8');
    const headers: OutgoingHttpHeaders = {
      Accept: 'application/json',
      'User-Agent': this.userAgent,
      ...this.impersonation?.headers(),
    };
    if (payload) {
      headers['Content-Type'] = contentType ?? 'application/json';
      headers['Content-Length'] = String(payload.length);
    }
    const options: https.RequestOptions = { method, headers };
    try {
      await this.kubeConfig.applyToHTTPSOptions(options);
    } catch (err) {
      throw new KubeConfigError(
        `cannot apply the kubeconfig's credentials for ${url.origin}: ${(err as Error).message}`,
        { cause: err },
      );
    }
    const timeout = AbortSignal.timeout(this.requestTimeoutMs);
    const combined = signal ? AbortSignal.any([signal, timeout]) : timeout;
    const what = `${method} ${url.pathname}`;
    const transport = url.protocol === 'http:' ? http : https;
    let res: IncomingMessage;
    let text: string;
    try {
      res = await new Promise<IncomingMessage>((resolve, reject) => {
        const req = transport.request(url, { ...options, signal: combined }, resolve);
        req.on('error', reject);
        req.end(payload);
      });
      text = await readBody(res);
    } catch (err) {
      if (signal?.aborted) throw signal.reason;
      throw new ApiUnreachableError(`${what}: ${timeout.aborted ? 'timed out' : (err as Error).message}`, {
        cause: err,
      });
    }
    const status = res.statusCode ?? 0;
    if (status < 200 || status >= 300) throw toApiError(status, text, res.headers['retry-after'], what);
    if (text.trim() === '') return null;
    try {
      return JSON.parse(text) as unknown;
    } catch (err) {
      throw new ApiUnreachableError(`${what}: the body is not JSON`, { cause: err });
    }
  }
}
