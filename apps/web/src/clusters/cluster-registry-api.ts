import {
  ConnectionTestFailedBodySchema,
  ConnectionTestResultSchema,
  ErrorBodySchema,
  RegisterClusterResponseSchema,
  decode,
  type ConnectionTestResult,
  type RegisterClusterRequest,
  type RegisterClusterResponse,
} from '@knm/contracts';

/**
 * The gateway refused a registry call. `test` is the connection test when the refusal
 * was its failure (400 unusable kubeconfig, 422 the cluster refused it).
 */
export class ClusterRegistryError extends Error {
  override readonly name = 'ClusterRegistryError';

  constructor(
    readonly status: number,
    message: string,
    readonly test?: ConnectionTestResult,
  ) {
    super(message);
  }
}

/** Options of {@link ClusterRegistryApi}. */
export interface ClusterRegistryApiOptions {
  /** Gateway base URL. Default: the page's origin. */
  baseUrl?: string;
  token: () => string | undefined;
}

/** The dashboard's calls of the cluster registry (admin): test, register, remove. */
export class ClusterRegistryApi {
  constructor(private readonly options: ClusterRegistryApiOptions) {}

  /** Tests credentials without storing them; the result says each check. */
  async test(request: Omit<RegisterClusterRequest, 'name'>): Promise<ConnectionTestResult> {
    return decode(
      ConnectionTestResultSchema,
      await this.call('POST', '/api/v1/clusters/test', request),
      'connection test',
    );
  }

  /** Registers a cluster; a failed test throws {@link ClusterRegistryError} with it. */
  async register(request: RegisterClusterRequest): Promise<RegisterClusterResponse> {
    return decode(
      RegisterClusterResponseSchema,
      await this.call('POST', '/api/v1/clusters', request),
      'registration',
    );
  }

  /** Removes a registered cluster and every key it had. */
  async remove(name: string): Promise<void> {
    await this.call('DELETE', `/api/v1/clusters/${encodeURIComponent(name)}`);
  }

  private async call(method: string, path: string, body?: unknown): Promise<unknown> {
    const token = this.options.token();
    const response = await fetch(`${this.options.baseUrl ?? ''}${path}`, {
      method,
      headers: {
        accept: 'application/json',
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    if (response.status === 204) return undefined;
    const json: unknown = await response.json().catch(() => undefined);
    if (response.ok) return json;
    const failed = ConnectionTestFailedBodySchema.safeParse(json);
    if (failed.success)
      throw new ClusterRegistryError(response.status, failed.data.message, failed.data.test);
    const error = ErrorBodySchema.safeParse(json);
    throw new ClusterRegistryError(
      response.status,
      error.success ? error.data.message : `the gateway answered ${response.status}`,
    );
  }
}
