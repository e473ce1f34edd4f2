import type { KubeApiClient, PatchKind } from './kube-api-client.js';

/** The parts of a Node the operations read. */
export interface KubeNode {
  metadata: {
    name: string;
    resourceVersion?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  spec?: {
    unschedulable?: boolean;
    taints?: { key: string; value?: string; effect: string; timeAdded?: string }[];
  };
}

/** The parts of a Pod drain reads. */
export interface KubePod {
  metadata: {
    name: string;
    namespace?: string;
    uid?: string;
    annotations?: Record<string, string>;
    deletionTimestamp?: string;
    ownerReferences?: { kind: string; name: string; controller?: boolean }[];
  };
  status?: { phase?: string };
}

/**
 * The Kubernetes calls node operations make: the seam between the steps and the API
 * server (tests may put a recording or failing implementation behind it).
 */
export interface NodeApi {
  /** GET the node; rejects with ApiError 404 when it does not exist. */
  getNode(name: string, signal?: AbortSignal): Promise<KubeNode>;
  /** PATCH the node. */
  patchNode(name: string, patch: unknown, kind: PatchKind, signal?: AbortSignal): Promise<KubeNode>;
  /** Every pod bound to the node (all namespaces, `fieldSelector=spec.nodeName=<node>`). */
  listPodsOnNode(node: string, signal?: AbortSignal): Promise<KubePod[]>;
  /** POST a policy/v1 Eviction for the pod; ApiError 429 when a disruption budget forbids it. */
  evictPod(
    namespace: string,
    name: string,
    gracePeriodSeconds: number | undefined,
    signal?: AbortSignal,
  ): Promise<void>;
}

/** {@link NodeApi} over a {@link KubeApiClient}. */
export class HttpNodeApi implements NodeApi {
  constructor(private readonly client: KubeApiClient) {}

  async getNode(name: string, signal?: AbortSignal): Promise<KubeNode> {
    return (await this.client.get(`/api/v1/nodes/${encodeURIComponent(name)}`, signal)) as KubeNode;
  }

  async patchNode(name: string, patch: unknown, kind: PatchKind, signal?: AbortSignal): Promise<KubeNode> {
    return (await this.client.patch(
      `/api/v1/nodes/${encodeURIComponent(name)}`,
      patch,
      kind,
      signal,
    )) as KubeNode;
  }

  async listPodsOnNode(node: string, signal?: AbortSignal): Promise<KubePod[]> {
    const pods: KubePod[] = [];
    let cont: string | undefined;
    do {
      const query = new URLSearchParams({ fieldSelector: `spec.nodeName=${node}`, limit: '500' });
      if (cont) query.set('continue', cont);
      const page = (await this.client.get(`/api/v1/pods?${query.toString()}`, signal)) as {
        items?: KubePod[];
        metadata?: { continue?: string };
      };
      pods.push(...(page.items ?? []));
      cont = page.metadata?.continue || undefined;
    } while (cont);
    return pods;
  }

  async evictPod(
    namespace: string,
    name: string,
    gracePeriodSeconds: number | undefined,
    signal?: AbortSignal,
  ): Promise<void> {
    const body: Record<string, unknown> = {
      apiVersion: 'policy/v1',
      kind: 'Eviction',
      metadata: { name, namespace },
    };
    if (gracePeriodSeconds !== undefined) body['deleteOptions'] = { gracePeriodSeconds };
    await this.client.post(
      `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods/${encodeURIComponent(name)}/eviction`,
      body,
      signal,
    );
  }
}
