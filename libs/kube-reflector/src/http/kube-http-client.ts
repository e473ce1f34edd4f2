import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import { StringDecoder } from 'node:string_decoder';
import type { KubeConfig } from '@kubernetes/client-node';
import { ApiError } from '../errors/api-error.js';
import { ApiUnreachableError } from '../errors/api-unreachable-error.js';
import { KubeConfigError } from '../errors/kube-config-error.js';
import { allowPlainHttp, readBody, toApiError } from './http-support.js';

/** Options of {@link KubeHttpClient}. */
export interface KubeHttpClientOptions {
  /** Whole-request timeout of a non-streaming GET (a list page). Default 60,000 ms. */
  requestTimeoutMs?: number;
  /** How long to wait for a watch's response headers. Default 30,000 ms. */
  watchConnectTimeoutMs?: number;
}

/**
 * GETs against the API server of a client-node `KubeConfig`'s current context, with
 * its authentication and TLS applied on every request (`applyToHTTPSOptions`:
 * bearer tokens, client certificates, exec and auth-provider plugins that refresh
 * their credentials, in-cluster service accounts, proxies). It exists because
 * client-node's own `Watch` parses and keeps whole objects and its `ListWatch` stops
 * on errors; here the caller gets raw JSON pages and raw watch lines, and maps errors
 * to typed classes: {@link ApiError} (any non-2xx), {@link ResourceExpiredError}
 * (410), {@link ApiUnreachableError} (no answer, or a body cut short). An abort of the
 * caller's signal rejects with the signal's reason, never with one of those.
 *
 * Never logs: credentials stay inside the request options.
 */
export class KubeHttpClient {
  private readonly requestTimeoutMs: number;
  private readonly watchConnectTimeoutMs: number;

  private readonly kubeConfig: KubeConfig;

  constructor(kubeConfig: KubeConfig, options: KubeHttpClientOptions = {}) {
    this.requestTimeoutMs = options.requestTimeoutMs ?? 60_000;
    this.watchConnectTimeoutMs = options.watchConnectTimeoutMs ?? 30_000;
    if (!kubeConfig.getCurrentCluster()) {
      throw new KubeConfigError(
        `the kubeconfig has no cluster for its current context "${kubeConfig.getCurrentContext()}"`,
      );
    }
    this.kubeConfig = allowPlainHttp(kubeConfig);
  }

  /** The API server URL of the current context. */
  get server(): string {
    return this.kubeConfig.getCurrentCluster()?.server ?? '';
  }

  /** GETs `pathAndQuery` (e.g. `/api/v1/nodes?limit=500`) and returns the parsed JSON body. */
  async getJson(pathAndQuery: string, signal: AbortSignal): Promise<unknown> {
    return parseBody(await this.getText(pathAndQuery, signal), pathAndQuery);
  }

  /** GETs `pathAndQuery` and returns the body as text (for a caller that decodes it its own way). */
  async getText(pathAndQuery: string, signal: AbortSignal): Promise<string> {
    const timeout = AbortSignal.timeout(this.requestTimeoutMs);
    const combined = AbortSignal.any([signal, timeout]);
    const res = await this.open(pathAndQuery, combined, signal);
    try {
      return await readBody(res);
    } catch (err) {
      throw this.failure(err, signal, `reading ${pathOnly(pathAndQuery)}`);
    }
  }

  /**
   * GETs a streaming `pathAndQuery` (a watch) and resolves once the headers say 200;
   * the iterable then yields the non-empty lines of the body, in order, as batches
   * (the complete lines of each chunk received), and ends when the server closes the
   * stream. Aborting `signal` ends the iteration with the signal's reason.
   */
  async streamLines(pathAndQuery: string, signal: AbortSignal): Promise<AsyncIterable<string[]>> {
    const connectTimeout = new AbortController();
    const timer = setTimeout(
      () =>
        connectTimeout.abort(new ApiUnreachableError(`no answer within ${this.watchConnectTimeoutMs} ms`)),
      this.watchConnectTimeoutMs,
    );
    timer.unref();
    let res: IncomingMessage;
    try {
      res = await this.open(pathAndQuery, AbortSignal.any([signal, connectTimeout.signal]), signal);
    } finally {
      clearTimeout(timer);
    }
    return this.lines(res, pathAndQuery, signal);
  }

