import type { z } from 'zod';
import {
  ClusterListResponseSchema,
  ClusterResourcesResponseSchema,
  ErrorBodySchema,
  FleetNodeListResponseSchema,
  NodeListResponseSchema,
  NodePodsListSchema,
  NodeResponseSchema,
  PodCountsResponseSchema,
  WsStatsResponseSchema,
  decode,
  type ClusterListResponse,
  type ClusterResourcesResponse,
  type ErrorBody,
  type FleetNodeListResponse,
  type NodeListQueryInput,
  type NodeListResponse,
  type NodePodsList,
  type NodeResponse,
  type PodCountsResponse,
  type WsStatsResponse,
} from '@knm/contracts';

/** A gateway answered with an error status; `body` is its error body when it sent one. */
export class KnmApiError extends Error {
  override readonly name = 'KnmApiError';

  constructor(
    readonly status: number,
    readonly body: ErrorBody | undefined,
    url: string,
  ) {
    super(`${url} answered ${status}${body ? `: ${body.message}` : ''}`);
  }
}

/** The gateway could not be reached at all (connection refused, reset, DNS). */
export class KnmNetworkError extends Error {
  override readonly name = 'KnmNetworkError';
}

/** Options of {@link RestClient}. */
export interface RestClientOptions {
  /** Gateway base URLs; a network error moves on to the next one. */
  urls: readonly string[];
  /** The bearer token, or a function returning the current one; `''` sends none (a browser's session cookie authenticates). */
  token: string | (() => string | Promise<string>);
  /** Default: the global `fetch`. */
  fetch?: typeof fetch;
}

/**
 * Typed REST calls of the gateway. Every response is decoded with its contract
 * schema. On a network error the next URL is tried (each once per call); HTTP error
 * statuses are thrown as {@link KnmApiError} without retrying.
 */
export class RestClient {
  private index = 0;
  private readonly fetchImpl: typeof fetch;

  constructor(private readonly options: RestClientOptions) {
    if (options.urls.length === 0) throw new RangeError('at least one gateway URL is needed');
    this.fetchImpl = options.fetch ?? ((...args) => fetch(...args));
  }

  /** The base URL calls currently go to. */
  get currentUrl(): string {
    return this.options.urls[this.index % this.options.urls.length] as string;
  }

  /** Moves to the next base URL (after a failure). */
  rotate(): void {
    this.index = (this.index + 1) % this.options.urls.length;
  }

  listClusters(): Promise<ClusterListResponse> {
    return this.get('/api/v1/clusters', ClusterListResponseSchema);
  }

  /**
   * A page of a cluster's nodes with the seq it reflects. `maxStaleSeconds`: accept an
   * answer up to that old (`Cache-Control: max-stale`), so that many clients opening
   * at once share one snapshot; a watch does, since it resumes from the answer's seq.
   */
  listNodes(
    cluster: string,
    query: NodeListQueryInput = {},
    options: { maxStaleSeconds?: number } = {},
  ): Promise<NodeListResponse> {
    const qs = queryString(query);
    const headers: Record<string, string> =
      options.maxStaleSeconds === undefined
        ? {}
        : { 'cache-control': `max-stale=${options.maxStaleSeconds}` };
    return this.get(
      `/api/v1/clusters/${encodeURIComponent(cluster)}/nodes${qs}`,
      NodeListResponseSchema,
      headers,
    );
  }

  /**
   * One page of the fleet list: the nodes of every cluster the token covers, each
   * with its `cluster`, merged in the query's order, with each cluster's status and
   * counts and the fleet's resource totals (`limit` defaults to 500 there).
   */
  listFleetNodes(query: NodeListQueryInput = {}): Promise<FleetNodeListResponse> {
    return this.get(`/api/v1/nodes${queryString(query)}`, FleetNodeListResponseSchema);
  }

  /**
   * Every page of the fleet list, following `continue` from the first (`query.continue`
   * to start from a page already read). A cluster resynced while paging ends the walk
   * with a {@link KnmApiError} 410: list again from the start.
   */
  async *fleetNodePages(
    query: NodeListQueryInput = {},
  ): AsyncGenerator<FleetNodeListResponse, void, undefined> {
    let next = query.continue;
    do {
      const page = await this.listFleetNodes(next === undefined ? query : { ...query, continue: next });
      yield page;
      next = page.continue;
    } while (next !== undefined);
  }

  getNode(cluster: string, node: string): Promise<NodeResponse> {
    return this.get(
      `/api/v1/clusters/${encodeURIComponent(cluster)}/nodes/${encodeURIComponent(node)}`,
      NodeResponseSchema,
    );
  }

  podCounts(cluster: string): Promise<PodCountsResponse> {
    return this.get(`/api/v1/clusters/${encodeURIComponent(cluster)}/pod-counts`, PodCountsResponseSchema);
  }

  /** The cluster's resources summed: in all, by zone and by node pool. */
  clusterResources(cluster: string): Promise<ClusterResourcesResponse> {
    return this.get(
      `/api/v1/clusters/${encodeURIComponent(cluster)}/resources`,
      ClusterResourcesResponseSchema,
    );
  }

  /**
   * The pods behind a node's numbers, as the cluster's watcher read them from the
   * API server (a few seconds old at most): 503 when no watcher leads the cluster,
   * 504 when it did not answer in time.
   */
  nodePods(cluster: string, node: string): Promise<NodePodsList> {
    return this.get(
      `/api/v1/clusters/${encodeURIComponent(cluster)}/nodes/${encodeURIComponent(node)}/pods`,
      NodePodsListSchema,
    );
  }

  wsStats(): Promise<WsStatsResponse> {
    return this.get('/api/v1/ws/stats', WsStatsResponseSchema);
  }

  /** The current token (resolving a token function). */
  async token(): Promise<string> {
    return typeof this.options.token === 'function' ? this.options.token() : this.options.token;
  }

  private async get<S extends z.ZodType>(
    path: string,
    schema: S,
    extraHeaders: Record<string, string> = {},
  ): Promise<z.output<S>> {
    let lastError: unknown;
    for (let tried = 0; tried < this.options.urls.length; tried += 1) {
      const url = `${this.currentUrl}${path}`;
      let response: Response;
      try {
        // An empty token sends no Authorization header: a dashboard signed in through
        // the identity provider is authenticated by its session cookie instead.
        const token = await this.token();
        response = await this.fetchImpl(url, {
          headers: {
            ...extraHeaders,
            ...(token === '' ? {} : { authorization: `Bearer ${token}` }),
            accept: 'application/json',
          },
        });
      } catch (err) {
        lastError = err;
        this.rotate();
        continue;
      }
      const json: unknown = await response.json().catch(() => undefined);
      if (!response.ok) {
        const body = ErrorBodySchema.safeParse(json);
        throw new KnmApiError(response.status, body.success ? body.data : undefined, url);
      }
      return decode(schema, json, `response of GET ${path}`);
    }
    throw new KnmNetworkError(`no gateway reachable (${String(lastError)})`, { cause: lastError });
  }
}

/** A node list query as URL parameters (`?` included; empty when nothing is set). */
function queryString(query: NodeListQueryInput): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined) params.set(k, String(v));
  return params.size > 0 ? `?${params}` : '';
}
