import type { z } from 'zod';
import {
  CreateOperationResponseSchema,
  DryRunResponseSchema,
  ErrorBodySchema,
  OperationListResponseSchema,
  OperationSchema,
  decode,
  type CreateOperationRequestInput,
  type CreateOperationResponse,
  type DryRunResponse,
  type ErrorBody,
  type Operation,
  type OperationListResponse,
} from '@knm/contracts';

/** The gateway refused an operations call; `body` carries its message and per-field details. */
export class OperationsApiError extends Error {
  override readonly name = 'OperationsApiError';

  constructor(
    readonly status: number,
    readonly body: ErrorBody | undefined,
  ) {
    super(body ? body.message : `the gateway answered ${status}`);
  }
}

/** What a person reads of a failed operations call: the gateway's message and its field details. */
export function describeOperationError(err: unknown): string {
  if (err instanceof OperationsApiError) {
    const details = err.body?.details?.map((d) => `${d.path}: ${d.message}`).join('; ');
    return details ? `${err.message} (${details})` : err.message;
  }
  return err instanceof Error ? err.message : String(err);
}

/** Options of {@link OperationsApi}. */
export interface OperationsApiOptions {
  /** Gateway base URL. Default: the page's origin (`''`, relative URLs). */
  baseUrl?: string;
  /** The current bearer token. */
  token: () => string | undefined;
  /** Default: the global `fetch`. */
  fetch?: typeof fetch;
}

/**
 * The node-operations REST calls the dashboard makes (libs/client covers the
 * read-only API). Every answer is decoded with its contract schema; an error status
 * throws {@link OperationsApiError} with the gateway's message and field details.
 */
export class OperationsApi {
  private readonly fetchImpl: typeof fetch;

  constructor(private readonly options: OperationsApiOptions) {
    this.fetchImpl = options.fetch ?? ((...args) => fetch(...args));
  }

  /** Starts an operation (202). */
  create(cluster: string, request: CreateOperationRequestInput): Promise<CreateOperationResponse> {
    return this.call(
      'POST',
      `/api/v1/clusters/${encodeURIComponent(cluster)}/operations`,
      CreateOperationResponseSchema,
      {
        ...request,
        dryRun: false,
      },
    );
  }

  /** What the operation would change; changes nothing. */
  dryRun(cluster: string, request: CreateOperationRequestInput): Promise<DryRunResponse> {
    return this.call(
      'POST',
      `/api/v1/clusters/${encodeURIComponent(cluster)}/operations`,
      DryRunResponseSchema,
      {
        ...request,
        dryRun: true,
      },
    );
  }

  get(id: string): Promise<Operation> {
    return this.call('GET', `/api/v1/operations/${encodeURIComponent(id)}`, OperationSchema);
  }

  /** Cancels an operation (`POST /api/v1/operations/:id/cancel`); resolves with it as it now stands. */
  cancel(id: string): Promise<Operation> {
    return this.call('POST', `/api/v1/operations/${encodeURIComponent(id)}/cancel`, OperationSchema);
  }

  recent(cluster: string, limit = 20): Promise<OperationListResponse> {
    return this.call(
      'GET',
      `/api/v1/clusters/${encodeURIComponent(cluster)}/operations?limit=${limit}`,
      OperationListResponseSchema,
    );
  }

  private async call<S extends z.ZodType>(
    method: string,
    path: string,
    schema: S,
    body?: unknown,
  ): Promise<z.output<S>> {
    const token = this.options.token();
    const response = await this.fetchImpl(`${this.options.baseUrl ?? ''}${path}`, {
      method,
      headers: {
        accept: 'application/json',
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const json: unknown = await response.json().catch(() => undefined);
    if (!response.ok) {
      const error = ErrorBodySchema.safeParse(json);
      throw new OperationsApiError(response.status, error.success ? error.data : undefined);
    }
    return decode(schema, json, `response of ${method} ${path}`);
  }
}