  private async *lines(
    res: IncomingMessage,
    pathAndQuery: string,
    signal: AbortSignal,
  ): AsyncGenerator<string[]> {
    const decoder = new StringDecoder('utf8');
    let pending = '';
    try {
      for await (const chunk of res as AsyncIterable<Buffer>) {
        pending += decoder.write(chunk);
        const last = pending.lastIndexOf('\n');
        if (last < 0) continue;
        const complete = pending.slice(0, last);
        pending = pending.slice(last + 1);
        const batch: string[] = [];
        for (const line of complete.split('\n')) {
          const trimmed = line.trim();
          if (trimmed) batch.push(trimmed);
        }
        if (batch.length > 0) yield batch;
      }
    } catch (err) {
      throw this.failure(err, signal, `watch ${pathOnly(pathAndQuery)} broke`);
    } finally {
      res.destroy();
    }
    const rest = (pending + decoder.end()).trim();
    if (rest) yield [rest];
  }

  private async open(
    pathAndQuery: string,
    signal: AbortSignal,
    callerSignal: AbortSignal,
  ): Promise<IncomingMessage> {
    const url = new URL(this.server.replace(/\/+$/, '') + pathAndQuery);
    const options: https.RequestOptions = {
      method: 'GET',
      headers: { Accept: 'application/json', 'User-Agent': 'knm-watcher' },
    };
    try {
      await this.kubeConfig.applyToHTTPSOptions(options);
    } catch (err) {
      throw new KubeConfigError(
        `cannot apply the kubeconfig's credentials for ${url.origin}: ${(err as Error).message}` +
          (url.protocol === 'http:' ? ' (a plain-http server needs insecure-skip-tls-verify: true)' : ''),
        { cause: err },
      );
    }
    const transport = url.protocol === 'http:' ? http : https;
    const res = await new Promise<IncomingMessage>((resolve, reject) => {
      const req = transport.request(url, { ...options, signal }, resolve);
      req.on('error', reject); // kept: a late error after the response must not go unhandled
      req.end();
    }).catch((err: unknown) => {
      throw this.failure(err, callerSignal, `GET ${pathOnly(pathAndQuery)}`, signal);
    });
    const status = res.statusCode ?? 0;
    if (status >= 200 && status < 300) return res;
    const body = await readBody(res).catch(() => '');
    throw toApiError(status, body, res.headers['retry-after'], `GET ${pathOnly(pathAndQuery)}`);
  }

  private failure(
    err: unknown,
    callerSignal: AbortSignal,
    what: string,
    requestSignal?: AbortSignal,
  ): unknown {
    if (callerSignal.aborted) return callerSignal.reason;
    if (err instanceof ApiError || err instanceof ApiUnreachableError || err instanceof KubeConfigError)
      return err;
    if (requestSignal?.aborted) {
      const reason: unknown = requestSignal.reason;
      if (reason instanceof ApiUnreachableError) return reason;
      return new ApiUnreachableError(`${what}: timed out`, { cause: reason });
    }
    return new ApiUnreachableError(`${what}: ${(err as Error).message ?? String(err)}`, { cause: err });
  }
}

/** `JSON.parse` of a body; text that is not JSON means the server did not really answer. */
export function parseBody(text: string, pathAndQuery: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new ApiUnreachableError(`GET ${pathOnly(pathAndQuery)}: the body is not JSON`, { cause: err });
  }
}

function pathOnly(pathAndQuery: string): string {
  const q = pathAndQuery.indexOf('?');
  return q < 0 ? pathAndQuery : pathAndQuery.slice(0, q);
}
