/**
 * Operations as the person: with impersonation on, every API call of an operation
 * carries `Impersonate-User` / `Impersonate-Group` of its creator, and kube-sim's RBAC
 * (ClusterRoles and bindings created through its API) decides. A person the cluster
 * does not allow to patch nodes fails on every node with the API server's 403; the
 * audit says who asked and as whom the calls went. Real kube-sim over HTTP, real
 * Redis, the real runner and client.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KubeConfig } from '@kubernetes/client-node';
import { startKubeSim, type KubeObject, type KubeSim } from '@knm/fake-cluster';
import { operationId, toClusterName, type Operation } from '@knm/contracts';
import { createTestRedis, grantClusterRole, type TestRedis } from '@knm/testing';
import {
  AuditLog,
  HttpNodeApi,
  Impersonation,
  KubeApiClient,
  NodeStepRunner,
  OperationRunner,
  OperationStore,
} from '../src/index.js';

const cluster = toClusterName('dev');
let sim: KubeSim;
let redis: TestRedis;
let store: OperationStore;
let audit: AuditLog;
let runner: OperationRunner;

function workers(): string[] {
  return sim.cluster.store
    .kind('Node')
    .sorted()
    .map((n: KubeObject) => n.metadata.name)
    .filter((n: string) => n.includes('-worker-'))
    .slice(0, 3);
}

async function cordon(nodes: string[], user: string, groups: string[]): Promise<Operation> {
  const op = {
    id: operationId(cluster, randomUUID()),
    cluster,
    action: 'cordon',
    params: {},
    nodes,
    state: 'queued',
    progress: { done: 0, total: nodes.length },
    results: nodes.map((node) => ({ node, status: 'pending' })),
    createdBy: user,
    createdByGroups: groups,
    createdAt: new Date().toISOString(),
  } as Operation;
  await store.create(op);
  const finished = await runner.run(op.id);
  if (!finished) throw new Error('the operation expired');
  return finished;
}

beforeAll(async () => {
  redis = await createTestRedis();
  sim = await startKubeSim({ nodes: 5, pods: 10, seed: 11, kubelet: { startupMs: 50, stopMs: 100 } });
  // Everyone may read nodes; only the sre group may change them.
  await grantClusterRole(sim, {
    role: 'node-reader',
    rules: [{ apiGroups: [''], resources: ['nodes'], verbs: ['get', 'list', 'watch'] }],
    binding: 'authenticated-read-nodes',
    groups: ['system:authenticated'],
  });
  await grantClusterRole(sim, {
    role: 'node-operator',
    rules: [
      { apiGroups: [''], resources: ['nodes'], verbs: ['patch'] },
      { apiGroups: [''], resources: ['pods'], verbs: ['list'] },
      { apiGroups: [''], resources: ['pods/eviction'], verbs: ['create'] },
    ],
    binding: 'sre-operate-nodes',
    groups: ['sre'],
  });
  const kc = new KubeConfig();
  kc.loadFromString(sim.kubeconfig());
  const impersonation = new Impersonation();
  const api = new HttpNodeApi(new KubeApiClient(kc, { impersonation }));
  store = new OperationStore(redis.client, redis.keyspace);
  audit = new AuditLog(redis.client, redis.keyspace);
  runner = new OperationRunner(store, audit, new NodeStepRunner(api), { nodeConcurrency: 3, impersonation });
});

afterAll(async () => {
  await sim?.close();
  await redis?.close();
});

describe('operations as the person', () => {
  it('fails on every node with the API’s 403 when the cluster’s RBAC refuses the person; the audit says who and as whom', async () => {
    const nodes = workers();
    const op = await cordon(nodes, 'ana@example.com', ['team-a']);
    expect(op.state).toBe('failed');
    for (const result of op.results) {
      expect(result.status).toBe('failed');
      expect(result.error).toContain(
        `nodes "${result.node}" is forbidden: User "ana@example.com" cannot patch resource "nodes" in API group "" at the cluster scope`,
      );
    }
    for (const node of nodes) expect(sim.truth().nodes[node]?.unschedulable).toBe(false);
    const [record] = await audit.query({ user: 'ana@example.com', limit: 10 }, () => true);
    expect(record).toMatchObject({
      operationId: op.id,
      user: 'ana@example.com',
      actingAs: { user: 'ana@example.com', groups: ['team-a'] },
      state: 'failed',
      counts: { failed: 3, succeeded: 0 },
    });
    expect(record?.failures.map((f) => f.node)).toEqual(nodes);
  });

  it('does the change when the person’s group is allowed, acting as that person', async () => {
    const nodes = workers();
    const op = await cordon(nodes, 'sam@example.com', ['sre']);
    expect(op.state).toBe('completed');
    for (const node of nodes) expect(sim.truth().nodes[node]?.unschedulable).toBe(true);
    const [record] = await audit.query({ user: 'sam@example.com', limit: 10 }, () => true);
    expect(record).toMatchObject({
      actingAs: { user: 'sam@example.com', groups: ['sre'] },
      state: 'completed',
    });
  });
});
