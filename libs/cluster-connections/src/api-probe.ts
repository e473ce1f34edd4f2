import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';
import { allowPlainHttp, readBody } from '@knm/kube-reflector';

/** An HTTP answer of the API server, its body parsed when it is JSON. */
export interface ProbeAnswer {
  status: number;
  body: unknown;
}

/** A probe that got no answer within its time. */
export class ProbeTimeoutError extends Error {
  override name = 'ProbeTimeoutError';
  readonly code = 'ERR_PROBE_TIMEOUT';
}

/**
 * One-off requests to the API server of a kubeconfig's current context, with its TLS
 * settings and credentials applied (`applyToHTTPSOptions`: token, client certificate,
 * allowed exec plugin): what a connection test needs (a GET, a POST of a review). Any
 * HTTP status is an answer; only a request that got none throws (the Node error, for
 * {@link classifyTransportError}). Never logs, and the credentials stay in the options.
 */
export class ApiProbe {
  private readonly kubeConfig: KubeConfig;

  constructor(
    kubeConfig: KubeConfig,
    private readonly timeoutMs: number,
  ) {
    this.kubeConfig = allowPlainHttp(kubeConfig);
  }

  get server(): string {
    return this.kubeConfig.getCurrentCluster()?.server ?? '';
  }

  async request(method: 'GET' | 'POST', path: string, body?: object): Promise<ProbeAnswer> {
    const url = new URL(this.server.replace(/\/+$/, '') + path);
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const options: https.RequestOptions = {
      method,
      headers: {
        Accept: 'application/json',
        'User-Agent': 'knm-connection-test',
        ...(payload !== undefined ? { 'Content-Type': 'application/json' } : {}),
      },
    };
    await this.kubeConfig.applyToHTTPSOptions(options);
    const signal = AbortSignal.timeout(this.timeoutMs);
    const transport = url.protocol === 'http:' ? http : https;
    try {
      const res = await new Promise<IncomingMessage>((resolve, reject) => {
        const req = transport.request(url, { ...options, signal }, resolve);
        req.on('error', reject);
        req.end(payload);
      });
      const text = await readBody(res);
      return { status: res.statusCode ?? 0, body: parseJson(text) };
    } catch (err) {
      if (signal.aborted)
        throw new ProbeTimeoutError(`no answer within ${this.timeoutMs} ms`, { cause: err });
      throw err;
    }
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
