import type { z } from 'zod';
import {
  ErrorBodySchema,
  HistoryPageSchema,
  IncidentsResponseSchema,
  MttrResponseSchema,
  decode,
  type HistoryPage,
  type IncidentsResponse,
  type MttrResponse,
} from '@knm/contracts';

/** The gateway refused a history or incidents call; the message is the gateway's own. */
export class HistoryApiError extends Error {
  override readonly name = 'HistoryApiError';

  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** Options of {@link HistoryApi}. */
export interface HistoryApiOptions {
  /** Gateway base URL. Default: the page's origin (`''`, relative URLs). */
  baseUrl?: string;
  /** The current bearer token (`undefined`: none, the session cookie authenticates). */
  token: () => string | undefined;
  /** Default: the global `fetch`. */
  fetch?: typeof fetch;
}

/** Query of {@link HistoryApi.incidents} (the gateway's `IncidentsQuery`, as sent). */
export interface IncidentsRequest {
  cluster?: string;
  open?: boolean;
  /** RFC 3339. */
  since?: string;
  limit?: number;
}

/** Query of {@link HistoryApi.mttr}. */
export interface MttrRequest {
  cluster?: string;
  /** RFC 3339. */
  since?: string;
  /** RFC 3339. */
  until?: string;
}

/**
 * The dashboard's reads of node history, incidents and MTTR (libs/client does not
 * cover them). Every answer is decoded with its contract schema; an error status
 * throws {@link HistoryApiError} with the gateway's message.
 */
export class HistoryApi {
  private readonly fetchImpl: typeof fetch;

  constructor(private readonly options: HistoryApiOptions) {
    this.fetchImpl = options.fetch ?? ((...args) => fetch(...args));
  }

  /** One page of a node's history, newest first; `before` is the previous page's `next`. */
  nodeHistory(
    cluster: string,
    node: string,
    page: { limit?: number; before?: string } = {},
  ): Promise<HistoryPage> {
    const path = `/api/v1/clusters/${encodeURIComponent(cluster)}/nodes/${encodeURIComponent(node)}/history`;
    return this.get(path, { limit: page.limit, before: page.before }, HistoryPageSchema);
  }

  /** Incidents, newest start first. */
  incidents(query: IncidentsRequest): Promise<IncidentsResponse> {
    return this.get('/api/v1/incidents', { ...query }, IncidentsResponseSchema);
  }

  /** Mean time to recovery per cluster and node pool of the incidents closed in the period. */
  mttr(query: MttrRequest): Promise<MttrResponse> {
    return this.get('/api/v1/incidents/mttr', { ...query }, MttrResponseSchema);
  }

  private async get<S extends z.ZodType>(
    path: string,
    query: Record<string, string | number | boolean | undefined>,
    schema: S,
  ): Promise<z.output<S>> {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(query)) if (value !== undefined) params.set(key, String(value));
    const search = params.size ? `?${params.toString()}` : '';
    const token = this.options.token();
    const response = await this.fetchImpl(`${this.options.baseUrl ?? ''}${path}${search}`, {
      headers: { accept: 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    });
    const json: unknown = await response.json().catch(() => undefined);
    if (!response.ok) {
      const error = ErrorBodySchema.safeParse(json);
      throw new HistoryApiError(
        response.status,
        error.success ? error.data.message : `the gateway answered ${response.status}`,
      );
    }
    return decode(schema, json, `response of GET ${path}`);
  }
}
