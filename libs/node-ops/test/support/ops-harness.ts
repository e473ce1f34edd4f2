import { randomUUID } from 'node:crypto';
import { KubeConfig } from '@kubernetes/client-node';
import { startKubeSim, type KubeObject, type KubeSim, type KubeSimOptions } from '@knm/fake-cluster';
import {
  CreateOperationRequestSchema,
  operationId,
  toClusterName,
  type ClusterName,
  type CreateOperationRequestInput,
  type Operation,
} from '@knm/contracts';
import { createTestRedis, type TestRedis } from '@knm/testing';
import {
  AuditLog,
  HttpNodeApi,
  KubeApiClient,
  NodeStepRunner,
  OperationRunner,
  OperationStore,
  type NodeStepRunnerOptions,
} from '../../src/index.js';

/** A kube-sim, a Redis namespace and the node-ops machinery wired to them, for one test. */
export interface OpsHarness {
  sim: KubeSim;
  redis: TestRedis;
  cluster: ClusterName;
  api: HttpNodeApi;
  store: OperationStore;
  audit: AuditLog;
  runner: OperationRunner;
  /** Worker node names, sorted. */
  workers(): string[];
  /** Creates an operation (as the gateway would) and returns it. */
  create(request: CreateOperationRequestInput, user?: string): Promise<Operation>;
  close(): Promise<void>;
}

export async function startOpsHarness(
  simOptions: KubeSimOptions,
  steps: NodeStepRunnerOptions = {},
): Promise<OpsHarness> {
  const redis = await createTestRedis();
  const sim = await startKubeSim({ kubelet: { startupMs: 100, stopMs: 200 }, ...simOptions });
  const kc = new KubeConfig();
  kc.loadFromString(sim.kubeconfig());
  const api = new HttpNodeApi(new KubeApiClient(kc));
  const store = new OperationStore(redis.client, redis.keyspace);
  const audit = new AuditLog(redis.client, redis.keyspace);
  const runner = new OperationRunner(
    store,
    audit,
    new NodeStepRunner(api, { drainPollMs: 100, evictionRetryMs: 300, ...steps }),
    { nodeConcurrency: 4 },
  );
  const cluster = toClusterName('dev');
  return {
    sim,
    redis,
    cluster,
    api,
    store,
    audit,
    runner,
    workers: () =>
      sim.cluster.store
        .kind('Node')
        .sorted()
        .map((n: KubeObject) => n.metadata.name)
        .filter((n: string) => n.includes('-worker-')),
    async create(input, user = 'alice') {
      const request = CreateOperationRequestSchema.parse(input);
      const nodes = request.nodes ?? [];
      const op = {
        id: operationId(cluster, randomUUID()),
        cluster,
        action: request.action,
        params: request.params,
        nodes,
        state: 'queued',
        progress: { done: 0, total: nodes.length },
        results: nodes.map((node) => ({ node, status: 'pending' })),
        createdBy: user,
        createdAt: new Date().toISOString(),
        ...(request.reason !== undefined ? { reason: request.reason } : {}),
      } as Operation;
      await store.create(op);
      return op;
    },
    async close() {
      await sim.close();
      await redis.close();
    },
  };
}
