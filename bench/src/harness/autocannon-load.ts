import autocannon from 'autocannon';
import { measure, summarize } from './stats.js';
import type { BenchContext, Figure } from './types.js';

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
}

/**
 * Loads each `[name, path]` endpoint in turn over every gateway (after one warming
 * request to each, which must succeed): requests/s over `ctx.runs` runs after the
 * warm-up, and the runs' p50 and p99. A run with an error or a non-2xx answer throws.
 */
export async function measureEndpoints(
  ctx: BenchContext,
  urls: string[],
  headers: Record<string, string>,
  seconds: number,
  endpoints: readonly (readonly [string, string])[],
): Promise<EndpointLoads> {
  const out: EndpointLoads = { figures: [], rps: [], p50: [], p99: [] };
  for (const [name, path] of endpoints) {
    for (const url of urls) {
      const res = await fetch(`${url}${path}`, { headers });
      if (!res.ok) throw new Error(`${url}${path}: HTTP ${res.status} ${await res.text()}`);
      await res.arrayBuffer();
    }
    const measured: Load[] = [];
    const throughput = await measure(ctx.runs, ctx.warmup, 'requests/s', async (run) => {
      const r = await load(urls, path, headers, seconds);
      if (r.errors > 0 || r.non2xx > 0)
        throw new Error(`${name}: ${r.errors} errors, ${r.non2xx} non-2xx answers`);
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
    out.rps.push({ x: name, y: throughput.median });
    out.p50.push({ x: name, y: latency50.median });
    out.p99.push({ x: name, y: latency99.median });
    ctx.log(
      `${name}: ${Math.round(throughput.median)} req/s, p50 ${latency50.median} ms, p99 ${latency99.median} ms`,
    );
  }
  return out;
}
