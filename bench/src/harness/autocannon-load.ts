import autocannon from 'autocannon';
import { measure, summarize } from './stats.js';
import type { BenchContext, Figure, Measurement } from './types.js';

/** Keep-alive connections of every load (spread round-robin over the gateways). */
export const CONNECTIONS = 20;

/** What one autocannon run measured. */
export type Load = Awaited<ReturnType<typeof autocannon>>;

/**
 * autocannon against every gateway at once: its `url` accepts several targets and
 * spreads the connections over them round-robin (the published types only declare
 * one URL, hence the widened options).
 */
export function load(
  urls: string[],
  path: string,
  headers: Record<string, string>,
  seconds: number,
): Promise<Load> {
  const options = {
    url: urls.map((u) => `${u}${path}`),
    headers,
    connections: CONNECTIONS,
    duration: seconds,
  };
  return autocannon(options as unknown as autocannon.Options);
}

/** How one endpoint of {@link measureEndpoints} is asked: extra headers, and the status every answer must have. */
export interface EndpointOptions {
  /** Added to the load's headers (`if-none-match`, `accept-encoding`). */
  headers?: Record<string, string>;
  /** Default 200 (any 2xx); 304 for revalidations, which autocannon counts as non-2xx. */
  status?: 200 | 304;
}

/** `[name, path]` or `[name, path, options]`. */
export type Endpoint = readonly [string, string] | readonly [string, string, EndpointOptions];

/** A chart point: an endpoint's name and one of its medians. */
export interface EndpointPoint {
  x: string;
  y: number;
}

/** What {@link measureEndpoints} measured: the figures and each endpoint's medians, for charts. */
export interface EndpointLoads {
  figures: Figure[];
  rps: EndpointPoint[];
  p50: EndpointPoint[];
  p99: EndpointPoint[];
  /** Each endpoint's requests/s, by name (for comparisons). */
  throughput: Map<string, Measurement>;
}

/**
 * Loads each `[name, path]` endpoint in turn over every gateway (after one warming
 * request to each, which must succeed): requests/s over `ctx.runs` runs after the
 * warm-up, and the runs' p50 and p99. A run with an error or an answer of another
 * status than the endpoint's (2xx, or every one 304) throws.
 */
export async function measureEndpoints(
  ctx: BenchContext,
  urls: string[],
  headers: Record<string, string>,
  seconds: number,
  endpoints: readonly Endpoint[],
): Promise<EndpointLoads> {
  const out: EndpointLoads = { figures: [], rps: [], p50: [], p99: [], throughput: new Map() };
  for (const [name, path, options = {}] of endpoints) {
    const expected = options.status ?? 200;
    const loadHeaders = { ...headers, ...options.headers };
    for (const url of urls) {
      const res = await fetch(`${url}${path}`, { headers: loadHeaders });
      if (expected === 200 ? !res.ok : res.status !== expected)
        throw new Error(`${url}${path}: HTTP ${res.status} ${await res.text()}`);
      await res.arrayBuffer();
    }
    const measured: Load[] = [];
    const throughput = await measure(ctx.runs, ctx.warmup, 'requests/s', async (run) => {
      const r = await load(urls, path, loadHeaders, seconds);
      const wrong = expected === 200 ? r.non2xx : r['1xx'] + r['2xx'] + r['4xx'] + r['5xx'];
      if (r.errors > 0 || wrong > 0)
        throw new Error(`${name}: ${r.errors} errors, ${wrong} answers other than ${expected}`);
      if (run >= 0) measured.push(r);
      return r.requests.average;
    });
    const labels = { endpoint: name, gateways: urls.length, connections: CONNECTIONS, seconds };
    const latency50 = summarize(
      'ms',
      measured.map((r) => r.latency.p50),
    );
    const latency99 = summarize(
      'ms',
      measured.map((r) => r.latency.p99),
    );
    out.figures.push(
      { metric: 'requests/s', labels, value: throughput },
      { metric: 'latency p50', labels, value: latency50 },
      { metric: 'latency p99', labels, value: latency99 },
    );
    out.throughput.set(name, throughput);
    out.rps.push({ x: name, y: throughput.median });
    out.p50.push({ x: name, y: latency50.median });
    out.p99.push({ x: name, y: latency99.median });
    ctx.log(
      `${name}: ${Math.round(throughput.median)} req/s, p50 ${latency50.median} ms, p99 ${latency99.median} ms`,
    );
  }
  return out;
}
